-- band.lua: a four-piece band, as `reel new DIR --template band` sets it up.
--
-- A template is data: a Lua chunk that returns one table. reel loads it in
-- text mode with an empty environment (no functions, strings without
-- methods) and a small budget of time and memory, then checks every field.
-- Every field is optional; `reel new` options (--rate, --tempo, --meter,
-- --format) override the values here.
--
--   name      the session's name (default: the folder's)
--   rate      sample rate in Hz (48000)
--   format    how takes are written: wav24, wav32f, flac, rf64 (wav24)
--   tempo     beats per minute (120), counting the meter's note value
--   meter     "N/D" (4/4)
--   tracks    { name = , input = CHANNEL or { LEFT, RIGHT }, monitor = BOOLEAN }
--             (inputs count from 1; names become file names: Vox_T03.wav)
--   sections  { NAME, BARS } in order from bar 1; a name used more than once
--             is referred to as "Chorus 1", "Chorus 2", ...
return {
  name = "Four-piece band",
  rate = 48000,
  format = "wav24",
  tempo = 120,
  meter = "4/4",
  tracks = {
    { name = "Kick", input = 1 },
    { name = "Snare", input = 2 },
    { name = "Overheads", input = { 3, 4 } },
    { name = "Bass", input = 5 },
    { name = "Vox", input = 7, monitor = true },
  },
  sections = {
    { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 }, { "Verse", 16 },
    { "Chorus", 8 }, { "Bridge", 8 }, { "Chorus", 16 }, { "Outro", 4 },
  },
}
