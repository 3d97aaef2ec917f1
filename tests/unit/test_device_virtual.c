/* test_device_virtual.c: unit tests for the virtual device (engine/device.c,
 * engine/device_virtual.c) through the public device.h API.
 *
 * Setup writes known sound files into a mkdtemp directory (removed in
 * teardown): every sample is a function of its frame index and channel, so a
 * captured sample can be checked against the frame it claims to be. The
 * process callback runs on the device thread and only records (cmocka's
 * asserts longjmp and must stay on the main thread); the main thread checks
 * after reel_device_stop, whose join orders the callback's plain writes
 * before the checks. Freewheel runs are bounded exactly with the ready()
 * back-pressure hook, so most tests are deterministic to the sample; the two
 * realtime tests allow wide margins because the machine is shared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "device_int.h"
#include "generator.h"
#include "reel_error.h"

#include "rt.h"

#define RATE 48000
#define PERIOD 256
#define RAMP_FRAMES (1000 * PERIOD + PERIOD / 2)   /* 1000.5 periods */
#define STEREO_FRAMES 10000
#define FLAC_FRAMES 5000
#define MAXC 8

/* ---- fixture ---- */

typedef struct fixture {
    char dir[64];
    char ramp[128], stereo[128], r44[128], flac[128], text[128], missing[128], out[128];
    /* A test that lowers RLIMIT_FSIZE stores what to restore here, so that
     * teardown puts it back even when an assert jumps out of the test. */
    int fsize_lowered;
    struct rlimit old_fsize;
    void (*old_xfsz)(int);
} fixture;

/* Sample i of channel ch of the test files: exact in float, distinct per
 * channel, not periodic within any file used here. */
static float pat(uint64_t i, unsigned ch)
{
    return (float)((double)((i * (2 * ch + 1) + ch * 977) % 48611) / 48611.0 - 0.5);
}

static short pat16(uint64_t i)
{
    return (short)((int)((i * 13) % 65536) - 32768);
}

static int write_file(const char *path, int format, int rate, unsigned ch, uint64_t frames)
{
    SF_INFO info = { .samplerate = rate, .channels = (int)ch, .format = format };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf)
        return -1;
    int ok = 1;
    if ((format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16) {
        short *buf = malloc(frames * ch * sizeof *buf);
        for (uint64_t i = 0; buf && i < frames; i++)
            buf[i] = pat16(i);  /* mono only */
        ok = buf && sf_writef_short(sf, buf, (sf_count_t)frames) == (sf_count_t)frames;
        free(buf);
    } else {
        float *buf = malloc(frames * ch * sizeof *buf);
        for (uint64_t i = 0; buf && i < frames; i++)
            for (unsigned c = 0; c < ch; c++)
                buf[i * ch + c] = pat(i, c);
        ok = buf && sf_writef_float(sf, buf, (sf_count_t)frames) == (sf_count_t)frames;
        free(buf);
    }
    return sf_close(sf) == 0 && ok ? 0 : -1;
}

/* Devices a test has open, so that teardown can stop them when an assert
 * jumps out of a test while a device thread still runs. */
static reel_device *live[4];

static void close_dev(reel_device *d)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i] == d)
            live[i] = NULL;
    reel_device_close(d);
}

static void remove_fixture(fixture *f)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        reel_device_close(live[i]);
        live[i] = NULL;
    }
    if (f->fsize_lowered) {
        setrlimit(RLIMIT_FSIZE, &f->old_fsize);
        signal(SIGXFSZ, f->old_xfsz);
    }
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/reel-test-virtual-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->ramp, sizeof f->ramp, "%s/ramp.wav", f->dir);
    snprintf(f->stereo, sizeof f->stereo, "%s/stereo.wav", f->dir);
    snprintf(f->r44, sizeof f->r44, "%s/r44.wav", f->dir);
    snprintf(f->flac, sizeof f->flac, "%s/pcm16.flac", f->dir);
    snprintf(f->text, sizeof f->text, "%s/notes.txt", f->dir);
    snprintf(f->missing, sizeof f->missing, "%s/no-such-take.wav", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out.wav", f->dir);
    if (write_file(f->ramp, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 1, RAMP_FRAMES) ||
        write_file(f->stereo, SF_FORMAT_WAV | SF_FORMAT_FLOAT, RATE, 2, STEREO_FRAMES) ||
        write_file(f->r44, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, 1000) ||
        write_file(f->flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, RATE, 1, FLAC_FRAMES)) {
        remove_fixture(f);  /* cmocka skips teardown when setup fails */
        return -1;
    }
    FILE *t = fopen(f->text, "w");
    int ok = t && fputs("not audio\n", t) >= 0;
    if (t && fclose(t) != 0)
        ok = 0;
    if (!ok) {
        remove_fixture(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    remove_fixture(*state);
    return 0;
}

/* ---- what the callback records ---- */

typedef struct cap {
    /* set before start */
    unsigned nch;          /* input channels to capture */
    size_t len;            /* frames of capture per channel */
    float *ch[MAXC];       /* ch[c][position]: captured input, NaN where never delivered */
    size_t maxcb;
    uint64_t *pos;         /* per callback */
    unsigned char *xr;
    int out_mode;          /* 0: leave outputs, 1: pattern, 2: loop input 0 to output 0,
                            * 3: pseudo-random (rnd) */
    unsigned spin_call;    /* 1-based callback to stall in, 0: none */
    int64_t spin_ns;
    unsigned refuse_first; /* ready(): refuse this many asks, */
    int need_go;           /* refuse until go is set, */
    unsigned grant;        /* then grant this many periods (0: unlimited) */
    unsigned period;

    /* device thread writes; main reads after stop */
    atomic_uint calls;
    atomic_uint asks;
    atomic_int go;
    unsigned granted;
    unsigned asks_at_first_call;
    unsigned bad_frames, overflow;
    unsigned in_seen, out_seen;
} cap;

static void cap_init(cap *c, unsigned nch, size_t len, size_t maxcb, unsigned period)
{
    memset(c, 0, sizeof *c);
    c->nch = nch;
    c->len = len;
    for (unsigned k = 0; k < nch; k++) {
        c->ch[k] = malloc(len * sizeof(float));
        assert_non_null(c->ch[k]);
        for (size_t i = 0; i < len; i++)
            c->ch[k][i] = NAN;
    }
    c->maxcb = maxcb;
    c->pos = calloc(maxcb, sizeof *c->pos);
    c->xr = calloc(maxcb, 1);
    assert_non_null(c->pos);
    assert_non_null(c->xr);
    c->period = period;
    atomic_init(&c->calls, 0);
    atomic_init(&c->asks, 0);
    atomic_init(&c->go, 0);
}

static void cap_free(cap *c)
{
    for (unsigned k = 0; k < c->nch; k++)
        free(c->ch[k]);
    free(c->pos);
    free(c->xr);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
    nanosleep(&t, NULL);
}

/* Value the pattern output mode writes to out[c] at device frame n. */
static float out_pat(uint64_t n, unsigned c)
{
    return (float)((double)((n * 31 + c * 1000) % 4093) / 4093.0 - 0.5);
}

/* Pseudo-random value the out_mode 3 writes to out[c] at device frame n:
 * a hash of both (splitmix64's finaliser), so that a delay off by any
 * amount shows; 24 bits, exact in float. */
static float rnd(uint64_t n, unsigned c)
{
    uint64_t z = n * 0x9E3779B97F4A7C15ull + (uint64_t)(c + 1) * 0xD1B54A32D192ED03ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)((double)(z >> 40) / 16777216.0 - 0.5);
}

REEL_NONBLOCKING
static void process(const reel_period *p, void *user)
{
    cap *c = user;
    unsigned k = atomic_load_explicit(&c->calls, memory_order_relaxed);
    if (k == 0)
        c->asks_at_first_call = atomic_load_explicit(&c->asks, memory_order_relaxed);
    if (k < c->maxcb) {
        c->pos[k] = p->position;
        c->xr[k] = (unsigned char)(p->xrun != 0);
    }
    if (p->frames != c->period)
        c->bad_frames++;
    c->in_seen = p->in_channels;
    c->out_seen = p->out_channels;
    if (p->position + p->frames <= c->len) {
        for (unsigned ch = 0; ch < c->nch && ch < p->in_channels; ch++)
            memcpy(c->ch[ch] + p->position, p->in[ch], p->frames * sizeof(float));
    } else {
        c->overflow = 1;
    }
    if (c->out_mode == 1) {
        for (unsigned ch = 0; ch < p->out_channels; ch++)
            for (unsigned i = 0; i < p->frames; i++)
                p->out[ch][i] = out_pat(p->position + i, ch);
    } else if (c->out_mode == 2 && p->out_channels > 0 && p->in_channels > 0) {
        memcpy(p->out[0], p->in[0], p->frames * sizeof(float));
    } else if (c->out_mode == 3) {
        for (unsigned ch = 0; ch < p->out_channels; ch++)
            for (unsigned i = 0; i < p->frames; i++)
                p->out[ch][i] = rnd(p->position + i, ch);
    }
    if (c->spin_call && k + 1 == c->spin_call) {
        /* A callback overrunning its period: spin, since sleeping is not
         * what a late callback does (and RTSan would flag it). */
        int64_t end = now_ns() + c->spin_ns;
        while (now_ns() < end)
            ;
    }
    atomic_store_explicit(&c->calls, k + 1, memory_order_release);
}

static int ready(unsigned frames, void *user)
{
    cap *c = user;
    unsigned a = atomic_fetch_add(&c->asks, 1) + 1;
    if (frames != c->period)
        c->bad_frames++;
    if (a <= c->refuse_first)
        return 0;
    if (c->need_go && !atomic_load(&c->go))
        return 0;
    if (c->grant && c->granted >= c->grant)
        return 0;
    c->granted++;
    return 1;
}

static unsigned calls(cap *c)
{
    return atomic_load_explicit(&c->calls, memory_order_acquire);
}

/* Waits until at least n callbacks ran; fails the test after 60 s. */
static void wait_calls(cap *c, unsigned n)
{
    int64_t limit = now_ns() + 60 * (int64_t)1000000000;
    while (calls(c) < n) {
        if (now_ns() > limit)
            fail_msg("timed out waiting for %u callbacks (have %u)", n, calls(c));
        sleep_ms(1);
    }
}

static reel_device *open_ok(const reel_device_config *cfg, cap *c)
{
    reel_device *d = NULL;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_device_open(&d, cfg, process, c, msg);
    if (rc != 0)
        fail_msg("reel_device_open(%s) = %d: %s", cfg->spec, rc, msg);
    assert_non_null(d);
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (!live[i]) {
            live[i] = d;
            break;
        }
    assert_int_equal(reel_device_alive(d), 1);
    return d;
}

/* Runs exactly `periods` freewheel periods (ready() grants that many). */
static void run_exact(reel_device *d, cap *c, unsigned periods)
{
    c->grant = periods;
    assert_int_equal(reel_device_start(d), 0);
    wait_calls(c, periods);
    assert_int_equal(reel_device_stop(d), 0);
    assert_int_equal(calls(c), periods);
}

/* Positions are 0, frames, 2*frames, ... with no xrun. */
static void check_positions(cap *c, unsigned n, uint64_t first)
{
    assert_true(n <= c->maxcb);
    for (unsigned k = 0; k < n; k++) {
        if (c->pos[k] != first + (uint64_t)k * c->period)
            fail_msg("callback %u: position %llu, want %llu", k,
                     (unsigned long long)c->pos[k],
                     (unsigned long long)(first + (uint64_t)k * c->period));
        if (c->xr[k])
            fail_msg("callback %u: xrun in freewheel", k);
    }
    assert_int_equal(c->bad_frames, 0);
    assert_int_equal(c->overflow, 0);
}

static void check_channel(const float *got, size_t n, const float *want, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s frame %zu: got %.9g want %.9g", what, i, got[i], want[i]);
}

/* ---- tests ---- */

static void test_file_input_sample_exact(void **state)
{
    fixture *f = *state;
    const char *inputs[] = { f->ramp };
    reel_device_config cfg = { .spec = "virtual:freewheel", .inputs = inputs, .n_inputs = 1 };
    unsigned periods = 1003;
    size_t n = (size_t)periods * PERIOD;
    cap c;
    cap_init(&c, 1, n, periods, PERIOD);
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);

    reel_device_info info;
    reel_device_get_info(d, &info);
    assert_string_equal(info.api, "virtual");
    assert_string_equal(info.clock, "freewheel");
    assert_int_equal(info.rate, RATE);
    assert_int_equal(info.period, PERIOD);
    assert_int_equal(info.in_channels, 1);
    assert_int_equal(info.out_channels, 0);
    assert_int_equal(info.input_latency, 0);
    assert_int_equal(info.output_latency, 0);

    run_exact(d, &c, periods);
    check_positions(&c, periods, 0);
    assert_int_equal(c.in_seen, 1);
    assert_int_equal(c.out_seen, 0);
    for (size_t i = 0; i < n; i++) {
        float want = i < RAMP_FRAMES ? pat(i, 0) : 0.0f;
        if (memcmp(&c.ch[0][i], &want, sizeof want) != 0)
            fail_msg("frame %zu: got %.9g want %.9g", i, c.ch[0][i], want);
    }
    /* Stopped means stopped: nothing more arrives. */
    sleep_ms(30);
    assert_int_equal(calls(&c), periods);
    assert_int_equal(reel_device_alive(d), 1);
    close_dev(d);
    cap_free(&c);
}

/* Generators, a stereo file and a FLAC file side by side, at an odd period,
 * with extra channels of silence: channel order, sample exactness against a
 * fresh generator, and silence after each file ends. */
static void test_mixed_inputs_layout(void **state)
{
    fixture *f = *state;
    const char *inputs[] = { "sine:1000:-6", f->stereo, "impulse:100", f->flac, "noise:pink" };
    unsigned period = 97, periods = 150, nch = 8;
    size_t n = (size_t)periods * period;
    reel_device_config cfg = { .spec = "virtual:freewheel", .rate = RATE, .period = period,
                               .in_channels = nch, .inputs = inputs, .n_inputs = 5 };
    cap c;
    cap_init(&c, nch, n, periods, period);
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);
    reel_device_info info;
    reel_device_get_info(d, &info);
    assert_int_equal(info.in_channels, nch);
    assert_int_equal(info.period, period);
    run_exact(d, &c, periods);
    close_dev(d);
    check_positions(&c, periods, 0);
    assert_int_equal(c.in_seen, nch);

    float *want = malloc(n * sizeof *want);
    assert_non_null(want);
    const char *gens[] = { "sine:1000:-6", "impulse:100", "noise:pink" };
    const unsigned gen_ch[] = { 0, 3, 5 };
    for (int g = 0; g < 3; g++) {
        reel_gen *gen = NULL;
        assert_int_equal(reel_gen_create(&gen, gens[g], RATE, NULL), 0);
        reel_gen_fill_rt(gen, want, n);  /* one call; the device filled per period */
        reel_gen_destroy(gen);
        check_channel(c.ch[gen_ch[g]], n, want, gens[g]);
    }
    for (unsigned ch = 0; ch < 2; ch++) {
        for (size_t i = 0; i < n; i++)
            want[i] = i < STEREO_FRAMES ? pat(i, ch) : 0.0f;
        check_channel(c.ch[1 + ch], n, want, ch ? "stereo right" : "stereo left");
    }
    for (size_t i = 0; i < n; i++)
        want[i] = i < FLAC_FRAMES ? (float)(pat16(i) / 32768.0) : 0.0f;
    check_channel(c.ch[4], n, want, "flac");
    for (size_t i = 0; i < n; i++)
        want[i] = 0.0f;
    check_channel(c.ch[6], n, want, "padding 6");
    check_channel(c.ch[7], n, want, "padding 7");
    free(want);
    cap_free(&c);
}

static void test_channel_counts(void **state)
{
    fixture *f = *state;
    struct {
        unsigned n_inputs, in_channels, want;
    } cases[] = {
        { 0, 0, 2 },   /* nothing at all: two channels of silence */
        { 0, 3, 3 },
        { 1, 0, 2 },   /* the stereo file */
        { 1, 5, 5 },
    };
    const char *inputs[] = { f->stereo };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        reel_device_config cfg = { .spec = "virtual:freewheel", .in_channels = cases[k].in_channels,
                                   .out_channels = 1, .inputs = inputs,
                                   .n_inputs = cases[k].n_inputs };
        cap c;
        cap_init(&c, cases[k].want, 4 * PERIOD, 4, PERIOD);
        cfg.ready = ready;
        cfg.ready_user = &c;
        reel_device *d = open_ok(&cfg, &c);
        reel_device_info info;
        reel_device_get_info(d, &info);
        assert_int_equal(info.in_channels, cases[k].want);
        assert_int_equal(info.out_channels, 1);
        run_exact(d, &c, 4);
        close_dev(d);
        assert_int_equal(c.in_seen, cases[k].want);
        assert_int_equal(c.out_seen, 1);
        for (unsigned ch = 0; ch < cases[k].want; ch++)
            for (size_t i = 0; i < 4 * PERIOD; i++) {
                float want = cases[k].n_inputs && ch < 2 ? pat(i, ch) : 0.0f;
                if (memcmp(&c.ch[ch][i], &want, sizeof want) != 0)
                    fail_msg("case %zu channel %u frame %zu: got %g want %g", k, ch, i,
                             c.ch[ch][i], want);
            }
        cap_free(&c);
    }
}

static void open_fails(const reel_device_config *cfg, int want_rc, const char *const *want_parts,
                       const char *want_exact)
{
    reel_device *d = (reel_device *)0x1;
    char msg[REEL_ERRMSG_MAX] = "";
    cap c;
    memset(&c, 0, sizeof c);
    int rc = reel_device_open(&d, cfg, process, &c, msg);
    if (rc != want_rc)
        fail_msg("spec '%s': rc %d (%s), want %d; message '%s'", cfg->spec ? cfg->spec : "",
                 rc, reel_strerror(rc), want_rc, msg);
    assert_null(d);
    for (; want_parts && *want_parts; want_parts++)
        if (!strstr(msg, *want_parts))
            fail_msg("message '%s' lacks '%s'", msg, *want_parts);
    if (want_exact && strcmp(msg, want_exact) != 0)
        fail_msg("message\n got  '%s'\n want '%s'", msg, want_exact);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    reel_device_config cfg = { .spec = "virtual:freewheel" };
    const char *inputs[2];
    cfg.inputs = inputs;
    cfg.n_inputs = 1;

    inputs[0] = f->missing;
    open_fails(&cfg, REEL_ENOTFOUND, (const char *[]){ f->missing, NULL }, NULL);

    inputs[0] = f->r44;
    open_fails(&cfg, REEL_EINVAL, (const char *[]){ f->r44, "44100", "48000", NULL }, NULL);
    cfg.rate = 44100;  /* the same file is fine at its own rate */
    {
        cap c;
        cap_init(&c, 1, 4 * PERIOD, 4, PERIOD);
        cfg.ready = ready;
        cfg.ready_user = &c;
        reel_device *d = open_ok(&cfg, &c);
        reel_device_info info;
        reel_device_get_info(d, &info);
        assert_int_equal(info.rate, 44100);
        close_dev(d);
        cap_free(&c);
        cfg.ready = NULL;
        cfg.ready_user = NULL;
    }
    cfg.rate = 0;

    inputs[0] = f->text;
    open_fails(&cfg, REEL_EFORMAT, (const char *[]){ f->text, NULL }, NULL);

    inputs[0] = "sine:abc";
    open_fails(&cfg, REEL_EINVAL, NULL, "sine:abc: frequency 'abc' is not a number");
    inputs[0] = "sine:30000";
    open_fails(&cfg, REEL_EINVAL, (const char *[]){ "sine:30000", "24000", NULL }, NULL);

    /* The second input fails: the first (already open) must be released,
     * which ASan's leak check verifies. */
    inputs[0] = f->stereo;
    inputs[1] = f->missing;
    cfg.n_inputs = 2;
    open_fails(&cfg, REEL_ENOTFOUND, (const char *[]){ f->missing, NULL }, NULL);

    /* Fewer channels than the sources give. */
    inputs[1] = "sine:440";
    cfg.in_channels = 2;
    open_fails(&cfg, REEL_EINVAL, (const char *[]){ "2 input channels", "give 3", NULL }, NULL);
    cfg.in_channels = 0;
    cfg.n_inputs = 0;

    cfg.output_path = f->out;
    open_fails(&cfg, REEL_EINVAL, (const char *[]){ f->out, "no output channels", NULL }, NULL);
    cfg.out_channels = 2;
    char bad_out[200];
    snprintf(bad_out, sizeof bad_out, "%s/no-such-dir/out.wav", f->dir);
    cfg.output_path = bad_out;
    open_fails(&cfg, REEL_EIO, (const char *[]){ bad_out, NULL }, NULL);
    cfg.output_path = NULL;

    static const char *bad_specs[] = { "bogus", "virtual:fast", "virtualfreewheel", "jack:x",
                                       "Virtual" };
    for (size_t k = 0; k < sizeof bad_specs / sizeof bad_specs[0]; k++) {
        char want[REEL_ERRMSG_MAX];
        snprintf(want, sizeof want,
                 "unknown device '%s' (use virtual, virtual:freewheel, jack, alsa[:NAME], "
                 "pulse[:NAME])", bad_specs[k]);
        cfg.spec = bad_specs[k];
        open_fails(&cfg, REEL_EINVAL, NULL, want);
    }

    /* Caller mistakes. */
    cfg.spec = "virtual";
    reel_device *d = (reel_device *)0x1;
    assert_int_equal(reel_device_open(&d, &cfg, NULL, NULL, NULL), REEL_EINVAL);
    assert_null(d);
    assert_int_equal(reel_device_open(&d, NULL, process, NULL, NULL), REEL_EINVAL);
    cfg.in_channels = REEL_DEVICE_MAX_CHANNELS + 1;
    assert_int_equal(reel_device_open(&d, &cfg, process, NULL, NULL), REEL_EINVAL);
}

/* What the callback writes reaches the output file, every channel, in
 * order, sample for sample; the header is complete after close. */
static void test_output_file(void **state)
{
    fixture *f = *state;
    unsigned period = 64, periods = 77, nout = 3;
    reel_device_config cfg = { .spec = "virtual:freewheel", .period = period,
                               .out_channels = nout, .output_path = f->out };
    cap c;
    cap_init(&c, 0, (size_t)periods * period, periods, period);
    c.out_mode = 1;
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);
    run_exact(d, &c, periods);
    close_dev(d);
    check_positions(&c, periods, 0);

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(f->out, SFM_READ, &info);
    assert_non_null(sf);
    /* A plain RIFF/WAVE file; with more than two channels libsndfile
     * writes (and labels) the WAVE_FORMAT_EXTENSIBLE variant. */
    int type = info.format & SF_FORMAT_TYPEMASK;
    assert_true(type == SF_FORMAT_WAV || type == SF_FORMAT_WAVEX);
    char magic[12];
    FILE *raw = fopen(f->out, "rb");
    assert_non_null(raw);
    assert_int_equal(fread(magic, 1, 12, raw), 12);
    fclose(raw);
    assert_memory_equal(magic, "RIFF", 4);
    assert_memory_equal(magic + 8, "WAVE", 4);
    assert_int_equal(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_FLOAT);
    assert_int_equal(info.channels, nout);
    assert_int_equal(info.samplerate, RATE);
    assert_int_equal(info.frames, (sf_count_t)periods * period);
    size_t n = (size_t)periods * period;
    float *buf = malloc(n * nout * sizeof *buf);
    assert_non_null(buf);
    assert_int_equal(sf_readf_float(sf, buf, (sf_count_t)n), (sf_count_t)n);
    sf_close(sf);
    for (size_t i = 0; i < n; i++)
        for (unsigned ch = 0; ch < nout; ch++) {
            float want = out_pat(i, ch);
            if (memcmp(&buf[i * nout + ch], &want, sizeof want) != 0)
                fail_msg("out frame %zu channel %u: got %.9g want %.9g", i, ch,
                         buf[i * nout + ch], want);
        }
    free(buf);
    cap_free(&c);
}

/* A disk that fills up mid-run (simulated with RLIMIT_FSIZE, SIGXFSZ
 * ignored so the write returns EFBIG) is reported by alive() and the
 * device's error, never silently; frames written before stay readable.
 * /dev/full fails already at open, when the header is written. */
static void test_output_failure_reported(void **state)
{
    fixture *f = *state;
    unsigned nout = 2;
    reel_device_config cfg = { .spec = "virtual:freewheel", .out_channels = nout,
                               .output_path = "/dev/full" };
    cap c;
    cap_init(&c, 0, 64 * PERIOD, 64, PERIOD);
    c.out_mode = 1;
    cfg.ready = ready;
    cfg.ready_user = &c;
    open_fails(&cfg, REEL_EIO, (const char *[]){ "/dev/full", NULL }, NULL);

    cfg.output_path = f->out;
    reel_device *d = open_ok(&cfg, &c);
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &f->old_fsize), 0);
    lim = f->old_fsize;
    lim.rlim_cur = 64 * 1024;
    f->old_xfsz = signal(SIGXFSZ, SIG_IGN);
    f->fsize_lowered = 1;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    run_exact(d, &c, 64);
    f->fsize_lowered = 0;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &f->old_fsize), 0);
    signal(SIGXFSZ, f->old_xfsz);

    assert_int_equal(reel_device_alive(d), 0);
    const char *err = reel_device_error(d);
    unsigned long long written = 0;
    const char *at = strstr(err, "write failed after ");
    if (!strstr(err, f->out) || !at || sscanf(at, "write failed after %llu", &written) != 1)
        fail_msg("device error '%s'", err);
    printf("# %s\n", err);
    /* 64 KiB hold about 8000 two-channel float frames; whole periods only. */
    assert_true(written > 0 && written < 64 * 1024 / (nout * 4));
    assert_int_equal(written % PERIOD, 0);
    close_dev(d);

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(f->out, SFM_READ, &info);
    assert_non_null(sf);
    assert_true(info.frames >= (sf_count_t)written);
    float *buf = malloc(written * nout * sizeof *buf);
    assert_non_null(buf);
    assert_int_equal(sf_readf_float(sf, buf, (sf_count_t)written), (sf_count_t)written);
    sf_close(sf);
    for (size_t i = 0; i < written; i++)
        for (unsigned ch = 0; ch < nout; ch++)
            if (buf[i * nout + ch] != out_pat(i, ch))
                fail_msg("frame %zu channel %u before the failure: got %g want %g", i, ch,
                         buf[i * nout + ch], out_pat(i, ch));
    free(buf);
    cap_free(&c);
}

/* Back-pressure: no period runs while ready() says no, and the first
 * callback comes exactly after the first yes. */
static void test_ready_backpressure(void **state)
{
    fixture *f = *state;
    const char *inputs[] = { f->ramp };
    reel_device_config cfg = { .spec = "virtual:freewheel", .inputs = inputs, .n_inputs = 1 };
    cap c;
    cap_init(&c, 1, 40 * PERIOD, 40, PERIOD);
    c.refuse_first = 25;
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);
    run_exact(d, &c, 40);
    close_dev(d);
    assert_int_equal(c.asks_at_first_call, 26);
    check_positions(&c, 40, 0);
    for (size_t i = 0; i < 40 * PERIOD; i++)
        if (c.ch[0][i] != pat(i, 0))
            fail_msg("frame %zu after back-pressure: got %g want %g", i, c.ch[0][i], pat(i, 0));
    cap_free(&c);

    /* Held back by the main thread: nothing runs until go, the device keeps
     * asking (about every millisecond), and stop works while it waits. */
    cap_init(&c, 1, 40 * PERIOD, 40, PERIOD);
    c.need_go = 1;
    cfg.ready_user = &c;
    d = open_ok(&cfg, &c);
    assert_int_equal(reel_device_start(d), 0);
    sleep_ms(100);
    assert_int_equal(calls(&c), 0);
    assert_true(atomic_load(&c.asks) >= 2);
    c.grant = 10;  /* read by ready() only after go, which orders it */
    atomic_store(&c.go, 1);
    wait_calls(&c, 10);
    sleep_ms(20);
    assert_int_equal(calls(&c), 10);  /* refused again after ten */
    int64_t t = now_ns();
    assert_int_equal(reel_device_stop(d), 0);
    assert_true(now_ns() - t < 1000000000);
    assert_int_equal(calls(&c), 10);
    close_dev(d);
    check_positions(&c, 10, 0);
    cap_free(&c);
}

/* Stop, then start again: the callback stays silent in between and the
 * device resumes where it stopped (positions and input files continue). */
static void test_restart_continues(void **state)
{
    fixture *f = *state;
    const char *inputs[] = { f->ramp };
    reel_device_config cfg = { .spec = "virtual:freewheel", .inputs = inputs, .n_inputs = 1 };
    cap c;
    cap_init(&c, 1, 30 * PERIOD, 30, PERIOD);
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);
    run_exact(d, &c, 10);
    assert_int_equal(reel_device_stop(d), 0);  /* twice is harmless */
    sleep_ms(20);
    assert_int_equal(calls(&c), 10);
    run_exact(d, &c, 20);  /* grants 20 in all: ten more */
    assert_int_equal(calls(&c), 20);
    close_dev(d);
    check_positions(&c, 20, 0);  /* 10 from the first run, 10 from the second */
    for (size_t i = 0; i < 20 * PERIOD; i++)
        if (c.ch[0][i] != pat(i, 0))
            fail_msg("frame %zu: got %g want %g", i, c.ch[0][i], pat(i, 0));
    cap_free(&c);
}

/* Runs a device for about `ms` of wall time; returns the frames its clock
 * covered (last position + period) and the measured seconds. */
static uint64_t run_for(reel_device *d, cap *c, unsigned ms, double *secs)
{
    int64_t t0 = now_ns();
    assert_int_equal(reel_device_start(d), 0);
    sleep_ms(ms);
    assert_int_equal(reel_device_stop(d), 0);
    *secs = (double)(now_ns() - t0) / 1e9;
    unsigned n = calls(c);
    assert_true(n > 0);
    uint64_t last = n <= c->maxcb ? c->pos[n - 1] : (uint64_t)(n - 1) * c->period;
    return last + c->period;
}

static void test_realtime_clock(void **state)
{
    fixture *f = *state;
    const char *inputs[] = { f->ramp };
    reel_device_config cfg = { .spec = "virtual", .inputs = inputs, .n_inputs = 1 };
    cap c;
    cap_init(&c, 1, 10 * RATE, 10 * RATE / PERIOD, PERIOD);
    reel_device *d = open_ok(&cfg, &c);
    reel_device_info info;
    reel_device_get_info(d, &info);
    assert_string_equal(info.clock, "realtime");
    assert_string_equal(info.api, "virtual");

    double secs;
    uint64_t frames = run_for(d, &c, 500, &secs);
    unsigned n = calls(&c);
    sleep_ms(50);
    assert_int_equal(calls(&c), n);  /* ceased after stop */
    close_dev(d);
    printf("# realtime: %llu frames (%u callbacks) in %.3f s\n", (unsigned long long)frames, n,
           secs);
    assert_in_range(frames, 18000, 30000);
    assert_int_equal(c.overflow, 0);
    assert_int_equal(c.bad_frames, 0);

    /* Gaps in position and xrun flags go together, and whatever was
     * delivered is the file's frame at that position. */
    assert_int_equal(c.pos[0], 0);
    for (unsigned k = 0; k < n; k++) {
        if (k > 0) {
            uint64_t gap = c.pos[k] - c.pos[k - 1];
            if (gap % PERIOD != 0 || gap < PERIOD || (gap > PERIOD) != (c.xr[k] != 0))
                fail_msg("callback %u: gap %llu, xrun %u", k, (unsigned long long)gap, c.xr[k]);
        }
        for (unsigned i = 0; i < PERIOD; i++) {
            uint64_t p = c.pos[k] + i;
            if (c.ch[0][p] != pat(p, 0))
                fail_msg("frame %llu: got %g want %g", (unsigned long long)p, c.ch[0][p],
                         pat(p, 0));
        }
    }
    cap_free(&c);

    /* Freewheel, same inputs, same wall time: far more frames. */
    cfg.spec = "virtual:freewheel";
    cap_init(&c, 0, 0, 1, PERIOD);
    d = open_ok(&cfg, &c);
    double fsecs;
    uint64_t ff = run_for(d, &c, 500, &fsecs);
    close_dev(d);
    printf("# freewheel: %llu frames in %.3f s (%.0fx real time)\n", (unsigned long long)ff,
           fsecs, (double)ff / RATE / fsecs);
    assert_true(ff > 4 * frames);
    cap_free(&c);
}

/* A callback that overruns by several periods: the realtime clock skips the
 * lost periods (position jumps, xrun set on the next period), the input file
 * stays aligned with position, and the output file gets silence for the
 * lost frames, so output frame N is always what played at position N. */
static void test_realtime_xrun(void **state)
{
    fixture *f = *state;
    const char *inputs[] = { f->ramp };
    reel_device_config cfg = { .spec = "virtual", .inputs = inputs, .n_inputs = 1,
                               .out_channels = 1, .output_path = f->out };
    cap c;
    cap_init(&c, 1, 10 * RATE, 10 * RATE / PERIOD, PERIOD);
    c.out_mode = 2;
    c.spin_call = 10;
    int64_t period_ns = (int64_t)PERIOD * 1000000000 / RATE;
    c.spin_ns = 8 * period_ns;
    reel_device *d = open_ok(&cfg, &c);
    assert_int_equal(reel_device_start(d), 0);
    wait_calls(&c, 40);
    assert_int_equal(reel_device_stop(d), 0);
    close_dev(d);
    unsigned n = calls(&c);
    assert_int_equal(c.overflow, 0);

    /* The stalled callback was the 10th (index 9); the next one reports it. */
    assert_int_equal(c.xr[10], 1);
    uint64_t gap = c.pos[10] - c.pos[9];
    if (gap < 8 * PERIOD)
        fail_msg("gap after the stall: %llu frames, want at least %d", (unsigned long long)gap,
                 8 * PERIOD);
    unsigned xruns = 0;
    for (unsigned k = 1; k < n; k++) {
        uint64_t g = c.pos[k] - c.pos[k - 1];
        if (g % PERIOD != 0 || g < PERIOD || (g > PERIOD) != (c.xr[k] != 0))
            fail_msg("callback %u: gap %llu, xrun %u", k, (unsigned long long)g, c.xr[k]);
        xruns += c.xr[k];
    }
    printf("# xruns: %u (one forced)\n", xruns);

    uint64_t total = c.pos[n - 1] + PERIOD;
    unsigned char *delivered = calloc(total, 1);
    assert_non_null(delivered);
    for (unsigned k = 0; k < n; k++)
        memset(delivered + c.pos[k], 1, PERIOD);

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(f->out, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.frames, (sf_count_t)total);
    float *buf = malloc(total * sizeof *buf);
    assert_non_null(buf);
    assert_int_equal(sf_readf_float(sf, buf, (sf_count_t)total), (sf_count_t)total);
    sf_close(sf);
    for (uint64_t i = 0; i < total; i++) {
        float want = delivered[i] ? pat(i, 0) : 0.0f;
        if (buf[i] != want)
            fail_msg("output frame %llu (%s): got %g want %g", (unsigned long long)i,
                     delivered[i] ? "delivered" : "lost", buf[i], want);
        if (delivered[i] && c.ch[0][i] != want)
            fail_msg("input frame %llu: got %g want %g", (unsigned long long)i, c.ch[0][i], want);
    }
    free(buf);
    free(delivered);
    cap_free(&c);
}

/* ---- loopback ---- */

#define LOOP_USAGE "(write OUT>IN pairs such as 1>1 or 1>1,2>3; channels count from 1)"

/* want[i] = output channel och's rnd delayed by latency frames (zeros
 * before), for n frames. */
static void delayed(float *want, size_t n, unsigned latency, unsigned och)
{
    for (size_t i = 0; i < n; i++)
        want[i] = i < latency ? 0.0f : rnd(i - latency, och);
}

/* One loop "1>1" at one period and latency, in freewheel: input 1 is output
 * 1 delayed by exactly the latency; input 2 (the stereo file's second
 * channel) is untouched; the info reports the round trip. */
static void loop_case(fixture *f, unsigned period, unsigned latency)
{
    unsigned eff = latency ? latency : period;
    /* Every delay line wraps at least three times, plus eight periods. */
    unsigned periods = (3 * eff + 8 * period) / period + 2;
    size_t n = (size_t)periods * period;
    assert_true(n < STEREO_FRAMES);
    const char *inputs[] = { f->stereo };
    reel_device_config cfg = { .spec = "virtual:freewheel", .period = period, .inputs = inputs,
                               .n_inputs = 1, .loopback = "1>1", .loopback_latency = latency };
    cap c;
    cap_init(&c, 2, n, periods, period);
    c.out_mode = 3;
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);
    reel_device_info info;
    reel_device_get_info(d, &info);
    assert_int_equal(info.input_latency, eff);
    assert_int_equal(info.output_latency, 0);
    assert_int_equal(info.input_latency + info.output_latency, eff);
    assert_int_equal(info.in_channels, 2);
    assert_int_equal(info.out_channels, 1);  /* from the loop */
    assert_int_equal(info.period, period);
    run_exact(d, &c, periods);
    close_dev(d);
    check_positions(&c, periods, 0);
    assert_int_equal(c.out_seen, 1);

    float *want = malloc(n * sizeof *want);
    assert_non_null(want);
    char what[64];
    snprintf(what, sizeof what, "period %u latency %u: input 1", period, latency);
    delayed(want, n, eff, 0);
    check_channel(c.ch[0], n, want, what);
    for (size_t i = 0; i < n; i++)
        want[i] = pat(i, 1);
    snprintf(what, sizeof what, "period %u latency %u: input 2", period, latency);
    check_channel(c.ch[1], n, want, what);
    free(want);
    cap_free(&c);
}

static void test_loopback_latencies(void **state)
{
    fixture *f = *state;
    static const unsigned p256[] = { 0, 256, 257, 511, 512, 1000 };
    static const unsigned p100[] = { 0, 100, 101, 256, 1000 };
    for (size_t k = 0; k < sizeof p256 / sizeof p256[0]; k++)
        loop_case(f, 256, p256[k]);
    for (size_t k = 0; k < sizeof p100 / sizeof p100[0]; k++)
        loop_case(f, 100, p100[k]);

    /* Shorter than a period cannot be: the callback gets a period's inputs
     * before it writes that period's outputs. */
    static const struct {
        unsigned period, latency;
    } short_cases[] = { { 256, 1 }, { 256, 100 }, { 256, 255 }, { 100, 1 }, { 100, 99 } };
    for (size_t k = 0; k < sizeof short_cases / sizeof short_cases[0]; k++) {
        reel_device_config cfg = { .spec = "virtual:freewheel",
                                   .period = short_cases[k].period, .loopback = "1>1",
                                   .loopback_latency = short_cases[k].latency };
        char want[REEL_ERRMSG_MAX];
        snprintf(want, sizeof want,
                 "loopback latency %u frames is shorter than the period (%u frames): a "
                 "period's inputs reach the callback before it writes that period's outputs, "
                 "so the round trip is at least one period (0 asks for one)",
                 short_cases[k].latency, short_cases[k].period);
        open_fails(&cfg, REEL_EINVAL, NULL, want);
    }
}

/* Several loops at once, one output feeding two inputs, an unlooped input
 * left silent, the output file undelayed, and the delay lines carried
 * across stop and start. */
static void test_loopback_multi(void **state)
{
    fixture *f = *state;
    unsigned period = 128, latency = 300, periods = 30, nin = 5;
    size_t n = (size_t)periods * period;
    reel_device_config cfg = { .spec = "virtual:freewheel", .period = period,
                               .in_channels = nin, .output_path = f->out,
                               .loopback = " 1>1, 2>3,3 > 2 ,1>4", .loopback_latency = latency };
    cap c;
    cap_init(&c, nin, n, periods, period);
    c.out_mode = 3;
    cfg.ready = ready;
    cfg.ready_user = &c;
    reel_device *d = open_ok(&cfg, &c);
    reel_device_info info;
    reel_device_get_info(d, &info);
    assert_int_equal(info.out_channels, 3);  /* the highest loop output */
    assert_int_equal(info.in_channels, nin);
    assert_int_equal(info.input_latency, latency);
    assert_int_equal(info.output_latency, 0);
    run_exact(d, &c, 7);
    run_exact(d, &c, periods);  /* 23 more, after a restart */
    close_dev(d);
    check_positions(&c, periods, 0);

    float *want = malloc(n * sizeof *want);
    assert_non_null(want);
    static const int from[] = { 0, 2, 1, 0, -1 };  /* input k <- output from[k] */
    for (unsigned k = 0; k < nin; k++) {
        char what[32];
        snprintf(what, sizeof what, "input %u", k + 1);
        if (from[k] < 0)
            memset(want, 0, n * sizeof *want);
        else
            delayed(want, n, latency, (unsigned)from[k]);
        check_channel(c.ch[k], n, want, what);
    }
    free(want);

    SF_INFO sfi;
    memset(&sfi, 0, sizeof sfi);
    SNDFILE *sf = sf_open(f->out, SFM_READ, &sfi);
    assert_non_null(sf);
    assert_int_equal(sfi.channels, 3);
    assert_int_equal(sfi.frames, (sf_count_t)n);
    float *buf = malloc(n * 3 * sizeof *buf);
    assert_non_null(buf);
    assert_int_equal(sf_readf_float(sf, buf, (sf_count_t)n), (sf_count_t)n);
    sf_close(sf);
    for (size_t i = 0; i < n; i++)
        for (unsigned ch = 0; ch < 3; ch++)
            if (buf[i * 3 + ch] != rnd(i, ch))
                fail_msg("output file frame %zu channel %u: got %g want %g", i, ch,
                         buf[i * 3 + ch], rnd(i, ch));
    free(buf);
    cap_free(&c);
}

static void test_loopback_errors(void **state)
{
    (void)state;
    reel_device_config cfg = { .spec = "virtual:freewheel", .loopback = "1>9" };
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '1>9': input 9 does not exist (the device has 2 inputs)");
    cfg.in_channels = 1;
    cfg.loopback = "1>2";
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '1>2': input 2 does not exist (the device has 1 input)");
    cfg.in_channels = 0;
    cfg.loopback = "1>0";
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '1>0': input 0 does not exist (channels count from 1)");
    cfg.loopback = "0>1";
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '0>1': output 0 does not exist (channels count from 1)");
    cfg.loopback = "2000>1";  /* out_channels 0 takes the loop's, up to the limit */
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '2000>1': output 2000 does not exist (the device has 1024 outputs)");
    cfg.out_channels = 2;
    cfg.loopback = "3>1";
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '3>1': output 3 does not exist (the device has 2 outputs)");
    cfg.out_channels = 1;
    cfg.loopback = "1>1, 2 > 2";
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '2 > 2': output 2 does not exist (the device has 1 output)");
    cfg.out_channels = 0;
    cfg.loopback = "1>1,2>1";
    open_fails(&cfg, REEL_EINVAL, NULL,
               "loopback '1>1,2>1': input 1 is fed by two loops (an output may feed several "
               "inputs, not the other way)");

    static const struct {
        const char *spec, *why;
    } bad[] = {
        { "1", "expected '>' at the end" },
        { "1>", "expected an input channel at the end" },
        { ">1", "expected an output channel at '>1'" },
        { "1>1,", "expected another loop at the end" },
        { "1>1;2>2", "expected ',' at ';2>2'" },
        { "1>1 2>2", "expected ',' at '2>2'" },
        { "a>b", "expected an output channel at 'a>b'" },
        { "1>>1", "expected an input channel at '>1'" },
        { "-1>1", "expected an output channel at '-1>1'" },
        { "1->1", "expected '>' at '->1'" },
        { ",", "expected an output channel at ','" },
        { "1>1,,2>2", "expected an output channel at ',2>2'" },
        { "1:1", "expected '>' at ':1'" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char want[REEL_ERRMSG_MAX];
        snprintf(want, sizeof want, "loopback '%s': %s " LOOP_USAGE, bad[k].spec, bad[k].why);
        cfg.loopback = bad[k].spec;
        open_fails(&cfg, REEL_EINVAL, NULL, want);
    }

    cfg.loopback = "1>1";
    cfg.loopback_latency = (1u << 20) + 1;
    open_fails(&cfg, REEL_EINVAL, NULL, "loopback latency 1048577 frames above 1048576");
    cfg.loopback_latency = 1u << 20;  /* the largest is fine */
    {
        cap c;
        cap_init(&c, 0, 0, 1, PERIOD);
        reel_device *d = open_ok(&cfg, &c);
        reel_device_info info;
        reel_device_get_info(d, &info);
        assert_int_equal(info.input_latency, 1u << 20);
        close_dev(d);
        cap_free(&c);
    }

    /* Blank is no loopback, and then the latency means nothing. */
    static const char *blank[] = { "", "  " };
    for (size_t k = 0; k < 2; k++) {
        cfg.loopback = blank[k];
        cfg.loopback_latency = 500;
        cap c;
        cap_init(&c, 0, 0, 1, PERIOD);
        reel_device *d = open_ok(&cfg, &c);
        reel_device_info info;
        reel_device_get_info(d, &info);
        assert_int_equal(info.input_latency, 0);
        assert_int_equal(info.output_latency, 0);
        assert_int_equal(info.out_channels, 0);
        close_dev(d);
        cap_free(&c);
    }
}

/* The realtime clock, with a forced overrun: a loop input frame p is output
 * frame p - L when that frame was played, silence when it was lost. */
static void test_loopback_realtime(void **state)
{
    (void)state;
    unsigned latency = 2 * PERIOD + 37;
    reel_device_config cfg = { .spec = "virtual", .in_channels = 1, .loopback = "1>1",
                               .loopback_latency = latency };
    cap c;
    cap_init(&c, 1, 10 * RATE, 10 * RATE / PERIOD, PERIOD);
    c.out_mode = 3;
    c.spin_call = 10;
    c.spin_ns = 8 * (int64_t)PERIOD * 1000000000 / RATE;
    reel_device *d = open_ok(&cfg, &c);
    reel_device_info info;
    reel_device_get_info(d, &info);
    assert_string_equal(info.clock, "realtime");
    assert_int_equal(info.input_latency + info.output_latency, latency);
    assert_int_equal(reel_device_start(d), 0);
    wait_calls(&c, 40);
    assert_int_equal(reel_device_stop(d), 0);
    close_dev(d);
    unsigned n = calls(&c);
    assert_int_equal(c.overflow, 0);
    assert_int_equal(c.bad_frames, 0);
    assert_int_equal(c.xr[10], 1);

    uint64_t total = c.pos[n - 1] + PERIOD;
    unsigned char *delivered = calloc(total, 1);
    assert_non_null(delivered);
    for (unsigned k = 0; k < n; k++)
        memset(delivered + c.pos[k], 1, PERIOD);
    unsigned from_lost = 0;
    for (uint64_t p = 0; p < total; p++) {
        if (!delivered[p])
            continue;
        int played = p >= latency && delivered[p - latency];
        float want = played ? rnd(p - latency, 0) : 0.0f;
        if (memcmp(&c.ch[0][p], &want, sizeof want) != 0)
            fail_msg("input frame %llu: got %.9g want %.9g (%s)", (unsigned long long)p,
                     c.ch[0][p], want, played ? "played" : "lost or before the loop");
        from_lost += p >= latency && !played;
    }
    printf("# realtime loopback: %u input frames came back from lost output frames\n",
           from_lost);
    assert_true(from_lost > 0);  /* the overrun was longer than the loop */
    free(delivered);
    cap_free(&c);
}

static void test_auto_and_apis(void **state)
{
    (void)state;
    const char *names[8];
    size_t n = reel_device_apis(names, 8);
    assert_true(n >= 1);
    assert_string_equal(names[0], "virtual");
    assert_int_equal(reel_device_apis(names, 1), 1);
    assert_int_equal(reel_device_apis(names, 0), 0);

    /* Automatic choice: with no JACK server answering it must be the
     * virtual device at real time. (With a server running, the JACK path
     * is the integration tests' business.) */
    if (reel_device_rtaudio_jack_running()) {
        printf("# a JACK server is running: automatic choice not checked here\n");
        return;
    }
    const char *specs[] = { NULL, "" };
    for (int k = 0; k < 2; k++) {
        reel_device_config cfg = { .spec = specs[k] };
        cap c;
        cap_init(&c, 0, 0, 1, PERIOD);
        reel_device *d = open_ok(&cfg, &c);
        reel_device_info info;
        reel_device_get_info(d, &info);
        assert_string_equal(info.api, "virtual");
        assert_string_equal(info.clock, "realtime");
        assert_int_equal(info.in_channels, 2);
        close_dev(d);
        cap_free(&c);
    }
    reel_device_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_input_sample_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_inputs_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channel_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_failure_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ready_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realtime_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realtime_xrun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_latencies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_realtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_and_apis, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
