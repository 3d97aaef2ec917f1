/* capture.c: tracks, per-track rings and the disk-writer thread.
 *
 * Threads: the control thread owns the configuration and calls start/stop/
 * stats; the audio thread runs reel_capture_process_rt or _spans_rt; the
 * private writer thread drains the rings into take files. They share only
 * the rings and the atomics below.
 *
 * Each armed track has two rings: audio (interleaved float frames) and marks
 * (small records: a take starts, a take ends at length N, a gap of N lost
 * frames at take position P). The audio thread pushes marks before any audio
 * that follows them, and writes audio only when every pending mark is out;
 * the writer looks at the audio ring first and the marks second (acquire
 * order), so whatever audio it sees, it already sees the marks placed before
 * it. A full audio ring loses that period's frames for that track and turns
 * them into a gap mark, which the writer fills with silence at its exact
 * position: takes stay aligned with the timeline.
 *
 * Peak, clip counts and gap logs are computed by the writer from what it
 * writes, which keeps the audio thread's work to copying and metering. */
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
    ST_DONE,       /* the audio thread adds nothing more; writer drains */
    ST_CLOSING     /* control took over from a silent audio thread (see stop) */
};

enum { MARK_START = 1, MARK_END, MARK_GAP };

typedef struct mark {
    uint32_t type;
    uint32_t pass;
    uint64_t take_pos;   /* GAP: where; END: the take's length; START: 0 */
    uint64_t frames;     /* GAP: how many */
    int64_t pos;         /* START: timeline/device position of the take's first frame */
} mark;

#define MARK_RING_RECORDS 4096
#define PENDING_MAX 32
#define GAPS_KEPT 64
#define WRITER_CHUNK_FRAMES 65536
#define WRITER_IDLE_NS 20000000L   /* 20 ms between passes when idle */
#define SYNC_INTERVAL_NS 500000000L
#define WRITER_WRITES_PER_S 1000u   /* write calls a second to aim at, all files together */
#define BATCH_MAX_S 0.25

/* One finished (or running) take, kept by the writer thread. */
struct take_result {
    char path[1024];
    unsigned pass;
    int64_t start;
    uint64_t frames;       /* timeline frames (file frames unless the file failed) */
    uint64_t file_frames;
    float peak;
    uint64_t clipped;
    unsigned overruns;
    uint64_t lost;
    unsigned n_gaps;
    reel_gap gaps[GAPS_KEPT];
    int error;
};

struct track {
    char name[64];
    unsigned ch[2];
    unsigned nch;
    int armed;
    reel_ring *ring;       /* interleaved float frames */
    reel_ring *marks;      /* mark records */
    size_t ring_frames;    /* capacity the ring was made for */

    /* Audio thread only (the writer reads pending[] once the take is DONE). */
    int64_t cur_pass;      /* -1: no take yet */
    uint64_t cur_len;      /* frames of the current take so far (audio + lost) */
    mark pending[PENDING_MAX];
    unsigned n_pending;
    uint64_t gap_pos, gap_frames; /* frames being lost right now, not yet a mark */
    int broken;            /* pending overflowed: nothing more is recorded */

    /* Written by the audio thread, read anywhere. */
    _Atomic uint32_t meter_bits;   /* float bits, peak since the last meter read */
    atomic_uint live_overruns;
    atomic_uint_fast64_t live_lost;

    /* Writer thread while running; control thread after stop. */
    reel_take_names names;
    char prefix[960];
    reel_writer *w;
    uint64_t written;      /* frames handled in the current take */
    struct take_result *results;
    unsigned n_results, cap_results;
    atomic_uint n_results_pub;
    int error;
};

struct reel_capture {
    reel_capture_config cfg;
    struct track tracks[REEL_CAPTURE_MAX_TRACKS];
    /* Atomic: a track may be added while the device runs (meters); its slot
     * is filled before the count that publishes it. */
    atomic_uint n_tracks;
    char description[256];
    int has_description;

    atomic_int state;
    int roll;                     /* started by start_roll (spans) */
    uint64_t max_frames;          /* plain take: 0 until stopped */
    atomic_uint_fast64_t start;   /* plain take: device position of frame 0 */
    atomic_uint_fast64_t frames;  /* frames of the (latest) take so far */
    atomic_int complete;

    atomic_uint n_xruns;
    struct { uint64_t take_pos; unsigned pass; } xruns[REEL_CAPTURE_MAX_EVENTS_LOGGED];
    int64_t last_pass;            /* audio thread: pass of the latest span */
    uint64_t last_take_pos;

    pthread_t writer;
    int writer_started;
    atomic_int writer_error;      /* first error code, 0 if none */
    char writer_msg[REEL_ERRMSG_MAX];
#ifdef REEL_FAULT_INJECTION
    /* Tests only (REEL_FAULT_WRITER_STALL="AFTER_MS:FOR_MS", read at take
     * start): the writer sleeps FOR_MS once when the take is AFTER_MS old
     * on the timeline. Control thread before the writer starts; then the
     * writer's. */
    uint64_t stall_at_frames;
    long stall_ms;                /* 0: none (or done) */
#endif
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

/* Peak and clip scans over every recorded sample, in the audio thread (the
 * meters) and in the writer (take peak and clip count). Written with GCC/
 * clang vector extensions because the plain float loop does not vectorise
 * at -O2 (a float max reduction needs -ffast-math): on the bit patterns,
 * |x| is an AND and non-negative floats order like signed integers, which
 * SSE2 compares four at a time. NaNs count as 0, as the float comparisons
 * `a > peak` and `a >= 1.0f` treated them. */
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4i v4i_load(const float *x)
{
    v4i v;
    memcpy(&v, x, sizeof v);
    return v;
}

static inline v4i v4i_max(v4i a, v4i b)
{
    v4i gt = a > b;
    return (a & gt) | (b & ~gt);
}

/* Largest |x| over n samples as float bits; adds the samples at or over
 * full scale to *clips when clips is not NULL. */
static inline uint32_t scan_peak(const float *x, size_t n, uint64_t *clips)
{
    const v4i absmask = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    const v4i inf = {0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000};
    const v4i one = {0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000};
    v4i m0 = {0, 0, 0, 0}, m1 = m0, c0 = m0, c1 = m0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4i a = v4i_load(x + i) & absmask, b = v4i_load(x + i + 4) & absmask;
        a &= a <= inf; /* NaN -> 0 */
        b &= b <= inf;
        m0 = v4i_max(m0, a);
        m1 = v4i_max(m1, b);
        if (clips) {
            c0 -= a >= one; /* true lanes are -1 */
            c1 -= b >= one;
        }
    }
    m0 = v4i_max(m0, m1);
    c0 += c1;
    uint32_t peak = 0;
    uint64_t nclip = 0;
    for (int k = 0; k < 4; k++) {
        if ((uint32_t)m0[k] > peak)
            peak = (uint32_t)m0[k];
        nclip += (uint32_t)c0[k];
    }
    for (; i < n; i++) {
        uint32_t a = f2u(x[i]) & 0x7fffffffu;
        if (a > 0x7f800000u)
            a = 0;
        if (a > peak)
            peak = a;
        nclip += a >= 0x3f800000u;
    }
    if (clips)
        *clips += nclip;
    return peak;
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
    atomic_init(&c->state, ST_IDLE);
    *out = c;
    return 0;
}

static void free_rings(struct track *t)
{
    reel_ring_destroy(t->ring);
    reel_ring_destroy(t->marks);
    t->ring = t->marks = NULL;
    t->ring_frames = 0;
}

void reel_capture_destroy(reel_capture *c)
{
    if (!c)
        return;
    reel_capture_stop(c, NULL);
    for (unsigned i = 0; i < c->n_tracks; i++) {
        free_rings(&c->tracks[i]);
        free(c->tracks[i].results);
    }
    free(c);
}

static int stopped(const reel_capture *c)
{
    return atomic_load(&c->state) == ST_IDLE;
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
    t->cur_pass = -1;
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

unsigned reel_capture_track_inputs(const reel_capture *c, unsigned track, unsigned ins[2])
{
    if (track >= c->n_tracks)
        return 0;
    ins[0] = c->tracks[track].ch[0];
    ins[1] = c->tracks[track].ch[c->tracks[track].nch - 1];
    return c->tracks[track].nch;
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
 * that a take start does not allocate (and mlock) again each time. */
static int make_rings(reel_capture *c, struct track *t, char *errmsg)
{
    /* ring_seconds of stall room on top of the writer's batching. */
    size_t frames = (size_t)(c->cfg.rate * (c->cfg.ring_seconds + BATCH_MAX_S));
    if (frames < 4 * (size_t)c->cfg.max_period)
        frames = 4 * (size_t)c->cfg.max_period;
    if (t->ring && t->ring_frames >= frames)
        return 0;
    free_rings(t);
    int rc = reel_ring_create(&t->ring, frames * t->nch * sizeof(float));
    if (rc == 0)
        rc = reel_ring_create(&t->marks, MARK_RING_RECORDS * sizeof(mark));
    if (rc) {
        free_rings(t);
        return reel_fail(errmsg, rc, "track '%s': cannot allocate %.1f s of ring buffer",
                         t->name, c->cfg.ring_seconds);
    }
    t->ring_frames = frames;
    return 0;
}

static void take_path(const struct track *t, unsigned pass, reel_format fmt, char *out,
                      size_t n)
{
    snprintf(out, n, "%s%02u.%s", t->prefix, t->names.first + pass, reel_format_ext(fmt));
}

static int open_take(reel_capture *c, struct track *t, const char *path, char *errmsg)
{
    reel_writer_config wc = {
        .path = path,
        .format = c->cfg.format,
        .rate = c->cfg.rate,
        .channels = t->nch,
        .originator = c->cfg.originator ? c->cfg.originator : "reel",
        .description = c->has_description ? c->description : NULL,
    };
    return reel_writer_open(&t->w, &wc, errmsg);
}

/* A new result slot for the take that begins; the writer thread grows the
 * array (it may allocate, unlike the audio thread). */
static struct take_result *new_result(struct track *t, unsigned pass, const char *path)
{
    if (t->n_results == t->cap_results) {
        unsigned cap = t->cap_results ? 2 * t->cap_results : 4;
        struct take_result *r = realloc(t->results, cap * sizeof *r);
        if (!r)
            return NULL;
        t->results = r;
        t->cap_results = cap;
    }
    struct take_result *r = &t->results[t->n_results++];
    memset(r, 0, sizeof *r);
    r->pass = pass;
    snprintf(r->path, sizeof r->path, "%s", path);
    atomic_store_explicit(&t->n_results_pub, t->n_results, memory_order_release);
    return r;
}

static void *writer_main(void *arg);

/* Undoes a failed start: closes and removes the files just created (they are
 * empty; nothing recorded is touched). */
static void abandon_start(reel_capture *c)
{
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->w)
            continue;
        reel_writer_close(t->w);
        t->w = NULL;
        if (t->n_results)
            unlink(t->results[0].path);
        t->n_results = 0;
        atomic_store(&t->n_results_pub, 0);
    }
}

#ifdef REEL_FAULT_INJECTION
/* Parses REEL_FAULT_WRITER_STALL="AFTER_MS:FOR_MS" (both whole milliseconds,
 * FOR_MS at most 10 minutes); anything else injects nothing. */
static void stall_from_env(reel_capture *c)
{
    c->stall_ms = 0;
    c->stall_at_frames = 0;
    const char *v = getenv("REEL_FAULT_WRITER_STALL");
    unsigned long after, dur;
    char tail;
    if (!v || sscanf(v, "%lu:%lu%c", &after, &dur, &tail) != 2 || dur == 0 || dur > 600000)
        return;
    c->stall_at_frames = (uint64_t)after * c->cfg.rate / 1000u;
    c->stall_ms = (long)dur;
}

/* Writer thread: sleeps once, the whole FOR_MS (signals do not shorten it),
 * as a disk that does not answer would. The audio thread runs on. */
static void stall_if_due(reel_capture *c)
{
    if (c->stall_ms == 0 ||
        atomic_load_explicit(&c->frames, memory_order_relaxed) < c->stall_at_frames)
        return;
    struct timespec ts = {c->stall_ms / 1000, (c->stall_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    c->stall_ms = 0;
}
#endif

static int start_common(reel_capture *c, const char *const *paths, const reel_take_names *names,
                        const char *description, char *errmsg)
{
    if (!stopped(c))
        return reel_fail(errmsg, REEL_ESTATE, "a take is already being recorded");
    unsigned armed = 0;
    for (unsigned i = 0; i < c->n_tracks; i++)
        armed += c->tracks[i].armed != 0;
    if (armed == 0)
        return reel_fail(errmsg, REEL_ESTATE, "no track is armed");
    c->has_description = description != NULL;
    snprintf(c->description, sizeof c->description, "%s", description ? description : "");

    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        t->w = NULL;
        t->written = 0;
        t->error = 0;
        t->n_results = 0;
        atomic_store(&t->n_results_pub, 0);
        t->cur_pass = -1;
        t->cur_len = 0;
        t->n_pending = 0;
        t->gap_frames = 0;
        t->broken = 0;
        atomic_store(&t->live_overruns, 0);
        atomic_store(&t->live_lost, 0);
    }
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->armed)
            continue;
        char path[1024];
        if (names) {
            if (!names[i].prefix || !*names[i].prefix) {
                abandon_start(c);
                return reel_fail(errmsg, REEL_EINVAL, "track '%s': no file name for the take",
                                 t->name);
            }
            t->names = names[i];
            snprintf(t->prefix, sizeof t->prefix, "%s", names[i].prefix);
            take_path(t, 0, c->cfg.format, path, sizeof path);
        } else {
            if (!paths || !paths[i] || !*paths[i]) {
                abandon_start(c);
                return reel_fail(errmsg, REEL_EINVAL, "track '%s': no file name for the take",
                                 t->name);
            }
            t->prefix[0] = 0;
            snprintf(path, sizeof path, "%s", paths[i]);
        }
        int rc = make_rings(c, t, errmsg);
        if (rc == 0) {
            reel_ring_reset(t->ring);
            reel_ring_reset(t->marks);
            rc = open_take(c, t, path, errmsg);
        }
        if (rc == 0 && !new_result(t, 0, path)) {
            reel_writer_close(t->w);
            unlink(path);
            rc = reel_fail(errmsg, REEL_ENOMEM, "out of memory");
        }
        if (rc) {
            t->w = NULL;
            abandon_start(c);
            return rc;
        }
    }
    atomic_store(&c->frames, 0);
    atomic_store(&c->start, 0);
    atomic_store(&c->complete, 0);
    atomic_store(&c->n_xruns, 0);
    atomic_store(&c->writer_error, 0);
    c->writer_msg[0] = 0;
    c->last_pass = -1;
    c->last_take_pos = 0;
#ifdef REEL_FAULT_INJECTION
    stall_from_env(c);
#endif

    int prc = pthread_create(&c->writer, NULL, writer_main, c);
    if (prc) {
        abandon_start(c);
        return reel_fail(errmsg, REEL_ENOMEM, "cannot start the disk writer: %s",
                         strerror(prc));
    }
    c->writer_started = 1;
    atomic_store_explicit(&c->state, ST_STARTING, memory_order_release);
    return 0;
}

int reel_capture_start(reel_capture *c, const char *const *paths, uint64_t max_frames,
                       const char *description, char *errmsg)
{
    c->roll = 0;
    c->max_frames = max_frames;
    return start_common(c, paths, NULL, description, errmsg);
}

int reel_capture_start_roll(reel_capture *c, const reel_take_names *names,
                            const char *description, char *errmsg)
{
    if (!names)
        return reel_fail(errmsg, REEL_EINVAL, "take names are missing");
    c->roll = 1;
    c->max_frames = 0;
    return start_common(c, NULL, names, description, errmsg);
}

/* ---- audio thread ----------------------------------------------------- */

static inline void atomic_max_rt(_Atomic uint32_t *bits, float v)
{
    /* Non-negative floats order like their bit patterns. */
    uint32_t nv = f2u(v), cur = atomic_load_explicit(bits, memory_order_relaxed);
    while (nv > cur &&
           !atomic_compare_exchange_weak_explicit(bits, &cur, nv, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

static inline float peak_rt(const reel_period *p, const struct track *t)
{
    uint32_t peak = 0;
    for (unsigned k = 0; k < t->nch; k++) {
        uint32_t a = scan_peak(p->in[t->ch[k]], p->frames, NULL);
        if (a > peak)
            peak = a;
    }
    return u2f(peak);
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

static inline void queue_mark_rt(struct track *t, mark m)
{
    if (t->n_pending == PENDING_MAX) {
        t->broken = 1; /* the writer has been stalled for thousands of marks */
        return;
    }
    t->pending[t->n_pending++] = m;
}

/* Pushes pending marks in order; non-zero when none is left. */
static inline int flush_marks_rt(struct track *t)
{
    unsigned i = 0;
    while (i < t->n_pending && reel_ring_write_space_rt(t->marks) >= sizeof(mark)) {
        reel_ring_write_rt(t->marks, &t->pending[i], sizeof(mark));
        i++;
    }
    if (i) {
        memmove(t->pending, t->pending + i, (t->n_pending - i) * sizeof(mark));
        t->n_pending -= i;
    }
    return t->n_pending == 0;
}

/* A gap stays open while periods keep being lost, and becomes one mark when
 * audio fits again or the take ends, so one overrun is one gap. */
static void lose_rt(struct track *t, uint64_t take_pos, uint64_t n)
{
    atomic_fetch_add_explicit(&t->live_lost, n, memory_order_relaxed);
    if (t->gap_frames && t->gap_pos + t->gap_frames == take_pos) {
        t->gap_frames += n;
        return;
    }
    if (t->gap_frames)
        queue_mark_rt(t, (mark){.type = MARK_GAP, .pass = (uint32_t)t->cur_pass,
                                .take_pos = t->gap_pos, .frames = t->gap_frames});
    t->gap_pos = take_pos;
    t->gap_frames = n;
    atomic_fetch_add_explicit(&t->live_overruns, 1, memory_order_relaxed);
}

static void close_gap_rt(struct track *t)
{
    if (!t->gap_frames)
        return;
    queue_mark_rt(t, (mark){.type = MARK_GAP, .pass = (uint32_t)t->cur_pass,
                            .take_pos = t->gap_pos, .frames = t->gap_frames});
    t->gap_frames = 0;
}

static void end_take_rt(struct track *t)
{
    close_gap_rt(t);
    queue_mark_rt(t, (mark){.type = MARK_END, .pass = (uint32_t)t->cur_pass,
                            .take_pos = t->cur_len});
    t->cur_pass = -1;
}

static void track_span_rt(const reel_period *p, struct track *t, const reel_rec_span *s)
{
    if (t->broken)
        return;
    if ((int64_t)s->pass != t->cur_pass) {
        if (t->cur_pass >= 0)
            end_take_rt(t);
        t->cur_pass = s->pass;
        t->cur_len = 0;
        queue_mark_rt(t, (mark){.type = MARK_START, .pass = s->pass,
                                .pos = s->pos - (int64_t)s->take_pos});
    }
    if (s->take_pos > t->cur_len) /* frames the transport skipped: keep alignment */
        lose_rt(t, t->cur_len, s->take_pos - t->cur_len);
    size_t fbytes = t->nch * sizeof(float);
    size_t need = (size_t)s->frames * fbytes;
    int fits = reel_ring_write_space_rt(t->ring) >= need;
    if (fits)
        close_gap_rt(t);
    if (fits && flush_marks_rt(t)) {
        reel_ring_vec v[2];
        reel_ring_write_vector_rt(t->ring, v);
        size_t first = v[0].len / fbytes;
        if (first > s->frames)
            first = s->frames;
        interleave_rt(p, t, s->offset, (float *)(void *)v[0].buf, first);
        if (first < s->frames)
            interleave_rt(p, t, s->offset + (unsigned)first, (float *)(void *)v[1].buf,
                          s->frames - first);
        reel_ring_write_commit_rt(t->ring, need);
    } else {
        lose_rt(t, s->take_pos, s->frames);
    }
    t->cur_len = s->take_pos + s->frames;
}

static void end_takes_rt(reel_capture *c)
{
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->armed || t->cur_pass < 0)
            continue;
        end_take_rt(t);
        flush_marks_rt(t);
    }
}

/* Moves the state on at a period boundary; returns the state to act in. */
static int advance_state_rt(reel_capture *c, const reel_period *p)
{
    /* Compare-and-swap: the control thread may move the state at the same
     * moment (stop during start). */
    int st = atomic_load_explicit(&c->state, memory_order_acquire);
    if (st == ST_STARTING) {
        atomic_store_explicit(&c->start, p->position, memory_order_relaxed);
        if (atomic_compare_exchange_strong_explicit(&c->state, &st, ST_RUNNING,
                                                    memory_order_acq_rel, memory_order_acquire))
            st = ST_RUNNING;
    }
    if (st == ST_STOPPING) {
        end_takes_rt(c);
        atomic_compare_exchange_strong_explicit(&c->state, &st, ST_DONE, memory_order_acq_rel,
                                                memory_order_acquire);
    }
    return st;
}

static void meter_rt(reel_capture *c, const reel_period *p)
{
    unsigned n = atomic_load_explicit(&c->n_tracks, memory_order_acquire);
    for (unsigned i = 0; i < n; i++)
        atomic_max_rt(&c->tracks[i].meter_bits, peak_rt(p, &c->tracks[i]));
}

static void log_xrun_rt(reel_capture *c, unsigned pass, uint64_t take_pos)
{
    unsigned k = atomic_load_explicit(&c->n_xruns, memory_order_relaxed);
    if (k < REEL_CAPTURE_MAX_EVENTS_LOGGED) {
        c->xruns[k].take_pos = take_pos;
        c->xruns[k].pass = pass;
    }
    atomic_store_explicit(&c->n_xruns, k + 1, memory_order_release);
}

static void spans_rt(reel_capture *c, const reel_period *p, const reel_rec_span *spans,
                     unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        const reel_rec_span *s = &spans[k];
        if (s->frames == 0)
            continue;
        if (p->xrun && k == 0 && s->offset == 0 && s->take_pos > 0)
            log_xrun_rt(c, s->pass, s->take_pos);
        for (unsigned i = 0; i < c->n_tracks; i++)
            if (c->tracks[i].armed)
                track_span_rt(p, &c->tracks[i], s);
        c->last_pass = s->pass;
        c->last_take_pos = s->take_pos + s->frames;
        atomic_store_explicit(&c->frames, c->last_take_pos, memory_order_release);
    }
}

REEL_NONBLOCKING void reel_capture_process_rt(reel_capture *c, const reel_period *p)
{
    meter_rt(c, p);
    /* c->roll is written before the state's release store in start: read it
     * only after seeing a take under way. */
    int st = atomic_load_explicit(&c->state, memory_order_acquire);
    if (st == ST_IDLE || st == ST_DONE || st == ST_CLOSING || c->roll)
        return;
    if (advance_state_rt(c, p) != ST_RUNNING)
        return;
    uint64_t pos = atomic_load_explicit(&c->frames, memory_order_relaxed);
    unsigned n = p->frames;
    if (c->max_frames && pos + n > c->max_frames)
        n = (unsigned)(c->max_frames - pos);
    reel_rec_span s = {.offset = 0, .frames = n,
                       .pos = (int64_t)atomic_load_explicit(&c->start, memory_order_relaxed) +
                              (int64_t)pos,
                       .take_pos = pos, .pass = 0};
    spans_rt(c, p, &s, 1);
    if (c->max_frames && pos + n >= c->max_frames) {
        atomic_store_explicit(&c->complete, 1, memory_order_release);
        end_takes_rt(c);
        int running = ST_RUNNING;
        atomic_compare_exchange_strong_explicit(&c->state, &running, ST_DONE,
                                                memory_order_acq_rel, memory_order_acquire);
    }
}

REEL_NONBLOCKING void reel_capture_process_spans_rt(reel_capture *c, const reel_period *p,
                                                    const reel_rec_span *spans, unsigned n)
{
    meter_rt(c, p);
    int st = atomic_load_explicit(&c->state, memory_order_acquire);
    if (st == ST_IDLE || st == ST_DONE || st == ST_CLOSING || !c->roll)
        return;
    if (advance_state_rt(c, p) != ST_RUNNING)
        return;
    spans_rt(c, p, spans, n);
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

static void writer_fail(reel_capture *c, struct track *t, int rc, const char *msg)
{
    t->error = rc;
    if (t->n_results && !t->results[t->n_results - 1].error)
        t->results[t->n_results - 1].error = rc;
    if (atomic_load(&c->writer_error) == 0) {
        snprintf(c->writer_msg, sizeof c->writer_msg, "%s", msg);
        int expected = 0;
        atomic_compare_exchange_strong_explicit(&c->writer_error, &expected, rc,
                                                memory_order_release, memory_order_relaxed);
    }
}

static struct take_result *current(struct track *t)
{
    return t->n_results ? &t->results[t->n_results - 1] : NULL;
}

static void write_silence(reel_capture *c, struct track *t, uint64_t frames)
{
    struct take_result *r = current(t);
    if (r) {
        r->lost += frames;
        if (r->n_gaps > 0 && r->gaps[r->n_gaps - 1].position + r->gaps[r->n_gaps - 1].frames ==
                                 t->written) {
            r->gaps[r->n_gaps - 1].frames += frames;
        } else {
            r->overruns++;
            if (r->n_gaps < GAPS_KEPT)
                r->gaps[r->n_gaps++] = (reel_gap){t->written, frames};
        }
    }
    t->written += frames;
    if (!t->w || t->error)
        return;
    int rc = reel_writer_write_silence(t->w, frames);
    if (rc)
        writer_fail(c, t, rc, reel_writer_error(t->w));
}

static void write_audio(reel_capture *c, struct track *t, const float *v, size_t n)
{
    struct take_result *r = current(t);
    if (r) {
        float peak = u2f(scan_peak(v, n * t->nch, &r->clipped));
        if (peak > r->peak)
            r->peak = peak;
    }
    if (!t->w || t->error)
        return;
    int rc = reel_writer_write(t->w, v, n);
    if (rc)
        writer_fail(c, t, rc, reel_writer_error(t->w));
}

static void finish_take(reel_capture *c, struct track *t, uint64_t length)
{
    if (t->written < length) /* a gap still pending in the audio thread at the end */
        write_silence(c, t, length - t->written);
    struct take_result *r = current(t);
    if (r) {
        r->frames = t->written;
        r->file_frames = t->w ? reel_writer_frames(t->w) : 0;
    }
    if (t->w) {
        int rc = reel_writer_close(t->w);
        t->w = NULL;
        if (rc && !t->error) {
            char msg[REEL_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%.400s: cannot finish the file: %s", r ? r->path : "",
                     reel_strerror(rc));
            writer_fail(c, t, rc, msg);
        }
    }
    t->written = 0;
    t->error = 0; /* a later take gets its own chance */
}

static void begin_take(reel_capture *c, struct track *t, const mark *m)
{
    t->written = 0;
    if (m->pass > 0 || current(t) == NULL) {
        char path[1024];
        take_path(t, m->pass, c->cfg.format, path, sizeof path);
        struct take_result *r = new_result(t, m->pass, path);
        char err[REEL_ERRMSG_MAX] = "";
        int rc = t->prefix[0] ? open_take(c, t, path, err)
                              : reel_fail(err, REEL_EINVAL, "a plain take has one pass only");
        if (rc) {
            t->w = NULL;
            if (r) {
                r->start = m->pos;
                r->error = rc;
            }
            writer_fail(c, t, rc, err);
            return;
        }
    }
    struct take_result *r = current(t);
    r->start = m->pos;
    if (t->w)
        reel_writer_set_time_reference(t->w, m->pos > 0 ? (uint64_t)m->pos : 0);
}

static void apply_mark(reel_capture *c, struct track *t, const mark *m)
{
    switch (m->type) {
    case MARK_START: begin_take(c, t, m); break;
    case MARK_GAP: write_silence(c, t, m->frames); break;
    case MARK_END: finish_take(c, t, m->take_pos); break;
    }
}

/* Moves what the rings hold into the files. Returns the frames handled.
 * Audio is written only in runs of at least min_frames (0: whatever there
 * is), so that each file gets few large writes instead of one per period:
 * with hundreds of files, per-call costs (syscall, mtime update, per-page
 * page-cache work) dominated the writer. Marks are applied as soon as they
 * are due. After a write error the track's audio is still drained (and
 * dropped) so the audio thread does not overrun on it. */
static size_t drain_track(reel_capture *c, struct track *t, size_t min_frames)
{
    size_t fbytes = t->nch * sizeof(float);
    size_t handled = 0;
    for (;;) {
        /* Audio first, then marks: see the file comment. */
        size_t avail = reel_ring_read_space_rt(t->ring) / fbytes;
        mark m;
        int have = reel_ring_peek_rt(t->marks, &m, sizeof m) == sizeof m;
        if (have && (m.type != MARK_GAP || m.take_pos <= t->written) &&
            (m.type != MARK_END || m.take_pos <= t->written + avail)) {
            if (m.type == MARK_END && m.take_pos > t->written && avail) {
                /* audio of this take still to write before its end */
            } else {
                reel_ring_read_commit_rt(t->marks, sizeof m);
                apply_mark(c, t, &m);
                handled++;
                continue;
            }
        }
        size_t n = avail;
        if (have && m.take_pos > t->written && m.take_pos - t->written < n)
            n = (size_t)(m.take_pos - t->written);
        if (n > WRITER_CHUNK_FRAMES)
            n = WRITER_CHUNK_FRAMES;
        if (n == 0 || n < min_frames)
            return handled;
        reel_ring_vec v[2];
        reel_ring_read_vector_rt(t->ring, v);
        size_t first = v[0].len / fbytes;
        if (first > n)
            first = n;
        write_audio(c, t, (const float *)(void *)v[0].buf, first);
        if (first < n)
            write_audio(c, t, (const float *)(void *)v[1].buf, n - first);
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

/* Batching: a track's audio waits in its ring until it amounts to
 * armed tracks x rate / WRITER_WRITES_PER_S frames, so that the writer
 * makes about that many write calls a second whatever the track count
 * (one track: every period, as before; 256 tracks at 96 kHz: 96 KB per
 * call instead of 4 KB). Never more than BATCH_MAX_S of audio (the rings
 * have that much room beyond ring_seconds, so a disk stall of ring_seconds
 * still loses nothing) nor a quarter of the ring (freewheeling fills rings
 * fast). Everything waiting is written just before the headers are
 * rewritten, so a killed process still loses only what came after the
 * last header sync. */
static size_t batch_frames(const reel_capture *c, const struct track *t, unsigned armed)
{
    uint64_t b = (uint64_t)armed * c->cfg.rate / WRITER_WRITES_PER_S;
    uint64_t cap = (uint64_t)(c->cfg.rate * BATCH_MAX_S);
    if (b > cap)
        b = cap;
    if (b > t->ring_frames / 4)
        b = t->ring_frames / 4;
    if (b > WRITER_CHUNK_FRAMES)
        b = WRITER_CHUNK_FRAMES;
    return (size_t)b;
}

static void *writer_main(void *arg)
{
    reel_capture *c = arg;
    uint64_t last_sync = now_ns();
    unsigned armed = 0;
    for (unsigned i = 0; i < c->n_tracks; i++)
        armed += c->tracks[i].armed != 0;
    for (;;) {
#ifdef REEL_FAULT_INJECTION
        stall_if_due(c);
#endif
        int st = atomic_load_explicit(&c->state, memory_order_acquire);
        int done = st == ST_DONE;
        int sync_due = now_ns() - last_sync >= (uint64_t)SYNC_INTERVAL_NS;
        size_t moved = 0;
        for (unsigned i = 0; i < c->n_tracks; i++) {
            struct track *t = &c->tracks[i];
            if (t->armed)
                moved += drain_track(c, t, done || sync_due ? 0 : batch_frames(c, t, armed));
        }
        if (done && moved == 0)
            break;
        if (sync_due) {
            for (unsigned i = 0; i < c->n_tracks; i++) {
                struct track *t = &c->tracks[i];
                if (t->w && !t->error) {
                    int rc = reel_writer_sync(t->w);
                    if (rc)
                        writer_fail(c, t, rc, reel_writer_error(t->w));
                }
            }
            last_sync = now_ns();
        }
        if (moved == 0 && !done) {
            struct timespec ts = {0, WRITER_IDLE_NS};
            nanosleep(&ts, NULL);
        }
    }
    /* The audio thread is out (DONE was published with release): marks it
     * could not push are ours now, in order, after everything in the rings. */
    for (unsigned i = 0; i < c->n_tracks; i++) {
        struct track *t = &c->tracks[i];
        if (!t->armed)
            continue;
        for (unsigned k = 0; k < t->n_pending; k++)
            apply_mark(c, t, &t->pending[k]);
        t->n_pending = 0;
        if (t->w) /* the audio thread never ended it (stopped before any frame) */
            finish_take(c, t, t->written);
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
    if (atomic_compare_exchange_strong(&c->state, &expected, ST_CLOSING)) {
        /* Taken over: end the open takes on the audio thread's behalf, then
         * let the writer see DONE (release: it reads these marks after). */
        for (unsigned i = 0; i < c->n_tracks; i++) {
            struct track *t = &c->tracks[i];
            if (t->armed && t->cur_pass >= 0)
                end_take_rt(t);
        }
        atomic_store_explicit(&c->state, ST_DONE, memory_order_release);
    }
    if (c->writer_started) {
        pthread_join(c->writer, NULL);
        c->writer_started = 0;
    }
    int first_err = atomic_load(&c->writer_error);
    atomic_store(&c->state, ST_IDLE);
    if (first_err && errmsg)
        snprintf(errmsg, REEL_ERRMSG_MAX, "%s", c->writer_msg);
    return first_err;
}

unsigned reel_capture_take_count(const reel_capture *c, unsigned track)
{
    if (track >= c->n_tracks || !c->tracks[track].armed)
        return 0;
    return atomic_load_explicit(&c->tracks[track].n_results_pub, memory_order_acquire);
}

static void fill_xruns(const reel_capture *c, unsigned pass, reel_take_stats *st)
{
    unsigned nx = atomic_load_explicit(&c->n_xruns, memory_order_acquire);
    if (nx > REEL_CAPTURE_MAX_EVENTS_LOGGED)
        nx = REEL_CAPTURE_MAX_EVENTS_LOGGED;
    for (unsigned i = 0; i < nx; i++)
        if (c->xruns[i].pass == pass)
            st->xrun_pos[st->xruns++] = c->xruns[i].take_pos;
}

int reel_capture_pass_stats(const reel_capture *c, unsigned track, unsigned take,
                            reel_take_stats *st)
{
    memset(st, 0, sizeof *st);
    if (track >= c->n_tracks)
        return REEL_ENOTFOUND;
    if (!stopped(c))
        return REEL_ESTATE;
    const struct track *t = &c->tracks[track];
    if (!t->armed || take >= t->n_results)
        return REEL_ENOTFOUND;
    const struct take_result *r = &t->results[take];
    snprintf(st->path, sizeof st->path, "%s", r->path);
    st->pass = r->pass;
    st->start = r->start > 0 ? (uint64_t)r->start : 0;
    st->frames = r->error ? r->file_frames : r->frames;
    st->peak = r->peak;
    st->clipped = r->clipped;
    st->overruns = r->overruns;
    st->lost_frames = r->lost;
    st->n_gaps = r->n_gaps;
    memcpy(st->gaps, r->gaps, r->n_gaps * sizeof r->gaps[0]);
    st->error = r->error;
    fill_xruns(c, r->pass, st);
    return 0;
}

int reel_capture_take_stats(const reel_capture *c, unsigned track, reel_take_stats *st)
{
    memset(st, 0, sizeof *st);
    if (track >= c->n_tracks)
        return REEL_ENOTFOUND;
    const struct track *t = &c->tracks[track];
    if (stopped(c)) {
        if (t->armed && t->n_results)
            return reel_capture_pass_stats(c, track, 0, st);
        return 0;
    }
    /* Live: what the audio thread has counted so far. */
    if (t->armed && atomic_load_explicit(&t->n_results_pub, memory_order_acquire))
        snprintf(st->path, sizeof st->path, "%s", t->results[0].path);
    st->start = atomic_load(&c->start);
    st->frames = t->armed ? atomic_load(&c->frames) : 0;
    st->overruns = atomic_load(&t->live_overruns);
    st->lost_frames = atomic_load(&t->live_lost);
    fill_xruns(c, 0, st);
    return 0;
}
