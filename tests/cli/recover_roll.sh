# `reel recover` after a loop roll (`reel take --loop --passes 5`) killed
# with SIGKILL during its second or third pass: every pass file on disk is
# registered (pass, take number, section, the file's frames). A take recorded
# before recovering gets the numbers after the killed roll's files, and the
# killed roll stays journalled. Also: nothing to recover, found files,
# unreadable files, not a session.
. "$(dirname "$0")/lib.sh"

# 240 bpm 4/4: a bar is one second (48000 samples); Loop is bar 2.
cat > mk.lua <<'T'
assert(require("reel").new(arg[1], {
  tempo = 240, meter = "4/4",
  tracks = { { name = "Vox", input = 1 }, { name = "Gtr", input = 2 } },
  sections = { { "Intro", 1 }, { "Loop", 1 }, { "Outro", 1 } },
}))
T
run 0 "$REEL" run mk.lua song
run 0 "$REEL" recover song
contains out.txt "song: nothing to recover"

# kill_roll: starts a 5-pass roll on the real-time device, kills it 1.2..2.7 s
# into its first pass (so during pass 2 or 3), checks the journal is there.
kill_roll() {
    local first=$1
    "$REEL" take song --track Vox --track Gtr --loop Loop --passes 5 \
        --device virtual --input sine:440:-6 --input noise:white:-20 >roll.txt 2>&1 &
    local pid=$!
    for _ in $(seq 200); do
        [ -f "song/audio/Vox_T$first.wav" ] && break
        sleep 0.02
    done
    [ -f "song/audio/Vox_T$first.wav" ] || { kill -KILL "$pid"; cat roll.txt >&2; fail "the roll did not start"; }
    sleep "$(awk -v r=$((RANDOM % 1501)) 'BEGIN { printf "%.3f", 1.2 + r / 1000 }')"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    [ -f song/journal.json ] || fail "no journal after killing the roll"
    json_get song/session.json 'j.reel_session' >/dev/null || fail "session.json is not whole"
}

# check_passes FIRST COUNT: takes FIRST.. of Vox and Gtr are registered as
# passes 0.. of the Loop, each with the frames its file holds; all but the
# last are whole passes.
check_passes() {
    lua5.4 - song "$1" "$2" <<'L' || fail "passes $1.. as registered"
local cjson = require "cjson"
local dir, first, count = arg[1], tonumber(arg[2]), tonumber(arg[3])
local f = assert(io.open(dir .. "/session.json")); local j = cjson.decode(f:read("a")); f:close()
local function frames(file)
  local p = assert(io.popen("soxi -s " .. dir .. "/" .. file)); local n = tonumber(p:read("l")); p:close()
  return n
end
for _, track in ipairs{ "Vox", "Gtr" } do
  for k = 0, count - 1 do
    local n, hit = first + k, nil
    for _, t in ipairs(j.takes) do
      if t.track == track and t.take == n then assert(not hit, "twice: " .. n) hit = t end
    end
    assert(hit, ("%s take %d not registered"):format(track, n))
    local file = ("audio/%s_T%02d.wav"):format(track, n)
    assert(hit.file == file, hit.file)
    assert(hit.pass == k, ("%s T%d: pass %s, expected %d"):format(track, n, hit.pass, k))
    assert(hit.section == "Loop" and hit.start == 48000 and hit.status == "kept", "section/start/status")
    assert(hit.note:find("^recovered after an interrupted recording %(journal of "), hit.note)
    assert(hit.frames == frames(file), ("%s: %d frames registered, file has %d"):format(file, hit.frames, frames(file)))
    if k < count - 1 then assert(hit.frames == 48000, file .. " is not a whole pass: " .. hit.frames) end
  end
end
L
}

kill_roll 01
ls song/audio/Vox_T*.wav >vox.txt
passes=$(wc -l <vox.txt)
[ "$passes" -ge 2 ] && [ "$passes" -le 3 ] || fail "$passes passes on disk after the kill"
[ "$(ls song/audio/Gtr_T*.wav | wc -l)" = "$passes" ] || fail "Gtr has other passes than Vox"
run 0 "$REEL" recover song
contains out.txt "$((2 * passes)) takes recovered"
contains out.txt "recovered Vox take 1 (audio/Vox_T01.wav): 48000 frames"
[ ! -e song/journal.json ] || fail "journal left after recover"
check_passes 1 "$passes"
run 0 "$REEL" recover song
contains out.txt "nothing to recover"

# Killed again; a take recorded before recovering does not reuse the killed
# roll's numbers, and recovering later still finds the killed roll's passes.
first=$((passes + 1))
kill_roll "$(printf '%02d' "$first")"
passes2=$(ls song/audio/Vox_T*.wav | wc -l)
passes2=$((passes2 - passes))
next=$((first + passes2))
run 0 "$REEL" take song --track Vox --punch Outro --device virtual:freewheel --input sine:440
contains out.txt "$(printf 'song/audio/Vox_T%02d.wav' "$next")"
[ -f song/journal.json ] || fail "the killed roll's journal entry went with the next take"
[ "$(json_get song/journal.json '#j.recordings')" = 1 ] || fail "journal: $(cat song/journal.json)"
run 0 "$REEL" recover song
contains out.txt "$((2 * passes2)) takes recovered"
check_passes "$first" "$passes2"
[ ! -e song/journal.json ] || fail "journal left after recover"

# Found files: a take file with no session entry is registered (start 0);
# one libsndfile cannot open is reported, not registered, exit 1.
cp song/audio/Vox_T01.wav song/audio/Gtr_T40.wav
echo "not audio" >song/audio/Gtr_T41.wav
cp song/audio/Gtr_T41.wav before.txt
run 1 "$REEL" recover song
contains out.txt "recovered Gtr take 40 (audio/Gtr_T40.wav): 48000 frames, 1.000 s, found in audio/"
contains out.txt "1 take recovered into song/session.json, 1 file could not be opened"
contains err.txt "audio/Gtr_T41.wav (Gtr take 41) cannot be opened, not registered:"
cmp -s before.txt song/audio/Gtr_T41.wav || fail "recover changed an audio file"
[ "$(json_get song/session.json "(function() for _, t in ipairs(j.takes) do
    if t.take == 40 then return t.note .. '|' .. math.tointeger(t.start) end end end)()")" = \
    "found in audio/ without a session entry|0" ] || fail "found take as registered"
[ "$(json_get song/session.json "(function() for _, t in ipairs(j.takes) do
    if t.take == 41 then return 'yes' end end return 'no' end)()")" = no ] || fail "unreadable file registered"
rm song/audio/Gtr_T41.wav
run 0 "$REEL" recover song
contains out.txt "song: nothing to recover"
run 0 "$REEL" info song

# Not a session; command line.
mkdir plain
run 1 "$REEL" recover plain
contains err.txt "reel recover: plain is not a reel session (it has no session.json and no journal.json)"
run 1 "$REEL" recover nowhere
contains err.txt "reel recover: nowhere: no such folder"
run 2 "$REEL" recover
contains err.txt "missing DIR"
run 2 "$REEL" recover song song
run 2 "$REEL" recover --bogus song
echo "ok: $passes + $passes2 passes recovered"
