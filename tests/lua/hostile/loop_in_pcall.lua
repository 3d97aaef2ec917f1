-- expect: HOSTILE:5: template ran too long (stopped after 0.1 s)
-- Catches the stop with pcall and tries again, forever.
local n = 0
while true do
  pcall(function() while true do n = n + 1 end end)
end
