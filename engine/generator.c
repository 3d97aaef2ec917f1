/* generator.c: the test and stand-in signals of generator.h (silence, sine,
 * white and pink noise, impulse train, exponential sweep, maximum length
 * sequence).
 *
 * reel_gen_create/destroy run on the control thread (they parse and
 * allocate). reel_gen_fill_rt runs on whichever single thread owns the
 * generator (the virtual device's thread, later the audio callback): it
 * touches only the generator's own state, never allocates, locks or calls
 * into the system, so it is safe in the callback. A generator is not shared
 * between threads.
 *
 * Everything that must not drift is kept in double (oscillator phase in
 * cycles, wrapped to [0, 1)) or in integer frame counters (impulse, sweep),
 * so an hour-long render stays on pitch and impulses land on exact frames. */
#include "generator.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define TWO_PI 6.283185307179586476925286766559

/* Kellet's pink filter sums to well above its white input; he normalises
 * with 0.11, which peaks at about 0.95 over ten minutes. 0.09 leaves headroom
 * (measured peak 0.77 of the level over ten minutes, RMS about 0.16), so the
 * clamp that guarantees the level almost never bends the waveform. */
#define PINK_SCALE 0.09

/* Fixed seed: the same spec always produces the same noise. */
#define NOISE_SEED 0x853c49e6748fea9bULL
#define NOISE_INC 0xda3e39cb94b95bdbULL

enum gen_kind { GEN_SILENCE, GEN_SINE, GEN_WHITE, GEN_PINK, GEN_IMPULSE, GEN_SWEEP, GEN_MLS };

/* Primitive feedback polynomials, one per order (the maximal-length taps
 * tabulated in Wikipedia's "Linear-feedback shift register" article); each
 * mask has bit k-1 set for the term x^k. test_generator.c checks that every
 * order's period is exactly 2^n - 1. */
const unsigned long REEL_MLS_TAPS[REEL_MLS_MAX_ORDER + 1] = {
    [10] = 0x240,   /* x^10 + x^7 + 1 */
    [11] = 0x500,   /* x^11 + x^9 + 1 */
    [12] = 0xe08,   /* x^12 + x^11 + x^10 + x^4 + 1 */
    [13] = 0x1c80,  /* x^13 + x^12 + x^11 + x^8 + 1 */
    [14] = 0x3802,  /* x^14 + x^13 + x^12 + x^2 + 1 */
    [15] = 0x6000,  /* x^15 + x^14 + 1 */
    [16] = 0xd008,  /* x^16 + x^15 + x^13 + x^4 + 1 */
    [17] = 0x12000, /* x^17 + x^14 + 1 */
    [18] = 0x20400, /* x^18 + x^11 + 1 */
    [19] = 0x72000, /* x^19 + x^18 + x^17 + x^14 + 1 */
    [20] = 0x90000, /* x^20 + x^17 + 1 */
};

struct reel_gen {
    enum gen_kind kind;
    double level;        /* linear peak */

    /* sine */
    double phase;        /* cycles, [0, 1) */
    double inc;          /* cycles per frame */

    /* noise: PCG32 state and Kellet's filter memory */
    uint64_t rng;
    double b[7];

    /* impulse */
    uint64_t period;
    uint64_t count;      /* frames since the last impulse */

    /* sweep: phase(n) = k * (exp(n * g) - 1) cycles, n in [0, length) */
    double sweep_k;
    double sweep_g;
    double sweep_f0;     /* used when f0 == f1 (a constant tone) */
    int sweep_flat;
    uint64_t length;     /* frames per sweep */
    uint64_t n;          /* frame within the current sweep */

    /* mls: Galois LFSR state (never 0) and tap mask */
    uint32_t lfsr;
    uint32_t taps;
};

static const char *const gen_names[] = { "silence", "sine", "noise", "impulse", "sweep",
                                         "mls" };

#define GEN_USAGE "silence, sine:FREQ[:DB], noise[:white|pink][:DB], impulse:PERIOD[:DB], " \
                  "sweep:F0:F1:SECONDS[:DB], mls:ORDER[:DB]"

static size_t first_word_len(const char *spec)
{
    const char *colon = strchr(spec, ':');
    return colon ? (size_t)(colon - spec) : strlen(spec);
}

int reel_gen_is_spec(const char *spec)
{
    if (!spec)
        return 0;
    size_t n = first_word_len(spec);
    for (size_t i = 0; i < sizeof gen_names / sizeof gen_names[0]; i++)
        if (strlen(gen_names[i]) == n && memcmp(spec, gen_names[i], n) == 0)
            return 1;
    return 0;
}

/* Strict: the whole field must be a number, so "440Hz" or "" is refused
 * rather than silently read as 440 or 0. */
static int parse_double(const char *s, double *out)
{
    if (!*s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || isnan(v))
        return 0;
    *out = v;
    return 1;
}

static int parse_freq(const char *spec, const char *field, const char *what, unsigned rate,
                      double *out, char *errmsg)
{
    double f;
    if (!parse_double(field, &f))
        return reel_fail(errmsg, REEL_EINVAL, "%s: %s '%s' is not a number", spec, what, field);
    if (!(f > 0.0) || !(f < rate / 2.0))
        return reel_fail(errmsg, REEL_EINVAL,
                         "%s: %s %s Hz must be above 0 and below %g Hz (half the rate %u)",
                         spec, what, field, rate / 2.0, rate);
    *out = f;
    return 0;
}

/* dB is peak dBFS; -inf is accepted and means silence. */
static int parse_level(const char *spec, const char *field, double *out, char *errmsg)
{
    double db;
    if (!parse_double(field, &db))
        return reel_fail(errmsg, REEL_EINVAL, "%s: level '%s' is not a number (dBFS)", spec, field);
    if (db > 0.0)
        return reel_fail(errmsg, REEL_EINVAL, "%s: level %s dBFS is above 0 (full scale)", spec,
                         field);
    *out = pow(10.0, db / 20.0);
    return 0;
}

#define MAX_FIELDS 5

static int parse(reel_gen *g, const char *spec, char *buf, unsigned rate, char *errmsg)
{
    char *f[MAX_FIELDS + 1];
    size_t nf = 0;
    for (char *p = buf;;) {
        if (nf == MAX_FIELDS + 1)
            break;
        f[nf++] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
        p = colon + 1;
    }

    const char *name = f[0];
    size_t max_fields;
    const char *usage;
    int rc;
    g->level = pow(10.0, -12.0 / 20.0);

    if (strcmp(name, "silence") == 0) {
        g->kind = GEN_SILENCE;
        max_fields = 1;
        usage = "silence";
    } else if (strcmp(name, "sine") == 0) {
        g->kind = GEN_SINE;
        max_fields = 3;
        usage = "sine:FREQ[:DB]";
        if (nf < 2)
            return reel_fail(errmsg, REEL_EINVAL, "%s: missing frequency (%s)", spec, usage);
        double freq;
        if ((rc = parse_freq(spec, f[1], "frequency", rate, &freq, errmsg)) < 0)
            return rc;
        g->inc = freq / rate;
        if (nf >= 3 && (rc = parse_level(spec, f[2], &g->level, errmsg)) < 0)
            return rc;
    } else if (strcmp(name, "noise") == 0) {
        g->kind = GEN_WHITE;
        max_fields = 3;
        usage = "noise[:white|pink][:DB]";
        size_t i = 1;
        if (nf > i && strcmp(f[i], "white") == 0) {
            i++;
        } else if (nf > i && strcmp(f[i], "pink") == 0) {
            g->kind = GEN_PINK;
            i++;
        } else if (nf > i) {
            double ignored;
            if (!parse_double(f[i], &ignored))
                return reel_fail(errmsg, REEL_EINVAL,
                                 "%s: '%s' is neither white, pink nor a level in dBFS", spec, f[i]);
            max_fields = 2; /* "noise:DB" leaves no room for a colour after it */
        }
        if (nf > i && i < max_fields && (rc = parse_level(spec, f[i], &g->level, errmsg)) < 0)
            return rc;
        g->rng = NOISE_SEED;
    } else if (strcmp(name, "impulse") == 0) {
        g->kind = GEN_IMPULSE;
        max_fields = 3;
        usage = "impulse:PERIOD[:DB]";
        g->level = 1.0;
        if (nf < 2)
            return reel_fail(errmsg, REEL_EINVAL, "%s: missing period in frames (%s)", spec, usage);
        char *end;
        unsigned long long p = strtoull(f[1], &end, 10);
        if (!(f[1][0] >= '0' && f[1][0] <= '9') || *end != '\0' || p < 1)
            return reel_fail(errmsg, REEL_EINVAL,
                             "%s: period '%s' must be a whole number of frames, 1 or more", spec,
                             f[1]);
        g->period = p;
        if (nf >= 3 && (rc = parse_level(spec, f[2], &g->level, errmsg)) < 0)
            return rc;
    } else if (strcmp(name, "sweep") == 0) {
        g->kind = GEN_SWEEP;
        max_fields = 5;
        usage = "sweep:F0:F1:SECONDS[:DB]";
        if (nf < 4)
            return reel_fail(errmsg, REEL_EINVAL, "%s: missing %s (%s)", spec,
                             nf < 2 ? "start frequency" : nf < 3 ? "end frequency" : "duration",
                             usage);
        double f0, f1, secs;
        if ((rc = parse_freq(spec, f[1], "start frequency", rate, &f0, errmsg)) < 0)
            return rc;
        if ((rc = parse_freq(spec, f[2], "end frequency", rate, &f1, errmsg)) < 0)
            return rc;
        if (!parse_double(f[3], &secs))
            return reel_fail(errmsg, REEL_EINVAL, "%s: duration '%s' is not a number", spec, f[3]);
        double frames = floor(secs * rate + 0.5);
        if (!(frames >= 1.0) || frames > 1e12)
            return reel_fail(errmsg, REEL_EINVAL,
                             "%s: duration %s s must be at least one frame and finite", spec,
                             f[3]);
        g->length = (uint64_t)frames;
        if (f0 == f1) {
            g->sweep_flat = 1;
            g->sweep_f0 = f0 / rate;
        } else {
            /* Farina's exponential sweep: instantaneous frequency
             * f0 * (f1/f0)^(t/T); its integral is the phase below. */
            double l = log(f1 / f0);
            g->sweep_k = f0 * secs / l;
            g->sweep_g = l / (secs * rate);
            /* A subnormal F0 makes f1 / f0 infinite (and the phase NaN), or
             * k underflow to 0 (a silent "sweep"): refused, as is any phase
             * at the sweep's end that a double cannot hold. */
            double end = g->sweep_k * expm1((frames - 1.0) * g->sweep_g);
            if (!isfinite(l) || !isnormal(g->sweep_k) || !isnormal(g->sweep_g) ||
                !isfinite(end))
                return reel_fail(errmsg, REEL_EINVAL,
                                 "%s: a sweep from %s Hz to %s Hz over %s s cannot be computed "
                                 "(the frequencies are too far apart)",
                                 spec, f[1], f[2], f[3]);
        }
        if (nf >= 5 && (rc = parse_level(spec, f[4], &g->level, errmsg)) < 0)
            return rc;
    } else if (strcmp(name, "mls") == 0) {
        g->kind = GEN_MLS;
        max_fields = 3;
        usage = "mls:ORDER[:DB]";
        if (nf < 2)
            return reel_fail(errmsg, REEL_EINVAL, "%s: missing order (%s, ORDER %d..%d)", spec,
                             usage, REEL_MLS_MIN_ORDER, REEL_MLS_MAX_ORDER);
        char *end;
        unsigned long order = strtoul(f[1], &end, 10);
        if (!(f[1][0] >= '0' && f[1][0] <= '9') || *end != '\0' || order < REEL_MLS_MIN_ORDER ||
            order > REEL_MLS_MAX_ORDER)
            return reel_fail(errmsg, REEL_EINVAL,
                             "%s: order '%s' must be a whole number from %d to %d (period "
                             "2^ORDER - 1 frames)", spec, f[1], REEL_MLS_MIN_ORDER,
                             REEL_MLS_MAX_ORDER);
        g->taps = (uint32_t)REEL_MLS_TAPS[order];
        g->lfsr = 1;
        if (nf >= 3 && (rc = parse_level(spec, f[2], &g->level, errmsg)) < 0)
            return rc;
    } else {
        return reel_fail(errmsg, REEL_EINVAL, "'%s' is not a generator (%s)", name, GEN_USAGE);
    }

    if (nf > max_fields)
        return reel_fail(errmsg, REEL_EINVAL, "%s: too many fields (%s)", spec, usage);
    return 0;
}

int reel_gen_create(reel_gen **out, const char *spec, unsigned rate, char *errmsg)
{
    *out = NULL;
    if (!spec || !*spec)
        return reel_fail(errmsg, REEL_EINVAL, "empty generator spec (%s)", GEN_USAGE);
    if (rate == 0)
        return reel_fail(errmsg, REEL_EINVAL, "%s: sample rate must be above 0", spec);
    reel_gen *g = calloc(1, sizeof *g);
    char *buf = strdup(spec);
    if (!g || !buf) {
        free(g);
        free(buf);
        return reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory", spec);
    }
    int rc = parse(g, spec, buf, rate, errmsg);
    free(buf);
    if (rc < 0) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void reel_gen_destroy(reel_gen *g)
{
    free(g);
}

/* PCG32 (O'Neill, XSH RR): small, fast, and statistically far better than
 * a plain LCG, which would make audible patterns in the low bits. */
static inline uint32_t pcg32(uint64_t *state)
{
    uint64_t old = *state;
    *state = old * 6364136223846793005ULL + NOISE_INC;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

/* Uniform in [-1, 1). */
static inline double white(uint64_t *state)
{
    return (double)(int32_t)pcg32(state) * (1.0 / 2147483648.0);
}

REEL_NONBLOCKING
void reel_gen_fill_rt(reel_gen *g, float *dst, size_t frames)
{
    switch (g->kind) {
    case GEN_SILENCE:
        memset(dst, 0, frames * sizeof *dst);
        break;
    case GEN_SINE: {
        double ph = g->phase;
        for (size_t i = 0; i < frames; i++) {
            dst[i] = (float)(g->level * sin(TWO_PI * ph));
            ph += g->inc;
            if (ph >= 1.0)
                ph -= 1.0;
        }
        g->phase = ph;
        break;
    }
    case GEN_WHITE:
        for (size_t i = 0; i < frames; i++)
            dst[i] = (float)(g->level * white(&g->rng));
        break;
    case GEN_PINK: {
        /* Paul Kellet's "refined" pink filter (music-dsp archive): a sum of
         * first-order lowpasses approximating -3 dB/octave within 0.05 dB
         * above 9.2 Hz at 44.1 kHz. */
        double *b = g->b;
        for (size_t i = 0; i < frames; i++) {
            double w = white(&g->rng);
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.1538520;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            double p = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
            b[6] = w * 0.115926;
            p *= PINK_SCALE;
            if (p > 1.0)
                p = 1.0;
            else if (p < -1.0)
                p = -1.0;
            dst[i] = (float)(g->level * p);
        }
        break;
    }
    case GEN_IMPULSE: {
        float level = (float)g->level;
        uint64_t c = g->count;
        for (size_t i = 0; i < frames; i++) {
            dst[i] = c == 0 ? level : 0.0f;
            if (++c == g->period)
                c = 0;
        }
        g->count = c;
        break;
    }
    case GEN_SWEEP: {
        /* Each repetition starts again at phase 0, so repeats are identical
         * (what synchronous averaging of sweep measurements wants); the phase
         * comes from the frame index, not a running sum, so nothing drifts. */
        uint64_t n = g->n;
        for (size_t i = 0; i < frames; i++) {
            double ph = g->sweep_flat ? g->sweep_f0 * (double)n
                                      : g->sweep_k * expm1((double)n * g->sweep_g);
            ph -= floor(ph);
            dst[i] = (float)(g->level * sin(TWO_PI * ph));
            if (++n == g->length)
                n = 0;
        }
        g->n = n;
        break;
    }
    case GEN_MLS: {
        /* Galois LFSR, one bit per frame: bit 0 -> +level, bit 1 -> -level. */
        float level = (float)g->level;
        uint32_t s = g->lfsr, taps = g->taps;
        for (size_t i = 0; i < frames; i++) {
            uint32_t b = s & 1u;
            dst[i] = b ? -level : level;
            s >>= 1;
            if (b)
                s ^= taps;
        }
        g->lfsr = s;
        break;
    }
    }
}
