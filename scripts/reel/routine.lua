--- reel.routine: take routines, scripts that record a section until enough
-- good takes are in.
--
--     local reel = require "reel"
--     local s = assert(reel.open("song"))
--     -- three good passes of the first chorus; a pass that clips or
--     -- drops out is rejected and recorded again, at most twice
--     local r = assert(s:routine{ track = "Vox", section = "Chorus 1", passes = 3,
--                                 count_in = 1, retries = 2,
--                                 policy = { reject = { "xruns", "overruns", "clipping", "silence" },
--                                            silence_db = -50 },
--                                 comp = "loudest_unclipped" })
--     print(#r.kept, #r.rejected)
--
--     -- or read it top to bottom, deciding each pass yourself: the loop's
--     -- body runs between takes (the routine is a coroutine that yields
--     -- every pass to it)
--     for pass in s:routine_passes{ track = "Vox", section = "Chorus 2", passes = 2 } do
--       if pass.take.peak_db < -30 then pass:reject("too quiet: " .. pass.take.peak_db) end
--     end
--
-- How a routine records. Each roll loops the section (one take per pass,
-- with the count-in before the first pass, against the other tracks'
-- regions: their comps or selected takes) for as many passes as good takes
-- are still wanted. After the roll every pass is judged in order: first by
-- the policy, then by `on_take` (or the body of a `routine_passes` loop),
-- which may overrule it. A rejected take gets the status "rejected" and a
-- note saying why ("rejected by policy: clipped 37 samples"); a good one
-- stays "kept" (or "selected"). session.json is saved after every decision,
-- so a script that dies loses nothing. Rolls follow until `keep` good takes
-- are in or `passes + retries` passes have been recorded; a routine never
-- records more passes than it still needs.
--
-- Options (`Session:routine` and `Session:routine_passes`):
--
--   * `track` (a name) or `tracks` (a list: a pass is then one take per
--     track, judged together: one bad take rejects the pass);
--   * `section`: the section to record (a label, "Chorus 2"), or a range
--     `{FROM, TO}` of positions (`{"1:1", "13:1"}`: the whole song, say);
--   * `passes` (planned passes, default the session's take_policy.passes,
--     else 1), `keep` (good takes wanted, default `passes`), `retries`
--     (passes allowed beyond `passes` to make up for rejected ones; default
--     `policy.retries`, else 2);
--   * `count_in` (bars; default take_policy.count_in, else 0), `preroll`
--     (as for `record`; default take_policy.pre_roll seconds before the
--     section, else none), `click` (as for `record`; default "recording"
--     when take_policy.click is true or there is a count-in);
--   * `policy`: `reject` (a list of "xruns", "overruns", "clipping" (or
--     "clipped", the template's word) and "silence"; default
--     take_policy.reject, else all four), `silence_db` (a take whose peak
--     is below this is silence; default -60);
--   * `on_take`: function(take, problems, pass) called for every pass
--     after the policy; returns "keep" (overrules a rejection), "reject",
--     "select" (keep it and make it the track's selected take) or nil (the
--     policy's verdict stands). For several tracks `take` is the first
--     track's; `pass.takes` has them all;
--   * `comp`: a rule for `Session:comp_by_rule` applied to the section (for
--     a range: to every section inside it) when the routine ends with
--     enough good takes (default take_policy.prefer when the template names
--     one; false: none);
--   * `device`, `record` (more options for `Session:record`: `backing`,
--     `monitor`, `latency`, `format`, `against`...).
--
-- A take shorter than the section (a roll cut short) or with an error (the
-- disk failed) is always rejected, whatever the policy lists;
-- an interrupted roll (Ctrl-C) ends the routine after its takes are judged.
--
-- Conventions: misuse raises at the caller's line; a device or disk failure
-- or a signal returns nil, the message and the result so far (its takes
-- are in session.json). Running out of retries is not misuse: nil, a message such
-- as "Vox, Chorus 1: 2 good takes of 3 wanted after 5 passes (3 planned + 2
-- retries)" and the result, every take kept in the session.
--
-- Threads: the script's (control) thread.
-- @module reel.routine

local session = require "reel.session"
local util = require "reel.util"

local Session = session.Session

local M = {}

--- The problems a policy can reject a take for.
M.REJECT = { "xruns", "overruns", "clipping", "silence" }
local REJECT_ALIAS = { clipped = "clipping" }
--- The default level below which a take is silence, dBFS.
M.SILENCE_DB = -60
--- The default number of retries.
M.RETRIES = 2

local OPTIONS = {
  track = true, tracks = true, section = true, passes = true, keep = true, retries = true,
  count_in = true, preroll = true, click = true, policy = true, on_take = true, comp = true,
  device = true, record = true,
}
local POLICY_OPTIONS = { reject = true, silence_db = true, retries = true }
local VERDICTS = { keep = true, reject = true, select = true }

local typename = util.typename

local function misuse(msg, level)
  error(msg, level + 1)
end

local function count_opt(v, what, lo, hi, level)
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
    misuse(("bad option '%s' (whole number expected, got %s)"):format(what,
      type(v) == "number" and tostring(v) or typename(v)), level + 1)
  end
  v = math.tointeger(v)
  if v < lo or v > hi then
    misuse(("bad option '%s' (%d is not between %d and %d)"):format(what, v, lo, hi), level + 1)
  end
  return v
end

-- The plan of a routine: options checked and completed with the session's
-- take_policy. Raises at `level` above its caller.
local function plan(s, opts, level)
  level = level + 1
  if type(opts) ~= "table" then
    misuse(("bad argument #1 to 'routine' (table of options expected, got %s)"):format(typename(opts)), level)
  end
  for k in pairs(opts) do
    if not OPTIONS[k] then misuse(("unknown option '%s'"):format(tostring(k)), level) end
  end
  local tp = s._extra.take_policy
  if type(tp) ~= "table" then tp = {} end
  local p = {}

  local names = opts.tracks
  if opts.track ~= nil then
    if names ~= nil then misuse("bad option 'track' (give 'track' or 'tracks', not both)", level) end
    names = { opts.track }
  end
  if names == nil then misuse("bad option 'track' (the track to record is missing)", level) end
  if type(names) ~= "table" or #names == 0 then
    misuse(("bad option 'tracks' (list of track names expected, got %s)"):format(typename(names)), level)
  end
  local known = {}
  for _, t in ipairs(s.tracks) do known[t.name] = true end
  for i, n in ipairs(names) do
    if type(n) ~= "string" then
      misuse(("bad option 'tracks' (track name expected at item %d, got %s)"):format(i, typename(n)), level)
    end
    if not known[n] then
      local list = {}
      for j, t in ipairs(s.tracks) do list[j] = t.name end
      misuse(("bad option '%s' (unknown track '%s' (%s))"):format(opts.track and "track" or "tracks", n,
        #list > 0 and "tracks: " .. table.concat(list, ", ") or "the session has no tracks"), level)
    end
  end
  p.tracks = names

  local sec = opts.section
  if type(sec) == "table" then
    if #sec ~= 2 then
      misuse("bad option 'section' (a range is {FROM, TO}: two positions)", level)
    end
    local ends = {}
    for i = 1, 2 do
      local ok, v = pcall(Session.position, s, sec[i])
      if not ok then
        misuse(("bad option 'section' (%s)"):format(tostring(v):gsub("^[^\n]-:%d+: ", "", 1)), level)
      end
      ends[i] = v
    end
    if ends[2] <= ends[1] then
      misuse(("bad option 'section' (the range ends at sample %d, not after its start %d)")
        :format(ends[2], ends[1]), level)
    end
    local m = s:tempo_map()
    p.start, p.stop, p.range = ends[1], ends[2], true
    p.name = ("%s to %s"):format(m:format(ends[1]), m:format(ends[2]))
    -- the sections inside the range, for comps
    p.inside = {}
    for _, r in ipairs(s:sections()) do
      if r.start >= p.start and r.start + r.length <= p.stop then p.inside[#p.inside + 1] = r.label end
    end
  elseif type(sec) == "string" then
    local ok, a, b, rec = pcall(Session.section, s, sec)
    if not ok then
      misuse(("bad option 'section' (%s)"):format(tostring(a):gsub("^[^\n]-:%d+: ", "", 1)), level)
    end
    p.section, p.start, p.stop, p.name, p.inside = rec.label, a, b, rec.label, { rec.label }
  else
    misuse(("bad option 'section' (section name or {FROM, TO} expected, got %s)"):format(typename(sec)), level)
  end

  p.passes = count_opt(opts.passes or tp.passes or 1, "passes", 1, 100, level)
  p.keep = count_opt(opts.keep or p.passes, "keep", 1, 100, level)
  local pol = opts.policy
  if pol ~= nil and type(pol) ~= "table" then
    misuse(("bad option 'policy' (table expected, got %s)"):format(typename(pol)), level)
  end
  pol = pol or {}
  for k in pairs(pol) do
    if not POLICY_OPTIONS[k] then
      misuse(("bad option 'policy' (unknown field '%s'; a policy has reject, silence_db, retries)")
        :format(tostring(k)), level)
    end
  end
  local retries = opts.retries
  if retries == nil then retries = pol.retries end
  p.retries = count_opt(retries == nil and M.RETRIES or retries, "retries", 0, 100, level)
  if p.keep > p.passes + p.retries then
    misuse(("bad option 'keep' (%d good takes cannot come from at most %d passes (%d planned + %d retries))")
      :format(p.keep, p.passes + p.retries, p.passes, p.retries), level)
  end
  local reject = pol.reject or tp.reject or M.REJECT
  if type(reject) ~= "table" then
    misuse(("bad option 'policy' (reject: list of problems expected, got %s)"):format(typename(reject)), level)
  end
  p.reject = {}
  for i, r in ipairs(reject) do
    local name = REJECT_ALIAS[r] or r
    local valid = false
    for _, x in ipairs(M.REJECT) do if x == name then valid = true end end
    if not valid then
      misuse(("bad option 'policy' (reject[%d]: '%s' is not one of %s)"):format(i, tostring(r),
        table.concat(M.REJECT, ", ")), level)
    end
    p.reject[name] = true
  end
  local sdb = pol.silence_db
  if sdb == nil then sdb = M.SILENCE_DB end
  if type(sdb) ~= "number" or sdb ~= sdb or sdb > 0 then
    misuse(("bad option 'policy' (silence_db: a level in dBFS at or below 0 expected, got %s)")
      :format(tostring(sdb)), level)
  end
  p.silence_db = sdb

  p.count_in = count_opt(opts.count_in or tp.count_in or 0, "count_in", 0, 16, level)
  p.preroll = opts.preroll
  if p.preroll == nil and type(tp.pre_roll) == "number" and tp.pre_roll > 0 then
    local rate = s:tempo_map():rate()
    p.preroll = tostring(math.max(0, p.start - math.floor(tp.pre_roll * rate + 0.5)))
  end
  p.click = opts.click
  if p.click == nil then
    if tp.click == true or p.count_in > 0 then p.click = "recording"
    elseif tp.click == false then p.click = "off" end
  end
  if opts.on_take ~= nil and type(opts.on_take) ~= "function" then
    misuse(("bad option 'on_take' (function expected, got %s)"):format(typename(opts.on_take)), level)
  end
  p.on_take = opts.on_take
  local comp = opts.comp
  if comp == nil then
    comp = (tp.prefer and tp.prefer ~= "") and tp.prefer or false
  end
  if comp ~= false then
    local valid = false
    for _, r in ipairs(session.COMP_RULES) do if r == comp then valid = true end end
    if not valid then
      misuse(("bad option 'comp' (%s or false expected, got %s)"):format(
        table.concat(session.COMP_RULES, ", "), type(comp) == "string" and ("'%s'"):format(comp)
        or typename(comp)), level)
    end
  end
  p.comp = comp
  if opts.record ~= nil and type(opts.record) ~= "table" then
    misuse(("bad option 'record' (table of Session:record options expected, got %s)")
      :format(typename(opts.record)), level)
  end
  p.record = opts.record or {}
  for _, k in ipairs{ "tracks", "loop", "punch", "passes", "count_in", "preroll", "click", "device" } do
    if p.record[k] ~= nil then
      misuse(("bad option 'record' ('%s' is the routine's own option)"):format(k), level)
    end
  end
  p.device = opts.device
  return p
end

--- Checks a routine's options and completes them with the session's
-- take_policy, without recording: a dry run.
-- @treturn table `tracks`, `section` (label), `start`, `stop` (samples),
--   `passes`, `keep`, `retries`, `reject` (set of problem names),
--   `silence_db`, `count_in`, `preroll`, `click`, `comp`
function M.plan(s, opts)
  local p = plan(s, opts, 2)
  return p        -- not a tail call: error levels count this frame
end

-- Why the policy rejects a take, or nil.
local function policy_verdict(s, p, take)
  local why = {}
  if p.reject.clipping and (take.clipped or 0) > 0 then
    why[#why + 1] = ("clipped %d sample%s"):format(take.clipped, take.clipped == 1 and "" or "s")
  end
  if p.reject.xruns or p.reject.overruns then
    for _, text in ipairs(s:problems(take)) do
      if (p.reject.xruns and text:find("^%d+ xruns?")) or
         (p.reject.overruns and text:find("^%d+ overruns?")) then
        why[#why + 1] = text
      end
    end
  end
  local pk = take.peak_db
  if type(pk) ~= "number" then pk = -math.huge end
  if p.reject.silence and pk < p.silence_db then
    why[#why + 1] = ("no signal (peak %s dBFS, below %g dBFS)"):format(
      pk == -math.huge and "-inf" or ("%.1f"):format(pk), p.silence_db)
  end
  if take.error then why[#why + 1] = "error: " .. tostring(take.error) end
  local want = p.stop - p.start
  if (take.frames or 0) < want then
    why[#why + 1] = ("cut short (%d of %d frames)"):format(take.frames or 0, want)
  end
  if #why == 0 then return nil end
  return table.concat(why, "; ")
end

--- What a routine's policy says of a take, without recording: the
-- complaint ("clipped 37 samples; 2 xruns (at 0.500 s, 1.000 s)") or nil.
-- @tparam Session s
-- @tparam table opts the routine's options (as for `run`: `track`,
--   `section`, `policy`...; the take is judged against that section)
-- @tparam table take a take table
-- @treturn ?string
function M.verdict(s, opts, take)
  local p = plan(s, opts, 2)
  if type(take) ~= "table" then
    misuse(("bad argument #3 to 'verdict' (take expected, got %s)"):format(typename(take)), 2)
  end
  local v = policy_verdict(s, p, take)
  return v          -- not a tail call: error levels count this frame
end

-- A pass as the body of routine_passes sees it.
local Pass = {}
Pass.__index = Pass
Pass.__name = "reel.routine.pass"

--- Rejects the pass (all its takes), with a note.
function Pass:reject(note) self.decision, self.decision_note = "reject", note return self end
--- Keeps the pass, overruling the policy.
function Pass:keep(note) self.decision, self.decision_note = "keep", note return self end
--- Keeps the pass and selects its takes.
function Pass:select(note) self.decision, self.decision_note = "select", note return self end

-- Applies a pass's verdict to its takes and saves. Returns true when good.
local function settle(s, p, pass, result)
  local d = pass.decision
  local good
  local note
  if d == "reject" then
    good = false
    note = pass.decision_note or (pass.policy and ("rejected by policy: " .. pass.policy))
      or "rejected by the routine's callback"
  elseif d == "keep" or d == "select" then
    good = true
    note = pass.decision_note or (pass.policy and ("kept by the routine's callback despite: " .. pass.policy))
  else
    good = pass.policy == nil
    note = pass.policy and ("rejected by policy: " .. pass.policy) or nil
  end
  for _, t in ipairs(pass.takes) do
    local status = good and (d == "select" and "selected" or "kept") or "rejected"
    session.Session.set_status(s, t.track, t.take, status, note)
    if good then result.kept[#result.kept + 1] = t else result.rejected[#result.rejected + 1] = t end
  end
  pass.good = good
  pass.note = note
  local ok, err = s:save()
  if not ok then return nil, err end
  return good
end

-- The routine's body: a generator of passes. yield(pass) hands each pass
-- to the caller and returns when its body is done.
local function produce(s, p, result, yield)
  local good, recorded = 0, 0
  local limit = p.passes + p.retries
  while good < p.keep and recorded < limit do
    local want = math.min(p.keep - good, limit - recorded)
    local ropts = {}
    for k, v in pairs(p.record) do ropts[k] = v end
    ropts.tracks = p.tracks
    ropts.loop = p.range and { p.start, p.stop } or p.section
    ropts.passes = want
    ropts.count_in = p.count_in
    ropts.preroll = p.preroll
    ropts.click = p.click
    ropts.device = p.device
    if ropts.meter == nil then ropts.meter = false end
    local takes, err, partial = s:record(ropts)
    takes = takes or partial or {}
    -- The takes of each pass, in pass order.
    local by_pass, order = {}, {}
    for _, t in ipairs(takes) do
      local st = s:take(t.track, t.take)      -- the session's own table
      if not by_pass[t.pass] then by_pass[t.pass] = {} order[#order + 1] = t.pass end
      local list = by_pass[t.pass]
      list[#list + 1] = st
      result.takes[#result.takes + 1] = st
    end
    table.sort(order)
    for _, n in ipairs(order) do
      recorded = recorded + 1
      local list = by_pass[n]
      table.sort(list, function(x, y)
        local ix, iy
        for i, name in ipairs(p.tracks) do
          if name == x.track then ix = i end
          if name == y.track then iy = i end
        end
        return ix < iy
      end)
      local why = {}
      for _, t in ipairs(list) do
        local v = policy_verdict(s, p, t)
        if v then why[#why + 1] = #p.tracks > 1 and (t.track .. ": " .. v) or v end
      end
      local pass = setmetatable({ pass = recorded, take = list[1], takes = list,
        problems = s:problems(list[1]), policy = #why > 0 and table.concat(why, "; ") or nil,
        section = p.name }, Pass)
      yield(pass)
      local g, serr = settle(s, p, pass, result)
      if g == nil then return nil, serr end
      if g then good = good + 1 end
      result.passes[#result.passes + 1] = pass
    end
    if not err and #order == 0 then
      return nil, ("%s, %s: the roll recorded no pass"):format(table.concat(p.tracks, "+"), p.name)
    end
    if err then return nil, err end
    if takes.interrupted then return nil, "stopped by a signal" end
  end
  result.good = good
  if good < p.keep then
    return nil, ("%s, %s: %d good take%s of %d wanted after %d passes (%d planned + %d retries)")
      :format(table.concat(p.tracks, "+"), p.name, good, good == 1 and "" or "s", p.keep,
        recorded, p.passes, p.retries)
  end
  if p.comp and #p.inside > 0 then
    for _, name in ipairs(p.tracks) do
      local made, cerr = s:comp_by_rule(name, p.comp, p.inside)
      if not made then return nil, cerr end
    end
    local ok, serr = s:save()
    if not ok then return nil, serr end
  end
  return true
end

-- The on_take callback's verdict on a pass.
local function ask(p, pass)
  if not p.on_take then return end
  local v = p.on_take(pass.take, pass.problems, pass)
  if v ~= nil then
    if not VERDICTS[v] then
      error(("on_take returned %s ('keep', 'reject', 'select' or nil expected)")
        :format(type(v) == "string" and ("'%s'"):format(v) or typename(v)), 0)
    end
    pass.decision = v
  end
end

local function new_result(p)
  return { kept = {}, rejected = {}, takes = {}, passes = {}, good = 0, section = p.name,
           tracks = p.tracks }
end

--- Runs a take routine (see the top of this file for the options).
-- @tparam Session s
-- @tparam table opts
-- @treturn[1] table result: `kept` and `rejected` (take tables, in
--   recording order), `takes` (all), `passes` (`{pass, take, takes, policy,
--   good, note}` per pass), `good`, `section`, `tracks`
-- @return[2] nil, message, result (retries exhausted, or the device or disk
--   failed; every take recorded is in session.json)
function M.run(s, opts, level)
  local p = plan(s, opts, (level or 1) + 1)
  local result = new_result(p)
  local ok, err = produce(s, p, result, function(pass) ask(p, pass) end)
  if not ok then return nil, err, result end
  return result
end

--- The same routine as an iterator: `for pass in M.passes(s, opts) do ...
-- end`. The body runs between takes (the routine is a coroutine that
-- yields each pass) and may call `pass:reject(note)`, `pass:keep(note)` or
-- `pass:select(note)`; `pass.policy` is the policy's complaint (nil when
-- it has none), `pass.take` the (first) take, `pass.problems` its
-- problems, `pass.decision` what `on_take` (when given, called first)
-- decided. When the loop ends, `result` (the second value returned by
-- `passes`) holds what `run` returns, plus `error` when it failed.
-- @treturn function iterator
-- @treturn table result
function M.passes(s, opts, level)
  local p = plan(s, opts, (level or 1) + 1)
  local result = new_result(p)
  local co = coroutine.wrap(function()
    local ok, err = produce(s, p, result, function(pass)
      ask(p, pass)
      coroutine.yield(pass)
    end)
    if not ok then result.error = err end
    return nil
  end)
  return co, result
end

return M
