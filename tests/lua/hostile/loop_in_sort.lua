-- expect: HOSTILE:3: template ran too long (stopped after 0.1 s)
-- The loop is in a comparison called by table.sort (C calling Lua).
table.sort({ 3, 2, 1 }, function() while true do end end)
return {}
