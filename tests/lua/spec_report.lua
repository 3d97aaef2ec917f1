--- spec_report.lua: the session report page (scripts/reel/report.lua) and
-- the waveform binding (lua/lwaveform.c): HTML escaping of every session
-- string, every take listed with its status and problems, sections in time
-- order, pictures embedded as PNG data: URIs that decode, nothing external,
-- loudness and mix notes, option errors, what is never overwritten.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local report = require "reel.report"
local waveform = require "reel.waveform"

local read = T.read

local write = T.write

local function count(text, plain)
  local n, i = 0, 1
  while true do
    local a, b = text:find(plain, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

-- Decodes base64 independently of report.base64 (which is under test).
local function unbase64(s)
  local map = {}
  local abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, 64 do map[abc:sub(i, i)] = i - 1 end
  local out = {}
  s = s:gsub("=+$", "")
  local bits, nbits = 0, 0
  for c in s:gmatch(".") do
    local v = map[c]
    assert(v, "not base64: " .. c)
    bits, nbits = (bits << 6) | v, nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 255)
    end
  end
  return table.concat(out)
end

local HOSTILE = [[<img src=x onerror=alert(1)>]]
local QUOTES = [[R&B "lead" 'vox']]

-- A session with sections, three tracks (two with names that need
-- escaping) and four takes recorded on the virtual device: Bass T01
-- (0.5 s, rejected, with a note) and T02 (0.2 s, selected), one take of
-- each other track (0.5 s), the last one clipped (a sine at 0 dBFS).
local function make_session()
  local dir = T.tmpdir() .. "/Song <&> \"x\""
  local s = assert(reel.new(dir, { tempo = 480, sections = {   -- 0.5 s a bar: short renders
    { "Intro", 2 }, { "Verse", 4 }, { "Chorus", 4 }, { "Verse", 4 }, { "Chorus", 2 }, { "Outro", 1 } } }))
  s:track{ name = "Bass", input = 1 }
  s:track{ name = HOSTILE, input = 2 }
  s:track{ name = QUOTES, input = 3 }
  local dev = reel.device{ spec = "virtual:freewheel", inputs = { "sine:55:-6", "noise:pink:-20", "sine:440:0" } }
  assert(s:record{ seconds = 0.5, device = dev, meter = false })
  s:arm(HOSTILE, false)
  s:arm(QUOTES, false)
  assert(s:record{ seconds = 0.2, device = dev, meter = false })
  s:set_status("Bass", 1, "rejected", "buzz <from> the amp & \"cable\"")
  s:select("Bass", 2)
  assert(s:save())
  return s, dir
end

T.test("escape: markup, quotes, control bytes, broken UTF-8", function()
  T.eq(report.escape([[<a href="x">&'</a>]]), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
  T.eq(report.escape("a\0b\27c\tž"), "a\u{FFFD}b\u{FFFD}c\tž")
  T.eq(report.escape("ok\xff\xfe end \xc3"), "ok\u{FFFD}\u{FFFD} end \u{FFFD}")
  T.eq(report.escape(42), "42")
end)

T.test("base64: RFC 4648 test vectors", function()
  local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
                    fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
  for plain, coded in pairs(vectors) do T.eq(report.base64(plain), coded, plain) end
  local bytes = {}
  for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
  bytes = table.concat(bytes)
  T.eq(unbase64(report.base64(bytes)), bytes, "all byte values round-trip")
end)

T.test("waveform binding: summary columns, PNG bytes, errors", function()
  local dir = T.tmpdir()
  -- 0.1 s of a 440 Hz sine at -6 dBFS then 0.1 s of silence, mono.
  local s = assert(reel.session(dir))
  s:track{ name = "A", input = 1 }
  local takes = assert(s:record{ seconds = 0.2, meter = false,
    device = reel.device{ spec = "virtual:freewheel", inputs = { "sine:440:-6" } } })
  local path = dir .. "/" .. takes[1].file
  local sum = assert(waveform.summary(path, { width = 4 }))
  T.eq(sum.width, 4)
  T.eq(sum.channels, 1)
  T.eq(sum.frames, 9600)
  T.eq(#sum.min[1], 4)
  for c = 1, 4 do
    T.near(sum.max[1][c], 0.5012, 0.001, "column max")
    T.near(sum.min[1][c], -0.5012, 0.001, "column min")
    T.eq(sum.clipped_columns[1][c], 0)
  end
  local png, info = assert(waveform.png(path, { width = 300, height = 50 }))
  T.eq(png:sub(1, 8), "\137PNG\r\n\26\n", "PNG signature")
  T.eq(info.width, 300)
  T.eq(info.height, 50)
  T.near(info.peak_db, -6, 0.01)
  write(dir .. "/w.png", png)
  local img = assert(waveform.read_png(dir .. "/w.png"))
  T.eq(img.width, 300)
  T.eq(img.height, 50)
  T.eq(#img.rgb, 300 * 50 * 3)
  T.eq(img.common, "#fafafa", "the background is the most common colour")
  T.eq(img.colours, 3, "background, centre line, waveform")
  local none, err = waveform.png(dir .. "/nope.wav")
  T.eq(none, nil)
  T.ok(err:find(dir .. "/nope.wav", 1, true), err)
  T.raises(function() waveform.png(path, { widht = 3 }) end, "unknown option 'widht'")
  T.raises(function() waveform.png(path, { width = 0 }) end, "bad option 'width' (must be between 1 and 16384, got 0)")
  T.raises(function() waveform.png(path, { height = 1.5 }) end, "bad option 'height' (integer expected")
  -- write refuses to replace the take.
  local before = read(path)
  local ok, werr = waveform.write(path, path)
  T.eq(ok, nil)
  T.ok(werr:find("exists and is not a PNG; not replacing it", 1, true), werr)
  T.eq(read(path), before, "take unchanged")
end)

T.test("report: structure, escaping, every take, sections in order", function()
  local s, dir = make_session()
  local session_json = read(dir .. "/session.json")
  local audio_before = core.list_dir(dir .. "/audio")
  local html, facts = report.html(s, { width = 400, height = 60, mix = false, measure = false })
  T.eq(facts.takes, 4)
  T.eq(facts.measured, 0)
  T.eq(facts.mix_note, "not asked for")

  -- Document shape.
  T.eq(html:sub(1, 15), "<!DOCTYPE html>")
  T.ok(html:find('<meta charset="utf-8">', 1, true))
  T.ok(html:find("</html>\n$"))
  T.eq(count(html, "<body>"), 1)

  -- Nothing raw from the session: names and notes escaped everywhere.
  T.eq(count(html, HOSTILE), 0, "raw hostile track name")
  T.eq(count(html, "<img src=x"), 0)
  local esc_hostile = "&lt;img src=x onerror=alert(1)&gt;"
  T.ok(count(html, '<h3 class="track-name">' .. esc_hostile .. "</h3>") == 1, "hostile track heading")
  T.ok(html:find('<h3 class="track-name">R&amp;B &quot;lead&quot; &#39;vox&#39;</h3>', 1, true),
    "quoted track heading")
  T.ok(html:find("<h1 id=\"session-name\">Song &lt;&amp;&gt; &quot;x&quot;</h1>", 1, true), "session name")
  T.ok(html:find("Note: buzz &lt;from&gt; the amp &amp; &quot;cable&quot;", 1, true), "note")
  T.eq(count(html, "<script"), 0, "no script")
  T.eq(count(html, "<link"), 0, "no linked resources")
  T.eq(count(html, "http://") + count(html, "https://") + count(html, "url("), 0, "nothing external")

  -- Every take: 4 rows, per track in take order, with status and problems.
  T.eq(count(html, '<tr class="take"'), 4)
  local bass = html:match('<h3 class="track%-name">Bass</h3>(.-)</article>')
  T.ok(bass, "Bass article")
  local t1, t2 = bass:find("T01", 1, true), bass:find("T02", 1, true)
  T.ok(t1 and t2 and t1 < t2, "Bass takes in order")
  T.ok(bass:find('<span class="status rejected">rejected</span>', 1, true))
  T.ok(bass:find('<span class="status selected">selected</span>', 1, true))
  local quotes = html:match('<h3 class="track%-name">R&amp;B.-</article>')
  T.eq(count(quotes, '<tr class="take"'), 1)
  T.ok(quotes:find('<td class="problems">clipped %d+ samples</td>'), "clipped take lists its problem")
  T.ok(quotes:find('<td class="n">0.0 dBFS</td>', 1, true), "its peak")

  -- Sections in time order, on the timeline and in the table.
  local labels = {}
  for label in html:gmatch('<div class="sec c%d" [^>]*><span class="label">([^<]*)</span>') do
    labels[#labels + 1] = label
  end
  T.eq(table.concat(labels, ","), "Intro,Verse 1,Chorus 1,Verse 2,Chorus 2,Outro")
  local rows = {}
  for label in html:gmatch('<tr class="section"><td>([^<]*)</td>') do rows[#rows + 1] = label end
  T.eq(table.concat(rows, ","), "Intro,Verse 1,Chorus 1,Verse 2,Chorus 2,Outro")
  -- Block widths proportional to the lengths: 2, 4, 4, 4, 2, 1 of 17 bars.
  local widths = {}
  for w in html:gmatch('<div class="sec c%d" style="left:[%d.]+%%;width:([%d.]+)%%"') do
    widths[#widths + 1] = tonumber(w)
  end
  T.eq(#widths, 6)
  T.near(widths[1], 100 * 2 / 17, 1e-3)
  T.near(widths[2], 100 * 4 / 17, 1e-3)
  T.near(widths[6], 100 * 1 / 17, 1e-3)
  T.ok(html:find("bars 15\u{2013}16", 1, true), "bar numbers of Chorus 2")

  -- Pictures: one per take, PNG data URIs that decode to the asked size.
  local n = 0
  for alt, w, h, b64 in html:gmatch('<img class="wave" alt="([^"]*)" width="(%d+)" height="(%d+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">') do
    n = n + 1
    T.eq(w, "400")
    T.eq(h, "60")
    local p = T.tmpdir() .. "/x.png"
    write(p, unbase64(b64))
    local img = assert(waveform.read_png(p))
    T.eq(img.width, 400, alt)
    T.eq(img.height, 60, alt)
    -- Bars drawn: pixels that are neither background nor centre line.
    local drawn = 0
    for i = 1, #img.rgb, 3 do
      local px = img.rgb:sub(i, i + 2)
      if px ~= "\250\250\250" and px ~= "\160\164\170" then drawn = drawn + 1 end
    end
    T.ok(drawn > 400, alt .. ": bars drawn")
  end
  T.eq(n, 4, "a waveform per take")
  T.eq(count(html, 'src="'), 4, "no other sources")

  -- The session was only read.
  T.eq(read(dir .. "/session.json"), session_json)
  T.eq(table.concat(core.list_dir(dir .. "/audio"), ","), table.concat(audio_before, ","))
end)

T.test("report: loudness of takes, stored, measured or not", function()
  local s = make_session()
  local loud_ok, loud = pcall(require, "reel.loudness")
  local bass1 = s:take("Bass", 1)
  if loud_ok and loud then
    -- Takes carry their loudness since they were filed: shown, not measured.
    T.eq(type(bass1.loudness), "table")
    local html, facts = report.html(s, { width = 100, height = 20, mix = false })
    T.eq(facts.measured, 0)
    local want = ("%.1f LUFS"):format(bass1.loudness.integrated)
    T.ok(html:find('<td class="loudness">' .. want, 1, true), want)
    -- Bass T02 is 0.2 s: no 400 ms block to gate.
    T.ok(html:find('<td class="loudness">too quiet to measure', 1, true))
    -- Without its loudness a take is measured for the page, and it says so.
    local stored = bass1.loudness
    bass1.loudness = nil
    html, facts = report.html(s, { width = 100, height = 20, mix = false })
    T.eq(facts.measured, 1)
    T.eq(count(html, "measured for this report"), 1)
    T.ok(html:find('<td class="loudness">' .. want, 1, true), "measured again: " .. want)
    html, facts = report.html(s, { width = 100, height = 20, mix = false, measure = false })
    T.eq(facts.measured, 0)
    T.eq(count(html, '<td class="missing loudness">not measured</td>'), 1)
    bass1.loudness = stored
  else
    for _, t in ipairs(s.takes) do T.eq(t.loudness, nil) end
    local html, facts = report.html(s, { width = 100, height = 20, mix = false })
    T.eq(facts.measured, 0)
    T.eq(count(html, '<td class="missing loudness">not measured</td>'), 4)
  end
  -- What a take carries is shown as it is.
  bass1.loudness = { integrated = -18.25, range = 3.5, short_term_max = -15, true_peak = -2.5 }
  local html = report.html(s, { width = 100, height = 20, mix = false, measure = false })
  T.ok(html:find("-18.2 LUFS, LRA 3.5 LU, short-term max -15.0 LUFS, true peak -2.5 dBTP", 1, true)
    or html:find("-18.3 LUFS, LRA 3.5 LU, short-term max -15.0 LUFS, true peak -2.5 dBTP", 1, true))
end)

T.test("report: the mix, from the latest render or rendered for the page", function()
  local s, dir = make_session()
  local html, facts = report.html(s, { width = 100, height = 20, mix = "latest", measure = false })
  T.eq(facts.mix, nil)
  T.ok(html:find('<p class="missing mix-source">no mix: no render in renders/</p>', 1, true))
  if type(s.render) == "function" and pcall(require, "reel.render") then
    html, facts = report.html(s, { width = 100, height = 20, measure = false })
    T.eq(facts.mix, "rendered")
    T.ok(html:find("rendered for this report from the selected takes (not kept)", 1, true))
    T.ok(html:find('alt="waveform of the mix"', 1, true))
    T.eq(core.exists(dir .. "/renders"), false, "nothing left in the session")
    local r = assert(s:render{})
    html, facts = report.html(s, { width = 100, height = 20, measure = false })
    T.eq(facts.mix, "latest")
    T.ok(html:find("measured from the latest render, " .. report.escape(r.out:sub(#dir + 2)), 1, true),
      r.out)
    -- --stems: stems rendered for the page when none are on disk.
    html = report.html(s, { width = 100, height = 20, measure = false, stems = true })
    T.eq(count(html, 'alt="waveform of the stem '), 3)
    T.ok(html:find('<h3 class="stem">&lt;img src=x onerror=alert(1)&gt; ', 1, true), "stem names escaped")
    T.eq(count(html, "rendered for this report</span></h3>"), 3)
    -- Stems on disk are shown as they are, without --stems.
    assert(s:render{ out = false, stems = dir .. "/renders/stems" })
    html = report.html(s, { width = 100, height = 20, measure = false })
    T.eq(count(html, 'alt="waveform of the stem '), 3)
    T.ok(html:find('<h3 class="stem">Bass <span class="muted">renders/stems/Bass.wav</span></h3>', 1, true))
  else
    html, facts = report.html(s, { width = 100, height = 20, measure = false })
    T.eq(facts.mix, nil)
    T.ok(html:find("this build cannot render mixes", 1, true))
  end
end)

T.test("report: a missing take file is named, the rest still reported", function()
  local s, dir = make_session()
  local take = s:take("Bass", 2)
  assert(os.remove(dir .. "/" .. take.file))
  take.loudness = nil
  local html, facts = report.html(s, { width = 50, height = 20, measure = true })
  T.eq(facts.takes, 4)
  local missing = report.escape(dir .. "/" .. take.file)
  T.ok(html:find('<p class="missing">no waveform: ' .. missing .. ": No such file or directory</p>", 1, true),
    "waveform: " .. missing)
  T.eq(count(html, '<img class="wave"'), 3, "the other takes are drawn")
  T.eq(facts.mix, nil, "no mix without the selected take's file")
  T.ok(html:find('class="missing mix-source">no mix: no render in renders/, and ', 1, true))
end)

T.test("s:report writes the page; misuse raises at the caller", function()
  local s, dir = make_session()
  local out, facts = assert(s:report{ width = 200, height = 40, mix = false, measure = false })
  T.eq(out, dir .. "/report.html")
  T.eq(facts.takes, 4)
  local page = read(out)
  T.eq(page:sub(1, 15), "<!DOCTYPE html>")
  -- A page is replaced; anything else is not.
  assert(s:report{ out = out, width = 100, mix = false, measure = false })
  local none, err = s:report{ out = dir .. "/session.json", mix = false }
  T.eq(none, nil)
  T.eq(err, dir .. "/session.json: exists and is not an HTML page; not replacing it")
  none, err = s:report{ out = dir .. "/audio", mix = false }
  T.eq(none, nil)
  T.eq(err, dir .. "/audio: is a folder")
  none, err = s:report{ out = dir .. "/no/such/folder/r.html", mix = false, measure = false }
  T.eq(none, nil)
  T.ok(err:find(dir .. "/no/such/folder/r.html", 1, true), err)

  T.raises(function() s:report{ outt = "x" } end, "unknown option 'outt'", T.here())
  T.raises(function() s:report{ width = "wide" } end, "option 'width': integer expected, got 'wide'", T.here())
  T.raises(function() s:report{ width = 0 } end, "option 'width': must be between 1 and 16384, got 0", T.here())
  local why = "option 'mix': false, 'latest' or 'render' expected, got 'newest'"
  T.raises(function() s:report{ mix = "newest" } end, why, T.here())
  T.raises(function() s:report(5) end, "table of options expected, got number", T.here())
  T.raises(function() s.report{} end, "call it as s:report", T.here())
end)

T.done()
