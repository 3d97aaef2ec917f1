-- expect: HOSTILE:3: template ran too long (stopped after 0.1 s)
-- The plainest runaway: a loop that never ends.
while true do end
return {}
