/* latency.h: round-trip latency measurement by cross-correlation.
 *
 * A known test signal (an MLS from generator.h's "mls:ORDER", or any
 * broadband signal: noise, a sweep) is played through an output and recorded
 * from an input connected to it (a cable, a JACK connection, the virtual
 * device's simulated loopback). reel_latency_measure finds the delay d at
 * which the recording best matches the played signal: the lag that
 * maximises |c(d)| with c(d) = sum_k played[k] * recorded[k + d].
 *
 * Method (chosen over the MLS-only fast Hadamard transform because it works
 * for any test signal and any recording length): the full linear
 * cross-correlation for every lag 0 .. n_recorded - n_played at once, by
 * FFT (radix-2, double precision, one complex transform packing both real
 * signals, O(M log M) with M the next power of two >= n_recorded); both
 * signals have their mean removed first. The argmax is exact to the sample:
 * the peak of a 2^16 - 1 MLS stands about 190 times above every other lag,
 * far beyond the FFT's rounding (about 1e-12 of the peak). A polarity
 * inversion (a miswired cable) still finds the delay and is reported. A gain
 * change does not move the peak nor change the confidence.
 *
 * The caller bounds the search: only lags where the played signal lies
 * wholly inside the recording are tried, so recording n_played + max_lag
 * frames searches delays 0 .. max_lag (calibrate uses a max lag of 1 s).
 *
 * Refusal: when nothing came back (the recording is digital silence) or no
 * lag stands out (the highest |c| is less than REEL_LATENCY_MIN_CONFIDENCE
 * times the highest |c| more than REEL_LATENCY_GUARD frames away from it:
 * unrelated noise gives about 1.0-1.5, a working loop with a 2^16 - 1 MLS
 * about 190, 160 under noise 20 dB below the signal), it returns REEL_EINVAL
 * with a message saying so; a missing loopback ends there.
 *
 * Threads: control thread only (allocates); reentrant, no global state.
 * Not for the audio callback. */
#ifndef REEL_LATENCY_H
#define REEL_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

/* Lags within this many frames of the peak are its own neighbourhood (a
 * band-limited loop smears the peak over a few samples) and are left out of
 * the confidence ratio. */
#define REEL_LATENCY_GUARD 16
/* Below this peak-to-next ratio the measurement is refused. */
#define REEL_LATENCY_MIN_CONFIDENCE 4.0
/* The recording must extend beyond the test signal by this much at least,
 * so that there are lags to compare the peak with. */
#define REEL_LATENCY_MIN_EXTRA (2 * REEL_LATENCY_GUARD + 1)
/* Longest recording accepted, in frames (2^22: 87 s at 48 kHz). */
#define REEL_LATENCY_MAX_FRAMES ((size_t)1 << 22)

typedef struct reel_latency_result {
    int64_t delay;       /* frames: recorded[delay + k] matches played[k] */
    double confidence;   /* |c| at the peak / highest |c| farther than GUARD from it */
    double correlation;  /* normalised correlation at the peak, -1..1 (1: identical shape) */
    double level_db;     /* RMS level of the returned signal, recorded[delay ..
                          * delay + n_played), in dBFS (an MLS's RMS is its peak level) */
    double gain_db;      /* loop gain, returned / played, dB (0 for a digital loop) */
    int inverted;        /* non-zero: the signal came back with its polarity flipped */
    size_t lags;         /* delays tried: n_recorded - n_played + 1 */
    char message[REEL_ERRMSG_MAX]; /* why a measurement was refused; "" on success */
} reel_latency_result;

/* Measures the delay of played within recorded (both mono float, both
 * starting at the same frame of the timeline). Returns 0 with *out filled,
 * or REEL_EINVAL (bad sizes, silent test signal, silent recording, no clear
 * peak) / REEL_ENOMEM with out->message set; on a refusal for lack of a
 * clear peak the other fields still describe the best lag found, for
 * diagnostics. n_recorded must be at least n_played + REEL_LATENCY_MIN_EXTRA
 * and at most REEL_LATENCY_MAX_FRAMES. */
int reel_latency_measure(const float *played, size_t n_played, const float *recorded,
                         size_t n_recorded, reel_latency_result *out);

#endif
