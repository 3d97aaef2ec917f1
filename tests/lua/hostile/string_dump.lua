-- expect: HOSTILE:2: 'string.dump' is not available in templates
return { string.dump(tostring) }
