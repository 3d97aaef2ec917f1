--- reel.dawproject: a DAWproject 1.0 file of a session (the open exchange
-- format of Bitwig, Studio One, Cubase...: a zip holding project.xml and
-- metadata.xml).
--
--     local dawproject = require "reel.dawproject"
--     local project_xml, metadata_xml = dawproject.encode(plan)
--     assert(dawproject.write("pkg/song.dawproject", plan))
--
-- project.xml, per the 1.0 schema (Project.xsd):
--
--   * `Project version="1.0"` > `Application name="reel"`;
--   * `Transport` > `Tempo` (unit bpm, quarter notes a minute: the session
--     counts the meter's denominator, so 6/8 at 96 is 48 here) and
--     `TimeSignature` (the first meter);
--   * `Structure` > one `Track` (contentType audio) per session track, each
--     with its `Channel` (role regular, `Volume` in dB, `Pan` normalized 0 to
--     1, 0.5 the centre) and a master `Track` whose channel the others feed;
--   * `Arrangement` > `Lanes timeUnit="seconds"` > per track a `Lanes` with
--     `Clips`: one `Clip` per region, `time` and `duration` in seconds on the
--     timeline, `playStart` the offset into the file (contentTimeUnit
--     seconds), holding an `Audio` (channels, sampleRate, duration of the
--     whole file) whose `File` is referenced, not embedded: `path` relative
--     to the .dawproject file, `external="true"`, so the package's audio/
--     and stems/ files serve both projects and nothing is stored twice; a
--     clip at a comp switch (`fade_in`, `fade_out` frames in the plan: see
--     reel.export) also has `fadeTimeUnit="seconds"` and `fadeInTime` /
--     `fadeOutTime`, the length of its overlap with the other take (the
--     1.0 schema has no fade curve attribute: the shape is the DAW's
--     default, which the render's equal-power curve may not match);
--   * `Markers` (seconds): the sections' starts (their labels) and the
--     session's markers;
--   * `TempoAutomation` and `TimeSignatureAutomation` (timeUnit seconds),
--     one point per change of the tempo map (tempo points hold).
--
-- metadata.xml: `MetaData` > `Title` (the session's name) and `Comment`.
--
-- Threads: the script's (control) thread.
-- @module reel.dawproject

local zip = require "reel.zip"

local M = {}

--- Text for an XML attribute or element.
-- @tparam string s
-- @treturn string
function M.escape(s)
  return (tostring(s):gsub("[&<>\"'\r\n\t]", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;",
    ["\r"] = "&#13;", ["\n"] = "&#10;", ["\t"] = "&#9;",
  }))
end
local esc = M.escape

local function secs(samples, rate)
  return ("%.14f"):format(samples / rate)
end

local function num(x)
  return ("%.10g"):format(x)
end

local function attrs(list)
  local out = {}
  for i = 1, #list, 2 do
    if list[i + 1] ~= nil then out[#out + 1] = ('%s="%s"'):format(list[i], esc(list[i + 1])) end
  end
  return table.concat(out, " ")
end

--- The two XML documents.
-- @tparam table plan see `reel.export`
-- @treturn string project.xml
-- @treturn string metadata.xml
function M.encode(plan)
  local rate = plan.rate
  local out = { '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' }
  local function put(depth, line) out[#out + 1] = ("  "):rep(depth) .. line end
  local function el(depth, name, list, close)
    put(depth, ("<%s %s%s>"):format(name, attrs(list), close and "/" or ""))
  end
  put(0, '<Project version="1.0">')
  el(1, "Application", { "name", "reel", "version", plan.version or "" }, true)
  local first = plan.segments[1]
  put(1, "<Transport>")
  el(2, "Tempo", { "id", "tempo", "name", "Tempo", "unit", "bpm", "min", "1", "max", "4000",
    "value", num(first.qbpm) }, true)
  el(2, "TimeSignature", { "id", "timesig", "numerator", first.num, "denominator", first.den }, true)
  put(1, "</Transport>")
  put(1, "<Structure>")
  for i, tr in ipairs(plan.tracks) do
    el(2, "Track", { "id", "track" .. i, "name", tr.name, "contentType", "audio", "loaded", "true" })
    el(3, "Channel", { "id", "channel" .. i, "role", "regular", "audioChannels", tr.channels or 2,
      "destination", "master_channel", "solo", tr.solo and "true" or "false" })
    el(4, "Mute", { "id", "mute" .. i, "name", "Mute", "value", tr.mute and "true" or "false" }, true)
    el(4, "Pan", { "id", "pan" .. i, "name", "Pan", "unit", "normalized", "min", "0", "max", "1",
      "value", num(((tr.pan or 0) + 1) / 2) }, true)
    el(4, "Volume", { "id", "volume" .. i, "name", "Volume", "unit", "decibel", "min", "-144",
      "max", "24", "value", num(tr.gain_db or 0) }, true)
    put(3, "</Channel>")
    put(2, "</Track>")
  end
  el(2, "Track", { "id", "master", "name", "Master", "contentType", "audio", "loaded", "true" })
  el(3, "Channel", { "id", "master_channel", "role", "master", "audioChannels", 2, "solo", "false" })
  el(4, "Volume", { "id", "master_volume", "name", "Volume", "unit", "decibel", "min", "-144",
    "max", "24", "value", "0" }, true)
  put(3, "</Channel>")
  put(2, "</Track>")
  put(1, "</Structure>")
  el(1, "Arrangement", { "id", "arrangement" })
  el(2, "Lanes", { "id", "lanes", "timeUnit", "seconds" })
  for i, tr in ipairs(plan.tracks) do
    el(3, "Lanes", { "id", "lanes" .. i, "track", "track" .. i })
    if #tr.items == 0 then
      el(4, "Clips", { "id", "clips" .. i }, true)
    else
      el(4, "Clips", { "id", "clips" .. i })
      for k, it in ipairs(tr.items) do
        local clip = { "name", it.name, "time", secs(it.at, rate), "duration", secs(it.frames, rate),
          "contentTimeUnit", "seconds", "playStart", secs(it.offset, rate) }
        local fin, fout = it.fade_in or 0, it.fade_out or 0
        if fin > 0 or fout > 0 then
          table.move({ "fadeTimeUnit", "seconds" }, 1, 2, #clip + 1, clip)
          if fin > 0 then table.move({ "fadeInTime", secs(fin, rate) }, 1, 2, #clip + 1, clip) end
          if fout > 0 then table.move({ "fadeOutTime", secs(fout, rate) }, 1, 2, #clip + 1, clip) end
        end
        el(5, "Clip", clip)
        el(6, "Audio", { "id", ("audio%d_%d"):format(i, k), "timeUnit", "seconds",
          "channels", it.channels, "sampleRate", it.rate or rate,
          "duration", secs(it.file_frames, it.rate or rate) })
        el(7, "File", { "path", it.file, "external", "true" }, true)
        put(6, "</Audio>")
        put(5, "</Clip>")
      end
      put(4, "</Clips>")
    end
    put(3, "</Lanes>")
  end
  put(2, "</Lanes>")
  local marks = {}
  for _, sec in ipairs(plan.sections) do marks[#marks + 1] = { start = sec.start, name = sec.label } end
  for _, mk in ipairs(plan.markers) do marks[#marks + 1] = { start = mk.start, name = mk.name } end
  table.sort(marks, function(a, b) return a.start < b.start end)
  if #marks > 0 then
    el(2, "Markers", { "id", "markers", "timeUnit", "seconds" })
    for _, mk in ipairs(marks) do
      el(3, "Marker", { "name", mk.name, "time", secs(mk.start, rate) }, true)
    end
    put(2, "</Markers>")
  end
  el(2, "TempoAutomation", { "id", "tempo_automation", "timeUnit", "seconds", "unit", "bpm" })
  el(3, "Target", { "parameter", "tempo" }, true)
  for _, seg in ipairs(plan.segments) do
    el(3, "RealPoint", { "time", secs(seg.start, rate), "value", num(seg.qbpm), "interpolation", "hold" }, true)
  end
  put(2, "</TempoAutomation>")
  el(2, "TimeSignatureAutomation", { "id", "timesig_automation", "timeUnit", "seconds" })
  el(3, "Target", { "parameter", "timesig" }, true)
  for _, seg in ipairs(plan.segments) do
    el(3, "TimeSignaturePoint", { "time", secs(seg.start, rate), "numerator", seg.num,
      "denominator", seg.den }, true)
  end
  put(2, "</TimeSignatureAutomation>")
  put(1, "</Arrangement>")
  put(0, "</Project>")
  local project = table.concat(out, "\n") .. "\n"

  local meta = table.concat({
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    "<MetaData>",
    "  <Title>" .. esc(plan.name) .. "</Title>",
    "  <Comment>" .. esc(plan.comment or "") .. "</Comment>",
    "</MetaData>",
  }, "\n") .. "\n"
  return project, meta
end

--- Writes the .dawproject file (a zip of project.xml and metadata.xml).
-- @tparam string path
-- @tparam table plan
-- @treturn[1] true
-- @return[2] nil, message
function M.write(path, plan)
  local project, meta = M.encode(plan)
  return zip.write(path, {
    { name = "project.xml", data = project },
    { name = "metadata.xml", data = meta },
  })
end

return M
