/* generator.h: test and stand-in signals (sine, noise, impulse train, sweep,
 * silence) described by short specs.
 *
 * Parsed and allocated on the control thread; reel_gen_fill_rt runs wherever
 * the samples are needed (the virtual device's thread, later the click or
 * calibration path in the audio callback) and is wait-free. Output is
 * deterministic: the same spec at the same rate yields the same samples
 * (noise uses a fixed-seed PRNG), so tests can compare sample for sample.
 *
 * Spec grammar (levels in dBFS, peak; default -12 where omitted):
 *   silence
 *   sine:FREQ[:DB]                 e.g. sine:440:-12
 *   noise[:white|pink][:DB]        e.g. noise:pink:-20
 *   impulse:PERIOD[:DB]            one full-scale-or-DB sample every PERIOD frames, first at frame 0
 *   sweep:F0:F1:SECONDS[:DB]       exponential sine sweep, repeats
 */
#ifndef REEL_GENERATOR_H
#define REEL_GENERATOR_H

#include <stddef.h>

#include "reel_error.h"

typedef struct reel_gen reel_gen;

/* Returns 0, or REEL_EINVAL with a message naming the bad part of spec. */
int reel_gen_create(reel_gen **out, const char *spec, unsigned rate, char *errmsg);
/* Non-zero if spec names a generator (first word is a generator name). */
int reel_gen_is_spec(const char *spec);
void reel_gen_fill_rt(reel_gen *g, float *dst, size_t frames);
void reel_gen_destroy(reel_gen *g);

#endif
