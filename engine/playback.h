/* playback.h: existing takes and backing files streamed from disk to the
 * audio thread, for overdubs.
 *
 * A playback owns sources (a mono or stereo sound file placed on the session
 * timeline), one lock-free ring per source sized in seconds (default 5 s) and
 * a private reader thread that keeps every ring full ahead of the audio
 * thread, reading in large chunks (up to 16k frames) and polling every 10 ms.
 *
 * The play order. reel_playback_prepare fixes the timeline positions the
 * audio thread will ask for, in order: pos, pos + 1, ... and, with a loop
 * whose end lies after pos, back to loop_start each time loop_end is reached
 * (so pos may lie before the loop or inside it; a pos at or after loop_end
 * never reaches the loop and plays straight on). This is the order the
 * transport produces (transport.h); the reader fills each ring with the
 * source's frames in exactly that order, silence where the timeline lies
 * outside the file, so a loop that crosses the end of a file plays the file's
 * tail and then silence up to loop_end on every pass.
 *
 * Comp crossfades. A region with fades (reel_playback_set_region_fades)
 * sounds on hin frames before its start and hout frames past its end, read
 * from its file's frames around the region, weighted as render.h's comp
 * switches are: rising over the 2*hin frames [start - hin, start + hin),
 * falling over [end - hout, end + hout), the same equal-power quarter waves
 * computed the same way (render.c's ramp(), in double, then float times the
 * file's float sample). Two regions that meet at a switch with the same h
 * (the outgoing one's hout, the incoming one's hin) thus add up, in the
 * audio thread's sum of the sources, to the render's crossfade. The weights
 * depend on the timeline position only, so loops and locates through a zone
 * give the same samples at each position. The reader does the weighting;
 * the audio thread does no more than for any other source.
 *
 * Alignment. The audio thread names the positions it wants. When they are the
 * next ones in the play order the frames come from the ring. When the ring
 * runs short (disk too slow) the missing frames are silence, the call still
 * counts as having consumed them, and the frames the reader delivers late are
 * dropped, so the next call at the next position is sample-exact again. When
 * the position is not the expected one (a locate nobody prepared), a position
 * the play order reaches later (ahead, or after a loop wrap) is skipped to;
 * one it never reaches gives silence and leaves the expected position as it
 * was. Lost frames are counted only where the source has sound (inside its
 * file range, or its region and fades): silence standing in for silence is
 * no loss.
 *
 * Threads:
 *  - control thread: create, destroy, add, clear, prepare, stop, statistics.
 *    prepare and stop are meant for a stopped transport, but they are safe
 *    even if the audio thread is still inside read_rt: they make the audio
 *    thread output silence first and wait until it has left the call.
 *  - audio thread (the only consumer): reel_playback_read_rt and
 *    reel_playback_ready_rt; no allocation, locks, I/O or printf.
 *  - reader thread (private): the only producer after prepare has returned.
 */
#ifndef REEL_PLAYBACK_H
#define REEL_PLAYBACK_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"
#include "rt.h"
#include "transport.h"   /* REEL_POS_NONE */

#define REEL_PLAYBACK_MAX_SOURCES 1024

typedef struct reel_playback reel_playback;

/* Creates an idle playback for files at `rate` Hz with rings of ring_seconds
 * per source (0: 5 s; otherwise 1 to 600). Returns 0, or REEL_EINVAL /
 * REEL_ENOMEM with a message. Control thread. */
int reel_playback_create(reel_playback **out, unsigned rate, double ring_seconds,
                         char *errmsg);

/* Stops the reader thread, closes the files, frees everything. The audio
 * thread must no longer call into pb. NULL is fine. Control thread. */
void reel_playback_destroy(reel_playback *pb);

/* Adds the sound file at path (any format libsndfile reads, 1 or 2 channels,
 * sample rate equal to the playback's) so that its frame 0 plays at timeline
 * position timeline_start (may be negative). Opens the file and allocates its
 * ring. Returns the source index (0, 1, ... in the order of adding) or:
 *   REEL_ENOTFOUND  "playback: PATH: No such file or directory"
 *   REEL_EINVAL     "playback: PATH: sample rate 44100 Hz does not match the
 *                    playback rate 48000 Hz"
 *   REEL_EFORMAT    not a sound file, or "playback: PATH: 6 channels (only
 *                   mono and stereo files can be played)"
 *   REEL_ESTATE     while prepared (call reel_playback_stop first)
 * Control thread, only while idle. */
int reel_playback_add(reel_playback *pb, const char *path, int64_t timeline_start,
                      char *errmsg);

/* Like reel_playback_add, but plays only `frames` frames of the file from
 * frame file_offset (a region of a take, for comps), so that file frame
 * file_offset plays at timeline_start; around the region the source is
 * silence. frames < 0 means up to the file's end. Besides add's errors:
 *   REEL_EINVAL  "playback: PATH: region offset O is outside the file (N frames)",
 *                "playback: PATH: region of F frames from frame O ends after the
 *                 file's end (N frames)"
 * reel_playback_source_frames gives the region's length. Control thread,
 * only while idle. */
int reel_playback_add_region(reel_playback *pb, const char *path, int64_t timeline_start,
                             int64_t file_offset, int64_t frames, char *errmsg);

/* Gives source `source` (a region) comp crossfades of half-lengths hin at
 * its start and hout at its end (see Comp crossfades above; 0: a hard edge,
 * as added). The frames they read must exist in the file: hin at most the
 * region's file offset, hout at most the file's frames after the region,
 * and the two zones must not overlap (hin + hout at most the region's
 * length). Returns 0 or:
 *   REEL_EINVAL  "playback: no source 7",
 *                "playback: fade lengths must not be negative (hin -1, hout 0)",
 *                "playback: PATH: a fade-in of H frames reaches before the file's
 *                 start (the region starts at frame O)",
 *                "playback: PATH: a fade-out of H frames reaches past the file's
 *                 end (N frames after the region)",
 *                "playback: PATH: fades of H1 + H2 frames overlap in a region of
 *                 F frames"
 *   REEL_ESTATE  while prepared.
 * Control thread, only while idle. */
int reel_playback_set_region_fades(reel_playback *pb, unsigned source, int64_t hin,
                                   int64_t hout, char *errmsg);

/* Removes all sources. REEL_ESTATE while prepared. Control thread. */
int reel_playback_clear(reel_playback *pb);

unsigned reel_playback_source_count(const reel_playback *pb);
/* 1 or 2; 0 for an index that does not exist. */
unsigned reel_playback_source_channels(const reel_playback *pb, unsigned source);
/* Length of the source in frames (its file's, or its region's); 0 for an
 * index that does not exist. */
uint64_t reel_playback_source_frames(const reel_playback *pb, unsigned source);

/* Sets the play order (see the top of this file) starting at pos, with the
 * loop [loop_start, loop_end) or none (both REEL_POS_NONE), then empties the
 * rings, fills each to at least one second (blocking), starts the reader
 * thread (or lets it continue) and resets the statistics. Called again, it
 * simply replaces the order (a locate). Returns 0 or:
 *   REEL_EINVAL  "playback: position P is out of range",
 *                "playback: loop start and loop end must be set together",
 *                "playback: loop end (E) is not after loop start (S)"
 *   REEL_EIO     a file could not be read during the fill (the playback is
 *                still prepared; what could not be read plays as silence)
 *   REEL_ENOMEM  the reader thread could not be started (stays idle).
 * Positions must lie within +-2^62. Control thread. */
int reel_playback_prepare(reel_playback *pb, int64_t pos, int64_t loop_start,
                          int64_t loop_end, char *errmsg);

/* Back to idle: the reader pauses, read_rt gives silence (REEL_ESTATE) until
 * the next prepare, and sources may be added or cleared. Idempotent. Control
 * thread. */
void reel_playback_stop(reel_playback *pb);

/* Non-zero while prepared. Any thread. */
int reel_playback_prepared(const reel_playback *pb);

/* Audio thread: writes (does not mix) the source's frames for the timeline
 * positions [pos, pos + frames), which should be the next ones in the play
 * order, into out_l and out_r (separate channel buffers, frames floats each,
 * not overlapping). A mono source goes to out_l and, when out_r is not NULL,
 * the same samples to out_r; a stereo source needs both. Positions outside
 * the play order or missing from the ring give silence (see Alignment).
 * Give one contiguous run of positions per call: split at a loop wrap, as the
 * transport's spans are. frames may exceed the ring's size (the excess is
 * silence).
 * Returns the number of frames of the file that were due and came out as
 * silence (0 normally), or: REEL_ESTATE when not prepared, REEL_EINVAL for a
 * source that does not exist, out_l NULL, out_r NULL with a stereo source,
 * pos outside +-2^62 (REEL_POS_NONE, say) or frames > INT_MAX; the outputs
 * given are then silence (except for frames > INT_MAX, when nothing is
 * written) and the expected position does not move. Wait-free. */
REEL_NONBLOCKING int reel_playback_read_rt(reel_playback *pb, unsigned source, int64_t pos,
                                           unsigned frames, float *out_l, float *out_r);

/* Audio thread (the consumer; the virtual freewheel device calls its ready()
 * on that thread): non-zero when every source's ring holds the next `frames`
 * frames of the play order, so a read of that many frames at the expected
 * position cannot run short. Drops frames already given up on, which is why
 * it belongs to the consumer. Non-zero when not prepared (waiting would not
 * help). frames larger than a ring never become ready. Wait-free. */
REEL_NONBLOCKING int reel_playback_ready_rt(reel_playback *pb, unsigned frames);

typedef struct reel_playback_stats {
    unsigned underruns;         /* runs of consecutive calls that lost file frames */
    uint64_t lost_frames;       /* file frames that came out as silence */
    int64_t first_underrun_pos; /* timeline position of the first lost frame, or REEL_POS_NONE */
    unsigned jumps;             /* read_rt calls whose pos was not the expected one */
} reel_playback_stats;

/* Since the last prepare, all sources together. Any thread. */
unsigned reel_playback_underruns(const reel_playback *pb, int64_t *first_pos);
void reel_playback_get_stats(const reel_playback *pb, reel_playback_stats *st);

/* 0 while every read since the last prepare succeeded; otherwise the first
 * error's code (REEL_EIO) and, in errmsg, e.g.
 * "playback: PATH: read failed at frame 50000: the file ends early".
 * Failed reads play as silence and are not underruns. Any thread. */
int reel_playback_reader_status(const reel_playback *pb, char *errmsg);

#endif
