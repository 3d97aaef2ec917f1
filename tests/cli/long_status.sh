# The status line for unattended runs: with --status-interval (stdout not a
# terminal) or --status FILE, `reel record` writes one line every N seconds
# of wall clock: when the take starts, while it runs (peaks since the
# previous line) and when it stops (peaks of the whole take, the reason):
#   2025-11-26T14:00:10+0100 recording elapsed=00:00:10 frames=480000 xruns=0
#   overruns=0 lost_frames=0 free_mib=12650 peak_db=In1:-6.0,In2:-inf
# (one line). Without either option nothing of it is printed.
. "$(dirname "$0")/lib.sh"

LINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4} (started|recording|stopped) elapsed=[0-9]{2,}:[0-9]{2}:[0-9]{2} frames=[0-9]+ xruns=[0-9]+ overruns=[0-9]+ lost_frames=[0-9]+ free_mib=[0-9]+ peak_db=In1:(-?[0-9]+\.[0-9]|-inf),In2:(-?[0-9]+\.[0-9]|-inf)( reason=[a-z-]+)?$'

# 1 s at -6 dBFS, then 1.5 s at -20 dBFS: the later lines show -20 for In1,
# the final line the take's peak, -6.
sox -n -r 48000 -c 1 -e float -b 32 loud.wav synth 1 sine 440 vol 0.5
sox -n -r 48000 -c 1 -e float -b 32 soft.wav synth 1.5 sine 440 vol 0.1
sox loud.wav soft.wav steps.wav

run 0 "$REEL" record --device virtual --input steps.wav --input silence --seconds 2.5 \
    --status-interval 0.4 sess
grep -E '^[0-9]{4}-' out.txt > status.txt || fail "no status lines on stdout"
bad=$(grep -vcE "$LINE" status.txt || true)
[ "$bad" -eq 0 ] || { cat status.txt >&2; fail "$bad status lines do not match the format"; }
[ "$(grep -c ' started ' status.txt)" -eq 1 ] || fail "not one 'started' line"
[ "$(grep -c ' stopped ' status.txt)" -eq 1 ] || fail "not one 'stopped' line"
n=$(grep -c ' recording ' status.txt)
[ "$n" -ge 4 ] && [ "$n" -le 7 ] || { cat status.txt >&2; fail "$n 'recording' lines in 2.5 s"; }
head -1 status.txt | grep -q ' started ' || fail "the first line is not 'started'"
tail -1 status.txt | grep -qE ' stopped elapsed=00:00:02 frames=120000 xruns=[0-9]+ overruns=[0-9]+ lost_frames=[0-9]+ free_mib=[0-9]+ peak_db=In1:-6.0,In2:-inf reason=seconds$' ||
    { cat status.txt >&2; fail "bad final status line"; }
# frames grow from line to line
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^frames=/) { f = substr($i, 8) + 0
       if (f < last) exit 1; last = f } }' status.txt || fail "frames go backwards"
# Peaks are per interval: a line after the level drop shows -20 dBFS.
grep ' recording ' status.txt | tail -1 | grep -q 'peak_db=In1:-20.0,In2:-inf' ||
    { cat status.txt >&2; fail "the last 'recording' line does not show the quieter peak"; }
grep ' recording ' status.txt | head -1 | grep -q 'peak_db=In1:-6.0,In2:-inf' ||
    { cat status.txt >&2; fail "the first 'recording' line does not show the loud peak"; }
# free disk, in MiB, as df sees the session's filesystem (give or take a MiB
# for what others write meanwhile)
free=$(tail -1 status.txt | sed 's/.* free_mib=\([0-9]*\) .*/\1/')
df_free=$(( $(df -B1 --output=avail sess | tail -1) / 1048576 ))
d=$((free - df_free)); d=${d#-}
[ "$d" -le 64 ] || fail "free_mib=$free, df says $df_free MiB"

# --status FILE: the lines go to the file (appended), stdout keeps the report.
run 0 "$REEL" record --device virtual --input sine:440:-6 --input silence --seconds 1 \
    --status log.txt --status-interval 0.3 sess
lacks out.txt "elapsed="
contains out.txt "sess/audio/In1_T02.wav  48000 frames"
run 0 "$REEL" record --device virtual:freewheel --input sine:440:-6 --input silence \
    --seconds 1 --status log.txt sess
[ "$(grep -c ' stopped ' log.txt)" -eq 2 ] || { cat log.txt >&2; fail "log.txt not appended"; }
bad=$(grep -vcE "$LINE" log.txt || true)
[ "$bad" -eq 0 ] || { cat log.txt >&2; fail "$bad lines of log.txt do not match the format"; }
# --status - is stdout
run 0 "$REEL" record --device virtual:freewheel --input sine:440:-6 --input silence \
    --seconds 1 --status - sess
grep -qE ' stopped elapsed=00:00:01 frames=48000 .* reason=seconds$' out.txt ||
    fail "--status - printed no final line"

# A signal: reason=signal.
"$REEL" record --device virtual --input sine:440 --input silence --status-interval 0.2 \
    sess >sig.txt 2>err.txt &
pid=$!
for _ in $(seq 100); do grep -q ' started ' sig.txt 2>/dev/null && break; sleep 0.05; done
sleep 0.5
kill -INT "$pid"
wait "$pid" || fail "SIGINT: exit status $?"
grep -qE ' stopped .* reason=signal$' sig.txt || { cat sig.txt >&2; fail "no reason=signal"; }

# Nothing without the options; bad values are command-line mistakes.
run 0 "$REEL" record --device virtual:freewheel --input sine:440 --seconds 0.5 sess
lacks out.txt "elapsed="
run 2 "$REEL" record --device virtual --input sine:440 --status-interval 0 sess
contains err.txt "option '--status-interval' expects seconds from 0.1 to 86400, got '0'"
run 2 "$REEL" record --device virtual --input sine:440 --status "" sess
run 1 "$REEL" record --device virtual --input sine:440 --status no/such/dir/log sess
contains err.txt "cannot open the status file: no/such/dir/log"

# On a terminal the status lines go above the meter line.
if command -v script >/dev/null; then
    script -qec "$REEL record --device virtual --input sine:440:-6 --input silence --seconds 1.2 --status-interval 0.4 tty" /dev/null > tty.txt 2>&1 ||
        { cat tty.txt >&2; fail "record under a pty failed"; }
    grep -aq $'\r00:0' tty.txt || fail "no meter line on the terminal"
    grep -aq ' recording elapsed=00:00:00 ' tty.txt || fail "no status line on the terminal"
fi
echo ok
