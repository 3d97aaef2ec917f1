-- vocal_overdub.lua: a singer over a finished backing, one section at a
-- time: a monitored vocal mic and a second mic for doubles and harmonies;
-- several passes per section with pre-roll, punched in, the clean takes
-- kept. See band.lua for every field.
return {
  name = "Vocal overdub",
  description = "Lead vocal and a second vocal mic, punched in section by section",
  rate = 48000,
  format = "wav24",
  tempo = 120,
  meter = "4/4",
  tracks = {
    { name = "Vox", input = 1, monitor = true },
    { name = "VoxDouble", input = 2, monitor = true, pan = -0.3 },
  },
  groups = {
    { name = "Vocals", tracks = { "Vox", "VoxDouble" } },
  },
  sections = {
    { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 }, { "Verse", 16 },
    { "Chorus", 8 }, { "Bridge", 8 }, { "Chorus", 16 }, { "Outro", 4 },
  },
  take_policy = { passes = 5, count_in = 1, pre_roll = 2, punch = true, click = true,
                  reject = { "xruns", "clipped" }, prefer = "fewest_problems" },
}
