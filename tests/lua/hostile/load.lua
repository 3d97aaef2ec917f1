-- expect: HOSTILE:3: 'load' is not available in templates
-- Would compile a binary chunk or run code outside the environment.
return load("return {}")()
