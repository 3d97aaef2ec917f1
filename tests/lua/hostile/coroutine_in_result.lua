-- expect: HOSTILE: co: a thread is not data (a template returns tables, strings, numbers and booleans)
return { co = coroutine.create(tostring) }
