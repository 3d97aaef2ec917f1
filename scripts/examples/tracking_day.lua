--- tracking_day.lua: a whole tracking day you can copy: drums over the
-- whole song, a bass overdub against them, three vocal passes per chorus
-- with automatic retry, then comps chosen by rule.
--
--     reel run scripts/examples/tracking_day.lua [DIR] [--jack] [--tempo BPM] [--bars N]
--
-- Without --jack it runs on the virtual device in freewheel, with generators
-- and a generated vocal file standing in for the band, so it works on a
-- machine without sound hardware (and as fast as the disk allows). The
-- stand-in singer clips once in the second pass of every chorus: the policy
-- rejects that take and the routine records one more pass. With --jack it
-- records from a running JACK server instead: inputs 1-2 drums (kick,
-- snare), 3-4 overheads, 5 bass, 6 vocal; adapt TRACKS to your rig.
--
-- Every step is a take routine (`s:routine`, see reel.routine): it loops a
-- section (or a range) for as many passes as good takes are still wanted,
-- judges each take by the policy (xruns, overruns, clipping, silence) and
-- by an optional `on_take` callback, saves session.json after every take,
-- and comps the section by a rule at the end. Playback of the earlier
-- tracks during each overdub follows their comps (or selected takes).
--
-- --tempo and --bars (bars per section) make the song shorter for tests;
-- the defaults are a real song's.
local reel = require "reel"
local getopt = require "reel.getopt"

local opts, rest = getopt.parse(arg or {}, { jack = {}, tempo = { value = true },
                                             bars = { value = true } })
if not opts then io.stderr:write("tracking_day: ", rest, "\n") os.exit(2) end
local dir = rest[1] or "tracking-day"
local TEMPO = tonumber(opts.tempo or "120")
local BARS = math.tointeger(tonumber(opts.bars or "4"))
if not TEMPO or not BARS or BARS < 1 then
  io.stderr:write("tracking_day: --tempo takes beats per minute, --bars a whole number\n")
  os.exit(2)
end

local TRACKS = {
  { name = "Kick", input = 1 }, { name = "Snare", input = 2 },
  { name = "Overheads", input = { 3, 4 } },
  { name = "Bass", input = 5 },
  { name = "Vox", input = 6, monitor = true },
}
local DRUMS = { "Kick", "Snare", "Overheads" }

-- The session: made on the first run, opened (and added to) afterwards.
local s = reel.open(dir)
if not s then
  s = assert(reel.new(dir, {
    tempo = TEMPO, meter = "4/4", format = "wav24", tracks = TRACKS,
    sections = { { "Intro", BARS }, { "Verse", BARS }, { "Chorus", BARS }, { "Verse", BARS },
                 { "Chorus", BARS }, { "Outro", BARS } },
  }))
end
local rate = s:tempo_map():rate()
local bar = s:tempo_map():bar_length(1)
local secs = s:sections()
local song_end = secs[#secs].start + secs[#secs].length

-- The rig. The stand-in singer: a file whose level rises pass by pass (so
-- "loudest_unclipped" has something to choose) and that clips once, half
-- way through the second pass after a one-bar count-in. A virtual device's
-- file input starts again at every roll, so each chorus hears it afresh.
local device
if opts.jack then
  device = reel.device("jack")
else
  local section_len = BARS * bar
  local singer = dir .. "/stand-in-vocal.wav"
  local f = assert(io.open(singer, "wb"))
  local frames = bar + 4 * section_len
  local data = {}
  for i = 0, frames - 1 do
    local pass = (i - bar) // section_len           -- 0, 1, 2... (-1: count-in)
    local v = (0.2 + 0.1 * math.max(pass, 0)) * math.sin(2 * math.pi * 220 * i / rate)
    if pass == 1 and (i - bar) % section_len >= section_len // 2
        and (i - bar) % section_len < section_len // 2 + 64 then
      v = 1.0                                        -- the clipping burst
    end
    data[#data + 1] = string.pack("<f", v)
  end
  local pcm = table.concat(data)
  f:write("RIFF", string.pack("<I4", 36 + #pcm), "WAVE",
          "fmt ", string.pack("<I4I2I2I4I4I2I2", 16, 3, 1, rate, rate * 4, 4, 32),
          "data", string.pack("<I4", #pcm), pcm)
  f:close()
  device = reel.device{ spec = "virtual:freewheel", inputs = {
    "impulse:" .. (bar // 4) .. ":-6",   -- kick on every beat
    "impulse:" .. (bar // 2) .. ":-10",  -- snare
    "noise:pink:-30", "noise:pink:-30",  -- overheads
    "sine:55:-12",                       -- bass
    singer,                              -- vocal
  } }
end

local POLICY = { reject = { "xruns", "overruns", "clipping", "silence" }, silence_db = -50 }

-- What happens, as it happens.
local started <close> = reel.on("take_start", function(ev)
  if ev.track == "Kick" or ev.track == "Bass" or ev.track == "Vox" then
    io.write(("  > %s take %d, pass %d\n"):format(ev.track, ev.take, ev.pass + 1))
  end
end)
local function report(step, r, err)
  for _, p in ipairs(r and r.passes or {}) do
    io.write(("    %s take %d: %s\n"):format(p.take.track, p.take.take,
      p.good and "kept" or (p.note or "rejected")))
  end
  if err then
    io.stderr:write(("tracking_day: %s: %s\n"):format(step, err))
    os.exit(1)
  end
end

-- 1. Drums: two good takes of the whole song, two bars of count-in; the
-- better (fewest problems) is comped into every section.
print("Drums")
local r, err, partial = s:routine{ tracks = DRUMS, section = { 0, song_end }, passes = 2,
  count_in = 2, retries = 2, policy = POLICY, comp = "fewest_problems", device = device }
report("drums", r or partial, err)

-- 2. Bass: one good take against the drums' comp.
print("Bass")
r, err, partial = s:routine{ track = "Bass", section = { 0, song_end }, passes = 1,
  count_in = 1, retries = 2, policy = POLICY, comp = "fewest_problems", device = device }
report("bass", r or partial, err)

-- 3. Vocals: three passes per chorus, a rejected pass recorded again (at
-- most twice), the loudest pass that does not clip comped in. on_take is
-- where a person's judgement goes; here it only prints what it saw.
for _, sec in ipairs(s:sections()) do
  if sec.name == "Chorus" then
    print("Vox, " .. sec.label)
    r, err, partial = s:routine{ track = "Vox", section = sec.label, passes = 3, count_in = 1,
      retries = 2, policy = POLICY, comp = "loudest_unclipped", device = device,
      on_take = function(take, problems)
        if #problems > 0 then print("    (" .. table.concat(problems, "; ") .. ")") end
        return nil                        -- the policy decides
      end }
    report("vocals " .. sec.label, r or partial, err)
  end
end

-- 4. What plays now.
assert(s:save())
print("Comps")
for _, t in ipairs(s.tracks) do
  local parts = {}
  for _, rg in ipairs(s:regions(t.name)) do
    parts[#parts + 1] = ("%s=T%02d"):format(rg.section or "whole", rg.take)
  end
  print(("  %-10s %s"):format(t.name, #parts > 0 and table.concat(parts, " ") or "-"))
end
print(("Session: %s/session.json (%d takes)"):format(dir, #s.takes))
