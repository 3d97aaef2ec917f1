-- expect: HOSTILE:3: 'os' is not available in templates
-- Takes os into a local first.
local o = os
return { o.getenv("HOME") }
