-- expect: HOSTILE:4: template ran too long (stopped after 0.1 s)
-- coroutine.wrap inside pcall, again and again, in a coroutine of its own.
local outer = coroutine.wrap(function()
  for _ = 1, math.huge do pcall(coroutine.wrap(function() while true do end end)) end
end)
pcall(outer)
return {}
