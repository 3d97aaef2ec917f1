# `reel take` refuses mistakes with exit status 2 and a message naming them,
# before anything is opened or written; failures of the outside world (an
# unwritable folder, a full disk, a missing file) give exit status 1 and keep
# everything recorded before.
. "$(dirname "$0")/lib.sh"

cat > mk.lua <<'T'
assert(require("reel").new(arg[1], {
  tempo = 120, tracks = { { name = "Vox", input = 1 } },
  sections = { { "Intro", 2 }, { "Chorus", 2 }, { "Verse", 2 }, { "Chorus", 2 } },
}))
T
run 0 "$REEL" run mk.lua song
FW="--device virtual:freewheel --input impulse:1000"
run 0 "$REEL" take song --punch "Chorus 1" $FW
cp song/session.json before.json
cp song/audio/Vox_T01.wav before.wav

run 0 "$REEL" take --help
contains out.txt "--punch IN..OUT"
contains out.txt "--loopback-latency"

# bad command lines: exit 2, nothing written
bad() { # TEXT ARGS...
    local text=$1
    shift
    run 2 "$REEL" take "$@"
    contains err.txt "$text"
    cmp -s song/session.json before.json || fail "'take $*' changed session.json"
    [ "$(ls song/audio)" = Vox_T01.wav ] || fail "'take $*' wrote into audio/: $(ls song/audio)"
}
bad "missing DIR"
bad "unknown option '--bogus'" song --bogus
bad "option '--passes' expects a whole number" song --loop Intro --passes three
bad "option '--count-in' expects a whole number" song --count-in -1
bad "option '--punch' expects START..END" song --punch 5:1..
bad "option '--click' must be off, always or recording, got 'loud'" song --click loud
bad "option '--loopback' expects OUT>IN" song --loopback 1-1
bad "option '--backing' expects FILE or FILE@POSITION" song --backing x.wav@
bad "option '--comp-crossfade' expects milliseconds from 0 to 1000, got '-5'" song --comp-crossfade -5
bad "option '--comp-crossfade' expects milliseconds from 0 to 1000, got 'soft'" song --comp-crossfade soft
bad "option '--track': unknown track 'Bass' (tracks: Vox)" song --track Bass $FW
bad "option '--punch': unknown section 'Bridge' (sections: Intro, Chorus 1, Verse, Chorus 2)" \
    song --punch Bridge $FW
bad "option '--loop': section 'Chorus' is ambiguous (Chorus 1, Chorus 2)" song --loop Chorus $FW
bad "option '--punch': punch out 3:1 (sample 192000) is not after punch in 5:1 (sample 384000)" \
    song --punch 5:1..3:1 $FW
bad "option '--to': position '99:1' = 99:1 (sample 9408000) is after the end of the session: the last section, 'Chorus 2', ends at 9:1 (sample 768000)" \
    song --to 99:1 $FW
bad "option '--from': position '0:1' is before the start (1:1)" song --from 0:1 --to 2:1 $FW
bad "option '--passes': passes need a loop" song --passes 2 --to 2:1 $FW
bad "option '--punch': the punch range 5:1 (sample 384000) to 7:1 (sample 576000) is not inside the loop" \
    song --loop Intro --punch Verse $FW

# the outside world: exit 1
run 1 "$REEL" take nowhere --punch Intro
contains err.txt "nowhere: no such folder"
mkdir empty
run 1 "$REEL" take empty --punch Intro
contains err.txt "empty is not a reel session"
run 1 "$REEL" take song --punch "Chorus 2" --backing missing.wav $FW
contains err.txt "backing file: "
contains err.txt "missing.wav"
cmp -s song/session.json before.json || fail "a missing backing file changed session.json"

# An unwritable session folder (a read-only bind mount: chmod does not stop root).
mount --bind song song
mount -o remount,bind,ro song || { umount song; fail "cannot make a read-only bind mount"; }
got=0
"$REEL" take song --punch "Chorus 2" $FW >out.txt 2>err.txt || got=$?
umount song
[ "$got" = 1 ] || fail "an unwritable folder gave exit status $got: $(cat err.txt)"
contains err.txt "song/audio/Vox_T02.wav"
contains err.txt "Read-only file system"
cmp -s song/session.json before.json || fail "session.json changed"
cmp -s song/audio/Vox_T01.wav before.wav || fail "the earlier take changed"

# A full disk: a 64 KiB tmpfs as the session's audio/ folder. The first take
# fits; the second stops where the disk is full, valid, and both are listed.
run 0 "$REEL" run mk.lua full
mount -t tmpfs -o size=64k tmpfs full/audio
got=0
{
    "$REEL" take full --from 0 --to 0.1s --device virtual:freewheel --input noise:white:-6 &&
    cp full/audio/Vox_T01.wav first.wav &&
    "$REEL" take full --from 0 --to 8:1 --device virtual:freewheel --input noise:white:-6
} >out.txt 2>err.txt || got=$?
partial=$(soxi -s full/audio/Vox_T02.wav 2>/dev/null || echo none)
cmp -s full/audio/Vox_T01.wav first.wav && first_ok=1 || first_ok=0
umount full/audio
[ "$got" = 1 ] || { cat out.txt err.txt >&2; fail "a full disk gave exit status $got"; }
contains err.txt "No space left on device"
contains out.txt "full/audio/Vox_T02.wav"
contains out.txt "error: no space left on device"
[ "$first_ok" = 1 ] || fail "the first take changed"
[ "$partial" != none ] && [ "$partial" -gt 0 ] && [ "$partial" -lt 768000 ] \
    || fail "the partial take is not a valid shorter file ($partial frames)"
[ "$(json_get full/session.json '#j.takes')" = 2 ] || fail "session.json does not list both takes"
[ "$(json_get full/session.json 'j.takes[1].frames')" = 4800 ] || fail "first take frames"
[ "$(json_get full/session.json 'j.takes[2].frames')" = "$partial" ] || fail "partial take frames"
[ "$(json_get full/session.json 'j.takes[2].error')" = "no space left on device" ] || fail "error not recorded"
echo ok
