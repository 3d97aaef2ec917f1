# `reel info DIR --variant NAME`: a variant's sections laid out from bar 1
# (start in bars:beats and seconds, duration, what it changed) and tracks,
# as text and --json; `reel info DIR` lists the variants; unknown names.
. "$(dirname "$0")/lib.sh"

cat > mk.lua <<'LUA'
local reel = require "reel"
local s = assert(reel.new(arg[1], { rate = 48000, tempo = 120, meter = "4/4",
  tracks = { { name = "Vox", input = 1 }, { name = "Bass", input = 2 } },
  sections = { { "Intro", 4 }, { "Verse", 8 }, { "Chorus", 8 }, { "Bridge", 4 }, { "Chorus", 8 },
               { "Outro", 4 } } }))
s:variant("radio", function(a) a:drop("Bridge"); a:shorten("Intro", 2); a:fade_out("Outro", 4) end)
s:variant("festival", function(a)
  a:add_track{ name = "Horns", input = 9 }
  a:add_track{ name = "BGV", input = { 10, 11 } }
  a:remove_track("Bass")
  a:tempo(132, "Chorus 2")
end)
assert(s:save())
LUA
run 0 "$REEL" run mk.lua song

snapshot() { (cd song && find . -type f | sort | xargs sha256sum); }
snapshot > before.txt

run 0 "$REEL" info song
contains out.txt "Variants (2): radio, festival"
contains out.txt "Sections (6)"

run 0 "$REEL" info song --variant radio
cat > want.txt <<'TXT'
Session   song
Variant   radio: 30 bars, 1:00.000 (2880000 samples)

Sections (5)
  Intro     1:1       2 bars   0:00.000 - 0:04.000      4.000 s   samples 0 - 192000   shortened from 4
  Verse     3:1       8 bars   0:04.000 - 0:20.000     16.000 s   samples 192000 - 960000
  Chorus 1  11:1      8 bars   0:20.000 - 0:36.000     16.000 s   samples 960000 - 1728000
  Chorus 2  19:1      8 bars   0:36.000 - 0:52.000     16.000 s   samples 1728000 - 2496000
  Outro     27:1      4 bars   0:52.000 - 1:00.000      8.000 s   samples 2496000 - 2880000   fade out 4.0 s

Tracks (2): Vox, Bass
TXT
diff -u want.txt out.txt || fail "reel info --variant radio"

run 0 "$REEL" info --variant=festival song
contains out.txt "Variant   festival: 36 bars, 1:09.818 (3351273 samples)"
contains out.txt "  Chorus 2  25:1      8 bars   0:48.000 - 1:02.545     14.545 s   samples 2304000 - 3002182   at 132 bpm"
contains out.txt "  Outro     33:1      4 bars   1:02.545 - 1:09.818      7.273 s   samples 3002182 - 3351273   at 132 bpm"
contains out.txt "Tracks (3): Vox, Horns (added), BGV (added)"
contains out.txt "Removed   Bass"
lacks out.txt "Bridge    21:1      4 bars   0:40.000 - 0:48.000      8.000 s   samples 1920000 - 2304000   "

# --json with --variant: the arrangement.
run 0 "$REEL" info --json --variant radio song
cp out.txt radio.json
[ "$(json_get radio.json 'j.name')" = radio ] || fail "json: name"
[ "$(json_get radio.json '#j.sections')" = 5 ] || fail "json: sections"
[ "$(json_get radio.json 'j.sections[2].label')" = Verse ] || fail "json: label"
[ "$(json_get radio.json 'j.sections[2].start')" = 192000 ] || fail "json: Verse at 2 bars"
[ "$(json_get radio.json 'j.sections[2].start_bbt')" = "3:1" ] || fail "json: start_bbt"
[ "$(json_get radio.json 'j.sections[2].start_seconds')" = 4 ] || fail "json: start_seconds"
[ "$(json_get radio.json 'j.sections[2].seconds')" = 16 ] || fail "json: seconds"
[ "$(json_get radio.json 'j.sections[5].fade_out')" = 4 ] || fail "json: fade_out"
[ "$(json_get radio.json 'j.length')" = 2880000 ] || fail "json: length"
[ "$(json_get radio.json 'j.seconds')" = 60 ] || fail "json: total seconds"
run 0 "$REEL" info --json --variant festival song
cp out.txt festival.json
[ "$(json_get festival.json 'j.added[2].name')" = BGV ] || fail "json: added"
[ "$(json_get festival.json 'j.added[2].input[2]')" = 11 ] || fail "json: added input"
[ "$(json_get festival.json 'j.removed[1]')" = Bass ] || fail "json: removed"

# --json alone: the session document, variants as stored operations.
run 0 "$REEL" info --json song
cp out.txt doc.json
[ "$(json_get doc.json '#j.variants')" = 2 ] || fail "json: variants"
[ "$(json_get doc.json 'j.variants[1].name')" = radio ] || fail "json: variant name"
[ "$(json_get doc.json 'j.variants[1].ops[2][1]')" = shorten ] || fail "json: op"
[ "$(json_get doc.json 'j.variants[2].ops[4][2]')" = 132 ] || fail "json: tempo op"
cmp -s doc.json song/session.json || fail "info --json differs from the saved session.json"

# Unknown variant: exit 1, the names there are.
run 1 "$REEL" info song --variant radoi
[ "$(cat err.txt)" = "reel info: no variant 'radoi' (variants: radio, festival)" ] ||
    { cat err.txt >&2; fail "unknown variant message"; }
[ ! -s out.txt ] || fail "output with an unknown variant"
run 0 "$REEL" new plain
run 1 "$REEL" info plain --variant radio
contains err.txt "reel info: no variant 'radio' (the session has no variants)"
run 2 "$REEL" info song --variant
contains err.txt "option '--variant' needs a value"

snapshot > after.txt
cmp -s before.txt after.txt || fail "reel info changed the session folder"
echo ok
