-- expect: HOSTILE: (error object is a table value)
error({ "not a string" })
