-- expect: HOSTILE:3: not enough memory (a template may use 32 MiB)
-- One allocation of a gigabyte.
return { string.rep("x", 1 << 30) }
