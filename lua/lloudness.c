/* lloudness.c: the "reel.loudness_core" module, the C primitives under
 * scripts/reel/loudness.lua (which holds the targets, reports and the
 * friendly API; see engine/loudness.h for what is measured and how).
 *
 *   core.measure(path)
 *       -> {integrated, range, momentary_max, short_term_max, true_peak,
 *           sample_peak, peak_channel, frames, rate, channels, seconds}
 *          | nil, msg
 *       levels in LUFS / LU / dBTP / dBFS; -math.huge where there is no
 *       finite answer (integrated loudness of silence: too quiet to
 *       measure; the peaks of digital silence).
 *   core.normalize(in, out, target_lufs, ceiling_dbtp)
 *       -> {before = measures, after = measures, gain, target_gain,
 *           ceiling_gain, limited} | nil, msg
 *       writes the new file out (never replaced) with one gain,
 *       min(target - integrated, ceiling - true_peak), and measures it again.
 *   core.version() -> "1.2.6" (libebur128's)
 *
 * Caller mistakes (wrong types, non-finite levels) raise; failures of the
 * files (missing, not sound, truncated, existing output, disk) return nil,
 * message naming the file. Threads: control thread only. */
#include <ebur128.h>
#include <math.h>
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "loudness.h"
#include "lreel_int.h"

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_measures(lua_State *L, const reel_loudness *m)
{
    lua_createtable(L, 0, 11);
    set_num(L, "integrated", m->integrated);
    set_num(L, "range", m->range);
    set_num(L, "momentary_max", m->momentary_max);
    set_num(L, "short_term_max", m->short_term_max);
    set_num(L, "true_peak", m->true_peak);
    set_num(L, "sample_peak", m->sample_peak);
    lreel_set_int(L, "peak_channel", (lua_Integer)m->peak_channel);
    lreel_set_int(L, "frames", (lua_Integer)m->frames);
    lreel_set_int(L, "rate", (lua_Integer)m->rate);
    lreel_set_int(L, "channels", (lua_Integer)m->channels);
    set_num(L, "seconds", m->rate ? (double)m->frames / m->rate : 0.0);
}

static int l_measure(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    reel_loudness m;
    char msg[REEL_ERRMSG_MAX];
    if (reel_loudness_measure_file(path, &m, msg) < 0)
        return lreel_fail(L, msg);
    push_measures(L, &m);
    return 1;
}

static double check_level(lua_State *L, int arg, const char *what)
{
    double v = luaL_checknumber(L, arg);
    luaL_argcheck(L, isfinite(v), arg, lua_pushfstring(L, "%s must be a finite number", what));
    return v;
}

static int l_normalize(lua_State *L)
{
    const char *in = luaL_checkstring(L, 1);
    const char *out = luaL_checkstring(L, 2);
    double target = check_level(L, 3, "the target (LUFS)");
    double ceiling = check_level(L, 4, "the ceiling (dBTP)");
    reel_loudness_normalized r;
    char msg[REEL_ERRMSG_MAX];
    if (reel_loudness_normalize(in, out, target, ceiling, &r, msg) < 0)
        return lreel_fail(L, msg);
    lua_createtable(L, 0, 6);
    push_measures(L, &r.before);
    lua_setfield(L, -2, "before");
    push_measures(L, &r.after);
    lua_setfield(L, -2, "after");
    set_num(L, "gain", r.gain_db);
    set_num(L, "target_gain", r.target_gain_db);
    set_num(L, "ceiling_gain", r.ceiling_gain_db);
    lua_pushboolean(L, r.limited);
    lua_setfield(L, -2, "limited");
    return 1;
}

static int l_version(lua_State *L)
{
    int a, b, c;
    ebur128_get_version(&a, &b, &c);
    lua_pushfstring(L, "%d.%d.%d", a, b, c);
    return 1;
}

static const luaL_Reg loudness_funcs[] = {
    {"measure", l_measure},
    {"normalize", l_normalize},
    {"version", l_version},
    {NULL, NULL},
};

int luaopen_reel_loudness_core(lua_State *L)
{
    luaL_newlib(L, loudness_funcs);
    return 1;
}
