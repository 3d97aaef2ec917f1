/* ltempo.c: the "reel.tempo" module, the tempo map of engine/tempo.h in Lua.
 *
 *     local tempo = require "reel.tempo"
 *     local m = tempo.new(48000, 120, "4/4")
 *     m:set(17, 90, "6/8")                  -- from bar 17 on
 *     m:to_sample(17, 1)                    --> 1536000
 *     m:to_bbt(1536000)                     --> 17, 1, 0.0
 *     m:parse("17:2.5")                     --> 1576000
 *
 * A thin wrapper: every position comes from the engine's functions (one
 * formula, rounding half up; see tempo.h), never from arithmetic here, so
 * Lua, the transport and the metronome always agree to the sample. What this
 * file adds is Lua's conventions, shaped like liolib.c: one userdata type
 * ("reel.tempo") created closed and then filled, __gc/__close/close sharing
 * one idempotent function, luaL_Reg tables, and caller mistakes (a bpm out of
 * range, beat 5 of a 4/4 bar, a sample outside the map) raised as errors
 * naming the argument. The engine's own messages are used where it has them
 * (with its "tempo: " prefix dropped, the Lua error says where already); the
 * real-time queries only return REEL_EINVAL, so for them the reason is
 * worked out here from the same limits (tempo.h's constants). Parsing what a
 * person typed is not a caller mistake: parse returns nil and the engine's
 * message.
 *
 * Threads: the script's (control) thread, like every Lua call. A map made
 * here belongs to its Lua state; the engine never sees it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "reel_error.h"
#include "tempo.h"

#define TEMPO_META "reel.tempo"

typedef struct ltempo {
    reel_tempo *m; /* NULL when closed */
} ltempo;

/* luaopen_reel_tempo is declared beside luaopen_reel_core in host.c. */
int luaopen_reel_tempo(lua_State *L);

/* ---- helpers ------------------------------------------------------------ */

static reel_tempo *check_map(lua_State *L)
{
    ltempo *t = luaL_checkudata(L, 1, TEMPO_META);
    if (!t->m)
        luaL_error(L, "attempt to use a closed tempo map");
    return t->m;
}

/* The engine's message without its "tempo: " prefix. */
static const char *reason(const char *msg)
{
    return strncmp(msg, "tempo: ", 7) == 0 ? msg + 7 : msg;
}

/* Reads "N/D" at arg into num/den. Only the form is checked here; the
 * engine judges the values (1..64 beats, den a power of two up to 32). */
static void check_meter(lua_State *L, int arg, int *num, int *den)
{
    const char *s = luaL_checkstring(L, arg);
    const char *p = s;
    long v[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 6)
                break;
            v[i] = v[i] * 10 + (*p++ - '0');
        }
        if (digits == 0 || digits > 6 || *p != (i == 0 ? '/' : '\0'))
            luaL_argerror(L, arg, lua_pushfstring(L, "meter '%s' is not N/D (4/4, 7/8)", s));
        p++;
    }
    *num = (int)v[0];
    *den = (int)v[1];
}

/* Raises the engine's complaint about (bar, bpm, meter) against the
 * argument it concerns; bar_arg is the stack index of the bar (or 0 when
 * there is none: new), bpm and meter follow it. */
static int value_error(lua_State *L, int bar_arg, int bpm_arg, const char *msg)
{
    const char *r = reason(msg);
    int arg = 0;
    if (strncmp(r, "bar ", 4) == 0)
        arg = bar_arg;
    else if (strncmp(r, "bpm ", 4) == 0)
        arg = bpm_arg;
    else if (strncmp(r, "meter ", 6) == 0)
        arg = bpm_arg + 1;
    if (arg > 0)
        return luaL_argerror(L, arg, r);
    return luaL_error(L, "%s", r);
}

/* A lua_Integer bar as an int for the engine; values beyond int become
 * values the engine refuses, so that it still writes the message. */
static int bar_value(lua_Integer bar)
{
    if (bar > REEL_TEMPO_BAR_MAX)
        return REEL_TEMPO_BAR_MAX + 1;
    if (bar < REEL_TEMPO_BAR_MIN)
        return REEL_TEMPO_BAR_MIN - 1;
    return (int)bar;
}

static int check_bar(lua_State *L, int arg, int min)
{
    lua_Integer bar = luaL_checkinteger(L, arg);
    if (bar < min || bar > REEL_TEMPO_BAR_MAX)
        luaL_argerror(L, arg, lua_pushfstring(L, "bar %I must be between %d and %d", bar, min,
                                              REEL_TEMPO_BAR_MAX));
    return (int)bar;
}

static void push_meter(lua_State *L, int num, int den)
{
    lua_pushfstring(L, "%d/%d", num, den);
}

/* ---- module functions --------------------------------------------------- */

/* tempo.new(rate, bpm[, "N/D"]) -> map. The meter defaults to 4/4. */
static int l_new(lua_State *L)
{
    lua_Integer rate = luaL_checkinteger(L, 1);
    lua_Number bpm = luaL_checknumber(L, 2);
    int num = 4, den = 4;
    if (!lua_isnoneornil(L, 3))
        check_meter(L, 3, &num, &den);
    if (rate < REEL_TEMPO_RATE_MIN || rate > REEL_TEMPO_RATE_MAX)
        return luaL_argerror(L, 1, lua_pushfstring(L, "sample rate %I must be between %d and %d",
                                                   rate, (int)REEL_TEMPO_RATE_MIN,
                                                   (int)REEL_TEMPO_RATE_MAX));
    ltempo *t = lua_newuserdatauv(L, sizeof *t, 0);
    t->m = NULL;
    luaL_setmetatable(L, TEMPO_META);
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_tempo_create(&t->m, (unsigned)rate, bpm, num, den, err);
    if (rc == REEL_ENOMEM)
        return luaL_error(L, "not enough memory");
    if (rc)
        return value_error(L, 0, 2, err);
    return 1;
}

/* ---- methods ------------------------------------------------------------ */

static int t_close(lua_State *L)
{
    ltempo *t = luaL_checkudata(L, 1, TEMPO_META);
    if (t->m) {
        reel_tempo *m = t->m;
        t->m = NULL;
        reel_tempo_destroy(m);
    }
    return 0;
}

static int t_tostring(lua_State *L)
{
    ltempo *t = luaL_checkudata(L, 1, TEMPO_META);
    if (!t->m) {
        lua_pushliteral(L, "reel.tempo (closed)");
        return 1;
    }
    reel_tempo_segment s;
    reel_tempo_get(t->m, 0, &s);
    unsigned n = reel_tempo_count(t->m);
    char buf[160];
    snprintf(buf, sizeof buf, "reel.tempo (%u Hz, %.10g bpm %d/%d", reel_tempo_rate(t->m), s.bpm,
             s.num, s.den);
    if (n > 1)
        lua_pushfstring(L, "%s, %d change%s after bar 1)", buf, (int)n - 1, n > 2 ? "s" : "");
    else
        lua_pushfstring(L, "%s)", buf);
    return 1;
}

static int t_len(lua_State *L)
{
    lua_pushinteger(L, reel_tempo_count(check_map(L)));
    return 1;
}

static int t_rate(lua_State *L)
{
    lua_pushinteger(L, reel_tempo_rate(check_map(L)));
    return 1;
}

/* m:set(bar, bpm[, "N/D"]) -> m. Without a meter the one in effect at bar
 * stays. Adds the change or replaces the one at that bar. */
static int t_set(lua_State *L)
{
    reel_tempo *m = check_map(L);
    int bar = bar_value(luaL_checkinteger(L, 2));
    lua_Number bpm = luaL_checknumber(L, 3);
    int num, den;
    if (!lua_isnoneornil(L, 4)) {
        check_meter(L, 4, &num, &den);
    } else {
        reel_tempo_segment s;
        if (reel_tempo_segment_at_rt(m, bar, &s) != 0)
            s.num = s.den = 4; /* the bar is out of range: the engine says so */
        num = s.num;
        den = s.den;
    }
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_tempo_set(m, bar, bpm, num, den, err);
    if (rc)
        return value_error(L, 2, 3, err);
    lua_settop(L, 1);
    return 1;
}

/* m:remove(bar) -> m. The change at bar 1 cannot be removed. */
static int t_remove(lua_State *L)
{
    reel_tempo *m = check_map(L);
    int bar = bar_value(luaL_checkinteger(L, 2));
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_tempo_remove(m, bar, err) != 0)
        return luaL_argerror(L, 2, reason(err));
    lua_settop(L, 1);
    return 1;
}

/* m:to_sample(bar, beat[, fraction]) -> sample */
static int t_to_sample(lua_State *L)
{
    reel_tempo *m = check_map(L);
    int bar = check_bar(L, 2, REEL_TEMPO_BAR_MIN);
    lua_Integer beat = luaL_checkinteger(L, 3);
    lua_Number fraction = luaL_optnumber(L, 4, 0.0);
    reel_tempo_segment s;
    reel_tempo_segment_at_rt(m, bar, &s);
    if (beat < 1)
        return luaL_argerror(L, 3, "beats start at 1");
    if (beat > s.num)
        return luaL_argerror(L, 3, lua_pushfstring(L, "bar %d has only %d beat%s", bar, s.num,
                                                   s.num == 1 ? "" : "s"));
    if (!(fraction >= 0.0 && fraction < 1.0))
        return luaL_argerror(L, 4, "fraction of a beat must be at least 0 and below 1");
    int64_t sample;
    if (reel_tempo_bbt_to_sample_rt(m, bar, (int)beat, fraction, &sample) != 0)
        return luaL_error(L, "tempo: cannot place %d:%d", bar, (int)beat);
    lua_pushinteger(L, (lua_Integer)sample);
    return 1;
}

/* The complaint about a sample outside the map. */
static int outside(lua_State *L, int arg, lua_Integer sample)
{
    return luaL_argerror(L, arg, lua_pushfstring(L, "sample %I is outside the map (bars %d to %d)",
                                                 sample, REEL_TEMPO_BAR_MIN,
                                                 REEL_TEMPO_BAR_MAX));
}

/* m:to_bbt(sample) -> bar, beat, fraction (of the beat, in [0, 1)) */
static int t_to_bbt(lua_State *L)
{
    reel_tempo *m = check_map(L);
    lua_Integer sample = luaL_checkinteger(L, 2);
    int bar, beat;
    double fraction;
    if (reel_tempo_sample_to_bbt_rt(m, (int64_t)sample, &bar, &beat, &fraction) != 0)
        return outside(L, 2, sample);
    lua_pushinteger(L, bar);
    lua_pushinteger(L, beat);
    lua_pushnumber(L, fraction);
    return 3;
}

/* m:format(sample) -> "BAR:BEAT" or "BAR:BEAT.FFF": the beat's fraction in
 * thousandths, truncated (so a position never shows as a later beat than
 * the one it is in) and without trailing zeros. parse() reads it back to
 * within a thousandth of a beat. */
static int t_format(lua_State *L)
{
    reel_tempo *m = check_map(L);
    lua_Integer sample = luaL_checkinteger(L, 2);
    int bar, beat;
    double fraction;
    if (reel_tempo_sample_to_bbt_rt(m, (int64_t)sample, &bar, &beat, &fraction) != 0)
        return outside(L, 2, sample);
    char buf[64];
    int ms = (int)floor(fraction * 1000.0);
    if (ms <= 0) {
        snprintf(buf, sizeof buf, "%d:%d", bar, beat);
    } else {
        snprintf(buf, sizeof buf, "%d:%d.%03d", bar, beat, ms > 999 ? 999 : ms);
        size_t n = strlen(buf);
        while (buf[n - 1] == '0')
            buf[--n] = 0;
    }
    lua_pushstring(L, buf);
    return 1;
}

/* m:parse(text) -> sample | nil, message. Samples ("96000"), seconds
 * ("12.5s") or bars:beats ("5:1", "5:2.5"), at or after 1:1. */
static int t_parse(lua_State *L)
{
    reel_tempo *m = check_map(L);
    const char *text = luaL_checkstring(L, 2);
    char err[REEL_ERRMSG_MAX] = "";
    int64_t sample;
    if (reel_tempo_parse_position(m, text, &sample, err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)sample);
    return 1;
}

/* m:bar_length(bar) -> samples */
static int t_bar_length(lua_State *L)
{
    reel_tempo *m = check_map(L);
    int bar = check_bar(L, 2, REEL_TEMPO_BAR_MIN);
    int64_t n;
    if (reel_tempo_bar_length_rt(m, bar, &n) != 0)
        return luaL_error(L, "tempo: cannot measure bar %d", bar);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

/* m:next_beat(from) -> sample, bar, beat: the first beat at or after from
 * (beat 1 is a downbeat). */
static int t_next_beat(lua_State *L)
{
    reel_tempo *m = check_map(L);
    lua_Integer from = luaL_checkinteger(L, 2);
    int64_t pos;
    int bar, beat;
    if (reel_tempo_next_beat_rt(m, (int64_t)from, &pos, &bar, &beat) != 0)
        return luaL_argerror(L, 2, lua_pushfstring(L, "no beat at or after sample %I (the map "
                                                      "ends with bar %d)",
                                                   from, REEL_TEMPO_BAR_MAX));
    lua_pushinteger(L, (lua_Integer)pos);
    lua_pushinteger(L, bar);
    lua_pushinteger(L, beat);
    return 3;
}

/* m:to_seconds(sample) -> seconds (sample / rate) */
static int t_to_seconds(lua_State *L)
{
    reel_tempo *m = check_map(L);
    lua_Integer sample = luaL_checkinteger(L, 2);
    lua_pushnumber(L, reel_tempo_sample_to_seconds(m, (int64_t)sample));
    return 1;
}

/* m:from_seconds(seconds) -> sample (seconds * rate, rounded half up) */
static int t_from_seconds(lua_State *L)
{
    reel_tempo *m = check_map(L);
    lua_Number seconds = luaL_checknumber(L, 2);
    int64_t sample;
    if (reel_tempo_seconds_to_sample(m, seconds, &sample) != 0)
        return luaL_argerror(L, 2, lua_pushfstring(L, "%f seconds is not a position", seconds));
    lua_pushinteger(L, (lua_Integer)sample);
    return 1;
}

/* m:segments() -> { {bar=, bpm=, num=, den=, meter="N/D", start=, sample=}, ... }
 * in bar order; start is the exact (unrounded) start in samples, sample the
 * rounded one where the first beat lands. */
static int t_segments(lua_State *L)
{
    reel_tempo *m = check_map(L);
    unsigned n = reel_tempo_count(m);
    lua_createtable(L, (int)n, 0);
    for (unsigned i = 0; i < n; i++) {
        reel_tempo_segment s;
        reel_tempo_get(m, i, &s);
        lua_createtable(L, 0, 7);
        lua_pushinteger(L, s.bar);
        lua_setfield(L, -2, "bar");
        lua_pushnumber(L, s.bpm);
        lua_setfield(L, -2, "bpm");
        lua_pushinteger(L, s.num);
        lua_setfield(L, -2, "num");
        lua_pushinteger(L, s.den);
        lua_setfield(L, -2, "den");
        push_meter(L, s.num, s.den);
        lua_setfield(L, -2, "meter");
        lua_pushnumber(L, s.start);
        lua_setfield(L, -2, "start");
        lua_pushinteger(L, (lua_Integer)s.sample);
        lua_setfield(L, -2, "sample");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* m:at(bar) -> bpm, "N/D": the tempo and meter in effect at bar */
static int t_at(lua_State *L)
{
    reel_tempo *m = check_map(L);
    int bar = check_bar(L, 2, REEL_TEMPO_BAR_MIN);
    reel_tempo_segment s;
    reel_tempo_segment_at_rt(m, bar, &s);
    lua_pushnumber(L, s.bpm);
    push_meter(L, s.num, s.den);
    return 2;
}

static const luaL_Reg methods[] = {
    {"set", t_set},
    {"remove", t_remove},
    {"to_sample", t_to_sample},
    {"to_bbt", t_to_bbt},
    {"format", t_format},
    {"parse", t_parse},
    {"bar_length", t_bar_length},
    {"next_beat", t_next_beat},
    {"to_seconds", t_to_seconds},
    {"from_seconds", t_from_seconds},
    {"segments", t_segments},
    {"at", t_at},
    {"rate", t_rate},
    {"close", t_close},
    {NULL, NULL},
};

static const luaL_Reg meta[] = {
    {"__index", NULL}, /* placeholder */
    {"__gc", t_close},
    {"__close", t_close},
    {"__tostring", t_tostring},
    {"__len", t_len},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"new", l_new},
    {NULL, NULL},
};

int luaopen_reel_tempo(lua_State *L)
{
    luaL_newmetatable(L, TEMPO_META);
    luaL_setfuncs(L, meta, 0);
    luaL_newlibtable(L, methods);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newlib(L, funcs);
    lua_pushinteger(L, REEL_TEMPO_BAR_MIN);
    lua_setfield(L, -2, "BAR_MIN");
    lua_pushinteger(L, REEL_TEMPO_BAR_MAX);
    lua_setfield(L, -2, "BAR_MAX");
    lua_pushinteger(L, REEL_TEMPO_MAX_SEGMENTS);
    lua_setfield(L, -2, "MAX_SEGMENTS");
    return 1;
}
