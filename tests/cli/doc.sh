# `reel doc`: every public function of the Lua library has a doc comment and
# share/doc/lua-reference.md is the current output; the checker itself finds
# what is missing (a copy of the library with one comment taken out).
. "$(dirname "$0")/lib.sh"

run 0 "$REEL" doc --check
contains out.txt "every public function is documented"

run 0 "$REEL" doc session
contains out.txt "## reel.session"
contains out.txt '### `Session:select(track, n)`'
lacks out.txt "## reel.events"

run 2 "$REEL" doc nosuch
contains err.txt "reel doc: no module 'nosuch' (modules: reel, reel.arrange,"

# A library where Session:select lost its comment, a private helper table
# (APPLY) and a `-- @local` class: only the first is reported.
mkdir -p lib/reel
cp "$REEL_SOURCE_DIR"/scripts/reel/*.lua lib/reel/
cp -r "$REEL_SOURCE_DIR"/scripts/reel/cli lib/reel/
awk '/^--- Selects a take/ { skip = 1 } skip && /^function Session:select/ { skip = 0 } !skip' \
    "$REEL_SOURCE_DIR/scripts/reel/session.lua" > lib/reel/session.lua
line=$(grep -n '^function Session:select(' lib/reel/session.lua | cut -d: -f1)
REEL_LUA_PATH="$T/lib" run 1 "$REEL" doc --check
contains err.txt "$T/lib/reel/session.lua:$line: Session:select(track, n) has no doc comment"
lacks err.txt "APPLY"
lacks err.txt "Resolver"
[ "$(grep -c 'has no doc comment' err.txt)" = 1 ] || fail "expected exactly one finding"

# The reference page names every module of the library.
for f in "$REEL_SOURCE_DIR"/scripts/reel/*.lua; do
    m=$(basename "$f" .lua)
    [ "$m" = init ] && m="" || m=".$m"
    grep -qF "## reel$m" "$REEL_SOURCE_DIR/share/doc/lua-reference.md" || fail "reference lacks reel$m"
done
echo ok
