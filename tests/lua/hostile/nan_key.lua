-- expect: HOSTILE:2: table index is NaN
return { [0/0] = 1 }
