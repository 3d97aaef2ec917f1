-- drum_tracking.lua: a drum kit miked in detail (kick in and out, snare top
-- and bottom, hi-hat, three toms, overheads, stereo and mono room) with a
-- scratch guide track for the player's cue. See band.lua for every field.
return {
  name = "Drum tracking",
  description = "Thirteen drum mics and a monitored scratch guide",
  rate = 48000,
  format = "wav24",
  tempo = 120,
  meter = "4/4",
  tracks = {
    { name = "KickIn", input = 1 },
    { name = "KickOut", input = 2 },
    { name = "SnareTop", input = 3 },
    { name = "SnareBottom", input = 4 },
    { name = "HiHat", input = 5 },
    { name = "Tom1", input = 6 },
    { name = "Tom2", input = 7 },
    { name = "FloorTom", input = 8 },
    { name = "Overheads", input = { 9, 10 } },
    { name = "Room", input = { 11, 12 } },
    { name = "MonoRoom", input = 13 },
    { name = "Guide", input = 14, monitor = true },
  },
  groups = {
    { name = "Kick", tracks = { "KickIn", "KickOut" } },
    { name = "Snare", tracks = { "SnareTop", "SnareBottom" } },
    { name = "Toms", tracks = { "Tom1", "Tom2", "FloorTom" } },
    { name = "Cymbals", tracks = { "HiHat", "Overheads" } },
    { name = "Rooms", tracks = { "Room", "MonoRoom" } },
  },
  sections = {
    { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 }, { "Verse", 16 },
    { "Chorus", 8 }, { "Bridge", 8 }, { "Chorus", 16 }, { "Outro", 4 },
  },
  take_policy = { passes = 3, count_in = 2, click = true, reject = { "xruns", "clipped" },
                  prefer = "fewest_problems" },
}
