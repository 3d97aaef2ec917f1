-- expect: HOSTILE:4: 'io' is not available in templates
-- Replacing _ENV does not bring the globals back.
local _ENV = { x = _ENV }
return { x.io }
