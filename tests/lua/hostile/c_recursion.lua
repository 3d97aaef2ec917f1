-- expect: ok
-- Recursion through pcall (a C function): Lua's C-stack limit stops it
-- with an error each level catches; the template then returns normally.
local depth = 0
local function down() depth = depth + 1 pcall(down) end
down()
return { depth = depth > 0 }
