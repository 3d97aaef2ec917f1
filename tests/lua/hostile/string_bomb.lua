-- expect: HOSTILE:4: not enough memory (a template may use 32 MiB)
-- Doubles a string until memory runs out.
local s = "x"
for _ = 1, 64 do s = s .. s end
return { s }
