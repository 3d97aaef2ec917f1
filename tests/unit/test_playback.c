/* test_playback.c: the playback path without a device.
 *
 * The test plays the audio thread itself: it calls reel_playback_read_rt with
 * the positions a transport would produce (odd period sizes, spans split at
 * loop wraps) while the playback's own reader thread streams the files. The
 * source files are written in setup with a ramp whose every sample is
 * distinct, non-zero and exactly representable, so a frame from the wrong
 * position, a shifted frame or a lost frame is always visible. One test runs
 * the audio side on its own thread against prepare calls from this one.
 * The comp crossfade tests play two regions of two constant files (0.5 and
 * -0.25) meeting at a switch and add the sources as the recorder's mix
 * does, checking the sum against render.h's formula frame by frame. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "playback.h"

#define RATE 48000
#define N_MONO 100000    /* longer than a 1 s ring, so the reader must stream */
#define N_STEREO 60000
#define N_FLAC 70000
#define NONE REEL_POS_NONE

struct fixture {
    char dir[256];
    char mono[512], stereo[512], flac[512], r44[512], tri[512], junk[512], missing[512];
    reel_playback *pb;
    float *l, *r;   /* output buffers, BUF frames */
};

#define BUF 200000

/* File frame i of each test file. */
static float mono_at(int64_t i) { return (float)(i + 1) / 262144.0f; }
static float left_at(int64_t i) { return (float)(i + 1) / 262144.0f; }
static float right_at(int64_t i) { return -(float)(i + 1) / 131072.0f; }
/* -15000 .. -1, 1 .. 15000: 16-bit values read back as exactly v / 32768. */
static short flac_short(int64_t i)
{
    int v = (int)(i % 30000) - 15000;
    return (short)(v >= 0 ? v + 1 : v);
}
static float flac_at(int64_t i) { return (float)flac_short(i) / 32768.0f; }

/* What a source placed at `start` must give at timeline position p. */
static float expect_mono(int64_t start, int64_t p)
{
    int64_t i = p - start;
    return i >= 0 && i < N_MONO ? mono_at(i) : 0.0f;
}

static void write_file(const char *path, int format, int channels, int rate, int64_t frames,
                       int which)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    if (which == 2) {
        short *s = malloc((size_t)frames * sizeof *s);
        for (int64_t i = 0; i < frames; i++)
            s[i] = flac_short(i);
        assert_int_equal(sf_writef_short(sf, s, frames), frames);
        free(s);
    } else {
        float *v = malloc((size_t)(frames * channels) * sizeof *v);
        for (int64_t i = 0; i < frames; i++) {
            if (channels == 2) {
                v[2 * i] = left_at(i);
                v[2 * i + 1] = right_at(i);
            } else {
                for (int c = 0; c < channels; c++)
                    v[i * channels + c] = mono_at(i);
            }
        }
        assert_int_equal(sf_writef_float(sf, v, frames), frames);
        free(v);
    }
    assert_int_equal(sf_close(sf), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/reel-playback-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->mono, sizeof f->mono, "%s/Bass_T01.wav", f->dir);
    snprintf(f->stereo, sizeof f->stereo, "%s/OH_T02.wav", f->dir);
    snprintf(f->flac, sizeof f->flac, "%s/backing.flac", f->dir);
    snprintf(f->r44, sizeof f->r44, "%s/cd.wav", f->dir);
    snprintf(f->tri, sizeof f->tri, "%s/surround.wav", f->dir);
    snprintf(f->junk, sizeof f->junk, "%s/notes.txt", f->dir);
    snprintf(f->missing, sizeof f->missing, "%s/missing.wav", f->dir);
    write_file(f->mono, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, RATE, N_MONO, 0);
    write_file(f->stereo, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, RATE, N_STEREO, 0);
    write_file(f->flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1, RATE, N_FLAC, 2);
    write_file(f->r44, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 44100, 1000, 0);
    write_file(f->tri, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 3, RATE, 1000, 0);
    FILE *j = fopen(f->junk, "w");
    assert_non_null(j);
    fputs("not a sound file, just words\n", j);
    fclose(j);
    f->l = calloc(BUF, sizeof(float));
    f->r = calloc(BUF, sizeof(float));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    reel_playback_destroy(f->pb);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f->l);
    free(f->r);
    free(f);
    return 0;
}

static void make(struct fixture *f, double ring_seconds)
{
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_playback_create(&f->pb, RATE, ring_seconds, err), 0);
}

static int add(struct fixture *f, const char *path, int64_t start)
{
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_playback_add(f->pb, path, start, err);
    if (rc < 0)
        fail_msg("add %s: %s", path, err);
    return rc;
}

static void prepare(struct fixture *f, int64_t pos, int64_t ls, int64_t le)
{
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_playback_prepare(f->pb, pos, ls, le, err);
    if (rc)
        fail_msg("prepare: %s", err);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* As the freewheel device does: ask until the reader has caught up. */
static void wait_ready(struct fixture *f, unsigned frames)
{
    for (int i = 0; i < 100000; i++) {
        if (reel_playback_ready_rt(f->pb, frames))
            return;
        sleep_us(100);
    }
    fail_msg("the reader never got %u frames ahead", frames);
}

static const unsigned periods[] = {1, 127, 256, 509, 1021, 4093, 3, 2048, 777};
#define N_PERIODS (sizeof periods / sizeof periods[0])

/* A transport in miniature: hands out spans in play order, split at wraps. */
struct tport {
    int64_t pos, ls, le;
    unsigned passes;   /* wraps so far */
    unsigned k;        /* period index */
};

static unsigned next_span(struct tport *t, unsigned want)
{
    unsigned n = want;
    if (t->le != NONE && t->pos < t->le && t->le - t->pos < n)
        n = (unsigned)(t->le - t->pos);
    return n;
}

static void advance(struct tport *t, unsigned n)
{
    t->pos += n;
    if (t->le != NONE && t->pos == t->le) {
        t->pos = t->ls;
        t->passes++;
    }
}

static void assert_clean(struct fixture *f)
{
    reel_playback_stats st;
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.underruns, 0);
    assert_int_equal(st.lost_frames, 0);
    assert_true(st.first_underrun_pos == NONE);
    assert_int_equal(st.jumps, 0);
    char err[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_playback_reader_status(f->pb, err), 0);
}

/* ---- tests --------------------------------------------------------------- */

static void straight_playback_is_the_file_then_silence(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    assert_int_equal(add(f, f->mono, 0), 0);
    assert_int_equal(reel_playback_source_channels(f->pb, 0), 1);
    assert_int_equal(reel_playback_source_frames(f->pb, 0), N_MONO);
    prepare(f, 0, NONE, NONE);
    assert_true(reel_playback_prepared(f->pb));
    /* prepare has filled a second before returning. */
    assert_true(reel_playback_ready_rt(f->pb, RATE));

    int64_t pos = 0;
    unsigned k = 0;
    while (pos < N_MONO + 6000) {
        unsigned n = periods[k++ % N_PERIODS];
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, n, f->l, f->r), 0);
        for (unsigned i = 0; i < n; i++) {
            if (f->l[i] != expect_mono(0, pos + i))
                fail_msg("frame %lld: %g, expected %g", (long long)(pos + i), f->l[i],
                         expect_mono(0, pos + i));
            assert_true(f->r[i] == f->l[i]);   /* mono feeds both sides */
        }
        pos += n;
    }
    /* Mono without a right buffer is allowed. */
    assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, 64, f->l, NULL), 0);
    assert_clean(f);
}

static void placed_sources_play_silence_outside_their_file(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    assert_int_equal(add(f, f->mono, 1000), 0);
    assert_int_equal(add(f, f->mono, -500), 1);
    prepare(f, 0, NONE, NONE);
    int64_t pos = 0;
    unsigned k = 0;
    int64_t starts[2] = {1000, -500};
    while (pos < N_MONO + 3000) {
        unsigned n = periods[k++ % N_PERIODS];
        wait_ready(f, n);
        for (unsigned s = 0; s < 2; s++) {
            assert_int_equal(reel_playback_read_rt(f->pb, s, pos, n, f->l, NULL), 0);
            for (unsigned i = 0; i < n; i++)
                if (f->l[i] != expect_mono(starts[s], pos + i))
                    fail_msg("source %u frame %lld: %g, expected %g", s, (long long)(pos + i),
                             f->l[i], expect_mono(starts[s], pos + i));
        }
        pos += n;
    }
    /* The first 1000 really were silence and the -500 source really started
     * inside its file: the checks above compared against those. */
    assert_true(expect_mono(1000, 999) == 0.0f && expect_mono(1000, 1000) == mono_at(0));
    assert_true(expect_mono(-500, 0) == mono_at(500));
    assert_clean(f);
}

static void play_straight(struct fixture *f, int64_t from, int64_t frames, int64_t start)
{
    int64_t pos = from;
    unsigned k = 3;
    while (pos < from + frames) {
        unsigned n = periods[k++ % N_PERIODS];
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++)
            if (f->l[i] != expect_mono(start, pos + i))
                fail_msg("frame %lld: %g, expected %g", (long long)(pos + i), f->l[i],
                         expect_mono(start, pos + i));
        pos += n;
    }
}

static void prepare_in_the_middle_and_again(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    add(f, f->mono, 0);
    prepare(f, 54321, NONE, NONE);
    play_straight(f, 54321, 20000, 0);
    assert_clean(f);

    /* A second prepare while the reader runs: a locate to before the file. */
    prepare(f, -300, NONE, NONE);
    play_straight(f, -300, 3000, 0);
    assert_clean(f);

    /* Stopped: silence and REEL_ESTATE, and sources may be added again. */
    reel_playback_stop(f->pb);
    assert_false(reel_playback_prepared(f->pb));
    for (int i = 0; i < 64; i++)
        f->l[i] = f->r[i] = 1.0f;
    assert_int_equal(reel_playback_read_rt(f->pb, 0, 2700, 64, f->l, f->r), REEL_ESTATE);
    for (int i = 0; i < 64; i++)
        assert_true(f->l[i] == 0.0f && f->r[i] == 0.0f);
    assert_true(reel_playback_ready_rt(f->pb, 64));
    assert_int_equal(add(f, f->stereo, 0), 1);
    prepare(f, 777, NONE, NONE);
    play_straight(f, 777, 70000, 0);
    assert_clean(f);
}

/* Plays `passes` loop passes from pos and checks every frame; returns the
 * frames checked per pass in per_pass[] (index 0: before the first wrap). */
static void play_loop(struct fixture *f, int64_t pos, int64_t ls, int64_t le, unsigned passes,
                      int64_t start, int64_t *per_pass)
{
    prepare(f, pos, ls, le);
    struct tport t = {pos, ls, le, 0, 0};
    while (t.passes < passes) {
        unsigned n = next_span(&t, periods[t.k++ % N_PERIODS]);
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++)
            if (f->l[i] != expect_mono(start, t.pos + i))
                fail_msg("pass %u frame %lld: %g, expected %g", t.passes,
                         (long long)(t.pos + i), f->l[i], expect_mono(start, t.pos + i));
        per_pass[t.passes] += n;
        advance(&t, n);
    }
    assert_clean(f);
}

static void loop_passes_repeat_the_range_exactly(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    add(f, f->mono, 0);

    /* Starting before the loop: the run-in, then four whole passes. */
    int64_t per[5] = {0};
    play_loop(f, 25000, 30000, 70000, 4, 0, per);
    assert_int_equal(per[0], 45000);   /* 25000 .. 69999 */
    for (int p = 1; p < 4; p++)
        assert_int_equal(per[p], 40000);

    /* A loop crossing the file end: file tail, then silence, every pass. */
    int64_t per2[5] = {0};
    play_loop(f, 90000, 90000, 110000, 4, 0, per2);
    for (int p = 0; p < 4; p++)
        assert_int_equal(per2[p], 20000);

    /* Starting inside the loop, with the source placed late. */
    int64_t per3[5] = {0};
    reel_playback_stop(f->pb);
    assert_int_equal(reel_playback_clear(f->pb), 0);
    assert_int_equal(reel_playback_source_count(f->pb), 0);
    add(f, f->mono, 5000);
    play_loop(f, 9000, 3000, 12000, 4, 5000, per3);
    assert_int_equal(per3[0], 3000);
    for (int p = 1; p < 4; p++)
        assert_int_equal(per3[p], 9000);
}

/* What a region (frames [off, off + len) of the mono file, at `at`) must give
 * at timeline position p. */
static float expect_region(int64_t at, int64_t off, int64_t len, int64_t p)
{
    int64_t i = p - at;
    return i >= 0 && i < len ? mono_at(off + i) : 0.0f;
}

/* Plays from pos (with the loop [ls, le) for `passes` passes, or straight
 * for `frames` frames when ls is NONE) and checks source `src` frame by
 * frame against the region. Returns how many frames of the file came out. */
static int64_t play_region(struct fixture *f, unsigned src, int64_t pos, int64_t ls, int64_t le,
                           unsigned passes, int64_t frames, int64_t at, int64_t off, int64_t len)
{
    prepare(f, pos, ls, le);
    struct tport t = {pos, ls, le, 0, 0};
    int64_t played = 0, sounding = 0;
    while (ls != NONE ? t.passes < passes : played < frames) {
        unsigned n = next_span(&t, periods[t.k++ % N_PERIODS]);
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, src, t.pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++) {
            float want = expect_region(at, off, len, t.pos + (int64_t)i);
            if (f->l[i] != want)
                fail_msg("pass %u frame %lld: %g, expected %g", t.passes,
                         (long long)(t.pos + i), f->l[i], want);
            sounding += want != 0.0f;
        }
        played += n;
        advance(&t, n);
    }
    assert_clean(f);
    return sounding;
}

static void regions_play_exactly_their_frames(void **state)
{
    struct fixture *f = *state;
    char err[REEL_ERRMSG_MAX] = "";
    make(f, 1);
    /* Frames 30000..54999 of the file at 100000..124999; a second region of
     * the same file (its first 1000 frames) at 0. */
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 100000, 30000, 25000, err), 0);
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 0, 0, 1000, err), 1);
    assert_int_equal(reel_playback_source_frames(f->pb, 0), 25000);
    assert_int_equal(reel_playback_source_frames(f->pb, 1), 1000);

    /* Straight through: silence, the region, silence. */
    assert_int_equal(play_region(f, 0, 95000, NONE, NONE, 0, 40000, 100000, 30000, 25000),
                     25000);
    assert_int_equal(play_region(f, 1, 0, NONE, NONE, 0, 3000, 0, 0, 1000), 1000);
    /* The region's first and last frames are the file's frames 30000 and
     * 54999, not its neighbours. */
    assert_true(expect_region(100000, 30000, 25000, 100000) == mono_at(30000));
    assert_true(expect_region(100000, 30000, 25000, 124999) == mono_at(54999));
    assert_true(expect_region(100000, 30000, 25000, 125000) == 0.0f);

    /* Loops crossing the region's end and its start: 3 passes each; every
     * pass plays the same 5000 frames of the region. */
    assert_int_equal(play_region(f, 0, 120000, 120000, 128000, 3, 0, 100000, 30000, 25000),
                     3 * 5000);
    assert_int_equal(play_region(f, 0, 96000, 96000, 103000, 3, 0, 100000, 30000, 25000),
                     3 * 3000);

    /* frames < 0: to the file's end. */
    reel_playback_stop(f->pb);
    assert_int_equal(reel_playback_clear(f->pb), 0);
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 10, N_MONO - 700, -1, err), 0);
    assert_int_equal(reel_playback_source_frames(f->pb, 0), 700);
    assert_int_equal(play_region(f, 0, 0, NONE, NONE, 0, 2000, 10, N_MONO - 700, 700), 700);
    reel_playback_stop(f->pb);

    /* Regions outside the file are refused, with the numbers. */
    char want[REEL_ERRMSG_MAX + 600];
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 0, N_MONO + 1, 10, err),
                     REEL_EINVAL);
    snprintf(want, sizeof want, "playback: %s: region offset %d is outside the file (%d frames)",
             f->mono, N_MONO + 1, N_MONO);
    assert_string_equal(err, want);
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 0, -1, 10, err), REEL_EINVAL);
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 0, 99000, 1001, err), REEL_EINVAL);
    snprintf(want, sizeof want,
             "playback: %s: region of 1001 frames from frame 99000 ends after the file's end "
             "(%d frames)", f->mono, N_MONO);
    assert_string_equal(err, want);
    /* Exactly up to the end is fine. */
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 0, 99000, 1000, err), 1);
}

/* The audio side reading as fast as it can with a 1 s ring: every frame it
 * gets is either the file's frame at that position or silence that was
 * counted, at the right position; afterwards, paced reads are exact again. */
static void underruns_are_counted_silence_and_stay_aligned(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    add(f, f->mono, 0);
    prepare(f, 0, 0, N_MONO);   /* the whole file, looped: always sound */
    struct tport t = {0, 0, N_MONO, 0, 0};
    uint64_t silent = 0;
    int64_t first_silent = NONE;
    uint64_t returned = 0;

    /* Tight loop, then one read of a whole pass: more than the ring holds,
     * so at least that one must run short. */
    while (t.passes < 21) {
        unsigned n = t.passes < 20 ? next_span(&t, 4096) : next_span(&t, N_MONO);
        int rc = reel_playback_read_rt(f->pb, 0, t.pos, n, f->l, NULL);
        assert_true(rc >= 0);
        returned += (uint64_t)rc;
        for (unsigned i = 0; i < n; i++) {
            if (f->l[i] == 0.0f) {
                if (first_silent == NONE)
                    first_silent = t.pos + i;
                silent++;
            } else if (f->l[i] != mono_at(t.pos + i)) {
                fail_msg("pass %u frame %lld: %g is neither silence nor %g", t.passes,
                         (long long)(t.pos + i), f->l[i], mono_at(t.pos + i));
            }
        }
        advance(&t, n);
    }
    reel_playback_stats st;
    reel_playback_get_stats(f->pb, &st);
    assert_true(silent >= N_MONO - 65536);
    assert_int_equal(st.lost_frames, silent);
    assert_int_equal(returned, silent);
    assert_true(st.underruns >= 1);
    assert_true(st.first_underrun_pos == first_silent);
    int64_t fp = 0;
    assert_int_equal(reel_playback_underruns(f->pb, &fp), st.underruns);
    assert_true(fp == first_silent);
    assert_int_equal(st.jumps, 0);

    /* Paced again: exact, nothing more lost. */
    unsigned k = 0;
    while (t.passes < 23) {
        unsigned n = next_span(&t, periods[k++ % N_PERIODS]);
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++)
            if (f->l[i] != mono_at(t.pos + i))
                fail_msg("after the underruns, frame %lld: %g, expected %g",
                         (long long)(t.pos + i), f->l[i], mono_at(t.pos + i));
        advance(&t, n);
    }
    reel_playback_stats st2;
    reel_playback_get_stats(f->pb, &st2);
    assert_int_equal(st2.lost_frames, st.lost_frames);
    assert_int_equal(st2.underruns, st.underruns);
}

static void read_check(struct fixture *f, int64_t pos, unsigned n, int expect_rc)
{
    assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, n, f->l, NULL), expect_rc);
    for (unsigned i = 0; i < n; i++) {
        float want = expect_rc ? 0.0f : expect_mono(0, pos + i);
        if (f->l[i] != want)
            fail_msg("frame %lld: %g, expected %g", (long long)(pos + i), f->l[i], want);
    }
}

static void unprepared_locates_skip_ahead_or_give_counted_silence(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    add(f, f->mono, 0);
    prepare(f, 0, NONE, NONE);
    reel_playback_stats st;

    wait_ready(f, 4096);
    read_check(f, 0, 4096, 0);
    /* Ahead, inside what the ring holds: plays, nothing lost. */
    read_check(f, 20000, 1000, 0);
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.jumps, 1);
    assert_int_equal(st.lost_frames, 0);
    /* Behind with no loop: never reached, silence, counted. */
    read_check(f, 5000, 1000, 1000);
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.jumps, 2);
    assert_int_equal(st.underruns, 1);
    assert_int_equal(st.lost_frames, 1000);
    assert_true(st.first_underrun_pos == 5000);
    /* Behind and before the file: silence that loses nothing. */
    read_check(f, -5000, 1000, 0);
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.jumps, 3);
    assert_int_equal(st.lost_frames, 1000);
    /* The expected position still plays. */
    wait_ready(f, 1000);
    read_check(f, 21000, 1000, 0);
    /* Far ahead, beyond the ring (65536 frames from 22000): silence now,
     * then exact once the reader has caught up. */
    read_check(f, 90000, 512, 512);
    wait_ready(f, 512);
    read_check(f, 90512, 512, 0);
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.jumps, 4);
    assert_int_equal(st.underruns, 2);
    assert_int_equal(st.lost_frames, 1512);
    assert_true(st.first_underrun_pos == 5000);

    /* In a loop, a position behind is reached again after the wrap. */
    prepare(f, 10000, 10000, 20000);
    wait_ready(f, 5000);
    read_check(f, 10000, 5000, 0);
    read_check(f, 16000, 1000, 0);   /* ahead in the same pass: 15000 .. 15999 skipped */
    read_check(f, 12000, 1000, 0);   /* 17000 .. 19999, wrap, 10000 .. 11999 skipped */
    wait_ready(f, 6000);
    read_check(f, 13000, 6000, 0);
    /* A call running past the loop end: the part after it is not in the
     * play order; the loop start still follows. */
    assert_int_equal(reel_playback_read_rt(f->pb, 0, 19000, 2000, f->l, NULL), 1000);
    for (unsigned i = 0; i < 1000; i++)
        assert_true(f->l[i] == mono_at(19000 + i));
    for (unsigned i = 1000; i < 2000; i++)
        assert_true(f->l[i] == 0.0f);
    wait_ready(f, 3000);
    read_check(f, 10000, 3000, 0);
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.jumps, 3);
    assert_int_equal(st.lost_frames, 1000);
    assert_true(st.first_underrun_pos == 20000);
}

static void stereo_and_mono_sources_together(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    assert_int_equal(add(f, f->stereo, 0), 0);
    assert_int_equal(add(f, f->mono, 2000), 1);
    assert_int_equal(reel_playback_source_channels(f->pb, 0), 2);
    assert_int_equal(reel_playback_source_frames(f->pb, 0), N_STEREO);
    assert_int_equal(reel_playback_source_channels(f->pb, 7), 0);
    prepare(f, 0, 1000, 65000);   /* loop crosses the stereo file's end */
    struct tport t = {0, 1000, 65000, 0, 0};
    float *ml = calloc(8192, sizeof(float));
    while (t.passes < 3) {
        unsigned n = next_span(&t, periods[t.k++ % N_PERIODS]);
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, n, f->l, f->r), 0);
        assert_int_equal(reel_playback_read_rt(f->pb, 1, t.pos, n, ml, NULL), 0);
        for (unsigned i = 0; i < n; i++) {
            int64_t p = t.pos + (int64_t)i;
            float wl = p < N_STEREO ? left_at(p) : 0.0f, wr = p < N_STEREO ? right_at(p) : 0.0f;
            if (f->l[i] != wl || f->r[i] != wr)
                fail_msg("stereo frame %lld: %g %g, expected %g %g", (long long)p, f->l[i],
                         f->r[i], wl, wr);
            if (ml[i] != expect_mono(2000, p))
                fail_msg("mono frame %lld: %g, expected %g", (long long)p, ml[i],
                         expect_mono(2000, p));
        }
        advance(&t, n);
    }
    free(ml);
    assert_clean(f);

    /* A stereo source needs both buffers; a missing source is refused. */
    f->l[0] = 1.0f;
    assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, 16, f->l, NULL), REEL_EINVAL);
    assert_true(f->l[0] == 0.0f);
    assert_int_equal(reel_playback_read_rt(f->pb, 2, t.pos, 16, f->l, f->r), REEL_EINVAL);
    assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, 16, NULL, f->r), REEL_EINVAL);
    f->l[0] = f->r[0] = 1.0f;
    assert_int_equal(reel_playback_read_rt(f->pb, 0, NONE, 16, f->l, f->r), REEL_EINVAL);
    assert_true(f->l[0] == 0.0f && f->r[0] == 0.0f);
    /* None of that moved the expected position. */
    wait_ready(f, 256);
    assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, 256, f->l, f->r), 0);
    for (unsigned i = 0; i < 256; i++) {
        int64_t p = t.pos + (int64_t)i;
        assert_true(f->l[i] == (p < N_STEREO ? left_at(p) : 0.0f));
        assert_true(f->r[i] == (p < N_STEREO ? right_at(p) : 0.0f));
    }
    assert_clean(f);
}

static void any_libsndfile_format_plays(void **state)
{
    struct fixture *f = *state;
    make(f, 2);
    add(f, f->flac, 0);
    prepare(f, 0, NONE, NONE);
    int64_t pos = 0;
    unsigned k = 0;
    while (pos < N_FLAC + 1000) {
        unsigned n = periods[k++ % N_PERIODS];
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++) {
            int64_t p = pos + (int64_t)i;
            float want = p < N_FLAC ? flac_at(p) : 0.0f;
            if (f->l[i] != want)
                fail_msg("flac frame %lld: %g, expected %g", (long long)p, f->l[i], want);
        }
        pos += n;
    }
    assert_clean(f);
}

static void errors_are_worded(void **state)
{
    struct fixture *f = *state;
    char err[REEL_ERRMSG_MAX], want[1024];
    reel_playback *pb = NULL;
    assert_int_equal(reel_playback_create(&pb, RATE, 0.5, err), REEL_EINVAL);
    assert_null(pb);
    assert_string_equal(err, "playback: ring_seconds 0.5 must be between 1 and 600");

    make(f, 0);   /* 0: the 5 s default */
    assert_int_equal(reel_playback_add(f->pb, f->missing, 0, err), REEL_ENOTFOUND);
    snprintf(want, sizeof want, "playback: %s: No such file or directory", f->missing);
    assert_string_equal(err, want);

    assert_int_equal(reel_playback_add(f->pb, f->r44, 0, err), REEL_EINVAL);
    snprintf(want, sizeof want,
             "playback: %s: sample rate 44100 Hz does not match the playback rate 48000 Hz",
             f->r44);
    assert_string_equal(err, want);

    assert_int_equal(reel_playback_add(f->pb, f->tri, 0, err), REEL_EFORMAT);
    snprintf(want, sizeof want,
             "playback: %s: 3 channels (only mono and stereo files can be played)", f->tri);
    assert_string_equal(err, want);

    assert_int_equal(reel_playback_add(f->pb, f->junk, 0, err), REEL_EFORMAT);
    snprintf(want, sizeof want, "playback: %s: ", f->junk);
    assert_memory_equal(err, want, strlen(want));
    assert_int_equal(reel_playback_source_count(f->pb), 0);

    /* Not prepared yet: silence and REEL_ESTATE. */
    assert_int_equal(add(f, f->mono, 0), 0);
    f->l[0] = 1.0f;
    assert_int_equal(reel_playback_read_rt(f->pb, 0, 0, 8, f->l, NULL), REEL_ESTATE);
    assert_true(f->l[0] == 0.0f);

    assert_int_equal(reel_playback_prepare(f->pb, 0, 100, NONE, err), REEL_EINVAL);
    assert_string_equal(err, "playback: loop start and loop end must be set together");
    assert_int_equal(reel_playback_prepare(f->pb, 0, 200, 100, err), REEL_EINVAL);
    assert_string_equal(err, "playback: loop end (100) is not after loop start (200)");
    assert_int_equal(reel_playback_prepare(f->pb, NONE, NONE, NONE, err), REEL_EINVAL);
    assert_string_equal(err, "playback: position -9223372036854775808 is out of range");
    assert_false(reel_playback_prepared(f->pb));

    prepare(f, 0, NONE, NONE);
    assert_int_equal(reel_playback_add(f->pb, f->stereo, 0, err), REEL_ESTATE);
    assert_string_equal(err, "playback: sources can only be added while stopped "
                             "(call reel_playback_stop first)");
    assert_int_equal(reel_playback_clear(f->pb), REEL_ESTATE);
    reel_playback_stop(f->pb);
    reel_playback_stop(f->pb);   /* idempotent */
    assert_int_equal(add(f, f->stereo, 0), 1);
    assert_int_equal(reel_playback_clear(f->pb), 0);
    assert_int_equal(reel_playback_source_count(f->pb), 0);
}

/* A file that loses its end after it was added (a disk fault, a truncated
 * copy): the reader reports where, plays silence there, and the loop brings
 * back the part that still reads. */
static void read_errors_are_reported_and_play_as_silence(void **state)
{
    struct fixture *f = *state;
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut.wav", f->dir);
    write_file(cut, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, RATE, N_MONO, 0);
    make(f, 1);
    add(f, cut, 0);
    struct stat sb;
    assert_int_equal(stat(cut, &sb), 0);
    off_t header = sb.st_size - (off_t)N_MONO * 4;
    assert_int_equal(truncate(cut, header + 50000 * 4), 0);

    /* The fill in prepare meets the fault (it reads 40000 .. 56383). */
    char err[REEL_ERRMSG_MAX] = "", want[1024];
    snprintf(want, sizeof want, "playback: %s: read failed at frame 50000: the file ends early",
             cut);
    assert_int_equal(reel_playback_prepare(f->pb, 40000, 40000, 60000, err), REEL_EIO);
    assert_string_equal(err, want);
    assert_true(reel_playback_prepared(f->pb));
    struct tport t = {40000, 40000, 60000, 0, 0};
    while (t.passes < 3) {
        unsigned n = next_span(&t, periods[t.k++ % N_PERIODS]);
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, t.pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++) {
            int64_t p = t.pos + (int64_t)i;
            float w = p < 50000 ? mono_at(p) : 0.0f;
            if (f->l[i] != w)
                fail_msg("pass %u frame %lld: %g, expected %g", t.passes, (long long)p,
                         f->l[i], w);
        }
        advance(&t, n);
    }
    assert_int_equal(reel_playback_reader_status(f->pb, err), REEL_EIO);
    assert_string_equal(err, want);
    reel_playback_stats st;
    reel_playback_get_stats(f->pb, &st);
    assert_int_equal(st.lost_frames, 0);

    /* From 0 the fill stops short of the fault (0 .. 49151: prepare
     * succeeds, which resets the status); the reader thread meets it and
     * reports it the same way. */
    assert_int_equal(reel_playback_prepare(f->pb, 0, NONE, NONE, err), 0);
    int64_t pos = 0;
    unsigned k = 0;
    while (pos < 70000) {
        unsigned n = periods[k++ % N_PERIODS];
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++) {
            float w = pos + i < 50000 ? mono_at(pos + i) : 0.0f;
            if (f->l[i] != w)
                fail_msg("frame %lld: %g, expected %g", (long long)(pos + i), f->l[i], w);
        }
        pos += n;
    }
    assert_int_equal(reel_playback_reader_status(f->pb, err), REEL_EIO);
    assert_string_equal(err, want);
}

/* ---- comp crossfades ---------------------------------------------------- */

#define XF_FILE 40000   /* frames of each constant take file */
#define XF_SW 16384     /* the switch: prepare's first fill chunk ends there */
#define XF_A 0.5f
#define XF_B (-0.25f)

/* render.c's ramp(): weight at timeline t of the zone [z, z + len). */
static float xf_ramp(int64_t t, int64_t z, int64_t len, int rising)
{
    double x = ((double)(t - z) + 0.5) / (double)len;
    return (float)(rising ? sin(x * M_PI / 2.0) : cos(x * M_PI / 2.0));
}

static void write_const(const char *path, int64_t frames, float v)
{
    SF_INFO info = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    float *buf = malloc((size_t)frames * sizeof *buf);
    for (int64_t i = 0; i < frames; i++)
        buf[i] = v;
    assert_int_equal(sf_writef_float(sf, buf, frames), frames);
    free(buf);
    assert_int_equal(sf_close(sf), 0);
}

/* One track of regions over the two constant files: what the sum of the
 * sources must be at timeline p. Region k plays [at, at + frames) of file
 * value v[k] with fades hin/hout; render.h's rule, worked out by hand. */
struct xf_region {
    int64_t at, frames;
    float v;
    int64_t hin, hout;
};

static float xf_expect(const struct xf_region *r, unsigned n, int64_t p)
{
    float sum = 0.0f;
    for (unsigned k = 0; k < n; k++) {
        int64_t a = r[k].at, e = r[k].at + r[k].frames;
        if (p < a - r[k].hin || p >= e + r[k].hout)
            continue;
        float g = 1.0f;
        if (p < a + r[k].hin)
            g = xf_ramp(p, a - r[k].hin, 2 * r[k].hin, 1);
        else if (p >= e - r[k].hout)
            g = xf_ramp(p, e - r[k].hout, 2 * r[k].hout, 0);
        sum += g * r[k].v;
    }
    return sum;
}

struct xf_files {
    char a[512], b[512];
};

static void xf_make_files(struct fixture *f, struct xf_files *x)
{
    snprintf(x->a, sizeof x->a, "%s/Vox_T01.wav", f->dir);
    snprintf(x->b, sizeof x->b, "%s/Vox_T02.wav", f->dir);
    write_const(x->a, XF_FILE, XF_A);
    write_const(x->b, XF_FILE, XF_B);
}

/* Adds region k (file a for 0.5, b for -0.25) at its offset with its fades. */
static void xf_add(struct fixture *f, const struct xf_files *x, const struct xf_region *r,
                   int64_t offset)
{
    char err[REEL_ERRMSG_MAX] = "";
    int idx = reel_playback_add_region(f->pb, r->v == XF_A ? x->a : x->b, r->at, offset,
                                       r->frames, err);
    if (idx < 0)
        fail_msg("add_region: %s", err);
    if (reel_playback_set_region_fades(f->pb, (unsigned)idx, r->hin, r->hout, err) != 0)
        fail_msg("set_region_fades: %s", err);
}

/* Plays all sources from pos (loop [ls, le) for `passes` passes, or
 * straight for `frames` frames), sums them as the recorder's mix does and
 * checks every frame: within 1e-6 of the formula inside fade zones, exactly
 * elsewhere. Returns the frames checked inside zones. */
static int64_t xf_play(struct fixture *f, const struct xf_region *r, unsigned nr, int64_t pos,
                       int64_t ls, int64_t le, unsigned passes, int64_t frames)
{
    prepare(f, pos, ls, le);
    unsigned ns = reel_playback_source_count(f->pb);
    struct tport t = {pos, ls, le, 0, 0};
    int64_t played = 0, in_zone = 0;
    float *sum = calloc(BUF, sizeof *sum);
    while (ls != NONE ? t.passes < passes : played < frames) {
        unsigned n = next_span(&t, periods[t.k++ % N_PERIODS]);
        wait_ready(f, n);
        memset(sum, 0, n * sizeof *sum);
        for (unsigned s = 0; s < ns; s++) {
            assert_int_equal(reel_playback_read_rt(f->pb, s, t.pos, n, f->l, NULL), 0);
            for (unsigned i = 0; i < n; i++)
                sum[i] += f->l[i];
        }
        for (unsigned i = 0; i < n; i++) {
            int64_t p = t.pos + (int64_t)i;
            float want = xf_expect(r, nr, p);
            int zone = 0;
            for (unsigned k = 0; k < nr; k++)
                zone |= (p >= r[k].at - r[k].hin && p < r[k].at + r[k].hin)
                        || (p >= r[k].at + r[k].frames - r[k].hout
                            && p < r[k].at + r[k].frames + r[k].hout);
            if (zone ? fabsf(sum[i] - want) > 1e-6f : sum[i] != want)
                fail_msg("pass %u frame %lld: %.9g, expected %.9g", t.passes, (long long)p,
                         sum[i], want);
            in_zone += zone;
        }
        played += n;
        advance(&t, n);
    }
    free(sum);
    assert_clean(f);
    return in_zone;
}

static void comp_switches_crossfade_as_the_render_does(void **state)
{
    struct fixture *f = *state;
    struct xf_files x;
    xf_make_files(f, &x);
    make(f, 1);
    /* Take 1 (0.5) up to the switch, take 2 (-0.25) after it, h = 50: the
     * zone [16334, 16434) straddles the end of prepare's first read. */
    struct xf_region r[2] = {{0, XF_SW, XF_A, 0, 50}, {XF_SW, 8000, XF_B, 50, 0}};
    xf_add(f, &x, &r[0], 2000);
    xf_add(f, &x, &r[1], 5000);
    assert_int_equal(reel_playback_source_frames(f->pb, 1), 8000);
    assert_int_equal(xf_play(f, r, 2, 0, NONE, NONE, 0, 30000), 100);
    /* The formula itself, at both ends and the middle of the zone: the
     * first frame is nearly all take 1, the last nearly all take 2, the
     * middle pair equal power. */
    assert_true(fabsf(xf_expect(r, 2, XF_SW - 50) - (0.5f * cosf((float)(M_PI / 400))
                                                     - 0.25f * sinf((float)(M_PI / 400))))
                < 1e-6f);
    assert_true(xf_expect(r, 2, XF_SW - 51) == XF_A && xf_expect(r, 2, XF_SW + 50) == XF_B);
    float mid = xf_ramp(XF_SW - 1, XF_SW - 50, 100, 0);
    assert_true(fabsf(mid - xf_ramp(XF_SW, XF_SW - 50, 100, 1)) < 1e-7f);

    /* Each side alone: take 1 plays on into its file past the switch and
     * take 2 starts 50 frames early, weighted; nothing beyond. */
    prepare(f, XF_SW - 60, NONE, NONE);
    wait_ready(f, 120);
    assert_int_equal(reel_playback_read_rt(f->pb, 0, XF_SW - 60, 120, f->l, NULL), 0);
    assert_int_equal(reel_playback_read_rt(f->pb, 1, XF_SW - 60, 120, f->r, NULL), 0);
    for (int i = 0; i < 120; i++) {
        int64_t p = XF_SW - 60 + i;
        float wa = p < XF_SW - 50 ? XF_A : p < XF_SW + 50 ? XF_A * xf_ramp(p, XF_SW - 50, 100, 0)
                                                         : 0.0f;
        float wb = p < XF_SW - 50 ? 0.0f : p < XF_SW + 50 ? XF_B * xf_ramp(p, XF_SW - 50, 100, 1)
                                                         : XF_B;
        if (f->l[i] != wa || f->r[i] != wb)
            fail_msg("frame %lld: %.9g %.9g, expected %.9g %.9g", (long long)p, f->l[i], f->r[i],
                     wa, wb);
    }
    reel_playback_stop(f->pb);

    /* No fades: the hard cut, bit for bit. */
    assert_int_equal(reel_playback_clear(f->pb), 0);
    struct xf_region hard[2] = {{0, XF_SW, XF_A, 0, 0}, {XF_SW, 8000, XF_B, 0, 0}};
    xf_add(f, &x, &hard[0], 2000);
    xf_add(f, &x, &hard[1], 5000);
    assert_int_equal(xf_play(f, hard, 2, XF_SW - 3000, NONE, NONE, 0, 6000), 0);
    assert_true(xf_expect(hard, 2, XF_SW - 1) == XF_A && xf_expect(hard, 2, XF_SW) == XF_B);
}

/* A fade zone's frames are the file's own frames around the region (the
 * ramp file shows any shift), weighted by timeline position. */
static void fade_zones_read_the_files_frames_around_the_region(void **state)
{
    struct fixture *f = *state;
    char err[REEL_ERRMSG_MAX] = "";
    make(f, 1);
    /* File frames 10000 .. 29999 at 1000; fades of 100 in, 200 out. */
    assert_int_equal(reel_playback_add_region(f->pb, f->mono, 1000, 10000, 20000, err), 0);
    assert_int_equal(reel_playback_set_region_fades(f->pb, 0, 100, 200, err), 0);
    prepare(f, 0, NONE, NONE);
    int64_t pos = 0;
    unsigned k = 0;
    while (pos < 23000) {
        unsigned n = periods[k++ % N_PERIODS];
        wait_ready(f, n);
        assert_int_equal(reel_playback_read_rt(f->pb, 0, pos, n, f->l, NULL), 0);
        for (unsigned i = 0; i < n; i++) {
            int64_t p = pos + i, rf = p - 1000;
            float want = 0.0f;
            if (rf >= -100 && rf < 100)
                want = xf_ramp(p, 900, 200, 1) * mono_at(10000 + rf);
            else if (rf >= 19800 && rf < 20200)
                want = xf_ramp(p, 20800, 400, 0) * mono_at(10000 + rf);
            else if (rf >= 0 && rf < 20000)
                want = mono_at(10000 + rf);
            if (fabsf(f->l[i] - want) > 1e-6f * fabsf(want) || (want == 0.0f) != (f->l[i] == 0.0f))
                fail_msg("frame %lld: %.9g, expected %.9g", (long long)p, f->l[i], want);
        }
        pos += n;
    }
    assert_clean(f);
}

/* Loops wrapping inside a zone, or starting in one, give the same sample at
 * each timeline position on every pass; a switch next to a gap is not
 * faded. */
static void loops_through_fade_zones_and_gaps(void **state)
{
    struct fixture *f = *state;
    struct xf_files x;
    xf_make_files(f, &x);
    make(f, 1);
    /* take 1 | take 2 | gap of 1000 | take 1 again, hard edges at the gap. */
    struct xf_region r[3] = {{0, XF_SW, XF_A, 0, 50},
                             {XF_SW, 8000, XF_B, 50, 0},
                             {XF_SW + 9000, 3000, XF_A, 0, 0}};
    xf_add(f, &x, &r[0], 2000);
    xf_add(f, &x, &r[1], 5000);
    xf_add(f, &x, &r[2], 100);
    /* The wrap at 16400 falls inside the zone [16334, 16434). */
    assert_int_equal(xf_play(f, r, 3, 15000, 16000, 16400, 3, 0), 3 * 66);
    /* The loop starts inside the zone and crosses the gap. */
    assert_int_equal(xf_play(f, r, 3, 16400, 16400, 26000, 2, 0), 2 * 34);
    /* A loop of 20 frames entirely inside the zone, many passes. */
    assert_int_equal(xf_play(f, r, 3, 16370, 16370, 16390, 40, 0), 40 * 20);
    /* Straight across the gap: exactly -0.25, 0, 0.5, no fade. */
    assert_int_equal(xf_play(f, r, 3, XF_SW + 7000, NONE, NONE, 0, 6000), 0);
    assert_true(xf_expect(r, 3, XF_SW + 7999) == XF_B && xf_expect(r, 3, XF_SW + 8000) == 0.0f
                && xf_expect(r, 3, XF_SW + 9000) == XF_A);
}

/* Fades only as long as the file has frames around the region. */
static void fades_the_file_cannot_give_are_refused(void **state)
{
    struct fixture *f = *state;
    struct xf_files x;
    xf_make_files(f, &x);
    char err[REEL_ERRMSG_MAX] = "", want[REEL_ERRMSG_MAX + 600];
    make(f, 1);
    /* A short handle: 10 frames after take 1's region, 30 before take 2's. */
    assert_int_equal(reel_playback_add_region(f->pb, x.a, 0, 2000, XF_FILE - 2010, err), 0);
    assert_int_equal(reel_playback_add_region(f->pb, x.b, XF_FILE - 2010, 30, 5000, err), 1);
    assert_int_equal(reel_playback_set_region_fades(f->pb, 0, 0, 11, err), REEL_EINVAL);
    snprintf(want, sizeof want,
             "playback: %s: a fade-out of 11 frames reaches past the file's end (10 frames "
             "after the region)", x.a);
    assert_string_equal(err, want);
    assert_int_equal(reel_playback_set_region_fades(f->pb, 1, 31, 0, err), REEL_EINVAL);
    snprintf(want, sizeof want,
             "playback: %s: a fade-in of 31 frames reaches before the file's start (the region "
             "starts at frame 30)", x.b);
    assert_string_equal(err, want);
    assert_int_equal(reel_playback_set_region_fades(f->pb, 1, 30, 4971, err), REEL_EINVAL);
    snprintf(want, sizeof want,
             "playback: %s: fades of 30 + 4971 frames overlap in a region of 5000 frames", x.b);
    assert_string_equal(err, want);
    assert_int_equal(reel_playback_set_region_fades(f->pb, 1, -1, 0, err), REEL_EINVAL);
    assert_string_equal(err, "playback: fade lengths must not be negative (hin -1, hout 0)");
    assert_int_equal(reel_playback_set_region_fades(f->pb, 2, 0, 0, err), REEL_EINVAL);
    assert_string_equal(err, "playback: no source 2");
    /* The handle's length is fine: a zone of 20 frames. */
    assert_int_equal(reel_playback_set_region_fades(f->pb, 0, 0, 10, err), 0);
    assert_int_equal(reel_playback_set_region_fades(f->pb, 1, 10, 0, err), 0);
    int64_t sw = XF_FILE - 2010;
    struct xf_region r[2] = {{0, sw, XF_A, 0, 10}, {sw, 5000, XF_B, 10, 0}};
    assert_int_equal(xf_play(f, r, 2, sw - 2000, NONE, NONE, 0, 4000), 20);
    /* Not while prepared. */
    assert_int_equal(reel_playback_set_region_fades(f->pb, 0, 0, 5, err), REEL_ESTATE);
}

/* ---- the audio side on its own thread -------------------------------- */

struct rt_side {
    reel_playback *pb;
    atomic_int stop;
    atomic_int gen;
    _Atomic int64_t start;
    atomic_uint_fast64_t good, bad, calls;
};

static void *audio_thread(void *arg)
{
    struct rt_side *a = arg;
    float l[256];
    int g = -1;
    int64_t pos = 0;
    while (!atomic_load(&a->stop)) {
        int g2 = atomic_load(&a->gen);
        if (g2 != g) {
            g = g2;
            pos = atomic_load(&a->start);
        }
        reel_playback_ready_rt(a->pb, 256);
        int rc = reel_playback_read_rt(a->pb, 0, pos, 256, l, NULL);
        if (rc < 0 && rc != REEL_ESTATE)
            atomic_fetch_add(&a->bad, 1);
        for (unsigned i = 0; i < 256; i++) {
            /* Whatever the race, a sound is the right one for its position. */
            if (l[i] == 0.0f)
                continue;
            if (l[i] == expect_mono(0, pos + i))
                atomic_fetch_add(&a->good, 1);
            else
                atomic_fetch_add(&a->bad, 1);
        }
        atomic_fetch_add(&a->calls, 1);
        pos += 256;
        sleep_us(200);
    }
    return NULL;
}

static void prepare_races_a_running_audio_thread(void **state)
{
    struct fixture *f = *state;
    make(f, 1);
    add(f, f->mono, 0);
    add(f, f->stereo, 0);
    prepare(f, 0, NONE, NONE);
    struct rt_side a = {.pb = f->pb};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, audio_thread, &a), 0);
    char err[REEL_ERRMSG_MAX];
    /* Rounds short enough that prepare often lands while the reader is
     * still topping up after the previous one. */
    for (int round = 0; round < 60; round++) {
        sleep_us(round % 3 ? 2000 : 20000);
        int64_t s = (int64_t)round * 7919 % 50000;
        /* Deliberately without stopping the audio side first. */
        if (round % 5 == 4)
            assert_int_equal(reel_playback_prepare(f->pb, s, s, s + 30000, err), 0);
        else
            assert_int_equal(reel_playback_prepare(f->pb, s, NONE, NONE, err), 0);
        atomic_store(&a.start, s);
        atomic_fetch_add(&a.gen, 1);
        reel_playback_stats st;
        reel_playback_get_stats(f->pb, &st);
        reel_playback_underruns(f->pb, NULL);
        assert_int_equal(reel_playback_reader_status(f->pb, err), 0);
        if (round % 7 == 6)
            reel_playback_stop(f->pb);
    }
    sleep_us(30000);
    atomic_store(&a.stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&a.bad), 0);
    assert_true(atomic_load(&a.good) > 10000);
    assert_true(atomic_load(&a.calls) > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(straight_playback_is_the_file_then_silence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(placed_sources_play_silence_outside_their_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(prepare_in_the_middle_and_again, setup, teardown),
        cmocka_unit_test_setup_teardown(loop_passes_repeat_the_range_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(regions_play_exactly_their_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(underruns_are_counted_silence_and_stay_aligned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unprepared_locates_skip_ahead_or_give_counted_silence,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stereo_and_mono_sources_together, setup, teardown),
        cmocka_unit_test_setup_teardown(any_libsndfile_format_plays, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_are_worded, setup, teardown),
        cmocka_unit_test_setup_teardown(read_errors_are_reported_and_play_as_silence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(prepare_races_a_running_audio_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(comp_switches_crossfade_as_the_render_does, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fade_zones_read_the_files_frames_around_the_region,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(loops_through_fade_zones_and_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(fades_the_file_cannot_give_are_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
