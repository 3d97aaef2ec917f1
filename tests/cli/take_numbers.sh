# Take numbers: next free number per track, never reused, never overwriting.
. "$(dirname "$0")/lib.sh"

rec() { run 0 "$REEL" record --device virtual:freewheel --input sine:440 --seconds 0.1 sess; }
rec
rec
[ -f sess/audio/In1_T01.wav ] && [ -f sess/audio/In1_T02.wav ] || fail "T01/T02 missing"

# A deleted take's number is not given out again (the session remembers).
rm sess/audio/In1_T02.wav
rec
[ -f sess/audio/In1_T03.wav ] || fail "expected T03 after deleting T02: $(ls sess/audio)"
[ ! -e sess/audio/In1_T02.wav ] || fail "T02 was reused"

# A file the session does not know still blocks its number (and below).
: > sess/audio/In1_T07.wav
rec
[ -f sess/audio/In1_T08.wav ] || fail "expected T08 after a stray T07: $(ls sess/audio)"
[ ! -s sess/audio/In1_T07.wav ] || fail "the stray T07 was overwritten"

# Without the session file, numbering continues from the files present.
rm sess/session.json
rec
[ -f sess/audio/In1_T09.wav ] || fail "expected T09 without session.json: $(ls sess/audio)"
[ "$(json_get sess/session.json '#j.takes')" = 1 ] || fail "new session file should list 1 take"
echo ok
