# Tests of the `reel` command (shell scripts under tests/cli/, label cli).
# Recording tests also carry "threaded" so that the TSan build runs them.
foreach(t help_version bad_options run_errors no_cwd_path devices demo install_layout info_errors
    template variant doc export render loudness)
  reel_script_test(cli.${t} cli/${t}.sh cli)
endforeach()
foreach(t record_exact record_pad take_numbers interrupt kill9 lua_error_recording meter_tty new_info
          take_punch_loop take_errors long_status long_schedule long_disk_full)
  reel_script_test(cli.${t} cli/${t}.sh cli threaded realtime)
endforeach()
# The report page in headless Chromium (fails when chromium is missing).
reel_script_test(cli.report_browser cli/report_browser.sh cli)
# 4.3 GB into /dev/shm: a take crossing 4 GiB (RF64) checked sample by sample.
reel_script_test(cli.long_4gib cli/long_4gib.sh cli slow)

# Needs the JACK dummy server that tests/integration's fixture starts.
if(COMMAND reel_jack_test AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/jack_server.sh)
  reel_jack_test(cli.jack_record cli/jack_record.sh cli)
endif()
# Take routines: the tracking-day example end to end; the policy against
# an injected disk stall (fault-injection builds) and a real xrun.
reel_script_test(cli.tracking_day cli/tracking_day.sh cli threaded)
if(REEL_FAULT_INJECTION)
  reel_script_test(cli.routine_faults cli/routine_faults.sh cli threaded)
endif()
# The session lock (DIR/.reel.lock): one writing process per session.
reel_script_test(cli.session_lock cli/session_lock.sh cli threaded)
# Crash recovery: SIGKILL during recording, then `reel recover`.
foreach(t recover_kill recover_roll)
  reel_script_test(cli.${t} cli/${t}.sh cli threaded realtime)
endforeach()
