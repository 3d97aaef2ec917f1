/* lanalysis.c: the "reel.analysis" module, sample work on sound files for
 * `reel check` (scripts/reel/cli/check.lua) and regression recordings
 * (scripts/reel/regress.lua).
 *
 * Every function reads its files itself, in chunks (libsndfile), so a
 * recording of any length costs a few hundred KiB of memory; one channel is
 * looked at per call (opts.channel, counting from 1, default 1). Frame
 * positions count from 0 like libsndfile's; ranges are given as a first
 * and a last frame (inclusive), as in "frames 30000..30999".
 *
 *   analysis.stats(path[, {channel=, block=, percentile=, clip_level=,
 *                          start=, frames=}])
 *       -> {frames, rate, channels, channel, peak, peak_db, rms, rms_db, dc,
 *           clipped, noise_floor_db, loudest_block_db, blocks, block} | nil, msg
 *       peak and RMS of the samples, DC offset (their mean), clipped (samples
 *       with |x| >= clip_level, default 0.999, about -0.01 dBFS), and the
 *       noise floor: the `percentile` (default 0.1) of the RMS levels of
 *       blocks of `block` frames (default 50 ms), in dBFS.
 *   analysis.align(reference, take[, {channel=, take_channel=, min_shift=,
 *                                    max_shift=, window=, whiten=}])
 *       -> offset, {confidence, correlation, inverted, window_start,
 *                   window} | nil, msg
 *       where the reference's content is in the take: take frame
 *       i + offset holds reference frame i, with min_shift <= offset <=
 *       max_shift (default -max_shift and rate / 2). The loudest window of
 *       the reference (default 65536 frames) is cross-correlated with the
 *       take (latency.h; the take counts as silence outside its frames),
 *       both first differentiated unless whiten is false, so that signals
 *       with their energy low (a sweep, music) give a sharp peak. A signal
 *       without a clear peak (a steady sine, silence) is refused.
 *   analysis.diff(reference, take[, {offset=, gain=, channel=,
 *                                    take_channel=, threshold=, dropout_db=,
 *                                    min_dropout=, block=}])
 *       -> report | nil, msg
 *       compares reference frame i with take frame i + offset (0 by
 *       default; the take counts as silence outside its frames) over the
 *       whole reference. level_db_diff: the take's level against the
 *       reference's, the median of their differences per block (over the
 *       blocks within 30 dB of the reference's loudest), so that a local
 *       change does not move it. gain: a number (linear) or "match"
 *       (default: the take is scaled by -level_db_diff, polarity
 *       included). report: {frames, take_frames, offset, gain,
 *       inverted, level_db_diff, reference_rms_db, take_rms_db,
 *       max_abs_diff, max_abs_diff_at, first_diff (first frame where
 *       |gain * take - reference| > threshold, default 0.001; nil when
 *       none), residual_db (RMS of the difference relative to the
 *       reference's), dropouts = {{from, to, frames, edge}...} (runs of at
 *       least min_dropout frames, default 16, where the take is at or below
 *       dropout_db, default -100 dBFS, while the reference is 20 dB above
 *       that; edge: the run reaches past the take's end or start),
 *       dropouts_truncated, block (frames, default 10 ms), blocks =
 *       {reference = {dB...}, take = {dB...}, residual = {dB...}} (RMS per
 *       block of the reference, the scaled take and their difference)}.
 *   analysis.spectrum(path[, {channel=, start=, frames=, size=, bands=}])
 *       -> {rate, size, frames, bands = {{center, low, high, db}...}} | nil, msg
 *       the average power spectrum (Welch: Hann windows of `size` frames,
 *       default 8192, half overlapping) summed in third-octave bands
 *       (bands = "third", default) or octave bands ("octave"), 20 Hz up to
 *       the Nyquist frequency, in dB relative to full scale (the bands of
 *       a full-scale sine add up to -3 dB, its RMS).
 *   analysis.extract(source, dest, start, frames[, format])
 *       -> true | nil, msg
 *       writes frames start .. start + frames - 1 of every channel of
 *       source to the new file dest (never replaced), silence where they
 *       lie outside source (start may be negative); format wav32f (default),
 *       wav24, flac or rf64.
 *
 * Caller mistakes (wrong types, unknown options, out-of-range values) raise;
 * failures of the files (missing, unreadable, no such channel) return nil,
 * message. Threads: control thread only; never the audio one. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <sndfile.h>

#include "latency.h"
#include "lreel_int.h"
#include "writer.h"

#define READER_META "reel.analysis.reader"
#define CHUNK 65536            /* frames per read */
#define MAX_BLOCKS (1 << 24)   /* per-block results kept at most */
#define MAX_DROPOUTS 10000     /* dropout runs reported at most */
#define MIN_BLOCK 16
#define TWO_PI 6.28318530717958647692528676655900577

/* ---- reading one channel in chunks --------------------------------------- */

typedef struct areader {
    SNDFILE *sf;
    SF_INFO info;
    unsigned channel;   /* 0-based */
    float *inter;       /* CHUNK interleaved frames */
    char path[512];
} areader;

static int reader_gc(lua_State *L)
{
    areader *r = luaL_checkudata(L, 1, READER_META);
    if (r->sf) {
        sf_close(r->sf);
        r->sf = NULL;
    }
    free(r->inter);
    r->inter = NULL;
    return 0;
}

/* Pushes a reader userdata (closed by __gc). Returns it, or NULL with a
 * message in err (the userdata stays on the stack either way). channel is
 * 1-based. */
static areader *reader_open(lua_State *L, const char *path, lua_Integer channel, char *err,
                            size_t errsize)
{
    areader *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, READER_META);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->sf = sf_open(path, SFM_READ, &r->info);
    if (!r->sf) {
        if (access(path, F_OK) != 0)
            snprintf(err, errsize, "%s: %s", path, strerror(errno));
        else
            snprintf(err, errsize, "%s: not a sound file libsndfile reads (%s)", path,
                     sf_strerror(NULL));
        return NULL;
    }
    if (r->info.channels < 1 || r->info.samplerate < 1) {
        snprintf(err, errsize, "%s: no channels", path);
        return NULL;
    }
    if (channel < 1 || channel > r->info.channels) {
        snprintf(err, errsize, "%s has %d channel%s; channel %lld asked", path,
                 r->info.channels, r->info.channels == 1 ? "" : "s", (long long)channel);
        return NULL;
    }
    r->channel = (unsigned)(channel - 1);
    r->inter = malloc((size_t)CHUNK * (size_t)r->info.channels * sizeof *r->inter);
    if (!r->inter) {
        snprintf(err, errsize, "%s: out of memory", path);
        return NULL;
    }
    /* A float file may hold values beyond full scale: keep them as they are
     * (clipping detection needs them), and integer files normalised. */
    sf_command(r->sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    return r;
}

static int64_t reader_frames(const areader *r) { return (int64_t)r->info.frames; }

/* Reads frames [start, start + n) of the channel into dst (n <= CHUNK),
 * zeros where they lie outside the file. Returns 0, or -1 with err set. */
static int reader_read(areader *r, int64_t start, float *dst, size_t n, char *err, size_t errsize)
{
    int64_t total = reader_frames(r);
    size_t i = 0;
    while (i < n && start + (int64_t)i < 0)
        dst[i++] = 0.0f;
    int64_t from = start + (int64_t)i;
    if (i < n && from < total) {
        size_t want = n - i;
        if ((int64_t)want > total - from)
            want = (size_t)(total - from);
        if (sf_seek(r->sf, from, SEEK_SET) < 0) {
            snprintf(err, errsize, "%s: cannot seek to frame %lld: %s", r->path,
                     (long long)from, sf_strerror(r->sf));
            return -1;
        }
        sf_count_t got = sf_readf_float(r->sf, r->inter, (sf_count_t)want);
        if (got < 0)
            got = 0;
        unsigned ch = (unsigned)r->info.channels;
        for (sf_count_t k = 0; k < got; k++)
            dst[i + (size_t)k] = r->inter[(size_t)k * ch + r->channel];
        if ((size_t)got < want) {
            snprintf(err, errsize, "%s: read error at frame %lld: %s", r->path,
                     (long long)(from + got), sf_strerror(r->sf));
            return -1;
        }
        i += want;
    }
    while (i < n)
        dst[i++] = 0.0f;
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static int push_fail(lua_State *L, const char *msg)
{
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
}

static double db_of_power(double ms)
{
    return ms > 0.0 ? 10.0 * log10(ms) : -HUGE_VAL;
}

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* Options: the table at arg (or none). Keys are checked by lreel_check_options. */
static lua_Integer opt_int(lua_State *L, int arg, const char *key, lua_Integer def,
                           lua_Integer min, lua_Integer max)
{
    if (lua_isnoneornil(L, arg))
        return def;
    return lreel_opt_integer(L, arg, key, def, min, max);
}

static double opt_num(lua_State *L, int arg, const char *key, double def, double min,
                      double max)
{
    if (lua_isnoneornil(L, arg))
        return def;
    lua_getfield(L, arg, key);
    double v = def;
    if (!lua_isnil(L, -1)) {
        v = lua_tonumber(L, -1);
        if (!(v >= min && v <= max))
            luaL_error(L, "bad option '%s' (%f out of range %f..%f)", key, v, min, max);
    }
    lua_pop(L, 1);
    return v;
}

static int has_opt(lua_State *L, int arg, const char *key)
{
    if (lua_isnoneornil(L, arg))
        return 0;
    int t = lua_getfield(L, arg, key);
    lua_pop(L, 1);
    return t != LUA_TNIL;
}

static void check_opts(lua_State *L, int arg, const opt_spec *specs)
{
    if (!lua_isnoneornil(L, arg))
        lreel_check_options(L, arg, specs);
}

/* The range [start, start + frames) of a file of total frames, from the
 * options start= and frames= (defaults: the whole file). */
static void opt_range(lua_State *L, int arg, int64_t total, int64_t *start, int64_t *frames)
{
    *start = opt_int(L, arg, "start", 0, 0, INT64_MAX / 2);
    int64_t left = total > *start ? total - *start : 0;
    *frames = opt_int(L, arg, "frames", left, 0, INT64_MAX / 2);
    if (*frames > left)
        *frames = left;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- stats --------------------------------------------------------------- */

static const opt_spec stats_opts[] = {
    {"channel", OPT_INTEGER}, {"block", OPT_INTEGER}, {"percentile", OPT_NUMBER},
    {"clip_level", OPT_NUMBER}, {"start", OPT_INTEGER}, {"frames", OPT_INTEGER},
    {NULL, 0},
};

static int a_stats(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    check_opts(L, 2, stats_opts);
    lua_Integer channel = opt_int(L, 2, "channel", 1, 1, 1 << 20);
    double pct = opt_num(L, 2, "percentile", 0.1, 0.0, 1.0);
    double clip = opt_num(L, 2, "clip_level", 0.999, 1e-6, 1e6);
    lua_settop(L, 2);
    char err[600];
    areader *r = reader_open(L, path, channel, err, sizeof err);
    if (!r)
        return push_fail(L, err);
    int rate = r->info.samplerate;
    lua_Integer block = opt_int(L, 2, "block", (rate + 10) / 20, MIN_BLOCK, 1 << 24);
    int64_t start, frames;
    opt_range(L, 2, reader_frames(r), &start, &frames);
    int64_t nblocks = (frames + block - 1) / block;
    if (nblocks > MAX_BLOCKS)
        return luaL_error(L, "bad option 'block' (%I frames make more than %d blocks)",
                          block, MAX_BLOCKS);
    double *brms = lua_newuserdatauv(L, (size_t)(nblocks ? nblocks : 1) * sizeof *brms, 0);
    float *buf = lua_newuserdatauv(L, CHUNK * sizeof *buf, 0);

    double sum = 0.0, sumsq = 0.0, peak = 0.0, bsq = 0.0;
    int64_t clipped = 0, bfill = 0, nb = 0;
    for (int64_t pos = 0; pos < frames; pos += CHUNK) {
        size_t n = (size_t)(frames - pos < CHUNK ? frames - pos : CHUNK);
        if (reader_read(r, start + pos, buf, n, err, sizeof err) != 0)
            return push_fail(L, err);
        for (size_t i = 0; i < n; i++) {
            double x = buf[i], a = fabs(x);
            sum += x;
            sumsq += x * x;
            if (a > peak)
                peak = a;
            if (a >= clip)
                clipped++;
            bsq += x * x;
            if (++bfill == block) {
                brms[nb++] = bsq / (double)block;
                bsq = 0.0;
                bfill = 0;
            }
        }
    }
    /* A trailing partial block counts only when it is the only one. */
    if (bfill > 0 && nb == 0)
        brms[nb++] = bsq / (double)bfill;
    double floor_db = -HUGE_VAL, loudest_db = -HUGE_VAL;
    if (nb > 0) {
        qsort(brms, (size_t)nb, sizeof *brms, cmp_double);
        floor_db = db_of_power(brms[(size_t)floor(pct * (double)(nb - 1) + 1e-9)]);
        loudest_db = db_of_power(brms[nb - 1]);
    }
    double ms = frames > 0 ? sumsq / (double)frames : 0.0;
    lua_createtable(L, 0, 16);
    set_int(L, "frames", frames);
    set_int(L, "rate", rate);
    set_int(L, "channels", r->info.channels);
    set_int(L, "channel", channel);
    set_num(L, "peak", peak);
    set_num(L, "peak_db", peak > 0.0 ? 20.0 * log10(peak) : -HUGE_VAL);
    set_num(L, "rms", sqrt(ms));
    set_num(L, "rms_db", db_of_power(ms));
    set_num(L, "dc", frames > 0 ? sum / (double)frames : 0.0);
    set_int(L, "clipped", clipped);
    set_num(L, "noise_floor_db", floor_db);
    set_num(L, "loudest_block_db", loudest_db);
    set_int(L, "blocks", nb);
    set_int(L, "block", block);
    return 1;
}

/* ---- align --------------------------------------------------------------- */

static const opt_spec align_opts[] = {
    {"channel", OPT_INTEGER},   {"take_channel", OPT_INTEGER}, {"max_shift", OPT_INTEGER},
    {"min_shift", OPT_INTEGER}, {"window", OPT_INTEGER},       {"whiten", OPT_BOOLEAN},
    {NULL, 0},
};

/* x[i] -= x[i - 1]: a first difference, which tilts the spectrum up by
 * 6 dB per octave, so that signals whose energy sits low (a sweep from
 * 20 Hz, music) correlate in a sharp peak. */
static void differentiate(float *x, size_t n)
{
    for (size_t i = n; i-- > 1;)
        x[i] -= x[i - 1];
    if (n > 0)
        x[0] = 0.0f;
}

static int a_align(lua_State *L)
{
    const char *ref_path = luaL_checkstring(L, 1);
    const char *take_path = luaL_checkstring(L, 2);
    check_opts(L, 3, align_opts);
    lua_Integer channel = opt_int(L, 3, "channel", 1, 1, 1 << 20);
    lua_Integer take_channel = opt_int(L, 3, "take_channel", channel, 1, 1 << 20);
    lua_Integer window = opt_int(L, 3, "window", 65536, 256, 1 << 20);
    int whiten = lua_isnoneornil(L, 3) || !has_opt(L, 3, "whiten") || lreel_opt_boolean(L, 3, "whiten");
    lua_settop(L, 3);
    char err[600];
    areader *ref = reader_open(L, ref_path, channel, err, sizeof err);
    if (!ref)
        return push_fail(L, err);
    areader *take = reader_open(L, take_path, take_channel, err, sizeof err);
    if (!take)
        return push_fail(L, err);
    if (ref->info.samplerate != take->info.samplerate) {
        snprintf(err, sizeof err, "%s is at %d Hz but %s at %d Hz", ref_path,
                 ref->info.samplerate, take_path, take->info.samplerate);
        return push_fail(L, err);
    }
    int64_t n_ref = reader_frames(ref);
    lua_Integer hi = opt_int(L, 3, "max_shift", ref->info.samplerate / 2, 0, 1 << 21);
    lua_Integer lo = opt_int(L, 3, "min_shift", -hi, -(1 << 21), 1 << 21);
    if (lo > hi)
        return luaL_error(L, "bad option 'min_shift' (%I is above max_shift %I)", lo, hi);
    /* latency.h needs lags beyond the peak's neighbourhood to compare */
    int64_t span = hi - lo;
    if (span < REEL_LATENCY_MIN_EXTRA)
        span = REEL_LATENCY_MIN_EXTRA;
    int64_t w = window < n_ref ? window : n_ref;
    if (w < 256) {
        snprintf(err, sizeof err, "%s: %lld frames are too short to align", ref_path,
                 (long long)n_ref);
        return push_fail(L, err);
    }
    if ((size_t)(w + span) > REEL_LATENCY_MAX_FRAMES)
        return luaL_error(L, "bad option 'max_shift' (a search over %I frames is too wide)",
                          (lua_Integer)span);
    /* The loudest window of the reference among starts 0, w/2, w, ... and
     * n_ref - w (energies of half windows). */
    int64_t half = w / 2;
    int64_t nh = n_ref / half;
    double *he = lua_newuserdatauv(L, (size_t)(nh + 1) * sizeof *he, 0);
    float *buf = lua_newuserdatauv(L, CHUNK * sizeof *buf, 0);
    for (int64_t k = 0; k < nh; k++) {
        he[k] = 0.0;
        for (int64_t pos = 0; pos < half; pos += CHUNK) {
            size_t n = (size_t)(half - pos < CHUNK ? half - pos : CHUNK);
            if (reader_read(ref, k * half + pos, buf, n, err, sizeof err) != 0)
                return push_fail(L, err);
            for (size_t i = 0; i < n; i++)
                he[k] += (double)buf[i] * buf[i];
        }
    }
    int64_t s = 0;
    double best = -1.0;
    for (int64_t k = 0; k + 1 < nh; k++) {
        if (he[k] + he[k + 1] > best) {
            best = he[k] + he[k + 1];
            s = k * half;
        }
    }
    if (s + w > n_ref)
        s = n_ref - w;
    size_t n_played = (size_t)w, n_rec = (size_t)(w + span);
    float *played = lua_newuserdatauv(L, n_played * sizeof *played, 0);
    float *rec = lua_newuserdatauv(L, n_rec * sizeof *rec, 0);
    for (size_t pos = 0; pos < n_played; pos += CHUNK) {
        size_t n = n_played - pos < CHUNK ? n_played - pos : CHUNK;
        if (reader_read(ref, s + (int64_t)pos, played + pos, n, err, sizeof err) != 0)
            return push_fail(L, err);
    }
    /* take frames s + lo ... s + lo + n_rec: delay d found means take frame
     * s + lo + d holds reference frame s, an offset of lo + d */
    for (size_t pos = 0; pos < n_rec; pos += CHUNK) {
        size_t n = n_rec - pos < CHUNK ? n_rec - pos : CHUNK;
        if (reader_read(take, s + lo + (int64_t)pos, rec + pos, n, err, sizeof err) != 0)
            return push_fail(L, err);
    }
    if (whiten) {
        differentiate(played, n_played);
        differentiate(rec, n_rec);
    }
    reel_latency_result *res = lua_newuserdatauv(L, sizeof *res, 0);
    int rc = reel_latency_measure(played, n_played, rec, n_rec, res);
    if (rc != 0) {
        snprintf(err, sizeof err, "cannot align %s with %s: %s", take_path, ref_path,
                 res->message[0] ? res->message : reel_strerror(rc));
        return push_fail(L, err);
    }
    int64_t offset = lo + res->delay;
    if (offset > hi) {
        snprintf(err, sizeof err, "cannot align %s with %s: no match within %lld..%lld frames",
                 take_path, ref_path, (long long)lo, (long long)hi);
        return push_fail(L, err);
    }
    lua_pushinteger(L, (lua_Integer)offset);
    lua_createtable(L, 0, 5);
    set_num(L, "confidence", res->confidence);
    set_num(L, "correlation", res->correlation);
    lua_pushboolean(L, res->inverted);
    lua_setfield(L, -2, "inverted");
    set_int(L, "window_start", s);
    set_int(L, "window", w);
    return 2;
}

/* ---- diff ---------------------------------------------------------------- */

static const opt_spec diff_opts[] = {
    {"offset", OPT_INTEGER},     {"channel", OPT_INTEGER},   {"take_channel", OPT_INTEGER},
    {"threshold", OPT_NUMBER},   {"dropout_db", OPT_NUMBER}, {"min_dropout", OPT_INTEGER},
    {"block", OPT_INTEGER},      {NULL, 0},
};

typedef struct drop_run {
    int64_t from, to; /* reference frames, inclusive */
    int edge;
} drop_run;

typedef struct diff_state {
    /* whole-file sums outside dropouts */
    double ref_sq, take_sq, cross;
    /* the run of quiet take samples in progress */
    int64_t run_start, run_len;
    double run_ref_sq, run_take_sq, run_cross;
    int run_edge;
    drop_run *runs;
    size_t n_runs;
    int truncated;
} diff_state;

static void end_run(diff_state *d, double ref_min_sq, int64_t min_len)
{
    if (d->run_len == 0)
        return;
    int dropout = d->run_len >= min_len && d->run_ref_sq / (double)d->run_len > ref_min_sq;
    if (dropout) {
        if (d->n_runs < MAX_DROPOUTS) {
            d->runs[d->n_runs].from = d->run_start;
            d->runs[d->n_runs].to = d->run_start + d->run_len - 1;
            d->runs[d->n_runs].edge = d->run_edge;
            d->n_runs++;
        } else {
            d->truncated = 1;
        }
    } else {
        d->ref_sq += d->run_ref_sq;
        d->take_sq += d->run_take_sq;
        d->cross += d->run_cross;
    }
    d->run_len = 0;
    d->run_ref_sq = d->run_take_sq = d->run_cross = 0.0;
    d->run_edge = 0;
}

static void push_db_list(lua_State *L, const double *v, int64_t n, double scale)
{
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushnumber(L, db_of_power(v[i] * scale));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int a_diff(lua_State *L)
{
    const char *ref_path = luaL_checkstring(L, 1);
    const char *take_path = luaL_checkstring(L, 2);
    int gain_given = 0;
    double gain = 1.0;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        /* "gain" takes a number or "match": checked here, the rest by spec. */
        lua_pushnil(L);
        while (lua_next(L, 3) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "gain") == 0) {
                if (lua_type(L, -1) == LUA_TNUMBER) {
                    gain = lua_tonumber(L, -1);
                    gain_given = 1;
                    if (!isfinite(gain))
                        luaL_error(L, "bad option 'gain' (finite number expected)");
                } else if (!(lua_type(L, -1) == LUA_TSTRING &&
                             strcmp(lua_tostring(L, -1), "match") == 0)) {
                    luaL_error(L, "bad option 'gain' (number or \"match\" expected, got %s)",
                               luaL_typename(L, -1));
                }
            } else {
                /* one key at a time through the common checker */
                lua_createtable(L, 0, 1);
                lua_pushvalue(L, -3);
                lua_pushvalue(L, -3);
                lua_rawset(L, -3);
                lreel_check_options(L, lua_gettop(L), diff_opts);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    lua_Integer channel = opt_int(L, 3, "channel", 1, 1, 1 << 20);
    lua_Integer take_channel = opt_int(L, 3, "take_channel", channel, 1, 1 << 20);
    lua_Integer offset = opt_int(L, 3, "offset", 0, -((lua_Integer)1 << 40),
                                 (lua_Integer)1 << 40);
    double threshold = opt_num(L, 3, "threshold", 0.001, 0.0, 1e6);
    double dropout_db = opt_num(L, 3, "dropout_db", -100.0, -400.0, 0.0);
    lua_Integer min_dropout = opt_int(L, 3, "min_dropout", 16, 1, (lua_Integer)1 << 40);
    lua_settop(L, 3);
    char err[600];
    areader *ref = reader_open(L, ref_path, channel, err, sizeof err);
    if (!ref)
        return push_fail(L, err);
    areader *take = reader_open(L, take_path, take_channel, err, sizeof err);
    if (!take)
        return push_fail(L, err);
    int rate = ref->info.samplerate;
    if (rate != take->info.samplerate) {
        snprintf(err, sizeof err, "%s is at %d Hz but %s at %d Hz", ref_path, rate, take_path,
                 take->info.samplerate);
        return push_fail(L, err);
    }
    lua_Integer block = opt_int(L, 3, "block", (rate + 50) / 100, MIN_BLOCK, 1 << 24);
    int64_t n = reader_frames(ref), n_take = reader_frames(take);
    int64_t nblocks = (n + block - 1) / block;
    if (nblocks > MAX_BLOCKS)
        return luaL_error(L, "bad option 'block' (%I frames make more than %d blocks)", block,
                          MAX_BLOCKS);
    size_t nbl = (size_t)(nblocks ? nblocks : 1);
    double *b_ref = lua_newuserdatauv(L, nbl * sizeof(double), 0);
    double *b_take = lua_newuserdatauv(L, nbl * sizeof(double), 0);
    double *b_res = lua_newuserdatauv(L, nbl * sizeof(double), 0);
    memset(b_ref, 0, nbl * sizeof(double));
    memset(b_take, 0, nbl * sizeof(double));
    memset(b_res, 0, nbl * sizeof(double));
    float *rb = lua_newuserdatauv(L, CHUNK * sizeof *rb, 0);
    float *tb = lua_newuserdatauv(L, CHUNK * sizeof *tb, 0);
    diff_state d;
    memset(&d, 0, sizeof d);
    d.runs = lua_newuserdatauv(L, MAX_DROPOUTS * sizeof *d.runs, 0);
    double eps = pow(10.0, dropout_db / 20.0);
    double ref_min_sq = eps * eps * 100.0; /* the reference 20 dB above eps */

    /* Pass 1: dropouts, and the sums for the gain outside them. */
    for (int64_t pos = 0; pos < n; pos += CHUNK) {
        size_t c = (size_t)(n - pos < CHUNK ? n - pos : CHUNK);
        if (reader_read(ref, pos, rb, c, err, sizeof err) != 0 ||
            reader_read(take, pos + offset, tb, c, err, sizeof err) != 0)
            return push_fail(L, err);
        for (size_t i = 0; i < c; i++) {
            double x = rb[i], y = tb[i];
            size_t b = (size_t)((pos + (int64_t)i) / block);
            b_ref[b] += x * x;
            b_take[b] += y * y;
            if (fabs(y) <= eps) {
                int64_t ti = pos + (int64_t)i + offset;
                if (d.run_len == 0)
                    d.run_start = pos + (int64_t)i;
                d.run_len++;
                d.run_ref_sq += x * x;
                d.run_take_sq += y * y;
                d.run_cross += x * y;
                if (ti < 0 || ti >= n_take)
                    d.run_edge = 1;
            } else {
                end_run(&d, ref_min_sq, min_dropout);
                d.ref_sq += x * x;
                d.take_sq += y * y;
                d.cross += x * y;
            }
        }
    }
    end_run(&d, ref_min_sq, min_dropout);
    int inverted = d.cross < 0.0;
    /* The level difference: the median of the blocks' differences, over the
     * blocks where both carry signal and the reference is within 30 dB of
     * its loudest block, so that a local change (a dip, a dropout) does not
     * move it; the whole files' RMS ratio when no block qualifies. */
    double loudest = 0.0;
    for (int64_t b = 0; b < nblocks; b++)
        if (b_ref[b] > loudest)
            loudest = b_ref[b];
    double *diffs = lua_newuserdatauv(L, nbl * sizeof *diffs, 0);
    size_t nd = 0;
    for (int64_t b = 0; b < nblocks; b++)
        if (b_ref[b] > 0.0 && b_take[b] > 0.0 && b_ref[b] >= loudest * 1e-3)
            diffs[nd++] = 10.0 * log10(b_take[b] / b_ref[b]);
    double level_diff;
    if (nd > 0) {
        qsort(diffs, nd, sizeof *diffs, cmp_double);
        level_diff = nd % 2 ? diffs[nd / 2] : 0.5 * (diffs[nd / 2 - 1] + diffs[nd / 2]);
    } else {
        level_diff = db_of_power(d.take_sq) - db_of_power(d.ref_sq);
    }
    if (!gain_given) {
        gain = isfinite(level_diff) ? pow(10.0, -level_diff / 20.0) : 1.0;
        if (inverted)
            gain = -gain;
    }
    memset(b_ref, 0, nbl * sizeof(double));
    memset(b_take, 0, nbl * sizeof(double));

    /* Pass 2: the difference, per block. */
    double max_abs = 0.0, res_sq = 0.0;
    int64_t max_at = 0, first = -1;
    for (int64_t pos = 0; pos < n; pos += CHUNK) {
        size_t c = (size_t)(n - pos < CHUNK ? n - pos : CHUNK);
        if (reader_read(ref, pos, rb, c, err, sizeof err) != 0 ||
            reader_read(take, pos + offset, tb, c, err, sizeof err) != 0)
            return push_fail(L, err);
        for (size_t i = 0; i < c; i++) {
            int64_t f = pos + (int64_t)i;
            double x = rb[i], y = gain * tb[i], r = y - x, a = fabs(r);
            size_t b = (size_t)(f / block);
            b_ref[b] += x * x;
            b_take[b] += y * y;
            b_res[b] += r * r;
            res_sq += r * r;
            if (a > max_abs) {
                max_abs = a;
                max_at = f;
            }
            if (first < 0 && a > threshold)
                first = f;
        }
    }

    int64_t last_len = n - (nblocks - 1) * block;
    lua_createtable(L, 0, 20);
    set_int(L, "frames", n);
    set_int(L, "take_frames", n_take);
    set_int(L, "offset", offset);
    set_num(L, "gain", gain);
    lua_pushboolean(L, inverted);
    lua_setfield(L, -2, "inverted");
    /* Levels over the frames outside dropouts, the take unscaled. */
    double rdb = db_of_power(d.ref_sq), tdb = db_of_power(d.take_sq);
    int64_t counted = n;
    for (size_t k = 0; k < d.n_runs; k++)
        counted -= d.runs[k].to - d.runs[k].from + 1;
    double norm = counted > 0 ? 10.0 * log10((double)counted) : 0.0;
    set_num(L, "reference_rms_db", rdb - norm);
    set_num(L, "take_rms_db", tdb - norm);
    set_num(L, "level_db_diff", level_diff);
    set_num(L, "max_abs_diff", max_abs);
    set_int(L, "max_abs_diff_at", max_at);
    if (first >= 0)
        set_int(L, "first_diff", first);
    double all_ref = 0.0;
    for (int64_t b = 0; b < nblocks; b++)
        all_ref += b_ref[b];
    set_num(L, "residual_db", all_ref > 0.0 ? db_of_power(res_sq / all_ref)
                                            : (res_sq > 0.0 ? HUGE_VAL : -HUGE_VAL));
    lua_createtable(L, (int)d.n_runs, 0);
    for (size_t k = 0; k < d.n_runs; k++) {
        lua_createtable(L, 0, 4);
        set_int(L, "from", d.runs[k].from);
        set_int(L, "to", d.runs[k].to);
        set_int(L, "frames", d.runs[k].to - d.runs[k].from + 1);
        lua_pushboolean(L, d.runs[k].edge);
        lua_setfield(L, -2, "edge");
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "dropouts");
    lua_pushboolean(L, d.truncated);
    lua_setfield(L, -2, "dropouts_truncated");
    set_int(L, "block", block);
    /* Per-block mean squares (the last block may be shorter). */
    for (int64_t b = 0; b < nblocks; b++) {
        double len = (double)(b == nblocks - 1 ? last_len : block);
        b_ref[b] /= len;
        b_take[b] /= len;
        b_res[b] /= len;
    }
    lua_createtable(L, 0, 3);
    push_db_list(L, b_ref, nblocks, 1.0);
    lua_setfield(L, -2, "reference");
    push_db_list(L, b_take, nblocks, 1.0);
    lua_setfield(L, -2, "take");
    push_db_list(L, b_res, nblocks, 1.0);
    lua_setfield(L, -2, "residual");
    lua_setfield(L, -2, "blocks");
    return 1;
}

/* ---- spectrum ------------------------------------------------------------ */

typedef struct cplx {
    double re, im;
} cplx;

/* In-place iterative radix-2 FFT of size m (a power of two). */
static void fft(cplx *x, size_t m)
{
    for (size_t i = 1, j = 0; i < m; i++) {
        size_t bit = m >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            cplx t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
    }
    for (size_t len = 2; len <= m; len <<= 1) {
        double ang = -TWO_PI / (double)len;
        cplx wl = {cos(ang), sin(ang)};
        for (size_t i = 0; i < m; i += len) {
            cplx w = {1.0, 0.0};
            for (size_t k = 0; k < len / 2; k++) {
                cplx u = x[i + k], v = x[i + k + len / 2];
                cplx t = {v.re * w.re - v.im * w.im, v.re * w.im + v.im * w.re};
                x[i + k].re = u.re + t.re;
                x[i + k].im = u.im + t.im;
                x[i + k + len / 2].re = u.re - t.re;
                x[i + k + len / 2].im = u.im - t.im;
                cplx nw = {w.re * wl.re - w.im * wl.im, w.re * wl.im + w.im * wl.re};
                w = nw;
            }
        }
    }
}

static const opt_spec spectrum_opts[] = {
    {"channel", OPT_INTEGER}, {"start", OPT_INTEGER}, {"frames", OPT_INTEGER},
    {"size", OPT_INTEGER},    {"bands", OPT_STRING},  {NULL, 0},
};

static int a_spectrum(lua_State *L)
{
    static const char *const band_kinds[] = {"third", "octave", NULL};
    const char *path = luaL_checkstring(L, 1);
    check_opts(L, 2, spectrum_opts);
    lua_Integer channel = opt_int(L, 2, "channel", 1, 1, 1 << 20);
    lua_Integer size = opt_int(L, 2, "size", 8192, 256, 1 << 20);
    if (size & (size - 1))
        luaL_error(L, "bad option 'size' (a power of two expected, got %I)", size);
    int kind = 0;
    if (has_opt(L, 2, "bands")) {
        lua_getfield(L, 2, "bands");
        kind = luaL_checkoption(L, -1, NULL, band_kinds);
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    char err[600];
    areader *r = reader_open(L, path, channel, err, sizeof err);
    if (!r)
        return push_fail(L, err);
    int rate = r->info.samplerate;
    int64_t start, frames;
    opt_range(L, 2, reader_frames(r), &start, &frames);
    size_t m = (size_t)size;
    double *win = lua_newuserdatauv(L, m * sizeof *win, 0);
    double *pow_acc = lua_newuserdatauv(L, (m / 2 + 1) * sizeof *pow_acc, 0);
    cplx *x = lua_newuserdatauv(L, m * sizeof *x, 0);
    float *buf = lua_newuserdatauv(L, m * sizeof *buf, 0);
    double wsq = 0.0;
    for (size_t i = 0; i < m; i++) {
        win[i] = 0.5 - 0.5 * cos(TWO_PI * (double)i / (double)m);
        wsq += win[i] * win[i];
    }
    memset(pow_acc, 0, (m / 2 + 1) * sizeof *pow_acc);
    /* Windows every m/2 frames; a file shorter than one window is padded
     * with silence (its level is then that of the window). */
    size_t hop = m / 2;
    int64_t nwin = frames <= (int64_t)m ? 1 : 1 + (frames - (int64_t)m) / (int64_t)hop;
    for (int64_t k = 0; k < nwin; k++) {
        int64_t at = start + k * (int64_t)hop;
        for (size_t pos = 0; pos < m; pos += CHUNK) {
            size_t c = m - pos < CHUNK ? m - pos : CHUNK;
            if (reader_read(r, at + (int64_t)pos, buf + pos, c, err, sizeof err) != 0)
                return push_fail(L, err);
        }
        if (frames < (int64_t)m)
            for (size_t i = (size_t)(frames > 0 ? frames : 0); i < m; i++)
                buf[i] = 0.0f;
        for (size_t i = 0; i < m; i++) {
            x[i].re = buf[i] * win[i];
            x[i].im = 0.0;
        }
        fft(x, m);
        for (size_t b = 0; b <= m / 2; b++) {
            double p = x[b].re * x[b].re + x[b].im * x[b].im;
            pow_acc[b] += (b == 0 || b == m / 2) ? p : 2.0 * p;
        }
    }
    /* Parseval: mean square = sum over bins / (m * sum of w^2). */
    double scale = 1.0 / ((double)m * wsq * (double)nwin);
    double nyq = rate / 2.0, res = (double)rate / (double)m;
    lua_createtable(L, 0, 5);
    set_int(L, "rate", rate);
    set_int(L, "size", size);
    set_int(L, "frames", frames);
    set_int(L, "windows", nwin);
    lua_newtable(L);
    lua_Integer nb = 0;
    double step = kind == 0 ? 0.1 : 0.3, half = step / 2.0;
    for (int k = -30; k <= 20; k++) {
        double center = 1000.0 * pow(10.0, step * k);
        double lo = center * pow(10.0, -half), hi = center * pow(10.0, half);
        if (center < 19.0)
            continue;
        if (hi > nyq)
            break;
        size_t b0 = (size_t)ceil(lo / res), b1 = (size_t)ceil(hi / res);
        if (b1 <= b0 || b0 == 0)
            continue; /* no bin falls in the band at this resolution */
        double p = 0.0;
        for (size_t b = b0; b < b1 && b <= m / 2; b++)
            p += pow_acc[b];
        lua_createtable(L, 0, 4);
        set_num(L, "center", center);
        set_num(L, "low", lo);
        set_num(L, "high", hi);
        set_num(L, "db", db_of_power(p * scale));
        lua_rawseti(L, -2, ++nb);
    }
    lua_setfield(L, -2, "bands");
    return 1;
}

/* ---- extract ------------------------------------------------------------- */

static int a_extract(lua_State *L)
{
    const char *src = luaL_checkstring(L, 1);
    const char *dst = luaL_checkstring(L, 2);
    lua_Integer start = luaL_checkinteger(L, 3);
    lua_Integer frames = luaL_checkinteger(L, 4);
    const char *fmt = luaL_optstring(L, 5, "wav32f");
    luaL_argcheck(L, frames >= 0 && frames <= ((lua_Integer)1 << 40), 4, "frames out of range");
    luaL_argcheck(L, start >= -((lua_Integer)1 << 40) && start <= ((lua_Integer)1 << 40), 3,
                  "start out of range");
    reel_format format;
    if (reel_format_parse(fmt, &format) != 0)
        return luaL_argerror(L, 5, lua_pushfstring(L, "invalid format '%s' (wav24, wav32f, "
                                                      "flac or rf64 expected)", fmt));
    lua_settop(L, 5);
    char err[600];
    areader *r = reader_open(L, src, 1, err, sizeof err);
    if (!r)
        return push_fail(L, err);
    unsigned ch = (unsigned)r->info.channels;
    reel_writer_config wc;
    memset(&wc, 0, sizeof wc);
    wc.path = dst;
    wc.format = format;
    wc.rate = (unsigned)r->info.samplerate;
    wc.channels = ch;
    wc.description = "reel.analysis.extract";
    char werr[REEL_ERRMSG_MAX] = "";
    reel_writer *w = NULL;
    int rc = reel_writer_open(&w, &wc, werr);
    if (rc != 0)
        return push_fail(L, werr[0] ? werr : reel_strerror(rc));
    float *out = malloc((size_t)CHUNK * ch * sizeof *out);
    if (!out) {
        reel_writer_close(w);
        unlink(dst);
        return push_fail(L, "out of memory");
    }
    int64_t total = reader_frames(r);
    for (int64_t pos = 0; rc == 0 && pos < frames; pos += CHUNK) {
        size_t c = (size_t)(frames - pos < CHUNK ? frames - pos : CHUNK);
        int64_t at = start + pos;
        memset(out, 0, c * ch * sizeof *out);
        /* The part of [at, at + c) inside the file. */
        int64_t lo = at < 0 ? 0 : at, hi = at + (int64_t)c < total ? at + (int64_t)c : total;
        if (hi > lo) {
            if (sf_seek(r->sf, lo, SEEK_SET) < 0 ||
                sf_readf_float(r->sf, out + (size_t)(lo - at) * ch, hi - lo) != hi - lo) {
                snprintf(err, sizeof err, "%s: read error at frame %lld: %s", src,
                         (long long)lo, sf_strerror(r->sf));
                free(out);
                reel_writer_close(w);
                unlink(dst);
                return push_fail(L, err);
            }
        }
        rc = reel_writer_write(w, out, c);
    }
    free(out);
    if (rc != 0) {
        snprintf(err, sizeof err, "%s", reel_writer_error(w));
        reel_writer_close(w);
        unlink(dst);
        return push_fail(L, err[0] ? err : reel_strerror(rc));
    }
    rc = reel_writer_close(w);
    if (rc != 0) {
        unlink(dst);
        return push_fail(L, reel_strerror(rc));
    }
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg analysis_funcs[] = {
    {"stats", a_stats},
    {"align", a_align},
    {"diff", a_diff},
    {"spectrum", a_spectrum},
    {"extract", a_extract},
    {NULL, NULL},
};

int luaopen_reel_analysis(lua_State *L)
{
    if (luaL_newmetatable(L, READER_META)) {
        lua_pushcfunction(L, reader_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, reader_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    luaL_newlib(L, analysis_funcs);
    return 1;
}
