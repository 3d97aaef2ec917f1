# `reel export DIR --to FOLDER`: the handoff package of a session whose takes
# were recorded by `reel take` on the virtual device (freewheel). Read back
# with tools independent of reel where there are some (sox, awk, lua5.4 +
# cjson), through reel.zip for the DAWproject file; errors word for word.
. "$(dirname "$0")/lib.sh"

# 48 kHz, bars 1-3 4/4 at 120 (96000 samples a bar), bar 4 at 100 (115200).
# Intro bar 1, Verse bars 2-3 (96000..288000), Chorus bar 4 (288000..403200).
cat > mk.lua <<'T'
local s = assert(require("reel").new(arg[1], {
  tempo = 120, meter = "4/4",
  tracks = { { name = "Vox", input = 1, gain_db = -3 }, { name = "Bass", input = 2, pan = 0.5 } },
  sections = { { "Intro", 1 }, { "Verse", 2 }, { "Chorus", 1 } },
}))
s:set_tempo(4, 100)
s:add_marker("Break, short", "3:3")
assert(s:save())
T
cat > sel.lua <<'T'
local s = assert(require("reel").open(arg[1]))
s:select("Vox", 1) s:select("Bass", 1)
s:variant("short", function(a) a:drop("Verse") end)
assert(s:save())
T
FW="--device virtual:freewheel"
run 0 "$REEL" run mk.lua song
run 0 "$REEL" take song --track Vox --punch Verse $FW --input sine:440:-12
run 0 "$REEL" take song --track Bass --punch 1:1..5:1 $FW --input silence --input sine:110:-12
run 0 "$REEL" run sel.lua song
snapshot() { (cd song && find . -type f | sort | xargs sha256sum); }
snapshot > before.txt

run 0 "$REEL" export song --to pkg
contains out.txt "Exported song to pkg"
contains out.txt "  403200 samples at 48000 Hz (8.400 s), 2 tracks: Vox, Bass"
contains out.txt "  audio: 2 take files (2 copied, 0 converted to BWF WAV)"
contains out.txt "  2 takes listed in takes.csv and takes.json"
contains out.txt "  14 files:"
(cd pkg && find . -type f | sort) > files.txt
cat > want.txt <<'TXT'
./README.txt
./audio/Bass_T01.wav
./audio/Vox_T01.wav
./markers.csv
./mix.wav
./sections.csv
./song.RPP
./song.dawproject
./stems/Bass.wav
./stems/Vox.wav
./takes.csv
./takes.json
./tempo.csv
./tempo_markers.mid
TXT
diff -u want.txt files.txt || fail "package files"

# The session is as it was; the package's takes are copies of its files,
# not links: overwriting one in the package leaves the session's take alone.
snapshot > after.txt
diff -u before.txt after.txt || fail "the session changed"
[ "$(stat -c %i song/audio/Vox_T01.wav)" != "$(stat -c %i pkg/audio/Vox_T01.wav)" ] || fail "Vox take is a link"
cmp -s song/audio/Vox_T01.wav pkg/audio/Vox_T01.wav || fail "Vox take copied wrong"
cp pkg/audio/Vox_T01.wav vox_copy.wav
cp pkg/mix.wav pkg/audio/Vox_T01.wav
snapshot > after2.txt
diff -u before.txt after2.txt || fail "writing into the package changed the session"
cp vox_copy.wav pkg/audio/Vox_T01.wav

# Sound files: lengths (sox) and bext time references (reel.bwf).
[ "$(frames pkg/mix.wav)" = 403200 ] || fail "mix frames $(frames pkg/mix.wav)"
[ "$(soxi -c pkg/mix.wav)" = 2 ] || fail "mix channels"
[ "$(frames pkg/stems/Vox.wav)" = 403200 ] || fail "Vox stem frames"
[ "$(frames pkg/audio/Vox_T01.wav)" = 192000 ] || fail "Vox take frames"
cat > bext.lua <<'T'
local bwf = require "reel.bwf"
for _, f in ipairs(arg) do
  local b = assert(bwf.read(f), f .. ": no bext")
  print(f, b.time_reference)
end
T
run 0 "$REEL" run bext.lua pkg/mix.wav pkg/stems/Vox.wav pkg/stems/Bass.wav pkg/audio/Vox_T01.wav \
    pkg/audio/Bass_T01.wav
printf 'pkg/mix.wav\t0\npkg/stems/Vox.wav\t0\npkg/stems/Bass.wav\t0\npkg/audio/Vox_T01.wav\t96000\npkg/audio/Bass_T01.wav\t0\n' > want.txt
diff -u want.txt out.txt || fail "bext time references"

# CSV (RFC 4180, CRLF).
printf 'track,take,file,start,start_bbt,length,status,problems,trimmed_frames\r\nVox,1,audio/Vox_T01.wav,96000,2:1,192000,selected,,0\r\nBass,1,audio/Bass_T01.wav,0,1:1,403200,selected,,0\r\n' > want.txt
cmp want.txt pkg/takes.csv || { cat -A pkg/takes.csv >&2; fail "takes.csv"; }
printf 'name,start,start_bbt,start_seconds\r\n"Break, short",240000,3:3,5\r\n' > want.txt
cmp want.txt pkg/markers.csv || { cat -A pkg/markers.csv >&2; fail "markers.csv"; }
[ "$(awk -F, 'NR == 4 { print $1, $5, $6, $9 }' pkg/sections.csv | tr -d '\r')" = "Chorus 288000 115200 2.4" ] ||
    fail "sections.csv: $(cat pkg/sections.csv)"
[ "$(json_get pkg/takes.json "math.tointeger(j[1].start) .. ' ' .. j[1].status .. ' ' .. #j[1].problems")" = "96000 selected 0" ] ||
    fail "takes.json"

# REAPER project.
contains pkg/song.RPP "  TEMPO 120 4 4"
contains pkg/song.RPP "    PT 6.00000000000000 100 1 262148"
contains pkg/song.RPP '  MARKER 2 2.00000000000000 "Verse" 1'
contains pkg/song.RPP '  MARKER 4 5.00000000000000 "Break, short" 0'
awk '/^    NAME / { t = $2 } /POSITION|LENGTH|SOFFS|FILE/ { print t, $1, $2 }' pkg/song.RPP > items.txt
cat > want.txt <<'TXT'
"Vox" POSITION 2.00000000000000
"Vox" LENGTH 4.00000000000000
"Vox" SOFFS 0.00000000000000
"Vox" FILE "audio/Vox_T01.wav"
"Bass" POSITION 0.00000000000000
"Bass" LENGTH 8.40000000000000
"Bass" SOFFS 0.00000000000000
"Bass" FILE "audio/Bass_T01.wav"
TXT
diff -u want.txt items.txt || fail "RPP items"
contains pkg/song.RPP "    VOLPAN 0.7079457844 0 -1 -1 1"

# MIDI: tempo events (tick, microseconds a quarter) read by plain Lua.
cat > mid.lua <<'T'
local f = assert(io.open(arg[1], "rb")); local d = f:read("a"); f:close()
assert(d:sub(1, 4) == "MThd")
local _, format, ntrks, ppq = string.unpack(">I4I2I2I2", d, 5)
print(format, ntrks, ppq)
local p, tick = 23, 0
local function vlq() local v = 0 repeat local b = d:byte(p); p = p + 1; v = (v << 7) | (b & 127) until b < 128 return v end
while p <= #d do
  tick = tick + vlq()
  assert(d:byte(p) == 0xFF); local kind = d:byte(p + 1); p = p + 2
  local n = vlq(); local data = d:sub(p, p + n - 1); p = p + n
  if kind == 0x51 then print("tempo", tick, (data:byte(1) << 16) | (data:byte(2) << 8) | data:byte(3)) end
  if kind == 0x06 then print("marker", tick, data) end
end
T
lua5.4 mid.lua pkg/tempo_markers.mid > mid.txt || fail "MIDI file unreadable"
printf '1\t1\t960\ntempo\t0\t500000\nmarker\t0\tIntro\nmarker\t3840\tVerse\nmarker\t9600\tBreak, short\ntempo\t11520\t600000\nmarker\t11520\tChorus\n' > want.txt
diff -u want.txt mid.txt || fail "MIDI events"

# DAWproject, through reel.zip.
cat > dp.lua <<'T'
local zip = require "reel.zip"
for _, e in ipairs(assert(zip.list(arg[1]))) do print(e.name) end
io.write(assert(zip.read(arg[1], "project.xml")))
T
run 0 "$REEL" run dp.lua pkg/song.dawproject
[ "$(head -2 out.txt | tr '\n' ' ')" = "project.xml metadata.xml " ] || fail "dawproject entries"
contains out.txt '<Track id="track1" name="Vox" contentType="audio" loaded="true">'
contains out.txt '<Clip name="Vox T1" time="2.00000000000000" duration="4.00000000000000" contentTimeUnit="seconds" playStart="0.00000000000000">'
contains out.txt '<File path="audio/Vox_T01.wav" external="true"/>'
contains out.txt '<Marker name="Break, short" time="5.00000000000000"/>'
contains out.txt '<RealPoint time="6.00000000000000" value="100" interpolation="hold"/>'

# A variant: its sections from bar 1, items are the stems.
run 0 "$REEL" export song --to short --variant short
contains out.txt "Exported song (variant short) to short"
contains out.txt "  211200 samples at 48000 Hz (4.400 s), 2 tracks: Vox, Bass"
[ "$(awk -F, 'NR == 3 { print $1, $3, $5, $6 }' short/sections.csv | tr -d '\r')" = "Chorus 2 96000 115200" ] ||
    fail "variant sections.csv: $(cat short/sections.csv)"
contains short/song.RPP 'FILE "stems/Vox.wav"'
[ "$(frames short/mix.wav)" = 211200 ] || fail "variant mix frames"

# A take begun in a pre-roll (here: the Bass take moved to start 4800
# frames before 1:1): audio/ gets it trimmed to 1:1, time reference 0, the
# same 24-bit samples from frame 4800 on (sox); its item starts at 0 in the
# trimmed file; takes.csv keeps the session's start and says the trim.
cp -a song pre
cat > shift.lua <<'T'
local s = assert(require("reel").open(arg[1]))
for _, t in ipairs(s.takes) do if t.track == "Bass" then t.start = -4800 end end
assert(s:save())
T
run 0 "$REEL" run shift.lua pre
(cd pre && find . -type f | sort | xargs sha256sum) > pre_before.txt
run 0 "$REEL" export pre --to prepkg
contains out.txt "  audio: 2 take files (1 copied, 0 converted to BWF WAV, 1 trimmed to 1:1)"
[ "$(frames prepkg/audio/Bass_T01.wav)" = 398400 ] || fail "trimmed Bass frames $(frames prepkg/audio/Bass_T01.wav)"
[ "$(soxi -b prepkg/audio/Bass_T01.wav)" = 24 ] || fail "trimmed Bass bits"
sox pre/audio/Bass_T01.wav -t raw bass_src.raw trim 4800s
sox prepkg/audio/Bass_T01.wav -t raw bass_pkg.raw
cmp -s bass_src.raw bass_pkg.raw || fail "trimmed Bass samples"
cmp -s pre/audio/Vox_T01.wav prepkg/audio/Vox_T01.wav || fail "Vox take not a byte copy"
run 0 "$REEL" run bext.lua prepkg/audio/Bass_T01.wav prepkg/audio/Vox_T01.wav
printf 'prepkg/audio/Bass_T01.wav\t0\nprepkg/audio/Vox_T01.wav\t96000\n' > want.txt
diff -u want.txt out.txt || fail "bext time references of the pre-roll package"
awk '/^    NAME "Bass"/ { b = 1 } b && /POSITION|LENGTH|SOFFS|FILE/ { print $1, $2 }' prepkg/song.RPP > items.txt
printf 'POSITION 0.00000000000000\nLENGTH 8.30000000000000\nSOFFS 0.00000000000000\nFILE "audio/Bass_T01.wav"\n' > want.txt
diff -u want.txt items.txt || fail "RPP item of the trimmed Bass take"
[ "$(sed -n 3p prepkg/takes.csv)" = "$(printf 'Bass,1,audio/Bass_T01.wav,-4800,0:4.8,403200,selected,,4800\r')" ] ||
    fail "takes.csv: $(cat prepkg/takes.csv)"
contains prepkg/README.txt "Takes begun in a pre-roll (before 1:1) are trimmed to 1:1 in audio/, time"
(cd pre && find . -type f | sort | xargs sha256sum) > pre_after.txt
diff -u pre_before.txt pre_after.txt || fail "the pre-roll session changed"

# Errors, word for word; nothing is written.
run 1 "$REEL" export song --to pkg
[ "$(cat err.txt)" = "reel export: pkg: folder is not empty; export writes into a new or empty folder (force replaces files in it)" ] ||
    fail "non-empty target: $(cat err.txt)"
run 0 "$REEL" export song --to pkg --force
contains out.txt "  14 files:"
contains pkg/README.txt "are crossfaded, equal power, over 10 ms centred on the switch (less where a"
run 0 "$REEL" export song --to pkg --force --comp-crossfade 0
contains pkg/README.txt "are hard cuts, in the stems, the mix and the projects alike."
run 0 "$REEL" export song --to pkg --force --comp-crossfade 2.5
contains pkg/README.txt "are crossfaded, equal power, over 2.5 ms centred on the switch (less where a"
run 2 "$REEL" export song --to other --comp-crossfade 1001
[ "$(head -1 err.txt)" = "reel export: --comp-crossfade: milliseconds from 0 to 1000 expected, got '1001'" ] ||
    fail "bad --comp-crossfade: $(cat err.txt)"
run 2 "$REEL" export song --to other --comp-crossfade soft
contains err.txt "reel export: --comp-crossfade: milliseconds from 0 to 1000 expected, got 'soft'"
[ ! -e other ] || fail "other was created"
run 1 "$REEL" export song --to other --variant radio
[ "$(cat err.txt)" = "reel export: no variant 'radio' (variants: short)" ] || fail "unknown variant: $(cat err.txt)"
[ ! -e other ] || fail "other was created"
run 1 "$REEL" export song --to song/handoff
[ "$(cat err.txt)" = "reel export: song/handoff: is inside the session folder song; export writes only outside it" ] ||
    fail "inside the session: $(cat err.txt)"
cp -a song broken
rm broken/audio/Bass_T01.wav
run 1 "$REEL" export broken --to other
[ "$(cat err.txt)" = "reel export: broken/audio/Bass_T01.wav: missing take file (track 'Bass', take 1)" ] ||
    fail "missing take: $(cat err.txt)"
[ ! -e other ] || fail "other was created"
run 1 "$REEL" export nosuch --to other
[ "$(cat err.txt)" = "reel export: nosuch: no such folder" ] || fail "no session: $(cat err.txt)"
run 2 "$REEL" export song
contains err.txt "reel export: missing --to FOLDER (where the package goes)"
run 2 "$REEL" export --to x
contains err.txt "reel export: missing DIR (the session folder)"
run 2 "$REEL" export song --to x --bogus
contains err.txt "reel export: unknown option '--bogus'"
snapshot > after.txt
diff -u before.txt after.txt || fail "the session changed"
echo "ok"
