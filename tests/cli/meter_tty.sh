# The live meter: on a terminal one \r-refreshed line with elapsed time and a
# level per track; nothing of it when stdout is not a terminal.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || fail "util-linux 'script' is needed for this test"

cmd="$REEL record --device virtual --input sine:440:-6 --input silence --seconds 1.2 tty"
script -qec "$cmd" /dev/null > tty.txt 2>&1 || { cat tty.txt >&2; fail "record under a pty failed"; }
grep -q $'\r00:0' tty.txt || fail "no meter line on the terminal"
grep -aq 'In1 #' tty.txt || fail "no bar for In1"
grep -aq -- '-6.0' tty.txt || fail "In1's level is not shown"
grep -aq 'In2 -' tty.txt || fail "no silent bar for In2"
grep -aq -- '-inf' tty.txt || fail "In2's silence is not shown as -inf"
grep -aq 'tty/audio/In1_T01.wav' tty.txt || fail "no file list after the meter"

run 0 $cmd
lacks out.txt $'\r'
lacks out.txt "00:0"
contains out.txt "tty/audio/In1_T02.wav"
echo ok
