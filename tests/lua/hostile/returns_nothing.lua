-- expect: HOSTILE: a template returns a table, this one returned nil
local t = {}
