-- band.lua: a band tracked live: multi-mic drums, bass (DI and amp), two
-- guitars, lead and backing vocals; 13 inputs, so a 16-channel interface.
--
-- A template is data: a Lua chunk that returns one table. reel runs it in a
-- sandbox (text only; no io, os, require, load or debug; a tenth of a
-- second and 32 MiB) and checks every field; a mistake is reported as
-- FILE:LINE: field: what. Every field is optional; `reel new` options
-- (--rate, --tempo, --meter, --format) override the values here. Another
-- template can start from this one: `extends = "band"` (see band_horns.lua).
--
--   name, description  strings
--   rate          sample rate in Hz (48000)
--   format        how takes are written: wav24, wav32f, flac, rf64 (wav24)
--   tempo, meter  beats per minute (of the meter's note value), "N/D"
--   tracks        { name = , input = CHANNEL or { LEFT, RIGHT }, monitor = BOOLEAN,
--                   gain_db = NUMBER, pan = -1..1 }  (inputs count from 1;
--                 names become file names: Vox_T03.wav)
--   groups        { name = , tracks = { TRACK NAME, ... } }
--   sections      { NAME, BARS } in order from bar 1; a name used more than
--                 once is referred to as "Chorus 1", "Chorus 2", ...
--   take_policy   defaults for take routines: passes, count_in (bars),
--                 pre_roll (s), punch, click, reject = { "xruns", "clipped",
--                 "overruns" }, prefer = "fewest_problems" | "latest" | "first"
return {
  name = "Four-piece band",
  description = "Drums (kick, snare, hi-hat, two toms, overheads), bass DI and amp, "
    .. "two guitars, lead and backing vocals",
  rate = 48000,
  format = "wav24",
  tempo = 120,
  meter = "4/4",
  tracks = {
    { name = "Kick", input = 1 },
    { name = "Snare", input = 2 },
    { name = "HiHat", input = 3 },
    { name = "Tom", input = 4 },
    { name = "FloorTom", input = 5 },
    { name = "Overheads", input = { 6, 7 } },
    { name = "BassDI", input = 8 },
    { name = "BassAmp", input = 9 },
    { name = "Gtr1", input = 10 },
    { name = "Gtr2", input = 11 },
    { name = "Vox", input = 12, monitor = true },
    { name = "BGV", input = 13, monitor = true },
  },
  groups = {
    { name = "Drums", tracks = { "Kick", "Snare", "HiHat", "Tom", "FloorTom", "Overheads" } },
    { name = "Bass", tracks = { "BassDI", "BassAmp" } },
    { name = "Guitars", tracks = { "Gtr1", "Gtr2" } },
    { name = "Vocals", tracks = { "Vox", "BGV" } },
  },
  sections = {
    { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 }, { "Verse", 16 },
    { "Chorus", 8 }, { "Bridge", 8 }, { "Chorus", 16 }, { "Outro", 4 },
  },
  take_policy = { passes = 3, count_in = 1, click = true, reject = { "xruns" },
                  prefer = "fewest_problems" },
}
