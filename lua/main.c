/* main.c: the `reel` command.
 *
 * Handles --help and --version itself, runs `reel run SCRIPT [ARGS...]`
 * through the script host, and dispatches every other `reel CMD ARGS...` to
 * the Lua command module reel/cli/CMD.lua (devices, new, info, record, take), whose
 * return value is the exit status. Exit statuses: 0 success, 1 error,
 * 2 bad command line. The help text mirrors share/man/reel.1.
 *
 * Threads: the control thread only (engine threads are started from Lua). */
#include <stdio.h>
#include <string.h>

#include "host.h"

static const char usage_text[] =
    "usage: reel COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "A Lua-scriptable multitrack recorder.\n"
    "\n"
    "Commands:\n"
    "  devices [--json]          list audio APIs and devices (the virtual device always)\n"
    "  new [OPTIONS] DIR         create session folder DIR (session.json, audio/)\n"
    "  info [--json] DIR         show a session: tempo, sections, tracks, takes\n"
    "  record [OPTIONS] DIR      record every input channel into session folder DIR\n"
    "  check-template [OPTIONS] T  dry-run template T (a name or a path): load,\n"
    "                            check and show it; with a device, check that every\n"
    "                            input channel exists\n"
    "  calibrate [OPTIONS]       measure a device's output-to-input round trip\n"
    "  check [OPTIONS] [RIG]     rig check before a session: per input signal or\n"
    "                            dead, level, noise floor, clipping, DC offset;\n"
    "                            per output>input loop latency and level\n"
    "  regress record [OPTIONS] FILE | regress compare [OPTIONS] REF TAKE\n"
    "                            regression recordings: record a stimulus through\n"
    "                            the rig; compare a take with a reference\n"
    "  take [OPTIONS] DIR        record takes into session DIR with the transport:\n"
    "                            punch, loop passes, pre-roll, count-in, overdubs\n"
    "  recover DIR               after a crash or a kill while recording: register the\n"
    "                            interrupted takes (DIR/journal.json, unlisted files\n"
    "                            in audio/) in session.json with a note\n"
    "  render [OPTIONS] DIR      render the session (or a variant) offline: a stereo\n"
    "                            mix of the selected takes and comps with each track's\n"
    "                            gain, pan, mute and solo; stems, one file per track\n"
    "  export DIR --to FOLDER    the handoff package for a mix engineer: mix, stems,\n"
    "                            takes used, takes/sections/tempo CSV, a MIDI tempo\n"
    "                            map with markers, REAPER and DAWproject projects\n"
    "  report [OPTIONS] DIR      the session as one self-contained HTML page: tracks,\n"
    "                            takes with status, problems and loudness, section\n"
    "                            timeline, mix loudness against targets, waveforms\n"
    "  waveform FILE --out PNG   a waveform overview picture of a sound file\n"
    "  loudness [OPTIONS] FILE|DIR...\n"
    "                            EBU R128 loudness (integrated, range, maximum\n"
    "                            momentary and short-term, true peak) and how far\n"
    "                            each file is from each delivery target; a session\n"
    "                            DIR: takes without loudness measured and stored\n"
    "  run SCRIPT.lua [ARGS...]  run a Lua script with the reel library (require \"reel\")\n"
    "  doc [--check] [MODULE]    print the Lua library reference (Markdown, as in\n"
    "                            share/doc/lua-reference.md); --check lists public\n"
    "                            functions without a doc comment\n"
    "\n"
    "Options:\n"
    "  -h, --help                show this help\n"
    "  -V, --version             show the version\n"
    "\n"
    "new options (they override the template's values):\n"
    "  --template T    a template: a name under share/templates (band) or a path\n"
    "                  to a Lua file returning a data table\n"
    "  --name NAME     the session's name (default: the folder's)\n"
    "  --rate HZ       sample rate (default 48000)\n"
    "  --tempo BPM     tempo in beats per minute (default 120)\n"
    "  --meter N/D     meter (default 4/4)\n"
    "  --format F      the session's take format: wav24 (default), wav32f, flac, rf64\n"
    "A folder that already holds a session.json is never overwritten.\n"
    "\n"
    "render options:\n"
    "  --variant NAME  render that arrangement variant (crossfaded edits, fades)\n"
    "  --out FILE      the mix (default DIR/renders/NAME[-VARIANT].wav)\n"
    "  --stems DIR     also write one file per track into DIR (pre-fader, from the\n"
    "                  session start, all of the same length)\n"
    "  --no-mix        stems only (needs --stems)\n"
    "  --format F      wav24, wav32f, flac, rf64 (default: the session's)\n"
    "  --crossfade MS  crossfade at variant edits (default 10)\n"
    "  --comp-crossfade MS  crossfade at comp switches between takes (default 10,\n"
    "                  0: hard cuts)\n"
    "  --force         replace existing files (never done otherwise)\n"
    "\n"
    "export options:\n"
    "  --to FOLDER     where the package goes: a new or empty folder\n"
    "  --variant NAME  export that arrangement variant (its mix, stems, sections)\n"
    "  --comp-crossfade MS  crossfade at comp switches (default 10, 0: hard cuts),\n"
    "                  the same in the stems, the mix and the projects' items\n"
    "  --force         write into a non-empty FOLDER, replacing files of the same names\n"
    "\n"
    "report options:\n"
    "  --out FILE      where the page goes (default DIR/report.html)\n"
    "  --width W, --height H  waveform size in pixels (default 1200 x 120)\n"
    "  --stems         also show stems (rendered for the report when none exist)\n"
    "  --no-measure    show \"not measured\" for takes without loudness\n"
    "  --latest-mix    measure only an existing render; --no-mix: no mix at all\n"
    "\n"
    "waveform options:\n"
    "  --out PNG       the picture (a file there that is not a PNG is never replaced)\n"
    "  --width W, --height H  size in pixels (default 1200 x 120)\n"
    "  --clip-level X  columns with |x| >= X are red (default 0.999)\n"
    "\n"
    "loudness options:\n"
    "  --json          print the measures and reports as JSON\n"
    "  --target NAME   report only that target, the one --normalize aims at:\n"
    "                  streaming (-14 LUFS, -1 dBTP; the default), apple (-16, -1),\n"
    "                  podcast (-16, -1), broadcast (-23, -1), atsc (-24, -2)\n"
    "  --normalize OUT write OUT, FILE times one gain: min(target - integrated,\n"
    "                  ceiling - true peak), so never over the true-peak ceiling;\n"
    "                  measured again; an existing OUT is never replaced\n"
    "\n"
    "info options:\n"
    "  --json          print the session document as JSON\n"
    "  --variant NAME  show that arrangement variant: its sections with positions\n"
    "                  and durations, its tracks\n"
    "\n"
    "record options:\n"
    "  --device SPEC   \"\" (auto: JACK when a server runs, else virtual), virtual,\n"
    "                  virtual:freewheel, jack, alsa[:NAME], pulse[:NAME]\n"
    "  --input SPEC    a source for the virtual device (chosen when --device is not\n"
    "                  given), repeatable: a sound file or a generator: silence,\n"
    "                  sine:FREQ[:DB], noise[:white|pink][:DB], impulse:PERIOD[:DB],\n"
    "                  sweep:F0:F1:SECONDS[:DB], mls:ORDER[:DB]\n"
    "  --channels N    input channels to record, one track each (default: all)\n"
    "  --seconds S     stop after S seconds (default: until Ctrl-C)\n"
    "  --format F      wav24 (default), wav32f, flac, rf64\n"
    "  --rate HZ       sample rate (virtual default 48000; JACK uses the server's)\n"
    "  --period N      frames per period (default 256; JACK uses its own)\n"
    "  --name CLIENT   JACK client name (default reel)\n"
    "  --no-connect    leave JACK ports unconnected\n"
    "  --no-loudness   do not measure the takes' loudness after recording (by\n"
    "                  default up to 1200 s of audio, seconds x tracks, are)\n"
    "  --min-free SIZE keep SIZE free on the session's disk: refuse to start below\n"
    "                  it, stop the take cleanly there (exit status 1); 500M, 2G,\n"
    "                  1%, 0 (off); default 1% of the disk, at most 512M\n"
    "  --max-lost S    stop the take (exit status 1) once more than S seconds of\n"
    "                  audio are lost to overruns on a track: the disk cannot keep\n"
    "                  up (default 1; 0: at the first overrun). Shorter losses are\n"
    "                  silence at their positions, listed in the summary\n"
    "  --ring-seconds S\n"
    "                  audio each track holds in memory for a slow or stalled\n"
    "                  disk, 1 to 600 (default 5): longer stalls lose audio\n"
    "  --status FILE   append a status line (time, elapsed, frames, xruns, overruns,\n"
    "                  free disk, peaks) to FILE (- for stdout) at the start, every\n"
    "                  --status-interval seconds (default 10) and at the end\n"
    "  --status-interval N\n"
    "                  seconds between status lines; without --status: to stdout\n"
    "  --start-at TIME wait until TIME to start: HH:MM[:SS] (the next one) or\n"
    "                  YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]; Ctrl-C while waiting cancels\n"
    "  --stop-at TIME  stop at TIME (HH:MM counts from the start); with --seconds,\n"
    "                  whichever comes first\n"
    "\n"
    "Tracks are named In1, In2, ...; takes go to DIR/audio/<Track>_T<NN>.<ext> with\n"
    "the next free take number, never overwriting.\n"
    "\n"
    "take options (POS: samples 96000, seconds 12.5s, bars:beats 9:1 or 9:2.5, or a\n"
    "section name such as \"Chorus 2\"; inside the session, from 1:1 to the end of\n"
    "its last section):\n"
    "  --track NAME    a track to record, repeatable (default: all the session's)\n"
    "  --from POS      where playback starts (default: the punch in or the loop\n"
    "                  start, else 1:1)\n"
    "  --to POS        where the transport stops (default: the punch out without a\n"
    "                  loop, else when the passes are done or at Ctrl-C)\n"
    "  --punch IN..OUT | --punch SECTION\n"
    "                  record only from IN up to OUT, or over the section\n"
    "  --loop A..B | --loop SECTION\n"
    "                  cycle the range, one take per pass (with --punch inside it:\n"
    "                  the punch range of each pass)\n"
    "  --passes N      with --loop: stop after N passes (default: at Ctrl-C)\n"
    "  --count-in BARS bars of click before the pre-roll, playback muted\n"
    "  --preroll BARS  bars played before --from\n"
    "  --click MODE    off, always or recording (count-in and recording rolls);\n"
    "                  default: recording with a count-in, else off\n"
    "  --latency FRAMES  round trip that aligns takes with the playback (default:\n"
    "                  the session's latency, else the device's profile from\n"
    "                  reel calibrate, else what the device reports)\n"
    "  --no-playback   do not play the selected takes of the other tracks\n"
    "  --comp-crossfade MS  crossfade at the comp switches of the tracks that\n"
    "                  play, as reel render makes it (default 10, 0: hard cuts)\n"
    "  --play          play only: roll over the range (loop, passes, pre-roll,\n"
    "                  count-in, click) without recording anything\n"
    "  --backing FILE[@POS]  also play a sound file from POS (default 1:1);\n"
    "                  repeatable\n"
    "  --device SPEC, --input SPEC  as for record\n"
    "  --loopback OUT>IN[,OUT>IN...]  virtual device: cables from its outputs to its\n"
    "                  inputs (a simulated rig, e.g. 1>1)\n"
    "  --loopback-latency N  their round trip in frames (default: one period)\n"
    "\n"
    "check-template options:\n"
    "  --device SPEC   open this device briefly and check the template fits it\n"
    "  --channels N    input channels to open (virtual; real devices: all they have)\n"
    "  --input SRC     a virtual device source, repeatable (chooses the virtual device)\n"
    "  --name CLIENT   JACK client name\n"
    "\n"
    "calibrate options:\n"
    "  --device SPEC   as for record\n"
    "  --out N         output that plays the test signal, an MLS (default 1)\n"
    "  --in M          input that records it back (default 1)\n"
    "  --name CLIENT   JACK client name (default reel)\n"
    "  --connect       JACK (default): loop CLIENT:outport N-1 to CLIENT:inport M-1\n"
    "  --no-connect    JACK: ports go to the system ports; a cable is the loop\n"
    "  --loopback OUT>IN  --loopback-latency FRAMES\n"
    "                  virtual device only: a simulated cable (default one period)\n"
    "  --rate HZ  --period N   as for record\n"
    "  --order N       MLS order 10..20 (default 16: 65535 frames)\n"
    "  --level DB      test signal level in dBFS (default -12)\n"
    "  --max-latency FRAMES  longest round trip looked for (default 1 s)\n"
    "  --json          print the result as JSON\n"
    "  --no-save       do not store it in the latency profile (latency.json in\n"
    "                  $REEL_CONFIG_DIR, $XDG_CONFIG_HOME/reel or ~/.config/reel)\n"
    "\n"
    "check options (RIG: a rig description, a path or a name under share/rigs,\n"
    "e.g. example; without it every input is recorded and only clipping and DC\n"
    "offset are checked):\n"
    "  --device SPEC   as for record (default: the rig file's device)\n"
    "  --seconds S     how long the inputs are recorded (default: the rig's, 2)\n"
    "  --json          print the measurements and checks as JSON\n"
    "  --junit FILE    also write JUnit XML, one testcase per check, for CI\n"
    "  --input SPEC, --loopback OUT>IN, --loopback-latency N\n"
    "                  a simulated rig on the virtual device (override the rig's)\n"
    "  --rate HZ, --period N, --name CLIENT, --no-connect  as for record\n"
    "  --connect       JACK: make each loop a connection CLIENT:outport N-1 ->\n"
    "                  CLIENT:inport M-1 (a cable in software)\n"
    "Exit status 0 when every check passes, 1 when one fails, 2 for a bad\n"
    "command line or rig file (the message names the file, line and field).\n"
    "\n"
    "regress record options (FILE: the recording, never replaced):\n"
    "  --stimulus SIGNAL  a sound file, or a generator (needs --seconds)\n"
    "  --out N         play the stimulus on output N alone (default: play nothing)\n"
    "  --in M          the input recorded (default 1)\n"
    "  --seconds S     length (default: the stimulus file's)\n"
    "  --no-align      keep the recording as it came (default with --out: aligned\n"
    "                  to the stimulus by cross-correlation and cut to its length)\n"
    "  --max-latency N frames searched when aligning (default: one second)\n"
    "  --format F      wav32f (default), wav24, flac, rf64\n"
    "  --json          print the result as JSON\n"
    "  --connect       JACK: connect CLIENT:outport N-1 to CLIENT:inport M-1\n"
    "  --against REF   then compare FILE with the reference REF (exit 1 if it\n"
    "                  differs); --tolerance goes with it\n"
    "  --device, --input, --loopback, --loopback-latency, --rate, --period, --name\n"
    "                  as for check\n"
    "regress compare options:\n"
    "  --tolerance KEY=VALUE  repeatable: alignment (frames, 1), level_db (0.5),\n"
    "                  block_level_db (3), noise_db (-40), noise_floor_db (-80),\n"
    "                  max_abs_diff (0.001), dropout_db (-100), min_dropout (16),\n"
    "                  block (frames, 10 ms), max_shift (frames, 0.5 s),\n"
    "                  align (true), channel (1), take_channel,\n"
    "                  method (samples or spectrum), spectrum_db (1)\n"
    "  --json          print the report as JSON\n"
    "Positions are reference frames from 0; regions (dropout, level, noise) give\n"
    "their first and last frame.\n"
    "\n"
    "Ctrl-C ends a recording and keeps it. A full or failing disk, a lost device\n"
    "(the JACK server gone) or a disk that cannot keep up ends it too, the takes\n"
    "closed and kept, with the cause and position on stderr. One process writes a\n"
    "session at a time (its lock, DIR/.reel.lock): record, take, loudness, recover\n"
    "and scripts that save refuse, writing nothing, while another holds it; info,\n"
    "render, export and report need no lock. Exit status: 0\n"
    "success, 1 error (also a take stopped by --min-free or --max-lost, a disk or\n"
    "device fault), 2 bad command line. See reel(1).\n";

static void usage(FILE *f) { fputs(usage_text, f); }

/* After a command-line mistake: the synopsis and the commands only. */
static void short_usage(FILE *f)
{
    const char *end = strstr(usage_text, "\nOptions:");
    fwrite(usage_text, 1, end ? (size_t)(end - usage_text) : strlen(usage_text), f);
    fputs("\nRun 'reel --help' for the options, or see reel(1).\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        short_usage(stderr);
        return REEL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return REEL_EXIT_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("reel %s\n", REEL_VERSION);
        return REEL_EXIT_OK;
    }
    if (cmd[0] == '-') {
        fprintf(stderr, "reel: unknown option '%s'\n\n", cmd);
        short_usage(stderr);
        return REEL_EXIT_USAGE;
    }
    int is_run = strcmp(cmd, "run") == 0;
    if (!is_run && argc >= 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
        usage(stdout);
        return REEL_EXIT_OK;
    }
    if (is_run && argc < 3) {
        fprintf(stderr, "reel run: missing SCRIPT (a Lua file to run, or - for stdin)\n\n");
        short_usage(stderr);
        return REEL_EXIT_USAGE;
    }

    lua_State *L = reel_host_new();
    if (!L)
        return REEL_EXIT_ERROR;
    int status;
    if (is_run) {
        status = reel_host_run_script(L, argv[0], argv[2], argc - 3, argv + 3);
    } else {
        status = reel_host_run_command(L, cmd, argc - 2, argv + 2);
        if (status < 0) {
            fprintf(stderr, "reel: unknown command '%s'\n\n", cmd);
            short_usage(stderr);
            status = REEL_EXIT_USAGE;
        }
    }
    reel_host_close(L);
    return status;
}
