-- podcast.lua: a conversation of up to four voices, each on its own mic
-- and track, recorded in one long take (no click, no sections). For two
-- voices use podcast_duo; for three, extend this one:
--   return { extends = "podcast", remove_tracks = { "Guest3" } }
-- See band.lua for every field.
return {
  name = "Podcast",
  description = "A host and up to three guests, one mic each",
  rate = 48000,
  format = "wav24",
  tracks = {
    { name = "Host", input = 1, monitor = true },
    { name = "Guest1", input = 2, monitor = true },
    { name = "Guest2", input = 3, monitor = true },
    { name = "Guest3", input = 4, monitor = true },
  },
  groups = {
    { name = "Voices", tracks = { "Host", "Guest1", "Guest2", "Guest3" } },
  },
  take_policy = { passes = 1, count_in = 0, click = false, prefer = "latest" },
}
