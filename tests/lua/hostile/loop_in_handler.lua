-- expect: HOSTILE:3: template ran too long (stopped after 0.1 s)
-- The loop is in xpcall's message handler, then the error is ignored.
xpcall(error, function() while true do end end)
return {}
