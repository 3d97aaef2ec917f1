# package.path and package.cpath never search the working directory (or the
# script's directory): a sibling evil.lua is not loadable by require.
. "$(dirname "$0")/lib.sh"

mkdir proj
echo 'print("EVIL CODE RAN") return {}' > proj/evil.lua
mkdir proj/evil2 && echo 'print("EVIL CODE RAN") return {}' > proj/evil2/init.lua
cat > proj/main.lua <<'LUA'
for _, p in ipairs{ package.path, package.cpath } do
  for entry in p:gmatch("[^;]+") do
    if entry:sub(1, 1) ~= "/" then error("relative search path entry: " .. entry) end
  end
end
assert(require("reel").version)      -- reel's own library is found
assert(require("cjson").encode)      -- system modules (cpath) still load
local ok, err = pcall(require, "evil")
assert(not ok, "require 'evil' succeeded")
assert(err:find("module 'evil' not found", 1, true), err)
assert(not pcall(require, "evil2"), "require 'evil2' succeeded")
print("isolated")
LUA

# From the script's directory, from elsewhere, and with LUA_PATH asking for ./
(cd proj && run 0 "$REEL" run main.lua && contains out.txt isolated && lacks out.txt "EVIL")
run 0 "$REEL" run proj/main.lua
contains out.txt isolated
lacks out.txt "EVIL"
(cd proj && LUA_PATH='./?.lua;;' LUA_CPATH='./?.so;;' run 0 "$REEL" run main.lua &&
    contains out.txt isolated && lacks out.txt "EVIL")
echo ok
