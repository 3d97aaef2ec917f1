# `reel loudness`: measures of sound files as a table and as JSON, the
# report per delivery target, --normalize (a new file, re-measured, never
# over the ceiling, never replacing one), bad input named word for word with
# exit 1, bad command lines with exit 2, and session folders: takes filed
# with their loudness, missing loudness measured and stored.
. "$(dirname "$0")/lib.sh"

# sine FILE DB SECONDS [CHANNELS]: a 1 kHz sine, DB dBFS peak, 24-bit, no dither.
sine() {
    sox -D -n -r 48000 -c "${4:-2}" -b 24 "$1" synth "$3" sine 1000 \
        vol "$(awk -v d="$2" 'BEGIN { printf "%.10f", 10 ^ (d / 20) }')"
}

# ---- command line
run 2 "$REEL" loudness
contains err.txt "reel loudness: missing FILE (a sound file or a session folder)"
run 2 "$REEL" loudness --target spotify x.wav
contains err.txt "reel loudness: unknown target 'spotify' (one of streaming, apple, podcast, broadcast, atsc)"
run 2 "$REEL" loudness --bogus x.wav
contains err.txt "reel loudness: unknown option '--bogus'"
run 2 "$REEL" loudness --normalize out.wav a.wav b.wav
contains err.txt "reel loudness: --normalize takes one FILE"
mkdir folder
run 2 "$REEL" loudness --normalize out.wav folder
contains err.txt "reel loudness: --normalize takes a sound file, not a folder"
[ ! -e out.wav ] || fail "a refused command line wrote out.wav"

# ---- one file: EBU Tech 3341 case 1 (-23 dBFS stereo, 20 s) is -23 LUFS
sine c1.wav -23 20
run 0 "$REEL" loudness c1.wav
contains out.txt "c1.wav  (48000 Hz, 2 channels, 0:20.000)"
contains out.txt "  integrated         -23.0 LUFS"
contains out.txt "  loudness range       0.0 LU"
contains out.txt "  short-term max     -23.0 LUFS"
contains out.txt "  true peak          -23.0 dBTP"
contains out.txt "  streaming   -14.0   -1.0   -9.0 LU  +9.0 dB  +22.0 dB  too quiet"
contains out.txt "  broadcast   -23.0   -1.0   +0.0 LU  +0.0 dB  +22.0 dB  ok"
contains out.txt "  atsc        -24.0   -2.0   +1.0 LU  -1.0 dB  +21.0 dB  ok"
[ "$(grep -cE '^  [a-z]+ +-[0-9.]+ +-[0-9.]+ +[-+][0-9.]+ LU ' out.txt)" = 5 ] || fail "five targets expected"
[ ! -s err.txt ] || fail "stderr not empty"

# --target: that one only; --json: the numbers
run 0 "$REEL" loudness --target podcast --json c1.wav
cp out.txt c1.json
awk -v v="$(json_get c1.json 'j[1].integrated')" 'BEGIN { exit !(v > -23.1 && v < -22.9) }' ||
    fail "JSON integrated $(json_get c1.json 'j[1].integrated')"
[ "$(json_get c1.json '#j[1].targets')" = 1 ] || fail "--target podcast: one target"
[ "$(json_get c1.json 'j[1].targets[1].target')" = podcast ] || fail "target name"
[ "$(json_get c1.json 'j[1].targets[1].verdict')" = "too quiet" ] || fail "verdict"
[ "$(json_get c1.json 'j[1].frames')" = 960000 ] || fail "frames"
[ "$(json_get c1.json 'j[1].channels')" = 2 ] || fail "channels"

# ---- bad input: named, word for word, exit 1; the good file is still measured
printf 'not a sound file\n' > words.wav
sine whole.wav -20 1
# 24-bit stereo: 6 bytes a frame; keep the header and 1000 of 48000 frames
head -c $(( $(stat -c %s whole.wav) - 47000 * 6 )) whole.wav > cut.wav
run 1 "$REEL" loudness missing.wav words.wav cut.wav c1.wav
contains err.txt "reel loudness: missing.wav: No such file or directory"
contains err.txt "reel loudness: words.wav: not a sound file (libsndfile: Format not recognised)"
contains err.txt "reel loudness: cut.wav: truncated: the header promises 48000 frames, only 1000 are there"
[ "$(wc -l < err.txt)" = 3 ] || { cat err.txt >&2; fail "one line per bad file expected"; }
contains out.txt "c1.wav  (48000 Hz, 2 channels, 0:20.000)"
run 1 "$REEL" loudness --json missing.wav c1.wav
cp out.txt mixed.json
[ "$(json_get mixed.json 'j[1].error')" = "missing.wav: No such file or directory" ] || fail "JSON error"
[ "$(json_get mixed.json 'j[2].channels')" = 2 ] || fail "JSON after an error"

# silence: too quiet to measure
sox -D -n -r 48000 -c 1 -b 16 silence.wav trim 0 2
run 0 "$REEL" loudness --target apple silence.wav
contains out.txt "  integrated       too quiet to measure"
contains out.txt "  true peak           -inf dBTP"
contains out.txt "  apple       -16.0   -1.0         -        -         -  too quiet to measure"

# ---- --normalize: gain only, re-measured, never over the ceiling
sine quiet.wav -30 10
run 0 "$REEL" loudness --normalize quiet-streaming.wav quiet.wav
contains out.txt "wrote quiet-streaming.wav: gain +16.0 dB for streaming (-14.0 LUFS, ceiling -1.0 dBTP)"
contains out.txt "  now -14.0 LUFS, true peak -14.0 dBTP"
run 0 "$REEL" loudness --json quiet-streaming.wav
cp out.txt qs.json
awk -v v="$(json_get qs.json 'j[1].integrated')" 'BEGIN { exit !(v > -14.1 && v < -13.9) }' ||
    fail "normalized to $(json_get qs.json 'j[1].integrated') LUFS"
[ "$(frames quiet-streaming.wav)" = 480000 ] || fail "normalized length"
# loud: a -2 dBFS sine is -2 LUFS; streaming turns it down 12 dB (FLAC out)
sine loud.wav -2 5
run 0 "$REEL" loudness --target streaming --normalize loud-streaming.flac loud.wav
contains out.txt "wrote loud-streaming.flac: gain -12.0 dB for streaming"
[ "$(head -c 4 loud-streaming.flac)" = fLaC ] || fail "not FLAC"
run 0 "$REEL" loudness --json loud-streaming.flac
cp out.txt ls.json
awk -v v="$(json_get ls.json 'j[1].integrated')" 'BEGIN { exit !(v > -14.1 && v < -13.9) }' ||
    fail "turned down to $(json_get ls.json 'j[1].integrated') LUFS"
# quiet with one loud inter-sample peak: 10 s of a -30 dBFS 1 kHz sine, then
# 0.1 s of a sine at fs/4 whose samples fall 45 degrees off its crests
# (samples -9 dBFS, true peak -6 dBTP). Podcast (-16 LUFS) needs about
# +10 dB, the -1 dBTP ceiling allows +5: held there, re-measured under it.
sine bg.wav -30 10
sox -D -n -r 48000 -c 2 -b 24 burst.wav synth 0.1 sine 12000 0 12.5 vol 0.5
sox bg.wav burst.wav peaky.wav
run 0 "$REEL" loudness --target podcast --normalize peaky-podcast.wav peaky.wav
contains out.txt "; held by the ceiling (the target needs +"
run 0 "$REEL" loudness --json peaky.wav peaky-podcast.wav
cp out.txt peaky.json
awk -v a="$(json_get peaky.json 'j[1].true_peak')" -v s="$(json_get peaky.json 'j[1].sample_peak')" \
    'BEGIN { exit !(a - s > 2.6 && a - s < 3.2) }' || fail "true peak not 3 dB over the samples"
awk -v v="$(json_get peaky.json 'j[2].true_peak')" 'BEGIN { exit !(v <= -1 && v > -1.05) }' ||
    fail "ceiling-held true peak $(json_get peaky.json 'j[2].true_peak')"
awk -v v="$(json_get peaky.json 'j[2].integrated')" 'BEGIN { exit !(v < -17) }' ||
    fail "held below the target: $(json_get peaky.json 'j[2].integrated')"
# never replaces a file
printf 'mine' > taken.wav
run 1 "$REEL" loudness --normalize taken.wav quiet.wav
contains err.txt "reel loudness: taken.wav: file exists; not replacing it"
[ "$(cat taken.wav)" = mine ] || fail "taken.wav was replaced"
run 1 "$REEL" loudness --normalize loud-silence.wav silence.wav
contains err.txt "reel loudness: silence.wav: too quiet to measure; nothing to normalize to"
[ ! -e loud-silence.wav ] || fail "silence was normalized"

# ---- sessions: takes are filed with their loudness; missing ones measured
run 0 "$REEL" record --device virtual:freewheel --input sine:1000:-20 --input silence --seconds 4 s
awk -v v="$(json_get s/session.json 'j.takes[1].loudness.integrated')" 'BEGIN { exit !(v > -20.1 && v < -19.9) }' ||
    fail "take loudness $(json_get s/session.json 'j.takes[1].loudness.integrated')"
[ "$(json_get s/session.json 'j.takes[2].loudness.integrated == cjson.null')" = true ] ||
    fail "a silent take's integrated loudness must be null"
[ "$(json_get s/session.json 'j.takes[2].loudness.note')" = "too quiet to measure" ] || fail "note"
cp s/session.json filed.json
# a session from before loudness was stored: reel loudness DIR fills it in
lua5.4 -e "local f = assert(io.open('s/session.json')); local t = f:read('a'); f:close()
  t = t:gsub('\"loudness\": %b{},%s*', '')
  f = assert(io.open('s/session.json', 'w')); f:write(t); f:close()"
lacks s/session.json '"loudness"'
run 0 "$REEL" loudness s
contains out.txt "s  (2 takes, 2 measured now)"
contains out.txt "  In1      1 -20.0 LUFS   0.0 LU     -20.0 LUFS -20.0 dBTP"
contains out.txt "  In2      1  too quiet to measure (true peak -inf dBTP)"
cmp -s s/session.json filed.json || { diff filed.json s/session.json >&2; fail "stored loudness differs from the filed one"; }
run 0 "$REEL" loudness s
contains out.txt "s  (2 takes, 0 measured now)"
cmp -s s/session.json filed.json || fail "nothing to measure, yet session.json changed"
run 0 "$REEL" loudness --json s
cp out.txt sj.json
[ "$(json_get sj.json 'j[1].session')" = s ] || fail "JSON session"
[ "$(json_get sj.json 'j[1].takes[2].loudness.note')" = "too quiet to measure" ] || fail "JSON takes"
# a take whose file is gone: named, the rest stored, exit 1
lua5.4 -e "local f = assert(io.open('s/session.json')); local t = f:read('a'); f:close()
  t = t:gsub('\"loudness\": %b{},%s*', '')
  f = assert(io.open('s/session.json', 'w')); f:write(t); f:close()"
mv s/audio/In2_T01.wav gone.wav
run 1 "$REEL" loudness s
contains err.txt "reel loudness: take 1 of 'In2': s/audio/In2_T01.wav: No such file or directory"
contains out.txt "s  (2 takes, 1 measured now)"
contains out.txt "  In2      1  not measured"
[ "$(json_get s/session.json 'j.takes[2].loudness == nil')" = true ] || fail "In2 got loudness"
awk -v v="$(json_get s/session.json 'j.takes[1].loudness.integrated')" 'BEGIN { exit !(v > -20.1) }' ||
    fail "In1 not stored"
# not a session
run 1 "$REEL" loudness folder
contains err.txt "reel loudness: folder is not a reel session (it has no session.json)"
# Channels past the sixth count: a 1 kHz sine at -20 dBFS on the eighth of
# eight channels alone is a surround (7.1, weight 1.41: -21.5 LUFS); on the
# seventh of seven a front channel (-23.0 LUFS).
sox -D -n -r 48000 -b 24 -c 1 one.wav synth 3 sine 1000 vol 0.1
sox -D one.wav c8.wav remix 0 0 0 0 0 0 0 1
sox -D one.wav c7.wav remix 0 0 0 0 0 0 1
run 0 "$REEL" loudness --json c8.wav
[ "$(lua5.4 -e "local j = require('cjson').decode(io.read('a')) print(math.floor(j[1].integrated * 10 + 0.5))" < out.txt)" = -215 ] ||
    { cat out.txt >&2; fail "8 channels: the surround is not counted as one"; }
run 0 "$REEL" loudness --json c7.wav
[ "$(lua5.4 -e "local j = require('cjson').decode(io.read('a')) print(math.floor(j[1].integrated * 10 + 0.5))" < out.txt)" = -230 ] ||
    { cat out.txt >&2; fail "7 channels: the seventh is not counted as a front channel"; }

# reel record measures each take as it files it, unless --no-loudness
run 0 "$REEL" record --device virtual:freewheel --input sine:1000:-20 --seconds 1 measured
[ "$(json_get measured/session.json 'math.floor(j.takes[1].loudness.integrated + 0.5)')" = -20 ] ||
    fail "reel record did not store the take's loudness"
run 0 "$REEL" record --device virtual:freewheel --input sine:1000:-20 --seconds 1 --no-loudness unmeasured
[ "$(json_get unmeasured/session.json 'tostring(j.takes[1].loudness)')" = nil ] ||
    fail "--no-loudness still measured the take"
echo "ok"
