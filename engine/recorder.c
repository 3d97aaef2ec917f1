/* recorder.c: a device and its capture, opened, started and closed together.
 *
 * Threads: the public functions run on the control thread. process_rt runs
 * on the device's (real-time) thread and ready() on the virtual device's
 * thread; both only read r->capture, which is set before the device is first
 * started and cleared only after it has stopped, so thread creation/join
 * orders every access. */
#include "recorder.h"
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct reel_recorder {
    reel_device *dev;
    reel_capture *capture;
    reel_device_info info;
    int running;    /* device started */
    int freewheel;  /* the device runs as fast as the capture allows */
};

static REEL_NONBLOCKING void process_rt(const reel_period *p, void *user)
{
    reel_recorder *r = user;
    if (r->capture)
        reel_capture_process_rt(r->capture, p);
}

static int ready(unsigned frames, void *user)
{
    reel_recorder *r = user;
    return r->capture ? reel_capture_ready(r->capture, frames) : 1;
}

int reel_recorder_open(reel_recorder **out, const reel_device_config *dcfg,
                       const reel_capture_config *ccfg_template, char *errmsg)
{
    *out = NULL;
    if (!dcfg)
        return reel_fail(errmsg, REEL_EINVAL, "recorder: no device configuration");
    reel_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return reel_fail(errmsg, REEL_ENOMEM, "recorder: out of memory");

    /* The ready hook matters only to the virtual freewheel device; the others
     * ignore it, so it is always installed. */
    reel_device_config dc = *dcfg;
    dc.ready = ready;
    dc.ready_user = r;
    int rc = reel_device_open(&r->dev, &dc, process_rt, r, errmsg);
    if (rc) {
        free(r);
        return rc;
    }
    reel_device_get_info(r->dev, &r->info);
    r->freewheel = strcmp(r->info.clock, "freewheel") == 0;

    reel_capture_config cc = {0};
    if (ccfg_template)
        cc = *ccfg_template;
    else
        cc.format = REEL_FORMAT_WAV24;
    cc.rate = r->info.rate;
    cc.in_channels = r->info.in_channels;
    cc.max_period = r->info.period;
    if (r->info.in_channels == 0) {
        rc = reel_fail(errmsg, REEL_EINVAL, "device '%s' has no input channels",
                       dcfg->spec && *dcfg->spec ? dcfg->spec : r->info.name);
        reel_device_close(r->dev);
        free(r);
        return rc;
    }
    rc = reel_capture_create(&r->capture, &cc, errmsg);
    if (rc) {
        reel_device_close(r->dev);
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void reel_recorder_close(reel_recorder *r)
{
    if (!r)
        return;
    /* Stop the take while the device still runs, so the audio thread ends it
     * at a period boundary without the capture's stopped-device timeout;
     * then stop the device before the capture goes away. */
    if (r->capture)
        reel_capture_stop(r->capture, NULL);
    if (r->dev && r->running)
        reel_device_stop(r->dev);
    r->running = 0;
    reel_device_close(r->dev);
    r->dev = NULL;
    reel_capture_destroy(r->capture);
    r->capture = NULL;
    free(r);
}

void reel_recorder_get_info(const reel_recorder *r, reel_device_info *info)
{
    *info = r->info;
}

reel_capture *reel_recorder_capture(reel_recorder *r) { return r->capture; }

reel_device *reel_recorder_device(reel_recorder *r) { return r->dev; }

int reel_recorder_start(reel_recorder *r, char *errmsg)
{
    if (r->running)
        return 0;
    int rc = reel_device_start(r->dev);
    if (rc) {
        const char *why = reel_device_error(r->dev);
        return reel_fail(errmsg, rc, "cannot start device '%s': %s", r->info.name,
                         why && *why ? why : reel_strerror(rc));
    }
    r->running = 1;
    return 0;
}

int reel_recorder_stop(reel_recorder *r)
{
    if (!r->running)
        return 0;
    int rc = reel_device_stop(r->dev);
    r->running = 0;
    return rc;
}

int reel_recorder_running(const reel_recorder *r) { return r->running; }

int reel_recorder_alive(const reel_recorder *r) { return reel_device_alive(r->dev); }

int reel_recorder_record(reel_recorder *r, const char *const *paths, uint64_t max_frames,
                         const char *description, char *errmsg)
{
    int rc = reel_capture_start(r->capture, paths, max_frames, description, errmsg);
    if (rc)
        return rc;
    rc = reel_recorder_start(r, errmsg);
    if (rc) {
        /* The device never ran: the take's files hold nothing. Remove them so
         * that a failed start leaves no empty takes behind. */
        reel_capture_stop(r->capture, NULL);
        unsigned n = reel_capture_track_count(r->capture);
        for (unsigned i = 0; i < n; i++) {
            reel_take_stats *st = malloc(sizeof *st);
            if (st && reel_capture_armed(r->capture, i) &&
                reel_capture_take_stats(r->capture, i, st) == 0 && st->path[0] &&
                st->frames == 0)
                unlink(st->path);
            free(st);
        }
        return rc;
    }
    return 0;
}

int reel_recorder_end_take(reel_recorder *r, char *errmsg)
{
    int rc = reel_capture_stop(r->capture, errmsg);
    if (r->freewheel)
        reel_recorder_stop(r);
    return rc;
}
