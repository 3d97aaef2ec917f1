/* test_capture.c: the capture path without a device.
 *
 * The test plays the audio thread itself: it builds reel_period structs from
 * a known signal and calls reel_capture_process_rt, while the capture's own
 * writer thread writes the takes. Files are read back with libsndfile and
 * compared sample for sample, gaps included. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

#define RATE 48000
#define PERIOD 256
#define CHANNELS 4

struct fixture {
    char dir[256];
    float *buf[CHANNELS];
    const float *in[CHANNELS];
    reel_capture *cap;
    int mounted;
};

/* Distinct, exactly representable, never zero: channel c, timeline frame i. */
static float sig(unsigned c, uint64_t i)
{
    return (float)((int)((i * 7 + c * 1000003u) % 65521u) - 32760) / 65536.0f + (c + 1) / 131072.0f;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/reel-capture-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    for (int c = 0; c < CHANNELS; c++) {
        f->buf[c] = calloc(8192, sizeof(float));
        f->in[c] = f->buf[c];
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    reel_capture_destroy(f->cap);
    if (f->mounted)
        umount2(f->dir, MNT_DETACH);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    for (int c = 0; c < CHANNELS; c++)
        free(f->buf[c]);
    free(f);
    return 0;
}

static void make_capture(struct fixture *f, double ring_seconds, reel_format fmt)
{
    reel_capture_config cfg = {.rate = RATE, .in_channels = CHANNELS, .max_period = 4096,
                               .ring_seconds = ring_seconds, .format = fmt};
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_capture_create(&f->cap, &cfg, err), 0);
}

/* One period of the test signal at device position pos. */
static void run_period(struct fixture *f, uint64_t pos, unsigned frames, unsigned xrun)
{
    for (int c = 0; c < CHANNELS; c++)
        for (unsigned i = 0; i < frames; i++)
            f->buf[c][i] = sig((unsigned)c, pos + i);
    reel_period p = {.in = f->in, .in_channels = CHANNELS, .frames = frames,
                     .position = pos, .xrun = xrun};
    reel_capture_process_rt(f->cap, &p);
}

static float *read_all(const char *path, SF_INFO *info)
{
    memset(info, 0, sizeof *info);
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    assert_non_null(sf);
    float *data = malloc((size_t)(info->frames + 1) * info->channels * sizeof(float));
    assert_int_equal(sf_readf_float(sf, data, info->frames), info->frames);
    sf_close(sf);
    return data;
}

static void path_in(struct fixture *f, char *out, const char *name)
{
    snprintf(out, 512, "%s/%s", f->dir, name);
}

static void exact_take_with_offset_start(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 5, REEL_FORMAT_WAV32F);
    unsigned mono[] = {2}, stereo[] = {0, 1};
    assert_int_equal(reel_capture_add_track(f->cap, "Vox", mono, 1, NULL), 0);
    assert_int_equal(reel_capture_add_track(f->cap, "OH", stereo, 2, NULL), 1);
    assert_int_equal(reel_capture_arm(f->cap, 0, 1), 0);
    assert_int_equal(reel_capture_arm(f->cap, 1, 1), 0);

    /* Periods before the start are metered, not recorded. */
    uint64_t pos = 1000;
    run_period(f, pos, PERIOD, 0);
    pos += PERIOD;

    char a[512], b[512];
    path_in(f, a, "Vox_T01.wav");
    path_in(f, b, "OH_T01.wav");
    const char *paths[] = {a, b};
    char err[REEL_ERRMSG_MAX] = "";
    uint64_t want = 10 * PERIOD + 77; /* ends inside a period */
    assert_int_equal(reel_capture_start(f->cap, paths, want, "test take", err), 0);
    uint64_t start = pos;
    while (!reel_capture_complete(f->cap)) {
        run_period(f, pos, PERIOD, 0);
        pos += PERIOD;
    }
    run_period(f, pos, PERIOD, 0); /* after the end: ignored */
    assert_int_equal(reel_capture_stop(f->cap, err), 0);

    reel_take_stats st;
    assert_int_equal(reel_capture_take_stats(f->cap, 0, &st), 0);
    assert_int_equal(st.frames, want);
    assert_int_equal(st.start, start);
    assert_int_equal(st.overruns, 0);
    assert_string_equal(st.path, a);

    SF_INFO info;
    float *v = read_all(a, &info);
    assert_int_equal(info.frames, want);
    assert_int_equal(info.channels, 1);
    for (uint64_t i = 0; i < want; i++)
        assert_true(v[i] == sig(2, start + i));
    free(v);

    float *s = read_all(b, &info);
    assert_int_equal(info.frames, want);
    assert_int_equal(info.channels, 2);
    for (uint64_t i = 0; i < want; i++) {
        assert_true(s[2 * i] == sig(0, start + i));
        assert_true(s[2 * i + 1] == sig(1, start + i));
    }
    free(s);

    /* bext time reference is the capture start. */
    SNDFILE *sf = sf_open(a, SFM_READ, &info);
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    assert_int_equal(sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
    assert_int_equal(((uint64_t)bi.time_reference_high << 32) | bi.time_reference_low, start);
    sf_close(sf);
}

/* The writer runs every 10 ms; pushing a second of audio in a tight loop into
 * a 1 s ring overruns it. Every frame in the file must be either the signal at
 * its own timeline position or silence inside a reported gap. */
static void overruns_become_positioned_silence(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 1, REEL_FORMAT_WAV32F);
    unsigned mono[] = {3};
    assert_int_equal(reel_capture_add_track(f->cap, "Bass", mono, 1, NULL), 0);
    reel_capture_arm(f->cap, 0, 1);
    char a[512];
    path_in(f, a, "Bass_T01.wav");
    const char *paths[] = {a};
    char err[REEL_ERRMSG_MAX];
    uint64_t want = 4 * RATE;
    assert_int_equal(reel_capture_start(f->cap, paths, want, NULL, err), 0);
    uint64_t pos = 0;
    while (!reel_capture_complete(f->cap)) {
        run_period(f, pos, 4096, 0);
        pos += 4096;
    }
    assert_int_equal(reel_capture_stop(f->cap, err), 0);

    reel_take_stats st;
    reel_capture_take_stats(f->cap, 0, &st);
    assert_true(st.overruns > 0);
    assert_int_equal(st.frames, want);
    uint64_t lost = 0;
    assert_int_equal(st.n_gaps, st.overruns);
    for (unsigned g = 0; g < st.n_gaps; g++)
        lost += st.gaps[g].frames;
    assert_int_equal(lost, st.lost_frames);

    SF_INFO info;
    float *v = read_all(a, &info);
    assert_int_equal(info.frames, want);
    unsigned g = 0;
    uint64_t silent = 0;
    for (uint64_t i = 0; i < want; i++) {
        while (g < st.n_gaps && i >= st.gaps[g].position + st.gaps[g].frames)
            g++;
        int in_gap = g < st.n_gaps && i >= st.gaps[g].position;
        if (in_gap) {
            assert_true(v[i] == 0.0f);
            silent++;
        } else {
            assert_true(v[i] == sig(3, i));
        }
    }
    assert_int_equal(silent, st.lost_frames);
    free(v);
}

static void stop_without_limit_and_xruns(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 5, REEL_FORMAT_WAV24);
    unsigned mono[] = {0};
    reel_capture_add_track(f->cap, "Kick", mono, 1, NULL);
    reel_capture_arm(f->cap, 0, 1);
    char a[512];
    path_in(f, a, "Kick_T01.wav");
    const char *paths[] = {a};
    assert_int_equal(reel_capture_start(f->cap, paths, 0, NULL, NULL), 0);
    assert_true(reel_capture_running(f->cap));
    uint64_t pos = 0;
    for (int k = 0; k < 20; k++) {
        run_period(f, pos, PERIOD, k == 7);
        pos += PERIOD;
    }
    /* stop is acknowledged by the next period, which records nothing. */
    reel_capture_stop(f->cap, NULL);
    reel_take_stats st;
    reel_capture_take_stats(f->cap, 0, &st);
    assert_int_equal(st.frames, 20 * PERIOD);
    assert_int_equal(st.xruns, 1);
    assert_int_equal(st.xrun_pos[0], 7 * PERIOD);
    assert_false(reel_capture_running(f->cap));
    SF_INFO info;
    float *v = read_all(a, &info);
    assert_int_equal(info.frames, 20 * PERIOD);
    assert_int_equal(info.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
    for (uint64_t i = 0; i < 20 * PERIOD; i++)
        assert_float_equal(v[i], sig(0, i), 1.0 / 8388608.0);
    free(v);
}

static void existing_file_is_never_replaced(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 5, REEL_FORMAT_WAV24);
    unsigned in0[] = {0}, in1[] = {1};
    reel_capture_add_track(f->cap, "A", in0, 1, NULL);
    reel_capture_add_track(f->cap, "B", in1, 1, NULL);
    reel_capture_arm(f->cap, 0, 1);
    reel_capture_arm(f->cap, 1, 1);
    char a[512], b[512];
    path_in(f, a, "A_T01.wav");
    path_in(f, b, "B_T01.wav");
    FILE *fp = fopen(b, "w");
    fputs("precious", fp);
    fclose(fp);
    const char *paths[] = {a, b};
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_capture_start(f->cap, paths, 0, NULL, err), REEL_EEXIST);
    assert_non_null(strstr(err, "B_T01.wav"));
    assert_false(reel_capture_running(f->cap));
    struct stat sb;
    assert_int_equal(stat(a, &sb), -1); /* the other, empty file was removed */
    assert_int_equal(stat(b, &sb), 0);
    assert_int_equal(sb.st_size, 8);
}

static void bad_tracks_are_refused(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 5, REEL_FORMAT_WAV24);
    char err[REEL_ERRMSG_MAX] = "";
    unsigned bad[] = {CHANNELS};
    assert_int_equal(reel_capture_add_track(f->cap, "Gtr", bad, 1, err), REEL_EINVAL);
    assert_string_equal(err, "track 'Gtr': input 5 does not exist (the device has 4)");
    unsigned ok[] = {0};
    assert_int_equal(reel_capture_add_track(f->cap, "Gtr", ok, 1, err), 0);
    assert_int_equal(reel_capture_add_track(f->cap, "Gtr", ok, 1, err), REEL_EINVAL);
    assert_string_equal(err, "track 'Gtr' exists already");
    assert_int_equal(reel_capture_start(f->cap, NULL, 0, NULL, err), REEL_ESTATE);
    assert_string_equal(err, "no track is armed");
    reel_capture_config cfg = {.rate = RATE, .in_channels = 2, .max_period = 256,
                               .ring_seconds = 0.5};
    reel_capture *c2 = NULL;
    assert_int_equal(reel_capture_create(&c2, &cfg, err), REEL_EINVAL);
    assert_null(c2);
}

/* A full disk: the writer reports ENOSPC, the frames before it stay in a
 * valid file, the audio side keeps running. */
static void full_disk_keeps_what_was_written(void **state)
{
    struct fixture *f = *state;
    if (mount("tmpfs", f->dir, "tmpfs", 0, "size=256k") != 0)
        fail_msg("cannot mount a small tmpfs on %s (the test runs as root)", f->dir);
    f->mounted = 1;
    make_capture(f, 5, REEL_FORMAT_WAV32F);
    unsigned mono[] = {0};
    reel_capture_add_track(f->cap, "Vox", mono, 1, NULL);
    reel_capture_arm(f->cap, 0, 1);
    char a[512];
    path_in(f, a, "Vox_T01.wav");
    const char *paths[] = {a};
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_capture_start(f->cap, paths, 0, NULL, err), 0);
    uint64_t pos = 0;
    /* 256 KiB hold about 65000 float frames; offer 3x that, paced so the
     * writer keeps up and the failure is the disk's, not the ring's. */
    for (int k = 0; k < 3 * 65536 / PERIOD; k++) {
        run_period(f, pos, PERIOD, 0);
        pos += PERIOD;
        if (k % 16 == 0) {
            struct timespec ts = {0, 2000000L};
            nanosleep(&ts, NULL);
        }
    }
    int rc = reel_capture_writer_status(f->cap, err);
    assert_int_equal(rc, REEL_ENOSPC);
    assert_non_null(strstr(err, "Vox_T01.wav"));
    rc = reel_capture_stop(f->cap, err);
    assert_int_equal(rc, REEL_ENOSPC);
    reel_take_stats st;
    reel_capture_take_stats(f->cap, 0, &st);
    assert_int_equal(st.error, REEL_ENOSPC);
    assert_true(st.frames > 10000);
    SF_INFO info;
    float *v = read_all(a, &info);
    assert_int_equal(info.frames, st.frames);
    for (sf_count_t i = 0; i < info.frames; i++)
        assert_true(v[i] == sig(0, (uint64_t)i));
    free(v);
}

/* A roll: only the spans count, each loop pass becomes its own numbered
 * take, and each take starts at its span's timeline position. */
static void roll_passes_make_numbered_takes(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 5, REEL_FORMAT_WAV32F);
    unsigned mono[] = {1};
    reel_capture_add_track(f->cap, "Vox", mono, 1, NULL);
    reel_capture_arm(f->cap, 0, 1);
    char prefix[512];
    path_in(f, prefix, "Vox_T");
    reel_take_names names[] = {{prefix, 3}};
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_capture_start_roll(f->cap, names, "loop", err), 0);

    /* Pass 0 records timeline 1000..1700 (punch inside a period), pass 1
     * 1000..1700 again, starting inside a later period. */
    uint64_t dev = 0;
    struct { unsigned n; reel_rec_span s[2]; } plan[] = {
        {0, {{0}}},                                            /* before punch in */
        {1, {{100, 156, 1000, 0, 0}}},                         /* 1000..1156 */
        {1, {{0, 256, 1156, 156, 0}}},                         /* 1156..1412 */
        {1, {{0, 256, 1412, 412, 0}}},                         /* 1412..1668 */
        {2, {{0, 32, 1668, 668, 0}, {200, 56, 1000, 0, 1}}},   /* end of pass 0, pass 1 */
        {1, {{0, 256, 1056, 56, 1}}},
        {1, {{0, 256, 1312, 312, 1}}},
        {1, {{0, 132, 1568, 568, 1}}},                         /* pass 1 ends at 1700 */
    };
    for (size_t k = 0; k < sizeof plan / sizeof plan[0]; k++) {
        for (int c = 0; c < CHANNELS; c++)
            for (unsigned i = 0; i < PERIOD; i++)
                f->buf[c][i] = sig((unsigned)c, dev + i);
        reel_period p = {.in = f->in, .in_channels = CHANNELS, .frames = PERIOD, .position = dev};
        reel_capture_process_spans_rt(f->cap, &p, plan[k].s, plan[k].n);
        dev += PERIOD;
    }
    /* One more period acknowledges the stop. */
    assert_int_equal(reel_capture_stop(f->cap, err), 0);
    assert_int_equal(reel_capture_take_count(f->cap, 0), 2);

    uint64_t dev_start[2] = {1 * PERIOD + 100, 4 * PERIOD + 200};
    for (unsigned pass = 0; pass < 2; pass++) {
        reel_take_stats st;
        assert_int_equal(reel_capture_pass_stats(f->cap, 0, pass, &st), 0);
        char want[600];
        snprintf(want, sizeof want, "%.500s%02u.wav", prefix, 3 + pass);
        assert_string_equal(st.path, want);
        assert_int_equal(st.pass, pass);
        assert_int_equal(st.start, 1000);
        assert_int_equal(st.frames, 700);
        assert_int_equal(st.overruns, 0);
        SF_INFO info;
        float *v = read_all(want, &info);
        assert_int_equal(info.frames, 700);
        /* Frame i of the take came from device frame dev_start + i (the spans
         * are contiguous in device time except across period boundaries, which
         * they are here too). */
        for (uint64_t i = 0; i < 700; i++)
            assert_true(v[i] == sig(1, dev_start[pass] + i));
        free(v);
        SNDFILE *sf = sf_open(want, SFM_READ, &info);
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        assert_int_equal(sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
        assert_int_equal(bi.time_reference_low, 1000);
        sf_close(sf);
    }
}

/* A later pass whose file name is taken fails alone: the earlier take is
 * complete and the existing file untouched. */
static void roll_pass_name_clash_keeps_the_rest(void **state)
{
    struct fixture *f = *state;
    make_capture(f, 5, REEL_FORMAT_WAV24);
    unsigned mono[] = {0};
    reel_capture_add_track(f->cap, "Gtr", mono, 1, NULL);
    reel_capture_arm(f->cap, 0, 1);
    char prefix[512], clash[512];
    path_in(f, prefix, "Gtr_T");
    path_in(f, clash, "Gtr_T02.wav");
    FILE *fp = fopen(clash, "w");
    fputs("keep me", fp);
    fclose(fp);
    reel_take_names names[] = {{prefix, 1}};
    assert_int_equal(reel_capture_start_roll(f->cap, names, NULL, NULL), 0);
    reel_rec_span a = {0, 256, 0, 0, 0}, b = {0, 256, 0, 0, 1};
    run_period(f, 0, PERIOD, 0); /* no spans: nothing, state advances */
    reel_period p = {.in = f->in, .in_channels = CHANNELS, .frames = PERIOD};
    reel_capture_process_spans_rt(f->cap, &p, &a, 1);
    reel_capture_process_spans_rt(f->cap, &p, &b, 1);
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_capture_stop(f->cap, err), REEL_EEXIST);
    assert_non_null(strstr(err, "Gtr_T02.wav"));
    reel_take_stats st;
    assert_int_equal(reel_capture_pass_stats(f->cap, 0, 0, &st), 0);
    assert_int_equal(st.frames, 256);
    assert_int_equal(st.error, 0);
    assert_int_equal(reel_capture_pass_stats(f->cap, 0, 1, &st), 0);
    assert_int_equal(st.error, REEL_EEXIST);
    struct stat sb;
    assert_int_equal(stat(clash, &sb), 0);
    assert_int_equal(sb.st_size, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exact_take_with_offset_start, setup, teardown),
        cmocka_unit_test_setup_teardown(overruns_become_positioned_silence, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_without_limit_and_xruns, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_file_is_never_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_tracks_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(full_disk_keeps_what_was_written, setup, teardown),
        cmocka_unit_test_setup_teardown(roll_passes_make_numbered_takes, setup, teardown),
        cmocka_unit_test_setup_teardown(roll_pass_name_clash_keeps_the_rest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
