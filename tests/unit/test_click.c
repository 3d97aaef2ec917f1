/* test_click.c: unit tests for the metronome (engine/click.c).
 *
 * Single-threaded. A small fake transport (fake_spans) cuts a roll into the
 * output spans of each period the way transport.h describes them: split at
 * loop wraps and at the end of the count-in. The click is rendered into
 * plain buffers a whole timeline long, and the bursts are then found in the
 * output itself (a burst starts at a non-zero sample after a zero one), so
 * the tests see what a listener would hear. Expected onsets are worked out
 * by hand (120 bpm at 48 kHz: 24000 samples a beat) or, where the tempo map
 * rounds, taken from reel_tempo_bbt_to_sample_rt, the transport's own
 * definition of where a beat is. Everything allocated hangs off the fixture,
 * which teardown frees, so a failing assert leaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "click.h"
#include "reel_error.h"
#include "tempo.h"
#include "transport.h"

#define RATE 48000
#define BEAT 24000            /* 120 bpm */
#define BAR (4 * BEAT)        /* 4/4 */
#define BURST 960             /* 20 ms */
#define MAX_CH 8
#define MAX_SPANS 16

typedef struct fixture {
    reel_click *ck, *ck2;
    reel_tempo *map;
    float *buf[MAX_CH], *ref[MAX_CH];
    char err[REEL_ERRMSG_MAX];
} fixture;

static fixture fx;

static int setup(void **state)
{
    memset(&fx, 0, sizeof fx);
    if (reel_tempo_create(&fx.map, RATE, 120.0, 4, 4, fx.err) != 0) {
        fprintf(stderr, "setup: %s\n", fx.err);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    reel_click_destroy(fx.ck);
    reel_click_destroy(fx.ck2);
    reel_tempo_destroy(fx.map);
    for (int c = 0; c < MAX_CH; c++) {
        free(fx.buf[c]);
        free(fx.ref[c]);
    }
    return 0;
}

static reel_click *make(const reel_click_config *cfg)
{
    reel_click *ck = NULL;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_click_create(&ck, RATE, cfg, msg);
    if (rc != 0)
        fail_msg("reel_click_create = %d: %s", rc, msg);
    assert_non_null(ck);
    return ck;
}

/* Zeroed channel buffers of n frames into bufs[0..channels). */
static void alloc_bufs(float **bufs, unsigned channels, size_t n)
{
    for (unsigned c = 0; c < channels; c++) {
        bufs[c] = calloc(n, sizeof(float));
        assert_non_null(bufs[c]);
    }
}

static double db(double d) { return pow(10.0, d / 20.0); }

/* ---- the fake transport ---- */

typedef struct fake_roll {
    int64_t pos;            /* timeline position of the next frame */
    int64_t count_in_end;   /* spans before this position are count-in */
    int64_t loop_start, loop_end;  /* a loop when loop_end > loop_start */
    unsigned flags;         /* REEL_SPAN_* of every span (COUNT_IN is added) */
    unsigned pass;
    int stopped;            /* one non-rolling span a period; pos stays */
} fake_roll;

static fake_roll roll_from(int64_t pos, unsigned flags)
{
    return (fake_roll){ .pos = pos, .count_in_end = INT64_MIN, .loop_start = 0, .loop_end = 0,
                        .flags = flags };
}

static unsigned fake_spans(fake_roll *r, unsigned frames, reel_span *sp)
{
    if (r->stopped) {
        sp[0] = (reel_span){ .offset = 0, .frames = frames, .pos = r->pos, .flags = 0,
                             .pass = r->pass };
        return 1;
    }
    unsigned n = 0, off = 0;
    while (off < frames) {
        assert_true(n < MAX_SPANS);
        int64_t len = frames - off;
        unsigned flags = r->flags;
        if (r->pos < r->count_in_end) {
            flags |= REEL_SPAN_COUNT_IN;
            if (r->count_in_end - r->pos < len)
                len = r->count_in_end - r->pos;
        }
        int loop = r->loop_end > r->loop_start;
        if (loop && r->loop_end - r->pos < len)
            len = r->loop_end - r->pos;
        sp[n++] = (reel_span){ .offset = off, .frames = (unsigned)len, .pos = r->pos,
                               .flags = flags, .pass = r->pass };
        off += (unsigned)len;
        r->pos += len;
        if (loop && r->pos == r->loop_end) {
            r->pos = r->loop_start;
            r->pass++;
        }
    }
    return n;
}

/* Renders device frames [start, start + total) of the roll into bufs, in
 * periods taken in turn from periods[] (the last one may be cut short).
 * Returns how many periods had more than one span. */
static unsigned run(reel_click *ck, const reel_tempo *map, fake_roll *r, float **bufs,
                    unsigned channels, size_t start, size_t total, const unsigned *periods,
                    size_t n_periods)
{
    /* Exactly `channels` pointers on the heap, so that ASan catches any
     * look at an output index the device does not have. */
    float **out = malloc(channels * sizeof *out);
    assert_non_null(out);
    unsigned split = 0;
    size_t done = 0, k = 0;
    while (done < total) {
        unsigned frames = periods[k++ % n_periods];
        if (frames > total - done)
            frames = (unsigned)(total - done);
        for (unsigned c = 0; c < channels; c++)
            out[c] = bufs[c] ? bufs[c] + start + done : NULL;
        reel_span sp[MAX_SPANS];
        unsigned n = fake_spans(r, frames, sp);
        if (n > 1)
            split++;
        reel_click_render_rt(ck, map, sp, n, out, channels);
        done += frames;
    }
    free(out);
    return split;
}

static const unsigned P256[] = { 256 };

/* ---- finding bursts in the output ---- */

typedef struct burst {
    size_t start, end;   /* first non-zero sample, one past the last */
    double peak;
} burst;

static size_t find_bursts(const float *x, size_t n, burst *b, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == 0.0f || (i > 0 && x[i - 1] != 0.0f))
            continue;
        if (count == max)
            fail_msg("more than %zu bursts (next at %zu)", max, i);
        size_t j = i;
        double peak = 0.0;
        while (j < n && x[j] != 0.0f) {
            if (fabs(x[j]) > peak)
                peak = fabs(x[j]);
            j++;
        }
        b[count++] = (burst){ .start = i, .end = j, .peak = peak };
    }
    return count;
}

#define MAX_BURSTS 64

/* What the bursts of a click should look like. */
typedef struct shape {
    double level_db, accent_db;
    double frequency, accent_frequency;
    size_t length;                       /* samples */
} shape;

static const shape DEFAULT = { -6.0, 0.0, 1000.0, 1500.0, BURST };

/* Sign changes in x[0..n), which for a sine burst of f Hz is about
 * 2 * f * n / RATE. */
static int sign_changes(const float *x, size_t n)
{
    int c = 0;
    for (size_t i = 1; i < n; i++)
        c += (x[i] < 0.0f) != (x[i - 1] < 0.0f);
    return c;
}

/* The bursts in x must start exactly at want[], be sh->length samples long
 * and peak at the accent level where accent[] says so, else at the normal
 * level (within 0.01 dB), at the matching pitch. Also checks the shape that
 * keeps a burst from clicking by itself while still sounding at once: it
 * fades in over about 1 ms (the first 0.25 ms stays under 30% of the peak,
 * the first 2 ms reach 80% of it) and its last 10 samples are within 0.5%
 * of silence. */
static void expect_shaped(const float *x, size_t n, const int64_t *want, const int *accent,
                          size_t n_want, const shape *sh)
{
    burst b[MAX_BURSTS];
    size_t got = find_bursts(x, n, b, MAX_BURSTS);
    for (size_t i = 0; i < got && i < n_want; i++) {
        if ((int64_t)b[i].start != want[i])
            fail_msg("burst %zu starts at %zu, want %lld", i, b[i].start, (long long)want[i]);
        if (b[i].end - b[i].start != sh->length)
            fail_msg("burst %zu at %zu is %zu samples long, want %zu", i, b[i].start,
                     b[i].end - b[i].start, sh->length);
        double want_db = accent[i] ? sh->accent_db : sh->level_db;
        double got_db = 20.0 * log10(b[i].peak);
        if (fabs(got_db - want_db) > 0.01)
            fail_msg("burst %zu at %zu peaks at %.4f dB, want %.4f", i, b[i].start, got_db,
                     want_db);
        const float *s = x + b[i].start;
        double f = accent[i] ? sh->accent_frequency : sh->frequency;
        int want_changes = (int)lround(2.0 * f * (double)sh->length / RATE);
        int changes = sign_changes(s, sh->length);
        if (abs(changes - want_changes) > 1)
            fail_msg("burst %zu at %zu changes sign %d times, want %d (%g Hz)", i, b[i].start,
                     changes, want_changes, f);
        double early = 0.0, rise = 0.0, tail = 0.0;
        for (int k = 0; k < 12; k++)
            early = fmax(early, fabs(s[k]));
        for (int k = 0; k < 96; k++)
            rise = fmax(rise, fabs(s[k]));
        for (size_t k = sh->length - 10; k < sh->length; k++)
            tail = fmax(tail, fabs(s[k]));
        if (!(early < 0.3 * b[i].peak && rise > 0.8 * b[i].peak && tail < 0.005 * b[i].peak))
            fail_msg("burst %zu at %zu: max of the first 12 samples %g, of the first 96 %g, "
                     "of the last 10 %g; peak %g", i, b[i].start, early, rise, tail, b[i].peak);
    }
    if (got != n_want)
        fail_msg("%zu bursts, want %zu", got, n_want);
}

static void expect_bursts(const float *x, size_t n, const int64_t *want, const int *accent,
                          size_t n_want, double level_db, double accent_db)
{
    shape sh = DEFAULT;
    sh.level_db = level_db;
    sh.accent_db = accent_db;
    expect_shaped(x, n, want, accent, n_want, &sh);
}

static int64_t at(const reel_tempo *m, int bar, int beat)
{
    int64_t s = -777;
    if (reel_tempo_bbt_to_sample_rt(m, bar, beat, 0.0, &s) != 0)
        fail_msg("bbt_to_sample(%d, %d) failed", bar, beat);
    return s;
}

static int all_zero(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0.0f)
            return 0;
    return 1;
}

/* ---- tests ---- */

static void test_defaults(void **state)
{
    (void)state;
    reel_click_config c;
    reel_click_config_init(&c);
    assert_true(c.level_db == -6.0);
    assert_true(c.accent_db == 0.0);
    assert_true(c.frequency == 1000.0);
    assert_true(c.accent_frequency == 1500.0);
    assert_true(c.length_ms == 20.0);
    assert_int_equal(c.n_outputs, 2);
    assert_int_equal(c.outputs[0], 0);
    assert_int_equal(c.outputs[1], 1);
    assert_int_equal(c.mode, REEL_CLICK_ALWAYS);
    fx.ck = make(NULL);
    assert_int_equal(reel_click_get_mode(fx.ck), REEL_CLICK_ALWAYS);
}

/* 120 bpm 4/4, four bars in 256-frame periods: a burst every 24000 samples,
 * beat 1 of each bar at the accent level, on both default outputs. */
static void test_four_bars(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    size_t total = 4 * BAR;
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r, fx.buf, 2, 0, total, P256, 1);

    int64_t want[16];
    int acc[16];
    for (int k = 0; k < 16; k++) {
        want[k] = (int64_t)k * BEAT;
        acc[k] = k % 4 == 0;
    }
    expect_bursts(fx.buf[0], total, want, acc, 16, -6.0, 0.0);
    assert_memory_equal(fx.buf[0], fx.buf[1], total * sizeof(float));
    /* The levels are the configured peaks, not merely close in dB. */
    float normal = 0.0f, accent = 0.0f;
    for (size_t i = 0; i < BAR; i++) {
        float a = fabsf(fx.buf[0][i]);
        if (i < BEAT && a > accent)
            accent = a;
        if (i >= BEAT && a > normal)
            normal = a;
    }
    assert_true(accent == 1.0f);
    assert_true(fabs(normal - db(-6.0)) < 1e-6);
}

/* Every config field shows in the output: levels, pitches, length (33 ms:
 * 1584 samples, not a whole number of cycles of either pitch, so only the
 * envelope brings the end to zero) and a 6/8 map at 90 bpm (eighths of
 * 32000 samples). */
static void test_custom_config(void **state)
{
    (void)state;
    char err[REEL_ERRMSG_MAX];
    assert_int_equal(reel_tempo_set(fx.map, 1, 90.0, 6, 8, err), 0);
    reel_click_config c;
    reel_click_config_init(&c);
    c.level_db = -10.0;
    c.accent_db = -3.0;
    c.frequency = 1234.0;
    c.accent_frequency = 777.0;
    c.length_ms = 33.0;
    fx.ck = make(&c);
    size_t total = 2 * 6 * 32000;
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r, fx.buf, 2, 0, total, P256, 1);
    int64_t want[12];
    int acc[12];
    for (int k = 0; k < 12; k++) {
        want[k] = (int64_t)k * 32000;
        acc[k] = k % 6 == 0;
    }
    shape sh = { -10.0, -3.0, 1234.0, 777.0, 1584 };
    expect_shaped(fx.buf[0], total, want, acc, 12, &sh);
    expect_shaped(fx.buf[1], total, want, acc, 12, &sh);
}

/* Tempo and meter changes: 90 bpm from bar 3, 3/4 from bar 5, 7/8 at 133 bpm
 * (beats of 21654.1... samples, so rounding matters) from bar 7. */
static void test_tempo_and_meter_changes(void **state)
{
    (void)state;
    char err[REEL_ERRMSG_MAX];
    assert_int_equal(reel_tempo_set(fx.map, 3, 90.0, 4, 4, err), 0);
    assert_int_equal(reel_tempo_set(fx.map, 5, 90.0, 3, 4, err), 0);
    assert_int_equal(reel_tempo_set(fx.map, 7, 133.0, 7, 8, err), 0);
    /* By hand: bars 1-2 are 96000, bars 3-4 128000 (beats of 32000), bars
     * 5-6 96000. */
    assert_int_equal(at(fx.map, 3, 1), 192000);
    assert_int_equal(at(fx.map, 3, 2), 224000);
    assert_int_equal(at(fx.map, 5, 1), 448000);
    assert_int_equal(at(fx.map, 6, 3), 608000);
    assert_int_equal(at(fx.map, 7, 1), 640000);
    assert_int_equal(at(fx.map, 7, 2), 661654);   /* 640000 + 21654.135 */

    fx.ck = make(NULL);
    size_t total = (size_t)at(fx.map, 9, 1);
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r, fx.buf, 2, 0, total, P256, 1);

    int64_t want[MAX_BURSTS];
    int acc[MAX_BURSTS];
    size_t n = 0;
    for (int bar = 1; bar <= 8; bar++) {
        int beats = bar <= 4 ? 4 : bar <= 6 ? 3 : 7;
        for (int beat = 1; beat <= beats; beat++) {
            want[n] = at(fx.map, bar, beat);
            acc[n++] = beat == 1;
        }
    }
    assert_int_equal(n, 4 * 4 + 2 * 3 + 2 * 7);
    expect_bursts(fx.buf[0], total, want, acc, n, -6.0, 0.0);
}

/* A loop over bars 1-2 entered at position 100: every wrap falls 156 frames
 * into a period, which then holds two spans; bar 1 beat 1 sounds right at
 * the second span's start, and bar 3 beat 1 (the loop end) never sounds. */
static void test_loop_wrap_mid_period(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    size_t total = 191900 + 2 * BAR * 2;   /* the rest of pass 0, passes 1 and 2 */
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(100, REEL_SPAN_ROLLING);
    r.loop_start = 0;
    r.loop_end = 2 * BAR;
    unsigned split = run(fx.ck, fx.map, &r, fx.buf, 2, 0, total, P256, 1);
    assert_int_equal(split, 2);
    assert_int_equal(191900 % 256, 156);
    assert_int_equal(r.pass, 3);

    int64_t want[MAX_BURSTS];
    int acc[MAX_BURSTS];
    size_t n = 0;
    for (int k = 1; k < 8; k++) {          /* pass 0: position 0 was skipped */
        want[n] = (int64_t)k * BEAT - 100;
        acc[n++] = k % 4 == 0;
    }
    for (int pass = 1; pass <= 2; pass++)
        for (int k = 0; k < 8; k++) {
            want[n] = 191900 + (int64_t)(pass - 1) * 2 * BAR + (int64_t)k * BEAT;
            acc[n++] = k % 4 == 0;
        }
    expect_bursts(fx.buf[0], total, want, acc, n, -6.0, 0.0);
}

/* A loop that ends off the beat grid ([0, 30000)): wraps at device frames
 * 30000, 60000, ... (mid-period: 30000 = 117 * 256 + 48); each pass clicks
 * beat 1 at its start and beat 2 at 24000 into it. */
static void test_loop_off_grid(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    size_t total = 4 * 30000;
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    r.loop_end = 30000;
    unsigned split = run(fx.ck, fx.map, &r, fx.buf, 2, 0, total, P256, 1);
    assert_int_equal(split, 3);

    int64_t want[8];
    int acc[8];
    for (int k = 0; k < 8; k++) {
        want[k] = (k / 2) * 30000 + (k % 2) * BEAT;
        acc[k] = k % 2 == 0;
    }
    expect_bursts(fx.buf[0], total, want, acc, 8, -6.0, 0.0);
}

/* Two bars of count-in (bars -1 and 0, positions -192000..-1) then bar 1, in
 * 333-frame periods so the count-in ends 192 frames into a period. */
static void test_count_in(void **state)
{
    (void)state;
    assert_int_equal(at(fx.map, -1, 1), -192000);
    assert_int_equal(at(fx.map, 0, 1), -96000);
    fx.ck = make(NULL);
    size_t total = 3 * BAR;
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(-2 * BAR, REEL_SPAN_ROLLING);
    r.count_in_end = 0;
    static const unsigned p333[] = { 333 };
    unsigned split = run(fx.ck, fx.map, &r, fx.buf, 2, 0, total, p333, 1);
    assert_int_equal(split, 1);
    assert_int_equal(192000 % 333, 192);

    int64_t want[12];
    int acc[12];
    for (int k = 0; k < 12; k++) {
        want[k] = (int64_t)k * BEAT;
        acc[k] = k % 4 == 0;
    }
    expect_bursts(fx.buf[0], total, want, acc, 12, -6.0, 0.0);
}

/* One bar of count-in and one bar of roll in each mode, with and without the
 * RECORD flag: RECORDING clicks in the count-in, and in the roll only when
 * it records; ALWAYS clicks throughout; OFF never. */
static void test_modes(void **state)
{
    (void)state;
    static const struct {
        reel_click_mode mode;
        unsigned flags;
        size_t n;              /* bursts: the first n of the 8 beats */
    } cases[] = {
        { REEL_CLICK_RECORDING, REEL_SPAN_ROLLING, 4 },
        { REEL_CLICK_RECORDING, REEL_SPAN_ROLLING | REEL_SPAN_RECORD, 8 },
        { REEL_CLICK_ALWAYS, REEL_SPAN_ROLLING, 8 },
        { REEL_CLICK_ALWAYS, REEL_SPAN_ROLLING | REEL_SPAN_RECORD, 8 },
        { REEL_CLICK_OFF, REEL_SPAN_ROLLING, 0 },
        { REEL_CLICK_OFF, REEL_SPAN_ROLLING | REEL_SPAN_RECORD, 0 },
    };
    int64_t want[8];
    int acc[8];
    for (int k = 0; k < 8; k++) {
        want[k] = (int64_t)k * BEAT;
        acc[k] = k % 4 == 0;
    }
    size_t total = 2 * BAR;
    alloc_bufs(fx.buf, 2, total);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reel_click_config c;
        reel_click_config_init(&c);
        c.mode = cases[i].mode;
        reel_click_destroy(fx.ck);
        fx.ck = make(&c);
        memset(fx.buf[0], 0, total * sizeof(float));
        fake_roll r = roll_from(-BAR, cases[i].flags);
        r.count_in_end = 0;
        run(fx.ck, fx.map, &r, fx.buf, 1, 0, total, P256, 1);
        print_message("case %zu: mode %d flags %u\n", i, (int)cases[i].mode, cases[i].flags);
        expect_bursts(fx.buf[0], total, want, acc, cases[i].n, -6.0, 0.0);
    }
    /* RECORD on the roll but not on the count-in: RECORDING still clicks
     * both (the count-in on its own flag). */
    reel_click_destroy(fx.ck);
    fx.ck = make(NULL);
    assert_int_equal(reel_click_set_mode(fx.ck, REEL_CLICK_RECORDING, fx.err), 0);
    memset(fx.buf[0], 0, total * sizeof(float));
    fake_roll r = roll_from(-BAR, REEL_SPAN_ROLLING);
    r.count_in_end = 0;
    run(fx.ck, fx.map, &r, fx.buf, 1, 0, BAR, P256, 1);
    r.flags |= REEL_SPAN_RECORD;
    run(fx.ck, fx.map, &r, fx.buf, 1, BAR, BAR, P256, 1);
    expect_bursts(fx.buf[0], total, want, acc, 8, -6.0, 0.0);
}

/* Changes from the control thread between periods: the burst that is
 * sounding finishes as it started (full length, its old level); later
 * bursts follow the new mode and levels. */
static void test_changes_while_running(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    size_t total = 2 * BAR;
    alloc_bufs(fx.buf, 1, total);
    fake_roll r = roll_from(-250, REEL_SPAN_ROLLING);
    /* Period 0 holds only the first 6 samples of the accent burst at 250;
     * the other 954, its peak among them, come after the level change. */
    run(fx.ck, fx.map, &r, fx.buf, 1, 0, 256, P256, 1);
    assert_int_equal(reel_click_set_accent(fx.ck, -20.0, fx.err), 0);
    assert_int_equal(reel_click_set_level(fx.ck, -12.0, fx.err), 0);
    run(fx.ck, fx.map, &r, fx.buf, 1, 256, BAR + 300 - 256, P256, 1);
    /* Off 50 samples into the burst at BAR + 250: it still plays out, and
     * the beats at 120250 and 144250 stay silent. */
    assert_int_equal(reel_click_set_mode(fx.ck, REEL_CLICK_OFF, fx.err), 0);
    assert_int_equal(reel_click_get_mode(fx.ck), REEL_CLICK_OFF);
    run(fx.ck, fx.map, &r, fx.buf, 1, BAR + 300, BAR / 2, P256, 1);
    assert_int_equal(reel_click_set_mode(fx.ck, REEL_CLICK_ALWAYS, fx.err), 0);
    run(fx.ck, fx.map, &r, fx.buf, 1, BAR + 300 + BAR / 2, BAR / 2 - 300, P256, 1);

    burst b[MAX_BURSTS];
    size_t n = find_bursts(fx.buf[0], total, b, MAX_BURSTS);
    static const size_t starts[] = { 250, 24250, 48250, 72250, 96250, 168250 };
    static const double levels[] = { 0.0, -12.0, -12.0, -12.0, -20.0, -12.0 };
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i].start, starts[i]);
        assert_int_equal(b[i].end - b[i].start, BURST);
        if (fabs(20.0 * log10(b[i].peak) - levels[i]) > 0.01)
            fail_msg("burst %zu peaks at %.4f dB, want %g", i, 20.0 * log10(b[i].peak),
                     levels[i]);
    }
}

/* A transport that stops right after a beat: the burst plays to its end over
 * the stopped periods, and the frozen position (a beat, 24000) starts
 * nothing however many periods sit on it. */
static void test_stopped_lets_burst_ring(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    size_t total = BAR;
    alloc_bufs(fx.buf, 2, total);
    fake_roll r = roll_from(BEAT - 250, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r, fx.buf, 2, 0, 256, P256, 1);    /* beat 2 at offset 250 */
    r.stopped = 1;
    r.pos = BEAT;
    run(fx.ck, fx.map, &r, fx.buf, 2, 256, total - 256, P256, 1);
    int64_t want[1] = { 250 };
    int acc[1] = { 0 };
    expect_bursts(fx.buf[0], total, want, acc, 1, -6.0, 0.0);
    expect_bursts(fx.buf[1], total, want, acc, 1, -6.0, 0.0);

    /* No map: nothing new either. */
    reel_click_destroy(fx.ck);
    fx.ck = make(NULL);
    memset(fx.buf[0], 0, total * sizeof(float));
    fake_roll r2 = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, NULL, &r2, fx.buf, 1, 0, total, P256, 1);
    assert_true(all_zero(fx.buf[0], total));
}

/* Outputs {3, 1, 7} on a 5-channel device whose buffers already hold a
 * signal: channels 1 and 3 become that signal plus the click (exactly: the
 * click is added, not written), 0, 2 and 4 keep theirs bit for bit, and 7
 * does not exist. The click alone is rendered into silent buffers by a twin
 * for reference. */
static void test_outputs_add_to_chosen_channels(void **state)
{
    (void)state;
    static const unsigned outs[] = { 3, 1, 7 };
    reel_click_config c;
    reel_click_config_init(&c);
    c.outputs = outs;
    c.n_outputs = 3;
    fx.ck = make(&c);
    fx.ck2 = make(&c);
    size_t total = BAR;
    alloc_bufs(fx.buf, 5, total);
    alloc_bufs(fx.ref, 5, total);
    for (unsigned ch = 0; ch < 5; ch++)
        for (size_t i = 0; i < total; i++)
            fx.buf[ch][i] = (float)((int)(i % 97) - 48) / 256.0f * (float)(ch + 1);

    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r, fx.buf, 5, 0, total, P256, 1);
    fake_roll r2 = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck2, fx.map, &r2, fx.ref, 5, 0, total, P256, 1);

    int64_t want[4] = { 0, BEAT, 2 * BEAT, 3 * BEAT };
    int acc[4] = { 1, 0, 0, 0 };
    expect_bursts(fx.ref[1], total, want, acc, 4, -6.0, 0.0);
    expect_bursts(fx.ref[3], total, want, acc, 4, -6.0, 0.0);
    for (unsigned ch = 0; ch < 5; ch++) {
        int clicked = ch == 1 || ch == 3;
        if (!clicked)
            assert_true(all_zero(fx.ref[ch], total));
        for (size_t i = 0; i < total; i++) {
            float pre = (float)((int)(i % 97) - 48) / 256.0f * (float)(ch + 1);
            float want_v = clicked ? pre + fx.ref[ch][i] : pre;
            if (fx.buf[ch][i] != want_v)
                fail_msg("channel %u frame %zu = %.9g, want %.9g", ch, i, fx.buf[ch][i],
                         want_v);
        }
    }

    /* A channel the device leaves NULL is skipped; the others still sound. */
    free(fx.buf[1]);
    fx.buf[1] = NULL;
    memset(fx.buf[3], 0, total * sizeof(float));
    fake_roll r3 = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r3, fx.buf, 5, 0, total, P256, 1);
    assert_memory_equal(fx.buf[3], fx.ref[3], total * sizeof(float));
}

/* The same roll (count-in, a loop ending off the grid, bursts straddling
 * many period boundaries) rendered in one call and in awkward period sizes
 * must give identical samples: a voice carries on across periods exactly. */
static void test_straddling_voice_is_continuous(void **state)
{
    (void)state;
    static const unsigned odd[] = { 1, 7, 255, 1000, 13, 4096, 256, 2, 959 };
    static const unsigned p100[] = { 100 };
    size_t total = 3 * BAR + 12345;
    fx.ck = make(NULL);
    fx.ck2 = make(NULL);
    alloc_bufs(fx.buf, 2, total);
    alloc_bufs(fx.ref, 2, total);

    fake_roll one = roll_from(-BAR - 95, REEL_SPAN_ROLLING);
    one.count_in_end = 0;
    one.loop_start = BEAT;
    one.loop_end = BAR + 30000;
    unsigned single = (unsigned)total;
    unsigned split = run(fx.ck2, fx.map, &one, fx.ref, 2, 0, total, &single, 1);
    assert_int_equal(split, 1);   /* one period, many spans */

    fake_roll chunked = roll_from(-BAR - 95, REEL_SPAN_ROLLING);
    chunked.count_in_end = 0;
    chunked.loop_start = BEAT;
    chunked.loop_end = BAR + 30000;
    run(fx.ck, fx.map, &chunked, fx.buf, 2, 0, total, odd, sizeof odd / sizeof odd[0]);
    assert_int_equal(chunked.pass, one.pass);
    assert_memory_equal(fx.buf[0], fx.ref[0], total * sizeof(float));
    assert_memory_equal(fx.buf[1], fx.ref[1], total * sizeof(float));

    /* In 100-frame periods from -95 the first burst (at 95) spans eleven
     * periods. */
    reel_click_destroy(fx.ck);
    fx.ck = make(NULL);
    memset(fx.buf[0], 0, total * sizeof(float));
    memset(fx.buf[1], 0, total * sizeof(float));
    fake_roll hundred = roll_from(-BAR - 95, REEL_SPAN_ROLLING);
    hundred.count_in_end = 0;
    hundred.loop_start = BEAT;
    hundred.loop_end = BAR + 30000;
    run(fx.ck, fx.map, &hundred, fx.buf, 2, 0, total, p100, 1);
    assert_memory_equal(fx.buf[0], fx.ref[0], total * sizeof(float));

    /* And it clicked where it should: position p is device p + 96095 in
     * pass 0, so beats -96000 .. 120000 land at 95 + 24000k; the loop end
     * (126000) is device 222095, where pass 1 starts on the beat at 24000,
     * followed by 48000, 72000 and 96000. */
    burst b[MAX_BURSTS];
    size_t n = find_bursts(fx.ref[0], total, b, MAX_BURSTS);
    assert_int_equal(n, 14);
    for (int k = 0; k < 10; k++)
        assert_int_equal(b[k].start, 95 + (size_t)k * BEAT);
    for (int k = 0; k < 4; k++)
        assert_int_equal(b[10 + k].start, 222095 + (size_t)k * BEAT);
}

/* Two bursts closer than their length (a loop [0, 24010): beat 2 at 24000,
 * then the wrap's beat 1 at 24010) sound together: the output is the sum. */
static void test_overlapping_bursts_sum(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    size_t total = BAR;
    alloc_bufs(fx.buf, 1, total);
    alloc_bufs(fx.ref, 2, total);
    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    r.loop_end = BEAT + 10;
    run(fx.ck, fx.map, &r, fx.buf, 1, 0, 2 * BEAT, P256, 1);

    /* Each burst alone: a one-frame rolling span on its beat, then a stopped
     * transport while it rings. */
    for (int k = 0; k < 2; k++) {
        reel_click_destroy(fx.ck2);
        fx.ck2 = make(NULL);
        fake_roll one = roll_from(k == 0 ? BEAT : 0, REEL_SPAN_ROLLING);
        run(fx.ck2, fx.map, &one, &fx.ref[k], 1, 0, 1, P256, 1);
        one.stopped = 1;
        run(fx.ck2, fx.map, &one, &fx.ref[k], 1, 1, 2 * BURST, P256, 1);
    }
    for (size_t i = 0; i < 2 * BURST; i++) {
        double want = fx.ref[0][i] + (i >= 10 ? fx.ref[1][i - 10] : 0.0f);
        if (fabs(fx.buf[0][BEAT + i] - want) > 1e-6)
            fail_msg("frame %zu = %.9g, want %.9g", BEAT + i, fx.buf[0][BEAT + i], want);
    }
    assert_true(fx.ref[1][BURST - 1] != 0.0f && fx.ref[1][BURST] == 0.0f);
}

#define EXPECT_CREATE_FAIL(cfgp, msg)                                                 \
    do {                                                                              \
        reel_click *ck_ = (reel_click *)&fx;                                          \
        char e_[REEL_ERRMSG_MAX] = "";                                                \
        assert_int_equal(reel_click_create(&ck_, RATE, (cfgp), e_), REEL_EINVAL);     \
        assert_null(ck_);                                                             \
        assert_string_equal(e_, (msg));                                               \
    } while (0)

static void test_invalid_configs(void **state)
{
    (void)state;
    reel_click_config c;
#define CASE(field, value, msg)                                                       \
    do {                                                                              \
        reel_click_config_init(&c);                                                   \
        c.field = (value);                                                            \
        EXPECT_CREATE_FAIL(&c, msg);                                                  \
    } while (0)
    CASE(level_db, 3.0, "click: level_db 3 must be 0 or below");
    CASE(level_db, 0.5, "click: level_db 0.5 must be 0 or below");
    CASE(level_db, NAN, "click: level_db is not a number");
    CASE(level_db, -INFINITY, "click: level_db -inf must be a finite number");
    CASE(accent_db, 1.0, "click: accent_db 1 must be 0 or below");
    CASE(frequency, 10.0,
         "click: frequency 10 must be at least 20 Hz and below half the rate (24000 Hz)");
    CASE(frequency, 24000.0,
         "click: frequency 24000 must be at least 20 Hz and below half the rate (24000 Hz)");
    CASE(accent_frequency, 30000.0,
         "click: accent_frequency 30000 must be at least 20 Hz and below half the rate "
         "(24000 Hz)");
    CASE(length_ms, 2.0, "click: length_ms 2 must be between 5 and 500");
    CASE(length_ms, 501.0, "click: length_ms 501 must be between 5 and 500");
    CASE(n_outputs, 0, "click: outputs is empty");
    CASE(n_outputs, 65, "click: outputs lists 65 channels (at most 64)");
    CASE(mode, (reel_click_mode)3, "click: mode 3 is not off (0), always (1) or recording (2)");

    static const unsigned dup[] = { 0, 1, 1 };
    static const unsigned big[] = { 0, 1, 1024 };
    reel_click_config_init(&c);
    c.outputs = dup;
    c.n_outputs = 3;
    EXPECT_CREATE_FAIL(&c, "click: outputs[2] = 1 repeats outputs[1]");
    c.outputs = big;
    EXPECT_CREATE_FAIL(&c, "click: outputs[2] = 1024 is beyond the last channel (1023)");
    c.outputs = NULL;
    EXPECT_CREATE_FAIL(&c, "click: outputs is NULL but n_outputs is 3");
#undef CASE

    reel_click *ck = (reel_click *)&fx;
    char e[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_click_create(&ck, 999, NULL, e), REEL_EINVAL);
    assert_null(ck);
    assert_string_equal(e, "click: rate 999 must be between 1000 and 1000000");
    assert_int_equal(reel_click_create(NULL, RATE, NULL, e), REEL_EINVAL);
    assert_string_equal(e, "click: out is NULL");

    /* Limits that are allowed. */
    reel_click_config_init(&c);
    c.level_db = -200.0;
    c.accent_db = -0.0;
    c.frequency = 20.0;
    c.accent_frequency = 23999.0;
    c.length_ms = 500.0;
    fx.ck = make(&c);

    /* Setters check the same way and change nothing when they refuse. */
    assert_int_equal(reel_click_set_level(fx.ck, 3.0, e), REEL_EINVAL);
    assert_string_equal(e, "click: level_db 3 must be 0 or below");
    assert_int_equal(reel_click_set_accent(fx.ck, NAN, e), REEL_EINVAL);
    assert_string_equal(e, "click: accent_db is not a number");
    assert_int_equal(reel_click_set_mode(fx.ck, (reel_click_mode)-1, e), REEL_EINVAL);
    assert_string_equal(e, "click: mode -1 is not off (0), always (1) or recording (2)");
    assert_int_equal(reel_click_get_mode(fx.ck), REEL_CLICK_ALWAYS);

    reel_click_destroy(NULL);
}

/* The refused level above must not have reached the audio side: a burst
 * after a refused set_level still peaks at the configured level. */
static void test_refused_level_changes_nothing(void **state)
{
    (void)state;
    fx.ck = make(NULL);
    char e[REEL_ERRMSG_MAX];
    assert_int_equal(reel_click_set_level(fx.ck, 6.0, e), REEL_EINVAL);
    assert_int_equal(reel_click_set_accent(fx.ck, INFINITY, e), REEL_EINVAL);
    assert_string_equal(e, "click: accent_db inf must be 0 or below");
    size_t total = BAR;
    alloc_bufs(fx.buf, 1, total);
    fake_roll r = roll_from(0, REEL_SPAN_ROLLING);
    run(fx.ck, fx.map, &r, fx.buf, 1, 0, total, P256, 1);
    int64_t want[4] = { 0, BEAT, 2 * BEAT, 3 * BEAT };
    int acc[4] = { 1, 0, 0, 0 };
    expect_bursts(fx.buf[0], total, want, acc, 4, -6.0, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_bars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tempo_and_meter_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_wrap_mid_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_off_grid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_while_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped_lets_burst_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outputs_add_to_chosen_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_straddling_voice_is_continuous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_bursts_sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_level_changes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
