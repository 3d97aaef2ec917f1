# `reel regress record|compare` on the virtual device. A stimulus (white
# noise, 3 s, made with sox) is recorded as the reference, directly from a
# virtual input and through a simulated loopback; a recording with an
# injected dropout (frames 30000..30999 zeroed) is reported as one dropout
# region starting at frame 30000 and lasting 1000 frames, also when that
# take went through a loop with another latency (aligned to the stimulus)
# and when it is shifted against the reference (positions stay reference
# frames); a clean re-recording compares the same (exit 0). Level changes,
# added noise, a filtered take (method spectrum) and a short take are
# reported too; JSON output; command-line mistakes exit 2.
. "$(dirname "$0")/lib.sh"
FW="--device virtual:freewheel"

sox -n -r 48000 -c 1 -b 24 noise.wav synth 3 whitenoise vol 0.25 2>/dev/null
# frames 30000..30999 zeroed
sox noise.wav head.wav trim 0 30000s
sox noise.wav tail.wav trim 31000s
sox -n -r 48000 -c 1 -b 24 zeros.wav trim 0 1000s
sox head.wav zeros.wav tail.wav drop.wav
[ "$(frames drop.wav)" = 144000 ] || fail "dropout file length"

# region FILE I FIELD: field of region I of a JSON compare report
region() { json_get "$1" "j.regions[$2].$3"; }

# ---------------------------------------------------------------- on an input
# The virtual device's input 1 plays the file itself: the rig "delivers" the
# stimulus, nothing is played.
run 0 "$REEL" regress record $FW --input noise.wav --seconds 3 ref_in.wav
contains out.txt "Recorded input 1 into ref_in.wav: 144000 frames at 48000 Hz (virtual 'virtual')"
[ "$(frames ref_in.wav)" = 144000 ] || fail "reference length"
run 1 "$REEL" regress record $FW --input drop.wav --seconds 3 --against ref_in.wav drop_in.wav
contains out.txt "Recorded input 1 into drop_in.wav"
contains out.txt "  dropout 30000..30999 (1000 frames, 0.625 s to 0.646 s): take silent"
contains out.txt "First difference above 0.001: frame 30000 (0.625 s)"
contains out.txt "DIFFERENT:"
run 1 "$REEL" regress compare --json ref_in.wav drop_in.wav
mv out.txt drop_in.json
[ "$(json_get drop_in.json 'j.ok')" = false ] || fail "dropout not failed"
[ "$(json_get drop_in.json '#j.regions')" = 1 ] || { cat drop_in.json >&2; fail "regions of the dropout"; }
[ "$(region drop_in.json 1 kind)" = dropout ] || fail "region kind"
[ "$(region drop_in.json 1 from)" = 30000 ] || fail "dropout start $(region drop_in.json 1 from)"
[ "$(region drop_in.json 1 to)" = 30999 ] || fail "dropout end"
[ "$(region drop_in.json 1 frames)" = 1000 ] || fail "dropout length"
[ "$(json_get drop_in.json 'j.alignment')" = 0 ] || fail "alignment"
[ "$(json_get drop_in.json 'j.first_difference_at')" = 30000 ] || fail "first difference"
lt "$(json_get drop_in.json 'math.abs(j.level_db_diff)')" 0.001 || fail "level with a dropout"
# A clean re-recording is the same.
run 0 "$REEL" regress record $FW --input noise.wav --seconds 3 --against ref_in.wav again_in.wav
contains out.txt "SAME within the tolerances"
contains out.txt "No dropouts, level changes or noise found."

# ---------------------------------------------------------------- through a loop
# Played on output 1, back on input 3 after 512 frames; the recording is
# aligned to the stimulus.
run 0 "$REEL" regress record $FW --loopback 1\>3 --loopback-latency 512 --out 1 --in 3 \
    --stimulus noise.wav --json ref.wav
mv out.txt ref.json
[ "$(json_get ref.json 'j.latency')" = 512 ] || fail "reference round trip"
[ "$(json_get ref.json 'j.frames')" = 144000 ] || fail "reference frames"
[ "$(frames ref.wav)" = 144000 ] || fail "reference file length"
# The reference is the stimulus, sample for sample (float takes).
lt "$(maxdiff noise.wav ref.wav)" 0.0000001 || fail "aligned reference differs from the stimulus"
# The dropout take goes through a loop with another latency.
run 1 "$REEL" regress record $FW --loopback 1\>3 --loopback-latency 1000 --out 1 --in 3 \
    --stimulus drop.wav --against ref.wav --json drop.wav.take.wav
mv out.txt drop.json
[ "$(json_get drop.json 'j.recording.latency')" = 1000 ] || fail "take round trip"
[ "$(json_get drop.json '#j.regions')" = 1 ] || { cat drop.json >&2; fail "regions through the loop"; }
[ "$(region drop.json 1 kind)" = dropout ] || fail "loop: kind"
[ "$(region drop.json 1 from)" = 30000 ] || fail "loop: dropout start $(region drop.json 1 from)"
[ "$(region drop.json 1 frames)" = 1000 ] || fail "loop: dropout length"
# Shifted by 37 frames against the reference (as a take that is not aligned
# to its stimulus would be): the alignment is found and reported, the
# dropout is still at reference frame 30000.
sox -n -r 48000 -c 1 -b 24 pad.wav trim 0 37s
sox pad.wav drop.wav shifted.wav
run 1 "$REEL" regress compare --json ref.wav shifted.wav
mv out.txt shifted.json
[ "$(json_get shifted.json 'j.alignment')" = 37 ] || fail "alignment of a shifted take"
[ "$(json_get shifted.json 'j.aligned')" = true ] || fail "aligned"
[ "$(region shifted.json 1 from)" = 30000 ] || fail "shifted: dropout start"
[ "$(region shifted.json 1 frames)" = 1000 ] || fail "shifted: dropout length"
contains shifted.json "the take is shifted by 37 frames against the reference (tolerance 1)"
run 1 "$REEL" regress compare --tolerance alignment=40 ref.wav shifted.wav
lacks out.txt "shifted by"
contains out.txt "dropout 30000..30999"
# Compared as they are (no alignment), the shift shows as differences.
run 1 "$REEL" regress compare --tolerance align=false --json ref.wav shifted.wav
[ "$(json_get out.txt 'j.alignment')" = 0 ] || fail "align=false"
# A clean re-recording through a loop with yet another latency is the same.
run 0 "$REEL" regress record $FW --loopback 1\>3 --loopback-latency 2000 --out 1 --in 3 \
    --stimulus noise.wav --against ref.wav again.wav
contains out.txt "Aligned to the stimulus: round trip 2000 frames (41.667 ms), return level 0.0 dB"
contains out.txt "SAME within the tolerances"
run 0 "$REEL" regress compare ref.wav again.wav
contains out.txt "Difference: none"

# ---------------------------------------------------------------- other differences
# 6 dB quieter overall: a level failure, no regions (the take is matched).
sox noise.wav quiet.wav vol 0.5
run 1 "$REEL" regress compare --json ref.wav quiet.wav
lt "$(json_get out.txt 'math.abs(j.level_db_diff + 6.02)')" 0.01 || fail "level difference"
[ "$(json_get out.txt '#j.regions')" = 0 ] || fail "regions of a level change"
contains out.txt "the level differs by -6.0 dB (tolerance 0.5 dB)"
run 0 "$REEL" regress compare --tolerance level_db=7 ref.wav quiet.wav
# 12 dB quieter from 1 s to 1.5 s: one level region there.
sox noise.wav a.wav trim 0 48000s
sox noise.wav b.wav trim 48000s 24000s vol 0.25
sox noise.wav c.wav trim 72000s
sox a.wav b.wav c.wav dip.wav
run 1 "$REEL" regress compare --json ref.wav dip.wav
mv out.txt dip.json
[ "$(json_get dip.json '#j.regions')" = 1 ] || { cat dip.json >&2; fail "regions of a dip"; }
[ "$(region dip.json 1 kind)" = level ] || fail "dip kind"
[ "$(region dip.json 1 from)" = 48000 ] || fail "dip start"
[ "$(region dip.json 1 to)" = 71999 ] || fail "dip end"
lt "$(json_get dip.json 'j.regions[1].db')" -8 || fail "dip level"
# Hum added from 2 s on: a noise region from there to the end.
sox -n -r 48000 -c 1 -b 24 hum.wav synth 1 sine 50 vol 0.05
sox noise.wav d.wav trim 0 96000s
sox noise.wav e.wav trim 96000s
sox -m -v 1 e.wav -v 1 hum.wav f.wav
sox d.wav f.wav humming.wav
run 1 "$REEL" regress compare --json ref.wav humming.wav
mv out.txt hum.json
[ "$(json_get hum.json '#j.regions')" = 1 ] || { cat hum.json >&2; fail "regions of hum"; }
[ "$(region hum.json 1 kind)" = noise ] || fail "hum kind"
[ "$(region hum.json 1 from)" = 96000 ] || fail "hum start $(region hum.json 1 from)"
[ "$(region hum.json 1 to)" = 143999 ] || fail "hum end"
# A take that ends 0.5 s early: a dropout up to the end, at the take's edge.
sox noise.wav short.wav trim 0 120000s
run 1 "$REEL" regress compare --json ref.wav short.wav
[ "$(region out.txt 1 kind)" = dropout ] || fail "short take"
[ "$(region out.txt 1 from)" = 120000 ] || fail "short take start"
[ "$(region out.txt 1 to)" = 143999 ] || fail "short take end"
[ "$(region out.txt 1 edge)" = true ] || fail "short take edge"
# Spectrum: a low-passed take fails the bands above the cut; the same take
# against itself passes.
sox noise.wav dull.wav lowpass 2000
run 1 "$REEL" regress compare --tolerance method=spectrum --json ref.wav dull.wav
mv out.txt dull.json
[ "$(json_get dull.json 'j.method')" = spectrum ] || fail "method"
[ "$(json_get dull.json '(function() for _, b in ipairs(j.spectrum) do if b.center > 5000 and b.ok then return "ok" end end return "bad" end)()')" = bad ] ||
    fail "high bands pass"
[ "$(json_get dull.json '(function() for _, b in ipairs(j.spectrum) do if b.center < 500 and not b.ok then return "bad" end end return "ok" end)()')" = ok ] ||
    fail "low bands fail"
contains dull.json "third-octave bands differ by more than 1 dB"
run 0 "$REEL" regress compare --tolerance method=spectrum dull.wav dull.wav
contains out.txt "Spectrum: every band within 1 dB"

# ---------------------------------------------------------------- generated stimulus
run 0 "$REEL" regress record $FW --loopback 2\>1 --loopback-latency 300 --out 2 --in 1 \
    --stimulus sweep:20:20000:1:-12 --seconds 1 --format wav24 sweep_ref.wav
contains out.txt "round trip 300 frames"
[ "$(frames sweep_ref.wav)" = 48000 ] || fail "sweep length"
[ "$(soxi -b sweep_ref.wav)" = 24 ] || fail "--format wav24"
run 0 "$REEL" regress record $FW --loopback 2\>1 --out 2 --in 1 \
    --stimulus sweep:20:20000:1:-12 --seconds 1 --against sweep_ref.wav sweep_take.wav

# ---------------------------------------------------------------- failures
run 1 "$REEL" regress record $FW --input noise.wav --seconds 1 ref_in.wav
contains err.txt "ref_in.wav: the file exists"
run 1 "$REEL" regress compare ref.wav missing.wav
contains err.txt "missing.wav"
sox -n -r 44100 -c 1 -b 16 other.wav trim 0 1000s
run 1 "$REEL" regress compare ref.wav other.wav
contains err.txt "is at 48000 Hz but other.wav at 44100 Hz"
# Nothing came back: no loop.
run 1 "$REEL" regress record $FW --out 1 --in 1 --stimulus noise.wav nothing.wav
contains err.txt "cannot find the stimulus in the recording of input 1: nothing came back"
[ ! -e nothing.wav ] || fail "a failed recording left a file"

# ---------------------------------------------------------------- command-line mistakes
run 2 "$REEL" regress
contains err.txt "missing the subcommand: record or compare"
run 2 "$REEL" regress replay
contains err.txt "unknown subcommand 'replay'"
run 2 "$REEL" regress compare ref.wav
contains err.txt "compare needs REFERENCE and TAKE"
run 2 "$REEL" regress compare --tolerance levels=1 ref.wav again.wav
contains err.txt "unknown tolerance 'levels'"
run 2 "$REEL" regress compare --tolerance method=fourier ref.wav again.wav
contains err.txt "'fourier' is not samples or spectrum"
run 2 "$REEL" regress compare --tolerance level_db ref.wav again.wav
contains err.txt "expects KEY=VALUE"
run 2 "$REEL" regress record x.wav
contains err.txt "record needs '--stimulus SIGNAL' or '--seconds S'"
run 2 "$REEL" regress record --stimulus sine:440 x.wav
contains err.txt "needs '--seconds'"
run 2 "$REEL" regress record --out 1 --seconds 1 x.wav
contains err.txt "option '--out' needs '--stimulus'"
run 2 "$REEL" regress record --seconds 1 --tolerance level_db=1 x.wav
contains err.txt "option '--tolerance' goes with '--against REF'"
run 2 "$REEL" regress record --seconds 1 --format mp3 x.wav
run 2 "$REEL" regress record --device jack --input noise.wav --seconds 1 x.wav
contains err.txt "simulate a rig on the virtual device only"
run 2 "$REEL" regress record --seconds 1
contains err.txt "record needs FILE"
echo ok
