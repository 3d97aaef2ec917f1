-- expect: HOSTILE:2: 'dofile' is not available in templates
return dofile("/etc/passwd")
