--- spec_export.lua: the handoff package (scripts/reel/export.lua, reel.smf,
-- reel.rpp, reel.dawproject, lua/lzip.c, lua/lbwf.c), every file read back.
--
-- The song, by hand: 48 kHz; bars 1-2 4/4 at 120 (96000 samples a bar),
-- bar 3 6/8 at 90 eighths (4 s, 192000 samples), bar 4 4/4 at 100 (2.4 s,
-- 115200 samples). Sections Intro (bars 1-2, samples 0-192000), Verse (bar
-- 3, 192000-384000), Chorus (bar 4, 384000-499200). MIDI ticks (960 a
-- quarter): bar 3 at 7680, bar 4 at 7680 + 2880 = 10560.
-- Takes are written by sox with known content and registered by hand:
-- Vox T1 (selected, at 2:1 = 96000, 2 s, bext 96000, clipped and an xrun),
-- Vox T2 (rejected), Bass T1 (no bext chunk at all), Gtr T1 and T2 comped
-- (Intro and Chorus from T1, Verse from T2: regions with offsets), Keys T1
-- a FLAC take at 48000.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"
local bwf = require "reel.bwf"
local zip = require "reel.zip"
local export = require "reel.export"

local RATE = 48000

local read = T.read

local function sh(cmd)
  local ok = os.execute(cmd)
  assert(ok, "command failed: " .. cmd)
end

-- ------------------------------------------------------------ readers

-- RFC 4180 CSV: rows of fields; quoted fields may hold commas, quotes
-- (doubled) and line breaks.
local function parse_csv(text)
  local rows, row, field, i, n = {}, {}, {}, 1, #text
  local quoted = false
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
        else quoted = false end
      else field[#field + 1] = c end
    elseif c == '"' then
      T.eq(#field, 0, "a quote opens a field")
      quoted = true
    elseif c == "," then
      row[#row + 1] = table.concat(field); field = {}
    elseif c == "\r" then
      T.eq(text:sub(i + 1, i + 1), "\n", "CRLF line ends")
      row[#row + 1] = table.concat(field); field = {}
      rows[#rows + 1] = row; row = {}
      i = i + 1
    else
      T.ok(c ~= "\n", "no bare LF outside quotes")
      field[#field + 1] = c
    end
    i = i + 1
  end
  T.ok(not quoted and #field == 0 and #row == 0, "the file ends with a complete line")
  return rows
end

-- Standard MIDI File: header and per track the events with absolute ticks.
local function parse_smf(data)
  T.eq(data:sub(1, 4), "MThd")
  local hlen, format, ntrks, division, pos = string.unpack(">I4I2I2I2", data, 5)
  T.eq(hlen, 6, "MThd length")
  local tracks = {}
  for _ = 1, ntrks do
    T.eq(data:sub(pos, pos + 3), "MTrk")
    local len = string.unpack(">I4", data, pos + 4)
    local p, stop, tick, events = pos + 8, pos + 8 + len, 0, {}
    local function vlq()
      local v = 0
      repeat
        local b = data:byte(p); p = p + 1
        v = (v << 7) | (b & 0x7F)
      until b < 0x80
      return v
    end
    while p < stop do
      tick = tick + vlq()
      local status = data:byte(p); p = p + 1
      T.eq(status, 0xFF, "only meta events in the conductor track")
      local kind = data:byte(p); p = p + 1
      local l = vlq()
      events[#events + 1] = { tick = tick, kind = kind, data = data:sub(p, p + l - 1) }
      p = p + l
    end
    T.eq(p, stop, "track length")
    tracks[#tracks + 1] = events
    pos = stop
  end
  T.eq(pos, #data + 1, "nothing after the last track")
  return { format = format, division = division, tracks = tracks }
end

-- RPP: the lines, stripped, as lists of tokens (quotes of any of REAPER's
-- three kinds).
local function rpp_tokens(line)
  local out, i = {}, 1
  line = line:match("^%s*(.-)%s*$")
  while i <= #line do
    local c = line:sub(i, i)
    if c == " " then i = i + 1
    elseif c == '"' or c == "'" or c == "`" then
      local j = line:find(c, i + 1, true)
      out[#out + 1] = line:sub(i + 1, j - 1)
      i = j + 1
    else
      local j = line:find(" ", i, true) or (#line + 1)
      out[#out + 1] = line:sub(i, j - 1)
      i = j
    end
  end
  return out
end

-- Elements of an XML text in document order: {tag, attrs, depth}.
local function xml_elements(text)
  local out, depth = {}, 0
  local function unescape(s)
    return (s:gsub("&(#?%w+);", function(e)
      local map = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
      if map[e] then return map[e] end
      return utf8.char(tonumber(e:match("^#(%d+)$")))
    end))
  end
  for close, tag, attrs, selfclose in text:gmatch("<(/?)([%w_:]+)([^>]-)(/?)>") do
    if close == "/" then
      depth = depth - 1
    else
      local a = {}
      for k, v in attrs:gmatch('([%w_:]+)="([^"]*)"') do a[k] = unescape(v) end
      out[#out + 1] = { tag = tag, attrs = a, depth = depth }
      if selfclose ~= "/" then depth = depth + 1 end
    end
  end
  T.eq(depth, 0, "balanced XML")
  return out
end

-- ------------------------------------------------------------ the song

local function song()
  local root = T.tmpdir()
  local dir = root .. "/song"
  local s = assert(reel.new(dir, { rate = RATE, tempo = 120, meter = "4/4",
    tracks = { { name = "Vox", input = 1, gain_db = -6, pan = -0.5 }, { name = "Bass", input = 2 },
               { name = "Gtr", input = { 3, 4 } }, { name = "Keys", input = 5 } },
    sections = { { "Intro", 2 }, { "Verse", 1 }, { "Chorus", 1 } } }))
  s:set_tempo(3, 90, "6/8")
  s:set_tempo(4, 100, "4/4")
  s:add_marker('Say "hi", ok', "2:3")
  s:add_marker("Solo, pt. 2", "4:2.5")
  local audio = dir .. "/audio/"
  sh(("sox -D -n -r 48000 -b 24 -c 1 %s/raw_vox1.wav synth 2 sine 440 gain -6"):format(root))
  assert(bwf.rewrite(root .. "/raw_vox1.wav", audio .. "Vox_T01.wav", { time_reference = 96000 }))
  sh(("sox -D -n -r 48000 -b 24 -c 1 %sVox_T02.wav synth 1 sine 330 gain -6"):format(audio))
  sh(("sox -D -n -r 48000 -b 24 -c 1 %sBass_T01.wav synth 10.4 sine 55 gain -6"):format(audio))
  sh(("sox -D -n -r 48000 -b 24 -c 2 %s/raw_g1.wav synth 10.4 sine 220 gain -12"):format(root))
  sh(("sox -D -n -r 48000 -b 24 -c 2 %s/raw_g2.wav synth 10.4 sine 330 gain -12"):format(root))
  assert(bwf.rewrite(root .. "/raw_g1.wav", audio .. "Gtr_T01.wav", { time_reference = 0 }))
  assert(bwf.rewrite(root .. "/raw_g2.wav", audio .. "Gtr_T02.wav", { time_reference = 0 }))
  sh(("sox -D -n -r 48000 -b 24 -c 1 %sKeys_T01.flac synth 1.5 sine 660 gain -9"):format(audio))
  local function take(t)
    t.rate, t.format = RATE, t.format or "wav24"
    s.takes[#s.takes + 1] = t
  end
  take{ track = "Vox", take = 1, file = "audio/Vox_T01.wav", start = 96000, frames = 96000,
        status = "selected", clipped = 3, xruns = 1, xrun_positions = { 4800 } }
  take{ track = "Vox", take = 2, file = "audio/Vox_T02.wav", start = 0, frames = 48000,
        status = "rejected", note = "flat" }
  take{ track = "Bass", take = 1, file = "audio/Bass_T01.wav", start = 0, frames = 499200, status = "selected" }
  take{ track = "Gtr", take = 1, file = "audio/Gtr_T01.wav", start = 0, frames = 499200 }
  take{ track = "Gtr", take = 2, file = "audio/Gtr_T02.wav", start = 0, frames = 499200 }
  take{ track = "Keys", take = 1, file = "audio/Keys_T01.flac", start = 48000, frames = 72000,
        status = "selected", format = "flac" }
  s:comp("Gtr", "Intro", 1)
  s:comp("Gtr", "Verse", 2)
  s:comp("Gtr", "Chorus", 1)
  s:set_mix("Keys", { mute = true })
  assert(s:save())
  return assert(reel.open(dir)), root, dir
end

local function sha(path)
  local p = assert(io.popen("sha256sum '" .. path .. "'"))
  local h = p:read("l"):match("^%x+")
  p:close()
  return h
end

-- ------------------------------------------------------------ the tests

local S, ROOT, DIR = song()
local BEFORE = {}
for _, f in ipairs(core.list_dir(DIR .. "/audio")) do BEFORE[f] = sha(DIR .. "/audio/" .. f) end
BEFORE["session.json"] = sha(DIR .. "/session.json")
local OUT = ROOT .. "/handoff"
local R, ERR = S:export{ to = OUT }

T.test("export writes the package and says what it wrote", function()
  T.ok(R, ERR)
  T.eq(R.folder, OUT)
  T.eq(table.concat(R.files, " "), table.concat({ "README.txt", "audio/Bass_T01.wav", "audio/Gtr_T01.wav",
    "audio/Gtr_T02.wav", "audio/Keys_T01.wav", "audio/Vox_T01.wav", "markers.csv", "mix.wav",
    "sections.csv", "song.RPP", "song.dawproject", "stems/Bass.wav", "stems/Gtr.wav", "stems/Keys.wav",
    "stems/Vox.wav", "takes.csv", "takes.json", "tempo.csv", "tempo_markers.mid" }, " "))
  T.eq(R.frames, 499200) T.eq(R.rate, RATE) T.eq(R.takes, 6)
  T.eq(table.concat(R.tracks, ","), "Vox,Bass,Gtr,Keys")
  local how = {}
  for _, a in ipairs(R.audio) do how[a.file] = a.how .. "/" .. a.bext end
  T.eq(how["audio/Vox_T01.wav"], "copy/kept")
  T.eq(how["audio/Bass_T01.wav"], "copy/added")
  T.eq(how["audio/Gtr_T01.wav"], "copy/kept")
  T.eq(how["audio/Keys_T01.wav"], "converted/kept")
  T.ok(read(OUT .. "/README.txt"):find("Sample rate: 48000 Hz.", 1, true), "README: rate")
  T.ok(read(OUT .. "/README.txt"):find("bar 1 beat 1 = sample 0 = 0 s", 1, true), "README: start")
end)

T.test("the session's files are untouched (Bass had no bext and still has none)", function()
  for f, h in pairs(BEFORE) do
    local p = f == "session.json" and (DIR .. "/session.json") or (DIR .. "/audio/" .. f)
    T.eq(sha(p), h, f)
  end
  T.eq(bwf.read(DIR .. "/audio/Bass_T01.wav"), false, "no bext in the session's Bass take")
  local names = core.list_dir(DIR .. "/audio")
  table.sort(names)
  T.eq(table.concat(names, ","), "Bass_T01.wav,Gtr_T01.wav,Gtr_T02.wav,Keys_T01.flac,Vox_T01.wav,Vox_T02.wav")
end)

T.test("bext time references on every audio file", function()
  local want = { ["mix.wav"] = 0, ["stems/Vox.wav"] = 0, ["stems/Bass.wav"] = 0, ["stems/Gtr.wav"] = 0,
    ["stems/Keys.wav"] = 0, ["audio/Vox_T01.wav"] = 96000, ["audio/Bass_T01.wav"] = 0,
    ["audio/Gtr_T01.wav"] = 0, ["audio/Gtr_T02.wav"] = 0, ["audio/Keys_T01.wav"] = 48000 }
  local n = 0
  for f, tr in pairs(want) do
    local b = bwf.read(OUT .. "/" .. f)
    T.ok(b, f .. " has a bext chunk")
    T.eq(b.time_reference, tr, f)
    n = n + 1
  end
  T.eq(n, 10)
  local mix = core.sound_info(OUT .. "/mix.wav")
  T.eq(mix.frames, 499200) T.eq(mix.channels, 2) T.eq(mix.container, "wav")
  T.eq(core.sound_info(OUT .. "/stems/Gtr.wav").channels, 2)
  -- The converted FLAC take holds the same samples.
  local a = core.read_frames(DIR .. "/audio/Keys_T01.flac", 0, 72000)
  local b = core.read_frames(OUT .. "/audio/Keys_T01.wav", 0, 72000)
  T.eq(#b, 72000)
  for i = 1, #a, 997 do T.eq(b[i], a[i], "sample " .. i) end
  T.eq(core.sound_info(OUT .. "/audio/Keys_T01.wav").container, "wav")
  -- Bass in the package got its bext by being rewritten: same samples.
  local x = core.read_frames(DIR .. "/audio/Bass_T01.wav", 100000, 5000)
  local y = core.read_frames(OUT .. "/audio/Bass_T01.wav", 100000, 5000)
  for i = 1, #x do T.eq(y[i], x[i], "bass sample " .. i) end
end)

T.test("takes.csv and takes.json: every take, field by field", function()
  local rows = parse_csv(read(OUT .. "/takes.csv"))
  T.eq(table.concat(rows[1], "|"), "track|take|file|start|start_bbt|length|status|problems|trimmed_frames")
  -- trimmed_frames: 0 for the takes copied whole, empty for Vox T2, which
  -- the package has no copy of.
  local want = {
    { "Vox", "1", "audio/Vox_T01.wav", "96000", "2:1", "96000", "selected", "clipped 3 samples; 1 xrun (at 0.100 s)", "0" },
    { "Vox", "2", "audio/Vox_T02.wav", "0", "1:1", "48000", "rejected", "", "" },
    { "Bass", "1", "audio/Bass_T01.wav", "0", "1:1", "499200", "selected", "", "0" },
    { "Gtr", "1", "audio/Gtr_T01.wav", "0", "1:1", "499200", "kept", "", "0" },
    { "Gtr", "2", "audio/Gtr_T02.wav", "0", "1:1", "499200", "kept", "", "0" },
    { "Keys", "1", "audio/Keys_T01.flac", "48000", "1:3", "72000", "selected", "", "0" },
  }
  T.eq(#rows, #want + 1, "rows")
  for i, w in ipairs(want) do
    T.eq(#rows[i + 1], 9, "fields in row " .. i)
    for k = 1, 9 do T.eq(rows[i + 1][k], w[k], ("row %d field %s"):format(i, rows[1][k])) end
  end
  local doc = json.decode(read(OUT .. "/takes.json"))
  T.eq(#doc, 6)
  T.eq(doc[1].track, "Vox") T.eq(doc[1].take, 1) T.eq(doc[1].start, 96000) T.eq(doc[1].start_bbt, "2:1")
  T.eq(doc[1].length, 96000) T.eq(doc[1].status, "selected") T.eq(doc[1].file, "audio/Vox_T01.wav")
  T.eq(#doc[1].problems, 2) T.eq(doc[1].problems[1], "clipped 3 samples")
  T.eq(doc[1].problems[2], "1 xrun (at 0.100 s)")
  T.eq(#doc[2].problems, 0) T.eq(doc[2].status, "rejected")
  T.eq(doc[1].trimmed_frames, 0) T.eq(doc[2].trimmed_frames, json.null, "no copy of Vox T2")
  T.eq(doc[6].track, "Keys") T.eq(doc[6].start_bbt, "1:3")
end)

T.test("CSV quoting per RFC 4180", function()
  T.eq(export.csv_field('a "b", c'), '"a ""b"", c"')
  T.eq(export.csv_field("two\nlines"), '"two\nlines"')
  T.eq(export.csv_field(" pad"), '" pad"')
  T.eq(export.csv_field(nil), "")
  T.eq(export.csv_field(2.5), "2.5")
  T.eq(export.csv_field(4.0), "4")
  local rows = parse_csv(export.csv({ "a", "b" }, { { 'x,"y"', "l1\r\nl2" } }))
  T.eq(rows[2][1], 'x,"y"') T.eq(rows[2][2], "l1\r\nl2")
end)

T.test("sections.csv, markers.csv, tempo.csv", function()
  local rows = parse_csv(read(OUT .. "/sections.csv"))
  T.eq(table.concat(rows[1], "|"), "label|name|bar|length_bars|start|length|start_bbt|start_seconds|seconds")
  T.eq(table.concat(rows[2], "|"), "Intro|Intro|1|2|0|192000|1:1|0|4")
  T.eq(table.concat(rows[3], "|"), "Verse|Verse|3|1|192000|192000|3:1|4|4")
  T.eq(table.concat(rows[4], "|"), "Chorus|Chorus|4|1|384000|115200|4:1|8|2.4")
  T.eq(#rows, 4)
  rows = parse_csv(read(OUT .. "/markers.csv"))
  T.eq(table.concat(rows[1], "|"), "name|start|start_bbt|start_seconds")
  T.eq(table.concat(rows[2], "|"), 'Say "hi", ok|144000|2:3|3')
  T.eq(table.concat(rows[3], "|"), "Solo, pt. 2|427200|4:2.5|8.9")
  rows = parse_csv(read(OUT .. "/tempo.csv"))
  T.eq(table.concat(rows[1], "|"), "bar|bpm|meter|start|start_seconds|quarter_bpm|tick")
  T.eq(table.concat(rows[2], "|"), "1|120|4/4|0|0|120|0")
  T.eq(table.concat(rows[3], "|"), "3|90|6/8|192000|4|45|7680")
  T.eq(table.concat(rows[4], "|"), "4|100|4/4|384000|8|100|10560")
  T.eq(#rows, 4)
end)

T.test("tempo_markers.mid: tempo, meters and markers at exact ticks", function()
  local m = parse_smf(read(OUT .. "/tempo_markers.mid"))
  T.eq(m.format, 1) T.eq(m.division, 960) T.eq(#m.tracks, 1)
  local tempos, meters, markers, names = {}, {}, {}, {}
  for _, e in ipairs(m.tracks[1]) do
    if e.kind == 0x51 then
      tempos[#tempos + 1] = ("%d:%d"):format(e.tick, (e.data:byte(1) << 16) | (e.data:byte(2) << 8) | e.data:byte(3))
    elseif e.kind == 0x58 then
      meters[#meters + 1] = ("%d:%d/%d:%d:%d"):format(e.tick, e.data:byte(1), 1 << e.data:byte(2),
        e.data:byte(3), e.data:byte(4))
    elseif e.kind == 0x06 then
      markers[#markers + 1] = ("%d:%s"):format(e.tick, e.data)
    elseif e.kind == 0x03 then
      names[#names + 1] = e.data
    end
  end
  T.eq(table.concat(tempos, " "), "0:500000 7680:1333333 10560:600000")
  T.eq(table.concat(meters, " "), "0:4/4:24:8 7680:6/8:12:8 10560:4/4:24:8")
  T.eq(table.concat(markers, "|"), '0:Intro|5760:Say "hi", ok|7680:Verse|10560:Chorus|12000:Solo, pt. 2')
  T.eq(names[1], "song")
  local last = m.tracks[1][#m.tracks[1]]
  T.eq(last.kind, 0x2F, "end of track last")
  -- The MIDI tempo map puts each marker where the session has it (within
  -- the microsecond rounding of FF 51).
  local function seconds_at(tick)
    local sec, t0, us = 0, 0, 500000
    for _, e in ipairs(m.tracks[1]) do
      if e.kind == 0x51 and e.tick <= tick then
        sec = sec + (e.tick - t0) / 960 * us / 1e6
        t0, us = e.tick, (e.data:byte(1) << 16) | (e.data:byte(2) << 8) | e.data:byte(3)
      end
    end
    return sec + (tick - t0) / 960 * us / 1e6
  end
  T.near(seconds_at(12000), 427200 / RATE, 1e-5, "Solo marker")
  T.near(seconds_at(10560), 384000 / RATE, 1e-5, "Chorus")
  T.near(seconds_at(5760), 144000 / RATE, 1e-9, "2:3")
end)

T.test("song.RPP: tempo, regions, markers, tracks and items", function()
  local lines = {}
  for l in read(OUT .. "/song.RPP"):gmatch("[^\n]+") do lines[#lines + 1] = rpp_tokens(l) end
  T.eq(lines[1][1], "<REAPER_PROJECT")
  T.eq(lines[#lines][1], ">")
  local found = { PT = {}, MARKER = {}, TRACK = {} }
  local track, item
  for _, t in ipairs(lines) do
    local k = t[1]
    if k == "TEMPO" then found.TEMPO = table.concat(t, " ")
    elseif k == "SAMPLERATE" then found.SAMPLERATE = t[2]
    elseif k == "PT" then found.PT[#found.PT + 1] = ("%.9f %s %s %s"):format(tonumber(t[2]), t[3], t[4], t[5])
    elseif k == "MARKER" then
      found.MARKER[#found.MARKER + 1] = ("%s %d %s %s"):format(t[2], math.floor(tonumber(t[3]) * RATE + 0.5), t[4], t[5])
    elseif k == "<TRACK" then track = { items = {} }; found.TRACK[#found.TRACK + 1] = track
    elseif k == "NAME" and track and not item then track.name = t[2]
    elseif k == "VOLPAN" then track.vol, track.pan = tonumber(t[2]), tonumber(t[3])
    elseif k == "MUTESOLO" then track.mute = t[2]
    elseif k == "<ITEM" then item = {}; track.items[#track.items + 1] = item
    elseif item and (k == "POSITION" or k == "LENGTH" or k == "SOFFS") then
      -- Seconds that land back on the exact sample.
      local v = tonumber(t[2]) * RATE
      T.near(v, math.floor(v + 0.5), 1e-6, k)
      item[k] = math.floor(v + 0.5)
    elseif item and k == "FILE" then item.file = t[2]
    elseif item and k == "NAME" then item.name = t[2]
    elseif item and (k == "FADEIN" or k == "FADEOUT") then
      -- shape, then seconds that land on the exact sample, then the rest.
      local v = tonumber(t[3]) * RATE
      T.near(v, math.floor(v + 0.5), 1e-6, k)
      item[k] = ("%s %d %s"):format(t[2], math.floor(v + 0.5), table.concat(t, " ", 4))
    elseif k == ">" and item and item.file and not item.closed then item.closed = true
    elseif k == ">" and item and item.closed then item = nil
    end
  end
  T.eq(found.SAMPLERATE, "48000")
  T.eq(found.TEMPO, "TEMPO 120 4 4")
  T.eq(table.concat(found.PT, "|"), "0.000000000 120 1 262148|4.000000000 45 1 524294|8.000000000 100 1 262148")
  T.eq(table.concat(found.MARKER, "|"), table.concat({ "1 0 Intro 1", "1 192000  1", "2 192000 Verse 1",
    "2 384000  1", "3 384000 Chorus 1", "3 499200  1", '4 144000 Say "hi", ok 0', "5 427200 Solo, pt. 2 0" }, "|"))
  T.eq(#found.TRACK, 4)
  local function items(tr)
    local out = {}
    for _, it in ipairs(tr.items) do
      out[#out + 1] = ("%s@%d+%d/%d"):format(it.file, it.POSITION, it.LENGTH, it.SOFFS)
      if it.FADEIN then out[#out] = out[#out] .. " in:" .. it.FADEIN end
      if it.FADEOUT then out[#out] = out[#out] .. " out:" .. it.FADEOUT end
    end
    return table.concat(out, " | ")
  end
  local vox, bass, gtr, keys = table.unpack(found.TRACK)
  T.eq(vox.name, "Vox") T.near(vox.vol, 10 ^ (-6 / 20), 1e-9) T.eq(vox.pan, -0.5)
  T.eq(items(vox), "audio/Vox_T01.wav@96000+96000/0")
  T.eq(bass.name, "Bass") T.eq(bass.vol, 1) T.eq(items(bass), "audio/Bass_T01.wav@0+499200/0")
  T.eq(gtr.name, "Gtr")
  -- Comp switches at 192000 and 384000, 10 ms (480 frames): each item runs
  -- on 240 frames past its switch, each incoming one starts 240 early, 240
  -- frames further back in its file, with equal-power (shape 1) fades of
  -- 480 frames over the overlap. The first item starts and the last ends
  -- where their regions do, unfaded.
  T.eq(items(gtr), table.concat({
    "audio/Gtr_T01.wav@0+192240/0 out:1 480 0 1 0 0 0",
    "audio/Gtr_T02.wav@191760+192480/191760 in:1 480 0 1 0 0 0 out:1 480 0 1 0 0 0",
    "audio/Gtr_T01.wav@383760+115440/383760 in:1 480 0 1 0 0 0" }, " | "))
  T.eq(keys.name, "Keys") T.eq(keys.mute, "1") T.eq(items(keys), "audio/Keys_T01.wav@48000+72000/0")
  T.eq(vox.mute, "0")
end)

T.test("song.dawproject: zip with project.xml and metadata.xml read back", function()
  local list = assert(zip.list(OUT .. "/song.dawproject"))
  local names = {}
  for i, e in ipairs(list) do names[i] = e.name end
  T.eq(table.concat(names, ","), "project.xml,metadata.xml")
  local meta = assert(zip.read(OUT .. "/song.dawproject", "metadata.xml"))
  T.ok(meta:find("<Title>song</Title>", 1, true), "metadata title")
  local els = xml_elements(assert(zip.read(OUT .. "/song.dawproject", "project.xml")))
  T.eq(els[1].tag, "Project") T.eq(els[1].attrs.version, "1.0")
  local by_id, tracks, clips, markers, tempo_pts, ts_pts = {}, {}, {}, {}, {}, {}
  local lane_track, clip
  local section
  for _, e in ipairs(els) do
    if e.attrs.id then by_id[e.attrs.id] = e end
    if e.tag == "Track" and e.depth == 2 then tracks[#tracks + 1] = e end
    if e.tag == "Lanes" and e.attrs.track then lane_track = e.attrs.track; clips[lane_track] = {} end
    if e.tag == "Clip" then clip = { clip = e.attrs }; table.insert(clips[lane_track], clip) end
    if e.tag == "Audio" then clip.audio = e.attrs end
    if e.tag == "File" then clip.file = e.attrs end
    if e.tag == "Marker" then markers[#markers + 1] = e.attrs end
    if e.tag == "TempoAutomation" or e.tag == "TimeSignatureAutomation" then section = e.tag end
    if e.tag == "RealPoint" and section == "TempoAutomation" then tempo_pts[#tempo_pts + 1] = e.attrs end
    if e.tag == "TimeSignaturePoint" then ts_pts[#ts_pts + 1] = e.attrs end
  end
  T.eq(by_id.tempo.tag, "Tempo") T.eq(by_id.tempo.attrs.value, "120") T.eq(by_id.tempo.attrs.unit, "bpm")
  T.eq(by_id.timesig.attrs.numerator, "4") T.eq(by_id.timesig.attrs.denominator, "4")
  local tnames = {}
  for i, t in ipairs(tracks) do tnames[i] = t.attrs.name end
  T.eq(table.concat(tnames, ","), "Vox,Bass,Gtr,Keys,Master")
  T.eq(by_id.volume1.attrs.value, "-6") T.eq(by_id.volume1.attrs.unit, "decibel")
  T.eq(by_id.pan1.attrs.value, "0.25") T.eq(by_id.mute4.attrs.value, "true")
  T.eq(by_id.lanes.attrs.timeUnit, "seconds")
  local function at(x) return math.floor(tonumber(x) * RATE + 0.5) end
  local function clip_text(id)
    local out = {}
    for _, c in ipairs(clips[id]) do
      T.eq(c.file.external, "true")
      T.eq(c.clip.contentTimeUnit, "seconds")
      out[#out + 1] = ("%s@%d+%d/%d"):format(c.file.path, at(c.clip.time), at(c.clip.duration), at(c.clip.playStart))
      T.eq(c.clip.fadeTimeUnit, (c.clip.fadeInTime or c.clip.fadeOutTime) and "seconds" or nil, "fadeTimeUnit")
      if c.clip.fadeInTime then out[#out] = out[#out] .. " in:" .. at(c.clip.fadeInTime) end
      if c.clip.fadeOutTime then out[#out] = out[#out] .. " out:" .. at(c.clip.fadeOutTime) end
    end
    return table.concat(out, " | ")
  end
  T.eq(clip_text("track1"), "audio/Vox_T01.wav@96000+96000/0")
  T.eq(clip_text("track2"), "audio/Bass_T01.wav@0+499200/0")
  T.eq(clip_text("track3"), "audio/Gtr_T01.wav@0+192240/0 out:480 | "
    .. "audio/Gtr_T02.wav@191760+192480/191760 in:480 out:480 | audio/Gtr_T01.wav@383760+115440/383760 in:480")
  T.eq(clip_text("track4"), "audio/Keys_T01.wav@48000+72000/0")
  T.eq(clips.track3[2].audio.channels, "2") T.eq(clips.track3[2].audio.sampleRate, "48000")
  T.eq(at(clips.track3[2].audio.duration), 499200)
  local mk = {}
  for i, m in ipairs(markers) do mk[i] = ("%d:%s"):format(at(m.time), m.name) end
  T.eq(table.concat(mk, "|"), '0:Intro|144000:Say "hi", ok|192000:Verse|384000:Chorus|427200:Solo, pt. 2')
  local tp = {}
  for i, p in ipairs(tempo_pts) do tp[i] = ("%d:%s"):format(at(p.time), p.value) end
  T.eq(table.concat(tp, " "), "0:120 192000:45 384000:100")
  local ts = {}
  for i, p in ipairs(ts_pts) do ts[i] = ("%d:%s/%s"):format(at(p.time), p.numerator, p.denominator) end
  T.eq(table.concat(ts, " "), "0:4/4 192000:6/8 384000:4/4")
  -- Every file the project references is in the package.
  for _, list2 in pairs(clips) do
    for _, c in ipairs(list2) do T.ok(core.exists(OUT .. "/" .. c.file.path), c.file.path) end
  end
end)

T.test("the Gtr stem crossfades its comp switches (10 ms, s:render's default)", function()
  -- Intro from T1, Verse from T2 from 192000: 480 frames centred on the
  -- switch, each take read from its own file (both cover the whole song).
  local at, h = 192000, 240
  local stem = core.read_frames(OUT .. "/stems/Gtr.wav", at - h - 2, 2 * h + 4)
  local t1 = core.read_frames(DIR .. "/audio/Gtr_T01.wav", at - h - 2, 2 * h + 4)
  local t2 = core.read_frames(DIR .. "/audio/Gtr_T02.wav", at - h - 2, 2 * h + 4)
  for i = 0, 2 * h + 3 do
    local t = at - h - 2 + i
    for c = 1, 2 do
      local k = 2 * i + c
      local want
      if t < at - h then want = t1[k]
      elseif t >= at + h then want = t2[k]
      else
        local x = (t - (at - h) + 0.5) / (2 * h) * math.pi / 2
        want = t1[k] * math.cos(x) + t2[k] * math.sin(x)
      end
      T.near(stem[k], want, 2 / 8388608, ("Gtr stem frame %d channel %d"):format(t, c))
    end
  end
end)

T.test("README.txt says comps are crossfaded alike everywhere", function()
  T.ok(read(OUT .. "/README.txt"):find("Comp switches (where a track's comp hands over from one take to another)\n"
    .. "are crossfaded, equal power, over 10 ms centred on the switch (less where a\n"
    .. "take has less audio beyond it) in the stems, the mix and the projects alike:\n"
    .. "the projects' items overlap there and carry the matching fades.\n", 1, true), "README: comps")
end)

T.test("comp_crossfades: h per switch, each limit of the render's rule", function()
  local function it(at, offset, frames, file_frames, source)
    return { at = at, offset = offset, frames = frames, file_frames = file_frames, source = source or "a.wav" }
  end
  local function hs(items, xf) return table.concat(export.comp_crossfades(items, xf), ",") end
  -- Plenty on every side: crossfade // 2 (481 frames: 240).
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 1000, 1000, 5000, "b.wav") }, 481), "240,0")
  -- The outgoing file has 100 frames after its region; the incoming region
  -- starts 60 frames into its file; half the shorter region is 30; the
  -- switch is 20 frames from sample 0.
  T.eq(hs({ it(0, 0, 1000, 1100), it(1000, 1000, 1000, 5000, "b.wav") }, 480), "100,0")
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 60, 1000, 5000, "b.wav") }, 480), "60,0")
  T.eq(hs({ it(0, 0, 60, 5000), it(60, 1000, 1000, 5000, "b.wav") }, 480), "30,0")
  T.eq(hs({ it(0, 500, 20, 5000), it(20, 1000, 1000, 5000, "b.wav") }, 480), "10,0")
  T.eq(hs({ it(0, 500, 40, 5000), it(40, 1000, 1000, 5000, "b.wav") }, 480), "20,0")
  -- No switch: a gap, the next frame of the same file, no audio beyond the
  -- cut, a crossfade of 0 or 1 frame.
  T.eq(hs({ it(0, 0, 1000, 5000), it(1001, 1001, 1000, 5000, "b.wav") }, 480), "0,0")
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 1000, 1000, 5000) }, 480), "0,0")
  T.eq(hs({ it(0, 0, 1000, 1000), it(1000, 1000, 1000, 5000, "b.wav") }, 480), "0,0")
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 0, 1000, 5000, "b.wav") }, 480), "0,0")
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 1000, 1000, 5000, "b.wav") }, 1), "0,0")
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 1000, 1000, 5000, "b.wav") }, 0), "0,0")
  -- The same file elsewhere (a loop back) is a switch; three regions, two
  -- switches.
  T.eq(hs({ it(0, 0, 1000, 5000), it(1000, 3000, 1000, 5000), it(2000, 2000, 1000, 5000, "b.wav") }, 480),
    "240,240,0")
end)

-- A comp whose takes leave the crossfade less room than 10 ms: Gtr T1
-- ends 100 frames after the Intro (h = 100); Keys T2 starts
-- 60 frames before the Verse (h = 60) and ends 40 after it (h = 40). Bars
-- of 96000 samples (120 bpm 4/4); Intro bar 1, Verse bar 2, Chorus bar 3.
local function tight()
  local root = T.tmpdir()
  local dir = root .. "/tight"
  local s = assert(reel.new(dir, { rate = RATE, tempo = 120, meter = "4/4",
    tracks = { { name = "Gtr", input = 1 }, { name = "Keys", input = 2 } },
    sections = { { "Intro", 1 }, { "Verse", 1 }, { "Chorus", 1 } } }))
  local audio = dir .. "/audio/"
  local function wav(name, frames, freq)
    sh(("sox -D -n -r 48000 -b 24 -c 1 %s%s synth %ds sine %d gain -6"):format(audio, name, frames, freq))
  end
  wav("Gtr_T01.wav", 96100, 220) wav("Gtr_T02.wav", 288000, 330)
  wav("Keys_T01.wav", 288000, 440) wav("Keys_T02.wav", 96100, 550)
  local function take(track, n, start, frames)
    s.takes[#s.takes + 1] = { track = track, take = n, file = ("audio/%s_T%02d.wav"):format(track, n),
      start = start, frames = frames, rate = RATE, format = "wav24" }
  end
  take("Gtr", 1, 0, 96100) take("Gtr", 2, 0, 288000)
  take("Keys", 1, 0, 288000) take("Keys", 2, 95940, 96100)
  s:comp("Gtr", "Intro", 1) s:comp("Gtr", "Verse", 2) s:comp("Gtr", "Chorus", 2)
  s:comp("Keys", "Intro", 1) s:comp("Keys", "Verse", 2) s:comp("Keys", "Chorus", 1)
  assert(s:save())
  return assert(reel.open(dir)), root, dir
end

-- The projects' items, per track: "file@position+length/offset in:N out:N"
-- (samples), from the RPP and from the DAWproject, which must agree.
local function project_items(out, name)
  name = name or "tight"
  local rpp, cur = {}, nil
  for l in read(out .. "/" .. name .. ".RPP"):gmatch("[^\n]+") do
    local t = rpp_tokens(l)
    local function smp(x) return math.floor(tonumber(x) * RATE + 0.5) end
    if t[1] == "NAME" and not cur and l:match("^    NAME") then rpp[#rpp + 1] = {}
    elseif t[1] == "<ITEM" then cur = {}
    elseif cur and t[1] == "POSITION" then cur.pos = smp(t[2])
    elseif cur and t[1] == "LENGTH" then cur.len = smp(t[2])
    elseif cur and t[1] == "SOFFS" then cur.off = smp(t[2])
    elseif cur and t[1] == "FADEIN" then
      T.eq(t[2], "1", "equal-power shape") cur.fin = smp(t[3])
    elseif cur and t[1] == "FADEOUT" then
      T.eq(t[2], "1", "equal-power shape") cur.fout = smp(t[3])
    elseif cur and t[1] == "FILE" then
      local list = rpp[#rpp]
      list[#list + 1] = ("%s@%d+%d/%d%s%s"):format(t[2], cur.pos, cur.len, cur.off,
        cur.fin and (" in:" .. cur.fin) or "", cur.fout and (" out:" .. cur.fout) or "")
      cur = nil
    end
  end
  local dp, track = {}, nil
  for _, e in ipairs(xml_elements(assert(zip.read(out .. "/" .. name .. ".dawproject", "project.xml")))) do
    local function smp(x) return math.floor(tonumber(x) * RATE + 0.5) end
    if e.tag == "Clips" then track = {}; dp[#dp + 1] = track end
    if e.tag == "Clip" then
      local a = e.attrs
      track[#track + 1] = ("@%d+%d/%d%s%s"):format(smp(a.time), smp(a.duration), smp(a.playStart),
        a.fadeInTime and (" in:" .. smp(a.fadeInTime)) or "", a.fadeOutTime and (" out:" .. smp(a.fadeOutTime)) or "")
    end
    if e.tag == "File" then track[#track] = e.attrs.path .. track[#track] end
  end
  for i = 1, #rpp do T.eq(table.concat(dp[i], " | "), table.concat(rpp[i], " | "), "DAWproject = RPP") end
  T.eq(#dp, #rpp)
  for i = 1, #rpp do rpp[i] = table.concat(rpp[i], " | ") end
  return rpp
end

-- The stem around a switch at `at` crossfaded over [at - h, at + h) from
-- take files a and b (their frames at the same timeline positions, since
-- both start at 0 unless a start is given), hard outside.
local function check_switch(stem, at, h, a, b, what)
  local from, n = at - h - 3, 2 * h + 6
  local got = core.read_frames(stem, from, n)
  -- A take's frames at timeline [from, from + n), 0 outside its file (only
  -- frames inside it are ever used below).
  local function frames(t)
    local first = from - t.start
    local list = core.read_frames(t.path, math.max(0, first), n - math.max(0, -first))
    local out = {}
    for i = 1, n do out[i] = list[i - math.max(0, -first)] or 0 end
    return out
  end
  local x, y = frames(a), frames(b)
  for i = 1, n do
    local t = from + i - 1
    local want
    if t < at - h then want = x[i]
    elseif t >= at + h then want = y[i]
    else
      local p = (t - (at - h) + 0.5) / (2 * h) * math.pi / 2
      want = x[i] * math.cos(p) + y[i] * math.sin(p)
    end
    T.near(got[i], want, 2 / 8388608, ("%s frame %d"):format(what, t))
  end
end

T.test("a take with less audio beyond the switch shortens the crossfade, in the stems and the projects", function()
  local s, root, dir = tight()
  local out = root .. "/pkg"
  assert(s:export{ to = out })
  local items = project_items(out)
  -- Gtr: T1 has 100 frames after the Intro (h = 100); the Verse and the
  -- Chorus are one stretch of T2, no switch, no fade.
  T.eq(items[1], "audio/Gtr_T01.wav@0+96100/0 out:200 | audio/Gtr_T02.wav@95900+96100/95900 in:200 | "
    .. "audio/Gtr_T02.wav@192000+96000/192000")
  -- Keys: T2 starts 60 frames before the Verse (h = 60) and ends 40 after
  -- it (h = 40).
  T.eq(items[2], "audio/Keys_T01.wav@0+96060/0 out:120 | audio/Keys_T02.wav@95940+96100/0 in:120 out:80 | "
    .. "audio/Keys_T01.wav@191960+96040/191960 in:80")
  -- The stems crossfade over exactly those frames.
  local A = dir .. "/audio/"
  check_switch(out .. "/stems/Gtr.wav", 96000, 100, { path = A .. "Gtr_T01.wav", start = 0 },
    { path = A .. "Gtr_T02.wav", start = 0 }, "Gtr")
  check_switch(out .. "/stems/Keys.wav", 96000, 60, { path = A .. "Keys_T01.wav", start = 0 },
    { path = A .. "Keys_T02.wav", start = 95940 }, "Keys in")
  check_switch(out .. "/stems/Keys.wav", 192000, 40, { path = A .. "Keys_T02.wav", start = 95940 },
    { path = A .. "Keys_T01.wav", start = 0 }, "Keys out")
end)

T.test("comp_crossfade_ms = 0: hard cuts in the stems and the projects, and the README says so", function()
  local s, root, dir = tight()
  local out = root .. "/hard"
  assert(s:export{ to = out, comp_crossfade_ms = 0 })
  local items = project_items(out)
  T.eq(items[1], "audio/Gtr_T01.wav@0+96000/0 | audio/Gtr_T02.wav@96000+96000/96000 | "
    .. "audio/Gtr_T02.wav@192000+96000/192000")
  T.eq(items[2], "audio/Keys_T01.wav@0+96000/0 | audio/Keys_T02.wav@96000+96000/60 | "
    .. "audio/Keys_T01.wav@192000+96000/192000")
  T.ok(not read(out .. "/tight.RPP"):find("FADE", 1, true), "no fades in the RPP")
  local stem = core.read_frames(out .. "/stems/Gtr.wav", 95999, 2)
  T.eq(stem[1], core.read_frames(dir .. "/audio/Gtr_T01.wav", 95999, 1)[1], "last Intro frame: T1")
  T.eq(stem[2], core.read_frames(dir .. "/audio/Gtr_T02.wav", 96000, 1)[1], "first Verse frame: T2")
  T.ok(read(out .. "/README.txt"):find("Comp switches (where a track's comp hands over from one take to another)\n"
    .. "are hard cuts, in the stems, the mix and the projects alike.\n", 1, true), "README: hard cuts")
  -- 1 ms: 48 frames, h = 24 wherever the takes allow it.
  out = root .. "/short"
  assert(s:export{ to = out, comp_crossfade_ms = 1 })
  items = project_items(out)
  T.eq(items[2], "audio/Keys_T01.wav@0+96024/0 out:48 | audio/Keys_T02.wav@95976+96048/36 in:48 out:48 | "
    .. "audio/Keys_T01.wav@191976+96024/191976 in:48")
  check_switch(out .. "/stems/Keys.wav", 192000, 24, { path = dir .. "/audio/Keys_T02.wav", start = 95940 },
    { path = dir .. "/audio/Keys_T01.wav", start = 0 }, "Keys 1 ms")
end)

-- ------------------------------------------------------------ pre-roll takes

-- Takes begun in a pre-roll, before 1:1: 120 bpm, bar 1 a 1/4 pickup (0 to
-- 24000), bar 2 4/4 (24000 to 120000). Vox T1 (24-bit mono noise) starts
-- 4800 frames early; Pad T1 (32-bit float stereo noise) 1000 early; Keys
-- T1 (FLAC, 24-bit) 2400 early; Bass T1 starts at 24000 (a plain copy);
-- Gtr is comped: the Pickup from T1 (from 0), the Verse from T2, begun 4800
-- early, so the switch at 24000 is one where the incoming take was cut;
-- Vox T2, begun in a pre-roll too, is rejected (not in the package).
local function preroll()
  local root = T.tmpdir()
  local dir = root .. "/pre"
  local s = assert(reel.new(dir, { rate = RATE, tempo = 120, meter = "1/4",
    tracks = { { name = "Vox", input = 1 }, { name = "Pad", input = { 2, 3 } }, { name = "Keys", input = 4 },
               { name = "Bass", input = 5 }, { name = "Gtr", input = 6 } },
    sections = { { "Pickup", 1 }, { "Verse", 1 } } }))
  s:set_tempo(2, 120, "4/4")
  local audio = dir .. "/audio/"
  local function sox(opts, name, frames, what)
    sh(("sox -D -n -r 48000 %s %s%s synth %ds %s gain -12"):format(opts, audio, name, frames, what))
  end
  sox("-b 24 -c 1", "Vox_T01.wav", 124800, "whitenoise")
  sox("-b 24 -c 1", "Vox_T02.wav", 24000, "whitenoise")
  sox("-e floating-point -b 32 -c 2", "Pad_T01.wav", 121000, "whitenoise")
  sox("-b 24 -c 1", "Keys_T01.flac", 50000, "whitenoise")
  sox("-b 24 -c 1", "../../bass.wav", 96000, "sine 55")
  sox("-b 24 -c 1", "../../gtr1.wav", 120000, "sine 220")
  -- With their time references already, so that they are copied as they are.
  assert(bwf.rewrite(root .. "/bass.wav", audio .. "Bass_T01.wav", { time_reference = 24000 }))
  assert(bwf.rewrite(root .. "/gtr1.wav", audio .. "Gtr_T01.wav", { time_reference = 0 }))
  sox("-b 24 -c 1", "Gtr_T02.wav", 124800, "whitenoise")
  local function take(track, n, start, frames, format, status)
    s.takes[#s.takes + 1] = { track = track, take = n, start = start, frames = frames, rate = RATE,
      file = ("audio/%s_T%02d.%s"):format(track, n, format == "flac" and "flac" or "wav"),
      format = format or "wav24", status = status }
  end
  take("Vox", 1, -4800, 124800, nil, "selected")
  take("Vox", 2, -4800, 24000, nil, "rejected")
  take("Pad", 1, -1000, 121000, "wav32f", "selected")
  take("Keys", 1, -2400, 50000, "flac", "selected")
  take("Bass", 1, 24000, 96000, nil, "selected")
  take("Gtr", 1, 0, 120000) take("Gtr", 2, -4800, 124800)
  s:comp("Gtr", "Pickup", 1) s:comp("Gtr", "Verse", 2)
  assert(s:save())
  return assert(reel.open(dir)), root, dir
end

local function popen_read(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null"))
  local text = p:read("a")
  p:close()
  return (text:gsub("%s+$", ""))
end

-- The bytes of a WAV file's data chunk, read by hand (no libsndfile).
local function wav_data(path)
  local d = read(path)
  T.eq(d:sub(1, 4), "RIFF", path) T.eq(d:sub(9, 12), "WAVE", path)
  local pos = 13
  while pos + 8 <= #d do
    local id, size = d:sub(pos, pos + 3), string.unpack("<I4", d, pos + 4)
    if id == "data" then return d:sub(pos + 8, pos + 7 + size) end
    pos = pos + 8 + size + (size & 1)
  end
  error(path .. ": no data chunk")
end

do
  local S2, ROOT2, DIR2 = preroll()
  local before = {}
  for _, f in ipairs(core.list_dir(DIR2 .. "/audio")) do before[f] = sha(DIR2 .. "/audio/" .. f) end
  local OUT2 = ROOT2 .. "/pkg"
  local R2, ERR2 = S2:export{ to = OUT2, comp_crossfade_ms = 1000 }
  local A, P = DIR2 .. "/audio/", OUT2 .. "/audio/"

  T.test("pre-roll takes: trimmed to 1:1 in audio/, time reference 0; the others copied whole", function()
    T.ok(R2, ERR2)
    local how = {}
    for _, a in ipairs(R2.audio) do how[a.file] = ("%s/%s/%d"):format(a.how, a.bext, a.trimmed_frames) end
    T.eq(how["audio/Vox_T01.wav"], "trimmed/kept/4800")
    T.eq(how["audio/Pad_T01.wav"], "trimmed/kept/1000")
    T.eq(how["audio/Keys_T01.wav"], "trimmed/kept/2400")
    T.eq(how["audio/Gtr_T02.wav"], "trimmed/kept/4800")
    T.eq(how["audio/Bass_T01.wav"], "copy/kept/0")
    T.eq(how["audio/Gtr_T01.wav"], "copy/kept/0")
    T.eq(#R2.audio, 6, "no copy of the rejected Vox T2")
    -- Time references, lengths and sample formats (soxi).
    local want = { Vox_T01 = { 0, 120000, "24", "Signed Integer PCM" },
      Pad_T01 = { 0, 120000, "32", "Floating Point PCM" }, Keys_T01 = { 0, 47600, "24", "Signed Integer PCM" },
      Gtr_T02 = { 0, 120000, "24", "Signed Integer PCM" }, Bass_T01 = { 24000, 96000, "24", "Signed Integer PCM" },
      Gtr_T01 = { 0, 120000, "24", "Signed Integer PCM" } }
    for name, w in pairs(want) do
      local f = P .. name .. ".wav"
      T.eq(bwf.read(f).time_reference, w[1], name .. " time reference")
      T.eq(popen_read("soxi -s " .. f), tostring(w[2]), name .. " frames")
      T.eq(popen_read("soxi -b " .. f), w[3], name .. " bits")
      T.eq(popen_read("soxi -e " .. f), w[4], name .. " encoding")
    end
    T.eq(popen_read("soxi -c " .. P .. "Pad_T01.wav"), "2")
    -- Bit for bit the source's frames from N on: the data chunks, read by
    -- hand (24-bit: 3 bytes a frame; float stereo: 8), and sox's decoding.
    T.ok(wav_data(P .. "Vox_T01.wav") == wav_data(A .. "Vox_T01.wav"):sub(4800 * 3 + 1), "Vox samples")
    T.ok(wav_data(P .. "Gtr_T02.wav") == wav_data(A .. "Gtr_T02.wav"):sub(4800 * 3 + 1), "Gtr T2 samples")
    T.ok(wav_data(P .. "Pad_T01.wav") == wav_data(A .. "Pad_T01.wav"):sub(1000 * 8 + 1), "Pad samples")
    T.eq(#wav_data(P .. "Pad_T01.wav"), 120000 * 8)
    sh(("sox %sKeys_T01.flac -t raw %s/keys_src.raw trim 2400s"):format(A, ROOT2))
    sh(("sox %sKeys_T01.wav -t raw %s/keys_pkg.raw"):format(P, ROOT2))
    sh(("sox %sVox_T01.wav -t raw %s/vox_src.raw trim 4800s"):format(A, ROOT2))
    sh(("sox %sVox_T01.wav -t raw %s/vox_pkg.raw"):format(P, ROOT2))
    T.eq(#read(ROOT2 .. "/keys_pkg.raw"), 47600 * 3)
    T.ok(read(ROOT2 .. "/keys_pkg.raw") == read(ROOT2 .. "/keys_src.raw"), "Keys samples (sox)")
    T.ok(read(ROOT2 .. "/vox_pkg.raw") == read(ROOT2 .. "/vox_src.raw"), "Vox samples (sox)")
    -- Takes that start at or after 1:1 are byte copies.
    T.eq(sha(P .. "Bass_T01.wav"), before["Bass_T01.wav"], "Bass: byte copy")
    T.eq(sha(P .. "Gtr_T01.wav"), before["Gtr_T01.wav"], "Gtr T1: byte copy")
    -- The session keeps its takes whole.
    for f, h in pairs(before) do T.eq(sha(A .. f), h, f) end
    T.eq(popen_read("soxi -s " .. A .. "Vox_T01.wav"), "124800")
  end)

  T.test("pre-roll takes: the projects' items count offsets in the trimmed files", function()
    local items = project_items(OUT2, "pre")
    T.eq(items[1], "audio/Vox_T01.wav@0+120000/0")
    T.eq(items[2], "audio/Pad_T01.wav@0+120000/0")
    T.eq(items[3], "audio/Keys_T01.wav@0+47600/0")
    T.eq(items[4], "audio/Bass_T01.wav@24000+96000/0")
    -- The comp switch at 24000 (1000 ms: h at most 24000): h = 12000, half
    -- the Pickup, as the render has it from the untrimmed T2 (offset 28800
    -- there). The incoming item starts at 12000, 12000 into the trimmed
    -- T2: in a trimmed file the offset is the timeline position, and h,
    -- never more than the switch's distance from 1:1, cannot reach before
    -- the trim point.
    T.eq(items[5], "audio/Gtr_T01.wav@0+36000/0 out:24000 | audio/Gtr_T02.wav@12000+108000/12000 in:24000")
    T.eq(table.concat(export.comp_crossfades({
      { at = 0, offset = 0, frames = 24000, file_frames = 120000, source = A .. "Gtr_T01.wav" },
      { at = 24000, offset = 28800, frames = 96000, file_frames = 124800, source = A .. "Gtr_T02.wav" } },
      48000), ","), "12000,0", "h from the session's files")
    check_switch(OUT2 .. "/stems/Gtr.wav", 24000, 12000, { path = A .. "Gtr_T01.wav", start = 0 },
      { path = A .. "Gtr_T02.wav", start = -4800 }, "Gtr stem")
    -- Each item starts on the same audio as before the trim: the package
    -- file at its offset holds the session file's frames at offset + N.
    local function same(pkg, off, src, src_off, what)
      local a = core.read_frames(pkg, off, 64)
      local b = core.read_frames(src, src_off, 64)
      T.eq(#a, #b, what)
      for i = 1, #b do T.eq(a[i], b[i], ("%s sample %d"):format(what, i)) end
    end
    same(P .. "Vox_T01.wav", 0, A .. "Vox_T01.wav", 4800, "Vox item start")
    same(P .. "Pad_T01.wav", 0, A .. "Pad_T01.wav", 1000, "Pad item start")
    same(P .. "Keys_T01.wav", 0, A .. "Keys_T01.flac", 2400, "Keys item start")
    same(P .. "Gtr_T02.wav", 12000, A .. "Gtr_T02.wav", 16800, "Gtr T2 item start")
    same(P .. "Bass_T01.wav", 0, A .. "Bass_T01.wav", 0, "Bass item start")
    -- The DAWproject's Audio durations are the trimmed files' lengths.
    local dur = {}
    local audio_len
    for _, e in ipairs(xml_elements(assert(zip.read(OUT2 .. "/pre.dawproject", "project.xml")))) do
      if e.tag == "Audio" then audio_len = math.floor(tonumber(e.attrs.duration) * RATE + 0.5) end
      if e.tag == "File" and audio_len then dur[#dur + 1] = e.attrs.path .. "=" .. audio_len; audio_len = nil end
    end
    T.eq(table.concat(dur, " "), "audio/Vox_T01.wav=120000 audio/Pad_T01.wav=120000 audio/Keys_T01.wav=47600 "
      .. "audio/Bass_T01.wav=96000 audio/Gtr_T01.wav=120000 audio/Gtr_T02.wav=120000")
  end)

  T.test("pre-roll takes: takes.csv and takes.json keep the session's takes and say the trim", function()
    local rows = parse_csv(read(OUT2 .. "/takes.csv"))
    local got = {}
    for i = 2, #rows do got[#got + 1] = table.concat(rows[i], "|") end
    T.eq(table.concat(got, "\n"), table.concat({
      "Vox|1|audio/Vox_T01.wav|-4800|0:1.8|124800|selected||4800",
      "Vox|2|audio/Vox_T02.wav|-4800|0:1.8|24000|rejected||",
      "Pad|1|audio/Pad_T01.wav|-1000|0:1.958|121000|selected||1000",
      "Keys|1|audio/Keys_T01.flac|-2400|0:1.9|50000|selected||2400",
      "Bass|1|audio/Bass_T01.wav|24000|2:1|96000|selected||0",
      "Gtr|1|audio/Gtr_T01.wav|0|1:1|120000|kept||0",
      "Gtr|2|audio/Gtr_T02.wav|-4800|0:1.8|124800|kept||4800" }, "\n"))
    local doc = json.decode(read(OUT2 .. "/takes.json"))
    T.eq(doc[1].start, -4800) T.eq(doc[1].length, 124800) T.eq(doc[1].trimmed_frames, 4800)
    T.eq(doc[2].trimmed_frames, json.null) T.eq(doc[4].trimmed_frames, 2400) T.eq(doc[5].trimmed_frames, 0)
    T.ok(read(OUT2 .. "/README.txt"):find("Takes begun in a pre-roll (before 1:1) are trimmed to 1:1 in audio/, time\n"
      .. "reference 0 (the session keeps them whole; takes.csv: trimmed_frames).\n", 1, true), "README: trim")
  end)
end

T.test("bwf.rewrite skip: the frames after it, and misuse word for word", function()
  local root = T.tmpdir()
  sh(("sox -D -n -r 48000 -b 16 -c 1 %s/a.wav synth 1000s whitenoise gain -6"):format(root))
  local src = root .. "/a.wav"
  T.eq(bwf.rewrite(src, root .. "/b.wav", { time_reference = 7, skip = 999 }), 1)
  T.ok(wav_data(root .. "/b.wav") == wav_data(src):sub(999 * 2 + 1), "the last frame")
  T.eq(popen_read("soxi -b " .. root .. "/b.wav"), "16")
  T.eq(bwf.read(root .. "/b.wav").time_reference, 7)
  T.eq(bwf.rewrite(src, root .. "/c.wav", { time_reference = 0, skip = 0 }), 1000)
  T.ok(wav_data(root .. "/c.wav") == wav_data(src), "skip 0: every frame")
  local function misuse(skip, msg)
    local where = T.here(1)
    local err = T.raises(function() bwf.rewrite(src, root .. "/d.wav", { time_reference = 0, skip = skip }) end,
      msg, where)
    T.eq(err, where .. " " .. msg)
    T.eq(core.exists(root .. "/d.wav"), false, "no file for skip " .. tostring(skip))
  end
  misuse(-1, "bad argument #3 to 'rewrite' (skip: a frame count (integer >= 0) expected, got -1)")
  misuse(2.5, "bad argument #3 to 'rewrite' (skip: a frame count (integer >= 0) expected, got 2.5)")
  misuse("10", "bad argument #3 to 'rewrite' (skip: a frame count (integer >= 0) expected, got string)")
  misuse(1000, "bad argument #3 to 'rewrite' (skip: 1000 frames, not less than the 1000 frames of "
    .. src .. ")")
  misuse(5000, "bad argument #3 to 'rewrite' (skip: 5000 frames, not less than the 1000 frames of "
    .. src .. ")")
  -- A missing source is the outside world's failure, whatever skip says.
  local r, err = bwf.rewrite(root .. "/none.wav", root .. "/d.wav", { time_reference = 0, skip = 5 })
  T.eq(r, nil) T.ok(err:find(root .. "/none.wav: ", 1, true) == 1, err)
end)

T.test("a variant: its mix, stems, sections and tempo; items are the stems", function()
  local s = assert(reel.open(DIR))
  s:variant("short", function(a) a:drop("Verse") end)
  local out = ROOT .. "/short"
  local r = assert(s:export{ to = out, variant = "short" })
  T.eq(r.variant, "short")
  T.eq(r.frames, 307200, "Intro 192000 + Chorus 115200")
  local rows = parse_csv(read(out .. "/sections.csv"))
  T.eq(table.concat(rows[2], "|"), "Intro|Intro|1|2|0|192000|1:1|0|4")
  T.eq(table.concat(rows[3], "|"), "Chorus|Chorus|3|1|192000|115200|3:1|4|2.4")
  rows = parse_csv(read(out .. "/tempo.csv"))
  T.eq(table.concat(rows[2], "|"), "1|120|4/4|0|0|120|0")
  T.eq(table.concat(rows[3], "|"), "3|100|4/4|192000|4|100|7680")
  T.eq(#rows, 3)
  local text = read(out .. "/song.RPP")
  T.ok(text:find('FILE "stems/Gtr.wav"', 1, true), "Gtr item is its stem")
  T.ok(text:find("POSITION 0.00000000000000\n      LENGTH 6.40000000000000", 1, true), "stem at 0, 6.4 s")
  T.eq(select(2, text:gsub("<ITEM", "")), 4)
  T.eq(#parse_csv(read(out .. "/takes.csv")), 7, "takes.csv lists the session's takes")
  T.eq(bwf.read(out .. "/stems/Vox.wav").time_reference, 0)
  T.eq(core.sound_info(out .. "/mix.wav").frames, 307200)
  T.eq(#(core.list_dir(out .. "/audio")), 0, "no takes for a variant")
end)

T.test("errors: non-empty target, inside the session, unknown variant, bad options", function()
  local r, err = S:export{ to = OUT }
  T.eq(r, nil)
  T.eq(err, OUT .. ": folder is not empty; export writes into a new or empty folder (force replaces files in it)")
  r, err = S:export{ to = DIR .. "/pkg" }
  T.eq(err, DIR .. "/pkg: is inside the session folder " .. DIR .. "; export writes only outside it")
  T.eq(core.exists(DIR .. "/pkg"), false, "nothing created")
  r, err = S:export{ to = ROOT }
  T.eq(err, ROOT .. ": holds the session folder " .. DIR .. "; export writes only outside it")
  T.raises(function() S:export{ to = ROOT .. "/x", variant = "radio" } end,
    "no variant 'radio' (the session has no variants)", T.here(-1))
  T.raises(function() S:export{ to = ROOT .. "/x", bogus = 1 } end,
    "unknown option 'bogus' (options: to, variant, force, comp_crossfade_ms)", T.here(-1))
  T.raises(function() S:export{ to = ROOT .. "/x", comp_crossfade_ms = "10" } end,
    "bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got string)", T.here(-1))
  T.raises(function() S:export{ to = ROOT .. "/x", comp_crossfade_ms = 1000.5 } end,
    "bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got 1000.5)", T.here(-1))
  T.raises(function() S:export{ to = ROOT .. "/x", comp_crossfade_ms = -1 } end,
    "bad option 'comp_crossfade_ms' (milliseconds from 0 to 1000 expected, got -1)", T.here(-1))
  T.raises(function() S:export{} end, "bad option 'to' (folder path expected, got nil)", T.here())
  T.raises(function() S:export("x") end, "bad argument #1 to 'export' (table of options expected, got string)",
    T.here(-1))
  T.eq(core.exists(ROOT .. "/x"), false)
  -- force writes into the non-empty folder again, replacing its files.
  local before = read(OUT .. "/takes.csv")
  r = assert(S:export{ to = OUT, force = true })
  T.eq(read(OUT .. "/takes.csv"), before)
  T.eq(#r.files, 19)
  T.eq(bwf.read(OUT .. "/audio/Bass_T01.wav").time_reference, 0)
end)

T.test("a missing take file: nothing written", function()
  local s, root, dir = song()
  os.remove(dir .. "/audio/Gtr_T02.wav")
  local r, err = s:export{ to = root .. "/pkg" }
  T.eq(r, nil)
  T.eq(err, dir .. "/audio/Gtr_T02.wav: missing take file (track 'Gtr', take 2)")
  T.eq(core.exists(root .. "/pkg"), false, "no folder made")
end)

T.test("reel.zip: strings and files, stored and deflated, errors", function()
  local root = T.tmpdir()
  local big = ("reel "):rep(10000)
  local f = assert(io.open(root .. "/f.bin", "wb")); f:write(big); f:close()
  assert(zip.write(root .. "/a.zip", { { name = "x/a.txt", data = "hello" },
    { name = "b.bin", file = root .. "/f.bin" }, { name = "c.bin", file = root .. "/f.bin", store = true } }))
  local list = assert(zip.list(root .. "/a.zip"))
  T.eq(#list, 3)
  T.eq(list[2].name, "b.bin") T.eq(list[2].size, 50000) T.ok(list[2].compressed < 1000, "deflated")
  T.eq(list[3].stored, true) T.eq(list[3].compressed, 50000)
  T.eq(zip.read(root .. "/a.zip", "x/a.txt"), "hello")
  T.eq(zip.read(root .. "/a.zip", "c.bin"), big)
  local r, err = zip.read(root .. "/a.zip", "nope")
  T.eq(r, nil) T.eq(err, root .. "/a.zip: no entry 'nope'")
  r, err = zip.write(root .. "/b.zip", { { name = "m", file = root .. "/missing" } })
  T.eq(r, nil) T.eq(err, root .. "/missing: No such file or directory")
  T.eq(core.exists(root .. "/b.zip"), false)
  r, err = zip.list(root .. "/f.bin")
  T.eq(r, nil) T.eq(err, root .. "/f.bin: Not a zip archive")
  T.raises(function() zip.write(root .. "/c.zip", { { name = "../up", data = "" } }) end,
    "entry 1: '../up' is not a relative name inside the archive")
end)

T.done()
