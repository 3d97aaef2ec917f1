-- expect: HOSTILE:4: 'string.find' is not available in templates
-- A backtracking pattern that would run for hours in C, where no hook can
-- stop it; reached as a string method.
return { ("a"):rep(5000):find(("a-"):rep(30) .. "b") }
