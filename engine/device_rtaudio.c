/* device_rtaudio.c: the RtAudio backend (JACK, ALSA, PulseAudio).
 *
 * Opens one RtAudio stream per device in non-interleaved float32 and calls
 * the process callback with per-channel pointers into RtAudio's buffers.
 *
 * Threads: open, start, stop, close, alive, listing and probing run on the
 * control thread. rt_callback_rt runs on RtAudio's audio thread (JACK's
 * process thread for JACK). They share only the atomics in struct rt_impl.
 * libjack's notification thread runs jack_shutdown_handler.
 *
 * Server loss (JACK): alive() turns 0 when the server shut our client down
 * (our own shutdown handler, see jack_on_shutdown below) or when the callback
 * has not run for 1 s or four periods (server hung). stop then closes the
 * dead client from the control thread, or, for a hung server, abandons the
 * stream instead of blocking forever (its memory is leaked on purpose, since
 * a server that wakes up would call into it again).
 *
 * RtAudio 5.2 traps handled here (see shared/notes/rtaudio-jack.md):
 * - failures of start/stop/abort are only visible through rtaudio_error();
 * - stop waits on a mutex it never locked for JACK, so we always abort;
 * - with no server or card the backends print to stderr, so every call that
 *   may probe a backend runs with fd 2 pointed at /dev/null;
 * - on ALSA the user callback can still be running, or begin once more,
 *   after abortStream returns, so a gate of our own guarantees that
 *   process() never runs after stop;
 * - its JACK shutdown handling can abort the process (see jack_on_shutdown).
 *
 * Latency: RtAudio calls the user callback first and copies the JACK inputs
 * after it, so what the callback sees as input left the JACK graph one period
 * earlier. For JACK, input_latency is therefore the capture latency of the
 * port RtAudio connects to plus one period, and output_latency the playback
 * latency of the port it connects to; both are read through libjack (already
 * loaded by librtaudio, looked up with dlsym so that the engine needs no link
 * dependency of its own). For ALSA and PulseAudio RtAudio reports only the
 * sum of both directions; it is given as output_latency (input_latency for an
 * input-only stream). */
#include "device_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jack/jack.h>
#include <rtaudio/rtaudio_c.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* RealtimeSanitizer checks functions marked nonblocking; gcc has no such
 * attribute, so the mark exists only in the REEL_SANITIZE=realtime build. */
#if defined(REEL_RTSAN) && defined(__clang__)
#define REEL_NONBLOCKING __attribute__((nonblocking))
#else
#define REEL_NONBLOCKING
#endif

#define DEFAULT_PERIOD 256
#define DEFAULT_IN_CHANNELS 2
/* A running stream whose callback has not run for this long (or four
 * periods, if longer) is considered gone: RtAudio gives no other signal
 * when a JACK server dies or hangs. */
#define STALL_NS 1000000000LL

struct api_entry {
    const char *name;   /* ours, as in device specs */
    const char *label;  /* for messages */
    rtaudio_api_t api;
};

static const struct api_entry API_TABLE[] = {
    { "jack", "JACK", RTAUDIO_API_UNIX_JACK },
    { "pulse", "PulseAudio", RTAUDIO_API_LINUX_PULSE },
    { "alsa", "ALSA", RTAUDIO_API_LINUX_ALSA },
};
#define N_API (sizeof API_TABLE / sizeof API_TABLE[0])

struct rt_impl {
    rtaudio_t h;
    const struct api_entry *api;
    unsigned in_ch, out_ch, max_frames;

    /* Copied from the reel_device at start, before the gate opens. */
    reel_process_rt_fn process;
    void *user;

    /* Audio thread only: filled per call, sized once. */
    const float *in_ptrs[REEL_DEVICE_MAX_CHANNELS];
    float *out_ptrs[REEL_DEVICE_MAX_CHANNELS];
    uint64_t position;

    /* Shared. The gate is a Dekker pair (both sides seq_cst): stop clears
     * `open` then waits for `inside` to drop, the callback raises `inside`
     * then checks `open`, so one of them always sees the other. */
    atomic_int gate_open;
    atomic_int inside;
    atomic_uint_fast64_t calls;   /* every invocation, gated or not */
    atomic_int server_gone;       /* JACK: our shutdown handler ran */

    /* Control thread only. */
    int started;
    int abandoned;   /* JACK server hung: never touch h again */
    uint64_t seen_calls;
    struct timespec seen_at;
};

/* ---- helpers (control thread) ------------------------------------------ */

/* Backends (alsa-lib, libpulse, RtAudio's constructor) print to stderr when
 * nothing is there; the caller gets our message instead. Process-wide for the
 * short time it lasts, hence control thread only. Returns the saved fd or -1. */
static int quiet_begin(void)
{
    fflush(stderr);
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (saved < 0)
        return -1;
    int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (nul < 0 || dup2(nul, 2) < 0) {
        if (nul >= 0)
            close(nul);
        close(saved);
        return -1;
    }
    close(nul);
    return saved;
}

static void quiet_end(int saved)
{
    if (saved < 0)
        return;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

static int64_t ns_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t0->tv_sec) * 1000000000LL + (now.tv_nsec - t0->tv_nsec);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const struct api_entry *api_lookup(const char *name)
{
    for (size_t i = 0; name && i < N_API; i++)
        if (strcmp(API_TABLE[i].name, name) == 0)
            return &API_TABLE[i];
    return NULL;
}

static const struct api_entry *api_by_rtaudio(rtaudio_api_t api)
{
    for (size_t i = 0; i < N_API; i++)
        if (API_TABLE[i].api == api)
            return &API_TABLE[i];
    return NULL;
}

static int api_compiled(rtaudio_api_t api)
{
    const rtaudio_api_t *apis = rtaudio_compiled_api();
    unsigned n = rtaudio_get_num_compiled_apis();
    for (unsigned i = 0; i < n; i++)
        if (apis[i] == api)
            return 1;
    return 0;
}

static const char *jack_server_name(void)
{
    const char *s = getenv("JACK_DEFAULT_SERVER");
    return s && *s ? s : "default";
}

/* Truncating copy; RtAudio's names are longer than our fields allow. */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

/* Capture latency of the first output port and playback latency of the first
 * input port of JACK client `device` (the ports RtAudio connects to, matched
 * the same way RtAudio matches them). 0 on success. */
static int jack_port_latencies(const char *device, unsigned *capture, unsigned *playback)
{
    typedef jack_client_t *(*open_fn)(const char *, jack_options_t, jack_status_t *, ...);
    typedef int (*close_fn)(jack_client_t *);
    typedef const char **(*ports_fn)(jack_client_t *, const char *, const char *, unsigned long);
    typedef jack_port_t *(*by_name_fn)(jack_client_t *, const char *);
    typedef void (*range_fn)(jack_port_t *, jack_latency_callback_mode_t, jack_latency_range_t *);
    typedef void (*free_fn)(void *);

    void *lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
        return -1;
    open_fn j_open = (open_fn)dlsym(lib, "jack_client_open");
    close_fn j_close = (close_fn)dlsym(lib, "jack_client_close");
    ports_fn j_ports = (ports_fn)dlsym(lib, "jack_get_ports");
    by_name_fn j_by_name = (by_name_fn)dlsym(lib, "jack_port_by_name");
    range_fn j_range = (range_fn)dlsym(lib, "jack_port_get_latency_range");
    free_fn j_free = (free_fn)dlsym(lib, "jack_free");
    int rc = -1;
    if (!j_open || !j_close || !j_ports || !j_by_name || !j_range || !j_free)
        goto out;
    jack_client_t *c = j_open("reel-latency", JackNoStartServer, NULL);
    if (!c)
        goto out;
    *capture = *playback = 0;
    const char **p = j_ports(c, device, NULL, JackPortIsOutput);
    if (p && p[0]) {
        jack_latency_range_t r = { 0, 0 };
        j_range(j_by_name(c, p[0]), JackCaptureLatency, &r);
        *capture = r.min;
    }
    if (p)
        j_free(p);
    p = j_ports(c, device, NULL, JackPortIsInput);
    if (p && p[0]) {
        jack_latency_range_t r = { 0, 0 };
        j_range(j_by_name(c, p[0]), JackPlaybackLatency, &r);
        *playback = r.min;
    }
    if (p)
        j_free(p);
    j_close(c);
    rc = 0;
out:
    dlclose(lib);
    return rc;
}

/* ---- JACK shutdown: ours instead of RtAudio's ---------------------------- *
 *
 * RtAudio's own JACK shutdown handler starts a thread that closes the stream
 * while libjack's notification thread is still inside that handler, printing
 * to std::cerr; jack_client_close then cancels the notification thread
 * asynchronously, and the forced unwind through libstdc++ aborts the whole
 * process ("terminate called without an active exception": measured in about
 * 1 of 20 server losses). So while RtAudio opens a JACK stream for us, its
 * jack_on_shutdown call is caught here (this definition interposes libjack's:
 * librtaudio calls it through its PLT) and our handler, which only raises a
 * flag, is registered instead. The control thread then stops and closes the
 * client itself, as libjack's documentation asks. Calls made by anyone else
 * are passed through untouched. */
static _Thread_local struct rt_impl *jack_opening;

static void jack_shutdown_handler(void *arg)
{
    struct rt_impl *r = arg;
    atomic_store(&r->server_gone, 1);
}

void jack_on_shutdown(jack_client_t *client, JackShutdownCallback cb, void *arg)
{
    typedef void (*real_fn)(jack_client_t *, JackShutdownCallback, void *);
    real_fn real = (real_fn)dlsym(RTLD_NEXT, "jack_on_shutdown");
    if (!real)
        return;
    if (jack_opening)
        real(client, jack_shutdown_handler, jack_opening);
    else
        real(client, cb, arg);
}

/* ---- audio thread -------------------------------------------------------- */

static REEL_NONBLOCKING int rt_callback_rt(void *out, void *in, unsigned int frames,
                                           double stream_time,
                                           rtaudio_stream_status_t status, void *user)
{
    struct rt_impl *r = user;
    float *o = out;
    const float *i = in;
    (void)stream_time;

    atomic_store(&r->inside, 1);
    /* RtAudio always passes its stream buffer size; anything larger would
     * overrun the sizes we announced, so it is dropped like an xrun. */
    int run = atomic_load(&r->gate_open) && frames <= r->max_frames;
    if (o)
        memset(o, 0, (size_t)frames * r->out_ch * sizeof(float));
    if (run) {
        for (unsigned ch = 0; ch < r->out_ch; ch++)
            r->out_ptrs[ch] = o + (size_t)ch * frames;
        for (unsigned ch = 0; ch < r->in_ch; ch++)
            r->in_ptrs[ch] = i + (size_t)ch * frames;
        reel_period p = {
            .in = r->in_ptrs,
            .out = r->out_ptrs,
            .in_channels = r->in_ch,
            .out_channels = r->out_ch,
            .frames = frames,
            .position = r->position,
            .xrun = (status & (RTAUDIO_STATUS_INPUT_OVERFLOW | RTAUDIO_STATUS_OUTPUT_UNDERFLOW)) != 0,
        };
        r->process(&p, r->user);
        r->position += frames;
    }
    atomic_fetch_add_explicit(&r->calls, 1, memory_order_release);
    atomic_store(&r->inside, 0);
    return 0;
}

/* ---- ops (control thread) ------------------------------------------------ */

static int rt_start(reel_device *d)
{
    struct rt_impl *r = d->impl;
    if (r->started)
        return 0;
    if (!d->process) {
        snprintf(d->error, sizeof d->error, "%s: no process callback", r->api->label);
        return REEL_EINVAL;
    }
    if (r->abandoned || atomic_load(&r->server_gone) || !rtaudio_is_stream_open(r->h)) {
        snprintf(d->error, sizeof d->error, "%s: the stream is gone (server stopped or hung)",
                 r->api->label);
        return REEL_EDEVICE;
    }
    r->process = d->process;
    r->user = d->user;
    r->seen_calls = atomic_load_explicit(&r->calls, memory_order_acquire);
    clock_gettime(CLOCK_MONOTONIC, &r->seen_at);
    atomic_store(&r->gate_open, 1);

    int q = quiet_begin();
    rtaudio_start_stream(r->h);
    const char *e = rtaudio_error(r->h);
    if (e)
        snprintf(d->error, sizeof d->error, "%s: cannot start the stream: %s", r->api->label, e);
    quiet_end(q);
    if (e) {
        atomic_store(&r->gate_open, 0);
        return REEL_EDEVICE;
    }
    r->started = 1;
    return 0;
}

/* Closes the gate: after it returns process() is not running and will not be
 * called again, whatever RtAudio does. A closed stream ends the wait too:
 * libjack stops its process thread with an asynchronous pthread_cancel, which
 * could land inside our callback and leave `inside` raised for good, and a
 * closed stream has no process thread left. */
static void gate_close(struct rt_impl *r)
{
    atomic_store(&r->gate_open, 0);
    while (atomic_load(&r->inside) && rtaudio_is_stream_open(r->h))
        sleep_ms(1);
}

enum { JACK_ALIVE, JACK_GONE, JACK_HUNG };

/* JACK only, with the gate closed and no shutdown notice received. When the
 * server hangs, every call that reaches it (abort, close, destroy) blocks for
 * good. So before aborting, look: callbacks still coming means alive; the
 * stream closed by RtAudio's own shutdown handler (should ours ever fail to
 * be installed) means gone; neither for 2 s (or 8 periods) means hung. */
static int jack_server_state(struct rt_impl *r, unsigned rate)
{
    uint64_t c0 = atomic_load_explicit(&r->calls, memory_order_acquire);
    long limit_ms = rate ? (long)(8000ULL * r->max_frames / rate) : 0;
    if (limit_ms < 2000)
        limit_ms = 2000;
    for (long t = 0; t < limit_ms; t++) {
        if (!rtaudio_is_stream_open(r->h))
            return JACK_GONE;
        if (atomic_load_explicit(&r->calls, memory_order_acquire) != c0)
            return JACK_ALIVE;
        sleep_ms(1);
    }
    return JACK_HUNG;
}

static int rt_stop(reel_device *d)
{
    struct rt_impl *r = d->impl;
    if (!r->started)
        return 0;
    gate_close(r);
    r->started = 0;
    if (r->api->api == RTAUDIO_API_UNIX_JACK && atomic_load(&r->server_gone)) {
        /* The client is dead; deactivating it fails at once (and is what
         * abort does), then close releases it. */
        snprintf(d->error, sizeof d->error, "JACK: server \"%s\" went away", jack_server_name());
    } else if (r->api->api == RTAUDIO_API_UNIX_JACK) {
        switch (jack_server_state(r, d->info.rate)) {
        case JACK_GONE:
            snprintf(d->error, sizeof d->error, "JACK: server \"%s\" went away and closed the stream",
                     jack_server_name());
            return 0;
        case JACK_HUNG:
            /* Nothing that reaches the server would return: leave the stream
             * (and, in rt_close, the memory the callback may still touch if
             * the server wakes up) rather than hang the program. */
            r->abandoned = 1;
            snprintf(d->error, sizeof d->error,
                     "JACK: server \"%s\" stopped responding; the stream was abandoned",
                     jack_server_name());
            return REEL_EDEVICE;
        default:
            break;
        }
    }
    int q = quiet_begin();
    rtaudio_abort_stream(r->h);
    const char *e = rtaudio_error(r->h);
    if (e)
        snprintf(d->error, sizeof d->error, "%s: cannot stop the stream: %s", r->api->label, e);
    quiet_end(q);
    /* Pairs with the callback's release increment: everything the callback
     * wrote happens-before what the control thread does next. */
    (void)atomic_load_explicit(&r->calls, memory_order_acquire);
    if (atomic_load(&r->server_gone))
        return 0;   /* stopped; d->error says why it cannot run again */
    return e ? REEL_EDEVICE : 0;
}

static void rt_close(reel_device *d)
{
    struct rt_impl *r = d->impl;
    if (!r)
        return;
    rt_stop(d);
    d->impl = NULL;
    if (r->abandoned)
        return;   /* see rt_stop: leaked on purpose */
    int q = quiet_begin();
    if (r->h) {
        if (rtaudio_is_stream_open(r->h))
            rtaudio_close_stream(r->h);
        rtaudio_destroy(r->h);   /* leaks RtAudio's 544-byte wrapper: tests/lsan.supp */
    }
    quiet_end(q);
    free(r);
}

static int rt_alive(const reel_device *d)
{
    struct rt_impl *r = d->impl;
    if (!r || r->abandoned || atomic_load(&r->server_gone) || !rtaudio_is_stream_open(r->h))
        return 0;
    if (!r->started)
        return 1;
    if (!rtaudio_is_stream_running(r->h))
        return 0;
    uint64_t c = atomic_load_explicit(&r->calls, memory_order_acquire);
    if (c != r->seen_calls) {
        r->seen_calls = c;
        clock_gettime(CLOCK_MONOTONIC, &r->seen_at);
        return 1;
    }
    int64_t limit = STALL_NS;
    if (d->info.rate) {
        int64_t four = 4000000000LL * r->max_frames / d->info.rate;
        if (four > limit)
            limit = four;
    }
    return ns_since(&r->seen_at) <= limit;
}

static const struct reel_device_ops RT_OPS = {
    .start = rt_start,
    .stop = rt_stop,
    .close = rt_close,
    .alive = rt_alive,
};

/* ---- open ---------------------------------------------------------------- */

static int get_info(rtaudio_t h, int i, rtaudio_device_info_t *info)
{
    *info = rtaudio_get_device_info(h, i);
    return rtaudio_error(h) || !info->probed ? -1 : 0;
}

/* Lists the device names of h into buf, for "not found" messages. */
static void device_names(rtaudio_t h, int n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < n && len < size; i++) {
        rtaudio_device_info_t info;
        if (get_info(h, i, &info) == 0)
            len += (size_t)snprintf(buf + len, size - len, "%s\"%s\"", len ? ", " : "", info.name);
    }
}

static int open_stream(reel_device *d, struct rt_impl *r, const reel_device_config *cfg,
                       const char *name, char *errmsg)
{
    const struct api_entry *a = r->api;
    int jack = a->api == RTAUDIO_API_UNIX_JACK;

    r->h = rtaudio_create(a->api);
    if (!r->h)
        return reel_fail(errmsg, REEL_ENOMEM, "%s: cannot create an RtAudio instance", a->label);
    const char *e = rtaudio_error(r->h);
    if (e)
        return reel_fail(errmsg, REEL_EDEVICE, "%s: %s", a->label, e);
    /* An API RtAudio cannot use silently becomes another one (DUMMY -> ALSA). */
    if (rtaudio_current_api(r->h) != a->api)
        return reel_fail(errmsg, REEL_ENOTFOUND, "%s: not available in this RtAudio", a->label);
    rtaudio_show_warnings(r->h, 0);

    int n = rtaudio_device_count(r->h);
    if (n <= 0) {
        if (jack)
            return reel_fail(errmsg, REEL_EDEVICE,
                             "JACK: no server named \"%s\" is running (the name comes from "
                             "JACK_DEFAULT_SERVER); start one, e.g. `jackd -d alsa`, or without "
                             "sound hardware `jackd -d dummy -r 48000 -p 256`",
                             jack_server_name());
        return reel_fail(errmsg, REEL_ENOTFOUND, "%s: no audio device found", a->label);
    }

    int in_dev = 0, out_dev = 0;
    rtaudio_device_info_t in_info, out_info;
    if (name && *name) {
        int found = -1;
        for (int i = 0; i < n && found < 0; i++)
            if (get_info(r->h, i, &in_info) == 0 && strcasestr(in_info.name, name))
                found = i;
        if (found < 0) {
            char names[256];
            device_names(r->h, n, names, sizeof names);
            return reel_fail(errmsg, REEL_ENOTFOUND, "%s: no device matches \"%s\" (devices: %s)",
                             a->label, name, names[0] ? names : "none");
        }
        in_dev = out_dev = found;
        out_info = in_info;
    } else {
        /* The defaults as RtAudio picks them (the first device flagged
         * default, else device 0), found in one pass that keeps the infos:
         * rtaudio_get_default_input/output_device each count and query
         * every device again, and for JACK every count or query opens a
         * client of its own, which maps and mlocks the server's shared
         * memory (70 MiB here): that was most of a short take's CPU. */
        int have_in = 0, have_out = 0;
        rtaudio_device_info_t info;
        for (int i = 0; i < n && !(have_in && have_out); i++) {
            if (get_info(r->h, i, &info) != 0)
                continue;
            if (!have_in && info.is_default_input) {
                in_dev = i;
                in_info = info;
                have_in = 1;
            }
            if (!have_out && info.is_default_output) {
                out_dev = i;
                out_info = info;
                have_out = 1;
            }
        }
        if (!have_in || !have_out) {
            if (get_info(r->h, 0, &info) != 0) {
                e = rtaudio_error(r->h);
                return reel_fail(errmsg, REEL_EDEVICE, "%s: cannot query the default device%s%s",
                                 a->label, e ? ": " : "", e ? e : "");
            }
            if (!have_in) {
                in_dev = 0;
                in_info = info;
            }
            if (!have_out) {
                out_dev = 0;
                out_info = info;
            }
        }
    }

    unsigned want_in = cfg->in_channels, want_out = cfg->out_channels;
    if (want_in == 0)
        want_in = in_info.input_channels < DEFAULT_IN_CHANNELS ? in_info.input_channels
                                                               : DEFAULT_IN_CHANNELS;
    if (want_in > REEL_DEVICE_MAX_CHANNELS || want_out > REEL_DEVICE_MAX_CHANNELS)
        return reel_fail(errmsg, REEL_EINVAL, "%s: at most %d channels per direction",
                         a->label, REEL_DEVICE_MAX_CHANNELS);
    if (want_in > in_info.input_channels)
        return reel_fail(errmsg, REEL_EINVAL, "%s: device \"%s\" has %u input channels, %u requested",
                         a->label, in_info.name, in_info.input_channels, want_in);
    if (want_out > out_info.output_channels)
        return reel_fail(errmsg, REEL_EINVAL, "%s: device \"%s\" has %u output channels, %u requested",
                         a->label, out_info.name, out_info.output_channels, want_out);
    if (want_in == 0 && want_out == 0)
        return reel_fail(errmsg, REEL_EINVAL, "%s: no input or output channels to open", a->label);

    const rtaudio_device_info_t *main_info = want_out ? &out_info : &in_info;
    unsigned rate = cfg->rate ? cfg->rate : main_info->preferred_sample_rate;
    if (rate == 0)
        rate = 48000;
    if (jack && cfg->rate && cfg->rate != main_info->preferred_sample_rate)
        return reel_fail(errmsg, REEL_EINVAL,
                         "JACK: server \"%s\" runs at %u Hz, %u Hz requested (rate 0 follows the server)",
                         jack_server_name(), main_info->preferred_sample_rate, cfg->rate);

    unsigned frames = cfg->period ? cfg->period : DEFAULT_PERIOD;
    rtaudio_stream_parameters_t ip = { (unsigned)in_dev, want_in, 0 };
    rtaudio_stream_parameters_t op = { (unsigned)out_dev, want_out, 0 };
    rtaudio_stream_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.flags = RTAUDIO_FLAGS_NONINTERLEAVED;
    if (jack && cfg->no_connect)
        opts.flags |= RTAUDIO_FLAGS_JACK_DONT_CONNECT;
    if (!jack)   /* JACK schedules its own thread */
        opts.flags |= RTAUDIO_FLAGS_SCHEDULE_REALTIME;
    copy_str(opts.name, sizeof opts.name, cfg->client_name ? cfg->client_name : "reel");
    /* A client named like its server removes the server's socket and cuts
     * the server off for everyone (jackd2 1.9.21, measured). */
    if (jack && strcmp(opts.name, jack_server_name()) == 0)
        return reel_fail(errmsg, REEL_EINVAL,
                         "JACK: client name \"%s\" is the server's name; choose another (--name)",
                         opts.name);

    r->in_ch = want_in;
    r->out_ch = want_out;
    jack_opening = jack ? r : NULL;
    int rc = rtaudio_open_stream(r->h, want_out ? &op : NULL, want_in ? &ip : NULL,
                                 RTAUDIO_FORMAT_FLOAT32, rate, &frames, rt_callback_rt, r,
                                 &opts, NULL);
    jack_opening = NULL;
    e = rtaudio_error(r->h);
    if (rc != 0 || e)
        return reel_fail(errmsg, REEL_EDEVICE, "%s: cannot open \"%s\": %s", a->label,
                         main_info->name, e ? e : "unknown error");
    r->max_frames = frames;

    unsigned actual_rate = rtaudio_get_stream_sample_rate(r->h);
    if ((e = rtaudio_error(r->h)) != NULL)
        return reel_fail(errmsg, REEL_EDEVICE, "%s: %s", a->label, e);
    int total_latency = rtaudio_get_stream_latency(r->h);
    if ((e = rtaudio_error(r->h)) != NULL)
        return reel_fail(errmsg, REEL_EDEVICE, "%s: %s", a->label, e);
    if (total_latency < 0)
        total_latency = 0;

    reel_device_info *info = &d->info;
    memset(info, 0, sizeof *info);
    copy_str(info->api, sizeof info->api, a->name);
    copy_str(info->clock, sizeof info->clock, "device");
    copy_str(info->name, sizeof info->name, jack ? jack_server_name() : main_info->name);
    info->rate = actual_rate;
    info->period = frames;
    info->in_channels = want_in;
    info->out_channels = want_out;

    unsigned cap = 0, play = 0;
    if (jack && jack_port_latencies(main_info->name, &cap, &play) == 0) {
        info->input_latency = want_in ? cap + frames : 0;
        info->output_latency = want_out ? play : 0;
    } else if (jack) {
        /* libjack not reachable: the sum as RtAudio gives it, split by what
         * we know (the input side is at least RtAudio's one-period copy). */
        info->input_latency = want_in ? frames : 0;
        info->output_latency = want_out ? (unsigned)total_latency : 0;
    } else if (want_out) {
        info->output_latency = (unsigned)total_latency;
    } else {
        info->input_latency = (unsigned)total_latency;
    }
    return 0;
}

int reel_device_rtaudio_open(reel_device *d, const reel_device_config *cfg,
                             const char *api, const char *name, char *errmsg)
{
    if (!d || !cfg)
        return reel_fail(errmsg, REEL_EINVAL, "rtaudio: no device or configuration");
    const struct api_entry *a = api_lookup(api);
    if (!a)
        return reel_fail(errmsg, REEL_EINVAL, "unknown audio API \"%s\" (jack, alsa or pulse)",
                         api ? api : "(null)");
    if (!api_compiled(a->api))
        return reel_fail(errmsg, REEL_ENOTFOUND, "%s: this RtAudio was built without it", a->label);

    struct rt_impl *r = calloc(1, sizeof *r);
    if (!r)
        return reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory", a->label);
    r->api = a;
    atomic_init(&r->gate_open, 0);
    atomic_init(&r->inside, 0);
    atomic_init(&r->calls, 0);
    atomic_init(&r->server_gone, 0);

    int q = quiet_begin();
    int rc = open_stream(d, r, cfg, name, errmsg);
    if (rc != 0 && r->h) {
        if (rtaudio_is_stream_open(r->h))
            rtaudio_close_stream(r->h);
        rtaudio_destroy(r->h);
    }
    quiet_end(q);
    if (rc != 0) {
        free(r);
        return rc;
    }
    d->impl = r;
    d->ops = &RT_OPS;
    return 0;
}

/* ---- listing and probing ------------------------------------------------- */

size_t reel_device_rtaudio_apis(const char **names, size_t max)
{
    const rtaudio_api_t *apis = rtaudio_compiled_api();
    unsigned n = rtaudio_get_num_compiled_apis();
    size_t k = 0;
    for (unsigned i = 0; i < n && k < max; i++) {
        const struct api_entry *a = api_by_rtaudio(apis[i]);
        if (a)
            names[k++] = a->name;
    }
    return k;
}

int reel_device_rtaudio_list(reel_device_desc *descs, size_t max, size_t *count)
{
    const rtaudio_api_t *apis = rtaudio_compiled_api();
    unsigned n_apis = rtaudio_get_num_compiled_apis();
    size_t total = 0;
    int q = quiet_begin();
    for (unsigned k = 0; k < n_apis; k++) {
        const struct api_entry *a = api_by_rtaudio(apis[k]);
        if (!a)
            continue;
        rtaudio_t h = rtaudio_create(a->api);
        if (!h)
            continue;
        if (!rtaudio_error(h) && rtaudio_current_api(h) == a->api) {
            rtaudio_show_warnings(h, 0);
            int n = rtaudio_device_count(h);
            for (int i = 0; i < n; i++) {
                rtaudio_device_info_t info;
                if (get_info(h, i, &info) != 0)
                    continue;
                if (descs && total < max) {
                    reel_device_desc *o = &descs[total];
                    memset(o, 0, sizeof *o);
                    copy_str(o->api, sizeof o->api, a->name);
                    copy_str(o->name, sizeof o->name, info.name);
                    o->in_channels = info.input_channels;
                    o->out_channels = info.output_channels;
                    o->preferred_rate = info.preferred_sample_rate;
                    for (int j = 0; j < NUM_SAMPLE_RATES && o->n_rates < 16; j++)
                        if (info.sample_rates[j] > 0)
                            o->rates[o->n_rates++] = (unsigned)info.sample_rates[j];
                    o->is_default_input = info.is_default_input;
                    o->is_default_output = info.is_default_output;
                }
                total++;
            }
        }
        rtaudio_destroy(h);
    }
    quiet_end(q);
    if (count)
        *count = total;
    return 0;
}

int reel_device_rtaudio_jack_running(void)
{
    if (!api_compiled(RTAUDIO_API_UNIX_JACK))
        return 0;
    int q = quiet_begin();
    int running = 0;
    rtaudio_t h = rtaudio_create(RTAUDIO_API_UNIX_JACK);
    if (h) {
        if (!rtaudio_error(h) && rtaudio_current_api(h) == RTAUDIO_API_UNIX_JACK) {
            rtaudio_show_warnings(h, 0);
            running = rtaudio_device_count(h) > 0;
        }
        rtaudio_destroy(h);
    }
    quiet_end(q);
    return running;
}
