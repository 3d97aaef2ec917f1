# `reel take`: punch by section and by positions, loop passes with and
# without a section, an overdub of a backing file through a simulated
# loopback; positions checked in session.json (read by lua5.4 + cjson) and
# the take files read by sox, to the sample.
. "$(dirname "$0")/lib.sh"

# first_impulse FILE: the 0-based frame of the first sample above 0.5.
first_impulse() {
    sox "$1" -t dat - | awk '!/^;/ { if ($2 > 0.5) { print n + 0; exit } n++ }'
}

# 120 bpm 4/4: 96000 samples a bar. Chorus 2 is bars 9-10: 768000..960000.
cat > mk.lua <<'T'
assert(require("reel").new(arg[1], {
  tempo = 120, meter = "4/4",
  tracks = { { name = "Vox", input = 1 }, { name = "Dub", input = 1 } },
  sections = { { "Intro", 2 }, { "Verse", 2 }, { "Chorus", 2 }, { "Verse", 2 }, { "Chorus", 2 } },
}))
T
run 0 "$REEL" run mk.lua song
FW="--device virtual:freewheel"

# Punch over a section, one bar of pre-roll: the take is exactly the section.
run 0 "$REEL" take song --track Vox --punch "Chorus 2" --preroll 1 $FW --input impulse:7000
contains out.txt "song/audio/Vox_T01.wav  pass 1  at 9:1  192000 frames"
[ "$(frames song/audio/Vox_T01.wav)" = 192000 ] || fail "Vox_T01 is $(frames song/audio/Vox_T01.wav) frames"
# device frame 0 is 8:1; take frame 0 is device frame 96000 (96000 % 7000 = 5000)
[ "$(first_impulse song/audio/Vox_T01.wav)" = 2000 ] || fail "first impulse at $(first_impulse song/audio/Vox_T01.wav)"
j() { json_get song/session.json "$1"; }
[ "$(j '#j.takes')" = 1 ] || fail "takes: $(j '#j.takes')"
[ "$(j 'j.takes[1].start')" = 768000 ] || fail "start $(j 'j.takes[1].start')"
[ "$(j 'j.takes[1].start_bbt')" = 9:1 ] || fail "start_bbt $(j 'j.takes[1].start_bbt')"
[ "$(j 'j.takes[1].frames')" = 192000 ] || fail "frames"
[ "$(j 'j.takes[1].section')" = "Chorus 2" ] || fail "section $(j 'j.takes[1].section')"
[ "$(j 'j.takes[1].pass')" = 0 ] || fail "pass"
[ "$(j 'j.takes[1].status')" = kept ] || fail "status"

# Punch between positions given as seconds and bars:beats.
run 0 "$REEL" take song --track Vox --punch 1s..2:3 --from 0 $FW --input impulse:1000
[ "$(frames song/audio/Vox_T02.wav)" = 96000 ] || fail "Vox_T02 is $(frames song/audio/Vox_T02.wav) frames"
[ "$(j 'j.takes[2].start')" = 48000 ] || fail "T02 start"
[ "$(j 'j.takes[2].section')" = nil ] || fail "T02 has a section"
[ "$(first_impulse song/audio/Vox_T02.wav)" = 0 ] || fail "T02 first impulse"

# Three passes of a loop given as bars:beats: T03..T05, passes 0..2.
run 0 "$REEL" take song --track Vox --loop 5:1..6:1 --passes 3 $FW --input impulse:7000
for k in 3 4 5; do
    f=song/audio/Vox_T0$k.wav
    [ "$(frames $f)" = 96000 ] || fail "$f is $(frames $f) frames"
    [ "$(j "j.takes[$k].take")" = $k ] || fail "take number of takes[$k]"
    [ "$(j "j.takes[$k].pass")" = $((k - 3)) ] || fail "pass of takes[$k]"
    [ "$(j "j.takes[$k].start")" = 384000 ] || fail "start of takes[$k]"
done
# pass k's frame 0 is device frame k * 96000: 0, 96000 % 7000 = 5000, 192000 % 7000 = 3000
[ "$(first_impulse song/audio/Vox_T03.wav)" = 0 ] || fail "pass 1 impulse"
[ "$(first_impulse song/audio/Vox_T04.wav)" = 2000 ] || fail "pass 2 impulse"
[ "$(first_impulse song/audio/Vox_T05.wav)" = 4000 ] || fail "pass 3 impulse"

# A loop over a section with a punch inside it.
run 0 "$REEL" take song --track Vox --loop "Verse 2" --punch 7:2..7:4 --passes 2 $FW --input silence
[ "$(frames song/audio/Vox_T06.wav)" = 48000 ] || fail "T06 frames"
[ "$(frames song/audio/Vox_T07.wav)" = 48000 ] || fail "T07 frames"
[ "$(j 'j.takes[7].start')" = $((6 * 96000 + 24000)) ] || fail "T07 start"
[ "$(j 'j.takes[7].pass')" = 1 ] || fail "T07 pass"
[ "$(j 'j.takes[7].section')" = "Verse 2" ] || fail "T07 section"
[ "$(j 'j.last_take.Vox')" = 7 ] || fail "last_take"

# An overdub: a backing file placed at 2s plays into output 1, which the
# simulated rig loops back into input 1 1000 frames later; with that
# latency the take equals the file's second second, sample for sample.
sox -n -r 48000 -c 1 -b 24 orig.wav synth 4 whitenoise vol 0.5
run 0 "$REEL" take song --track Dub --punch 3s..4s --no-playback --backing orig.wav@2s \
    $FW --input silence --loopback 1\>1 --loopback-latency 1000 --latency 1000
[ "$(frames song/audio/Dub_T01.wav)" = 48000 ] || fail "Dub_T01 frames"
sox orig.wav want.wav trim 48000s 48000s
[ "$(maxdiff want.wav song/audio/Dub_T01.wav)" = 0.000000 ] || fail "the overdub differs by $(maxdiff want.wav song/audio/Dub_T01.wav)"
[ "$(j 'j.takes[8].latency')" = 1000 ] || fail "latency not recorded"
# Without the compensation it would be 1000 frames late.
run 0 "$REEL" take song --track Dub --punch 3s..4s --no-playback --backing orig.wav@2s \
    $FW --input silence --loopback 1\>1 --loopback-latency 1000 --latency 0
lt 0.1 "$(maxdiff want.wav song/audio/Dub_T02.wav)" || fail "an uncompensated take matched"

# The click, looped back: only with --click, on the beats.
run 0 "$REEL" take song --track Dub --punch 2:1..3:1 --no-playback --click recording \
    $FW --input silence --loopback 1\>1 --loopback-latency 256 --latency 256
lt 0.2 "$(sox song/audio/Dub_T03.wav -n stat 2>&1 | awk '/^Maximum amplitude/ { print $3 }')" \
    || fail "no click in the take"
run 0 "$REEL" take song --track Dub --punch 2:1..3:1 --no-playback \
    $FW --input silence --loopback 1\>1 --loopback-latency 256 --latency 256
[ "$(sox song/audio/Dub_T04.wav -n stat 2>&1 | awk '/^Maximum amplitude/ { print $3 }')" = 0.000000 ] \
    || fail "a click in a take recorded with the click off"

# The example users copy runs as it is, and its overdub lands on the guide.
run 0 "$REEL" run "$REEL_SOURCE_DIR/scripts/examples/overdub.lua" example
contains out.txt "audio/Dub_T01.wav: 480000 of 480000 samples identical to the guide"
contains out.txt "3 passes heard, 3 takes"
# --play rolls the transport without recording: nothing new in audio/.
before=$(ls example/audio | wc -l)
run 0 "$REEL" take example --play --device virtual:freewheel --from 1:1 --to 2:1
contains out.txt "Playing example"
[ "$(ls example/audio | wc -l)" = "$before" ] || fail "--play wrote a file"
echo ok
