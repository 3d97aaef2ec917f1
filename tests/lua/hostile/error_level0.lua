-- expect: HOSTILE: no position here
error("no position here", 0)
