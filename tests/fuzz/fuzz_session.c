/* fuzz_session.c: session.json files from outside, through
 * scripts/reel/session.lua's loader (reel.session.open) in a script host
 * state made by lua/host.c's reel_host_new, as `reel info` and reel.open
 * load them.
 *
 * The input bytes become DIR/session.json. Contract checked:
 *   - session.open(DIR) returns a session, or nil and a message starting
 *     with "DIR/session.json: "; raising an error (a bug in the checks, a
 *     value that slips through them and breaks later) is a finding;
 *   - a session that loads can be shown: `reel info DIR` and
 *     `reel info --json DIR` (reel/cli/info.lua, run in this state) finish
 *     without raising and exit 0;
 *   - a session that loads can be saved and loaded again: its document, as
 *     s:save() would write it, is put in a second folder and must load. */
#include "fuzz_lua.h"

static lua_State *L;
static int ref_session, ref_json, ref_info;
static char dir_a[PATH_MAX], dir_b[PATH_MAX], file_a[PATH_MAX], file_b[PATH_MAX];
static char prefix_a[PATH_MAX + 16], prefix_b[PATH_MAX + 16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *tmp = fuzz_tmpdir("session");
    snprintf(dir_a, sizeof dir_a, "%s/a", tmp);
    snprintf(dir_b, sizeof dir_b, "%s/b", tmp);
    snprintf(file_a, sizeof file_a, "%s/session.json", dir_a);
    snprintf(file_b, sizeof file_b, "%s/session.json", dir_b);
    snprintf(prefix_a, sizeof prefix_a, "%s: ", file_a);
    snprintf(prefix_b, sizeof prefix_b, "%s: ", file_b);
    char audio[PATH_MAX + 8];
    mkdir(dir_a, 0755);
    mkdir(dir_b, 0755);
    snprintf(audio, sizeof audio, "%s/audio", dir_a);
    mkdir(audio, 0755);
    snprintf(audio, sizeof audio, "%s/audio", dir_b);
    mkdir(audio, 0755);

    L = fuzz_lua_state();
    fuzz_lua_require(L, "reel.session");
    ref_session = luaL_ref(L, LUA_REGISTRYINDEX);
    fuzz_lua_require(L, "reel.json");
    ref_json = luaL_ref(L, LUA_REGISTRYINDEX);
    char info[PATH_MAX];
    const char *luadir = reel_host_lua_dir();
    snprintf(info, sizeof info, "%s/reel/cli/info.lua", luadir ? luadir : ".");
    if (luaL_loadfile(L, info) != LUA_OK) {
        fprintf(stderr, "reel-fuzz: %s\n", lua_tostring(L, -1));
        exit(1);
    }
    ref_info = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* session.open(dir) -> leaves s (or nil) and msg on the stack. */
static void open_session(const char *dir)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref_session);
    lua_getfield(L, -1, "open");
    lua_remove(L, -2);
    lua_pushstring(L, dir);
    fuzz_lua_call(L, 1, 2, "session.open");
}

/* `reel info [--json] DIR` in this state; it must return 0. */
static void run_info(int as_json)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref_info);
    int n = 0;
    if (as_json) {
        lua_pushliteral(L, "--json");
        n++;
    }
    lua_pushstring(L, dir_a);
    n++;
    fuzz_lua_call(L, n, 1, as_json ? "reel info --json" : "reel info");
    if (lua_tointeger(L, -1) != 0)
        fuzz_finding("%s exited with %d on a session that loads",
                     as_json ? "reel info --json" : "reel info", (int)lua_tointeger(L, -1));
    lua_pop(L, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_lua_prev = 0;
    int top = lua_gettop(L);
    fuzz_write_file(file_a, data, size);
    open_session(dir_a);
    if (fuzz_lua_result(L, "session.open", prefix_a)) {
        lua_pop(L, 1);          /* keep s */
        run_info(0);
        run_info(1);
        /* json.encode(s:document()), as s:save() writes it */
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref_json);
        lua_getfield(L, -1, "encode");
        lua_remove(L, -2);
        lua_getfield(L, -2, "document");
        lua_pushvalue(L, -3);
        fuzz_lua_call(L, 1, 1, "s:document()");
        fuzz_lua_call(L, 1, 1, "json.encode(s:document())");
        size_t len;
        const char *doc = lua_tolstring(L, -1, &len);
        if (!doc)
            fuzz_finding("json.encode(s:document()) returned a %s", luaL_typename(L, -1));
        fuzz_write_file(file_b, doc, len);
        open_session(dir_b);
        if (!fuzz_lua_result(L, "session.open of the saved document", prefix_b))
            fuzz_finding("a session that loads does not load once saved:\n%s\n--- saved:\n%s",
                         lua_tostring(L, -1), doc);
    }
    lua_settop(L, top);
    fuzz_lua_collect(L);
    return 0;
}
