/* lsys.c: the "reel.sys" module, operating-system facts the Lua library needs
 * for long unattended recordings: free space of a filesystem, the mount
 * point a path lives on, the wall clock with sub-second precision, and the
 * advisory lock that keeps two reel processes from writing one session.
 *
 *     local sys = require "reel.sys"
 *     local fs = assert(sys.statvfs("song/audio"))  -- fs.avail, fs.size, ...
 *     print(sys.mount_point("song/audio"))           --> /home
 *     print(sys.time())                               --> 1764118000.123456
 *     local lock <close>, msg, holder = sys.lock("song/.reel.lock", "pid=1\n")
 *
 * Shaped like Lua's own libraries: caller mistakes raise, failures of the
 * outside world (a missing path) return fail, message, errno.
 *
 * Locks are flock(2) locks (LOCK_EX | LOCK_NB) on a file that is created if
 * missing and never deleted. The kernel drops them when the process ends,
 * however it ends, so no lock outlives its holder. flock conflicts between
 * two open file descriptions even within one process, so the descriptions
 * this process holds are kept in a table (by device and inode) and shared,
 * counted, by every handle on the same file: one process opening a session
 * twice does not lock itself out. Descriptors are close-on-exec: a child
 * process (os.execute) never inherits a lock.
 *
 * Threads: control thread (any Lua state); no engine state is touched. The
 * table of held locks is process-wide and guarded by a mutex. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

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


/* ------------------------------------------------------------------ locks */

/* One open file description holding an flock, shared by every handle of
 * this process on the same file. */
struct held {
    dev_t dev;
    ino_t ino;
    int fd;
    int refs;
    struct held *next;
};

static struct held *held_list;
static pthread_mutex_t held_mutex = PTHREAD_MUTEX_INITIALIZER;

#define LOCK_NAME "reel.sys.lock"
/* Largest holder text read back from a lock file, in bytes. */
#define HOLDER_MAX 1024

typedef struct {
    struct held *h; /* NULL once unlocked */
} Lock;

/* Drops one reference; the last closes the descriptor, releasing the lock. */
static void held_release(struct held *h)
{
    pthread_mutex_lock(&held_mutex);
    if (--h->refs == 0) {
        for (struct held **p = &held_list; *p; p = &(*p)->next) {
            if (*p == h) {
                *p = h->next;
                break;
            }
        }
        close(h->fd);
        free(h);
    }
    pthread_mutex_unlock(&held_mutex);
}

/* What the holder wrote into the file, read through our own descriptor.
 * The holder writes right after it locks: an empty file is read again for a
 * moment (up to 0.2 s) before it is taken for an unknown holder. */
static void push_holder(lua_State *L, int fd)
{
    char buf[HOLDER_MAX];
    ssize_t n = 0;
    for (int i = 0; i < 20; i++) {
        n = pread(fd, buf, sizeof buf, 0);
        if (n != 0)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    lua_pushlstring(L, buf, n > 0 ? (size_t)n : 0);
}

/* Replaces the file's content by text (after the lock is ours). Failure is
 * not an error: the content only helps a refused process name the holder. */
static void write_holder(int fd, const char *text, size_t len)
{
    if (len > HOLDER_MAX)
        len = HOLDER_MAX;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(fd, text + done, len - done, (off_t)done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        done += (size_t)w;
    }
    if (ftruncate(fd, (off_t)len) != 0)
        return;
}

/* sys.lock(path [, text]) -> lock | fail, msg, holder | fail, msg, errno.
 * Locks the file path (created, mode 0644, if missing) with an exclusive
 * flock without waiting, and writes text into it. Held by another process:
 * fail, "PATH: locked by another process", and what that process wrote
 * (a string, "" when it wrote nothing). Held already by this process: a
 * new handle on the same lock (text is not written again). Any other
 * failure (no such folder, read-only filesystem): fail, msg, errno. */
static int l_lock(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t tlen = 0;
    const char *text = luaL_optlstring(L, 2, NULL, &tlen);
    /* The handle exists, unlocked, before the resource is acquired. */
    Lock *lk = (Lock *)lua_newuserdatauv(L, sizeof *lk, 1);
    lk->h = NULL;
    luaL_setmetatable(L, LOCK_NAME);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);

    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0 && (errno == EACCES || errno == EROFS))
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY); /* flock needs no write access */
    if (fd < 0)
        return fail_errno(L, path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return fail_errno(L, path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: not a regular file", path);
        lua_pushinteger(L, EINVAL);
        return 3;
    }

    pthread_mutex_lock(&held_mutex);
    for (struct held *h = held_list; h; h = h->next) {
        if (h->dev == st.st_dev && h->ino == st.st_ino) {
            h->refs++;
            lk->h = h;
            break;
        }
    }
    if (lk->h) {
        pthread_mutex_unlock(&held_mutex);
        close(fd); /* flock locks belong to the description, not this fd */
        return 1;
    }
    int r;
    do
        r = flock(fd, LOCK_EX | LOCK_NB);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        int e = errno;
        pthread_mutex_unlock(&held_mutex);
        if (e == EWOULDBLOCK) {
            luaL_pushfail(L);
            lua_pushfstring(L, "%s: locked by another process", path);
            push_holder(L, fd);
            close(fd);
            return 3;
        }
        close(fd);
        errno = e;
        return fail_errno(L, path);
    }
    struct held *h = (struct held *)malloc(sizeof *h);
    if (!h) {
        pthread_mutex_unlock(&held_mutex);
        close(fd);
        return luaL_error(L, "not enough memory");
    }
    h->dev = st.st_dev;
    h->ino = st.st_ino;
    h->fd = fd;
    h->refs = 1;
    h->next = held_list;
    held_list = h;
    lk->h = h;
    pthread_mutex_unlock(&held_mutex);
    if (text)
        write_holder(fd, text, tlen);
    return 1;
}

static Lock *check_lock(lua_State *L)
{
    return (Lock *)luaL_checkudata(L, 1, LOCK_NAME);
}

/* lock:unlock() -> true. Gives this handle's share of the lock back; the
 * lock itself goes with the last handle of the process. Harmless when done
 * already (also __close and __gc). */
static int l_unlock(lua_State *L)
{
    Lock *lk = check_lock(L);
    if (lk->h) {
        struct held *h = lk->h;
        lk->h = NULL;
        held_release(h);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* lock:held() -> true while this handle holds its share of the lock. */
static int l_held(lua_State *L)
{
    lua_pushboolean(L, check_lock(L)->h != NULL);
    return 1;
}

static int l_lock_tostring(lua_State *L)
{
    Lock *lk = check_lock(L);
    lua_getiuservalue(L, 1, 1);
    lua_pushfstring(L, LOCK_NAME " (%s%s)", lua_tostring(L, -1), lk->h ? "" : ", unlocked");
    return 1;
}

static const luaL_Reg lock_methods[] = {
    {"unlock", l_unlock},
    {"held", l_held},
    {NULL, NULL},
};

static const luaL_Reg lock_meta[] = {
    {"__gc", l_unlock},
    {"__close", l_unlock},
    {"__tostring", l_lock_tostring},
    {"__index", NULL},
    {NULL, NULL},
};

/* sys.pid() -> this process's id. */
static int l_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static const luaL_Reg sys_funcs[] = {
    {"statvfs", l_statvfs},
    {"mount_point", l_mount_point},
    {"time", l_time},
    {"lock", l_lock},
    {"pid", l_pid},
    {NULL, NULL},
};

int luaopen_reel_sys(lua_State *L)
{
    luaL_newmetatable(L, LOCK_NAME);
    luaL_setfuncs(L, lock_meta, 0);
    luaL_newlib(L, lock_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, sys_funcs);
    return 1;
}
