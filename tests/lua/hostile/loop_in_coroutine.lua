-- expect: HOSTILE:4: template ran too long (stopped after 0.1 s)
-- The loop runs in a coroutine; the template ignores the failed resume.
local co = coroutine.create(function()
  while true do end
end)
local ok = coroutine.resume(co)
return { resumed = ok }
