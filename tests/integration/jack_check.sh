# reel check against the fixture's JACK dummy server: an unconnected loop
# and a dead input are reported (exit 1); with --connect the loop becomes a
# JACK connection (a cable in software) and the rig passes, measuring one
# period of round trip.
set -euo pipefail
: "${REEL:?}"
d=$(mktemp -d /tmp/reel-jcheck.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > dead.lua <<'RIG'
return {
  device = "jack",
  inputs = { { channel = 1, name = "Vox", expect = "signal" } },
  loops = { { output = 1, input = 2, latency = { 256, 256 } } },
  seconds = 1,
}
RIG
status=0
"$REEL" check --name rigdead --junit dead.xml dead.lua >out.txt 2>err.txt || status=$?
[ "$status" = 1 ] || { cat out.txt err.txt; fail "dead rig: exit $status, expected 1"; }
grep -q "a dead input" out.txt || fail "dead input not reported"
grep -q "did not come back on input 2" out.txt || fail "missing loop not reported"
python3 -c "import xml.etree.ElementTree as E; r=E.parse('dead.xml').getroot(); n=len(r.findall('.//failure')); assert n >= 2, n"

cat > loop.lua <<'RIG'
return {
  device = "jack",
  inputs = { { channel = 1, name = "Spare", expect = "silence" } },
  loops = { { output = 1, input = 2, latency = { 256, 256 }, level_db = { -1, 1 } } },
  seconds = 1,
}
RIG
status=0
"$REEL" check --name rigloop --connect --json loop.lua >out.json 2>err.txt || status=$?
[ "$status" = 0 ] || { cat out.json err.txt; fail "connected rig: exit $status, expected 0"; }
lua5.4 -e "local j = require('cjson').decode(io.open('out.json'):read('a'))
  local s = require('cjson').encode(j)
  assert(s:find('256'), 'no 256-frame round trip in ' .. s)"

# reel regress on JACK: a noise stimulus through the connected loop becomes
# the reference; a second recording compares the same.
sox -n -r 48000 -c 1 -e float -b 32 stim.wav synth 2 whitenoise vol 0.3
"$REEL" regress record --device jack --name rigreg --connect --stimulus stim.wav \
    --out 1 --in 2 ref.wav >out.txt 2>err.txt || { cat out.txt err.txt; fail "regress record"; }
status=0
"$REEL" regress record --device jack --name rigreg --connect --stimulus stim.wav \
    --out 1 --in 2 --against ref.wav again.wav >out.txt 2>err.txt || status=$?
[ "$status" = 0 ] || { cat out.txt err.txt; fail "regress against the reference: exit $status"; }
echo ok
