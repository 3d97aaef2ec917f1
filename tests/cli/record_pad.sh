# --seconds longer than the input file: the file's content, then digital
# silence, and exactly the requested length.
. "$(dirname "$0")/lib.sh"

sox -n -r 48000 -c 1 -e float -b 32 in.wav synth 1 sine 440 vol 0.5
run 0 "$REEL" record --device virtual:freewheel --input in.wav --seconds 2.5 --format wav32f sess
take=sess/audio/In1_T01.wav
[ "$(frames "$take")" = 120000 ] || fail "take has $(frames "$take") frames, expected 120000"
sox in.wav -t f32 in.raw 2>/dev/null
sox "$take" -t f32 take.raw 2>/dev/null
head -c $((48000 * 4)) take.raw | cmp - in.raw || fail "the first second differs from the input"
tail -c +$((48000 * 4 + 1)) take.raw > rest.raw
[ "$(stat -c %s rest.raw)" = $((72000 * 4)) ] || fail "rest has the wrong size"
cmp rest.raw <(head -c $((72000 * 4)) /dev/zero) || fail "after the input ends the take is not silent"
echo ok
