/* latency.c: round-trip latency by FFT cross-correlation (see latency.h).
 *
 * Both real signals go into one complex buffer z = a + i*b (a: the played
 * signal, zero-padded; b: the recording), one forward FFT gives Z, from
 * which A and B separate by symmetry (A[k] = (Z[k] + conj Z[-k]) / 2,
 * B[k] = (Z[k] - conj Z[-k]) / 2i); the inverse FFT of conj(A) * B is the
 * circular cross-correlation r[j] = sum_k a[k] b[(k + j) mod M]. With M >=
 * n_recorded and a zero beyond n_played, no term wraps for the lags we
 * read (j <= n_recorded - n_played), so r is the linear correlation there.
 *
 * Threads: control thread; allocates one buffer of M complex doubles plus
 * M/2 twiddles, frees them before returning. */
#include "latency.h"

#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586476925286766559

typedef double complex cplx;

static int refuse(reel_latency_result *out, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(reel_latency_result *out, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    return code;
}

/* In-place iterative radix-2 FFT of x[0..m) (m a power of two), forward
 * (e^{-2 pi i k n / m}); w[k] = e^{-2 pi i k / m} for k < m / 2. */
static void fft(cplx *x, size_t m, const cplx *w)
{
    for (size_t i = 1, j = 0; i < m; i++) {
        size_t bit = m >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j |= bit;
        if (i < j) {
            cplx t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
    }
    for (size_t len = 2; len <= m; len <<= 1) {
        size_t half = len >> 1, step = m / len;
        for (size_t i = 0; i < m; i += len) {
            for (size_t k = 0; k < half; k++) {
                cplx t = x[i + k + half] * w[k * step];
                x[i + k + half] = x[i + k] - t;
                x[i + k] += t;
            }
        }
    }
}

int reel_latency_measure(const float *played, size_t n_played, const float *recorded,
                         size_t n_recorded, reel_latency_result *out)
{
    memset(out, 0, sizeof *out);
    out->delay = -1;
    out->level_db = -HUGE_VAL;
    out->gain_db = -HUGE_VAL;
    if (!played || n_played == 0)
        return refuse(out, REEL_EINVAL, "no test signal to look for");
    if (!recorded || n_recorded < n_played + REEL_LATENCY_MIN_EXTRA)
        return refuse(out, REEL_EINVAL,
                      "the recording (%zu frames) must be longer than the test signal (%zu "
                      "frames) by at least %d frames",
                      recorded ? n_recorded : 0, n_played, REEL_LATENCY_MIN_EXTRA);
    if (n_recorded > REEL_LATENCY_MAX_FRAMES)
        return refuse(out, REEL_EINVAL, "the recording (%zu frames) is longer than the %zu "
                      "frames a measurement takes", n_recorded, REEL_LATENCY_MAX_FRAMES);
    size_t lags = n_recorded - n_played + 1;
    out->lags = lags;

    double mean_a = 0.0, mean_b = 0.0, energy_b_raw = 0.0;
    for (size_t k = 0; k < n_played; k++)
        mean_a += played[k];
    mean_a /= (double)n_played;
    for (size_t k = 0; k < n_recorded; k++) {
        mean_b += recorded[k];
        energy_b_raw += (double)recorded[k] * recorded[k];
    }
    mean_b /= (double)n_recorded;
    double energy_a = 0.0, energy_b = 0.0;
    for (size_t k = 0; k < n_played; k++) {
        double v = played[k] - mean_a;
        energy_a += v * v;
    }
    for (size_t k = 0; k < n_recorded; k++) {
        double v = recorded[k] - mean_b;
        energy_b += v * v;
    }
    if (!(energy_a > 0.0))
        return refuse(out, REEL_EINVAL, "the test signal is silent (or constant)");
    if (!(energy_b_raw > 0.0))
        return refuse(out, REEL_EINVAL,
                      "nothing came back: the recording is digital silence (is the output "
                      "connected to the input, by a cable or a JACK connection?)");
    if (!(energy_b > 0.0))
        return refuse(out, REEL_EINVAL,
                      "nothing in the recording correlates with the test signal: it is a "
                      "constant (is the output connected to the input?)");

    size_t m = 2;
    while (m < n_recorded)
        m <<= 1;
    cplx *z = malloc(m * sizeof *z);
    cplx *w = malloc(m / 2 * sizeof *w);
    if (!z || !w) {
        free(z);
        free(w);
        return refuse(out, REEL_ENOMEM, "out of memory for a %zu-point correlation", m);
    }
    for (size_t k = 0; k < m / 2; k++)
        w[k] = cexp(-I * (TWO_PI * (double)k / (double)m));
    for (size_t k = 0; k < m; k++) {
        double a = k < n_played ? played[k] - mean_a : 0.0;
        double b = k < n_recorded ? recorded[k] - mean_b : 0.0;
        z[k] = a + I * b; /* CMPLX is missing from clang with glibc 2.36 */
    }
    fft(z, m, w);
    /* P[k] = conj(A[k]) * B[k], conjugated for the inverse transform done
     * as conj(fft(conj(P))) / m; pairs k, m - k are computed together. */
    for (size_t k = 0; k <= m / 2; k++) {
        size_t j = (m - k) & (m - 1);
        cplx zk = z[k], zj = z[j];
        cplx ak = (zk + conj(zj)) * 0.5, bk = (zk - conj(zj)) * (-0.5 * I);
        cplx aj = (zj + conj(zk)) * 0.5, bj = (zj - conj(zk)) * (-0.5 * I);
        z[k] = conj(conj(ak) * bk);
        z[j] = conj(conj(aj) * bj);
    }
    fft(z, m, w);
    free(w);
    /* r[j] = Re(conj(z[j])) / m = creal(z[j]) / m */
    double inv_m = 1.0 / (double)m;
    size_t best = 0;
    double best_abs = -1.0;
    for (size_t j = 0; j < lags; j++) {
        double r = fabs(creal(z[j]) * inv_m);
        if (r > best_abs) {
            best_abs = r;
            best = j;
        }
    }
    double peak = creal(z[best]) * inv_m;
    double second = 0.0;
    for (size_t j = 0; j < lags; j++) {
        size_t dist = j > best ? j - best : best - j;
        double r = fabs(creal(z[j]) * inv_m);
        if (dist > REEL_LATENCY_GUARD && r > second)
            second = r;
    }
    free(z);

    double energy_w = 0.0, energy_w_raw = 0.0;
    for (size_t k = 0; k < n_played; k++) {
        double raw = recorded[best + k], v = raw - mean_b;
        energy_w += v * v;
        energy_w_raw += raw * raw;
    }
    out->delay = (int64_t)best;
    out->inverted = peak < 0.0;
    out->confidence = second > 0.0 ? best_abs / second : (best_abs > 0.0 ? HUGE_VAL : 0.0);
    out->correlation = energy_w > 0.0 ? peak / sqrt(energy_a * energy_w) : 0.0;
    out->level_db = energy_w_raw > 0.0 ? 10.0 * log10(energy_w_raw / (double)n_played)
                                       : -HUGE_VAL;
    out->gain_db = best_abs > 0.0 ? 20.0 * log10(best_abs / energy_a) : -HUGE_VAL;

    /* FFT rounding leaves about 1e-16 of sqrt(Ea * Eb) everywhere: below
     * 1e-9 of it nothing correlates at all. */
    if (!(best_abs > 1e-9 * sqrt(energy_a * energy_b)))
        return refuse(out, REEL_EINVAL,
                      "nothing in the recording correlates with the test signal (is the "
                      "output connected to the input?)");
    if (out->confidence < REEL_LATENCY_MIN_CONFIDENCE)
        return refuse(out, REEL_EINVAL,
                      "no correlation peak stands out: the best lag (%lld frames) is only "
                      "%.2f times the next best, %.1f needed; the input does not carry the "
                      "test signal (is the loopback connected? returned level %.1f dBFS)",
                      (long long)best, out->confidence, REEL_LATENCY_MIN_CONFIDENCE,
                      out->level_db);
    return 0;
}
