-- expect: HOSTILE:2: 'require' is not available in templates
local lfs = require("io")
return {}
