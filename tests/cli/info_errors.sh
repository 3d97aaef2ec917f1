# `reel info` on what is not a session, or a broken one: a clear message
# naming the file and the field, exit 1, nothing modified, nothing on stdout.
. "$(dirname "$0")/lib.sh"

run 2 "$REEL" info
contains err.txt "reel info: missing DIR"
run 2 "$REEL" info --bogus s
contains err.txt "reel info: unknown option '--bogus'"
run 2 "$REEL" info a b
contains err.txt "reel info: unexpected argument 'b'"

run 1 "$REEL" info missing
contains err.txt "reel info: missing: no such folder"
[ ! -e missing ] || fail "reel info created the folder"
: > plainfile
run 1 "$REEL" info plainfile
contains err.txt "reel info: plainfile: not a folder"
mkdir empty
run 1 "$REEL" info empty
contains err.txt "reel info: empty is not a reel session (it has no session.json)"
[ -z "$(ls -A empty)" ] || fail "reel info wrote into a folder without a session"

# broken DIR JSON EXPECTED: a session whose session.json is JSON; reel info
# and reel info --json fail with EXPECTED and leave the folder as it was.
broken() {
    local dir=$1 text=$2 want=$3
    mkdir -p "$dir/audio"
    printf '%s' "$text" > "$dir/session.json"
    : > "$dir/audio/Vox_T01.wav"
    local before
    before=$(cd "$dir" && find . | sort && cat session.json)
    run 1 "$REEL" info "$dir"
    contains err.txt "reel info: $dir/session.json: $want"
    [ ! -s out.txt ] || fail "reel info printed something for a broken session"
    run 1 "$REEL" info --json "$dir"
    contains err.txt "reel info: $dir/session.json: $want"
    [ ! -s out.txt ] || fail "reel info --json printed something for a broken session"
    [ "$(cd "$dir" && find . | sort && cat session.json)" = "$before" ] || fail "$dir was modified"
}

broken badjson '{ "reel_session": 1, "takes": [ ' "not valid JSON (Expected value but found T_END at character 33)"
broken array '[1, 2, 3]' "not a reel session file (expected a JSON object)"
broken other '{"something": "else"}' "not a reel session file (no reel_session version)"
broken newer '{"reel_session": 7}' "reel_session: format version 7 is newer than this reel reads (1)"

take='{"track": "Vox", "take": 1, "file": "audio/Vox_T01.wav", "frames": 480, "rate": 48000}'
broken frames "{\"reel_session\": 1, \"takes\": [$take, $take, {\"track\": \"Vox\", \"take\": 3, \"file\": \"a.wav\", \"frames\": \"many\"}]}" \
    "takes[2]: take 1 of track 'Vox' is listed twice (also takes[1])"
broken frames3 "{\"reel_session\": 1, \"takes\": [$take, {\"track\": \"Vox\", \"take\": 2, \"file\": \"b.wav\"}, {\"track\": \"Vox\", \"take\": 3, \"file\": \"a.wav\", \"frames\": \"many\"}]}" \
    "takes[3].frames: number expected, got string"
broken status "{\"reel_session\": 1, \"takes\": [{\"track\": \"Vox\", \"take\": 1, \"file\": \"a.wav\", \"status\": \"great\"}]}" \
    "takes[1].status: kept, rejected or selected expected, got 'great'"
broken inputs '{"reel_session": 1, "tracks": [{"name": "Vox", "inputs": [0]}]}' \
    "tracks[1].inputs: input channels are integers counting from 1"
broken tempo '{"reel_session": 1, "tempo": [{"bar": 1, "bpm": 2000, "meter": "4/4"}]}' \
    "tempo[1]: bpm 2000 at bar 1 must be between 1 and 1000"
broken sections '{"reel_session": 1, "sections": [{"name": "A", "bar": 1, "length_bars": 8}, {"name": "B", "bar": 5, "length_bars": 4}]}' \
    "sections[2]: bars 5 to 8 overlap sections[1] 'A' (bars 1 to 8)"
broken rate '{"reel_session": 1, "rate": "fast"}' "rate: number expected, got string"

# reel new refuses a folder with a broken session.json too: never overwritten.
before=$(cat frames3/session.json)
run 1 "$REEL" new frames3
contains err.txt "reel new: frames3/session.json already exists"
[ "$(cat frames3/session.json)" = "$before" ] || fail "reel new overwrote a broken session.json"
echo ok
