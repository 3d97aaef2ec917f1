-- expect: HOSTILE: [1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1]...: tables nested deeper than 64 levels
-- Built at run time: the copy back refuses to go deeper than 64.
local t = {}
for _ = 1, 1000 do t = { t } end
return t
