-- jack_overdub.lua: an overdub through a real JACK server lands on the
-- original sample for sample after latency compensation.
--
-- reel's output 1 is connected to its own input 1 (a loopback cable in
-- software). A noise file plays from the timeline as the "original"; a first
-- roll without compensation measures the round trip by finding where the
-- original's samples reappear; a second roll with that latency set records
-- the overdub, which must equal the original bit for bit. Xruns on a busy
-- machine are tolerated only where the engine reports them.
local core = require "reel.core"
local dir = assert(arg[1], "usage: jack_overdub.lua DIR")
local client = "reel_ovd"

local function check(v, msg, ...) if not v then error(msg:format(...), 2) end return v end

local rec = assert(core.open_recorder{ device = "jack", channels = 1, outputs = 1,
                                      name = client, no_connect = true, format = "wav32f" })
local info = rec:info()
print(("jack: %d Hz, period %d, reported latency in %d out %d"):format(info.rate,
      info.period, info.input_latency, info.output_latency))
assert(rec:add_track("Dub", { 1 }))
assert(rec:arm("Dub", true))
assert(rec:add_source(dir .. "/orig.wav", 0, 0, -1))
assert(rec:start_device())
check(os.execute(("jack_connect '%s:outport 0' '%s:inport 0'"):format(client, client)),
      "jack_connect failed")

-- Records take n of [from, to) with the given latency compensation.
local function roll(n, latency, from, to)
  assert(rec:set_latency(latency))
  assert(rec:roll{ from = 0, record = true, punch_in = from, punch_out = to, autostop = to + 4800,
                   takes = { Dub = { dir .. "/Dub_T", n } } })
  local deadline = core.now() + 30
  while true do
    for _, ev in ipairs(rec:poll()) do
      if ev.type == "record_done" then
        assert(rec:finish_roll())
        return rec:takes("Dub")[1]
      end
    end
    check(core.now() < deadline, "roll %d did not finish", n)
    core.sleep(0.01)
  end
end

local rate = info.rate
local orig = assert(core.read_frames(dir .. "/orig.wav", 0, 2 * rate))

-- 1. Measure: where does original frame 12000 reappear in an uncompensated take?
local t1 = roll(1, 0, 0, rate)
local got = assert(core.read_frames(t1.path, 0, t1.frames))
local lat
for i = 12001, #got - 2 do
  if got[i] == orig[12001] and got[i + 1] == orig[12002] and got[i + 2] == orig[12003] then
    lat = i - 12001
    break
  end
end
check(lat, "the original was not found in the loopback take")
print(("measured round trip: %d frames (%d periods)"):format(lat, lat // info.period))
check(lat > 0 and lat % info.period == 0, "round trip %d is not a whole number of periods", lat)

-- 2. The overdub, compensated by the measured round trip.
local t2 = roll(2, lat, 24000, 24000 + rate)
check(t2.start == 24000 and t2.frames == rate, "take 2 is %d frames at %d", t2.frames, t2.start)
local dub = assert(core.read_frames(t2.path, 0, t2.frames))
-- Frames near a reported xrun may differ; everything else must match.
local near = {}
for _, x in ipairs(t2.xrun_positions) do near[#near + 1] = x end
local function excused(i)
  for _, x in ipairs(near) do if i >= x - 2 * info.period and i < x + 2 * info.period then return true end end
  return false
end
local same, differ, excused_n = 0, 0, 0
for i = 1, #dub do
  if dub[i] == orig[24000 + i] then same = same + 1
  elseif excused(i - 1) then excused_n = excused_n + 1
  else differ = differ + 1 end
end
print(("overdub: %d frames identical, %d differ, %d excused by %d xruns"):format(same, differ,
      excused_n, #near))
check(differ == 0, "%d frames of the overdub differ from the original", differ)
check(same >= 0.9 * rate, "only %d frames compared", same)
rec:close()
print("ok")
