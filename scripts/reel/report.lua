--- reel.report: a session as one self-contained HTML page.
--
--     local reel = require "reel"
--     local s = assert(reel.open("songs/demo"))
--     assert(s:report{ out = "songs/demo/report.html" })      -- or `reel report DIR`
--
-- The page holds the session's name, rate and tempo map, a timeline of its
-- sections (blocks as wide as the sections are long, with their labels and
-- bar numbers) and of the takes on it, every track with every take (number,
-- status, start, length, peak, clipped samples, problems, loudness) and a
-- waveform picture of each take, the stems of the latest render when there
-- are some, and the loudness of the mix against the delivery targets.
--
-- Self-contained: the CSS is inline and the pictures are PNGs (drawn by
-- `reel.waveform`) embedded as base64 `data:` URIs; no script, no fonts, no
-- link to anything outside the file, so it can be mailed or archived as is.
-- Every string that comes from the session (names, notes, problems, file
-- names) is HTML-escaped: a track may be called anything.
--
-- Loudness (`reel.loudness`, when this build has it): a take that carries
-- its `loudness` shows it; one that does not is measured for the page
-- unless `measure = false`, and says so ("measured for this report"), or
-- shows "not measured". The mix: the latest render of the session when
-- there is one ("measured from renders/…"), else, when the session can
-- render (`s:render`) and `mix ~= false`, a mix rendered into a temporary
-- folder for the report and removed afterwards ("rendered for this
-- report"); the page says which, or why there is no mix loudness.
--
-- Writing the report never changes the session: session.json is not saved
-- and nothing in audio/ is touched; the page is written atomically.
--
-- Threads: the script's (control) thread only.
-- @module reel.report

local core = require "reel.core"
local session = require "reel.session"
local waveform = require "reel.waveform"
local util = require "reel.util"

local M = {}

local Session = session.Session

-- ---------------------------------------------------------------- helpers

local misuse, typename, join = util.misuse, util.typename, util.join

local function is_num(v)
  return type(v) == "number" and v == v
end

-- A required module that this build may not have yet (nil when absent).
local function optional(name)
  local ok, mod = pcall(require, name)
  if ok then return mod end
  return nil
end

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- Escapes text for HTML element content and quoted attribute values: `& <
-- > " '` become entities, control characters (other than tab, newline and
-- carriage return) and bytes that are not UTF-8 become U+FFFD.
-- @param text a string, or anything `tostring` takes
-- @treturn string
function M.escape(text)
  text = tostring(text)
  local out = text:gsub("[&<>\"']", ESC):gsub("[%z\1-\8\11\12\14-\31\127]", "\239\191\189")
  if not utf8.len(out) then
    -- Keep the valid sequences, replace every stray byte.
    local parts, i = {}, 1
    while true do
      local n, bad = utf8.len(out, i)
      if n then parts[#parts + 1] = out:sub(i) break end
      parts[#parts + 1] = out:sub(i, bad - 1) .. "\239\191\189"
      i = bad + 1
    end
    out = table.concat(parts)
  end
  return out
end
local esc = M.escape

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- Base64 (RFC 4648, with padding) of a string of bytes.
-- @tparam string bytes
-- @treturn string
function M.base64(bytes)
  local out, n = {}, #bytes
  for i = 1, n, 3 do
    local a, b, c = bytes:byte(i, i + 2)
    local v = a << 16 | (b or 0) << 8 | (c or 0)
    local s1, s2 = (v >> 18) & 63, (v >> 12) & 63
    local s3, s4 = (v >> 6) & 63, v & 63
    out[#out + 1] = B64:sub(s1 + 1, s1 + 1) .. B64:sub(s2 + 1, s2 + 1)
      .. (b and B64:sub(s3 + 1, s3 + 1) or "=") .. (c and B64:sub(s4 + 1, s4 + 1) or "=")
  end
  return table.concat(out)
end

-- 75.25 -> "1:15.250"
local clock = util.clock

local function db(v, unit)
  if not is_num(v) then return "n/a" end
  if v == -math.huge then return "-inf " .. unit end
  return ("%.1f %s"):format(v, unit)
end

local plural = util.plural

local function num(x)
  return ("%g"):format(x)
end

-- ---------------------------------------------------------------- styles

local CSS = [[
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#fff;margin:0;padding:24px 32px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #d8dde6;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}p{margin:4px 0}.muted{color:#667085}
table{border-collapse:collapse;margin:6px 0}th,td{text-align:left;padding:3px 10px 3px 0;vertical-align:top}
th{font-weight:600;color:#475467;border-bottom:1px solid #d8dde6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.row{display:flex;align-items:stretch}.gutter{flex:0 0 140px;font-size:12px;color:#475467;padding:2px 8px 0 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.area{position:relative;flex:1 1 auto}
.timeline{position:relative;height:58px;background:#f2f4f7;border:1px solid #d0d5dd;border-radius:4px;margin:8px 0 4px}
.sec{position:absolute;top:0;bottom:0;box-sizing:border-box;border-right:2px solid #fff;padding:4px 6px;overflow:hidden;white-space:nowrap;color:#fff}
.sec .label{display:block;font-weight:700}.sec .bars{display:block;font-size:12px;opacity:.9}
.c0{background:#3d6fd1}.c1{background:#2f9e6e}.c2{background:#c9772b}.c3{background:#8a54c9}.c4{background:#c2415d}.c5{background:#2b8fa8}
.lanes{margin:0 0 8px}.lane{position:relative;height:18px;background:#f9fafb;border-bottom:1px solid #eaecf0}
.span{position:absolute;top:3px;height:12px;min-width:2px;border-radius:2px;background:#98a2b3;opacity:.8}
.span.selected{background:#2f9e6e}.span.rejected{background:#e4a0a0}.span.bad{outline:2px solid #d62020}
.status{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;font-weight:600;background:#eaecf0}
.status.selected{background:#d1f2e0;color:#11663f}.status.rejected{background:#fbe0e0;color:#9b1c1c}.status.kept{background:#e6ecf8;color:#27457a}
.problems{color:#b42318}.ok{color:#11663f}
.wave{display:block;max-width:100%;height:auto;border:1px solid #eaecf0;margin:2px 0 6px}
tr.take td{border-top:1px solid #eaecf0;padding-top:6px}.takes{width:100%}.takes .file,.takes .note{margin:0}
.track{margin-bottom:22px}.missing{color:#b42318;font-style:italic}
.targets td.pass{color:#11663f;white-space:nowrap}.targets td.fail{color:#b42318;white-space:nowrap}
footer{margin-top:32px;font-size:12px;color:#98a2b3}
]]

-- ---------------------------------------------------------------- pieces

local Page = {} -- @local: the page being written, not part of the API
Page.__index = Page

local function page()
  return setmetatable({ parts = {} }, Page)
end

function Page:add(...)
  local p = self.parts
  for i = 1, select("#", ...) do p[#p + 1] = select(i, ...) end
end

function Page:text()
  return table.concat(self.parts)
end

-- A waveform <img>, or a line saying why there is none.
local function picture(path, alt, opts)
  local png, info = waveform.png(path, { width = opts.width, height = opts.height })
  if not png then
    return ('<p class="missing">no waveform: %s</p>\n'):format(esc(info)), nil
  end
  return ('<img class="wave" alt="%s" width="%d" height="%d" src="data:image/png;base64,%s">\n')
    :format(esc(alt), info.width, info.height, M.base64(png)), info
end

-- The loudness of a take: what it carries, else measured now (when allowed
-- and possible), else nil and why.
local function take_loudness(t, path, opts, loud)
  -- integrated is -inf (null in session.json) when too quiet to measure.
  if type(t.loudness) == "table" and t.loudness.integrated ~= nil then
    return t.loudness, nil
  end
  if not loud or opts.measure == false then return nil, "not measured" end
  -- loudness.take: what recording stores, with its limit on length.
  local m, err = (loud.take or loud.file)(path)
  if not m then return nil, "not measured: " .. tostring(err) end
  return m, "measured for this report"
end

local function loudness_text(m)
  local parts = {}
  local i = m.integrated
  if is_num(i) and i ~= -math.huge then
    parts[#parts + 1] = ("%.1f LUFS"):format(i)
  else
    parts[#parts + 1] = "too quiet to measure"
  end
  if is_num(m.range) then parts[#parts + 1] = ("LRA %.1f LU"):format(m.range) end
  if is_num(m.short_term_max) and m.short_term_max ~= -math.huge then
    parts[#parts + 1] = ("short-term max %.1f LUFS"):format(m.short_term_max)
  end
  if is_num(m.true_peak) then parts[#parts + 1] = ("true peak %s"):format(db(m.true_peak, "dBTP")) end
  return table.concat(parts, ", ")
end

local function track_of(s, name)
  for _, t in ipairs(s.tracks) do
    if t.name == name then return t end
  end
end

-- The length of the timeline: the end of the last section or take.
local function timeline_length(s, sections)
  local len = 0
  for _, r in ipairs(sections) do len = math.max(len, r.start + r.length) end
  for _, t in ipairs(s.takes) do
    if math.type(t.start) == "integer" and math.type(t.frames) == "integer" then
      len = math.max(len, t.start + t.frames)
    end
  end
  return len
end

local function pct(x, total)
  return ("%.4f%%"):format(total > 0 and 100 * x / total or 0)
end

-- ---------------------------------------------------------- renders

local SOUND_EXTS = { "wav", "flac" }

-- DIR/<base>.<ext> for the first ext that exists, or nil.
local function sound_at(dir, base)
  for _, ext in ipairs(SOUND_EXTS) do
    local p = join(dir, base .. "." .. ext)
    if core.exists(p) == "file" then return p end
  end
end

--- The render of a session found on disk, as `reel render` and `s:render`
-- leave it: the mix at its default place (`DIR/renders/<name>.wav` or
-- `.flac`, see `reel.render.default_out`; a variant's render is not the
-- session's mix) and stems named `<Track>.<ext>` in `DIR/renders/stems/` or
-- `DIR/stems/`. Returns `{mix = path|nil, stems = {{track, path, name},...}}`,
-- or nil when there is neither.
-- @tparam Session s
-- @treturn ?table
function M.latest_render(s)
  local r = { stems = {} }
  local render = optional("reel.render")
  if render and render.default_out then
    local p = render.default_out(s)
    if core.exists(p) == "file" then r.mix = p end
  end
  local name = (s.name or "mix"):gsub("[/\\%c]", "_")
  r.mix = r.mix or sound_at(join(s.dir, "renders"), name)
  for _, dir in ipairs{ join(join(s.dir, "renders"), "stems"), join(s.dir, "stems") } do
    if #r.stems == 0 and core.exists(dir) == "directory" then
      for _, track in ipairs(s:track_names()) do
        local p = sound_at(dir, track)
        if p then r.stems[#r.stems + 1] = { track = track, path = p, name = p:sub(#s.dir + 2) } end
      end
    end
  end
  if not r.mix and #r.stems == 0 then return nil end
  return r
end

local function remove_tree(dir)
  for _, f in ipairs(core.list_dir(dir) or {}) do
    local p = join(dir, f)
    if core.exists(p) == "directory" then remove_tree(p) else os.remove(p) end
  end
  os.remove(dir)
end

-- Renders the mix (and the stems when asked) of s into a fresh temporary
-- folder with s:render (32-bit float, so the mix cannot clip on the way);
-- returns a table like latest_render's plus `tmp`, or nil and why not.
local function render_for_report(s, mix, stems)
  if type(s.render) ~= "function" then return nil, "this build cannot render mixes" end
  local tmp = os.tmpname()
  os.remove(tmp)
  local ok_dir, derr = core.mkdir_p(tmp)
  if not ok_dir then return nil, derr end
  local ok, res, err = pcall(s.render, s, { out = mix and join(tmp, "mix.wav") or false,
    format = "wav32f", stems = stems and join(tmp, "stems") or nil })
  if not ok or not res then
    remove_tree(tmp)
    err = tostring(ok and err or res)
    if err:find("module 'reel.render' not found", 1, true) or err:find("module 'reel.renderer' not found", 1, true) then
      err = "this build cannot render mixes"
    end
    return nil, (err:gsub("^[^\n]-:%d+: ", ""):match("^[^\n]*"))
  end
  local r = { tmp = tmp, mix = res.out, stems = {} }
  for _, st in ipairs(res.stems or {}) do
    r.stems[#r.stems + 1] = { track = st.track, path = st.path, name = "rendered for this report" }
  end
  return r
end

local function remove_tmp(r)
  if r and r.tmp then remove_tree(r.tmp) end
end

-- ---------------------------------------------------------- the page

-- The mix against every delivery target (reel.loudness.report).
local function targets_table(p, loud, m)
  if type(loud.report) ~= "function" or not is_num(m.integrated) or not is_num(m.true_peak) then
    return
  end
  local ok, rows = pcall(loud.report, m)
  if not ok or type(rows) ~= "table" or #rows == 0 then return end
  p:add('<table class="targets"><tr><th>Target</th><th>Loudness</th><th>Ceiling</th>',
    "<th>Distance</th><th>Gain to target</th><th>Gain the ceiling allows</th><th>Verdict</th><th></th></tr>\n")
  for _, r in ipairs(rows) do
    local tol = is_num(r.tolerance) and (" \u{00B1}" .. num(r.tolerance)) or ""
    p:add(('<tr class="target" data-target="%s"><td>'):format(esc(r.target or "")),
      esc(r.label or r.target or "?"), '</td><td class="n">',
      is_num(r.integrated) and ("%.1f LUFS%s"):format(r.integrated, tol) or "", '</td><td class="n">',
      is_num(r.ceiling) and ("%.1f dBTP"):format(r.ceiling) or "", '</td><td class="n">',
      is_num(r.distance) and ("%+.1f LU"):format(r.distance) or "", '</td><td class="n">',
      is_num(r.gain) and ("%+.1f dB"):format(r.gain) or "", '</td><td class="n">',
      is_num(r.ceiling_gain) and ("%+.1f dB"):format(r.ceiling_gain) or "", "</td>",
      ('<td class="%s">'):format(r.verdict == "ok" and "pass" or "fail"), esc(r.verdict or "?"),
      '</td><td class="muted">', esc(r.text or ""), "</td></tr>\n")
  end
  p:add("</table>\n")
end

--- The report page of a session, as a string.
-- @tparam Session s
-- @tparam[opt] table opts `width`, `height` (waveform pictures, default
--   1200 x 120), `measure` (false: do not measure takes without loudness),
--   `mix` (false: no mix loudness; "latest": only an existing render;
--   "render" or nil: the latest render, else render one for the report),
--   `stems` (true: show stems, rendering them when no render has any)
-- @treturn string the HTML
-- @treturn table facts: `takes` (listed), `measured` (takes measured for the
--   page), `mix` (how the mix loudness was found: "latest", "rendered" or
--   nil), `mix_note`
function M.html(s, opts)
  opts = opts or {}
  local loud = optional("reel.loudness")
  local facts = { takes = 0, measured = 0 }
  local p = page()
  local map = s:tempo_map()
  local rate = map:rate()
  local sections = s:sections()
  local total = timeline_length(s, sections)

  p:add('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    "<title>", esc(s.name), " \u{2014} reel session report</title>\n",
    "<style>\n", CSS, "</style>\n</head>\n<body>\n")

  -- Header
  p:add('<header>\n<h1 id="session-name">', esc(s.name), "</h1>\n")
  p:add('<p class="muted">Session report by reel ', esc(core.version()), ", ",
    esc(os.date("!%Y-%m-%d %H:%M UTC")), "</p>\n")
  p:add("<p>Rate <b>", rate, " Hz</b>; takes written as ", esc(s.format), "; ",
    plural(#s.tracks, "track"), ", ", plural(#s.takes, "take"), ", ",
    plural(#sections, "section"), total > 0 and ("; " .. clock(total / rate) .. " long") or "",
    "</p>\n")
  local variants = s:variants()
  if #variants > 0 then
    p:add('<p class="variants">Variants: ', esc(table.concat(variants, ", ")), "</p>\n")
  end
  p:add("<p>Folder <code>", esc(s.dir), "</code></p>\n</header>\n")

  -- Tempo map
  p:add('<section id="tempo">\n<h2>Tempo map</h2>\n<table><tr><th>Bar</th><th>Tempo</th>',
    "<th>Meter</th><th>From</th><th>Sample</th></tr>\n")
  for _, seg in ipairs(s:tempo()) do
    p:add('<tr><td class="n">', seg.bar, '</td><td class="n">', num(seg.bpm), " bpm</td><td>",
      esc(seg.meter), '</td><td class="n">', clock(seg.start / rate), '</td><td class="n">',
      seg.start, "</td></tr>\n")
  end
  p:add("</table>\n</section>\n")

  -- Sections: the timeline, then the table
  p:add('<section id="sections">\n<h2>Sections</h2>\n')
  if #sections == 0 then
    p:add('<p class="muted">No sections.</p>\n')
  else
    p:add('<div class="row"><div class="gutter">Sections</div><div class="area">',
      '<div class="timeline" role="img" aria-label="section timeline">\n')
    for i, r in ipairs(sections) do
      local last = r.bar + r.length_bars - 1
      p:add(('<div class="sec c%d" style="left:%s;width:%s" title="%s: bars %d\u{2013}%d, %s">')
        :format((i - 1) % 6, pct(r.start, total), pct(r.length, total), esc(r.label), r.bar, last,
          clock(r.seconds)),
        '<span class="label">', esc(r.label), '</span><span class="bars">',
        ("bars %d\u{2013}%d"):format(r.bar, last), "</span></div>\n")
    end
    p:add("</div></div></div>\n")
  end
  -- Takes on the same timeline, one lane per track.
  local order = s:track_names()
  if #s.takes > 0 and total > 0 then
    p:add('<div class="lanes" aria-label="takes on the timeline">\n')
    for _, name in ipairs(order) do
      p:add('<div class="row"><div class="gutter" title="', esc(name), '">', esc(name),
        '</div><div class="area lane">')
      for _, t in ipairs(s:takes{ track = name }) do
        if math.type(t.start) == "integer" and math.type(t.frames) == "integer" then
          local bad = #s:problems(t) > 0 and " bad" or ""
          p:add(('<div class="span %s%s" style="left:%s;width:%s" title="%s T%02d (%s)"></div>')
            :format(esc(t.status or "kept"), bad, pct(t.start, total), pct(t.frames, total),
              esc(name), t.take, esc(t.status or "kept")))
        end
      end
      p:add("</div></div>\n")
    end
    p:add("</div>\n")
  end
  if #sections > 0 then
    p:add('<table class="sections"><tr><th>Section</th><th>Bars</th><th>Start</th>',
      "<th>Length</th><th>Samples</th></tr>\n")
    for _, r in ipairs(sections) do
      p:add('<tr class="section"><td>', esc(r.label), '</td><td class="n">',
        ("%d\u{2013}%d"):format(r.bar, r.bar + r.length_bars - 1), '</td><td class="n">',
        esc(r.start_bbt), " (", clock(r.start / rate), ')</td><td class="n">',
        ("%.3f s"):format(r.seconds), '</td><td class="n">', r.start, "\u{2013}",
        r.start + r.length, "</td></tr>\n")
    end
    p:add("</table>\n")
  end
  p:add("</section>\n")

  -- The mix
  p:add('<section id="mix">\n<h2>Mix loudness</h2>\n')
  local found = M.latest_render(s) or { stems = {} }
  local render = { mix = nil, stems = found.stems }
  local render_note
  local need_mix = opts.mix ~= false and opts.mix ~= "latest" and not found.mix
  local need_stems = opts.stems and #found.stems == 0
  local made, why
  if need_mix or need_stems then
    made, why = render_for_report(s, need_mix, need_stems)
    render.tmp = made and made.tmp
    if made and need_stems then render.stems = made.stems end
  end
  if opts.mix == false then
    render_note = "not asked for"
  elseif found.mix then
    render.mix, facts.mix = found.mix, "latest"
    render_note = "measured from the latest render, " .. found.mix:sub(#s.dir + 2)
  elseif made and made.mix then
    render.mix, facts.mix = made.mix, "rendered"
    render_note = "rendered for this report from the selected takes (not kept)"
  elseif opts.mix == "latest" then
    render_note = "no mix: no render in renders/"
  else
    render_note = "no mix: no render in renders/, and " .. (why or "the render gave no mix")
  end
  facts.mix_note = render_note
  if render.mix then
    p:add('<p class="mix-source">', esc(render_note), "</p>\n")
    if loud then
      local m, err = loud.file(render.mix)
      if m then
        p:add('<p class="loudness">', esc(loudness_text(m)), "</p>\n")
        targets_table(p, loud, m)
      else
        p:add('<p class="missing">not measured: ', esc(err), "</p>\n")
      end
    else
      p:add('<p class="missing">not measured: this build has no loudness meter (reel.loudness)</p>\n')
    end
    local img = picture(render.mix, "waveform of the mix", opts)
    p:add(img)
  else
    p:add('<p class="missing mix-source">', esc(render_note), "</p>\n")
  end
  p:add("</section>\n")

  -- Stems
  if #render.stems > 0 then
    p:add('<section id="stems">\n<h2>Stems</h2>\n')
    for _, st in ipairs(render.stems) do
      p:add('<h3 class="stem">', esc(st.track), ' <span class="muted">', esc(st.name), "</span></h3>\n")
      p:add((picture(st.path, "waveform of the stem " .. st.track, opts)))
    end
    p:add("</section>\n")
  end
  remove_tmp(render)

  -- Tracks and takes
  p:add('<section id="tracks">\n<h2>Tracks and takes</h2>\n')
  if #order == 0 then p:add('<p class="muted">No tracks.</p>\n') end
  for ti, name in ipairs(order) do
    local tr = track_of(s, name)
    p:add(('<article class="track" id="track-%d">\n<h3 class="track-name">'):format(ti), esc(name),
      "</h3>\n")
    if tr then
      local bits = { (#tr.input > 1 and "inputs " or "input ") .. table.concat(tr.input, "+") }
      if tr.monitor then bits[#bits + 1] = "monitored" end
      if is_num(tr.gain_db) and tr.gain_db ~= 0 then bits[#bits + 1] = ("gain %+.1f dB"):format(tr.gain_db) end
      if is_num(tr.pan) and tr.pan ~= 0 then bits[#bits + 1] = ("pan %+.2f"):format(tr.pan) end
      p:add('<p class="muted">', esc(table.concat(bits, ", ")), "</p>\n")
    else
      p:add('<p class="muted">not declared in the session (only takes name it)</p>\n')
    end
    local takes = s:takes{ track = name }
    table.sort(takes, function(a, b) return (a.take or 0) < (b.take or 0) end)
    if #takes == 0 then
      p:add('<p class="muted">No takes.</p>\n')
    else
      p:add('<table class="takes"><tr><th>Take</th><th>Status</th><th>Start</th><th>Length</th>',
        "<th>Peak</th><th>Clipped</th><th>Problems</th><th>Loudness</th></tr>\n")
    end
    for _, t in ipairs(takes) do
      facts.takes = facts.takes + 1
      local status = t.status or "kept"
      local problems = s:problems(t)
      local path = type(t.file) == "string" and join(s.dir, t.file) or nil
      local seconds = t.seconds
      if not is_num(seconds) and is_num(t.frames) and is_num(t.rate) and t.rate > 0 then
        seconds = t.frames / t.rate
      end
      local start
      if math.type(t.start) == "integer" then
        local ok, text = pcall(map.format, map, t.start)
        start = ok and text or nil
      end
      p:add(('<tr class="take" data-take="%s">'):format(esc(t.take)))
      p:add('<td class="n take-number">', ("T%02d"):format(math.tointeger(t.take) or 0), "</td>")
      p:add('<td><span class="status ', esc(status), '">', esc(status), "</span></td>")
      p:add('<td class="n">', esc(start or "?"), t.section and (" (" .. esc(t.section) .. ")") or "",
        "</td>")
      p:add('<td class="n">', is_num(seconds) and ("%.3f s"):format(seconds) or "?", "</td>")
      p:add('<td class="n">', is_num(t.peak_db) and ("%.1f dBFS"):format(t.peak_db)
        or (t.peak_db ~= nil and "silence" or "?"), "</td>")
      p:add('<td class="n">', is_num(t.clipped) and tostring(math.tointeger(t.clipped) or t.clipped) or "?",
        "</td>")
      if #problems > 0 then
        p:add('<td class="problems">', esc(table.concat(problems, "; ")), "</td>")
      else
        p:add('<td class="ok">none</td>')
      end
      local m, how
      if path then m, how = take_loudness(t, path, opts, loud) end
      if m then
        if how then facts.measured = facts.measured + 1 end
        p:add('<td class="loudness">', esc(loudness_text(m)),
          how and ('<br><span class="muted">' .. esc(how) .. "</span>") or "", "</td>")
      else
        p:add('<td class="missing loudness">', esc(how or "not measured"), "</td>")
      end
      p:add("</tr>\n")
      p:add('<tr class="take-detail"><td></td><td colspan="7">')
      if t.note then p:add('<p class="note">Note: ', esc(t.note), "</p>\n") end
      if path then
        p:add('<p class="muted file">', esc(t.file), "</p>\n")
        p:add((picture(path, ("waveform of %s take %s"):format(name, tostring(t.take)), opts)))
      else
        p:add('<p class="missing">no file recorded for this take</p>\n')
      end
      p:add("</td></tr>\n")
    end
    if #takes > 0 then p:add("</table>\n") end
    p:add("</article>\n")
  end
  p:add("</section>\n")

  p:add("<footer>Written by reel ", esc(core.version()),
    ". Waveforms: one column per slice of the file, from its minimum to its maximum; ",
    "red columns hold clipped samples.</footer>\n</body>\n</html>\n")
  return p:text(), facts
end

local REPORT_OPTS = {
  out = "string", width = "integer", height = "integer", measure = "boolean",
  stems = "boolean", mix = "mix",
}

local function check_opts(opts, fname, level)
  level = level + 1
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    misuse(("bad argument #1 to '%s' (table of options expected, got %s)"):format(fname, typename(opts)),
      level)
  end
  for k, v in pairs(opts) do
    local want = REPORT_OPTS[k]
    if want == nil then
      misuse(("bad argument #1 to '%s' (unknown option '%s')"):format(fname, tostring(k)), level)
    end
    local okv
    if want == "integer" then
      okv = math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v))
    elseif want == "mix" then
      okv = v == false or v == "latest" or v == "render"
    else
      okv = type(v) == want
    end
    if not okv then
      local what = want == "mix" and "false, 'latest' or 'render'" or want
      misuse(("bad argument #1 to '%s' (option '%s': %s expected, got %s)"):format(fname, k, what,
        type(v) == "string" and ("'" .. v .. "'") or typename(v)), level)
    end
  end
  if opts.width and (opts.width < 1 or opts.width > 16384) then
    misuse(("bad argument #1 to '%s' (option 'width': must be between 1 and 16384, got %s)")
      :format(fname, opts.width), level)
  end
  if opts.height and (opts.height < 1 or opts.height > 4096) then
    misuse(("bad argument #1 to '%s' (option 'height': must be between 1 and 4096, got %s)")
      :format(fname, opts.height), level)
  end
  return opts
end

--- Writes the session's report page (atomically).
-- @tparam table opts `out` (default `DIR/report.html`) and the options of
--   `reel.report.html`
-- @treturn[1] string the path written
-- @treturn[1] table facts (see `html`)
-- @return[2] nil, message
function Session:report(opts)
  if getmetatable(self) ~= Session then
    misuse(("bad self to 'report' (reel.session expected, got %s); call it as s:report(...)")
      :format(typename(self)))
  end
  opts = check_opts(opts, "report", 2)
  local out = opts.out or join(self.dir, "report.html")
  local kind = core.exists(out)
  if kind == "directory" then return nil, out .. ": is a folder" end
  if kind == "file" then
    -- Never replace something that is not a page: a mistyped --out must not
    -- destroy a take or session.json.
    local f = io.open(out, "rb")
    local head = f and f:read(512) or ""
    if f then f:close() end
    if head ~= "" and not head:lower():find("<!doctype html", 1, true) then
      return nil, out .. ": exists and is not an HTML page; not replacing it"
    end
  end
  local text, facts = M.html(self, opts)
  local ok, err = core.write_atomic(out, text)
  if not ok then return nil, err end
  return out, facts
end

M.Session = Session
return M
