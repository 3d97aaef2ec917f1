# Rig check and regression recording tests (scripts/reel/rig.lua,
# scripts/reel/regress.lua, scripts/reel/cli/check.lua and regress.lua,
# lua/lanalysis.c). Included from tests/CMakeLists.txt, so
# CMAKE_CURRENT_SOURCE_DIR is tests/ and reel_script_test and REEL_TEST_ENV
# are defined. They record on the virtual device: labels cli (or lua) and
# threaded, so that the TSan build runs them too.

# `reel check`: a healthy virtual rig passes; a dead input, a clipping input
# and a missing loopback fail; JUnit XML parses and counts the failures;
# rig file and command-line mistakes exit 2.
reel_script_test(cli.check cli/check.sh cli threaded)

# `reel regress record|compare`: an injected dropout is found at its frame
# (directly on an input and through a loopback with another latency); a
# clean re-recording compares the same; level, noise and spectrum changes.
reel_script_test(cli.regress cli/regress.sh cli threaded)

# The Lua API: reel.rig, reel.regress and reel.analysis.
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/lua/spec_regress.lua)
  add_test(NAME lua.regress COMMAND $<TARGET_FILE:reel> run
    ${CMAKE_CURRENT_SOURCE_DIR}/lua/spec_regress.lua)
  set_tests_properties(lua.regress PROPERTIES LABELS "lua;threaded"
    ENVIRONMENT "${REEL_TEST_ENV}" TIMEOUT 300)
endif()
