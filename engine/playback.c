/* playback.c: sources, per-source rings and the disk-reader thread.
 *
 * Threads: the control thread owns the source list and the play order and
 * changes them only while the audio thread is kept out (state guard below)
 * and the reader is paused (mutex handshake). The reader thread is the only
 * producer of the rings after prepare; the control thread produces during
 * prepare's fill. The audio thread is the only consumer.
 *
 * Sequence numbers. Frame k of a ring (k counted from prepare) holds play
 * order index k, whose timeline position is order_pos(k). The producer keeps
 * wseq (next index to write), the consumer rseq (index of the next frame in
 * the ring) and cseq (the index the audio thread has reached). They differ
 * after an underrun or a forward skip: rseq < cseq means the frames in
 * between arrive late and are dropped. The consumer publishes cseq as `want`;
 * a reader that finds itself behind it writes zeros instead of reading the
 * disk, since those frames will be dropped anyway (cseq never decreases).
 *
 * State guard (Dekker style, all seq_cst): read_rt increments in_rt and then
 * checks state; prepare/stop set state to ST_BUSY and then wait for in_rt to
 * reach 0. One of the two must see the other's store, so the audio thread
 * either backs off or is waited for, and never touches a ring being reset.
 *
 * Comp crossfades (playback.h) are applied by the producer as it fills a
 * ring: fill_seq reads a region's fade zones from the file like the rest of
 * it and weighs them by timeline position, so the consumer's work does not
 * change. */
#include "playback.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sndfile.h>

#include "ringbuf.h"
#include "xfade.h"

enum { ST_IDLE = 0, ST_READY, ST_BUSY };

#define READ_CHUNK_FRAMES 16384
#define READER_POLL_NS 10000000L /* 10 ms */
#define POS_LIMIT ((int64_t)1 << 62)

struct order {
    int64_t start, loop_start, loop_end;
    int looping;   /* a loop is set and start lies before its end */
};

struct source {
    char path[1024];
    SNDFILE *sf;
    unsigned nch;
    int64_t start;    /* timeline position of the region's first frame */
    int64_t offset;   /* the file frame the region starts at */
    int64_t frames;   /* the region's length (the file's, for a whole file) */
    int64_t file_frames;
    /* Comp crossfade half-lengths: the source sounds over region frames
     * [-hin, frames + hout), weighted in [-hin, hin) and
     * [frames - hout, frames + hout). */
    int64_t hin, hout;
    reel_ring *ring;  /* interleaved float frames in play order */
    size_t cap;       /* ring capacity in frames */
    size_t refill;    /* the reader waits for this much room, so reads stay large */

    /* Producer side. */
    uint64_t wseq;
    int64_t file_pos; /* frame the SNDFILE reads next; -1: unknown, seek first */

    /* Consumer side (audio thread). */
    uint64_t rseq, cseq;
    int in_underrun;

    atomic_uint_fast64_t want; /* cseq, for the producer */
};

struct reel_playback {
    unsigned rate;
    double ring_seconds;
    struct source **src;
    unsigned n_src, cap_src;
    struct order ord;   /* written while the audio thread and reader are kept out */

    atomic_int state;
    atomic_int in_rt;

    atomic_uint underruns;
    atomic_uint jumps;
    atomic_uint_fast64_t lost;
    _Atomic int_least64_t first_pos;

    atomic_int io_error;
    char io_msg[REEL_ERRMSG_MAX];

    pthread_t reader;
    int reader_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;   /* both directions: wake the reader, acknowledge a pause */
    int pause_req, paused, quit;   /* under lock */
};

/* ---- play order ------------------------------------------------------- */

static int64_t order_pos(const struct order *o, uint64_t k)
{
    if (!o->looping)
        return o->start + (int64_t)k;
    uint64_t a = (uint64_t)(o->loop_end - o->start);
    if (k < a)
        return o->start + (int64_t)k;
    uint64_t len = (uint64_t)(o->loop_end - o->loop_start);
    return o->loop_start + (int64_t)((k - a) % len);
}

/* Indices from k up to the next wrap (k's own included). */
static uint64_t order_run(const struct order *o, uint64_t k)
{
    if (!o->looping)
        return UINT64_MAX;
    uint64_t a = (uint64_t)(o->loop_end - o->start);
    if (k < a)
        return a - k;
    uint64_t len = (uint64_t)(o->loop_end - o->loop_start);
    return len - (k - a) % len;
}

/* How many indices after k the order reaches position p, or -1 if never
 * (behind us with no loop to bring us back). The nearest occurrence wins. */
static int64_t order_distance(const struct order *o, uint64_t k, int64_t p)
{
    int64_t e = order_pos(o, k);
    if (!o->looping)
        return p >= e ? p - e : -1;
    if (p >= e && p < o->loop_end)
        return p - e;
    if (p >= o->loop_start && p < e)
        return (o->loop_end - e) + (p - o->loop_start);
    return -1;
}

/* ---- create, sources ---------------------------------------------------- */

int reel_playback_create(reel_playback **out, unsigned rate, double ring_seconds, char *errmsg)
{
    *out = NULL;
    if (rate == 0 || rate > 1000000)
        return reel_fail(errmsg, REEL_EINVAL, "playback: rate %u is not usable", rate);
    if (ring_seconds != 0 && !(ring_seconds >= 1.0 && ring_seconds <= 600.0))
        return reel_fail(errmsg, REEL_EINVAL,
                         "playback: ring_seconds %g must be between 1 and 600", ring_seconds);
    reel_playback *pb = calloc(1, sizeof *pb);
    if (!pb)
        return reel_fail(errmsg, REEL_ENOMEM, "playback: out of memory");
    pb->rate = rate;
    pb->ring_seconds = ring_seconds == 0 ? 5.0 : ring_seconds;
    atomic_init(&pb->state, ST_IDLE);
    atomic_init(&pb->in_rt, 0);
    atomic_init(&pb->first_pos, REEL_POS_NONE);
    /* The reader's 10 ms poll must not jump with the wall clock. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&pb->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc) {
        free(pb);
        return reel_fail(errmsg, REEL_ENOMEM, "playback: cannot create a condition variable");
    }
    pthread_mutex_init(&pb->lock, NULL);
    *out = pb;
    return 0;
}

static void free_source(struct source *s)
{
    if (!s)
        return;
    if (s->sf)
        sf_close(s->sf);
    reel_ring_destroy(s->ring);
    free(s);
}

static int idle(const reel_playback *pb)
{
    return atomic_load(&pb->state) == ST_IDLE;
}

int reel_playback_add(reel_playback *pb, const char *path, int64_t timeline_start, char *errmsg)
{
    return reel_playback_add_region(pb, path, timeline_start, 0, -1, errmsg);
}

int reel_playback_add_region(reel_playback *pb, const char *path, int64_t timeline_start,
                             int64_t file_offset, int64_t frames, char *errmsg)
{
    if (!idle(pb))
        return reel_fail(errmsg, REEL_ESTATE,
                         "playback: sources can only be added while stopped "
                         "(call reel_playback_stop first)");
    if (!path || !*path)
        return reel_fail(errmsg, REEL_EINVAL, "playback: no file name given");
    if (strlen(path) >= sizeof ((struct source *)0)->path)
        return reel_fail(errmsg, REEL_EINVAL, "playback: file name too long: %.200s...", path);
    if (timeline_start < -POS_LIMIT || timeline_start > POS_LIMIT)
        return reel_fail(errmsg, REEL_EINVAL, "playback: %s: timeline start %lld is out of range",
                         path, (long long)timeline_start);
    if (pb->n_src == REEL_PLAYBACK_MAX_SOURCES)
        return reel_fail(errmsg, REEL_EINVAL, "playback: too many sources (at most %d)",
                         REEL_PLAYBACK_MAX_SOURCES);

    /* stat first: libsndfile's message for a missing file is less plain. */
    struct stat stb;
    if (stat(path, &stb) != 0)
        return reel_fail(errmsg, errno == ENOENT || errno == ENOTDIR ? REEL_ENOTFOUND : REEL_EIO,
                         "playback: %s: %s", path, strerror(errno));
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return reel_fail(errmsg, REEL_EFORMAT, "playback: %s: %s", path, sf_strerror(NULL));
    int rc = 0;
    if (info.channels < 1 || info.channels > 2)
        rc = reel_fail(errmsg, REEL_EFORMAT,
                       "playback: %s: %d channels (only mono and stereo files can be played)",
                       path, info.channels);
    else if ((unsigned)info.samplerate != pb->rate)
        rc = reel_fail(errmsg, REEL_EINVAL,
                       "playback: %s: sample rate %d Hz does not match the playback rate %u Hz",
                       path, info.samplerate, pb->rate);
    int64_t file_frames = info.frames > 0 ? (int64_t)info.frames : 0;
    if (!rc && (file_offset < 0 || file_offset > file_frames))
        rc = reel_fail(errmsg, REEL_EINVAL,
                       "playback: %s: region offset %lld is outside the file (%lld frames)", path,
                       (long long)file_offset, (long long)file_frames);
    else if (!rc && frames >= 0 && frames > file_frames - file_offset)
        rc = reel_fail(errmsg, REEL_EINVAL,
                       "playback: %s: region of %lld frames from frame %lld ends after the "
                       "file's end (%lld frames)", path, (long long)frames,
                       (long long)file_offset, (long long)file_frames);
    if (rc) {
        sf_close(sf);
        return rc;
    }

    if (pb->n_src == pb->cap_src) {
        unsigned n = pb->cap_src ? 2 * pb->cap_src : 8;
        struct source **p = realloc(pb->src, n * sizeof *p);
        if (!p) {
            sf_close(sf);
            return reel_fail(errmsg, REEL_ENOMEM, "playback: out of memory");
        }
        pb->src = p;
        pb->cap_src = n;
    }
    struct source *s = calloc(1, sizeof *s);
    if (!s) {
        sf_close(sf);
        return reel_fail(errmsg, REEL_ENOMEM, "playback: out of memory");
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    s->sf = sf;
    s->nch = (unsigned)info.channels;
    s->start = timeline_start;
    s->offset = file_offset;
    s->frames = frames >= 0 ? frames : file_frames - file_offset;
    s->file_frames = file_frames;
    s->file_pos = 0;
    size_t fb = s->nch * sizeof(float);
    size_t want_frames = (size_t)(pb->rate * pb->ring_seconds);
    rc = reel_ring_create(&s->ring, want_frames * fb);
    if (rc) {
        free_source(s);
        return reel_fail(errmsg, rc, "playback: %s: cannot allocate %.1f s of ring buffer", path,
                         pb->ring_seconds);
    }
    /* The ring holds whole frames: its power-of-two size is a multiple of 8. */
    s->cap = reel_ring_capacity(s->ring) / fb;
    s->refill = s->cap / 4 < READ_CHUNK_FRAMES ? s->cap / 4 : READ_CHUNK_FRAMES;
    pb->src[pb->n_src] = s;
    return (int)pb->n_src++;
}

int reel_playback_set_region_fades(reel_playback *pb, unsigned source, int64_t hin,
                                   int64_t hout, char *errmsg)
{
    if (!idle(pb))
        return reel_fail(errmsg, REEL_ESTATE,
                         "playback: fades can only be set while stopped "
                         "(call reel_playback_stop first)");
    if (source >= pb->n_src)
        return reel_fail(errmsg, REEL_EINVAL, "playback: no source %u", source);
    if (hin < 0 || hout < 0)
        return reel_fail(errmsg, REEL_EINVAL,
                         "playback: fade lengths must not be negative (hin %lld, hout %lld)",
                         (long long)hin, (long long)hout);
    struct source *s = pb->src[source];
    if (hin > s->offset)
        return reel_fail(errmsg, REEL_EINVAL,
                         "playback: %.400s: a fade-in of %lld frames reaches before the file's "
                         "start (the region starts at frame %lld)",
                         s->path, (long long)hin, (long long)s->offset);
    int64_t after = s->file_frames - s->offset - s->frames;
    if (hout > after)
        return reel_fail(errmsg, REEL_EINVAL,
                         "playback: %.400s: a fade-out of %lld frames reaches past the file's "
                         "end (%lld frames after the region)",
                         s->path, (long long)hout, (long long)after);
    if (hin > s->frames - hout)
        return reel_fail(errmsg, REEL_EINVAL,
                         "playback: %.400s: fades of %lld + %lld frames overlap in a region of "
                         "%lld frames",
                         s->path, (long long)hin, (long long)hout, (long long)s->frames);
    s->hin = hin;
    s->hout = hout;
    return 0;
}

int reel_playback_clear(reel_playback *pb)
{
    if (!idle(pb))
        return REEL_ESTATE;
    for (unsigned i = 0; i < pb->n_src; i++)
        free_source(pb->src[i]);
    pb->n_src = 0;
    return 0;
}

unsigned reel_playback_source_count(const reel_playback *pb) { return pb->n_src; }

unsigned reel_playback_source_channels(const reel_playback *pb, unsigned source)
{
    return source < pb->n_src ? pb->src[source]->nch : 0;
}

uint64_t reel_playback_source_frames(const reel_playback *pb, unsigned source)
{
    return source < pb->n_src ? (uint64_t)pb->src[source]->frames : 0;
}

int reel_playback_prepared(const reel_playback *pb)
{
    return atomic_load(&pb->state) == ST_READY;
}

/* ---- producer (reader thread, or control thread in prepare) ------------ */

static void io_fail(reel_playback *pb, const struct source *s, int64_t frame, const char *why)
{
    if (atomic_load(&pb->io_error) != 0)
        return;
    /* The message is written before the code is published (release), and
     * only by the one producer running at a time. */
    snprintf(pb->io_msg, sizeof pb->io_msg, "playback: %.400s: read failed at frame %lld: %s",
             s->path, (long long)frame, why);
    atomic_store_explicit(&pb->io_error, REEL_EIO, memory_order_release);
}

/* count frames of the region from its frame rf, into dst; zeros for what
 * fails. file_pos counts file frames. */
static void read_file(reel_playback *pb, struct source *s, int64_t rf, float *dst, size_t count)
{
    int64_t f = s->offset + rf;
    if (s->file_pos != f && sf_seek(s->sf, (sf_count_t)f, SEEK_SET) != (sf_count_t)f) {
        io_fail(pb, s, f, "cannot seek");
        memset(dst, 0, count * s->nch * sizeof(float));
        s->file_pos = -1;
        return;
    }
    sf_count_t got = sf_readf_float(s->sf, dst, (sf_count_t)count);
    if (got < 0)
        got = 0;
    if ((size_t)got < count) {
        io_fail(pb, s, f + got,
                sf_error(s->sf) ? sf_strerror(s->sf) : "the file ends early");
        memset(dst + (size_t)got * s->nch, 0, (count - (size_t)got) * s->nch * sizeof(float));
        s->file_pos = -1;
        return;
    }
    s->file_pos = f + (int64_t)count;
}

/* The weight of engine/xfade.h: one formula for renders and playback. */
static inline float ramp(uint64_t t, uint64_t z, uint64_t len, int rising)
{
    return reel_xfade_gain(t, z, len, rising);
}

static void weigh_frames(const struct source *s, float *dst, int64_t a, int64_t b, int64_t f,
                         int64_t z, int64_t len, int rising)
{
    for (int64_t i = a; i < b; i++) {
        float g = ramp((uint64_t)(i - z), 0, (uint64_t)len, rising);
        float *x = dst + (size_t)(i - f) * s->nch;
        for (unsigned c = 0; c < s->nch; c++)
            x[c] = g * x[c];
    }
}

/* Weighs region frames [f, f + n), just read into dst, by the fades. */
static void weigh(const struct source *s, int64_t f, float *dst, size_t n)
{
    int64_t end = f + (int64_t)n;
    /* Rising over [-hin, hin). */
    int64_t b = end < s->hin ? end : s->hin;
    if (f < b)
        weigh_frames(s, dst, f, b, f, -s->hin, 2 * s->hin, 1);
    /* Falling over [frames - hout, frames + hout). */
    int64_t a = s->frames - s->hout > f ? s->frames - s->hout : f;
    if (s->hout > 0 && a < end)
        weigh_frames(s, dst, a, end, f, s->frames - s->hout, 2 * s->hout, 0);
}

/* Writes play order indices k, k+1, ... (count of them) into dst. */
static void fill_seq(reel_playback *pb, struct source *s, uint64_t k, float *dst, size_t count)
{
    while (count > 0) {
        int64_t p = order_pos(&pb->ord, k);
        uint64_t run = order_run(&pb->ord, k);
        size_t n = run < count ? (size_t)run : count;
        /* The source sounds over region frames [lo, hi): fades included. */
        int64_t f = p - s->start, lo = -s->hin, hi = s->frames + s->hout;
        if (f < lo) {
            if ((uint64_t)(lo - f) < n)
                n = (size_t)(lo - f);
            memset(dst, 0, n * s->nch * sizeof(float));
        } else if (f >= hi) {
            memset(dst, 0, n * s->nch * sizeof(float));
        } else {
            if ((uint64_t)(hi - f) < n)
                n = (size_t)(hi - f);
            read_file(pb, s, f, dst, n);
            if (s->hin || s->hout)
                weigh(s, f, dst, n);
        }
        dst += n * s->nch;
        k += n;
        count -= n;
    }
}

/* One step for one source: skips what the consumer has given up on, or
 * writes up to a chunk. Returns the frames put in the ring. */
static size_t produce(reel_playback *pb, struct source *s, size_t min_room)
{
    size_t fb = s->nch * sizeof(float);
    size_t room = reel_ring_write_space_rt(s->ring) / fb;
    if (room == 0 || room < min_room)
        return 0;
    reel_ring_vec v[2];
    reel_ring_write_vector_rt(s->ring, v);
    size_t first = v[0].len / fb;
    uint64_t want = atomic_load_explicit(&s->want, memory_order_acquire);
    size_t n;
    if (s->wseq < want) {
        n = want - s->wseq < room ? (size_t)(want - s->wseq) : room;
        size_t a = first < n ? first : n;
        memset(v[0].buf, 0, a * fb);
        if (a < n)
            memset(v[1].buf, 0, (n - a) * fb);
    } else {
        n = room < READ_CHUNK_FRAMES ? room : READ_CHUNK_FRAMES;
        size_t a = first < n ? first : n;
        fill_seq(pb, s, s->wseq, (float *)(void *)v[0].buf, a);
        if (a < n)
            fill_seq(pb, s, s->wseq + a, (float *)(void *)v[1].buf, n - a);
    }
    reel_ring_write_commit_rt(s->ring, n * fb);
    s->wseq += n;
    return n;
}

static void *reader_main(void *arg)
{
    reel_playback *pb = arg;
    pthread_mutex_lock(&pb->lock);
    for (;;) {
        while (pb->pause_req && !pb->quit) {
            pb->paused = 1;
            pthread_cond_broadcast(&pb->cond);
            pthread_cond_wait(&pb->cond, &pb->lock);
        }
        pb->paused = 0;
        if (pb->quit)
            break;
        pthread_mutex_unlock(&pb->lock);
        /* One chunk per source per pass, so that a pause request waits for
         * at most one chunk per source and no source starves the others. */
        size_t moved = 0;
        for (unsigned i = 0; i < pb->n_src; i++)
            moved += produce(pb, pb->src[i], pb->src[i]->refill);
        pthread_mutex_lock(&pb->lock);
        if (moved == 0 && !pb->pause_req && !pb->quit) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += READER_POLL_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&pb->cond, &pb->lock, &ts);
        }
    }
    pthread_mutex_unlock(&pb->lock);
    return NULL;
}

static void reader_pause(reel_playback *pb)
{
    if (!pb->reader_started)
        return;
    pthread_mutex_lock(&pb->lock);
    pb->pause_req = 1;
    pthread_cond_broadcast(&pb->cond);
    while (!pb->paused)
        pthread_cond_wait(&pb->cond, &pb->lock);
    pthread_mutex_unlock(&pb->lock);
}

static void reader_resume(reel_playback *pb)
{
    pthread_mutex_lock(&pb->lock);
    pb->pause_req = 0;
    pthread_cond_broadcast(&pb->cond);
    pthread_mutex_unlock(&pb->lock);
}

/* ---- control: prepare, stop ------------------------------------------- */

/* Keeps the audio thread out: see the file comment. */
static void block_rt(reel_playback *pb)
{
    atomic_store(&pb->state, ST_BUSY);
    while (atomic_load(&pb->in_rt) != 0) {
        struct timespec ts = {0, 20000L};
        nanosleep(&ts, NULL);
    }
}

void reel_playback_stop(reel_playback *pb)
{
    if (!pb || idle(pb))
        return;
    block_rt(pb);
    reader_pause(pb);
    atomic_store(&pb->state, ST_IDLE);
}

static int pos_ok(int64_t p)
{
    return p >= -POS_LIMIT && p <= POS_LIMIT;
}

int reel_playback_prepare(reel_playback *pb, int64_t pos, int64_t loop_start, int64_t loop_end,
                          char *errmsg)
{
    if (!pos_ok(pos))
        return reel_fail(errmsg, REEL_EINVAL, "playback: position %lld is out of range",
                         (long long)pos);
    if ((loop_start == REEL_POS_NONE) != (loop_end == REEL_POS_NONE))
        return reel_fail(errmsg, REEL_EINVAL,
                         "playback: loop start and loop end must be set together");
    int loop = loop_start != REEL_POS_NONE;
    if (loop) {
        if (!pos_ok(loop_start))
            return reel_fail(errmsg, REEL_EINVAL, "playback: position %lld is out of range",
                             (long long)loop_start);
        if (!pos_ok(loop_end))
            return reel_fail(errmsg, REEL_EINVAL, "playback: position %lld is out of range",
                             (long long)loop_end);
        if (loop_end <= loop_start)
            return reel_fail(errmsg, REEL_EINVAL,
                             "playback: loop end (%lld) is not after loop start (%lld)",
                             (long long)loop_end, (long long)loop_start);
    }

    block_rt(pb);
    reader_pause(pb);

    pb->ord = (struct order){pos, loop ? loop_start : 0, loop ? loop_end : 0,
                             loop && pos < loop_end};
    atomic_store(&pb->underruns, 0);
    atomic_store(&pb->jumps, 0);
    atomic_store(&pb->lost, 0);
    atomic_store(&pb->first_pos, REEL_POS_NONE);
    atomic_store(&pb->io_error, 0);
    pb->io_msg[0] = 0;
    for (unsigned i = 0; i < pb->n_src; i++) {
        struct source *s = pb->src[i];
        reel_ring_reset(s->ring);
        s->wseq = s->rseq = s->cseq = 0;
        s->in_underrun = 0;
        atomic_store(&s->want, 0);
    }
    /* A second of every source before the transport may roll; the reader
     * tops the rings up from there. */
    for (unsigned i = 0; i < pb->n_src; i++) {
        struct source *s = pb->src[i];
        size_t target = s->cap < pb->rate ? s->cap : pb->rate;
        while (s->wseq < target)
            produce(pb, s, 0);
    }

    if (!pb->reader_started) {
        pb->pause_req = 0;
        pb->quit = 0;
        int rc = pthread_create(&pb->reader, NULL, reader_main, pb);
        if (rc) {
            atomic_store(&pb->state, ST_IDLE);
            return reel_fail(errmsg, REEL_ENOMEM, "playback: cannot start the reader thread: %s",
                             strerror(rc));
        }
        pb->reader_started = 1;
    }
    int io = atomic_load(&pb->io_error);
    if (io)
        reel_fail(errmsg, io, "%s", pb->io_msg);
    /* Publishes the order and the reset consumer state to the audio thread
     * (seq_cst store, paired with the load in rt_enter). */
    atomic_store(&pb->state, ST_READY);
    reader_resume(pb);
    return io;
}

void reel_playback_destroy(reel_playback *pb)
{
    if (!pb)
        return;
    reel_playback_stop(pb);
    if (pb->reader_started) {
        pthread_mutex_lock(&pb->lock);
        pb->quit = 1;
        pthread_cond_broadcast(&pb->cond);
        pthread_mutex_unlock(&pb->lock);
        pthread_join(pb->reader, NULL);
    }
    for (unsigned i = 0; i < pb->n_src; i++)
        free_source(pb->src[i]);
    free(pb->src);
    pthread_cond_destroy(&pb->cond);
    pthread_mutex_destroy(&pb->lock);
    free(pb);
}

/* ---- audio thread ------------------------------------------------------ */

static int rt_enter(reel_playback *pb)
{
    atomic_fetch_add(&pb->in_rt, 1);
    if (atomic_load(&pb->state) == ST_READY)
        return 1;
    atomic_fetch_sub_explicit(&pb->in_rt, 1, memory_order_release);
    return 0;
}

static void rt_leave(reel_playback *pb)
{
    atomic_fetch_sub_explicit(&pb->in_rt, 1, memory_order_release);
}

static void silence_rt(float *l, float *r, size_t n)
{
    if (l)
        memset(l, 0, n * sizeof(float));
    if (r)
        memset(r, 0, n * sizeof(float));
}

/* Drops ring frames the consumer has moved past. Returns the frames of the
 * ring that are usable from cseq on (0 while rseq is still behind). */
static size_t settle_rt(struct source *s)
{
    size_t fb = s->nch * sizeof(float);
    size_t avail = reel_ring_read_space_rt(s->ring) / fb;
    if (s->rseq < s->cseq) {
        uint64_t debt = s->cseq - s->rseq;
        size_t k = debt < avail ? (size_t)debt : avail;
        reel_ring_read_commit_rt(s->ring, k * fb);
        s->rseq += k;
        avail -= k;
    }
    return s->rseq == s->cseq ? avail : 0;
}

static void copy_out_rt(const struct source *s, const float *src, size_t n, float *l, float *r)
{
    if (s->nch == 1) {
        memcpy(l, src, n * sizeof(float));
        if (r)
            memcpy(r, src, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        l[i] = src[2 * i];
        r[i] = src[2 * i + 1];
    }
}

/* Counts the frames of [p, p + n) where the source sounds (its region and
 * fades): those are lost. */
static uint64_t note_lost_rt(reel_playback *pb, struct source *s, int64_t p, uint64_t n)
{
    int64_t lo_f = s->start - s->hin;
    int64_t lo = p > lo_f ? p : lo_f;
    int64_t hi_p = p + (int64_t)n, hi_f = s->start + s->frames + s->hout;
    int64_t hi = hi_p < hi_f ? hi_p : hi_f;
    if (hi <= lo) {
        s->in_underrun = 0;
        return 0;
    }
    uint64_t lost = (uint64_t)(hi - lo);
    atomic_fetch_add_explicit(&pb->lost, lost, memory_order_relaxed);
    if (!s->in_underrun) {
        atomic_fetch_add_explicit(&pb->underruns, 1, memory_order_relaxed);
        int_least64_t none = REEL_POS_NONE;
        atomic_compare_exchange_strong_explicit(&pb->first_pos, &none, lo, memory_order_relaxed,
                                                memory_order_relaxed);
    }
    s->in_underrun = 1;
    return lost;
}

static uint64_t consume_rt(reel_playback *pb, struct source *s, int64_t pos, unsigned frames,
                           float *out_l, float *out_r)
{
    size_t fb = s->nch * sizeof(float);
    uint64_t lost = 0;
    int jumped = 0;
    unsigned done = 0;
    while (done < frames) {
        int64_t p = pos + done;
        unsigned n = frames - done;
        float *l = out_l + done, *r = out_r ? out_r + done : NULL;
        int64_t d = order_distance(&pb->ord, s->cseq, p);
        if (d < 0) {
            /* Never reached: stay where we were, so that a call at the
             * expected position still plays. */
            jumped = 1;
            silence_rt(l, r, n);
            lost += note_lost_rt(pb, s, p, n);
            break;
        }
        if (d > 0) {
            jumped = 1;
            s->cseq += (uint64_t)d;
        }
        uint64_t run = order_run(&pb->ord, s->cseq);
        if (run < n)
            n = (unsigned)run;
        size_t avail = settle_rt(s);
        size_t got = avail < n ? avail : n;
        if (got) {
            reel_ring_vec v[2];
            reel_ring_read_vector_rt(s->ring, v);
            size_t a = v[0].len / fb;
            if (a > got)
                a = got;
            copy_out_rt(s, (const float *)(void *)v[0].buf, a, l, r);
            if (a < got)
                copy_out_rt(s, (const float *)(void *)v[1].buf, got - a, l + a, r ? r + a : NULL);
            reel_ring_read_commit_rt(s->ring, got * fb);
            s->rseq += got;
        }
        if (got < n) {
            silence_rt(l + got, r ? r + got : NULL, n - got);
            lost += note_lost_rt(pb, s, p + (int64_t)got, n - got);
        } else {
            s->in_underrun = 0;
        }
        s->cseq += n;
        done += n;
    }
    if (jumped)
        atomic_fetch_add_explicit(&pb->jumps, 1, memory_order_relaxed);
    atomic_store_explicit(&s->want, s->cseq, memory_order_release);
    return lost;
}

REEL_NONBLOCKING int reel_playback_read_rt(reel_playback *pb, unsigned source, int64_t pos,
                                           unsigned frames, float *out_l, float *out_r)
{
    if (frames > INT_MAX)
        return REEL_EINVAL;
    /* REEL_POS_NONE from a span that is not rolling, say: no order reaches
     * it, and the arithmetic below must not overflow on it. */
    if (!out_l || pos < -POS_LIMIT || pos > POS_LIMIT) {
        silence_rt(out_l, out_r, frames);
        return REEL_EINVAL;
    }
    if (!rt_enter(pb)) {
        silence_rt(out_l, out_r, frames);
        return REEL_ESTATE;
    }
    int rc;
    if (source >= pb->n_src || (pb->src[source]->nch == 2 && !out_r)) {
        silence_rt(out_l, out_r, frames);
        rc = REEL_EINVAL;
    } else {
        rc = (int)consume_rt(pb, pb->src[source], pos, frames, out_l, out_r);
    }
    rt_leave(pb);
    return rc;
}

REEL_NONBLOCKING int reel_playback_ready_rt(reel_playback *pb, unsigned frames)
{
    if (!rt_enter(pb))
        return 1;
    int ok = 1;
    for (unsigned i = 0; i < pb->n_src && ok; i++)
        ok = settle_rt(pb->src[i]) >= frames;
    rt_leave(pb);
    return ok;
}

/* ---- statistics --------------------------------------------------------- */

unsigned reel_playback_underruns(const reel_playback *pb, int64_t *first_pos)
{
    if (first_pos)
        *first_pos = atomic_load(&pb->first_pos);
    return atomic_load(&pb->underruns);
}

void reel_playback_get_stats(const reel_playback *pb, reel_playback_stats *st)
{
    st->underruns = atomic_load(&pb->underruns);
    st->lost_frames = atomic_load(&pb->lost);
    st->first_underrun_pos = atomic_load(&pb->first_pos);
    st->jumps = atomic_load(&pb->jumps);
}

int reel_playback_reader_status(const reel_playback *pb, char *errmsg)
{
    int rc = atomic_load_explicit(&pb->io_error, memory_order_acquire);
    if (rc && errmsg)
        snprintf(errmsg, REEL_ERRMSG_MAX, "%s", pb->io_msg);
    return rc;
}
