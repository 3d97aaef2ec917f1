-- expect: ok
-- Braces inside strings and comments, and long brackets: the line-noting
-- rewrite must leave them alone. --[==[ { ]==] }
local a = "{ \" }" .. '{' .. [[ } ]] .. [=[ ]] { ]=]
--[[ }}} ]] local b = { "}" }
return { a = a, b = b[1], c = "\
{" }
