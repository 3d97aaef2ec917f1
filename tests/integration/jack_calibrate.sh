#!/usr/bin/env bash
# jack_calibrate.sh: `reel calibrate` on a JACK dummy server finds exactly
# one period, at periods 64, 256 and 1024, as jack_iodelay does.
#
# The test runs its own server, one after the other for each period, under
# the fixed name "reelcal" (never a new name per run: the machine's JACK
# registry holds only 8 server names), through jack_server.sh, whose
# ownership checks stop a stale "reelcal" left by a killed earlier run and
# refuse to touch anyone else's. Its state folder is fixed too
# ($REEL_BUILD_DIR/tests/jack-calibrate), so that a stale server is
# recognised by its recorded PID. ctest's RESOURCE_LOCK jack keeps the other
# JACK tests off the machine's two cores meanwhile. A server that cannot
# start fails the test; nothing here skips.
#
# For each period: calibrate through the JACK self-connection
# reel_cal:outport 0 -> reel_cal:inport 0 (--connect, the default), JSON
# parsed with lua5.4 + cjson; the profile gets one entry per period; then
# jack_iodelay, looped the same way, must report the same round trip.
set -euo pipefail
: "${REEL:?REEL must name the built reel command}"
: "${REEL_SOURCE_DIR:?REEL_SOURCE_DIR must name the source tree}"

export JACK_DEFAULT_SERVER=reelcal
export JACK_NO_START_SERVER=1
export JACK_NO_AUDIO_RESERVATION=1
srv="$REEL_SOURCE_DIR/tests/integration/jack_server.sh"
state="${REEL_BUILD_DIR:-/tmp}/tests/jack-calibrate"
client=reel_cal

T=$(mktemp -d /tmp/reel-jcal.XXXXXX)
export REEL_CONFIG_DIR="$T/config"
iod_pid=
cleanup() {
    local rc=$?
    [ -n "$iod_pid" ] && kill "$iod_pid" 2>/dev/null && wait "$iod_pid" 2>/dev/null
    bash "$srv" stop "$state" >/dev/null || rc=1
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

json_get() {
    lua5.4 -e "local cjson = require 'cjson'
               local f = assert(io.open('$1')); local j = cjson.decode(f:read('a')); f:close()
               local v = ($2)
               if math.type(v) == 'float' and v == math.floor(v) then v = math.tointeger(v) end
               print(v)"
}

# jack_iodelay's figure into $iod: run it for a few seconds, looped on
# itself, and take the last "N frames ... total roundtrip latency" line it
# printed ("" when it printed none).
iodelay() {
    local out="$T/iodelay.txt" i
    stdbuf -o0 jack_iodelay >"$out" 2>&1 &
    iod_pid=$!
    for ((i = 0; i < 100; i++)); do          # its ports, within 5 s
        jack_lsp 2>/dev/null | grep -qx 'jack_delay:in' && break
        sleep 0.05
    done
    jack_connect jack_delay:out jack_delay:in || fail "cannot loop jack_iodelay"
    sleep 3
    kill "$iod_pid" 2>/dev/null || true
    wait "$iod_pid" 2>/dev/null || true
    iod_pid=
    iod=$(awk '/total roundtrip latency/ { v = $1 } END { if (v != "") printf "%d", v + 0.5 }' "$out")
}

for period in 64 256 1024; do
    # Start (jack_server.sh stops a stale reelcal of ours first and waits
    # until an exited server is gone); failure to start fails the test.
    bash "$srv" start "$state" "$period" || fail "JACK server at period $period did not start"

    got=0
    "$REEL" calibrate --device jack --name "$client" --json >"$T/cal.json" 2>"$T/cal.err" || got=$?
    if [ "$got" -ne 0 ] || grep -qE 'Sanitizer|runtime error:' "$T/cal.err"; then
        cat "$T/cal.json" "$T/cal.err" >&2
        fail "reel calibrate at period $period exited with $got"
    fi
    lat=$(json_get "$T/cal.json" 'j.latency_frames')
    api=$(json_get "$T/cal.json" 'j.api')
    per=$(json_get "$T/cal.json" 'j.period')
    conf=$(json_get "$T/cal.json" 'j.confidence')
    xr=$(json_get "$T/cal.json" 'j.xruns')
    echo "period $period: calibrate measured $lat frames (confidence $conf, xruns $xr)"
    [ "$api" = jack ] || fail "device api is '$api', not jack"
    [ "$per" = "$period" ] || fail "the device runs at period $per, $period expected"
    [ "$lat" = "$period" ] || fail "round trip $lat frames at period $period; one period expected"
    awk -v c="$conf" 'BEGIN { exit !(c >= 20) }' || fail "confidence only $conf"
    [ "$(json_get "$T/cal.json" 'j.saved')" = true ] || fail "profile not saved"
    [ "$(json_get "$T/cal.json" 'j.connection')" = "$client:outport 0 -> $client:inport 0" ] ||
        fail "connection: $(json_get "$T/cal.json" 'j.connection')"

    iodelay
    echo "period $period: jack_iodelay measured ${iod:-nothing}"
    [ "$iod" = "$lat" ] || fail "jack_iodelay says '$iod' frames, calibrate $lat"

    bash "$srv" stop "$state" || fail "cannot stop the server at period $period"
done

# One profile entry per period, each one period long.
prof="$REEL_CONFIG_DIR/latency.json"
[ -f "$prof" ] || fail "no profile written"
for period in 64 256 1024; do
    key="jack|reelcal|48000|$period|1>1"
    v=$(json_get "$prof" "j.profiles['$key'] and j.profiles['$key'].latency")
    [ "$v" = "$period" ] || fail "profile $key: '$v'"
done
echo ok
