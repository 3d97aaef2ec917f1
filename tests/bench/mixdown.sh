#!/usr/bin/env bash
# tests/bench/mixdown.sh [--quick]
#
# Offline mixdown speed: 16 mono 24-bit tracks of 3 minutes at 48 kHz
# (generated here with sox: a different sine plus pink noise per track),
# mixed to one file by
#   1. reel render (a session whose selected takes are those files; stereo
#      24-bit mix, every track panned and with a gain),
#   2. sox -m (the same 16 files to a mono 24-bit file: less output than
#      reel writes, and no pan),
#   3. ecasound (16 chains, sum mix mode, stereo 24-bit file via libsndfile),
# one after the other in one run, on the same files (read once beforehand so
# that every tool finds them in the page cache). Prints wall time, CPU
# seconds (user+sys) and each tool's time as a multiple of reel's; the goal
# is reel at least 3x faster than sox. Not part of the pass/fail suite; see
# tests/bench/README.md.
#
# Exit status: 0 when the benchmark ran (whatever the figures), 1 when it
# could not (build, a tool missing or failing, a wrong output length), 2 on a
# bad option.
#
# Environment:
#   REEL=PATH            the reel binary (default: build $REEL_BENCH_BUILD,
#                        default <top>/build-bench, if needed)
#   BENCH_TMPDIR=DIR     where the files go (default /var/tmp)
#   BENCH_TRACKS=16  BENCH_SECONDS=180 (quick: 30)  BENCH_RATE=48000
#   BENCH_REPEAT=3       runs per tool; the best wall time counts
set -uo pipefail

usage() { sed -n '2p' "$0" | sed 's/^# /usage: /'; }
quick=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "mixdown.sh: unknown option '$a'" >&2; usage >&2; exit 2 ;;
    esac
done

top=$(cd "$(dirname "$0")/../.." && pwd)
tracks=${BENCH_TRACKS:-16}
rate=${BENCH_RATE:-48000}
repeat=${BENCH_REPEAT:-3}
if ((quick)); then seconds=${BENCH_SECONDS:-30}; else seconds=${BENCH_SECONDS:-180}; fi
frames=$((seconds * rate))

die() { echo "mixdown.sh: $*" >&2; exit 1; }
for t in sox soxi ecasound; do
    command -v $t >/dev/null || die "$t is needed (Debian packages sox, ecasound)"
done

if [ -z "${REEL:-}" ]; then
    build=${REEL_BENCH_BUILD:-$top/build-bench}
    { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEL_BUILD_TESTS=OFF \
        && cmake --build "$build" -j"$(nproc)" --target reel; } >/dev/null || die "cannot build reel"
    REEL=$build/lua/reel
fi
[ -x "$REEL" ] || die "$REEL is not executable"

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/reel-mixdown.XXXXXX") || die "cannot make a directory"
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work" || die "cannot enter $work"

echo "Generating $tracks mono 24-bit files of $seconds s at $rate Hz in $work ..."
mkdir -p song/audio
for i in $(seq 1 "$tracks"); do
    f=$(printf 'song/audio/T%02d_T01.wav' "$i")
    sox -D -n -r "$rate" -b 24 -c 1 "$f" synth "$seconds" sine $((100 + 37 * i)) synth pinknoise mix \
        vol 0.1 2>/dev/null || die "sox could not generate $f"
done

# The session: one mono track per file, its file the selected take,
# panned across the field, gains from 0 to -7.5 dB.
cat > mk.lua <<LUA
local reel = require "reel"
local n, rate, frames = $tracks, $rate, $frames
local tracks = {}
for i = 1, n do tracks[i] = { name = ("T%02d"):format(i), input = i } end
local s = assert(reel.new("song", { rate = rate, tracks = tracks }))
for i = 1, n do
  local name = ("T%02d"):format(i)
  s.takes[#s.takes + 1] = { track = name, take = 1, file = ("audio/%s_T01.wav"):format(name),
    start = 0, frames = frames, rate = rate, status = "selected" }
  s:set_mix(name, { pan = n > 1 and -1 + 2 * (i - 1) / (n - 1) or 0, gain_db = -0.5 * (i - 1) })
end
assert(s:save())
LUA
"$REEL" run mk.lua >/dev/null || die "cannot make the session"
inputs=(song/audio/*.wav)
cat "${inputs[@]}" > /dev/null   # into the page cache for everybody

have_time=0
[ -x /usr/bin/time ] && have_time=1

# run_tool NAME OUT CMD...: best wall time of $repeat runs; sets wall, cpu.
best_wall= best_cpu=
run_tool() {
    local name=$1 out=$2
    shift 2
    best_wall= best_cpu=
    for _ in $(seq 1 "$repeat"); do
        rm -f "$out"
        local t0 t1 w c=""
        t0=$(date +%s.%N)
        if ((have_time)); then
            /usr/bin/time -f '%U %S' -o cpu.txt "$@" >/dev/null 2>log.txt || { cat log.txt >&2; die "$name failed"; }
            c=$(awk '{ print $1 + $2 }' cpu.txt)
        else
            "$@" >/dev/null 2>log.txt || { cat log.txt >&2; die "$name failed"; }
        fi
        t1=$(date +%s.%N)
        w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        if [ -z "$best_wall" ] || awk -v x="$w" -v y="$best_wall" 'BEGIN { exit !(x < y) }'; then
            best_wall=$w best_cpu=${c:-?}
        fi
    done
    local got
    got=$(soxi -s "$out" 2>/dev/null) || die "$name wrote no readable $out"
    [ "$got" = "$frames" ] || die "$name wrote $got frames, expected $frames"
}

declare -A wall cpu
run_tool reel song/renders/mix.wav "$REEL" render song --out song/renders/mix.wav --force
wall[reel]=$best_wall cpu[reel]=$best_cpu
run_tool sox sox.wav sox -D -m "${inputs[@]}" -b 24 sox.wav
wall[sox]=$best_wall cpu[sox]=$best_cpu
eca=(-q -z:mixmode,sum)
chains=""
for i in "${!inputs[@]}"; do
    eca+=("-a:$((i + 1))" "-i:sndfile,${inputs[$i]}")
    chains+="${chains:+,}$((i + 1))"
done
eca+=("-a:$chains" "-f:s24_le,2,$rate" "-o:sndfile,eca.wav")
run_tool ecasound eca.wav ecasound "${eca[@]}"
wall[ecasound]=$best_wall cpu[ecasound]=$best_cpu

echo
echo "Mixdown of $tracks mono 24-bit tracks x $seconds s at $rate Hz ($(nproc) cores; best of $repeat)"
printf '%-10s %9s %9s %12s %14s %13s\n' tool "wall s" "CPU s" "x real time" "time / reel's" "CPU / reel's"
for t in reel sox ecasound; do
    printf '%-10s %9s %9s %12s %14s %13s\n' "$t" "${wall[$t]}" "${cpu[$t]}" \
        "$(awk -v s="$seconds" -v w="${wall[$t]}" 'BEGIN { printf "%.0f", s / w }')" \
        "$(awk -v a="${wall[$t]}" -v b="${wall[reel]}" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="${cpu[$t]}" -v b="${cpu[reel]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "?" }')"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every tool)"
ratio=$(awk -v a="${wall[sox]}" -v b="${wall[reel]}" 'BEGIN { printf "%.2f", a / b }')
if awk -v r="$ratio" 'BEGIN { exit !(r >= 3) }'; then
    echo "reel is ${ratio}x faster than sox -m (goal: at least 3x): met"
else
    echo "reel is ${ratio}x faster than sox -m (goal: at least 3x): NOT met"
fi
exit 0
