# Hostile input (tests/hostile/run.sh PART), label hostile: malformed,
# truncated and odd sound files through `reel record --input`, core.sound_info,
# core.read_frames and rec:add_source (sounds, which records and plays, so it
# is also "threaded" for the TSan build), and broken session.json files
# through `reel info` and `reel record` (sessions), and templates whose
# mistakes hold long or binary values through `reel check-template`
# (templates). The sandbox's hostile templates are tests/lua/hostile/'s.
foreach(part sounds sessions templates)
  add_test(NAME hostile.${part}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/hostile/run.sh ${part})
  set(_labels hostile)
  if(part STREQUAL "sounds")
    list(APPEND _labels threaded)
  endif()
  set_tests_properties(hostile.${part} PROPERTIES LABELS "${_labels}"
    ENVIRONMENT "${REEL_TEST_ENV}" TIMEOUT 600)
endforeach()
