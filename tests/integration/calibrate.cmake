# Latency calibration tests (engine/latency.c, lua/lcalibrate.c,
# scripts/reel/cli/calibrate.lua, scripts/reel/latency.lua). Included from
# tests/integration/tests.cmake, itself included from tests/CMakeLists.txt,
# so CMAKE_CURRENT_SOURCE_DIR is tests/ and reel_unit_test,
# reel_script_test and REEL_TEST_ENV are defined.

# Cross-correlation delays, exact to the sample, with noise and gain; the
# "nothing connected" refusals.
reel_unit_test(latency)

# `reel calibrate` on the virtual device's simulated loopback: exact
# latencies at periods 64 and 256, JSON output, the profile file.
reel_script_test(cli.calibrate cli/calibrate.sh cli threaded)

# `reel calibrate` on JACK dummy servers at periods 64, 256 and 1024 finds
# exactly one period each time. The script starts and stops its own server
# (fixed name "reelcal") three times, so it needs no fixture but must not
# share the machine with the other JACK tests.
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/jack_calibrate.sh)
  add_test(NAME integration.jack_calibrate
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/jack_calibrate.sh)
  set_tests_properties(integration.jack_calibrate PROPERTIES
    RESOURCE_LOCK jack
    LABELS "integration;threaded"
    ENVIRONMENT "${REEL_TEST_ENV}"
    TIMEOUT 300)
endif()
