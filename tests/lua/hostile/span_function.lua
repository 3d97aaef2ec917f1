-- expect: ok
-- The line-noting function the sandbox passes as `...`: calling it with
-- nonsense does nothing harmful.
local note = ...
note("x", nil, {}) note(1, "y", 2) note(-1, {}, 2 ^ 40)
return { n = select("#", ...) }
