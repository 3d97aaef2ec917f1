/* device.c: the device front end. Parses the device SPEC, allocates the
 * reel_device, hands it to a backend (device_virtual.c or device_rtaudio.c)
 * and forwards start/stop/close through the backend's ops.
 *
 * Threads: every function here runs on the control thread. The backends run
 * the process callback on their own thread; device.c never touches the
 * callback's data. `running` is only read and written by the control thread.
 */
#include "device_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_USAGE "use virtual, virtual:freewheel, jack, alsa[:NAME], pulse[:NAME]"

/* "alsa" or "alsa:NAME" -> api with *name = NAME (NULL for the default
 * device). Returns 0 when spec does not start with api. */
static int match_api(const char *spec, const char *api, const char **name)
{
    size_t n = strlen(api);
    if (strncmp(spec, api, n) != 0)
        return 0;
    if (spec[n] == '\0') {
        *name = NULL;
        return 1;
    }
    if (spec[n] != ':')
        return 0;
    *name = spec[n + 1] ? spec + n + 1 : NULL;
    return 1;
}

static int open_backend(reel_device *d, const reel_device_config *cfg, char *errmsg)
{
    const char *spec = cfg->spec ? cfg->spec : "";
    const char *name;

    if (*spec == '\0') {
        if (reel_device_rtaudio_jack_running())
            return reel_device_rtaudio_open(d, cfg, "jack", NULL, errmsg);
        return reel_device_virtual_open(d, cfg, 0, errmsg);
    }
    if (strcmp(spec, "virtual") == 0)
        return reel_device_virtual_open(d, cfg, 0, errmsg);
    if (strcmp(spec, "virtual:freewheel") == 0)
        return reel_device_virtual_open(d, cfg, 1, errmsg);
    if (strcmp(spec, "jack") == 0)
        return reel_device_rtaudio_open(d, cfg, "jack", NULL, errmsg);
    if (match_api(spec, "alsa", &name))
        return reel_device_rtaudio_open(d, cfg, "alsa", name, errmsg);
    if (match_api(spec, "pulse", &name))
        return reel_device_rtaudio_open(d, cfg, "pulse", name, errmsg);
    return reel_fail(errmsg, REEL_EINVAL, "unknown device '%s' (" DEVICE_USAGE ")", spec);
}

int reel_device_open(reel_device **out, const reel_device_config *cfg,
                     reel_process_rt_fn process, void *user, char *errmsg)
{
    /* Backends always get a buffer, so their messages reach d->error and
     * the caller's errmsg alike. */
    char msg[REEL_ERRMSG_MAX] = "";
    int rc;

    if (!out)
        return reel_fail(errmsg, REEL_EINVAL, "reel_device_open: out is NULL");
    *out = NULL;
    if (!cfg || !process)
        return reel_fail(errmsg, REEL_EINVAL, "reel_device_open: %s is NULL",
                         !cfg ? "config" : "process callback");
    if (cfg->in_channels > REEL_DEVICE_MAX_CHANNELS || cfg->out_channels > REEL_DEVICE_MAX_CHANNELS)
        return reel_fail(errmsg, REEL_EINVAL, "device: %u input and %u output channels requested, "
                         "at most %u each", cfg->in_channels, cfg->out_channels,
                         REEL_DEVICE_MAX_CHANNELS);

    reel_device *d = calloc(1, sizeof *d);
    if (!d)
        return reel_fail(errmsg, REEL_ENOMEM, "device: out of memory");
    d->process = process;
    d->user = user;

    rc = open_backend(d, cfg, msg);
    if (rc < 0) {
        if (!msg[0])
            snprintf(msg, sizeof msg, "device '%s': %s", cfg->spec ? cfg->spec : "",
                     reel_strerror(rc));
        if (errmsg)
            memcpy(errmsg, msg, sizeof msg);
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int reel_device_start(reel_device *d)
{
    if (!d)
        return REEL_EINVAL;
    if (d->running)
        return reel_fail(d->error, REEL_ESTATE, "device already started");
    int rc = d->ops->start(d);
    if (rc < 0) {
        if (!d->error[0])
            reel_fail(d->error, rc, "device start: %s", reel_strerror(rc));
        return rc;
    }
    d->running = 1;
    return 0;
}

/* Idempotent: stopping a stopped device succeeds, so cleanup paths need not
 * track state. */
int reel_device_stop(reel_device *d)
{
    if (!d)
        return REEL_EINVAL;
    if (!d->running)
        return 0;
    int rc = d->ops->stop(d);
    /* Even on error the backend guarantees the callback no longer runs. */
    d->running = 0;
    if (rc < 0 && !d->error[0])
        reel_fail(d->error, rc, "device stop: %s", reel_strerror(rc));
    return rc;
}

void reel_device_close(reel_device *d)
{
    if (!d)
        return;
    reel_device_stop(d);
    d->ops->close(d);
    free(d);
}

void reel_device_get_info(const reel_device *d, reel_device_info *info)
{
    if (!info)
        return;
    if (!d) {
        memset(info, 0, sizeof *info);
        return;
    }
    *info = d->info;
}

int reel_device_alive(const reel_device *d)
{
    if (!d)
        return 0;
    return d->ops->alive ? d->ops->alive(d) : 1;
}

const char *reel_device_error(const reel_device *d)
{
    if (!d)
        return "no device";
    return d->error;
}

size_t reel_device_apis(const char **names, size_t max)
{
    if (!names || max == 0)
        return 0;
    names[0] = "virtual";
    return 1 + reel_device_rtaudio_apis(names + 1, max - 1);
}

int reel_device_list(reel_device_desc *descs, size_t max, size_t *count)
{
    return reel_device_rtaudio_list(descs, max, count);
}
