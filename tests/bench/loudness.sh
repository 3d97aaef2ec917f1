#!/usr/bin/env bash
# tests/bench/loudness.sh [--quick]
#
# Loudness analysis speed in multiples of real time: `reel loudness --json
# FILE` (integrated, range, momentary and short-term maxima, true peak,
# sample peak: everything at once, libebur128 in engine/loudness.c) on
# pink-noise files of 10 minutes (--quick: 2) in the shapes reel meets:
# stereo 48 kHz WAV 24-bit, mono 48 kHz, stereo 96 kHz, 5.1 48 kHz, and
# stereo 48 kHz FLAC. Beside it, on the same files, `sox FILE -n stats`
# (decoding plus simple per-sample statistics: the price of reading the
# file at all) and, when installed, ffmpeg's ebur128 filter with true peak
# (the usual peer for loudness; not a reel dependency).
#
# Files are generated first (sox, no dither) and read from the page cache:
# what is measured is the analysis, not the disk. Each tool runs RUNS times
# per file (default 3, --quick 1) and the fastest run is reported: wall and
# CPU seconds, x RT (audio seconds / wall seconds), x CPU (audio seconds /
# CPU seconds: steadier than wall time on a busy machine), peak RSS (GNU
# time). Each figure includes the tool's start-up.
# Not part of the pass/fail suite. Exit 0 when it ran, 1 when it could not,
# 2 on a bad option. Environment: REEL (default: build-bench/lua/reel, built
# when missing), BENCH_TMPDIR (default /var/tmp), BENCH_MINUTES, BENCH_RUNS.
set -uo pipefail

quick=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    -h | --help) sed -n '2p' "$0" | sed 's/^# /usage: /'; exit 0 ;;
    *) echo "loudness.sh: unknown option '$a'" >&2; exit 2 ;;
    esac
done
say() { printf '%s\n' "$*" >&2; }
die() { say "loudness.sh: $*"; exit 1; }

top=$(cd "$(dirname "$0")/../.." && pwd)
if ((quick)); then
    minutes=${BENCH_MINUTES:-2}
    runs=${BENCH_RUNS:-1}
else
    minutes=${BENCH_MINUTES:-10}
    runs=${BENCH_RUNS:-3}
fi
seconds=$((minutes * 60))

if [ -z "${REEL:-}" ]; then
    build=${REEL_BENCH_BUILD:-$top/build-bench}
    if [ ! -x "$build/lua/reel" ]; then
        say "loudness.sh: building reel in $build (RelWithDebInfo, no tests)"
        { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEL_BUILD_TESTS=OFF &&
            cmake --build "$build" -j"$(nproc)"; } >"/tmp/reel-loud-build.$$.log" 2>&1 ||
            { tail -n 30 "/tmp/reel-loud-build.$$.log" >&2; die "build failed"; }
        rm -f "/tmp/reel-loud-build.$$.log"
    fi
    REEL=$build/lua/reel
fi
[ -x "$REEL" ] || die "no reel at $REEL"
command -v /usr/bin/time >/dev/null || die "GNU time (/usr/bin/time, Debian package 'time') is needed"
command -v sox >/dev/null || die "sox is needed"
have_ffmpeg=0
command -v ffmpeg >/dev/null && have_ffmpeg=1

base=${BENCH_TMPDIR:-/var/tmp}
T=$(mktemp -d "$base/reel-loudness.XXXXXX") || die "cannot create a directory under $base"
trap 'rm -rf -- "$T"' EXIT
trap 'exit 130' INT TERM

# --- the files -----------------------------------------------------------------
# NAME RATE CHANNELS EXT BITS
shapes=(
    "stereo48 48000 2 wav 24"
    "mono48 48000 1 wav 24"
    "stereo96 96000 2 wav 24"
    "surround48 48000 6 wav 24"
    "stereo48flac 48000 2 flac 16"
)
for s in "${shapes[@]}"; do
    read -r name rate ch ext bits <<<"$s"
    say "generating $name: $minutes min, $rate Hz, $ch channels, $ext $bits-bit"
    sox -D -n -r "$rate" -c "$ch" -b "$bits" "$T/$name.$ext" synth "$seconds" pinknoise vol -20 dB ||
        die "sox could not write $name.$ext"
    cat "$T/$name.$ext" >/dev/null # into the page cache
done

# best TOOL FILE CMD...: runs CMD $runs times; prints "wall cpu rss_mib" of the
# fastest run, or "fail" (its stderr goes to $T/err.txt).
best() {
    local bw="" bc="" br="" i
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -o "$T/time.txt" -f '%e %U %S %M' "$@" >"$T/out.txt" 2>"$T/err.txt" || {
            echo fail
            return
        }
        read -r w u s m < <(tail -n 1 "$T/time.txt")
        if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN { exit !(a < b) }'; then
            bw=$w
            bc=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
            br=$(awk -v k="$m" 'BEGIN { printf "%.1f", k / 1024 }')
            cp "$T/out.txt" "$T/best.out"
            cp "$T/err.txt" "$T/best.err"
        fi
    done
    echo "$bw $bc $br"
}

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
row() { # file tool wall cpu rss result
    local xrt xcpu
    xrt=$(awk -v a="$seconds" -v w="$3" 'BEGIN { if (w > 0) printf "%.0f", a / w; else print "-" }')
    xcpu=$(awk -v a="$seconds" -v w="$4" 'BEGIN { if (w > 0) printf "%.0f", a / w; else print "-" }')
    rows+=("$(printf '%-13s %-20s %7s %7s %6s %7s %8s  %s' "$1" "$2" "$3" "$4" "$xrt" "$xcpu" "$5" "$6")")
}
json_num() { # KEY: the first "KEY": NUMBER in $T/best.out, to 0.1
    sed -n "s/^    \"$1\": \([-0-9.e]*\),*$/\1/p" "$T/best.out" | head -n 1 |
        awk '{ printf "%.1f", $1 }'
}

for s in "${shapes[@]}"; do
    read -r name rate ch ext bits <<<"$s"
    f=$T/$name.$ext
    say "measuring $name"
    read -r w c m <<<"$(best "$REEL" loudness --json "$f")"
    if [ "$w" = fail ]; then
        row "$name" "reel loudness" - - - "failed: $(head -n 1 "$T/err.txt")"
    else
        row "$name" "reel loudness" "$w" "$c" "$m" \
            "I $(json_num integrated) LUFS, LRA $(json_num range) LU, TP $(json_num true_peak) dBTP"
    fi
    read -r w c m <<<"$(best sox "$f" -n stats)"
    if [ "$w" = fail ]; then
        row "$name" "sox -n stats" - - - "failed"
    else
        row "$name" "sox -n stats" "$w" "$c" "$m" \
            "RMS $(awk '/^RMS lev dB/ { print $4; exit }' "$T/best.err") dBFS (first channel)"
    fi
    if ((have_ffmpeg)); then
        read -r w c m <<<"$(best ffmpeg -nostats -hide_banner -i "$f" -af ebur128=peak=true -f null -)"
        if [ "$w" = fail ]; then
            row "$name" "ffmpeg ebur128 (tp)" - - - "failed"
        else
            row "$name" "ffmpeg ebur128 (tp)" "$w" "$c" "$m" \
                "I $(awk '/^ *I:/ { v = $2 } END { print v }' "$T/best.err") LUFS"
        fi
    fi
done

printf '\nLoudness analysis speed, %s; %d min files (page cache), best of %d run(s)\n' \
    "$started" "$minutes" "$runs"
printf 'CPU: %s (%s cores); load average at start %s; reel %s; libebur128 %s\n' \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)" "$(nproc)" "$load_start" \
    "$("$REEL" --version 2>/dev/null | head -n 1)" "$(pkg-config --modversion libebur128 2>/dev/null)"
((have_ffmpeg)) || printf 'ffmpeg: not installed, no ebur128 peer row\n'
printf '%-13s %-20s %7s %7s %6s %7s %8s  %s\n' file tool "wall s" "CPU s" "x RT" "x CPU" "RSS MiB" result
for r in "${rows[@]}"; do printf '%s\n' "$r"; done
exit 0
