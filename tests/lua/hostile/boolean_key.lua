-- expect: HOSTILE: tracks: a table key must be a string or a number, got boolean
return { tracks = { [true] = 1 } }
