# The session lock (DIR/.reel.lock, an flock held by the process that writes
# a session): while one `reel record` records into a session, every other
# reel process that would write it (reel record, reel take, reel loudness,
# reel recover, a script's s:save() and s:record{}) is refused with exit
# status 1 (nil and the message from Lua) naming the holder's pid, and
# writes nothing; reading it (reel info, render, report, export) works
# meanwhile. Afterwards the writers work again, and nothing the holder
# recorded is lost. A holder killed with SIGKILL holds nothing: `reel
# recover` takes the lock at once.
. "$(dirname "$0")/lib.sh"

FW="--device virtual:freewheel --input sine:440:-6"
holder=
# A failed check leaves no recording behind.
trap '[ -z "$holder" ] || kill -KILL "$holder" 2>/dev/null; rm -rf "$T"' EXIT
# The refusal, word for word, for holder pid $1 (an extended regex; the
# time is the holder's start).
refusal() {
    echo "^$2song: the session is in use by another reel process \\(pid $1, $3, since [0-9]{2}:[0-9]{2}:[0-9]{2}\\); not writing to it\$"
}
# matches FILE REGEX: some line of FILE matches the extended regex.
matches() {
    if ! grep -qE -- "$2" "$1"; then
        echo "--- $1:" >&2; cat "$1" >&2
        fail "$1 does not match '$2'"
    fi
}

# A session with one selected take whose loudness is not measured yet.
cat > setup.lua <<'L'
local reel = require "reel"
local s = assert(reel.session("song"))
s:track{ name = "In1", input = 1 }
assert(s:record{ seconds = 0.5, loudness = false, meter = false,
                 device = reel.device{ spec = "virtual:freewheel", inputs = { "sine:220:-6" } } })
s:select("In1", 1)
assert(s:save())
L
run 0 "$REEL" run setup.lua
[ -f song/.reel.lock ] || fail "no song/.reel.lock after a save"

# ---- a recording holds the session ----------------------------------------
# Real time, until SIGTERM once the checks are done (however slow the build
# is, they all run while it records; 60 s caps it).
"$REEL" record --device virtual --input sine:440:-6 --seconds 60 song >bg.txt 2>bg_err.txt &
holder=$!
for _ in $(seq 500); do
    [ -f song/audio/In1_T02.wav ] && break
    sleep 0.02
done
[ -f song/audio/In1_T02.wav ] || { kill -KILL $holder; cat bg.txt bg_err.txt >&2; fail "the holder did not start"; }
cp song/session.json before.json
ls song/audio > audio_before.txt
contains song/.reel.lock "pid=$holder"
contains song/.reel.lock "command=reel record"

run 1 "$REEL" record $FW --seconds 1 song
matches err.txt "$(refusal $holder 'reel record: ' 'reel record')"
[ "$(wc -l < err.txt)" = 1 ] || fail "more than the refusal on stderr: $(cat err.txt)"
[ ! -s out.txt ] || fail "reel record printed before refusing: $(cat out.txt)"

run 1 "$REEL" take song --track In1 --from 0 --to 1s $FW
matches err.txt "$(refusal $holder 'reel take: ' 'reel record')"
[ ! -s out.txt ] || fail "reel take printed before refusing: $(cat out.txt)"

run 1 "$REEL" loudness song
matches err.txt "$(refusal $holder 'reel loudness: ' 'reel record')"
lacks out.txt "measured now"

run 1 "$REEL" recover song
matches err.txt "$(refusal $holder 'reel recover: ' 'reel record')"

# From Lua: s:save() and s:record{} return nil and the message; the misuse
# of lock still raises.
cat > writer.lua <<'L'
local reel = require "reel"
local session = require "reel.session"
local holder = arg[1]
local want = "^song: the session is in use by another reel process %(pid " .. holder
  .. ", reel record, since %d%d:%d%d:%d%d%); not writing to it$"
local s = assert(reel.open("song"))
local ok, err = s:save()
assert(ok == nil and err:find(want), tostring(err))
assert(not s:locked())
local takes, rerr = s:record{ seconds = 0.2, meter = false,
                              device = reel.device{ spec = "virtual:freewheel", inputs = { "silence" } } }
assert(takes == nil and rerr:find(want), tostring(rerr))
takes, rerr = s:record{ tracks = { "In1" }, from = 0, to = "0.2s", meter = false,
                        device = reel.device{ spec = "virtual:freewheel", inputs = { "silence" } } }
assert(takes == nil and rerr:find(want), tostring(rerr))
local r, rterr = s:routine{ track = "In1", section = { 0, "1s" }, passes = 1,
                            device = reel.device{ spec = "virtual:freewheel", inputs = { "silence" } } }
assert(r == nil and rterr:find(want), tostring(rterr))
local lock, lerr = session.lock("song")
assert(lock == nil and lerr:find(want), tostring(lerr))
local e = select(2, pcall(session.lock, 42))
assert(e:find("bad argument #1 to 'lock' (folder path expected, got number)", 1, true), e)
print("refused")
L
run 0 "$REEL" run writer.lua "$holder"
contains out.txt "refused"

# Nothing new in audio/, session.json and the journal untouched by them.
ls song/audio > audio_during.txt
cmp -s audio_before.txt audio_during.txt || fail "audio/ changed: $(cat audio_during.txt)"
cmp -s before.json song/session.json || fail "session.json was written while locked"
[ "$(json_get song/journal.json '#j.recordings')" = 1 ] || fail "a refused recording was journalled"

# Readers work meanwhile.
run 0 "$REEL" info song
contains out.txt "In1"
run 0 "$REEL" render song --out other.wav
[ "$(frames other.wav)" = 24000 ] || fail "other.wav holds $(frames other.wav) frames"
cmp -s before.json song/session.json || fail "render wrote session.json"
run 0 "$REEL" report song --out report.html --no-mix --no-measure
contains report.html "In1"
run 0 "$REEL" export song --to pkg
[ ! -e pkg/.reel.lock ] || fail "export copied the lock file"
find pkg -name '.reel.lock' | grep -q . && fail "export copied a lock file"

kill -0 $holder 2>/dev/null || fail "the holder ended before the checks did: they proved nothing"
kill -TERM $holder
status=0
wait $holder || status=$?
holder=
[ "$status" = 0 ] || { cat bg.txt bg_err.txt >&2; fail "the holder exited with $status"; }
contains bg.txt "Stopped by signal"

# ---- afterwards -------------------------------------------------------------
# The holder's take is in session.json; loudness measures the older take.
[ "$(json_get song/session.json '#j.takes')" = 2 ] || fail "the holder's take is not in session.json"
n=$(frames song/audio/In1_T02.wav)
[ "$n" -gt 0 ] && [ "$(json_get song/session.json 'j.takes[2].frames')" = "$n" ] ||
    fail "take 2: $n frames in the file, $(json_get song/session.json 'j.takes[2].frames') listed"
run 0 "$REEL" loudness song
contains out.txt "song  (2 takes, 1 measured now)"
[ "$(json_get song/session.json 'j.takes[1].loudness.integrated < -6')" = true ] ||
    fail "take 1's loudness was not stored"

# ---- SIGKILL: no stale lock -------------------------------------------------
"$REEL" record --device virtual --input sine:440:-6 song >bg.txt 2>bg_err.txt &
holder=$!
for _ in $(seq 500); do
    [ -f song/audio/In1_T03.wav ] && break
    sleep 0.02
done
[ -f song/audio/In1_T03.wav ] || { kill -KILL $holder; fail "the second holder did not start"; }
sleep 0.6
run 1 "$REEL" recover song
matches err.txt "$(refusal $holder 'reel recover: ' 'reel record')"
kill -KILL $holder
wait $holder 2>/dev/null || true
holder=
run 0 "$REEL" recover song
contains out.txt "recovered In1 take 3 (audio/In1_T03.wav)"
contains song/.reel.lock "pid="   # left in place, holding nothing
run 0 "$REEL" record $FW --seconds 0.25 song
[ "$(frames song/audio/In1_T04.wav)" = 12000 ] || fail "no take 4 after the recovery"

# ---- one script, two Sessions, and a child process ---------------------------
cat > two.lua <<'L'
local reel = require "reel"
local reel_cmd = arg[1]
local function child(what)
  local ok = os.execute(("'%s' record --device virtual:freewheel --input silence --seconds 0.1 song"
    .. " >child.txt 2>child_err.txt"):format(reel_cmd))
  local f = assert(io.open("child_err.txt")); local err = f:read("a"); f:close()
  print(what, ok and "recorded" or "refused", (err:gsub("\n$", "")))
end
print("pid", require("reel.sys").pid())
local a = assert(reel.open("song"))
local b = assert(reel.open("./song"))        -- the same folder, spelt otherwise
a:set_mix("In1", { gain_db = -3 })
assert(a:save())
b:set_mix("In1", { pan = 0.5 })
assert(b:save())                              -- no deadlock, no refusal; b's copy wins
assert(a:locked() and b:locked())
child("both")
a:close()
a:close()                                     -- harmless
assert(not a:locked() and b:locked())
child("b")
b:close()
child("none")
do
  local c <close> = assert(reel.open("song"))
  assert(c:save())
  child("close-scoped")
end
child("closed")
local d = assert(reel.open("song"))
assert(d:save())
child("held")
d = nil
collectgarbage()
collectgarbage()
child("collected")
L
run 0 "$REEL" run two.lua "$REEL"
me="$(awk '$1 == "pid" { print $2 }' out.txt), reel run two.lua"
matches out.txt "^both	refused	reel record: song: the session is in use by another reel process \\(pid $me, since [0-9:]{8}\\); not writing to it\$"
matches out.txt "^b	refused	reel record: song: the session is in use by another reel process \\(pid $me, since"
matches out.txt "^none	recorded	$"
matches out.txt "^close-scoped	refused	reel record: song: the session is in use"
matches out.txt "^closed	recorded	$"
matches out.txt "^held	refused	reel record: song: the session is in use"
matches out.txt "^collected	recorded	$"
[ "$(json_get song/session.json 'j.tracks[1].pan')" = 0.5 ] || fail "b's save is not in session.json"
# The Sessions share the lock, not their contents: the last save wins, as
# for one Session saved twice (b never saw a's gain).
[ "$(json_get song/session.json 'j.tracks[1].gain_db')" = 0 ] || fail "b's save did not win"
# The children's takes, 5 to 7, all in session.json.
[ "$(json_get song/session.json '#j.takes')" = 7 ] || fail "$(json_get song/session.json '#j.takes') takes listed"
echo "ok"
