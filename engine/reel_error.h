/* reel_error.h: result codes shared by every engine module.
 *
 * Every public engine function that can fail returns an int: 0 on success,
 * a negative REEL_E* code on failure. reel_strerror() turns a code into a
 * short static English phrase; handles keep a longer message naming the file
 * or field involved (see each module's *_error() accessor).
 * Thread safety: pure functions, safe on any thread including the audio one. */
#ifndef REEL_ERROR_H
#define REEL_ERROR_H

#include <stddef.h>

enum {
    REEL_OK = 0,
    REEL_ENOMEM = -1,    /* allocation failed */
    REEL_EINVAL = -2,    /* caller passed a bad argument or spec */
    REEL_EIO = -3,       /* read/write failed */
    REEL_ENOSPC = -4,    /* disk full */
    REEL_EDEVICE = -5,   /* audio device failed or is gone */
    REEL_ENOTFOUND = -6, /* no such device, file, track */
    REEL_ESTATE = -7,    /* call not valid in the current state */
    REEL_EFORMAT = -8,   /* unsupported or malformed audio format */
    REEL_EEXIST = -9,    /* would overwrite something that exists */
    REEL_EAGAIN = -10    /* not now; try again */
};

/* Size of the caller-provided buffers that receive detailed messages. */
#define REEL_ERRMSG_MAX 512

const char *reel_strerror(int code);

/* Writes printf-style text into errmsg (if not NULL) and returns code, so that
 * failure paths read `return reel_fail(errmsg, REEL_EIO, "%s: %s", path, why);`.
 * Not for the audio thread. */
int reel_fail(char *errmsg, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
