/* recorder.c: a device and its capture, transport, playback, click and
 * monitor mix, opened, started and closed together.
 *
 * Threads: the public functions run on the control thread. process_rt runs
 * on the device's (real-time) thread and ready() on the virtual device's
 * thread. The engine objects are created before the device is first started
 * and destroyed only after it has stopped, so thread creation/join orders
 * every access to the pointers; what changes while running (monitor and mix
 * settings) is atomic. */
#include "recorder.h"
#include "rt.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SPANS 16

/* Gains as float bits, so the audio thread reads them without tearing. */
struct mix {
    atomic_uint on;
    _Atomic uint32_t left, right;
};

struct reel_recorder {
    reel_device *dev;
    reel_capture *capture;
    reel_transport *transport;
    reel_tempo *tempo;
    reel_playback *playback;
    reel_click *click;
    reel_device_info info;
    int running;    /* device started */
    int freewheel;  /* the device runs as fast as the capture allows */
    int rolled;     /* a roll was started and not finished */
    int64_t latency;

    atomic_int out_left, out_right;     /* monitor outputs, -1 none */
    struct mix monitor[REEL_CAPTURE_MAX_TRACKS];
    struct mix source[REEL_PLAYBACK_MAX_SOURCES];
    float *scratch_l, *scratch_r;       /* one period each */
};

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void set_mix(struct mix *m, int on, double gain_db, double pan)
{
    double g = pow(10.0, gain_db / 20.0);
    double l = g * (pan > 0 ? 1.0 - pan : 1.0), rr = g * (pan < 0 ? 1.0 + pan : 1.0);
    atomic_store(&m->left, f2u((float)l));
    atomic_store(&m->right, f2u((float)rr));
    atomic_store(&m->on, (unsigned)(on != 0));
}

static inline void add_rt(float *dst, const float *src, unsigned n, float g)
{
    if (g == 0.0f)
        return;
    if (g == 1.0f) {
        for (unsigned i = 0; i < n; i++)
            dst[i] += src[i];
    } else {
        for (unsigned i = 0; i < n; i++)
            dst[i] += g * src[i];
    }
}

static void mix_playback_rt(reel_recorder *r, const reel_period *p, const reel_span *spans,
                            unsigned ns, float *outl, float *outr)
{
    unsigned nsrc = reel_playback_source_count(r->playback);
    for (unsigned k = 0; k < ns; k++) {
        const reel_span *s = &spans[k];
        if (!(s->flags & REEL_SPAN_ROLLING) || s->frames == 0)
            continue;
        for (unsigned i = 0; i < nsrc; i++) {
            unsigned ch = reel_playback_source_channels(r->playback, i);
            /* Reading during the count-in too keeps the reader in step. */
            reel_playback_read_rt(r->playback, i, s->pos, s->frames, r->scratch_l,
                                  ch == 2 ? r->scratch_r : NULL);
            if ((s->flags & REEL_SPAN_COUNT_IN) || !atomic_load(&r->source[i].on))
                continue;
            float gl = u2f(atomic_load(&r->source[i].left));
            float gr = u2f(atomic_load(&r->source[i].right));
            if (outl)
                add_rt(outl + s->offset, r->scratch_l, s->frames, gl);
            if (outr)
                add_rt(outr + s->offset, ch == 2 ? r->scratch_r : r->scratch_l, s->frames, gr);
        }
    }
    (void)p;
}

static void mix_monitor_rt(reel_recorder *r, const reel_period *p, float *outl, float *outr)
{
    unsigned nt = reel_capture_track_count(r->capture);
    unsigned ins[2];
    for (unsigned t = 0; t < nt; t++) {
        if (!atomic_load_explicit(&r->monitor[t].on, memory_order_relaxed))
            continue;
        unsigned nch = reel_capture_track_inputs(r->capture, t, ins);
        float gl = u2f(atomic_load(&r->monitor[t].left));
        float gr = u2f(atomic_load(&r->monitor[t].right));
        if (outl)
            add_rt(outl, p->in[ins[0]], p->frames, gl);
        if (outr)
            add_rt(outr, p->in[ins[nch == 2 ? 1 : 0]], p->frames, gr);
    }
}

static REEL_NONBLOCKING void process_rt(const reel_period *p, void *user)
{
    reel_recorder *r = user;
    reel_span spans[MAX_SPANS];
    unsigned ns = reel_transport_process_rt(r->transport, p->position, p->frames, spans,
                                            MAX_SPANS);
    int l = atomic_load_explicit(&r->out_left, memory_order_relaxed);
    int rr = atomic_load_explicit(&r->out_right, memory_order_relaxed);
    float *outl = l >= 0 && (unsigned)l < p->out_channels ? p->out[l] : NULL;
    float *outr = rr >= 0 && (unsigned)rr < p->out_channels ? p->out[rr] : NULL;
    mix_playback_rt(r, p, spans, ns, outl, outr);
    mix_monitor_rt(r, p, outl, outr);
    if (p->out_channels)
        reel_click_render_rt(r->click, r->tempo, spans, ns, p->out, p->out_channels);

    reel_rec_span rec[MAX_SPANS];
    unsigned nr = reel_transport_record_spans_rt(r->transport, rec, MAX_SPANS);
    reel_capture_process_spans_rt(r->capture, p, rec, nr);
    reel_capture_process_rt(r->capture, p);
}

static int ready(unsigned frames, void *user)
{
    reel_recorder *r = user;
    if (!reel_capture_ready(r->capture, frames))
        return 0;
    return !reel_playback_prepared(r->playback) || reel_playback_ready_rt(r->playback, frames);
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
    r->latency = (int64_t)r->info.input_latency + r->info.output_latency;
    if (rc == 0)
        rc = reel_transport_create(&r->transport, r->info.rate, r->latency, errmsg);
    if (rc == 0)
        rc = reel_tempo_create(&r->tempo, r->info.rate, 120.0, 4, 4, errmsg);
    if (rc == 0)
        rc = reel_playback_create(&r->playback, r->info.rate, cc.ring_seconds, errmsg);
    if (rc == 0) {
        reel_click_config ck;
        reel_click_config_init(&ck);
        ck.mode = REEL_CLICK_OFF;
        rc = reel_click_create(&r->click, r->info.rate, &ck, errmsg);
    }
    if (rc == 0) {
        r->scratch_l = calloc(r->info.period ? r->info.period : 1, sizeof(float));
        r->scratch_r = calloc(r->info.period ? r->info.period : 1, sizeof(float));
        if (!r->scratch_l || !r->scratch_r)
            rc = reel_fail(errmsg, REEL_ENOMEM, "recorder: out of memory");
    }
    if (rc) {
        reel_recorder_close(r);
        return rc;
    }
    atomic_store(&r->out_left, r->info.out_channels >= 1 ? 0 : -1);
    atomic_store(&r->out_right, r->info.out_channels >= 2 ? 1 : -1);
    for (unsigned i = 0; i < REEL_PLAYBACK_MAX_SOURCES; i++)
        set_mix(&r->source[i], 1, 0.0, 0.0);
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
    reel_playback_destroy(r->playback);
    reel_transport_destroy(r->transport);
    reel_tempo_destroy(r->tempo);
    reel_click_destroy(r->click);
    free(r->scratch_l);
    free(r->scratch_r);
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

/* ---- tracking ----------------------------------------------------------- */

reel_tempo *reel_recorder_tempo(reel_recorder *r) { return r->tempo; }
reel_transport *reel_recorder_transport(reel_recorder *r) { return r->transport; }
reel_playback *reel_recorder_playback(reel_recorder *r) { return r->playback; }

int reel_recorder_set_monitor_outputs(reel_recorder *r, int left, int right, char *errmsg)
{
    int n = (int)r->info.out_channels;
    if (left < -1 || left >= n || right < -1 || right >= n)
        return reel_fail(errmsg, REEL_EINVAL,
                         "monitor outputs %d and %d: the device has %d outputs", left + 1,
                         right + 1, n);
    atomic_store(&r->out_left, left);
    atomic_store(&r->out_right, right);
    return 0;
}

static int check_mix(double gain_db, double pan, char *errmsg)
{
    if (!(gain_db <= 24.0))
        return reel_fail(errmsg, REEL_EINVAL, "gain %g dB must be at most +24 dB", gain_db);
    if (!(pan >= -1.0 && pan <= 1.0))
        return reel_fail(errmsg, REEL_EINVAL, "pan %g must be between -1 and 1", pan);
    return 0;
}

int reel_recorder_set_monitor(reel_recorder *r, unsigned track, int on, double gain_db,
                              double pan, char *errmsg)
{
    if (track >= reel_capture_track_count(r->capture))
        return reel_fail(errmsg, REEL_ENOTFOUND, "no track %u", track + 1);
    int rc = check_mix(gain_db, pan, errmsg);
    if (rc)
        return rc;
    set_mix(&r->monitor[track], on, gain_db, pan);
    return 0;
}

static int transport_idle(const reel_recorder *r)
{
    return !r->rolled && !reel_transport_rolling(r->transport) &&
           !reel_transport_recording(r->transport);
}

int reel_recorder_add_source(reel_recorder *r, const char *path, int64_t timeline_start,
                             double gain_db, double pan, char *errmsg)
{
    return reel_recorder_add_region(r, path, timeline_start, 0, -1, gain_db, pan, errmsg);
}

int reel_recorder_add_region(reel_recorder *r, const char *path, int64_t timeline_start,
                             int64_t file_offset, int64_t frames, double gain_db, double pan,
                             char *errmsg)
{
    if (!transport_idle(r))
        return reel_fail(errmsg, REEL_ESTATE, "playback sources change only while stopped");
    int rc = check_mix(gain_db, pan, errmsg);
    if (rc)
        return rc;
    reel_playback_stop(r->playback);
    int idx = reel_playback_add_region(r->playback, path, timeline_start, file_offset, frames,
                                       errmsg);
    if (idx < 0)
        return idx;
    set_mix(&r->source[idx], 1, gain_db, pan);
    return idx;
}

int reel_recorder_clear_sources(reel_recorder *r)
{
    if (!transport_idle(r))
        return REEL_ESTATE;
    reel_playback_stop(r->playback);
    return reel_playback_clear(r->playback);
}

int reel_recorder_set_click(reel_recorder *r, const reel_click_config *cfg, char *errmsg)
{
    if (r->running)
        return reel_fail(errmsg, REEL_ESTATE,
                         "the click is configured before the first roll (use its mode and "
                         "level to change it later)");
    reel_click *ck = NULL;
    int rc = reel_click_create(&ck, r->info.rate, cfg, errmsg);
    if (rc)
        return rc;
    reel_click_destroy(r->click);
    r->click = ck;
    return 0;
}

reel_click *reel_recorder_click(reel_recorder *r) { return r->click; }

int reel_recorder_set_latency(reel_recorder *r, int64_t frames, char *errmsg)
{
    if (!transport_idle(r))
        return reel_fail(errmsg, REEL_ESTATE, "latency changes only while stopped");
    int rc = reel_transport_set_latency(r->transport, frames);
    if (rc == REEL_ESTATE)
        return reel_fail(errmsg, rc, "latency changes only while stopped");
    if (rc)
        return reel_fail(errmsg, rc, "latency %lld frames is not usable (0 to %d s)",
                         (long long)frames, REEL_TRANSPORT_MAX_LATENCY_S);
    r->latency = frames;
    return 0;
}

int64_t reel_recorder_latency(const reel_recorder *r) { return r->latency; }

int reel_recorder_roll(reel_recorder *r, const reel_roll *roll, const reel_take_names *names,
                       const char *description, char *errmsg)
{
    if (r->rolled)
        return reel_fail(errmsg, REEL_ESTATE, "a roll is running (finish it first)");
    int rc = reel_roll_check(roll, errmsg);
    if (rc)
        return rc;
    if (roll->record && !names)
        return reel_fail(errmsg, REEL_EINVAL, "a recording roll needs take names");
    if (roll->record) {
        rc = reel_capture_start_roll(r->capture, names, description, errmsg);
        if (rc)
            return rc;
    }
    int64_t first = roll->from - roll->preroll - roll->count_in;
    rc = reel_playback_prepare(r->playback, first, roll->loop_start, roll->loop_end, errmsg);
    /* The roll is queued before a stopped device starts, so that its first
     * period is the roll's first frame (the virtual device's inputs begin
     * there too). */
    if (rc == 0)
        rc = reel_transport_roll(r->transport, roll, errmsg);
    if (rc == 0)
        rc = reel_recorder_start(r, errmsg);
    if (rc) {
        reel_transport_stop(r->transport);
        reel_playback_stop(r->playback);
        if (roll->record)
            reel_capture_stop(r->capture, NULL);
        return rc;
    }
    r->rolled = 1;
    return 0;
}

int reel_recorder_stop_roll(reel_recorder *r)
{
    return reel_transport_stop(r->transport);
}

int reel_recorder_finish_roll(reel_recorder *r, char *errmsg)
{
    if (!r->rolled)
        return 0;
    r->rolled = 0;
    int rc = reel_capture_stop(r->capture, errmsg);
    reel_playback_stop(r->playback);
    if (r->freewheel)
        reel_recorder_stop(r);
    return rc;
}
