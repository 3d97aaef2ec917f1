# A stalled disk (REEL_FAULT_WRITER_STALL: the writer thread sleeps once; the
# build must have REEL_FAULT_INJECTION, the default): the audio thread runs
# on, a stall longer than the ring (5 s, 5.46 s at 48 kHz once rounded to a
# power of two) becomes one counted overrun whose frames are silence at the
# reported position, the take keeps its length on the timeline and every
# other frame is the source's own; a stall shorter than the ring loses
# nothing; losing more than --max-lost (1 s) stops the take with "the disk
# cannot keep up" and exit status 1, the takes closed and kept.
. "$(dirname "$0")/lib.sh"

# gap_of SESSION: "POSITION FRAMES" of the first take's first gap.
gap_of() {
    lua5.4 -e "local cjson = require 'cjson'
               local f = assert(io.open('$1/session.json')); local j = cjson.decode(f:read('a'))
               local g = j.takes[1].gaps[1] or { position = -1, frames = 0 }
               print(#j.takes[1].gaps, math.tointeger(g.position), math.tointeger(g.frames))"
}
# peak FILE: the largest absolute sample.
peak() {
    sox -V1 "$1" -n stat 2>&1 | awk '/^Maximum amplitude/ { a = $3 } /^Minimum amplitude/ { b = -$3 }
                                 END { print (a > b ? a : b) }'
}
# same A B: sample-identical mono files of the same length.
same() {
    [ "$(frames "$1")" = "$(frames "$2")" ] || fail "$1 and $2 differ in length"
    [ "$(maxdiff "$1" "$2")" = 0.000000 ] || fail "$1 and $2 differ (${TAKE:-}): $(maxdiff "$1" "$2")"
}

# run_rt STATUS DIR ARGS...: `run STATUS ARGS... DIR` on the real-time clock,
# once more (in a fresh DIR, at most three times in all) when the device had
# an xrun: a machine too busy to keep the clock loses whole periods, which
# moves the take against the free-running reference and says nothing about
# the stall. Three attempts with xruns fail the test.
run_rt() {
    local status=$1 dir=$2 i
    shift 2
    for i in 1 2 3; do
        rm -rf -- "$dir"
        run "$status" "$@" "$dir"
        grep -qE "  xruns [1-9]" out.txt || return 0
        echo "note: the device had xruns (machine busy); recording $dir again" >&2
    done
    cat out.txt >&2
    fail "device xruns in three attempts at $dir"
}

# The reference: the same source, free-running (no stall, no real time).
run 0 "$REEL" record --device virtual:freewheel --input sine:440:-6 --seconds 20 --format wav32f ref
REF=ref/audio/In1_T01.wav

# 1. 7 s stall after 2 s of an 8 s take: 2 s + 5.46 s in, the ring is full;
# from there to the end (about 0.54 s) is lost, below --max-lost: kept.
REEL_FAULT_WRITER_STALL=2000:7000 run_rt 0 long "$REEL" record --device virtual \
    --input sine:440:-6 --seconds 8 --format wav32f --status-interval 60
TAKE=long/audio/In1_T01.wav
[ "$(frames "$TAKE")" = 384000 ] || fail "the take is $(frames "$TAKE") frames, not 8 s"
read -r n pos lost < <(gap_of long)
[ "$n" = 1 ] || fail "$n gaps, expected one overrun"
# The writer stopped draining at about 2 s; the ring holds 262144 frames.
[ "$pos" -ge $((96000 + 262144 - 4800)) ] && [ "$pos" -le $((96000 + 262144 + 24000)) ] ||
    fail "the overrun starts at frame $pos, not about 7.46 s in"
[ $((pos + lost)) -eq 384000 ] || fail "the gap ($pos + $lost) does not run to the end"
contains out.txt "long/audio/In1_T01.wav  384000 frames  8.000 s  peak -6.0 dBFS"
contains out.txt "overruns 1  lost $lost frames"
grep -qE "^  overrun at 00:00:0[0-9]\.[0-9]{3} \(frame $pos\): $lost frames \([0-9.]+ s\) lost, silence in their place$" out.txt ||
    { cat out.txt >&2; fail "the summary does not list the overrun at frame $pos"; }
grep -qE " stopped elapsed=00:00:08 frames=384000 xruns=[0-9]+ overruns=1 lost_frames=$lost .* reason=seconds$" out.txt ||
    { cat out.txt >&2; fail "no final status line with the overrun"; }
[ "$(json_get long/session.json 'j.takes[1].lost_frames')" = "$lost" ] || fail "session lost_frames"
lacks err.txt "cannot keep up"
# Before the gap: the sine, sample for sample; the gap: digital silence;
# nothing after it (it runs to the end).
sox -V1 "$TAKE" before.wav trim 0s "${pos}s"
sox -V1 "$REF" ref_before.wav trim 0s "${pos}s"
same before.wav ref_before.wav
sox -V1 "$TAKE" gap.wav trim "${pos}s" "${lost}s"
[ "$(frames gap.wav)" = "$lost" ] || fail "the gap is $(frames gap.wav) frames in the file"
[ "$(peak gap.wav)" = 0 ] || fail "the gap is not silence (peak $(peak gap.wav))"
lt 0.49 "$(peak before.wav)" || fail "no sine before the gap"

# 2. 3 s stall (below the ring): no overrun, nothing lost, the take is the
# reference's first 4 s exactly.
REEL_FAULT_WRITER_STALL=500:3000 run_rt 0 short "$REEL" record --device virtual \
    --input sine:440:-6 --seconds 4 --format wav32f
contains out.txt "short/audio/In1_T01.wav  192000 frames  4.000 s  peak -6.0 dBFS"
contains out.txt "overruns 0"
lacks out.txt "lost"
lacks out.txt "overrun at"
[ "$(json_get short/session.json 'j.takes[1].lost_frames')" = 0 ] || fail "frames lost"
sox -V1 "$REF" ref4.wav trim 0s 192000s
same short/audio/In1_T01.wav ref4.wav

# 3. The disk cannot keep up: the same stall in a longer take loses more than
# --max-lost (1 s) about 8.5 s in; the take stops there (exit status 1), the
# message says what was lost where, the take ends in the silence it holds.
REEL_FAULT_WRITER_STALL=2000:7000 run_rt 1 slow "$REEL" record --device virtual \
    --input sine:440:-6 --seconds 20 --format wav32f --status-interval 60
TAKE=slow/audio/In1_T01.wav
f=$(frames "$TAKE")
read -r n pos lost < <(gap_of slow)
[ "$n" = 1 ] || fail "$n gaps in the stopped take"
[ $((pos + lost)) -eq "$f" ] || fail "the take ($f frames) does not end in its gap ($pos + $lost)"
[ "$lost" -gt 48000 ] && [ "$lost" -lt 72000 ] || fail "$lost frames lost: not just over 1 s"
grep -qE "^reel record: the disk cannot keep up: [0-9.]+ s \($lost frames\) lost in 1 overrun, the first at 00:00:0[0-9]\.[0-9]{3} \(frame $pos\) \(more than --max-lost 1 s\); recording stopped at 00:00:0[89]\.[0-9]{3} \(frame $f\); the takes are closed and kept$" err.txt ||
    { cat err.txt >&2; fail "no 'cannot keep up' message"; }
grep -qE " stopped elapsed=00:00:0[89] frames=$f .*overruns=1 lost_frames=$lost .* reason=disk-slow$" out.txt ||
    { cat out.txt >&2; fail "no final status line with reason=disk-slow"; }
contains slow/session.json '"note": "stopped: the disk cannot keep up: '
sox -V1 "$TAKE" before.wav trim 0s "${pos}s"
sox -V1 "$REF" ref_before.wav trim 0s "${pos}s"
same before.wav ref_before.wav
sox -V1 "$TAKE" gap.wav trim "${pos}s"
[ "$(peak gap.wav)" = 0 ] || fail "the lost frames are not silence"

# 4. --ring-seconds sizes the ring: 1 s (plus the writer's 0.25 s batch,
# rounded up to 65536 frames at 48 kHz) overruns in the 3 s stall that case 2
# survives; the audio after the gap is the source's own again.
REEL_FAULT_WRITER_STALL=500:3000 run_rt 0 small "$REEL" record --device virtual \
    --input sine:440:-6 --seconds 4 --format wav32f --ring-seconds 1 --max-lost 3
TAKE=small/audio/In1_T01.wav
[ "$(frames "$TAKE")" = 192000 ] || fail "the take is $(frames "$TAKE") frames, not 4 s"
read -r n pos lost < <(gap_of small)
[ "$n" = 1 ] || fail "$n gaps with a 1 s ring, expected one overrun"
[ "$pos" -ge $((24000 + 65536 - 4800)) ] && [ "$pos" -le $((24000 + 65536 + 24000)) ] ||
    fail "the overrun starts at frame $pos, not about 1.9 s in"
[ "$lost" -gt 48000 ] && [ $((pos + lost)) -lt 192000 ] || fail "$lost frames lost from $pos"
sox -V1 "$TAKE" before.wav trim 0s "${pos}s"
sox -V1 "$REF" ref_before.wav trim 0s "${pos}s"
same before.wav ref_before.wav
sox -V1 "$TAKE" after.wav trim "$((pos + lost))s"
sox -V1 "$REF" ref_after.wav trim "$((pos + lost))s" "$((192000 - pos - lost))s"
same after.wav ref_after.wav
run 2 "$REEL" record --device virtual --input silence --ring-seconds 0.5 bad
contains err.txt "option '--ring-seconds' expects seconds from 1 to 600, got '0.5'"

# Bad --max-lost values are command-line mistakes.
run 2 "$REEL" record --device virtual --input silence --max-lost -1 bad
contains err.txt "option '--max-lost' expects seconds from 0 to 3600, got '-1'"
run 2 "$REEL" record --device virtual --input silence --max-lost 1x bad
echo ok
