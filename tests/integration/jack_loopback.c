/* jack_loopback.c: the RtAudio/JACK device path end to end, against the
 * dummy server of the "jack" ctest fixture (tests/integration/jack_server.sh).
 *
 * - loopback: opens "jack" (2 in, 2 out, ports left unconnected), connects
 *   its own "outport 0" to "inport 0" through a helper libjack client, plays
 *   a known signal (an impulse every 4801 frames, deterministic pseudo-random
 *   values in between) and records the inputs through reel_capture into a
 *   wav32f take. The take read back with libsndfile must hold the signal bit
 *   for bit at one constant offset, which must be exactly one JACK period
 *   (RtAudio copies inputs after the callback: see device_rtaudio.c). Xruns
 *   may happen on a shared machine: the frames around a flagged xrun are not
 *   compared, everything else must match, and that must be over 90 % of it.
 * - no_server: "jack" with JACK_DEFAULT_SERVER naming no server fails with
 *   REEL_EDEVICE and a message naming the server.
 * - list: reel_device_list shows the fixture's server as a JACK device.
 *
 * Threads: the test body is the control thread; loop_process_rt runs on the
 * JACK process thread and touches only the preallocated struct loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jack/jack.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "device.h"

#define CLIENT "reeltest_loop"
#define RATE 48000
#define TAKE_SECONDS 5
#define IMPULSE_EVERY 4801
/* tests/CMakeLists.txt starts the server with -p 256; REEL_JACK_PERIOD
 * overrides it for runs against a server started by hand. */
#define FIXTURE_PERIOD 256
#define MAX_LOGGED_XRUNS 4096
/* Frames around a flagged xrun that are not compared: RtAudio learns of an
 * xrun from JACK's notification thread and flags the next period, so the
 * damage can lie a few periods either side of the flag. */
#define XRUN_MARGIN_PERIODS 4

/* Mixes n into 32 bits (a bijection, so values spread without repeats). */
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* The emitted signal at device frame n: 1.0 every IMPULSE_EVERY frames, else
 * a never-zero value k / 2^24 (exact in float) with a pseudo-random sign. */
static float signal_at(uint64_t n)
{
    if (n % IMPULSE_EVERY == 0)
        return 1.0f;
    uint32_t h = mix32((uint32_t)n ^ (uint32_t)(n >> 32) * 0x9e3779b9U);
    float v = (float)((h >> 9) + 1) / 16777216.0f;
    return (h & 1) ? -v : v;
}

struct loop {
    reel_capture *cap;
    atomic_uint_fast64_t periods;
    /* Device positions of periods flagged xrun; written by the process
     * thread, read after the device stopped. */
    uint64_t xrun_at[MAX_LOGGED_XRUNS];
    atomic_uint n_xruns;
};

static void loop_process_rt(const reel_period *p, void *user)
{
    struct loop *l = user;
    if (p->out_channels > 0)
        for (unsigned i = 0; i < p->frames; i++)
            p->out[0][i] = signal_at(p->position + i);
    /* A different signal on the unconnected port: it must not show up. */
    if (p->out_channels > 1)
        for (unsigned i = 0; i < p->frames; i++)
            p->out[1][i] = 0.25f;
    if (p->xrun) {
        unsigned k = atomic_load_explicit(&l->n_xruns, memory_order_relaxed);
        if (k < MAX_LOGGED_XRUNS)
            l->xrun_at[k] = p->position;
        atomic_store_explicit(&l->n_xruns, k + 1, memory_order_release);
    }
    reel_capture_process_rt(l->cap, p);
    atomic_fetch_add_explicit(&l->periods, 1, memory_order_release);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int connect_ports(const char *from, const char *to, char *why, size_t why_size)
{
    jack_status_t status;
    jack_client_t *c = jack_client_open("reeltest_helper", JackNoStartServer, &status);
    if (!c) {
        snprintf(why, why_size, "helper client: jack_client_open failed (status 0x%x)", (unsigned)status);
        return -1;
    }
    int rc = jack_connect(c, from, to);
    if (rc != 0)
        snprintf(why, why_size, "jack_connect(\"%s\", \"%s\") = %d", from, to, rc);
    jack_client_close(c);
    return rc;
}

static void test_no_server(void **state)
{
    (void)state;
    const char *old = getenv("JACK_DEFAULT_SERVER");
    char *saved = old ? strdup(old) : NULL;
    char missing[64];
    snprintf(missing, sizeof missing, "reel_no_such_server_%ld", (long)getpid());
    setenv("JACK_DEFAULT_SERVER", missing, 1);

    reel_device_config cfg = { .spec = "jack", .in_channels = 2, .out_channels = 2,
                               .client_name = CLIENT, .no_connect = 1 };
    reel_device *d = NULL;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_device_open(&d, &cfg, loop_process_rt, NULL, err);

    if (saved) {
        setenv("JACK_DEFAULT_SERVER", saved, 1);
        free(saved);
    } else {
        unsetenv("JACK_DEFAULT_SERVER");
    }
    printf("# open with JACK_DEFAULT_SERVER=%s: %d (%s): %s\n", missing, rc, reel_strerror(rc), err);
    assert_null(d);
    assert_true(rc == REEL_EDEVICE || rc == REEL_ENOTFOUND);
    assert_non_null(strstr(err, "JACK"));
    assert_non_null(strstr(err, missing));
}

static void test_list(void **state)
{
    (void)state;
    reel_device_desc descs[64];
    size_t count = 0;
    assert_int_equal(reel_device_list(descs, 64, &count), 0);
    int jack = 0;
    for (size_t i = 0; i < count && i < 64; i++) {
        printf("# device %s \"%s\": %u in, %u out, %u Hz%s%s\n", descs[i].api, descs[i].name,
               descs[i].in_channels, descs[i].out_channels, descs[i].preferred_rate,
               descs[i].is_default_input ? ", default input" : "",
               descs[i].is_default_output ? ", default output" : "");
        if (strcmp(descs[i].api, "jack") == 0 && strcmp(descs[i].name, "system") == 0) {
            jack++;
            /* jack_server.sh: -C 8 -P 8 -r 48000 */
            assert_int_equal(descs[i].in_channels, 8);
            assert_int_equal(descs[i].out_channels, 8);
            assert_int_equal(descs[i].preferred_rate, RATE);
            assert_int_equal(descs[i].n_rates, 1);
            assert_int_equal(descs[i].rates[0], RATE);
        }
    }
    assert_true(jack >= 1);

    const char *apis[8];
    size_t n = reel_device_apis(apis, 8);
    int has_jack = 0;
    for (size_t i = 0; i < n; i++)
        has_jack |= strcmp(apis[i], "jack") == 0;
    assert_true(has_jack);
}

/* Take frames [lo, hi) not compared. */
struct range {
    uint64_t lo, hi;
};

static int skipped_frame(uint64_t i, const struct range *r, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        if (i >= r[k].lo && i < r[k].hi)
            return 1;
    return 0;
}

static void test_loopback(void **state)
{
    (void)state;
    static struct loop l;   /* large; zeroed */
    memset(&l, 0, sizeof l);
    char err[REEL_ERRMSG_MAX] = "";

    reel_device_config cfg = { .spec = "jack", .in_channels = 2, .out_channels = 2,
                               .client_name = CLIENT, .no_connect = 1 };
    reel_device *d = NULL;
    int rc = reel_device_open(&d, &cfg, loop_process_rt, &l, err);
    if (rc != 0)
        fail_msg("reel_device_open(jack): %d %s", rc, err);

    reel_device_info info;
    reel_device_get_info(d, &info);
    printf("# device: api %s, name \"%s\", clock %s, %u Hz, period %u, %u in, %u out, "
           "latency in %u out %u\n", info.api, info.name, info.clock, info.rate, info.period,
           info.in_channels, info.out_channels, info.input_latency, info.output_latency);
    assert_string_equal(info.api, "jack");
    assert_string_equal(info.clock, "device");
    assert_int_equal(info.rate, RATE);
    const char *want_period = getenv("REEL_JACK_PERIOD");
    assert_int_equal(info.period, want_period ? (unsigned)atoi(want_period) : FIXTURE_PERIOD);
    assert_int_equal(info.in_channels, 2);
    assert_int_equal(info.out_channels, 2);
    assert_true(info.input_latency >= info.period);   /* RtAudio's own copy */

    reel_capture_config cc = { .rate = info.rate, .in_channels = info.in_channels,
                               .max_period = info.period, .ring_seconds = 5,
                               .format = REEL_FORMAT_WAV32F, .originator = "jack_loopback" };
    rc = reel_capture_create(&l.cap, &cc, err);
    if (rc != 0)
        fail_msg("reel_capture_create: %d %s", rc, err);
    const unsigned inputs[2] = { 0, 1 };
    assert_int_equal(reel_capture_add_track(l.cap, "loop", inputs, 2, err), 0);
    assert_int_equal(reel_capture_arm(l.cap, 0, 1), 0);

    assert_int_equal(reel_device_alive(d), 1);
    rc = reel_device_start(d);
    if (rc != 0)
        fail_msg("reel_device_start: %d %s", rc, reel_device_error(d));

    /* Ports accept connections only once the stream runs. */
    char why[256] = "";
    if (connect_ports(CLIENT ":outport 0", CLIENT ":inport 0", why, sizeof why) != 0)
        fail_msg("%s", why);
    sleep_ms(200);
    assert_true(atomic_load(&l.periods) > 0);

    char dir[] = "/tmp/reel_jack_loopback.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[1024];
    snprintf(path, sizeof path, "%s/loop.wav", dir);
    const char *paths[1] = { path };
    const uint64_t take_frames = (uint64_t)TAKE_SECONDS * info.rate;
    rc = reel_capture_start(l.cap, paths, take_frames, "JACK loopback test", err);
    if (rc != 0)
        fail_msg("reel_capture_start: %d %s", rc, err);

    int alive = 1;
    for (int t = 0; t < 200 && !reel_capture_complete(l.cap); t++) {   /* up to 20 s */
        sleep_ms(100);
        alive = reel_device_alive(d);
        if (!alive)
            break;
    }
    assert_true(alive);
    assert_true(reel_capture_complete(l.cap));
    rc = reel_capture_stop(l.cap, err);
    if (rc != 0)
        fail_msg("reel_capture_stop: %d %s", rc, err);
    assert_int_equal(reel_device_stop(d), 0);
    assert_int_equal(reel_device_alive(d), 1);   /* stopped, not gone */

    reel_take_stats st;
    assert_int_equal(reel_capture_take_stats(l.cap, 0, &st), 0);
    unsigned nx = atomic_load_explicit(&l.n_xruns, memory_order_acquire);
    printf("# take: start %llu, %llu frames, %u xruns in take, %u flagged since start, "
           "%u overruns, %llu lost\n", (unsigned long long)st.start,
           (unsigned long long)st.frames, st.xruns, nx, st.overruns,
           (unsigned long long)st.lost_frames);
    assert_int_equal(st.frames, take_frames);
    assert_int_equal(st.error, 0);

    /* Read the take back. */
    SF_INFO sfi;
    memset(&sfi, 0, sizeof sfi);
    SNDFILE *sf = sf_open(path, SFM_READ, &sfi);
    if (!sf)
        fail_msg("sf_open(%s): %s", path, sf_strerror(NULL));
    assert_int_equal(sfi.samplerate, RATE);
    assert_int_equal(sfi.channels, 2);
    assert_int_equal(sfi.format & SF_FORMAT_SUBMASK, SF_FORMAT_FLOAT);
    assert_int_equal((uint64_t)sfi.frames, take_frames);
    float *buf = malloc(sizeof(float) * 2 * (size_t)take_frames);
    assert_non_null(buf);
    assert_int_equal(sf_readf_float(sf, buf, (sf_count_t)take_frames), (sf_count_t)take_frames);
    sf_close(sf);

    /* Find the lag: the first run of 64 frames that matches the signal at
     * some lag up to 64 periods fixes it. */
    const uint64_t max_lag = 64ULL * info.period;
    int64_t lag = -1;
    for (uint64_t i = 0; i + 64 <= take_frames && lag < 0; i += 64) {
        if (buf[2 * i] == 0.0f)
            continue;
        for (uint64_t L = 0; L <= max_lag && L <= st.start + i; L++) {
            uint64_t k = 0;
            while (k < 64 && buf[2 * (i + k)] == signal_at(st.start + i + k - L))
                k++;
            if (k == 64) {
                lag = (int64_t)L;
                break;
            }
        }
    }
    if (lag < 0)
        fail_msg("the emitted signal was not found in the take");
    printf("# measured round trip: %lld frames (device period %u)\n", (long long)lag, info.period);

    /* Compare every frame, bit for bit, outside the xrun margins and the
     * capture's silence fillers. An xrun at device time T damages what was
     * sent or received around T, which the take holds up to `lag` later. */
    static struct range skip[MAX_LOGGED_XRUNS + 2 * REEL_CAPTURE_MAX_EVENTS_LOGGED];
    unsigned nskip = 0;
    const uint64_t margin = (uint64_t)XRUN_MARGIN_PERIODS * info.period;
    for (unsigned k = 0; k < nx && k < MAX_LOGGED_XRUNS; k++) {
        uint64_t x = l.xrun_at[k];   /* device position */
        if (x + margin + (uint64_t)lag < st.start)
            continue;
        uint64_t lo = x > st.start + margin ? x - st.start - margin : 0;
        skip[nskip++] = (struct range){ lo, x + margin + (uint64_t)lag - st.start };
    }
    for (unsigned k = 0; k < st.xruns && k < REEL_CAPTURE_MAX_EVENTS_LOGGED; k++) {
        uint64_t x = st.xrun_pos[k];   /* take position */
        skip[nskip++] = (struct range){ x > margin ? x - margin : 0, x + margin + (uint64_t)lag };
    }
    for (unsigned k = 0; k < st.overruns && k < REEL_CAPTURE_MAX_EVENTS_LOGGED; k++)
        skip[nskip++] = (struct range){ st.gaps[k].position, st.gaps[k].position + st.gaps[k].frames };

    uint64_t checked = 0, matched = 0, skipped = 0, ch1_nonzero = 0, impulses = 0;
    uint64_t first_bad = UINT64_MAX;
    for (uint64_t i = 0; i < take_frames; i++) {
        if (buf[2 * i + 1] != 0.0f)
            ch1_nonzero++;
        uint64_t n = st.start + i;
        if (n < (uint64_t)lag || skipped_frame(i, skip, nskip)) {
            skipped++;
            continue;
        }
        float want = signal_at(n - (uint64_t)lag);
        checked++;
        if (memcmp(&buf[2 * i], &want, sizeof want) == 0) {
            matched++;
            impulses += want == 1.0f;
        } else if (first_bad == UINT64_MAX) {
            first_bad = i;
        }
    }
    printf("# compared %llu of %llu frames (%.2f %%), %llu matched bit-exact, %llu impulses, "
           "%llu skipped near %u flagged xruns/gaps\n", (unsigned long long)checked,
           (unsigned long long)take_frames, 100.0 * (double)checked / (double)take_frames,
           (unsigned long long)matched, (unsigned long long)impulses,
           (unsigned long long)skipped, nskip);
    if (first_bad != UINT64_MAX)
        fail_msg("take frame %llu: got %.9g, want %.9g (lag %lld)", (unsigned long long)first_bad,
                 (double)buf[2 * first_bad],
                 (double)signal_at(st.start + first_bad - (uint64_t)lag), (long long)lag);
    assert_int_equal(matched, checked);
    assert_true(checked * 10 > take_frames * 9);
    assert_true(impulses >= checked / IMPULSE_EVERY);
    assert_int_equal(ch1_nonzero, 0);   /* inport 1 stays unconnected */
    assert_int_equal(lag, info.period);

    free(buf);
    reel_device_close(d);
    reel_capture_destroy(l.cap);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const char *server = getenv("JACK_DEFAULT_SERVER");
    printf("# JACK server: %s\n", server ? server : "(default)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_no_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
