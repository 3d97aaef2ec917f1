# An installed reel finds its Lua library beside itself (PREFIX/share/reel/lua)
# rather than in the source tree, and REEL_LUA_PATH overrides both.
. "$(dirname "$0")/lib.sh"
: "${REEL_BUILD_DIR:?REEL_BUILD_DIR must name the build tree}"

cmake --install "$REEL_BUILD_DIR" --prefix "$T/prefix" >install.log 2>&1 ||
    { cat install.log >&2; fail "cmake --install failed"; }
BIN="$T/prefix/bin/reel"
[ -x "$BIN" ] || fail "no installed reel"
[ -f "$T/prefix/share/reel/lua/reel/init.lua" ] || fail "Lua library not installed"
[ -f "$T/prefix/share/man/man1/reel.1" ] || fail "man page not installed"

echo 'print(require("reel.core").lua_dir()) print(package.searchpath("reel", package.path))' > where.lua
run 0 "$BIN" run where.lua
contains out.txt "$T/prefix/bin/../share/reel/lua"
lacks out.txt "$REEL_SOURCE_DIR/scripts"

run 0 "$BIN" record --device virtual:freewheel --input sine:440 --seconds 0.1 sess
[ "$(frames sess/audio/In1_T01.wav)" = 4800 ] || fail "installed reel record"

# REEL_LUA_PATH wins.
mkdir -p alt/reel
echo 'return { version = "alternative" }' > alt/reel/init.lua
echo 'print(require("reel").version)' > alt.lua
REEL_LUA_PATH="$T/alt" run 0 "$BIN" run alt.lua
[ "$(cat out.txt)" = alternative ] || fail "REEL_LUA_PATH not used: $(cat out.txt)"
echo ok
