-- expect: HOSTILE:4: unexpected symbol near <eof>
return {
  name = "unfinished",
