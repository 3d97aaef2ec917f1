# A Lua error raised while recording: the take stops, its file is closed
# valid with what was recorded, the error is reported as file:line: message
# with a traceback, the exit status is 1. Same for os.exit mid-take.
. "$(dirname "$0")/lib.sh"

cat > take.lua <<'LUA'
local reel = require "reel"
local s = assert(reel.session(arg[1]))
s:track{ name = "Vox", input = 1 }
s:track{ name = "Gtr", input = { 2, 3 } }
local band = reel.device{ spec = "virtual", inputs = { "sine:440:-6", "noise:white:-20", "sine:220" } }
s:record{ seconds = 30, device = band, progress = function(p)
  if p.seconds >= 0.8 then error("boom at frame " .. p.frames) end
end }
LUA
run 1 "$REEL" run take.lua sess
grep -qE '^take.lua:7: boom at frame [0-9]+$' err.txt || { cat err.txt >&2; fail "error line"; }
contains err.txt "stack traceback:"
contains err.txt "take.lua:6: in main chunk"
for t in Vox_T01 Gtr_T01; do
    f=sess/audio/$t.wav
    [ -f "$f" ] || fail "no $f"
    n=$(frames "$f")
    [ "$n" -ge 38400 ] && [ "$n" -le 144000 ] || fail "$f has $n frames"
    sox "$f" -n stat 2>/dev/null || fail "sox cannot read $f"
done
[ "$(soxi -c sess/audio/Gtr_T01.wav 2>/dev/null)" = 2 ] || fail "Gtr is not stereo"
json_get sess/session.json 'j.takes[1].note' | grep -q "stopped by an error: take.lua:7: boom" ||
    fail "session.json does not record the error"

# os.exit in the middle of a take: status kept, take closed.
cat > quit.lua <<'LUA'
local reel = require "reel"
local s = assert(reel.session(arg[1]))
s:track{ name = "Vox", input = 1 }
s:record{ seconds = 30, device = reel.device{ spec = "virtual", inputs = { "sine:440" } },
  progress = function(p) if p.seconds >= 0.5 then os.exit(3) end end }
LUA
run 3 "$REEL" run quit.lua q
n=$(frames q/audio/Vox_T01.wav)
[ "$n" -ge 24000 ] && [ "$n" -le 144000 ] || fail "os.exit take has $n frames"
[ "$(json_get q/session.json 'j.takes[1].frames')" = "$n" ] || fail "os.exit take not in session"
echo ok
