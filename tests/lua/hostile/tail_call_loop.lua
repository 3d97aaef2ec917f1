-- expect: HOSTILE:4: template ran too long (stopped after 0.1 s)
-- A tail call to itself: no loop, no stack growth.
local function again()
  return again()
end
return again()
