/* test_generator.c: unit tests for the signal generators (engine/generator.c).
 *
 * Single-threaded. Every expectation is computed independently of the
 * generator's own arithmetic where possible: sine phases from exact integer
 * ratios (n * f mod rate), impulse positions from n mod period, levels from
 * 10^(dB/20). Fills are done in odd chunk sizes to prove that chunking never
 * changes the signal. */
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
#include "reel_error.h"

#define RATE 48000
#define TWO_PI 6.283185307179586476925286766559

static double db(double d) { return pow(10.0, d / 20.0); }

static reel_gen *make(const char *spec, unsigned rate)
{
    reel_gen *g = NULL;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_gen_create(&g, spec, rate, msg);
    if (rc != 0)
        fail_msg("reel_gen_create(\"%s\") = %d: %s", spec, rc, msg);
    assert_non_null(g);
    return g;
}

/* Fills n frames using a repeating pattern of awkward chunk sizes. */
static void fill_chunked(reel_gen *g, float *dst, size_t n)
{
    static const size_t chunks[] = { 1, 7, 255, 3, 1000, 13, 4096, 2 };
    size_t done = 0, k = 0;
    while (done < n) {
        size_t c = chunks[k++ % (sizeof chunks / sizeof chunks[0])];
        if (c > n - done)
            c = n - done;
        reel_gen_fill_rt(g, dst + done, c);
        done += c;
    }
}

static float *alloc_f(size_t n)
{
    float *p = malloc(n * sizeof *p);
    assert_non_null(p);
    return p;
}

static double peak(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i]) > m)
            m = fabs(x[i]);
    return m;
}

/* ---- is_spec ---- */

static void test_is_spec(void **state)
{
    (void)state;
    assert_true(reel_gen_is_spec("silence"));
    assert_true(reel_gen_is_spec("sine:440"));
    assert_true(reel_gen_is_spec("sine:abc"));  /* a generator, even if malformed */
    assert_true(reel_gen_is_spec("noise"));
    assert_true(reel_gen_is_spec("noise:pink:-20"));
    assert_true(reel_gen_is_spec("impulse:100"));
    assert_true(reel_gen_is_spec("sweep:20:20000:5"));
    assert_true(reel_gen_is_spec("mls:16"));
    assert_true(reel_gen_is_spec("mls"));  /* a generator, even if malformed */
    assert_false(reel_gen_is_spec("mlsx:16"));
    assert_false(reel_gen_is_spec("sine.wav"));
    assert_false(reel_gen_is_spec("/tmp/sine:440"));
    assert_false(reel_gen_is_spec("take.wav"));
    assert_false(reel_gen_is_spec("sines:440"));
    assert_false(reel_gen_is_spec("sin"));
    assert_false(reel_gen_is_spec(""));
    assert_false(reel_gen_is_spec(NULL));
}

/* ---- sine ---- */

/* 1 kHz at 48 kHz: the phase at frame n is exactly (n * 1000 mod 48000) /
 * 48000 cycles, so the expected value needs no accumulation at all. */
static void check_sine_exact(const char *spec, unsigned freq, double level)
{
    size_t n = 100003;
    reel_gen *g = make(spec, RATE);
    float *x = alloc_f(n);
    fill_chunked(g, x, n);
    for (size_t i = 0; i < n; i++) {
        double ph = (double)((i * freq) % RATE) / RATE;
        double want = level * sin(TWO_PI * ph);
        if (fabs(x[i] - want) > 1e-6)
            fail_msg("%s frame %zu: got %.9f want %.9f", spec, i, x[i], want);
    }
    free(x);
    reel_gen_destroy(g);
}

static void test_sine_values(void **state)
{
    (void)state;
    check_sine_exact("sine:1000:-6", 1000, db(-6));
    check_sine_exact("sine:1000", 1000, db(-12));  /* default level */
    check_sine_exact("sine:441:0", 441, 1.0);
    check_sine_exact("sine:23999:-1", 23999, db(-1));
}

static void test_sine_known_phases(void **state)
{
    (void)state;
    /* 12 kHz at 48 kHz: 0, +L, 0, -L, ... */
    reel_gen *g = make("sine:12000:-6", RATE);
    float x[9];
    reel_gen_fill_rt(g, x, 9);
    double l = db(-6);
    double want[9] = { 0, l, 0, -l, 0, l, 0, -l, 0 };
    for (int i = 0; i < 9; i++)
        assert_float_equal(x[i], want[i], 1e-6);
    reel_gen_destroy(g);
}

/* Five minutes in, the oscillator must still be where exact arithmetic puts
 * it: a float phase accumulator would be off by whole degrees by then. */
static void test_sine_no_drift(void **state)
{
    (void)state;
    reel_gen *g = make("sine:997:0", RATE);
    size_t chunk = 48000;
    float *x = alloc_f(chunk);
    size_t total = (size_t)RATE * 300;
    for (size_t done = 0; done < total; done += chunk)
        reel_gen_fill_rt(g, x, chunk);
    reel_gen_fill_rt(g, x, chunk);
    for (size_t i = 0; i < chunk; i++) {
        uint64_t n = total + i;
        double ph = (double)((n * 997) % RATE) / RATE;
        double want = sin(TWO_PI * ph);
        if (fabs(x[i] - want) > 1e-6)
            fail_msg("frame %llu: got %.9f want %.9f", (unsigned long long)n, x[i], want);
    }
    free(x);
    reel_gen_destroy(g);
}

static void test_sine_peak_equals_level(void **state)
{
    (void)state;
    size_t n = RATE;
    float *x = alloc_f(n);

    reel_gen *g = make("sine:1000:-3", RATE);
    fill_chunked(g, x, n);
    assert_float_equal(peak(x, n), db(-3), 1e-6);
    reel_gen_destroy(g);

    /* 440 Hz never lands exactly on the crest; a second has samples within
     * a hair of it and none above it. */
    g = make("sine:440:-20", RATE);
    fill_chunked(g, x, n);
    double p = peak(x, n);
    assert_true(p <= db(-20) + 1e-6);
    assert_true(p >= db(-20) * 0.9999);
    reel_gen_destroy(g);
    free(x);
}

/* ---- impulse ---- */

static void check_impulses(const char *spec, uint64_t period, float level)
{
    size_t n = 10007;
    reel_gen *g = make(spec, RATE);
    float *x = alloc_f(n);
    fill_chunked(g, x, n);
    for (size_t i = 0; i < n; i++) {
        float want = i % period == 0 ? level : 0.0f;
        if (x[i] != want)
            fail_msg("%s frame %zu: got %.9g want %.9g", spec, i, x[i], want);
    }
    free(x);
    reel_gen_destroy(g);
}

static void test_impulse(void **state)
{
    (void)state;
    check_impulses("impulse:100", 100, 1.0f);          /* default 0 dBFS */
    check_impulses("impulse:256:-6", 256, (float)db(-6));
    check_impulses("impulse:1", 1, 1.0f);
    check_impulses("impulse:4099:-20", 4099, (float)db(-20));
    check_impulses("impulse:100000", 100000, 1.0f);    /* longer than the run */
}

/* ---- noise ---- */

static void test_noise_deterministic_and_bounded(void **state)
{
    (void)state;
    static const char *specs[] = { "noise", "noise:white", "noise:pink", "noise:white:-3",
                                   "noise:pink:0", "noise:-30" };
    static const double levels[] = { -12, -12, -12, -3, 0, -30 };
    size_t n = RATE * 10;
    float *a = alloc_f(n), *b = alloc_f(n);
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        reel_gen *g1 = make(specs[s], RATE), *g2 = make(specs[s], RATE);
        reel_gen_fill_rt(g1, a, n);   /* one call vs odd chunks */
        fill_chunked(g2, b, n);
        if (memcmp(a, b, n * sizeof *a) != 0)
            fail_msg("%s: two generators differ", specs[s]);
        double level = db(levels[s]);
        double p = peak(a, n), sum = 0, sum2 = 0;
        for (size_t i = 0; i < n; i++) {
            sum += a[i];
            sum2 += (double)a[i] * a[i];
        }
        double rms = sqrt(sum2 / n), mean = sum / n;
        if (p > level + 1e-7)
            fail_msg("%s: peak %.9f above level %.9f", specs[s], p, level);
        /* It is noise at about the asked level, not silence or DC. */
        if (p < level * 0.5)
            fail_msg("%s: peak %.9f far below level %.9f", specs[s], p, level);
        if (fabs(mean) > rms * 0.05)
            fail_msg("%s: mean %.6f vs rms %.6f", specs[s], mean, rms);
        reel_gen_destroy(g1);
        reel_gen_destroy(g2);
    }
    free(a);
    free(b);
}

/* White noise is flat, pink falls 3 dB/octave: the first difference (a
 * highpass) keeps most of white's energy and little of pink's. Uniform white
 * noise has RMS level/sqrt(3). */
static void test_noise_colour(void **state)
{
    (void)state;
    size_t n = RATE * 5;
    float *x = alloc_f(n);
    double ratio[2];
    for (int k = 0; k < 2; k++) {
        reel_gen *g = make(k ? "noise:pink:0" : "noise:white:0", RATE);
        reel_gen_fill_rt(g, x, n);
        double e = 0, ed = 0;
        for (size_t i = 1; i < n; i++) {
            e += (double)x[i] * x[i];
            double d = (double)x[i] - x[i - 1];
            ed += d * d;
        }
        ratio[k] = ed / e;
        /* Pink's scaling trades loudness for headroom: about 16 dB of crest
         * factor, RMS near 0.16 of the level. */
        assert_float_equal(sqrt(e / (n - 1)), k ? 0.16 : 1.0 / sqrt(3.0), k ? 0.03 : 0.01);
        reel_gen_destroy(g);
    }
    free(x);
    assert_float_equal(ratio[0], 2.0, 0.05);  /* white: E[(a-b)^2] = 2 E[a^2] */
    assert_true(ratio[1] < 0.5);
}

/* ---- silence ---- */

static void test_silence(void **state)
{
    (void)state;
    float x[777];
    for (size_t i = 0; i < 777; i++)
        x[i] = 1.0f;
    reel_gen *g = make("silence", RATE);
    reel_gen_fill_rt(g, x, 777);
    for (size_t i = 0; i < 777; i++)
        assert_true(x[i] == 0.0f);
    reel_gen_destroy(g);
}

/* ---- sweep ---- */

static void test_sweep(void **state)
{
    (void)state;
    /* 100 Hz to 1600 Hz (four octaves) in 1 s at -6 dB, repeating. */
    size_t len = RATE, n = RATE * 2 + 500;
    double f0 = 100, f1 = 1600, T = 1.0, l = db(-6);
    float *x = alloc_f(n);
    reel_gen *g = make("sweep:100:1600:1:-6", RATE);
    fill_chunked(g, x, n);

    /* Farina's exponential sweep, phase in cycles. */
    for (size_t i = 0; i < len; i++) {
        double t = (double)i / RATE;
        double ph = f0 * T / log(f1 / f0) * (exp(t / T * log(f1 / f0)) - 1.0);
        double want = l * sin(TWO_PI * (ph - floor(ph)));
        if (fabs(x[i] - want) > 1e-5)
            fail_msg("sweep frame %zu: got %.9f want %.9f", i, x[i], want);
    }
    /* Repeats sample for sample. */
    for (size_t i = len; i < n; i++)
        if (x[i] != x[i - len])
            fail_msg("sweep frame %zu differs from frame %zu", i, i - len);

    /* Frequency rises exponentially: each quarter second spans one octave,
     * so zero crossings per quarter double (about 2 * mean frequency * 0.25). */
    int zc[4] = { 0 };
    for (size_t i = 1; i < len; i++)
        if ((x[i - 1] < 0) != (x[i] < 0))
            zc[(i * 4) / len]++;
    for (int q = 0; q < 4; q++) {
        double fa = f0 * pow(2, q), fb = fa * 2;
        double cycles = (fb - fa) * 0.25 / log(2.0);  /* integral over the quarter */
        assert_in_range(zc[q], (int)(2 * cycles) - 3, (int)(2 * cycles) + 3);
    }
    assert_float_equal(peak(x, len), l, 1e-3);
    assert_true(peak(x, n) <= l + 1e-6);
    reel_gen_destroy(g);

    /* Downward and flat sweeps are valid too. */
    g = make("sweep:1000:100:0.5", RATE);
    reel_gen_fill_rt(g, x, RATE);
    assert_true(peak(x, RATE) <= db(-12) + 1e-6);
    reel_gen_destroy(g);
    g = make("sweep:1000:1000:0.5:0", RATE);
    reel_gen_fill_rt(g, x, RATE / 2);
    for (size_t i = 0; i < (size_t)RATE / 2; i++)
        assert_float_equal(x[i], sin(TWO_PI * (double)((i * 1000) % RATE) / RATE), 1e-6);
    reel_gen_destroy(g);
    /* An extreme but computable range (f1 / f0 = 2e304): finite throughout,
     * a full cycle of the repetition included. */
    g = make("sweep:1e-300:20000:0.5", RATE);
    reel_gen_fill_rt(g, x, RATE);
    for (size_t i = 0; i < (size_t)RATE; i++)
        if (!isfinite(x[i]) || fabsf(x[i]) > db(-12) + 1e-6)
            fail_msg("sweep:1e-300:20000:0.5 frame %zu is %g", i, x[i]);
    reel_gen_destroy(g);
    free(x);
}

/* ---- mls ---- */

/* The first 40 output bits of the order-10 LFSR (x^10 + x^7 + 1, Galois
 * form, state 1), computed outside reel with a few lines of Python:
 *     s, m = 1, 0x240
 *     for _ in range(40): b = s & 1; print(b, end=""); s = (s >> 1) ^ (m if b else 0)
 */
static const char mls10_bits[] = "1000000100100010000011001001101000010010";

static void test_mls_first_samples(void **state)
{
    (void)state;
    size_t n = sizeof mls10_bits - 1;
    float *x = alloc_f(n);
    reel_gen *g = make("mls:10:-6", RATE);
    fill_chunked(g, x, n);
    float level = (float)db(-6.0);
    for (size_t i = 0; i < n; i++) {
        float want = mls10_bits[i] == '1' ? -level : level;
        if (x[i] != want)
            fail_msg("mls:10 sample %zu is %g, want %g", i, x[i], want);
    }
    reel_gen_destroy(g);

    /* The default level is -12 dBFS, like the other generators. */
    g = make("mls:10", RATE);
    reel_gen_fill_rt(g, x, 1);
    assert_true(x[0] == -(float)db(-12.0));
    reel_gen_destroy(g);
    free(x);
}

/* Every order: the sequence repeats after exactly 2^n - 1 frames and not
 * before (the state returns to its start only then, which is what a
 * primitive polynomial guarantees), a period holds 2^(n-1) samples of
 * -level and 2^(n-1) - 1 of +level, and the samples satisfy the linear
 * recurrence of the feedback polynomial. */
static void test_mls_period_and_balance(void **state)
{
    (void)state;
    for (unsigned order = REEL_MLS_MIN_ORDER; order <= REEL_MLS_MAX_ORDER; order++) {
        size_t period = ((size_t)1 << order) - 1;
        char spec[32];
        snprintf(spec, sizeof spec, "mls:%u:-3", order);
        float *x = alloc_f(2 * period + 1);
        reel_gen *g = make(spec, RATE);
        fill_chunked(g, x, 2 * period + 1);
        float level = (float)db(-3.0);
        size_t neg = 0, pos = 0;
        for (size_t i = 0; i < period; i++) {
            if (x[i] == -level)
                neg++;
            else if (x[i] == level)
                pos++;
            else
                fail_msg("%s: sample %zu is %g, not +-%g", spec, i, x[i], level);
        }
        if (neg != ((size_t)1 << (order - 1)) || pos != ((size_t)1 << (order - 1)) - 1)
            fail_msg("%s: %zu negative and %zu positive samples per period", spec, neg, pos);
        /* Periodic: the second period repeats the first. */
        for (size_t i = 0; i <= period; i++)
            if (x[i + period] != x[i])
                fail_msg("%s: sample %zu differs from sample %zu", spec, i + period, i);
        /* Not periodic earlier: in an m-sequence every non-zero window of
         * `order` samples occurs exactly once per period, so the window at
         * 0 must occur once (a shorter period p would repeat it
         * (2^n - 1) / p times). */
        size_t seen = 0;
        for (size_t i = 0; i < period; i++) {
            size_t k = 0;
            while (k < order && x[i + k] == x[k])
                k++;
            if (k == order)
                seen++;
        }
        if (seen != 1)
            fail_msg("%s: the first %u-sample window occurs %zu times per period", spec,
                     order, seen);
        /* Recurrence: for the Galois LFSR with mask m, the output bits obey
         * b[i+n] = XOR over taps k < n of b[i + n - k] (k: the set bits of m
         * read as x^k terms, below x^n), so whatever the implementation,
         * the sequence is the m-sequence of that polynomial. */
        unsigned long m = REEL_MLS_TAPS[order];
        assert_true(m & (1ul << (order - 1)));
        for (size_t i = 0; i + order < 2 * period + 1; i++) {
            unsigned v = 0;
            for (unsigned k = 1; k < order; k++)
                if (m & (1ul << (k - 1)))
                    v ^= x[i + order - k] < 0;
            v ^= x[i] < 0; /* the constant term x^0 */
            if (v != (unsigned)(x[i + order] < 0))
                fail_msg("%s: recurrence broken at sample %zu", spec, i + order);
        }
        reel_gen_destroy(g);
        free(x);
    }
}

/* Periodic autocorrelation: N at lag 0, -1 at every other lag (levels
 * factored out), the property that makes an MLS a measurement signal. */
static void test_mls_autocorrelation(void **state)
{
    (void)state;
    size_t period = 1023;
    float *x = alloc_f(period);
    reel_gen *g = make("mls:10:0", RATE);
    reel_gen_fill_rt(g, x, period);
    for (size_t lag = 0; lag < period; lag++) {
        long sum = 0;
        for (size_t i = 0; i < period; i++)
            sum += (long)x[i] * (long)x[(i + lag) % period];
        long want = lag == 0 ? (long)period : -1;
        if (sum != want)
            fail_msg("autocorrelation at lag %zu is %ld, want %ld", lag, sum, want);
    }
    reel_gen_destroy(g);
    free(x);
}

/* ---- errors ---- */

static void check_error(const char *spec, unsigned rate, const char *want_msg)
{
    reel_gen *g = (reel_gen *)0x1;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_gen_create(&g, spec, rate, msg);
    if (rc != REEL_EINVAL)
        fail_msg("%s: rc %d, want REEL_EINVAL (msg '%s')", spec ? spec : "(null)", rc, msg);
    assert_null(g);
    if (strcmp(msg, want_msg) != 0)
        fail_msg("%s:\n got  '%s'\n want '%s'", spec ? spec : "(null)", msg, want_msg);
}

static void test_errors(void **state)
{
    (void)state;
    check_error("sine:abc", RATE, "sine:abc: frequency 'abc' is not a number");
    check_error("sine:440Hz", RATE, "sine:440Hz: frequency '440Hz' is not a number");
    check_error("sine:", RATE, "sine:: frequency '' is not a number");
    check_error("sine", RATE, "sine: missing frequency (sine:FREQ[:DB])");
    check_error("sine:0", RATE,
                "sine:0: frequency 0 Hz must be above 0 and below 24000 Hz (half the rate 48000)");
    check_error("sine:-5", RATE,
                "sine:-5: frequency -5 Hz must be above 0 and below 24000 Hz (half the rate 48000)");
    check_error("sine:24000", RATE,
                "sine:24000: frequency 24000 Hz must be above 0 and below 24000 Hz "
                "(half the rate 48000)");
    check_error("sine:30000", 44100,
                "sine:30000: frequency 30000 Hz must be above 0 and below 22050 Hz "
                "(half the rate 44100)");
    check_error("sine:440:3", RATE, "sine:440:3: level 3 dBFS is above 0 (full scale)");
    check_error("sine:440:loud", RATE, "sine:440:loud: level 'loud' is not a number (dBFS)");
    check_error("sine:440:-6:1", RATE, "sine:440:-6:1: too many fields (sine:FREQ[:DB])");
    check_error("silence:1", RATE, "silence:1: too many fields (silence)");
    check_error("noise:blue", RATE, "noise:blue: 'blue' is neither white, pink nor a level in dBFS");
    check_error("noise:pink:1", RATE, "noise:pink:1: level 1 dBFS is above 0 (full scale)");
    check_error("noise:pink:x", RATE, "noise:pink:x: level 'x' is not a number (dBFS)");
    check_error("noise:-6:pink", RATE,
                "noise:-6:pink: too many fields (noise[:white|pink][:DB])");
    check_error("noise:white:-6:1", RATE,
                "noise:white:-6:1: too many fields (noise[:white|pink][:DB])");
    check_error("impulse", RATE, "impulse: missing period in frames (impulse:PERIOD[:DB])");
    check_error("impulse:0", RATE,
                "impulse:0: period '0' must be a whole number of frames, 1 or more");
    check_error("impulse:1.5", RATE,
                "impulse:1.5: period '1.5' must be a whole number of frames, 1 or more");
    check_error("impulse:-3", RATE,
                "impulse:-3: period '-3' must be a whole number of frames, 1 or more");
    check_error("impulse:100:0.5", RATE, "impulse:100:0.5: level 0.5 dBFS is above 0 (full scale)");
    check_error("sweep:20:20000", RATE,
                "sweep:20:20000: missing duration (sweep:F0:F1:SECONDS[:DB])");
    check_error("sweep:20", RATE, "sweep:20: missing end frequency (sweep:F0:F1:SECONDS[:DB])");
    check_error("sweep:x:20000:1", RATE,
                "sweep:x:20000:1: start frequency 'x' is not a number");
    check_error("sweep:20:30000:1", RATE,
                "sweep:20:30000:1: end frequency 30000 Hz must be above 0 and below 24000 Hz "
                "(half the rate 48000)");
    check_error("sweep:20:20000:0", RATE,
                "sweep:20:20000:0: duration 0 s must be at least one frame and finite");
    check_error("sweep:20:20000:soon", RATE,
                "sweep:20:20000:soon: duration 'soon' is not a number");
    check_error("sweep:20:20000:1:-6:7", RATE,
                "sweep:20:20000:1:-6:7: too many fields (sweep:F0:F1:SECONDS[:DB])");
    /* Subnormal frequencies: f1 / f0 overflows (the fuzzer's NaN), or
     * underflows going down. */
    check_error("sweep:5e-324:100:1", RATE,
                "sweep:5e-324:100:1: a sweep from 5e-324 Hz to 100 Hz over 1 s cannot be "
                "computed (the frequencies are too far apart)");
    check_error("sweep:100:5e-324:1", RATE,
                "sweep:100:5e-324:1: a sweep from 100 Hz to 5e-324 Hz over 1 s cannot be "
                "computed (the frequencies are too far apart)");
    check_error("sweep:1e-310:20000:0.5:-6", RATE,
                "sweep:1e-310:20000:0.5:-6: a sweep from 1e-310 Hz to 20000 Hz over 0.5 s cannot "
                "be computed (the frequencies are too far apart)");
    check_error("click:120", RATE,
                "'click' is not a generator (silence, sine:FREQ[:DB], noise[:white|pink][:DB], "
                "impulse:PERIOD[:DB], sweep:F0:F1:SECONDS[:DB], mls:ORDER[:DB])");
    check_error("", RATE,
                "empty generator spec (silence, sine:FREQ[:DB], noise[:white|pink][:DB], "
                "impulse:PERIOD[:DB], sweep:F0:F1:SECONDS[:DB], mls:ORDER[:DB])");
    check_error("mls", RATE, "mls: missing order (mls:ORDER[:DB], ORDER 10..20)");
    check_error("mls:9", RATE,
                "mls:9: order '9' must be a whole number from 10 to 20 (period 2^ORDER - 1 "
                "frames)");
    check_error("mls:21", RATE,
                "mls:21: order '21' must be a whole number from 10 to 20 (period 2^ORDER - 1 "
                "frames)");
    check_error("mls:16.0", RATE,
                "mls:16.0: order '16.0' must be a whole number from 10 to 20 (period 2^ORDER - 1 "
                "frames)");
    check_error("mls:-16", RATE,
                "mls:-16: order '-16' must be a whole number from 10 to 20 (period 2^ORDER - 1 "
                "frames)");
    check_error("mls:16:1", RATE, "mls:16:1: level 1 dBFS is above 0 (full scale)");
    check_error("mls:16:-6:1", RATE, "mls:16:-6:1: too many fields (mls:ORDER[:DB])");
    check_error("sine:440", 0, "sine:440: sample rate must be above 0");

    /* NULL errmsg is allowed. */
    reel_gen *g = NULL;
    assert_int_equal(reel_gen_create(&g, "sine:abc", RATE, NULL), REEL_EINVAL);
    assert_null(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_spec),
        cmocka_unit_test(test_sine_values),
        cmocka_unit_test(test_sine_known_phases),
        cmocka_unit_test(test_sine_no_drift),
        cmocka_unit_test(test_sine_peak_equals_level),
        cmocka_unit_test(test_impulse),
        cmocka_unit_test(test_noise_deterministic_and_bounded),
        cmocka_unit_test(test_noise_colour),
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_mls_first_samples),
        cmocka_unit_test(test_mls_period_and_balance),
        cmocka_unit_test(test_mls_autocorrelation),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
