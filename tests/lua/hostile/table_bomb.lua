-- expect: HOSTILE:5: not enough memory (a template may use 32 MiB)
-- Grows a table of 64 KiB strings without end.
local block, t = ("x"):rep(65536), {}
while true do
  t[#t + 1] = block .. #t
end
