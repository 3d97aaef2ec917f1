#!/bin/bash
# report_browser.sh: `reel report` renders in a real browser. A session with
# sections (two choruses), three tracks and takes (one selected, one
# rejected, one clipped) is recorded on the virtual device; its report page
# is opened in headless Chromium (Debian's chromium package, which
# .ci/deps installs: missing, this test fails rather than skips). The
# screenshot must be a 1280x2000 PNG that is not blank: mostly the white
# page, but with thousands of pixels of the section timeline's colours and
# of the waveforms, and many colours (text); the DOM Chromium built must
# hold the session name, the track names, "Chorus", a take status and a
# loudness figure, and no element from the session's strings.
. "$REEL_SOURCE_DIR/tests/cli/lib.sh"

command -v chromium >/dev/null || fail "chromium is not installed (.ci/deps installs Debian's chromium)"

cat > mk.lua <<'EOF'
local reel = require "reel"
local s = assert(reel.new(arg[1], { tempo = 120, sections = {
  { "Intro", 1 }, { "Verse", 2 }, { "Chorus", 2 }, { "Verse", 2 }, { "Chorus", 2 } } }))
s:track{ name = "Vox", input = 1 }
s:track{ name = "Bass", input = 2 }
s:track{ name = "Gtr <b>&amp;", input = 3 }
local dev = reel.device{ spec = "virtual:freewheel",
  inputs = { "sine:330:-12", "sine:55:-6", "sine:440:0" } }
assert(s:record{ seconds = 1, device = dev, meter = false })
s:arm("Bass", false)
s:arm("Gtr <b>&amp;", false)
assert(s:record{ seconds = 1, device = dev, meter = false })
s:select("Vox", 2)
s:set_status("Vox", 1, "rejected", "pitchy")
assert(s:save())
EOF
run 0 "$REEL" run mk.lua "$T/Night Session"
run 0 "$REEL" report "$T/Night Session" --out "$T/report.html"
contains out.txt "$T/report.html: 4 takes"
[ -s "$T/report.html" ] || fail "no report written"
# Self-contained: nothing fetched from anywhere.
lacks "$T/report.html" "http://"
lacks "$T/report.html" "https://"
lacks "$T/report.html" "<script"
lacks "$T/report.html" "<b>&amp;"

# The commands' own mistakes and refusals (exit 2: command line, 1: files).
run 2 "$REEL" report
contains err.txt "reel report: missing DIR (the session folder)"
run 2 "$REEL" report "$T/Night Session" --width 0
contains err.txt "reel report: --width must be a whole number from 1 to 16384, got '0'"
run 1 "$REEL" report "$T/nope"
contains err.txt "reel report: $T/nope"
run 1 "$REEL" report "$T/Night Session" --out "$T/Night Session/session.json" --no-mix
contains err.txt "session.json: exists and is not an HTML page; not replacing it"
take="$T/Night Session/audio/Vox_T01.wav"
sum_before=$(md5sum <"$take")
run 1 "$REEL" waveform "$take" --out "$take"
contains err.txt "exists and is not a PNG; not replacing it"
[ "$(md5sum <"$take")" = "$sum_before" ] || fail "the take changed"
run 2 "$REEL" waveform "$take"
contains err.txt "reel waveform: missing --out PNG"
run 0 "$REEL" waveform "$take" --out "$T/vox1.png" --width 300 --height 40
contains out.txt "48000 frames, 1 channel at 48000 Hz, peak -12.0 dBFS, 0 clipped -> $T/vox1.png (300x40)"

export HOME="$T/home"
mkdir -p "$HOME"
chrome() {
    timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$T/chrome" --no-first-run --disable-extensions "$@"
}
chrome --screenshot="$T/shot.png" --window-size=1280,2000 "file://$T/report.html" \
    >chrome.out 2>chrome.err || { cat chrome.err >&2; fail "chromium --screenshot failed"; }
[ -s "$T/shot.png" ] || { cat chrome.err >&2; fail "chromium wrote no screenshot"; }
chrome --dump-dom "file://$T/report.html" >dom.html 2>chrome.err \
    || { cat chrome.err >&2; fail "chromium --dump-dom failed"; }

# The screenshot, decoded with reel's own libpng binding.
cat > look.lua <<'EOF'
local waveform = require "reel.waveform"
local img = assert(waveform.read_png(arg[1]))
local counts = {}
for i = 1, #img.rgb, 3 do
  local px = img.rgb:sub(i, i + 2)
  counts[px] = (counts[px] or 0) + 1
end
local function n(hex)
  return counts[string.char(tonumber(hex:sub(1, 2), 16), tonumber(hex:sub(3, 4), 16),
    tonumber(hex:sub(5, 6), 16))] or 0
end
print(("size %dx%d"):format(img.width, img.height))
print(("colours %d"):format(img.colours))
print(("common %s %d"):format(img.common, img.common_count))
print(("nonwhite %d"):format(img.width * img.height - n("ffffff")))
-- Section blocks: Intro, Verse 1, Chorus 1, Verse 2, Chorus 2 (report.lua's c0..c4).
print(("intro %d"):format(n("3d6fd1")))
print(("chorus %d"):format(n("c9772b") + n("c2415d")))
-- Waveform bars (reel.waveform's blue), scaled by the browser: the solid
-- middles of the bars keep the exact colour.
print(("wave %d"):format(n("2a64c8")))
EOF
run 0 "$REEL" run look.lua "$T/shot.png"
cp out.txt look.txt
val() { awk -v k="$1" '$1 == k { print $2 }' look.txt; }
[ "$(val size)" = "1280x2000" ] || fail "screenshot is $(val size), expected 1280x2000"
[ "$(awk '$1 == "common" { print $2 }' look.txt)" = "#ffffff" ] || { cat look.txt >&2; fail "the page background is not white"; }
# Not blank: a blank page is one colour; this one has text (anti-aliased:
# many colours), the timeline and waveforms.
[ "$(val colours)" -gt 50 ] || { cat look.txt >&2; fail "screenshot has only $(val colours) colours"; }
[ "$(val nonwhite)" -gt 100000 ] || { cat look.txt >&2; fail "screenshot is nearly blank"; }
[ "$(val intro)" -gt 1000 ] || { cat look.txt >&2; fail "the Intro block of the timeline is not drawn"; }
[ "$(val chorus)" -gt 4000 ] || { cat look.txt >&2; fail "the Chorus blocks of the timeline are not drawn"; }
[ "$(val wave)" -gt 3000 ] || { cat look.txt >&2; fail "no waveform drawn"; }

# The DOM the browser built.
contains dom.html '<h1 id="session-name">Night Session</h1>'
contains dom.html '<h3 class="track-name">Vox</h3>'
contains dom.html '<h3 class="track-name">Bass</h3>'
contains dom.html '<h3 class="track-name">Gtr &lt;b&gt;&amp;amp;</h3>'
contains dom.html 'Chorus 1'
contains dom.html 'Chorus 2'
contains dom.html '<span class="status selected">selected</span>'
contains dom.html '<span class="status rejected">rejected</span>'
contains dom.html 'clipped'
grep -qE '<td class="loudness">-[0-9]+\.[0-9] LUFS' dom.html || fail "no loudness figure of a take in the DOM"
grep -qE 'class="mix-source">rendered for this report' dom.html || fail "the mix's source is not stated"
lacks dom.html "<b>&amp;"
[ "$(grep -c '<img class="wave"' dom.html)" -ge 4 ] || fail "fewer waveform pictures than takes"
echo "report_browser: ok ($(tr '\n' ' ' <look.txt))"
