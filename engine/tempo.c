/* tempo.c: the tempo map of tempo.h.
 *
 * Threads: reel_tempo_create/destroy/set/remove/copy and parse_position run
 * on the control thread. The queries only read the fixed-size struct
 * allocated at create, so they never allocate, lock or block and the *_rt
 * ones are safe in the audio callback; a map must not be edited while
 * another thread queries it (tempo.h explains the handoff).
 *
 * All positions come from one function, beat_exact(): segment start plus
 * k * 60 * rate / bpm, with k * 60 * rate an exact integer in a double and a
 * single rounding in the division. The next segment's start is computed by
 * the very same call (k = beats in the segment), so the last beat of one
 * segment plus one beat is bit-for-bit the next segment's start, and
 * locating a sample in "the wrong" neighbouring segment can never disagree
 * with locating it in the right one. */
#include "tempo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

struct seg {
    int bar;
    double bpm;
    int num, den;
    double start;      /* exact, unrounded */
    int64_t first;     /* start rounded half up */
};

struct reel_tempo {
    unsigned rate;
    double rate60;     /* 60 * rate: samples per minute, exact */
    unsigned n;
    int64_t min_sample; /* first sample of bar REEL_TEMPO_BAR_MIN */
    int64_t end_sample; /* first sample after bar REEL_TEMPO_BAR_MAX */
    struct seg seg[REEL_TEMPO_MAX_SEGMENTS];
};

/* Half up rather than floor(x + 0.5), which turns 0.49999999999999994 into
 * 1; x - floor(x) is exact for every |x| < 2^52. */
static int64_t round_half_up(double x)
{
    double f = floor(x);
    return (int64_t)(x - f >= 0.5 ? f + 1.0 : f);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static double beat_exact(const reel_tempo *m, const struct seg *s, int64_t k)
{
    return s->start + ((double)k * m->rate60) / s->bpm;
}

static int64_t beat_pos(const reel_tempo *m, const struct seg *s, int64_t k)
{
    return round_half_up(beat_exact(m, s, k));
}

/* Index of the segment in effect at bar; bars before 1 belong to the first. */
static unsigned seg_for_bar(const reel_tempo *m, int bar)
{
    unsigned lo = 0, hi = m->n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (m->seg[mid].bar <= bar)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static unsigned seg_for_sample(const reel_tempo *m, int64_t sample)
{
    unsigned lo = 0, hi = m->n;
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (m->seg[mid].first <= sample)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void recompute(reel_tempo *m)
{
    m->seg[0].start = 0.0;
    m->seg[0].first = 0;
    for (unsigned i = 1; i < m->n; i++) {
        const struct seg *p = &m->seg[i - 1];
        int64_t beats = (int64_t)(m->seg[i].bar - p->bar) * p->num;
        m->seg[i].start = beat_exact(m, p, beats);
        m->seg[i].first = round_half_up(m->seg[i].start);
    }
    const struct seg *a = &m->seg[0];
    m->min_sample = beat_pos(m, a, (int64_t)(REEL_TEMPO_BAR_MIN - a->bar) * a->num);
    const struct seg *z = &m->seg[m->n - 1];
    m->end_sample = beat_pos(m, z, (int64_t)(REEL_TEMPO_BAR_MAX + 1 - z->bar) * z->num);
}

static int check_values(int bar, double bpm, int num, int den, char *errmsg)
{
    if (bar < 1 || bar > REEL_TEMPO_BAR_MAX)
        return reel_fail(errmsg, REEL_EINVAL, "tempo: bar %d must be between 1 and %d", bar,
                         REEL_TEMPO_BAR_MAX);
    /* Negated so that NaN fails too. */
    if (!(bpm >= REEL_TEMPO_BPM_MIN && bpm <= REEL_TEMPO_BPM_MAX))
        return reel_fail(errmsg, REEL_EINVAL,
                         "tempo: bpm %.10g at bar %d must be between %g and %g", bpm, bar,
                         REEL_TEMPO_BPM_MIN, REEL_TEMPO_BPM_MAX);
    if (num < 1 || num > REEL_TEMPO_NUM_MAX)
        return reel_fail(errmsg, REEL_EINVAL,
                         "tempo: meter %d/%d at bar %d: beats per bar must be between 1 and %d",
                         num, den, bar, REEL_TEMPO_NUM_MAX);
    if (den < 1 || den > 32 || (den & (den - 1)) != 0)
        return reel_fail(errmsg, REEL_EINVAL,
                         "tempo: meter %d/%d at bar %d: note value must be 1, 2, 4, 8, 16 or 32",
                         num, den, bar);
    return 0;
}

int reel_tempo_create(reel_tempo **out, unsigned rate, double bpm, int num, int den,
                      char *errmsg)
{
    if (!out)
        return reel_fail(errmsg, REEL_EINVAL, "tempo: no place to store the map");
    *out = NULL;
    if (rate < REEL_TEMPO_RATE_MIN || rate > REEL_TEMPO_RATE_MAX)
        return reel_fail(errmsg, REEL_EINVAL, "tempo: sample rate %u must be between %u and %u",
                         rate, REEL_TEMPO_RATE_MIN, REEL_TEMPO_RATE_MAX);
    int rc = check_values(1, bpm, num, den, errmsg);
    if (rc)
        return rc;
    reel_tempo *m = calloc(1, sizeof *m);
    if (!m)
        return reel_fail(errmsg, REEL_ENOMEM, "tempo: out of memory");
    m->rate = rate;
    m->rate60 = 60.0 * rate;
    m->n = 1;
    m->seg[0] = (struct seg){.bar = 1, .bpm = bpm, .num = num, .den = den};
    recompute(m);
    *out = m;
    return 0;
}

void reel_tempo_destroy(reel_tempo *m)
{
    free(m);
}

void reel_tempo_copy(reel_tempo *dst, const reel_tempo *src)
{
    if (dst && src && dst != src)
        memcpy(dst, src, sizeof *dst);
}

unsigned reel_tempo_rate(const reel_tempo *m)
{
    return m->rate;
}

int reel_tempo_set(reel_tempo *m, int bar, double bpm, int num, int den, char *errmsg)
{
    int rc = check_values(bar, bpm, num, den, errmsg);
    if (rc)
        return rc;
    unsigned i = seg_for_bar(m, bar);
    if (m->seg[i].bar != bar) {
        if (m->n == REEL_TEMPO_MAX_SEGMENTS)
            return reel_fail(errmsg, REEL_EINVAL,
                             "tempo: cannot add a change at bar %d: the map already holds %d "
                             "changes, the most it can",
                             bar, REEL_TEMPO_MAX_SEGMENTS);
        i++;
        memmove(&m->seg[i + 1], &m->seg[i], (m->n - i) * sizeof m->seg[0]);
        m->n++;
    }
    m->seg[i] = (struct seg){.bar = bar, .bpm = bpm, .num = num, .den = den};
    recompute(m);
    return 0;
}

int reel_tempo_remove(reel_tempo *m, int bar, char *errmsg)
{
    if (bar == 1)
        return reel_fail(errmsg, REEL_EINVAL,
                         "tempo: the change at bar 1 cannot be removed (the map starts there); "
                         "set it instead");
    unsigned i = seg_for_bar(m, bar);
    if (m->seg[i].bar != bar)
        return reel_fail(errmsg, REEL_ENOTFOUND, "tempo: no change at bar %d to remove", bar);
    memmove(&m->seg[i], &m->seg[i + 1], (m->n - i - 1) * sizeof m->seg[0]);
    m->n--;
    recompute(m);
    return 0;
}

unsigned reel_tempo_count(const reel_tempo *m)
{
    return m->n;
}

static void export_seg(const struct seg *s, reel_tempo_segment *out)
{
    *out = (reel_tempo_segment){.bar = s->bar, .bpm = s->bpm, .num = s->num, .den = s->den,
                                .start = s->start, .sample = s->first};
}

int reel_tempo_get(const reel_tempo *m, unsigned index, reel_tempo_segment *out)
{
    if (index >= m->n)
        return REEL_EINVAL;
    export_seg(&m->seg[index], out);
    return 0;
}

REEL_NONBLOCKING
int reel_tempo_segment_at_rt(const reel_tempo *m, int bar, reel_tempo_segment *out)
{
    if (bar < REEL_TEMPO_BAR_MIN || bar > REEL_TEMPO_BAR_MAX)
        return REEL_EINVAL;
    export_seg(&m->seg[seg_for_bar(m, bar)], out);
    return 0;
}

REEL_NONBLOCKING
int reel_tempo_bbt_to_sample_rt(const reel_tempo *m, int bar, int beat, double fraction,
                                int64_t *sample)
{
    if (bar < REEL_TEMPO_BAR_MIN || bar > REEL_TEMPO_BAR_MAX)
        return REEL_EINVAL;
    const struct seg *s = &m->seg[seg_for_bar(m, bar)];
    if (beat < 1 || beat > s->num || !(fraction >= 0.0 && fraction < 1.0))
        return REEL_EINVAL;
    int64_t k = (int64_t)(bar - s->bar) * s->num + (beat - 1);
    int64_t p = beat_pos(m, s, k);
    if (fraction > 0.0)
        p += round_half_up(fraction * (double)(beat_pos(m, s, k + 1) - p));
    *sample = p;
    return 0;
}

/* The segment and beat index k (from the segment start) of the beat that
 * contains sample, which must be within [min_sample, end_sample). */
static void locate(const reel_tempo *m, int64_t sample, const struct seg **sp, int64_t *kp)
{
    const struct seg *s = &m->seg[seg_for_sample(m, sample)];
    /* The estimate is off by at most one beat either way (rounding of the
     * start and the beats); the loops settle it against the real grid. */
    int64_t k = (int64_t)floor(((double)sample - s->start) * s->bpm / m->rate60);
    while (beat_pos(m, s, k) > sample)
        k--;
    while (beat_pos(m, s, k + 1) <= sample)
        k++;
    *sp = s;
    *kp = k;
}

static void bbt_of(const struct seg *s, int64_t k, int *bar, int *beat)
{
    int64_t b = floor_div(k, s->num);
    if (bar)
        *bar = (int)(s->bar + b);
    if (beat)
        *beat = (int)(k - b * s->num) + 1;
}

REEL_NONBLOCKING
int reel_tempo_sample_to_bbt_rt(const reel_tempo *m, int64_t sample, int *bar, int *beat,
                                double *fraction)
{
    if (sample < m->min_sample || sample >= m->end_sample)
        return REEL_EINVAL;
    const struct seg *s;
    int64_t k;
    locate(m, sample, &s, &k);
    bbt_of(s, k, bar, beat);
    if (fraction) {
        int64_t p = beat_pos(m, s, k);
        *fraction = (double)(sample - p) / (double)(beat_pos(m, s, k + 1) - p);
    }
    return 0;
}

REEL_NONBLOCKING
int reel_tempo_bar_length_rt(const reel_tempo *m, int bar, int64_t *samples)
{
    if (bar < REEL_TEMPO_BAR_MIN || bar > REEL_TEMPO_BAR_MAX)
        return REEL_EINVAL;
    const struct seg *s = &m->seg[seg_for_bar(m, bar)];
    int64_t k = (int64_t)(bar - s->bar) * s->num;
    *samples = beat_pos(m, s, k + s->num) - beat_pos(m, s, k);
    return 0;
}

REEL_NONBLOCKING
int reel_tempo_next_beat_rt(const reel_tempo *m, int64_t from, int64_t *pos, int *bar,
                            int *beat)
{
    if (from >= m->end_sample)
        return REEL_EINVAL;
    if (from < m->min_sample)
        from = m->min_sample;
    const struct seg *s;
    int64_t k;
    locate(m, from, &s, &k);
    int64_t p = beat_pos(m, s, k);
    if (p < from) {
        /* k + 1 may be one past the segment's last beat: that is, by
         * construction, the next segment's first beat at the same sample,
         * and bbt_of numbers it as that segment's bar, beat 1. */
        k++;
        p = beat_pos(m, s, k);
        if (p >= m->end_sample)
            return REEL_EINVAL;
    }
    if (pos)
        *pos = p;
    bbt_of(s, k, bar, beat);
    return 0;
}

int reel_tempo_seconds_to_sample(const reel_tempo *m, double seconds, int64_t *sample)
{
    double x = seconds * m->rate;
    /* 2^52: beyond it doubles hold no fraction left to round. */
    if (!(fabs(x) <= 4503599627370496.0))
        return REEL_EINVAL;
    *sample = round_half_up(x);
    return 0;
}

double reel_tempo_sample_to_seconds(const reel_tempo *m, int64_t sample)
{
    return (double)sample / m->rate;
}

/* ---- parse_position ---- */

/* Values are capped here: anything this large is past every bar anyway, and
 * the cap keeps the arithmetic far from overflow. */
#define PARSE_CAP 1000000000000000LL /* 1e15 */
#define PARSE_FRAC_DIGITS 15

/* Reads decimal digits; returns how many. The value saturates at PARSE_CAP. */
static int scan_int(const char **pp, int64_t *value)
{
    const char *p = *pp;
    int64_t v = 0;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
        if (v < PARSE_CAP)
            v = v * 10 + (*p - '0');
        if (v > PARSE_CAP)
            v = PARSE_CAP;
        p++;
        n++;
    }
    *pp = p;
    *value = v;
    return n;
}

/* Reads the digits after a decimal point as num / den, exact up to
 * PARSE_FRAC_DIGITS digits. Locale-independent, unlike strtod. */
static int scan_frac(const char **pp, double *frac)
{
    const char *p = *pp;
    int64_t num = 0, den = 1;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
        if (n < PARSE_FRAC_DIGITS) {
            num = num * 10 + (*p - '0');
            den *= 10;
        }
        p++;
        n++;
    }
    *pp = p;
    *frac = (double)num / (double)den;
    return n;
}

int reel_tempo_parse_position(const reel_tempo *m, const char *text, int64_t *sample,
                              char *errmsg)
{
    const char *t = text ? text : "";
    const char *p = t;
    int neg = *p == '-';
    if (neg)
        p++;
    int64_t a, v;
    int na = scan_int(&p, &a);

    if (*p == ':' && na > 0) {
        p++;
        int64_t b;
        double frac = 0.0;
        if (scan_int(&p, &b) == 0)
            goto unknown;
        if (*p == '.') {
            p++;
            if (scan_frac(&p, &frac) == 0)
                goto unknown;
        }
        if (*p != '\0')
            goto unknown;
        int64_t bar = neg ? -a : a;
        if (bar < 1)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s' is before the start (1:1)", t);
        if (bar > REEL_TEMPO_BAR_MAX)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s' is after the last bar (%d)", t,
                             REEL_TEMPO_BAR_MAX);
        reel_tempo_segment seg;
        reel_tempo_segment_at_rt(m, (int)bar, &seg);
        if (b < 1)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s': beats start at 1", t);
        if (b > seg.num)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s': bar %d has only %d beat%s", t,
                             (int)bar, seg.num, seg.num == 1 ? "" : "s");
        /* A fraction of the last beat can round up to the first sample
         * after it: "99999:4.99998" is past the end, not a sample there. */
        if (reel_tempo_bbt_to_sample_rt(m, (int)bar, (int)b, frac, &v) != 0 ||
            v >= m->end_sample)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s' is after the last bar (%d)", t,
                             REEL_TEMPO_BAR_MAX);
        *sample = v;
        return 0;
    }

    if (*p == '.' || *p == 's') {
        double frac = 0.0;
        int nf = 0;
        if (*p == '.') {
            p++;
            nf = scan_frac(&p, &frac);
            if (nf == 0)
                goto unknown;
        }
        if (na + nf == 0 || p[0] != 's' || p[1] != '\0')
            goto unknown;
        double secs = (double)a + frac;
        if (neg && secs > 0.0)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s' is before the start (1:1)", t);
        if (reel_tempo_seconds_to_sample(m, secs, &v) != 0)
            v = INT64_MAX;
    } else if (na > 0 && *p == '\0') {
        v = neg ? -a : a;
        if (v < 0)
            return reel_fail(errmsg, REEL_EINVAL, "position '%s' is before the start (1:1)", t);
    } else {
        goto unknown;
    }
    if (v >= m->end_sample)
        return reel_fail(errmsg, REEL_EINVAL, "position '%s' is after the last bar (%d)", t,
                         REEL_TEMPO_BAR_MAX);
    *sample = v;
    return 0;

unknown:
    return reel_fail(errmsg, REEL_EINVAL,
                     "position '%s' is not samples, seconds (12.5s) or bars:beats (5:1)", t);
}
