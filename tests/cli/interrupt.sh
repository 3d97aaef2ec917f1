# SIGINT or SIGTERM ends a real-time recording cleanly: exit 0, the take is
# kept, valid and about as long as the recording ran; session.json lists it.
. "$(dirname "$0")/lib.sh"

interrupt() { # SIGNAL DIR
    "$REEL" record --device virtual --input sine:440:-6 "$2" >out.txt 2>err.txt &
    local pid=$!
    # Wait until it records (the header line is printed just before).
    for _ in $(seq 100); do
        grep -q Recording out.txt 2>/dev/null && break
        sleep 0.05
    done
    sleep 1.5
    kill "-$1" "$pid"
    local status=0
    wait "$pid" || status=$?
    [ "$status" -eq 0 ] || { cat out.txt err.txt >&2; fail "SIG$1: exit status $status"; }
    contains out.txt "Stopped by signal"
    local take="$2/audio/In1_T01.wav"
    [ -f "$take" ] || fail "SIG$1: no take"
    local n
    n=$(frames "$take")
    # 1.5 s of recording, with generous room for slow (sanitizer) builds.
    [ "$n" -ge 48000 ] && [ "$n" -le 144000 ] || fail "SIG$1: take has $n frames"
    sox "$take" -n stat 2>stat.txt || fail "sox cannot read the take"
    [ "$(json_get "$2/session.json" 'j.takes[1].frames')" = "$n" ] || fail "session frames"
    [ "$(json_get "$2/session.json" 'j.takes[1].note')" = "stopped by a signal" ] ||
        fail "session note"
}
interrupt INT int
interrupt TERM term
echo ok
