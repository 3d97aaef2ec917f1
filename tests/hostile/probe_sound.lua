-- probe_sound.lua FILE: opens a sound file from outside through every Lua
-- entry point that takes one, for tests/hostile/run.sh (run by `reel run`).
-- Prints one line per entry point, "NAME<TAB>ok<TAB>what" or
-- "NAME<TAB>fail<TAB>message"; a failure must be a returned nil, message
-- (misuse aside, nothing here may raise: a raised error is a bug and makes
-- `reel run` exit 1 with a traceback, which run.sh reports).
--   sound_info   core.sound_info(FILE)
--   read_frames  core.read_frames(FILE, 0, 256) and from the middle
--   add_source   rec:add_source(FILE, 0) on a virtual recorder at 48000 Hz
--   add_source_native  the same at the file's own rate, when add_source
--                refused it and sound_info gave another usable rate
--   playback     when a source was taken: a 0.2 s roll that plays the file
--                (the reader decodes it); "fail" with the message when the
--                roll or the reader reported an error
local core = require "reel.core"

local path = assert(arg[1], "usage: probe_sound.lua FILE")

local function out(name, ok, what)
  print(("%s\t%s\t%s"):format(name, ok and "ok" or "fail", tostring(what or ""):gsub("\n", " | ")))
end

local info, err = core.sound_info(path)
if info then
  out("sound_info", true, ("%d Hz, %d channels, %d frames, %s %s"):format(info.rate, info.channels,
    info.frames, info.container, info.sample))
else
  out("sound_info", false, err)
end

local samples, rerr = core.read_frames(path, 0, 256)
out("read_frames", samples ~= nil, samples and (#samples .. " samples") or rerr)
if info and info.frames > 2 then
  local more, merr = core.read_frames(path, info.frames // 2, 256)
  out("read_frames_mid", more ~= nil, more and (#more .. " samples") or merr)
end

-- At 48000 Hz first (a session's usual rate: a file at another rate must be
-- refused by name), then at the file's own rate when that differs.
local function try_source(name, rate)
  local rec = assert(core.open_recorder{ device = "virtual:freewheel", inputs = { "silence" },
    rate = rate, format = "wav32f", outputs = 2 })
  local idx, aerr = rec:add_source(path, 0)
  out(name, idx ~= nil, idx and ("source " .. idx .. " at " .. rate .. " Hz") or aerr)
  if idx then
    local rolled, roll_err = rec:roll{ from = 0, preroll = 0, autostop = rate // 5 }
    if not rolled then
      out("playback", false, roll_err)
    else
      local deadline, types, problem = core.now() + 30, {}, nil
      local done = false
      while not done do
        for _, ev in ipairs(rec:poll()) do
          types[#types + 1] = ev.type
          if ev.type:find("error") then problem = problem or (ev.message or ev.type) end
          if ev.type == "stopped" then done = true end
        end
        if not done then
          assert(core.now() < deadline, "the roll did not stop within 30 s")
          core.sleep(0.005)
        end
      end
      assert(rec:finish_roll())
      out("playback", problem == nil, problem or table.concat(types, ","))
    end
  end
  rec:close()
  return idx ~= nil
end

local took = try_source("add_source", 48000)
if not took and info and info.rate ~= 48000 and info.rate >= 1000 and info.rate <= 768000 then
  try_source("add_source_native", info.rate)
end
