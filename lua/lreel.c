/* lreel.c: the "reel.core" module, small primitives for the Lua library in scripts/reel.
 *
 * Shaped like Lua's liolib.c: luaL_Reg tables for functions and methods, one
 * userdata type ("reel.recorder", a device plus its capture) created closed
 * and then opened, __gc and __close sharing one idempotent close, caller
 * mistakes raised as errors naming the argument or option, outside-world
 * failures (no device, disk full, missing file) returned as nil, message.
 *
 * Threads: everything here runs on the control thread (the script's). Engine
 * threads (device, disk writer) are created with SIGINT/SIGTERM blocked, so
 * those signals always reach this thread and end its sleeps early. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "capture.h"
#include "device.h"
#include "generator.h"
#include "host.h"
#include "lreel_int.h"
#include "recorder.h"
#include "soundfile.h"
#include "writer.h"


/* ---- helpers ------------------------------------------------------------ */

int lreel_fail(lua_State *L, const char *msg)
{
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
}

static int fail_errno(lua_State *L, const char *what, const char *path)
{
    int e = errno;
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s%s%s", path, what, *what ? ": " : "", strerror(e));
    lua_pushinteger(L, e);
    return 3;
}

/* Blocks SIGINT/SIGTERM in this thread while engine threads are created, so
 * they inherit the mask and the signals come to the script's thread. */
void lreel_block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Restores the mask and then makes sure SIGINT/SIGTERM are deliverable here:
 * libjack saves the mask it sees at the first client open and re-blocks that
 * set when its last client closes, which would leave Ctrl-C blocked for good
 * on the control thread (found by the capture benchmark). */
void lreel_restore_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

double lreel_db_of(float peak)
{
    return peak > 0.0f ? 20.0 * log10((double)peak) : -HUGE_VAL;
}

/* ---- options ------------------------------------------------------------ */


static const char *opt_type_name(enum opt_type t)
{
    switch (t) {
    case OPT_STRING: return "string";
    case OPT_INTEGER: return "integer";
    case OPT_NUMBER: return "number";
    case OPT_BOOLEAN: return "boolean";
    case OPT_LIST: return "table";
    }
    return "?";
}

/* Raises on unknown keys and wrongly typed values in the options table at
 * index arg. Only keys of specs are allowed. */
void lreel_check_options(lua_State *L, int arg, const opt_spec *specs)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "bad option key (string expected, got %s)", luaL_typename(L, -2));
        const char *key = lua_tostring(L, -2);
        const opt_spec *s = specs;
        while (s->key && strcmp(s->key, key) != 0)
            s++;
        if (!s->key)
            luaL_error(L, "unknown option '%s'", key);
        int t = lua_type(L, -1);
        int ok;
        switch (s->type) {
        case OPT_STRING: ok = t == LUA_TSTRING; break;
        case OPT_NUMBER: ok = t == LUA_TNUMBER; break;
        case OPT_BOOLEAN: ok = t == LUA_TBOOLEAN; break;
        case OPT_LIST: ok = t == LUA_TTABLE; break;
        case OPT_INTEGER: {
            int isnum;
            lua_tointegerx(L, -1, &isnum);
            ok = t == LUA_TNUMBER && isnum;
            if (t == LUA_TNUMBER && !isnum)
                luaL_error(L, "bad option '%s' (integer expected, got non-integral number)",
                           key);
            break;
        }
        default: ok = 0;
        }
        if (!ok)
            luaL_error(L, "bad option '%s' (%s expected, got %s)", key,
                       opt_type_name(s->type), luaL_typename(L, -1));
        lua_pop(L, 1);
    }
}

/* Reads an already checked option; defaults when absent. */
const char *lreel_opt_string(lua_State *L, int arg, const char *key, const char *def)
{
    lua_getfield(L, arg, key);
    const char *s = lua_isnil(L, -1) ? def : lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays anchored in the options table */
    return s;
}

lua_Integer lreel_opt_integer(lua_State *L, int arg, const char *key, lua_Integer def,
                               lua_Integer min, lua_Integer max)
{
    lua_getfield(L, arg, key);
    lua_Integer v = def;
    if (!lua_isnil(L, -1)) {
        v = lua_tointeger(L, -1);
        if (v < min || v > max)
            luaL_error(L, "bad option '%s' (%I out of range %I..%I)", key, v, min, max);
    }
    lua_pop(L, 1);
    return v;
}

int lreel_opt_boolean(lua_State *L, int arg, const char *key)
{
    lua_getfield(L, arg, key);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* ---- recorder ----------------------------------------------------------- */

lrecorder *lreel_check_recorder(lua_State *L)
{
    lrecorder *r = luaL_checkudata(L, 1, RECORDER_META);
    if (!r->rec)
        luaL_error(L, "attempt to use a closed recorder");
    return r;
}

unsigned lreel_check_track(lua_State *L, lrecorder *r, int arg)
{
    reel_capture *c = reel_recorder_capture(r->rec);
    unsigned n = reel_capture_track_count(c);
    if (lua_type(L, arg) == LUA_TSTRING) {
        const char *name = lua_tostring(L, arg);
        for (unsigned i = 0; i < n; i++)
            if (strcmp(reel_capture_track_name(c, i), name) == 0)
                return i;
        luaL_argerror(L, arg, lua_pushfstring(L, "no track named '%s'", name));
    }
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || (lua_Unsigned)i > n)
        luaL_argerror(L, arg, lua_pushfstring(L, "no track %I (the recorder has %d)", i, (int)n));
    return (unsigned)(i - 1);
}

static const opt_spec open_opts[] = {
    {"device", OPT_STRING},      {"inputs", OPT_LIST},      {"channels", OPT_INTEGER},
    {"rate", OPT_INTEGER},       {"period", OPT_INTEGER},   {"name", OPT_STRING},
    {"no_connect", OPT_BOOLEAN}, {"format", OPT_STRING},    {"ring_seconds", OPT_NUMBER},
    {"originator", OPT_STRING},  {"outputs", OPT_INTEGER},  {"loopback", OPT_STRING},
    {"loopback_latency", OPT_INTEGER}, {NULL, 0},
};

/* core.open_recorder{...} -> recorder | nil, msg */
static int l_open_recorder(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    lreel_check_options(L, 1, open_opts);

    reel_device_config dc;
    memset(&dc, 0, sizeof dc);
    dc.spec = lreel_opt_string(L, 1, "device", "");
    dc.rate = (unsigned)lreel_opt_integer(L, 1, "rate", 0, 0, 768000);
    dc.period = (unsigned)lreel_opt_integer(L, 1, "period", 0, 0, 65536);
    dc.in_channels = (unsigned)lreel_opt_integer(L, 1, "channels", 0, 0, REEL_DEVICE_MAX_CHANNELS);
    dc.client_name = lreel_opt_string(L, 1, "name", NULL);
    dc.no_connect = lreel_opt_boolean(L, 1, "no_connect");
    dc.out_channels = (unsigned)lreel_opt_integer(L, 1, "outputs", 0, 0, REEL_DEVICE_MAX_CHANNELS);
    dc.loopback = lreel_opt_string(L, 1, "loopback", NULL);
    dc.loopback_latency = (unsigned)lreel_opt_integer(L, 1, "loopback_latency", 0, 0, 1 << 20);

    reel_capture_config cc;
    memset(&cc, 0, sizeof cc);
    const char *fmt = lreel_opt_string(L, 1, "format", "wav24");
    if (reel_format_parse(fmt, &cc.format) != 0)
        luaL_error(L, "bad option 'format' (invalid value '%s'; wav24, wav32f, flac or rf64 "
                      "expected)", fmt);
    lua_getfield(L, 1, "ring_seconds");
    cc.ring_seconds = lua_isnil(L, -1) ? 0.0 : lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (cc.ring_seconds != 0.0 && !(cc.ring_seconds >= 1.0 && cc.ring_seconds <= 600.0))
        luaL_error(L, "bad option 'ring_seconds' (%f out of range 1..600)", cc.ring_seconds);
    cc.originator = lreel_opt_string(L, 1, "originator", NULL);

    /* inputs: a list of strings, kept alive by the options table */
    const char **inputs = NULL;
    lua_getfield(L, 1, "inputs");
    if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        if (n > REEL_DEVICE_MAX_CHANNELS)
            luaL_error(L, "bad option 'inputs' (at most %d sources)", REEL_DEVICE_MAX_CHANNELS);
        inputs = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *inputs, 0);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -2, i) != LUA_TSTRING)
                luaL_error(L, "bad option 'inputs' (string expected at index %I, got %s)", i,
                           luaL_typename(L, -1));
            inputs[i - 1] = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        dc.inputs = inputs;
        dc.n_inputs = (unsigned)n;
    }
    /* the list (and scratch) stay on the stack until we return */

    lrecorder *r = lua_newuserdatauv(L, sizeof *r, 0);
    r->rec = NULL;
    r->label[0] = 0;
    luaL_setmetatable(L, RECORDER_META);

    char err[REEL_ERRMSG_MAX] = "";
    sigset_t old;
    lreel_block_signals(&old);
    int rc = reel_recorder_open(&r->rec, &dc, &cc, err);
    lreel_restore_signals(&old);
    if (rc) {
        r->rec = NULL;
        return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    }
    reel_device_info info;
    reel_recorder_get_info(r->rec, &info);
    snprintf(r->label, sizeof r->label, "%s '%s', %u Hz, %u in", info.api, info.name, info.rate,
             info.in_channels);
    return 1;
}

static int rec_close(lua_State *L)
{
    lrecorder *r = luaL_checkudata(L, 1, RECORDER_META);
    if (r->rec) {
        reel_recorder *rec = r->rec;
        r->rec = NULL;
        sigset_t old;
        lreel_block_signals(&old);
        reel_recorder_close(rec);
        lreel_restore_signals(&old);
    }
    return 0;
}

static int rec_tostring(lua_State *L)
{
    lrecorder *r = luaL_checkudata(L, 1, RECORDER_META);
    if (r->rec)
        lua_pushfstring(L, "reel.recorder (%s) (%p)", r->label, (void *)r);
    else
        lua_pushliteral(L, "reel.recorder (closed)");
    return 1;
}

static int rec_info(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    reel_device_info info;
    reel_recorder_get_info(r->rec, &info);
    lua_createtable(L, 0, 12);
    lua_pushstring(L, info.api);
    lua_setfield(L, -2, "api");
    lua_pushstring(L, info.name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, info.clock);
    lua_setfield(L, -2, "clock");
    lua_pushinteger(L, info.rate);
    lua_setfield(L, -2, "rate");
    lua_pushinteger(L, info.period);
    lua_setfield(L, -2, "period");
    lua_pushinteger(L, info.in_channels);
    lua_setfield(L, -2, "in_channels");
    lua_pushinteger(L, info.out_channels);
    lua_setfield(L, -2, "out_channels");
    lua_pushinteger(L, info.input_latency);
    lua_setfield(L, -2, "input_latency");
    lua_pushinteger(L, info.output_latency);
    lua_setfield(L, -2, "output_latency");
    lua_pushinteger(L, reel_capture_track_count(reel_recorder_capture(r->rec)));
    lua_setfield(L, -2, "tracks");
    lua_pushboolean(L, reel_recorder_running(r->rec));
    lua_setfield(L, -2, "running");
    return 1;
}

/* rec:add_track(name, {ch1[, ch2]}) -> index (1-based) | nil, msg */
static int rec_add_track(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    const char *name = luaL_checkstring(L, 2);
    unsigned ch[2];
    unsigned n = 0;
    if (lua_isinteger(L, 3)) {
        lua_Integer v = lua_tointeger(L, 3);
        luaL_argcheck(L, v >= 1, 3, "input channels count from 1");
        ch[n++] = (unsigned)(v - 1);
    } else {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_Integer len = luaL_len(L, 3);
        luaL_argcheck(L, len == 1 || len == 2, 3, "one or two input channels expected");
        for (lua_Integer i = 1; i <= len; i++) {
            int isnum;
            lua_rawgeti(L, 3, i);
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            lua_pop(L, 1);
            luaL_argcheck(L, isnum && v >= 1, 3, "input channels are integers counting from 1");
            ch[n++] = (unsigned)(v - 1);
        }
    }
    char err[REEL_ERRMSG_MAX] = "";
    int idx = reel_capture_add_track(reel_recorder_capture(r->rec), name, ch, n, err);
    if (idx < 0)
        return lreel_fail(L, err[0] ? err : reel_strerror(idx));
    lua_pushinteger(L, idx + 1);
    return 1;
}

/* rec:arm(track, armed) -> true | nil, msg */
static int rec_arm(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    unsigned t = lreel_check_track(L, r, 2);
    luaL_checktype(L, 3, LUA_TBOOLEAN);
    int rc = reel_capture_arm(reel_recorder_capture(r->rec), t, lua_toboolean(L, 3));
    if (rc)
        return lreel_fail(L, rc == REEL_ESTATE ? "tracks cannot be armed while recording"
                                         : reel_strerror(rc));
    lua_pushboolean(L, 1);
    return 1;
}

/* rec:start(paths, max_frames, description) -> true | nil, msg
 * paths[i] is the take file of track i (armed tracks only). */
static int rec_start(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer max_frames = luaL_optinteger(L, 3, 0);
    luaL_argcheck(L, max_frames >= 0, 3, "frames must not be negative");
    const char *desc = luaL_optstring(L, 4, NULL);
    reel_capture *c = reel_recorder_capture(r->rec);
    unsigned n = reel_capture_track_count(c);
    const char **paths = lua_newuserdatauv(L, (n ? n : 1) * sizeof *paths, 0);
    for (unsigned i = 0; i < n; i++) {
        int t = lua_rawgeti(L, 2, (lua_Integer)i + 1);
        if (t == LUA_TNIL) {
            paths[i] = NULL;
        } else if (t == LUA_TSTRING) {
            paths[i] = lua_tostring(L, -1); /* anchored in the paths table */
        } else {
            return luaL_argerror(L, 2, lua_pushfstring(L, "string expected at index %d, got %s",
                                                       (int)i + 1, luaL_typename(L, -1)));
        }
        lua_pop(L, 1);
    }
    char err[REEL_ERRMSG_MAX] = "";
    sigset_t old;
    lreel_block_signals(&old);
    int rc = reel_recorder_record(r->rec, paths, (uint64_t)max_frames, desc, err);
    lreel_restore_signals(&old);
    if (rc)
        return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    lua_pushboolean(L, 1);
    return 1;
}

/* rec:status() -> {running, complete, frames, meters, writer_error, alive} */
static int rec_status(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    reel_capture *c = reel_recorder_capture(r->rec);
    lua_createtable(L, 0, 7);
    lua_pushboolean(L, reel_capture_running(c));
    lua_setfield(L, -2, "running");
    lua_pushboolean(L, reel_capture_complete(c));
    lua_setfield(L, -2, "complete");
    lua_pushinteger(L, (lua_Integer)reel_capture_frames(c));
    lua_setfield(L, -2, "frames");
    lua_pushboolean(L, reel_recorder_alive(r->rec));
    lua_setfield(L, -2, "alive");
    unsigned n = reel_capture_track_count(c);
    lua_createtable(L, (int)n, 0);
    for (unsigned i = 0; i < n; i++) {
        lua_pushnumber(L, reel_capture_meter_take(c, i));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "meters");
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_capture_writer_status(c, err) != 0) {
        lua_pushstring(L, err[0] ? err : "disk writer failed");
        lua_setfield(L, -2, "writer_error");
    }
    return 1;
}

/* rec:stop() -> true | nil, msg (files are closed either way) */
static int rec_stop(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_recorder_end_take(r->rec, err);
    if (rc)
        return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    lua_pushboolean(L, 1);
    return 1;
}

void lreel_set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* rec:take_stats(track) -> table */
static int rec_take_stats(lua_State *L)
{
    lrecorder *r = lreel_check_recorder(L);
    unsigned t = lreel_check_track(L, r, 2);
    reel_take_stats *st = lua_newuserdatauv(L, sizeof *st, 0);
    int rc = reel_capture_take_stats(reel_recorder_capture(r->rec), t, st);
    if (rc)
        return lreel_fail(L, reel_strerror(rc));
    lreel_push_take_stats(L, r, t, st);
    return 1;
}

/* Pushes a table with the facts of one take of track t. */
void lreel_push_take_stats(lua_State *L, lrecorder *r, unsigned t, const reel_take_stats *st)
{
    reel_device_info info;
    reel_recorder_get_info(r->rec, &info);
    lua_createtable(L, 0, 16);
    lua_pushstring(L, reel_capture_track_name(reel_recorder_capture(r->rec), t));
    lua_setfield(L, -2, "track");
    lreel_set_int(L, "pass", st->pass);
    if (st->path[0]) {
        lua_pushstring(L, st->path);
        lua_setfield(L, -2, "path");
    }
    lreel_set_int(L, "start", (lua_Integer)st->start);
    lreel_set_int(L, "frames", (lua_Integer)st->frames);
    lreel_set_int(L, "rate", info.rate);
    lua_pushnumber(L, info.rate ? (double)st->frames / info.rate : 0.0);
    lua_setfield(L, -2, "seconds");
    lua_pushnumber(L, st->peak);
    lua_setfield(L, -2, "peak");
    lua_pushnumber(L, lreel_db_of(st->peak));
    lua_setfield(L, -2, "peak_db");
    lreel_set_int(L, "clipped", (lua_Integer)st->clipped);
    lreel_set_int(L, "xruns", st->xruns);
    unsigned nx = st->xruns < REEL_CAPTURE_MAX_EVENTS_LOGGED ? st->xruns
                                                             : REEL_CAPTURE_MAX_EVENTS_LOGGED;
    lua_createtable(L, (int)nx, 0);
    for (unsigned i = 0; i < nx; i++) {
        lua_pushinteger(L, (lua_Integer)st->xrun_pos[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "xrun_positions");
    lreel_set_int(L, "overruns", st->overruns);
    lreel_set_int(L, "lost_frames", (lua_Integer)st->lost_frames);
    unsigned ng = st->n_gaps;
    lua_createtable(L, (int)ng, 0);
    for (unsigned i = 0; i < ng; i++) {
        lua_createtable(L, 0, 2);
        lreel_set_int(L, "position", (lua_Integer)st->gaps[i].position);
        lreel_set_int(L, "frames", (lua_Integer)st->gaps[i].frames);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "gaps");
    if (st->error) {
        lua_pushstring(L, reel_strerror(st->error));
        lua_setfield(L, -2, "error");
    }
}

static const luaL_Reg rec_methods[] = {
    {"info", rec_info},     {"add_track", rec_add_track}, {"arm", rec_arm},
    {"start", rec_start},   {"status", rec_status},       {"stop", rec_stop},
    {"take_stats", rec_take_stats}, {"close", rec_close}, {NULL, NULL},
};

static const luaL_Reg rec_meta[] = {
    {"__index", NULL}, /* placeholder */
    {"__gc", rec_close},
    {"__close", rec_close},
    {"__tostring", rec_tostring},
    {NULL, NULL},
};

/* ---- devices ------------------------------------------------------------ */

static int l_version(lua_State *L)
{
    lua_pushstring(L, REEL_VERSION);
    return 1;
}

static int l_apis(lua_State *L)
{
    const char *names[16];
    size_t n = reel_device_apis(names, 16);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

#define MAX_LISTED 256

static int l_devices(lua_State *L)
{
    reel_device_desc *d = lua_newuserdatauv(L, MAX_LISTED * sizeof *d, 0);
    size_t count = 0;
    sigset_t old;
    lreel_block_signals(&old);
    int rc = reel_device_list(d, MAX_LISTED, &count);
    lreel_restore_signals(&old);
    if (rc)
        return lreel_fail(L, reel_strerror(rc));
    if (count > MAX_LISTED)
        count = MAX_LISTED;
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_createtable(L, 0, 8);
        lua_pushstring(L, d[i].api);
        lua_setfield(L, -2, "api");
        lua_pushstring(L, d[i].name);
        lua_setfield(L, -2, "name");
        lreel_set_int(L, "in_channels", d[i].in_channels);
        lreel_set_int(L, "out_channels", d[i].out_channels);
        lreel_set_int(L, "preferred_rate", d[i].preferred_rate);
        lua_createtable(L, (int)d[i].n_rates, 0);
        for (unsigned k = 0; k < d[i].n_rates && k < 16; k++) {
            lua_pushinteger(L, d[i].rates[k]);
            lua_rawseti(L, -2, (lua_Integer)k + 1);
        }
        lua_setfield(L, -2, "rates");
        lua_pushboolean(L, d[i].is_default_input);
        lua_setfield(L, -2, "default_input");
        lua_pushboolean(L, d[i].is_default_output);
        lua_setfield(L, -2, "default_output");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_formats(lua_State *L)
{
    static const reel_format all[] = {REEL_FORMAT_WAV24, REEL_FORMAT_WAV32F, REEL_FORMAT_FLAC,
                                      REEL_FORMAT_RF64};
    lua_createtable(L, 4, 0);
    for (int i = 0; i < 4; i++) {
        lua_pushstring(L, reel_format_name(all[i]));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* core.format_ext(name) -> "wav" | "flac"; raises on an unknown format */
static int l_format_ext(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    reel_format f;
    if (reel_format_parse(name, &f) != 0)
        return luaL_argerror(L, 1, lua_pushfstring(L, "invalid format '%s'", name));
    lua_pushstring(L, reel_format_ext(f));
    return 1;
}

static int l_is_generator(lua_State *L)
{
    lua_pushboolean(L, reel_gen_is_spec(luaL_checkstring(L, 1)));
    return 1;
}

/* ---- process and time --------------------------------------------------- */

static int l_interrupted(lua_State *L)
{
    lua_pushboolean(L, reel_host_interrupted());
    return 1;
}

static int l_clear_interrupted(lua_State *L)
{
    (void)L;
    reel_host_clear_interrupted();
    return 0;
}

/* core.sleep(seconds) -> true, or false when a signal (SIGINT/SIGTERM) ended
 * it early */
static int l_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && s <= 1e6, 1, "seconds out of range 0..1e6");
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    lua_pushboolean(L, nanosleep(&ts, NULL) == 0);
    return 1;
}

static int l_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

/* core.isatty(fd | file) -> boolean */
static int l_isatty(lua_State *L)
{
    int fd;
    luaL_Stream *f = luaL_testudata(L, 1, LUA_FILEHANDLE);
    if (f) {
        luaL_argcheck(L, f->f != NULL && f->closef != NULL, 1, "attempt to use a closed file");
        fd = fileno(f->f);
    } else {
        lua_Integer i = luaL_checkinteger(L, 1);
        luaL_argcheck(L, i >= 0 && i <= INT_MAX, 1, "not a file descriptor");
        fd = (int)i;
    }
    lua_pushboolean(L, isatty(fd));
    return 1;
}

/* ---- files -------------------------------------------------------------- */

static int l_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char p[PATH_MAX];
    size_t len = strlen(path);
    luaL_argcheck(L, len > 0, 1, "empty path");
    if (len >= sizeof p)
        return lreel_fail(L, "path too long");
    memcpy(p, path, len + 1);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return fail_errno(L, "cannot create directory", p);
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return fail_errno(L, "cannot create directory", p);
    struct stat st;
    if (stat(p, &st) != 0)
        return fail_errno(L, "", p);
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return fail_errno(L, "cannot create directory", p);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* core.exists(path) -> "file" | "directory" | "other" | false */
static int l_exists(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0)
        lua_pushboolean(L, 0);
    else if (S_ISREG(st.st_mode))
        lua_pushliteral(L, "file");
    else if (S_ISDIR(st.st_mode))
        lua_pushliteral(L, "directory");
    else
        lua_pushliteral(L, "other");
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* core.list_dir(path) -> sorted list of names (no . and ..) | nil, msg */
static int l_list_dir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (!d)
        return fail_errno(L, "", path);
    lua_newtable(L);
    lua_Integer n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    /* sort through C strings anchored in the table */
    const char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -2, i);
        names[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_pushstring(L, names[i - 1]);
        lua_rawseti(L, -2, i);
    }
    return 1;
}

/* core.sound_info(path) -> {frames, rate, channels, seconds, container, sample} | nil, msg */
static int l_sound_info(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    reel_sound_info si;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_sound_get_info(path, &si, err);
    if (rc)
        return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    lua_createtable(L, 0, 6);
    lreel_set_int(L, "frames", (lua_Integer)si.frames);
    lreel_set_int(L, "rate", si.rate);
    lreel_set_int(L, "channels", si.channels);
    lua_pushnumber(L, si.rate ? (double)si.frames / si.rate : 0.0);
    lua_setfield(L, -2, "seconds");
    lua_pushstring(L, si.container);
    lua_setfield(L, -2, "container");
    lua_pushstring(L, si.sample);
    lua_setfield(L, -2, "sample");
    return 1;
}

#define READ_MAX_SAMPLES (16 * 1024 * 1024)

/* core.read_frames(path, start, count) -> list of samples (interleaved),
 * channels | nil, msg. For checks and small analyses. */
static int l_read_frames(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer start = luaL_checkinteger(L, 2);
    lua_Integer count = luaL_checkinteger(L, 3);
    luaL_argcheck(L, start >= 0, 2, "start must not be negative");
    luaL_argcheck(L, count >= 0, 3, "count must not be negative");
    reel_sound_info si;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_sound_get_info(path, &si, err);
    if (rc)
        return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    luaL_argcheck(L, si.channels > 0 && (uint64_t)count * si.channels <= READ_MAX_SAMPLES, 3,
                  "too many samples for one read");
    float *buf = lua_newuserdatauv(L, (size_t)(count ? count : 1) * si.channels * sizeof *buf, 0);
    size_t got = 0;
    rc = reel_sound_read(path, (uint64_t)start, buf, (size_t)count, &got, err);
    if (rc)
        return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    size_t ns = got * si.channels;
    lua_createtable(L, (int)ns, 0);
    for (size_t i = 0; i < ns; i++) {
        lua_pushnumber(L, buf[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_pushinteger(L, si.channels);
    return 2;
}

/* core.write_atomic(path, data) -> true | nil, msg
 * Writes a sibling temp file, fsyncs it, renames it over path and fsyncs the
 * directory: readers see the old or the new content, never a mix. */
static int l_write_atomic(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return lreel_fail(L, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return fail_errno(L, "cannot create", tmp);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            errno = e ? e : EIO;
            return fail_errno(L, "cannot write", tmp);
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return fail_errno(L, "cannot sync", tmp);
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return fail_errno(L, "cannot close", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return fail_errno(L, "cannot rename into place", path);
    }
    /* Make the rename itself durable. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_lua_dir(lua_State *L)
{
    const char *d = reel_host_lua_dir();
    if (d)
        lua_pushstring(L, d);
    else
        luaL_pushfail(L);
    return 1;
}

static int l_share_dir(lua_State *L)
{
    const char *d = reel_host_share_dir();
    if (d)
        lua_pushstring(L, d);
    else
        luaL_pushfail(L);
    return 1;
}

static const luaL_Reg core_funcs[] = {
    {"version", l_version},
    {"apis", l_apis},
    {"devices", l_devices},
    {"formats", l_formats},
    {"format_ext", l_format_ext},
    {"is_generator", l_is_generator},
    {"open_recorder", l_open_recorder},
    {"interrupted", l_interrupted},
    {"clear_interrupted", l_clear_interrupted},
    {"sleep", l_sleep},
    {"now", l_now},
    {"isatty", l_isatty},
    {"mkdir_p", l_mkdir_p},
    {"exists", l_exists},
    {"list_dir", l_list_dir},
    {"sound_info", l_sound_info},
    {"read_frames", l_read_frames},
    {"write_atomic", l_write_atomic},
    {"lua_dir", l_lua_dir},
    {"share_dir", l_share_dir},
    {NULL, NULL},
};

int luaopen_reel_core(lua_State *L)
{
    luaL_newmetatable(L, RECORDER_META);
    luaL_setfuncs(L, rec_meta, 0);
    luaL_newlibtable(L, rec_methods);
    luaL_setfuncs(L, rec_methods, 0);
    luaL_setfuncs(L, lreel_transport_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newlib(L, core_funcs);
    return 1;
}
