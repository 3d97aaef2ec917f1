--- reel.smf: a Standard MIDI File with a session's tempo map, meters and
-- markers (the conductor track a DAW or a notation program imports).
--
--     local smf = require "reel.smf"
--     local bytes = smf.encode{ name = "song", ppq = 960,
--       tempos = { { tick = 0, bpm = 120, den = 4 } },
--       meters = { { tick = 0, num = 4, den = 4 } },
--       markers = { { tick = 0, name = "Intro" } } }
--
-- Format 1, one track (the conductor track; format 1 lets a DAW add note
-- tracks beside it), `ppq` ticks per quarter note (960 by default). Events:
-- the track name (FF 03), time signatures (FF 58: numerator, log2 of the
-- denominator, 24 * 4 / den MIDI clocks a click, 8 thirty-seconds a
-- quarter), tempos (FF 51, microseconds per quarter note) and markers
-- (FF 06, the name's bytes as they are, UTF-8), in tick order; at one tick
-- the order is meter, tempo, marker. A tempo given in beats of the meter's
-- denominator (`bpm`, `den`) is turned into quarter notes:
-- 60e6 * den / (4 * bpm) microseconds, rounded to the nearest and kept
-- within the 24 bits the event holds (a quarter note of at most 16.78 s).
--
-- Threads: the script's (control) thread; pure functions, no I/O.
-- @module reel.smf

local M = {}

M.PPQ = 960
local US_MAX = 0xFFFFFF

-- A variable-length quantity (7 bits a byte, high bit on all but the last).
local function vlq(n)
  local bytes = { string.char(n & 0x7F) }
  n = n >> 7
  while n > 0 do
    table.insert(bytes, 1, string.char(0x80 | (n & 0x7F)))
    n = n >> 7
  end
  return table.concat(bytes)
end
M.vlq = vlq

--- Microseconds per quarter note for `bpm` beats of 1/`den` notes a minute.
-- @tparam number bpm
-- @tparam integer den
-- @treturn integer
function M.tempo_us(bpm, den)
  local us = math.floor(60e6 * den / (4 * bpm) + 0.5)
  if us > US_MAX then us = US_MAX end
  if us < 1 then us = 1 end
  return math.tointeger(us)
end

local function log2(den)
  local k = 0
  while (1 << k) < den do k = k + 1 end
  return k
end

local function meta(kind, data)
  return string.char(0xFF, kind) .. vlq(#data) .. data
end

--- The bytes of the file.
-- @tparam table song `name`, `ppq` (default 960), `tempos` ({tick, bpm,
--   den}), `meters` ({tick, num, den}), `markers` ({tick, name})
-- @treturn string
function M.encode(song)
  local ppq = song.ppq or M.PPQ
  local events = {}
  local function add(tick, order, bytes)
    events[#events + 1] = { tick = math.tointeger(tick), order = order, n = #events, bytes = bytes }
  end
  for _, m in ipairs(song.meters or {}) do
    add(m.tick, 1, meta(0x58, string.char(m.num, log2(m.den), math.max(1, 96 // m.den), 8)))
  end
  for _, t in ipairs(song.tempos or {}) do
    local us = M.tempo_us(t.bpm, t.den or 4)
    add(t.tick, 2, meta(0x51, string.char((us >> 16) & 0xFF, (us >> 8) & 0xFF, us & 0xFF)))
  end
  for _, mk in ipairs(song.markers or {}) do
    add(mk.tick, 3, meta(0x06, mk.name))
  end
  table.sort(events, function(a, b)
    if a.tick ~= b.tick then return a.tick < b.tick end
    if a.order ~= b.order then return a.order < b.order end
    return a.n < b.n
  end)
  local body = { vlq(0), meta(0x03, song.name or "") }
  local last = 0
  for _, e in ipairs(events) do
    body[#body + 1] = vlq(e.tick - last)
    body[#body + 1] = e.bytes
    last = e.tick
  end
  body[#body + 1] = vlq(0) .. string.char(0xFF, 0x2F, 0x00)
  local track = table.concat(body)
  return "MThd" .. string.pack(">I4I2I2I2", 6, 1, 1, ppq)
    .. "MTrk" .. string.pack(">I4", #track) .. track
end

return M
