/* sandbox.h: running untrusted data chunks (templates) in a separate state.
 *
 * A template is a Lua chunk that returns a table of data. reel_sandbox_load
 * runs one in a lua_State of its own, made for that one load and closed
 * before returning, and copies the table it returned into the caller's
 * state. The sandboxed state has:
 *
 *   - a memory cap enforced by its lua_Alloc: an allocation beyond it fails,
 *     so Lua raises its ordinary "not enough memory" error (after an
 *     emergency collection); the process is never killed;
 *   - a wall-clock budget and an instruction budget, checked by a count and
 *     line hook set on the main thread and on every coroutine the chunk
 *     creates. Once a budget is spent the hook raises on every later event
 *     (of every thread), so pcall, xpcall or a coroutine cannot swallow the
 *     stop for more than a few instructions, and the loader reports the
 *     budget error whatever the chunk returns:
 *     "NAME:LINE: template ran too long (stopped after 0.1 s)";
 *   - text chunks only ("NAME: binary chunks are not allowed ...");
 *   - an environment holding only safe functions: assert, error, ipairs,
 *     next, pairs, pcall, rawequal, rawget, rawlen, rawset, select, tonumber,
 *     tostring, type, xpcall; string (byte, char, format, len, lower, rep,
 *     reverse, sub, upper, also as string methods), table (concat, insert,
 *     pack, remove, sort, unpack), math, utf8 and coroutine. Reading io, os,
 *     require, load, loadfile, dofile, debug, package, collectgarbage, print,
 *     getmetatable or setmetatable raises "NAME:LINE: 'io' is not available
 *     in templates"; so do string.dump, the pattern functions (string.find,
 *     match, gmatch, gsub: backtracking runs in C, where no hook can stop
 *     it), string.pack/unpack and table.move. string.rep refuses nothing but
 *     cannot spin on empty strings, table.sort compares through a Lua
 *     function, and xpcall runs its message handler after the error has
 *     unwound (Lua's runs it inside the hook that raised the stop, where
 *     hooks are off), so all three stay inside the budgets. No metatables:
 *     the result is plain data, and no finalizer ever runs template code.
 *
 * The copy is a tree of tables, strings, numbers and booleans, at most
 * REEL_SANDBOX_MAX_DEPTH deep with at most REEL_SANDBOX_MAX_VALUES values;
 * functions, coroutines, cycles and keys that are not strings or numbers
 * are refused with the path of the offending field
 * ("NAME: tracks[2].make: a function is not data ...").
 *
 * Line numbers: every table constructor of the chunk is noted with the lines
 * of its '{' and '}' (the source is compiled as written, for the messages
 * of syntax errors, then compiled again with each constructor wrapped in a
 * call that notes its lines; a chunk receives that function as `...`). The
 * copies of the tables noted are keys of a second result, a table mapping
 * each to {open_line, close_line}, so that validation can name the line of
 * a bad field although data has no line information of its own.
 *
 * Threads: any, one state at a time; the sandboxed state never outlives the
 * call. The caller's state only sees the copy. */
#ifndef REEL_SANDBOX_H
#define REEL_SANDBOX_H

#include <stddef.h>

#include <lua.h>

#define REEL_SANDBOX_MEMORY ((size_t)32 << 20)       /* bytes */
#define REEL_SANDBOX_SECONDS 0.1                     /* wall clock */
#define REEL_SANDBOX_INSTRUCTIONS 50000000LL         /* VM instructions */
#define REEL_SANDBOX_MAX_DEPTH 64                    /* nested tables */
#define REEL_SANDBOX_MAX_VALUES 200000               /* values in the result */
#define REEL_SANDBOX_SORT_MAX 100000                 /* table.sort elements */

/* Budgets; a zero field takes the default above. */
typedef struct reel_sandbox_limits {
    size_t memory;          /* bytes the state may hold, its own libraries included */
    double seconds;         /* wall-clock time the chunk may run */
    long long instructions; /* VM instructions the chunk may run (counted per 1000) */
} reel_sandbox_limits;

/* Runs the Lua source src[0..len) in a new sandboxed state and copies its
 * result into L.
 *
 * chunkname is the name messages use: "=NAME" or "@NAME" as for lua_load,
 * or NAME alone (treated as "=NAME"). limits may be NULL (the defaults).
 *
 * On success pushes the copy of the table the chunk returned and the table
 * of constructor lines (see above) and returns 2. On failure pushes nil
 * (fail) and a message, "NAME:LINE: message" or "NAME: message", and
 * returns 2. Raises only for L's own errors (L out of memory), in which
 * case the sandboxed state is still closed, by L's collector. */
int reel_sandbox_load(lua_State *L, const char *src, size_t len, const char *chunkname,
                      const reel_sandbox_limits *limits);

/* lsandbox.c: the "reel.sandbox" module. */
int luaopen_reel_sandbox(lua_State *L);

#endif
