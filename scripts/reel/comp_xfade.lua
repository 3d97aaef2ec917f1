--- reel.comp_xfade: how long the crossfade at each comp switch is.
--
--     local comp_xfade = require "reel.comp_xfade"
--     local hs = comp_xfade.half_lengths(items, comp_xfade.frames(10, 48000))
--
-- One copy of the rule that the render (engine/render.h, "Comp switches",
-- in C) applies, for everything else that must play a comp the way the
-- render does: the exported projects' item fades (reel.export) and the
-- playback an overdub is recorded against (reel.tracking, which hands h to
-- the engine's reader as each region's fade-in and fade-out). So what the
-- musician hears while overdubbing is what the stems hold.
--
-- Threads: the script's thread; resolves paths (realpath), reads nothing.
-- @module reel.comp_xfade

local bwf = require "reel.bwf"

local M = {}

--- A crossfade in frames: milliseconds at a rate, rounded to the nearest
-- frame; `s:render`, overdub playback and export all count with it, so
-- they agree to the frame.
-- @tparam number ms the whole crossfade (`comp_crossfade_ms`)
-- @tparam integer rate samples per second
-- @treturn integer
function M.frames(ms, rate)
  return math.floor(ms * rate / 1000 + 0.5)
end

--- The half-length h of the comp crossfade at each switch of a track.
--
-- A switch is where item k ends on the very sample where item k+1 starts
-- and the two do not continue one another in one file (another file, or
-- not the next frame of the same one). Its h is `crossfade // 2`, cut down
-- to the frames item k's file has after its end, to item k+1's offset into
-- its own file (the frames before it), to half the shorter of the two and
-- to the switch's distance from sample 0. Anything else (a gap, one stretch
-- of one file, crossfade 0 or 1) has h = 0: a hard cut. The crossfade then
-- spans the 2h frames [switch - h, switch + h): item k plays on h frames
-- past its end, item k+1 starts h frames early.
-- @tparam {table,...} items one track's regions in timeline order, as the
--   render gets them (starts before 0 already cut off): `at`, `offset`,
--   `frames` (samples), `file_frames` (the length of the file), `source`
--   (the file's path: the same file on both sides is no switch when it
--   runs on)
-- @tparam integer crossfade the whole crossfade in frames (`M.frames`)
-- @treturn {integer,...} h for the switch after each item (the last one's
--   is 0)
function M.half_lengths(items, crossfade)
  local want = crossfade // 2
  local out = {}
  for k = 1, #items do out[k] = 0 end
  if want <= 0 then return out end
  local real = {}
  local function same_file(a, b)
    if a.source == b.source then return true end
    for _, x in ipairs{ a, b } do
      if real[x] == nil then real[x] = bwf.realpath(x.source) or false end
    end
    return real[a] and real[a] == real[b]
  end
  for k = 1, #items - 1 do
    local a, b = items[k], items[k + 1]
    if a.at + a.frames == b.at
        and not (same_file(a, b) and b.offset == a.offset + a.frames) then
      out[k] = math.max(0, math.min(want, a.file_frames - (a.offset + a.frames), b.offset,
        math.min(a.frames, b.frames) // 2, b.at))
    end
  end
  return out
end

return M
