# Session templates from the command line: `reel new --template` with the
# shipped templates, composition and templates of one's own; validation
# messages as FILE:LINE: field: what; hostile templates stopped quickly with
# a clear message; `reel check-template` as a dry run, alone and against the
# virtual device. Nothing is recorded.
. "$(dirname "$0")/lib.sh"

SHARE="$REEL_SOURCE_DIR/share/templates"

# ---- reel new with shipped templates
run 0 "$REEL" new --template band_horns horns
contains out.txt "Created session 'Band plus horns' in horns: 48000 Hz, wav24, 120 bpm 4/4"
contains out.txt "15 tracks: Kick (input 1), Snare (input 2), HiHat (input 3), Tom (input 4), FloorTom (input 5), Overheads (input 6+7), BassDI (input 8), BassAmp (input 9), Gtr1 (input 10), Gtr2 (input 11), Vox (input 12, monitored), BGV (input 13, monitored), Trumpet (input 14), Sax (input 15), Trombone (input 16)"
contains out.txt "9 sections, 92 bars, 184.0 s: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2, Bridge, Horn Solo, Chorus 3, Outro"
[ "$(json_get horns/session.json 'j.groups[5].name')" = Horns ] || fail "groups not kept"
[ "$(json_get horns/session.json 'j.take_policy.passes')" = 4 ] || fail "take_policy not kept"
for t in band vocal_overdub podcast podcast_duo drum_tracking live_two_track; do
    run 0 "$REEL" new --template "$t" "s_$t"
done
contains out.txt "Created session 'Live two-track' in s_live_two_track: 48000 Hz, rf64, 120 bpm 4/4"

# ---- a template of one's own that extends a shipped one
cat > trio.lua <<'LUA'
-- the band without keys of its own, as a trio
return {
  extends = "band",
  name = "Trio",
  remove_tracks = { "Gtr2", "BGV" },
  tracks = { { name = "Vox", input = 11 } },
  remove_sections = { "Bridge" },
}
LUA
run 0 "$REEL" new --template ./trio.lua trio
contains out.txt "10 tracks: Kick (input 1), Snare (input 2), HiHat (input 3), Tom (input 4), FloorTom (input 5), Overheads (input 6+7), BassDI (input 8), BassAmp (input 9), Gtr1 (input 10), Vox (input 11, monitored)"
contains out.txt "7 sections, 72 bars, 144.0 s: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2, Chorus 3, Outro"

# ---- validation: file, line, field, a suggestion; nothing created
cat > typo.lua <<'LUA'
return {
  name = "Typo",
  tracks = {
    { name = "Kick", input = 1 },
    { name = "Snare", imput = 2 },
    { name = "Kick", input = 3 },
  },
  temp = 120,
}
LUA
run 1 "$REEL" new --template typo.lua nope
cat > want.txt <<'TXT'
reel new: typo.lua:8: unknown field 'temp' (did you mean 'tempo'?)
typo.lua:5: tracks[2]: unknown field 'imput' (did you mean 'input'?)
typo.lua:6: tracks[3].name: 'Kick' is used twice (also tracks[1])
TXT
diff -u want.txt err.txt || fail "reel new: validation messages"
[ ! -e nope ] || fail "a failed reel new created the folder"

# ---- hostile templates: stopped, with a clear message, quickly
printf 'local n = 0\nwhile true do pcall(function() while true do n = n + 1 end end) end\n' > loop.lua
start=$(date +%s.%N)
run 1 "$REEL" new --template loop.lua nope
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
contains err.txt "reel new: loop.lua:2: template ran too long (stopped after 0.1 s)"
lt "$took" 2 || fail "a runaway template took $took s to stop"
printf -- '-- a gigabyte at once\nreturn { name = ("x"):rep(1 << 30) }\n' > bomb.lua
run 1 "$REEL" new --template bomb.lua nope
contains err.txt "reel new: bomb.lua:2: not enough memory (a template may use 32 MiB)"
printf 'return { name = io.open("/etc/passwd"):read("a") }\n' > io.lua
run 1 "$REEL" new --template io.lua nope
contains err.txt "reel new: io.lua:1: 'io' is not available in templates"
printf 'return {\n  name = os.execute("touch pwned"),\n}\n' > os.lua
run 1 "$REEL" new --template os.lua nope
contains err.txt "reel new: os.lua:2: 'os' is not available in templates"
[ ! -e pwned ] || fail "a template ran os.execute"
[ ! -e nope ] || fail "a hostile template created the folder"

# ---- reel check-template: alone
run 0 "$REEL" check-template band
contains out.txt "Template band ($SHARE/band.lua): Four-piece band"
contains out.txt "  12 tracks on 13 input channels: Kick (1), Snare (2), HiHat (3), Tom (4), FloorTom (5), Overheads (6+7), BassDI (8), BassAmp (9), Gtr1 (10), Gtr2 (11), Vox (12, monitored), BGV (13, monitored)"
contains out.txt "  groups: Drums (Kick, Snare, HiHat, Tom, FloorTom, Overheads); Bass (BassDI, BassAmp); Guitars (Gtr1, Gtr2); Vocals (Vox, BGV)"
contains out.txt "  8 sections, 80 bars, 160.0 s: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2, Bridge, Chorus 3, Outro"
contains out.txt "  takes: 3 passes, count-in 1 bar, click, reject on xruns, prefer fewest_problems"
contains out.txt "OK: band is valid; it needs 13 input channels (check it against a device with --device SPEC)"
run 0 "$REEL" check-template band_horns
contains out.txt "Template band_horns ($SHARE/band_horns.lua, extends $SHARE/band.lua): Band plus horns"
run 0 "$REEL" check-template ./trio.lua
contains out.txt "OK: trio is valid; it needs 11 input channels"

# ---- against the virtual device
run 0 "$REEL" check-template band --device virtual --channels 16
contains out.txt "Device virtual 'virtual': 16 input channels at 48000 Hz"
contains out.txt "OK: band fits virtual 'virtual'"
run 0 "$REEL" check-template podcast_duo --input sine:440 --input sine:220
contains out.txt "OK: podcast_duo fits virtual 'virtual'"
run 1 "$REEL" check-template band_horns --device virtual --channels 14
cat > want.txt <<TXT
reel check-template: $SHARE/band_horns.lua:16: tracks[2].input: channel 15 for track 'Sax' is beyond the 14 input channels of virtual 'virtual'
reel check-template: $SHARE/band_horns.lua:17: tracks[3].input: channel 16 for track 'Trombone' is beyond the 14 input channels of virtual 'virtual'
TXT
diff -u want.txt err.txt || fail "check-template: channels beyond the device"
printf 'return {\n  rate = 44100,\n  tracks = { { name = "A", input = { 1, 2 } }, { name = "B", input = 2 } },\n}\n' > shared.lua
run 0 "$REEL" check-template shared.lua --device virtual
contains out.txt "warning: tracks 'A' and 'B' both record input channel 2"
contains out.txt "Device virtual 'virtual': 2 input channels at 44100 Hz"

# ---- failures and bad command lines
run 1 "$REEL" check-template typo.lua
cat > want.txt <<'TXT'
reel check-template: typo.lua:8: unknown field 'temp' (did you mean 'tempo'?)
reel check-template: typo.lua:5: tracks[2]: unknown field 'imput' (did you mean 'input'?)
reel check-template: typo.lua:6: tracks[3].name: 'Kick' is used twice (also tracks[1])
TXT
diff -u want.txt err.txt || fail "check-template: validation messages"
run 1 "$REEL" check-template loop.lua
contains err.txt "reel check-template: loop.lua:2: template ran too long (stopped after 0.1 s)"
run 1 "$REEL" check-template bnad
contains err.txt "reel check-template: template 'bnad' not found (did you mean 'band'? templates: band, band_horns, drum_tracking, live_two_track, podcast, podcast_duo, vocal_overdub)"
run 2 "$REEL" check-template
contains err.txt "reel check-template: missing T (a template name or a path to a template file)"
run 2 "$REEL" check-template band podcast
contains err.txt "unexpected argument 'podcast' (only one template)"
run 2 "$REEL" check-template --channels many band
contains err.txt "option '--channels' expects an integer from 1 to 1024, got 'many'"
run 2 "$REEL" check-template --bogus band
contains err.txt "unknown option '--bogus'"

# A dry run writes nothing.
files=$(ls -A | sort | tr '\n' ' ')
want_files=$(printf '%s\n' bomb.lua err.txt horns io.lua loop.lua os.lua out.txt s_band \
    s_drum_tracking s_live_two_track s_podcast s_podcast_duo s_vocal_overdub shared.lua trio \
    trio.lua typo.lua want.txt | sort | tr '\n' ' ')
[ "$files" = "$want_files" ] || fail "unexpected files: $files"
echo ok
