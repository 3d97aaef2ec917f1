# Scheduled start and stop: `reel record --start-at T --stop-at T` waits
# with a message, starts no earlier than the start time, stops near the stop
# time; Ctrl-C while waiting exits cleanly without a take; times are checked
# before any waiting. The Lua side: reel.schedule's parse and schedule{}.
. "$(dirname "$0")/lib.sh"

# A start 3 s ahead (whole second, HH:MM:SS) and a stop 2 s later (ISO form).
now=$(date +%s)
start=$((now + 3))
stop=$((start + 2))
S=$(date -d "@$start" +%H:%M:%S)
E=$(date -d "@$stop" +%Y-%m-%dT%H:%M:%S)
run 0 "$REEL" record --device virtual --input sine:440 --start-at "$S" --stop-at "$E" \
    --status - sess
after=$(date +%s.%N)
contains out.txt "Waiting until $(date -d "@$start" '+%Y-%m-%d %H:%M:%S') to record (in 00:00:0"
contains out.txt "until $(date -d "@$stop" '+%Y-%m-%d %H:%M:%S')"
contains out.txt " (--stop-at)"
contains out.txt " stopped elapsed=00:00:0"
contains out.txt "reason=stop-at"
# The take began no earlier than the start: the first status line (written
# once frames arrived) and the reported start are not before it ...
first=$(grep ' started ' out.txt | cut -d' ' -f1)
[ "$(date -d "$first" +%s)" -ge "$start" ] || fail "take started at $first, before $S"
began=$(sed -n 's/^Started //p' out.txt)
lt "$(date -d "$began" +%s.%N)" "$start" && fail "take started at $began, before $S"
# ... and it ended near the stop: the wall clock, the report and the length.
ended=$(date -d "$(sed -n 's/^Stopped \(.*\) (--stop-at)$/\1/p' out.txt)" +%s.%N)
lt "$ended" "$stop" && fail "stopped at $ended, before $stop"
lt "$ended" "$((stop + 1))" || fail "stopped at $ended, long after $stop"
lt "$after" "$stop" && fail "reel record exited before the stop time"
n=$(frames sess/audio/In1_T01.wav)
# 2 s: less the device start, plus the stop latency (polling every 50 ms)
[ "$n" -ge 86400 ] && [ "$n" -le 105600 ] || fail "take has $n frames, expected about 96000"
[ "$(json_get sess/session.json 'j.takes[1].frames')" = "$n" ] || fail "session frames"

# Ctrl-C while waiting: exit 0, a message, no take.
"$REEL" record --device virtual --input sine:440 --start-at "$(date -d '+1 hour' +%H:%M)" \
    wait >out.txt 2>err.txt &
pid=$!
for _ in $(seq 100); do grep -q Waiting out.txt 2>/dev/null && break; sleep 0.05; done
sleep 0.3
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { cat out.txt err.txt >&2; fail "Ctrl-C while waiting: exit status $status"; }
contains out.txt "Cancelled while waiting for "
contains out.txt "nothing was recorded"
[ -z "$(ls wait/audio)" ] || fail "a take was made: $(ls wait/audio)"

# --stop-at alone, with --seconds: whichever comes first (here --seconds).
run 0 "$REEL" record --device virtual:freewheel --input sine:440 --seconds 1 \
    --stop-at "$(date -d '+1 hour' +%H:%M:%S)" sess
[ "$(frames sess/audio/In1_T02.wav)" = 48000 ] || fail "--seconds with --stop-at"

# Mistakes show at once, as command-line errors.
run 2 "$REEL" record --device virtual --input sine:440 --start-at 25:00 sess
contains err.txt "option '--start-at': '25:00' is not a time: hour 25 is past 23"
run 2 "$REEL" record --device virtual --input sine:440 --start-at tomorrow sess
contains err.txt "option '--start-at': 'tomorrow' is not a time (expected \"HH:MM[:SS]\""
run 2 "$REEL" record --device virtual --input sine:440 --stop-at 2025-02-30T10:00 sess
contains err.txt "2025-02 has no day 30"
run 2 "$REEL" record --device virtual --input sine:440 --stop-at 2001-01-01T00:00:00Z sess
contains err.txt "option '--stop-at': 2001-01-01"
contains err.txt "is not after the start (now)"
run 2 "$REEL" record --device virtual --input sine:440 \
    --start-at "$(date -d '+2 hour' +%Y-%m-%dT%H:%M)" \
    --stop-at "$(date -d '+1 hour' +%Y-%m-%dT%H:%M)" sess
contains err.txt "is not after the start ("

# The Lua module.
cat > sched.lua <<'LUA'
local reel = require "reel"
local schedule = require "reel.schedule"
local p = schedule.parse
-- HH:MM[:SS]: the next such local time strictly after the reference
local ref = os.time{ year = 2030, month = 6, day = 15, hour = 12, min = 0, sec = 0 }
assert(p("13:30", ref) == ref + 5400)
assert(p("12:00:01", ref) == ref + 1)
assert(p("12:00", ref) == os.time{ year = 2030, month = 6, day = 16, hour = 12, min = 0, sec = 0 })
assert(p("06:00", ref) == os.time{ year = 2030, month = 6, day = 16, hour = 6, min = 0, sec = 0 })
-- dates: local, UTC, offsets
assert(p("2030-06-15 13:00") == ref + 3600)
assert(p("2030-06-15T13:00:05") == ref + 3605)
assert(p("2025-01-01T00:00:00Z") == 1735689600)
assert(p("2025-01-01T01:00:00+01:00") == 1735689600)
assert(p("2024-12-31T19:00:00-0500") == 1735689600)
assert(p("2024-02-29T00:00Z") == 1709164800)
assert(p(12345) == 12345)
for _, bad in ipairs{ "24:00", "12:60", "1200", "2025-13-01T00:00", "2023-02-29T00:00",
                      "2025-01-01", "2025-01-01T00:00+1", "noon" } do
  local t, err = p(bad)
  assert(t == nil and err:find(bad, 1, true), bad)
end
assert(not pcall(p, {}))
assert(schedule.duration(3725.9) == "01:02:05")
assert(schedule.duration(100 * 3600) == "100:00:00")
-- schedule{}: waits for start_at, hands run a progress that stops at stop_at
local t0 = schedule.now()
local start = math.ceil(t0) + 1
local ticks = 0
local takes = assert(schedule{
  start_at = start, stop_at = start + 1,
  tick = function(left) ticks = ticks + 1 assert(left > 0 and left <= 2) end,
  run = function(when)
    assert(schedule.now() >= start, "run before start_at")
    assert(when.start_at == start and when.stop_at == start + 1)
    assert(when.remaining() > 0.5 and not when.due())
    local s = assert(reel.session(arg[1]))
    s:track{ name = "Room", input = 1 }
    return s:record{ device = reel.device{ spec = "virtual", inputs = { "sine:440" } },
                     progress = when.progress }
  end,
})
assert(ticks >= 1)
local n = takes[1].frames
assert(n >= 40000 and n <= 52800, "take of " .. n .. " frames, expected about 48000")
assert(schedule.now() >= start + 1, "stopped before stop_at")
-- misuse raises, naming the option
local ok, err = pcall(schedule, { start_at = "13:00", run = 1 })
assert(not ok and err:find("bad option 'run'"), err)
ok, err = pcall(schedule, { start_at = "xx", run = print })
assert(not ok and err:find("bad option 'start_at'"), err)
ok, err = pcall(schedule, { stop_at = "2001-01-01T00:00Z", run = print })
assert(not ok and err:find("is not after the start"), err)
ok, err = pcall(schedule, { when = 1, run = print })
assert(not ok and err:find("unknown option 'when'"), err)
print("lua ok")
LUA
run 0 "$REEL" run sched.lua lua
contains out.txt "lua ok"
echo ok
