# Runs jack_overdub.lua against the fixture's JACK server with a fresh
# noise file as the original take.
set -euo pipefail
: "${REEL:?}"
d=$(mktemp -d /tmp/reel-ovd.XXXXXX)
trap 'rm -rf "$d"' EXIT
sox -n -r 48000 -c 1 -e float -b 32 "$d/orig.wav" synth 3 whitenoise vol 0.5
"$REEL" run "$(dirname "$0")/jack_overdub.lua" "$d"
