--- overdub.lua: a tracking session you can copy: a guide take, an overdub
-- punched into a section against it, and loop passes with a pick of the
-- best, with events along the way.
--
--     reel run scripts/examples/overdub.lua [DIR]
--
-- It runs without sound hardware: the virtual device in freewheel stands in
-- for the rig. Its output 1 is wired back to input 1 with a round trip of
-- 1000 frames ("loopback"), which is what a cable from your interface's
-- output to its input would do. For real recording replace RIG with your
-- device, e.g. reel.device("jack") or reel.device{ spec = "alsa:USB" }, and
-- set the round trip you measured (or leave `latency` out to use what the
-- device reports).
local reel = require "reel"

local dir = arg and arg[1] or "overdub-session"
local ROUND_TRIP = 1000

-- The guide: a noise "guitar" on input 1.
local GUIDE = reel.device{ spec = "virtual:freewheel", inputs = { "noise:pink:-12" } }
-- The overdub rig: silence on input 1, except what output 1 plays.
local RIG = reel.device{ spec = "virtual:freewheel", inputs = { "silence" },
                         loopback = "1>1", loopback_latency = ROUND_TRIP }

-- A session folder with two tracks on input 1 and a song form.
local s = reel.open(dir)
if not s then
  s = assert(reel.new(dir, {
    tempo = 96, meter = "4/4",
    tracks = { { name = "Gtr", input = 1 }, { name = "Dub", input = 1 } },
    sections = { { "Intro", 2 }, { "Verse", 4 }, { "Chorus", 4 }, { "Verse", 4 }, { "Chorus", 4 } },
  }))
end
s.latency = { round_trip = ROUND_TRIP }   -- saved with the session

-- Events: printed as they come, on the script's thread.
local started <close> = reel.on("take_start", function(ev)
  print(("  > %s take %d (pass %d) at %s"):format(ev.track, ev.take, ev.pass + 1,
    s:tempo_map():format(ev.pos)))
end)
local problems <close> = reel.on("xrun", function(ev) print("  ! xrun at sample " .. ev.pos) end)

-- 1. The guide, over the whole song.
print("Guide:")
local guide = assert(s:record{ tracks = { "Gtr" }, from = "Intro", to = "Chorus 2", device = GUIDE,
                               meter = false })
s:select("Gtr", guide[1].take)                -- the selected take is what overdubs hear

-- 2. An overdub punched into the first chorus: one bar of pre-roll and a
--    bar of count-in with the click. The guide plays meanwhile (against =
--    "selected" is the default), and the take is aligned with it.
print("Overdub:")
local dub = assert(s:record{ tracks = { "Dub" }, punch = "Chorus 1", preroll = 1, count_in = 1,
                             click = "off", device = RIG, meter = false })[1]
-- Here the rig fed the guide itself back, so the overdub must equal the
-- guide over the chorus, sample for sample.
local core = reel.core
local a = assert(core.read_frames(dir .. "/" .. guide[1].file, dub.start, dub.frames))
local b = assert(core.read_frames(dir .. "/" .. dub.file, 0, dub.frames))
local same = 0
for i = 1, dub.frames do if a[i] == b[i] then same = same + 1 end end
print(("  %s: %d of %d samples identical to the guide"):format(dub.file, same, dub.frames))

-- 3. Loop the second verse three times; a coroutine counts the passes and
--    the best pass (fewest problems, then the loudest) is selected.
print("Loop:")
local passes = 0
reel.spawn(function()
  while reel.wait("take_end") do passes = passes + 1 end
end)
local takes = assert(s:record{ tracks = { "Dub" }, loop = "Verse 2", passes = 3, device = RIG,
                               meter = false })
local best
for _, t in ipairs(takes) do
  local n = #s:problems(t)
  if not best or n < best.n or (n == best.n and t.peak > best.take.peak) then
    best = { take = t, n = n }
  end
end
s:select("Dub", best.take.take)
assert(s:save())
print(("  %d passes heard, %d takes; selected Dub take %d"):format(passes, #takes, best.take.take))
print(("Session: %s/session.json (reel info %s)"):format(dir, dir))
