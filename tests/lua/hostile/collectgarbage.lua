-- expect: HOSTILE:2: 'collectgarbage' is not available in templates
collectgarbage("stop")
return {}
