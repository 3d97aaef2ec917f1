/* fuzz_lua.h: what the Lua-side targets (fuzz_session.c, fuzz_template.c)
 * share: a script host state made the way `reel` makes it, calls that tell a
 * clean failure (nil, message) from a raised error, and coverage of reel's
 * own Lua code for libFuzzer.
 *
 * Coverage: Debian's Lua is not instrumented, so libFuzzer would see only
 * the C bindings. A line hook hashes each (chunk, line) transition, as AFL
 * hashes branch edges, into a counter array in the section libFuzzer reads
 * extra counters from; new Lua lines and paths through session.lua then
 * count as new coverage ("ft:" rises, "cov:" stays C-only). */
#ifndef REEL_FUZZ_LUA_H
#define REEL_FUZZ_LUA_H

#include "fuzz_common.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "host.h"

#define FUZZ_LUA_COUNTERS (1u << 16)

__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t fuzz_lua_counters[FUZZ_LUA_COUNTERS];
static uintptr_t fuzz_lua_prev;

static void fuzz_lua_line(lua_State *L, lua_Debug *ar)
{
    if (ar->event != LUA_HOOKLINE || !lua_getinfo(L, "S", ar))
        return;
    uintptr_t cur = (uintptr_t)ar->source * 0x9E3779B97F4A7C15ull;
    cur ^= (uintptr_t)ar->currentline * 0xC2B2AE3D27D4EB4Full;
    cur ^= cur >> 29;
    fuzz_lua_counters[(cur ^ fuzz_lua_prev) & (FUZZ_LUA_COUNTERS - 1)]++;
    fuzz_lua_prev = cur >> 1;
}

/* The host state, with the line hook (coroutines the code creates inherit
 * it) and stdout sent to /dev/null (`reel info` prints). */
static lua_State *fuzz_lua_state(void)
{
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    lua_State *L = reel_host_new();
    if (!L)
        exit(1);
    lua_sethook(L, fuzz_lua_line, LUA_MASKLINE, 0);
    return L;
}

static int fuzz_lua_msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls the function below nargs arguments on the stack with a traceback
 * handler; a raised error is a finding (what: the call, for the report).
 * Leaves nres results. */
static void fuzz_lua_call(lua_State *L, int nargs, int nres, const char *what)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, fuzz_lua_msgh);
    lua_insert(L, base);
    int st = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (st != LUA_OK)
        fuzz_finding("%s raised an error instead of returning nil, message:\n%s", what,
                     lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
}

/* Frees what the input left to the collector before the input ends, so that
 * mallocs and frees balance within it: otherwise libFuzzer takes every input
 * for a possible leak and runs LeakSanitizer's heap scan after it, which
 * costs more than the input itself. */
static void fuzz_lua_collect(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT);
    lua_gc(L, LUA_GCCOLLECT);
}

/* require(name), left on the stack; failing to load reel's own modules is
 * the set-up's problem, not a finding. */
static void fuzz_lua_require(lua_State *L, const char *name)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    lua_pushcfunction(L, fuzz_lua_msgh);
    lua_insert(L, -3);
    if (lua_pcall(L, 1, 1, -3) != LUA_OK) {
        fprintf(stderr, "reel-fuzz: require '%s': %s\n", name, lua_tostring(L, -1));
        exit(1);
    }
    lua_remove(L, -2);
}

/* Checks the result pair of a loader at the top of the stack: a value of
 * the expected type (LUA_TTABLE), or nil and a message starting with
 * prefix. Returns 1 for success (both results stay on the stack). */
static int fuzz_lua_result(lua_State *L, const char *what, const char *prefix)
{
    if (lua_type(L, -2) == LUA_TTABLE)
        return 1;
    if (!lua_isnil(L, -2))
        fuzz_finding("%s returned a %s, not a table or nil, message", what,
                     luaL_typename(L, -2));
    if (lua_type(L, -1) != LUA_TSTRING)
        fuzz_finding("%s returned nil and a %s instead of a message", what, luaL_typename(L, -1));
    const char *msg = lua_tostring(L, -1);
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fuzz_finding("%s failed with a message that does not start with '%s':\n%s", what, prefix,
                     msg);
    return 0;
}

#endif
