/* lrender.c: the "reel.renderer" module, the engine's offline mix
 * (engine/render.h) for scripts/reel/render.lua, which turns a session into
 * the plain plan this takes.
 *
 *   renderer.run{ rate =, format = "wav24", frames =, crossfade = frames,
 *                 comp_crossfade = frames (at comp switches; default 0: hard cuts),
 *                 pieces = {{dst, src, frames}...} (default: one, dst = src),
 *                 fades = {{start, frames, "in"|"out"}...},
 *                 tracks = {{name =, channels = 1|2, gain_db =, pan =, mute =,
 *                            solo =, stem = path|nil,
 *                            regions = {{path =, what =, at =, offset =,
 *                                        frames =}...}}...},
 *                 out = path|nil, overwrite = false, time_reference = 0,
 *                 description =, progress = function(done, total) }
 *       -> {frames, peak, peak_db, clipped, heard} | nil, msg
 *
 * progress returning false cancels; so does Ctrl-C (the host's interrupt
 * flag). Caller mistakes (a wrong type, a missing field) raise; the outside
 * world (a missing take, a full disk) gives nil and the engine's message,
 * which names the track, take and file.
 *
 * Threads: control thread; the render runs on it, calling back into Lua
 * only for progress (protected: an error there cancels the render cleanly
 * and is raised again after the files are closed). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "host.h"
#include "render.h"

int luaopen_reel_renderer(lua_State *L);

/* Strings and arrays of one call: released together, also when a caller
 * mistake raises (the holder is a to-be-closed userdata). */
typedef struct arena {
    void **ptrs;
    size_t n, cap;
} arena;

static int arena_gc(lua_State *L)
{
    arena *a = luaL_checkudata(L, 1, "reel.renderer.arena");
    for (size_t i = 0; i < a->n; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
    a->ptrs = NULL;
    a->n = a->cap = 0;
    return 0;
}

static void *arena_alloc(lua_State *L, arena *a, size_t size)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void **p = realloc(a->ptrs, cap * sizeof *p);
        if (!p)
            luaL_error(L, "out of memory");
        a->ptrs = p;
        a->cap = cap;
    }
    void *m = calloc(1, size ? size : 1);
    if (!m)
        luaL_error(L, "out of memory");
    a->ptrs[a->n++] = m;
    return m;
}

static const char *arena_str(lua_State *L, arena *a, const char *s)
{
    size_t n = strlen(s);
    char *p = arena_alloc(L, a, n + 1);
    memcpy(p, s, n + 1);
    return p;
}

/* Field k of the table at idx; raises naming where ("tracks[2].pan"). */
static lua_Integer get_int(lua_State *L, int idx, const char *k, const char *where,
                           lua_Integer def, int required)
{
    int t = lua_getfield(L, idx, k);
    lua_Integer v = def;
    if (t == LUA_TNIL) {
        if (required)
            luaL_error(L, "bad option '%s%s' (integer expected, got nil)", where, k);
    } else {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "bad option '%s%s' (integer expected, got %s)", where, k,
                       luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

static double get_num(lua_State *L, int idx, const char *k, const char *where, double def)
{
    int t = lua_getfield(L, idx, k);
    double v = def;
    if (t != LUA_TNIL) {
        if (t != LUA_TNUMBER)
            luaL_error(L, "bad option '%s%s' (number expected, got %s)", where, k,
                       luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int get_bool(lua_State *L, int idx, const char *k, const char *where)
{
    int t = lua_getfield(L, idx, k);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        luaL_error(L, "bad option '%s%s' (boolean expected, got %s)", where, k,
                   luaL_typename(L, -1));
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static const char *get_str(lua_State *L, arena *a, int idx, const char *k, const char *where,
                           int required)
{
    int t = lua_getfield(L, idx, k);
    const char *v = NULL;
    if (t == LUA_TNIL) {
        if (required)
            luaL_error(L, "bad option '%s%s' (string expected, got nil)", where, k);
    } else if (t != LUA_TSTRING) {
        luaL_error(L, "bad option '%s%s' (string expected, got %s)", where, k,
                   luaL_typename(L, -1));
    } else {
        v = arena_str(L, a, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

/* Pushes field k, which must be a list (or nil: returns 0 and pushes nil). */
static lua_Integer get_list(lua_State *L, int idx, const char *k)
{
    int t = lua_getfield(L, idx, k);
    if (t == LUA_TNIL)
        return 0;
    if (t != LUA_TTABLE)
        luaL_error(L, "bad option '%s' (list expected, got %s)", k, luaL_typename(L, -1));
    return luaL_len(L, -1);
}

static lua_Integer list_int(lua_State *L, int i, const char *what, lua_Integer k)
{
    lua_geti(L, -1, i);
    int ok;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    if (!ok)
        luaL_error(L, "bad option '%s[%d]' (integer expected, got %s)", what, (int)k,
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

typedef struct progress_ctx {
    lua_State *L;
    int fn;          /* stack index of the progress function, 0 when none */
    int errored;     /* the progress function raised; its error is at the top */
} progress_ctx;

static int on_progress(uint64_t done, uint64_t total, void *user)
{
    progress_ctx *p = user;
    if (reel_host_interrupted())
        return 1;
    if (p->fn == 0)
        return 0;
    lua_State *L = p->L;
    lua_pushvalue(L, p->fn);
    lua_pushinteger(L, (lua_Integer)done);
    lua_pushinteger(L, (lua_Integer)total);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        p->errored = 1;
        return 1;   /* the error message stays on the stack */
    }
    int stop = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

static int l_run(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    arena *a = lua_newuserdatauv(L, sizeof *a, 0);
    memset(a, 0, sizeof *a);
    luaL_setmetatable(L, "reel.renderer.arena");
    lua_toclose(L, -1);

    reel_render_config cfg;
    memset(&cfg, 0, sizeof cfg);
    lua_Integer rate = get_int(L, 1, "rate", "", 0, 1);
    luaL_argcheck(L, rate > 0 && rate <= 768000, 1, "rate out of range");
    cfg.rate = (unsigned)rate;
    const char *fmt = get_str(L, a, 1, "format", "", 0);
    if (fmt && reel_format_parse(fmt, &cfg.format) < 0)
        luaL_error(L, "bad option 'format' ('%s' is not wav24, wav32f, flac or rf64)", fmt);
    lua_Integer frames = get_int(L, 1, "frames", "", 0, 1);
    luaL_argcheck(L, frames >= 0, 1, "frames must not be negative");
    cfg.frames = (uint64_t)frames;
    lua_Integer xf = get_int(L, 1, "crossfade", "", 0, 0);
    luaL_argcheck(L, xf >= 0, 1, "crossfade must not be negative");
    cfg.crossfade = (uint64_t)xf;
    lua_Integer cxf = get_int(L, 1, "comp_crossfade", "", 0, 0);
    luaL_argcheck(L, cxf >= 0, 1, "comp_crossfade must not be negative");
    cfg.comp_crossfade = (uint64_t)cxf;
    cfg.mix_path = get_str(L, a, 1, "out", "", 0);
    cfg.overwrite = get_bool(L, 1, "overwrite", "");
    lua_Integer tref = get_int(L, 1, "time_reference", "", 0, 0);
    luaL_argcheck(L, tref >= 0, 1, "time_reference must not be negative");
    cfg.time_reference = (uint64_t)tref;
    cfg.description = get_str(L, a, 1, "description", "", 0);

    lua_Integer np = get_list(L, 1, "pieces");
    if (lua_istable(L, -1)) {
        reel_render_piece *pieces = arena_alloc(L, a, (size_t)np * sizeof *pieces);
        for (lua_Integer i = 1; i <= np; i++) {
            if (lua_geti(L, -1, i) != LUA_TTABLE)
                luaL_error(L, "bad option 'pieces[%d]' ({dst, src, frames} expected)", (int)i);
            lua_Integer dst = list_int(L, 1, "pieces", i);
            lua_Integer src = list_int(L, 2, "pieces", i);
            lua_Integer n = list_int(L, 3, "pieces", i);
            if (dst < 0 || n < 0)
                luaL_error(L, "bad option 'pieces[%d]' (negative position or length)", (int)i);
            pieces[i - 1] = (reel_render_piece){ (uint64_t)dst, src, (uint64_t)n };
            lua_pop(L, 1);
        }
        cfg.pieces = pieces;
        cfg.npieces = (size_t)np;
    }
    lua_pop(L, 1);

    lua_Integer nf = get_list(L, 1, "fades");
    if (lua_istable(L, -1)) {
        reel_render_fade *fades = arena_alloc(L, a, (size_t)nf * sizeof *fades);
        for (lua_Integer i = 1; i <= nf; i++) {
            if (lua_geti(L, -1, i) != LUA_TTABLE)
                luaL_error(L, "bad option 'fades[%d]' ({start, frames, \"in\"|\"out\"} expected)",
                           (int)i);
            lua_Integer st = list_int(L, 1, "fades", i);
            lua_Integer n = list_int(L, 2, "fades", i);
            lua_geti(L, -1, 3);
            const char *dir = lua_tostring(L, -1);
            if (st < 0 || n < 0 || !dir || (strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0))
                luaL_error(L, "bad option 'fades[%d]' ({start, frames, \"in\"|\"out\"} expected)",
                           (int)i);
            fades[i - 1] = (reel_render_fade){ (uint64_t)st, (uint64_t)n, strcmp(dir, "in") == 0 };
            lua_pop(L, 2);
        }
        cfg.fades = fades;
        cfg.nfades = (size_t)nf;
    }
    lua_pop(L, 1);

    lua_Integer nt = get_list(L, 1, "tracks");
    if (lua_istable(L, -1)) {
        reel_render_track *tracks = arena_alloc(L, a, (size_t)nt * sizeof *tracks);
        for (lua_Integer i = 1; i <= nt; i++) {
            char where[48];
            snprintf(where, sizeof where, "tracks[%d].", (int)i);
            if (lua_geti(L, -1, i) != LUA_TTABLE)
                luaL_error(L, "bad option 'tracks[%d]' (table expected)", (int)i);
            int ti = lua_gettop(L);
            reel_render_track *t = &tracks[i - 1];
            t->name = get_str(L, a, ti, "name", where, 1);
            lua_Integer ch = get_int(L, ti, "channels", where, 1, 0);
            if (ch < 1 || ch > 2)
                luaL_error(L, "bad option '%schannels' (1 or 2 expected)", where);
            t->channels = (unsigned)ch;
            t->gain_db = get_num(L, ti, "gain_db", where, 0.0);
            t->pan = get_num(L, ti, "pan", where, 0.0);
            if (!(t->pan >= -1.0 && t->pan <= 1.0) || !isfinite(t->gain_db))
                luaL_error(L, "bad option '%s' (pan between -1 and 1 and a finite gain_db expected)",
                           where);
            t->mute = get_bool(L, ti, "mute", where);
            t->solo = get_bool(L, ti, "solo", where);
            t->stem_path = get_str(L, a, ti, "stem", where, 0);
            lua_Integer nr = get_list(L, ti, "regions");
            if (lua_istable(L, -1)) {
                reel_render_region *regs = arena_alloc(L, a, (size_t)nr * sizeof *regs);
                for (lua_Integer k = 1; k <= nr; k++) {
                    char rw[80];
                    snprintf(rw, sizeof rw, "tracks[%d].regions[%d].", (int)i, (int)k);
                    if (lua_geti(L, -1, k) != LUA_TTABLE)
                        luaL_error(L, "bad option '%.60s' (table expected)", rw);
                    int ri = lua_gettop(L);
                    regs[k - 1].path = get_str(L, a, ri, "path", rw, 1);
                    regs[k - 1].what = get_str(L, a, ri, "what", rw, 0);
                    lua_Integer at = get_int(L, ri, "at", rw, 0, 1);
                    lua_Integer off = get_int(L, ri, "offset", rw, 0, 0);
                    lua_Integer n = get_int(L, ri, "frames", rw, 0, 1);
                    if (at < 0 || off < 0 || n < 0)
                        luaL_error(L, "bad option '%.60s' (negative position or length)", rw);
                    regs[k - 1].at = at;
                    regs[k - 1].offset = (uint64_t)off;
                    regs[k - 1].frames = (uint64_t)n;
                    lua_pop(L, 1);
                }
                t->regions = regs;
                t->nregions = (size_t)nr;
            }
            lua_pop(L, 2);
        }
        cfg.tracks = tracks;
        cfg.ntracks = (size_t)nt;
    }
    lua_pop(L, 1);

    progress_ctx pc = { L, 0, 0 };
    int pt = lua_getfield(L, 1, "progress");
    if (pt != LUA_TNIL && pt != LUA_TFUNCTION)
        luaL_error(L, "bad option 'progress' (function expected, got %s)", luaL_typename(L, -1));
    if (pt == LUA_TFUNCTION)
        pc.fn = lua_gettop(L);
    cfg.progress = on_progress;
    cfg.user = &pc;

    reel_render_result res;
    char errmsg[REEL_ERRMSG_MAX];
    int rc = reel_render_run(&cfg, &res, errmsg);
    if (pc.errored)
        return lua_error(L);     /* the progress function's error, files closed */
    if (rc < 0) {
        if (rc == REEL_EINVAL)
            return luaL_error(L, "%s", errmsg);
        luaL_pushfail(L);
        lua_pushstring(L, rc == REEL_EAGAIN && reel_host_interrupted() ? "render interrupted"
                                                                       : errmsg);
        return 2;
    }
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)res.frames);
    lua_setfield(L, -2, "frames");
    lua_pushnumber(L, res.peak);
    lua_setfield(L, -2, "peak");
    lua_pushnumber(L, res.peak > 0 ? 20.0 * log10(res.peak) : -HUGE_VAL);
    lua_setfield(L, -2, "peak_db");
    lua_pushinteger(L, (lua_Integer)res.clipped);
    lua_setfield(L, -2, "clipped");
    lua_pushinteger(L, (lua_Integer)res.heard);
    lua_setfield(L, -2, "heard");
    return 1;
}

/* renderer.gains(channels, gain_db, pan) -> left, right: the pan law. */
static int l_gains(lua_State *L)
{
    lua_Integer ch = luaL_checkinteger(L, 1);
    luaL_argcheck(L, ch == 1 || ch == 2, 1, "1 or 2 channels expected");
    double l, r;
    reel_render_gains((unsigned)ch, luaL_checknumber(L, 2), luaL_checknumber(L, 3), &l, &r);
    lua_pushnumber(L, l);
    lua_pushnumber(L, r);
    return 2;
}

static const luaL_Reg renderer_funcs[] = {
    {"run", l_run},
    {"gains", l_gains},
    {"block", NULL},
    {NULL, NULL},
};

int luaopen_reel_renderer(lua_State *L)
{
    if (luaL_newmetatable(L, "reel.renderer.arena")) {
        lua_pushcfunction(L, arena_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, arena_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    luaL_newlib(L, renderer_funcs);
    lua_pushinteger(L, REEL_RENDER_BLOCK);
    lua_setfield(L, -2, "block");
    return 1;
}
