#!/usr/bin/env bash
# jack_server.sh: starts and stops the JACK dummy server the integration
# tests share (ctest fixture "jack": jack.start / jack.stop).
#
#   jack_server.sh start DIR PERIOD   start `jackd -n NAME -d dummy`, wait until it answers
#   jack_server.sh stop DIR           stop the server started from DIR
#
# NAME is $JACK_DEFAULT_SERVER (ctest sets "reeltest"), so tests never touch
# a user's default server. Start exits non-zero, printing the server log,
# when the server does not come up: a test that needs JACK fails, never skips.
#
# Ownership: the server's PID goes to DIR/jackd.pid, and the server carries
# REEL_JACK_OWNER=<pid>:<start time> of the process that ran `start` (ctest)
# in its environment. A server answering under NAME when we start is stopped
# only when it is provably stale: recorded in our own DIR/jackd.pid, or
# started by this script for an owner that no longer exists. Any other server
# (a user's, or a concurrent test run's) is left alone and start fails with
# its PID. Stop kills only the recorded PID, and only if it is still that
# jackd; it removes DIR/jackd.pid and keeps DIR/jackd.log for post-mortems.
set -u

name="${JACK_DEFAULT_SERVER:-reeltest}"
export JACK_DEFAULT_SERVER="$name"
export JACK_NO_START_SERVER=1        # jack_lsp must never spawn a server itself
export JACK_NO_AUDIO_RESERVATION=1

die() { echo "jack_server.sh: $*" >&2; exit 1; }

# 0 when a server named $name answers.
answers() { timeout 5 jack_lsp >/dev/null 2>&1; }

# Start time (clock ticks since boot) of a live, non-zombie process, or "".
start_time() {
    local stat rest
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    rest=${stat##*) }            # fields from 3 on; comm may hold spaces
    set -- $rest
    [ "$1" = Z ] && return 0
    echo "${20}"
}

alive() { [ -n "$(start_time "$1")" ]; }

# 0 when PID is a jackd serving $name.
is_our_jackd() {
    local pid=$1 args
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [ "$(basename -- "$(head -n1 <<<"$args")")" = jackd ] || return 1
    grep -qxF -- "$name" <<<"$(grep -A1 -xF -- -n <<<"$args" | tail -n1)"
}

# Until the zombie of an exited server is reaped (by init, about a second
# here), jackd still counts it as a live server of that name and refuses to
# start another: wait for it, up to 5 s, without failing.
wait_reaped() {
    local i
    for ((i = 0; i < 50; i++)); do
        [ -e "/proc/$1" ] || return 0
        sleep 0.1
    done
}

# TERM, up to 5 s, then KILL. The server is not our child (setsid, and the
# starting shell has exited), so poll instead of `wait`.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    kill -CONT "$pid" 2>/dev/null     # a stopped (SIGSTOP) server handles TERM only once continued
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || { wait_reaped "$pid"; return 0; }
        sleep 0.1
    done
    echo "jack_server.sh: jackd $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 20; i++)); do
        alive "$pid" || { wait_reaped "$pid"; return 0; }
        sleep 0.1
    done
    return 1
}

# PIDs of jackd processes serving $name (for the stale check only).
servers_named() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        is_our_jackd "$p" && echo "$p"
    done
}

# 0 when PID was started by this script for an owner that is gone.
orphaned() {
    local owner owner_pid owner_start
    owner=$(tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | sed -n 's/^REEL_JACK_OWNER=//p')
    [ -n "$owner" ] || return 1
    owner_pid=${owner%%:*}
    owner_start=${owner#*:}
    [ "$(start_time "$owner_pid")" != "$owner_start" ]
}

cmd_start() {
    local dir=$1 period=$2 pid i
    [[ "$period" =~ ^[1-9][0-9]*$ ]] || die "PERIOD must be a number of frames, got '$period'"
    mkdir -p -- "$dir" || die "cannot create $dir"
    command -v jackd >/dev/null || die "jackd not found (apt-get install jackd2)"

    if [ -f "$dir/jackd.pid" ]; then
        pid=$(cat "$dir/jackd.pid")
        if is_our_jackd "$pid"; then
            echo "jack_server.sh: stopping stale server $pid recorded in $dir/jackd.pid" >&2
            stop_pid "$pid" || die "cannot stop stale jackd $pid"
        fi
        rm -f -- "$dir/jackd.pid"
    fi
    if answers; then
        for pid in $(servers_named); do
            if orphaned "$pid"; then
                echo "jack_server.sh: stopping stale server $pid (its test run is gone)" >&2
                stop_pid "$pid" || die "cannot stop stale jackd $pid"
            fi
        done
        if answers; then
            die "a JACK server named '$name' is already running (pid $(servers_named | tr '\n' ' ')) and is not a stale one of ours; stop it or set JACK_DEFAULT_SERVER to another name"
        fi
    fi

    local owner="$PPID:$(start_time "$PPID")" tries
    # A server of this name that exited moments ago but is not yet reaped
    # (a zombie has no command line to recognise it by) makes jackd refuse
    # with "server already active": retry for up to 5 s while nothing answers.
    for ((tries = 0; ; tries++)); do
        REEL_JACK_OWNER="$owner" setsid jackd -n "$name" -d dummy -r 48000 -p "$period" -C 8 -P 8 \
            </dev/null >"$dir/jackd.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/jackd.pid"
        sleep 0.2
        if ! alive "$pid" && grep -q 'server already active' "$dir/jackd.log" && ((tries < 25)) &&
            ! answers; then
            continue
        fi
        break
    done

    for ((i = 0; i < 200; i++)); do          # 50 ms steps, 10 s
        if answers; then
            if ! is_our_jackd "$pid"; then
                stop_pid "$pid"
                rm -f -- "$dir/jackd.pid"
                die "a server named '$name' answers, but it is not the jackd we started ($pid)"
            fi
            # jackd silently picks its own period for values it dislikes.
            local actual
            actual=$(timeout 5 jack_bufsize 2>/dev/null)
            if [ "$actual" != "$period" ]; then
                stop_pid "$pid"
                rm -f -- "$dir/jackd.pid"
                die "jackd runs with period '$actual', $period requested; log $dir/jackd.log"
            fi
            echo "jack_server.sh: jackd $pid serving '$name' (dummy, 48000 Hz, period $period)"
            return 0
        fi
        if ! alive "$pid"; then
            echo "jack_server.sh: jackd exited during start-up; log $dir/jackd.log:" >&2
            cat "$dir/jackd.log" >&2
            rm -f -- "$dir/jackd.pid"
            exit 1
        fi
        sleep 0.05
    done
    echo "jack_server.sh: server '$name' did not answer within 10 s; log $dir/jackd.log:" >&2
    cat "$dir/jackd.log" >&2
    stop_pid "$pid"
    rm -f -- "$dir/jackd.pid"
    exit 1
}

cmd_stop() {
    local dir=$1 pid
    if [ ! -f "$dir/jackd.pid" ]; then
        echo "jack_server.sh: no server recorded in $dir, nothing to stop"
        return 0
    fi
    pid=$(cat "$dir/jackd.pid")
    if is_our_jackd "$pid"; then
        stop_pid "$pid" || die "jackd $pid survived SIGKILL"
        echo "jack_server.sh: jackd $pid stopped"
    else
        echo "jack_server.sh: jackd $pid from $dir/jackd.pid is not running any more"
    fi
    rm -f -- "$dir/jackd.pid"
}

case "${1:-}" in
start) [ $# -eq 3 ] || die "usage: $0 start DIR PERIOD"; cmd_start "$2" "$3" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
*) die "usage: $0 start DIR PERIOD | stop DIR" ;;
esac
