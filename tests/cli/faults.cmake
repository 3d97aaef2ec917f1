# Fault tests (issue "Reliability", items 2 and 3): disk full, disk stalled,
# JACK server killed mid-take. Included from tests/CMakeLists.txt, so
# CMAKE_CURRENT_SOURCE_DIR is tests/ here.

# A full disk on a small tmpfs (mounts one: needs root, as long_disk_full).
reel_script_test(cli.fault_full cli/fault_full.sh cli threaded realtime)

# A stalled writer: REEL_FAULT_WRITER_STALL exists only with fault injection.
if(REEL_FAULT_INJECTION)
  reel_script_test(cli.fault_stall cli/fault_stall.sh cli threaded realtime)
endif()

# The JACK server killed mid-take. The script starts and kills its own
# server ("reelfault"), so no fixture; the lock keeps it off the cores the
# shared server's tests use.
reel_script_test(integration.jack_kill integration/jack_kill.sh integration threaded)
if(TEST integration.jack_kill)
  set_tests_properties(integration.jack_kill PROPERTIES RESOURCE_LOCK jack TIMEOUT 120)
endif()
