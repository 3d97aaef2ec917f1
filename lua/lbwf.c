/* lbwf.c: the "reel.bwf" module, broadcast-wave facts of sound files and the
 * file placement a handoff package needs: read a file's bext chunk (time
 * reference, originator, description), write a BWF copy of any sound file
 * with a given time reference, and put a file into a package by hard link
 * (or by copy across file systems); and a path's real (canonical) form,
 * to tell whether a folder lies inside another.
 *
 *     local bwf = require "reel.bwf"
 *     local b = bwf.read("audio/Vox_T01.wav")       -- false when it has no bext
 *     print(b.time_reference)                        --> 96000
 *     assert(bwf.rewrite("take.flac", "pkg/audio/take.wav", { time_reference = 96000 }))
 *     -- a take begun 4800 frames before 1:1, from 1:1 on
 *     assert(bwf.rewrite("Vox_T02.wav", "pkg/audio/Vox_T02.wav", { time_reference = 0, skip = 4800 }))
 *     print(bwf.copy("song/audio/Vox_T01.wav", "pkg/audio/Vox_T01.wav"))  --> "copy"
 *
 * rewrite never modifies its source: it writes dst (created, never
 * overwritten: dst must not exist), so giving a file a bext chunk means
 * rewriting it to a temporary name and renaming that over the old name,
 * which also leaves any other hard link to the old file as it was. The
 * samples are copied exactly: PCM through 32-bit integers, floating point
 * through doubles; the sample format is kept when WAV can hold it (16, 24,
 * 32-bit PCM, 32 and 64-bit float), otherwise (8-bit, FLAC's 8-bit...) it
 * becomes 24-bit PCM. The container is RF64 that stays plain RIFF WAV below
 * 4 GiB (libsndfile's auto-downgrade), like the takes. With `skip`, the
 * first frames of src are left out (a take's pre-roll, for a package whose
 * time references cannot be negative); the rest is copied just as exactly.
 *
 * Caller mistakes raise; failures of the outside world (a missing file, a
 * file that is not sound, a full disk) return fail and a message naming the
 * file.
 *
 * Threads: control thread (any Lua state); no engine state is touched. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <sndfile.h>

int luaopen_reel_bwf(lua_State *L);

#define COPY_FRAMES 65536

static int fail_msg(lua_State *L, const char *path, const char *what)
{
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, what);
    return 2;
}

static int fail_errno(lua_State *L, const char *path)
{
    return fail_msg(L, path, strerror(errno));
}

/* A fixed-width bext field as a Lua string (it need not end in NUL). */
static void push_field(lua_State *L, const char *field, size_t size, const char *key)
{
    size_t n = strnlen(field, size);
    lua_pushlstring(L, field, n);
    lua_setfield(L, -2, key);
}

static void copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    memcpy(dst, src, n < size ? n : size);
}

/* bwf.read(path) -> { time_reference, originator, description, date, time }
 *                   | false (no bext chunk) | fail, msg */
static int l_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return fail_msg(L, path, sf_strerror(NULL));
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    int has = sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, (int)sizeof bi) == SF_TRUE;
    sf_close(sf);
    if (!has) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_createtable(L, 0, 5);
    uint64_t tr = ((uint64_t)bi.time_reference_high << 32) | bi.time_reference_low;
    lua_pushinteger(L, (lua_Integer)tr);
    lua_setfield(L, -2, "time_reference");
    push_field(L, bi.originator, sizeof bi.originator, "originator");
    push_field(L, bi.description, sizeof bi.description, "description");
    push_field(L, bi.origination_date, sizeof bi.origination_date, "date");
    push_field(L, bi.origination_time, sizeof bi.origination_time, "time");
    return 1;
}

static int wav_subtype(int format)
{
    int sub = format & SF_FORMAT_SUBMASK;
    switch (sub) {
    case SF_FORMAT_PCM_16:
    case SF_FORMAT_PCM_24:
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
    case SF_FORMAT_DOUBLE:
        return sub;
    default:
        return SF_FORMAT_PCM_24;
    }
}

static const char *opt_string(lua_State *L, int idx, const char *key, char *buf, size_t size)
{
    buf[0] = 0;
    if (lua_getfield(L, idx, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "bad argument #3 to 'rewrite' (option '%s': string expected, got %s)",
                       key, luaL_typename(L, -1));
        snprintf(buf, size, "%s", lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    return buf;
}

/* skip as a frame count, 0 when absent; anything else raises. */
static sf_count_t opt_skip(lua_State *L, int idx)
{
    sf_count_t skip = 0;
    int t = lua_getfield(L, idx, "skip");
    if (t != LUA_TNIL) {
        if (t != LUA_TNUMBER || !lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0) {
            if (t == LUA_TNUMBER)
                lua_pushstring(L, lua_tostring(L, -1));
            else
                lua_pushstring(L, luaL_typename(L, -1));
            luaL_error(L, "bad argument #3 to 'rewrite' (skip: a frame count (integer >= 0) "
                       "expected, got %s)", lua_tostring(L, -1));
        }
        skip = (sf_count_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return skip;
}

/* bwf.rewrite(src, dst, { time_reference = n [, skip, description, originator] })
 * -> frames written | fail, msg. dst must not exist; on failure it is
 * removed. skip (frames left out from the start) must be less than src's
 * frames, unless it is 0: misuse raises, before dst is created. */
static int l_rewrite(lua_State *L)
{
    const char *src = luaL_checkstring(L, 1);
    const char *dst = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    if (lua_getfield(L, 3, "time_reference") != LUA_TNUMBER || !lua_isinteger(L, -1)
        || lua_tointeger(L, -1) < 0)
        return luaL_error(L, "bad argument #3 to 'rewrite' (time_reference: a sample position "
                          "(integer >= 0) expected)");
    uint64_t tr = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    char description[257], originator[33];
    opt_string(L, 3, "description", description, sizeof description);
    opt_string(L, 3, "originator", originator, sizeof originator);
    sf_count_t skip = opt_skip(L, 3);

    SF_INFO in_info;
    memset(&in_info, 0, sizeof in_info);
    SNDFILE *in = sf_open(src, SFM_READ, &in_info);
    if (!in)
        return fail_msg(L, src, sf_strerror(NULL));
    if (skip > 0 && skip >= in_info.frames) {
        sf_close(in);
        return luaL_error(L, "bad argument #3 to 'rewrite' (skip: %I frames, not less than "
                          "the %I frames of %s)", (lua_Integer)skip, (lua_Integer)in_info.frames,
                          src);
    }
    if (skip > 0 && sf_seek(in, skip, SEEK_SET) != skip) {
        sf_close(in);
        lua_pushfstring(L, "cannot seek to frame %I", (lua_Integer)skip);
        return fail_msg(L, src, lua_tostring(L, -1));
    }
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    if (sf_command(in, SFC_GET_BROADCAST_INFO, &bi, (int)sizeof bi) != SF_TRUE)
        memset(&bi, 0, sizeof bi);
    /* libsndfile writes its own coding history. */
    bi.coding_history_size = 0;
    memset(bi.coding_history, 0, sizeof bi.coding_history);
    bi.time_reference_low = (uint32_t)(tr & 0xffffffffu);
    bi.time_reference_high = (uint32_t)(tr >> 32);
    if (description[0]) {
        memset(bi.description, 0, sizeof bi.description);
        copy_field(bi.description, sizeof bi.description, description);
    }
    if (originator[0] || !bi.originator[0]) {
        memset(bi.originator, 0, sizeof bi.originator);
        copy_field(bi.originator, sizeof bi.originator, originator[0] ? originator : "reel");
    }

    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        sf_close(in);
        errno = e;
        return fail_errno(L, dst);
    }
    int sub = wav_subtype(in_info.format);
    SF_INFO out_info;
    memset(&out_info, 0, sizeof out_info);
    out_info.samplerate = in_info.samplerate;
    out_info.channels = in_info.channels;
    out_info.format = SF_FORMAT_RF64 | sub;
    SNDFILE *out = sf_open_fd(fd, SFM_WRITE, &out_info, SF_TRUE);
    if (!out) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", sf_strerror(NULL));
        close(fd);
        unlink(dst);
        sf_close(in);
        return fail_msg(L, dst, msg);
    }
    sf_command(out, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
    const char *werr = NULL;
    if (sf_command(out, SFC_SET_BROADCAST_INFO, &bi, (int)sizeof bi) != SF_TRUE)
        werr = "cannot set the bext chunk";
    int is_float = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
    size_t cells = (size_t)COPY_FRAMES * (size_t)in_info.channels;
    void *buf = malloc(cells * (is_float ? sizeof(double) : sizeof(int)));
    if (!buf && !werr)
        werr = "out of memory";
    sf_count_t total = 0;
    while (!werr) {
        sf_count_t got = is_float ? sf_readf_double(in, buf, COPY_FRAMES)
                                  : sf_readf_int(in, buf, COPY_FRAMES);
        if (got <= 0) {
            if (sf_error(in) != SF_ERR_NO_ERROR) {
                sf_close(out);
                unlink(dst);
                lua_pushstring(L, sf_strerror(in));
                sf_close(in);
                free(buf);
                return fail_msg(L, src, lua_tostring(L, -1));
            }
            break;
        }
        sf_count_t put = is_float ? sf_writef_double(out, buf, got) : sf_writef_int(out, buf, got);
        if (put != got)
            werr = sf_strerror(out);
        total += got;
    }
    free(buf);
    sf_close(in);
    if (werr) {
        lua_pushstring(L, werr);
        sf_close(out);
        unlink(dst);
        return fail_msg(L, dst, lua_tostring(L, -1));
    }
    sf_write_sync(out);
    if (sf_close(out) != 0) {
        unlink(dst);
        return fail_msg(L, dst, "cannot finish the file");
    }
    lua_pushinteger(L, (lua_Integer)total);
    return 1;
}

/* Byte copy of src to a new file dst. */
static int copy_bytes(const char *src, const char *dst, const char **failed)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        *failed = src;
        return -1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        *failed = dst;
        return -1;
    }
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *failed = src;
            break;
        }
        if (n == 0) {
            if (fsync(out) != 0) {
                *failed = dst;
                break;
            }
            close(in);
            if (close(out) != 0) {
                *failed = dst;
                unlink(dst);
                return -1;
            }
            return 0;
        }
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                if (w == 0)
                    errno = ENOSPC;
                *failed = dst;
                goto out;
            }
            off += w;
        }
    }
out:;
    int e = errno;
    close(in);
    close(out);
    unlink(dst);
    errno = e;
    return -1;
}

/* bwf.copy(src, dst) -> "copy" | fail, msg. dst must not exist. A copy, never
 * a hard link: a package file written in place (a tool updating its bext, a
 * careless cp) must not change the session's take. Where the file system
 * can share blocks copy-on-write (FICLONE: btrfs, XFS) the copy costs no
 * space or time; elsewhere the bytes are copied. */
static int l_copy(lua_State *L)
{
    const char *src = luaL_checkstring(L, 1);
    const char *dst = luaL_checkstring(L, 2);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return fail_errno(L, src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return fail_errno(L, dst);
    }
    int cloned = ioctl(out, FICLONE, in) == 0;
    close(in);
    if (close(out) != 0 && cloned) {
        int e = errno;
        unlink(dst);
        errno = e;
        return fail_errno(L, dst);
    }
    if (cloned) {
        lua_pushliteral(L, "copy");
        return 1;
    }
    unlink(dst);
    const char *failed = NULL;
    if (copy_bytes(src, dst, &failed) != 0)
        return fail_errno(L, failed);
    lua_pushliteral(L, "copy");
    return 1;
}

/* bwf.realpath(path) -> the canonical absolute path | fail, msg */
static int l_realpath(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char *r = realpath(path, NULL);
    if (!r)
        return fail_errno(L, path);
    lua_pushstring(L, r);
    free(r);
    return 1;
}

static const luaL_Reg bwf_funcs[] = {
    {"realpath", l_realpath},
    {"read", l_read},
    {"rewrite", l_rewrite},
    {"copy", l_copy},
    {NULL, NULL},
};

int luaopen_reel_bwf(lua_State *L)
{
    luaL_newlib(L, bwf_funcs);
    return 1;
}
