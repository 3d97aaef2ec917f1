/* click.c: the metronome of click.h.
 *
 * Threads: create, destroy, the setters and get_mode on the control thread;
 * reel_click_render_rt on the audio thread. They share only the atomics
 * (mode and the two gains); everything else is written by create and then
 * only read, or belongs to the audio thread (the voices).
 *
 * Both bursts (normal and accent) are computed once at create into tables
 * normalised to a peak of exactly 1.0: where the sine's crests fall under the
 * envelope depends on frequency and rate, so only a measured peak makes the
 * configured level the true peak level. A voice is then a table, a read
 * index and the gain it started with; rendering is one multiply-add per
 * sample and output, and the result does not depend on how the timeline is
 * cut into periods. */
#include "click.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define TWO_PI 6.283185307179586476925286766559

/* Enough for beats that come closer than a burst (loop wraps, very fast
 * tempos); when all are busy the one nearest its end is reused. */
#define VOICES 4

/* Decay: exp(-DECAY_K * u) * (1 - u) over u in (0, 1). The exponential gives
 * the percussive shape (about -35 dB by the end); the linear factor takes
 * it the rest of the way to zero so the burst does not end on a step. */
#define DECAY_K 4.0

static const unsigned default_outputs[] = { 0, 1 };

typedef struct voice {
    const float *table;   /* NULL: idle */
    unsigned n;           /* next sample of the table */
    float gain;
} voice;

struct reel_click {
    unsigned rate;
    unsigned length;                 /* samples per burst */
    float *normal, *accent;          /* length samples each, peak 1.0 */
    unsigned outputs[REEL_CLICK_MAX_OUTPUTS];
    unsigned n_outputs;

    atomic_int mode;
    /* float bits: 32-bit atomics are lock-free everywhere we run, which an
     * _Atomic float is not promised to be. */
    atomic_uint_least32_t gain_bits, accent_gain_bits;

    voice voices[VOICES];            /* audio thread only */
};

_Static_assert(sizeof(float) == sizeof(uint32_t), "float must be 32 bits");

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float db_to_gain(double db)
{
    return (float)pow(10.0, db / 20.0);
}

void reel_click_config_init(reel_click_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->level_db = -6.0;
    cfg->accent_db = 0.0;
    cfg->frequency = 1000.0;
    cfg->accent_frequency = 1500.0;
    cfg->length_ms = 20.0;
    cfg->outputs = default_outputs;
    cfg->n_outputs = 2;
    cfg->mode = REEL_CLICK_ALWAYS;
}

static int check_level(const char *field, double db, char *errmsg)
{
    if (isnan(db))
        return reel_fail(errmsg, REEL_EINVAL, "click: %s is not a number", field);
    if (db > 0.0)
        return reel_fail(errmsg, REEL_EINVAL, "click: %s %g must be 0 or below", field, db);
    if (isinf(db))
        return reel_fail(errmsg, REEL_EINVAL, "click: %s %g must be a finite number", field, db);
    return 0;
}

static int check_mode(reel_click_mode mode, char *errmsg)
{
    if (mode != REEL_CLICK_OFF && mode != REEL_CLICK_ALWAYS && mode != REEL_CLICK_RECORDING)
        return reel_fail(errmsg, REEL_EINVAL,
                         "click: mode %d is not off (0), always (1) or recording (2)", (int)mode);
    return 0;
}

static int check_frequency(const char *field, double f, unsigned rate, char *errmsg)
{
    double nyquist = rate / 2.0;
    /* Written so that NaN fails too. */
    if (!(f >= REEL_CLICK_FREQUENCY_MIN && f < nyquist))
        return reel_fail(errmsg, REEL_EINVAL,
                         "click: %s %g must be at least %g Hz and below half the rate (%g Hz)",
                         field, f, REEL_CLICK_FREQUENCY_MIN, nyquist);
    return 0;
}

static int check_config(const reel_click_config *cfg, unsigned rate, char *errmsg)
{
    int rc;
    if ((rc = check_level("level_db", cfg->level_db, errmsg)) != 0 ||
        (rc = check_level("accent_db", cfg->accent_db, errmsg)) != 0 ||
        (rc = check_frequency("frequency", cfg->frequency, rate, errmsg)) != 0 ||
        (rc = check_frequency("accent_frequency", cfg->accent_frequency, rate, errmsg)) != 0)
        return rc;
    if (!(cfg->length_ms >= REEL_CLICK_LENGTH_MIN_MS && cfg->length_ms <= REEL_CLICK_LENGTH_MAX_MS))
        return reel_fail(errmsg, REEL_EINVAL, "click: length_ms %g must be between %g and %g",
                         cfg->length_ms, REEL_CLICK_LENGTH_MIN_MS, REEL_CLICK_LENGTH_MAX_MS);
    if (cfg->n_outputs == 0)
        return reel_fail(errmsg, REEL_EINVAL, "click: outputs is empty");
    if (cfg->n_outputs > REEL_CLICK_MAX_OUTPUTS)
        return reel_fail(errmsg, REEL_EINVAL, "click: outputs lists %u channels (at most %d)",
                         cfg->n_outputs, REEL_CLICK_MAX_OUTPUTS);
    if (!cfg->outputs)
        return reel_fail(errmsg, REEL_EINVAL, "click: outputs is NULL but n_outputs is %u",
                         cfg->n_outputs);
    for (unsigned i = 0; i < cfg->n_outputs; i++) {
        if (cfg->outputs[i] >= REEL_CLICK_CHANNELS)
            return reel_fail(errmsg, REEL_EINVAL,
                             "click: outputs[%u] = %u is beyond the last channel (%d)", i,
                             cfg->outputs[i], REEL_CLICK_CHANNELS - 1);
        for (unsigned j = 0; j < i; j++)
            if (cfg->outputs[j] == cfg->outputs[i])
                return reel_fail(errmsg, REEL_EINVAL, "click: outputs[%u] = %u repeats outputs[%u]",
                                 i, cfg->outputs[i], j);
    }
    return check_mode(cfg->mode, errmsg);
}

/* One burst at frequency f, normalised to a peak of 1.0. The sine is sampled
 * half a sample late so that its first sample is not zero: the first
 * non-zero sample of a burst is then exactly where the beat is. */
static void make_burst(float *t, unsigned length, unsigned attack, double f, unsigned rate)
{
    unsigned decay = length - attack;
    float peak = 0.0f;
    for (unsigned n = 0; n < length; n++) {
        double env;
        if (n < attack) {
            env = (double)(n + 1) / attack;
        } else {
            double u = (double)(n - attack + 1) / (decay + 1);
            env = exp(-DECAY_K * u) * (1.0 - u);
        }
        /* Wrapping the phase before sin() keeps its argument small, which
         * keeps long bursts at high rates accurate. */
        double cycles = fmod((n + 0.5) * f / rate, 1.0);
        t[n] = (float)(env * sin(TWO_PI * cycles));
        if (fabsf(t[n]) > peak)
            peak = fabsf(t[n]);
    }
    /* The peak is taken from the stored floats, so the loudest sample
     * divides by itself and becomes exactly 1.0. */
    for (unsigned n = 0; n < length; n++)
        t[n] = (float)((double)t[n] / peak);
}

int reel_click_create(reel_click **out, unsigned rate, const reel_click_config *cfg,
                      char *errmsg)
{
    if (!out)
        return reel_fail(errmsg, REEL_EINVAL, "click: out is NULL");
    *out = NULL;
    if (rate < REEL_TEMPO_RATE_MIN || rate > REEL_TEMPO_RATE_MAX)
        return reel_fail(errmsg, REEL_EINVAL, "click: rate %u must be between %u and %u", rate,
                         REEL_TEMPO_RATE_MIN, REEL_TEMPO_RATE_MAX);
    reel_click_config defaults;
    if (!cfg) {
        reel_click_config_init(&defaults);
        cfg = &defaults;
    }
    int rc = check_config(cfg, rate, errmsg);
    if (rc != 0)
        return rc;

    reel_click *ck = calloc(1, sizeof *ck);
    if (!ck)
        return reel_fail(errmsg, REEL_ENOMEM, "click: out of memory");
    ck->rate = rate;
    /* With rate >= 1000 and length >= 5 ms: attack >= 1, length >= 5. */
    unsigned attack = (unsigned)lround(rate / 1000.0);
    ck->length = (unsigned)lround(cfg->length_ms * rate / 1000.0);
    ck->normal = malloc((size_t)ck->length * sizeof *ck->normal);
    ck->accent = malloc((size_t)ck->length * sizeof *ck->accent);
    if (!ck->normal || !ck->accent) {
        unsigned length = ck->length;
        reel_click_destroy(ck);
        return reel_fail(errmsg, REEL_ENOMEM, "click: out of memory for %u-sample bursts",
                         length);
    }
    make_burst(ck->normal, ck->length, attack, cfg->frequency, rate);
    make_burst(ck->accent, ck->length, attack, cfg->accent_frequency, rate);
    memcpy(ck->outputs, cfg->outputs, cfg->n_outputs * sizeof cfg->outputs[0]);
    ck->n_outputs = cfg->n_outputs;
    atomic_init(&ck->mode, (int)cfg->mode);
    atomic_init(&ck->gain_bits, float_bits(db_to_gain(cfg->level_db)));
    atomic_init(&ck->accent_gain_bits, float_bits(db_to_gain(cfg->accent_db)));
    *out = ck;
    return 0;
}

void reel_click_destroy(reel_click *ck)
{
    if (!ck)
        return;
    free(ck->normal);
    free(ck->accent);
    free(ck);
}

int reel_click_set_level(reel_click *ck, double level_db, char *errmsg)
{
    int rc = check_level("level_db", level_db, errmsg);
    if (rc == 0)
        atomic_store_explicit(&ck->gain_bits, float_bits(db_to_gain(level_db)),
                              memory_order_relaxed);
    return rc;
}

int reel_click_set_accent(reel_click *ck, double accent_db, char *errmsg)
{
    int rc = check_level("accent_db", accent_db, errmsg);
    if (rc == 0)
        atomic_store_explicit(&ck->accent_gain_bits, float_bits(db_to_gain(accent_db)),
                              memory_order_relaxed);
    return rc;
}

int reel_click_set_mode(reel_click *ck, reel_click_mode mode, char *errmsg)
{
    int rc = check_mode(mode, errmsg);
    if (rc == 0)
        atomic_store_explicit(&ck->mode, (int)mode, memory_order_relaxed);
    return rc;
}

reel_click_mode reel_click_get_mode(const reel_click *ck)
{
    return (reel_click_mode)atomic_load_explicit(&ck->mode, memory_order_relaxed);
}

/* Plays every sounding voice over frames [from, to) of the period. */
static void play_rt(reel_click *ck, unsigned from, unsigned to, float *const *out,
                    unsigned out_channels)
{
    for (unsigned v = 0; v < VOICES; v++) {
        voice *vc = &ck->voices[v];
        if (!vc->table || from >= to)
            continue;
        unsigned count = to - from;
        if (count > ck->length - vc->n)
            count = ck->length - vc->n;
        const float *src = vc->table + vc->n;
        float g = vc->gain;
        for (unsigned o = 0; o < ck->n_outputs; o++) {
            unsigned ch = ck->outputs[o];
            if (ch >= out_channels || !out[ch])
                continue;
            float *dst = out[ch] + from;
            for (unsigned i = 0; i < count; i++)
                dst[i] += g * src[i];
        }
        vc->n += count;
        if (vc->n == ck->length)
            vc->table = NULL;
    }
}

static void start_rt(reel_click *ck, const float *table, float gain)
{
    voice *pick = NULL;
    for (unsigned v = 0; v < VOICES && !pick; v++)
        if (!ck->voices[v].table)
            pick = &ck->voices[v];
    if (!pick) {
        /* The voice nearest its end is the quietest one to cut short. */
        pick = &ck->voices[0];
        for (unsigned v = 1; v < VOICES; v++)
            if (ck->voices[v].n > pick->n)
                pick = &ck->voices[v];
    }
    pick->table = table;
    pick->n = 0;
    pick->gain = gain;
}

static int span_clicks(const reel_span *s, int mode)
{
    if (!(s->flags & REEL_SPAN_ROLLING) || s->frames == 0)
        return 0;
    if (mode == REEL_CLICK_ALWAYS)
        return 1;
    if (mode == REEL_CLICK_RECORDING)
        return (s->flags & (REEL_SPAN_COUNT_IN | REEL_SPAN_RECORD)) != 0;
    return 0;
}

REEL_NONBLOCKING void reel_click_render_rt(reel_click *ck, const reel_tempo *map,
                                           const reel_span *spans, unsigned n,
                                           float *const *out, unsigned out_channels)
{
    /* Read once, so one period is rendered with one mode and one pair of
     * levels however the control thread interleaves its changes. */
    int mode = atomic_load_explicit(&ck->mode, memory_order_relaxed);
    float gain = bits_float(atomic_load_explicit(&ck->gain_bits, memory_order_relaxed));
    float accent_gain =
        bits_float(atomic_load_explicit(&ck->accent_gain_bits, memory_order_relaxed));

    unsigned end = 0;
    for (unsigned k = 0; k < n; k++)
        if (spans[k].offset + spans[k].frames > end)
            end = spans[k].offset + spans[k].frames;

    /* Voices are played up to each new burst's first frame before it starts,
     * so every burst begins exactly on its beat and overlapping ones sum. */
    unsigned done = 0;
    for (unsigned k = 0; k < n && map; k++) {
        const reel_span *s = &spans[k];
        if (!span_clicks(s, mode))
            continue;
        int64_t stop = s->pos + (int64_t)s->frames;
        int64_t from = s->pos;
        int64_t p;
        int beat;
        while (reel_tempo_next_beat_rt(map, from, &p, NULL, &beat) == 0 && p < stop) {
            unsigned at = s->offset + (unsigned)(p - s->pos);
            /* Spans out of order would step back in time: start late
             * rather than write where this period was already played. */
            if (at < done)
                at = done;
            play_rt(ck, done, at, out, out_channels);
            done = at;
            if (beat == 1)
                start_rt(ck, ck->accent, accent_gain);
            else
                start_rt(ck, ck->normal, gain);
            from = p + 1;
        }
    }
    play_rt(ck, done, end, out, out_channels);
}
