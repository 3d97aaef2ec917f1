# lib.sh: shared helpers for the `reel` command tests (sourced, not run).
# Each test runs in a fresh temporary directory that is removed at exit.
# Needs $REEL (the built command) and $REEL_SOURCE_DIR (ctest sets both).
set -euo pipefail
: "${REEL:?REEL must name the built reel command}"
: "${REEL_SOURCE_DIR:?REEL_SOURCE_DIR must name the source tree}"

T=$(mktemp -d /tmp/reel-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run STATUS CMD...: runs CMD with stdout in out.txt and stderr in err.txt and
# fails unless it exits with STATUS.
run() {
    local want=$1
    shift
    local got=0
    "$@" >out.txt 2>err.txt || got=$?
    # Sanitizer builds: a report fails the test whatever the exit status.
    if grep -qE 'Sanitizer|runtime error:' err.txt; then
        cat err.txt >&2
        fail "'$*': sanitizer report"
    fi
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout:" >&2; cat out.txt >&2
        echo "--- stderr:" >&2; cat err.txt >&2
        fail "'$*' exited with $got, expected $want"
    fi
}

# contains FILE TEXT: FILE holds TEXT (fixed string).
contains() {
    if ! grep -qF -- "$2" "$1"; then
        echo "--- $1:" >&2; cat "$1" >&2
        fail "$1 does not contain '$2'"
    fi
}

lacks() {
    if grep -qF -- "$2" "$1"; then
        echo "--- $1:" >&2; cat "$1" >&2
        fail "$1 contains '$2'"
    fi
}

# frames FILE: the sample frames of a sound file, as sox reads them.
frames() {
    soxi -s "$1" 2>/dev/null || fail "sox cannot read $1"
}

# maxdiff A B: the largest absolute sample difference between two mono files.
maxdiff() {
    sox -m -v 1 "$1" -v -1 "$2" -n stat 2>&1 | awk '/^Maximum amplitude/ { print $3 }'
}

# lt X Y: X < Y as floating-point numbers.
lt() {
    awk -v x="$1" -v y="$2" 'BEGIN { exit !(x < y) }'
}

# json_get FILE EXPR: evaluates the Lua expression EXPR with `j` bound to the
# decoded JSON document in FILE (lua5.4 + cjson, independent of reel).
json_get() {
    lua5.4 -e "local cjson = require 'cjson'
               local f = assert(io.open('$1')); local j = cjson.decode(f:read('a')); f:close()
               local v = ($2)
               if math.type(v) == 'float' and v == math.floor(v) then v = math.tointeger(v) end
               print(v)"
}
