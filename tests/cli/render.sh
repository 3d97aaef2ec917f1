# `reel render`: the mix against an independent sum made with sox, stems of
# equal length, a variant's length, never replacing without --force, the
# progress bar only on a terminal, takes untouched, bad input word for word.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || fail "util-linux 'script' is needed for this test"

# 48 kHz, 120 bpm: a bar is 96000 samples; Intro, Verse, Chorus of 2 bars.
# Vox: 12 s of 440 Hz from 0; Bass: 10 s of 110 Hz from 1 s; Bass panned
# hard right at -6 dB.
cat > mk.lua <<'LUA'
local reel = require "reel"
local dir = arg[1]
local s = assert(reel.new(dir, { rate = 48000, tempo = 120,
  tracks = { { name = "Vox", input = 1 }, { name = "Bass", input = 2 } },
  sections = { { "Intro", 2 }, { "Verse", 2 }, { "Chorus", 2 } } }))
s.takes[#s.takes + 1] = { track = "Vox", take = 1, file = "audio/Vox_T01.wav", start = 0,
  frames = 576000, rate = 48000, status = "selected" }
s.takes[#s.takes + 1] = { track = "Bass", take = 1, file = "audio/Bass_T01.wav", start = 48000,
  frames = 480000, rate = 48000, status = "selected" }
s:set_mix("Bass", { gain_db = -6, pan = 1 })
s:variant("radio", function(a) a:drop("Verse"); a:fade_out("Chorus", 2) end)
s:variant("fast", function(a) a:tempo(150) end)
assert(s:save())
LUA
run 0 "$REEL" run mk.lua song
sox -D -n -r 48000 -b 24 -c 1 song/audio/Vox_T01.wav synth 12 sine 440 vol 0.3
sox -D -n -r 48000 -b 24 -c 1 song/audio/Bass_T01.wav synth 10 sine 110 vol 0.3
snapshot() { (cd song/audio && sha256sum *); }
snapshot > before.txt

# Never into audio/ nor over session.json, whatever --force says.
run 1 "$REEL" render song --out song/audio/Vox_T01.wav --force
contains err.txt "reel render: song/audio/Vox_T01.wav: renders are never written into the session's audio/ folder or over its files"
run 1 "$REEL" render song --no-mix --stems song/audio --force
contains err.txt "reel render: song/audio/Vox.wav: renders are never written into the session's audio/ folder or over its files"
cp song/session.json session_saved.json
run 1 "$REEL" render song --out song/session.json --force
contains err.txt "reel render: song/session.json: renders are never written into the session's audio/ folder or over its files"
cmp -s song/session.json session_saved.json || fail "render touched session.json"
snapshot > refused.txt
diff -u before.txt refused.txt || fail "a refused render changed the takes"

run 0 "$REEL" render song
contains out.txt "Rendered  song: 0:12.000 (576000 frames at 48000 Hz), wav24, in "
contains out.txt "Mix       song/renders/song.wav (peak "
contains out.txt "2 tracks heard)"
lacks err.txt $'\r'
[ "$(frames song/renders/song.wav)" = 576000 ] || fail "mix length"
[ "$(soxi -c song/renders/song.wav)" = 2 ] || fail "mix channels"

# The independent sum: left = Vox at -3 dB (centre), right = Vox at -3 dB
# plus Bass at -6 dB delayed by 1 s (hard right; nothing of it on the left).
sox -D song/audio/Vox_T01.wav -b 24 vox.wav vol 0.7071067811865476
sox -D song/audio/Bass_T01.wav -b 24 bass.wav vol 0.5011872336272722 pad 1 1
sox -D -m -v 1 vox.wav -v 1 bass.wav -b 24 right.wav
sox -D song/renders/song.wav -b 24 got_l.wav remix 1
sox -D song/renders/song.wav -b 24 got_r.wav remix 2
lt "$(maxdiff got_l.wav vox.wav)" 0.00000025 || fail "left differs from Vox at -3 dB by $(maxdiff got_l.wav vox.wav)"
lt "$(maxdiff got_r.wav right.wav)" 0.00000025 || fail "right differs from the sum by $(maxdiff got_r.wav right.wav)"

# Stems: one per track, equal length, from the session start.
run 0 "$REEL" render song --no-mix --stems song/stems
contains out.txt "Stems     song/stems (2): Vox.wav, Bass.wav"
lacks out.txt "Mix "
[ "$(frames song/stems/Vox.wav)" = 576000 ] || fail "Vox stem length"
[ "$(frames song/stems/Bass.wav)" = 576000 ] || fail "Bass stem length"
# Pre-fader, in place: the Bass stem is the take itself, 1 s late.
sox -D song/audio/Bass_T01.wav -b 24 bass_at.wav pad 1 1
lt "$(maxdiff song/stems/Bass.wav bass_at.wav)" 0.00000013 || fail "Bass stem is not the take at 1 s"

# A variant: Intro + Chorus = 4 bars = 384000 samples, its own file.
run 0 "$REEL" render song --variant radio
contains out.txt "Rendered  song, variant radio: 0:08.000 (384000 frames at 48000 Hz)"
[ "$(frames song/renders/song-radio.wav)" = 384000 ] || fail "variant length"
run 1 "$REEL" render song --variant fast
contains err.txt "reel render: variant 'fast' plays 'Intro' at 150 bpm: recorded audio cannot follow a tempo change without time-stretching, which reel render does not do; render a variant without a tempo change"
[ ! -e song/renders/song-fast.wav ] || fail "a refused variant left a file"

# Never replaced without --force.
sum1=$(sha256sum < song/renders/song.wav)
run 1 "$REEL" render song
contains err.txt "reel render: song/renders/song.wav exists; renders never replace a file unless forced (force = true, reel render --force)"
[ "$(sha256sum < song/renders/song.wav)" = "$sum1" ] || fail "the existing render changed"
run 0 "$REEL" render song --force --format flac --out song/renders/other.flac
[ "$(frames song/renders/other.flac)" = 576000 ] || fail "flac render"

# The progress bar: on a terminal only.
script -qec "$REEL render song --force" /dev/null > tty.txt 2>&1 || { cat tty.txt >&2; fail "render under a pty failed"; }
grep -aq '100%' tty.txt || fail "no progress bar on the terminal"
grep -aq 'x real time' tty.txt || fail "no speed on the terminal"

# The takes were never touched.
snapshot > after.txt
cmp -s before.txt after.txt || fail "a take changed"
ls song/renders | grep -q reel-part && fail "temporary file left behind"

# Ctrl-C: the render stops between blocks, exit status 1, nothing left.
cat > long.lua <<'LUA'
local reel = require "reel"
assert(reel.new(arg[1], { rate = 48000, tempo = 120, format = "flac",
  tracks = { { name = "A", input = 1 } }, sections = { { "Long", 6000 } } }))
LUA
run 0 "$REEL" run long.lua long
"$REEL" render long >out.txt 2>err.txt &
pid=$!
# Once the output exists under its temporary name the render is under way.
for _ in $(seq 1 200); do
    ls long/renders 2>/dev/null | grep -q reel-part && break
    sleep 0.05
done
kill -INT $pid
got=0
wait $pid || got=$?
[ "$got" = 1 ] || { cat err.txt >&2; fail "interrupted render exited with $got, expected 1"; }
contains err.txt "reel render: render interrupted"
[ -z "$(ls -A long/renders)" ] || fail "an interrupted render left files: $(ls long/renders)"

# Comp switches: Vox comped A from take 1 (440 Hz), B from take 2 (650 Hz),
# switching at 96000. --comp-crossfade 0 is the hard cut sox makes of the
# two takes; by default the 10 ms around the switch differ from it.
cat > comp.lua <<'LUA'
local reel = require "reel"
local s = assert(reel.new(arg[1], { rate = 48000, tempo = 120,
  tracks = { { name = "Vox", input = 1 } }, sections = { { "A", 1 }, { "B", 1 } } }))
for k = 1, 2 do
  s.takes[#s.takes + 1] = { track = "Vox", take = k, file = ("audio/Vox_T%02d.wav"):format(k), start = 0,
    frames = 192000, rate = 48000, status = "kept" }
end
s:comp("Vox", "A", 1)
s:comp("Vox", "B", 2)
assert(s:save())
LUA
run 0 "$REEL" run comp.lua comp
sox -D -n -r 48000 -b 24 -c 1 comp/audio/Vox_T01.wav synth 4 sine 440 vol 0.3
sox -D -n -r 48000 -b 24 -c 1 comp/audio/Vox_T02.wav synth 4 sine 650 vol 0.3
sox -D comp/audio/Vox_T01.wav -b 24 cut1.wav trim 0 96000s
sox -D comp/audio/Vox_T02.wav -b 24 cut2.wav trim 96000s
sox -D cut1.wav cut2.wav -b 24 hard.wav
# absdiff A B: the largest |a - b| (maxdiff gives the largest a - b).
absdiff() {
    sox -m -v 1 "$1" -v -1 "$2" -n stat 2>&1 |
        awk '/^Maximum amplitude/ { hi = $3 } /^Minimum amplitude/ { lo = -$3 }
             END { print (hi > lo ? hi : lo) }'
}
run 0 "$REEL" render comp --no-mix --stems comp/hard --comp-crossfade 0
lt "$(absdiff comp/hard/Vox.wav hard.wav)" 0.00000013 || fail "--comp-crossfade 0 is not a hard cut"
run 0 "$REEL" render comp --no-mix --stems comp/soft
d=$(absdiff comp/soft/Vox.wav hard.wav)
lt 0.05 "$d" || fail "the default render hard-cuts the comp switch (differs by $d only)"
sox -D comp/soft/Vox.wav -b 24 soft_out.wav trim 0 95760s
sox -D hard.wav -b 24 hard_out.wav trim 0 95760s
lt "$(absdiff soft_out.wav hard_out.wav)" 0.00000013 || fail "the crossfade starts more than 5 ms early"
run 2 "$REEL" render comp --comp-crossfade=-1
contains err.txt "reel render: --comp-crossfade: milliseconds from 0 to 1000 expected, got '-1'"

# Command line and bad input.
run 2 "$REEL" render
contains err.txt "reel render: missing DIR (the session folder)"
run 2 "$REEL" render song --variant nope
contains err.txt "reel render: no variant 'nope' (variants: radio, fast)"
run 2 "$REEL" render song --format mp3
contains err.txt "reel render: --format: 'mp3' is not one of wav24, wav32f, flac, rf64"
run 2 "$REEL" render song --no-mix
contains err.txt "reel render: --no-mix needs --stems DIR"
run 1 "$REEL" render nowhere
contains err.txt "reel render: nowhere: no such folder"
sox -D -n -r 44100 -b 24 -c 1 song/audio/Bass_T02.wav synth 11 sine 110 vol 0.3
cat > rate.lua <<'LUA'
local reel = require "reel"
local s = assert(reel.open(arg[1]))
s.takes[#s.takes + 1] = { track = "Bass", take = 2, file = "audio/Bass_T02.wav", start = 0,
  frames = 485100, rate = 44100, status = "kept" }
s:select("Bass", 2)
assert(s:save())
LUA
run 0 "$REEL" run rate.lua song
run 1 "$REEL" render song --out x.wav
contains err.txt "reel render: track 'Bass' take 2 (song/audio/Bass_T02.wav): recorded at 44100 Hz, the session is at 48000 Hz; reel render does not resample (convert the file first, e.g. sox IN -r 48000 OUT)"
[ ! -e x.wav ] || fail "a failed render left its file"
mv song/audio/Vox_T01.wav vox_saved.wav
run 1 "$REEL" render song --out x.wav
contains err.txt "reel render: track 'Vox' take 1 (song/audio/Vox_T01.wav): No such file or directory"
echo ok
