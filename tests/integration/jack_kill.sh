# The JACK server killed (SIGKILL, by its PID) in the middle of a take: `reel
# record --device jack` notices within a few seconds, closes the takes (sox
# reads them; they hold every frame up to the kill, less the last second at
# most), says "the JACK server went away at <position>", and exits 1.
#
# Starts and kills its own dummy server "reelfault" with jack_server.sh (one
# fixed name: jackd's registry holds 8 server names and frees a dead one's
# entry only when a server of that name starts again). RESOURCE_LOCK jack
# keeps it off the shared fixture server's cores; it needs no fixture.
. "$(dirname "$0")/../cli/lib.sh"
export JACK_DEFAULT_SERVER=reelfault
export JACK_NO_START_SERVER=1
JS=$REEL_SOURCE_DIR/tests/integration/jack_server.sh

cleanup() {
    [ -n "${rec:-}" ] && kill -KILL "$rec" 2>/dev/null
    if [ -n "${killed:-}" ]; then
        # A killed server leaves its shared memory (about 100 MB in /dev/shm)
        # registered under its name; the next server of that name reclaims
        # it, and a clean stop then frees it.
        bash "$JS" start "$T/jack" 256 >/dev/null 2>&1
    fi
    bash "$JS" stop "$T/jack" >/dev/null 2>&1
    rm -rf /dev/shm/jack_sem.*_reelfault_* /dev/shm/jack_reelfault_* 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

bash "$JS" start "$T/jack" 256 >js.txt 2>&1 || { cat js.txt >&2; fail "cannot start jackd reelfault"; }
jackd_pid=$(cat "$T/jack/jackd.pid")

now() { date +%s.%N; }
"$REEL" record --device jack --channels 2 --no-connect --name reelfault-rec --format wav32f \
    --seconds 60 --status-interval 0.5 sess >out.txt 2>err.txt &
rec=$!
for _ in $(seq 200); do grep -q '^Recording' out.txt 2>/dev/null && break; sleep 0.05; done
grep -q '^Recording' out.txt || { cat out.txt err.txt >&2; fail "reel did not start recording"; }
t_start=$(now)
sleep 3
kill -KILL "$jackd_pid"
killed=1
t_kill=$(now)

code=
for _ in $(seq 100); do
    kill -0 "$rec" 2>/dev/null || { code=0; wait "$rec" || code=$?; break; }
    sleep 0.1
done
t_exit=$(now)
[ -n "$code" ] || { cat out.txt err.txt >&2; fail "reel still runs 10 s after the server died"; }
rec=
echo "# reel exited with $code $(awk -v a="$t_exit" -v b="$t_kill" 'BEGIN { printf "%.2f", a - b }') s after the kill"
if grep -qE 'Sanitizer|runtime error:' err.txt; then cat err.txt >&2; fail "sanitizer report"; fi
[ "$code" = 1 ] || { cat out.txt err.txt >&2; fail "exit status $code, expected 1"; }
lt "$(awk -v a="$t_exit" -v b="$t_kill" 'BEGIN { print a - b }')" 5 ||
    fail "reel took more than 5 s to exit after the server died"

grep -qE '^reel record: the JACK server went away at 00:00:0[0-9]\.[0-9]{3} \(frame [0-9]+\); the takes are closed and kept$' err.txt ||
    { cat err.txt >&2; fail "no clear message about the JACK server"; }
n=$(sed -n 's/.*went away at .* (frame \([0-9]*\)).*/\1/p' err.txt)
grep -qE ' stopped elapsed=.* reason=device-lost$' out.txt ||
    { cat out.txt >&2; fail "no final status line with reason=device-lost"; }

# Every frame up to the kill, less a second at most: the take began after
# "Recording" was printed, so kill - print bounds what it can hold.
min=$(awk -v a="$t_kill" -v b="$t_start" 'BEGIN { printf "%d", (a - b - 1) * 48000 }')
for k in 1 2; do
    take=sess/audio/In${k}_T01.wav
    f=$(frames "$take")
    [ "$f" = "$n" ] || fail "$take has $f frames, the message says $n"
    [ "$f" -ge "$min" ] || fail "$take has $f frames, fewer than the $min up to the kill less 1 s"
    sox -V1 "$take" -n stat 2>/dev/null || fail "sox cannot read $take"
    contains out.txt "sess/audio/In${k}_T01.wav  $f frames"
done
[ "$(json_get sess/session.json '#j.takes')" = 2 ] || fail "the session does not list the takes"
grep -q '"note": "stopped: the JACK server went away at ' sess/session.json || fail "session note"
echo ok
