# Take routines against device and disk faults, on the virtual device at
# real time: a stalled disk writer (REEL_FAULT_WRITER_STALL, fault-injection
# builds) overruns a 1 s ring, and a stopped process (SIGSTOP) makes the
# device's clock fall behind, an xrun. The policy rejects exactly those
# takes, with the problem in the note, and the routine retries.
# "Verse" is one bar: 2 s at 120 bpm (96000 samples) for the overrun, which
# needs a take longer than the stall's start plus the ring (1.37 s); 1 s at
# 240 bpm (48000) for the xrun.
. "$(dirname "$0")/lib.sh"

cat > routine.lua <<'T'
local reel = require "reel"
local dir, reject, retries, bpm = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
local s = reel.open(dir) or assert(reel.new(dir, { tempo = bpm, format = "wav32f",
  tracks = { { name = "Vox", input = 1 } }, sections = { { "Verse", 1 }, { "Chorus", 1 } } }))
local r, err, partial = s:routine{ track = "Vox", section = "Verse", passes = 1,
  retries = retries, count_in = 0, policy = { reject = { reject } },
  device = reel.device{ spec = "virtual", inputs = { "sine:440:-6" }, ring_seconds = 1 } }
for _, t in ipairs((r or partial).takes) do
  print(("take %d %s %d %s"):format(t.take, t.status, t.frames, t.note or "-"))
end
if not r then print("routine: " .. err) end
T

j() { json_get "$1/session.json" "$2"; }

# 1. An overrun (the stall is armed again at every roll, so no retry could
# help: none allowed): the take is rejected and the routine gives up with a
# message; the take stays in session.json with its gap.
REEL_FAULT_WRITER_STALL=100:1800 run 0 "$REEL" run routine.lua over overruns 0 120
contains out.txt "routine: Vox, Verse: 0 good takes of 1 wanted after 1 passes (1 planned + 0 retries)"
grep -qE "^take 1 rejected 96000 rejected by policy: [0-9]+ overruns?, [0-9]+ frames lost \(at [0-9.]+ s(, [0-9.]+ s)*(, \.\.\.)?\)$" out.txt ||
    { cat out.txt >&2; fail "take 1 was not rejected for its overrun"; }
# (one stall is usually one overrun; a loaded machine may split it in a few)
[ "$(j over 'j.takes[1].overruns')" -ge 1 ] || fail "overruns: $(j over 'j.takes[1].overruns')"
[ "$(j over 'j.takes[1].status')" = rejected ] || fail "status in session.json"
lost=$(j over 'j.takes[1].lost_frames')
[ "$lost" -gt 0 ] || fail "lost frames: $lost"
[ "$(frames over/audio/Vox_T01.wav)" = 96000 ] || fail "the take is not whole"

# 2. An xrun in the first roll: take 1 rejected, a retry kept. (Up to three
# retries: on a loaded machine a real-time roll may xrun by itself too.)
"$REEL" run routine.lua xr xruns 3 240 > out.txt 2> err.txt &
pid=$!
# once the first take's file exists the roll is under way (1 s long)
for _ in $(seq 200); do [ -e xr/audio/Vox_T01.wav ] && break; sleep 0.01; done
[ -e xr/audio/Vox_T01.wav ] || fail "the first roll never started"
sleep 0.2
kill -STOP "$pid"
sleep 0.2
kill -CONT "$pid"
wait "$pid" || { cat out.txt err.txt >&2; fail "the xrun routine failed"; }
grep -qE "^take 1 rejected 48000 rejected by policy: [0-9]+ xruns? \(at [0-9.]+ s" out.txt ||
    { cat out.txt >&2; fail "take 1 was not rejected for its xrun"; }
n=$(j xr '#j.takes')
tail -1 out.txt | grep -qE "^take $n kept 48000 -$" || { cat out.txt >&2; fail "the retry was not kept"; }
[ "$(j xr "j.takes[$n].xruns")" = 0 ] || fail "the kept retry has xruns"
[ "$(j xr "j.takes[$n].status")" = kept ] || fail "the kept retry's status"
lacks out.txt "routine:"
