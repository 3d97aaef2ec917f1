# A `reel record` killed with SIGKILL mid-take leaves take files that
# libsndfile (soxi) and sox open, missing at most about one second: the writer
# rewrites the headers twice a second and nothing buffers longer than that.
. "$(dirname "$0")/lib.sh"

"$REEL" record --device virtual --input sine:440:-6 --input noise:pink:-20 \
    --format wav24 s >out.txt 2>err.txt &
pid=$!
for _ in $(seq 200); do
    grep -q Recording out.txt 2>/dev/null && break
    sleep 0.05
done
start=$(date +%s.%N)
sleep 3
kill -KILL "$pid"
end=$(date +%s.%N)
wait "$pid" 2>/dev/null || true
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')

for take in s/audio/In1_T01.wav s/audio/In2_T01.wav; do
    [ -f "$take" ] || fail "no take $take after SIGKILL"
    n=$(frames "$take")
    sox "$take" -n stat 2>stat.txt || fail "sox cannot decode $take"
    secs=$(awk -v n="$n" 'BEGIN { printf "%.3f", n / 48000 }')
    # At most about one second missing (1.2 s allows for the sync interval
    # plus scheduling on a loaded machine); never more than was recorded.
    lt "$(awk -v e="$elapsed" 'BEGIN { print e - 1.2 }')" "$secs" ||
        fail "$take holds $secs s after ${elapsed}s of recording"
    lt "$secs" "$(awk -v e="$elapsed" 'BEGIN { print e + 0.5 }')" ||
        fail "$take holds $secs s, more than the ${elapsed}s recorded"
done
# The sine take's content is intact where it was synced.
amp=$(awk '/^Maximum amplitude/ { print $3 }' stat.txt)
[ -n "$amp" ] || fail "no sox stat for the take"
echo "ok: ${elapsed}s recorded, $secs s kept"
