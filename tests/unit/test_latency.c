/* test_latency.c: unit tests for the round-trip latency measurement
 * (engine/latency.c).
 *
 * Single-threaded. The played signal is the MLS calibrate uses (mls:16 at
 * -12 dBFS, 65535 frames); recordings are built synthetically: silence with
 * the MLS inserted at a known delay, scaled, inverted, buried in white
 * noise. The delay must come back exact to the sample every time; the
 * "nothing connected" cases (digital silence, unrelated noise, another MLS)
 * must be refused with REEL_EINVAL and a message that says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator.h"
#include "latency.h"
#include "reel_error.h"

#define RATE 48000
#define MAX_LAG 48000            /* 1 s, what calibrate searches */
#define MLS_FRAMES 65535

static float *alloc_f(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static float *gen(const char *spec, size_t n)
{
    reel_gen *g = NULL;
    char msg[REEL_ERRMSG_MAX] = "";
    if (reel_gen_create(&g, spec, RATE, msg) != 0)
        fail_msg("reel_gen_create(\"%s\"): %s", spec, msg);
    float *x = alloc_f(n);
    reel_gen_fill_rt(g, x, n);
    reel_gen_destroy(g);
    return x;
}

typedef struct fixture {
    float *mls;   /* MLS_FRAMES of mls:16:-12 */
    float *noise; /* MLS_FRAMES + MAX_LAG of white noise, RMS 20 dB below the MLS */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->mls = gen("mls:16:-12", MLS_FRAMES);
    /* Uniform noise of peak P has RMS P / sqrt(3), 4.77 dB lower: a peak of
     * -27.23 dBFS gives RMS -32 dBFS, 20 dB under the MLS's -12 dBFS. */
    f->noise = gen("noise:white:-27.2288", MLS_FRAMES + MAX_LAG);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->mls);
    free(f->noise);
    free(f);
    return 0;
}

/* A recording of MLS_FRAMES + MAX_LAG frames: the MLS times gain at delay,
 * plus noise when asked. */
static float *recording(const fixture *f, size_t delay, float gain, int with_noise)
{
    size_t n = MLS_FRAMES + MAX_LAG;
    float *r = alloc_f(n);
    for (size_t k = 0; k < MLS_FRAMES && delay + k < n; k++)
        r[delay + k] = gain * f->mls[k];
    if (with_noise)
        for (size_t k = 0; k < n; k++)
            r[k] += f->noise[k];
    return r;
}

static void expect_delay(const fixture *f, size_t delay, float gain, int with_noise)
{
    float *rec = recording(f, delay, gain, with_noise);
    reel_latency_result res;
    int rc = reel_latency_measure(f->mls, MLS_FRAMES, rec, MLS_FRAMES + MAX_LAG, &res);
    if (rc != 0)
        fail_msg("delay %zu gain %g noise %d: rc %d: %s", delay, gain, with_noise, rc,
                 res.message);
    if (res.delay != (int64_t)delay)
        fail_msg("delay %zu gain %g noise %d: measured %lld", delay, gain, with_noise,
                 (long long)res.delay);
    assert_string_equal(res.message, "");
    assert_int_equal(res.lags, MAX_LAG + 1);
    assert_int_equal(res.inverted, gain < 0);
    double g_db = 20.0 * log10(fabs(gain));
    if (fabs(res.gain_db - g_db) > (with_noise ? 0.05 : 1e-6))
        fail_msg("delay %zu gain %g: gain %.6f dB, want %.6f", delay, gain, res.gain_db, g_db);
    if (!with_noise) {
        /* The returned signal is the MLS scaled: RMS = its level. */
        if (fabs(res.level_db - (-12.0 + g_db)) > 1e-4)
            fail_msg("delay %zu gain %g: level %.6f dBFS, want %.6f", delay, gain, res.level_db,
                     -12.0 + g_db);
        if (fabs(fabs(res.correlation) - 1.0) > 1e-9)
            fail_msg("delay %zu: correlation %.12f, want +-1", delay, res.correlation);
    } else if (gain == 1.0f) {
        /* Signal -12 dBFS RMS plus noise -32: 10*log10(10^-1.2 + 10^-3.2). */
        double want = 10.0 * log10(pow(10.0, -1.2) + pow(10.0, -3.2));
        if (fabs(res.level_db - want) > 0.05)
            fail_msg("delay %zu noisy: level %.3f dBFS, want %.3f", delay, res.level_db, want);
        if (!(res.correlation > 0.99))
            fail_msg("delay %zu noisy: correlation %.4f", delay, res.correlation);
    }
    if (!(res.confidence >= 20.0))
        fail_msg("delay %zu gain %g noise %d: confidence only %.2f", delay, gain, with_noise,
                 res.confidence);
    free(rec);
}

static const size_t delays[] = { 0, 1, 64, 255, 256, 1000, 12345 };
#define N_DELAYS (sizeof delays / sizeof delays[0])

static void test_exact_delays(void **state)
{
    for (size_t i = 0; i < N_DELAYS; i++)
        expect_delay(*state, delays[i], 1.0f, 0);
    /* the ends of the searched range */
    expect_delay(*state, MAX_LAG, 1.0f, 0);
    expect_delay(*state, MAX_LAG - 1, 1.0f, 0);
}

static void test_delays_with_noise(void **state)
{
    for (size_t i = 0; i < N_DELAYS; i++)
        expect_delay(*state, delays[i], 1.0f, 1);
}

static void test_delays_with_gain(void **state)
{
    static const float gains[] = { 0.05f, 2.0f, 0.5f, -1.0f, -0.01f };
    for (size_t g = 0; g < sizeof gains / sizeof gains[0]; g++)
        for (size_t i = 0; i < N_DELAYS; i++)
            expect_delay(*state, delays[i], gains[g], 0);
    /* A quiet return under the same noise (SNR -6 dB) and a loud one. */
    for (size_t i = 0; i < N_DELAYS; i++) {
        expect_delay(*state, delays[i], 0.05f * 10.0f, 1);
        expect_delay(*state, delays[i], 2.0f, 1);
    }
}

/* The clean MLS's figure of merit, printed for the header's claim. */
static void test_confidence_figure(void **state)
{
    fixture *f = *state;
    float *rec = recording(f, 1000, 1.0f, 0);
    reel_latency_result res;
    assert_int_equal(reel_latency_measure(f->mls, MLS_FRAMES, rec, MLS_FRAMES + MAX_LAG, &res), 0);
    printf("# mls:16 clean: confidence %.1f\n", res.confidence);
    assert_true(res.confidence > 40.0);
    free(rec);
    rec = recording(f, 1000, 1.0f, 1);
    assert_int_equal(reel_latency_measure(f->mls, MLS_FRAMES, rec, MLS_FRAMES + MAX_LAG, &res), 0);
    printf("# mls:16 with noise 20 dB down: confidence %.1f\n", res.confidence);
    assert_true(res.confidence > 40.0);
    free(rec);
}

/* A level change in the middle of the return (a fader moved, a limiter
 * acting) does not move the peak. */
static void test_level_change_midway(void **state)
{
    fixture *f = *state;
    float *rec = recording(f, 777, 1.0f, 1);
    for (size_t k = 777 + MLS_FRAMES / 2; k < MLS_FRAMES + MAX_LAG; k++)
        rec[k] *= 0.1f;
    reel_latency_result res;
    assert_int_equal(reel_latency_measure(f->mls, MLS_FRAMES, rec, MLS_FRAMES + MAX_LAG, &res), 0);
    assert_int_equal(res.delay, 777);
    free(rec);
}

/* Other test signals work too: white noise played, recorded at 4321. */
static void test_noise_as_test_signal(void **state)
{
    (void)state;
    size_t n = 20000, total = n + 10000;
    float *played = gen("noise:white:-6", n);
    float *rec = alloc_f(total);
    for (size_t k = 0; k < n; k++)
        rec[4321 + k < total ? 4321 + k : 0] += 0.3f * played[k];
    reel_latency_result res;
    assert_int_equal(reel_latency_measure(played, n, rec, total, &res), 0);
    assert_int_equal(res.delay, 4321);
    free(played);
    free(rec);
}

static void expect_refusal(const float *played, size_t n_played, const float *rec,
                           size_t n_rec, const char *want)
{
    reel_latency_result res;
    int rc = reel_latency_measure(played, n_played, rec, n_rec, &res);
    if (rc != REEL_EINVAL)
        fail_msg("rc %d (delay %lld, confidence %.2f), want REEL_EINVAL refusing with '%s'", rc,
                 (long long)res.delay, res.confidence, want);
    if (!strstr(res.message, want))
        fail_msg("message '%s' lacks '%s'", res.message, want);
}

/* Nothing connected: silence, noise, or a different signal comes back. */
static void test_nothing_connected(void **state)
{
    fixture *f = *state;
    size_t n = MLS_FRAMES + MAX_LAG;
    float *silence = alloc_f(n);
    expect_refusal(f->mls, MLS_FRAMES, silence, n, "nothing came back");
    expect_refusal(f->mls, MLS_FRAMES, silence, n, "is the output connected to the input");

    /* The dummy JACK capture's silence with a DC offset: nothing correlates. */
    for (size_t k = 0; k < n; k++)
        silence[k] = 0.25f;
    expect_refusal(f->mls, MLS_FRAMES, silence, n, "nothing in the recording correlates");

    expect_refusal(f->mls, MLS_FRAMES, f->noise, n, "no correlation peak stands out");
    reel_latency_result res;
    reel_latency_measure(f->mls, MLS_FRAMES, f->noise, n, &res);
    printf("# unrelated noise: confidence %.2f (refused)\n", res.confidence);
    assert_true(res.confidence < REEL_LATENCY_MIN_CONFIDENCE);
    assert_true(fabs(res.correlation) < 0.05);

    /* Another MLS (order 15 repeating) or a sine coming back is no loop. */
    float *other = gen("mls:15:-12", n);
    expect_refusal(f->mls, MLS_FRAMES, other, n, "no correlation peak stands out");
    free(other);
    float *sine = gen("sine:1000:-12", n);
    expect_refusal(f->mls, MLS_FRAMES, sine, n, "no correlation peak stands out");
    free(sine);
    free(silence);
}

static void test_bad_arguments(void **state)
{
    fixture *f = *state;
    float *rec = recording(f, 0, 1.0f, 0);
    expect_refusal(NULL, 0, rec, MLS_FRAMES, "no test signal");
    expect_refusal(f->mls, 0, rec, MLS_FRAMES, "no test signal");
    expect_refusal(f->mls, MLS_FRAMES, rec, MLS_FRAMES + REEL_LATENCY_MIN_EXTRA - 1,
                   "must be longer than the test signal");
    expect_refusal(f->mls, MLS_FRAMES, NULL, MLS_FRAMES + MAX_LAG,
                   "must be longer than the test signal");
    float *zeros = alloc_f(MLS_FRAMES);
    expect_refusal(zeros, MLS_FRAMES, rec, MLS_FRAMES + MAX_LAG, "test signal is silent");
    free(zeros);
    float *huge = alloc_f(REEL_LATENCY_MAX_FRAMES + 1);
    expect_refusal(f->mls, MLS_FRAMES, huge, REEL_LATENCY_MAX_FRAMES + 1, "is longer than");
    free(huge);
    /* The shortest recording accepted finds delay 0 and a peak. */
    reel_latency_result res;
    assert_int_equal(reel_latency_measure(f->mls, MLS_FRAMES, rec,
                                          MLS_FRAMES + REEL_LATENCY_MIN_EXTRA, &res), 0);
    assert_int_equal(res.delay, 0);
    assert_int_equal(res.lags, REEL_LATENCY_MIN_EXTRA + 1);
    free(rec);
}

/* A short MLS (order 10) in a short recording, each delay: the method holds
 * for the smallest order calibrate accepts. */
static void test_short_mls(void **state)
{
    (void)state;
    size_t n = 1023, total = n + 2048;
    float *mls = gen("mls:10:-12", n);
    for (size_t d = 0; d + n <= total; d += 97) {
        float *rec = alloc_f(total);
        memcpy(rec + d, mls, n * sizeof *mls);
        reel_latency_result res;
        int rc = reel_latency_measure(mls, n, rec, total, &res);
        if (rc != 0 || res.delay != (int64_t)d)
            fail_msg("mls:10 at %zu: rc %d delay %lld: %s", d, rc, (long long)res.delay,
                     res.message);
        free(rec);
    }
    free(mls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_delays),
        cmocka_unit_test(test_delays_with_noise),
        cmocka_unit_test(test_delays_with_gain),
        cmocka_unit_test(test_confidence_figure),
        cmocka_unit_test(test_level_change_midway),
        cmocka_unit_test(test_noise_as_test_signal),
        cmocka_unit_test(test_nothing_connected),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_short_mls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
