/* host.c: lua_State creation, library paths, error reporting, signals.
 *
 * One state per script, standard libraries opened, the C modules preloaded
 * ("reel.core", "reel.tempo", "reel.sys", "reel.calibrate", "reel.sandbox",
 * "reel.analysis", "reel.loudness_core", "reel.waveform", "reel.zip", "reel.bwf", "reel.renderer").
 * package.path/cpath keep only absolute entries: the working directory (and
 * any other relative location) is never searched, so a stray evil.lua next
 * to a script or in the current directory cannot be picked up by require.
 * Errors are reported as lua.c reports them: the message (which starts with
 * file:line:) and a traceback, on stderr.
 *
 * Threads: control thread only; on_signal runs as a signal handler and only
 * sets a flag (or, on a repeated signal, the interrupting hook). */
#include "host.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

/* ltempo.c: the "reel.tempo" module (the engine's tempo map). */
int luaopen_reel_tempo(lua_State *L);
/* lsys.c: the "reel.sys" module (free disk space, mount point, wall clock). */
int luaopen_reel_sys(lua_State *L);
/* lcalibrate.c: the "reel.calibrate" module (latency measurement). */
int luaopen_reel_calibrate(lua_State *L);
/* lsandbox.c: the "reel.sandbox" module (data chunks under limits). */
int luaopen_reel_sandbox(lua_State *L);
/* lanalysis.c: the "reel.analysis" module (levels, comparisons of sound files). */
int luaopen_reel_analysis(lua_State *L);
/* lloudness.c: the "reel.loudness_core" module (EBU R128 loudness, libebur128). */
int luaopen_reel_loudness_core(lua_State *L);
/* lwaveform.c: the "reel.waveform" module (waveform pictures, PNG). */
int luaopen_reel_waveform(lua_State *L);

/* lzip.c: the "reel.zip" module (zip archives: write, list, read). */
int luaopen_reel_zip(lua_State *L);
/* lbwf.c: the "reel.bwf" module (bext chunks, BWF copies, hard links). */
int luaopen_reel_bwf(lua_State *L);
/* lrender.c: the "reel.renderer" module (offline mix, stems). */
int luaopen_reel_renderer(lua_State *L);

/* ---- locations --------------------------------------------------------- */

static int has_file(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, rel) >= (int)sizeof p)
        return 0;
    return access(p, R_OK) == 0;
}

/* <dir of /proc/self/exe>/<rel>, or "" */
static void exe_relative(char *out, size_t size, const char *rel)
{
    char exe[PATH_MAX];
    out[0] = 0;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = 0;
    if (snprintf(out, size, "%s/%s", exe, rel) >= (int)size)
        out[0] = 0; /* too long to be a usable path */
}

const char *reel_host_lua_dir(void)
{
    static char dir[PATH_MAX];
    static int done;
    if (done)
        return dir[0] ? dir : NULL;
    done = 1;
    const char *env = getenv("REEL_LUA_PATH");
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", env);
        return dir;
    }
    exe_relative(dir, sizeof dir, "../share/reel/lua");
    if (dir[0] && has_file(dir, "reel/init.lua"))
        return dir;
    snprintf(dir, sizeof dir, "%s", REEL_SOURCE_SCRIPTS);
    if (has_file(dir, "reel/init.lua"))
        return dir;
    snprintf(dir, sizeof dir, "%s", REEL_INSTALL_LUADIR);
    if (has_file(dir, "reel/init.lua"))
        return dir;
    dir[0] = 0;
    return NULL;
}

const char *reel_host_share_dir(void)
{
    static char dir[PATH_MAX];
    static int done;
    if (done)
        return dir[0] ? dir : NULL;
    done = 1;
    exe_relative(dir, sizeof dir, "../share/reel");
    if (dir[0] && access(dir, R_OK) == 0 && has_file(dir, "lua/reel/init.lua"))
        return dir;
    snprintf(dir, sizeof dir, "%s", REEL_SOURCE_SHARE);
    if (access(dir, R_OK) == 0)
        return dir;
    snprintf(dir, sizeof dir, "%s", REEL_INSTALL_SHAREDIR);
    if (access(dir, R_OK) == 0)
        return dir;
    dir[0] = 0;
    return NULL;
}

/* Keeps the absolute entries of a ';'-separated search path. */
static void push_absolute_entries(luaL_Buffer *b, const char *path)
{
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && p[0] == '/') {
            luaL_addchar(b, ';');
            luaL_addlstring(b, p, len);
        }
        p += len;
        if (*p == ';')
            p++;
    }
}

static void set_search_paths(lua_State *L)
{
    lua_getglobal(L, "package");
    const char *dir = reel_host_lua_dir();

    lua_getfield(L, -1, "path");
    const char *sys = lua_tostring(L, -1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (dir)
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
    else
        lua_pushliteral(L, "");
    luaL_addvalue(&b);
    push_absolute_entries(&b, sys ? sys : "");
    luaL_pushresult(&b);
    /* A leading ';' when dir is NULL is harmless but untidy. */
    const char *s = lua_tostring(L, -1);
    if (*s == ';') {
        lua_pushstring(L, s + 1);
        lua_remove(L, -2);
    }
    lua_setfield(L, -3, "path");
    lua_pop(L, 1); /* old path */

    lua_getfield(L, -1, "cpath");
    sys = lua_tostring(L, -1);
    luaL_buffinit(L, &b);
    push_absolute_entries(&b, sys ? sys : "");
    luaL_pushresult(&b);
    s = lua_tostring(L, -1);
    lua_pushstring(L, *s == ';' ? s + 1 : s);
    lua_remove(L, -2);
    lua_setfield(L, -3, "cpath");
    lua_pop(L, 2); /* old cpath, package */
}

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t interrupted_flag;
static lua_State *signal_L;

int reel_host_interrupted(void) { return interrupted_flag != 0; }

void reel_host_clear_interrupted(void) { interrupted_flag = 0; }

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_signal(int sig)
{
    if (interrupted_flag && signal_L) {
        /* Second signal with the first still unanswered: the script is not
         * listening, so stop it (lua.c's way); a third one kills. */
        signal(sig, SIG_DFL);
        lua_sethook(signal_L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    }
    interrupted_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: sleeps end early */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- state ------------------------------------------------------------- */

/* os.exit closing the state by default, so that open recorders stop their
 * takes and close their files (Lua's own os.exit leaves them unfinished
 * unless asked with a second argument true). */
static int host_exit(lua_State *L)
{
    int status;
    if (lua_isboolean(L, 1))
        status = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
    else
        status = (int)luaL_optinteger(L, 1, EXIT_SUCCESS);
    int close = lua_isnoneornil(L, 2) || lua_toboolean(L, 2);
    fflush(stdout);
    if (close) {
        signal_L = NULL; /* L may be a coroutine; lua_close closes the whole state */
        lua_close(L);
    }
    exit(status);
}

lua_State *reel_host_new(void)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "reel: cannot create the Lua state: out of memory\n");
        return NULL;
    }
    luaL_openlibs(L);
    set_search_paths(L);

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_reel_core);
    lua_setfield(L, -2, "reel.core");
    lua_pushcfunction(L, luaopen_reel_tempo);
    lua_setfield(L, -2, "reel.tempo");
    lua_pushcfunction(L, luaopen_reel_sys);
    lua_setfield(L, -2, "reel.sys");
    lua_pushcfunction(L, luaopen_reel_calibrate);
    lua_setfield(L, -2, "reel.calibrate");
    lua_pushcfunction(L, luaopen_reel_sandbox);
    lua_setfield(L, -2, "reel.sandbox");
    lua_pushcfunction(L, luaopen_reel_analysis);
    lua_setfield(L, -2, "reel.analysis");
    lua_pushcfunction(L, luaopen_reel_loudness_core);
    lua_setfield(L, -2, "reel.loudness_core");
    lua_pushcfunction(L, luaopen_reel_renderer);
    lua_setfield(L, -2, "reel.renderer");
    lua_pushcfunction(L, luaopen_reel_zip);
    lua_setfield(L, -2, "reel.zip");
    lua_pushcfunction(L, luaopen_reel_bwf);
    lua_setfield(L, -2, "reel.bwf");
    lua_pushcfunction(L, luaopen_reel_waveform);
    lua_setfield(L, -2, "reel.waveform");
    lua_pop(L, 1);

    lua_getglobal(L, "os");
    lua_pushcfunction(L, host_exit);
    lua_setfield(L, -2, "exit");
    lua_pop(L, 1);

    signal_L = L;
    install_signals();
    return L;
}

void reel_host_close(lua_State *L)
{
    if (!L)
        return;
    fflush(stdout);
    if (signal_L == L)
        signal_L = NULL;
    lua_close(L);
}

/* ---- running chunks ---------------------------------------------------- */

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static void report(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fflush(stdout);
    fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(L, 1);
}

/* Calls the function below narg arguments with the message handler. */
static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, narg, nres, base);
    lua_remove(L, base);
    return status;
}

int reel_host_run_script(lua_State *L, const char *progname, const char *path, int nargs,
                         char **args)
{
    int stdin_script = path == NULL || strcmp(path, "-") == 0;
    lua_createtable(L, nargs, 3);
    lua_pushstring(L, progname ? progname : "reel");
    lua_rawseti(L, -2, -2);
    lua_pushliteral(L, "run");
    lua_rawseti(L, -2, -1);
    lua_pushstring(L, stdin_script ? "-" : path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < nargs; i++) {
        lua_pushstring(L, args[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");

    if (luaL_loadfile(L, stdin_script ? NULL : path) != LUA_OK) {
        report(L);
        return REEL_EXIT_ERROR;
    }
    luaL_checkstack(L, nargs, "too many arguments to script");
    for (int i = 0; i < nargs; i++)
        lua_pushstring(L, args[i]);
    if (docall(L, nargs, 0) != LUA_OK) {
        report(L);
        return REEL_EXIT_ERROR;
    }
    return REEL_EXIT_OK;
}

int reel_host_run_command(lua_State *L, const char *cmd, int nargs, char **args)
{
    const char *dir = reel_host_lua_dir();
    if (!dir) {
        fprintf(stderr, "reel: cannot find reel's Lua library (reel/init.lua); "
                        "set REEL_LUA_PATH to the directory holding it\n");
        return REEL_EXIT_ERROR;
    }
    for (const char *c = cmd; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return -1;
    char path[PATH_MAX];
    if (!*cmd || snprintf(path, sizeof path, "%s/reel/cli/%s.lua", dir, cmd) >= (int)sizeof path)
        return -1;
    if (access(path, R_OK) != 0)
        return -1;

    lua_createtable(L, nargs, 1);
    lua_pushstring(L, cmd);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < nargs; i++) {
        lua_pushstring(L, args[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");

    if (luaL_loadfile(L, path) != LUA_OK) {
        report(L);
        return REEL_EXIT_ERROR;
    }
    luaL_checkstack(L, nargs, "too many arguments");
    for (int i = 0; i < nargs; i++)
        lua_pushstring(L, args[i]);
    if (docall(L, nargs, 1) != LUA_OK) {
        report(L);
        return REEL_EXIT_ERROR;
    }
    int status = REEL_EXIT_OK;
    if (lua_isinteger(L, -1))
        status = (int)lua_tointeger(L, -1);
    else if (lua_isboolean(L, -1))
        status = lua_toboolean(L, -1) ? REEL_EXIT_OK : REEL_EXIT_ERROR;
    lua_pop(L, 1);
    return status;
}
