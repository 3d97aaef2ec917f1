-- expect: HOSTILE: tracks.again: the table contains itself (a template returns a tree of tables)
local t = { tracks = {} }
t.tracks.again = t.tracks
return t
