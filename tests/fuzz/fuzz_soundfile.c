/* fuzz_soundfile.c: sound files from outside (WAV, RF64, FLAC, AIFF, any
 * format libsndfile reads), opened every way reel opens one:
 *
 *   - reel_sound_get_info and reel_sound_read (soundfile.h): core.sound_info,
 *     core.read_frames, `reel info` and the checks;
 *   - reel_playback_add, _prepare and _read_rt (playback.h): rec:add_source,
 *     the backing files and selected takes played during an overdub;
 *   - the virtual device with the file as an input (device.h): `reel record
 *     --device virtual:freewheel --input FILE`, run for a few periods.
 *
 * The input bytes are written to a file in a private folder (libsndfile opens
 * by path in all three places, so a file it is, not virtual I/O).
 * Contract checked: each either refuses the file with a message naming its
 * path, or works: info agrees with what playback and the device accept,
 * reads stay within the frames asked for, the reader thread and the device
 * thread survive the file. libsndfile is Debian's, uninstrumented: coverage
 * comes from reel's code only, so the seeds (tests/fuzz/corpus/soundfile/)
 * and the dictionary carry the format knowledge. */
#include "fuzz_common.h"

#include <stdatomic.h>
#include <time.h>

#include "device.h"
#include "playback.h"
#include "soundfile.h"

static char path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "%s/input.wav", fuzz_tmpdir("soundfile"));
    return 0;
}

static void names_path(const char *what, int rc, const char *err)
{
    if (!err[0] || !strstr(err, path))
        fuzz_finding("%s failed (%d) with a message that does not name the file: '%s'", what, rc,
                     err);
}

#define READ_FRAMES 1024

static void check_read(const reel_sound_info *si, uint64_t start)
{
    static float buf[READ_FRAMES * REEL_DEVICE_MAX_CHANNELS];
    char err[REEL_ERRMSG_MAX] = "";
    size_t got = 12345678;
    size_t want = si->channels ? sizeof buf / sizeof buf[0] / si->channels : 0;
    if (want > READ_FRAMES)
        want = READ_FRAMES;
    int rc = reel_sound_read(path, start, buf, want, &got, err);
    if (rc < 0)
        names_path("reel_sound_read", rc, err);
    else if (got > want)
        fuzz_finding("reel_sound_read from %llu asked for %zu frames and got %zu",
                     (unsigned long long)start, want, got);
}

static void try_playback(const reel_sound_info *si)
{
    char err[REEL_ERRMSG_MAX] = "";
    reel_playback *pb = NULL;
    if (reel_playback_create(&pb, si->rate, 1.0, err) != 0)
        return; /* a rate no playback can run at: nothing to open the file against */
    int idx = reel_playback_add(pb, path, 0, err);
    if (idx < 0) {
        names_path("reel_playback_add", idx, err);
        if (si->channels >= 1 && si->channels <= 2 && idx != REEL_EFORMAT && idx != REEL_EIO)
            fuzz_finding("reel_playback_add refused a %u-channel %u Hz file (%d): %s",
                         si->channels, si->rate, idx, err);
    } else {
        if (si->channels > 2)
            fuzz_finding("reel_playback_add took a %u-channel file", si->channels);
        unsigned ch = reel_playback_source_channels(pb, (unsigned)idx);
        if (ch != si->channels)
            fuzz_finding("playback says %u channels, sound_info %u", ch, si->channels);
        int rc = reel_playback_prepare(pb, 0, REEL_POS_NONE, REEL_POS_NONE, err);
        if (rc < 0 && rc != REEL_EIO)
            fuzz_finding("reel_playback_prepare failed (%d): %s", rc, err);
        if (rc == REEL_EIO)
            names_path("reel_playback_prepare", rc, err);
        static float l[4096], r[4096];
        for (int64_t pos = 0; pos < 3 * 4096; pos += 4096) {
            int lost = reel_playback_read_rt(pb, (unsigned)idx, pos, 4096, l, r);
            if (lost < 0)
                fuzz_finding("reel_playback_read_rt at %lld failed (%d)", (long long)pos, lost);
        }
        err[0] = 0;
        rc = reel_playback_reader_status(pb, err);
        if (rc < 0)
            names_path("the playback reader", rc, err);
        reel_playback_stop(pb);
    }
    reel_playback_destroy(pb);
}

struct run {
    atomic_uint periods;
};

static void process(const reel_period *p, void *user)
{
    struct run *r = user;
    float sum = 0;
    for (unsigned c = 0; c < p->in_channels; c++)
        for (unsigned i = 0; i < p->frames; i++)
            sum += p->in[c][i];
    (void)sum;
    atomic_fetch_add(&r->periods, 1);
}

static void try_device(const reel_sound_info *si)
{
    const char *inputs[] = { path };
    /* The rate the file declares (when a device can run at it: the file is
     * refused otherwise, which the second open checks), and 48000. */
    unsigned rate = si->rate >= 1000 && si->rate <= 1000000 ? si->rate : 48000;
    for (int pass = 0; pass < 2; pass++) {
        reel_device_config cfg = {
            .spec = "virtual:freewheel",
            .rate = pass == 0 ? rate : (rate == 48000 ? 44100 : 48000),
            .period = 256,
            .inputs = inputs,
            .n_inputs = 1,
        };
        struct run r = { 0 };
        char err[REEL_ERRMSG_MAX] = "";
        reel_device *d = NULL;
        int rc = reel_device_open(&d, &cfg, process, &r, err);
        if (rc < 0) {
            names_path("the virtual device's file input", rc, err);
            continue;
        }
        if (pass == 1)
            fuzz_finding("the virtual device at %u Hz took a %u Hz file", cfg.rate, si->rate);
        reel_device_info info;
        reel_device_get_info(d, &info);
        if (info.in_channels != si->channels)
            fuzz_finding("the device has %u inputs from a %u-channel file", info.in_channels,
                         si->channels);
        if (reel_device_start(d) != 0)
            fuzz_finding("the virtual device opened but does not start: %s",
                         reel_device_error(d));
        const struct timespec pause = { 0, 50000 };
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            nanosleep(&pause, NULL);
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while (atomic_load(&r.periods) < 8 && now.tv_sec - t0.tv_sec < 5);
        reel_device_stop(d);
        reel_device_close(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(path, data, size);
    reel_sound_info si;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_sound_get_info(path, &si, err);
    if (rc < 0) {
        names_path("reel_sound_get_info", rc, err);
        /* Refused here, it must be refused everywhere. */
        reel_device_config cfg = {
            .spec = "virtual:freewheel", .inputs = (const char *const[]){ path }, .n_inputs = 1,
        };
        reel_device *d = NULL;
        err[0] = 0;
        if (reel_device_open(&d, &cfg, process, NULL, err) == 0)
            fuzz_finding("sound_info refuses the file but the virtual device opens it");
        names_path("the virtual device's file input", -1, err);
        return 0;
    }
    check_read(&si, 0);
    check_read(&si, si.frames / 2);
    check_read(&si, si.frames + 10);
    try_playback(&si);
    try_device(&si);
    return 0;
}
