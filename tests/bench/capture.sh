#!/usr/bin/env bash
# tests/bench/capture.sh [--quick] [--marginal] [--reclaim-stale-jack]
#
# How many tracks reel records with zero overruns, at 48 kHz and 96 kHz:
#   1. on the virtual device in freewheel (as fast as the disk writer allows;
#      back-pressure, so the figure of merit is the realtime factor),
#   2. on a private JACK dummy server (real-time clock, period 1024), next to
#      jack_capture recording the same channels on the same server.
# For every run: wall time, CPU seconds (user+sys), CPU as % of the audio
# duration, peak RSS, overruns and xruns, and whether every file has exactly
# SECONDS*RATE frames; reel's JACK rows also give its CPU and peak RSS as a
# ratio of jack_capture's on the same rate and channel count, and the report
# ends with one met / not met line per pair for the goal of at most half.
# --marginal also records every JACK pair a second time, for BENCH_LONG_SECONDS
# (default 3 x SECONDS), and splits each tool's CPU into a fixed part (start-up
# and shut-down) and a cost per second of audio, beside what writing the same
# bytes into the page cache costs (dd, 96 KiB writes): the steady-state ratio.
# Not part of the pass/fail suite; see tests/bench/README.md.
#
# Takes are written to a temporary directory on disk (default under /var/tmp,
# never tmpfs: writing to disk is what is measured) and removed after each run;
# `sync -f` after each run flushes them before the next one starts (its time is
# the "sync s" column). Exit status: 0 when the benchmark ran (whatever the
# figures), 1 when it could not (build, JACK server, disk), 2 on a bad option.
#
# Environment:
#   REEL=PATH             the reel binary to measure (default: build
#                         $REEL_BENCH_BUILD, default <top>/build-bench, if needed)
#   BENCH_TMPDIR=DIR      where the takes go (default /var/tmp; tmpfs refused)
#   BENCH_TRACKS="8 16"   track counts (default 8..1024 doubling, 1024 being reel's
#                         limit; quick: 16 64 256)
#   BENCH_RATES="48000 96000"  BENCH_SECONDS=10 (quick 3)  BENCH_PERIOD=1024
#   BENCH_SKIP_JACK=1 / BENCH_SKIP_VIRTUAL=1   run only one half
#   BENCH_LONG_SECONDS=30 the second duration of --marginal
#   BENCH_RING_SECONDS=S  passed to reel record as --ring-seconds (default: reel's, 5)
set -uo pipefail

usage() { sed -n '2p' "$0" | sed 's/^# /usage: /'; }
quick=0 reclaim=0 marginal=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    --marginal) marginal=1 ;;
    --reclaim-stale-jack) reclaim=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "capture.sh: unknown option '$a'" >&2; usage >&2; exit 2 ;;
    esac
done

top=$(cd "$(dirname "$0")/../.." && pwd)
if ((quick)); then
    seconds=${BENCH_SECONDS:-3}
    tracks=${BENCH_TRACKS:-"16 64 256"}
else
    seconds=${BENCH_SECONDS:-10}
    tracks=${BENCH_TRACKS:-"8 16 32 64 128 256 512 1024"}
fi
rates=${BENCH_RATES:-"48000 96000"}
period=${BENCH_PERIOD:-1024}
ring_opt=()
[ -z "${BENCH_RING_SECONDS:-}" ] || ring_opt=(--ring-seconds "$BENCH_RING_SECONDS")
server=reelbench           # our private JACK server
client=benchrec            # reel's JACK client name: must differ from the server's
                           # name (a client named like its server unlinks the
                           # server's socket /dev/shm/jack_NAME_UID_0)
export JACK_DEFAULT_SERVER=$server
export JACK_NO_START_SERVER=1 JACK_NO_AUDIO_RESERVATION=1

say() { printf '%s\n' "$*" >&2; }
die() { say "capture.sh: $*"; exit 1; }

[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a whole number of seconds"
long_seconds=${BENCH_LONG_SECONDS:-$((3 * seconds))}
[[ "$long_seconds" =~ ^[1-9][0-9]*$ ]] && ((long_seconds > seconds)) ||
    die "BENCH_LONG_SECONDS must be a whole number of seconds above BENCH_SECONDS ($seconds)"
for n in $tracks; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_TRACKS entry '$n'"; done
maxn=0; for n in $tracks; do ((n > maxn)) && maxn=$n; done
# jackd2 (1.9.21) gives a driver at most 256 ports a direction (DRIVER_PORT_NUM);
# `-d dummy -C` above that overflows a fixed array without a word: -C 512 runs
# corrupted, -C 1000 aborts ("malloc(): corrupted top size"). reel opens at most
# the device's channels, so on JACK the series stops at 256.
jack_max=256
jack_tracks="" jack_skipped=""
for n in $tracks; do
    if ((n <= jack_max)); then jack_tracks+="$n "; else jack_skipped+="$n "; fi
done
jack_tracks=${jack_tracks% } jack_skipped=${jack_skipped% }
jack_maxn=0; for n in $jack_tracks; do ((n > jack_maxn)) && jack_maxn=$n; done

# --- tools -----------------------------------------------------------------
for t in soxi sync timeout awk; do command -v $t >/dev/null || die "$t not found (Debian: sox, coreutils, gawk/mawk)"; done
if [ -z "${BENCH_SKIP_JACK:-}" ]; then
    for t in jackd jack_lsp jack_bufsize jack_samplerate jack_capture; do
        command -v $t >/dev/null || die "$t not found (Debian: jackd2, jack-capture; or BENCH_SKIP_JACK=1)"
    done
fi
gnutime=/usr/bin/time
[ -x "$gnutime" ] && "$gnutime" -f %M true >/dev/null 2>&1 || gnutime=""
[ -z "${BENCH_NO_GNU_TIME:-}" ] || gnutime=""    # to test the fallback
if [ -z "$gnutime" ]; then
    say "capture.sh: GNU time not found (Debian package 'time'); measuring with bash and /proc instead"
fi

if [ -z "${REEL:-}" ]; then
    build=${REEL_BENCH_BUILD:-$top/build-bench}
    say "capture.sh: building reel in $build (RelWithDebInfo, no tests)"
    if ! { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEL_BUILD_TESTS=OFF &&
        cmake --build "$build" -j"$(nproc)"; } >"/tmp/reel-bench-build.$$.log" 2>&1; then
        tail -n 30 "/tmp/reel-bench-build.$$.log" >&2
        die "build failed (log above, full log /tmp/reel-bench-build.$$.log); or set REEL=/path/to/reel"
    fi
    rm -f "/tmp/reel-bench-build.$$.log"
    REEL=$build/lua/reel
fi
[[ "$REEL" == */* ]] || REEL=$(command -v "$REEL") || die "reel command not found"
[ -x "$REEL" ] && [ -f "$REEL" ] || die "reel binary '$REEL' not found or not executable"
REEL=$(realpath -- "$REEL")
"$REEL" record --help >/dev/null 2>&1 || die "'$REEL record --help' fails: is the reel command finished?"

# --- temporary directory on disk ---------------------------------------------
base=${BENCH_TMPDIR:-/var/tmp}
[ -d "$base" ] || die "BENCH_TMPDIR $base is not a directory"
base=$(realpath -- "$base")
fstype=$(findmnt -n -o FSTYPE -T "$base" 2>/dev/null) || fstype=""
[ -n "$fstype" ] || fstype=$(stat -f -c %T "$base")
case $fstype in
tmpfs | ramfs) die "$base is on $fstype: the takes must go to disk (set BENCH_TMPDIR)" ;;
esac
maxrate=0; for r in $rates; do [[ "$r" =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_RATES entry '$r'"; ((r > maxrate)) && maxrate=$r; done
# The largest run's takes (float, 4 bytes a sample) plus a margin, twice over.
longest=$seconds; ((marginal)) && longest=$long_seconds
need_mb=$(( 2 * maxn * maxrate * longest * 4 / 1000000 + 500 ))
free_mb=$(df -Pm "$base" | awk 'NR==2 {print $4}')
((free_mb > need_mb)) || die "$base has $free_mb MB free, the largest run needs about $need_mb MB"
T=$(mktemp -d "$base/reel-bench.XXXXXX") || die "cannot create a directory under $base"
cd "$T" || die "cannot enter $T"

jackd_pid=""
cleanup() {
    if [ -n "$jackd_pid" ]; then stop_server; fi
    rm -rf -- "$T"
}
# The measured commands run in a session of their own (so a terminal's Ctrl-C
# reaches only this script, never a take half-way) and in the background, so
# that `wait` returns at once on a signal; the handler then ends the running
# command's session with SIGTERM, and SIGKILL what is left after 5 s (reel on
# JACK ignored SIGTERM and SIGINT when this was written).
CUR_PID=""
on_signal() {
    local i
    trap '' INT TERM
    say "capture.sh: interrupted, stopping"
    if [ -n "$CUR_PID" ]; then
        kill -TERM -- "-$CUR_PID" 2>/dev/null
        for ((i = 0; i < 50; i++)); do kill -0 "$CUR_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$CUR_PID" 2>/dev/null
        wait "$CUR_PID" 2>/dev/null
    fi
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

# --- measuring ---------------------------------------------------------------
# measure OUT LIMIT CMD...: runs CMD (stdout+stderr to OUT) under a time limit;
# sets M_RC (124: timed out), M_WALL, M_CPU (user+sys seconds) and M_RSS (peak
# resident set, KiB, of the largest process).
hz=$(getconf CLK_TCK)
read_child_cpu() { # CHILD_CPU: user+sys of this shell's waited-for children
    times >"$T/times.txt"   # a builtin in this shell: $(times) would run in a subshell
    CHILD_CPU=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.3f", s }' "$T/times.txt")
}
measure() {
    local out=$1 limit=$2; shift 2
    if [ -n "$gnutime" ]; then
        local tf=$T/time.txt u s
        setsid "$gnutime" -o "$tf" -f '%e %U %S %M' timeout --foreground -k 5 "$limit" "$@" \
            >"$out" 2>&1 &
        CUR_PID=$!
        wait "$CUR_PID"; M_RC=$?
        CUR_PID=""
        read -r M_WALL u s M_RSS < <(tail -n 1 "$tf")
        M_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u+s }')
    else
        # Without GNU time: CPU from `times` (children of this shell), peak RSS
        # from VmHWM polled every 20 ms. The loop runs builtins only, so that
        # nothing but the command adds to the children's CPU time.
        local t0 c0 c1 pid hwm=0 k v rest sfd deadline killed=0
        [ -p "$T/sleep.fifo" ] || mkfifo "$T/sleep.fifo"
        exec {sfd}<>"$T/sleep.fifo"
        read_child_cpu; c0=$CHILD_CPU t0=$EPOCHREALTIME
        deadline=$(( ${t0%.*} + limit ))
        setsid "$@" >"$out" 2>&1 &
        pid=$! CUR_PID=$!
        while kill -0 "$pid" 2>/dev/null; do
            while read -r k v rest; do
                [ "$k" = VmHWM: ] && { ((v > hwm)) && hwm=$v; break; }
            done <"/proc/$pid/status" 2>/dev/null
            if ((${EPOCHREALTIME%.*} > deadline + 5 * killed)); then
                ((killed)) && kill -KILL "$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
                killed=1
            fi
            read -t 0.02 -u "$sfd" _
        done
        wait "$pid"; M_RC=$?
        CUR_PID=""
        ((killed)) && M_RC=124
        read_child_cpu; c1=$CHILD_CPU
        exec {sfd}<&-
        M_WALL=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b-a }')
        M_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b-a }')
        M_RSS=$hwm
    fi
}

proc_cpu() { # utime+stime of PID in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

timed_sync() { # seconds spent flushing the filesystem of DIR
    local t0=$EPOCHREALTIME
    sync -f "$1" 2>/dev/null || sync
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b-a }'
}

# check_files DIR N CHANNELS FRAMES: "ok" when DIR holds N .wav files, each of
# CHANNELS channels and exactly FRAMES frames; else what is wrong.
check_files() {
    local dir=$1 n=$2 ch=$3 frames=$4 files count bad
    shopt -s nullglob
    files=("$dir"/*.wav)
    shopt -u nullglob
    count=${#files[@]}
    if ((count != n)); then echo "NO:$count/${n}files"; return; fi
    bad=$(soxi -s "${files[@]}" 2>/dev/null | awk -v f="$frames" '$1 != f' | wc -l)
    local nlines; nlines=$(soxi -s "${files[@]}" 2>/dev/null | wc -l)
    ((nlines == n)) || { echo "NO:unreadable"; return; }
    ((bad == 0)) || { echo "NO:${bad}len"; return; }
    bad=$(soxi -c "${files[@]}" 2>/dev/null | awk -v c="$ch" '$1 != c' | wc -l)
    ((bad == 0)) || { echo "NO:${bad}chan"; return; }
    echo ok
}

# --- results -----------------------------------------------------------------
rows=()     # table rows, printed at the end
declare -A best fails xr_at fw_xrt   # key "device rate tool": largest N passing, failed?
total_runs=0 run_no=0 server_failed=""
count_runs() {
    local nr nt nj
    nr=$(wc -w <<<"$rates") nt=$(wc -w <<<"$tracks") nj=$(wc -w <<<"$jack_tracks")
    total_runs=0
    [ -n "${BENCH_SKIP_VIRTUAL:-}" ] || total_runs=$((total_runs + nr * nt))
    [ -n "${BENCH_SKIP_JACK:-}" ] || total_runs=$((total_runs + 2 * nr * nj * (1 + marginal)))
}
count_runs

# row RATE N TOOL DEVICE WALL CPU XRT RSSKIB OVR XRUN SRVCPU SYNC FILES
# Rows are kept raw ('|'-separated) and formatted at the end, when reel's JACK
# rows can be set beside jack_capture's on the same rate and channel count.
declare -A jc_cpu jc_rss
row() {
    local rss
    rss=$(awk -v k="$8" 'BEGIN { printf "%.1f", k/1024 }')
    rows+=("R|$1|$2|$3|$4|$5|$6|$7|$rss|$9|${10}|${11}|${12}|${13}")
    if [ "$3" = jack_capture ]; then jc_cpu["$1 $2"]=$6; jc_rss["$1 $2"]=$rss; fi
    if [ "$3" = reel ] && [ "$4" = "jack dummy" ]; then reel_cpu["$1 $2"]=$6; fi
    say "    -> wall ${5}s cpu ${6}s rss ${rss}MiB overruns $9 xruns ${10} files ${13}"
}

# ratio A B: A / B to two decimals, "-" when B is missing or zero.
ratio() { awk -v a="$1" -v b="${2:-}" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }

print_row() { # RAW: the formatted table line
    local IFS='|' k rate n tool dev wall cpu xrt rss ovr xr srv syncs files pct cr=- mr=-
    read -r k rate n tool dev wall cpu xrt rss ovr xr srv syncs files <<<"$1"
    if [ "$k" != R ]; then printf '%s\n' "${1#M|}"; return; fi
    pct=$(awk -v c="$cpu" -v s="$seconds" 'BEGIN { printf "%.1f", 100*c/s }')
    if [ "$tool" = reel ] && [ "$dev" = "jack dummy" ]; then
        cr=$(ratio "$cpu" "${jc_cpu["$rate $n"]:-}") mr=$(ratio "$rss" "${jc_rss["$rate $n"]:-}")
    fi
    printf '%6s %6s  %-12s %-17s %7s %7s %8s %6s %8s %6s %6s %8s %6s %8s %7s  %s\n' \
        "$rate" "$n" "$tool" "$dev" "$wall" "$cpu" "$pct" "$xrt" "$rss" "$cr" "$mr" "$ovr" "$xr" "$srv" "$syncs" "$files"
}

# record_result KEY N PASSED(0/1) XRUNS
record_result() {
    local key=$1 n=$2 ok=$3 xr=$4
    if ((ok)); then
        [ -n "${fails[$key]:-}" ] || { best[$key]=$n; xr_at[$key]=$xr; }
    else
        [ -n "${fails[$key]:-}" ] || fails[$key]=$n
    fi
}

# parse_reel OUT: sets P_FILES (summary lines), P_OVR (sum), P_XR (max), P_LOST
parse_reel() {
    read -r P_FILES P_OVR P_XR P_LOST < <(awk '
        / frames .* xruns [0-9]+ +overruns [0-9]+/ {
            n++
            for (i = 1; i <= NF; i++) {
                if ($i == "xruns" && $(i+1)+0 > xr) xr = $(i+1)+0
                if ($i == "overruns") ov += $(i+1)
                if ($i == "lost") lost += $(i+1)
            }
        }
        END { printf "%d %d %d %d\n", n, ov, xr, lost }' "$1")
}

progress() { run_no=$((run_no + 1)); say "[$run_no/$total_runs] $*"; }

# --- 1. virtual device, freewheel ------------------------------------------
run_virtual() {
    local rate=$1 n=$2 dir=$T/fw inputs=() i key="virtual:freewheel $1 reel"
    for ((i = 0; i < n; i++)); do inputs+=(--input noise:white:-20); done
    progress "reel, virtual:freewheel, $rate Hz, $n tracks, $seconds s"
    measure "$T/out.txt" $((seconds * 20 + 60)) "$REEL" record --device virtual:freewheel \
        --rate "$rate" --channels "$n" "${inputs[@]}" --seconds "$seconds" --format wav32f \
        --no-loudness "${ring_opt[@]}" "$dir"
    local rc=$M_RC wall=$M_WALL cpu=$M_CPU rss=$M_RSS files xrt syncs
    parse_reel "$T/out.txt"
    files=$(check_files "$dir/audio" "$n" 1 $((seconds * rate)))
    syncs=$(timed_sync "$dir")
    ((rc == 0)) || { files="rc=$rc"; say "$(tail -n 8 "$T/out.txt")"; }
    ((P_FILES == n)) || [ "$files" != ok ] || files="NO:summary"
    xrt=$(awk -v s="$seconds" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? s / w : 0) }')
    [ "$files" = ok ] || xrt=-
    row "$rate" "$n" reel virtual:freewheel "$wall" "$cpu" "$xrt" "$rss" "$P_OVR" "$P_XR" - "$syncs" "$files"
    local ok=0; [ "$files" = ok ] && ((P_OVR == 0)) && ok=1
    record_result "$key" "$n" $ok "$P_XR"
    fw_xrt["$rate $n"]=$xrt
    rm -rf -- "$dir"
    return $((1 - ok))
}

# --- 2. JACK dummy server ----------------------------------------------------
jack_answers() { timeout 5 jack_lsp >/dev/null 2>&1; }

# Servers in JACK's shared registry whose process is gone (killed without
# unregistering). jackd2 has 8 slots and frees a dead one only when a server of
# the same name starts: "Too many servers already active" otherwise.
stale_servers() {
    local reg=/dev/shm/jack-shm-registry i off pid name
    [ -r $reg ] || return 0
    for ((i = 0; i < 8; i++)); do
        off=$((24 + i * 260))
        pid=$(od -An -t d4 -j $off -N 4 $reg | tr -d ' ')
        name=$(dd if=$reg bs=1 skip=$((off + 4)) count=256 status=none | tr -d '\0')
        [ -n "$name" ] && [ "${pid:-0}" -gt 0 ] || continue
        name=${name#jack-*:}; name=${name%:}
        [ -e "/proc/$pid" ] || echo "$pid $name"
    done
}

reclaim_stale() { # start and stop a server under each dead one's name
    local pid name p i
    while read -r pid name; do
        [ -e "/dev/shm/jack_${name}_$(id -u)_0" ] && { say "  skip $name: its socket exists"; continue; }
        say "  reclaiming the registry slot of dead server '$name' (pid $pid)"
        JACK_DEFAULT_SERVER=$name setsid jackd -n "$name" -d dummy -r 48000 -p 1024 -C 1 -P 1 \
            </dev/null >"$T/reclaim.log" 2>&1 &
        p=$!
        for ((i = 0; i < 100; i++)); do
            JACK_DEFAULT_SERVER=$name timeout 5 jack_lsp >/dev/null 2>&1 && break
            kill -0 $p 2>/dev/null || break
            sleep 0.05
        done
        kill -TERM $p 2>/dev/null
        for ((i = 0; i < 100; i++)); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
        kill -KILL $p 2>/dev/null
        wait $p 2>/dev/null
    done < <(stale_servers)
}

start_server() {
    local rate=$1 i
    if jack_answers; then
        say "capture.sh: a JACK server named '$server' is already running (not ours); stop it first (jackd processes: $(pgrep -d ' ' -x jackd))"
        return 1
    fi
    local portmax=$((3 * jack_maxn + 64)); ((portmax < 256)) && portmax=256
    setsid jackd -n "$server" -p "$portmax" -d dummy -r "$rate" -p "$period" -C "$jack_maxn" -P 2 \
        </dev/null >"$T/jackd.log" 2>&1 &
    jackd_pid=$!
    for ((i = 0; i < 200; i++)); do
        jack_answers && break
        kill -0 "$jackd_pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! jack_answers; then
        local log; log=$(cat "$T/jackd.log")
        stop_server
        say "$log"
        if grep -q "Too many servers already active" <<<"$log"; then
            say "capture.sh: JACK's server registry (/dev/shm/jack-shm-registry, 8 slots) is full."
            say "  Slots of servers that died without unregistering (pid name):"
            stale_servers | sed 's/^/    /' >&2
            if ((reclaim == 1)); then
                reclaim=2       # once
                reclaim_stale
                start_server "$rate"; return
            fi
            say "  Rerun with --reclaim-stale-jack to free those slots (it starts and stops a"
            say "  dummy server under each dead name, JACK's own way of freeing a slot)."
        fi
        say "capture.sh: the JACK dummy server did not start"
        return 1
    fi
    local bs sr
    bs=$(timeout 5 jack_bufsize 2>/dev/null) sr=$(timeout 5 jack_samplerate 2>/dev/null)
    if [ "$bs" != "$period" ] || [ "$sr" != "$rate" ]; then
        say "capture.sh: jackd runs at ${sr:-?} Hz, period ${bs:-?}; $rate Hz, period $period requested"
        stop_server
        return 1
    fi
    say "capture.sh: jackd $jackd_pid serving '$server': dummy, $rate Hz, period $period, $jack_maxn capture ports"
}

stop_server() {
    local i
    [ -n "$jackd_pid" ] || return 0
    kill -TERM "$jackd_pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$jackd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$jackd_pid" 2>/dev/null && kill -KILL "$jackd_pid" 2>/dev/null
    wait "$jackd_pid" 2>/dev/null
    jackd_pid=""
}

# --marginal: the second run's CPU per tool, rate and N ("-" when it failed).
declare -A long_cpu reel_cpu page_cpu
long_result() { # TOOL RATE N CPU RSSKIB FILES OVERRUNS
    local ok=0
    [ "$6" = ok ] && (($7 == 0)) && ok=1
    ((ok)) && long_cpu["$1 $2 $3"]=$4 || long_cpu["$1 $2 $3"]=-
    say "    -> ($long_seconds s) cpu ${4}s overruns $7 files $6"
}

# page_cache_cpu BYTES: CPU seconds (user+sys) dd takes to write BYTES into a
# file on the takes' disk in 96 KiB writes, without syncing: what copying the
# same audio into the page cache costs any recorder.
page_cache_cpu() {
    local tf=$T/dd-time.txt count=$(( ($1 + 98303) / 98304 )) u s
    if [ -n "$gnutime" ]; then
        "$gnutime" -o "$tf" -f '%U %S' dd if=/dev/zero of="$T/dd.bin" bs=96k count="$count" status=none
        read -r u s < <(tail -n 1 "$tf")
        awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u+s }'
    else
        read_child_cpu; u=$CHILD_CPU
        dd if=/dev/zero of="$T/dd.bin" bs=96k count="$count" status=none
        read_child_cpu; awk -v a="$u" -v b="$CHILD_CPU" 'BEGIN { printf "%.2f", b-a }'
    fi
    rm -f -- "$T/dd.bin"
    sync -f "$T" 2>/dev/null || sync
}

# run_jack_reel RATE N [SECONDS]: with SECONDS (--marginal's second run) the
# figures go to long_cpu/long_ok instead of the table.
run_jack_reel() {
    local rate=$1 n=$2 secs=${3:-$seconds} dir=$T/jr key="jack $1 reel" s0 s1 srv files syncs
    progress "reel, jack dummy, $rate Hz, $n tracks, $secs s"
    s0=$(proc_cpu "$jackd_pid")
    measure "$T/out.txt" $((secs * 3 + 60)) "$REEL" record --device jack --channels "$n" \
        --seconds "$secs" --format wav32f --no-loudness "${ring_opt[@]}" --name "$client" "$dir"
    local rc=$M_RC wall=$M_WALL cpu=$M_CPU rss=$M_RSS
    s1=$(proc_cpu "$jackd_pid")
    srv=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN { printf "%.2f", (b-a)/hz }')
    parse_reel "$T/out.txt"
    files=$(check_files "$dir/audio" "$n" 1 $((secs * rate)))
    syncs=$(timed_sync "$dir")
    ((rc == 0)) || { files="rc=$rc"; say "$(tail -n 8 "$T/out.txt")"; }
    ((P_FILES == n)) || [ "$files" != ok ] || files="NO:summary"
    if [ -n "${3:-}" ]; then
        long_result reel "$rate" "$n" "$cpu" "$rss" "$files" "$P_OVR"
        rm -rf -- "$dir"
        return 0
    fi
    row "$rate" "$n" reel "jack dummy" "$wall" "$cpu" - "$rss" "$P_OVR" "$P_XR" "$srv" "$syncs" "$files"
    local ok=0; [ "$files" = ok ] && ((P_OVR == 0)) && ok=1
    record_result "$key" "$n" $ok "$P_XR"
    rm -rf -- "$dir"
    return $((1 - ok))
}

run_jack_capture() {
    local rate=$1 n=$2 secs=${3:-$seconds} f=$T/jc-$1-$2.wav key="jack $1 jack_capture" s0 s1 srv files syncs ovr xr i
    progress "jack_capture, jack dummy, $rate Hz, $n channels, $secs s"
    s0=$(proc_cpu "$jackd_pid")
    # -c N with the pattern connects system:capture_1..N; -Hc reports xruns.
    measure "$T/out.txt" $((secs * 3 + 60)) jack_capture -d "$secs" -c "$n" \
        -p 'system:capture*' -f wav -dc -ns -Hc "$T/hook.sh" "$f"
    local rc=$M_RC wall=$M_WALL cpu=$M_CPU rss=$M_RSS
    s1=$(proc_cpu "$jackd_pid")
    srv=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN { printf "%.2f", (b-a)/hz }')
    ovr=$(sed -n 's/.*failed with a total of \([0-9]*\) overruns.*/\1/p' "$T/out.txt" | tail -n 1)
    ovr=${ovr:-0}
    xr=""
    for ((i = 0; i < 40; i++)); do  # the close hook runs fire-and-forget
        xr=$(awk -v f="$f" '$1 == f { print $2 }' "$T/hook.log" 2>/dev/null | tail -n 1)
        [ -n "$xr" ] && break
        sleep 0.05
    done
    xr=${xr:-?}
    mkdir -p "$T/jc"; [ -f "$f" ] && mv "$f" "$T/jc/"
    files=$(check_files "$T/jc" 1 "$n" $((secs * rate)))
    syncs=$(timed_sync "$T/jc")
    ((rc == 0)) || { files="rc=$rc"; say "$(tail -n 8 "$T/out.txt")"; }
    if [ -n "${3:-}" ]; then
        long_result jack_capture "$rate" "$n" "$cpu" "$rss" "$files" "$ovr"
        rm -rf -- "$T/jc"
        return 0
    fi
    row "$rate" "$n" jack_capture "jack dummy" "$wall" "$cpu" - "$rss" "$ovr" "$xr" "$srv" "$syncs" "$files"
    local ok=0; [ "$files" = ok ] && ((ovr == 0)) && ok=1
    record_result "$key" "$n" $ok "$xr"
    rm -rf -- "$T/jc"
    return $((1 - ok))
}

# --- run ---------------------------------------------------------------------
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$EPOCHREALTIME
say "capture.sh: $( ((quick)) && echo quick || echo full ) run: $seconds s takes, tracks $tracks, rates $rates; takes in $T ($fstype)"

if [ -z "${BENCH_SKIP_VIRTUAL:-}" ]; then
    for rate in $rates; do
        for n in $tracks; do
            run_virtual "$rate" "$n" || { say "    stopping the series here"; break; }
        done
    done
fi

[ -n "$jack_tracks" ] || BENCH_SKIP_JACK=1
if [ -z "${BENCH_SKIP_JACK:-}" ]; then
    printf '#!/bin/sh\necho "$@" >> "%s/hook.log"\n' "$T" >"$T/hook.sh"
    chmod +x "$T/hook.sh"
    for rate in $rates; do
        if ! start_server "$rate"; then
            server_failed+="$rate "
            rows+=("M|$(printf '%6s %6s  %-12s %-17s  the JACK server did not start: no JACK figures at this rate' "$rate" - - "jack dummy")")
            continue
        fi
        reel_on=1 jc_on=1
        for n in $jack_tracks; do
            ((reel_on || jc_on)) || break
            if ((reel_on)); then run_jack_reel "$rate" "$n" || reel_on=0; fi
            if ((jc_on)); then run_jack_capture "$rate" "$n" || jc_on=0; fi
            if ((marginal && reel_on && jc_on)); then
                run_jack_reel "$rate" "$n" "$long_seconds"
                run_jack_capture "$rate" "$n" "$long_seconds"
                page_cpu["$rate $n"]=$(page_cache_cpu $((n * rate * 4 * long_seconds)))
            fi
            if ! kill -0 "$jackd_pid" 2>/dev/null || ! jack_answers; then
                say "capture.sh: the JACK server died or stopped answering; log:"; cat "$T/jackd.log" >&2
                break
            fi
        done
        stop_server
    done
fi

# --- report ------------------------------------------------------------------
elapsed=$(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b-a }')
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "reel capture benchmark ($( ((quick)) && echo --quick || echo full )), $started"
echo "machine: $(nproc) cores ($cpu), $mem, $(uname -sr); takes on $fstype ($(findmnt -n -o SOURCE -T "$base" 2>/dev/null || echo "$base"))"
echo "reel: $REEL ($("$REEL" --version 2>/dev/null | head -n 1)); jackd $(jackd --version 2>/dev/null | awk '/version/ {print $3; exit}'), jack_capture $(jack_capture --version 2>/dev/null | head -n 1)"
echo "load average (1, 5, 15 min): $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "reel's ring: ${BENCH_RING_SECONDS:-5 (default)} s per track"
echo "each run: $seconds s of audio, wav32f; virtual inputs noise:white:-20 per track; JACK dummy period $period, silence"
echo
printf '%6s %6s  %-12s %-17s %7s %7s %8s %6s %8s %6s %6s %8s %6s %8s %7s  %s\n' \
    rate tracks tool device "wall s" "CPU s" "CPU %RT" "x RT" "RSS MiB" "CPU/jc" "RSS/jc" overruns xruns "jackd s" "sync s" files
for r in "${rows[@]}"; do print_row "$r"; done
echo
echo "max tracks with zero overruns and every file exact (series: $tracks):"
[ -z "$jack_skipped" ] || [ -n "${BENCH_SKIP_JACK:-}" ] ||
    echo "  (JACK: not $jack_skipped: the dummy driver has at most $jack_max capture ports)"
summary() { # KEY RATE LABEL
    local key=$1 rate=$2 label=$3 b=${best[$1]:-} f=${fails[$1]:-} tail extra
    [ -n "$f" ] && tail="fails at $f" || tail="no failure in the series"
    if [ -n "$b" ]; then
        extra="xruns there: ${xr_at[$key]}"
        [[ $key == virtual* ]] && extra="${fw_xrt["$rate $b"]:-?}x realtime there"
        printf '  %-36s %5s   (%s; %s)\n' "$label" "$b" "$extra" "$tail"
    elif [ -n "$f" ]; then
        printf '  %-36s %5s   (%s)\n' "$label" none "$tail"
    else
        printf '  %-36s %5s\n' "$label" "not run"
    fi
}
for rate in $rates; do
    [ -n "${BENCH_SKIP_VIRTUAL:-}" ] || summary "virtual:freewheel $rate reel" "$rate" "$rate Hz reel virtual:freewheel"
    if [ -z "${BENCH_SKIP_JACK:-}" ]; then
        summary "jack $rate reel" "$rate" "$rate Hz reel jack dummy"
        summary "jack $rate jack_capture" "$rate" "$rate Hz jack_capture jack dummy"
    fi
done
if [ -z "${BENCH_SKIP_JACK:-}" ]; then
    echo
    echo "goals on the JACK dummy server (reel at most half of jack_capture's CPU and peak RSS, same channels):"
    for r in "${rows[@]}"; do
        IFS='|' read -r k rate n tool dev wall cpu xrt rss _ <<<"$r"
        [ "$k" = R ] && [ "$tool" = reel ] && [ "$dev" = "jack dummy" ] || continue
        jc=${jc_cpu["$rate $n"]:-} jm=${jc_rss["$rate $n"]:-}
        [ -n "$jc" ] || { printf '  %6s Hz %4s tracks: no jack_capture run to compare with\n' "$rate" "$n"; continue; }
        awk -v rate="$rate" -v n="$n" -v c="$cpu" -v jc="$jc" -v m="$rss" -v jm="$jm" 'BEGIN {
            printf "  %6s Hz %4s tracks: CPU %5.2f s vs %5.2f s, ratio %4.2f %-7s  RSS %6.1f vs %6.1f MiB, ratio %4.2f %s\n",
                rate, n, c, jc, (jc > 0 ? c / jc : 0), (c <= jc / 2 ? "MET" : "NOT MET"),
                m, jm, (jm > 0 ? m / jm : 0), (m <= jm / 2 ? "MET" : "NOT MET") }'
    done
fi
if ((marginal)) && [ -z "${BENCH_SKIP_JACK:-}" ]; then
    echo
    echo "per second of audio (--marginal): each tool's CPU at $seconds s and $long_seconds s gives a fixed part"
    echo "(start-up, shut-down) and a cost per audio second; page cache = dd writing the same bytes (96 KiB writes)"
    printf '%6s %6s  %-12s %9s %9s %10s %12s\n' rate tracks tool "CPU ${seconds}s" "CPU ${long_seconds}s" "fixed s" "per audio s"
    for key in "${!page_cpu[@]}"; do echo "$key"; done | sort -n -k1,1 -k2,2 | while read -r rate n; do
        for tool in reel jack_capture; do
            if [ $tool = reel ]; then c1=${reel_cpu["$rate $n"]:-}; else c1=${jc_cpu["$rate $n"]:-}; fi
            c2=${long_cpu["$tool $rate $n"]:--}
            awk -v r="$rate" -v n="$n" -v t="$tool" -v c1="$c1" -v c2="$c2" -v s1="$seconds" -v s2="$long_seconds" 'BEGIN {
                if (c2 == "-" || c1 == "") { printf "%6s %6s  %-12s %9s %9s   (the %d s run failed)\n", r, n, t, c1, "-", s2; exit }
                per = (c2 - c1) / (s2 - s1); fixed = c1 - per * s1
                printf "%6s %6s  %-12s %9.2f %9.2f %10.2f %12.4f\n", r, n, t, c1, c2, fixed, per }'
        done
        awk -v r="$rate" -v n="$n" -v c="${page_cpu["$rate $n"]}" -v s2="$long_seconds" \
            -v a="${reel_cpu["$rate $n"]:-}" -v b="${long_cpu["reel $rate $n"]:--}" \
            -v x="${jc_cpu["$rate $n"]:-}" -v y="${long_cpu["jack_capture $rate $n"]:--}" -v s1="$seconds" 'BEGIN {
            printf "%6s %6s  %-12s %9s %9.2f %10s %12.4f\n", r, n, "page cache", "-", c, "-", c / s2
            if (b != "-" && y != "-" && a != "" && x != "") {
                pr = (b - a) / (s2 - s1); pj = (y - x) / (s2 - s1)
                if (pj > 0) printf "%6s %6s  per audio second, reel / jack_capture: %.2f (goal 0.50: %s)\n", r, n, pr / pj, (pr <= pj / 2 ? "met" : "not met")
            } }'
    done
fi
echo
echo "columns: CPU s = user+sys of the process; CPU %RT = CPU s / audio s; x RT = audio s / wall s"
echo "(freewheel only; JACK runs at real time and wall s includes start-up); RSS = peak resident set"
echo "(JACK clients include the server's shared memory they map); CPU/jc and RSS/jc = reel's CPU s and"
echo "RSS over jack_capture's on the same rate and channel count; jackd s = CPU the server used"
echo "during the run; sync s = sync -f after the run; files ok = every file exactly $seconds s x rate frames."
echo "benchmark wall time: ${elapsed} s"
[ -z "$server_failed" ] || exit 1
