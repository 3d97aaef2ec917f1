-- expect: HOSTILE:2: 'os' is not available in templates
return { os.execute("touch /tmp/reel-hostile-os") }
