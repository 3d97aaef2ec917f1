/* writer.h: one take file, written through libsndfile.
 *
 * Opened and written only by the disk-writer thread (or the control thread
 * before/after a take); never touched by the audio thread. Frames in, always
 * interleaved float; the file gets the chosen sample format.
 * The header is kept valid while recording: reel_writer_sync() rewrites it so
 * that a process killed at any moment leaves a file libsndfile and sox open,
 * missing only what was written since the last sync (the capture thread syncs
 * about twice a second). WAV takes are written so that passing 4 GiB turns
 * the file into RF64 in place without losing a sample (EBU Tech 3306's
 * JUNK-chunk scheme, libsndfile's RF64 auto-downgrade). The BWF bext chunk
 * carries the time reference (capture start, in samples), originator and
 * description for WAV and RF64; FLAC stores them as tags. */
#ifndef REEL_WRITER_H
#define REEL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

typedef enum reel_format {
    REEL_FORMAT_WAV24 = 0, /* default: PCM 24-bit, RF64 past 4 GiB */
    REEL_FORMAT_WAV32F,    /* IEEE float 32-bit, RF64 past 4 GiB */
    REEL_FORMAT_FLAC,      /* FLAC 24-bit */
    REEL_FORMAT_RF64       /* PCM 24-bit, RF64 from the first byte */
} reel_format;

/* "wav24", "wav32f", "flac", "rf64" <-> enum. parse returns REEL_EINVAL. */
int reel_format_parse(const char *name, reel_format *out);
const char *reel_format_name(reel_format f);
const char *reel_format_ext(reel_format f);   /* "wav" or "flac" */

typedef struct reel_writer_config {
    const char *path;           /* created; an existing file is never replaced */
    reel_format format;
    unsigned rate;
    unsigned channels;          /* 1 or 2 for tracks; any count works */
    uint64_t time_reference;    /* bext: capture start sample */
    const char *originator;     /* bext, may be NULL ("reel") */
    const char *description;    /* bext, may be NULL */
} reel_writer_config;

typedef struct reel_writer reel_writer;

/* Creates the file (never replaces one: REEL_EEXIST if it exists) with a
 * valid header for zero frames. errmsg (REEL_ERRMSG_MAX bytes, may be NULL)
 * receives a message naming the path. */
int reel_writer_open(reel_writer **out, const reel_writer_config *cfg, char *errmsg);

/* Sets the bext time reference (capture start sample). Only before the first
 * frame is written; REEL_ESTATE after. */
int reel_writer_set_time_reference(reel_writer *w, uint64_t sample);

/* Appends frames (interleaved float, channels per frame). Returns 0 or
 * REEL_EIO / REEL_ENOSPC; after a failure the frames already written stay
 * in a valid file (the header is rewritten for them) and later writes fail. */
int reel_writer_write(reel_writer *w, const float *frames, size_t nframes);
/* Appends nframes of digital silence (the filler for lost frames). */
int reel_writer_write_silence(reel_writer *w, size_t nframes);
/* Rewrites the header for everything written so far. */
int reel_writer_sync(reel_writer *w);
/* Syncs and closes; frees w even on failure. NULL is fine. */
int reel_writer_close(reel_writer *w);

uint64_t reel_writer_frames(const reel_writer *w);
const char *reel_writer_path(const reel_writer *w);
/* Last failure, naming the file; "" when none. */
const char *reel_writer_error(const reel_writer *w);

#ifdef REEL_FAULT_INJECTION
/* Tests only: make writes fail with code once more than limit_frames frames
 * are in the file (code REEL_ENOSPC or REEL_EIO); limit 0 disables. */
void reel_writer_inject_fault(reel_writer *w, uint64_t limit_frames, int code);
#endif

#endif
