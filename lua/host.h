/* host.h: the script host behind the `reel` command.
 *
 * Creates one lua_State per script with the standard libraries, a
 * package.path that points at reel's Lua library and never at the working
 * directory, "reel.core" preloaded, os.exit that closes the state (so open
 * recorders finish their files), and SIGINT/SIGTERM handlers that only set a
 * flag (core.interrupted()); a second signal while the flag is still set
 * interrupts the running Lua code with an error, a third kills the process.
 * Runs chunks under a message handler that adds a traceback and reports
 * every error on stderr as `file:line: message` plus the traceback.
 *
 * Threads: the control thread only. The signal handler touches only the
 * flag (and, on a second signal, lua_sethook, which Lua documents as safe
 * from a signal handler). */
#ifndef REEL_HOST_H
#define REEL_HOST_H

#include <lua.h>

/* Exit statuses of the `reel` command. */
#define REEL_EXIT_OK 0
#define REEL_EXIT_ERROR 1  /* a Lua error, a failed recording */
#define REEL_EXIT_USAGE 2  /* bad command line */

/* New state, or NULL (message on stderr) when out of memory. */
lua_State *reel_host_new(void);
/* Closes the state: finalizers run, so open recorders close their takes. */
void reel_host_close(lua_State *L);

/* Loads and runs the Lua file at path (NULL or "-": stdin) with `arg` set as
 * lua.c does: arg[0] = path, arg[1..n] = args, arg[-1] = "run",
 * arg[-2] = progname; the chunk also receives args as `...`.
 * Returns an exit status: 0, or 1 after printing the error. */
int reel_host_run_script(lua_State *L, const char *progname, const char *path, int nargs,
                         char **args);

/* Runs the command module <luadir>/reel/cli/<cmd>.lua with args as `...`.
 * The chunk returns an exit status (integer) or nothing (0). Returns -1
 * without running anything when no such command exists. */
int reel_host_run_command(lua_State *L, const char *cmd, int nargs, char **args);

/* Directory holding reel's Lua library (the one with reel/init.lua), found in
 * this order: $REEL_LUA_PATH, <dir of the executable>/../share/reel/lua,
 * the source tree's scripts/, the configured install directory. */
const char *reel_host_lua_dir(void);
/* reel's data directory (share/): <exe>/../share/reel, then the source tree's
 * share/, then the configured install directory. */
const char *reel_host_share_dir(void);

/* The interrupt flag set by SIGINT/SIGTERM. */
int reel_host_interrupted(void);
void reel_host_clear_interrupted(void);

/* lreel.c */
int luaopen_reel_core(lua_State *L);

#endif
