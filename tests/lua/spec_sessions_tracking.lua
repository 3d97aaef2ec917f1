-- spec_sessions_tracking.lua: Session:record's rolls (reel.tracking) and
-- reel.events, end to end on the virtual device in freewheel, checked sample
-- for sample in the take files and in session.json as written on disk.
--
-- Timeline and device time (as in spec_tracking.lua): a roll starts the
-- freewheel device, so device frame 0 is the roll's first frame, at
-- from - preroll - count_in. The impulse generator puts a 1.0 sample at every
-- multiple of its period in device frames, so each test can predict exactly
-- where impulses land in a take.
--
-- The song used throughout: 120 bpm 4/4 for bars 1-4 (96000 samples a bar),
-- then 100 bpm 3/4 (28800 a beat, 86400 a bar); sections Intro 2, Verse 2,
-- Chorus 2, Verse 2, Chorus 2, Outro 1 bars. So "Chorus 2" (bars 9-10)
-- starts at 4 * 96000 + 4 * 86400 = 729600 and is 172800 long, and the
-- session ends after bar 11, at 988800.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/helper.lua")
local reel = require "reel"
local core = require "reel.core"
local json = require "reel.json"

local CH2, CH2_LEN, BAR34 = 729600, 172800, 86400
local SONG_END = CH2 + CH2_LEN + BAR34

local read = T.read

local function doc(dir) return assert(json.decode(read(dir .. "/session.json"))) end

local function song(tracks)
  local dir = T.tmpdir() .. "/song"
  local s = assert(reel.new(dir, {
    format = "wav32f", tempo = 120, meter = "4/4", tracks = tracks or { { name = "Vox", input = 1 } },
    sections = { { "Intro", 2 }, { "Verse", 2 }, { "Chorus", 2 }, { "Verse", 2 }, { "Chorus", 2 },
                 { "Outro", 1 } },
  }))
  s:set_tempo(5, 100, "3/4")
  assert(s:save())
  return s, dir
end

local function freewheel(inputs, extra)
  local o = { spec = "virtual:freewheel", inputs = inputs }
  for k, v in pairs(extra or {}) do o[k] = v end
  return reel.device(o)
end

local impulses = T.impulses

local function list(t) return table.concat(t, ",") end

local sh = T.sh

T.test("the song's layout is what the specs assume", function()
  local s = song()
  local a, b = s:section("Chorus 2")
  T.eq(a, CH2) T.eq(b - a, CH2_LEN)
  T.eq(s:tempo_map():bar_length(8), BAR34)
end)

T.test("punch by section name lands exactly on the section's samples", function()
  local s, dir = song()
  local takes = assert(s:record{ punch = "Chorus 2", preroll = 1, meter = false,
                                 device = freewheel{ "impulse:7000" } })
  T.eq(#takes, 1)
  local t = takes[1]
  T.eq(t.file, "audio/Vox_T01.wav")
  T.eq(t.start, CH2, "start")
  T.eq(t.frames, CH2_LEN, "frames")
  T.eq(t.section, "Chorus 2")
  T.eq(t.pass, 0)
  T.eq(t.start_bbt, "9:1")
  -- one bar of 3/4 pre-roll: take frame 0 is device frame 86400, and
  -- 86400 % 7000 = 2400, so the first impulse is 4600 frames in
  local at, n = impulses(dir .. "/audio/Vox_T01.wav")
  T.eq(n, CH2_LEN, "file frames")
  T.eq(at[1], 4600, "first impulse")
  T.eq(#at, 25, "impulses")
  -- session.json on disk
  local j = doc(dir)
  T.eq(#j.takes, 1)
  local jt = j.takes[1]
  T.eq(jt.track, "Vox") T.eq(jt.take, 1) T.eq(jt.file, "audio/Vox_T01.wav")
  T.eq(jt.start, CH2) T.eq(jt.start_bbt, "9:1") T.eq(jt.frames, CH2_LEN)
  T.eq(jt.section, "Chorus 2") T.eq(jt.pass, 0) T.eq(jt.status, "kept")
  T.eq(j.last_take.Vox, 1)
end)

T.test("punch between positions in seconds and bars:beats; the roll stops at the punch out", function()
  local s, dir = song()
  local stopped
  local h <close> = reel.on("stopped", function(ev) stopped = ev.pos end)
  local takes = assert(s:record{ punch = { "1s", "2:3" }, from = 0, meter = false,
                                 device = freewheel{ "impulse:1000" } })
  T.eq(takes[1].start, 48000)
  T.eq(takes[1].frames, 96000 + 48000 - 48000)
  T.eq(takes[1].section, nil)
  T.eq(stopped, 144000, "the transport stopped at the punch out")
  T.eq(list((impulses(dir .. "/" .. takes[1].file))), (function()
    local l = {} for k = 0, 95 do l[#l + 1] = k * 1000 end return list(l) end)())
end)

T.test("loop of a section, 3 passes: T01..T03 with pass and section, events per pass", function()
  local s, dir = song()
  local ended, started, loops = {}, {}, {}
  T.eq(dir, s.dir)
  local h1 <close> = reel.on("take_end", function(ev)
    ended[#ended + 1] = ("%s:%d:%d:%s:%d"):format(ev.track, ev.take, ev.pass, ev.file, ev.frames)
    T.eq(ev.path, dir .. "/" .. ev.file)
  end)
  local h2 <close> = reel.on("loop", function(ev) loops[#loops + 1] = ev.pass end)
  local co = reel.spawn(function()
    for _ = 1, 3 do
      local ev = reel.wait("take_start")
      started[#started + 1] = ("%d@%d"):format(ev.take, ev.pos)
    end
    return "done"
  end)
  T.eq(coroutine.status(co), "suspended", "spawn runs up to the first wait")
  local takes = assert(s:record{ loop = "Chorus 2", passes = 3, meter = false,
                                 device = freewheel{ "impulse:7000" } })
  T.eq(coroutine.status(co), "dead", "the waiting coroutine ran to its end")
  T.eq(list(started), ("1@%d,2@%d,3@%d"):format(CH2, CH2, CH2))
  T.eq(list(ended), ("Vox:1:0:audio/Vox_T01.wav:%d,Vox:2:1:audio/Vox_T02.wav:%d,"
    .. "Vox:3:2:audio/Vox_T03.wav:%d"):format(CH2_LEN, CH2_LEN, CH2_LEN))
  T.eq(list(loops), "1,2")
  T.eq(#takes, 3)
  -- device frame 0 is the loop start; pass k's frame j is device frame
  -- k * 172800 + j: first impulses at 0, 7000 - 4800, 7000 - 2600
  local want = { 0, 2200, 4400 }
  for k = 1, 3 do
    local t = takes[k]
    T.eq(t.take, k) T.eq(t.pass, k - 1) T.eq(t.section, "Chorus 2")
    T.eq(t.start, CH2) T.eq(t.frames, CH2_LEN)
    T.eq(t.file, ("audio/Vox_T%02d.wav"):format(k))
    local at, n = impulses(dir .. "/" .. t.file)
    T.eq(n, CH2_LEN)
    T.eq(at[1], want[k], "first impulse of pass " .. k)
  end
  local j = doc(dir)
  T.eq(#j.takes, 3)
  for k = 1, 3 do
    local jt = j.takes[k]
    T.eq(jt.take, k) T.eq(jt.pass, k - 1) T.eq(jt.section, "Chorus 2") T.eq(jt.start, CH2)
    T.eq(jt.frames, CH2_LEN) T.eq(jt.status, "kept")
  end
  T.eq(j.last_take.Vox, 3)
  -- the session's own filter finds them by section and pass
  local s2 = assert(reel.open(dir))
  T.eq(#s2:takes{ section = "Chorus 2" }, 3)
  T.eq(s2:takes{ pass = 2 }[1].take, 3)
  -- numbering goes on after them, never overwriting
  local more = assert(s:record{ loop = { "9:1", "9:2" }, passes = 2, meter = false,
                                device = freewheel{ "silence" } })
  T.eq(more[1].file, "audio/Vox_T04.wav") T.eq(more[2].file, "audio/Vox_T05.wav")
  T.eq(more[1].frames, 28800)
  T.eq(more[1].section, nil)
end)

T.test("loop with a punch inside: each pass records the punch range", function()
  local s, dir = song()
  local takes = assert(s:record{ loop = "Chorus 2", punch = { "9:2", "9:3" }, passes = 2,
                                 meter = false, device = freewheel{ "impulse:7000" } })
  T.eq(#takes, 2)
  for k = 1, 2 do
    T.eq(takes[k].start, CH2 + 28800) T.eq(takes[k].frames, 28800) T.eq(takes[k].pass, k - 1)
  end
  -- pass 0's frame 0 is device frame 28800 (28800 % 7000 = 800)
  T.eq((impulses(dir .. "/" .. takes[1].file))[1], 6200)
end)

T.test("count-in of one bar, at the tempo where the roll starts", function()
  local s, dir = song()
  local rolled
  local h <close> = reel.on("rolling", function(ev) rolled = ev.pos end)
  local takes = assert(s:record{ from = "Chorus 2", to = "10:1", count_in = 1, meter = false,
                                 device = freewheel{ "impulse:7000" } })
  T.eq(rolled, CH2 - BAR34, "the timeline starts one 3/4 bar early")
  T.eq(takes[1].start, CH2) T.eq(takes[1].frames, BAR34)
  -- take frame 0 is device frame 86400: 86400 % 7000 = 2400
  T.eq((impulses(dir .. "/" .. takes[1].file))[1], 4600)
  -- at 1:1 the count-in lies before the session start
  takes = assert(s:record{ from = 0, to = "2:1", count_in = 1, meter = false,
                           device = freewheel{ "impulse:7000" } })
  T.eq(rolled, -96000)
  T.eq(takes[1].start, 0) T.eq(takes[1].frames, 96000)
  T.eq((impulses(dir .. "/" .. takes[1].file))[1], 2000)   -- 96000 % 7000 = 5000
end)

-- The click looped back from output 1 to input 1 (256 frames round trip,
-- compensated): onsets in the take are exactly on the session's beats.
local function click_take(s, mode)
  return assert(s:record{ punch = "Chorus 2", click = mode, click_outputs = { 1 }, latency = 256,
                          meter = false, device = freewheel({ "silence" },
                                                            { loopback = "1>1", loopback_latency = 256 }) })[1]
end

T.test("click only while recording: on the session's beats in the take; off: silence", function()
  local s, dir = song()
  local t = click_take(s, "recording")
  T.eq(t.latency, 256)
  local s1 = assert(core.read_frames(dir .. "/" .. t.file, 0, t.frames))
  local onsets, accents, prev = {}, {}, 0
  for i = 1, #s1 do
    if s1[i] ~= 0 and prev == 0 then
      onsets[#onsets + 1] = i - 1
      local peak = 0
      for k = i, math.min(i + 960, #s1) do peak = math.max(peak, math.abs(s1[k])) end
      accents[#accents + 1] = peak > 0.75 and "A" or "n"
    end
    prev = s1[i]
  end
  -- 3/4 at 100 bpm: a beat every 28800 samples, bar lines accented; with
  -- the session's tempo map, not the engine's default 120 bpm 4/4
  T.eq(list(onsets), "0,28800,57600,86400,115200,144000")
  T.eq(table.concat(accents), "AnnAnn")
  local off = click_take(s, "off")
  T.eq(off.file, "audio/Vox_T02.wav")
  T.eq(off.peak, 0, "click off: nothing in the take")
  T.eq(off.frames, CH2_LEN)
end)

T.test("an overdub against the selected take lands sample for sample", function()
  local s, dir = song{ { name = "Gtr", input = 1 }, { name = "Dub", input = 1 } }
  -- the original, recorded by a roll from 1:1
  local g = assert(s:record{ tracks = { "Gtr" }, from = 0, to = "4s", meter = false,
                             device = freewheel{ "noise:white:-6" } })[1]
  T.eq(g.start, 0) T.eq(g.frames, 192000)
  s:select("Gtr", 1)
  -- the simulated rig loops output 1 back to input 1 1000 frames later; the
  -- session knows its round trip
  s.latency = { round_trip = 1000 }
  local d = assert(s:record{ tracks = { "Dub" }, punch = { 48000, 120000 }, meter = false,
                             device = freewheel({ "silence" },
                                                { loopback = "1>1", loopback_latency = 1000 }) })[1]
  T.eq(d.track, "Dub") T.eq(d.start, 48000) T.eq(d.frames, 72000) T.eq(d.latency, 1000)
  local orig = assert(core.read_frames(dir .. "/" .. g.file, 48000, 72000))
  local dub = assert(core.read_frames(dir .. "/" .. d.file, 0, 72000))
  local diff = 0
  for i = 1, 72000 do if orig[i] ~= dub[i] then diff = diff + 1 end end
  T.eq(diff, 0, "samples that differ")
  T.ok(math.abs(orig[1]) > 0, "the original is not silent")
  -- against = "none": nothing plays, the take is silent
  local quiet = assert(s:record{ tracks = { "Dub" }, punch = { 48000, 120000 }, against = "none",
                                 meter = false, device = freewheel({ "silence" },
                                   { loopback = "1>1", loopback_latency = 1000 }) })[1]
  T.eq(quiet.peak, 0)
  -- a backing file plays where it is put: the original at 2s, hard left
  local b = assert(s:record{ tracks = { "Dub" }, punch = { "3s", "4s" }, against = "none",
                             backing = { { file = dir .. "/" .. g.file, at = "2s", pan = -1 } },
                             meter = false, device = freewheel({ "silence" },
                               { loopback = "1>1", loopback_latency = 1000 }) })[1]
  local want = assert(core.read_frames(dir .. "/" .. g.file, 48000, 48000))
  local got = assert(core.read_frames(dir .. "/" .. b.file, 0, 48000))
  diff = 0
  for i = 1, 48000 do if want[i] ~= got[i] then diff = diff + 1 end end
  T.eq(diff, 0, "backing samples that differ")
end)

T.test("an error in a handler stops the roll cleanly and keeps the takes", function()
  local s, dir = song()
  local h <close> = reel.on("take_end", function(ev)
    if ev.pass == 1 then error("enough after two passes") end
  end)
  T.raises(function()
    s:record{ loop = "Chorus 2", passes = 5, meter = false, device = freewheel{ "impulse:7000" } }
  end, "enough after two passes")
  local j = doc(dir)
  -- freewheel runs ahead of the event loop, so the roll may be a pass
  -- further on when the error stops it; that last pass is cut short
  local n = #j.takes
  T.ok(n >= 3 and n <= 5, "takes kept: " .. n)
  for k = 1, n - 1 do
    T.eq(j.takes[k].frames, CH2_LEN) T.eq(j.takes[k].note, nil) T.eq(j.takes[k].pass, k - 1)
  end
  T.ok(j.takes[n].note:find("^stopped by an error: .*enough after two passes"), j.takes[n].note)
  T.ok(j.takes[n].frames <= CH2_LEN)
  for _, jt in ipairs(j.takes) do
    local info = assert(core.sound_info(dir .. "/" .. jt.file))
    T.eq(info.frames, jt.frames, jt.file)
  end
  -- a spawned coroutine's error propagates the same way
  h:off()
  reel.spawn(function() reel.wait("take_start") error("from a coroutine") end)
  T.raises(function()
    s:record{ punch = "Chorus 2", meter = false, device = freewheel{ "silence" } }
  end, "from a coroutine")
  T.ok(#doc(dir).takes > #j.takes, "that take is kept too")
end)

T.test("reel.stop ends a loop that has no pass limit; the takes are kept", function()
  local s = song()
  local h <close> = reel.on("take_end", function(ev) if ev.pass == 1 then reel.stop() end end)
  local takes = assert(s:record{ loop = "Chorus 2", meter = false, device = freewheel{ "silence" } })
  T.ok(#takes >= 2, "passes: " .. #takes)
  T.eq(takes[1].frames, CH2_LEN) T.eq(takes[2].frames, CH2_LEN)
end)

T.test("clip and xrun events come from the meters and the live take counters", function()
  local s = song()
  local clips = {}
  local hc <close> = reel.on("clip", function(ev) clips[#clips + 1] = ev end)
  local t = assert(s:record{ loop = "Intro", passes = 2, meter = false,
                             device = freewheel{ "sine:440:0" } })
  T.ok(t[1].clipped > 0 and t[2].clipped > 0, "the takes clipped")
  T.eq(#clips, 2, "one clip event per track per pass")
  table.sort(clips, function(a, b) return a.pass < b.pass end)
  T.eq(clips[1].track, "Vox") T.eq(clips[1].pass, 0) T.eq(clips[2].pass, 1)
  T.ok(clips[1].peak >= 1.0)
  -- An xrun on the real-time virtual device: the whole process is stopped
  -- for 0.3 s while a take records, so the device's clock loses periods.
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("a"):match("^(%d+)")
  f:close()
  local xruns = {}
  local hx <close> = reel.on("xrun", function(ev) xruns[#xruns + 1] = ev end)
  reel.spawn(function()
    reel.wait("take_start")
    reel.sleep(0.2)
    os.execute(("kill -STOP %s; sleep 0.3; kill -CONT %s"):format(pid, pid))
  end)
  local x = assert(s:record{ from = 0, to = "1.5s", meter = false,
                             device = reel.device{ spec = "virtual", inputs = { "silence" } } })[1]
  T.ok(x.xruns >= 1, "the take counted the xrun")
  T.ok(#xruns >= 1, "xrun events: " .. #xruns)
  T.eq(xruns[1].pos, x.start + x.xrun_positions[1], "the event's timeline position")
  T.eq(xruns[1].pass, 0)
end)

T.test("events: bad names and waits outside reel.spawn are caller mistakes", function()
  T.raises(function() reel.on("takeend", print) end, "unknown event 'takeend'", T.here())
  T.raises(function() reel.on("take_end", 42) end, "function expected", T.here())
  T.raises(function() reel.wait("take_end") end, "inside a function started with reel.spawn", T.here())
  local h = reel.on("clip", print)
  T.eq(tostring(h), "reel.handler (clip)")
  h:off() h:off()
  T.eq(tostring(h), "reel.handler (clip, off)")
end)

T.test("bad input: unknown track or section, punch out before in, outside the session", function()
  local s, dir = song()
  assert(s:record{ punch = "Verse 1", meter = false, device = freewheel{ "silence" } })
  local before, files = read(dir .. "/session.json"), list(core.list_dir(dir .. "/audio"))
  local dev = freewheel{ "silence" }
  -- raises at the line calling s:record
  local function refused(opts, text)
    opts.device = dev
    local where = T.here(1)
    return T.raises(function() s:record(opts) end, text, where)
  end
  refused({ tracks = { "Nobody" } }, "bad option 'tracks' (unknown track 'Nobody' (tracks: Vox))")
  refused({ punch = "Bridge" },
    "unknown section 'Bridge' (sections: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2, Outro)")
  refused({ loop = "Chorus" }, "section 'Chorus' is ambiguous (Chorus 1, Chorus 2)")
  refused({ punch = { "9:1", "5:1" } },
    "bad option 'punch' (punch out 5:1 (sample 384000) is not after punch in 9:1 (sample 729600))")
  refused({ from = "0:1", to = "3:1" }, "bad option 'from' (position '0:1' is before the start (1:1))")
  refused({ to = "12:2" },
    "bad option 'to' (position '12:2' = 12:2 (sample 1017600) is after the end of the session: "
    .. "the last section, 'Outro', ends at 12:1 (sample 988800))")
  refused({ from = SONG_END }, "is at the end of the session")
  refused({ punch = { "9:1", "13:1" } }, "after the end of the session")
  refused({ loop = "Verse 1", punch = "Chorus 1" }, "is not inside the loop")
  refused({ passes = 2, to = "2:1" }, "bad option 'passes' (passes need a loop)")
  refused({ from = "3:1", to = "2:1" },
    "bad option 'to' (2:1 (sample 96000) is not after from 3:1 (sample 192000))")
  refused({ punch = "Chorus 2", click = "loud" },
    "bad option 'click' (off, always or recording expected, got 'loud')")
  refused({ punch = "Chorus 2", frobnicate = 1 }, "unknown option 'frobnicate'")
  refused({ from = 1.5 }, "whole samples expected")
  refused({ punch = "Chorus 2", backing = { { file = "x.wav", gain_db = 40 } } },
    "bad option 'backing[1].gain_db' (40 is not between -120 and 24)")
  -- a dry run resolves without recording
  local plan = s:check_record{ punch = "Chorus 2", preroll = 2, count_in = 1 }
  T.eq(plan.punch_in, CH2) T.eq(plan.punch_out, CH2 + CH2_LEN) T.eq(plan.autostop, CH2 + CH2_LEN)
  T.eq(plan.preroll, 2 * BAR34) T.eq(plan.count_in, BAR34) T.eq(plan.click.mode, "recording")
  T.eq(plan.section, "Chorus 2")
  -- none of that touched the session
  T.eq(read(dir .. "/session.json"), before, "session.json unchanged")
  T.eq(list(core.list_dir(dir .. "/audio")), files, "audio/ unchanged")
end)

T.test("outside-world failures return nil and a message, keeping what was recorded", function()
  local s, dir = song()
  assert(s:record{ punch = "Verse 1", meter = false, device = freewheel{ "impulse:1000" } })
  local before = read(dir .. "/session.json")
  local orig = read(dir .. "/audio/Vox_T01.wav")
  -- a backing file that is not there
  local ok, err = s:record{ punch = "Chorus 1", backing = { "/nonexistent/take.wav" }, meter = false,
                            device = freewheel{ "silence" } }
  T.eq(ok, nil)
  T.ok(err:find("backing file: ", 1, true) and err:find("/nonexistent/take.wav", 1, true), err)
  -- a device that cannot be opened
  ok, err = s:record{ punch = "Chorus 1", meter = false,
                      device = freewheel{ "/nonexistent/input.wav" } }
  T.eq(ok, nil)
  T.ok(err:find("/nonexistent/input.wav", 1, true), err)
  T.eq(read(dir .. "/session.json"), before)

  -- an unwritable session folder: a read-only bind mount of the session
  -- (chmod does not stop root)
  sh(("mount --bind '%s' '%s' && mount -o remount,bind,ro '%s'"):format(dir, dir, dir))
  local rok, rerr = pcall(function()
    local takes, msg = s:record{ punch = "Chorus 1", meter = false, device = freewheel{ "silence" } }
    T.eq(takes, nil)
    T.ok(msg:find(dir .. "/audio/Vox_T02.wav", 1, true), msg)
    T.ok(msg:find("Read-only file system", 1, true), msg)
  end)
  sh(("umount '%s'"):format(dir))
  assert(rok, rerr)
  T.eq(read(dir .. "/session.json"), before, "session.json intact")
  T.eq(read(dir .. "/audio/Vox_T01.wav"), orig, "the earlier take intact")

  -- a session folder whose path runs through a regular file
  local file = T.tmpdir() .. "/plain"
  assert(io.open(file, "w")):close()
  local ns, nerr = reel.session(file .. "/song")
  T.eq(ns, nil)
  T.ok(nerr:find("Not a directory", 1, true), nerr)
end)

T.test("a full disk: the take is cut short but valid, earlier takes and session.json kept", function()
  local s, dir = song()
  sh(("mount -t tmpfs -o size=64k tmpfs '%s/audio'"):format(dir))
  local rok, rerr = pcall(function()
    local first = assert(s:record{ from = 0, to = "0.1s", meter = false,
                                   device = freewheel{ "noise:white:-6" } })[1]
    local orig = read(dir .. "/" .. first.file)
    local takes, msg, partial = s:record{ from = 0, to = "10s", meter = false,
                                          device = freewheel{ "noise:white:-6" } }
    T.eq(takes, nil)
    T.ok(msg:find("No space left on device", 1, true), msg)
    T.ok(msg:find("Vox_T02.wav", 1, true), msg)
    T.eq(#partial, 1)
    local p = partial[1]
    T.ok(p.frames > 0 and p.frames < 480000, "partial frames " .. p.frames)
    T.eq(assert(core.sound_info(dir .. "/" .. p.file)).frames, p.frames, "the partial take is valid")
    T.eq(read(dir .. "/" .. first.file), orig, "the earlier take intact")
    local j = doc(dir)
    T.eq(#j.takes, 2)
    T.eq(j.takes[1].frames, 4800)
    T.eq(j.takes[2].frames, p.frames)
    T.eq(j.takes[2].error, "no space left on device")
  end)
  sh(("umount '%s/audio'"):format(dir))
  assert(rok, rerr)
end)

T.test("a plain timed take still works and uses the session's format", function()
  local s, dir = song()
  local t = assert(s:record{ seconds = 0.25, meter = false, device = freewheel{ "sine:440" } })[1]
  T.eq(t.format, "wav32f")
  T.eq(t.frames, 12000)
  T.eq(assert(core.sound_info(dir .. "/" .. t.file)).sample, "float")
end)

T.done()
