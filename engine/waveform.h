/* waveform.h: waveform overview pictures of sound files (PNG through libpng).
 *
 * A sound file is read in blocks and reduced to one minimum and one maximum
 * per pixel column and channel; the picture draws, for every channel, a lane
 * of its own (stacked top to bottom) with a centre line and one vertical bar
 * per column from the column's maximum down to its minimum. Columns holding a
 * clipped sample (|x| >= clip_level) are drawn in red instead of blue.
 *
 * Column mapping (exact, integer arithmetic): a file of N frames drawn W
 * columns wide gives column c the frames [floor(c*N/W), floor((c+1)*N/W)).
 * Every frame is in exactly one column; when N < W some columns hold no
 * frame and draw nothing. Lane k of C channels is the rows
 * [floor(k*H/C), floor((k+1)*H/C)); within a lane of h rows starting at y0
 * a value v (clamped to [-1, 1]) is row y0 + floor((1 - v) * (h - 1) / 2 +
 * 0.5), so +1 is the lane's top row, -1 its bottom row and 0 the centre line.
 * A column whose samples are all exactly zero draws no bar: silence shows
 * the centre line only. The centre line lies behind the bars.
 *
 * Colours (8-bit RGB, no alpha): background REEL_WAVEFORM_BG, centre line
 * REEL_WAVEFORM_CENTRE, bars REEL_WAVEFORM_WAVE, clipped columns
 * REEL_WAVEFORM_CLIP.
 *
 * Threads: control thread only (file I/O, allocation); never the audio one.
 * Handles are not shared between threads. */
#ifndef REEL_WAVEFORM_H
#define REEL_WAVEFORM_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

#define REEL_WAVEFORM_WIDTH 1200   /* default picture size */
#define REEL_WAVEFORM_HEIGHT 120
#define REEL_WAVEFORM_MAX_WIDTH 16384
#define REEL_WAVEFORM_MAX_HEIGHT 4096
#define REEL_WAVEFORM_MIN_LANE 3u  /* rows per channel, at least */
#define REEL_WAVEFORM_CLIP_LEVEL 0.999 /* as reel.analysis: about -0.01 dBFS */

#define REEL_WAVEFORM_BG 0xfafafau
#define REEL_WAVEFORM_CENTRE 0xa0a4aau
#define REEL_WAVEFORM_WAVE 0x2a64c8u
#define REEL_WAVEFORM_CLIP 0xd62020u

/* Per-column summary of a sound file. Arrays are indexed
 * [column * channels + channel]. */
typedef struct reel_waveform {
    unsigned width;       /* columns */
    unsigned channels;
    unsigned rate;
    uint64_t frames;      /* frames in the file */
    float *min, *max;     /* 0 for columns that hold no frame */
    uint32_t *clipped;    /* clipped samples in the column (saturating) */
    uint64_t clipped_total; /* clipped samples in the file, all channels */
    float peak;           /* largest |x| in the file */
} reel_waveform;

/* Reads the sound file at path (anything libsndfile reads) and summarises
 * it into width columns (1..REEL_WAVEFORM_MAX_WIDTH). clip_level > 0 is the
 * level from which a sample counts as clipped. *out is a new summary for
 * reel_waveform_destroy. Returns 0, or REEL_EINVAL (bad width or clip level),
 * REEL_ENOTFOUND, REEL_EFORMAT, REEL_EIO, REEL_ENOMEM with errmsg
 * (REEL_ERRMSG_MAX) naming the path. */
int reel_waveform_compute(const char *path, unsigned width, double clip_level,
                          reel_waveform **out, char *errmsg);

/* Frees a summary; NULL is fine. */
void reel_waveform_destroy(reel_waveform *w);

/* Draws the summary as an RGB picture of w->width x height pixels into rgb
 * (width * height * 3 bytes, rows top to bottom). height must give every
 * channel REEL_WAVEFORM_MIN_LANE rows. Returns 0 or REEL_EINVAL. */
int reel_waveform_draw(const reel_waveform *w, unsigned height, unsigned char *rgb,
                       char *errmsg);

/* Draws the summary and encodes it as a PNG in memory: *png (malloc'ed,
 * for free()) and *size. Returns 0, REEL_EINVAL or REEL_ENOMEM. */
int reel_waveform_png(const reel_waveform *w, unsigned height, unsigned char **png,
                      size_t *size, char *errmsg);

/* Draws the summary into the PNG file out_path: written to a temporary file
 * beside it and renamed over it, so a failure leaves no half picture. Refuses
 * (REEL_EEXIST) to replace a file that is not a PNG, so a mistyped --out
 * cannot destroy a take. Returns 0 or a REEL_E* code with errmsg. */
int reel_waveform_write_png(const reel_waveform *w, unsigned height, const char *out_path,
                            char *errmsg);

/* Reads a PNG file (any colour type) as 8-bit RGB: *rgb (malloc'ed, for
 * free()) of *width x *height x 3 bytes, rows top to bottom; transparency is
 * composed over white. For checking pictures: tests, screenshots. Returns 0,
 * REEL_ENOTFOUND, REEL_EFORMAT or REEL_ENOMEM with errmsg naming the path. */
int reel_waveform_read_png(const char *path, unsigned char **rgb, unsigned *width,
                           unsigned *height, char *errmsg);

#endif
