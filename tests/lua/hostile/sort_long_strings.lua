-- expect: HOSTILE:6: template ran too long (stopped after 0.1 s)
-- 100000 references to one 1 MB string: sorting them compares megabytes
-- each time, in C unless every comparison goes through Lua.
local s, t = ("x"):rep(1000000), {}
for i = 1, 100000 do t[i] = s end
table.sort(t)
return {}
