-- expect: HOSTILE:5: template ran too long (stopped after 0.1 s)
-- pcall inside pcall inside xpcall, each swallowing the error and
-- returning a table as if nothing happened.
local function spin()
  while true do end
end
local function swallow(f) return function() pcall(f) pcall(f) return {} end end
local ok = xpcall(swallow(swallow(spin)), function() return {} end)
return { ok = ok }
