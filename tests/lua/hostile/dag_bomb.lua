-- expect: HOSTILE: the result holds more than 200000 values
-- 40 small tables that copy as 2^40 (each holds the previous one twice).
local t = {}
for _ = 1, 40 do t = { t, t } end
return t
