-- expect: HOSTILE:2: 'print' is not available in templates
print("reel-hostile: templates do not write to stdout")
return {}
