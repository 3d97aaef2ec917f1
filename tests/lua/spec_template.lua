--- spec_template.lua: templates (scripts/reel/template.lua) and the sandbox
-- they run in (lua/sandbox.c, "reel.sandbox"): the shipped templates,
-- composition with `extends`, validation messages word for word, the
-- device check, reel.new from a template, and the corpus of hostile
-- templates under hostile/ (each file's first line says what must happen).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"
local sandbox = require "reel.sandbox"
local session = require "reel.session"
local template = require "reel.template"

local HERE = arg[0]:match("^(.*)/") or "."

local read = T.read

local write = T.write

-- Every line of want starting with "T" gets the file's path instead.
local function with_path(want, path)
  return (want:gsub("%f[^\n%z]T", (path:gsub("%%", "%%%%"))))
end

local dir = T.tmpdir()

-- Writes src to dir/name and loads it: it must fail with exactly want.
local function fails(src, want, name)
  local p = write(dir .. "/" .. (name or "t.lua"), src)
  local data, err = template.load(p)
  T.eq(data, nil, "loaded: " .. src)
  T.eq(err, with_path(want, p))
  return err
end

local function loads(src, name)
  local p = write(dir .. "/" .. (name or "ok.lua"), src)
  local data, err = template.load(p)
  if not data then error(err, 2) end
  return data, p
end

local function track_list(data)
  local out = {}
  for i, t in ipairs(data.tracks or {}) do
    out[i] = ("%s=%s%s"):format(t.name, table.concat(t.input, "+"), t.monitor and "m" or "")
  end
  return table.concat(out, " ")
end

local function section_list(data)
  local out = {}
  for i, s in ipairs(data.sections or {}) do out[i] = s[1] .. ":" .. s[2] end
  return table.concat(out, " ")
end

-- ------------------------------------------------------------ the sandbox

T.test("sandbox: data back with the lines of its constructors", function()
  local src = "-- a comment { with a brace }\nreturn {\n  name = 'x { }',\n  t = { 1, 2,\n"
    .. "    { x = [[ } ]] } },\n}\n"
  local data, lines = sandbox.load_data(src, "=T")
  T.ok(data, lines)
  T.eq(data.name, "x { }")
  T.eq(data.t[3].x, " } ")
  T.eq(table.concat(lines[data], ","), "2,6")
  T.eq(table.concat(lines[data.t], ","), "4,5")
  T.eq(table.concat(lines[data.t[3]], ","), "5,5")
  -- call syntax f{...} and methods still work after the rewrite
  data = assert(sandbox.load_data("local function f(t) return t end\n"
    .. "local s = ('%d'):format(#f{ 1, 2 })\nreturn f{ n = s, m = ('ab'):upper() }", "=T"))
  T.eq(data.n, "2")
  T.eq(data.m, "AB")
  -- the environment: what is there
  data = assert(sandbox.load_data("return { type(string.rep), type(table.sort), type(math.floor), "
    .. "type(utf8.char), type(coroutine.wrap), type(pcall), type(xpcall), type(tostring), "
    .. "select('#', 1, 2), _VERSION }", "=T"))
  T.eq(table.concat(data, " ", 1, 8), "function function function function function function function function")
  T.eq(data[9], 2)
  T.eq(data[10], _VERSION)
  -- xpcall still calls the handler, and coroutines still work
  data = assert(sandbox.load_data("local ok, m = xpcall(error, function(e) return 'handled ' .. e end, 'x', 0)\n"
    .. "local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n"
    .. "local t = { 3, 1, 2 } table.sort(t) table.sort(t, function(a, b) return a > b end)\n"
    .. "return { ok, m, co(1), co(5), table.concat(t, ',') }", "=T"))
  T.eq(data[1], false)
  T.eq(data[2], "handled x")
  T.eq(data[3], 2)
  T.eq(data[4], 10)
  T.eq(data[5], "3,2,1")
end)

T.test("sandbox: budgets, refusals and messages", function()
  local function err(src, limits)
    local data, msg = sandbox.load_data(src, "=T", limits)
    T.eq(data, nil, src)
    return msg
  end
  local t0 = core.now()
  T.eq(err("local n = 0\nwhile true do n = n + 1 end"), "T:2: template ran too long (stopped after 0.1 s)")
  local took = core.now() - t0
  T.ok(took >= 0.09 and took < 0.5, ("stopped after %.3f s"):format(took))
  T.eq(err("while true do end", { instructions = 100000 }),
    "T:1: template ran too long (stopped after 100000 instructions)")
  T.eq(err("while true do end", { seconds = 0.05 }), "T:1: template ran too long (stopped after 0.05 s)")
  T.eq(err("local s = 'x'\nfor i = 1, 40 do s = s .. s end\nreturn {}", { memory = 1 << 20 }),
    "T:2: not enough memory (a template may use 1 MiB)")
  T.eq(err("local s = 'x'\nfor i = 1, 40 do s = s .. s end\nreturn {}", { memory = 700 * 1024 }),
    "T:2: not enough memory (a template may use 700 KiB)")
  T.eq(err(string.dump(function() return {} end)), "T: binary chunks are not allowed (a template is Lua source text)")
  T.eq(err("\27Lua rest"), "T: binary chunks are not allowed (a template is Lua source text)")
  T.eq(err("return {"), "T:1: unexpected symbol near <eof>")
  T.eq(err("return 42"), "T: a template returns a table, this one returned number")
  T.eq(err("error('boom')"), "T:1: boom")
  T.eq(err("\nlocal x = io"), "T:2: 'io' is not available in templates")
  T.eq(err("return { ('x'):gsub('x', 'y') }"), "T:1: 'string.gsub' is not available in templates")
  T.eq(err("return { f = print }"), "T:1: 'print' is not available in templates")
  T.eq(err("return { f = tostring }"),
    "T: f: a function is not data (a template returns tables, strings, numbers and booleans)")
  T.eq(err("return { [{}] = 1 }"), "T: a table key must be a string or a number, got table")
  T.eq(err("return { a = { ['my key'] = { 1, coroutine.create(tostring) } } }"),
    "T: a[\"my key\"][2]: a thread is not data (a template returns tables, strings, numbers and booleans)")
  -- the name may come without '='
  T.eq(select(2, sandbox.load_data("error('x')", "plain.lua")), "plain.lua:1: x")
  -- caller mistakes raise
  T.raises(function() sandbox.load_data(nil) end, "bad argument #1 to 'load_data' (string expected, got nil)")
  T.raises(function() sandbox.load_data("return {}", "=T", { memry = 1 }) end, "unknown option 'memry'")
  T.raises(function() sandbox.load_data("return {}", "=T", { memory = 10 }) end,
    "bad option 'memory' (10 out of range 65536..1099511627776)")
  T.raises(function() sandbox.load_data("return {}", "=T", { seconds = -1 }) end,
    "bad option 'seconds' (between 0 and 3600 expected)")
  -- the caller's state is untouched
  T.eq(("x"):rep(2), "xx")
  T.eq(debug.gethook(), nil)
  T.eq(type(io.open), "function")
  T.eq(sandbox.MEMORY, 32 << 20)
  T.eq(sandbox.SECONDS, 0.1)
end)

T.test("sandbox: a template's path longer than Lua's short names is named whole", function()
  -- Lua cuts chunk names at 59 bytes in its own messages; the sandbox
  -- puts the whole path back (and the corpus runs from any checkout).
  local deep = dir .. "/" .. ("a-folder-with-a-long-name/"):rep(4)
  assert(core.mkdir_p(deep))
  local path = deep .. "t.lua"
  T.ok(#path > 100)
  local f = assert(io.open(path, "w"))
  f:write('return {\n  tracks = collectgarbage("count"),\n}\n')
  f:close()
  local data, msg = template.load(path)
  T.eq(data, nil)
  T.eq(msg, path .. ":2: 'collectgarbage' is not available in templates")
  data, msg = sandbox.load_data('return { f = function() end }', "=" .. path)
  T.eq(data, nil)
  T.eq(msg, path .. ": f: a function is not data (a template returns tables, strings, numbers and booleans)")
end)

T.test("sandbox: the hostile corpus", function()
  local names = assert(core.list_dir(HERE .. "/hostile"))
  T.ok(#names >= 40, "corpus of " .. #names)
  for _, f in ipairs(names) do
    if f:match("%.lua$") then
      local path = HERE .. "/hostile/" .. f
      local src = read(path)
      local want = src:match("^%-%- expect: ([^\n]*)")
      T.ok(want, f .. ": no '-- expect:' line")
      -- Runaways get the default budget (0.1 s). The others get 10 s, so
      -- that a memory bomb meets the memory cap first even on a machine so
      -- busy (or a sanitizer build so slow) that filling 32 MiB takes
      -- longer than 0.1 s: then the time budget would stop it, which is
      -- fine, but not what the file says.
      local runaway = want:find("ran too long", 1, true) ~= nil
      local t0 = core.now()
      local data, msg = sandbox.load_data(src, "=" .. path, not runaway and { seconds = 10 } or nil)
      local took = core.now() - t0
      if want == "ok" then
        T.ok(data, f .. ": " .. tostring(msg))
      else
        T.eq(data, nil, f)
        T.eq(msg, (want:gsub("^HOSTILE", (path:gsub("%%", "%%%%")))), f)
        -- reel.template reports the sandbox's message as it is
        local tdata, tmsg = template.load(path)
        T.eq(tdata, nil, f)
        local racy = want:find("not enough memory", 1, true) or want:find("stack overflow", 1, true)
        if not racy or not tmsg:find("template ran too long", 1, true) then
          T.eq(tmsg, msg, f .. " through template.load")
        end
      end
      -- A runaway is stopped about 0.1 s after it starts (0.5 s leaves room
      -- for sanitizer builds and a busy machine); the rest only must end.
      local limit = runaway and 0.5 or 30
      T.ok(took < limit, ("%s took %.3f s"):format(f, took))
    end
  end
  T.eq(core.exists("/tmp/reel-hostile-os"), false)
  T.eq(("x"):rep(2), "xx")
  T.eq(debug.gethook(), nil)
end)

-- ------------------------------------------------------------ shipped templates

T.test("shipped templates: all load; band, podcast, drums, live, overdub", function()
  local names = template.list()
  T.eq(table.concat(names, " "),
    "band band_horns drum_tracking live_two_track podcast podcast_duo vocal_overdub")
  T.eq(table.concat(session.templates(), " "), table.concat(names, " "))
  for _, n in ipairs(names) do
    local data, path = template.load(n)
    T.ok(data, n .. ": " .. tostring(path))
    T.ok(path:find("templates/" .. n .. ".lua", 1, true), path)
    T.eq(data.template, path)
    T.ok(type(data.name) == "string" and type(data.description) == "string", n)
  end
  local band = template.load("band")
  T.eq(band.name, "Four-piece band")
  T.eq(track_list(band), "Kick=1 Snare=2 HiHat=3 Tom=4 FloorTom=5 Overheads=6+7 BassDI=8 BassAmp=9 "
    .. "Gtr1=10 Gtr2=11 Vox=12m BGV=13m")
  T.eq(section_list(band), "Intro:4 Verse:16 Chorus:8 Verse:16 Chorus:8 Bridge:8 Chorus:16 Outro:4")
  T.eq(#band.groups, 4)
  T.eq(table.concat(band.groups[1].tracks, ","), "Kick,Snare,HiHat,Tom,FloorTom,Overheads")
  T.eq(band.take_policy.passes, 3)
  T.eq(template.channels_needed(band), 13)
  T.eq(track_list(template.load("vocal_overdub")), "Vox=1m VoxDouble=2m")
  T.eq(template.load("vocal_overdub").take_policy.punch, true)
  T.eq(track_list(template.load("podcast")), "Host=1m Guest1=2m Guest2=3m Guest3=4m")
  T.eq(track_list(template.load("podcast_duo")), "Host=1m Guest1=2m")
  T.eq(table.concat(template.load("podcast_duo").groups[1].tracks, ","), "Host,Guest1")
  T.eq(track_list(template.load("drum_tracking")), "KickIn=1 KickOut=2 SnareTop=3 SnareBottom=4 "
    .. "HiHat=5 Tom1=6 Tom2=7 FloorTom=8 Overheads=9+10 Room=11+12 MonoRoom=13 Guide=14m")
  local live = template.load("live_two_track")
  T.eq(track_list(live), "Mix=1+2 Audience=3+4")
  T.eq(live.format, "rf64")
  T.eq(live.sections, nil)
end)

T.test("extends: band plus horns", function()
  local d = assert(template.load("band_horns"))
  T.eq(d.name, "Band plus horns")
  T.eq(d.rate, 48000)                                   -- from band
  T.ok(d.extends:find("templates/band.lua$"), d.extends)
  T.eq(track_list(d), "Kick=1 Snare=2 HiHat=3 Tom=4 FloorTom=5 Overheads=6+7 BassDI=8 BassAmp=9 "
    .. "Gtr1=10 Gtr2=11 Vox=12m BGV=13m Trumpet=14 Sax=15 Trombone=16")
  T.eq(d.tracks[12].pan, 0.3)                           -- BGV: only pan changed
  T.eq(d.tracks[12].monitor, true)
  T.eq(section_list(d), "Intro:4 Verse:16 Chorus:8 Verse:16 Chorus:8 Bridge:8 Horn Solo:8 Chorus:16 Outro:8")
  T.eq(d.groups[5].name, "Horns")
  T.eq(d.take_policy.passes, 4)
  T.eq(d.take_policy.prefer, "fewest_problems")         -- from band
  T.eq(template.channels_needed(d), 16)
end)

T.test("extends: overrides, removals, insertions; relative paths", function()
  write(dir .. "/base.lua", [[
return {
  name = "Base", tempo = 100,
  tracks = { { name = "A", input = 1 }, { name = "B", input = 2 }, { name = "C", input = { 3, 4 } } },
  groups = { { name = "G", tracks = { "A", "B" } }, { name = "H", tracks = { "B" } } },
  sections = { { "Intro", 4 }, { "Verse", 8 }, { "Chorus", 8 }, { "Verse", 8 }, { "Chorus", 8 } },
  take_policy = { passes = 2, click = true },
}
]])
  local d = loads([[
return {
  extends = "./base.lua",
  tempo = 90,
  remove_tracks = { "B" },
  tracks = { { name = "A", monitor = true }, { name = "D", input = 5 } },
  groups = { { name = "G", tracks = { "A", "D" } } },
  remove_sections = { "Intro" },
  sections = {
    { "Chorus 2", 16 },
    { "Verse", 4 },
    { "Solo", 8, after = "Chorus 1" },
    { "Pre", 2, before = "Verse 1" },
    { "Outro", 4 },
  },
  take_policy = { passes = 5 },
}
]], "child.lua")
  T.eq(d.name, "Base")
  T.eq(d.tempo, 90)
  T.eq(track_list(d), "A=1m C=3+4 D=5")
  T.eq(#d.groups, 1)                                     -- H lost its only track
  T.eq(d.groups[1].name, "G")
  T.eq(table.concat(d.groups[1].tracks, ","), "A,D")
  T.eq(section_list(d), "Pre:2 Verse:4 Chorus:8 Solo:8 Verse:4 Chorus:16 Outro:4")
  T.eq(d.take_policy.passes, 5)
  T.eq(d.take_policy.click, true)
  T.eq(d.extends, dir .. "/base.lua")
  -- a template in a subfolder extends one beside it
  core.mkdir_p(dir .. "/sub")
  write(dir .. "/sub/mid.lua", 'return { extends = "../base.lua", name = "Mid" }')
  write(dir .. "/sub/top.lua", 'return { extends = "mid.lua", tracks = { { name = "E", input = 6 } } }')
  local top = assert(template.load(dir .. "/sub/top.lua"))
  T.eq(top.name, "Mid")
  T.eq(track_list(top), "A=1 B=2 C=3+4 E=6")
end)

-- ------------------------------------------------------------ validation messages

T.test("validation: every mistake, with file, line and field", function()
  fails([[
return {
  name = "Bad",
  temp = 120,
  rate = "fast",
  format = "wav42",
  tracks = {
    { name = "Kick", input = 1 },
    { name = "Snare", imput = 2 },
    { name = "OH", input = "3" },
    { name = "Kick", input = 4 },
    { name = "kick", input = 5 },
    { name = "Bass", input = { 6, 6 } },
    { name = "Keys", input = { 7, 8, 9 } },
    { name = "Vox/1", input = 10 },
    { input = 11 },
    { name = "Pad", input = 0 },
    { name = "Gtr", input = 12, monitor = "yes", pan = 2, gain_db = "loud" },
    "Vox",
  },
}
]], [[
T:3: unknown field 'temp' (did you mean 'tempo'?)
T:4: rate: number expected, got string
T:5: format: 'wav42' is not one of wav24, wav32f, flac, rf64 (did you mean 'wav24'?)
T:8: tracks[2]: unknown field 'imput' (did you mean 'input'?)
T:9: tracks[3].input: integer or list of 1 or 2 integers expected, got string
T:10: tracks[4].name: 'Kick' is used twice (also tracks[1])
T:11: tracks[5].name: 'kick' differs from tracks[1]'s 'Kick' only in case (their take files would clash on some systems)
T:12: tracks[6].input: a stereo pair takes two channels, got 6 twice
T:13: tracks[7].input: one channel or a stereo pair {LEFT, RIGHT} expected
T:14: tracks[8].name: name must not contain '/', '\' or control characters
T:15: tracks[9]: the field 'name' is missing (every track has a name)
T:16: tracks[10].input: input channels count from 1 to 1024, got 0
T:17: tracks[11].monitor: boolean expected, got string
T:17: tracks[11].gain_db: number expected, got string
T:17: tracks[11].pan: must be between -1 and 1, got 2
T:6: tracks[12]: { name = NAME, input = CHANNEL } expected, got string]])
end)

T.test("validation: groups, sections, take_policy, removals", function()
  fails([[
return {
  tracks = { { name = "A", input = 1 } },
  groups = {
    { name = "G", tracks = { "A", "A" } },
    { name = "G", tracks = "A" },
    { tracks = {} , colour = 1 },
  },
  sections = { { "Intro", 4.5 }, { "Verse" }, { "Chorus", 8, after = "Verse" }, { "", 0 },
               { "X", 1, aftr = "Y" } },
  take_policy = { passes = 0, prefer = "best", reject = { "xrun" }, countin = 2, pre_roll = 61,
                  punch = 1 },
  remove_tracks = { "A" },
}
]], [[
T:4: groups[1].tracks[2]: 'A' is listed twice (also groups[1].tracks[1])
T:5: groups[2].name: 'G' is used twice (also groups[1])
T:5: groups[2].tracks: list of track names expected, got string
T:6: groups[3]: unknown field 'colour' (a group has name, tracks)
T:6: groups[3]: the field 'name' is missing (every group has a name)
T:8: sections[1][2]: integer expected, got 4.5
T:8: sections[2]: { NAME, BARS } (e.g. { "Verse", 16 }) expected, got 1 value
T:8: sections[3].after: 'after' places a section among the sections of the template this one extends, and this one extends none
T:8: sections[4][1]: must not be empty
T:8: sections[4][2]: must be between 1 and 99999 bars, got 0
T:9: sections[5]: unknown field 'aftr' (did you mean 'after'?)
T:10: take_policy: unknown field 'countin' (did you mean 'count_in'?)
T:10: take_policy.passes: must be between 1 and 100, got 0
T:10: take_policy.pre_roll: must be between 0 and 60 s, got 61
T:11: take_policy.punch: boolean expected, got number
T:10: take_policy.prefer: no way to prefer 'best' (fewest_problems, latest, first)
T:10: take_policy.reject[1]: no problem called 'xrun' (did you mean 'xruns'?)
T:12: remove_tracks: only a template that extends another removes from it (extends = "band")]])
  -- no suggestion when nothing is near: the list of fields
  fails("return { colour = 'red' }",
    "T:1: unknown field 'colour' (a template has name, description, rate, format, tempo, meter, "
    .. "tracks, groups, sections, take_policy, extends, remove_tracks, remove_sections)")
  fails("return {\n  tracks = { { name = 'A', input = 1, colour = 2 } },\n}",
    "T:2: tracks[1]: unknown field 'colour' (a track has name, input, monitor, gain_db, pan)")
  fails("return { 'Kick' }", "T:1: fields have names (name = ..., tracks = { ... }), got a value at [1]")
  fails("return { tracks = { kick = { input = 1 } } }",
    "T:1: tracks: list of tracks ({ name = , input = }) expected, got a table with the key 'kick'")
  fails("return { Name = 'x', TRACKS = {} }",
    "T:1: unknown field 'Name' (did you mean 'name'?)\nT:1: unknown field 'TRACKS' (did you mean 'tracks'?)")
  fails("return { meter = '5/6' }", "T:1: meter: meter 5/6 at bar 1: note value must be 1, 2, 4, 8, 16 or 32")
  fails("return { tempo = 0 }", "T:1: tempo: " .. session.check_tempo(0))
  -- mistakes only the whole shows (after the files themselves are clean)
  fails([[
return {
  tracks = { { name = "A", input = 1 }, { name = "Trumpet" } },
  groups = { { name = "G", tracks = { "A", "Trumpt" } } },
  sections = { { "Chorus", 4 }, { "Chorus 2", 4 }, { "Chorus", 4 } },
}
]], [[
T:2: tracks[2]: the field 'input' is missing (track 'Trumpet' records from a channel, input = N, or a stereo pair, input = {LEFT, RIGHT})
T:3: groups[1].tracks[2]: no track 'Trumpt' (did you mean 'Trumpet'?)
T:4: sections[3]: two sections would be called 'Chorus 2'; choose another name]])
end)

T.test("validation: extends", function()
  fails([[
return {
  extends = "band",
  remove_tracks = { "Vx" },
  tracks = { { name = "Horn", monitor = true } },
  sections = {
    { "Solo", 8, after = "Brige" },
    { "Coda", 4, before = "Chorus" },
  },
  remove_sections = { "Chorus 4" },
}
]], [[
T:3: remove_tracks[1]: band has no track 'Vx' (did you mean 'Vox'?)
T:9: remove_sections[1]: band has no section 'Chorus 4' (did you mean 'Chorus 1'?)
T:6: sections[1].after: band has no section 'Brige' (did you mean 'Bridge'?)
T:7: sections[2].before: 'Chorus' is 3 sections; name one of them by its label (Chorus 1, Chorus 2, ...)]])
  fails('return { extends = "band", tracks = { { name = "Horn", monitor = true } } }',
    "T:1: tracks[1]: the field 'input' is missing (track 'Horn' records from a channel, input = N, "
    .. "or a stereo pair, input = {LEFT, RIGHT})")
  fails('return { extends = "bnad" }', "T:1: extends: template 'bnad' not found (did you mean 'band'? "
    .. "templates: band, band_horns, drum_tracking, live_two_track, podcast, podcast_duo, vocal_overdub); "
    .. "give a path such as ./bnad.lua for a template of your own")
  fails('return { extends = 7 }', "T:1: extends: string expected, got number")
  -- circles
  write(dir .. "/c1.lua", 'return { extends = "c2.lua" }')
  write(dir .. "/c2.lua", 'return {\n  extends = "./c1.lua" }')
  local _, err = template.load(dir .. "/c1.lua")
  T.eq(err, ("%s/c2.lua:2: extends: './c1.lua' goes round in a circle (%s/c1.lua -> %s/c2.lua -> %s/c1.lua)")
    :format(dir, dir, dir, dir))
  local self_path = dir .. "/self.lua"
  fails('return { extends = "self.lua" }', ("T:1: extends: 'self.lua' goes round in a circle (%s -> %s)")
    :format(self_path, self_path), "self.lua")
  -- a base with mistakes reports them in its own file; one that fails to
  -- run is named by the template that extends it
  write(dir .. "/broken_base.lua", "return {\n  tracks = { { name = 'A', input = 1, colour = 1 } } }")
  fails('return { extends = "broken_base.lua" }',
    dir .. "/broken_base.lua:2: tracks[1]: unknown field 'colour' (a track has name, input, monitor, gain_db, pan)")
  write(dir .. "/loop_base.lua", "while true do end")
  fails('return { extends = "loop_base.lua" }',
    "T:1: extends: cannot use 'loop_base.lua': " .. dir .. "/loop_base.lua:1: template ran too long (stopped after 0.1 s)")
  fails('return { extends = "missing.lua" }',
    "T:1: extends: cannot use 'missing.lua': " .. dir .. "/missing.lua: No such file or directory")
  -- a chain deeper than MAX_EXTENDS
  for i = 1, 10 do write(("%s/chain%d.lua"):format(dir, i), ('return { extends = "chain%d.lua" }'):format(i + 1)) end
  write(dir .. "/chain11.lua", "return {}")
  local _, cerr = template.load(dir .. "/chain1.lua")
  T.eq(cerr, dir .. "/chain8.lua:1: extends: more than 8 templates deep")
end)

T.test("load: names, paths, files", function()
  local _, err = template.load("nosuch")
  T.eq(err, "template 'nosuch' not found (templates: band, band_horns, drum_tracking, live_two_track, "
    .. "podcast, podcast_duo, vocal_overdub); give a path such as ./nosuch.lua for a template of your own")
  _, err = template.load(dir .. "/missing.lua")
  T.eq(err, dir .. "/missing.lua: No such file or directory")
  local big = write(dir .. "/big.lua", "return {}" .. (" "):rep(template.MAX_BYTES))
  _, err = template.load(big)
  T.eq(err, big .. ": template larger than 1048576 bytes")
  T.raises(function() template.load(42) end,
    "bad argument #1 to 'load' (template name or path expected, got number)")
  T.raises(function() template.load("") end,
    "bad argument #1 to 'load' (template name or path expected, got empty string)")
  T.eq(template.suggest("imput", template.TRACK_FIELDS), "input")
  T.eq(template.suggest("sect", template.FIELDS), "sections")
  T.eq(template.suggest("colour", template.FIELDS), nil)
  T.eq(template.distance("kitten", "sitting"), 3)
  T.eq(template.distance("ab", "ba"), 1)
end)

-- ------------------------------------------------------------ devices

T.test("fit: inputs beyond the device are refused, with the template's line", function()
  local band = assert(template.load("band"))
  local warnings = assert(template.fit(band, { in_channels = 16, api = "jack", name = "system", rate = 48000 }))
  T.eq(#warnings, 0)
  local ok, err = template.fit(band, { in_channels = 10, api = "jack", name = "system", rate = 48000 })
  T.eq(ok, nil)
  local p = band.template
  T.eq(err, ([[
%s:42: tracks[10].input: channel 11 for track 'Gtr2' is beyond the 10 input channels of jack 'system'
%s:43: tracks[11].input: channel 12 for track 'Vox' is beyond the 10 input channels of jack 'system'
%s:44: tracks[12].input: channel 13 for track 'BGV' is beyond the 10 input channels of jack 'system']]):format(p, p, p))
  _, err = template.fit(band, { in_channels = 6, api = "alsa", name = "hw:1" })
  T.ok(err:find(p .. ":38: tracks[6].input: channel 7 for track 'Overheads' is beyond the 6 input "
    .. "channels of alsa 'hw:1'", 1, true), err)
  -- horns: the line is in band_horns.lua
  local horns = assert(template.load("band_horns"))
  _, err = template.fit(horns, { in_channels = 15 })
  T.eq(err, horns.template .. ":17: tracks[3].input: channel 16 for track 'Trombone' is beyond the 15 "
    .. "input channels of the device")
  -- warnings
  local d = loads("return { rate = 44100, tracks = { { name = 'A', input = { 1, 2 } }, { name = 'B', input = 2 } } }")
  warnings = assert(template.fit(d, { in_channels = 2, api = "jack", name = "system", rate = 48000 }))
  T.eq(table.concat(warnings, "\n"), "tracks 'A' and 'B' both record input channel 2\n"
    .. "the template asks for 44100 Hz but jack 'system' runs at 48000 Hz; takes are recorded at 48000 Hz")
  T.raises(function() template.fit(d, {}) end, "bad argument #2 to 'fit' (device info with in_channels expected)")
end)

T.test("check: a dry run against the virtual device", function()
  local data, rep = template.check("band", { device = "virtual", channels = 16 })
  T.ok(data, rep)
  T.eq(rep.channels, 13)
  T.eq(rep.device.api, "virtual")
  T.eq(rep.device.in_channels, 16)
  T.eq(#rep.warnings, 0)
  local none, err = template.check("band", { device = "virtual" })
  T.eq(none, nil)
  T.ok(err:find("tracks[3].input: channel 3 for track 'HiHat' is beyond the 2 input channels of "
    .. "virtual 'virtual'", 1, true), err)
  data, rep = template.check("podcast_duo")
  T.ok(data, rep)
  T.eq(rep.device, nil)
  T.eq(rep.channels, 2)
  T.raises(function() template.check("band", { devise = "x" }) end, "bad option 'devise' to 'check'")
end)

-- ------------------------------------------------------------ sessions

T.test("reel.new from templates; session.load_template is template.load", function()
  local s = assert(reel.new(dir .. "/horns", "band_horns"))
  T.eq(s.name, "Band plus horns")
  T.eq(#s.tracks, 15)
  T.eq(s.tracks[15].name, "Trombone")
  T.eq(s:sections()[7].label, "Horn Solo")
  local doc = json.decode(read(dir .. "/horns/session.json"))
  T.eq(doc.groups[5].name, "Horns")
  T.eq(doc.take_policy.passes, 4)
  T.eq(doc.description, "The four-piece band with trumpet, saxophone and trombone")
  -- a reopened session keeps them
  local again = assert(reel.open(dir .. "/horns"))
  assert(again:save())
  T.eq(json.decode(read(dir .. "/horns/session.json")).groups[5].tracks[3], "Trombone")
  -- a bad template: nil, the message, nothing created
  local bad = write(dir .. "/bad_new.lua", "return {\n  tracks = { { name = 'A', imput = 1 } } }")
  local s2, err = reel.new(dir .. "/never", bad)
  T.eq(s2, nil)
  T.eq(err, bad .. ":2: tracks[1]: unknown field 'imput' (did you mean 'input'?)")
  T.eq(core.exists(dir .. "/never"), false)
  local data, path = session.load_template("podcast")
  T.eq(data.name, "Podcast")
  T.ok(path:find("podcast.lua$"), path)
end)

T.done()
