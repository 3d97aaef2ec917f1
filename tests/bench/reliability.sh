#!/usr/bin/env bash
# tests/bench/reliability.sh [--quick]
#
# The "Reliability and performance" benchmarks in one run, printed side by side,
# with one met / not met line per goal:
#   a. callback time per period (mean, 99.9th percentile, max) at 64 and 128
#      tracks, 48 and 96 kHz, period 1024, virtual device, real-time clock
#      (tests/bench/callback.c, linked against build-bench's libreel_engine.a);
#   b. the most tracks recorded with zero overruns on the virtual device with the
#      real-time clock, period 1024, wav32f, one file per track (series 64..1024;
#      60 s takes, --quick 20 s), with CPU and peak RSS (GNU time);
#   c. a JACK dummy server at period 1024, reel beside jack_capture at the same
#      channel count (tests/bench/capture.sh, BENCH_SKIP_VIRTUAL=1); the dummy
#      driver has at most 256 capture ports, so the series stops there.
# Not part of the pass/fail suite. Exit 0 when it ran (whatever the figures),
# 1 when it could not, 2 on a bad option. See tests/bench/README.md.
#
# Environment: BENCH_TMPDIR (default /var/tmp; tmpfs refused), REEL_BENCH_BUILD
# (default <top>/build-bench), BENCH_CB_SECONDS (a; default 60, quick 10),
# BENCH_SECONDS (b and c; default 60, quick 20 for b and 10 for c),
# BENCH_TRACKS (b; default "64 128 256 512 1024"), BENCH_JACK_TRACKS
# (c; default "64 128 256", quick "128 256"), BENCH_SKIP_JACK=1.
set -uo pipefail

quick=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    -h | --help) sed -n '2p' "$0" | sed 's/^# /usage: /'; exit 0 ;;
    *) echo "reliability.sh: unknown option '$a'" >&2; exit 2 ;;
    esac
done
say() { printf '%s\n' "$*" >&2; }
die() { say "reliability.sh: $*"; exit 1; }

top=$(cd "$(dirname "$0")/../.." && pwd)
if ((quick)); then
    cb_seconds=${BENCH_CB_SECONDS:-10}
    v_seconds=${BENCH_SECONDS:-20}
    j_seconds=${BENCH_SECONDS:-10}
    j_tracks=${BENCH_JACK_TRACKS:-"128 256"}
else
    cb_seconds=${BENCH_CB_SECONDS:-60}
    v_seconds=${BENCH_SECONDS:-60}
    j_seconds=${BENCH_SECONDS:-60}
    j_tracks=${BENCH_JACK_TRACKS:-"64 128 256"}
fi
v_tracks=${BENCH_TRACKS:-"64 128 256 512 1024"}
rates="48000 96000"
period=1024

# --- build ---------------------------------------------------------------------
build=${REEL_BENCH_BUILD:-$top/build-bench}
if [ ! -x "$build/lua/reel" ] || [ ! -f "$build/engine/libreel_engine.a" ]; then
    say "reliability.sh: building reel in $build (RelWithDebInfo, no tests)"
    { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEL_BUILD_TESTS=OFF &&
        cmake --build "$build" -j"$(nproc)"; } >"/tmp/reel-rel-build.$$.log" 2>&1 ||
        { tail -n 30 "/tmp/reel-rel-build.$$.log" >&2; die "build failed"; }
    rm -f "/tmp/reel-rel-build.$$.log"
fi
REEL=$build/lua/reel
command -v /usr/bin/time >/dev/null || die "GNU time (/usr/bin/time, Debian package 'time') is needed"
command -v soxi >/dev/null || die "soxi (Debian package sox) is needed"

base=${BENCH_TMPDIR:-/var/tmp}
base=$(realpath -- "$base") || die "no directory $base"
fstype=$(findmnt -n -o FSTYPE -T "$base" 2>/dev/null) || fstype=$(stat -f -c %T "$base")
case $fstype in tmpfs | ramfs) die "$base is on $fstype: takes must go to disk (BENCH_TMPDIR)" ;; esac
T=$(mktemp -d "$base/reel-rel.XXXXXX") || die "cannot create a directory under $base"
CUR=""
trap 'rm -rf -- "$T"' EXIT
trap '[ -n "$CUR" ] && kill -TERM -- "-$CUR" 2>/dev/null; exit 130' INT TERM

cb=$T/callback
cc -O2 -Wall -Wextra -D_GNU_SOURCE -I "$top/engine" "$top/tests/bench/callback.c" \
    "$build/engine/libreel_engine.a" $(pkg-config --libs rtaudio sndfile) -lpthread -lm \
    -o "$cb" || die "cannot build tests/bench/callback.c"

started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$EPOCHREALTIME
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }   # kv KEY RESULTLINE

# --- a. callback time ------------------------------------------------------------
declare -A CB
a_rows=()
for n in 64 128; do
    for rate in $rates; do
        say "[a] callback.c: $n tracks, $rate Hz, period $period, $cb_seconds s"
        setsid "$cb" --tracks "$n" --rate "$rate" --period $period --seconds "$cb_seconds" \
            --dir "$T/cb" >"$T/cb.out" 2>"$T/cb.err" &
        CUR=$!; wait $CUR; CUR=""
        r=$(grep '^RESULT' "$T/cb.out")
        [ -n "$r" ] || { cat "$T/cb.err" >&2; r="RESULT failed=1"; }
        CB[$n,$rate]=$r
        a_rows+=("$(printf '%6s %6s %8s %8s %8s %8s %7s %7s %7s %8s %6s %6s %7s %8s %9s' \
            "$rate" "$n" "$(kv period_us "$r")" "$(kv periods "$r")" "$(kv mean_us "$r")" \
            "$(kv p999_us "$r")" "$(kv max_us "$r")" "$(kv mean_pct "$r")" "$(kv p999_pct "$r")" \
            "$(kv max_pct "$r")" "$(kv overruns "$r")" "$(kv xruns "$r")" "$(kv cpu_pct "$r")" \
            "$(awk -v k="$(kv rss_peak_kib "$r")" 'BEGIN{printf "%.1f", k/1024}')" \
            "$(awk -v k="$(kv kib_per_track "$r")" 'BEGIN{printf "%.2f", k/1024}')")")
        rm -rf -- "$T/cb"
    done
done

# --- b. most tracks, virtual real-time clock ------------------------------------
declare -A VBEST VFAIL
b_rows=()
for rate in $rates; do
    for n in $v_tracks; do
        say "[b] reel record --device virtual: $n tracks, $rate Hz, period $period, $v_seconds s"
        inputs=(); for ((i = 0; i < n; i++)); do inputs+=(--input noise:white:-20); done
        setsid /usr/bin/time -o "$T/time.txt" -f '%e %U %S %M' \
            timeout --foreground -k 5 $((v_seconds * 3 + 60)) "$REEL" record --device virtual \
            --rate "$rate" --period $period --channels "$n" "${inputs[@]}" \
            --seconds "$v_seconds" --format wav32f --no-loudness "$T/v" >"$T/v.out" 2>&1 &
        CUR=$!; wait $CUR; rc=$?; CUR=""
        read -r wall u s rss < <(tail -n 1 "$T/time.txt")
        cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
        read -r nsum ovr xr < <(awk '/ frames .* xruns [0-9]+ +overruns [0-9]+/ { n++
            for (i = 1; i <= NF; i++) { if ($i == "xruns" && $(i+1) + 0 > x) x = $(i+1) + 0
                                        if ($i == "overruns") o += $(i+1) } }
            END { printf "%d %d %d\n", n, o, x }' "$T/v.out")
        shopt -s nullglob; files=("$T"/v/audio/*.wav); shopt -u nullglob
        bad=$( ((${#files[@]})) && soxi -s "${files[@]}" 2>/dev/null |
            awk -v f=$((v_seconds * rate)) '$1 != f' | wc -l || echo x)
        if ((rc != 0)); then ok="rc=$rc"; tail -n 5 "$T/v.out" >&2
        elif ((${#files[@]} != n || nsum != n)); then ok="NO:${#files[@]}files"
        elif [ "$bad" != 0 ]; then ok="NO:${bad}len"
        else ok=ok; fi
        b_rows+=("$(printf '%6s %6s  %-16s %7s %7s %8s %8s %9s %8s %6s  %s' "$rate" "$n" \
            "virtual realtime" "$wall" "$cpu" \
            "$(awk -v c="$cpu" -v s="$v_seconds" 'BEGIN{printf "%.1f", 100*c/s}')" \
            "$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')" \
            "$(awk -v k="$rss" -v n="$n" 'BEGIN{printf "%.2f", k/1024/n}')" "$ovr" "$xr" "$ok")")
        say "    -> wall $wall s cpu $cpu s rss $((rss / 1024)) MiB overruns $ovr xruns $xr files $ok"
        rm -rf -- "$T/v"; sync -f "$T" 2>/dev/null
        if [ "$ok" = ok ] && ((ovr == 0)); then VBEST[$rate]=$n
        else VFAIL[$rate]=$n; break; fi
    done
done

# --- c. JACK dummy server beside jack_capture ------------------------------------
c_out=$T/capture.out
if [ -z "${BENCH_SKIP_JACK:-}" ]; then
    say "[c] tests/bench/capture.sh on a JACK dummy server, period $period, tracks $j_tracks, $j_seconds s"
    REEL=$REEL BENCH_TMPDIR=$base BENCH_SKIP_VIRTUAL=1 BENCH_PERIOD=$period \
        BENCH_SECONDS=$j_seconds BENCH_TRACKS="$j_tracks" bash "$top/tests/bench/capture.sh" \
        >"$c_out" 2>"$T/capture.err" &
    CUR=$!; wait $CUR; c_rc=$?; CUR=""
    ((c_rc == 0)) || { tail -n 20 "$T/capture.err" >&2; say "capture.sh exited $c_rc"; }
else
    : >"$c_out"
fi

# --- report ------------------------------------------------------------------------
elapsed=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b-a }')
echo "reel reliability benchmark ($( ((quick)) && echo --quick || echo full )), $started"
echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal:/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); takes on $fstype ($(findmnt -n -o SOURCE -T "$base" 2>/dev/null))"
echo "reel: $REEL ($("$REEL" --version 2>/dev/null | head -n 1)); load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
echo "a. process callback per period (transport + capture, as engine/recorder.c), virtual device, real-time clock,"
echo "   period $period, wav32f, $cb_seconds s takes; us = microseconds; % = of the period; CPU % of the audio time"
echo "   (callback + noise generators + disk writer); RSS MiB = peak; MiB/track = (peak RSS - RSS before the device) / N"
printf '%6s %6s %8s %8s %8s %8s %7s %7s %7s %8s %6s %6s %7s %8s %9s\n' rate tracks "period" periods \
    "mean us" "p99.9 us" "max us" "mean %" "p99.9 %" "max %" ovr xruns "CPU %" "RSS MiB" "MiB/track"
for r in "${a_rows[@]}"; do echo "$r"; done
echo
echo "b. reel record --device virtual (real-time clock), period $period, wav32f, one file per track,"
echo "   noise:white:-20 per track, $v_seconds s takes; series $v_tracks, stopped at the first failure"
printf '%6s %6s  %-16s %7s %7s %8s %8s %9s %8s %6s  %s\n' rate tracks device "wall s" "CPU s" "CPU %RT" \
    "RSS MiB" "MiB/track" overruns xruns files
for r in "${b_rows[@]}"; do echo "$r"; done
echo
echo "c. JACK dummy server (jackd -d dummy -p $period), reel beside jack_capture, $j_seconds s, silence."
echo "   The dummy driver has at most 256 capture ports (jackd2 1.9.21 DRIVER_PORT_NUM): no JACK run above 256."
sed -n '/^  *rate tracks/,/^$/p' "$c_out"
echo
echo "most tracks with zero overruns for the take (every file exact):"
for rate in $rates; do
    printf '  %6s Hz virtual real-time clock   %5s%s\n' "$rate" "${VBEST[$rate]:-none}" \
        "$([ -n "${VFAIL[$rate]:-}" ] && echo "   (fails at ${VFAIL[$rate]})" || echo "   (no failure in the series)")"
done
sed -n '/^max tracks/,/^$/p' "$c_out" | grep 'jack dummy' | sed 's/^  /         /'
echo
echo "goals:"
met() { if [ "$1" = 1 ]; then echo "MET    "; else echo "NOT MET"; fi; }
n96=${VBEST[96000]:-0}
echo "  $(met $((n96 >= 512))) >= 512 tracks at 96 kHz, wav32f, one file per track, zero overruns (virtual real-time): $n96 tracks in $v_seconds s takes"
for rate in $rates; do
    r=${CB[128,$rate]}
    p=$(kv p999_pct "$r"); m=$(kv max_pct "$r")
    ok=$(awk -v p="${p:-999}" 'BEGIN { print (p < 20) ? 1 : 0 }')
    echo "  $(met "$ok") callback < 20 % of the period at 128 tracks, $rate Hz: mean $(kv mean_pct "$r") %, p99.9 $p %, max $m % of $(kv period_us "$r") us"
done
# JACK rows: rate tracks tool jack dummy wall cpu cpu%rt xrt rss overruns xruns jackd sync files
awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && $4 == "jack" && $5 == "dummy" { k = $1 " " $2
        if ($3 == "reel") { rc[k] = $7; rm[k] = $10; order[++n] = k }
        else if ($3 == "jack_capture") { jc[k] = $7; jm[k] = $10 } }
     END { for (i = 1; i <= n; i++) { k = order[i]; if (!(k in jc)) continue
             split(k, a, " ")
             printf "  %s CPU <= half of jack_capture, %s Hz, %s tracks (JACK dummy): reel %.2f s, jack_capture %.2f s (ratio %.2f)\n",
                 (rc[k] <= jc[k] / 2 ? "MET    " : "NOT MET"), a[1], a[2], rc[k], jc[k], (jc[k] > 0 ? rc[k] / jc[k] : 0)
             printf "  %s peak RSS <= half of jack_capture, %s Hz, %s tracks (JACK dummy): reel %.1f MiB, jack_capture %.1f MiB (ratio %.2f)\n",
                 (rm[k] <= jm[k] / 2 ? "MET    " : "NOT MET"), a[1], a[2], rm[k], jm[k], (jm[k] > 0 ? rm[k] / jm[k] : 0) } }' "$c_out"
[ -s "$c_out" ] || echo "  (JACK part skipped or failed: no CPU / memory comparison with jack_capture)"
echo "  note: 512 tracks cannot be compared with jack_capture here: the JACK dummy driver stops at 256 ports."
echo
echo "benchmark wall time: $elapsed s"
