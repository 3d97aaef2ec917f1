# `reel record` on the virtual freewheel device reproduces an input file
# sample for sample (wav32f), has exactly SECONDS * rate frames, writes the
# session file; the default format is 24-bit PCM within 24-bit precision.
. "$(dirname "$0")/lib.sh"

sox -n -r 48000 -c 1 -e float -b 32 in.wav synth 3 sine 440 vol 0.5

run 0 "$REEL" record --device virtual:freewheel --input in.wav --seconds 3 --format wav32f sess
take=sess/audio/In1_T01.wav
[ -f "$take" ] || fail "no take file $take"
contains out.txt "$take"
contains out.txt "144000 frames"
contains out.txt "peak -6.0 dBFS"
[ "$(frames "$take")" = 144000 ] || fail "take has $(frames "$take") frames, expected 144000"
[ "$(soxi -e "$take" 2>/dev/null)" = "Floating Point PCM" ] || fail "take is not float"
sox in.wav -t f32 in.raw 2>/dev/null
sox "$take" -t f32 take.raw 2>/dev/null
cmp in.raw take.raw || fail "the wav32f take differs from the input"

# The session file lists the track and the take.
[ "$(json_get sess/session.json 'j.tracks[1].name')" = In1 ] || fail "session track"
[ "$(json_get sess/session.json 'j.takes[1].file')" = audio/In1_T01.wav ] || fail "session take file"
[ "$(json_get sess/session.json 'j.takes[1].frames')" = 144000 ] || fail "session take frames"
[ "$(json_get sess/session.json 'j.takes[1].take')" = 1 ] || fail "session take number"
ls sess | grep -q tmp && fail "temporary session file left behind"

# Default format: 24-bit PCM WAV, same signal within 24-bit precision.
run 0 "$REEL" record --device virtual:freewheel --input in.wav --seconds 3 sess
take=sess/audio/In1_T02.wav
[ "$(soxi -b "$take" 2>/dev/null)" = 24 ] || fail "default take is not 24-bit"
[ "$(soxi -e "$take" 2>/dev/null)" = "Signed Integer PCM" ] || fail "default take is not PCM"
[ "$(frames "$take")" = 144000 ] || fail "wav24 take has $(frames "$take") frames"
d=$(maxdiff in.wav "$take")
lt "$d" 0.000001 || fail "wav24 take differs from the input by $d"

# flac and a fractional length: exact frame count, rounded to the sample.
run 0 "$REEL" record --device virtual:freewheel --input in.wav --seconds 1.5 --format flac sess
[ "$(frames sess/audio/In1_T03.flac)" = 72000 ] || fail "flac take length"

# Two generators: two tracks, started on the same frame.
run 0 "$REEL" record --device virtual:freewheel --input sine:1000:-6 --input impulse:4800 \
    --seconds 0.5 --format wav32f multi
[ "$(frames multi/audio/In1_T01.wav)" = 24000 ] || fail "multi In1 length"
[ "$(frames multi/audio/In2_T01.wav)" = 24000 ] || fail "multi In2 length"
echo ok
