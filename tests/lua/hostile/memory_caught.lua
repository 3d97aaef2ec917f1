-- expect: HOSTILE:5: template ran too long (stopped after 0.1 s)
-- Catches the out-of-memory error and tries again, forever.
local t = {}
while true do
  pcall(function() local s = "x" for _ = 1, 64 do s = s .. s end t[#t + 1] = s end)
end
