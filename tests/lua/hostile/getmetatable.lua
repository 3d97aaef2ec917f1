-- expect: HOSTILE:3: 'getmetatable' is not available in templates
-- Would reach the string library through the strings' metatable.
local lib = getmetatable("").__index
return { lib.dump(print) }
