--- reel.template: session templates, loaded in a sandbox, composed and checked.
--
--     local template = require "reel.template"
--     local t = assert(template.load("band"))             -- a name or a path
--     print(t.name, #t.tracks, t.tracks[1].name)
--     local ok, err = template.fit(t, { in_channels = 8, api = "jack", name = "system" })
--     local t2, report = template.check("band_horns", { device = "virtual", channels = 16 })
--
-- A template is a Lua chunk that returns a table of data:
--
--     return {
--       name = "Four-piece band", description = "...",
--       rate = 48000, format = "wav24", tempo = 120, meter = "4/4",
--       tracks = {
--         { name = "Kick", input = 1 },                     -- a mono input
--         { name = "Overheads", input = { 7, 8 } },         -- a stereo pair {LEFT, RIGHT}
--         { name = "Vox", input = 12, monitor = true, gain_db = 0, pan = 0 },
--       },
--       groups = { { name = "Drums", tracks = { "Kick", "Overheads" } } },
--       sections = { { "Intro", 4 }, { "Verse", 16 }, { "Chorus", 8 } },
--       take_policy = { passes = 3, count_in = 1, pre_roll = 2, punch = false,
--                       click = true, reject = { "xruns" }, prefer = "fewest_problems" },
--     }
--
-- Every field is optional (a track needs a name and an input). Fields:
--
--   * `name`, `description`: strings; `rate` (Hz), `format` (wav24, wav32f,
--     flac, rf64), `tempo` (beats per minute of the meter's note value),
--     `meter` ("N/D"), checked as reel.session checks them;
--   * `tracks`: `name` (it becomes a file name: Vox_T03.wav), `input` (a
--     channel counting from 1, or `{LEFT, RIGHT}`), `monitor` (boolean),
--     `gain_db` (number), `pan` (-1 to 1);
--   * `groups`: `{ name = , tracks = { TRACK NAME, ... } }`;
--   * `sections`: `{ NAME, BARS }` in order from bar 1; a name used more than
--     once is referred to as "Chorus 1", "Chorus 2" (its label);
--   * `take_policy`: defaults for take routines: `passes` (1-100), `count_in`
--     (bars, 0-16), `pre_roll` (seconds, 0-60), `punch`, `click` (booleans),
--     `reject` (problems that reject a take by themselves: xruns, clipped,
--     overruns), `prefer` (which take is best: fewest_problems, latest,
--     first);
--   * `extends`: another template (a name, or a path relative to this
--     file), which this one changes: scalars and take_policy fields
--     override; a track whose name the base has changes that track's fields
--     (`{ name = "Vox", monitor = false }`), another is added at the end;
--     `remove_tracks = { NAME, ... }` removes tracks first (and them from
--     groups; a group left empty goes); a group whose name the base has
--     replaces it, another is added; `remove_sections = { LABEL or NAME }`
--     removes sections first; then each section `{ NAME, BARS }` whose NAME
--     is a label of the base ("Chorus 2") changes that section's length, one
--     that is a name ("Chorus") changes every section of that name, any
--     other is added at the end, and one with `after = LABEL` or
--     `before = LABEL` is always added there.
--
-- Templates run in reel.sandbox (lua/sandbox.h): text only, no io, os,
-- require, load, debug or package, no pattern functions, 32 MiB and 0.1 s.
--
-- Messages name the file, the line and the field: "band.lua:25: tracks[2]:
-- unknown field 'imput' (did you mean 'input'?)". Lines come from the table
-- constructors the sandbox noted; a field's line is the line where its key
-- is written inside its table, else the line of the table's '{'. A template
-- with several mistakes gets one line per mistake.
--
-- Conventions: misuse (a wrong argument type) raises; a template that
-- cannot be found, read or used returns nil and the message.
--
-- Threads: the script's (control) thread.
-- @module reel.template

local core = require "reel.core"
local json = require "reel.json"
local sandbox = require "reel.sandbox"
local session = require "reel.session"
local tempo = require "reel.tempo"
local util = require "reel.util"

-- Values from a template, as messages show them: quoted, escaped, cut short.
local quote = session.quote

local M = {}

--- Largest template file read, in bytes.
M.MAX_BYTES = 1 << 20
--- How many templates deep `extends` may go.
M.MAX_EXTENDS = 8
--- At most this many messages are reported for one template.
M.MAX_ERRORS = 20

M.FIELDS = { "name", "description", "rate", "format", "tempo", "meter", "tracks", "groups",
  "sections", "take_policy", "extends", "remove_tracks", "remove_sections" }
M.TRACK_FIELDS = { "name", "input", "monitor", "gain_db", "pan" }
M.GROUP_FIELDS = { "name", "tracks" }
M.SECTION_FIELDS = { "after", "before" }
M.TAKE_POLICY_FIELDS = { "passes", "count_in", "pre_roll", "punch", "click", "reject", "prefer" }
M.PREFER = { "fewest_problems", "latest", "first" }
M.REJECT = { "xruns", "clipped", "overruns" }

local MAX_CHANNEL = 1024

-- ------------------------------------------------------------ helpers

local misuse, typename = util.misuse, util.typename
local index_of, is_list = util.index_of, util.is_list

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function quote_key(k)
  if type(k) == "string" then return quote(k) end
  return ("[%s]"):format(tostring(k))
end

local join_path = util.join

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

-- a/./b/../c -> a/c, ./x -> x (so that one file has one name in messages
-- and in the check for circles).
local function normalize(path)
  local abs = path:sub(1, 1) == "/"
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." and #parts > 0 and parts[#parts] ~= ".." then
      parts[#parts] = nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  local out = table.concat(parts, "/")
  if abs then return "/" .. out end
  return out ~= "" and out or "."
end

--- Edit distance (optimal string alignment: insertions, deletions,
-- substitutions and transpositions of neighbours count 1 each).
-- @tparam string a
-- @tparam string b
-- @treturn integer
function M.distance(a, b)
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    local ai = a:byte(i)
    for j = 1, lb do
      local cost = ai == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and ai == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

--- The valid word nearest to a misspelt one, or nil when none is near:
-- the same but for case, a prefix of at least 3 letters, or within an edit
-- distance of 1 (words up to 4 letters), 2 (up to 8) or 3.
-- @tparam string word
-- @tparam {string,...} valid
-- @treturn ?string
function M.suggest(word, valid)
  -- (a long word is no misspelling, and the distance costs its length)
  if type(word) ~= "string" or word == "" or #word > 64 then return nil end
  local lw = word:lower()
  local best, best_d
  local max = #word <= 4 and 1 or (#word <= 8 and 2 or 3)
  for _, v in ipairs(valid) do
    local lv = v:lower()
    local d
    if lv == lw then
      d = 0
    elseif #lw >= 3 and lv:sub(1, #lw) == lw then
      d = 1
    else
      d = M.distance(lw, lv)
    end
    if d <= max and (not best_d or d < best_d) then best, best_d = v, d end
  end
  return best
end

local function unknown_field(key, valid, owner)
  local near = M.suggest(key, valid)
  if near then
    return ("unknown field %s (did you mean '%s'?)"):format(quote_key(key), near)
  end
  return ("unknown field %s (%s has %s)"):format(quote_key(key), owner, table.concat(valid, ", "))
end

local function not_found(what, name, valid)
  local near = M.suggest(name, valid)
  if near then return ("%s %s (did you mean '%s'?)"):format(what, quote(name), near) end
  if #valid == 0 then return ("%s %s (there are none)"):format(what, quote(name)) end
  return ("%s %s (%s)"):format(what, quote(name), table.concat(valid, ", "))
end

-- ------------------------------------------------------------ places

-- A file being checked: ctx = { path, src, spans, errors, lines (cache) }.
-- A place in it: at = { ctx = ctx, tbl = the table holding the field,
-- key = the field's key in tbl (or nil), where = "tracks[2].input" }.

local function source_lines(ctx)
  if not ctx.lines then ctx.lines = util.lines(ctx.src) end
  return ctx.lines
end

-- The line where `key =` is written in tbl's constructor, outside the
-- constructors nested in it; nil when not found.
local function key_line(ctx, tbl, span, key)
  return util.key_line(source_lines(ctx), ctx.spans, tbl, span, key)
end

local function line_at(at)
  local ctx = at.ctx
  local tbl = at.tbl
  local span = type(tbl) == "table" and ctx.spans[tbl]
  if not span then return nil end
  return key_line(ctx, tbl, span, at.key) or span[1]
end

local function format_error(e)
  local place = e.line and ("%s:%d"):format(e.path, e.line) or e.path
  if e.where and e.where ~= "" then return ("%s: %s: %s"):format(place, e.where, e.msg) end
  return ("%s: %s"):format(place, e.msg)
end

-- Records a mistake at `at` (its line is looked up now).
local function report(errors, at, msg)
  errors[#errors + 1] = { path = at.ctx.path, line = line_at(at), where = at.where, msg = msg }
end

local function field_at(ctx, tbl, key, where)
  return { ctx = ctx, tbl = tbl, key = key, where = where }
end

local function sub(where, key)
  if type(key) == "number" then return ("%s[%d]"):format(where or "", key) end
  if where == nil or where == "" then return key end
  return where .. "." .. key
end

-- ------------------------------------------------------------ finding

--- The names of the templates shipped under share/templates/, sorted.
-- @treturn {string,...}
function M.list()
  local share = core.share_dir()
  local names = {}
  for _, f in ipairs(share and core.list_dir(join_path(share, "templates")) or {}) do
    local n = f:match("^(.+)%.lua$")
    if n then names[#names + 1] = n end
  end
  return names
end

local function is_path(spec)
  return spec:find("/", 1, true) ~= nil or spec:find("%.lua$") ~= nil
end

--- Where a template is: a spec containing "/" or ending in ".lua" is a path
-- (relative to `from_dir` when given and not absolute), any other a name
-- under share/templates/.
-- @tparam string spec
-- @tparam[opt] string from_dir
-- @treturn[1] string path
-- @return[2] nil, message
function M.find(spec, from_dir)
  if type(spec) ~= "string" or spec == "" then
    misuse(("bad argument #1 to 'find' (template name or path expected, got %s)")
      :format(spec == "" and "empty string" or typename(spec)))
  end
  if is_path(spec) then
    if from_dir and spec:sub(1, 1) ~= "/" then return normalize(join_path(from_dir, spec)) end
    return spec
  end
  local share = core.share_dir()
  local path = share and join_path(share, "templates/" .. spec .. ".lua")
  if path and core.exists(path) then return path end
  local names = M.list()
  local near = M.suggest(spec, names)
  local list = #names > 0 and ("templates: " .. table.concat(names, ", ")) or "no templates installed"
  return nil, ("template %s not found (%s%s); give a path such as ./%s.lua for a template "
    .. "of your own"):format(quote(spec), near and ("did you mean '%s'? "):format(near) or "", list,
    #spec <= session.QUOTE_MAX and spec:find("^[%w_%-%.]+$") and spec or "NAME")
end

local function read_file(path)
  -- (opening a FIFO would wait for a writer for ever)
  local kind = core.exists(path)
  if kind and kind ~= "file" then
    return nil, ("%s: not a regular file (a %s)"):format(path,
      kind == "directory" and "folder" or "FIFO, device or socket")
  end
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text, rerr = f:read(M.MAX_BYTES + 1)
  f:close()
  if text == nil and rerr then return nil, ("%s: %s"):format(path, rerr) end
  text = text or ""
  if #text > M.MAX_BYTES then
    return nil, ("%s: template larger than %d bytes"):format(path, M.MAX_BYTES)
  end
  return text
end

-- ------------------------------------------------------------ one file

local function check_string(errors, at, v, nonempty)
  if type(v) ~= "string" then
    report(errors, at, "string expected, got " .. typename(v))
    return false
  end
  if nonempty and v == "" then
    report(errors, at, "must not be empty")
    return false
  end
  return true
end

local function check_number(errors, at, v, kind, min, max, unit)
  if type(v) ~= "number" then
    report(errors, at, ("%s expected, got %s"):format(kind, typename(v)))
    return false
  end
  if v ~= v or v == math.huge or v == -math.huge then
    report(errors, at, "finite number expected")
    return false
  end
  if kind == "integer" and math.tointeger(v) == nil then
    report(errors, at, ("integer expected, got %s"):format(v))
    return false
  end
  if (min and v < min) or (max and v > max) then
    report(errors, at, ("must be between %s and %s%s, got %s"):format(min, max, unit or "", v))
    return false
  end
  return true
end

local function check_boolean(errors, at, v)
  if type(v) ~= "boolean" then
    report(errors, at, "boolean expected, got " .. typename(v))
    return false
  end
  return true
end

-- A list (keys 1..n). `what` describes an element for the message.
local function check_list(errors, at, v, what)
  if type(v) ~= "table" then
    report(errors, at, ("list of %s expected, got %s"):format(what, typename(v)))
    return false
  end
  if not is_list(v) then
    for _, k in ipairs(sorted_keys(v)) do
      if math.type(k) ~= "integer" or k < 1 then
        report(errors, at, ("list of %s expected, got a table with the key %s"):format(what, quote_key(k)))
        return false
      end
    end
    report(errors, at, ("list of %s expected, got a table with holes"):format(what))
    return false
  end
  return true
end

-- Checks that a record has only known, named fields; returns true when it
-- is a table. `at` is the record's own place (its holder and key).
local function check_record(errors, ctx, v, at, valid, owner, example)
  if type(v) ~= "table" then
    report(errors, at, ("%s expected, got %s"):format(example, typename(v)))
    return false
  end
  for _, k in ipairs(sorted_keys(v)) do
    if type(k) ~= "string" then
      report(errors, field_at(ctx, v, nil, at.where),
        ("fields have names (%s), got a value at %s"):format(example, quote_key(k)))
    elseif not index_of(valid, k) then
      report(errors, field_at(ctx, v, k, at.where), unknown_field(k, valid, owner))
    end
  end
  return true
end

local function check_input(errors, at, v)
  if math.type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
  if math.type(v) == "integer" then
    if v < 1 or v > MAX_CHANNEL then
      report(errors, at, ("input channels count from 1 to %d, got %d"):format(MAX_CHANNEL, v))
      return nil
    end
    return { v }
  end
  if type(v) ~= "table" then
    report(errors, at, "integer or list of 1 or 2 integers expected, got " .. typename(v))
    return nil
  end
  if not is_list(v) or #v < 1 or #v > 2 then
    report(errors, at, "one channel or a stereo pair {LEFT, RIGHT} expected")
    return nil
  end
  local out = {}
  for i, c in ipairs(v) do
    if math.type(c) == "float" and c == math.floor(c) then c = math.tointeger(c) end
    if math.type(c) ~= "integer" or c < 1 or c > MAX_CHANNEL then
      report(errors, at, ("input channels are integers from 1 to %d, got %s"):format(MAX_CHANNEL,
        type(c) == "string" and quote(c) or tostring(c)))
      return nil
    end
    out[i] = c
  end
  if out[2] and out[1] == out[2] then
    report(errors, at, ("a stereo pair takes two channels, got %d twice"):format(out[1]))
    return nil
  end
  return out
end

-- Checks the names in a list of strings (remove_tracks, group members):
-- strings, not empty, no repeats. `at`: the list's place.
local function check_names(errors, ctx, list, at, what)
  local where = at.where
  if not check_list(errors, at, list, what) then return false end
  local seen, ok = {}, true
  for i, n in ipairs(list) do
    local at = field_at(ctx, list, nil, ("%s[%d]"):format(where, i))
    if not check_string(errors, at, n, true) then
      ok = false
    elseif seen[n] then
      report(errors, at, ("%s is listed twice (also %s[%d])"):format(quote(n), where, seen[n]))
      ok = false
    else
      seen[n] = i
    end
  end
  return ok
end

local function check_tracks(errors, ctx, t)
  local tracks = t.tracks
  if not check_list(errors, field_at(ctx, t, "tracks", "tracks"), tracks, "tracks ({ name = , input = })") then
    return
  end
  local seen, lower = {}, {}
  for i, tr in ipairs(tracks) do
    local w = ("tracks[%d]"):format(i)
    if check_record(errors, ctx, tr, field_at(ctx, tracks, nil, w), M.TRACK_FIELDS, "a track",
        "{ name = NAME, input = CHANNEL }") then
      local nat = field_at(ctx, tr, "name", w .. ".name")
      if tr.name == nil then
        report(errors, field_at(ctx, tr, nil, w), "the field 'name' is missing (every track has a name)")
      else
        local why = session.bad_track_name(tr.name)
        if why then
          report(errors, nat, why)
        elseif seen[tr.name] then
          report(errors, nat, ("%s is used twice (also tracks[%d])"):format(quote(tr.name), seen[tr.name]))
        elseif lower[tr.name:lower()] then
          local j = lower[tr.name:lower()]
          report(errors, nat, ("%s differs from tracks[%d]'s %s only in case (their take "
            .. "files would clash on some systems)"):format(quote(tr.name), j, quote(tracks[j].name)))
        else
          seen[tr.name] = i
          lower[tr.name:lower()] = i
        end
      end
      if tr.input ~= nil then check_input(errors, field_at(ctx, tr, "input", w .. ".input"), tr.input) end
      if tr.monitor ~= nil then check_boolean(errors, field_at(ctx, tr, "monitor", w .. ".monitor"), tr.monitor) end
      if tr.gain_db ~= nil then
        check_number(errors, field_at(ctx, tr, "gain_db", w .. ".gain_db"), tr.gain_db, "number", -144, 48, " dB")
      end
      if tr.pan ~= nil then check_number(errors, field_at(ctx, tr, "pan", w .. ".pan"), tr.pan, "number", -1, 1) end
    end
  end
end

local function check_groups(errors, ctx, t)
  local groups = t.groups
  if not check_list(errors, field_at(ctx, t, "groups", "groups"), groups, "groups ({ name = , tracks = })") then
    return
  end
  local seen = {}
  for i, g in ipairs(groups) do
    local w = ("groups[%d]"):format(i)
    if check_record(errors, ctx, g, field_at(ctx, groups, nil, w), M.GROUP_FIELDS, "a group",
        "{ name = NAME, tracks = { TRACK, ... } }") then
      if g.name == nil then
        report(errors, field_at(ctx, g, nil, w), "the field 'name' is missing (every group has a name)")
      elseif check_string(errors, field_at(ctx, g, "name", w .. ".name"), g.name, true) then
        if seen[g.name] then
          report(errors, field_at(ctx, g, "name", w .. ".name"),
            ("%s is used twice (also groups[%d])"):format(quote(g.name), seen[g.name]))
        end
        seen[g.name] = seen[g.name] or i
      end
      if g.tracks == nil then
        report(errors, field_at(ctx, g, nil, w), "the field 'tracks' is missing (the names of its tracks)")
      else
        check_names(errors, ctx, g.tracks, field_at(ctx, g, "tracks", w .. ".tracks"), "track names")
      end
    end
  end
end

local function check_sections(errors, ctx, t)
  local sections, extends = t.sections, t.extends ~= nil
  if not check_list(errors, field_at(ctx, t, "sections", "sections"), sections, "sections ({ NAME, BARS })") then
    return
  end
  for i, sec in ipairs(sections) do
    local w = ("sections[%d]"):format(i)
    local example = '{ NAME, BARS } (e.g. { "Verse", 16 })'
    if type(sec) ~= "table" then
      report(errors, field_at(ctx, sections, nil, w), ("%s expected, got %s"):format(example, typename(sec)))
    else
      local extra = {}
      for _, k in ipairs(sorted_keys(sec)) do
        if k ~= 1 and k ~= 2 then
          if type(k) == "string" and index_of(M.SECTION_FIELDS, k) then
            if not extends then
              report(errors, field_at(ctx, sec, k, w .. "." .. k), ("'%s' places a section among the "
                .. "sections of the template this one extends, and this one extends none"):format(k))
            end
          elseif type(k) == "string" then
            report(errors, field_at(ctx, sec, k, w), unknown_field(k, M.SECTION_FIELDS, "a section"))
          else
            extra[#extra + 1] = quote_key(k)
          end
        end
      end
      local n = #extra + (sec[1] ~= nil and 1 or 0) + (sec[2] ~= nil and 1 or 0)
      if #extra > 0 or sec[1] == nil or sec[2] == nil then
        report(errors, field_at(ctx, sec, nil, w), ("%s expected, got %d value%s")
          :format(example, n, n == 1 and "" or "s"))
      else
        check_string(errors, field_at(ctx, sec, nil, w .. "[1]"), sec[1], true)
        check_number(errors, field_at(ctx, sec, nil, w .. "[2]"), sec[2], "integer", 1, tempo.BAR_MAX, " bars")
      end
      if sec.after ~= nil then check_string(errors, field_at(ctx, sec, "after", w .. ".after"), sec.after, true) end
      if sec.before ~= nil then check_string(errors, field_at(ctx, sec, "before", w .. ".before"), sec.before, true) end
      if sec.after ~= nil and sec.before ~= nil then
        report(errors, field_at(ctx, sec, "before", w), "give 'after' or 'before', not both")
      end
    end
  end
end

local function check_take_policy(errors, ctx, t)
  local p, w = t.take_policy, "take_policy"
  if not check_record(errors, ctx, p, field_at(ctx, t, w, w), M.TAKE_POLICY_FIELDS, "take_policy",
      "{ passes = N, count_in = BARS, ... }") then
    return
  end
  local function at(k) return field_at(ctx, p, k, w .. "." .. k) end
  if p.passes ~= nil then check_number(errors, at("passes"), p.passes, "integer", 1, 100) end
  if p.count_in ~= nil then check_number(errors, at("count_in"), p.count_in, "integer", 0, 16, " bars") end
  if p.pre_roll ~= nil then check_number(errors, at("pre_roll"), p.pre_roll, "number", 0, 60, " s") end
  if p.punch ~= nil then check_boolean(errors, at("punch"), p.punch) end
  if p.click ~= nil then check_boolean(errors, at("click"), p.click) end
  if p.prefer ~= nil and check_string(errors, at("prefer"), p.prefer) and not index_of(M.PREFER, p.prefer) then
    report(errors, at("prefer"), not_found("no way to prefer", p.prefer, M.PREFER))
  end
  if p.reject ~= nil and check_names(errors, ctx, p.reject, at("reject"), "problems") then
    for i, r in ipairs(p.reject) do
      if not index_of(M.REJECT, r) then
        report(errors, field_at(ctx, p.reject, nil, ("%s.reject[%d]"):format(w, i)),
          not_found("no problem called", r, M.REJECT))
      end
    end
  end
end

-- Checks one file's table by itself (what needs other files, such as the
-- members of groups, is checked once the templates are composed).
local function check_file(errors, ctx, t)
  check_record(errors, ctx, t, field_at(ctx, t, nil, nil), M.FIELDS, "a template",
    "name = ..., tracks = { ... }")
  local function at(k) return field_at(ctx, t, k, k) end
  if t.name ~= nil then check_string(errors, at("name"), t.name, true) end
  if t.description ~= nil then check_string(errors, at("description"), t.description) end
  if t.rate ~= nil then
    local c = session.check_rate(t.rate)
    if c then report(errors, at("rate"), c) end
  end
  if t.format ~= nil then
    local c = session.check_format(t.format)
    if c then
      local near = type(t.format) == "string" and M.suggest(t.format, core.formats())
      report(errors, at("format"), near and ("%s (did you mean '%s'?)"):format(c, near) or c)
    end
  end
  if t.tempo ~= nil then
    local c = session.check_tempo(t.tempo)
    if c then report(errors, at("tempo"), c) end
  end
  if t.meter ~= nil then
    local c = session.check_meter(t.meter)
    if c then report(errors, at("meter"), c) end
  end
  if t.extends ~= nil then check_string(errors, at("extends"), t.extends, true) end
  if t.tracks ~= nil then check_tracks(errors, ctx, t) end
  if t.groups ~= nil then check_groups(errors, ctx, t) end
  if t.sections ~= nil then check_sections(errors, ctx, t) end
  if t.take_policy ~= nil then check_take_policy(errors, ctx, t) end
  for _, k in ipairs{ "remove_tracks", "remove_sections" } do
    if t[k] ~= nil then
      if t.extends == nil then
        report(errors, at(k), "only a template that extends another removes from it (extends = \"band\")")
      else
        check_names(errors, ctx, t[k], at(k), k == "remove_tracks" and "track names" or "section labels")
      end
    end
  end
end

-- ------------------------------------------------------------ composing

-- The composed template while it is built: scalars, and lists of entries
-- that remember where each came from (`at`), for the messages of the
-- checks that need the whole.
local function empty_composed()
  return { scalars = {}, tracks = {}, groups = {}, sections = {}, take_policy = {},
           take_policy_at = {}, files = {} }
end

local function labels(sections)
  local count, seen, out = {}, {}, {}
  for _, s in ipairs(sections) do count[s.name] = (count[s.name] or 0) + 1 end
  for i, s in ipairs(sections) do
    seen[s.name] = (seen[s.name] or 0) + 1
    out[i] = count[s.name] > 1 and ("%s %d"):format(s.name, seen[s.name]) or s.name
  end
  return out
end

-- Indices of the sections a reference means: a label (one), else a name
-- (all of that name).
local function find_sections(sections, ref)
  local ls = labels(sections)
  for i, l in ipairs(ls) do
    if l == ref then return { i } end
  end
  local all = {}
  for i, s in ipairs(sections) do
    if s.name == ref then all[#all + 1] = i end
  end
  return all
end

local function find_track(tracks, name)
  for i, tr in ipairs(tracks) do
    if tr.name == name then return i end
  end
end

local function names_of(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.name end
  return out
end

-- Applies file `t` (checked, from ctx) on top of `c` (the composed base, or
-- empty). base_name names the base in messages.
local function apply(errors, c, ctx, t, base_name)
  for _, k in ipairs{ "name", "description", "rate", "format", "tempo", "meter" } do
    if t[k] ~= nil then c.scalars[k] = t[k] end
  end

  -- tracks: removals, then changes and additions by name
  if type(t.remove_tracks) == "table" then
    for i, name in ipairs(t.remove_tracks) do
      local j = type(name) == "string" and find_track(c.tracks, name)
      if j then
        table.remove(c.tracks, j)
      elseif type(name) == "string" then
        report(errors, field_at(ctx, t.remove_tracks, nil, ("remove_tracks[%d]"):format(i)),
          not_found(base_name .. " has no track", name, names_of(c.tracks)))
      end
    end
    for _, g in ipairs(c.groups) do
      local kept = {}
      for _, m in ipairs(g.tracks) do
        if find_track(c.tracks, m) then kept[#kept + 1] = m end
      end
      g.tracks = kept
    end
    for i = #c.groups, 1, -1 do
      if #c.groups[i].tracks == 0 then table.remove(c.groups, i) end
    end
  end
  if type(t.tracks) == "table" then
    for i, tr in ipairs(t.tracks) do
      if type(tr) == "table" and type(tr.name) == "string" then
        local w = ("tracks[%d]"):format(i)
        local at = field_at(ctx, tr, nil, w)
        local j = find_track(c.tracks, tr.name)
        local entry = j and c.tracks[j]
        if not entry then
          entry = { name = tr.name, at = at }
          c.tracks[#c.tracks + 1] = entry
        end
        for _, k in ipairs{ "input", "monitor", "gain_db", "pan" } do
          if tr[k] ~= nil then
            entry[k] = tr[k]
            if k == "input" then entry.input_at = field_at(ctx, tr, "input", w .. ".input") end
          end
        end
      end
    end
  end

  -- groups: replaced or added by name
  if type(t.groups) == "table" then
    for i, g in ipairs(t.groups) do
      if type(g) == "table" and type(g.name) == "string" and type(g.tracks) == "table" then
        local entry = { name = g.name, tracks = {}, at = field_at(ctx, g, nil, ("groups[%d]"):format(i)),
                        tracks_tbl = g.tracks, ctx = ctx }
        for k, m in ipairs(g.tracks) do entry.tracks[k] = m end
        local j
        for x, old in ipairs(c.groups) do
          if old.name == g.name then j = x end
        end
        if j then c.groups[j] = entry else c.groups[#c.groups + 1] = entry end
      end
    end
  end

  -- sections: removals, then changes, insertions and additions
  if type(t.remove_sections) == "table" then
    for i, ref in ipairs(t.remove_sections) do
      if type(ref) == "string" then
        local found = find_sections(c.sections, ref)
        if #found == 0 then
          report(errors, field_at(ctx, t.remove_sections, nil, ("remove_sections[%d]"):format(i)),
            not_found(base_name .. " has no section", ref, labels(c.sections)))
        end
        for k = #found, 1, -1 do table.remove(c.sections, found[k]) end
      end
    end
  end
  if type(t.sections) == "table" then
    if t.extends == nil then c.sections = {} end
    for i, sec in ipairs(t.sections) do
      if type(sec) == "table" and type(sec[1]) == "string" and math.tointeger(sec[2]) then
        local w = ("sections[%d]"):format(i)
        local entry = { name = sec[1], bars = math.tointeger(sec[2]), at = field_at(ctx, sec, nil, w) }
        local anchor = sec.after or sec.before
        if type(anchor) == "string" then
          local found = find_sections(c.sections, anchor)
          if #found ~= 1 then
            local key = sec.after and "after" or "before"
            report(errors, field_at(ctx, sec, key, w .. "." .. key), #found == 0
              and not_found(base_name .. " has no section", anchor, labels(c.sections))
              or ("%s is %d sections; name one of them by its label (%s 1, %s 2, ...)")
                :format(quote(anchor), #found, quote(anchor):match("^'(.*)'$") or "NAME",
                  quote(anchor):match("^'(.*)'$") or "NAME"))
          else
            table.insert(c.sections, found[1] + (sec.after and 1 or 0), entry)
          end
        elseif t.extends ~= nil then
          local found = find_sections(c.sections, entry.name)
          if #found == 0 then
            c.sections[#c.sections + 1] = entry
          else
            for _, k in ipairs(found) do
              c.sections[k].bars = entry.bars
              c.sections[k].at = entry.at
            end
          end
        else
          c.sections[#c.sections + 1] = entry
        end
      end
    end
    c.sections_at = field_at(ctx, t, "sections", "sections")
  end

  if type(t.take_policy) == "table" then
    for _, k in ipairs(M.TAKE_POLICY_FIELDS) do
      if t.take_policy[k] ~= nil then c.take_policy[k] = t.take_policy[k] end
    end
  end
end

-- Checks what only the whole shows: inputs given, group members, sections.
local function check_composed(errors, c)
  for i, tr in ipairs(c.tracks) do
    if tr.input == nil then
      report(errors, tr.at, ("the field 'input' is missing (track %s records from a channel, "
        .. "input = N, or a stereo pair, input = {LEFT, RIGHT})"):format(quote(tr.name)))
    end
    tr.index = i
  end
  local track_names = names_of(c.tracks)
  for _, g in ipairs(c.groups) do
    for k, m in ipairs(g.tracks) do
      if type(m) == "string" and not find_track(c.tracks, m) then
        report(errors, field_at(g.ctx, g.tracks_tbl, nil, ("%s.tracks[%d]"):format(g.at.where, k)),
          not_found("no track", m, track_names))
      end
    end
  end
  local bars = 0
  for _, s in ipairs(c.sections) do bars = bars + s.bars end
  if bars > tempo.BAR_MAX and c.sections_at then
    report(errors, c.sections_at, ("%d bars in all, more than a session holds (%d)"):format(bars, tempo.BAR_MAX))
  end
  local ls, seen = labels(c.sections), {}
  for i, l in ipairs(ls) do
    if seen[l] then
      report(errors, c.sections[i].at, ("two sections would be called %s; choose another name"):format(quote(l)))
    end
    seen[l] = true
  end
end

-- The plain data of a composed template.
local function result_of(c, path, chain)
  local data = {}
  for k, v in pairs(c.scalars) do data[k] = v end
  if #c.tracks > 0 then
    data.tracks = {}
    for i, tr in ipairs(c.tracks) do
      local input = tr.input
      if math.type(input) == "float" then input = math.tointeger(input) end
      if type(input) == "number" then input = { input } end
      local list = {}
      for k, ch in ipairs(input or {}) do list[k] = math.tointeger(ch) or ch end
      data.tracks[i] = { name = tr.name, input = json.array(list), monitor = tr.monitor,
                         gain_db = tr.gain_db, pan = tr.pan }
    end
  end
  if #c.groups > 0 then
    data.groups = {}
    for i, g in ipairs(c.groups) do
      data.groups[i] = { name = g.name, tracks = json.array{ table.unpack(g.tracks) } }
    end
  end
  if #c.sections > 0 then
    data.sections = {}
    for i, s in ipairs(c.sections) do data.sections[i] = { s.name, s.bars } end
  end
  if next(c.take_policy) then
    data.take_policy = {}
    for k, v in pairs(c.take_policy) do
      data.take_policy[k] = type(v) == "table" and json.array{ table.unpack(v) } or v
    end
  end
  data.template = path
  if #chain > 1 then data.extends = chain[2] end
  return data
end

-- Where each composed template's tracks came from (for fit): weak keys.
local origins = setmetatable({}, { __mode = "k" })

-- Loads path and what it extends into c. chain: the paths being loaded,
-- innermost last.
local function load_into(errors, c, path, chain)
  local src, err = read_file(path)
  if not src then return nil, err end
  local t, spans = sandbox.load_data(src, "=" .. path)
  if not t then return nil, session.tame(spans) end
  local ctx = { path = path, src = src, spans = spans }
  chain[#chain + 1] = path
  c.files[#c.files + 1] = path

  local before = #errors
  check_file(errors, ctx, t)
  if #errors > before then return false end

  local base_name = "the template"
  if t.extends ~= nil then
    local base, ferr = M.find(t.extends, dirname(path))
    local eat = field_at(ctx, t, "extends", "extends")
    if not base then
      report(errors, eat, ferr)
      return false
    end
    for _, p in ipairs(chain) do
      if normalize(p) == normalize(base) then
        local names = {}
        for i, q in ipairs(chain) do names[i] = normalize(q) end
        names[#names + 1] = normalize(base)
        report(errors, eat, ("%s goes round in a circle (%s)"):format(quote(t.extends), table.concat(names, " -> ")))
        return false
      end
    end
    if #chain >= M.MAX_EXTENDS then
      report(errors, eat, ("more than %d templates deep"):format(M.MAX_EXTENDS))
      return false
    end
    local ok, lerr = load_into(errors, c, base, chain)
    if ok == nil then
      -- the base failed by itself: say who asked for it
      report(errors, field_at(ctx, t, "extends", "extends"), ("cannot use %s: %s"):format(quote(t.extends), lerr))
      return false
    elseif not ok then
      return false
    end
    base_name = t.extends:match("([^/]+)%.lua$") or t.extends
  end
  apply(errors, c, ctx, t, base_name)
  return #errors == before
end

local function errors_text(errors)
  local lines = {}
  for i = 1, math.min(#errors, M.MAX_ERRORS) do lines[i] = format_error(errors[i]) end
  if #errors > M.MAX_ERRORS then
    lines[#lines + 1] = ("(%d more mistakes not shown)"):format(#errors - M.MAX_ERRORS)
  end
  return table.concat(lines, "\n")
end

--- Loads a template: finds it, runs it and what it extends in the sandbox,
-- checks every field and composes the result.
-- @tparam string spec a path (containing "/" or ending in ".lua") or the
--   name of a template under share/templates/ ("band")
-- @treturn[1] table the template's data: `name`, `description`, `rate`,
--   `format`, `tempo`, `meter` (those given), `tracks` (`{name, input =
--   {channels}, monitor, gain_db, pan}`), `groups` (`{name, tracks}`),
--   `sections` (`{NAME, BARS}`), `take_policy`, `template` (the file) and
--   `extends` (the file it extends, if any)
-- @treturn[1] string the file it came from
-- @return[2] nil, message: one line per mistake, "FILE:LINE: field: what"
function M.load(spec)
  if type(spec) ~= "string" or spec == "" then
    misuse(("bad argument #1 to 'load' (template name or path expected, got %s)")
      :format(spec == "" and "empty string" or typename(spec)))
  end
  local path, ferr = M.find(spec)
  if not path then return nil, ferr end
  local errors, c, chain = {}, empty_composed(), {}
  local ok, err = load_into(errors, c, path, chain)
  if ok == nil then return nil, err end
  if ok then check_composed(errors, c) end
  if #errors > 0 then return nil, errors_text(errors) end
  local data = result_of(c, path, chain)
  local from = {}
  for i, tr in ipairs(c.tracks) do from[i] = tr.input_at end
  origins[data] = from
  return data, path
end

--- The input channels a template's tracks use, highest first found.
-- @tparam table data as `load` returns it
-- @treturn integer the highest channel (0 without tracks)
function M.channels_needed(data)
  local max = 0
  for _, tr in ipairs(data.tracks or {}) do
    for _, ch in ipairs(tr.input) do max = math.max(max, ch) end
  end
  return max
end

--- Checks a loaded template against a device: every input channel must
-- exist. Rates that differ and channels recorded by two tracks are warnings.
-- @tparam table data as `load` returns it
-- @tparam table info the device's: `in_channels`, and `api`, `name`,
--   `rate` for the messages (as `reel.device(...):info()` gives)
-- @treturn[1] {string,...} warnings (maybe none)
-- @return[2] nil, message: one line per track that does not fit
function M.fit(data, info)
  if type(data) ~= "table" then
    misuse(("bad argument #1 to 'fit' (template data expected, got %s)"):format(typename(data)))
  end
  if type(info) ~= "table" or math.type(info.in_channels) ~= "integer" then
    misuse("bad argument #2 to 'fit' (device info with in_channels expected)")
  end
  local device = info.api and ("%s '%s'"):format(info.api, info.name or "?") or "the device"
  local from = origins[data] or {}
  local errors, warnings, used = {}, {}, {}
  for i, tr in ipairs(data.tracks or {}) do
    local beyond = {}
    for _, ch in ipairs(tr.input) do
      if ch > info.in_channels then beyond[#beyond + 1] = ch end
    end
    if #beyond > 0 then
      local e = { path = data.template or "template", where = ("tracks[%d].input"):format(i),
        msg = ("%s %s for track '%s' %s beyond the %d input channel%s of %s")
          :format(#beyond == 1 and "channel" or "channels", table.concat(beyond, " and "), tr.name,
            #beyond == 1 and "is" or "are", info.in_channels, info.in_channels == 1 and "" or "s", device) }
      local at = from[i]
      if at then
        e.path, e.line, e.where = at.ctx.path, line_at(at), at.where
      end
      errors[#errors + 1] = e
    end
    for _, ch in ipairs(tr.input) do
      if used[ch] then
        warnings[#warnings + 1] = ("tracks '%s' and '%s' both record input channel %d")
          :format(used[ch], tr.name, ch)
      else
        used[ch] = tr.name
      end
    end
  end
  if #errors > 0 then return nil, errors_text(errors) end
  if data.rate and info.rate and data.rate ~= info.rate then
    warnings[#warnings + 1] = ("the template asks for %d Hz but %s runs at %d Hz; takes are "
      .. "recorded at %d Hz"):format(data.rate, device, info.rate, info.rate)
  end
  return warnings
end

--- Opens a device briefly and says what it offers, as `reel record` would
-- open it: at `rate` if it can (else at its own rate: JACK runs at the
-- server's), and a real device with all its input channels unless
-- `channels` is given.
-- @tparam table opts `device` (SPEC), `channels`, `inputs`, `name`
-- @tparam[opt] integer rate
-- @treturn[1] table the device's info (`api`, `name`, `rate`, `in_channels`, ...)
-- @return[2] nil, message
function M.device_info(opts, rate)
  local reel = require "reel"
  local spec = opts.device or ""
  if opts.inputs and spec == "" then spec = "virtual" end
  local function open(r, channels)
    return reel.device{ spec = spec, channels = channels, inputs = opts.inputs, rate = r,
                        name = opts.name }:info()
  end
  local info, err = open(rate, opts.channels)
  if not info and rate then info, err = open(nil, opts.channels) end
  if not info then return nil, err end
  if not opts.channels and info.api ~= "virtual" then
    local all = reel.device_inputs(info)
    if all > info.in_channels then
      local more = open(info.rate, all)
      if more then info = more end
    end
  end
  return info
end

--- Loads a template and, if a device is given, opens it briefly to check
-- that the template fits it: a dry run before anything is recorded.
-- @tparam string spec as for `load`
-- @tparam[opt] table opts `device` (a device SPEC as reel.device takes, ""
--   for auto), `channels` and `inputs` (for the virtual device), `name`
--   (JACK client name)
-- @treturn[1] table the template's data
-- @treturn[1] table report: `path`, `channels` (needed), `device` (the
--   device's info, when one was opened) and `warnings`
-- @return[2] nil, message
function M.check(spec, opts)
  if opts ~= nil and type(opts) ~= "table" then
    misuse(("bad argument #2 to 'check' (table of options expected, got %s)"):format(typename(opts)))
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not index_of({ "device", "channels", "inputs", "name" }, k) then
      misuse(("bad option '%s' to 'check'"):format(tostring(k)))
    end
  end
  local data, path = M.load(spec)
  if not data then return nil, path end
  local rep = { path = path, channels = M.channels_needed(data), warnings = {} }
  if opts.device ~= nil or opts.channels ~= nil or opts.inputs ~= nil then
    local info, derr = M.device_info(opts, data.rate)
    if not info then return nil, derr end
    rep.device = info
    local warnings, ferr = M.fit(data, info)
    if not warnings then return nil, ferr end
    rep.warnings = warnings
  end
  return data, rep
end

return M
