/* test_tempo.c: unit tests for the tempo map (engine/tempo.c).
 *
 * Single-threaded. Expected positions are worked out by hand in the comments
 * (or, for long runs, with exact integer arithmetic on the rational beat
 * length), never by calling the code under test a second way, so a wrong
 * formula in tempo.c cannot agree with itself. Every fixture map lives in a
 * struct that teardown frees, so a failing assert leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reel_error.h"
#include "tempo.h"

typedef struct fixture {
    reel_tempo *m;      /* made by setup */
    reel_tempo *other;  /* made by the test, freed by teardown */
    char err[REEL_ERRMSG_MAX];
} fixture;

static fixture fx;

static int make(void **state, unsigned rate, double bpm, int num, int den)
{
    memset(&fx, 0, sizeof fx);
    if (reel_tempo_create(&fx.m, rate, bpm, num, den, fx.err) != REEL_OK) {
        fprintf(stderr, "setup: %s\n", fx.err);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int setup_48k_120_4_4(void **state) { return make(state, 48000, 120, 4, 4); }
static int setup_48k_140_4_4(void **state) { return make(state, 48000, 140, 4, 4); }
static int setup_44k1_160_4_4(void **state) { return make(state, 44100, 160, 4, 4); }
static int setup_48k_180_6_8(void **state) { return make(state, 48000, 180, 6, 8); }

static int teardown(void **state)
{
    fixture *f = *state;
    reel_tempo_destroy(f->m);
    reel_tempo_destroy(f->other);
    f->m = f->other = NULL;
    return 0;
}

/* cmocka prints integers in hex and has no double compare; these print
 * what the tests are about: signed sample positions and exact doubles. */
#define assert_i64(got, want)                                                          \
    do {                                                                               \
        long long g_ = (long long)(got), w_ = (long long)(want);                       \
        if (g_ != w_)                                                                  \
            fail_msg("%s = %lld, want %lld", #got, g_, w_);                            \
    } while (0)

#define assert_dbl(got, want)                                                          \
    do {                                                                               \
        double g_ = (got), w_ = (want);                                                \
        if (!(g_ == w_))                                                               \
            fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                          \
    } while (0)

/* Sample of bar:beat+fraction; the call must succeed. */
#define AT(m, bar, beat, frac) at_((m), (bar), (beat), (frac), __FILE__, __LINE__)
static int64_t at_(const reel_tempo *m, int bar, int beat, double frac, const char *file,
                   int line)
{
    int64_t s = -777;
    int rc = reel_tempo_bbt_to_sample_rt(m, bar, beat, frac, &s);
    if (rc != 0)
        fail_msg("%s:%d: bbt_to_sample(%d, %d, %g) = %d", file, line, bar, beat, frac, rc);
    return s;
}

#define ASSERT_BBT(m, sample, want_bar, want_beat, want_frac)                          \
    do {                                                                               \
        int b_ = -777, t_ = -777;                                                      \
        double fr_ = -1.0;                                                             \
        assert_int_equal(reel_tempo_sample_to_bbt_rt((m), (sample), &b_, &t_, &fr_), 0); \
        assert_i64(b_, want_bar);                                                      \
        assert_i64(t_, want_beat);                                                     \
        assert_dbl(fr_, want_frac);                                                    \
    } while (0)

static int64_t bar_len(const reel_tempo *m, int bar)
{
    int64_t len = -777;
    assert_int_equal(reel_tempo_bar_length_rt(m, bar, &len), 0);
    return len;
}

/* Exact grid of a one-segment map: beat k at k * 60 * rate / bpm samples,
 * rounded half up, in integers only (bpm a whole number here). */
static int64_t exact_beat(int64_t k, int64_t rate, int64_t bpm)
{
    int64_t num = k * 60 * rate, den = bpm;
    /* floor((num + den/2) / den) for num of any sign, without doubles. */
    int64_t n2 = 2 * num + den, d2 = 2 * den;
    int64_t q = n2 / d2;
    if (n2 % d2 != 0 && n2 < 0)
        q--;
    return q;
}

/* ---- basic grid ---- */

static void test_120_four_four(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    assert_int_equal(reel_tempo_rate(m), 48000);
    /* 120 quarters a minute at 48 kHz: 24000 samples a beat, 96000 a bar. */
    assert_i64(AT(m, 1, 1, 0), 0);
    assert_i64(AT(m, 1, 2, 0), 24000);
    assert_i64(AT(m, 1, 3, 0), 48000);
    assert_i64(AT(m, 1, 4, 0), 72000);
    assert_i64(AT(m, 2, 1, 0), 96000);
    assert_i64(AT(m, 3, 1, 0), 192000);
    assert_i64(AT(m, 101, 1, 0), 9600000);
    assert_i64(AT(m, 1, 2, 0.5), 36000);
    assert_i64(AT(m, 2, 4, 0.25), 96000 + 72000 + 6000);
    assert_i64(bar_len(m, 1), 96000);
    assert_i64(bar_len(m, 57), 96000);

    ASSERT_BBT(m, 0, 1, 1, 0.0);
    ASSERT_BBT(m, 24000, 1, 2, 0.0);
    ASSERT_BBT(m, 36000, 1, 2, 0.5);
    ASSERT_BBT(m, 95999, 1, 4, 23999.0 / 24000.0);
    ASSERT_BBT(m, 96000, 2, 1, 0.0);

    assert_int_equal(reel_tempo_count(m), 1);
    reel_tempo_segment s;
    assert_int_equal(reel_tempo_get(m, 0, &s), 0);
    assert_int_equal(s.bar, 1);
    assert_dbl(s.bpm, 120.0);
    assert_int_equal(s.num, 4);
    assert_int_equal(s.den, 4);
    assert_dbl(s.start, 0.0);
    assert_i64(s.sample, 0);
    assert_int_equal(reel_tempo_get(m, 1, &s), REEL_EINVAL);
}

static void test_out_of_range_queries_fail(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    int64_t s = 4242;
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 1, 0, 0, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 1, 5, 0, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 1, 1, 1.0, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 1, 1, -0.1, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 1, 1, NAN, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, REEL_TEMPO_BAR_MAX + 1, 1, 0, &s),
                     REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, REEL_TEMPO_BAR_MIN - 1, 1, 0, &s),
                     REEL_EINVAL);
    assert_i64(s, 4242);

    /* Last valid sample: end of bar 99999 minus one; 99999 * 96000 is the end. */
    int64_t end = (int64_t)REEL_TEMPO_BAR_MAX * 96000;
    ASSERT_BBT(m, end - 1, REEL_TEMPO_BAR_MAX, 4, 23999.0 / 24000.0);
    assert_int_equal(reel_tempo_sample_to_bbt_rt(m, end, NULL, NULL, NULL), REEL_EINVAL);
    assert_int_equal(reel_tempo_sample_to_bbt_rt(m, INT64_MAX, NULL, NULL, NULL), REEL_EINVAL);
    assert_int_equal(reel_tempo_sample_to_bbt_rt(m, INT64_MIN, NULL, NULL, NULL), REEL_EINVAL);
    assert_int_equal(reel_tempo_bar_length_rt(m, REEL_TEMPO_BAR_MAX + 1, &s), REEL_EINVAL);
    assert_i64(s, 4242);

    reel_tempo_segment seg;
    assert_int_equal(reel_tempo_segment_at_rt(m, REEL_TEMPO_BAR_MAX + 1, &seg), REEL_EINVAL);
    assert_int_equal(reel_tempo_segment_at_rt(m, REEL_TEMPO_BAR_MIN - 1, &seg), REEL_EINVAL);
    assert_int_equal(reel_tempo_segment_at_rt(m, -5, &seg), 0);
    assert_int_equal(seg.bar, 1);
}

/* ---- rounding ---- */

static void test_140_rounds_half_up_and_round_trips(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    /* 48000 * 60 / 140 = 20571.428571... samples a beat (144000/7). */
    assert_i64(AT(m, 1, 2, 0), 20571);   /* 20571.43 */
    assert_i64(AT(m, 1, 3, 0), 41143);   /* 41142.86 */
    assert_i64(AT(m, 1, 4, 0), 61714);   /* 61714.29 */
    assert_i64(AT(m, 2, 1, 0), 82286);   /* 82285.71 */
    assert_i64(AT(m, 2, 2, 0), 102857);  /* 102857.14 */
    assert_i64(AT(m, 2, 4, 0), 144000);  /* 7 beats: exactly 144000 */
    assert_i64(AT(m, 8, 1, 0), 576000);  /* 28 beats: exactly 576000 */
    /* Bars are not all the same length, but they add up with no drift. */
    assert_i64(bar_len(m, 1), 82286);
    assert_i64(bar_len(m, 2), 164571 - 82286);
    int64_t sum = 0;
    for (int bar = 1; bar <= 100; bar++)
        sum += bar_len(m, bar);
    assert_i64(sum, 8228571); /* 400 beats: 57600000/7 = 8228571.43 */

    /* Every beat of 100 bars lands on the exact rational grid and comes
     * back as that beat with fraction 0. */
    for (int bar = 1; bar <= 100; bar++) {
        for (int beat = 1; beat <= 4; beat++) {
            int64_t k = (int64_t)(bar - 1) * 4 + beat - 1;
            int64_t want = exact_beat(k, 48000, 140);
            assert_i64(AT(m, bar, beat, 0), want);
            ASSERT_BBT(m, want, bar, beat, 0.0);
            /* The sample before a beat belongs to the previous one. */
            if (k > 0) {
                int b, t;
                assert_int_equal(reel_tempo_sample_to_bbt_rt(m, want - 1, &b, &t, NULL), 0);
                assert_i64((int64_t)(b - 1) * 4 + t - 1, k - 1);
            }
        }
    }
}

static void test_every_sample_round_trips(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    /* A mix of integer, non-integer and odd-tie beat lengths. */
    assert_int_equal(reel_tempo_set(m, 3, 97.3, 5, 8, NULL), 0);
    assert_int_equal(reel_tempo_set(m, 5, 160, 3, 4, NULL), 0);
    int64_t from = AT(m, -1, 1, 0), to = AT(m, 7, 1, 0);
    int prev_bar = -2, prev_beat = 0;
    double prev_frac = 0;
    for (int64_t s = from; s < to; s++) {
        int bar, beat;
        double frac;
        assert_int_equal(reel_tempo_sample_to_bbt_rt(m, s, &bar, &beat, &frac), 0);
        if (!(frac >= 0.0 && frac < 1.0))
            fail_msg("sample %lld: fraction %.17g", (long long)s, frac);
        int64_t back = -1;
        assert_int_equal(reel_tempo_bbt_to_sample_rt(m, bar, beat, frac, &back), 0);
        if (back != s)
            fail_msg("sample %lld -> %d:%d+%.17g -> %lld", (long long)s, bar, beat, frac,
                     (long long)back);
        /* Monotonic: same beat with a larger fraction, or the next beat at 0. */
        if (bar == prev_bar && beat == prev_beat) {
            if (!(frac > prev_frac))
                fail_msg("sample %lld: fraction went from %g to %g", (long long)s, prev_frac,
                         frac);
        } else if (s != from) {
            assert_dbl(frac, 0.0);
        }
        prev_bar = bar;
        prev_beat = beat;
        prev_frac = frac;
    }
    assert_int_equal(prev_bar, 6);
    assert_int_equal(prev_beat, 3);
}

static void test_exact_halves_round_up(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    /* 44100 * 60 / 160 = 16537.5 samples a beat, so odd beats are ties. */
    assert_i64(AT(m, 1, 2, 0), 16538);   /* 16537.5 */
    assert_i64(AT(m, 1, 3, 0), 33075);
    assert_i64(AT(m, 1, 4, 0), 49613);   /* 49612.5 */
    assert_i64(AT(m, 2, 1, 0), 66150);
    /* Half up means towards +inf on the count-in side too. */
    assert_i64(AT(m, 0, 4, 0), -16537);  /* -16537.5 */
    assert_i64(AT(m, 0, 3, 0), -33075);
    assert_i64(AT(m, 0, 2, 0), -49612);  /* -49612.5 */
    assert_i64(AT(m, 0, 1, 0), -66150);
    /* Fractions interpolate between rounded beats: beat 2 spans
     * 16538..33075 (16537 samples), half of it is 8268.5 -> 8269. */
    assert_i64(AT(m, 1, 1, 0.5), 8269);  /* beat 1 spans 16538: exactly 8269 */
    assert_i64(AT(m, 1, 2, 0.5), 16538 + 8269);
    ASSERT_BBT(m, 16538 + 8269, 1, 2, 8269.0 / 16537.0);
    assert_i64(bar_len(m, 1), 66150);
    assert_i64(bar_len(m, 0), 66150);
}

/* ---- changes ---- */

static void check_changes_9_and_17(const reel_tempo *m)
{
    /* Bars 1-8 at 120 bpm 4/4: 96000 a bar, so bar 9 at 768000. Bars 9-16
     * at 90 bpm 4/4: 32000 a beat, 128000 a bar, so bar 17 at
     * 768000 + 8 * 128000 = 1792000. From 17: 7/8 at 90 eighths a minute,
     * 32000 an eighth, 224000 a bar. */
    assert_i64(AT(m, 8, 1, 0), 672000);
    assert_i64(AT(m, 8, 4, 0), 744000);
    assert_i64(AT(m, 9, 1, 0), 768000);
    assert_i64(AT(m, 9, 2, 0), 800000);
    assert_i64(AT(m, 10, 1, 0), 896000);
    assert_i64(AT(m, 16, 4, 0), 1760000);
    assert_i64(AT(m, 17, 1, 0), 1792000);
    assert_i64(AT(m, 17, 2, 0), 1824000);
    assert_i64(AT(m, 17, 7, 0), 1984000);
    assert_i64(AT(m, 17, 7, 0.5), 2000000);
    assert_i64(AT(m, 18, 1, 0), 2016000);
    assert_i64(AT(m, 20, 1, 0), 2464000);
    assert_i64(bar_len(m, 8), 96000);
    assert_i64(bar_len(m, 9), 128000);
    assert_i64(bar_len(m, 16), 128000);
    assert_i64(bar_len(m, 17), 224000);
    assert_i64(bar_len(m, 1000), 224000);

    ASSERT_BBT(m, 767999, 8, 4, 23999.0 / 24000.0);
    ASSERT_BBT(m, 768000, 9, 1, 0.0);
    ASSERT_BBT(m, 1791999, 16, 4, 31999.0 / 32000.0);
    ASSERT_BBT(m, 1792000, 17, 1, 0.0);
    ASSERT_BBT(m, 2015999, 17, 7, 31999.0 / 32000.0);
    ASSERT_BBT(m, 2016000, 18, 1, 0.0);

    int64_t s;
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 16, 5, 0, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 17, 8, 0, &s), REEL_EINVAL);

    assert_int_equal(reel_tempo_count(m), 3);
    reel_tempo_segment seg;
    assert_int_equal(reel_tempo_get(m, 1, &seg), 0);
    assert_int_equal(seg.bar, 9);
    assert_dbl(seg.bpm, 90.0);
    assert_int_equal(seg.num, 4);
    assert_int_equal(seg.den, 4);
    assert_dbl(seg.start, 768000.0);
    assert_i64(seg.sample, 768000);
    assert_int_equal(reel_tempo_get(m, 2, &seg), 0);
    assert_int_equal(seg.bar, 17);
    assert_int_equal(seg.num, 7);
    assert_int_equal(seg.den, 8);
    assert_dbl(seg.start, 1792000.0);
    assert_int_equal(reel_tempo_segment_at_rt(m, 16, &seg), 0);
    assert_int_equal(seg.bar, 9);
    assert_int_equal(reel_tempo_segment_at_rt(m, 17, &seg), 0);
    assert_int_equal(seg.bar, 17);
}

static void test_changes_at_9_and_17(void **state)
{
    fixture *f = *state;
    assert_int_equal(reel_tempo_set(f->m, 9, 90, 4, 4, f->err), 0);
    assert_int_equal(reel_tempo_set(f->m, 17, 90, 7, 8, f->err), 0);
    check_changes_9_and_17(f->m);

    /* Same map built in the other order. */
    assert_int_equal(reel_tempo_create(&f->other, 48000, 120, 4, 4, f->err), 0);
    assert_int_equal(reel_tempo_set(f->other, 17, 90, 7, 8, f->err), 0);
    assert_int_equal(reel_tempo_set(f->other, 9, 90, 4, 4, f->err), 0);
    check_changes_9_and_17(f->other);
}

static void test_change_keeps_exact_start(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    assert_int_equal(reel_tempo_set(m, 9, 90, 4, 4, NULL), 0);
    /* Bar 9 of 140 bpm 4/4 is 32 beats in: 32 * 144000 / 7 = 658285.714...
     * The 90 bpm beats (32000 each) go on from that exact value, so each
     * lands at .714 and rounds up, not from the rounded 658286. */
    reel_tempo_segment seg;
    assert_int_equal(reel_tempo_get(m, 1, &seg), 0);
    assert_dbl(seg.start, 92160000.0 / 140.0);
    assert_i64(seg.sample, 658286);
    assert_i64(AT(m, 9, 1, 0), 658286);
    assert_i64(AT(m, 9, 2, 0), 690286);
    assert_i64(AT(m, 10, 1, 0), 786286);
    assert_i64(bar_len(m, 8), 658286 - 576000);
    ASSERT_BBT(m, 658285, 8, 4, 20571.0 / 20572.0); /* 8:4 at 637714.29 -> 637714 */
    ASSERT_BBT(m, 658286, 9, 1, 0.0);
}

static void test_six_eight_at_180(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    /* 180 eighth notes a minute: 16000 samples an eighth, 6 a bar. */
    assert_i64(AT(m, 1, 2, 0), 16000);
    assert_i64(AT(m, 1, 4, 0), 48000);
    assert_i64(AT(m, 1, 6, 0), 80000);
    assert_i64(AT(m, 2, 1, 0), 96000);
    assert_i64(bar_len(m, 1), 96000);
    ASSERT_BBT(m, 50000, 1, 4, 0.125);
    int64_t s;
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 1, 7, 0, &s), REEL_EINVAL);
    reel_tempo_segment seg;
    assert_int_equal(reel_tempo_get(m, 0, &seg), 0);
    assert_int_equal(seg.num, 6);
    assert_int_equal(seg.den, 8);
    int bar, beat;
    assert_int_equal(reel_tempo_next_beat_rt(m, 1, &s, &bar, &beat), 0);
    assert_i64(s, 16000);
    assert_int_equal(bar, 1);
    assert_int_equal(beat, 2);
}

static void test_set_replace_remove(void **state)
{
    fixture *f = *state;
    reel_tempo *m = f->m;
    assert_int_equal(reel_tempo_set(m, 9, 90, 4, 4, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 9, 60, 4, 4, f->err), 0);
    assert_int_equal(reel_tempo_count(m), 2);
    /* 60 bpm: 48000 a beat from 768000. */
    assert_i64(AT(m, 9, 1, 0), 768000);
    assert_i64(AT(m, 10, 1, 0), 960000);

    assert_int_equal(reel_tempo_remove(m, 9, f->err), 0);
    assert_int_equal(reel_tempo_count(m), 1);
    assert_i64(AT(m, 10, 1, 0), 864000);

    assert_int_equal(reel_tempo_remove(m, 9, f->err), REEL_ENOTFOUND);
    assert_string_equal(f->err, "tempo: no change at bar 9 to remove");
    assert_int_equal(reel_tempo_remove(m, 1, f->err), REEL_EINVAL);
    assert_string_equal(f->err, "tempo: the change at bar 1 cannot be removed (the map starts "
                                "there); set it instead");

    /* Bar 1 is replaced, never duplicated: 60 bpm 3/4 is 144000 a bar. */
    assert_int_equal(reel_tempo_set(m, 1, 60, 3, 4, f->err), 0);
    assert_int_equal(reel_tempo_count(m), 1);
    assert_i64(AT(m, 2, 1, 0), 144000);
    assert_i64(AT(m, 0, 1, 0), -144000);

    /* A change in the middle moves every later one. */
    assert_int_equal(reel_tempo_set(m, 5, 120, 4, 4, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 3, 120, 3, 4, f->err), 0);
    /* Bars 1-2 144000 each, bars 3-4 at 120 3/4 72000 each. */
    assert_i64(AT(m, 5, 1, 0), 288000 + 144000);
    reel_tempo_segment seg;
    assert_int_equal(reel_tempo_get(m, 1, &seg), 0);
    assert_int_equal(seg.bar, 3);
    assert_int_equal(reel_tempo_get(m, 2, &seg), 0);
    assert_int_equal(seg.bar, 5);
    assert_dbl(seg.start, 432000.0);
}

static void test_copy(void **state)
{
    fixture *f = *state;
    assert_int_equal(reel_tempo_set(f->m, 9, 90, 7, 8, f->err), 0);
    assert_int_equal(reel_tempo_create(&f->other, 44100, 60, 3, 4, f->err), 0);
    reel_tempo_copy(f->other, f->m);
    assert_int_equal(reel_tempo_rate(f->other), 48000);
    assert_int_equal(reel_tempo_count(f->other), 2);
    assert_i64(AT(f->other, 10, 1, 0), 768000 + 224000);
    /* Independent afterwards. */
    assert_int_equal(reel_tempo_remove(f->m, 9, f->err), 0);
    assert_int_equal(reel_tempo_count(f->other), 2);
}

/* ---- count-in ---- */

static void test_count_in_bars(void **state)
{
    fixture *f = *state;
    reel_tempo *m = f->m;
    /* A later change must not affect the bars before 1:1. */
    assert_int_equal(reel_tempo_set(m, 9, 90, 7, 8, f->err), 0);
    assert_i64(AT(m, 0, 1, 0), -96000);
    assert_i64(AT(m, 0, 2, 0), -72000);
    assert_i64(AT(m, 0, 4, 0), -24000);
    assert_i64(AT(m, 0, 4, 0.5), -12000);
    assert_i64(AT(m, -1, 1, 0), -192000);
    assert_i64(AT(m, -1, 3, 0.25), -192000 + 48000 + 6000);
    assert_i64(bar_len(m, 0), 96000);
    assert_i64(bar_len(m, -1), 96000);
    ASSERT_BBT(m, -1, 0, 4, 23999.0 / 24000.0);
    ASSERT_BBT(m, -24000, 0, 4, 0.0);
    ASSERT_BBT(m, -96000, 0, 1, 0.0);
    ASSERT_BBT(m, -96001, -1, 4, 23999.0 / 24000.0);

    /* The earliest bar: (-9999 - 1) * 96000. */
    assert_i64(AT(m, REEL_TEMPO_BAR_MIN, 1, 0), -960000000);
    ASSERT_BBT(m, -960000000, REEL_TEMPO_BAR_MIN, 1, 0.0);
    assert_int_equal(reel_tempo_sample_to_bbt_rt(m, -960000001, NULL, NULL, NULL), REEL_EINVAL);

    int64_t pos;
    int bar, beat;
    assert_int_equal(reel_tempo_next_beat_rt(m, -100000, &pos, &bar, &beat), 0);
    assert_i64(pos, -96000);
    assert_int_equal(bar, 0);
    assert_int_equal(beat, 1);
    assert_int_equal(reel_tempo_next_beat_rt(m, -23999, &pos, &bar, &beat), 0);
    assert_i64(pos, 0);
    assert_int_equal(bar, 1);
    assert_int_equal(beat, 1);
    assert_int_equal(reel_tempo_next_beat_rt(m, INT64_MIN, &pos, &bar, &beat), 0);
    assert_i64(pos, -960000000);
    assert_int_equal(bar, REEL_TEMPO_BAR_MIN);
    assert_int_equal(beat, 1);

    /* The count-in follows the first segment's meter. */
    assert_int_equal(reel_tempo_set(m, 1, 180, 6, 8, f->err), 0);
    assert_i64(AT(m, 0, 6, 0), -16000);
    int64_t s;
    assert_int_equal(reel_tempo_bbt_to_sample_rt(m, 0, 7, 0, &s), REEL_EINVAL);
}

/* ---- metronome ---- */

static void test_next_beat_follows_every_change(void **state)
{
    fixture *f = *state;
    reel_tempo *m = f->m; /* 140 bpm 4/4 */
    assert_int_equal(reel_tempo_set(m, 5, 90, 7, 8, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 9, 180, 6, 8, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 12, 133.3, 3, 4, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 14, 1000, 1, 32, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 17, 61.7, 5, 2, f->err), 0);

    int64_t from = AT(m, -1, 1, 0);
    unsigned clicks = 0, downbeats = 0;
    for (int bar = -1; bar <= 20; bar++) {
        reel_tempo_segment seg;
        assert_int_equal(reel_tempo_segment_at_rt(m, bar, &seg), 0);
        for (int beat = 1; beat <= seg.num; beat++) {
            int64_t want = AT(m, bar, beat, 0), pos = -1;
            int b = 0, t = 0;
            /* Asked exactly on the beat, and from anywhere after the
             * previous one, the click is that beat. */
            assert_int_equal(reel_tempo_next_beat_rt(m, want, &pos, &b, &t), 0);
            assert_i64(pos, want);
            assert_int_equal(reel_tempo_next_beat_rt(m, from, &pos, &b, &t), 0);
            assert_i64(pos, want);
            assert_int_equal(b, bar);
            assert_int_equal(t, beat);
            clicks++;
            downbeats += t == 1;
            from = pos + 1;
        }
    }
    /* Bars -1..4: 6 x 4, 5..8: 4 x 7, 9..11: 3 x 6, 12..13: 2 x 3,
     * 14..16: 3 x 1, 17..20: 4 x 5. */
    assert_int_equal(clicks, 24 + 28 + 18 + 6 + 3 + 20);
    assert_int_equal(downbeats, 22);

    /* Nothing after the last bar. */
    int64_t last = AT(m, REEL_TEMPO_BAR_MAX, 5, 0), pos;
    assert_int_equal(reel_tempo_next_beat_rt(m, last, &pos, NULL, NULL), 0);
    assert_i64(pos, last);
    assert_int_equal(reel_tempo_next_beat_rt(m, last + 1, &pos, NULL, NULL), REEL_EINVAL);
    assert_int_equal(reel_tempo_next_beat_rt(m, INT64_MAX, &pos, NULL, NULL), REEL_EINVAL);
}

/* ---- seconds ---- */

static void test_seconds(void **state)
{
    reel_tempo *m = ((fixture *)*state)->m;
    int64_t s = 4242;
    assert_int_equal(reel_tempo_seconds_to_sample(m, 12.5, &s), 0);
    assert_i64(s, 600000);
    assert_int_equal(reel_tempo_seconds_to_sample(m, 1.0 / 96000, &s), 0);
    assert_i64(s, 1);  /* 0.5 rounds up */
    assert_int_equal(reel_tempo_seconds_to_sample(m, -1.0 / 96000, &s), 0);
    assert_i64(s, 0);  /* -0.5 rounds up too */
    assert_int_equal(reel_tempo_seconds_to_sample(m, -2.0, &s), 0);
    assert_i64(s, -96000);
    assert_dbl(reel_tempo_sample_to_seconds(m, 600000), 12.5);
    assert_dbl(reel_tempo_sample_to_seconds(m, -24000), -0.5);
    s = 4242;
    assert_int_equal(reel_tempo_seconds_to_sample(m, NAN, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_seconds_to_sample(m, INFINITY, &s), REEL_EINVAL);
    assert_int_equal(reel_tempo_seconds_to_sample(m, 1e12, &s), REEL_EINVAL);
    assert_i64(s, 4242);
}

/* ---- parse_position ---- */

static int64_t parse_ok(fixture *f, const char *text)
{
    int64_t s = -777;
    int rc = reel_tempo_parse_position(f->m, text, &s, f->err);
    if (rc != 0)
        fail_msg("parse '%s' = %d: %s", text, rc, f->err);
    return s;
}

static void parse_err(fixture *f, const char *text, const char *want)
{
    int64_t s = 4242;
    f->err[0] = '\0';
    int rc = reel_tempo_parse_position(f->m, text, &s, f->err);
    if (rc != REEL_EINVAL)
        fail_msg("parse '%s' = %d, want REEL_EINVAL", text ? text : "(null)", rc);
    assert_string_equal(f->err, want);
    assert_i64(s, 4242);
}

static void test_parse_accepts_each_syntax(void **state)
{
    fixture *f = *state;
    assert_int_equal(reel_tempo_set(f->m, 17, 90, 7, 8, f->err), 0);
    assert_i64(parse_ok(f, "96000"), 96000);
    assert_i64(parse_ok(f, "0"), 0);
    assert_i64(parse_ok(f, "-0"), 0);
    assert_i64(parse_ok(f, "007"), 7);
    assert_i64(parse_ok(f, "12.5s"), 600000);
    assert_i64(parse_ok(f, "3s"), 144000);
    assert_i64(parse_ok(f, ".5s"), 24000);
    assert_i64(parse_ok(f, "0.00001s"), 0);   /* 0.48 samples */
    assert_i64(parse_ok(f, "0.0000105s"), 1); /* 0.504 samples */
    assert_i64(parse_ok(f, "1:1"), 0);
    assert_i64(parse_ok(f, "5:1"), 384000);
    assert_i64(parse_ok(f, "5:2.5"), 420000);
    assert_i64(parse_ok(f, "5:4.999"), 384000 + 72000 + 23976);
    assert_i64(parse_ok(f, "1:1.0000000000000000000001"), 0);
    /* Bar 17 at 16 * 96000, then eighths of 32000. */
    assert_i64(parse_ok(f, "17:7"), 1536000 + 192000);
    assert_i64(parse_ok(f, "17:7.25"), 1536000 + 192000 + 8000);
    assert_i64(parse_ok(f, "99999:7"), 1536000 + (99999LL - 17) * 224000 + 192000);
    /* The last sample there is. */
    int64_t end = 1536000 + (99999LL - 16) * 224000;
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)(end - 1));
    assert_i64(parse_ok(f, buf), end - 1);
}

static void test_parse_errors_word_for_word(void **state)
{
    fixture *f = *state;
    assert_int_equal(reel_tempo_set(f->m, 17, 90, 7, 8, f->err), 0);
    assert_int_equal(reel_tempo_set(f->m, 20, 120, 1, 4, f->err), 0);

    static const char *const not_a_position[] = {
        "abc", "", "5:", ":1", "5:2.", "5:.5", "5.5", "5.", "12.5 s", " 5:1", "5:1 ",
        "5:1:0", "1e3", "+5", "12.5ms", "s", "-", "-s", "--5", "5:-1", "0x10", "inf", "nans",
    };
    for (size_t i = 0; i < sizeof not_a_position / sizeof not_a_position[0]; i++) {
        char want[REEL_ERRMSG_MAX];
        snprintf(want, sizeof want,
                 "position '%s' is not samples, seconds (12.5s) or bars:beats (5:1)",
                 not_a_position[i]);
        parse_err(f, not_a_position[i], want);
    }
    parse_err(f, NULL, "position '' is not samples, seconds (12.5s) or bars:beats (5:1)");

    parse_err(f, "5:9", "position '5:9': bar 5 has only 4 beats");
    parse_err(f, "5:5.5", "position '5:5.5': bar 5 has only 4 beats");
    parse_err(f, "17:8", "position '17:8': bar 17 has only 7 beats");
    parse_err(f, "20:2", "position '20:2': bar 20 has only 1 beat");
    parse_err(f, "5:99999999999999999999", "position '5:99999999999999999999': bar 5 has only "
                                           "4 beats");
    parse_err(f, "5:0", "position '5:0': beats start at 1");
    parse_err(f, "5:0.5", "position '5:0.5': beats start at 1");

    parse_err(f, "0:1", "position '0:1' is before the start (1:1)");
    parse_err(f, "-1:1", "position '-1:1' is before the start (1:1)");
    parse_err(f, "-0:1", "position '-0:1' is before the start (1:1)");
    parse_err(f, "-96000", "position '-96000' is before the start (1:1)");
    parse_err(f, "-0.5s", "position '-0.5s' is before the start (1:1)");

    parse_err(f, "100000:1", "position '100000:1' is after the last bar (99999)");
    parse_err(f, "99999999999999999999:1",
              "position '99999999999999999999:1' is after the last bar (99999)");
    parse_err(f, "99999999999999999999",
              "position '99999999999999999999' is after the last bar (99999)");
    parse_err(f, "99999999999999999999s",
              "position '99999999999999999999s' is after the last bar (99999)");
    /* One sample past the end of bar 99999 (7/8 bars of 224000 from 17,
     * which is at 1536000; bar 20 changes to 1/4 at 120: 24000 a bar). */
    int64_t end = 1536000 + 3 * 224000 + (99999LL - 19) * 24000;
    char text[64], want[128];
    snprintf(text, sizeof text, "%lld", (long long)end);
    snprintf(want, sizeof want, "position '%s' is after the last bar (99999)", text);
    parse_err(f, text, want);
    snprintf(text, sizeof text, "%lld", (long long)end - 1);
    assert_i64(parse_ok(f, text), end - 1);
    /* The last beat (24000 samples) and a fraction that rounds to its end:
     * 0.99998 * 24000 = 23999.52 is the first sample past bar 99999 (the
     * fuzzer's find: it came back as a position with no bars:beats). */
    parse_err(f, "99999:1.99998", "position '99999:1.99998' is after the last bar (99999)");
    parse_err(f, "99999:1.999999999999999",
              "position '99999:1.999999999999999' is after the last bar (99999)");
    assert_i64(parse_ok(f, "99999:1.99997"), end - 1); /* 23999.28 */
}

/* ---- validation ---- */

static void test_create_validation_messages(void **state)
{
    fixture *f = *state;
    static const struct {
        unsigned rate;
        double bpm;
        int num, den;
        const char *want;
    } cases[] = {
        {0, 120, 4, 4, "tempo: sample rate 0 must be between 1000 and 1000000"},
        {999, 120, 4, 4, "tempo: sample rate 999 must be between 1000 and 1000000"},
        {1000001, 120, 4, 4, "tempo: sample rate 1000001 must be between 1000 and 1000000"},
        {48000, 0, 4, 4, "tempo: bpm 0 at bar 1 must be between 1 and 1000"},
        {48000, 0.5, 4, 4, "tempo: bpm 0.5 at bar 1 must be between 1 and 1000"},
        {48000, 1000.5, 4, 4, "tempo: bpm 1000.5 at bar 1 must be between 1 and 1000"},
        {48000, 1000.0001, 4, 4, "tempo: bpm 1000.0001 at bar 1 must be between 1 and 1000"},
        {48000, -120, 4, 4, "tempo: bpm -120 at bar 1 must be between 1 and 1000"},
        {48000, NAN, 4, 4, "tempo: bpm nan at bar 1 must be between 1 and 1000"},
        {48000, INFINITY, 4, 4, "tempo: bpm inf at bar 1 must be between 1 and 1000"},
        {48000, 120, 0, 4,
         "tempo: meter 0/4 at bar 1: beats per bar must be between 1 and 64"},
        {48000, 120, 65, 4,
         "tempo: meter 65/4 at bar 1: beats per bar must be between 1 and 64"},
        {48000, 120, 4, 3,
         "tempo: meter 4/3 at bar 1: note value must be 1, 2, 4, 8, 16 or 32"},
        {48000, 120, 4, 0,
         "tempo: meter 4/0 at bar 1: note value must be 1, 2, 4, 8, 16 or 32"},
        {48000, 120, 4, 64,
         "tempo: meter 4/64 at bar 1: note value must be 1, 2, 4, 8, 16 or 32"},
        {48000, 120, 4, -4,
         "tempo: meter 4/-4 at bar 1: note value must be 1, 2, 4, 8, 16 or 32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reel_tempo *m = (reel_tempo *)&m; /* must come back NULL */
        f->err[0] = '\0';
        assert_int_equal(reel_tempo_create(&m, cases[i].rate, cases[i].bpm, cases[i].num,
                                           cases[i].den, f->err),
                         REEL_EINVAL);
        assert_null(m);
        assert_string_equal(f->err, cases[i].want);
    }
    assert_int_equal(reel_tempo_create(NULL, 48000, 120, 4, 4, f->err), REEL_EINVAL);
    assert_string_equal(f->err, "tempo: no place to store the map");
    /* The limits themselves are fine. */
    assert_int_equal(reel_tempo_create(&f->other, 1000, 1000, 64, 32, f->err), 0);
    /* Shortest beat: 1000 * 60 / 1000 = 60 samples. */
    assert_i64(AT(f->other, 1, 2, 0), 60);
    reel_tempo_destroy(f->other);
    f->other = NULL;
    assert_int_equal(reel_tempo_create(&f->other, 1000000, 1, 1, 1, f->err), 0);
    assert_i64(AT(f->other, 2, 1, 0), 60000000);
    reel_tempo_destroy(NULL);
}

static void test_set_validation_messages(void **state)
{
    fixture *f = *state;
    reel_tempo *m = f->m;
    static const struct {
        int bar;
        double bpm;
        int num, den;
        const char *want;
    } cases[] = {
        {5, 0, 4, 4, "tempo: bpm 0 at bar 5 must be between 1 and 1000"},
        {5, 1001, 4, 4, "tempo: bpm 1001 at bar 5 must be between 1 and 1000"},
        {0, 120, 4, 4, "tempo: bar 0 must be between 1 and 99999"},
        {-3, 120, 4, 4, "tempo: bar -3 must be between 1 and 99999"},
        {100000, 120, 4, 4, "tempo: bar 100000 must be between 1 and 99999"},
        {5, 120, 0, 4, "tempo: meter 0/4 at bar 5: beats per bar must be between 1 and 64"},
        {5, 120, -1, 4, "tempo: meter -1/4 at bar 5: beats per bar must be between 1 and 64"},
        {5, 120, 7, 12, "tempo: meter 7/12 at bar 5: note value must be 1, 2, 4, 8, 16 or 32"},
        {1, 120, 4, 6, "tempo: meter 4/6 at bar 1: note value must be 1, 2, 4, 8, 16 or 32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->err[0] = '\0';
        assert_int_equal(reel_tempo_set(m, cases[i].bar, cases[i].bpm, cases[i].num,
                                        cases[i].den, f->err),
                         REEL_EINVAL);
        assert_string_equal(f->err, cases[i].want);
    }
    /* A refused change leaves the map as it was. */
    assert_int_equal(reel_tempo_count(m), 1);
    assert_i64(AT(m, 2, 1, 0), 96000);
    /* errmsg may be NULL. */
    assert_int_equal(reel_tempo_set(m, 5, 0, 4, 4, NULL), REEL_EINVAL);
    /* Boundaries accepted. */
    assert_int_equal(reel_tempo_set(m, REEL_TEMPO_BAR_MAX, 1000, 64, 1, f->err), 0);
    assert_int_equal(reel_tempo_set(m, 2, 1, 1, 32, f->err), 0);
    assert_int_equal(reel_tempo_count(m), 3);
}

static void test_capacity(void **state)
{
    fixture *f = *state;
    reel_tempo *m = f->m;
    /* Alternate 120 and 60 bpm 4/4 at bars 2..256. */
    for (int bar = 2; bar <= REEL_TEMPO_MAX_SEGMENTS; bar++)
        assert_int_equal(reel_tempo_set(m, bar, bar % 2 ? 120 : 60, 4, 4, f->err), 0);
    assert_int_equal(reel_tempo_count(m), REEL_TEMPO_MAX_SEGMENTS);
    assert_int_equal(reel_tempo_set(m, 300, 90, 4, 4, f->err), REEL_EINVAL);
    assert_string_equal(f->err, "tempo: cannot add a change at bar 300: the map already holds "
                                "256 changes, the most it can");
    assert_int_equal(reel_tempo_count(m), REEL_TEMPO_MAX_SEGMENTS);
    /* Replacing is still fine when full. */
    assert_int_equal(reel_tempo_set(m, 256, 120, 4, 4, f->err), 0);
    /* Bar 1 at 120 (96000); bars 2..255: 127 even ones at 60 (192000),
     * 127 odd ones at 120; bar 256 now at 120 too. */
    assert_i64(AT(m, 257, 1, 0), 96000 + 127 * 192000 + 127 * 96000 + 96000);
    /* Binary search over a full map agrees with the bars on every beat. */
    for (int bar = 250; bar <= 257; bar++) {
        for (int beat = 1; beat <= 4; beat++)
            ASSERT_BBT(m, AT(m, bar, beat, 0), bar, beat, 0.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_120_four_four, setup_48k_120_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range_queries_fail, setup_48k_120_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_140_rounds_half_up_and_round_trips,
                                        setup_48k_140_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_every_sample_round_trips, setup_44k1_160_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exact_halves_round_up, setup_44k1_160_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changes_at_9_and_17, setup_48k_120_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_change_keeps_exact_start, setup_48k_140_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_six_eight_at_180, setup_48k_180_6_8, teardown),
        cmocka_unit_test_setup_teardown(test_set_replace_remove, setup_48k_120_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup_48k_120_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_count_in_bars, setup_48k_120_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_next_beat_follows_every_change, setup_48k_140_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seconds, setup_48k_120_4_4, teardown),
        cmocka_unit_test_setup_teardown(test_parse_accepts_each_syntax, setup_48k_120_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors_word_for_word, setup_48k_120_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_validation_messages, setup_48k_120_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set_validation_messages, setup_48k_120_4_4,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_capacity, setup_48k_120_4_4, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
