# `reel new` and `reel info`: creating session folders (template, options,
# never overwriting, template errors as FILE:LINE: message), recording into
# one, and showing it as text and as JSON without changing anything.
. "$(dirname "$0")/lib.sh"

# ---- reel new
# A band template of the test's own: the recording below relies on its
# layout (inputs 1-7), which the shipped band.lua need not keep.
cat > band4.lua <<'LUA'
return {
  name = "Four-piece band", rate = 48000, format = "wav24", tempo = 120, meter = "4/4",
  tracks = { { name = "Kick", input = 1 }, { name = "Snare", input = 2 },
             { name = "Overheads", input = { 3, 4 } }, { name = "Bass", input = 5 },
             { name = "Vox", input = 7, monitor = true } },
  sections = { { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 }, { "Verse", 16 },
               { "Chorus", 8 }, { "Bridge", 8 }, { "Chorus", 16 }, { "Outro", 4 } },
}
LUA
run 0 "$REEL" new --template ./band4.lua --tempo 100 song
contains out.txt "Created session 'Four-piece band' in song: 48000 Hz, wav24, 100 bpm 4/4"
contains out.txt "5 tracks: Kick (input 1), Snare (input 2), Overheads (input 3+4), Bass (input 5), Vox (input 7, monitored)"
contains out.txt "8 sections, 80 bars, 192.0 s: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2, Bridge, Chorus 3, Outro"
[ -f song/session.json ] && [ -d song/audio ] || fail "no session.json or audio/"
[ "$(json_get song/session.json 'j.reel_session')" = 1 ] || fail "reel_session"
[ "$(json_get song/session.json 'j.tempo[1].bpm')" = 100 ] || fail "--tempo not applied"
[ "$(json_get song/session.json '#j.tracks')" = 5 ] || fail "tracks"
[ "$(json_get song/session.json 'j.sections[5].label')" = "Chorus 2" ] || fail "section labels"
[ "$(json_get song/session.json 'j.sections[5].start')" = 5068800 ] || fail "Chorus 2 at bar 45: 44 bars of 115200"

# Never overwrites: exit 1, the file untouched.
sum=$(sha256sum song/session.json)
run 1 "$REEL" new song
contains err.txt "reel new: song/session.json already exists; a session is never overwritten"
run 1 "$REEL" new --template band --name Other song
[ "$(sha256sum song/session.json)" = "$sum" ] || fail "reel new changed an existing session.json"

# Without a template: defaults and options.
run 0 "$REEL" new plain
contains out.txt "Created session 'plain' in plain: 48000 Hz, wav24, 120 bpm 4/4"
run 0 "$REEL" new --rate 44100 --tempo 92.5 --meter 6/8 --format flac --name Waltz waltz
contains out.txt "Created session 'Waltz' in waltz: 44100 Hz, flac, 92.5 bpm 6/8"
[ "$(json_get waltz/session.json 'j.tempo[1].meter')" = "6/8" ] || fail "--meter"
[ "$(json_get waltz/session.json 'j.format')" = flac ] || fail "--format"

# A template of one's own, by path.
cat > duo.lua <<'LUA'
return { name = "Duo", tracks = { { name = "Gtr", input = 1 }, { name = "Voc", input = 2 } },
         sections = { { "Verse", 8 }, { "Chorus", 8 }, { "Verse", 8 } } }
LUA
run 0 "$REEL" new --template ./duo.lua duo
contains out.txt "2 tracks: Gtr (input 1), Voc (input 2)"
contains out.txt "3 sections, 24 bars, 48.0 s: Verse 1, Chorus, Verse 2"

# Template errors: FILE:LINE: message, exit 1, nothing created.
printf 'return {\n  name = "x",\n  tracks = { { name = "A", input = 1 } \n}\n' > broken.lua
run 1 "$REEL" new --template broken.lua nope
contains err.txt "reel new: broken.lua:5: '}' expected (to close '{' at line 1) near <eof>"
printf 'local t = {}\nreturn { name = os.getenv("HOME") }\n' > evil.lua
run 1 "$REEL" new --template evil.lua nope
contains err.txt "reel new: evil.lua:2: 'os' is not available in templates"
printf 'while true do end\n' > loop.lua
run 1 "$REEL" new --template loop.lua nope
contains err.txt "reel new: loop.lua:1: template ran too long (stopped after 0.1 s)"
printf 'return { tracks = { { name = "Kick", input = "one" } } }\n' > bad.lua
run 1 "$REEL" new --template bad.lua nope
contains err.txt "reel new: bad.lua:1: tracks[1].input: integer or list of 1 or 2 integers expected, got string"
run 1 "$REEL" new --template nosuch nope
contains err.txt "reel new: template 'nosuch' not found (templates: band, band_horns, drum_tracking, live_two_track, podcast, podcast_duo, vocal_overdub)"
[ ! -e nope ] || fail "a failed reel new created the folder"

# Bad command lines: exit 2, the option named, nothing created.
run 2 "$REEL" new
contains err.txt "missing DIR"
run 2 "$REEL" new a b
contains err.txt "unexpected argument 'b'"
run 2 "$REEL" new --bogus nope
contains err.txt "unknown option '--bogus'"
run 2 "$REEL" new --rate fast nope
contains err.txt "option '--rate' expects a sample rate in Hz from 1000 to 768000, got 'fast'"
run 2 "$REEL" new --tempo 0 nope
contains err.txt "option '--tempo' expects beats per minute from 1 to 1000, got '0'"
run 2 "$REEL" new --meter 4/3 nope
contains err.txt "option '--meter': meter 4/3 at bar 1: note value must be 1, 2, 4, 8, 16 or 32"
run 2 "$REEL" new --meter waltz nope
contains err.txt "option '--meter': meter 'waltz' is not N/D (4/4, 7/8)"
run 2 "$REEL" new --format mp3 nope
contains err.txt "option '--format' must be one of wav24, wav32f, flac, rf64, got 'mp3'"
run 2 "$REEL" new --template
contains err.txt "'--template' needs a value"
[ ! -e nope ] || fail "a rejected command line created the folder"

# ---- record two rolls of takes into the band session, then mark them
cat > rec.lua <<'LUA'
local reel = require "reel"
local s = assert(reel.open(arg[1]))
local dev = reel.device{ spec = "virtual:freewheel", inputs = { "sine:55:0", "silence",
  "noise:pink:-20", "noise:pink:-20", "sine:110:-3", "silence", "sine:440:-6" } }
assert(s:record{ seconds = 0.25, device = dev, meter = false })
assert(s:record{ seconds = 0.5, device = dev, meter = false })
s:set_status("Vox", 1, "rejected", "pitchy")
s:select("Vox", 2)
assert(s:save())
LUA
run 0 "$REEL" run rec.lua song
[ -f song/audio/Vox_T02.wav ] || fail "no Vox_T02.wav"

# ---- reel info, text; reading changes nothing
snapshot() { (cd song && find . -type f | sort | xargs sha256sum; ls -la . audio | awk '{print $1, $5, $NF}'); }
snapshot > before.txt
run 0 "$REEL" info song
snapshot > after.txt
cmp -s before.txt after.txt || fail "reel info changed the session folder"
contains out.txt "Session   Four-piece band"
contains out.txt "Rate      48000 Hz; takes written as wav24"
contains out.txt "Tempo     bar 1     100 bpm 4/4, from 0:00.000 (sample 0)"
contains out.txt "Sections (8)"
contains out.txt "  Chorus 2  45:1      8 bars   1:45.600 - 2:04.800     19.200 s   samples 5068800 - 5990400"
contains out.txt "Tracks (5)"
contains out.txt "  Overheads    inputs 3+4"
contains out.txt "  Vox          input 7, monitored"
contains out.txt "Takes (10)"
contains out.txt "    T01  rejected  1:1           0.250 s  peak   -6.0 dBFS  ok"
contains out.txt "    T02  selected  1:1           0.500 s  peak   -6.0 dBFS  ok"
contains out.txt "          note: pitchy"
contains out.txt "          audio/Vox_T02.wav, 24000 frames at 48000 Hz, start sample 0, wav24, recorded "
contains out.txt "peak   -inf dBFS"
grep -qE '^    T01  kept      1:1           0\.250 s  peak    0\.0 dBFS  clipped [0-9]+ samples$' out.txt ||
    { cat out.txt >&2; fail "Kick T01 should show its clipping"; }

# ---- reel info --json: the session document
run 0 "$REEL" info --json song
snapshot > after.txt
cmp -s before.txt after.txt || fail "reel info --json changed the session folder"
cp out.txt info.json
[ "$(json_get info.json 'j.reel_session')" = 1 ] || fail "json: reel_session"
[ "$(json_get info.json 'j.name')" = "Four-piece band" ] || fail "json: name"
[ "$(json_get info.json 'j.rate')" = 48000 ] || fail "json: rate"
[ "$(json_get info.json '#j.takes')" = 10 ] || fail "json: takes"
[ "$(json_get info.json 'j.sections[5].label')" = "Chorus 2" ] || fail "json: section label"
[ "$(json_get info.json 'j.sections[5].start_bbt')" = "45:1" ] || fail "json: section start_bbt"
[ "$(json_get info.json 'j.sections[5].seconds')" = "19.2" ] || fail "json: section seconds"
[ "$(json_get info.json 'j.tempo[1].meter')" = "4/4" ] || fail "json: tempo"
[ "$(json_get info.json 'j.tracks[3].inputs[2]')" = 4 ] || fail "json: inputs"
[ "$(json_get info.json 'j.tracks[5].monitor')" = true ] || fail "json: monitor"
[ "$(json_get info.json 'j.last_take.Vox')" = 2 ] || fail "json: last_take"
vox2='(function() for _, t in ipairs(j.takes) do if t.track == "Vox" and t.take == 2 then return t end end end)()'
[ "$(json_get info.json "$vox2.status")" = selected ] || fail "json: status"
[ "$(json_get info.json "$vox2.file")" = audio/Vox_T02.wav ] || fail "json: file"
[ "$(json_get info.json "$vox2.frames")" = 24000 ] || fail "json: frames"
[ "$(json_get info.json "$vox2.seconds")" = 0.5 ] || fail "json: seconds"
[ "$(json_get info.json "$vox2.start")" = 0 ] || fail "json: start"
[ "$(json_get info.json "$vox2.start_bbt")" = "1:1" ] || fail "json: start_bbt"
for field in rate format peak_db clipped xruns xrun_positions overruns gaps lost_frames recorded; do
    [ "$(json_get info.json "$vox2.$field ~= nil")" = true ] || fail "json: take has no $field"
done
# The document is the session file as saving would write it.
cmp -s info.json song/session.json || fail "info --json differs from the saved session.json"

# A session written by `reel record` (earlier layout) shows too.
run 0 "$REEL" record --device virtual:freewheel --input sine:440 --seconds 0.1 quick
run 0 "$REEL" info quick
contains out.txt "Tracks (1)"
contains out.txt "  In1          input 1"
contains out.txt "    T01  kept      1:1           0.100 s"
echo ok
