-- expect: HOSTILE:6: not enough memory (a template may use 32 MiB)
-- Coroutines without end, each keeping a megabyte alive while suspended.
local block, all = "x", {}
for _ = 1, 20 do block = block .. block end
for i = 1, math.huge do
  all[i] = coroutine.wrap(function() local s = block .. i coroutine.yield(#s) end) all[i]()
end
