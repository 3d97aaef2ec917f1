--- `reel render DIR [--variant NAME] [--out FILE] [--stems DIR] [--no-mix]
-- [--format F] [--crossfade MS] [--comp-crossfade MS] [--force]`: the
-- session (or a variant of it) rendered offline to a stereo mix, and with
-- --stems one file per track in that folder (`s:render`, see reel.render for
-- the rules: what plays, the pan law, solo, crossfades at variant edits and
-- at comp switches, 0 for hard cuts). The mix goes to
-- DIR/renders/<name>[-<variant>].wav (.flac for flac sessions) unless --out
-- says otherwise; --no-mix writes the stems only. Existing files are never
-- replaced without --force. A progress bar goes to stderr when it is a
-- terminal; the summary goes to stdout.
-- Returns the exit status: 0 rendered, 1 failed (not a session, a missing or
-- damaged take, a variant that cannot be rendered, a file in the way,
-- Ctrl-C), 2 bad command line (also an unknown variant).
local reel = require "reel"
local getopt = require "reel.getopt"
local util = require "reel.util"
local core = reel.core

local usage_error = getopt.usage_error("reel render")
local failure = getopt.failure("reel render")

local opts, rest = getopt.parse({ ... }, {
  variant = { value = true }, out = { value = true }, stems = { value = true },
  format = { value = true }, crossfade = { value = true }, ["comp-crossfade"] = { value = true },
  force = {}, ["no-mix"] = {},
})
if not opts then return usage_error(rest) end
if #rest == 0 then return usage_error("missing DIR (the session folder)") end
if #rest > 1 then return usage_error(("unexpected argument '%s' (only one DIR)"):format(rest[2])) end
local dir = rest[1]
if dir == "" then return usage_error("DIR must not be empty") end
if opts.out and opts["no-mix"] then return usage_error("--out and --no-mix contradict each other") end
if opts["no-mix"] and not opts.stems then return usage_error("--no-mix needs --stems DIR") end
for _, k in ipairs{ "variant", "out", "stems" } do
  if opts[k] == "" then return usage_error(("--%s must not be empty"):format(k)) end
end
local ms = {}
for _, k in ipairs{ "crossfade", "comp-crossfade" } do
  if opts[k] then
    ms[k] = tonumber(opts[k])
    if not ms[k] or ms[k] < 0 or ms[k] > 1000 then
      return usage_error(("--%s: milliseconds from 0 to 1000 expected, got '%s'"):format(k, opts[k]))
    end
  end
end
if opts.format then
  local ok = false
  for _, f in ipairs(reel.formats()) do ok = ok or f == opts.format end
  if not ok then
    return usage_error(("--format: '%s' is not one of %s"):format(opts.format, table.concat(reel.formats(), ", ")))
  end
end

local s, err = reel.open(dir)
if not s then return failure(err) end
if opts.variant then
  local ok, e = pcall(s.arrangement, s, opts.variant)
  if not ok then return usage_error((tostring(e):gsub("^[^\n]-:%d+: ", ""))) end
end

local tty = core.isatty(io.stderr)
local started = core.now()
local rate = s:tempo_map():rate()
local shown = -1
local function progress(done, total)
  if not tty then return end
  local pct = total > 0 and math.floor(100 * done / total) or 100
  if pct == shown and done < total then return end
  shown = pct
  local width = 30
  local filled = math.floor(width * pct / 100)
  local elapsed = core.now() - started
  local speed = elapsed > 0 and (done / rate) / elapsed or 0
  io.stderr:write(("\r\27[K[%s%s] %3d%%  %.1fx real time"):format(("#"):rep(filled), ("."):rep(width - filled),
    pct, speed))
  io.stderr:flush()
end

local out = opts.out
if opts["no-mix"] then out = false end
local r, rerr = s:render{
  variant = opts.variant, out = out, stems = opts.stems,
  format = opts.format, crossfade_ms = ms.crossfade, comp_crossfade_ms = ms["comp-crossfade"],
  force = opts.force or false, progress = progress,
}
if tty then io.stderr:write("\r\27[K") end
if not r then return failure(rerr) end

local clock = util.clock
local elapsed = core.now() - started
print(("Rendered  %s%s: %s (%d frames at %d Hz), %s, in %.2f s"):format(s.name,
  r.variant and (", variant " .. r.variant) or "", clock(r.seconds), r.frames, r.rate, r.format, elapsed))
if r.out then
  print(("Mix       %s (peak %s dBFS, %d track%s heard)"):format(r.out, reel.format_db(r.peak_db), r.heard,
    r.heard == 1 and "" or "s"))
end
if #r.stems > 0 then
  local names = {}
  for i, st in ipairs(r.stems) do names[i] = st.path:match("[^/]*$") end
  print(("Stems     %s (%d): %s"):format(opts.stems, #r.stems, table.concat(names, ", ")))
end
if r.clipped > 0 then
  io.stderr:write(("reel render: warning: the mix clipped %d samples (peak %s dBFS); lower the gains "
    .. "(s:set_mix) and render again with --force\n"):format(r.clipped, reel.format_db(r.peak_db)))
end
return 0
