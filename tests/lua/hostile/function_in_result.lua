-- expect: HOSTILE: tracks[1].make: a function is not data (a template returns tables, strings, numbers and booleans)
return { tracks = { { name = "Kick", input = 1, make = function() end } } }
