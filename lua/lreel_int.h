/* lreel_int.h: what the reel.core binding files share (private).
 *
 * lreel.c defines the recorder userdata and the option helpers;
 * ltransport.c adds the tracking methods (transport, playback, monitor,
 * click) to the same userdata. Control thread only, like all of lua/. */
#ifndef REEL_LREEL_INT_H
#define REEL_LREEL_INT_H

#include <signal.h>

#include <lauxlib.h>
#include <lua.h>

#include "capture.h"
#include "recorder.h"

#define RECORDER_META "reel.recorder"

typedef struct lrecorder {
    reel_recorder *rec;  /* NULL when closed */
    char label[160];     /* for __tostring */
} lrecorder;

enum opt_type { OPT_STRING, OPT_INTEGER, OPT_NUMBER, OPT_BOOLEAN, OPT_LIST };

typedef struct opt_spec {
    const char *key;
    enum opt_type type;
} opt_spec;

/* Returns nil (fail), msg: 2 results. */
int lreel_fail(lua_State *L, const char *msg);
/* Engine threads are created with SIGINT/SIGTERM blocked (see lreel.c). */
void lreel_block_signals(sigset_t *old);
void lreel_restore_signals(const sigset_t *old);
double lreel_db_of(float peak);
/* Raises on unknown keys and wrongly typed values in the table at arg. */
void lreel_check_options(lua_State *L, int arg, const opt_spec *specs);
const char *lreel_opt_string(lua_State *L, int arg, const char *key, const char *def);
lua_Integer lreel_opt_integer(lua_State *L, int arg, const char *key, lua_Integer def,
                              lua_Integer min, lua_Integer max);
int lreel_opt_boolean(lua_State *L, int arg, const char *key);
lrecorder *lreel_check_recorder(lua_State *L);
/* A track by name or 1-based index; raises naming the argument. */
unsigned lreel_check_track(lua_State *L, lrecorder *r, int arg);
void lreel_set_int(lua_State *L, const char *k, lua_Integer v);
void lreel_push_take_stats(lua_State *L, lrecorder *r, unsigned t, const reel_take_stats *st);

/* Methods added to the recorder by ltransport.c. */
extern const luaL_Reg lreel_transport_methods[];

#endif
