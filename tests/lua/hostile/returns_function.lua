-- expect: HOSTILE: a template returns a table, this one returned function
return function() return {} end
