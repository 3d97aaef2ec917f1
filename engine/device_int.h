/* device_int.h: what device.c shares with its backends (private).
 *
 * device.c parses the SPEC, allocates the reel_device and hands it to one
 * backend's open function, which fills ops, info and impl. The backends run
 * the process callback on their own real-time thread. */
#ifndef REEL_DEVICE_INT_H
#define REEL_DEVICE_INT_H

#include "device.h"

struct reel_device_ops {
    int (*start)(reel_device *d);
    int (*stop)(reel_device *d);      /* after return the callback never runs again */
    void (*close)(reel_device *d);    /* frees impl; device.c frees d */
    int (*alive)(const reel_device *d);
};

struct reel_device {
    const struct reel_device_ops *ops;
    reel_device_info info;
    reel_process_rt_fn process;
    void *user;
    int running;
    char error[REEL_ERRMSG_MAX];
    void *impl;
};

/* Backends. Each returns 0 or a REEL_E* code with errmsg filled. */
int reel_device_virtual_open(reel_device *d, const reel_device_config *cfg,
                             int freewheel, char *errmsg);
/* api: "jack", "alsa" or "pulse"; name: substring of a device name or NULL. */
int reel_device_rtaudio_open(reel_device *d, const reel_device_config *cfg,
                             const char *api, const char *name, char *errmsg);
size_t reel_device_rtaudio_apis(const char **names, size_t max);
int reel_device_rtaudio_list(reel_device_desc *descs, size_t max, size_t *count);
/* Non-zero when a JACK server answers (used by the automatic choice). */
int reel_device_rtaudio_jack_running(void);

#endif
