-- expect: HOSTILE:2: 'package' is not available in templates
return { package.loaded.io }
