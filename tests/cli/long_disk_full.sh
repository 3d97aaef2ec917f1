# --min-free: on a small tmpfs (8 MiB, mounted here; needs root) `reel
# record` refuses to start below the limit, and a running take stops by
# itself well before the disk fills: exit status 1, the message, the take
# files closed valid (sox reads them; header, size, session file and report
# agree on the frames), the session notes why the takes end there.
. "$(dirname "$0")/lib.sh"

mkdir small
mount -t tmpfs -o size=8m tmpfs small || fail "cannot mount a tmpfs (this test needs root)"
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
MNT=$T/small

# Bad sizes are command-line mistakes.
run 2 "$REEL" record --device virtual --input silence --min-free 12X small/bad
contains err.txt "option '--min-free' expects a size such as 500M, 2G or 1%, got '12X'"
run 2 "$REEL" record --device virtual --input silence --min-free 101% small/bad

# Below the limit already: nothing is recorded.
run 1 "$REEL" record --device virtual --input sine:440 --seconds 1 --min-free 100M small/full
contains err.txt "reel record: disk nearly full: 8 MiB free on $MNT (limit 100 MiB); not recording"
[ -z "$(ls small/full/audio)" ] || fail "a take was made below the limit: $(ls small/full/audio)"

# 192 kHz, two tracks, wav32f: 1.5 MB/s, so 4 MiB are gone in under 3 s.
# --seconds bounds a broken check (the writer would hit ENOSPC at 5.5 s).
run 1 "$REEL" record --device virtual --rate 192000 --input sine:440:-6 --input noise:-20 \
    --format wav32f --min-free 4M --seconds 20 --status-interval 0.5 small/sess
contains err.txt "reel record: disk nearly full: "
contains err.txt " free on $MNT (limit 4 MiB); recording stopped at 00:00:0"
lacks err.txt "No space"
free=$(sed -n 's/^reel record: disk nearly full: \([0-9.]*\) MiB free.*/\1/p' err.txt)
[ -n "$free" ] || fail "no free space in MiB in the message"
lt "$free" 4 || fail "stopped with $free MiB free, above the limit"
lt 2.5 "$free" || fail "stopped with only $free MiB free: not well before full"
grep -qE " stopped elapsed=00:00:0[0-9] frames=[0-9]+ xruns=[0-9]+ overruns=[0-9]+ lost_frames=[0-9]+ free_mib=[23] peak_db=In1:-6.0,In2:-20.0 reason=disk-full$" out.txt ||
    { cat out.txt >&2; fail "no final status line with reason=disk-full"; }
avail=$(df -B1 --output=avail "$MNT" | tail -1 | tr -d ' ')
[ "$avail" -gt $((2 * 1024 * 1024)) ] || fail "only $avail bytes left on the tmpfs"

# data_chunk FILE: "OFFSET SIZE" of the data chunk of a RIFF/RF64 WAVE file.
data_chunk() {
    lua5.4 -e "
      local f = assert(io.open('$1', 'rb')); local h = f:read(65536); f:close()
      local pos = 13
      while pos + 8 <= #h + 1 do
        local id, size = h:sub(pos, pos + 3), string.unpack('<I4', h, pos + 4)
        if id == 'data' then print(pos + 7, size) return end
        pos = pos + 8 + size + size % 2
      end
      error('no data chunk')"
}
for n in 1 2; do
    take=small/sess/audio/In${n}_T01.wav
    [ -f "$take" ] || fail "no take $take"
    f=$(frames "$take")
    [ "$f" -gt 192000 ] || fail "$take has only $f frames"
    contains out.txt "small/sess/audio/In${n}_T01.wav  $f frames"
    [ "$(json_get small/sess/session.json "j.takes[$n].frames")" = "$f" ] || fail "session frames"
    [ "$(json_get small/sess/session.json "j.takes[$n].note")" = \
      "stopped: disk nearly full: $free MiB free on $MNT (limit 4 MiB)" ] || fail "session note"
    read -r off size < <(data_chunk "$take")
    [ "$size" -eq $((f * 4)) ] || fail "$take: data chunk of $size bytes for $f frames"
    [ "$(stat -c %s "$take")" -eq $((off + size)) ] || fail "$take: size is not header + data"
    sox "$take" -n stat 2>/dev/null || fail "sox cannot read $take"
done
[ "$(frames small/sess/audio/In1_T01.wav)" = "$(frames small/sess/audio/In2_T01.wav)" ] ||
    fail "the two takes differ in length"

# 0 disables the check: the disk then fills and the writer's error ends it.
run 1 "$REEL" record --device virtual:freewheel --rate 192000 --input sine:440 --format wav32f \
    --min-free 0 --seconds 10 small/sess
contains err.txt "reel record: "
lacks err.txt "disk nearly full"
echo ok
