--- reel.rpp: a REAPER project (.RPP, REAPER's plain-text format) of a
-- session: tempo and meter, sections as regions, markers, and one track per
-- session track with its audio items where they play.
--
--     local rpp = require "reel.rpp"
--     local text = rpp.encode(plan)   -- plan: see reel.export
--
-- What is written:
--
--   * `TEMPO qbpm num den`: the first tempo, in quarter notes a minute
--     (REAPER's tempo counts quarter notes; the session's counts the meter's
--     denominator, so 6/8 at 96 is 48 here) and meter;
--   * a `<TEMPOENVEX` with one square (`shape 1`) point per change, `PT
--     seconds qbpm 1 meter` where the meter is encoded as num + 65536 * den;
--   * sections as regions (`MARKER n start "label" 1` and `MARKER n end ""
--     1`), then the session's markers (`MARKER n position "name" 0`);
--   * per track `NAME`, `VOLPAN` (linear volume 10^(gain_db / 20), pan -1
--     left to +1 right), `MUTESOLO` (mute, solo), `NCHAN`, and an `<ITEM` per region: `POSITION` and
--     `LENGTH` in seconds, `SOFFS` (the offset into the file, seconds),
--     `NAME` and `<SOURCE WAVE` with `FILE` relative to the .RPP; an item
--     at a comp switch (`fade_in`, `fade_out` frames in the plan: see
--     reel.export) also gets `FADEIN 1 seconds 0 1 0 0 0` / `FADEOUT ...`,
--     REAPER's equal-power shape over the frames where it overlaps the
--     other take.
--
-- Times are samples / rate written with 14 decimals, enough to land back on
-- the same sample at any session rate. Strings are quoted the way REAPER
-- does: "..." unless they hold a double quote, then '...' or `...`.
--
-- Threads: the script's (control) thread; pure functions, no I/O.
-- @module reel.rpp

local M = {}

--- A string as REAPER quotes it.
-- @tparam string s
-- @treturn string
function M.quote(s)
  s = s:gsub("[\r\n]", " ")
  if not s:find('"', 1, true) then return '"' .. s .. '"' end
  if not s:find("'", 1, true) then return "'" .. s .. "'" end
  if not s:find("`", 1, true) then return "`" .. s .. "`" end
  return "`" .. s:gsub("`", "'") .. "`"
end

local function seconds(samples, rate)
  return ("%.14f"):format(samples / rate)
end

local function num(x)
  return ("%.10g"):format(x)
end

-- A REAPER-style GUID made from a counter: stable from one export to the
-- next, unique within the project.
local function guid(kind, i)
  return ("{%08X-0000-4000-8000-%012X}"):format(kind, i)
end

--- The project text.
-- @tparam table plan see `reel.export` (`name`, `rate`, `segments`,
--   `sections`, `markers`, `tracks`)
-- @treturn string
function M.encode(plan)
  local rate = plan.rate
  local out = {}
  local function put(depth, line) out[#out + 1] = ("  "):rep(depth) .. line end
  put(0, ('<REAPER_PROJECT 0.1 "6.0/reel" 0'))
  put(1, "SAMPLERATE " .. rate .. " 0 0")
  local first = plan.segments[1]
  put(1, ("TEMPO %s %d %d"):format(num(first.qbpm), first.num, first.den))
  put(1, "TIMELOCKMODE 1")
  put(1, "TEMPOENVLOCKMODE 1")
  if #plan.segments > 1 then
    put(1, "<TEMPOENVEX")
    put(2, "EGUID " .. guid(0xE, 1))
    put(2, "ACT 1 -1")
    put(2, "VIS 1 0 1")
    put(2, "LANEHEIGHT 0 0")
    put(2, "ARM 0")
    put(2, "DEFSHAPE 1 -1 -1")
    for _, seg in ipairs(plan.segments) do
      put(2, ("PT %s %s 1 %d"):format(seconds(seg.start, rate), num(seg.qbpm), seg.num + 65536 * seg.den))
    end
    put(1, ">")
  end
  local n = 0
  for _, sec in ipairs(plan.sections) do
    n = n + 1
    put(1, ("MARKER %d %s %s 1"):format(n, seconds(sec.start, rate), M.quote(sec.label)))
    put(1, ("MARKER %d %s \"\" 1"):format(n, seconds(sec.start + sec.length, rate)))
  end
  for _, mk in ipairs(plan.markers) do
    n = n + 1
    put(1, ("MARKER %d %s %s 0"):format(n, seconds(mk.start, rate), M.quote(mk.name)))
  end
  for ti, tr in ipairs(plan.tracks) do
    put(1, "<TRACK " .. guid(0x7, ti))
    put(2, "NAME " .. M.quote(tr.name))
    put(2, ("VOLPAN %s %s -1 -1 1"):format(num(10 ^ ((tr.gain_db or 0) / 20)), num(tr.pan or 0)))
    put(2, ("MUTESOLO %d %d 0"):format(tr.mute and 1 or 0, tr.solo and 2 or 0))
    put(2, "NCHAN 2")
    for ii, it in ipairs(tr.items) do
      put(2, "<ITEM")
      put(3, "POSITION " .. seconds(it.at, rate))
      put(3, "LENGTH " .. seconds(it.frames, rate))
      put(3, "SOFFS " .. seconds(it.offset, rate))
      -- FADEIN/FADEOUT shape length auto-length ...: shapes count from 0
      -- (C_FADEINSHAPE 0..6, 0 linear), and 1, the second in REAPER's
      -- shape menu and its default for new items, is the equal-power one
      -- (gain ~ sqrt of the fade's progress: the squares of the two sides
      -- add up to 1 all through the overlap, as the render's sin/cos
      -- quarter waves do), not 2 (slow start, ~x^2). Auto-length 0: the
      -- length given is the one played, not one REAPER derives from the
      -- overlap. The remaining fields are as in the FADEIN lines REAPER
      -- writes for its default fades (curvature 0).
      if (it.fade_in or 0) > 0 then put(3, ("FADEIN 1 %s 0 1 0 0 0"):format(seconds(it.fade_in, rate))) end
      if (it.fade_out or 0) > 0 then put(3, ("FADEOUT 1 %s 0 1 0 0 0"):format(seconds(it.fade_out, rate))) end
      put(3, "LOOP 0")
      put(3, "NAME " .. M.quote(it.name))
      put(3, "IGUID " .. guid(0x1000 + ti, ii))
      put(3, "<SOURCE WAVE")
      put(4, "FILE " .. M.quote(it.file))
      put(3, ">")
      put(2, ">")
    end
    put(1, ">")
  end
  put(0, ">")
  return table.concat(out, "\n") .. "\n"
end

return M
