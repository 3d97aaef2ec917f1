/* soundfile.h: read-side helpers over libsndfile for tools and tests.
 *
 * What `reel` needs to look at a finished take without the capture path:
 * its length, rate, channels and format, and (for checks) its samples.
 * Threads: control thread only (file I/O, allocation); never the audio one. */
#ifndef REEL_SOUNDFILE_H
#define REEL_SOUNDFILE_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

typedef struct reel_sound_info {
    uint64_t frames;
    unsigned rate;
    unsigned channels;
    char container[16];  /* "wav", "rf64", "flac", "aiff", "other" */
    char sample[16];     /* "pcm16", "pcm24", "pcm32", "float", "double", "other" */
} reel_sound_info;

/* Fills info for the sound file at path. Returns 0, or REEL_ENOTFOUND /
 * REEL_EFORMAT with a message naming the path in errmsg (REEL_ERRMSG_MAX). */
int reel_sound_get_info(const char *path, reel_sound_info *info, char *errmsg);

/* Reads up to max_frames interleaved float frames starting at frame start
 * into dst (max_frames * channels floats). *got receives the frames read
 * (fewer at the end of the file). Returns 0 or a REEL_E* code. */
int reel_sound_read(const char *path, uint64_t start, float *dst, size_t max_frames,
                    size_t *got, char *errmsg);

#endif
