-- podcast_duo.lua: two voices, host and guest; podcast.lua without the
-- extra guests (see podcast.lua and band_horns.lua for `extends`).
return {
  extends = "podcast",
  name = "Podcast (two voices)",
  description = "A host and a guest, one mic each",
  remove_tracks = { "Guest2", "Guest3" },
}
