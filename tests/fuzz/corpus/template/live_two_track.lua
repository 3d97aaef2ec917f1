-- live_two_track.lua: a concert recorded from the desk's stereo mix and a
-- pair of audience mics, in one long take. RF64 because a long take at 24
-- bits passes the 4 GiB limit of WAV. See band.lua for every field.
return {
  name = "Live two-track",
  description = "The desk's stereo mix and a pair of audience mics, one long take",
  rate = 48000,
  format = "rf64",
  tracks = {
    { name = "Mix", input = { 1, 2 } },
    { name = "Audience", input = { 3, 4 } },
  },
  take_policy = { passes = 1, count_in = 0, click = false, prefer = "latest" },
}
