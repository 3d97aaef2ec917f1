# Lua specs (tests/lua/spec_*.lua), each run by `reel run`; label lua.
# Specs that record also carry "threaded" for the TSan build.
foreach(spec session core json tracking sessions_tracking template play arrange routine comp export
    render report loudness lock)
  set(_f ${CMAKE_CURRENT_SOURCE_DIR}/lua/spec_${spec}.lua)
  if(EXISTS ${_f})
    add_test(NAME lua.${spec} COMMAND $<TARGET_FILE:reel> run ${_f})
    set(_labels lua)
    if(spec STREQUAL "session" OR spec STREQUAL "core" OR spec STREQUAL "tracking"
       OR spec STREQUAL "sessions_tracking" OR spec STREQUAL "play"
       OR spec STREQUAL "routine" OR spec STREQUAL "comp" OR spec STREQUAL "report")
      list(APPEND _labels threaded)
    endif()
    if(spec STREQUAL "tracking" OR spec STREQUAL "sessions_tracking")
      list(APPEND _labels realtime)  # the whole callback under RealtimeSanitizer
    endif()
    set_tests_properties(lua.${spec} PROPERTIES LABELS "${_labels}"
      ENVIRONMENT "${REEL_TEST_ENV}" TIMEOUT 300)
  endif()
endforeach()

# Session specs (tests/lua/session_*.lua): scripts/reel/session.lua and the
# reel.tempo binding (lua/ltempo.c); session_record records, so it also runs
# under TSan.
foreach(spec tempo store api record)
  set(_f ${CMAKE_CURRENT_SOURCE_DIR}/lua/session_${spec}.lua)
  if(EXISTS ${_f})
    add_test(NAME lua.session_${spec} COMMAND $<TARGET_FILE:reel> run ${_f})
    set(_labels lua)
    if(spec STREQUAL "record")
      list(APPEND _labels threaded)
    endif()
    set_tests_properties(lua.session_${spec} PROPERTIES LABELS "${_labels}"
      ENVIRONMENT "${REEL_TEST_ENV}" TIMEOUT 300)
  endif()
endforeach()
