/* device_virtual.c: the virtual device, reel's hardware-free backend.
 *
 * Inputs come from generators (generator.h specs, one channel each) and sound
 * files (any format libsndfile reads, all their channels; a file that ends
 * continues as silence); outputs go to a float WAV file or nowhere. It runs
 * clocked at real time ("virtual": a monotonic clock paces the periods) or as
 * fast as the consumer allows ("virtual:freewheel", with the optional ready()
 * back-pressure), always through the same process callback.
 *
 * Threads: open/start/stop/close run on the control thread. start() creates
 * one device thread which, per period, plays the part of the hardware (reads
 * the input files, runs generators, writes the output file: I/O that happens
 * outside the callback, as a sound card's DMA would) and calls the process
 * callback. The two threads share only the stop flag and the output-failure
 * flag (atomics); everything else is owned by the device thread between
 * start and stop and by the control thread otherwise, with pthread_create and
 * pthread_join as the hand-over points. All buffers are allocated at open.
 *
 * Position: counts device frames since open, across stop/start. When the
 * realtime clock falls more than a period behind (the machine stalled or the
 * callback overran), the missed periods are lost the way a real device loses
 * them: inputs (files, generators) and position advance past them, the
 * output file gets silence for them, and the next period has xrun set. So
 * input frame N is always captured at position N and output-file frame N is
 * always what was played at position N; the gap is visible in position.
 *
 * Loopback (cfg->loopback, "OUT>IN,..."): a simulated cable with a round trip
 * of L frames, so that latency compensation can be tested to the sample.
 * Output frame d (as the callback wrote it, or silence when lost) arrives on
 * input frame d + L, replacing the input's own source (which still runs, so
 * files stay aligned with position). Each loop is a delay line of exactly L
 * floats allocated at open: slot d % L holds output frame d until input
 * frame d + L takes it, so a period first reads its slots into the input
 * and, after the callback, refills them with its output. That needs L >= the
 * period: a period's inputs are delivered before its outputs exist, so a
 * shorter round trip cannot be simulated (0 asks for one period). The whole
 * round trip is reported as input latency: outputs still reach the output
 * file at once, as the callback wrote them. */
#include "device_int.h"
#include "generator.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define VIRTUAL_DEFAULT_RATE 48000
#define VIRTUAL_DEFAULT_PERIOD 256
#define VIRTUAL_MAX_PERIOD 65536
#define VIRTUAL_MIN_RATE 1000
#define VIRTUAL_MAX_RATE 1000000
/* Same priority JACK gives its clients by default: above ordinary threads,
 * well below the kernel's own real-time threads. */
#define VIRTUAL_RT_PRIORITY 10
/* A loop's delay line: 4 MiB, about 22 s at 48 kHz. */
#define VIRTUAL_MAX_LOOPBACK_LATENCY (1u << 20)
#define LOOPBACK_USAGE "write OUT>IN pairs such as 1>1 or 1>1,2>3; channels count from 1"
#define NSEC 1000000000LL

struct vsource {
    reel_gen *gen;          /* generator source, or */
    SNDFILE *sf;            /* file source */
    int seekable;
    sf_count_t file_frames;
    sf_count_t file_pos;
    int ended;
    unsigned channels;
    unsigned first;         /* first device input channel it feeds */
};

/* One loopback cable: output out feeds input in (0-based) through ring. */
struct vloop {
    unsigned out, in;
    float *ring;            /* latency floats; slot d % latency = output frame d */
};

struct vdev {
    int freewheel;
    unsigned rate, period, in_ch, out_ch;
    struct vsource *src;
    unsigned n_src;
    unsigned src_ch;        /* channels the sources give; the rest are silence */

    float *in_buf, *out_buf, *scratch;
    size_t scratch_len;     /* floats */
    float **in, **out;

    SNDFILE *outf;
    char *out_path;
    uint64_t out_frames;

    reel_ready_fn ready;
    void *ready_user;

    pthread_t thread;
    int thread_started;
    atomic_int stop;
    atomic_int out_failed;  /* set (release) after out_msg is written */
    char out_msg[REEL_ERRMSG_MAX];

    struct vloop *loops;
    unsigned n_loops;
    unsigned loop_latency;  /* frames, >= period when n_loops > 0 */
    float *loop_buf;        /* n_loops * loop_latency: every ring */

    uint64_t position;
};

/* ---- sources (device thread while running, control thread otherwise) ---- */

static void fill_file(struct vdev *v, struct vsource *s, unsigned frames)
{
    sf_count_t got = 0;
    if (!s->ended) {
        got = sf_readf_float(s->sf, v->scratch, frames);
        if (got < 0)
            got = 0;
        s->file_pos += got;
        /* A short read is the end of the file (or a read error, which a
         * stand-in for hardware cannot do better with than silence). */
        if (got < (sf_count_t)frames)
            s->ended = 1;
    }
    for (unsigned c = 0; c < s->channels; c++) {
        float *dst = v->in[s->first + c];
        const float *src = v->scratch + c;
        for (sf_count_t i = 0; i < got; i++)
            dst[i] = src[i * s->channels];
        memset(dst + got, 0, (frames - (size_t)got) * sizeof *dst);
    }
}

static void fill_inputs(struct vdev *v, unsigned frames)
{
    for (unsigned i = 0; i < v->n_src; i++) {
        struct vsource *s = &v->src[i];
        if (s->gen)
            reel_gen_fill_rt(s->gen, v->in[s->first], frames);
        else
            fill_file(v, s, frames);
    }
    /* Re-zeroed every period: cheap, and a callback that scribbles on its
     * (const) inputs cannot leave noise in the padding channels. */
    for (unsigned c = v->src_ch; c < v->in_ch; c++)
        memset(v->in[c], 0, frames * sizeof(float));
}

/* Advances a source past frames that were never delivered (simulated xrun). */
static void skip_source(struct vdev *v, struct vsource *s, uint64_t frames)
{
    if (s->gen) {
        while (frames > 0) {
            unsigned n = frames < v->period ? (unsigned)frames : v->period;
            reel_gen_fill_rt(s->gen, v->scratch, n);
            frames -= n;
        }
        return;
    }
    if (s->ended)
        return;
    if (s->seekable) {
        if ((uint64_t)(s->file_frames - s->file_pos) <= frames ||
            sf_seek(s->sf, s->file_pos + (sf_count_t)frames, SEEK_SET) < 0) {
            s->ended = 1;
            return;
        }
        s->file_pos += (sf_count_t)frames;
        return;
    }
    while (frames > 0 && !s->ended) {
        unsigned n = frames < v->period ? (unsigned)frames : v->period;
        sf_count_t got = sf_readf_float(s->sf, v->scratch, n);
        if (got < (sf_count_t)n)
            s->ended = 1;
        if (got > 0)
            s->file_pos += got;
        frames -= n;
    }
}

/* ---- loopback delay lines (device thread while running) ---- */

/* Copies frames floats between a period buffer and a ring starting at slot
 * first, wrapping at len; to_ring picks the direction. */
static void ring_copy(float *ring, unsigned len, unsigned first, float *buf, unsigned frames,
                      int to_ring)
{
    unsigned n1 = len - first < frames ? len - first : frames;
    if (to_ring) {
        memcpy(ring + first, buf, n1 * sizeof *buf);
        memcpy(ring, buf + n1, (frames - n1) * sizeof *buf);
    } else {
        memcpy(buf, ring + first, n1 * sizeof *buf);
        memcpy(buf + n1, ring, (frames - n1) * sizeof *buf);
    }
}

/* Inputs of the period at v->position: output frames position - L onward
 * (zeros before the first loop frame, since the rings start zeroed). */
static void loops_to_inputs(struct vdev *v, unsigned frames)
{
    if (!v->n_loops)
        return;
    unsigned first = (unsigned)(v->position % v->loop_latency);
    for (unsigned i = 0; i < v->n_loops; i++)
        ring_copy(v->loops[i].ring, v->loop_latency, first, v->in[v->loops[i].in], frames, 0);
}

/* The period's outputs, due on the inputs L frames later. */
static void outputs_to_loops(struct vdev *v, unsigned frames)
{
    if (!v->n_loops)
        return;
    unsigned first = (unsigned)(v->position % v->loop_latency);
    for (unsigned i = 0; i < v->n_loops; i++)
        ring_copy(v->loops[i].ring, v->loop_latency, first, v->out[v->loops[i].out], frames, 1);
}

/* Lost frames (simulated xrun) played silence, which is what comes back. */
static void silence_loops(struct vdev *v, uint64_t frames)
{
    if (!v->n_loops)
        return;
    unsigned len = v->loop_latency;
    if (frames >= len) {
        memset(v->loop_buf, 0, (size_t)v->n_loops * len * sizeof(float));
        return;
    }
    unsigned first = (unsigned)(v->position % len), n = (unsigned)frames;
    unsigned n1 = len - first < n ? len - first : n;
    for (unsigned i = 0; i < v->n_loops; i++) {
        memset(v->loops[i].ring + first, 0, n1 * sizeof(float));
        memset(v->loops[i].ring, 0, (n - n1) * sizeof(float));
    }
}

/* ---- output file ---- */

static void out_fail(struct vdev *v, const char *why)
{
    snprintf(v->out_msg, sizeof v->out_msg,
             "virtual output '%s': write failed after %llu frames: %s", v->out_path,
             (unsigned long long)v->out_frames, why);
    atomic_store_explicit(&v->out_failed, 1, memory_order_release);
}

/* Writes frames from the out buffers, or silence when silent is set. */
static void write_outputs(struct vdev *v, unsigned frames, int silent)
{
    if (!v->outf || atomic_load_explicit(&v->out_failed, memory_order_relaxed))
        return;
    unsigned ch = v->out_ch;
    if (silent) {
        memset(v->scratch, 0, (size_t)frames * ch * sizeof(float));
    } else {
        for (unsigned c = 0; c < ch; c++) {
            const float *src = v->out[c];
            float *dst = v->scratch + c;
            for (unsigned i = 0; i < frames; i++)
                dst[(size_t)i * ch] = src[i];
        }
    }
    sf_count_t put = sf_writef_float(v->outf, v->scratch, frames);
    if (put != (sf_count_t)frames) {
        out_fail(v, sf_strerror(v->outf));
        return;
    }
    v->out_frames += frames;
}

/* ---- the device thread ---- */

static void run_period(reel_device *d, struct vdev *v, unsigned xrun)
{
    unsigned frames = v->period;
    fill_inputs(v, frames);
    loops_to_inputs(v, frames);
    memset(v->out_buf, 0, (size_t)v->out_ch * frames * sizeof(float));
    reel_period p = {
        .in = (const float *const *)v->in,
        .out = v->out,
        .in_channels = v->in_ch,
        .out_channels = v->out_ch,
        .frames = frames,
        .position = v->position,
        .xrun = xrun,
    };
    d->process(&p, d->user);
    outputs_to_loops(v, frames);
    write_outputs(v, frames, 0);
    v->position += frames;
}

static void lose_frames(struct vdev *v, uint64_t frames)
{
    for (unsigned i = 0; i < v->n_src; i++)
        skip_source(v, &v->src[i], frames);
    for (uint64_t left = frames; left > 0;) {
        unsigned n = left < v->period ? (unsigned)left : v->period;
        write_outputs(v, n, 1);
        left -= n;
    }
    silence_loops(v, frames);
    v->position += frames;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * NSEC + t->tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
    struct timespec t = { .tv_sec = (time_t)(ns / NSEC), .tv_nsec = (long)(ns % NSEC) };
    return t;
}

/* Nanoseconds that `frames` last at `rate`, without overflowing for runs of
 * days (frames * 1e9 would pass 2^64 after about four days at 48 kHz). */
static int64_t frames_ns(uint64_t frames, unsigned rate)
{
    return (int64_t)(frames / rate) * NSEC + (int64_t)((frames % rate) * NSEC / rate);
}

static void run_realtime(reel_device *d, struct vdev *v)
{
    struct sched_param sp = { .sched_priority = VIRTUAL_RT_PRIORITY };
    /* Without privileges this fails; the clock still paces correctly, only
     * with more jitter, so the failure is deliberately ignored. */
    (void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Deadlines are absolute (start + frames/rate), never "now + period", so
     * scheduling jitter does not accumulate into drift. */
    const int64_t t0 = ts_ns(&now);
    const uint64_t base = v->position;
    const int64_t period_ns = frames_ns(v->period, v->rate);
    unsigned xrun = 0;

    while (!atomic_load_explicit(&v->stop, memory_order_acquire)) {
        int64_t deadline = t0 + frames_ns(v->position - base, v->rate);
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t late = ts_ns(&now) - deadline;
        if (late > period_ns) {
            /* Whole periods missed are gone; the one in progress is still
             * deliverable, like a device that has buffered part of it. */
            uint64_t missed = (uint64_t)(late / period_ns);
            lose_frames(v, missed * v->period);
            xrun = 1;
        } else if (late < 0) {
            struct timespec ts = ns_ts(deadline);
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
            if (atomic_load_explicit(&v->stop, memory_order_acquire))
                break;
        }
        run_period(d, v, xrun);
        xrun = 0;
    }
}

static void run_freewheel(reel_device *d, struct vdev *v)
{
    const struct timespec wait = { .tv_sec = 0, .tv_nsec = 1000000 };
    while (!atomic_load_explicit(&v->stop, memory_order_acquire)) {
        if (v->ready) {
            int stopped = 0;
            while (!v->ready(v->period, v->ready_user)) {
                nanosleep(&wait, NULL);
                if ((stopped = atomic_load_explicit(&v->stop, memory_order_acquire)))
                    break;
            }
            if (stopped)
                break;
        }
        run_period(d, v, 0);
    }
}

static void *device_thread(void *arg)
{
    reel_device *d = arg;
    struct vdev *v = d->impl;
    if (v->freewheel)
        run_freewheel(d, v);
    else
        run_realtime(d, v);
    return NULL;
}

/* ---- ops (control thread) ---- */

static int virtual_start(reel_device *d)
{
    struct vdev *v = d->impl;
    atomic_store(&v->stop, 0);
    int err = pthread_create(&v->thread, NULL, device_thread, d);
    if (err)
        return reel_fail(d->error, REEL_EDEVICE, "virtual device: cannot create its thread: %s",
                         strerror(err));
    v->thread_started = 1;
    return 0;
}

static int virtual_stop(reel_device *d)
{
    struct vdev *v = d->impl;
    if (!v->thread_started)
        return 0;
    atomic_store_explicit(&v->stop, 1, memory_order_release);
    pthread_join(v->thread, NULL);
    v->thread_started = 0;
    if (atomic_load_explicit(&v->out_failed, memory_order_acquire))
        memcpy(d->error, v->out_msg, sizeof d->error);
    return 0;
}

static void vdev_free(struct vdev *v)
{
    if (!v)
        return;
    for (unsigned i = 0; i < v->n_src; i++) {
        reel_gen_destroy(v->src[i].gen);
        if (v->src[i].sf)
            sf_close(v->src[i].sf);
    }
    free(v->src);
    if (v->outf)
        sf_close(v->outf);
    free(v->out_path);
    free(v->in_buf);
    free(v->out_buf);
    free(v->scratch);
    free(v->in);
    free(v->out);
    free(v->loops);
    free(v->loop_buf);
    free(v);
}

static void virtual_close(reel_device *d)
{
    struct vdev *v = d->impl;
    if (!v)
        return;
    virtual_stop(d);
    vdev_free(v);
    d->impl = NULL;
}

/* Healthy unless writing the output file failed (disk full, ...): a render
 * must not report success over a truncated file. */
static int virtual_alive(const reel_device *d)
{
    const struct vdev *v = d->impl;
    return !atomic_load_explicit(&v->out_failed, memory_order_acquire);
}

static const struct reel_device_ops virtual_ops = {
    .start = virtual_start,
    .stop = virtual_stop,
    .close = virtual_close,
    .alive = virtual_alive,
};

/* ---- open ---- */

static int open_file_source(struct vsource *s, const char *path, unsigned rate, char *errmsg)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return reel_fail(errmsg, REEL_ENOTFOUND,
                             "virtual input '%s': no such file or generator", path);
        return reel_fail(errmsg, REEL_EIO, "virtual input '%s': %s", path, strerror(errno));
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    s->sf = sf_open(path, SFM_READ, &info);
    if (!s->sf)
        return reel_fail(errmsg, REEL_EFORMAT, "virtual input '%s': %s", path, sf_strerror(NULL));
    if (info.samplerate <= 0 || (unsigned)info.samplerate != rate)
        return reel_fail(errmsg, REEL_EINVAL,
                         "virtual input '%s': sample rate %d Hz, but the device runs at %u Hz "
                         "(resample the file or open the device at %d Hz)",
                         path, info.samplerate, rate, info.samplerate);
    if (info.channels <= 0 || info.channels > REEL_DEVICE_MAX_CHANNELS)
        return reel_fail(errmsg, REEL_EFORMAT, "virtual input '%s': %d channels", path,
                         info.channels);
    s->channels = (unsigned)info.channels;
    s->seekable = info.seekable;
    s->file_frames = info.frames;
    return 0;
}

static int open_output(struct vdev *v, const char *path, char *errmsg)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)v->rate;
    info.channels = (int)v->out_ch;
    /* RF64 with auto-downgrade is a plain WAV unless it passes 4 GiB, so a
     * long render never hits the WAV size limit. */
    info.format = SF_FORMAT_RF64 | SF_FORMAT_FLOAT;
    v->outf = sf_open(path, SFM_WRITE, &info);
    if (!v->outf)
        return reel_fail(errmsg, REEL_EIO, "virtual output '%s': %s", path, sf_strerror(NULL));
    sf_command(v->outf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
    v->out_path = strdup(path);
    if (!v->out_path)
        return reel_fail(errmsg, REEL_ENOMEM, "virtual output '%s': out of memory", path);
    return 0;
}

/* ---- loopback spec ---- */

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* A channel number as written (from 1), saturating at UINT_MAX; NULL when
 * s does not start with a digit. */
static const char *parse_channel(const char *s, unsigned *ch)
{
    if (*s < '0' || *s > '9')
        return NULL;
    unsigned long long n = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        if (n < UINT_MAX)
            n = n * 10 + (unsigned)(*s - '0');
    *ch = n > UINT_MAX ? UINT_MAX : (unsigned)n;
    return s;
}

/* Reads the loop at *s ("OUT>IN" and its separator), advancing *s. Returns
 * 1 with a loop (*item and *item_len: its text, blanks trimmed), 0 at the end of
 * the spec, or an error for spec. */
static int next_loop(const char **s, const char *spec, unsigned *out, unsigned *in,
                     const char **item, int *item_len, char *errmsg)
{
    const char *p = skip_blanks(*s), *q, *what;
    if (!*p)
        return 0;
    *item = p;
    if (!(q = parse_channel(p, out))) {
        what = "expected an output channel";
        goto bad;
    }
    p = skip_blanks(q);
    if (*p != '>') {
        what = "expected '>'";
        goto bad;
    }
    p = skip_blanks(p + 1);
    if (!(q = parse_channel(p, in))) {
        what = "expected an input channel";
        goto bad;
    }
    *item_len = (int)(q - *item);
    p = skip_blanks(q);
    if (*p == ',') {
        p = skip_blanks(p + 1);
        if (!*p) {
            what = "expected another loop";
            goto bad;
        }
    } else if (*p) {
        what = "expected ','";
        goto bad;
    }
    *s = p;
    return 1;
bad:
    if (*p)
        return reel_fail(errmsg, REEL_EINVAL, "loopback '%s': %s at '%s' (" LOOPBACK_USAGE ")",
                         spec, what, p);
    return reel_fail(errmsg, REEL_EINVAL, "loopback '%s': %s at the end (" LOOPBACK_USAGE ")",
                     spec, what);
}

/* Parses cfg->loopback into v->loops and allocates the delay lines, once
 * v->in_ch is known; sets v->out_ch when the config leaves it at 0. */
static int open_loopback(struct vdev *v, const reel_device_config *cfg, char *errmsg)
{
    const char *spec = cfg->loopback, *s, *item;
    unsigned out, in, n = 0, max_out = 0;
    int rc, item_len;

    /* First pass: syntax, count, highest output. */
    for (s = spec; (rc = next_loop(&s, spec, &out, &in, &item, &item_len, errmsg)) > 0; n++)
        if (out > max_out)
            max_out = out;
    if (rc < 0)
        return rc;
    if (n == 0)
        return 0;  /* blank: no loopback */

    unsigned latency = cfg->loopback_latency ? cfg->loopback_latency : v->period;
    if (latency < v->period)
        return reel_fail(errmsg, REEL_EINVAL,
                         "loopback latency %u frames is shorter than the period (%u frames): "
                         "a period's inputs reach the callback before it writes that period's "
                         "outputs, so the round trip is at least one period (0 asks for one)",
                         latency, v->period);
    if (latency > VIRTUAL_MAX_LOOPBACK_LATENCY)
        return reel_fail(errmsg, REEL_EINVAL, "loopback latency %u frames above %u", latency,
                         VIRTUAL_MAX_LOOPBACK_LATENCY);
    if (cfg->out_channels == 0)
        v->out_ch = max_out < REEL_DEVICE_MAX_CHANNELS ? max_out : REEL_DEVICE_MAX_CHANNELS;

    /* Second pass (the syntax is known good): channels. */
    v->loops = calloc(n, sizeof *v->loops);
    if (!v->loops)
        return reel_fail(errmsg, REEL_ENOMEM, "virtual device: out of memory");
    for (s = spec; next_loop(&s, spec, &out, &in, &item, &item_len, errmsg) > 0;) {
        if (out == 0 || out > v->out_ch) {
            if (out == 0)
                return reel_fail(errmsg, REEL_EINVAL, "loopback '%.*s': output 0 does not exist "
                                 "(channels count from 1)", item_len, item);
            return reel_fail(errmsg, REEL_EINVAL, "loopback '%.*s': output %u does not exist "
                             "(the device has %u output%s)", item_len, item, out, v->out_ch,
                             v->out_ch == 1 ? "" : "s");
        }
        if (in == 0 || in > v->in_ch) {
            if (in == 0)
                return reel_fail(errmsg, REEL_EINVAL, "loopback '%.*s': input 0 does not exist "
                                 "(channels count from 1)", item_len, item);
            return reel_fail(errmsg, REEL_EINVAL, "loopback '%.*s': input %u does not exist "
                             "(the device has %u input%s)", item_len, item, in, v->in_ch,
                             v->in_ch == 1 ? "" : "s");
        }
        for (unsigned i = 0; i < v->n_loops; i++)
            if (v->loops[i].in == in - 1)
                return reel_fail(errmsg, REEL_EINVAL, "loopback '%s': input %u is fed by two "
                                 "loops (an output may feed several inputs, not the other way)",
                                 spec, in);
        v->loops[v->n_loops].out = out - 1;
        v->loops[v->n_loops].in = in - 1;
        v->n_loops++;
    }

    v->loop_latency = latency;
    v->loop_buf = calloc((size_t)n * latency, sizeof(float));
    if (!v->loop_buf)
        return reel_fail(errmsg, REEL_ENOMEM, "virtual device: out of memory for %u loopback "
                         "delay lines of %u frames", n, latency);
    for (unsigned i = 0; i < n; i++)
        v->loops[i].ring = v->loop_buf + (size_t)i * latency;
    return 0;
}

/* planar buffer of ch channels x frames, and its channel pointer array */
static int alloc_planar(float **buf, float ***ptrs, unsigned ch, unsigned frames)
{
    *buf = calloc((size_t)(ch ? ch : 1) * frames, sizeof(float));
    *ptrs = calloc(ch ? ch : 1, sizeof(float *));
    if (!*buf || !*ptrs)
        return REEL_ENOMEM;
    for (unsigned c = 0; c < ch; c++)
        (*ptrs)[c] = *buf + (size_t)c * frames;
    return 0;
}

int reel_device_virtual_open(reel_device *d, const reel_device_config *cfg, int freewheel,
                             char *errmsg)
{
    int rc;
    unsigned rate = cfg->rate ? cfg->rate : VIRTUAL_DEFAULT_RATE;
    unsigned period = cfg->period ? cfg->period : VIRTUAL_DEFAULT_PERIOD;

    if (rate < VIRTUAL_MIN_RATE || rate > VIRTUAL_MAX_RATE)
        return reel_fail(errmsg, REEL_EINVAL, "virtual device: rate %u Hz outside %u..%u", rate,
                         VIRTUAL_MIN_RATE, VIRTUAL_MAX_RATE);
    if (period > VIRTUAL_MAX_PERIOD)
        return reel_fail(errmsg, REEL_EINVAL, "virtual device: period %u frames above %u", period,
                         VIRTUAL_MAX_PERIOD);
    if (cfg->n_inputs > 0 && !cfg->inputs)
        return reel_fail(errmsg, REEL_EINVAL, "virtual device: %u inputs but no input list",
                         cfg->n_inputs);
    struct vdev *v = calloc(1, sizeof *v);
    if (!v)
        return reel_fail(errmsg, REEL_ENOMEM, "virtual device: out of memory");
    v->freewheel = freewheel;
    v->rate = rate;
    v->period = period;
    v->out_ch = cfg->out_channels;
    v->ready = cfg->ready;
    v->ready_user = cfg->ready_user;
    atomic_init(&v->stop, 0);
    atomic_init(&v->out_failed, 0);

    if (cfg->n_inputs) {
        v->src = calloc(cfg->n_inputs, sizeof *v->src);
        if (!v->src) {
            rc = reel_fail(errmsg, REEL_ENOMEM, "virtual device: out of memory");
            goto fail;
        }
    }
    unsigned max_file_ch = 0;
    for (unsigned i = 0; i < cfg->n_inputs; i++) {
        const char *spec = cfg->inputs[i];
        struct vsource *s = &v->src[i];
        v->n_src = i + 1;  /* so that vdev_free releases what this one holds */
        if (!spec || !*spec) {
            rc = reel_fail(errmsg, REEL_EINVAL, "virtual input %u: empty (a file or a generator "
                           "such as sine:440)", i + 1);
            goto fail;
        }
        if (reel_gen_is_spec(spec)) {
            if ((rc = reel_gen_create(&s->gen, spec, rate, errmsg)) < 0)
                goto fail;
            s->channels = 1;
        } else {
            if ((rc = open_file_source(s, spec, rate, errmsg)) < 0)
                goto fail;
            if (s->channels > max_file_ch)
                max_file_ch = s->channels;
        }
        if (v->src_ch + s->channels > REEL_DEVICE_MAX_CHANNELS) {
            rc = reel_fail(errmsg, REEL_EINVAL, "virtual device: the inputs give more than %u "
                           "channels", REEL_DEVICE_MAX_CHANNELS);
            goto fail;
        }
        s->first = v->src_ch;
        v->src_ch += s->channels;
    }

    if (cfg->in_channels == 0)
        v->in_ch = cfg->n_inputs ? v->src_ch : 2;
    else if (cfg->in_channels < v->src_ch) {
        rc = reel_fail(errmsg, REEL_EINVAL,
                       "virtual device: %u input channels requested but the inputs give %u "
                       "(ask for 0 to take them all)", cfg->in_channels, v->src_ch);
        goto fail;
    } else
        v->in_ch = cfg->in_channels;

    if (cfg->loopback && (rc = open_loopback(v, cfg, errmsg)) < 0)
        goto fail;
    if (cfg->output_path && v->out_ch == 0) {
        rc = reel_fail(errmsg, REEL_EINVAL,
                       "virtual output '%s': the device has no output channels to write",
                       cfg->output_path);
        goto fail;
    }

    /* scratch serves file reads (interleaved, widest file), generator skips
     * and output interleaving */
    unsigned widest = max_file_ch > v->out_ch ? max_file_ch : v->out_ch;
    v->scratch_len = (size_t)(widest ? widest : 1) * period;
    v->scratch = calloc(v->scratch_len, sizeof(float));
    if (!v->scratch || alloc_planar(&v->in_buf, &v->in, v->in_ch, period) < 0 ||
        alloc_planar(&v->out_buf, &v->out, v->out_ch, period) < 0) {
        rc = reel_fail(errmsg, REEL_ENOMEM, "virtual device: out of memory for buffers");
        goto fail;
    }

    if (cfg->output_path && (rc = open_output(v, cfg->output_path, errmsg)) < 0)
        goto fail;

    d->ops = &virtual_ops;
    d->impl = v;
    reel_device_info *info = &d->info;
    memset(info, 0, sizeof *info);
    snprintf(info->api, sizeof info->api, "virtual");
    snprintf(info->name, sizeof info->name, "virtual");
    snprintf(info->clock, sizeof info->clock, "%s", freewheel ? "freewheel" : "realtime");
    info->rate = rate;
    info->period = period;
    info->in_channels = v->in_ch;
    info->out_channels = v->out_ch;
    /* Inputs reach the callback in the period they are read and outputs go
     * straight to the file: no simulated converter or buffer latency, but
     * for the loopback's round trip, all of it on the input side. */
    info->input_latency = v->n_loops ? v->loop_latency : 0;
    info->output_latency = 0;
    return 0;

fail:
    vdev_free(v);
    return rc;
}
