# A full disk without --min-free's early stop (--min-free 0): on a small
# tmpfs (mounted here; needs root) the writer hits ENOSPC. `reel record`
# stops the take at once with a message naming the file, "No space left on
# device", the position and that the takes are kept; exit status 1; every
# frame written before is intact (sample-identical to the same sources
# recorded elsewhere) in files sox reads; the session file from before stays
# valid when the new one no longer fits, and the failure to save is said.
. "$(dirname "$0")/lib.sh"

mkdir small
mount -t tmpfs -o size=8m tmpfs small || fail "cannot mount a tmpfs (this test needs root)"
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT

SRC=(--input sine:440:-6 --input sine:1000:-12)
# The reference, on the big disk, free-running.
run 0 "$REEL" record --device virtual:freewheel --rate 192000 "${SRC[@]}" --format wav32f \
    --seconds 8 ref

# A first short take: the session file exists before the disk fills.
run 0 "$REEL" record --device virtual:freewheel --rate 192000 "${SRC[@]}" --format wav32f \
    --min-free 0 --seconds 0.2 small/sess
cp small/sess/session.json before.json

# 192 kHz, two tracks, wav32f: 1.5 MB/s; the 8 MiB are full after about 5 s
# of audio. Freewheel (paced by the writer, never losing a frame), so that a
# busy machine cannot put device xruns into the comparison below; the stalled
# disk on the real-time clock is tests/cli/fault_stall.sh.
run 1 "$REEL" record --device virtual:freewheel --rate 192000 "${SRC[@]}" --format wav32f \
    --min-free 0 --seconds 20 --status-interval 60 small/sess
grep -qE "^reel record: small/sess/audio/In[12]_T02\.wav: write failed after [0-9]+ frames: No space left on device; recording stopped at 00:00:0[0-9]\.[0-9]{3} \(frame [0-9]+\); the takes are closed and kept$" err.txt ||
    { cat err.txt >&2; fail "no clear disk-full message"; }
lacks err.txt "disk nearly full"
grep -qE " stopped elapsed=00:00:0[0-9] frames=[0-9]+ .* reason=disk-error$" out.txt ||
    { cat out.txt >&2; fail "no final status line with reason=disk-error"; }
# The session file could not be replaced on the full disk: the old one is
# intact, and the user is told.
contains err.txt "reel record: the session file was not saved: "
cmp -s before.json small/sess/session.json || fail "the session file changed on a full disk"
[ "$(json_get small/sess/session.json '#j.takes')" = 2 ] || fail "the first takes are gone"

for n in 1 2; do
    take=small/sess/audio/In${n}_T02.wav
    f=$(frames "$take")
    [ "$f" -gt 192000 ] || fail "$take has only $f frames"
    contains out.txt "small/sess/audio/In${n}_T02.wav  $f frames"
    sox -V1 "ref/audio/In${n}_T01.wav" "ref$n.wav" trim 0s "${f}s"
    [ "$(maxdiff "$take" "ref$n.wav")" = 0.000000 ] ||
        fail "$take differs from its source in the first $f frames"
    sox -V1 "small/sess/audio/In${n}_T01.wav" -n stat 2>/dev/null || fail "the first take is broken"
done
echo ok
