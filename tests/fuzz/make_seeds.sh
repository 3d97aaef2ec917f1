#!/usr/bin/env bash
# tests/fuzz/make_seeds.sh REEL: regenerates the seed corpora under
# tests/fuzz/corpus/ (committed; run this only to refresh them). REEL is a
# built `reel` command; sox makes the sound files. Seeds are kept small
# (a few hundred frames, short texts): libFuzzer mutates them, so what
# matters is that each reaches a different part of the code.
set -euo pipefail
REEL=${1:?usage: make_seeds.sh path/to/reel}
here=$(cd "$(dirname "$0")" && pwd)
c=$here/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# seed TARGET NAME BYTES...: one seed file (printf format string).
seed() {
  mkdir -p "$c/$1"
  printf "$3" > "$c/$1/$2"
}

# ---- gen_spec: a rate byte, then the spec
for s in silence sine:440:-12 sine:23999.9 noise noise:pink:-20 noise:white noise:-6 \
         impulse:100 impulse:1:-inf sweep:20:20000:0.01:-6 sweep:100:100:1 mls:10 mls:20:-3; do
  seed gen_spec "$(echo "$s" | tr ':' '_')" "\\000$s"
done
seed gen_spec rate1_sine '\006sine:0.25'

# ---- position: rate, bpm (2 bytes), meter numerator, denominator, number
# of changes (and 6 bytes per change), then the text
for p in 96000 0 12.5s .5s 5:1 5:2.5 99999:4 1:1.000000000000001 0:1 -1 100000:1 abc; do
  seed position "p_$(echo "$p" | tr ':.' '__')" "\\000\\020\\000\\003\\002\\000$p"
done
seed position changes '\000\020\000\003\002\002\000\010\040\000\005\003\000\020\010\000\006\00417:3.5'

# ---- format
for f in wav24 wav32f flac rf64 wav; do seed format "$f" "$f"; done

# ---- loopback: inputs, in/out channel counts, period, latency pick, spec
seed loopback one '\001\002\002\004\000 1>1'
seed loopback two '\002\004\004\004\060\0101>1,2>3'
seed loopback spaces '\001\002\000\004\000 1 > 2 , 1>1 '
seed loopback bad '\001\002\002\004\0001>'
seed loopback latency '\001\002\002\004\003 1>1'

# ---- soundfile: tiny files in every container and sample format reel meets
mkdir -p "$c/soundfile"
syn() { sox -n -r "$1" -c "$2" "${@:3}" synth 0.004 sine 440 2>/dev/null; }
syn 48000 1 -b 16 "$c/soundfile/pcm16.wav"
syn 48000 2 -b 24 "$c/soundfile/pcm24_stereo.wav"
syn 48000 1 -e floating-point -b 32 "$c/soundfile/float.wav"
syn 44100 3 -b 16 "$c/soundfile/three.wav"
syn 8000 1 -b 8 "$c/soundfile/u8.wav"
syn 8000 1 -e u-law "$c/soundfile/ulaw.wav"
syn 48000 1 -b 16 "$c/soundfile/mono.flac"
syn 96000 2 -b 24 "$c/soundfile/stereo24.flac"
syn 48000 1 -b 16 "$c/soundfile/mono.aiff"
syn 48000 1 -b 16 "$c/soundfile/mono.au"
syn 48000 1 -b 16 -t wavpcm "$c/soundfile/wavpcm.wav"
# what reel writes itself: bext chunk, RF64, FLAC tags
for f in wav24 wav32f rf64 flac; do
  "$REEL" record --device virtual:freewheel --input sine:440 --seconds 0.004 --format "$f" \
    "$T/s_$f" >/dev/null
  cp "$T/s_$f"/audio/In1_T01.* "$c/soundfile/reel_$f.$( [ $f = flac ] && echo flac || echo wav)"
done

# ---- session: what reel writes, with tempo changes, sections, markers,
# tracks, statuses and a latency, plus small hand-made ones
mkdir -p "$c/session"
"$REEL" record --device virtual:freewheel --input sine:440 --input noise --seconds 0.01 "$T/sess" >/dev/null
"$REEL" record --device virtual:freewheel --input sine:440 --seconds 0.01 --format flac "$T/sess" >/dev/null
cat > "$T/edit.lua" <<'LUA'
local session = require "reel.session"
local s = assert(session.open(arg[1]))
s:set_tempo(1, 96, "6/8")
s:set_tempo(9, 140.5, "7/8")
s:add_section("Intro", 4)
s:add_section("Verse", 8)
s:add_section("Chorus", 4)
s:add_section("Verse", 8)
s:add_marker("hit", "5:2")
s.tracks[1] = { name = "In1", input = { 1 }, monitor = true, gain_db = -3, pan = -0.5 }
s.tracks[2] = { name = "In2", input = { 1, 2 } }
s.latency = { round_trip = 1234 }
s:set_status("In1", 1, "rejected", "too loud")
s:select("In1", 2)
assert(s:save())
LUA
cp "$T/sess/session.json" "$c/session/recorded.json"
"$REEL" run "$T/edit.lua" "$T/sess"
cp "$T/sess/session.json" "$c/session/edited.json"
seed session minimal '{"reel_session": 1}'
seed session empty_lists '{"reel_session":1,"tracks":[],"takes":[],"sections":[],"markers":[],"tempo":[{"bar":1,"bpm":120}]}'
seed session nulls '{"reel_session":1,"name":null,"rate":null,"takes":[{"track":"A","take":1,"file":"a.wav","peak":null,"peak_db":null,"status":null}]}'
seed session extra '{"reel_session":1,"zz":{"a":[1,2,{"b":null}]},"tracks":[{"name":"A","inputs":[1],"x":true}]}'
seed session take_outside '{"reel_session":1,"takes":[{"track":"A","take":1,"file":"audio/../../a.wav"},{"track":"A","take":2,"file":"/a.wav"}]}'
seed session long_values '{"reel_session":1,"format":"\\u001b[2Jwav24wav24wav24wav24wav24wav24wav24wav24wav24wav24wav24wav24","last_take":{"A B":-1}}'

# ---- template: the shipped ones, and small ones that reach the checks
mkdir -p "$c/template"
for f in "$here"/../../share/templates/*.lua; do cp "$f" "$c/template/"; done
seed template empty 'return {}\n'
seed template tracks 'return { tracks = { { name = "Vox", input = 7, monitor = true }, { name = "OH", input = { 3, 4 } } } }\n'
seed template sections 'return { tempo = 90, meter = "6/8", sections = { { "Intro", 4 }, { "Chorus", 8 }, { "Chorus", 8 } } }\n'
seed template extends 'return { extends = "base.lua", name = "X", tracks = { { name = "Kick", input = 9 } } }\n'
seed template loop 'local t = {} for i = 1, 10 do t[i] = { name = "T" .. i, input = i } end return { tracks = t }\n'
seed template bad 'return { rate = "fast", tracks = { { name = "../x", input = 0 } } }\n'
echo "seeds written under $c"
