/* tempo.h: the tempo map, converting between bars:beats, samples and seconds
 * for the transport and the metronome.
 *
 * A map has a sample rate and up to REEL_TEMPO_MAX_SEGMENTS segments. Each
 * segment starts at a bar (1-based; the first is always bar 1, at sample 0)
 * and holds until the next one: a tempo in BPM and a meter NUM/DEN. Tempo and
 * meter change only at bar starts. The BPM counts the meter's denominator
 * note: 4/4 at 120 is 120 quarter notes a minute, 6/8 at 180 is 180 eighth
 * notes a minute (a 6/8 bar is then 2 seconds). "Beat" below always means
 * that denominator note, so a bar has NUM beats.
 *
 * Exact, reproducible positions: each segment's start is kept as an unrounded
 * double, computed once from the previous segment's start. Beat k (0-based)
 * of a segment lies exactly at start + k * rate * 60 / bpm and lands on that
 * value rounded half up (to the nearest sample; exact halves go towards +inf,
 * also for negative positions: -16537.5 lands on -16537). Every function uses
 * that one formula, so bars:beats -> sample -> bars:beats always round-trips
 * and the metronome clicks exactly where the transport says beats are.
 * A position inside a beat (fraction f in [0, 1)) is interpolated between the
 * two rounded beat positions p and q: p + (f * (q - p)) rounded half up; the
 * reverse gives f = (sample - p) / (q - p), so every sample round-trips too.
 *
 * Count-in: bar 0, -1, ... (down to REEL_TEMPO_BAR_MIN) lie before 1:1 and
 * are reached by extending the first segment backwards; bar 0 beat 1 of a
 * 4/4 map at 120 bpm and 48 kHz is sample -96000. Only the explicit
 * conversion functions take them; reel_tempo_parse_position refuses positions
 * before 1:1.
 *
 * Threads: create, destroy, set, remove, copy and parse_position run on the
 * control thread. Everything else only reads the map, never allocates, locks
 * or does I/O, and may run on any thread; the *_rt functions are the ones the
 * audio callback is meant to use. A map is not synchronised: never edit a map
 * while another thread reads it. To change the tempo while the transport
 * runs, edit a second map (reel_tempo_copy brings it up to date without
 * allocating) and hand its pointer over with a release store, as with any
 * other control-to-audio handoff. */
#ifndef REEL_TEMPO_H
#define REEL_TEMPO_H

#include <stdint.h>

#include "reel_error.h"

#define REEL_TEMPO_MAX_SEGMENTS 256
/* Bars outside this range are refused, which keeps every position below
 * 2^49 samples where doubles still resolve 1/16 of a sample. */
#define REEL_TEMPO_BAR_MIN (-9999)
#define REEL_TEMPO_BAR_MAX 99999
/* A beat is then at least 60 samples long, so beats never share a sample. */
#define REEL_TEMPO_RATE_MIN 1000u
#define REEL_TEMPO_RATE_MAX 1000000u
#define REEL_TEMPO_BPM_MIN 1.0
#define REEL_TEMPO_BPM_MAX 1000.0
#define REEL_TEMPO_NUM_MAX 64   /* beats per bar; den is 1, 2, 4, 8, 16 or 32 */

typedef struct reel_tempo reel_tempo;

typedef struct reel_tempo_segment {
    int bar;          /* first bar, >= 1 */
    double bpm;       /* denominator notes per minute */
    int num, den;     /* meter */
    double start;     /* exact start in samples, unrounded */
    int64_t sample;   /* start rounded half up: where its first beat lands */
} reel_tempo_segment;

/* Creates a map with one segment at bar 1. rate must be within
 * REEL_TEMPO_RATE_MIN..MAX, bpm within 1..1000 (fractions allowed), num
 * 1..64, den a power of two 1..32. Returns 0, REEL_EINVAL with a message
 * naming the bad value, or REEL_ENOMEM. */
int reel_tempo_create(reel_tempo **out, unsigned rate, double bpm, int num, int den,
                      char *errmsg);
void reel_tempo_destroy(reel_tempo *m);   /* NULL is fine */
/* Makes dst an exact copy of src (rate included). No allocation. */
void reel_tempo_copy(reel_tempo *dst, const reel_tempo *src);
unsigned reel_tempo_rate(const reel_tempo *m);

/* Adds a tempo/meter change at bar (1..REEL_TEMPO_BAR_MAX), or replaces the
 * one already there (bar 1 always exists and is replaced). Later segment
 * starts move accordingly. Returns 0 or REEL_EINVAL (bad value, or the map
 * already holds REEL_TEMPO_MAX_SEGMENTS changes); on failure the map is
 * unchanged. */
int reel_tempo_set(reel_tempo *m, int bar, double bpm, int num, int den, char *errmsg);
/* Removes the change at bar; the previous segment then extends over it.
 * REEL_ENOTFOUND if there is none, REEL_EINVAL for bar 1. */
int reel_tempo_remove(reel_tempo *m, int bar, char *errmsg);

unsigned reel_tempo_count(const reel_tempo *m);   /* segments, >= 1 */
/* Segment by index, in bar order. REEL_EINVAL if index >= count. */
int reel_tempo_get(const reel_tempo *m, unsigned index, reel_tempo_segment *out);
/* The segment in effect at bar (the first one for bars before 1).
 * REEL_EINVAL if bar is outside REEL_TEMPO_BAR_MIN..MAX. */
int reel_tempo_segment_at_rt(const reel_tempo *m, int bar, reel_tempo_segment *out);

/* bar (REEL_TEMPO_BAR_MIN..MAX), beat (1..num of that bar) and fraction of
 * a beat ([0, 1)) to a sample. REEL_EINVAL for anything out of range; then
 * *sample is untouched. */
int reel_tempo_bbt_to_sample_rt(const reel_tempo *m, int bar, int beat, double fraction,
                                int64_t *sample);
/* The beat containing sample, and how far into it. REEL_EINVAL if sample is
 * before bar REEL_TEMPO_BAR_MIN or at/after the end of bar REEL_TEMPO_BAR_MAX.
 * Any output pointer may be NULL. */
int reel_tempo_sample_to_bbt_rt(const reel_tempo *m, int64_t sample, int *bar, int *beat,
                                double *fraction);
/* Length of bar in samples (its rounded end minus its rounded start, so the
 * lengths of consecutive bars add up exactly). REEL_EINVAL if out of range. */
int reel_tempo_bar_length_rt(const reel_tempo *m, int bar, int64_t *samples);
/* The first beat at or after from: its sample, bar and beat (beat 1 is the
 * downbeat the click accents). O(log segments). REEL_EINVAL when that beat
 * would be past bar REEL_TEMPO_BAR_MAX. Output pointers may be NULL. */
int reel_tempo_next_beat_rt(const reel_tempo *m, int64_t from, int64_t *pos, int *bar,
                            int *beat);

/* Plain rate conversions, independent of tempo. seconds * rate rounded half
 * up; REEL_EINVAL for NaN, infinities or results beyond +-2^52 samples. */
int reel_tempo_seconds_to_sample(const reel_tempo *m, double seconds, int64_t *sample);
double reel_tempo_sample_to_seconds(const reel_tempo *m, int64_t sample); /* sample / rate */

/* Parses a position typed by a user, at or after 1:1 and before the end of
 * bar REEL_TEMPO_BAR_MAX, with no surrounding spaces:
 *   96000      samples (decimal integer)
 *   12.5s      seconds: DIGITS[.DIGITS]s or .DIGITS s, via
 *              reel_tempo_seconds_to_sample
 *   5:1  5:2.5 BAR:BEAT[.FRACTION], 1-based; "5:2.5" is halfway through
 *              beat 2 of bar 5, via reel_tempo_bbt_to_sample_rt
 * Digits after the 15th of a fraction are ignored (below double precision).
 * Returns 0 or REEL_EINVAL with a message quoting text, e.g.
 *   position 'abc' is not samples, seconds (12.5s) or bars:beats (5:1)
 *   position '5:9': bar 5 has only 4 beats
 *   position '5:0': beats start at 1
 *   position '0:1' is before the start (1:1)
 *   position '100000:1' is after the last bar (99999)
 * *sample is only written on success. */
int reel_tempo_parse_position(const reel_tempo *m, const char *text, int64_t *sample,
                              char *errmsg);

#endif
