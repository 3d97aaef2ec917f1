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
 *   mls:ORDER[:DB]                 maximum length sequence, ORDER 10..20: +-level
 *                                  samples repeating every 2^ORDER - 1 frames
 *
 * MLS: a Galois LFSR of ORDER bits, state starting at 1; per frame the output
 * bit b is the state's lowest bit, then state >>= 1 and, if b was 1,
 * state ^= REEL_MLS_TAPS[ORDER]; the sample is level * (1 - 2b) (bit 0 gives
 * +level, bit 1 gives -level). The tap masks come from primitive
 * polynomials, so the period is exactly 2^ORDER - 1 and a period holds
 * 2^(ORDER-1) samples of -level and 2^(ORDER-1) - 1 of +level. Its periodic
 * autocorrelation is N at lag 0 and -1 elsewhere (in units of level^2): a
 * flat spectrum with a crest factor of 1, the test signal of latency.h and
 * `reel calibrate`.
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

/* MLS orders accepted by "mls:ORDER" and their Galois tap masks: bit k-1 is
 * set for each term x^k (k >= 1) of the feedback polynomial, whose constant
 * term is implied. REEL_MLS_TAPS[order] for order in
 * [REEL_MLS_MIN_ORDER, REEL_MLS_MAX_ORDER]; other entries are 0. */
#define REEL_MLS_MIN_ORDER 10
#define REEL_MLS_MAX_ORDER 20
extern const unsigned long REEL_MLS_TAPS[REEL_MLS_MAX_ORDER + 1];

#endif
