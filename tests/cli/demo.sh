# scripts/demo.lua, as the README runs it: a short multitrack session.
. "$(dirname "$0")/lib.sh"

run 0 "$REEL" run "$REEL_SOURCE_DIR/scripts/demo.lua" band
contains out.txt "Recorded 3 takes"
for t in Drums Bass Vox; do
    f=band/audio/${t}_T01.wav
    [ "$(frames "$f")" = 192000 ] || fail "$f is not 4 s long"
done
[ "$(soxi -c band/audio/Drums_T01.wav 2>/dev/null)" = 2 ] || fail "Drums is not stereo"
[ "$(json_get band/session.json '#j.takes')" = 3 ] || fail "session lists $(json_get band/session.json '#j.takes') takes"
# Run again: new numbers, nothing overwritten; default folder ./demo-session.
run 0 "$REEL" run "$REEL_SOURCE_DIR/scripts/demo.lua" band
[ -f band/audio/Vox_T02.wav ] || fail "second run did not make T02"
run 0 "$REEL" run "$REEL_SOURCE_DIR/scripts/demo.lua"
[ -f demo-session/audio/Bass_T01.wav ] || fail "default folder demo-session not used"
echo ok
