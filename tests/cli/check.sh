# `reel check` on the virtual device: a healthy virtual rig passes (text,
# JSON, JUnit), once on the real-time clock as shipped; a dead input, a
# clipping input (a 0 dBFS sine, a file of full-scale samples) and a missing
# loopback each fail their check with a clear message and exit 1; JUnit
# XML parses (python3's xml.etree) and counts the failures; without a rig
# file the levels are reported; a device that cannot open is an error in
# JUnit too; mistakes in the rig file name the file, line and field and
# exit 2, as command-line mistakes do.
. "$(dirname "$0")/lib.sh"
FW="--device virtual:freewheel"
example="$REEL_SOURCE_DIR/share/rigs/example.lua"

# junit FILE: prints "TESTS FAILURES SKIPPED ERRORS CASES FAILURE_ELEMENTS" after
# checking that FILE is JUnit XML whose counts agree with its elements.
junit() {
    python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1
s = suites[0]
cases = s.findall("testcase")
fails = sum(len(c.findall("failure")) for c in cases)
errs = sum(len(c.findall("error")) for c in cases)
skips = sum(len(c.findall("skipped")) for c in cases)
for c in cases:
    assert c.get("classname") and c.get("name"), ET.tostring(c)
    for f in c.findall("failure"):
        assert f.get("message"), ET.tostring(f)
assert int(s.get("tests")) == len(cases), (s.get("tests"), len(cases))
assert int(s.get("failures")) == fails and int(root.get("failures")) == fails
assert int(s.get("errors")) == errs and int(s.get("skipped")) == skips
print(s.get("tests"), fails, skips, errs, len(cases), fails)
EOF
}

# ---------------------------------------------------------------- healthy rig
# The shipped example, as it is (virtual device on its real-time clock): on
# a loaded machine the clock may miss a period, so an xrun is the one
# failure tolerated here.
got=0
"$REEL" check "$example" --json >rt.json 2>err.txt || got=$?
! grep -qE 'Sanitizer|runtime error:' err.txt || { cat err.txt >&2; fail "sanitizer report"; }
[ "$(json_get rt.json '(function() local bad = {} for _, c in ipairs(j.checks) do
        if c.status ~= "PASS" and c.status ~= "INFO" and c.check ~= "xruns while recording" then
          bad[#bad + 1] = c.subject .. ": " .. c.check end end
      return #bad == 0 and "clean" or table.concat(bad, ", ") end)()')" = clean ] ||
    { cat rt.json >&2; fail "the example on the real-time clock"; }
[ "$got" = 0 ] || [ "$(json_get rt.json 'j.failed')" = 1 ] || fail "exit $got"
[ "$(json_get rt.json 'j.device.name')" = virtual ] || fail "real-time device"
# The same free-running: every check passes (no clock, no xruns).
run 0 "$REEL" check "$example" --device virtual:freewheel --junit ok.xml
contains out.txt "Rig check of $example on virtual 'virtual' at 48000 Hz, period 256: inputs recorded for 2 s, 1 loop measured"
contains out.txt "input 1 Kick: signal present"
contains out.txt "input 2 Spare: silent"
contains out.txt "input 2 Spare: noise floor"
grep -E '^loop out 1 > in 3: latency +512 frames +256 to 2048 frames +PASS$' out.txt >/dev/null ||
    { cat out.txt >&2; fail "loop latency row"; }
grep -E '^input 1 Kick: level +-15\.0 dBFS RMS +-40\.0 to -6\.0 dBFS +PASS$' out.txt >/dev/null ||
    { cat out.txt >&2; fail "level row"; }
contains out.txt "12 checks: 12 passed, 0 failed. RIG OK"
lacks out.txt "FAIL"
[ "$(junit ok.xml)" = "12 0 0 0 12 0" ] || fail "JUnit of a healthy rig: $(junit ok.xml)"
# By name, free-running, as JSON.
run 0 "$REEL" check example $FW --json
mv out.txt ok.json
[ "$(json_get ok.json 'j.ok')" = true ] || fail "JSON ok"
[ "$(json_get ok.json 'j.failed')" = 0 ] || fail "JSON failed count"
[ "$(json_get ok.json 'j.passed')" = 12 ] || fail "JSON passed count"
[ "$(json_get ok.json 'j.loops[1].latency')" = 512 ] || fail "JSON loop latency"
[ "$(json_get ok.json 'j.loops[1].level_db')" = 0 ] || fail "JSON loop level"
[ "$(json_get ok.json 'j.inputs[1].peak_db')" = -12 ] || fail "JSON peak"
[ "$(json_get ok.json 'j.inputs[1].clipped')" = 0 ] || fail "JSON clipped"
lt "$(json_get ok.json 'math.abs(j.inputs[1].rms_db + 15.01)')" 0.02 || fail "JSON RMS"
lt "$(json_get ok.json 'j.inputs[2].noise_floor_db')" -70 || fail "JSON noise floor"
lt -80 "$(json_get ok.json 'j.inputs[2].noise_floor_db')" || fail "JSON noise floor (too low)"
[ "$(json_get ok.json 'j.inputs[2].expect')" = silence ] || fail "JSON expect"
[ "$(json_get ok.json 'j.device.api')" = virtual ] || fail "JSON device"
[ "$(json_get ok.json '#j.checks')" = 15 ] || fail "JSON checks listed"

# ---------------------------------------------------------------- dead input
run 1 "$REEL" check example $FW --input silence --input noise:white:-70 --junit dead.xml
grep -E '^input 1 Kick: signal present +-inf dBFS RMS +above -60\.0 dBFS +FAIL$' out.txt >/dev/null ||
    { cat out.txt >&2; fail "dead input row"; }
contains out.txt "FAIL: no signal on input 1 (Kick): RMS -inf dBFS, at or below -60.0 dBFS: a dead input"
contains out.txt "RIG CHECK FAILED"
grep -E '^input 2 Spare: silent .*PASS$' out.txt >/dev/null || fail "the quiet input still passes"
grep -E '^loop out 1 > in 3: loop present .*PASS$' out.txt >/dev/null || fail "the loop still passes"
# the level check fails with it (no level at all): two failures
[ "$(junit dead.xml)" = "12 2 0 0 12 2" ] || fail "JUnit of a dead input: $(junit dead.xml)"
python3 - dead.xml <<'EOF' || fail "JUnit failure of the dead input"
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
bad = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
assert bad == [("input 1 Kick", "signal present"), ("input 1 Kick", "level")], bad
EOF
# An input expected silent that carries signal.
run 1 "$REEL" check example $FW --input sine:440:-12 --input sine:1000:-20
contains out.txt "FAIL: input 2 (Spare) should be silent but carries signal"

# ---------------------------------------------------------------- clipping
# A 0 dBFS sine peaks at full scale.
run 1 "$REEL" check example $FW --input sine:100:0 --input noise:white:-70 --json
mv out.txt clip.json
[ "$(json_get clip.json 'j.ok')" = false ] || fail "clipping passed"
lt 100 "$(json_get clip.json 'j.inputs[1].clipped')" || fail "clipped samples not counted"
[ "$(json_get clip.json '(function() for _, c in ipairs(j.checks) do if c.check == "clipping" and c.status == "FAIL" then return c.subject end end end)()')" = "input 1 Kick" ] ||
    fail "no clipping failure in JSON"
contains clip.json "input 1 (Kick) clips:"
# A file of full-scale samples (24-bit square wave), on an input expected to carry anything.
sox -n -r 48000 -c 1 -b 24 full.wav synth 3 square 100 vol 1.0 2>/dev/null
cat >clip.lua <<'EOF'
return {
  device = "virtual", sources = { "sine:440:-12", "full.wav" },
  inputs = { { channel = 1, name = "Vox" }, { channel = 2, name = "Synth", expect = "any" } },
}
EOF
run 1 "$REEL" check ./clip.lua $FW --junit clip.xml
grep -E '^input 2 Synth: clipping +[0-9]+ samples +at most 0 \(at -0\.01 dBFS\) +FAIL$' out.txt >/dev/null ||
    { cat out.txt >&2; fail "clipping row of the full-scale file"; }
grep -E '^input 1 Vox: clipping .*PASS$' out.txt >/dev/null || fail "the clean input clips"
contains out.txt "FAIL: input 2 (Synth) clips:"
[ "$(junit clip.xml)" = "6 1 0 0 6 1" ] || fail "JUnit of a clipping input: $(junit clip.xml)"

# ---------------------------------------------------------------- missing loopback
# The same rig without its simulated cable.
sed -e '/loopback =/d' "$example" >noloop.lua
run 1 "$REEL" check ./noloop.lua $FW --junit noloop.xml
grep -E '^loop out 1 > in 3: loop present +nothing found +found +FAIL$' out.txt >/dev/null ||
    { cat out.txt >&2; fail "missing loopback row"; }
contains out.txt "FAIL: loop out 1 > in 3: the test signal played on output 1 did not come back on input 3: nothing came back"
grep -E '^loop out 1 > in 3: latency +not measured \(no loop\) .*SKIP$' out.txt >/dev/null || fail "latency not skipped"
contains out.txt "12 checks: 9 passed, 1 failed, 2 skipped. RIG CHECK FAILED"
[ "$(junit noloop.xml)" = "12 1 2 0 12 1" ] || fail "JUnit of a missing loopback: $(junit noloop.xml)"
# The cable in the wrong socket, from the command line.
run 1 "$REEL" check example $FW --loopback 1\>2 --json
[ "$(json_get out.txt 'j.loops[1].error ~= nil')" = true ] || fail "no loop error in JSON"
# A loop that comes back too late or too quiet.
cat >slow.lua <<'EOF'
return {
  device = "virtual:freewheel", loopback = "2>1", loopback_latency = 4800,
  loops = { { output = 2, input = 1, name = "Reamp", latency = { 64, 1024 }, level_db = { -1, 1 } } },
}
EOF
run 1 "$REEL" check ./slow.lua
contains out.txt "FAIL: loop Reamp: round trip 4800 frames (100.00 ms) is outside 64 to 1024 frames"
grep -E '^loop Reamp: level +0\.0 dB .*PASS$' out.txt >/dev/null || fail "level of the slow loop"

# ---------------------------------------------------------------- no rig file
run 0 "$REEL" check $FW --input sine:440:-6 --input silence --seconds 0.5
contains out.txt "Rig check (no rig file: levels only) on virtual 'virtual'"
grep -E '^input 1 In 1: level +-9\.0 dBFS RMS +- +-$' out.txt >/dev/null || { cat out.txt >&2; fail "level row"; }
contains out.txt "input 2 In 2: clipping"
run 1 "$REEL" check $FW --input sine:100:0
contains out.txt "FAIL: input 1 (In 1) clips"

# ---------------------------------------------------------------- device errors
run 1 "$REEL" check example $FW --input "$T/none.wav" --junit err.xml
contains err.txt "reel check: "
contains err.txt "none.wav"
[ "$(junit err.xml)" = "1 0 0 1 1 0" ] || fail "JUnit of a device error: $(junit err.xml)"
run 1 "$REEL" check example $FW --input "$T/none.wav" --json
[ "$(json_get out.txt 'j.ok')" = false ] || fail "JSON of a device error"
contains out.txt "none.wav"

# ---------------------------------------------------------------- rig file mistakes
cat >bad.lua <<'EOF'
return {
  seconds = 2,
  inputs = {
    { channel = 1, name = "Kick", expect = "sgnal" },
    { chanel = 2 },
    { channel = 3, level_db = { -6, -40 } },
    { channel = 1, expect = "silence", level_db = { -40, -6 } },
  },
  loops = { { output = 1 } },
  noise_floor = -60,
}
EOF
run 2 "$REEL" check ./bad.lua
contains err.txt "reel check: ./bad.lua:4: inputs[1].expect: 'sgnal' is not one of signal, silence, any (did you mean 'signal'?)"
contains err.txt "reel check: ./bad.lua:5: inputs[2].chanel: unknown field (did you mean 'channel'?)"
contains err.txt "reel check: ./bad.lua:5: inputs[2]: the field 'channel' is missing"
contains err.txt "reel check: ./bad.lua:6: inputs[3].level_db: the minimum -6 is above the maximum -40"
contains err.txt "reel check: ./bad.lua:7: inputs[4].channel: channel 1 is listed twice (also inputs[1])"
contains err.txt "reel check: ./bad.lua:7: inputs[4].level_db: applies to inputs that expect signal (this one expects silence)"
contains err.txt "reel check: ./bad.lua:9: loops[1]: the field 'input' is missing"
contains err.txt "reel check: ./bad.lua:10: noise_floor: unknown field (did you mean 'noise_floor_max_db'?)"
echo 'return { inputs = { { channel = 1 } }, seconds = "2" }' >bad2.lua
run 2 "$REEL" check ./bad2.lua
contains err.txt "./bad2.lua:1: seconds: number expected, got string"
echo 'return { device = "jack", sources = { "silence" } }' >bad3.lua
run 2 "$REEL" check ./bad3.lua
contains err.txt "./bad3.lua:1: sources: simulates a rig on the virtual device; the device is 'jack'"
echo 'return { inputs = { { channel = 1 } }' >syntax.lua
run 2 "$REEL" check ./syntax.lua
contains err.txt "reel check: ./syntax.lua:"
echo 'local f = io.open("/etc/passwd") return {}' >evil.lua
run 2 "$REEL" check ./evil.lua
contains err.txt "./evil.lua:1:"
echo 'return 42' >notatable.lua
run 2 "$REEL" check ./notatable.lua
contains err.txt "./notatable.lua: a "
contains err.txt "returns a table"
run 2 "$REEL" check ./missing.lua
contains err.txt "missing.lua"
run 2 "$REEL" check exmaple
contains err.txt "rig 'exmaple' not found (did you mean 'example'?"
echo 'return { device = "virtul" }' >baddev.lua
run 2 "$REEL" check ./baddev.lua
contains err.txt "./baddev.lua: device: device 'virtul'"

# ---------------------------------------------------------------- the example script
# First run: the check passes and the loop's reference is recorded; second
# run: the loop compares the same. A rig with a dead "Kick" stops the session.
script="$REEL_SOURCE_DIR/scripts/examples/rig_check.lua"
run 0 "$REEL" run "$script" example refs
contains out.txt "RIG OK"
contains out.txt "Loop out 1 > in 3: reference recorded in refs/loop_out1_in3.wav (round trip 512 frames)"
contains out.txt "The rig is ready."
[ "$(frames refs/loop_out1_in3.wav)" = 96000 ] || fail "example reference length"
run 0 "$REEL" run "$script" example refs
contains out.txt "SAME within the tolerances"
contains out.txt "The rig is ready."
sed -e 's/"sine:440:-12"/"silence"/' "$example" >deadkick.lua
run 1 "$REEL" run "$script" ./deadkick.lua refs
contains out.txt "Do not start the session:"
contains out.txt "  - no signal on input 1 (Kick)"

# ---------------------------------------------------------------- command-line mistakes
run 2 "$REEL" check --seconds 0 example
contains err.txt "option '--seconds' expects seconds from 0.1 to 600, got '0'"
run 2 "$REEL" check --junit "" example
run 2 "$REEL" check example other
contains err.txt "unexpected argument 'other'"
run 2 "$REEL" check --device bogus example
contains err.txt "option '--device' got device 'bogus'"
run 2 "$REEL" check --device jack --loopback 1\>1 example
contains err.txt "simulate a rig on the virtual device only"
run 2 "$REEL" check --loopback-latency 100 example
contains err.txt "option '--loopback-latency' needs '--loopback OUT>IN'"
run 2 "$REEL" check --frobnicate
contains err.txt "unknown option '--frobnicate'"
echo ok
