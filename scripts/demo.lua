--- demo.lua: record a short multitrack session without any sound hardware.
--
--     reel run scripts/demo.lua [DIR]
--
-- Four seconds on the virtual device in freewheel (as fast as the disk
-- allows), from generators standing in for a band: a kick-like impulse train
-- and a pink-noise bed for the drums (one stereo track), a low sine for the
-- bass, a sweep for the voice. Takes land in DIR (default ./demo-session)
-- under audio/, listed in DIR/session.json; run it again and the next takes
-- are numbered T02, never overwriting T01.
local reel = require "reel"

local dir = arg and arg[1] or "demo-session"

local band = reel.device{
  spec = "virtual:freewheel",
  rate = 48000,
  inputs = {
    "impulse:24000:-3",       -- 1: kick, twice a second (120 bpm)
    "noise:pink:-30",         -- 2: cymbal wash
    "sine:55:-9",             -- 3: bass, low A
    "sweep:220:880:2:-12",    -- 4: voice, a two-second glide, repeated
  },
}

local s = assert(reel.session(dir))
s:track{ name = "Drums", input = { 1, 2 } }
s:track{ name = "Bass", input = 3 }
s:track{ name = "Vox", input = 4 }

local takes, err = s:record{ seconds = 4, format = "wav24", device = band,
                             description = "reel demo" }
if not takes then
  io.stderr:write("demo: ", err, "\n")
  os.exit(1)
end

print(("Recorded %d takes into %s:"):format(#takes, dir))
for _, t in ipairs(takes) do
  print(("  %-6s take %2d  %-22s %7d frames  %.2f s  peak %6s dBFS  xruns %d")
    :format(t.track, t.take, t.file, t.frames, t.seconds, reel.format_db(t.peak_db), t.xruns))
end
print(("Session file: %s/session.json"):format(dir))
