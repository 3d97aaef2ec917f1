--- rig_check.lua: the start of a session, as a studio might script it: the
-- checks of `reel check`, a house policy on which failures stop the
-- session, and a regression recording through every loop compared with the
-- reference recorded on the first run (the day the rig was known to be
-- good).
--
--     reel run scripts/examples/rig_check.lua [RIG [REFERENCES_DIR]]
--
-- RIG is a rig description (default: share/rigs/example.lua, a virtual
-- rig that runs anywhere); REFERENCES_DIR keeps the reference recordings
-- (default: rig-references). Exits 0 when the rig is ready, 1 when the
-- session should not start. To adapt it: write your rig file (copy
-- share/rigs/example.lua), set DEVICE, list the inputs whose failures are
-- only warnings in WARN_ONLY, and pick the stimulus and tolerances.
local core = require "reel.core"
local rig = require "reel.rig"
local regress = require "reel.regress"

local RIG = arg and arg[1] or "example"
local REFS = arg and arg[2] or "rig-references"
-- The device: nil uses the rig file's; the example's virtual device runs
-- free (as fast as the machine can) so that the example is quick.
local DEVICE = nil
-- Inputs whose failures are reported but do not stop the session.
local WARN_ONLY = { Spare = true, Talkback = true }
-- The regression stimulus: broadband noise aligns and compares best.
local STIMULUS, SECONDS = "noise:white:-12", 2
local TOLERANCES = { level_db = 0.5, alignment = 1 }

local r = assert(rig.load(RIG))
local device = DEVICE or (r.device == "virtual" and "virtual:freewheel") or nil

-- 1. The rig check.
local result, err = rig.check(r, { device = device })
if not result then
  io.stderr:write("The rig check could not run: ", err, "\n")
  os.exit(1)
end
print(rig.format(result))

local stop = {}
for _, c in ipairs(result.checks) do
  if c.status == "FAIL" then
    local name = c.subject:match("^input %d+ (.+)$")
    if name and WARN_ONLY[name] then
      print("Warning (not stopping the session): " .. c.message)
    else
      stop[#stop + 1] = c.message
    end
  end
end

-- 2. Regression recordings through the loops (only those the check found).
assert(core.mkdir_p(REFS))
local dev = rig.device_options(r, { device = device })
for i, loop in ipairs(r.loops) do
  if result.loops[i] and result.loops[i].latency then
    local ref = ("%s/loop_out%d_in%d.wav"):format(REFS, loop.output, loop.input)
    local first = not core.exists(ref)
    local take = first and ref or ("%s/latest_out%d_in%d.wav"):format(REFS, loop.output, loop.input)
    if take ~= ref then os.remove(take) end
    local rec, rerr = regress.record{
      device = dev.device, sources = dev.sources, loopback = dev.loopback,
      loopback_latency = dev.loopback_latency, rate = dev.rate, period = dev.period,
      stimulus = STIMULUS, seconds = SECONDS, output = loop.output, input = loop.input,
      path = take,
    }
    if not rec then
      stop[#stop + 1] = ("loop %s: the regression recording failed: %s"):format(loop.name, rerr)
    elseif first then
      print(("\nLoop %s: reference recorded in %s (round trip %d frames); later runs compare "
        .. "with it."):format(loop.name, ref, rec.latency))
    else
      local report, cerr = regress.compare(ref, take, TOLERANCES)
      if not report then
        stop[#stop + 1] = ("loop %s: cannot compare: %s"):format(loop.name, cerr)
      else
        print(("\nLoop %s against its reference (round trip today %d frames):"):format(loop.name,
          rec.latency))
        print(regress.format(report))
        if not report.ok then
          stop[#stop + 1] = ("loop %s differs from its reference: %s"):format(loop.name,
            table.concat(report.failures, "; "))
        end
      end
    end
  end
end

print("")
if #stop > 0 then
  print("Do not start the session:")
  for _, m in ipairs(stop) do print("  - " .. m) end
  os.exit(1)
end
print("The rig is ready.")
