# JACK integration tests: C programs run against JACK dummy servers started
# by jack_server.sh. Included from tests/CMakeLists.txt (which defines the
# shared "jack" fixture and REEL_TEST_ENV), so CMAKE_CURRENT_SOURCE_DIR is
# tests/ here.

# reel_jack_c_test(NAME [OWN_SERVER]): tests/integration/NAME.c linked with the
# engine, cmocka, libjack and libsndfile. Without OWN_SERVER the test needs
# the shared fixture server; with it the test starts and stops a private one
# (and must not share the machine's two cores with the others: RESOURCE_LOCK).
function(reel_jack_c_test name)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_link_libraries(${name} PRIVATE reel_engine PkgConfig::CMOCKA PkgConfig::JACK
    PkgConfig::SNDFILE)
  add_test(NAME integration.${name} COMMAND ${name})
  set_tests_properties(integration.${name} PROPERTIES
    RESOURCE_LOCK jack
    LABELS "integration;threaded"
    ENVIRONMENT "${REEL_TEST_ENV}"
    TIMEOUT 120)
  if(NOT "OWN_SERVER" IN_LIST ARGN)
    set_tests_properties(integration.${name} PROPERTIES FIXTURES_REQUIRED jack)
  endif()
endfunction()

reel_jack_c_test(jack_loopback)
reel_jack_c_test(jack_server_lost OWN_SERVER)

# An overdub through JACK lands on the original after latency compensation.
reel_jack_test(integration.jack_overdub integration/jack_overdub.sh threaded)

include(${CMAKE_CURRENT_LIST_DIR}/calibrate.cmake)

# reel check and reel regress against a JACK dummy server.
reel_jack_test(integration.jack_check integration/jack_check.sh threaded)
