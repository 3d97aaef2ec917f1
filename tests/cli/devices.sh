# `reel devices` with no JACK server: says so plainly, still lists the
# virtual device; --json is valid JSON with the same content.
. "$(dirname "$0")/lib.sh"

# A server name nobody runs, so that a JACK fixture elsewhere does not answer.
export JACK_DEFAULT_SERVER="reel-nodevice-$$"
export JACK_NO_START_SERVER=1

run 0 "$REEL" devices
contains out.txt "No audio device found. Start a JACK server, e.g.: jackd -d dummy -r 48000 -p 256 &"
contains out.txt "virtual"
contains out.txt "virtual:freewheel"
contains out.txt "Audio APIs:"

run 0 "$REEL" devices --json
[ "$(json_get out.txt 'j.found')" = "0" ] || fail "found is not 0"
[ "$(json_get out.txt '#j.devices')" = "1" ] || fail "expected exactly the virtual device"
[ "$(json_get out.txt 'j.devices[1].api')" = "virtual" ] || fail "virtual device missing"
[ "$(json_get out.txt 'j.devices[1].preferred_rate')" = "48000" ] || fail "virtual rate"
json_get out.txt 'table.concat(j.apis, ",")' | grep -q virtual || fail "apis lack virtual"
json_get out.txt 'j.message' | grep -q "No audio device found" || fail "no message in JSON"
echo ok
