-- expect: HOSTILE:3: template ran too long (stopped after 0.1 s)
-- goto backwards, forever.
::top:: goto top
