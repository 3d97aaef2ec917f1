# Crash recovery (issue "Reliability", item 1): `reel record` on the
# real-time virtual device is killed with SIGKILL at a random moment, 20
# times, recording into the same session. After each kill every take file
# opens in libsndfile (soxi) and sox and is missing at most about one second;
# session.json, when there is one, is whole JSON (lua5.4 + cjson); then
# `reel recover` registers the interrupted takes from the journal, with the
# note and the frame counts the files hold. Take numbers go on from one run
# to the next (T01..T20 per track), no file is ever overwritten.
. "$(dirname "$0")/lib.sh"

RUNS=${RECOVER_RUNS:-20}
RANDOM=$$

for i in $(seq "$RUNS"); do
    nn=$(printf '%02d' "$i")
    rm -f rec.txt rec_err.txt      # not the previous run's "Recording"
    "$REEL" record --device virtual --input sine:440:-6 --input noise:white:-20 s \
        >rec.txt 2>rec_err.txt &
    pid=$!
    for _ in $(seq 200); do
        grep -q Recording rec.txt 2>/dev/null && break
        sleep 0.05
    done
    grep -q Recording rec.txt || { cat rec.txt rec_err.txt >&2; kill -KILL "$pid" 2>/dev/null; fail "run $i: not recording"; }
    start=$(date +%s.%N)
    # 0.3 .. 2.5 s
    sleep "$(awk -v r=$((RANDOM % 2201)) 'BEGIN { printf "%.3f", 0.3 + r / 1000 }')"
    kill -KILL "$pid"
    end=$(date +%s.%N)
    wait "$pid" 2>/dev/null || true
    elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')

    [ -f s/journal.json ] || fail "run $i: no journal.json after the kill"
    if [ -f s/session.json ]; then
        json_get s/session.json 'j.reel_session' >/dev/null 2>&1 ||
            fail "run $i: session.json is not whole JSON after SIGKILL"
    fi
    for tr in In1 In2; do
        take=s/audio/${tr}_T$nn.wav
        [ -f "$take" ] || fail "run $i: no take $take after SIGKILL"
        n=$(frames "$take")
        sox "$take" -n stat 2>/dev/null || fail "run $i: sox cannot decode $take"
        secs=$(awk -v n="$n" 'BEGIN { printf "%.3f", n / 48000 }')
        lt "$(awk -v e="$elapsed" 'BEGIN { print e - 1.2 }')" "$secs" ||
            fail "run $i: $take holds $secs s after ${elapsed}s of recording"
        lt "$secs" "$(awk -v e="$elapsed" 'BEGIN { print e + 0.5 }')" ||
            fail "run $i: $take holds $secs s, more than the ${elapsed}s recorded"
    done

    run 0 "$REEL" recover s
    contains out.txt "recovered In1 take $i (audio/In1_T$nn.wav)"
    contains out.txt "recovered In2 take $i (audio/In2_T$nn.wav)"
    contains out.txt "2 takes recovered"
    [ ! -e s/journal.json ] || fail "run $i: journal.json left after recover"
    # The takes as registered: the note, the frames the file holds.
    lua5.4 - s "$i" "$(frames s/audio/In1_T$nn.wav)" "$(frames s/audio/In2_T$nn.wav)" <<'L' ||
local cjson = require "cjson"
local dir, i, f1, f2 = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
local f = assert(io.open(dir .. "/session.json")); local j = cjson.decode(f:read("a")); f:close()
assert(#j.takes == 2 * i, ("%d takes, expected %d"):format(#j.takes, 2 * i))
local want = { In1 = f1, In2 = f2 }
for _, t in ipairs(j.takes) do
  if t.take == i then
    assert(t.frames == want[t.track], ("%s T%d: %s frames, file has %s"):format(t.track, i, t.frames, want[t.track]))
    assert(t.status == "kept" and t.start == 0, "status/start")
    assert(t.note:find("^recovered after an interrupted recording %(journal of "), t.note)
    assert(math.abs(t.seconds - t.frames / 48000) < 1e-9, "seconds")
    want[t.track] = nil
  end
end
assert(next(want) == nil, "take " .. i .. " missing for " .. tostring(next(want)))
assert(j.last_take.In1 == i and j.last_take.In2 == i, "last_take")
L
        fail "run $i: session.json after recover"
    run 0 "$REEL" recover s
    contains out.txt "nothing to recover"
done

# Nothing was overwritten: T01..T<RUNS> per track, each as registered.
for tr in In1 In2; do
    [ "$(ls s/audio/${tr}_T*.wav | wc -l)" = "$RUNS" ] || fail "$tr: $(ls s/audio/${tr}_T*.wav | wc -l) files"
    for i in $(seq "$RUNS"); do
        nn=$(printf '%02d' "$i")
        want=$(json_get s/session.json "(function() for _, t in ipairs(j.takes) do
            if t.track == '$tr' and t.take == $i then return t.frames end end end)()")
        [ "$(frames s/audio/${tr}_T$nn.wav)" = "$want" ] || fail "$tr T$nn changed after it was recovered"
    done
done
run 0 "$REEL" info s
echo "ok: $RUNS kills recovered"
