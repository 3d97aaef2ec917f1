# `reel calibrate` on the virtual device: the simulated loopback's round trip
# comes back exact (latencies 256, 1000, 4800 at periods 64 and 256, one
# period by default, another output/input pair), as text and as JSON
# (parsed with lua5.4 + cjson); the profile file is written where
# REEL_CONFIG_DIR, XDG_CONFIG_HOME or HOME say, atomically, keyed by device,
# rate, period and pair, and reel.latency's profile() finds it; nothing
# connected is refused; command-line mistakes exit 2.
. "$(dirname "$0")/lib.sh"
export REEL_CONFIG_DIR="$T/config"
prof="$REEL_CONFIG_DIR/latency.json"

# calibrate EXPECTED ARGS...: JSON run that must find EXPECTED frames,
# returned at the level played ($level dBFS).
level=-12
calibrate() {
    local want=$1
    shift
    run 0 "$REEL" calibrate --json "$@"
    mv out.txt cal.json
    local got
    got=$(json_get cal.json 'j.latency_frames')
    [ "$got" = "$want" ] || { cat cal.json >&2; fail "'$*': measured $got frames, expected $want"; }
    [ "$(json_get cal.json 'j.api')" = virtual ] || fail "not the virtual device"
    lt 100 "$(json_get cal.json 'j.confidence')" || fail "'$*': low confidence"
    lt "$(json_get cal.json "math.abs(j.level_db - ($level))")" 0.01 || fail "'$*': returned level"
    lt "$(json_get cal.json 'math.abs(j.gain_db)')" 0.01 || fail "'$*': loop gain"
    [ "$(json_get cal.json 'j.inverted')" = false ] || fail "'$*': inverted"
    [ "$(json_get cal.json 'j.xruns')" = 0 ] || fail "'$*': xruns"
}

for period in 64 256; do
    for lat in 256 1000 4800; do
        calibrate "$lat" --device virtual:freewheel --period "$period" --loopback 1\>1 \
            --loopback-latency "$lat"
        [ "$(json_get cal.json 'j.period')" = "$period" ] || fail "period"
        [ "$(json_get cal.json 'j.key')" = "virtual|virtual|48000|$period|1>1" ] || fail "key"
        [ "$(json_get cal.json 'j.profile')" = "$prof" ] || fail "profile path"
        [ "$(json_get cal.json 'j.saved')" = true ] || fail "not saved"
        [ "$(json_get "$prof" "j.profiles['virtual|virtual|48000|$period|1>1'].latency")" = "$lat" ] ||
            fail "profile for period $period holds $(json_get "$prof" "j.profiles['virtual|virtual|48000|$period|1>1'].latency")"
        lt "$(json_get cal.json "math.abs(j.latency_ms - $lat / 48)")" 1e-6 || fail "milliseconds"
    done
done
# No --loopback-latency: the shortest round trip a callback device has, one period.
calibrate 64 --device virtual:freewheel --period 64 --loopback 1\>1 --no-save
[ "$(json_get cal.json 'j.saved')" = false ] || fail "--no-save saved"
[ "$(json_get "$prof" "j.profiles['virtual|virtual|48000|64|1>1'].latency")" = 4800 ] ||
    fail "--no-save changed the profile"
# The real-time clocked device (2.4 s), another pair, another rate and order.
level=-20 calibrate 1000 --out 2 --in 3 --loopback 2\>3 --loopback-latency 1000 --rate 44100 \
    --order 15 --level -20
[ "$(json_get cal.json 'j.key')" = "virtual|virtual|44100|256|2>3" ] || fail "pair key"
[ "$(json_get cal.json 'j.signal_frames')" = 32767 ] || fail "order 15 length"
[ "$(json_get "$prof" 'j.version')" = 1 ] || fail "profile version"
ls "$REEL_CONFIG_DIR" >dir.txt
[ "$(cat dir.txt)" = latency.json ] || fail "stray files in the config folder: $(cat dir.txt)"

# Text output.
run 0 "$REEL" calibrate --device virtual:freewheel --loopback 1\>1 --loopback-latency 1000 --no-save
contains out.txt "Calibrating virtual 'virtual' at 48000 Hz, period 256: output 1 -> input 1 (simulated loopback 1>1, 1000 frames)"
contains out.txt "Round-trip latency: 1000 frames (20.833 ms)"
contains out.txt "Returned level: -12.0 dBFS RMS (loop gain 0.0 dB)"
contains out.txt "Not saved (--no-save)."
run 0 "$REEL" calibrate --device virtual:freewheel --loopback 1\>1 --loopback-latency 300 --period 64
contains out.txt "Round-trip latency: 300 frames (6.250 ms)"
contains out.txt "Saved to $prof (virtual|virtual|48000|64|1>1)"

# reel.latency finds what calibrate stored: the exact pair, or the latest
# measurement of that device, rate and period; nothing for another period.
cat >lookup.lua <<'EOF'
local latency = require "reel.latency"
local function show(info) local f, e = latency.profile(info) print(f or ("nil: " .. e)) end
show{ api = "virtual", name = "virtual", rate = 48000, period = 64 }
show{ api = "virtual", name = "virtual", rate = 48000, period = 256, output = 1, input = 1 }
show{ api = "virtual", name = "virtual", rate = 44100, period = 256, output = 2, input = 3 }
show{ api = "virtual", name = "virtual", rate = 44100, period = 256 }
show{ api = "virtual", name = "virtual", rate = 48000, period = 128 }
show{ api = "jack", name = "virtual", rate = 48000, period = 64 }
print(pcall(latency.profile, { api = "virtual" }))
EOF
run 0 "$REEL" run lookup.lua
cat >want.txt <<'EOF'
300
4800
1000
1000
nil: no latency profile for virtual 'virtual' at 48000 Hz, period 128 (run reel calibrate)
nil: no latency profile for jack 'virtual' at 48000 Hz, period 64 (run reel calibrate)
false	bad argument #1 to 'latency_profile' (field 'name' must be a string)
EOF
diff want.txt out.txt || fail "lookups"

# The reel.calibrate primitives: lists of samples, files, refusals, misuse.
cat >prims.lua <<'EOF'
local cal = require "reel.calibrate"
local played, rec = {}, {}
local x = 1
for i = 1, 1023 do
  x = (x * 1103515245 + 12345) % 2147483648
  played[i] = (x >> 16) & 1 == 1 and 0.5 or -0.5
end
for i = 1, 1023 + 200 do rec[i] = 0 end
for i = 1, 1023 do rec[i + 77] = -0.25 * played[i] end
local r = assert(cal.measure(played, rec))
print(r.delay, r.inverted, r.lags, ("%.2f"):format(r.gain_db))
r = assert(cal.measure(played, rec, { start = 50, max_lag = 100 }))
print(r.delay, r.lags)
local zeros = {}
for i = 1, 1300 do zeros[i] = 0 end
local ok, msg, partial = cal.measure(played, zeros)
print(ok, msg:match("^nothing came back") ~= nil, type(partial))
local d = assert(cal.tempdir())
assert(cal.write_signal(d .. "/m.wav", "mls:10", 1023, 44100))
print(cal.write_signal(d .. "/m.wav", "mls:10", 1023))
print(pcall(cal.write_signal, d .. "/x.wav", "mls:9", 10))
print(pcall(cal.measure, played, rec, { stride = 1 }))
print(cal.measure(d .. "/none.wav", rec) == nil)
os.remove(d .. "/m.wav")
os.remove(d)
print(cal.guard, cal.min_confidence, cal.mls_min_order, cal.mls_max_order)
EOF
run 0 "$REEL" run prims.lua
cat >want.txt <<'EOF'
77	true	201	-12.04
27	101
nil	true	table
EOF
head -n 3 out.txt | diff want.txt - || fail "measure on lists"
sed -n 4p out.txt | grep -qE '^nil	.*m\.wav.*exist' || fail "write_signal over a file: $(sed -n 4p out.txt)"
sed -n 5p out.txt | grep -qF "order '9' must be a whole number from 10 to 20" || fail "bad spec: $(sed -n 5p out.txt)"
sed -n 6p out.txt | grep -qF "unknown option 'stride'" || fail "unknown option: $(sed -n 6p out.txt)"
[ "$(sed -n 7p out.txt)" = true ] || fail "missing file"
[ "$(sed -n 8p out.txt)" = "16	4.0	10	20" ] || fail "constants: $(sed -n 8p out.txt)"

# Where the profile goes without REEL_CONFIG_DIR: XDG_CONFIG_HOME, else HOME.
run 0 env -u REEL_CONFIG_DIR XDG_CONFIG_HOME="$T/xdg" HOME="$T/home" "$REEL" calibrate \
    --device virtual:freewheel --loopback 1\>1 --json
[ "$(json_get out.txt 'j.profile')" = "$T/xdg/reel/latency.json" ] || fail "XDG path"
[ -f "$T/xdg/reel/latency.json" ] || fail "no XDG profile"
run 0 env -u REEL_CONFIG_DIR -u XDG_CONFIG_HOME HOME="$T/home" "$REEL" calibrate \
    --device virtual:freewheel --loopback 1\>1 --json
[ -f "$T/home/.config/reel/latency.json" ] || fail "no profile under HOME"
[ "$(json_get "$T/home/.config/reel/latency.json" "j.profiles['virtual|virtual|48000|256|1>1'].latency")" = 256 ] ||
    fail "HOME profile"

# Nothing connected: no loopback, or the cable in the wrong socket.
run 1 "$REEL" calibrate --device virtual:freewheel
contains err.txt "nothing came back: the recording is digital silence"
run 1 "$REEL" calibrate --device virtual:freewheel --loopback 1\>2 --json
[ "$(json_get out.txt 'j.error')" != nil ] || fail "no error in JSON"
contains out.txt "nothing came back"
lacks out.txt "latency_frames"
# A corrupt profile is reported and left alone.
echo '{ not json' >"$T/bad.json"
mkdir -p "$T/badcfg"
cp "$T/bad.json" "$T/badcfg/latency.json"
run 1 env REEL_CONFIG_DIR="$T/badcfg" "$REEL" calibrate --device virtual:freewheel --loopback 1\>1
contains err.txt "cannot save the profile"
contains err.txt "not a latency profile file"
cmp "$T/bad.json" "$T/badcfg/latency.json" || fail "corrupt profile overwritten"

# Command-line mistakes.
run 2 "$REEL" calibrate --order 9
contains err.txt "option '--order' expects an integer from 10 to 20, got '9'"
run 2 "$REEL" calibrate --out 0
contains err.txt "option '--out' expects an integer from 1 to 1024, got '0'"
run 2 "$REEL" calibrate --device jack --loopback 1\>1
contains err.txt "simulate a cable on the virtual device only"
run 2 "$REEL" calibrate --loopback-latency 100
contains err.txt "option '--loopback-latency' needs '--loopback OUT>IN'"
run 2 "$REEL" calibrate --device virtual --connect
contains err.txt "option '--connect' makes a JACK connection"
run 2 "$REEL" calibrate --connect --no-connect
run 2 "$REEL" calibrate --level 3
run 2 "$REEL" calibrate extra
contains err.txt "unexpected argument 'extra'"
run 1 "$REEL" calibrate --device virtual:freewheel --loopback 1\>1 --loopback-latency 10 --period 64
contains err.txt "shorter than the period"
echo ok
