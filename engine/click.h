/* click.h: the metronome, mixed into the device outputs on the transport's
 * beats.
 *
 * A click is a short sine burst (linear attack of about 1 ms, then an
 * exponential decay faded linearly to zero, so the burst itself starts and
 * ends without a step) at a peak level in dBFS; beat 1 of every bar is
 * accented with its own level and pitch. It sounds on every beat the tempo
 * map gives (reel_tempo_next_beat_rt) inside the transport's rolling output
 * spans, so it follows tempo and meter changes, loop wraps and the count-in
 * exactly; a burst that runs past the end of a period continues in the next.
 *
 * Threads: create, destroy, the setters and get_mode run on the control
 * thread. reel_click_render_rt runs on the audio thread (one thread at a
 * time) and never allocates, locks or calls into the system. The setters may
 * be called while render runs: they publish through atomics, and render
 * picks them up at its next call; a burst already sounding keeps the level
 * it started with. */
#ifndef REEL_CLICK_H
#define REEL_CLICK_H

#include "reel_error.h"
#include "tempo.h"
#include "transport.h"

#define REEL_CLICK_MAX_OUTPUTS 64  /* entries in reel_click_config.outputs */
#define REEL_CLICK_CHANNELS 1024   /* output indices are below this (the device's limit) */
#define REEL_CLICK_LENGTH_MIN_MS 5.0
#define REEL_CLICK_LENGTH_MAX_MS 500.0
#define REEL_CLICK_FREQUENCY_MIN 20.0   /* Hz; the maximum is below half the rate */

typedef enum reel_click_mode {
    REEL_CLICK_OFF = 0,
    REEL_CLICK_ALWAYS = 1,    /* whenever rolling, count-in included */
    REEL_CLICK_RECORDING = 2  /* during the count-in and in spans with REEL_SPAN_RECORD */
} reel_click_mode;

typedef struct reel_click_config {
    double level_db;          /* peak dBFS of normal beats, <= 0; default -6 */
    double accent_db;         /* peak dBFS of beat 1 of each bar, <= 0; default 0 */
    double frequency;         /* Hz, normal beats; default 1000 */
    double accent_frequency;  /* Hz, beat 1; default 1500 */
    double length_ms;         /* burst length, 5..500 ms; default 20 */
    const unsigned *outputs;  /* output channels (0-based), copied by create; default {0, 1} */
    unsigned n_outputs;       /* 1..REEL_CLICK_MAX_OUTPUTS, no index twice */
    reel_click_mode mode;     /* default REEL_CLICK_ALWAYS */
} reel_click_config;

typedef struct reel_click reel_click;

/* Fills cfg with the defaults above. */
void reel_click_config_init(reel_click_config *cfg);

/* Makes a click for the device rate (REEL_TEMPO_RATE_MIN..MAX; use the tempo
 * map's rate). cfg NULL means all defaults. Frequencies must be at least
 * REEL_CLICK_FREQUENCY_MIN and below half the rate. Returns 0, REEL_EINVAL
 * with a message naming the field and value, e.g.
 *   click: level_db 3 must be 0 or below
 *   click: outputs[2] = 1 repeats outputs[0]
 * or REEL_ENOMEM. *out is NULL on failure. */
int reel_click_create(reel_click **out, unsigned rate, const reel_click_config *cfg,
                      char *errmsg);
void reel_click_destroy(reel_click *ck);   /* NULL is fine */

/* Control thread, safe while render runs; checked like the config fields,
 * and on failure nothing changes. A new level applies to bursts that start
 * after render has seen it. Switching the mode (OFF included) never cuts a
 * burst that is sounding. */
int reel_click_set_level(reel_click *ck, double level_db, char *errmsg);
int reel_click_set_accent(reel_click *ck, double accent_db, char *errmsg);
int reel_click_set_mode(reel_click *ck, reel_click_mode mode, char *errmsg);
reel_click_mode reel_click_get_mode(const reel_click *ck);

/* Audio thread, once per period, with the transport's output spans for the
 * period (in offset order, covering it; the period is taken to end where the
 * last span ends). ADDS the click into out[ch] for each configured output
 * ch < out_channels (NULL channel pointers are skipped); other channels and
 * whatever is already in the buffers are left as they are.
 *
 * A span starts bursts when it has REEL_SPAN_ROLLING and the mode allows it
 * (ALWAYS: any rolling span; RECORDING: rolling spans with REEL_SPAN_COUNT_IN
 * or REEL_SPAN_RECORD). Every beat p of map with pos <= p < pos + frames
 * starts a burst at frame offset + (p - pos), accented when it is beat 1 of
 * its bar. Spans without REEL_SPAN_ROLLING start nothing, but bursts already
 * sounding play to their end. map NULL starts nothing either; map must not
 * be edited while render reads it (see tempo.h). Bursts that overlap (two
 * beats closer than the burst length, e.g. around a loop wrap) are summed. */
void reel_click_render_rt(reel_click *ck, const reel_tempo *map, const reel_span *spans,
                          unsigned n, float *const *out, unsigned out_channels);

#endif
