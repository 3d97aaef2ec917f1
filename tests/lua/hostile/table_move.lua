-- expect: HOSTILE:2: 'table.move' is not available in templates
return table.move({}, 1, 1 << 60, 2)
