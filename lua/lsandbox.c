/* lsandbox.c: the "reel.sandbox" module, templates and other data chunks
 * run in a sandbox of their own (sandbox.h).
 *
 *     local sandbox = require "reel.sandbox"
 *     local data, lines = sandbox.load_data(src, "=band.lua")
 *     if not data then error(lines) end          -- "band.lua:3: ..."
 *     lines[data.tracks[2]]                      --> { 25, 25 }
 *
 * load_data(source, chunkname [, limits]) -> data, lines | nil, message
 *   source     the chunk's text (binary chunks are refused)
 *   chunkname  the name in messages: "=NAME" (or "@NAME", or NAME alone)
 *   limits     optional: { memory = BYTES, seconds = S, instructions = N }
 *              (defaults: MEMORY, SECONDS, INSTRUCTIONS below)
 * Returns a copy of the table the chunk returned, and a table mapping each
 * copied table that the chunk wrote as a constructor to {open_line,
 * close_line}. Everything the chunk does wrong (a syntax error, an error, a
 * budget spent, a result that is not data) is returned as nil and
 * "NAME:LINE: message" or "NAME: message"; only wrong arguments raise.
 *
 * Constants: MEMORY (bytes), SECONDS, INSTRUCTIONS, MAX_DEPTH, MAX_VALUES.
 *
 * Threads: the script's (control) thread. */
#include <lauxlib.h>
#include <lua.h>

#include "lreel_int.h"
#include "sandbox.h"

static const opt_spec limit_opts[] = {
    {"memory", OPT_INTEGER}, {"seconds", OPT_NUMBER}, {"instructions", OPT_INTEGER}, {NULL, 0},
};

/* sandbox.load_data(source, chunkname [, limits]) -> data, lines | nil, msg */
static int l_load_data(lua_State *L)
{
    size_t len;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(template)");
    reel_sandbox_limits lim = {0, 0, 0};
    if (!lua_isnoneornil(L, 3)) {
        lreel_check_options(L, 3, limit_opts);
        lim.memory = (size_t)lreel_opt_integer(L, 3, "memory", 0, (lua_Integer)64 << 10,
                                                (lua_Integer)1 << 40);
        lim.instructions = (long long)lreel_opt_integer(L, 3, "instructions", 0, 1000,
                                                         (lua_Integer)1 << 50);
        lua_getfield(L, 3, "seconds");
        if (!lua_isnil(L, -1)) {
            lim.seconds = lua_tonumber(L, -1);
            luaL_argcheck(L, lim.seconds > 0 && lim.seconds <= 3600, 3,
                          "bad option 'seconds' (between 0 and 3600 expected)");
        }
        lua_pop(L, 1);
    }
    return reel_sandbox_load(L, src, len, name, &lim);
}

static const luaL_Reg funcs[] = {
    {"load_data", l_load_data},
    {NULL, NULL},
};

int luaopen_reel_sandbox(lua_State *L)
{
    luaL_newlib(L, funcs);
    lua_pushinteger(L, (lua_Integer)REEL_SANDBOX_MEMORY);
    lua_setfield(L, -2, "MEMORY");
    lua_pushnumber(L, REEL_SANDBOX_SECONDS);
    lua_setfield(L, -2, "SECONDS");
    lua_pushinteger(L, (lua_Integer)REEL_SANDBOX_INSTRUCTIONS);
    lua_setfield(L, -2, "INSTRUCTIONS");
    lua_pushinteger(L, REEL_SANDBOX_MAX_DEPTH);
    lua_setfield(L, -2, "MAX_DEPTH");
    lua_pushinteger(L, REEL_SANDBOX_MAX_VALUES);
    lua_setfield(L, -2, "MAX_VALUES");
    return 1;
}
