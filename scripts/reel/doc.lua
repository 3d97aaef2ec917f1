--- reel.doc: the Lua library's reference, read from its doc comments.
--
--     local doc = require "reel.doc"
--     local mods = assert(doc.scan(doc.library_dir()))
--     for _, m in ipairs(mods) do print(m.name, #m.functions) end
--     io.write(doc.markdown(mods))
--     for _, miss in ipairs(doc.undocumented(mods)) do print(miss) end
--
-- The doc style of scripts/reel/ (the one `reel doc` checks):
--
--   * A module opens with `--- reel.NAME: one line.` followed by `--` lines
--     (usage, conventions, threads) and ends its header with
--     `-- @module reel.NAME`.
--   * A public function is `function M.name(...)` (M: the table the file
--     returns) or a method of one of the module's classes (`function
--     Session:name`), whose name does not start with `_`; helper tables
--     named in capitals (`APPLY`) or declared `local X = {} -- @local` are
--     private. A public function is
--     preceded directly by a block that starts with `--- One line.` and may
--     go on with `--` lines and `@tparam`, `@treturn`, `@raise` tags.
--   * Public values (`M.NAMES = ...`) are documented the same way when they
--     carry a `---` block; they are listed but not required.
--
-- `reel doc` prints the reference as Markdown (share/doc/lua-reference.md is
-- that output, kept in step by the test lua.doc); `reel doc --check` lists
-- public functions without a doc block and says whether the reference page
-- is up to date.
--
-- Threads: the script's thread only; reads files, never loads them as code.
-- @module reel.doc

local M = {}

--- The folder holding the library's `reel/` modules (found through
-- `package.path`, as `require` finds them).
-- @treturn string|nil the folder, or nil and a message
function M.library_dir()
  local path = package.searchpath("reel.session", package.path)
  if not path then return nil, "cannot find the reel Lua library on package.path" end
  return (path:gsub("/session%.lua$", ""))
end

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return text
end

local function module_name(file)
  if file == "init.lua" then return "reel" end
  return "reel." .. file:gsub("%.lua$", "")
end

-- The doc block (lines without their leading "--- " / "-- ") ending just
-- above line i, or nil when the line above is not a comment or the block
-- does not start with "---".
local function block_above(lines, i)
  local j = i - 1
  while j >= 1 and lines[j]:match("^%-%-") do j = j - 1 end
  local first = j + 1
  if first >= i or not lines[first]:match("^%-%-%-") then return nil end
  local out = {}
  for k = first, i - 1 do
    local l = lines[k]:gsub("^%-%-%-? ?", "")
    out[#out + 1] = l
  end
  return out
end

local function header_of(lines, name)
  if not (lines[1] and lines[1]:match("^%-%-%- ")) then return nil end
  local out = {}
  for k = 1, #lines do
    local l = lines[k]
    if not l:match("^%-%-") then break end
    if l:match("^%-%- @module") then
      return out, l:match("^%-%- @module%s+(%S+)") == name
    end
    out[#out + 1] = l:gsub("^%-%-%-? ?", "")
  end
  return out, false
end

--- Reads one module file.
-- @tparam string path the file
-- @tparam string name its module name ("reel.session")
-- @treturn table `{name, file, header (lines or nil), module_tag (boolean),
--   functions = {{name, signature, line, doc (lines or nil)}}, values = {...}}`
--   or nil and a message
function M.scan_file(path, name)
  local text, err = read(path)
  if not text then return nil, err end
  local lines = {}
  for l in (text:gsub("\r", "") .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local mod = { name = name, file = path, functions = {}, values = {} }
  mod.header, mod.module_tag = header_of(lines, name)
  -- The module's own table is what the file returns (M, json, reel, ...).
  local self_name = "M"
  for i = #lines, 1, -1 do
    local r = lines[i]:match("^return%s+setmetatable%(%s*([%a_][%w_]*)")
      or lines[i]:match("^return%s+([%a_][%w_]*)%s*$")
    if r then self_name = r break end
  end
  -- Helper tables are private: ALL-CAPS ones and `local X = {} -- @local`.
  local private = {}
  for _, l in ipairs(lines) do
    local cls = l:match("^local%s+([%a_][%w_]*)%s*=.*%-%-%s*@local")
    if cls then private[cls] = true end
  end
  for i, l in ipairs(lines) do
    local owner, sep, fname, args = l:match("^function%s+([%a_][%w_]*)([.:])([%a_][%w_]*)%s*(%b())")
    if owner and (private[owner] or (owner:match("^[%u_]+$") and owner ~= "M")) then owner = nil end
    if owner and not fname:match("^_") then
      local shown = owner == self_name and name or owner
      mod.functions[#mod.functions + 1] = {
        name = shown .. sep .. fname, signature = shown .. sep .. fname .. args,
        line = i, doc = block_above(lines, i) }
    else
      local vname = l:match("^" .. self_name .. "%.([%a][%w_]*)%s*=")
      if vname then
        local d = block_above(lines, i)
        if d then mod.values[#mod.values + 1] = { name = name .. "." .. vname, line = i, doc = d } end
      end
    end
  end
  return mod
end

--- Reads every module of the library (not the `cli/` commands).
-- @tparam string dir the folder holding the modules (`M.library_dir()`)
-- @treturn {table,...} modules sorted by name, or nil and a message
function M.scan(dir)
  local p = io.popen(("ls -1 '%s'"):format(dir:gsub("'", "'\\''")))
  if not p then return nil, dir .. ": cannot list the folder" end
  local files = {}
  for f in p:lines() do
    if f:match("^[%w_]+%.lua$") then files[#files + 1] = f end
  end
  p:close()
  if #files == 0 then return nil, dir .. ": no Lua modules found" end
  local mods = {}
  for _, f in ipairs(files) do
    local m, err = M.scan_file(dir .. "/" .. f, module_name(f))
    if not m then return nil, err end
    mods[#mods + 1] = m
  end
  table.sort(mods, function(a, b) return a.name < b.name end)
  return mods
end

--- What the doc style misses: one line per problem, "FILE:LINE: what".
-- @tparam {table,...} mods from `M.scan`
-- @treturn {string,...} empty when everything is documented
function M.undocumented(mods)
  local out = {}
  for _, m in ipairs(mods) do
    if not m.header then
      out[#out + 1] = ("%s:1: module %s has no `--- %s: ...` header"):format(m.file, m.name, m.name)
    elseif not m.module_tag then
      out[#out + 1] = ("%s:1: module header does not end with `-- @module %s`"):format(m.file, m.name)
    end
    for _, f in ipairs(m.functions) do
      if not f.doc then
        out[#out + 1] = ("%s:%d: %s has no doc comment"):format(m.file, f.line, f.signature)
      end
    end
  end
  return out
end

local function paragraph(lines)
  local out = {}
  for _, l in ipairs(lines) do
    if l:match("^@module") then break end
    out[#out + 1] = l
  end
  return table.concat(out, "\n")
end

--- The reference as Markdown: a contents list, then per module its header
-- text and each public function with its signature and doc block.
-- @tparam {table,...} mods from `M.scan`
-- @treturn string
function M.markdown(mods)
  local b = {}
  local function add(s) b[#b + 1] = s end
  add("# reel Lua library reference\n\n")
  add("Generated by `reel doc` from the doc comments in `scripts/reel/`; ")
  add("do not edit by hand (`reel doc > share/doc/lua-reference.md`).\n")
  add("The command-line subcommands are in reel(1); the C bindings `reel.core`, ")
  add("`reel.tempo`, `reel.sys`, `reel.sandbox`, `reel.analysis` and ")
  add("`reel.calibrate` are used through these modules.\n\n")
  add("## Modules\n\n")
  for _, m in ipairs(mods) do
    local summary = m.header and m.header[1] and m.header[1]:gsub("^[%w_.]+:%s*", "") or ""
    add(("- [%s](#%s): %s\n"):format(m.name, m.name:gsub("%.", ""), summary))
  end
  for _, m in ipairs(mods) do
    add(("\n## %s\n\n"):format(m.name))
    if m.header then
      local h = { table.unpack(m.header) }
      h[1] = h[1]:gsub("^[%w_.]+:%s*", "")
      add("```text\n" .. paragraph(h) .. "\n```\n")
    end
    for _, v in ipairs(m.values) do
      add(("\n### `%s`\n\n```text\n%s\n```\n"):format(v.name, paragraph(v.doc)))
    end
    for _, f in ipairs(m.functions) do
      add(("\n### `%s`\n\n"):format(f.signature))
      if f.doc then
        add("```text\n" .. paragraph(f.doc) .. "\n```\n")
      else
        add("(undocumented)\n")
      end
    end
  end
  return table.concat(b)
end

return M
