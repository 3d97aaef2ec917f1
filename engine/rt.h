/* rt.h: the mark for functions that run in the audio callback.
 *
 * REEL_NONBLOCKING tells clang's RealtimeSanitizer (the REEL_SANITIZE=realtime
 * build) to stop the program on any allocation, lock, file or other blocking
 * call made from inside the marked function. gcc has no such attribute, so the
 * mark is empty elsewhere. Put it on every entry point the device thread calls
 * once per period. */
#ifndef REEL_RT_H
#define REEL_RT_H

#if defined(REEL_RTSAN) && defined(__clang__)
#define REEL_NONBLOCKING __attribute__((nonblocking))
#else
#define REEL_NONBLOCKING
#endif

#endif
