/* sandbox.c: templates run in a state of their own, with a memory cap, a
 * time and instruction budget and an environment of safe functions; their
 * result is copied into the caller's state. See sandbox.h.
 *
 * How a load goes: a userdata ("reel.sandbox.state") anchored in the
 * caller's state owns the sandboxed state, so that an error in the caller
 * (while copying) still closes it, from __gc. The sandboxed state is created
 * with sb_alloc, which counts every byte; sb_main, run under lua_pcall in
 * that state, builds the environment, compiles the chunk (once as written,
 * then with its table constructors wrapped by the line-noting function),
 * sets the hook and calls it. The result is copied value by value (no Lua
 * code runs during the copy: raw access only, no metamethods) and the state
 * is closed. */
#include "sandbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#define STATE_META "reel.sandbox.state"
#define HOOK_COUNT 1000     /* instructions between count events */
#define CLOCK_EVERY 64      /* line events between clock readings */
#define SPAN_FN "__reel_span"

/* A chunk's name (a template's path) in messages. Not LUA_IDSIZE: Lua cuts
 * its own short names at 60 bytes, and a template in a deep folder must
 * still be named whole; the source string Lua keeps is never cut. */
#define NAME_SIZE 1024

typedef struct sandbox {
    size_t used, limit;      /* bytes held by the state, and the cap now */
    size_t cap;              /* the cap while the chunk runs */
    double seconds;
    long long max_steps, steps;
    struct timespec deadline;
    unsigned events;         /* line events since the last clock reading */
    int line;                /* line of the last line event (for memory errors) */
    int tripped;             /* a budget is spent: every hook event raises */
    int load_oom;            /* the compiler ran out of memory */
    lua_State *main;         /* the state's main thread */
    char name[NAME_SIZE];    /* the chunk's name in messages */
    char msg[NAME_SIZE + 160];
} sandbox;

typedef struct box {
    lua_State *S; /* NULL once closed */
    sandbox sb;
} box;

/* ---- memory ------------------------------------------------------------- */

/* Lua's allocator contract: ptr NULL means osize is a type tag, not a size;
 * nsize 0 frees; shrinking never fails. */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > sb->limit - sb->used)
        return NULL; /* Lua collects and retries once, then raises "not enough memory" */
    void *p = realloc(ptr, nsize);
    if (p)
        sb->used = sb->used - old + nsize;
    return p;
}

static int sb_panic(lua_State *S)
{
    const char *msg = lua_tostring(S, -1);
    fprintf(stderr, "reel: sandbox: unprotected error: %s\n", msg ? msg : "?");
    return 0; /* aborts */
}

/* ---- budgets -------------------------------------------------------------- */

static void sb_hook(lua_State *L, lua_Debug *ar);

static void arm_hook(lua_State *L, int count)
{
    lua_sethook(L, sb_hook, LUA_MASKLINE | LUA_MASKCOUNT, count);
}

static int clock_passed(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Whether the function ar describes (after lua_getinfo "S") is the
 * template's own code, not a helper of the sandbox such as table.sort's
 * comparison. */
static int is_template(const sandbox *sb, const lua_Debug *ar)
{
    return ar->source && ar->source[0] == '=' && strcmp(ar->source + 1, sb->name) == 0;
}

/* The line of the template the thread L is in: the innermost level that
 * runs template code; 0 when none does. */
static int template_line(lua_State *L, const sandbox *sb)
{
    lua_Debug d;
    for (int level = 0; lua_getstack(L, level, &d); level++)
        if (lua_getinfo(L, "Sl", &d) && is_template(sb, &d) && d.currentline > 0)
            return d.currentline;
    return 0;
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    sandbox *sb;
    lua_getallocf(L, (void **)&sb);
    if (ar->event == LUA_HOOKLINE && lua_getinfo(L, "S", ar) && is_template(sb, ar))
        sb->line = ar->currentline;
    if (!sb->tripped) {
        int check = 0;
        if (ar->event == LUA_HOOKCOUNT) {
            sb->steps += HOOK_COUNT;
            check = 1;
        } else if (++sb->events >= CLOCK_EVERY) {
            check = 1;
        }
        if (!check)
            return;
        sb->events = 0;
        const char *why = NULL;
        char buf[64];
        if (sb->steps >= sb->max_steps) {
            snprintf(buf, sizeof buf, "%lld instructions", sb->max_steps);
            why = buf;
        } else if (clock_passed(&sb->deadline)) {
            snprintf(buf, sizeof buf, "%g s", sb->seconds);
            why = buf;
        }
        if (!why)
            return;
        int line = template_line(L, sb);
        if (line <= 0)
            line = sb->line;
        if (line > 0)
            snprintf(sb->msg, sizeof sb->msg, "%s:%d: template ran too long (stopped after %s)",
                     sb->name, line, why);
        else
            snprintf(sb->msg, sizeof sb->msg, "%s: template ran too long (stopped after %s)",
                     sb->name, why);
        sb->tripped = 1;
        /* From now on every instruction of this thread and of the main one
         * raises again: a pcall that caught this error gets one more
         * instruction at most. Other coroutines raise at their next event. */
        if (sb->main && sb->main != L)
            arm_hook(sb->main, 1);
    }
    arm_hook(L, 1);
    lua_pushstring(L, sb->msg);
    lua_error(L);
}

/* ---- the environment -------------------------------------------------------- */

/* __index of the environment and of the string and table copies: a name
 * taken away raises, any other is nil. Upvalues: the set of names, the
 * prefix ("" or "string."). */
static int sb_unavailable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
            return luaL_error(L, "'%s%s' is not available in templates",
                              lua_tostring(L, lua_upvalueindex(2)), lua_tostring(L, 2));
    }
    lua_pushnil(L);
    return 1;
}

/* Gives the table on top a metatable whose __index raises for names. */
static void set_unavailable(lua_State *L, const char *prefix, const char *const *names)
{
    lua_createtable(L, 0, 1);
    lua_newtable(L);
    for (const char *const *n = names; *n; n++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, *n);
    }
    lua_pushstring(L, prefix);
    lua_pushcclosure(L, sb_unavailable, 2);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}

/* Copies the named fields of the table at src into the table on top. */
static void copy_fields(lua_State *L, int src, const char *const *names)
{
    for (const char *const *n = names; *n; n++) {
        lua_getfield(L, src, *n);
        lua_setfield(L, -2, *n);
    }
}

/* Copies every field of the table at src into the table on top. */
static void copy_all(lua_State *L, int src)
{
    src = lua_absindex(L, src);
    lua_pushnil(L);
    while (lua_next(L, src)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/* string.rep without the spin on empty strings (Lua 5.4 loops n times to
 * build "" when both the string and the separator are empty). */
static int sb_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* table.sort with a bounded length and every comparison made by a Lua
 * function (the given one or `a < b`), so that the hook sees it: comparing
 * long strings in C could otherwise run unseen. Upvalues: the original
 * sort, the default comparison. */
static int sb_sort(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    luaL_argcheck(L, n <= REEL_SANDBOX_SORT_MAX, 1,
                  "too many elements to sort in a template (at most 100000)");
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_pushvalue(L, lua_upvalueindex(2));
    } else {
        luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_settop(L, 2);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 0);
    return 0;
}

/* xpcall(f, msgh, ...): as Lua's, except that the message handler runs
 * after the error has unwound, as ordinary code. Lua's own xpcall calls the
 * handler at the point of the error, and an error raised by the budget hook
 * would run it inside the hook, where hooks are off: a handler that loops
 * would never be stopped. (No traceback is lost: templates have no debug
 * library.) An error in the handler makes xpcall return false and that
 * error, as Lua's "error in error handling" does. */
static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2); /* f, msgh, true, f, args... */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
    if (status == LUA_OK)
        return lua_gettop(L) - 2; /* true, results */
    lua_pushvalue(L, 2);
    lua_insert(L, -2);
    lua_pcall(L, 1, 1, 0); /* the handler's result, or its own error */
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* coroutine.create, hooking the new thread explicitly (Lua 5.4 copies the
 * creator's hook into a new thread, but the manual does not promise it). */
static lua_State *new_hooked_thread(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    sandbox *sb;
    lua_getallocf(L, (void **)&sb);
    arm_hook(co, sb->tripped ? 1 : HOOK_COUNT);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return co;
}

static int sb_cocreate(lua_State *L)
{
    new_hooked_thread(L);
    return 1;
}

/* The function coroutine.wrap returns: upvalue 1 is the thread. As Lua's
 * own: errors propagate, with the position prepended to string messages. */
static int sb_auxwrap(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int narg = lua_gettop(L);
    int status = lua_status(co);
    if (status == LUA_OK && lua_gettop(co) == 0)
        return luaL_error(L, "cannot resume dead coroutine");
    if (status != LUA_OK && status != LUA_YIELD)
        return luaL_error(L, "cannot resume dead coroutine");
    if (!lua_checkstack(co, narg))
        return luaL_error(L, "too many arguments to resume");
    lua_xmove(L, co, narg);
    int nres;
    status = lua_resume(co, L, narg, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            return luaL_error(L, "too many results to resume");
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1); /* the error object */
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int sb_cowrap(lua_State *L)
{
    new_hooked_thread(L);
    lua_pushcclosure(L, sb_auxwrap, 1);
    return 1;
}

/* __reel_span(open, t, close) -> t: notes the lines of a constructor.
 * Upvalue: the weak-keyed table of notes. */
static int sb_span(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE && lua_isinteger(L, 1) && lua_isinteger(L, 3)) {
        lua_Integer open = lua_tointeger(L, 1), close = lua_tointeger(L, 3);
        if (open > 0 && open < INT32_MAX && close > 0 && close < INT32_MAX) {
            lua_pushvalue(L, 2);
            lua_pushinteger(L, open << 32 | close);
            lua_rawset(L, lua_upvalueindex(1));
        }
    }
    lua_settop(L, 2);
    return 1;
}

static const char *const BASE_FUNCS[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget",
    "rawlen", "rawset", "select", "tonumber", "tostring", "type", "_VERSION", NULL,
};
static const char *const BASE_GONE[] = {
    "io", "os", "require", "load", "loadfile", "dofile", "loadstring", "debug", "package",
    "collectgarbage", "print", "getmetatable", "setmetatable", "module", "warn", NULL,
};
static const char *const STRING_FUNCS[] = {
    "byte", "char", "format", "len", "lower", "reverse", "sub", "upper", NULL,
};
static const char *const STRING_GONE[] = {
    "dump", "find", "match", "gmatch", "gsub", "pack", "unpack", "packsize", NULL,
};
static const char *const TABLE_FUNCS[] = {"concat", "insert", "pack", "remove", "unpack", NULL};
static const char *const TABLE_GONE[] = {"move", NULL};
static const char *const COROUTINE_FUNCS[] = {
    "resume", "yield", "status", "isyieldable", "running", "close", NULL,
};

/* Pushes the environment. The state's own globals (where the libraries were
 * opened) stay out of the chunk's reach: no function given to it leads
 * there. */
static void push_env(lua_State *L)
{
    luaL_requiref(L, "_G", luaopen_base, 0);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 0);
    int base = lua_absindex(L, -6), str = base + 1, tab = base + 2, math = base + 3,
        utf8 = base + 4, co = base + 5;

    lua_newtable(L); /* env */
    copy_fields(L, base, BASE_FUNCS);
    lua_pushcfunction(L, sb_xpcall);
    lua_setfield(L, -2, "xpcall");
    set_unavailable(L, "", BASE_GONE);

    lua_newtable(L); /* string */
    copy_fields(L, str, STRING_FUNCS);
    lua_getfield(L, str, "rep");
    lua_pushcclosure(L, sb_rep, 1);
    lua_setfield(L, -2, "rep");
    set_unavailable(L, "string.", STRING_GONE);
    /* Strings' methods are this copy, not the full library. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
    lua_setfield(L, -2, "string");

    lua_newtable(L); /* table */
    copy_fields(L, tab, TABLE_FUNCS);
    lua_getfield(L, tab, "sort");
    static const char less[] = "local a, b = ... return a < b";
    if (luaL_loadbufferx(L, less, sizeof less - 1, "=table.sort", "t") != LUA_OK)
        lua_error(L);
    lua_pushcclosure(L, sb_sort, 2);
    lua_setfield(L, -2, "sort");
    set_unavailable(L, "table.", TABLE_GONE);
    lua_setfield(L, -2, "table");

    lua_newtable(L);
    copy_all(L, math);
    lua_setfield(L, -2, "math");
    lua_newtable(L);
    copy_all(L, utf8);
    lua_setfield(L, -2, "utf8");

    lua_newtable(L); /* coroutine */
    copy_fields(L, co, COROUTINE_FUNCS);
    lua_pushcfunction(L, sb_cocreate);
    lua_setfield(L, -2, "create");
    lua_pushcfunction(L, sb_cowrap);
    lua_setfield(L, -2, "wrap");
    lua_setfield(L, -2, "coroutine");

    lua_replace(L, base);
    lua_settop(L, base);
}

/* ---- compiling ---------------------------------------------------------- */

/* Length of the long bracket opening at s[0] == '[' ("[[" 0, "[==[" 2), or
 * -1 when it is not one. */
static int long_open(const char *s, const char *end)
{
    const char *p = s + 1;
    while (p < end && *p == '=')
        p++;
    return p < end && *p == '[' ? (int)(p - s - 1) : -1;
}

/* Index just past the newline at s[i] ("\n", "\r", "\r\n" or "\n\r"). */
static size_t skip_newline(const char *s, size_t len, size_t i)
{
    char c = s[i++];
    if (i < len && (s[i] == '\n' || s[i] == '\r') && s[i] != c)
        i++;
    return i;
}

/* s[0..n) are all '=' */
static int equals(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] != '=')
            return 0;
    return 1;
}

/* Skips the body of a long bracket of level lvl starting at s[i] (just past
 * the opening bracket); returns the index past the closing one, or 0 when
 * there is none. Counts the lines it crosses. */
static size_t skip_long(const char *s, size_t len, size_t i, size_t lvl, int *line)
{
    while (i < len) {
        if (s[i] == '\n' || s[i] == '\r') {
            i = skip_newline(s, len, i);
            (*line)++;
        } else if (s[i] == ']' && i + lvl + 1 < len && s[i + lvl + 1] == ']' &&
                   equals(s + i + 1, lvl)) {
            return i + lvl + 2;
        } else {
            i++;
        }
    }
    return 0;
}

/* Pushes src with "local __reel_span = ...; " in front and every table
 * constructor '{' ... '}' written as "(__reel_span(OPEN,{" ... "},CLOSE))".
 * No newline is added, so lines stay where they were. src compiled as it
 * is; returns 0 if the braces did not balance (the stack may then hold the
 * buffer's box). */
static int push_spanned(lua_State *L, const char *s, size_t len)
{
    enum { MAX_NEST = 1000 };
    int depth = 0, line = 1;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "local " SPAN_FN " = ...; ");
    size_t i = 0, from = 0; /* s[from..i) is still to be copied */
    while (i < len) {
        char c = s[i];
        if (c == '\n' || c == '\r') {
            i = skip_newline(s, len, i);
            line++;
        } else if (c == '-' && i + 1 < len && s[i + 1] == '-') {
            i += 2;
            int lvl = (i < len && s[i] == '[') ? long_open(s + i, s + len) : -1;
            if (lvl < 0) {
                while (i < len && s[i] != '\n' && s[i] != '\r')
                    i++;
            } else if (!(i = skip_long(s, len, i + (size_t)lvl + 2, (size_t)lvl, &line))) {
                return 0;
            }
        } else if (c == '[') {
            int lvl = long_open(s + i, s + len);
            if (lvl < 0)
                i++;
            else if (!(i = skip_long(s, len, i + (size_t)lvl + 2, (size_t)lvl, &line)))
                return 0;
        } else if (c == '"' || c == '\'') {
            i++;
            while (i < len && s[i] != c) {
                if (s[i] == '\\' && i + 1 < len) {
                    i++;
                    if (s[i] == '\n' || s[i] == '\r') {
                        i = skip_newline(s, len, i);
                        line++;
                        continue;
                    }
                } else if (s[i] == '\n' || s[i] == '\r') {
                    return 0; /* unfinished string: it did not compile */
                }
                i++;
            }
            i++;
        } else if (c == '{' || c == '}') {
            luaL_addlstring(&b, s + from, i - from);
            if (c == '{') {
                if (depth == MAX_NEST)
                    return 0;
                depth++;
                luaL_addstring(&b, "(" SPAN_FN "(");
                lua_pushinteger(L, line);
                luaL_addvalue(&b);
                luaL_addstring(&b, ",{");
            } else {
                if (depth == 0)
                    return 0;
                depth--;
                luaL_addstring(&b, "},");
                lua_pushinteger(L, line);
                luaL_addvalue(&b);
                luaL_addstring(&b, "))");
            }
            from = ++i;
        } else {
            i++;
        }
    }
    if (depth != 0)
        return 0;
    luaL_addlstring(&b, s + from, len - from);
    luaL_pushresult(&b);
    return 1;
}

typedef struct job {
    const char *src;
    size_t len;
} job;

/* In the sandboxed state, under lua_pcall: builds the environment, compiles
 * and runs the chunk; returns its first result. Argument: the job (a light
 * userdata: nothing is allocated before the call is protected). */
static int sb_main(lua_State *L)
{
    job *j = lua_touserdata(L, 1);
    sandbox *sb;
    lua_getallocf(L, (void **)&sb);
    lua_settop(L, 0);
    push_env(L); /* 1 */

    char chunkname[NAME_SIZE + 1];
    snprintf(chunkname, sizeof chunkname, "=%s", sb->name);
    if (j->len > 0 && j->src[0] == LUA_SIGNATURE[0])
        return luaL_error(L, "%s: binary chunks are not allowed (a template is Lua source text)",
                          sb->name);
    int st = luaL_loadbufferx(L, j->src, j->len, chunkname, "t");
    if (st != LUA_OK) {
        if (st == LUA_ERRMEM)
            sb->load_oom = 1;
        return lua_error(L);
    }
    /* 2: the chunk as written; compile it again with constructors noted */
    int nargs = 0;
    lua_newtable(L); /* 3: the notes */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, 3);
    lua_setfield(L, LUA_REGISTRYINDEX, "reel.sandbox.spans");
    if (!push_spanned(L, j->src, j->len)) {
        lua_settop(L, 3); /* the buffer's box, if any */
    } else {
        size_t n;
        const char *t = lua_tolstring(L, -1, &n);
        if (luaL_loadbufferx(L, t, n, chunkname, "t") == LUA_OK) {
            lua_replace(L, 2);
            lua_pushvalue(L, 3);
            lua_pushcclosure(L, sb_span, 1);
            nargs = 1;
            lua_remove(L, -2); /* the text */
        } else {
            lua_pop(L, 2); /* the message, the text: run the chunk as written */
        }
    }
    lua_pushvalue(L, 1);
    if (!lua_setupvalue(L, 2, 1)) /* _ENV */
        lua_pop(L, 1);
    lua_pushvalue(L, 2);
    if (nargs)
        lua_rotate(L, -2, 1); /* chunk, span function */
    lua_remove(L, 2);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double whole = (double)(long long)sb->seconds;
    sb->deadline.tv_sec = now.tv_sec + (time_t)whole;
    sb->deadline.tv_nsec = now.tv_nsec + (long)((sb->seconds - whole) * 1e9);
    if (sb->deadline.tv_nsec >= 1000000000L) {
        sb->deadline.tv_sec++;
        sb->deadline.tv_nsec -= 1000000000L;
    }
    arm_hook(L, HOOK_COUNT);
    lua_call(L, nargs, 1);
    lua_sethook(L, NULL, 0, 0);
    return 1;
}

/* ---- copying the result ------------------------------------------------- */

typedef struct copier {
    lua_State *S, *L;
    int spans_S, spans_L; /* absolute indices */
    int values, depth;
    const void *open[REEL_SANDBOX_MAX_DEPTH + 1];
    char path[256];
    size_t pathlen;
    const sandbox *sb;
    char msg[NAME_SIZE + 512];
} copier;

static int is_name(const char *s, size_t n)
{
    if (n == 0 || n > 64 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Appends the key at idx (in S) to the path; returns the old length. */
static size_t path_push(copier *c, int idx)
{
    size_t old = c->pathlen, room = sizeof c->path - old;
    int n = 0;
    if (lua_type(c->S, idx) == LUA_TSTRING) {
        size_t l;
        const char *k = lua_tolstring(c->S, idx, &l);
        if (is_name(k, l))
            n = snprintf(c->path + old, room, "%s%s", old ? "." : "", k);
        else
            n = snprintf(c->path + old, room, "[\"%.40s%s\"]", k, l > 40 ? "..." : "");
    } else if (lua_isinteger(c->S, idx)) {
        n = snprintf(c->path + old, room, "[%lld]", (long long)lua_tointeger(c->S, idx));
    } else {
        n = snprintf(c->path + old, room, "[%.14g]", (double)lua_tonumber(c->S, idx));
    }
    if (n < 0 || (size_t)n >= room)
        c->pathlen = sizeof c->path - 1; /* truncated */
    else
        c->pathlen = old + (size_t)n;
    return old;
}

static int refuse(copier *c, const char *what)
{
    enum { SHOWN = 96 };
    if (c->pathlen == 0)
        snprintf(c->msg, sizeof c->msg, "%s: %s", c->sb->name, what);
    else
        snprintf(c->msg, sizeof c->msg, "%s: %.*s%s: %s", c->sb->name, SHOWN, c->path,
                 c->pathlen > SHOWN ? "..." : "", what);
    return -1;
}

/* Pushes onto L a copy of the value at idx in S; -1 with c->msg set when it
 * cannot be copied. */
static int copy_value(copier *c, int idx)
{
    lua_State *S = c->S, *L = c->L;
    if (++c->values > REEL_SANDBOX_MAX_VALUES) {
        snprintf(c->msg, sizeof c->msg, "%s: the result holds more than %d values",
                 c->sb->name, REEL_SANDBOX_MAX_VALUES);
        return -1;
    }
    switch (lua_type(S, idx)) {
    case LUA_TBOOLEAN:
        lua_pushboolean(L, lua_toboolean(S, idx));
        return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(S, idx))
            lua_pushinteger(L, lua_tointeger(S, idx));
        else
            lua_pushnumber(L, lua_tonumber(S, idx));
        return 0;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(S, idx, &n);
        lua_pushlstring(L, s, n);
        return 0;
    }
    case LUA_TTABLE:
        break;
    case LUA_TFUNCTION:
        return refuse(c, "a function is not data (a template returns tables, strings, numbers "
                         "and booleans)");
    default: {
        char what[96];
        snprintf(what, sizeof what, "a %s is not data (a template returns tables, strings, "
                 "numbers and booleans)", luaL_typename(S, idx));
        return refuse(c, what);
    }
    }

    const void *me = lua_topointer(S, idx);
    for (int i = 0; i < c->depth; i++)
        if (c->open[i] == me)
            return refuse(c, "the table contains itself (a template returns a tree of tables)");
    if (c->depth >= REEL_SANDBOX_MAX_DEPTH) {
        char what[64];
        snprintf(what, sizeof what, "tables nested deeper than %d levels", REEL_SANDBOX_MAX_DEPTH);
        return refuse(c, what);
    }
    if (!lua_checkstack(S, 4)) /* cannot happen below the depth limit; be safe */
        return refuse(c, "tables nested too deep");
    luaL_checkstack(L, 6, "result nested too deep");
    c->open[c->depth++] = me;

    lua_newtable(L);
    int copy = lua_gettop(L);
    /* the constructor's lines */
    lua_pushvalue(S, idx);
    if (lua_rawget(S, c->spans_S) == LUA_TNUMBER) {
        lua_Integer v = lua_tointeger(S, -1);
        lua_pushvalue(L, copy);
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, v >> 32);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, v & 0xffffffff);
        lua_rawseti(L, -2, 2);
        lua_rawset(L, c->spans_L);
    }
    lua_pop(S, 1);

    lua_pushnil(S);
    while (lua_next(S, idx)) {
        int kt = lua_type(S, -2);
        size_t old = path_push(c, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER) {
            char what[96];
            c->pathlen = old;
            c->path[old] = 0;
            snprintf(what, sizeof what, "a table key must be a string or a number, got %s",
                     luaL_typename(S, -2));
            lua_pop(S, 2);
            return refuse(c, what);
        }
        if (kt == LUA_TSTRING) {
            size_t n;
            const char *k = lua_tolstring(S, -2, &n);
            lua_pushlstring(L, k, n);
        } else if (lua_isinteger(S, -2)) {
            lua_pushinteger(L, lua_tointeger(S, -2));
        } else {
            lua_pushnumber(L, lua_tonumber(S, -2));
        }
        if (copy_value(c, lua_gettop(S)) != 0) {
            lua_pop(S, 2);
            return -1;
        }
        lua_rawset(L, copy);
        lua_pop(S, 1);
        c->pathlen = old;
        c->path[old] = 0;
    }
    c->depth--;
    return 0;
}

/* ---- the load ------------------------------------------------------------ */

/* An out-of-memory error that reached the top as an ordinary error (passed
 * on by coroutine.wrap, or rethrown by the chunk as it was). */
static int is_oom_message(lua_State *S)
{
    return lua_type(S, -1) == LUA_TSTRING && strcmp(lua_tostring(S, -1), "not enough memory") == 0;
}

static void close_box(box *bx)
{
    if (bx->S) {
        lua_State *S = bx->S;
        bx->S = NULL;
        lua_close(S);
    }
}

static int box_gc(lua_State *L)
{
    close_box(luaL_checkudata(L, 1, STATE_META));
    return 0;
}

/* The name messages use for a chunk name given as for lua_load. */
static void display_name(char *out, size_t size, const char *chunkname)
{
    if (!chunkname || !*chunkname)
        chunkname = "=(template)";
    if (*chunkname == '=' || *chunkname == '@')
        chunkname++;
    snprintf(out, size, "%s", chunkname);
}

int reel_sandbox_load(lua_State *L, const char *src, size_t len, const char *chunkname,
                      const reel_sandbox_limits *limits)
{
    luaL_checkstack(L, 8, "sandbox");
    box *bx = lua_newuserdatauv(L, sizeof *bx, 0);
    memset(bx, 0, sizeof *bx);
    if (luaL_newmetatable(L, STATE_META)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    int anchor = lua_gettop(L);

    sandbox *sb = &bx->sb;
    sb->limit = limits && limits->memory ? limits->memory : REEL_SANDBOX_MEMORY;
    if (sb->limit < ((size_t)64 << 10))
        sb->limit = (size_t)64 << 10; /* the libraries alone need some */
    sb->cap = sb->limit;
    sb->seconds = limits && limits->seconds > 0 ? limits->seconds : REEL_SANDBOX_SECONDS;
    sb->max_steps =
        limits && limits->instructions > 0 ? limits->instructions : REEL_SANDBOX_INSTRUCTIONS;
    display_name(sb->name, sizeof sb->name, chunkname);

    lua_State *S = lua_newstate(sb_alloc, sb);
    if (!S) {
        lua_settop(L, anchor - 1);
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: not enough memory to start the template", sb->name);
        return 2;
    }
    bx->S = S;
    sb->main = S;
    lua_atpanic(S, sb_panic);

    job j = {src, len};
    lua_pushcfunction(S, sb_main);
    lua_pushlightuserdata(S, &j);
    int status = lua_pcall(S, 1, 1, 0);
    lua_sethook(S, NULL, 0, 0);
    sb->limit = SIZE_MAX; /* the copy must not fail in S */

    if (sb->tripped || status != LUA_OK) {
        lua_settop(L, anchor);
        luaL_pushfail(L);
        if (sb->tripped) {
            lua_pushstring(L, sb->msg);
        } else if (status == LUA_ERRMEM || sb->load_oom || is_oom_message(S)) {
            char where[NAME_SIZE + 32], size[48];
            if (sb->line > 0)
                snprintf(where, sizeof where, "%s:%d", sb->name, sb->line);
            else
                snprintf(where, sizeof where, "%s", sb->name);
            if (sb->cap % ((size_t)1 << 20) == 0)
                snprintf(size, sizeof size, "%zu MiB", sb->cap >> 20);
            else
                snprintf(size, sizeof size, "%zu KiB", sb->cap >> 10);
            lua_pushfstring(L, "%s: not enough memory (a template may use %s)", where, size);
        } else if (lua_type(S, -1) == LUA_TSTRING) {
            /* "NAME:LINE: ..." as Lua gives it, NAME cut to LUA_IDSIZE - 1
             * bytes (luaO_chunkid), so put the whole name back; a message
             * without a place (error(msg, 0), "C stack overflow" while
             * compiling) gets the name. */
            size_t n, nl = strlen(sb->name);
            size_t shown = nl < LUA_IDSIZE - 1 ? nl : LUA_IDSIZE - 1;
            const char *m = lua_tolstring(S, -1, &n);
            if (n > shown && memcmp(m, sb->name, shown) == 0 && m[shown] == ':') {
                lua_pushstring(L, sb->name);
                lua_pushlstring(L, m + shown, n - shown);
                lua_concat(L, 2);
            } else {
                lua_pushfstring(L, "%s: %s", sb->name, m);
            }
        } else {
            lua_pushfstring(L, "%s: (error object is a %s value)", sb->name,
                            luaL_typename(S, -1));
        }
        close_box(bx);
        lua_remove(L, anchor);
        return 2;
    }

    if (!lua_istable(S, -1)) {
        lua_settop(L, anchor);
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: a template returns a table, this one returned %s", sb->name,
                        luaL_typename(S, -1));
        close_box(bx);
        lua_remove(L, anchor);
        return 2;
    }

    copier c;
    memset(&c, 0, sizeof c);
    c.S = S;
    c.L = L;
    c.sb = sb;
    lua_getfield(S, LUA_REGISTRYINDEX, "reel.sandbox.spans");
    if (!lua_istable(S, -1)) {
        lua_pop(S, 1);
        lua_newtable(S);
    }
    c.spans_S = lua_gettop(S);
    lua_newtable(L);
    c.spans_L = lua_gettop(L);
    if (copy_value(&c, c.spans_S - 1) != 0) {
        lua_settop(L, anchor);
        luaL_pushfail(L);
        lua_pushstring(L, c.msg);
        close_box(bx);
        lua_remove(L, anchor);
        return 2;
    }
    /* L: anchor, spans, copy */
    lua_insert(L, -2);
    close_box(bx);
    lua_remove(L, anchor);
    return 2;
}
