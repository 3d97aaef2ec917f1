--- Command-line option parsing for the `reel` subcommands.
-- Long options only: `--name VALUE`, `--name=VALUE`, flags without a value,
-- repeatable options collected into lists, `--` ends the options.
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

return getopt
