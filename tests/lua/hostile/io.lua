-- expect: HOSTILE:3: 'io' is not available in templates
-- Reads a file.
local f = io.open("/etc/passwd")
return { f:read("a") }
