/* lcalibrate.c: the "reel.calibrate" module, primitives for `reel calibrate`
 * (scripts/reel/cli/calibrate.lua) and the latency profile.
 *
 *   calibrate.write_signal(path, spec, frames[, rate]) -> true | nil, msg
 *       renders frames of generator spec (e.g. "mls:16:-12") to a new mono
 *       32-bit float WAV at path (never replaces a file); a bad spec raises.
 *   calibrate.measure(played, recorded[, {start=, max_lag=}])
 *       -> result | nil, msg, partial_result
 *       played, recorded: a sound file path (its first channel is used) or a
 *       list of samples. The played signal is looked for in recorded from
 *       frame start (default 0) over delays 0..max_lag (default: as many as
 *       the recording holds). result: {delay, confidence, correlation,
 *       level_db, gain_db, inverted, lags}; delay counts from start. A
 *       refusal (silence, no clear peak) returns nil, the message and the
 *       best lag found as a partial result, for diagnostics.
 *   calibrate.tempdir() -> path | nil, msg
 *       a new private directory under $TMPDIR (or /tmp), for the test
 *       signal and the take; the caller removes it.
 *   calibrate.guard, calibrate.min_confidence, calibrate.mls_min_order,
 *   calibrate.mls_max_order: latency.h's and generator.h's constants.
 *
 * Caller mistakes raise; failures of the outside world (unreadable file, no
 * loopback) return nil, message. Threads: control thread only. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "generator.h"
#include "latency.h"
#include "soundfile.h"
#include "writer.h"

static int push_fail(lua_State *L, const char *msg)
{
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
}

/* calibrate.write_signal(path, spec, frames[, rate]) -> true | nil, msg */
static int c_write_signal(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *spec = luaL_checkstring(L, 2);
    lua_Integer frames = luaL_checkinteger(L, 3);
    lua_Integer rate = luaL_optinteger(L, 4, 48000);
    luaL_argcheck(L, frames >= 1 && (size_t)frames <= REEL_LATENCY_MAX_FRAMES, 3,
                  "frames out of range");
    luaL_argcheck(L, rate >= 1000 && rate <= 768000, 4, "rate out of range 1000..768000");
    char err[REEL_ERRMSG_MAX] = "";
    reel_gen *g = NULL;
    if (reel_gen_create(&g, spec, (unsigned)rate, err) != 0)
        return luaL_argerror(L, 2, lua_pushstring(L, err));
    reel_writer_config wc;
    memset(&wc, 0, sizeof wc);
    wc.path = path;
    wc.format = REEL_FORMAT_WAV32F;
    wc.rate = (unsigned)rate;
    wc.channels = 1;
    wc.description = spec;
    reel_writer *w = NULL;
    int rc = reel_writer_open(&w, &wc, err);
    if (rc != 0) {
        reel_gen_destroy(g);
        return push_fail(L, err[0] ? err : reel_strerror(rc));
    }
    float buf[4096];
    size_t left = (size_t)frames;
    while (rc == 0 && left > 0) {
        size_t n = left < 4096 ? left : 4096;
        reel_gen_fill_rt(g, buf, n);
        rc = reel_writer_write(w, buf, n);
        left -= n;
    }
    reel_gen_destroy(g);
    if (rc != 0) {
        snprintf(err, sizeof err, "%s", reel_writer_error(w));
        reel_writer_close(w);
        unlink(path);
        return push_fail(L, err[0] ? err : reel_strerror(rc));
    }
    rc = reel_writer_close(w);
    if (rc != 0) {
        unlink(path);
        return push_fail(L, reel_strerror(rc));
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Raises unless arg is a path or a list of numbers. */
static void check_signal(lua_State *L, int arg)
{
    if (lua_type(L, arg) != LUA_TTABLE) {
        luaL_checkstring(L, arg);
        return;
    }
    lua_Integer len = (lua_Integer)lua_rawlen(L, arg);
    for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(L, arg, i);
        if (!lua_isnumber(L, -1))
            luaL_argerror(L, arg, lua_pushfstring(L, "number expected at index %I, got %s", i,
                                                  luaL_typename(L, -1)));
        lua_pop(L, 1);
    }
}

/* A signal argument already checked by check_signal: a path (first channel)
 * or a list of numbers. Reads frames [start, start + max) into a malloc'ed
 * buffer. Returns NULL with a message in err on a failure of the file. */
static float *load_signal(lua_State *L, int arg, size_t start, size_t max, size_t *n, char *err)
{
    *n = 0;
    if (lua_type(L, arg) == LUA_TTABLE) {
        size_t total = lua_rawlen(L, arg);
        size_t count = total > start ? total - start : 0;
        if (count > max)
            count = max;
        float *x = malloc((count ? count : 1) * sizeof *x);
        if (!x) {
            snprintf(err, REEL_ERRMSG_MAX, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < count; i++) {
            lua_rawgeti(L, arg, (lua_Integer)(start + i + 1));
            x[i] = (float)lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        *n = count;
        return x;
    }
    const char *path = lua_tostring(L, arg);
    reel_sound_info si;
    if (reel_sound_get_info(path, &si, err) != 0)
        return NULL;
    if (si.channels == 0) {
        snprintf(err, REEL_ERRMSG_MAX, "%s: no channels", path);
        return NULL;
    }
    size_t count = si.frames > start ? (size_t)(si.frames - start) : 0;
    if (count > max)
        count = max;
    if (count > REEL_LATENCY_MAX_FRAMES + 1)
        count = REEL_LATENCY_MAX_FRAMES + 1; /* enough for latency.c to refuse */
    float *inter = malloc((count ? count : 1) * si.channels * sizeof *inter);
    if (!inter) {
        snprintf(err, REEL_ERRMSG_MAX, "%s: out of memory for %zu frames", path, count);
        return NULL;
    }
    size_t got = 0;
    if (count > 0 && reel_sound_read(path, start, inter, count, &got, err) != 0) {
        free(inter);
        return NULL;
    }
    for (size_t i = 0; i < got; i++)
        inter[i] = inter[i * si.channels];
    *n = got;
    return inter;
}

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_result(lua_State *L, const reel_latency_result *r)
{
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, r->delay);
    lua_setfield(L, -2, "delay");
    set_num(L, "confidence", r->confidence);
    set_num(L, "correlation", r->correlation);
    set_num(L, "level_db", r->level_db);
    set_num(L, "gain_db", r->gain_db);
    lua_pushboolean(L, r->inverted);
    lua_setfield(L, -2, "inverted");
    lua_pushinteger(L, (lua_Integer)r->lags);
    lua_setfield(L, -2, "lags");
}

static lua_Integer opt_field(lua_State *L, int arg, const char *key, lua_Integer def)
{
    if (lua_isnoneornil(L, arg))
        return def;
    lua_getfield(L, arg, key);
    lua_Integer v = def;
    if (!lua_isnil(L, -1)) {
        int isint;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < 0)
            luaL_error(L, "bad option '%s' (non-negative integer expected)", key);
    }
    lua_pop(L, 1);
    return v;
}

/* calibrate.measure(played, recorded[, {start=, max_lag=}]) */
static int c_measure(lua_State *L)
{
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 3)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (strcmp(k, "start") != 0 && strcmp(k, "max_lag") != 0)
                luaL_error(L, "unknown option '%s'", lua_type(L, -2) == LUA_TSTRING ? k : "?");
            lua_pop(L, 1);
        }
    }
    lua_Integer start = opt_field(L, 3, "start", 0);
    lua_Integer max_lag = opt_field(L, 3, "max_lag", -1);
    check_signal(L, 1);
    check_signal(L, 2);

    char err[REEL_ERRMSG_MAX] = "";
    size_t n_played = 0, n_rec = 0;
    float *played = load_signal(L, 1, 0, REEL_LATENCY_MAX_FRAMES + 1, &n_played, err);
    if (!played)
        return push_fail(L, err);
    size_t max = max_lag < 0 ? (size_t)-1 : n_played + (size_t)max_lag;
    float *rec = load_signal(L, 2, (size_t)start, max, &n_rec, err);
    if (!rec) {
        free(played);
        return push_fail(L, err);
    }
    reel_latency_result *res = malloc(sizeof *res);
    if (!res) {
        free(played);
        free(rec);
        return push_fail(L, "out of memory");
    }
    int rc = reel_latency_measure(played, n_played, rec, n_rec, res);
    free(played);
    free(rec);
    reel_latency_result r = *res;
    free(res);
    if (rc != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, r.message[0] ? r.message : reel_strerror(rc));
        push_result(L, &r);
        return 3;
    }
    push_result(L, &r);
    return 1;
}

/* calibrate.tempdir() -> path | nil, msg */
static int c_tempdir(lua_State *L)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/reel-calibrate.XXXXXX", base) >= (int)sizeof p)
        return push_fail(L, "TMPDIR is too long");
    if (!mkdtemp(p)) {
        int e = errno;
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: cannot create a temporary directory: %s", base, strerror(e));
        return 2;
    }
    lua_pushstring(L, p);
    return 1;
}

static const luaL_Reg calibrate_funcs[] = {
    {"write_signal", c_write_signal},
    {"measure", c_measure},
    {"tempdir", c_tempdir},
    {NULL, NULL},
};

int luaopen_reel_calibrate(lua_State *L)
{
    luaL_newlib(L, calibrate_funcs);
    lua_pushinteger(L, REEL_LATENCY_GUARD);
    lua_setfield(L, -2, "guard");
    lua_pushnumber(L, REEL_LATENCY_MIN_CONFIDENCE);
    lua_setfield(L, -2, "min_confidence");
    lua_pushinteger(L, REEL_MLS_MIN_ORDER);
    lua_setfield(L, -2, "mls_min_order");
    lua_pushinteger(L, REEL_MLS_MAX_ORDER);
    lua_setfield(L, -2, "mls_max_order");
    return 1;
}
