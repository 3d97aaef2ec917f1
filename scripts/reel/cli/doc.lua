--- `reel doc [--check] [MODULE]`: the Lua library's reference (reel.doc).
-- Without arguments prints the whole reference as Markdown (what
-- share/doc/lua-reference.md holds); with MODULE ("session" or
-- "reel.session") only that module. --check prints every public function
-- without a doc comment and whether share/doc/lua-reference.md is the
-- current output. Returns the exit status: 0 fine, 1 something is missing
-- or out of date, 2 bad command line.
local core = require "reel.core"
local doc = require "reel.doc"
local getopt = require "reel.getopt"

local PROG = "reel doc"

local usage_error = getopt.usage_error(PROG)

local opts, rest = getopt.parse({ ... }, { check = {} })
if not opts then return usage_error(rest) end
if #rest > 1 then return usage_error("at most one module name expected") end

local dir, derr = doc.library_dir()
if not dir then
  io.stderr:write(PROG, ": ", derr, "\n")
  return 1
end
local mods, err = doc.scan(dir)
if not mods then
  io.stderr:write(PROG, ": ", err, "\n")
  return 1
end

if rest[1] then
  local want = rest[1]:match("^reel%.") and rest[1] or (rest[1] == "reel" and "reel" or "reel." .. rest[1])
  local found
  for _, m in ipairs(mods) do
    if m.name == want then found = m end
  end
  if not found then
    local names = {}
    for _, m in ipairs(mods) do names[#names + 1] = m.name end
    return usage_error(("no module '%s' (modules: %s)"):format(rest[1], table.concat(names, ", ")))
  end
  mods = { found }
end

local text = doc.markdown(mods)
if not opts.check then
  io.write(text)
  return 0
end

local status = 0
for _, line in ipairs(doc.undocumented(mods)) do
  io.stderr:write(line, "\n")
  status = 1
end
if not rest[1] then
  local share = core.share_dir()
  local page = share and share .. "/doc/lua-reference.md"
  local f = page and io.open(page, "rb")
  local have = f and f:read("a")
  if f then f:close() end
  if have ~= text then
    io.stderr:write(PROG, ": ", page or "share/doc/lua-reference.md",
      " is not the current reference; run: reel doc > share/doc/lua-reference.md\n")
    status = 1
  end
end
if status == 0 then io.write("reel doc: every public function is documented; the reference is current\n") end
return status
