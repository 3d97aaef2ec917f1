--- Command-line option parsing for the `reel` subcommands.
-- Long options only: `--name VALUE`, `--name=VALUE`, flags without a value,
-- repeatable options collected into lists, `--` ends the options. Also the
-- checks and messages the subcommands share: their one operand, integer
-- options, `--device` specs, and reporting a bad command line (exit status
-- 2) or a failure (1) on stderr.
--
-- Threads: the subcommand's (control) thread.
-- @module reel.getopt
local getopt = {}

--- Parses args against spec.
-- @tparam {string,...} args the command's arguments
-- @tparam table spec option name (without dashes) -> {value=true|false,
--   list=true|false}
-- @treturn[1] table options by name (flags true, values strings, lists tables)
-- @treturn[1] {string,...} the other arguments, in order
-- @return[2] nil, message naming the option
function getopt.parse(args, spec)
  local opts, rest = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for k = i + 1, #args do rest[#rest + 1] = args[k] end
      break
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local s = spec[name]
      if not s then return nil, ("unknown option '--%s'"):format(name) end
      if s.value then
        if value == nil then
          i = i + 1
          value = args[i]
          if value == nil then return nil, ("option '--%s' needs a value"):format(name) end
        end
        if s.list then
          opts[name] = opts[name] or {}
          table.insert(opts[name], value)
        else
          opts[name] = value
        end
      else
        if value ~= nil then return nil, ("option '--%s' takes no value"):format(name) end
        opts[name] = true
      end
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      return nil, ("unknown option '%s'"):format(a)
    else
      rest[#rest + 1] = a
    end
    i = i + 1
  end
  return opts, rest
end

--- The one operand a subcommand takes (a DIR, a FILE) from the arguments
-- `parse` left.
-- @tparam {string,...} rest the other arguments
-- @tparam string name how usage names it ("DIR")
-- @tparam string what what it is ("the session folder")
-- @treturn[1] string the operand
-- @return[2] nil, message: "missing DIR (the session folder)", "unexpected
--   argument 'X' (only one DIR)" or "DIR must not be empty"
function getopt.operand(rest, name, what)
  if #rest == 0 then return nil, ("missing %s (%s)"):format(name, what) end
  if #rest > 1 then return nil, ("unexpected argument '%s' (only one %s)"):format(rest[2], name) end
  if rest[1] == "" then return nil, name .. " must not be empty" end
  return rest[1]
end

--- An option's value as an integer from min to max (digits, blanks around
-- them allowed).
-- @tparam table opts from `parse`
-- @tparam string name the option (without dashes)
-- @tparam integer min
-- @tparam integer max
-- @param[opt] default returned when the option is not given
-- @treturn[1] integer|nil the value, or default
-- @return[2] nil, message "option '--NAME' expects an integer from MIN to
--   MAX, got 'VALUE'"
function getopt.integer(opts, name, min, max, default)
  local v = opts[name]
  if v == nil then return default end
  local n = v:match("^%s*%d+%s*$") and math.tointeger(tonumber(v))
  if not n or n < min or n > max then
    return nil, ("option '--%s' expects an integer from %d to %d, got '%s'"):format(name, min, max, v)
  end
  return n
end

--- The kind of device a `--device` SPEC asks for: "" (auto), "virtual"
-- (SPEC virtual or virtual:freewheel), "jack", "alsa" or "pulse" (those
-- three with an optional ":NAME").
-- @tparam string spec
-- @treturn[1] string the kind
-- @return[2] nil, message "option '--device' got 'SPEC'; expected ..."
function getopt.device_kind(spec)
  local kind = spec:match("^([^:]*)")
  local kinds = { [""] = true, virtual = true, jack = true, alsa = true, pulse = true }
  if not kinds[kind] or (kind == "virtual" and spec ~= "virtual" and spec ~= "virtual:freewheel")
      or (kind == "" and spec ~= "") then
    return nil, ("option '--device' got '%s'; expected \"\" (auto), virtual, "
      .. "virtual:freewheel, jack, alsa[:NAME] or pulse[:NAME]"):format(spec)
  end
  return kind
end

-- function(msg): writes "PROG: MSG" and `tail` to stderr, returns status.
local function reporter(prog, tail, status)
  return function(msg)
    io.stderr:write(prog, ": ", msg, tail)
    return status
  end
end

--- A reporter of command-line mistakes for the subcommand `prog`.
-- @tparam string prog "reel take"
-- @treturn function(msg) that writes "PROG: MSG" and "Try 'reel --help'."
--   to stderr and returns 2 (the exit status of a bad command line)
function getopt.usage_error(prog)
  return reporter(prog, "\nTry 'reel --help'.\n", 2)
end

--- A reporter of failures for the subcommand `prog`.
-- @tparam string prog "reel take"
-- @treturn function(msg) that writes "PROG: MSG" to stderr and returns 1
--   (the exit status of a failure)
function getopt.failure(prog)
  return reporter(prog, "\n", 1)
end

return getopt
