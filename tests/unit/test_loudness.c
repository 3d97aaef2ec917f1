/* test_loudness.c: unit tests for loudness measurement and normalizing
 * (engine/loudness.c over libebur128).
 *
 * Single-threaded. The compliance signals of EBU Tech 3341 (integrated
 * loudness, cases 1-5, +-0.1 LU) and Tech 3342 (loudness range, cases 1-4,
 * +-1 LU) are generated here, stereo 48 kHz 1 kHz sines at the stated level
 * per channel, and fed to a meter in awkward chunk sizes (so the 100 ms
 * hops of the meter never line up with the caller's blocks). True peak is
 * checked on a sine at fs/4 whose samples fall 45 degrees off its crests:
 * every sample is 3.01 dB below the waveform's peak, which only an
 * oversampling meter sees (Tech 3341's tolerance, +0.2/-0.4 dB). Files are
 * written with the engine's writer into a temporary folder, read back and
 * measured; bad files must give the documented messages word for word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "loudness.h"
#include "reel_error.h"
#include "writer.h"

#define RATE 48000
#define PI 3.14159265358979323846

/* A programme: segments of a 1 kHz sine at a level in dBFS per channel
 * (-INFINITY: silence), the phase running on across segments. */
typedef struct segment {
    double db;
    double seconds;
} segment;

typedef struct sine_src {
    const segment *seg;
    size_t nseg;
    size_t i;          /* current segment */
    uint64_t left;     /* frames left in it */
    uint64_t n;        /* frames produced */
    unsigned channels;
    unsigned freq;
    double phase0;     /* radians */
    double amp;        /* of the current segment */
    double table[RATE]; /* sin(2 pi k / RATE + phase0): phases repeat */
    int ready;
} sine_src;

static double amp_of(double db) { return isinf(db) ? 0.0 : pow(10.0, db / 20.0); }

static void src_init(sine_src *s, const segment *seg, size_t nseg, unsigned channels)
{
    memset(s, 0, sizeof *s);
    s->seg = seg;
    s->nseg = nseg;
    s->channels = channels;
    s->freq = 1000;
    s->left = (uint64_t)llround(seg[0].seconds * RATE);
}

/* Up to max frames; 0 at the end. Phases come from (n * f) mod rate, exact
 * in integers however long the programme. */
static size_t src_fill(sine_src *s, float *dst, size_t max)
{
    if (!s->ready) {
        for (unsigned k = 0; k < RATE; k++)
            s->table[k] = sin(2.0 * PI * k / RATE + s->phase0);
        s->amp = amp_of(s->seg[0].db);
        s->ready = 1;
    }
    size_t k = 0;
    while (k < max && s->i < s->nseg) {
        if (s->left == 0) {
            if (++s->i < s->nseg) {
                s->left = (uint64_t)llround(s->seg[s->i].seconds * RATE);
                s->amp = amp_of(s->seg[s->i].db);
            }
            continue;
        }
        float v = (float)(s->amp * s->table[(s->n * s->freq) % RATE]);
        for (unsigned c = 0; c < s->channels; c++)
            dst[k * s->channels + c] = v;
        k++;
        s->n++;
        s->left--;
    }
    return k;
}

/* Feeds the whole programme to a new meter in chunks of varying size. */
static void measure_segments(const segment *seg, size_t nseg, unsigned channels,
                             reel_loudness *out)
{
    reel_loudness_meter *m = NULL;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_loudness_meter_new(&m, channels, RATE, msg);
    if (rc != 0)
        fail_msg("meter_new: %d %s", rc, msg);
    static const size_t chunks[] = { 48000, 1, 4799, 65536, 333, 12000 };
    float *buf = malloc(65536 * channels * sizeof *buf);
    assert_non_null(buf);
    static sine_src s; /* its phase table is too big for the stack */
    src_init(&s, seg, nseg, channels);
    size_t got, k = 0;
    while ((got = src_fill(&s, buf, chunks[k++ % 6])) > 0)
        assert_int_equal(reel_loudness_meter_add(m, buf, got), 0);
    reel_loudness_meter_result(m, out);
    reel_loudness_meter_free(m);
    free(buf);
}

static void assert_near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: %.3f, expected %.3f +- %.2f", what, got, want, tol);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- EBU Tech 3341, integrated loudness -------------------------------- */

static void test_tech3341_cases_1_to_5(void **state)
{
    (void)state;
    static const segment c1[] = { { -23, 20 } };
    static const segment c2[] = { { -33, 20 } };
    static const segment c3[] = { { -36, 10 }, { -23, 60 }, { -36, 10 } };
    static const segment c4[] = { { -72, 10 }, { -36, 10 }, { -23, 60 }, { -36, 10 }, { -72, 10 } };
    static const segment c5[] = { { -26, 20 }, { -20, 20.1 }, { -26, 20 } };
    struct { const segment *s; size_t n; double want; } cases[] = {
        { c1, N(c1), -23.0 }, { c2, N(c2), -33.0 }, { c3, N(c3), -23.0 },
        { c4, N(c4), -23.0 }, { c5, N(c5), -23.0 },
    };
    for (size_t i = 0; i < N(cases); i++) {
        reel_loudness r;
        measure_segments(cases[i].s, cases[i].n, 2, &r);
        char what[64];
        snprintf(what, sizeof what, "Tech 3341 case %zu integrated", i + 1);
        assert_near(r.integrated, cases[i].want, 0.1, what);
        assert_int_equal(r.channels, 2);
        assert_int_equal(r.rate, RATE);
        if (i == 0) {
            /* Steady: maxima at the level, no loudness range. */
            assert_near(r.momentary_max, -23.0, 0.1, "case 1 momentary max");
            assert_near(r.short_term_max, -23.0, 0.1, "case 1 short-term max");
            assert_near(r.range, 0.0, 0.1, "case 1 range");
            assert_int_equal(r.frames, 20 * RATE);
        } else if (i == 4) {
            /* The louder middle sets both maxima and the sample peak. */
            assert_near(r.momentary_max, -20.0, 0.1, "case 5 momentary max");
            assert_near(r.short_term_max, -20.0, 0.1, "case 5 short-term max");
            assert_near(r.sample_peak, -20.0, 0.01, "case 5 sample peak");
        }
    }
}

/* ---- EBU Tech 3342, loudness range ------------------------------------- */

static void test_tech3342_cases_1_to_4(void **state)
{
    (void)state;
    static const segment c1[] = { { -20, 20 }, { -30, 20 } };
    static const segment c2[] = { { -20, 20 }, { -15, 20 } };
    static const segment c3[] = { { -40, 20 }, { -20, 20 } };
    static const segment c4[] = { { -50, 20 }, { -35, 20 }, { -20, 20 }, { -35, 20 }, { -50, 20 } };
    struct { const segment *s; size_t n; double want; } cases[] = {
        { c1, N(c1), 10.0 }, { c2, N(c2), 5.0 }, { c3, N(c3), 20.0 }, { c4, N(c4), 15.0 },
    };
    for (size_t i = 0; i < N(cases); i++) {
        reel_loudness r;
        measure_segments(cases[i].s, cases[i].n, 2, &r);
        char what[64];
        snprintf(what, sizeof what, "Tech 3342 case %zu range", i + 1);
        assert_near(r.range, cases[i].want, 1.0, what);
    }
}

/* ---- true peak ----------------------------------------------------------- */

/* fs/4 at 45 degrees: samples +-A*sin(45) = A - 3.01 dB, crests at A. */
static void test_true_peak_between_samples(void **state)
{
    (void)state;
    static const segment s[] = { { -6.0, 2 } };
    static sine_src src;
    src_init(&src, s, 1, 2);
    src.freq = RATE / 4;
    src.phase0 = PI / 4;
    reel_loudness_meter *m = NULL;
    assert_int_equal(reel_loudness_meter_new(&m, 2, RATE, NULL), 0);
    float buf[4096 * 2];
    size_t got;
    while ((got = src_fill(&src, buf, 4096)) > 0)
        assert_int_equal(reel_loudness_meter_add(m, buf, got), 0);
    reel_loudness r;
    reel_loudness_meter_result(m, &r);
    reel_loudness_meter_free(m);
    assert_near(r.sample_peak, -6.0 - 3.0103, 0.01, "sample peak");
    /* Tech 3341: true peak within +0.2 / -0.4 dB of the real one. */
    if (!(r.true_peak <= -6.0 + 0.2 && r.true_peak >= -6.0 - 0.4))
        fail_msg("true peak %.3f dBTP, expected -6.0 (+0.2/-0.4)", r.true_peak);
    assert_true(r.peak_channel >= 1 && r.peak_channel <= 2);
}

/* One channel heard from both loudspeakers: a mono -23 dBFS sine reads as
 * the stereo file with it in both channels (dual mono), not 3 LU lower. */
static void test_mono_is_dual_mono(void **state)
{
    (void)state;
    static const segment c1[] = { { -23, 20 } };
    reel_loudness r;
    measure_segments(c1, N(c1), 1, &r);
    assert_near(r.integrated, -23.0, 0.1, "mono integrated");
    assert_int_equal(r.channels, 1);
}

static void test_silence_is_too_quiet(void **state)
{
    (void)state;
    static const segment quiet[] = { { -INFINITY, 5 } };
    reel_loudness r;
    measure_segments(quiet, 1, 2, &r);
    assert_true(isinf(r.integrated) && r.integrated < 0);
    assert_true(isinf(r.true_peak) && r.true_peak < 0);
    assert_true(isinf(r.sample_peak) && r.sample_peak < 0);
    assert_int_equal(r.peak_channel, 0);
    assert_near(r.range, 0.0, 0.0, "range of silence");
    /* Under the -70 LUFS absolute gate is "too quiet" too. */
    static const segment low[] = { { -75, 5 } };
    measure_segments(low, 1, 2, &r);
    assert_true(isinf(r.integrated) && r.integrated < 0);
    assert_near(r.true_peak, -75.0, 0.2, "true peak of a -75 dBFS sine");
}

static void test_meter_rejects_bad_shapes(void **state)
{
    (void)state;
    reel_loudness_meter *m = (reel_loudness_meter *)1;
    char msg[REEL_ERRMSG_MAX];
    assert_int_equal(reel_loudness_meter_new(&m, 0, RATE, msg), REEL_EINVAL);
    assert_null(m);
    assert_string_equal(msg, "loudness: 0 channels cannot be measured (1 to 64 can)");
    assert_int_equal(reel_loudness_meter_new(&m, 2, 100, msg), REEL_EINVAL);
    assert_string_equal(msg,
                        "loudness: a rate of 100 Hz cannot be measured (8000 to 768000 Hz can)");
}

/* ---- files ----------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    char path[REEL_ERRMSG_MAX / 4];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/reel-loudness.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static const char *in_dir(fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    return f->path;
}

/* Writes a programme into a new file with the engine's writer. */
static void write_segments(const char *path, reel_format fmt, const segment *seg, size_t nseg,
                           unsigned channels, unsigned freq, double phase0)
{
    reel_writer_config cfg = { .path = path, .format = fmt, .rate = RATE, .channels = channels };
    reel_writer *w = NULL;
    char msg[REEL_ERRMSG_MAX] = "";
    if (reel_writer_open(&w, &cfg, msg) != 0)
        fail_msg("writer: %s", msg);
    static sine_src s; /* its phase table is too big for the stack */
    src_init(&s, seg, nseg, channels);
    s.freq = freq;
    s.phase0 = phase0;
    float buf[4800 * 2];
    assert_true(channels <= 2);
    size_t got;
    while ((got = src_fill(&s, buf, 4800)) > 0)
        assert_int_equal(reel_writer_write(w, buf, got), 0);
    assert_int_equal(reel_writer_close(w), 0);
}

static void test_file_measures(void **state)
{
    fixture *f = *state;
    static const segment c1[] = { { -23, 20 } };
    char wav[256], flac[256];
    snprintf(wav, sizeof wav, "%s", in_dir(f, "c1.wav"));
    snprintf(flac, sizeof flac, "%s", in_dir(f, "c1.flac"));
    write_segments(wav, REEL_FORMAT_WAV24, c1, 1, 2, 1000, 0);
    write_segments(flac, REEL_FORMAT_FLAC, c1, 1, 1, 1000, 0);
    reel_loudness r;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_loudness_measure_file(wav, &r, msg);
    if (rc != 0)
        fail_msg("%s", msg);
    assert_near(r.integrated, -23.0, 0.1, "wav integrated");
    assert_int_equal(r.frames, 20 * RATE);
    assert_int_equal(r.channels, 2);
    assert_near(r.true_peak, -23.0, 0.2, "wav true peak");
    rc = reel_loudness_measure_file(flac, &r, msg);
    if (rc != 0)
        fail_msg("%s", msg);
    assert_near(r.integrated, -23.0, 0.1, "mono flac integrated");
    assert_int_equal(r.channels, 1);
}

static void test_file_errors(void **state)
{
    fixture *f = *state;
    reel_loudness r;
    char msg[REEL_ERRMSG_MAX], want[REEL_ERRMSG_MAX + 64];

    const char *missing = in_dir(f, "missing.wav");
    assert_int_equal(reel_loudness_measure_file(missing, &r, msg), REEL_ENOTFOUND);
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(msg, want);
    assert_true(isinf(r.integrated));

    const char *text = in_dir(f, "notes.wav");
    FILE *fp = fopen(text, "w");
    assert_non_null(fp);
    fputs("these are not samples, only words that happen to end in .wav\n", fp);
    fclose(fp);
    assert_int_equal(reel_loudness_measure_file(text, &r, msg), REEL_EFORMAT);
    snprintf(want, sizeof want, "%s: not a sound file (libsndfile: Format not recognised)", text);
    assert_string_equal(msg, want);

    assert_int_equal(reel_loudness_measure_file(f->dir, &r, msg), REEL_EFORMAT);
    snprintf(want, sizeof want, "%s: a folder, not a sound file", f->dir);
    assert_string_equal(msg, want);

    /* A WAV cut in the middle of its samples: 48000 frames of 6 bytes
     * promised, the header and 1000 frames' worth kept. */
    static const segment one[] = { { -20, 1 } };
    char cut[256];
    snprintf(cut, sizeof cut, "%s", in_dir(f, "cut.wav"));
    write_segments(cut, REEL_FORMAT_WAV24, one, 1, 2, 1000, 0);
    SF_INFO si = { 0 };
    SNDFILE *sf = sf_open(cut, SFM_READ, &si);
    assert_non_null(sf);
    assert_int_equal(si.frames, 48000);
    sf_close(sf);
    fp = fopen(cut, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long long header = ftell(fp) - 48000LL * 6;
    fclose(fp);
    assert_true(header > 0);
    assert_int_equal(truncate(cut, header + 1000 * 6), 0);
    assert_int_equal(reel_loudness_measure_file(cut, &r, msg), REEL_EIO);
    snprintf(want, sizeof want,
             "%s: truncated: the header promises 48000 frames, only 1000 are there", cut);
    assert_string_equal(msg, want);

    /* A FLAC cut short: the stream info promises all its frames. */
    char cutflac[256];
    snprintf(cutflac, sizeof cutflac, "%s", in_dir(f, "cut.flac"));
    static const segment ten[] = { { -20, 10 } };
    write_segments(cutflac, REEL_FORMAT_FLAC, ten, 1, 1, 1000, 0);
    fp = fopen(cutflac, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long fsize = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(cutflac, fsize / 2), 0);
    assert_int_equal(reel_loudness_measure_file(cutflac, &r, msg), REEL_EIO);
    snprintf(want, sizeof want,
             "%s: truncated or damaged: the header promises 480000 frames, only ", cutflac);
    if (strncmp(msg, want, strlen(want)) != 0 || !strstr(msg, " could be decoded"))
        fail_msg("got '%s'", msg);

    /* A FLAC stream garbled inside: libsndfile's decoder stops at the
     * damage without an error; the frame count gives it away. */
    char bad[256];
    snprintf(bad, sizeof bad, "%s", in_dir(f, "bad.flac"));
    write_segments(bad, REEL_FORMAT_FLAC, ten, 1, 1, 1000, 0);
    fp = fopen(bad, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    fsize = ftell(fp);
    fseek(fp, fsize / 2, SEEK_SET);
    for (int i = 0; i < 4096; i++)
        fputc(0xff, fp);
    fclose(fp);
    assert_int_equal(reel_loudness_measure_file(bad, &r, msg), REEL_EIO);
    snprintf(want, sizeof want,
             "%s: truncated or damaged: the header promises 480000 frames, only 237568 could "
             "be decoded", bad);
    assert_string_equal(msg, want);
}

/* ---- normalizing --------------------------------------------------------- */

static void test_normalize_reaches_target(void **state)
{
    fixture *f = *state;
    static const segment quiet[] = { { -30, 10 } };
    char in[256], out[256];
    snprintf(in, sizeof in, "%s", in_dir(f, "quiet.wav"));
    snprintf(out, sizeof out, "%s", in_dir(f, "quiet-14.wav"));
    write_segments(in, REEL_FORMAT_WAV24, quiet, 1, 2, 1000, 0);
    reel_loudness_normalized res;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_loudness_normalize(in, out, -14.0, -1.0, &res, msg);
    if (rc != 0)
        fail_msg("%s", msg);
    assert_near(res.before.integrated, -30.0, 0.1, "before");
    assert_near(res.target_gain_db, -14.0 - res.before.integrated, 1e-9, "target gain");
    assert_near(res.ceiling_gain_db, -1.0 - res.before.true_peak, 1e-9, "ceiling gain");
    assert_near(res.gain_db, res.target_gain_db, 1e-9, "gain applied");
    assert_int_equal(res.limited, 0);
    /* Measured again from the file, independently of the result struct. */
    reel_loudness again;
    assert_int_equal(reel_loudness_measure_file(out, &again, msg), 0);
    assert_near(again.integrated, -14.0, 0.1, "after integrated");
    assert_near(again.integrated, res.after.integrated, 1e-9, "after as reported");
    assert_true(again.true_peak <= -1.0);
    assert_int_equal(again.frames, res.before.frames);
    /* 24-bit in, 24-bit out. */
    SF_INFO si = { 0 };
    SNDFILE *sf = sf_open(out, SFM_READ, &si);
    assert_non_null(sf);
    sf_close(sf);
    assert_int_equal(si.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
}

/* A quiet programme with loud inter-sample peaks: the ceiling wins, the
 * result stays under it (measured again) and below the target. */
static void test_normalize_never_over_ceiling(void **state)
{
    fixture *f = *state;
    static const segment s[] = { { -30, 10 }, { -6, 0.1 } };
    char in[256], out[256], flac[256];
    snprintf(in, sizeof in, "%s", in_dir(f, "peaky.wav"));
    snprintf(out, sizeof out, "%s", in_dir(f, "peaky-14.wav"));
    snprintf(flac, sizeof flac, "%s", in_dir(f, "peaky-14.flac"));
    /* fs/4 at 45 degrees, true peaks 3 dB above every sample: 10 s at
     * -30 dBFS then a 0.1 s burst at -6 dBFS that sets the true peak. About
     * -21 LUFS with a -6 dBTP peak, so -14 LUFS cannot be reached under a
     * -1 dBTP ceiling (a sample-peak normalizer would go 3 dB over it). */
    write_segments(in, REEL_FORMAT_WAV32F, s, N(s), 2, RATE / 4, PI / 4);
    reel_loudness_normalized res;
    char msg[REEL_ERRMSG_MAX] = "";
    int rc = reel_loudness_normalize(in, out, -14.0, -1.0, &res, msg);
    if (rc != 0)
        fail_msg("%s", msg);
    assert_int_equal(res.limited, 1);
    assert_true(res.gain_db <= res.ceiling_gain_db);
    assert_true(res.gain_db < res.target_gain_db);
    reel_loudness again;
    assert_int_equal(reel_loudness_measure_file(out, &again, msg), 0);
    if (!(again.true_peak <= -1.0))
        fail_msg("true peak %.4f dBTP over the -1 dBTP ceiling", again.true_peak);
    assert_near(again.true_peak, -1.0, 0.05, "true peak just under the ceiling");
    assert_true(again.integrated < -14.0);
    /* Float in: float out. */
    SF_INFO si = { 0 };
    SNDFILE *sf = sf_open(out, SFM_READ, &si);
    assert_non_null(sf);
    sf_close(sf);
    assert_int_equal(si.format & SF_FORMAT_SUBMASK, SF_FORMAT_FLOAT);
    /* FLAC out (24-bit integers) holds the ceiling as well. */
    rc = reel_loudness_normalize(in, flac, -14.0, -1.0, &res, msg);
    if (rc != 0)
        fail_msg("%s", msg);
    assert_int_equal(reel_loudness_measure_file(flac, &again, msg), 0);
    if (!(again.true_peak <= -1.0))
        fail_msg("flac true peak %.4f dBTP over the ceiling", again.true_peak);
    sf = sf_open(flac, SFM_READ, &si);
    assert_non_null(sf);
    sf_close(sf);
    assert_int_equal(si.format & SF_FORMAT_TYPEMASK, SF_FORMAT_FLAC);
}

static void test_normalize_errors(void **state)
{
    fixture *f = *state;
    char in[256], out[256], quiet[256], want[REEL_ERRMSG_MAX + 64];
    char msg[REEL_ERRMSG_MAX] = "";
    static const segment s[] = { { -30, 2 } };
    snprintf(in, sizeof in, "%s", in_dir(f, "in.wav"));
    snprintf(out, sizeof out, "%s", in_dir(f, "taken.wav"));
    write_segments(in, REEL_FORMAT_WAV24, s, 1, 2, 1000, 0);
    FILE *fp = fopen(out, "w");
    assert_non_null(fp);
    fputs("mine", fp);
    fclose(fp);
    assert_int_equal(reel_loudness_normalize(in, out, -14, -1, NULL, msg), REEL_EEXIST);
    snprintf(want, sizeof want, "%s: file exists; not replacing it", out);
    assert_string_equal(msg, want);
    char back[8] = "";
    fp = fopen(out, "r");
    assert_non_null(fp);
    assert_non_null(fgets(back, sizeof back, fp));
    fclose(fp);
    assert_string_equal(back, "mine");

    static const segment silent[] = { { -INFINITY, 2 } };
    snprintf(quiet, sizeof quiet, "%s", in_dir(f, "silent.wav"));
    write_segments(quiet, REEL_FORMAT_WAV24, silent, 1, 2, 1000, 0);
    assert_int_equal(reel_loudness_normalize(quiet, in_dir(f, "x.wav"), -14, -1, NULL, msg),
                     REEL_EINVAL);
    snprintf(want, sizeof want, "%s: too quiet to measure; nothing to normalize to", quiet);
    assert_string_equal(msg, want);
    assert_int_equal(access(in_dir(f, "x.wav"), F_OK), -1);

    const char *missing = in_dir(f, "nope.wav");
    char missing_copy[256];
    snprintf(missing_copy, sizeof missing_copy, "%s", missing);
    assert_int_equal(reel_loudness_normalize(missing_copy, in_dir(f, "y.wav"), -14, -1, NULL, msg),
                     REEL_ENOTFOUND);
    snprintf(want, sizeof want, "%s: No such file or directory", missing_copy);
    assert_string_equal(msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tech3341_cases_1_to_5),
        cmocka_unit_test(test_tech3342_cases_1_to_4),
        cmocka_unit_test(test_true_peak_between_samples),
        cmocka_unit_test(test_mono_is_dual_mono),
        cmocka_unit_test(test_silence_is_too_quiet),
        cmocka_unit_test(test_meter_rejects_bad_shapes),
        cmocka_unit_test_setup_teardown(test_file_measures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalize_reaches_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalize_never_over_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalize_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
