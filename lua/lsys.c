/* lsys.c: the "reel.sys" module, operating-system facts the Lua library needs
 * for long unattended recordings: free space of a filesystem, the mount
 * point a path lives on, and the wall clock with sub-second precision.
 *
 *     local sys = require "reel.sys"
 *     local fs = assert(sys.statvfs("song/audio"))  -- fs.avail, fs.size, ...
 *     print(sys.mount_point("song/audio"))           --> /home
 *     print(sys.time())                               --> 1764118000.123456
 *
 * Shaped like Lua's own libraries: caller mistakes raise, failures of the
 * outside world (a missing path) return fail, message, errno.
 *
 * Threads: control thread (any Lua state); no engine state is touched. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

int luaopen_reel_sys(lua_State *L);

static int fail_errno(lua_State *L, const char *path)
{
    int e = errno;
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    lua_pushinteger(L, e);
    return 3;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

/* Bytes as a Lua integer, saturating (a filesystem of 8 EiB is not a worry,
 * a wrapped negative number would be). */
static lua_Integer bytes(unsigned long long blocks, unsigned long long unit)
{
    if (unit != 0 && blocks > (unsigned long long)LUA_MAXINTEGER / unit)
        return LUA_MAXINTEGER;
    return (lua_Integer)(blocks * unit);
}

/* sys.statvfs(path) -> {size, free, avail, files, files_free, read_only} |
 * fail, msg, errno. Sizes in bytes: size of the filesystem, free (also the
 * blocks reserved for root), avail (what an unprivileged writer can still
 * use, as df's "Avail"). */
static int l_statvfs(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct statvfs sv;
    if (statvfs(path, &sv) != 0)
        return fail_errno(L, path);
    unsigned long long unit = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    lua_createtable(L, 0, 6);
    set_int(L, "size", bytes(sv.f_blocks, unit));
    set_int(L, "free", bytes(sv.f_bfree, unit));
    set_int(L, "avail", bytes(sv.f_bavail, unit));
    set_int(L, "files", (lua_Integer)sv.f_files);
    set_int(L, "files_free", (lua_Integer)sv.f_ffree);
    lua_pushboolean(L, (sv.f_flag & ST_RDONLY) != 0);
    lua_setfield(L, -2, "read_only");
    return 1;
}

/* sys.mount_point(path) -> absolute path of the mount point holding path |
 * fail, msg, errno. Walks up from realpath(path) while the device stays the
 * same (bind mounts of a directory report the topmost directory of the same
 * device, which is what df would name in most cases). */
static int l_mount_point(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char p[PATH_MAX];
    if (!realpath(path, p))
        return fail_errno(L, path);
    struct stat st;
    if (stat(p, &st) != 0)
        return fail_errno(L, p);
    dev_t dev = st.st_dev;
    for (;;) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) {
            /* the parent is "/" */
            if (strcmp(p, "/") != 0 && stat("/", &st) == 0 && st.st_dev == dev)
                p[1] = 0;
            break;
        }
        *slash = 0;
        if (stat(p, &st) != 0 || st.st_dev != dev) {
            *slash = '/';
            break;
        }
    }
    lua_pushstring(L, p);
    return 1;
}

/* sys.time() -> seconds since the Unix epoch, wall clock (CLOCK_REALTIME),
 * with sub-second precision. Unlike os.time() it has a fraction; unlike
 * reel.core.now() it is the wall clock (it jumps when the clock is set). */
static int l_time(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

static const luaL_Reg sys_funcs[] = {
    {"statvfs", l_statvfs},
    {"mount_point", l_mount_point},
    {"time", l_time},
    {NULL, NULL},
};

int luaopen_reel_sys(lua_State *L)
{
    luaL_newlib(L, sys_funcs);
    return 1;
}
