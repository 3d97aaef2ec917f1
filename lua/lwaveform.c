/* lwaveform.c: the "reel.waveform" module, waveform overview pictures of
 * sound files (engine/waveform.c) for `reel waveform` and `reel report`.
 *
 *   waveform.png(path[, {width=, height=, clip_level=}])
 *       -> png, info | nil, msg
 *       the picture as a string of PNG bytes (for a data: URI) and info =
 *       {width, height, channels, rate, frames, peak, peak_db, clipped}
 *       (clipped: samples with |x| >= clip_level, default 0.999).
 *   waveform.write(path, out[, opts])
 *       -> info | nil, msg
 *       the same picture into the PNG file out (replaced atomically; a file
 *       there that is not a PNG is never replaced).
 *   waveform.summary(path[, {width=, clip_level=}])
 *       -> {width, channels, rate, frames, peak, clipped, min, max,
 *           clipped_columns} | nil, msg
 *       the numbers behind the picture: min[k][c], max[k][c] and
 *       clipped_columns[k][c] for channel k and column c (both from 1);
 *       column c holds frames [floor((c-1)*N/W), floor(c*N/W)).
 *   waveform.read_png(path)
 *       -> {width, height, rgb, colours, common, common_count} | nil, msg
 *       a PNG decoded to 8-bit RGB (rgb: width*height*3 bytes, rows top to
 *       bottom), the number of distinct colours, the most common colour as
 *       "#rrggbb" and how many pixels have it (for checking screenshots).
 *   waveform.WIDTH, waveform.HEIGHT: the default size (1200 x 120);
 *   waveform.MAX_WIDTH, waveform.MAX_HEIGHT: the largest (16384 x 4096).
 *
 * Caller mistakes (wrong types, unknown options, sizes out of range) raise;
 * failures of the files (missing, not sound, not a PNG, disk) return nil,
 * message. Threads: control thread only. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "waveform.h"

int luaopen_reel_waveform(lua_State *L);

#define BOX_META "reel.waveform.box"

/* Engine allocations ride in a userdata so that a Lua error (out of memory
 * while building a table) cannot leak them. */
typedef struct box {
    reel_waveform *w;
    unsigned char *bytes;
} box;

static int box_gc(lua_State *L)
{
    box *b = luaL_checkudata(L, 1, BOX_META);
    reel_waveform_destroy(b->w);
    free(b->bytes);
    b->w = NULL;
    b->bytes = NULL;
    return 0;
}

static box *new_box(lua_State *L)
{
    box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->w = NULL;
    b->bytes = NULL;
    luaL_setmetatable(L, BOX_META);
    return b;
}

static int push_fail(lua_State *L, const char *msg)
{
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
}

typedef struct wopts {
    unsigned width, height;
    double clip;
} wopts;

/* Reads the options table at idx (absent or nil: defaults); unknown keys
 * and bad values raise, naming the option. */
static wopts check_opts(lua_State *L, int idx, int with_height)
{
    wopts o = {REEL_WAVEFORM_WIDTH, REEL_WAVEFORM_HEIGHT, REEL_WAVEFORM_CLIP_LEVEL};
    if (lua_isnoneornil(L, idx))
        return o;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "bad option key (string expected, got %s)", luaL_typename(L, -2));
        const char *k = lua_tostring(L, -2);
        int isnum = 0;
        if (strcmp(k, "width") == 0 || (with_height && strcmp(k, "height") == 0)) {
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            lua_Integer max = k[0] == 'w' ? REEL_WAVEFORM_MAX_WIDTH : REEL_WAVEFORM_MAX_HEIGHT;
            if (!isnum)
                luaL_error(L, "bad option '%s' (integer expected, got %s)", k,
                           lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
            if (v < 1 || v > max)
                luaL_error(L, "bad option '%s' (must be between 1 and %d, got %d)", k, (int)max,
                           (int)(v > 1000000 ? 1000000 : v < -1000000 ? -1000000 : v));
            if (k[0] == 'w')
                o.width = (unsigned)v;
            else
                o.height = (unsigned)v;
        } else if (strcmp(k, "clip_level") == 0) {
            lua_Number v = lua_tonumberx(L, -1, &isnum);
            if (!isnum || !(v > 0) || !isfinite(v))
                luaL_error(L, "bad option 'clip_level' (positive number expected)");
            o.clip = v;
        } else {
            luaL_error(L, "unknown option '%s'", k);
        }
        lua_pop(L, 1);
    }
    return o;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void push_info(lua_State *L, const reel_waveform *w, unsigned height)
{
    lua_createtable(L, 0, 8);
    set_int(L, "width", w->width);
    if (height)
        set_int(L, "height", height);
    set_int(L, "channels", w->channels);
    set_int(L, "rate", w->rate);
    set_int(L, "frames", (lua_Integer)w->frames);
    set_num(L, "peak", w->peak);
    if (w->peak > 0)
        set_num(L, "peak_db", 20 * log10(w->peak));
    set_int(L, "clipped", (lua_Integer)w->clipped_total);
}

/* Computes the summary of path into a new box on the stack; returns it, or
 * NULL with the message pushed above the box. */
static box *compute(lua_State *L, const char *path, const wopts *o)
{
    box *b = new_box(L);
    char err[REEL_ERRMSG_MAX];
    if (reel_waveform_compute(path, o->width, o->clip, &b->w, err) != 0) {
        lua_pushstring(L, err);
        return NULL;
    }
    return b;
}

static int w_png(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    wopts o = check_opts(L, 2, 1);
    lua_settop(L, 2);
    box *b = compute(L, path, &o);
    if (!b)
        return push_fail(L, lua_tostring(L, -1));
    char err[REEL_ERRMSG_MAX];
    size_t size;
    if (reel_waveform_png(b->w, o.height, &b->bytes, &size, err) != 0)
        return push_fail(L, err);
    lua_pushlstring(L, (const char *)b->bytes, size);
    push_info(L, b->w, o.height);
    return 2;
}

static int w_write(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *out = luaL_checkstring(L, 2);
    wopts o = check_opts(L, 3, 1);
    lua_settop(L, 3);
    box *b = compute(L, path, &o);
    if (!b)
        return push_fail(L, lua_tostring(L, -1));
    char err[REEL_ERRMSG_MAX];
    if (reel_waveform_write_png(b->w, o.height, out, err) != 0)
        return push_fail(L, err);
    push_info(L, b->w, o.height);
    return 1;
}

static void push_lanes(lua_State *L, const reel_waveform *w, const char *k, int which)
{
    lua_createtable(L, (int)w->channels, 0);
    for (unsigned ch = 0; ch < w->channels; ch++) {
        lua_createtable(L, (int)w->width, 0);
        for (unsigned c = 0; c < w->width; c++) {
            size_t i = (size_t)c * w->channels + ch;
            if (which == 0)
                lua_pushnumber(L, w->min[i]);
            else if (which == 1)
                lua_pushnumber(L, w->max[i]);
            else
                lua_pushinteger(L, w->clipped[i]);
            lua_rawseti(L, -2, (lua_Integer)c + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)ch + 1);
    }
    lua_setfield(L, -2, k);
}

static int w_summary(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    wopts o = check_opts(L, 2, 0);
    lua_settop(L, 2);
    box *b = compute(L, path, &o);
    if (!b)
        return push_fail(L, lua_tostring(L, -1));
    push_info(L, b->w, 0);
    push_lanes(L, b->w, "min", 0);
    push_lanes(L, b->w, "max", 1);
    push_lanes(L, b->w, "clipped_columns", 2);
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int w_read_png(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    box *b = new_box(L);
    unsigned width, height;
    char err[REEL_ERRMSG_MAX];
    if (reel_waveform_read_png(path, &b->bytes, &width, &height, err) != 0)
        return push_fail(L, err);
    size_t pixels = (size_t)width * height;
    /* Distinct colours and the most common one, exactly: the pixels as
     * 24-bit numbers, sorted, counted run by run. */
    uint32_t *px = malloc((pixels ? pixels : 1) * sizeof *px);
    if (!px)
        return push_fail(L, "out of memory counting colours");
    for (size_t i = 0; i < pixels; i++) {
        const unsigned char *p = b->bytes + i * 3;
        px[i] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    }
    qsort(px, pixels, sizeof *px, cmp_u32);
    size_t colours = 0, mode_count = 0;
    uint32_t mode = 0;
    for (size_t i = 0; i < pixels;) {
        size_t j = i;
        while (j < pixels && px[j] == px[i])
            j++;
        colours++;
        if (j - i > mode_count) {
            mode_count = j - i;
            mode = px[i];
        }
        i = j;
    }
    free(px);

    lua_createtable(L, 0, 6);
    set_int(L, "width", width);
    set_int(L, "height", height);
    lua_pushlstring(L, (const char *)b->bytes, pixels * 3);
    lua_setfield(L, -2, "rgb");
    set_int(L, "colours", (lua_Integer)colours);
    char hex[8];
    snprintf(hex, sizeof hex, "#%06x", (unsigned)(mode & 0xffffffu));
    lua_pushstring(L, hex);
    lua_setfield(L, -2, "common");
    set_int(L, "common_count", (lua_Integer)mode_count);
    return 1;
}

static const luaL_Reg waveform_funcs[] = {
    {"png", w_png},
    {"write", w_write},
    {"summary", w_summary},
    {"read_png", w_read_png},
    {NULL, NULL},
};

int luaopen_reel_waveform(lua_State *L)
{
    if (luaL_newmetatable(L, BOX_META)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, waveform_funcs);
    set_int(L, "WIDTH", REEL_WAVEFORM_WIDTH);
    set_int(L, "HEIGHT", REEL_WAVEFORM_HEIGHT);
    set_int(L, "MAX_WIDTH", REEL_WAVEFORM_MAX_WIDTH);
    set_int(L, "MAX_HEIGHT", REEL_WAVEFORM_MAX_HEIGHT);
    return 1;
}
