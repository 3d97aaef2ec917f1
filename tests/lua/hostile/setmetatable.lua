-- expect: HOSTILE:3: 'setmetatable' is not available in templates
-- A finalizer would run template code after the budget.
setmetatable({}, { __gc = function() while true do end end })
return {}
