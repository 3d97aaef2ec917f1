/* reel_error.c: reel_strerror and the message helper. Any thread. */
#include "reel_error.h"

#include <stdarg.h>
#include <stdio.h>

const char *reel_strerror(int code)
{
    switch (code) {
    case REEL_OK: return "success";
    case REEL_ENOMEM: return "out of memory";
    case REEL_EINVAL: return "invalid argument";
    case REEL_EIO: return "input/output error";
    case REEL_ENOSPC: return "no space left on device";
    case REEL_EDEVICE: return "audio device error";
    case REEL_ENOTFOUND: return "not found";
    case REEL_ESTATE: return "not allowed in the current state";
    case REEL_EFORMAT: return "unsupported or malformed audio format";
    case REEL_EEXIST: return "already exists";
    case REEL_EAGAIN: return "try again";
    default: return "unknown error";
    }
}

int reel_fail(char *errmsg, int code, const char *fmt, ...)
{
    if (errmsg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, REEL_ERRMSG_MAX, fmt, ap);
        va_end(ap);
    }
    return code;
}
