/* fuzz_template.c: session templates (Lua chunks returning data), through
 * the template loader, in a script host state made by lua/host.c.
 *
 * The loader is reel.template's `load` (scripts/reel/template.lua, which
 * runs the chunk in reel.sandbox, lua/sandbox.c) when that module is there,
 * else reel.session's `load_template`. The sandbox's wall-clock budget is
 * cut to 10 ms here (its other limits stay), so that loops cost less. The input bytes become DIR/t.lua;
 * DIR also holds base.lua, a small valid template, so that `extends =
 * "base.lua"` (and "t.lua", a circle) resolve.
 * Contract checked:
 *   - load("DIR/t.lua") returns the data, or nil and a message starting with
 *     "DIR/t.lua" (file:line: or file:); raising is a finding, and so is a
 *     hang (libFuzzer's -timeout) or running out of memory: the sandbox must
 *     stop loops and memory bombs itself;
 *   - data that loads makes a session: reel.session.new(DIR2, {template =
 *     path}) succeeds and the session it saved opens again. */
#include "fuzz_lua.h"

static lua_State *L;
static int ref_load, ref_session;
static char dir[PATH_MAX], tpath[PATH_MAX], sdir[PATH_MAX];
static unsigned long runs;

static const char base_template[] =
    "return {\n"
    "  name = 'Base', rate = 48000, format = 'wav24', tempo = 100, meter = '3/4',\n"
    "  tracks = { { name = 'Kick', input = 1 }, { name = 'OH', input = { 2, 3 } } },\n"
    "  sections = { { 'Intro', 4 }, { 'Verse', 8 }, { 'Chorus', 8 }, { 'Verse', 8 } },\n"
    "}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *tmp = fuzz_tmpdir("template");
    snprintf(dir, sizeof dir, "%s", tmp);
    snprintf(tpath, sizeof tpath, "%s/t.lua", dir);
    char base[PATH_MAX + 16];
    snprintf(base, sizeof base, "%s/base.lua", dir);
    fuzz_write_file(base, base_template, sizeof base_template - 1);

    L = fuzz_lua_state();
    fuzz_lua_require(L, "reel.session");
    ref_session = luaL_ref(L, LUA_REGISTRYINDEX);
    /* package.searchpath: is reel.template installed beside reel.session? */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchpath");
    lua_pushliteral(L, "reel.template");
    lua_getfield(L, -3, "path");
    lua_call(L, 2, 1);
    int have_template = lua_isstring(L, -1);
    lua_pop(L, 2);
    if (have_template) {
        /* A looping template runs to the sandbox's wall-clock budget (0.1 s);
         * at 10 ms the fuzzer tries ten times as many. The budget is still
         * what stops it, so the stop is still what is tested. */
        if (luaL_dostring(L, "local sb = require 'reel.sandbox'\n"
                             "local load_data = sb.load_data\n"
                             "sb.load_data = function(src, name, limits)\n"
                             "  return load_data(src, name, limits or { seconds = 0.01 })\n"
                             "end\n") != LUA_OK) {
            fprintf(stderr, "reel-fuzz: %s\n", lua_tostring(L, -1));
            exit(1);
        }
        fuzz_lua_require(L, "reel.template");
        lua_getfield(L, -1, "load");
        lua_remove(L, -2);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref_session);
        lua_getfield(L, -1, "load_template");
        lua_remove(L, -2);
    }
    if (!lua_isfunction(L, -1)) {
        fprintf(stderr, "reel-fuzz: no template loader (reel.template.load or "
                        "reel.session.load_template)\n");
        exit(1);
    }
    ref_load = luaL_ref(L, LUA_REGISTRYINDEX);
    fprintf(stderr, "reel-fuzz: templates load through %s\n",
            have_template ? "reel.template.load (reel.sandbox)" : "reel.session.load_template");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_lua_prev = 0;
    int top = lua_gettop(L);
    fuzz_write_file(tpath, data, size);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref_load);
    lua_pushstring(L, tpath);
    fuzz_lua_call(L, 1, 2, "loading the template");
    if (fuzz_lua_result(L, "loading the template", tpath)) {
        /* reel.session.new(sdir, { template = tpath }), then open it */
        snprintf(sdir, sizeof sdir, "%s/s%lu", dir, runs++);
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref_session);
        lua_getfield(L, -1, "new");
        lua_pushstring(L, sdir);
        lua_createtable(L, 0, 1);
        lua_pushstring(L, tpath);
        lua_setfield(L, -2, "template");
        fuzz_lua_call(L, 2, 2, "session.new with the template");
        if (lua_type(L, -2) != LUA_TTABLE)
            fuzz_finding("a template that loads does not make a session: %s",
                         lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
        lua_pop(L, 2);
        lua_getfield(L, -1, "open");
        lua_pushstring(L, sdir);
        fuzz_lua_call(L, 1, 2, "session.open of a new session");
        if (lua_type(L, -2) != LUA_TTABLE)
            fuzz_finding("the session a template made does not open: %s",
                         lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
        fuzz_rm_rf(sdir);
    }
    lua_settop(L, top);
    fuzz_lua_collect(L);
    return 0;
}
