/* fuzz_loopback.c: the virtual device's loopback spec (device.h
 * reel_device_config.loopback, "OUT>IN[,OUT>IN...]") and the channel counts,
 * period and round trip it is checked against.
 *
 * Input: inputs (1..4 generator sources), input and output channel counts,
 * period and loopback latency from the first bytes, then the spec.
 * Contract checked: reel_device_open fails with a message, or opens a device
 * that runs (a few periods in freewheel, the callback writing every output
 * and reading every input) and reports an input latency of the round trip
 * when it has loops. Latencies are kept small here (plus values above the
 * limit, to see them refused): 1024 loops of the maximum latency would ask
 * for 4 GiB, which is the caller's choice, not a parser bug. */
#include "fuzz_common.h"

#include <stdatomic.h>
#include <time.h>

#include "device.h"

static const unsigned periods[] = { 0, 1, 2, 64, 256, 1000, 4096, 65537 };

struct run {
    atomic_uint periods;
    unsigned bad;
};

static void process(const reel_period *p, void *user)
{
    struct run *r = user;
    float sum = 0;
    for (unsigned c = 0; c < p->in_channels; c++)
        for (unsigned i = 0; i < p->frames; i++)
            sum += p->in[c][i];
    for (unsigned c = 0; c < p->out_channels; c++)
        for (unsigned i = 0; i < p->frames; i++)
            p->out[c][i] = (float)((c + 1) * 0.001) + sum * 0.0f;
    atomic_fetch_add(&r->periods, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = { data, size };
    static const char *const srcs[] = { "silence", "sine:440", "noise", "impulse:100" };
    unsigned n_inputs = 1 + fuzz_byte(&in) % 4;
    unsigned in_ch = fuzz_byte(&in) % 40;
    unsigned out_ch = fuzz_byte(&in) % 40;
    unsigned period = periods[fuzz_byte(&in) % 8];
    unsigned lat_pick = fuzz_byte(&in), latency;
    switch (lat_pick % 8) {
    case 0: latency = 0; break;
    case 1: latency = (1u << 20) + 1 + (lat_pick >> 3); break;   /* above the limit */
    case 2: latency = 0xffffffffu; break;
    case 3: latency = period ? period - 1 : 255; break;
    default: latency = (lat_pick << 4) + (fuzz_byte(&in) << 2); break;
    }
    char *spec = fuzz_cstring(in.data, in.size);

    reel_device_config cfg = {
        .spec = "virtual:freewheel",
        .rate = 48000,
        .period = period,
        .in_channels = in_ch,
        .out_channels = out_ch,
        .inputs = (const char *const *)srcs,
        .n_inputs = n_inputs,
        .loopback = spec,
        .loopback_latency = latency,
    };
    struct run r = { 0 };
    char err[REEL_ERRMSG_MAX] = "";
    reel_device *d = NULL;
    int rc = reel_device_open(&d, &cfg, process, &r, err);
    if (rc < 0) {
        if (!err[0])
            fuzz_finding("loopback '%s' refused (%d) without a message", spec, rc);
    } else {
        reel_device_info info;
        reel_device_get_info(d, &info);
        if (info.input_latency && info.input_latency < info.period)
            fuzz_finding("loopback '%s': round trip %u shorter than the period %u", spec,
                         info.input_latency, info.period);
        if (reel_device_start(d) != 0)
            fuzz_finding("loopback '%s': the device opened but does not start: %s", spec,
                         reel_device_error(d));
        /* Microseconds normally; 5 s leaves room for a loaded machine. */
        const struct timespec pause = { 0, 50000 };
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            nanosleep(&pause, NULL);
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while (atomic_load(&r.periods) < 4 && now.tv_sec - t0.tv_sec < 5);
        reel_device_stop(d);
        if (atomic_load(&r.periods) < 4)
            fuzz_finding("loopback '%s': the freewheel device ran only %u periods in 5 s",
                         spec, atomic_load(&r.periods));
        reel_device_close(d);
    }
    free(spec);
    return 0;
}
