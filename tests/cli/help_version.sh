# `reel --help`, `reel --version`, and the man page documenting what the help lists.
. "$(dirname "$0")/lib.sh"

run 0 "$REEL" --version
[ "$(cat out.txt)" = "reel 0.1.0" ] || fail "--version printed '$(cat out.txt)'"
run 0 "$REEL" -V
[ "$(cat out.txt)" = "reel 0.1.0" ] || fail "-V printed '$(cat out.txt)'"

run 0 "$REEL" --help
contains out.txt "usage: reel COMMAND"
for word in devices record run --json --device --input --channels --seconds --format \
            --rate --period --name --no-connect wav24 wav32f flac rf64; do
    contains out.txt "$word"
done
[ ! -s err.txt ] || fail "--help wrote to stderr"
run 0 "$REEL" record --help
contains out.txt "--seconds"

# Every option the help shows is documented in the man page, and the man
# page is valid roff that man can format.
MAN="$REEL_SOURCE_DIR/share/man/reel.1"
[ -s "$MAN" ] || fail "no man page at $MAN"
grep -oE -- '--[a-z][a-z-]+' out.txt | sort -u > opts.txt
sed 's/\\//g' "$MAN" > man.txt   # roff escapes out: \-\-no\-connect -> --no-connect
while read -r opt; do
    grep -qF -- "$opt" man.txt || fail "man page does not document $opt"
done < opts.txt
for cmd in devices record run; do
    grep -q "^\.SS.*$cmd" "$MAN" || fail "man page has no section for '$cmd'"
done
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww -z "$MAN" 2>groff.txt || fail "groff rejects the man page"
    [ ! -s groff.txt ] || { cat groff.txt >&2; fail "groff warns about the man page"; }
fi
echo ok
