# With the JACK dummy server of the "jack" fixture: `reel devices` lists it,
# `reel record` picks it without --device, opens all its capture ports and
# writes takes of exactly --seconds; a named client with --no-connect works.
. "$(dirname "$0")/lib.sh"
export JACK_NO_START_SERVER=1

run 0 "$REEL" devices
lacks out.txt "No audio device found"
grep -qE '^  jack ' out.txt || fail "no JACK device listed"
contains out.txt "virtual"
run 0 "$REEL" devices --json
[ "$(json_get out.txt 'j.found')" -ge 1 ] || fail "JSON lists no real device"

run 0 "$REEL" record --seconds 1 --format wav32f sess
contains out.txt "from jack"
n=$(ls sess/audio | wc -l)
[ "$n" -ge 1 ] || fail "no takes"
for f in sess/audio/*.wav; do
    [ "$(frames "$f")" = 48000 ] || fail "$f has $(frames "$f") frames, expected 48000"
done
# The dummy backend has the ports the fixture asked for; all are recorded.
ports=$(jack_lsp 2>/dev/null | grep -c '^system:capture_' || true)
[ "$n" = "$ports" ] || fail "$n takes for $ports capture ports"

run 0 "$REEL" record --device jack --channels 1 --no-connect --name reeltest-cli --seconds 0.5 sess
[ "$(frames sess/audio/In1_T02.wav)" = 24000 ] || fail "second take length"
contains out.txt "xruns"

# Ctrl-C and SIGTERM stop a JACK recording (libjack once left them blocked
# on the control thread, so only SIGKILL ended it).
for sig in INT TERM; do
    "$REEL" record --device jack --channels 1 --name "reeltest-$sig" sig$sig >o.txt 2>e.txt &
    pid=$!
    for _ in $(seq 100); do grep -q Recording o.txt 2>/dev/null && break; sleep 0.05; done
    sleep 1
    kill "-$sig" "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        fail "SIG$sig did not stop a JACK recording within 5 s"
    fi
    status=0; wait "$pid" || status=$?
    [ "$status" = 0 ] || { cat o.txt e.txt >&2; fail "SIG$sig: exit status $status"; }
    n=$(frames "sig$sig/audio/In1_T01.wav")
    [ "$n" -ge 2400 ] || fail "SIG$sig: take has $n frames"
done

# A client named like the server would cut the server off: refused.
run 1 "$REEL" record --device jack --channels 1 --name "$JACK_DEFAULT_SERVER" --seconds 0.2 bad
contains err.txt "is the server's name"
echo ok
