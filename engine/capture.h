/* capture.h: the capture path from device inputs to take files.
 *
 * A capture owns the tracks (a name and one or two device input channels
 * each), one lock-free ring per armed track sized in seconds (default 5 s),
 * and the disk-writer thread that drains the rings in large chunks into one
 * file per track per take (writer.h).
 *
 * Threads:
 *  - control thread: create, add tracks, arm, start, poll, stop, stats;
 *  - audio thread: reel_capture_process_rt only (copies armed inputs into the
 *    rings, meters, counts xruns and overruns; no allocation, locks, I/O);
 *  - writer thread (private): drains rings, fills lost frames with silence
 *    at their exact positions, syncs headers twice a second.
 *
 * Timeline guarantees: a take starts at the first frame of the first period
 * after reel_capture_start (its device position is the bext time reference)
 * and is exactly max_frames long when max_frames is set. When a ring is full
 * the audio thread drops that period for that track and records the gap
 * (position, frames); the writer writes the same number of silent frames in
 * its place, so every take stays aligned with the device timeline. */
#ifndef REEL_CAPTURE_H
#define REEL_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "reel_error.h"
#include "transport.h"
#include "writer.h"

#define REEL_CAPTURE_MAX_TRACKS 1024
#define REEL_CAPTURE_MAX_EVENTS_LOGGED 256 /* xrun/overrun positions kept per take */

typedef struct reel_capture_config {
    unsigned rate;           /* device rate */
    unsigned in_channels;    /* device input channels */
    unsigned max_period;     /* largest period the device may deliver */
    double ring_seconds;     /* per track; 0: 5 s; values under 1 s are refused; the ring gets
                                a quarter second more for the writer's batching */
    reel_format format;
    const char *originator;  /* bext originator; NULL: "reel" */
} reel_capture_config;

typedef struct reel_capture reel_capture;

int reel_capture_create(reel_capture **out, const reel_capture_config *cfg, char *errmsg);
void reel_capture_destroy(reel_capture *c);  /* stops a running take first */

/* Adds a track reading n_inputs (1 or 2) device input channels (0-based).
 * Returns the track index (>= 0) or REEL_EINVAL (bad channel, duplicate name,
 * too many) with a message. Only while stopped. */
int reel_capture_add_track(reel_capture *c, const char *name,
                           const unsigned *inputs, unsigned n_inputs, char *errmsg);
unsigned reel_capture_track_count(const reel_capture *c);
const char *reel_capture_track_name(const reel_capture *c, unsigned track);
unsigned reel_capture_track_channels(const reel_capture *c, unsigned track);
/* Fills ins[0..1] with the track's device inputs; returns their count.
 * Wait-free, for the audio thread's monitor mix. */
unsigned reel_capture_track_inputs(const reel_capture *c, unsigned track, unsigned ins[2]);
/* Only while stopped. */
int reel_capture_arm(reel_capture *c, unsigned track, int armed);
int reel_capture_armed(const reel_capture *c, unsigned track);

/* Opens one file per armed track (paths[track]; entries of unarmed tracks are
 * ignored), starts the writer thread and lets the next period begin the take.
 * Files are never replaced: an existing path fails with REEL_EEXIST before
 * anything is recorded. max_frames 0 records until reel_capture_stop. */
int reel_capture_start(reel_capture *c, const char *const *paths,
                       uint64_t max_frames, const char *description, char *errmsg);

/* A roll driven by the transport: takes are made only of the frames the
 * transport's record spans name, one take per loop pass. names[track] gives
 * the files: prefix + take number (two digits at least) + "." + extension,
 * numbered first, first+1, ... for passes 0, 1, ... The first pass's file is
 * created here (so a name clash fails before anything is recorded); later
 * ones by the writer thread when their pass begins. */
typedef struct reel_take_names {
    const char *prefix;      /* e.g. "sess/audio/Vox_T" */
    unsigned first;          /* take number of pass 0 */
} reel_take_names;
int reel_capture_start_roll(reel_capture *c, const reel_take_names *names,
                            const char *description, char *errmsg);

/* The audio callback's part. Safe to call when no take runs (does nothing
 * but keep the meters). process_rt records the whole period (a take started
 * with reel_capture_start); process_spans_rt records only the given spans (a
 * roll started with reel_capture_start_roll). */
void reel_capture_process_rt(reel_capture *c, const reel_period *p);
void reel_capture_process_spans_rt(reel_capture *c, const reel_period *p,
                                   const reel_rec_span *spans, unsigned n);

/* Non-zero when every armed track's ring has room for `frames` more frames.
 * Any thread; the virtual freewheel device's ready() uses it so that
 * freewheeling never outruns the disk writer. */
int reel_capture_ready(const reel_capture *c, unsigned frames);

/* Control thread, while a take runs. */
int reel_capture_running(const reel_capture *c);   /* started and not yet stopped */
int reel_capture_complete(const reel_capture *c);  /* max_frames reached on the timeline */
uint64_t reel_capture_frames(const reel_capture *c); /* timeline frames so far */
/* Peak (linear, 0..) since the previous call, for meters. */
float reel_capture_meter_take(reel_capture *c, unsigned track);
/* 0 while the writer is healthy; else its error code (disk full, I/O). */
int reel_capture_writer_status(const reel_capture *c, char *errmsg);

/* Ends the take: the audio thread stops adding frames at the next period
 * boundary (or at max_frames), the writer drains what is queued, files are
 * closed with valid headers. Returns the first writer error, if any (the
 * frames written before it are kept). Idempotent. */
int reel_capture_stop(reel_capture *c, char *errmsg);

typedef struct reel_gap {
    uint64_t position;   /* frames from the take start */
    uint64_t frames;
} reel_gap;

typedef struct reel_take_stats {
    char path[1024];
    unsigned pass;           /* which take of the roll (0 for a plain take) */
    uint64_t start;          /* position of the first frame: device frame for a plain take,
                                timeline sample for a roll; the bext time reference */
    uint64_t frames;         /* frames in the file, silence fillers included */
    float peak;              /* linear, over the whole take (after stop) */
    uint64_t clipped;        /* samples at or over full scale */
    unsigned xruns;          /* device xruns during the take */
    uint64_t xrun_pos[REEL_CAPTURE_MAX_EVENTS_LOGGED]; /* frames from the take start */
    unsigned overruns;       /* ring overruns (gaps) */
    uint64_t lost_frames;    /* frames replaced by silence */
    unsigned n_gaps;         /* entries in gaps[] (after stop) */
    reel_gap gaps[REEL_CAPTURE_MAX_EVENTS_LOGGED];
    int error;               /* writer error code, 0 if none */
} reel_take_stats;

/* Takes of the track in the last take or roll (after stop: final). */
unsigned reel_capture_take_count(const reel_capture *c, unsigned track);
/* One take's facts, after stop. take: 0 .. take_count-1. */
int reel_capture_pass_stats(const reel_capture *c, unsigned track, unsigned take,
                            reel_take_stats *st);
/* The first take's facts: live counters while recording, final after stop. */
int reel_capture_take_stats(const reel_capture *c, unsigned track, reel_take_stats *st);

#endif
