/* tests/bench/callback.c: time spent in reel's process callback per period.
 *
 * Opens the virtual device (real-time clock by default) with N white-noise
 * inputs, creates a capture with N mono tracks (wav32f, 5 s rings, all armed),
 * a transport, and a process callback that makes the same engine calls as
 * engine/recorder.c's process_rt (reel_transport_process_rt,
 * reel_transport_record_spans_rt, reel_capture_process_spans_rt,
 * reel_capture_process_rt; no outputs, so no playback mix or click), wrapped
 * in clock_gettime(CLOCK_MONOTONIC). Every period's duration goes into a
 * preallocated array; after the take: mean, 99.9th percentile and max, in us
 * and as % of the period; overruns, lost frames and xruns from
 * reel_capture_take_stats; process CPU (getrusage: the callback, the virtual
 * device's noise generators and the disk writer); RSS before the device, after
 * the take has started and at its peak, and per track.
 *
 * Not the pass/fail suite. Built and run by tests/bench/reliability.sh:
 *   cc -O2 -D_GNU_SOURCE -I engine tests/bench/callback.c \
 *      build-bench/engine/libreel_engine.a $(pkg-config --libs rtaudio sndfile) -lpthread -lm
 *   ./callback --tracks 128 --rate 96000 --period 1024 --seconds 20 --dir /var/tmp/x
 * Prints one "RESULT key=value ..." line on stdout; exit 0 when the take ran. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "device.h"
#include "transport.h"

#define MAX_SPANS 16

struct bench {
    reel_capture *capture;
    reel_transport *transport;
    double *dur_us;          /* one entry per period, preallocated */
    size_t cap;
    atomic_size_t n;         /* periods timed */
    atomic_uint xruns;       /* periods flagged xrun by the device */
};

static double ts_us(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static void process_rt(const reel_period *p, void *user)
{
    struct bench *b = user;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    reel_span spans[MAX_SPANS];
    (void)reel_transport_process_rt(b->transport, p->position, p->frames, spans, MAX_SPANS);
    reel_rec_span rec[MAX_SPANS];
    unsigned nr = reel_transport_record_spans_rt(b->transport, rec, MAX_SPANS);
    reel_capture_process_spans_rt(b->capture, p, rec, nr);
    reel_capture_process_rt(b->capture, p);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t i = atomic_load_explicit(&b->n, memory_order_relaxed);
    if (i < b->cap) {
        b->dur_us[i] = ts_us(&t0, &t1);
        atomic_store_explicit(&b->n, i + 1, memory_order_release);
    }
    if (p->xrun)
        atomic_fetch_add_explicit(&b->xruns, 1, memory_order_relaxed);
}

static long status_kib(const char *key) /* VmRSS / VmHWM of this process, KiB */
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: callback --tracks N [--rate HZ] [--period FRAMES] [--seconds S]\n"
               "                --dir DIR [--device virtual|virtual:freewheel]\n");
}

int main(int argc, char **argv)
{
    unsigned ntracks = 0, rate = 48000, period = 1024, seconds = 10;
    const char *dir = NULL, *spec = "virtual";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--tracks"))
            ntracks = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--rate"))
            rate = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--period"))
            period = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seconds"))
            seconds = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--dir"))
            dir = v;
        else if (!strcmp(a, "--device"))
            spec = v;
        else {
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (!dir || ntracks == 0 || ntracks > REEL_CAPTURE_MAX_TRACKS || rate == 0 || period == 0 ||
        seconds == 0) {
        usage(stderr);
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }

    char err[REEL_ERRMSG_MAX];
    long rss_base = status_kib("VmRSS");
    double cpu0 = cpu_s();

    static struct bench b;
    b.cap = (size_t)seconds * rate / period + 4096;
    b.dur_us = calloc(b.cap, sizeof *b.dur_us);  /* touched now, not in the callback */
    const char **inputs = calloc(ntracks, sizeof *inputs);
    char **paths = calloc(ntracks, sizeof *paths);
    if (!b.dur_us || !inputs || !paths)
        return 1;
    memset(b.dur_us, 0, b.cap * sizeof *b.dur_us);
    for (unsigned i = 0; i < ntracks; i++)
        inputs[i] = "noise:white:-20";
    long rss_harness = status_kib("VmRSS");

    reel_device_config dc = {0};
    dc.spec = spec;
    dc.rate = rate;
    dc.period = period;
    dc.in_channels = ntracks;
    dc.inputs = inputs;
    dc.n_inputs = ntracks;
    reel_device *dev = NULL;
    if (reel_device_open(&dev, &dc, process_rt, &b, err)) {
        fprintf(stderr, "callback: device: %s\n", err);
        return 1;
    }
    reel_device_info info;
    reel_device_get_info(dev, &info);

    reel_capture_config cc = {0};
    cc.rate = info.rate;
    cc.in_channels = info.in_channels;
    cc.max_period = info.period;
    cc.format = REEL_FORMAT_WAV32F;
    cc.originator = "reel-bench";
    if (reel_capture_create(&b.capture, &cc, err) ||
        reel_transport_create(&b.transport, info.rate,
                              (int64_t)info.input_latency + info.output_latency, err)) {
        fprintf(stderr, "callback: %s\n", err);
        return 1;
    }
    for (unsigned i = 0; i < ntracks; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%04u", i + 1);
        int t = reel_capture_add_track(b.capture, name, &i, 1, err);
        if (t < 0 || reel_capture_arm(b.capture, (unsigned)t, 1)) {
            fprintf(stderr, "callback: track %u: %s\n", i + 1, err);
            return 1;
        }
        size_t len = strlen(dir) + 32;
        paths[i] = malloc(len);
        snprintf(paths[i], len, "%s/%s.wav", dir, name);
    }
    uint64_t frames = (uint64_t)seconds * info.rate;
    if (reel_capture_start(b.capture, (const char *const *)paths, frames, "bench", err)) {
        fprintf(stderr, "callback: start: %s\n", err);
        return 1;
    }
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    if (reel_device_start(dev)) {
        fprintf(stderr, "callback: device start: %s\n", reel_device_error(dev));
        return 1;
    }
    long rss_started = -1;
    unsigned polls = 0;
    while (!reel_capture_complete(b.capture)) {
        struct timespec s = {0, 50 * 1000 * 1000};
        nanosleep(&s, NULL);
        if (++polls == 20)
            rss_started = status_kib("VmRSS");   /* 1 s into the take */
        if (reel_capture_writer_status(b.capture, err)) {
            fprintf(stderr, "callback: writer: %s\n", err);
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &w1);
        if (ts_us(&w0, &w1) > (seconds * 3.0 + 30) * 1e6) {
            fprintf(stderr, "callback: take did not complete in time\n");
            break;
        }
    }
    long rss_peak_live = status_kib("VmHWM");
    int src = reel_capture_stop(b.capture, err);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    reel_device_stop(dev);
    double cpu = cpu_s() - cpu0;
    long rss_peak = status_kib("VmHWM");

    unsigned overruns = 0, xruns_take = 0, bad_frames = 0;
    uint64_t lost = 0;
    reel_take_stats *st = malloc(sizeof *st);
    for (unsigned i = 0; i < ntracks; i++) {
        if (reel_capture_take_stats(b.capture, i, st) == 0) {
            overruns += st->overruns;
            lost += st->lost_frames;
            if (st->xruns > xruns_take)
                xruns_take = st->xruns;
            if (st->frames != frames)
                bad_frames++;
        } else {
            bad_frames++;
        }
    }

    size_t n = atomic_load(&b.n);
    double sum = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        sum += b.dur_us[i];
        if (b.dur_us[i] > mx)
            mx = b.dur_us[i];
    }
    qsort(b.dur_us, n, sizeof *b.dur_us, cmp_double);
    size_t k999 = n ? (size_t)((double)n * 0.999 + 0.999999) - 1 : 0;
    if (k999 >= n)
        k999 = n ? n - 1 : 0;
    double mean = n ? sum / (double)n : 0, p999 = n ? b.dur_us[k999] : 0;
    double p50 = n ? b.dur_us[n / 2] : 0;
    double per_us = 1e6 * info.period / info.rate;
    double audio_s = (double)frames / info.rate;

    printf("RESULT device=%s clock=%s tracks=%u rate=%u period=%u seconds=%u periods=%zu "
           "period_us=%.1f mean_us=%.1f p50_us=%.1f p999_us=%.1f max_us=%.1f "
           "mean_pct=%.2f p999_pct=%.2f max_pct=%.2f overruns=%u lost=%llu xruns=%u "
           "dev_xruns=%u wall_s=%.2f cpu_s=%.2f cpu_pct=%.1f rss_base_kib=%ld "
           "rss_harness_kib=%ld rss_started_kib=%ld rss_peak_kib=%ld kib_per_track=%.1f "
           "bad_files=%u stop_rc=%d\n",
           spec, info.clock, ntracks, info.rate, info.period, seconds, n, per_us, mean, p50,
           p999, mx, 100 * mean / per_us, 100 * p999 / per_us, 100 * mx / per_us, overruns,
           (unsigned long long)lost, xruns_take, atomic_load(&b.xruns), ts_us(&w0, &w1) / 1e6,
           cpu, 100 * cpu / audio_s, rss_base, rss_harness, rss_started, rss_peak,
           (double)((rss_peak > rss_peak_live ? rss_peak : rss_peak_live) - rss_harness) /
               ntracks,
           bad_frames, src);

    reel_device_close(dev);
    reel_capture_destroy(b.capture);
    reel_transport_destroy(b.transport);
    for (unsigned i = 0; i < ntracks; i++)
        free(paths[i]);
    free(paths);
    free(inputs);
    free(st);
    free(b.dur_us);
    return src == 0 && bad_frames == 0 ? 0 : 1;
}
