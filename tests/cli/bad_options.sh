# Command-line mistakes: exit status 2 and a message naming the culprit.
. "$(dirname "$0")/lib.sh"

run 2 "$REEL"
contains err.txt "usage: reel"

run 2 "$REEL" frobnicate
contains err.txt "unknown command 'frobnicate'"
contains err.txt "usage: reel"

run 2 "$REEL" --bogus
contains err.txt "unknown option '--bogus'"

run 2 "$REEL" record --bogus sess
contains err.txt "unknown option '--bogus'"

run 2 "$REEL" record --format mp3 sess
contains err.txt "--format"
contains err.txt "mp3"

run 2 "$REEL" record --seconds abc sess
contains err.txt "--seconds"
contains err.txt "abc"

run 2 "$REEL" record --seconds -1 sess
contains err.txt "--seconds"

run 2 "$REEL" record --channels 2x sess
contains err.txt "--channels"

run 2 "$REEL" record --rate fast sess
contains err.txt "--rate"

run 2 "$REEL" record --device nowhere sess
contains err.txt "--device"

run 2 "$REEL" record --seconds
contains err.txt "'--seconds' needs a value"

run 2 "$REEL" record --seconds 1
contains err.txt "missing DIR"

run 2 "$REEL" record a b
contains err.txt "unexpected argument 'b'"

run 2 "$REEL" devices --bogus
contains err.txt "unknown option '--bogus'"

run 2 "$REEL" run
contains err.txt "missing SCRIPT"

# None of that created anything.
[ ! -e sess ] || fail "a rejected command line created the session folder"
echo ok
