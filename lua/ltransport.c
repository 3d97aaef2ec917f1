/* ltransport.c: the tracking methods of a reel.core recorder: transport
 * (locate, roll with pre-roll, count-in, punch and loop, stop), its events,
 * the tempo map, playback sources, input monitoring and the click.
 *
 * Positions here are plain sample numbers; the friendly conversions (seconds,
 * "bars:beats", section names) live in scripts/reel. Caller mistakes raise;
 * refusals of the engine (a bad roll, a missing file) return nil, message.
 * Threads: control thread only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lreel_int.h"

static reel_recorder *rec_of(lua_State *L) { return lreel_check_recorder(L)->rec; }

static int ok_or_fail(lua_State *L, int rc, const char *err)
{
    if (rc < 0)
        return lreel_fail(L, err && *err ? err : reel_strerror(rc));
    lua_pushboolean(L, 1);
    return 1;
}

/* rec:locate(pos) -> true | nil, msg */
static int t_locate(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    lua_Integer pos = luaL_checkinteger(L, 2);
    return ok_or_fail(L, reel_transport_locate(reel_recorder_transport(r), pos), NULL);
}

static int64_t opt_pos(lua_State *L, int arg, const char *key)
{
    lua_getfield(L, arg, key);
    int64_t v = REEL_POS_NONE;
    if (!lua_isnil(L, -1)) {
        int isint;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "bad option '%s' (integer sample position expected, got %s)", key,
                       luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

static const opt_spec roll_opts[] = {
    {"from", OPT_INTEGER},       {"preroll", OPT_INTEGER},    {"count_in", OPT_INTEGER},
    {"record", OPT_BOOLEAN},     {"punch_in", OPT_INTEGER},   {"punch_out", OPT_INTEGER},
    {"loop_start", OPT_INTEGER}, {"loop_end", OPT_INTEGER},   {"max_passes", OPT_INTEGER},
    {"autostop", OPT_INTEGER},   {"takes", OPT_LIST},         {"description", OPT_STRING},
    {NULL, 0},
};

/* rec:roll{from=, preroll=, count_in=, record=, punch_in=, punch_out=,
 *          loop_start=, loop_end=, max_passes=, autostop=,
 *          takes = { [track] = {prefix, first}, ... }, description=}
 * -> true | nil, msg. takes: per track (name or 1-based index) the file
 * prefix and first take number; required when record is true. */
static int t_roll(lua_State *L)
{
    lrecorder *lr = lreel_check_recorder(L);
    reel_recorder *r = lr->rec;
    lreel_check_options(L, 2, roll_opts);
    reel_roll roll;
    reel_roll_init(&roll);
    roll.from = opt_pos(L, 2, "from");
    if (roll.from == REEL_POS_NONE)
        roll.from = reel_transport_position(reel_recorder_transport(r));
    roll.preroll = lreel_opt_integer(L, 2, "preroll", 0, 0, (lua_Integer)1 << 60);
    roll.count_in = lreel_opt_integer(L, 2, "count_in", 0, 0, (lua_Integer)1 << 60);
    roll.record = lreel_opt_boolean(L, 2, "record");
    roll.punch_in = opt_pos(L, 2, "punch_in");
    roll.punch_out = opt_pos(L, 2, "punch_out");
    roll.loop_start = opt_pos(L, 2, "loop_start");
    roll.loop_end = opt_pos(L, 2, "loop_end");
    roll.max_passes = (unsigned)lreel_opt_integer(L, 2, "max_passes", 0, 0, 100000);
    roll.autostop = opt_pos(L, 2, "autostop");
    const char *desc = lreel_opt_string(L, 2, "description", NULL);

    reel_capture *c = reel_recorder_capture(r);
    unsigned n = reel_capture_track_count(c);
    reel_take_names *names = NULL;
    if (roll.record) {
        names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
        memset(names, 0, (n ? n : 1) * sizeof *names);
        lua_getfield(L, 2, "takes");
        int tk = lua_gettop(L);
        if (!lua_istable(L, tk))
            luaL_error(L, "bad option 'takes' (a recording roll names its take files)");
        lua_pushnil(L);
        while (lua_next(L, tk)) {
            lua_pushvalue(L, -2);
            unsigned t = lreel_check_track(L, lr, lua_gettop(L));
            lua_pop(L, 1);
            if (!lua_istable(L, -1))
                luaL_error(L, "bad option 'takes' (table {prefix, first} expected for track "
                              "'%s')", reel_capture_track_name(c, t));
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            if (!lua_isstring(L, -2) || !lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
                luaL_error(L, "bad option 'takes' (track '%s' needs {prefix, first take "
                              "number})", reel_capture_track_name(c, t));
            names[t].prefix = lua_tostring(L, -2); /* anchored in the takes table */
            names[t].first = (unsigned)lua_tointeger(L, -1);
            lua_pop(L, 3);
        }
        for (unsigned t = 0; t < n; t++)
            if (reel_capture_armed(c, t) && !names[t].prefix)
                luaL_error(L, "bad option 'takes' (armed track '%s' has no take name)",
                           reel_capture_track_name(c, t));
    }
    char err[REEL_ERRMSG_MAX] = "";
    sigset_t old;
    lreel_block_signals(&old);
    int rc = reel_recorder_roll(r, &roll, names, desc, err);
    lreel_restore_signals(&old);
    return ok_or_fail(L, rc, err);
}

/* rec:start_device() -> true | nil, msg: runs the device (meters, monitoring)
 * before a roll; JACK ports accept connections only once it runs. */
static int t_start_device(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    char err[REEL_ERRMSG_MAX] = "";
    sigset_t old;
    lreel_block_signals(&old);
    int rc = reel_recorder_start(r, err);
    lreel_restore_signals(&old);
    return ok_or_fail(L, rc, err);
}

/* rec:stop_roll() -> true */
static int t_stop_roll(lua_State *L)
{
    return ok_or_fail(L, reel_recorder_stop_roll(rec_of(L)), NULL);
}

/* rec:finish_roll() -> true | nil, msg: closes the takes once recording is done. */
static int t_finish_roll(lua_State *L)
{
    char err[REEL_ERRMSG_MAX] = "";
    return ok_or_fail(L, reel_recorder_finish_roll(rec_of(L), err), err);
}

static const char *event_name(reel_transport_event_type t)
{
    switch (t) {
    case REEL_TEV_ROLLING: return "rolling";
    case REEL_TEV_TAKE_START: return "take_start";
    case REEL_TEV_TAKE_END: return "take_end";
    case REEL_TEV_LOOP: return "loop";
    case REEL_TEV_STOPPED: return "stopped";
    case REEL_TEV_RECORD_DONE: return "record_done";
    }
    return "unknown";
}

/* rec:poll() -> list of events {type, pass, pos, frames, device_pos} */
static int t_poll(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    lua_newtable(L);
    reel_transport_event ev;
    lua_Integer i = 0;
    while (reel_transport_poll_event(reel_recorder_transport(r), &ev)) {
        lua_createtable(L, 0, 5);
        lua_pushstring(L, event_name(ev.type));
        lua_setfield(L, -2, "type");
        lreel_set_int(L, "pass", ev.pass);
        lreel_set_int(L, "pos", ev.pos);
        lreel_set_int(L, "frames", (lua_Integer)ev.frames);
        lreel_set_int(L, "device_pos", (lua_Integer)ev.device_pos);
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

/* rec:transport() -> {position, rolling, recording, latency} */
static int t_transport(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    reel_transport *t = reel_recorder_transport(r);
    lua_createtable(L, 0, 4);
    lreel_set_int(L, "position", reel_transport_position(t));
    lua_pushboolean(L, reel_transport_rolling(t));
    lua_setfield(L, -2, "rolling");
    lua_pushboolean(L, reel_transport_recording(t));
    lua_setfield(L, -2, "recording");
    lreel_set_int(L, "latency", reel_recorder_latency(r));
    return 1;
}

/* rec:takes(track) -> list of take tables of the last roll (one per pass) */
static int t_takes(lua_State *L)
{
    lrecorder *lr = lreel_check_recorder(L);
    unsigned t = lreel_check_track(L, lr, 2);
    reel_capture *c = reel_recorder_capture(lr->rec);
    unsigned n = reel_capture_take_count(c, t);
    reel_take_stats *st = lua_newuserdatauv(L, sizeof *st, 0);
    lua_createtable(L, (int)n, 0);
    for (unsigned k = 0; k < n; k++) {
        if (reel_capture_pass_stats(c, t, k, st) != 0)
            break;
        lreel_push_take_stats(L, lr, t, st);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

/* rec:set_tempo(bar, bpm, num, den) -> true | nil, msg */
static int t_set_tempo(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    int bar = (int)luaL_checkinteger(L, 2);
    double bpm = luaL_checknumber(L, 3);
    int num = (int)luaL_checkinteger(L, 4);
    int den = (int)luaL_checkinteger(L, 5);
    if (reel_transport_rolling(reel_recorder_transport(r)))
        return lreel_fail(L, "the tempo map changes only while stopped");
    char err[REEL_ERRMSG_MAX] = "";
    return ok_or_fail(L, reel_tempo_set(reel_recorder_tempo(r), bar, bpm, num, den, err), err);
}

/* rec:add_source(path, start[, gain_db[, pan[, offset, frames[, hin, hout]]]])
 * -> index (1-based) | nil, msg. With offset and frames, only that region of
 * the file plays (its frame `offset` at `start`): a comped section of a take.
 * hin and hout are its comp crossfades' half-lengths at its start and end
 * (reel_playback_set_region_fades; default 0, a hard edge): it then plays
 * on into the file's frames around it, weighted as the render crossfades a
 * comp switch. Fades the file cannot give return nil, msg after the source
 * was added without them (a roll gives up then). */
static int t_add_source(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer start = luaL_optinteger(L, 3, 0);
    double gain = luaL_optnumber(L, 4, 0.0), pan = luaL_optnumber(L, 5, 0.0);
    lua_Integer offset = luaL_optinteger(L, 6, 0);
    lua_Integer frames = -1;
    luaL_argcheck(L, offset >= 0, 6, "offset must not be negative");
    if (!lua_isnoneornil(L, 7)) {
        frames = luaL_checkinteger(L, 7);
        luaL_argcheck(L, frames >= 0, 7, "frames must not be negative");
    }
    lua_Integer hin = luaL_optinteger(L, 8, 0), hout = luaL_optinteger(L, 9, 0);
    luaL_argcheck(L, hin >= 0, 8, "hin must not be negative");
    luaL_argcheck(L, hout >= 0, 9, "hout must not be negative");
    char err[REEL_ERRMSG_MAX] = "";
    int idx = reel_recorder_add_region(r, path, start, offset, frames, gain, pan, err);
    if (idx < 0)
        return lreel_fail(L, err[0] ? err : reel_strerror(idx));
    if (hin > 0 || hout > 0) {
        /* add_region has stopped the playback: it is idle. */
        int rc = reel_playback_set_region_fades(reel_recorder_playback(r), (unsigned)idx, hin,
                                                hout, err);
        if (rc < 0)
            return lreel_fail(L, err[0] ? err : reel_strerror(rc));
    }
    lua_pushinteger(L, idx + 1);
    return 1;
}

static int t_clear_sources(lua_State *L)
{
    return ok_or_fail(L, reel_recorder_clear_sources(rec_of(L)), NULL);
}

/* rec:set_monitor(track, on[, gain_db[, pan]]) */
static int t_set_monitor(lua_State *L)
{
    lrecorder *lr = lreel_check_recorder(L);
    unsigned t = lreel_check_track(L, lr, 2);
    int on = lua_toboolean(L, 3);
    double gain = luaL_optnumber(L, 4, 0.0), pan = luaL_optnumber(L, 5, 0.0);
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_recorder_set_monitor(lr->rec, t, on, gain, pan, err);
    if (rc)
        return luaL_error(L, "%s", err);
    lua_pushboolean(L, 1);
    return 1;
}

/* rec:set_monitor_outputs(left, right): 1-based outputs, nil for none */
static int t_set_monitor_outputs(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    int left = (int)luaL_optinteger(L, 2, 0) - 1, right = (int)luaL_optinteger(L, 3, 0) - 1;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_recorder_set_monitor_outputs(r, left, right, err);
    if (rc)
        return luaL_error(L, "%s", err);
    lua_pushboolean(L, 1);
    return 1;
}

static const opt_spec click_opts[] = {
    {"mode", OPT_STRING},       {"level_db", OPT_NUMBER},        {"accent_db", OPT_NUMBER},
    {"frequency", OPT_NUMBER},  {"accent_frequency", OPT_NUMBER}, {"length_ms", OPT_NUMBER},
    {"outputs", OPT_LIST},      {NULL, 0},
};

static const char *const click_modes[] = {"off", "always", "recording", NULL};

static double opt_number(lua_State *L, int arg, const char *key, double def)
{
    lua_getfield(L, arg, key);
    double v = lua_isnil(L, -1) ? def : lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* rec:set_click{mode=, level_db=, accent_db=, frequency=, accent_frequency=,
 *               length_ms=, outputs={1, 2}} -> true | nil, msg */
static int t_set_click(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    lreel_check_options(L, 2, click_opts);
    reel_click_config cfg;
    reel_click_config_init(&cfg);
    lua_getfield(L, 2, "mode");
    if (!lua_isnil(L, -1))
        cfg.mode = (reel_click_mode)luaL_checkoption(L, -1, NULL, click_modes);
    lua_pop(L, 1);
    cfg.level_db = opt_number(L, 2, "level_db", cfg.level_db);
    cfg.accent_db = opt_number(L, 2, "accent_db", cfg.accent_db);
    cfg.frequency = opt_number(L, 2, "frequency", cfg.frequency);
    cfg.accent_frequency = opt_number(L, 2, "accent_frequency", cfg.accent_frequency);
    cfg.length_ms = opt_number(L, 2, "length_ms", cfg.length_ms);
    unsigned outs[REEL_CLICK_MAX_OUTPUTS];
    lua_getfield(L, 2, "outputs");
    if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        if (n < 1 || n > REEL_CLICK_MAX_OUTPUTS)
            luaL_error(L, "bad option 'outputs' (1 to %d outputs expected)",
                       REEL_CLICK_MAX_OUTPUTS);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
                luaL_error(L, "bad option 'outputs' (output numbers count from 1)");
            outs[i - 1] = (unsigned)lua_tointeger(L, -1) - 1;
            lua_pop(L, 1);
        }
        cfg.outputs = outs;
        cfg.n_outputs = (unsigned)n;
    }
    lua_pop(L, 1);
    char err[REEL_ERRMSG_MAX] = "";
    int rc;
    if (reel_recorder_running(r)) {
        /* Running: mode and levels change live; the rest needs a stopped device. */
        reel_click *ck = reel_recorder_click(r);
        rc = reel_click_set_mode(ck, cfg.mode, err);
        if (rc == 0)
            rc = reel_click_set_level(ck, cfg.level_db, err);
        if (rc == 0)
            rc = reel_click_set_accent(ck, cfg.accent_db, err);
    } else {
        rc = reel_recorder_set_click(r, &cfg, err);
    }
    return ok_or_fail(L, rc, err);
}

/* rec:set_latency(frames) -> true | nil, msg */
static int t_set_latency(lua_State *L)
{
    reel_recorder *r = rec_of(L);
    lua_Integer f = luaL_checkinteger(L, 2);
    luaL_argcheck(L, f >= 0, 2, "latency must not be negative");
    char err[REEL_ERRMSG_MAX] = "";
    return ok_or_fail(L, reel_recorder_set_latency(r, f, err), err);
}

const luaL_Reg lreel_transport_methods[] = {
    {"locate", t_locate},
    {"roll", t_roll},
    {"stop_roll", t_stop_roll},
    {"start_device", t_start_device},
    {"finish_roll", t_finish_roll},
    {"poll", t_poll},
    {"transport", t_transport},
    {"takes", t_takes},
    {"set_tempo", t_set_tempo},
    {"add_source", t_add_source},
    {"clear_sources", t_clear_sources},
    {"set_monitor", t_set_monitor},
    {"set_monitor_outputs", t_set_monitor_outputs},
    {"set_click", t_set_click},
    {"set_latency", t_set_latency},
    {NULL, NULL},
};
