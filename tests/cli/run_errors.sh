# `reel run`: arguments, success, syntax and runtime errors, exit statuses.
. "$(dirname "$0")/lib.sh"

cat > hello.lua <<'LUA'
local reel = require "reel"
print("hello", reel.version, arg[0], arg[-1], #arg, ...)
LUA
run 0 "$REEL" run hello.lua one two
[ "$(cat out.txt)" = "$(printf 'hello\t0.1.0\thello.lua\trun\t2\tone\ttwo')" ] ||
    fail "unexpected output: $(cat out.txt)"

printf 'local x = 1\nlocal y = = 2\n' > syntax.lua
run 1 "$REEL" run syntax.lua
contains err.txt "syntax.lua:2:"
contains err.txt "unexpected symbol near '='"

printf 'local a = 1\nlocal b = 2\nerror("boom")\n' > x.lua
run 1 "$REEL" run x.lua
head -n 1 err.txt | grep -qx 'x.lua:3: boom' || fail "first stderr line is '$(head -n 1 err.txt)'"
contains err.txt "stack traceback:"
contains err.txt "x.lua:3: in main chunk"

# An error in a nested function shows the whole chain.
printf 'local function inner()\n  local t = nil\n  return t.field\nend\nlocal function outer() inner() end\nouter()\n' > nested.lua
run 1 "$REEL" run nested.lua
contains err.txt "nested.lua:3: attempt to index a nil value"
contains err.txt "'inner'"
contains err.txt "in local 'outer'"

# Error objects that are not strings still produce a message.
printf 'error(setmetatable({}, {__tostring = function() return "custom" end}))\n' > obj.lua
run 1 "$REEL" run obj.lua
contains err.txt "custom"

run 1 "$REEL" run missing.lua
contains err.txt "missing.lua"

# os.exit keeps its status; the script from stdin works.
echo 'os.exit(7)' > exit7.lua
run 7 "$REEL" run exit7.lua
echo 'print("from stdin", ...)' | { run 0 "$REEL" run - a; }
contains out.txt "from stdin"

# Misuse of the API points at the caller's line.
printf 'local reel = require "reel"\nlocal s = reel.session("s")\ns:track{ name = "Vox", input = 1, colour = "red" }\n' > misuse.lua
run 1 "$REEL" run misuse.lua
contains err.txt "misuse.lua:3: unknown option 'colour'"
echo ok
