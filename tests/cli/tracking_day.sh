# scripts/examples/tracking_day.lua end to end on the virtual device in
# freewheel (480 bpm, one bar per section: a bar is 24000 samples, the song
# six bars): drums and bass over the whole song, three vocal passes per
# chorus of which the stand-in singer's second clips (64 samples, half way
# through the pass), so the policy rejects exactly that take and one more
# pass is recorded; comps by rule. session.json is read by lua5.4 + cjson,
# the take files by sox.
. "$(dirname "$0")/lib.sh"

EX="$REEL_SOURCE_DIR/scripts/examples/tracking_day.lua"
run 0 "$REEL" run "$EX" day --tempo 480 --bars 1
contains out.txt "Vox take 2: rejected by policy: clipped 64 samples"
contains out.txt "Vox take 6: rejected by policy: clipped 64 samples"
contains out.txt "  Vox        Chorus 1=T03 Chorus 2=T07"
contains out.txt "Session: day/session.json (15 takes)"

j() { json_get day/session.json "$1"; }
# takes of one track as "NUMBER:STATUS:START:FRAMES ..."
takes_of() {
    j "(function() local o = {} for _, t in ipairs(j.takes) do if t.track == '$1' then
         o[#o + 1] = ('%d:%s:%d:%d'):format(t.take, t.status, t.start, t.frames) end end
         return table.concat(o, ' ') end)()"
}
[ "$(takes_of Kick)" = "1:kept:0:144000 2:kept:0:144000" ] || fail "Kick takes: $(takes_of Kick)"
[ "$(takes_of Overheads)" = "1:kept:0:144000 2:kept:0:144000" ] || fail "Overheads: $(takes_of Overheads)"
[ "$(takes_of Bass)" = "1:kept:0:144000" ] || fail "Bass takes: $(takes_of Bass)"
# Chorus 1 is bar 3 (48000..72000), Chorus 2 bar 5 (96000..120000)
want="1:kept:48000:24000 2:rejected:48000:24000 3:kept:48000:24000 4:kept:48000:24000"
want="$want 5:kept:96000:24000 6:rejected:96000:24000 7:kept:96000:24000 8:kept:96000:24000"
[ "$(takes_of Vox)" = "$want" ] || fail "Vox takes: $(takes_of Vox)"
# vox N FIELD: a field of Vox take N
vox() { j "(function() for _, t in ipairs(j.takes) do if t.track == 'Vox' and t.take == $1 then return t.$2 end end end)()"; }
[ "$(vox 2 note)" = "rejected by policy: clipped 64 samples" ] || fail "note: $(vox 2 note)"
[ "$(vox 2 clipped)" = 64 ] || fail "clipped: $(vox 2 clipped)"
[ "$(vox 1 clipped)" = 0 ] && [ "$(vox 1 note)" = nil ] || fail "take 1: $(vox 1 clipped) $(vox 1 note)"
[ "$(vox 1 section)" = "Chorus 1" ] && [ "$(vox 8 section)" = "Chorus 2" ] || fail "sections"
# The retry is a new roll: pass 0 again.
[ "$(vox 3 pass)" = 2 ] && [ "$(vox 4 pass)" = 0 ] || fail "passes: $(vox 3 pass) $(vox 4 pass)"

# comps: drums and bass in every section, the vocal's loudest unclipped pass
comps() {
    j "(function() local o = {} for _, c in ipairs(j.comps) do
         o[#o + 1] = ('%s/%s/%d/%d'):format(c.track, c.section, c.bar, c.take) end
         return table.concat(o, ' ') end)()"
}
c=$(comps)
for t in Kick Snare Overheads; do
    case "$c" in *"$t/Intro/1/2 $t/Verse 1/2/2 $t/Chorus 1/3/2 $t/Verse 2/4/2 $t/Chorus 2/5/2 $t/Outro/6/2"*) ;;
        *) fail "$t comps: $c" ;; esac
done
case "$c" in *"Bass/Intro/1/1"*"Bass/Outro/6/1"*) ;; *) fail "Bass comps: $c" ;; esac
case "$c" in *"Vox/Chorus 1/3/3 Vox/Chorus 2/5/7"*) ;; *) fail "Vox comps: $c" ;; esac
# and `reel info` shows them, a line per track
run 0 "$REEL" info day
contains out.txt "Comps ("
grep -qE '^  Vox +Chorus 1 T03, Chorus 2 T07$' out.txt || { cat out.txt >&2; fail "reel info: Vox comps"; }
grep -qE '^  Bass +Intro T01, ' out.txt || { cat out.txt >&2; fail "reel info: Bass comps"; }

# The rejected take's clip is where the stand-in put it: 12000..12063.
sox day/audio/Vox_T02.wav -t dat - | awk '!/^;/ { if ($2 > 0.999 || $2 < -0.999) print n; n++ }' > clip.txt
[ "$(head -1 clip.txt)" = 12000 ] && [ "$(tail -1 clip.txt)" = 12063 ] && [ "$(wc -l < clip.txt)" = 64 ] ||
    fail "clipped frames of Vox_T02: $(head -1 clip.txt)..$(tail -1 clip.txt) ($(wc -l < clip.txt))"
[ "$(frames day/audio/Vox_T04.wav)" = 24000 ] || fail "Vox_T04 frames"

# A second run adds to the same session: numbers go on, nothing is overwritten.
cp day/audio/Vox_T03.wav keep.wav
run 0 "$REEL" run "$EX" day --tempo 480 --bars 1
[ "$(j '#j.takes')" = 30 ] || fail "takes after a second day: $(j '#j.takes')"
[ "$(maxdiff keep.wav day/audio/Vox_T03.wav)" = 0.000000 ] || fail "Vox_T03 changed"
contains out.txt "Vox take 10: rejected by policy: clipped 64 samples"

# Bad options: exit 2 with a message.
run 2 "$REEL" run "$EX" day --bars x
contains err.txt "tracking_day: --tempo takes beats per minute, --bars a whole number"
