-- expect: ok
-- string.rep of an empty string a quintillion times: Lua 5.4 would loop
-- that many times in C; the sandbox's rep returns "" at once.
return { name = string.rep("", 1 << 60) .. ("x"):rep(3, "") }
