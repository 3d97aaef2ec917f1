/* loudness.h: loudness of sound files through libebur128 (ITU-R BS.1770-4,
 * EBU R128, EBU Tech 3341/3342), and gain-only normalized previews.
 *
 * A meter takes interleaved float frames in any number of calls and gives
 * the programme's integrated loudness (gated, LUFS), loudness range (LU),
 * the maximum momentary (400 ms) and short-term (3 s) loudness, the true
 * peak (4x oversampled at 48 kHz, dBTP) and the sample peak (dBFS), the
 * peaks being the maximum over the channels. Momentary and short-term
 * loudness are looked at every 100 ms of the programme; windows that start
 * before the first frame count that time as silence (as libebur128 and
 * ffmpeg do), so a file shorter than 3 s still has a short-term maximum.
 *
 * Channels: libebur128's defaults, 1..6 as L, R, C, LFE, Ls, Rs (the LFE is
 * not counted); 7.1's seventh and eighth as surrounds, any other channel past
 * the sixth as a front channel (weight 1). A mono file is measured as EBU
 * R128 asks for mono played over two loudspeakers ("dual mono": the channel
 * counts twice), so a mono file reads 3 LU above one channel of the same
 * signal alone and the same as the stereo file with it in both channels.
 *
 * Values with no finite answer are -INFINITY: integrated loudness when no
 * 400 ms block passes the -70 LUFS gate (silence, or a file shorter than
 * 400 ms: "too quiet to measure"), peaks of digital silence.
 *
 * Normalizing applies one gain to every sample and nothing else:
 *     gain = min(target - integrated, ceiling - true_peak)
 * so the result reaches the target when it can, and never goes over the
 * true-peak ceiling: a quiet file with loud peaks stays below the target.
 * The output is a new file (an existing one is never replaced) that is
 * measured again; were its true peak still over the ceiling (rounding of
 * integer samples), the gain is lowered by the excess and it is written
 * again, so the file left behind is always at or under the ceiling.
 *
 * Threads: control thread only (file I/O, allocation); never the audio one.
 * A meter is not shared between threads. */
#ifndef REEL_LOUDNESS_H
#define REEL_LOUDNESS_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

typedef struct reel_loudness {
    double integrated;     /* LUFS, -INFINITY when too quiet to measure */
    double range;          /* LU (EBU Tech 3342), 0 for a steady or short programme */
    double momentary_max;  /* LUFS */
    double short_term_max; /* LUFS */
    double true_peak;      /* dBTP, maximum over the channels */
    double sample_peak;    /* dBFS, maximum over the channels */
    unsigned peak_channel; /* 1-based channel holding the true peak (0: silence) */
    uint64_t frames;
    unsigned rate;
    unsigned channels;
} reel_loudness;

typedef struct reel_loudness_meter reel_loudness_meter;

/* A meter for frames of `channels` interleaved channels at `rate` Hz.
 * REEL_EINVAL for 0 channels, more than 64, or a rate outside 8 kHz ..
 * 768 kHz; REEL_ENOMEM. */
int reel_loudness_meter_new(reel_loudness_meter **out, unsigned channels, unsigned rate,
                            char *errmsg);
/* Adds nframes interleaved float frames (full scale 1.0). */
int reel_loudness_meter_add(reel_loudness_meter *m, const float *frames, size_t nframes);
/* The measures of everything added so far (the meter stays usable). */
void reel_loudness_meter_result(reel_loudness_meter *m, reel_loudness *out);
/* NULL is fine. */
void reel_loudness_meter_free(reel_loudness_meter *m);

/* Measures the sound file at path (any format libsndfile reads), reading
 * it in blocks of 64 Ki frames. Errors name the file, word for word:
 *   REEL_ENOTFOUND  "PATH: No such file or directory" (the system's words)
 *   REEL_EFORMAT    "PATH: not a sound file (libsndfile: WHY)"
 *                   "PATH: no audio (0 channels or a 0 Hz rate)"
 *   REEL_EIO        "PATH: truncated: the header promises N frames, only M
 *                   are there" (a WAV/RF64 whose data chunk runs past the
 *                   end of the file)
 *                   "PATH: truncated or damaged: the header promises N
 *                   frames, only M could be decoded" (FLAC and others)
 *                   "PATH: damaged or truncated: WHY (after N frames)"
 *                   (a decoder error: a FLAC stream that loses sync)
 *   REEL_EINVAL     "PATH: a rate of N Hz cannot be measured (8000 to
 *                   768000 Hz can)", "PATH: N channels cannot be measured
 *                   (1 to 64 can)". */
int reel_loudness_measure_file(const char *path, reel_loudness *out, char *errmsg);

typedef struct reel_loudness_normalized {
    reel_loudness before;   /* the input's measures */
    reel_loudness after;    /* the output's, measured again */
    double gain_db;         /* the gain applied */
    double target_gain_db;  /* target - integrated: what reaching the target needs */
    double ceiling_gain_db; /* ceiling - true_peak: the most the ceiling allows */
    int limited;            /* 1 when the ceiling held the gain below the target's */
} reel_loudness_normalized;

/* Writes out_path: in_path times gain (see the rule above), WAV 24-bit
 * (32-bit float when the input is float; RF64 past 4 GiB), or FLAC 24-bit
 * when out_path ends in ".flac". Errors: those of measure_file for the
 * input; REEL_EINVAL "PATH: too quiet to measure; nothing to normalize to"
 * (integrated loudness -INFINITY); REEL_EEXIST "OUT: file exists; not
 * replacing it"; REEL_EIO / REEL_ENOSPC while writing (the partial output
 * is removed). res may be NULL. */
int reel_loudness_normalize(const char *in_path, const char *out_path, double target_lufs,
                            double ceiling_dbtp, reel_loudness_normalized *res, char *errmsg);

#endif
