/* lzip.c: the "reel.zip" module, zip archives through libzip: write one
 * from files and strings, list one, read an entry back. The export writes
 * its DAWproject file (a zip of project.xml and metadata.xml) with it, and
 * the tests read that back without any other tool.
 *
 *     local zip = require "reel.zip"
 *     assert(zip.write("song.dawproject", {
 *       { name = "project.xml", data = xml },
 *       { name = "audio/Vox_T01.wav", file = "pkg/audio/Vox_T01.wav", store = true },
 *     }))
 *     for _, e in ipairs(zip.list("song.dawproject")) do print(e.name, e.size) end
 *     print(zip.read("song.dawproject", "project.xml"))
 *
 * write replaces the archive as a whole: libzip writes a temporary file
 * beside it and renames it into place on close, so a failed write leaves
 * no half archive. Entries are deflated unless `store` is set (audio does
 * not shrink; storing it saves the time). Entry names are UTF-8, must be
 * relative and must not climb out of the archive ("..").
 *
 * Shaped like Lua's own libraries: caller mistakes (a missing name, an
 * entry with neither data nor file) raise errors naming the argument;
 * failures of the outside world (a missing file, a corrupt archive, a full
 * disk) return fail and a message naming the file.
 *
 * Threads: control thread (any Lua state); no engine state is touched. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <zip.h>

int luaopen_reel_zip(lua_State *L);

static int fail_msg(lua_State *L, const char *path, const char *what)
{
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, what);
    return 2;
}

static int fail_code(lua_State *L, const char *path, int code)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    fail_msg(L, path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return 2;
}

/* A name a zip entry may have: relative, no "..", no empty component. */
static int good_name(const char *name)
{
    if (!*name || name[0] == '/' || strchr(name, '\\'))
        return 0;
    const char *p = name;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.') || (len == 1 && p[0] == '.'))
            return 0;
        p += len;
        if (*p == '/')
            p++;
    }
    return 1;
}

/* zip.write(path, entries) -> true | fail, msg
 * entries: list of { name = "a/b.xml", data = "..." } or
 * { name = ..., file = "path on disk" }, each optionally store = true. */
static int l_write(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    /* Check every entry before creating anything. */
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 2, i) != LUA_TTABLE)
            return luaL_error(L, "bad argument #2 to 'write' (entry %d: table expected, got %s)",
                              (int)i, luaL_typename(L, -1));
        if (lua_getfield(L, -1, "name") != LUA_TSTRING)
            return luaL_error(L, "bad argument #2 to 'write' (entry %d: name must be a string)",
                              (int)i);
        const char *name = lua_tostring(L, -1);
        if (!good_name(name))
            return luaL_error(L, "bad argument #2 to 'write' (entry %d: '%s' is not a relative "
                              "name inside the archive)", (int)i, name);
        int td = lua_getfield(L, -2, "data");
        int tf = lua_getfield(L, -3, "file");
        if ((td == LUA_TSTRING) == (tf == LUA_TSTRING))
            return luaL_error(L, "bad argument #2 to 'write' (entry %d '%s': give data or file, "
                              "as a string)", (int)i, name);
        lua_pop(L, 4);
    }

    /* A file that cannot be read is named now; libzip would only say
     * "read error" at close. */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 2, i);
        if (lua_getfield(L, -1, "file") == LUA_TSTRING && access(lua_tostring(L, -1), R_OK) != 0)
            return fail_msg(L, lua_tostring(L, -1), strerror(errno));
        lua_pop(L, 2);
    }

    int err = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        return fail_code(L, path, err);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 2, i);
        lua_getfield(L, -1, "name");
        const char *name = lua_tostring(L, -1);
        lua_getfield(L, -2, "data");
        lua_getfield(L, -3, "file");
        lua_getfield(L, -4, "store");
        int store = lua_toboolean(L, -1);
        zip_source_t *src;
        const char *what = name;
        if (lua_type(L, -3) == LUA_TSTRING) {
            size_t len;
            /* The string stays referenced by the entries table (argument 2)
             * until zip_close below has read it: no copy needed. */
            const char *data = lua_tolstring(L, -3, &len);
            src = zip_source_buffer(za, data, len, 0);
        } else {
            what = lua_tostring(L, -2);
            src = zip_source_file(za, what, 0, -1);
        }
        if (!src) {
            fail_msg(L, what, zip_strerror(za));
            zip_discard(za);
            return 2;
        }
        zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
        if (idx < 0) {
            zip_source_free(src);
            fail_msg(L, path, zip_strerror(za));
            zip_discard(za);
            return 2;
        }
        if (store && zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0) {
            fail_msg(L, path, zip_strerror(za));
            zip_discard(za);
            return 2;
        }
        lua_pop(L, 5);
    }
    if (zip_close(za) != 0) {
        /* A file source that vanished or cannot be read fails here. */
        fail_msg(L, path, zip_strerror(za));
        zip_discard(za);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static zip_t *open_read(lua_State *L, const char *path)
{
    int err = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!za)
        fail_code(L, path, err);
    return za;
}

/* zip.list(path) -> { {name =, size =, compressed =, stored = bool}, ... } | fail, msg */
static int l_list(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    zip_t *za = open_read(L, path);
    if (!za)
        return 2;
    zip_int64_t n = zip_get_num_entries(za, 0);
    lua_createtable(L, n > 0 ? (int)n : 0, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0) {
            fail_msg(L, path, zip_strerror(za));
            zip_discard(za);
            return 2;
        }
        lua_createtable(L, 0, 4);
        lua_pushstring(L, st.name);
        lua_setfield(L, -2, "name");
        lua_pushinteger(L, (lua_Integer)st.size);
        lua_setfield(L, -2, "size");
        lua_pushinteger(L, (lua_Integer)st.comp_size);
        lua_setfield(L, -2, "compressed");
        lua_pushboolean(L, st.comp_method == ZIP_CM_STORE);
        lua_setfield(L, -2, "stored");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    zip_discard(za);
    return 1;
}

#define READ_MAX ((zip_uint64_t)256 * 1024 * 1024)

/* zip.read(path, name) -> string | fail, msg */
static int l_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    zip_t *za = open_read(L, path);
    if (!za)
        return 2;
    zip_stat_t st;
    if (zip_stat(za, name, 0, &st) != 0) {
        lua_pushfstring(L, "no entry '%s'", name);
        fail_msg(L, path, lua_tostring(L, -1));
        zip_discard(za);
        return 2;
    }
    if (st.size > READ_MAX) {
        zip_discard(za);
        lua_pushfstring(L, "entry '%s' is too large to read into memory", name);
        return fail_msg(L, path, lua_tostring(L, -1));
    }
    zip_file_t *zf = zip_fopen(za, name, 0);
    if (!zf) {
        fail_msg(L, path, zip_strerror(za));
        zip_discard(za);
        return 2;
    }
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)st.size);
    zip_int64_t got = 0;
    while ((zip_uint64_t)got < st.size) {
        zip_int64_t r = zip_fread(zf, p + got, st.size - (zip_uint64_t)got);
        if (r <= 0)
            break;
        got += r;
    }
    int bad = (zip_uint64_t)got != st.size;
    if (bad) {
        lua_pushfstring(L, "entry '%s': %s", name, zip_file_strerror(zf));
    }
    zip_fclose(zf);
    zip_discard(za);
    if (bad)
        return fail_msg(L, path, lua_tostring(L, -1));
    luaL_pushresultsize(&b, (size_t)got);
    return 1;
}

static const luaL_Reg zip_funcs[] = {
    {"write", l_write},
    {"list", l_list},
    {"read", l_read},
    {NULL, NULL},
};

int luaopen_reel_zip(lua_State *L)
{
    luaL_newlib(L, zip_funcs);
    return 1;
}
