/* device.h: one interface to audio devices, two kinds of backend.
 *
 * - RtAudio (device_rtaudio.c): JACK, ALSA, PulseAudio as Debian compiles them.
 * - The virtual device (device_virtual.c): inputs from sound files or
 *   generators, outputs to a file or nowhere, paced by a monotonic clock
 *   ("virtual") or running as fast as the consumer allows
 *   ("virtual:freewheel").
 * Both call the same process callback with non-interleaved float buffers.
 *
 * Threads: open/start/stop/close/info on the control thread. The process
 * callback runs on the device's thread (the real-time one) and must obey the
 * _rt rules: no allocation, locks, I/O, printing or Lua.
 *
 * Device SPEC strings: "" or NULL (auto: JACK if a server answers, else the
 * virtual device), "virtual", "virtual:freewheel", "jack", "alsa[:NAME]",
 * "pulse[:NAME]" (NAME: a substring of the device name, default device when
 * omitted). */
#ifndef REEL_DEVICE_H
#define REEL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

#define REEL_DEVICE_MAX_CHANNELS 1024

typedef struct reel_period {
    const float *const *in;  /* in[channel][frame], in_channels entries */
    float *const *out;       /* out[channel][frame], out_channels entries; zeroed by the device */
    unsigned in_channels;
    unsigned out_channels;
    unsigned frames;
    uint64_t position;       /* device frame count at the first frame of this period */
    unsigned xrun;           /* non-zero: the device lost audio just before this period */
} reel_period;

typedef void (*reel_process_rt_fn)(const reel_period *p, void *user);

/* Virtual freewheel only: asked (on the device thread, outside the callback)
 * before every period; returning 0 makes the device wait a little and ask
 * again, so that freewheel goes as fast as the disk writer, never faster. */
typedef int (*reel_ready_fn)(unsigned frames, void *user);

typedef struct reel_device_config {
    const char *spec;          /* see above */
    unsigned rate;             /* 0: 48000 (virtual) / the server's rate (JACK) */
    unsigned period;           /* frames; 0: 256. JACK imposes its own. */
    unsigned in_channels;      /* 0: as many as inputs[] provides (virtual) or 2 */
    unsigned out_channels;     /* 0 allowed */
    const char *client_name;   /* JACK client name; NULL: "reel" */
    int no_connect;            /* JACK: leave ports unconnected */
    /* Virtual device: one source per spec, in order; a file gives as many
     * channels as it has, a generator one. Channels beyond what the sources
     * give are silence. A file that ends continues as silence. */
    const char *const *inputs;
    unsigned n_inputs;
    const char *output_path;   /* virtual: WAV file for the outputs; NULL discards */
    reel_ready_fn ready;       /* virtual freewheel back-pressure, may be NULL */
    void *ready_user;
    /* Virtual device: simulated loopback cables, "OUT>IN[,OUT>IN...]" with
     * channels counted from 1 ("1>1", "1>1,2>3"; spaces allowed). What the
     * callback writes to output OUT at device frame d arrives on input IN at
     * frame d + loopback_latency, replacing whatever source feeds IN (zeros
     * before the first loop frame). An output may feed several inputs; an
     * input takes one loop. IN must be below in_channels; with out_channels
     * 0 the device gets as many outputs as the highest OUT. NULL or "": none.
     * The device reports input_latency = loopback_latency, output_latency 0. */
    const char *loopback;
    /* Round trip in frames: 0 means one period, the shortest a callback
     * device can have (a period's inputs reach the callback before it writes
     * that period's outputs); otherwise at least one period, exactly. */
    unsigned loopback_latency;
} reel_device_config;

typedef struct reel_device_info {
    char api[16];            /* "virtual", "jack", "alsa", "pulse" */
    char name[128];          /* device or server name */
    char clock[16];          /* "realtime", "freewheel", "device" */
    unsigned rate;           /* actual */
    unsigned period;         /* actual frames per callback (largest) */
    unsigned in_channels;
    unsigned out_channels;
    unsigned input_latency;  /* frames, as reported by the backend */
    unsigned output_latency; /* frames */
} reel_device_info;

typedef struct reel_device reel_device;

/* Opens (does not start). errmsg: REEL_ERRMSG_MAX bytes or NULL. */
int reel_device_open(reel_device **out, const reel_device_config *cfg,
                     reel_process_rt_fn process, void *user, char *errmsg);
int reel_device_start(reel_device *d);
/* Stops calling the callback; after it returns the callback is not running
 * and will not run again. Uses abort for RtAudio (see rtaudio-jack notes). */
int reel_device_stop(reel_device *d);
void reel_device_close(reel_device *d);  /* stops if needed; NULL is fine */
void reel_device_get_info(const reel_device *d, reel_device_info *info);
/* Non-zero while the backend is healthy (JACK server still there, ...). */
int reel_device_alive(const reel_device *d);
const char *reel_device_error(const reel_device *d);

/* Listing, for `reel devices`. */
typedef struct reel_device_desc {
    char api[16];
    char name[128];
    unsigned in_channels, out_channels;
    unsigned preferred_rate;
    unsigned rates[16];
    unsigned n_rates;
    int is_default_input, is_default_output;
} reel_device_desc;

/* Names of the compiled APIs ("jack", "pulse", "alsa") and "virtual". */
size_t reel_device_apis(const char **names, size_t max);
/* Fills up to max descriptions of real devices (not the virtual one); *count
 * gets the total found. Quiet: backends' stderr chatter is suppressed. */
int reel_device_list(reel_device_desc *descs, size_t max, size_t *count);

#endif
