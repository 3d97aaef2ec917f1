-- expect: HOSTILE:3: 'debug' is not available in templates
-- Would remove the hook.
debug.sethook()
while true do end
