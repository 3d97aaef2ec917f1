/* xfade.h: the equal-power crossfade weight shared by offline renders
 * (engine/render.c: comp switches and variant edits) and overdub playback
 * (engine/playback.c: comp switches), so that what a musician hears while
 * overdubbing against a comp is what the rendered stem holds, sample for
 * sample.
 *
 * Threads: pure function; render workers and the playback reader call it
 * (never the audio callback, which only sums what the reader weighted). */
#ifndef REEL_XFADE_H
#define REEL_XFADE_H

#include <math.h>
#include <stdint.h>

/* Weight at frame t of a zone [z, z + len): rising (sin) into the side that
 * begins there or falling (cos) out of the side that ends there. Sampled at
 * the middle of each frame, so the two sides' squares add up to 1 at every
 * frame and neither reaches exactly 0 or 1 inside the zone. */
static inline float reel_xfade_gain(uint64_t t, uint64_t z, uint64_t len, int rising)
{
    const double half_pi = 1.57079632679489661923;
    double x = ((double)(t - z) + 0.5) / (double)len;
    return (float)(rising ? sin(x * half_pi) : cos(x * half_pi));
}

#endif
