-- example.lua: a rig description for `reel check` (see reel(1), and
-- scripts/reel/rig.lua for every field). Copy it, name your inputs and
-- cables, and run `reel check studio.lua` at the start of a session: it
-- exits 0 when every check passes, 1 when one fails (--junit FILE for CI).
--
-- A rig file is data: a Lua chunk that returns one table, run in a sandbox
-- (text only; no io, os, require or load). Mistakes are reported as
-- FILE:LINE: field: what, and `reel check` exits 2.
--
-- This one describes the virtual device, so that it runs anywhere: its
-- inputs are a 440 Hz tone (a "kick" mic stand-in) and a quiet noise floor
-- (an unused input), and a simulated cable takes output 1 back to input 3
-- with a round trip of 512 frames. On a real interface, set `device`
-- ("jack", "alsa:hw:USB", ...) and drop `sources`, `loopback` and
-- `loopback_latency`.
return {
  name = "Example rig",
  device = "virtual",
  sources = { "sine:440:-12", "noise:white:-70" },  -- virtual device only
  loopback = "1>3", loopback_latency = 512,          -- virtual device only

  seconds = 2,                 -- how long the inputs are recorded
  signal_min_db = -60,         -- RMS above this (dBFS) is signal
  noise_floor_max_db = -60,    -- for inputs expected silent (or set per input)
  dc_max = 0.01,               -- largest DC offset (mean of the samples)
  clip_max = 0,                -- clipped samples allowed (at or above clip_db)

  inputs = {
    -- expect: "signal" (default), "silence" or "any"; level_db: RMS range in dBFS
    { channel = 1, name = "Kick", expect = "signal", level_db = { -40, -6 } },
    { channel = 2, name = "Spare", expect = "silence" },
  },
  loops = {
    -- an output cabled back to an input: round trip in frames, return level in dB
    { output = 1, input = 3, latency = { 256, 2048 }, level_db = { -3, 3 } },
  },
}
