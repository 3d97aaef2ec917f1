/* capture.c: tracks, per-track rings and the disk-writer thread.
 *
 * Threads: the control thread owns the configuration and calls start/stop/
 * stats; the audio thread runs reel_capture_process_rt; the private writer
 * thread drains the rings into take files. They share only the rings and the
 * atomics below.
 *
 * Lost frames: when a track's ring is full the audio thread drops that period
 * for that track and remembers a gap (position, length). The gap record is
 * pushed into the track's small gap ring before any later audio of the track,
 * so the writer, which checks audio first and gaps second (acquire order),
 * always knows where silence belongs. A gap still pending when the take ends
 * is the difference between the timeline length and what the writer wrote. */
#include "capture.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringbuf.h"
#include "rt.h"

enum {
    ST_IDLE = 0,   /* no take */
    ST_STARTING,   /* files open; the next period begins the take */
    ST_RUNNING,    /* the audio thread adds frames */
    ST_STOPPING,   /* control asked; the audio thread ends at the next period */
    ST_DONE        /* the audio thread adds nothing more; writer drains */
};

#define GAP_RING_RECORDS 1024
#define WRITER_CHUNK_FRAMES 65536
#define WRITER_IDLE_NS 10000000L   /* 10 ms between passes when idle */
#define SYNC_INTERVAL_NS 500000000L

struct track {
    char name[64];
    unsigned ch[2];
    unsigned nch;
    int armed;
    reel_ring *ring;       /* interleaved float frames */
    reel_ring *gaps;       /* reel_gap records */
    size_t ring_frames;    /* capacity the ring was made for */

    /* Audio thread only. */
    uint64_t pending_pos, pending_frames;

    /* Written by the audio thread, read anywhere. */
    _Atomic uint32_t meter_bits;   /* float bits, peak since the last meter read */
    _Atomic uint32_t peak_bits;    /* float bits, take peak */
    atomic_uint_fast64_t clipped;
    atomic_uint overruns;
    atomic_uint_fast64_t lost;

    /* Writer thread while running; control thread after stop. */
    reel_writer *w;
    uint64_t written;      /* timeline frames handled (file frames + dropped after an error) */
    uint64_t file_frames;  /* frames in the closed file */
    reel_gap gap_log[REEL_CAPTURE_MAX_EVENTS_LOGGED];
    unsigned n_gap_log;
    int error;
    char path[1024];
};

struct reel_capture {
    reel_capture_config cfg;
    struct track tracks[REEL_CAPTURE_MAX_TRACKS];
    unsigned n_tracks;

    atomic_int state;
    uint64_t max_frames;          /* 0: until stopped; set before ST_STARTING */
    atomic_uint_fast64_t start;   /* device position of frame 0 */
    atomic_uint_fast64_t frames;  /* timeline frames so far */
    atomic_int complete;

    atomic_uint n_xruns;
    uint64_t xrun_pos[REEL_CAPTURE_MAX_EVENTS_LOGGED];

    pthread_t writer;
    int writer_started;
    atomic_int writer_error;      /* first error code, 0 if none */
    char writer_msg[REEL_ERRMSG_MAX];
};

static inline uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int reel_capture_create(reel_capture **out, const reel_capture_config *cfg, char *errmsg)
{
    *out = NULL;
    if (!cfg || cfg->rate == 0 || cfg->max_period == 0)
        return reel_fail(errmsg, REEL_EINVAL, "capture: rate and period must be set");
    if (cfg->in_channels == 0 || cfg->in_channels > REEL_DEVICE_MAX_CHANNELS)
        return reel_fail(errmsg, REEL_EINVAL, "capture: %u input channels is not a usable count",
                         cfg->in_channels);
    if (cfg->ring_seconds != 0 && !(cfg->ring_seconds >= 1.0 && cfg->ring_seconds <= 600.0))
        return reel_fail(errmsg, REEL_EINVAL,
                         "capture: ring_seconds %g must be between 1 and 600", cfg->ring_seconds);
    reel_capture *c = calloc(1, sizeof *c);
    if (!c)
        return reel_fail(errmsg, REEL_ENOMEM, "capture: out of memory");
    c->cfg = *cfg;
    if (c->cfg.ring_seconds == 0)
        c->cfg.ring_seconds = 5.0;
    c->cfg.originator = NULL; /* not owned; resolved at start */
    if (cfg->originator)
        c->cfg.originator = cfg->originator;
    atomic_init(&c->state, ST_IDLE);
    *out = c;
    return 0;
}

static void free_rings(struct track *t)
{
    reel_ring_destroy(t->ring);
    reel_ring_destroy(t->gaps);
    t->ring = t->gaps = NULL;
    t->ring_frames = 0;
}

void reel_capture_destroy(reel_capture *c)
{
    if (!c)
        return;
    reel_capture_stop(c, NULL);
    for (unsigned i = 0; i < c->n_tracks; i++)
        free_rings(&c->tracks[i]);
    free(c);
}

static int stopped(const reel_capture *c)
{
    int s = atomic_load(&c->state);
    return s == ST_IDLE;
}

int reel_capture_add_track(reel_capture *c, const char *name, const unsigned *inputs,
                           unsigned n_inputs, char *errmsg)
{
    if (!stopped(c))
        return reel_fail(errmsg, REEL_ESTATE, "capture: tracks cannot be added while recording");
    if (!name || !*name || strlen(name) >= sizeof c->tracks[0].name)
        return reel_fail(errmsg, REEL_EINVAL, "track name must be 1 to %zu characters",
                         sizeof c->tracks[0].name - 1);
    if (n_inputs < 1 || n_inputs > 2)
        return reel_fail(errmsg, REEL_EINVAL, "track '%s': %u inputs (1 or 2 expected)", name,
                         n_inputs);
    for (unsigned i = 0; i < n_inputs; i++)
        if (inputs[i] >= c->cfg.in_channels)
            return reel_fail(errmsg, REEL_EINVAL,
                             "track '%s': input %u does not exist (the device has %u)", name,
                             inputs[i] + 1, c->cfg.in_channels);
    for (unsigned i = 0; i < c->n_tracks; i++)
        if (strcmp(c->tracks[i].name, name) == 0)
            return reel_fail(errmsg, REEL_EINVAL, "track '%s' exists already", name);
    if (c->n_tracks == REEL_CAPTURE_MAX_TRACKS)
        return reel_fail(errmsg, REEL_EINVAL, "too many tracks (at most %d)",
                         REEL_CAPTURE_MAX_TRACKS);
    struct track *t = &c->tracks[c->n_tracks];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->nch = n_inputs;
    for (unsigned i = 0; i < n_inputs; i++)
        t->ch[i] = inputs[i];
    t->armed = 0;
    return (int)c->n_tracks++;
}

unsigned reel_capture_track_count(const reel_capture *c) { return c->n_tracks; }

const char *reel_capture_track_name(const reel_capture *c, unsigned track)
{
    return track < c->n_tracks ? c->tracks[track].name : NULL;
}

unsigned reel_capture_track_channels(const reel_capture *c, unsigned track)
{
    return track < c->n_tracks ? c->tracks[track].nch : 0;
}

int reel_capture_arm(reel_capture *c, unsigned track, int armed)
{
    if (track >= c->n_tracks)
        return REEL_ENOTFOUND;
    if (!stopped(c))
        return REEL_ESTATE;
    c->tracks[track].armed = armed != 0;
    return 0;
}

int reel_capture_armed(const reel_capture *c, unsigned track)
{
    return track < c->n_tracks && c->tracks[track].armed;
}

/* Rings are made when a track is first recorded and kept for later takes, so
 * that a take start does not allocate again (and mlock again) each time. */
static int make_rings(reel_capture *c, struct track *t, char *errmsg)
{
    size_t frames = (size_t)(c->cfg.rate * c->cfg.ring_seconds);
    if (frames < 4 * (size_t)c->cfg.max_period)
        frames = 4 * (size_t)c->cfg.max_period;
    if (t->ring && t->ring_frames >= frames)
        return 0;
    free_rings(t);
    int rc = reel_ring_create(&t->ring, frames * t->nch * sizeof(float));
    if (rc == 0)
        rc = reel_ring_create(&t->gaps, GAP_RING_RECORDS * sizeof(reel_gap));
    if (rc) {
        free_rings(t);
        return reel_fail(errmsg, rc, "track '%s': cannot allocate %.1f s of ring buffer",
                         t->name, c->cfg.ring_seconds);
    }
    t->ring_frames = frames;
    return 0;
}

static void *writer_main(void *arg);

static void close_writers(reel_capture *c, int unlink_empty)
{
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->w)
            continue;
        int empty = reel_writer_frames(t->w) == 0;
        int rc = reel_writer_close(t->w);
        t->w = NULL;
        if (rc && !t->error)
            t->error = rc;
        if (unlink_empty && empty)
            unlink(t->path);
    }
}

int reel_capture_start(reel_capture *c, const char *const *paths, uint64_t max_frames,
                       const char *description, char *errmsg)
{
    if (!stopped(c))
        return reel_fail(errmsg, REEL_ESTATE, "a take is already being recorded");
    unsigned armed = 0;
    for (unsigned i = 0; i < c->n_tracks; i++)
        armed += c->tracks[i].armed != 0;
    if (armed == 0)
        return reel_fail(errmsg, REEL_ESTATE, "no track is armed");

    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        t->w = NULL;
        t->written = 0;
        t->file_frames = 0;
        t->n_gap_log = 0;
        t->error = 0;
        t->path[0] = 0;
        t->pending_pos = t->pending_frames = 0;
        atomic_store(&t->peak_bits, 0);
        atomic_store(&t->clipped, 0);
        atomic_store(&t->overruns, 0);
        atomic_store(&t->lost, 0);
    }
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->armed)
            continue;
        if (!paths || !paths[i] || !*paths[i]) {
            close_writers(c, 1);
            return reel_fail(errmsg, REEL_EINVAL, "track '%s': no file name for the take",
                             t->name);
        }
        int rc = make_rings(c, t, errmsg);
        if (rc) {
            close_writers(c, 1);
            return rc;
        }
        reel_ring_reset(t->ring);
        reel_ring_reset(t->gaps);
        snprintf(t->path, sizeof t->path, "%s", paths[i]);
        reel_writer_config wc = {
            .path = paths[i],
            .format = c->cfg.format,
            .rate = c->cfg.rate,
            .channels = t->nch,
            .originator = c->cfg.originator ? c->cfg.originator : "reel",
            .description = description,
        };
        rc = reel_writer_open(&t->w, &wc, errmsg);
        if (rc) {
            t->w = NULL;
            t->path[0] = 0;
            close_writers(c, 1);
            return rc;
        }
    }
    c->max_frames = max_frames;
    atomic_store(&c->frames, 0);
    atomic_store(&c->start, 0);
    atomic_store(&c->complete, 0);
    atomic_store(&c->n_xruns, 0);
    atomic_store(&c->writer_error, 0);
    c->writer_msg[0] = 0;

    atomic_store_explicit(&c->state, ST_STARTING, memory_order_release);
    int prc = pthread_create(&c->writer, NULL, writer_main, c);
    if (prc) {
        atomic_store(&c->state, ST_IDLE);
        /* The audio thread may have begun; it only wrote to rings, nothing is lost
         * that was on disk. The empty files go. */
        close_writers(c, 1);
        return reel_fail(errmsg, REEL_ENOMEM, "cannot start the disk writer: %s",
                         strerror(prc));
    }
    c->writer_started = 1;
    return 0;
}

static inline float period_peak_rt(const reel_period *p, const struct track *t, unsigned from,
                                   unsigned n, uint64_t *clipped)
{
    float peak = 0.0f;
    uint64_t clips = 0;
    for (unsigned k = 0; k < t->nch; k++) {
        const float *in = p->in[t->ch[k]] + from;
        for (unsigned i = 0; i < n; i++) {
            float a = fabsf(in[i]);
            if (a > peak)
                peak = a;
            clips += a >= 1.0f;
        }
    }
    *clipped = clips;
    return peak;
}

static inline void atomic_max_rt(_Atomic uint32_t *bits, float v)
{
    /* Non-negative floats order like their bit patterns. */
    uint32_t nv = f2u(v), cur = atomic_load_explicit(bits, memory_order_relaxed);
    while (nv > cur &&
           !atomic_compare_exchange_weak_explicit(bits, &cur, nv, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* Interleaves n frames of the track's channels from the period into dst. */
static inline void interleave_rt(const reel_period *p, const struct track *t, unsigned from,
                                 float *dst, size_t n)
{
    if (t->nch == 1) {
        memcpy(dst, p->in[t->ch[0]] + from, n * sizeof(float));
        return;
    }
    const float *a = p->in[t->ch[0]] + from, *b = p->in[t->ch[1]] + from;
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = a[i];
        dst[2 * i + 1] = b[i];
    }
}

static void track_write_rt(const reel_period *p, struct track *t, uint64_t pos, unsigned n)
{
    size_t fbytes = t->nch * sizeof(float);
    if (t->pending_frames) {
        reel_gap g = {t->pending_pos, t->pending_frames};
        if (reel_ring_write_space_rt(t->gaps) >= sizeof g &&
            reel_ring_write_space_rt(t->ring) >= n * fbytes) {
            reel_ring_write_rt(t->gaps, &g, sizeof g);
            t->pending_frames = 0;
        }
    }
    if (t->pending_frames == 0 && reel_ring_write_space_rt(t->ring) >= n * fbytes) {
        reel_ring_vec v[2];
        reel_ring_write_vector_rt(t->ring, v);
        size_t first = v[0].len / fbytes;
        if (first > n)
            first = n;
        interleave_rt(p, t, 0, (float *)(void *)v[0].buf, first);
        if (first < n)
            interleave_rt(p, t, (unsigned)first, (float *)(void *)v[1].buf, n - first);
        reel_ring_write_commit_rt(t->ring, n * fbytes);
        return;
    }
    if (t->pending_frames == 0) {
        t->pending_pos = pos;
        atomic_fetch_add_explicit(&t->overruns, 1, memory_order_relaxed);
    }
    t->pending_frames += n;
    atomic_fetch_add_explicit(&t->lost, n, memory_order_relaxed);
}

REEL_NONBLOCKING void reel_capture_process_rt(reel_capture *c, const reel_period *p)
{
    for (unsigned i = 0; i < c->n_tracks; i++) {
        uint64_t clips;
        float peak = period_peak_rt(p, &c->tracks[i], 0, p->frames, &clips);
        atomic_max_rt(&c->tracks[i].meter_bits, peak);
    }

    /* Transitions are compare-and-swap: the control thread may move the state
     * at the same moment (stop during start). */
    int st = atomic_load_explicit(&c->state, memory_order_acquire);
    if (st == ST_STARTING) {
        atomic_store_explicit(&c->start, p->position, memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&c->state, &st, ST_RUNNING,
                                                    memory_order_acq_rel, memory_order_acquire))
            st = ST_RUNNING;
    }
    if (st == ST_STOPPING) {
        atomic_compare_exchange_strong_explicit(&c->state, &st, ST_DONE, memory_order_acq_rel,
                                                memory_order_acquire);
        return;
    }
    if (st != ST_RUNNING)
        return;

    uint64_t pos = atomic_load_explicit(&c->frames, memory_order_relaxed);
    unsigned n = p->frames;
    if (c->max_frames && pos + n > c->max_frames)
        n = (unsigned)(c->max_frames - pos);
    if (p->xrun && pos > 0) {
        unsigned k = atomic_load_explicit(&c->n_xruns, memory_order_relaxed);
        if (k < REEL_CAPTURE_MAX_EVENTS_LOGGED)
            c->xrun_pos[k] = pos;
        atomic_store_explicit(&c->n_xruns, k + 1, memory_order_release);
    }
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->armed || n == 0)
            continue;
        uint64_t clips;
        float peak = period_peak_rt(p, t, 0, n, &clips);
        atomic_max_rt(&t->peak_bits, peak);
        if (clips)
            atomic_fetch_add_explicit(&t->clipped, clips, memory_order_relaxed);
        track_write_rt(p, t, pos, n);
    }
    pos += n;
    atomic_store_explicit(&c->frames, pos, memory_order_release);
    if (c->max_frames && pos >= c->max_frames) {
        atomic_store_explicit(&c->complete, 1, memory_order_release);
        int running = ST_RUNNING;
        atomic_compare_exchange_strong_explicit(&c->state, &running, ST_DONE,
                                                memory_order_acq_rel, memory_order_acquire);
    }
}

int reel_capture_ready(const reel_capture *c, unsigned frames)
{
    int st = atomic_load_explicit(&c->state, memory_order_acquire);
    if (st != ST_RUNNING && st != ST_STARTING)
        return 1;
    for (unsigned i = 0; i < c->n_tracks; i++) {
        const struct track *t = &c->tracks[i];
        if (t->armed && reel_ring_write_space_rt(t->ring) < frames * t->nch * sizeof(float))
            return 0;
    }
    return 1;
}

int reel_capture_running(const reel_capture *c)
{
    int st = atomic_load(&c->state);
    return st == ST_STARTING || st == ST_RUNNING || st == ST_STOPPING;
}

int reel_capture_complete(const reel_capture *c) { return atomic_load(&c->complete); }

uint64_t reel_capture_frames(const reel_capture *c) { return atomic_load(&c->frames); }

float reel_capture_meter_take(reel_capture *c, unsigned track)
{
    if (track >= c->n_tracks)
        return 0.0f;
    return u2f(atomic_exchange(&c->tracks[track].meter_bits, 0));
}

int reel_capture_writer_status(const reel_capture *c, char *errmsg)
{
    int rc = atomic_load_explicit(&c->writer_error, memory_order_acquire);
    if (rc && errmsg)
        snprintf(errmsg, REEL_ERRMSG_MAX, "%s", c->writer_msg);
    return rc;
}

/* ---- writer thread ---------------------------------------------------- */

static void writer_fail(reel_capture *c, struct track *t, int rc)
{
    t->error = rc;
    int expected = 0;
    if (atomic_load(&c->writer_error) == 0) {
        snprintf(c->writer_msg, sizeof c->writer_msg, "%s", reel_writer_error(t->w));
        atomic_compare_exchange_strong_explicit(&c->writer_error, &expected, rc,
                                                memory_order_release, memory_order_relaxed);
    }
}

static void log_gap(struct track *t, uint64_t pos, uint64_t frames)
{
    if (t->n_gap_log > 0) {
        reel_gap *last = &t->gap_log[t->n_gap_log - 1];
        if (last->position + last->frames == pos) {
            last->frames += frames;
            return;
        }
    }
    if (t->n_gap_log < REEL_CAPTURE_MAX_EVENTS_LOGGED)
        t->gap_log[t->n_gap_log++] = (reel_gap){pos, frames};
}

static int write_silence(reel_capture *c, struct track *t, uint64_t frames)
{
    log_gap(t, t->written, frames);
    t->written += frames;
    if (t->error)
        return 0;
    int rc = reel_writer_write_silence(t->w, frames);
    if (rc)
        writer_fail(c, t, rc);
    return 0;
}

/* Moves what the ring holds into the file, placing silence for gaps.
 * Returns the frames handled. After a write error the track's audio is still
 * drained (and dropped) so the audio thread does not overrun on it. */
static size_t drain_track(reel_capture *c, struct track *t)
{
    size_t fbytes = t->nch * sizeof(float);
    size_t handled = 0;
    for (;;) {
        /* Audio first, then gaps: see the file comment. */
        size_t avail = reel_ring_read_space_rt(t->ring) / fbytes;
        reel_gap g;
        int have_gap = reel_ring_peek_rt(t->gaps, &g, sizeof g) == sizeof g;
        if (have_gap && g.position <= t->written) {
            reel_ring_read_commit_rt(t->gaps, sizeof g);
            write_silence(c, t, g.frames);
            handled += g.frames;
            continue;
        }
        size_t n = avail;
        if (have_gap && g.position - t->written < n)
            n = (size_t)(g.position - t->written);
        if (n > WRITER_CHUNK_FRAMES)
            n = WRITER_CHUNK_FRAMES;
        if (n == 0)
            return handled;
        reel_ring_vec v[2];
        reel_ring_read_vector_rt(t->ring, v);
        size_t first = v[0].len / fbytes;
        if (first > n)
            first = n;
        if (!t->error) {
            int rc = reel_writer_write(t->w, (const float *)(void *)v[0].buf, first);
            if (!rc && first < n)
                rc = reel_writer_write(t->w, (const float *)(void *)v[1].buf, n - first);
            if (rc)
                writer_fail(c, t, rc);
        }
        reel_ring_read_commit_rt(t->ring, n * fbytes);
        t->written += n;
        handled += n;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *writer_main(void *arg)
{
    reel_capture *c = arg;
    /* The time reference is known once the audio thread has begun the take. */
    while (atomic_load_explicit(&c->state, memory_order_acquire) == ST_STARTING) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    uint64_t start = atomic_load(&c->start);
    for (unsigned i = 0; i < c->n_tracks; i++)
        if (c->tracks[i].w)
            reel_writer_set_time_reference(c->tracks[i].w, start);

    uint64_t last_sync = now_ns();
    for (;;) {
        int done = atomic_load_explicit(&c->state, memory_order_acquire) == ST_DONE ||
                   atomic_load_explicit(&c->state, memory_order_acquire) == ST_IDLE;
        size_t moved = 0;
        for (unsigned i = 0; i < c->n_tracks; i++)
            if (c->tracks[i].w)
                moved += drain_track(c, &c->tracks[i]);
        if (done && moved == 0)
            break;
        if (now_ns() - last_sync >= (uint64_t)SYNC_INTERVAL_NS) {
            for (unsigned i = 0; i < c->n_tracks; i++) {
                struct track *t = &c->tracks[i];
                if (t->w && !t->error) {
                    int rc = reel_writer_sync(t->w);
                    if (rc)
                        writer_fail(c, t, rc);
                }
            }
            last_sync = now_ns();
        }
        if (moved == 0 && !done) {
            struct timespec ts = {0, WRITER_IDLE_NS};
            nanosleep(&ts, NULL);
        }
    }
    /* A gap still pending in the audio thread when the take ended. */
    uint64_t total = atomic_load(&c->frames);
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (t->w && t->written < total)
            write_silence(c, t, total - t->written);
    }
    return NULL;
}

int reel_capture_stop(reel_capture *c, char *errmsg)
{
    int st = atomic_load(&c->state);
    if (st == ST_IDLE)
        return 0;
    int expected = ST_RUNNING;
    if (!atomic_compare_exchange_strong(&c->state, &expected, ST_STOPPING)) {
        expected = ST_STARTING;
        atomic_compare_exchange_strong(&c->state, &expected, ST_STOPPING);
    }
    /* The audio thread acknowledges at its next period. If the device has
     * stopped (or died) nobody will, so after a while take over: the audio
     * thread is then not running, or never touches the rings again once it
     * reads ST_DONE. */
    for (int i = 0; i < 2000 && atomic_load(&c->state) != ST_DONE; i++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    expected = ST_STOPPING;
    atomic_compare_exchange_strong(&c->state, &expected, ST_DONE);

    if (c->writer_started) {
        pthread_join(c->writer, NULL);
        c->writer_started = 0;
    }
    int first_err = atomic_load(&c->writer_error);
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->w)
            continue;
        t->file_frames = reel_writer_frames(t->w);
        int rc = reel_writer_close(t->w);
        t->w = NULL;
        if (rc && !t->error) {
            t->error = rc;
            if (!first_err) {
                first_err = rc;
                snprintf(c->writer_msg, sizeof c->writer_msg, "%.400s: cannot finish the file",
                         t->path);
            }
        }
    }
    atomic_store(&c->state, ST_IDLE);
    if (first_err) {
        atomic_store(&c->writer_error, first_err);
        if (errmsg)
            snprintf(errmsg, REEL_ERRMSG_MAX, "%s", c->writer_msg);
    }
    return first_err;
}

int reel_capture_take_stats(const reel_capture *c, unsigned track, reel_take_stats *st)
{
    if (track >= c->n_tracks)
        return REEL_ENOTFOUND;
    const struct track *t = &c->tracks[track];
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", t->path);
    st->start = atomic_load(&c->start);
    st->frames = atomic_load(&c->state) == ST_IDLE ? t->file_frames : atomic_load(&c->frames);
    if (!t->armed || !t->path[0])
        st->frames = 0;
    st->peak = u2f(atomic_load(&t->peak_bits));
    st->clipped = atomic_load(&t->clipped);
    unsigned nx = atomic_load_explicit(&c->n_xruns, memory_order_acquire);
    st->xruns = nx;
    for (unsigned i = 0; i < nx && i < REEL_CAPTURE_MAX_EVENTS_LOGGED; i++)
        st->xrun_pos[i] = c->xrun_pos[i];
    st->overruns = atomic_load(&t->overruns);
    st->lost_frames = atomic_load(&t->lost);
    if (atomic_load(&c->state) == ST_IDLE) {
        st->n_gaps = t->n_gap_log;
        for (unsigned i = 0; i < t->n_gap_log; i++)
            st->gaps[i] = t->gap_log[i];
    }
    st->error = t->error;
    return 0;
}
