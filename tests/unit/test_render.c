/* test_render.c: unit tests for the offline mix (engine/render.c).
 *
 * Take files are written here with libsndfile from integer 24-bit values;
 * renders are read back with libsndfile and compared with what this file
 * computes independently: the mix against a double-precision sum with the
 * pan law written out again here (within one 24-bit LSB), stems sample for
 * sample against their sources, variants by the DC level of each section,
 * crossfades by the largest sample-to-sample step at an edit, comp-switch
 * crossfades sample by sample against the equal-power formula written out
 * here (takes of known constant levels), errors word for word. Each test
 * gets a fresh mkdtemp directory, removed in teardown.
 *
 * Threads: single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reel_error.h"
#include "render.h"

#define RATE 48000u
#define LSB (1.0 / 8388608.0)

struct fx {
    char dir[PATH_MAX / 2];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/reel-render-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* dir/name, in one of a few rotating static buffers. */
static const char *in_dir(void **state, const char *name)
{
    static char bufs[8][PATH_MAX];
    static unsigned next;
    struct fx *f = *state;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, PATH_MAX, "%s/%s", f->dir, name);
    if (n < 0 || n >= PATH_MAX)
        abort();
    return b;
}

/* A deterministic 24-bit value below a quarter of full scale. */
static int32_t noise24(uint64_t i, unsigned seed)
{
    uint64_t z = i * 0x9e3779b97f4a7c15ull + seed * 0xbf58476d1ce4e5b9ull + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (int32_t)(z & 0x3fffff) - 0x200000;
}

/* Writes a PCM-24 WAV of frames x channels values from fn. */
static void write_take(const char *path, unsigned rate, unsigned channels, uint64_t frames,
                       int32_t (*fn)(uint64_t frame, unsigned ch, void *u), void *u)
{
    SF_INFO info = { .samplerate = (int)rate, .channels = (int)channels,
                     .format = SF_FORMAT_WAV | SF_FORMAT_PCM_24 };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    int *buf = malloc(frames * channels * sizeof *buf + 1);
    assert_non_null(buf);
    for (uint64_t i = 0; i < frames; i++)
        for (unsigned c = 0; c < channels; c++)
            buf[i * channels + c] = fn(i, c, u) * 256;
    assert_int_equal(sf_writef_int(sf, buf, (sf_count_t)frames), (sf_count_t)frames);
    free(buf);
    assert_int_equal(sf_close(sf), 0);
}

/* Reads a whole file as 24-bit integers; *frames and *channels out. */
static int32_t *read_all(const char *path, uint64_t *frames, unsigned *channels)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    int32_t *buf = malloc((size_t)info.frames * (size_t)info.channels * sizeof *buf + 4);
    assert_non_null(buf);
    assert_int_equal(sf_readf_int(sf, buf, info.frames), info.frames);
    for (sf_count_t i = 0; i < info.frames * info.channels; i++)
        buf[i] /= 256;
    *frames = (uint64_t)info.frames;
    *channels = (unsigned)info.channels;
    sf_close(sf);
    return buf;
}

static int32_t fn_noise(uint64_t i, unsigned ch, void *u)
{
    return noise24(i, (unsigned)(uintptr_t)u * 7 + ch);
}

static int32_t fn_dc_sections(uint64_t i, unsigned ch, void *u)
{
    (void)ch;
    (void)u;
    /* 0.1, 0.2, 0.3, 0.4 of full scale in four runs of 1000 frames */
    return (int32_t)lround((double)(i / 1000 + 1) * 0.1 * 8388608.0);
}

/* Files in the fixture directory, for "nothing left behind" checks. */
static int count_files(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- pan law ----------------------------------------------------------- */

static void test_pan_law(void **state)
{
    (void)state;
    double l, r;
    reel_render_gains(1, 0.0, 0.0, &l, &r);
    assert_true(fabs(l - sqrt(0.5)) < 1e-12 && fabs(r - sqrt(0.5)) < 1e-12); /* -3.01 dB */
    reel_render_gains(1, 0.0, -1.0, &l, &r);
    assert_true(fabs(l - 1.0) < 1e-12 && fabs(r) < 1e-12);
    reel_render_gains(1, 0.0, 1.0, &l, &r);
    assert_true(fabs(l) < 1e-12 && fabs(r - 1.0) < 1e-12);
    reel_render_gains(1, 0.0, 0.5, &l, &r);
    assert_true(fabs(l * l + r * r - 1.0) < 1e-12);             /* constant power */
    assert_true(fabs(l - cos(3 * M_PI / 8)) < 1e-12);
    reel_render_gains(1, -20.0 * log10(2.0), -1.0, &l, &r);
    assert_true(fabs(l - 0.5) < 1e-12);                          /* -6.02 dB halves */
    reel_render_gains(2, 0.0, 0.0, &l, &r);
    assert_true(l == 1.0 && r == 1.0);                           /* balance: unity */
    reel_render_gains(2, 0.0, 0.5, &l, &r);
    assert_true(fabs(l - sqrt(0.5)) < 1e-12 && r == 1.0);
    reel_render_gains(2, 6.0, -1.0, &l, &r);
    assert_true(fabs(l - pow(10, 0.3)) < 1e-12 && fabs(r) < 1e-12);
}

/* ---- the mix ----------------------------------------------------------- */

struct mixcase {
    const char *name;
    unsigned channels;
    double gain_db, pan;
    int mute, solo;
    int64_t at;
    uint64_t offset, frames, file_frames;
    unsigned seed;
};

/* The expected gains, written out independently of render.c. */
static void expect_gains(const struct mixcase *m, double *gl, double *gr)
{
    double g = exp(m->gain_db * log(10.0) / 20.0);
    if (m->channels == 1) {
        double angle = (m->pan + 1.0) * M_PI / 4.0;
        *gl = g * cos(angle);
        *gr = g * sin(angle);
    } else {
        *gl = m->pan > 0 ? g * cos(m->pan * M_PI / 2.0) : g;
        *gr = m->pan < 0 ? g * cos(m->pan * M_PI / 2.0) : g;
    }
}

static void run_mix_case(void **state, struct mixcase *cases, size_t n, uint64_t frames,
                         const char *out_name)
{
    reel_render_track tracks[8];
    reel_render_region regions[8];
    char paths[8][PATH_MAX];
    int any_solo = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s", in_dir(state, cases[i].name));
        write_take(paths[i], RATE, cases[i].channels, cases[i].file_frames, fn_noise,
                   (void *)(uintptr_t)cases[i].seed);
        regions[i] = (reel_render_region){ paths[i], cases[i].name, cases[i].at, cases[i].offset,
                                           cases[i].frames };
        tracks[i] = (reel_render_track){ cases[i].name, cases[i].channels, cases[i].gain_db,
                                         cases[i].pan, cases[i].mute, cases[i].solo, &regions[i],
                                         1, NULL };
        any_solo |= cases[i].solo;
    }
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV24, .frames = frames,
                               .tracks = tracks, .ntracks = n,
                               .mix_path = in_dir(state, out_name) };
    reel_render_result res;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_render_run(&cfg, &res, err);
    if (rc != 0)
        fail_msg("render failed: %s", err);
    assert_int_equal(res.frames, frames);
    assert_int_equal(res.clipped, 0);

    uint64_t got_frames;
    unsigned ch;
    int32_t *got = read_all(cfg.mix_path, &got_frames, &ch);
    assert_int_equal(got_frames, frames);
    assert_int_equal(ch, 2);
    double worst = 0, peak = 0;
    unsigned heard = 0;
    for (size_t i = 0; i < n; i++)
        heard += any_solo ? cases[i].solo != 0 : !cases[i].mute;
    assert_int_equal(res.heard, heard);
    for (uint64_t t = 0; t < frames; t++) {
        double e[2] = { 0, 0 };
        for (size_t i = 0; i < n; i++) {
            const struct mixcase *m = &cases[i];
            if (any_solo ? !m->solo : m->mute)
                continue;
            if ((int64_t)t < m->at || (int64_t)t >= m->at + (int64_t)m->frames)
                continue;
            uint64_t fi = m->offset + (t - (uint64_t)m->at);
            double gl, gr;
            expect_gains(m, &gl, &gr);
            if (m->channels == 1) {
                double x = noise24(fi, m->seed * 7) * LSB;
                e[0] += gl * x;
                e[1] += gr * x;
            } else {
                e[0] += gl * noise24(fi, m->seed * 7) * LSB;
                e[1] += gr * noise24(fi, m->seed * 7 + 1) * LSB;
            }
        }
        for (int c = 0; c < 2; c++) {
            double d = fabs(got[2 * t + (uint64_t)c] - e[c] * 8388608.0);
            if (d > worst)
                worst = d;
            if (fabs(e[c]) > peak)
                peak = fabs(e[c]);
        }
    }
    free(got);
    if (worst > 1.0)
        fail_msg("mix differs from the sum by %.3f LSB", worst);
    assert_true(fabs(res.peak - peak) < 1e-6);
}

static void test_mix_equals_sum(void **state)
{
    struct mixcase cases[] = {
        { "Kick.wav", 1, 0.0, 0.0, 0, 0, 0, 0, 30000, 30000, 1 },
        { "Bass.wav", 1, -6.0, -0.4, 0, 0, 5000, 1000, 20000, 21000, 2 },
        { "Keys.wav", 2, -3.0, 0.7, 0, 0, 12345, 0, 25000, 25000, 3 },
        { "Gtr.wav", 1, 2.5, 1.0, 0, 0, 70000, 100, 30000, 30100, 4 },   /* across blocks */
        { "Click.wav", 1, 0.0, 0.0, 1, 0, 0, 0, 30000, 30000, 5 },        /* muted */
    };
    run_mix_case(state, cases, 5, 110000, "mix.wav");
}

static void test_solo(void **state)
{
    struct mixcase cases[] = {
        { "A.wav", 1, 0.0, -0.3, 0, 1, 0, 0, 20000, 20000, 1 },
        { "B.wav", 2, -2.0, -0.5, 1, 1, 100, 0, 10000, 10000, 2 },   /* muted, soloed: heard */
        { "C.wav", 1, 0.0, 0.0, 0, 0, 0, 0, 20000, 20000, 3 },       /* not soloed: silent */
    };
    run_mix_case(state, cases, 3, 20000, "solo.wav");
}

/* ---- stems ------------------------------------------------------------- */

static void test_stems_aligned(void **state)
{
    const char *pa = in_dir(state, "Vox_T01.wav");
    const char *pb = in_dir(state, "Pads_T02.wav");
    write_take(pa, RATE, 1, 50000, fn_noise, (void *)(uintptr_t)11);
    write_take(pb, RATE, 1, 40000, fn_noise, (void *)(uintptr_t)12);
    /* Vox: two comp regions of the same take file; Pads: one mono file in
     * a stereo track, starting late. */
    reel_render_region ra[2] = { { pa, "Vox take 1", 1000, 1000, 9000 },
                                 { pa, "Vox take 1", 20000, 20000, 10000 } };
    reel_render_region rb[1] = { { pb, "Pads take 2", 80000, 0, 40000 } };
    char sa[PATH_MAX], sb[PATH_MAX];
    snprintf(sa, sizeof sa, "%s", in_dir(state, "Vox.wav"));
    snprintf(sb, sizeof sb, "%s", in_dir(state, "Pads.wav"));
    reel_render_track tracks[2] = {
        { "Vox", 1, -10.0, 0.5, 1, 0, ra, 2, sa },   /* stems ignore gain, pan, mute */
        { "Pads", 2, 0.0, 0.0, 0, 0, rb, 1, sb },
    };
    const uint64_t frames = 120000;
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV24, .frames = frames,
                               .tracks = tracks, .ntracks = 2,
                               .mix_path = in_dir(state, "mix.wav") };
    char err[REEL_ERRMSG_MAX] = "";
    reel_render_result res;
    if (reel_render_run(&cfg, &res, err) != 0)
        fail_msg("render failed: %s", err);
    uint64_t fa, fb, fm;
    unsigned ca, cb, cm;
    int32_t *a = read_all(sa, &fa, &ca);
    int32_t *b = read_all(sb, &fb, &cb);
    int32_t *m = read_all(cfg.mix_path, &fm, &cm);
    assert_int_equal(fa, frames);
    assert_int_equal(fb, frames);
    assert_int_equal(fm, frames);
    assert_int_equal(ca, 1);
    assert_int_equal(cb, 2);
    for (uint64_t t = 0; t < frames; t++) {
        int32_t want = 0;
        if (t >= 1000 && t < 10000)
            want = noise24(t - 1000 + 1000, 11 * 7);
        else if (t >= 20000 && t < 30000)
            want = noise24(t, 11 * 7);
        if (a[t] != want)
            fail_msg("Vox stem frame %llu: %d, want %d", (unsigned long long)t, a[t], want);
        int32_t wb = t >= 80000 ? noise24(t - 80000, 12 * 7) : 0;
        if (b[2 * t] != wb || b[2 * t + 1] != wb)
            fail_msg("Pads stem frame %llu: %d %d, want %d", (unsigned long long)t, b[2 * t],
                     b[2 * t + 1], wb);
        /* Vox is muted: the mix is Pads alone, at unity on both sides. */
        if (abs(m[2 * t] - wb) > 1 || abs(m[2 * t + 1] - wb) > 1)
            fail_msg("mix frame %llu", (unsigned long long)t);
    }
    free(a);
    free(b);
    free(m);

    /* The bext time reference of every output is the one asked for (0). */
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(sb, SFM_READ, &info);
    assert_non_null(sf);
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    assert_int_equal(sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
    assert_int_equal(bi.time_reference_low, 0);
    assert_int_equal(bi.time_reference_high, 0);
    sf_close(sf);
    assert_int_equal(count_files(state), 5);   /* 2 takes, 2 stems, mix: no leftovers */
}

/* Takes in other formats go through libsndfile (FLAC, 16-bit), the rest
 * through the fast PCM-24 / float path; a stereo file in a mono track is
 * averaged, a mono file in a stereo track plays on both channels. */
static void write_take_fmt(const char *path, int format, unsigned channels, uint64_t frames,
                           unsigned seed)
{
    SF_INFO info = { .samplerate = RATE, .channels = (int)channels, .format = format };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    int *buf = malloc(frames * channels * sizeof *buf);
    float *fbuf = malloc(frames * channels * sizeof *fbuf);
    assert_true(buf && fbuf);
    for (uint64_t i = 0; i < frames * channels; i++) {
        buf[i] = noise24(i, seed) * 256;
        fbuf[i] = (float)noise24(i, seed) / 8388608.0f;
    }
    /* libsndfile does not scale ints into float files: write floats there. */
    if ((format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT)
        assert_int_equal(sf_writef_float(sf, fbuf, (sf_count_t)frames), (sf_count_t)frames);
    else
        assert_int_equal(sf_writef_int(sf, buf, (sf_count_t)frames), (sf_count_t)frames);
    free(buf);
    free(fbuf);
    assert_int_equal(sf_close(sf), 0);
}

static void test_formats_and_channels(void **state)
{
    char flac[PATH_MAX], pcm16[PATH_MAX], f32[PATH_MAX], st[PATH_MAX];
    snprintf(flac, sizeof flac, "%s", in_dir(state, "A_T01.flac"));
    snprintf(pcm16, sizeof pcm16, "%s", in_dir(state, "B_T01.wav"));
    snprintf(f32, sizeof f32, "%s", in_dir(state, "C_T01.wav"));
    snprintf(st, sizeof st, "%s", in_dir(state, "D_T01.wav"));
    write_take_fmt(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1, 70000, 21);
    write_take_fmt(pcm16, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 70000, 22);
    write_take_fmt(f32, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2, 70000, 23);
    write_take_fmt(st, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2, 70000, 24);
    reel_render_region ra = { flac, "A take 1", 100, 50, 69000 };
    reel_render_region rb = { pcm16, "B take 1", 0, 0, 70000 };
    reel_render_region rc = { f32, "C take 1", 0, 0, 70000 };
    reel_render_region rd = { st, "D take 1", 0, 10, 69990 };
    char stems[4][PATH_MAX];
    const char *names[4] = { "A.wav", "B.wav", "C.wav", "D.wav" };
    for (int i = 0; i < 4; i++)
        snprintf(stems[i], sizeof stems[i], "%s", in_dir(state, names[i]));
    reel_render_track tracks[4] = {
        { "A", 2, 0, 0, 0, 0, &ra, 1, stems[0] },  /* mono FLAC in a stereo track */
        { "B", 1, 0, 0, 0, 0, &rb, 1, stems[1] },
        { "C", 2, 0, 0, 0, 0, &rc, 1, stems[2] },
        { "D", 1, 0, 0, 0, 0, &rd, 1, stems[3] },  /* stereo file in a mono track */
    };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV32F, .frames = 70000,
                               .tracks = tracks, .ntracks = 4 };
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_render_run(&cfg, NULL, err) != 0)
        fail_msg("render failed: %s", err);
    float *x[4];
    for (int i = 0; i < 4; i++) {
        SF_INFO info;
        memset(&info, 0, sizeof info);
        SNDFILE *sf = sf_open(stems[i], SFM_READ, &info);
        assert_non_null(sf);
        assert_int_equal(info.frames, 70000);
        x[i] = malloc(70000 * 2 * sizeof *x[i]);
        assert_int_equal(sf_readf_float(sf, x[i], 70000), 70000);
        sf_close(sf);
    }
    for (uint64_t t = 0; t < 70000; t++) {
        float a = t >= 100 && t < 69100 ? (float)noise24(t - 100 + 50, 21) / 8388608.0f : 0.0f;
        float b = (float)((noise24(t, 22) * 256) >> 16) / 32768.0f;     /* 16 bits kept */
        float c0 = (float)noise24(2 * t, 23) / 8388608.0f, c1 = (float)noise24(2 * t + 1, 23) / 8388608.0f;
        float d = t < 69990 ? 0.5f * ((float)noise24(2 * (t + 10), 24) / 8388608.0f
                                      + (float)noise24(2 * (t + 10) + 1, 24) / 8388608.0f)
                            : 0.0f;
        if (x[0][2 * t] != a || x[0][2 * t + 1] != a)
            fail_msg("FLAC stem frame %llu", (unsigned long long)t);
        if (x[1][t] != b)
            fail_msg("16-bit stem frame %llu: %f, want %f", (unsigned long long)t, x[1][t], b);
        if (x[2][2 * t] != c0 || x[2][2 * t + 1] != c1)
            fail_msg("float stem frame %llu", (unsigned long long)t);
        if (fabsf(x[3][t] - d) > 1e-7f)
            fail_msg("averaged stem frame %llu", (unsigned long long)t);
    }
    for (int i = 0; i < 4; i++)
        free(x[i]);
}

/* ---- variants ---------------------------------------------------------- */

static double level_at(const int32_t *x, unsigned ch, uint64_t t)
{
    return x[t * ch] * LSB;
}

static void test_variant_order_and_crossfade(void **state)
{
    const char *src = in_dir(state, "Gtr_T01.wav");
    write_take(src, RATE, 1, 4000, fn_dc_sections, NULL);
    reel_render_region r = { src, "Gtr take 1", 0, 0, 4000 };
    char stem[PATH_MAX];
    snprintf(stem, sizeof stem, "%s", in_dir(state, "Gtr.wav"));
    reel_render_track tr = { "Gtr", 1, 0.0, -1.0, 0, 0, &r, 1, stem };
    /* Sections 3, 1, 4 (first half), then 4's second half, contiguous:
     * edits at 1000 and 2000, none at 2500. */
    reel_render_piece pieces[] = { { 0, 2000, 1000 }, { 1000, 0, 1000 }, { 2000, 3000, 500 },
                                   { 2500, 3500, 500 } };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV24, .frames = 3000,
                               .pieces = pieces, .npieces = 4, .crossfade = 64,
                               .tracks = &tr, .ntracks = 1, .mix_path = in_dir(state, "v.wav") };
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_render_run(&cfg, NULL, err) != 0)
        fail_msg("render failed: %s", err);
    uint64_t n;
    unsigned ch;
    int32_t *x = read_all(stem, &n, &ch);
    assert_int_equal(n, 3000);
    /* Away from the edits (at 1000, 2000): each piece's level, exactly. */
    const double want[] = { 0.3, 0.1, 0.4 };
    for (uint64_t t = 0; t < 3000; t++) {
        uint64_t edit = t < 1500 ? 1000 : 2000;
        if (t + 32 >= edit && t < edit + 32)
            continue;
        double w = want[t < 1000 ? 0 : t < 2000 ? 1 : 2];
        if (fabs(level_at(x, ch, t) - w) > 1.5 * LSB)
            fail_msg("frame %llu: %f, want %f", (unsigned long long)t, level_at(x, ch, t), w);
    }
    /* The ramp is centred on the edit and reads past both cuts: at frame
     * 1000 the outgoing side plays source 3000 (0.4, beyond its cut) and
     * the incoming side source 0 (0.1); 32.5 of 64 frames into the ramp. */
    double th = 32.5 / 64.0 * M_PI / 2.0;
    assert_true(fabs(level_at(x, ch, 1000) - (0.4 * cos(th) + 0.1 * sin(th))) < 2 * LSB);
    /* Before source sample 0 there is silence: at 990 the incoming side
     * adds nothing, the outgoing one is 0.3 faded. */
    th = (990 - 968 + 0.5) / 64.0 * M_PI / 2.0;
    assert_true(fabs(level_at(x, ch, 990) - 0.3 * cos(th)) < 2 * LSB);
    free(x);

    /* The mix: mono panned hard left, right channel silent. */
    int32_t *m = read_all(cfg.mix_path, &n, &ch);
    assert_int_equal(ch, 2);
    assert_true(fabs(level_at(m, 2, 10) - 0.3) < 1.5 * LSB);
    for (uint64_t t = 0; t < 3000; t++)
        assert_true(abs(m[2 * t + 1]) <= 1);
    free(m);
}

static int32_t fn_sine(uint64_t i, unsigned ch, void *u)
{
    (void)ch;
    (void)u;
    return (int32_t)lround(0.5 * sin(2.0 * M_PI * 441.0 * (double)i / RATE) * 8388608.0);
}

/* The largest sample-to-sample step of a mono render of a 441 Hz sine at
 * half scale, cut into pieces whose phases do not meet. */
static double worst_step(void **state, uint64_t crossfade, const char *name)
{
    const char *src = in_dir(state, "Sine_T01.wav");
    if (access(src, F_OK) != 0)
        write_take(src, RATE, 1, 48000, fn_sine, NULL);
    reel_render_region r = { src, "Sine take 1", 0, 0, 48000 };
    reel_render_track tr = { "Sine", 1, 0.0, 0.0, 0, 0, &r, 1, (char *)in_dir(state, name) };
    reel_render_piece pieces[] = { { 0, 10000, 4000 }, { 4000, 1037, 3000 },
                                   { 7000, 30055, 5000 }, { 12000, 20000, 100 } };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV24, .frames = 12100,
                               .pieces = pieces, .npieces = 4, .crossfade = crossfade,
                               .tracks = &tr, .ntracks = 1 };
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_render_run(&cfg, NULL, err) != 0)
        fail_msg("render failed: %s", err);
    uint64_t n;
    unsigned ch;
    int32_t *x = read_all(tr.stem_path, &n, &ch);
    assert_int_equal(n, 12100);
    double worst = 0;
    for (uint64_t t = 1; t < n; t++) {
        double d = fabs((x[t] - x[t - 1]) * LSB);
        if (d > worst)
            worst = d;
    }
    free(x);
    return worst;
}

static void test_crossfade_no_click(void **state)
{
    /* The sine's own largest step is 0.5 * 2 pi 441 / 48000 = 0.029; two of
     * them mixed at equal power with any phase, plus a 10 ms ramp, stay
     * under 0.05. Hard cuts at those phases jump by more than 0.3. */
    double hard = worst_step(state, 0, "hard.wav");
    double soft = worst_step(state, 480, "soft.wav");
    if (hard < 0.3)
        fail_msg("the test's cuts are too gentle (%f)", hard);
    if (soft > 0.05)
        fail_msg("largest step %f with 10 ms crossfades", soft);
}

static void test_fades(void **state)
{
    const char *src = in_dir(state, "Pad_T01.wav");
    write_take(src, RATE, 1, 4000, fn_dc_sections, NULL);
    reel_render_region r = { src, "Pad take 1", 0, 0, 4000 };
    reel_render_track tr = { "Pad", 1, 0.0, -1.0, 0, 0, &r, 1, NULL };
    reel_render_fade fades[] = { { 0, 1000, 1 }, { 3000, 1000, 0 } };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV32F, .frames = 4000,
                               .fades = fades, .nfades = 2, .tracks = &tr, .ntracks = 1,
                               .mix_path = in_dir(state, "f.wav") };
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_render_run(&cfg, NULL, err) != 0)
        fail_msg("render failed: %s", err);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(cfg.mix_path, SFM_READ, &info);
    assert_non_null(sf);
    float *x = malloc(4000 * 2 * sizeof *x);
    assert_int_equal(sf_readf_float(sf, x, 4000), 4000);
    sf_close(sf);
    assert_true(x[0] == 0.0f);                                   /* silence first */
    assert_true(fabs(x[2 * 500] - 0.1 * 0.5) < 1e-6);            /* halfway, linear */
    assert_true(fabs(x[2 * 2000] - 0.3) < 1e-6);                 /* untouched */
    assert_true(fabs(x[2 * 3499] - 0.4 * 0.5) < 1e-6);
    assert_true(x[2 * 3999] == 0.0f);                            /* silence last */
    free(x);
}

/* ---- comp switches ----------------------------------------------------- */

/* Takes of constant levels, exact in 24 bits and in float. */
#define LA 0.5
#define LB (-0.25)

static int32_t fn_const(uint64_t i, unsigned ch, void *u)
{
    (void)i;
    (void)ch;
    return (int32_t)lround(*(const double *)u * 8388608.0);
}

static void write_level(const char *path, uint64_t frames, double level)
{
    write_take(path, RATE, 1, frames, fn_const, &level);
}

static float *read_floats(const char *path, uint64_t *frames, unsigned *channels)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    float *x = malloc((size_t)info.frames * (size_t)info.channels * sizeof *x + 4);
    assert_non_null(x);
    assert_int_equal(sf_readf_float(sf, x, info.frames), info.frames);
    sf_close(sf);
    *frames = (uint64_t)info.frames;
    *channels = (unsigned)info.channels;
    return x;
}

/* Renders one comp (as float) into a mix and two stems: track "St", stereo
 * from the mono takes at unity (the mix is it alone), and "Mo", mono and
 * muted. Every one of the five channels must be the same signal, sample
 * for sample, whichever thread assembled it; returns it (mono). */
static float *render_comp(void **state, const reel_render_region *regions, size_t nregions,
                          uint64_t comp_crossfade, const reel_render_piece *pieces,
                          size_t npieces, uint64_t crossfade, uint64_t frames)
{
    static unsigned serial;
    char mix[PATH_MAX], st[PATH_MAX], mo[PATH_MAX], name[32];
    snprintf(name, sizeof name, "mix%u.wav", serial);
    snprintf(mix, sizeof mix, "%s", in_dir(state, name));
    snprintf(name, sizeof name, "St%u.wav", serial);
    snprintf(st, sizeof st, "%s", in_dir(state, name));
    snprintf(name, sizeof name, "Mo%u.wav", serial++);
    snprintf(mo, sizeof mo, "%s", in_dir(state, name));
    reel_render_track tracks[2] = {
        { "St", 2, 0.0, 0.0, 0, 0, regions, nregions, st },
        { "Mo", 1, 0.0, 0.0, 1, 0, regions, nregions, mo },
    };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV32F, .frames = frames,
                               .pieces = pieces, .npieces = npieces, .crossfade = crossfade,
                               .comp_crossfade = comp_crossfade, .tracks = tracks, .ntracks = 2,
                               .mix_path = mix };
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_render_run(&cfg, NULL, err) != 0)
        fail_msg("render failed: %s", err);
    uint64_t n[3];
    unsigned ch[3];
    float *m = read_floats(mix, &n[0], &ch[0]);
    float *s = read_floats(st, &n[1], &ch[1]);
    float *x = read_floats(mo, &n[2], &ch[2]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(n[i], frames);
    assert_int_equal(ch[0], 2);
    assert_int_equal(ch[1], 2);
    assert_int_equal(ch[2], 1);
    for (uint64_t t = 0; t < frames; t++) {
        if (m[2 * t] != x[t] || m[2 * t + 1] != x[t] || s[2 * t] != x[t] || s[2 * t + 1] != x[t])
            fail_msg("frame %llu: mix %.9g %.9g, stereo stem %.9g %.9g, mono stem %.9g",
                     (unsigned long long)t, m[2 * t], m[2 * t + 1], s[2 * t], s[2 * t + 1], x[t]);
    }
    free(m);
    free(s);
    return x;
}

/* The switch from level a to level b at sample sw with half-length h, at t. */
static double switch_at(uint64_t t, uint64_t sw, uint64_t h, double a, double b)
{
    double x = ((double)(t - (sw - h)) + 0.5) / (double)(2 * h);
    return a * cos(x * M_PI / 2.0) + b * sin(x * M_PI / 2.0);
}

/* x holds level a before sw and b from sw, crossfaded over [sw - h, sw + h)
 * (h = 0: a hard cut), within [from, to); exact outside the zone. */
static void expect_switch(const float *x, uint64_t from, uint64_t to, uint64_t sw, uint64_t h,
                          double a, double b)
{
    for (uint64_t t = from; t < to; t++) {
        if (t + h >= sw && t < sw + h) {
            double want = switch_at(t, sw, h, a, b);
            if (fabs(x[t] - want) > 1e-6)
                fail_msg("frame %llu (switch at %llu, h %llu): %.9f, want %.9f",
                         (unsigned long long)t, (unsigned long long)sw, (unsigned long long)h,
                         x[t], want);
        } else if (x[t] != (float)(t < sw ? a : b)) {
            fail_msg("frame %llu (switch at %llu, h %llu): %.9f, want exactly %.9f",
                     (unsigned long long)t, (unsigned long long)sw, (unsigned long long)h, x[t],
                     t < sw ? a : b);
        }
    }
}

static void test_comp_crossfade(void **state)
{
    char pa[PATH_MAX], pb[PATH_MAX];
    snprintf(pa, sizeof pa, "%s", in_dir(state, "Vox_T01.wav"));
    snprintf(pb, sizeof pb, "%s", in_dir(state, "Vox_T02.wav"));
    write_level(pa, 3000, LA);
    write_level(pb, 3000, LB);
    /* Both takes go on past their regions: a 100-frame crossfade, centred.
     * B ends in silence at 2000 although its file goes on: no fade there. */
    reel_render_region r[2] = { { pa, "Vox take 1", 0, 0, 1000 }, { pb, "Vox take 2", 1000, 1000, 1000 } };
    float *x = render_comp(state, r, 2, 100, NULL, 0, 0, 2500);
    expect_switch(x, 0, 2000, 1000, 50, LA, LB);
    for (uint64_t t = 2000; t < 2500; t++)
        assert_true(x[t] == 0.0f);
    free(x);

    /* 0: hard cuts, bit for bit. */
    x = render_comp(state, r, 2, 0, NULL, 0, 0, 2500);
    expect_switch(x, 0, 2000, 1000, 0, LA, LB);
    free(x);

    /* B's take has 20 frames before its region: h = 20 on both sides. */
    r[1].offset = 20;
    x = render_comp(state, r, 2, 100, NULL, 0, 0, 2000);
    expect_switch(x, 0, 2000, 1000, 20, LA, LB);
    free(x);

    /* A's take ends with its region: no handle, a hard cut. */
    char pc[PATH_MAX];
    snprintf(pc, sizeof pc, "%s", in_dir(state, "Vox_T03.wav"));
    write_level(pc, 1000, LA);
    reel_render_region rc[2] = { { pc, "Vox take 3", 0, 0, 1000 }, { pb, "Vox take 2", 1000, 1000, 1000 } };
    x = render_comp(state, rc, 2, 100, NULL, 0, 0, 2000);
    expect_switch(x, 0, 2000, 1000, 0, LA, LB);
    free(x);

    /* Regions shorter than the crossfade: at most half the shorter one
     * each side (A of 30 frames: h = 15). */
    reel_render_region rs[2] = { { pa, "Vox take 1", 970, 970, 30 }, { pb, "Vox take 2", 1000, 1000, 1000 } };
    x = render_comp(state, rs, 2, 100, NULL, 0, 0, 2000);
    for (uint64_t t = 0; t < 970; t++)
        assert_true(x[t] == 0.0f);
    expect_switch(x, 970, 2000, 1000, 15, LA, LB);
    free(x);

    /* A gap between the regions: nothing is faded, on either side. */
    reel_render_region rg[2] = { { pa, "Vox take 1", 0, 0, 1000 }, { pb, "Vox take 2", 1200, 1200, 800 } };
    x = render_comp(state, rg, 2, 100, NULL, 0, 0, 2000);
    for (uint64_t t = 0; t < 2000; t++) {
        float want = t < 1000 ? (float)LA : t < 1200 ? 0.0f : (float)LB;
        if (x[t] != want)
            fail_msg("gap: frame %llu: %.9f, want %.9f", (unsigned long long)t, x[t], want);
    }
    free(x);
}

/* One stretch of one file cut into two regions is no switch, even reached
 * by another path; the same file at another offset is one. */
static void test_comp_same_file(void **state)
{
    char pa[PATH_MAX], link_path[PATH_MAX];
    snprintf(pa, sizeof pa, "%s", in_dir(state, "Gtr_T01.wav"));
    snprintf(link_path, sizeof link_path, "%s", in_dir(state, "Gtr_link.wav"));
    write_take(pa, RATE, 1, 5000, fn_noise, (void *)(uintptr_t)5);
    assert_int_equal(symlink(pa, link_path), 0);
    reel_render_region r[2] = { { pa, "Gtr take 1", 0, 0, 1000 }, { link_path, "Gtr take 1", 1000, 1000, 1000 } };
    float *x = render_comp(state, r, 2, 100, NULL, 0, 0, 2000);
    for (uint64_t t = 0; t < 2000; t++) {
        float want = (float)noise24(t, 5 * 7) / 8388608.0f;
        if (x[t] != want)
            fail_msg("contiguous: frame %llu: %.9f, want %.9f", (unsigned long long)t, x[t], want);
    }
    free(x);
    /* Frames 3000.. of the same file from 1000 on: crossfaded with itself
     * shifted by 2000 frames. */
    r[1].path = pa;
    r[1].offset = 3000;
    x = render_comp(state, r, 2, 100, NULL, 0, 0, 2000);
    for (uint64_t t = 900; t < 1100; t++) {
        double a = noise24(t, 5 * 7) * LSB, b = noise24(t + 2000, 5 * 7) * LSB;
        double want = t >= 950 && t < 1050 ? switch_at(t, 1000, 50, a, b) : t < 1000 ? a : b;
        if (fabs(x[t] - want) > 1e-6)
            fail_msg("same file elsewhere: frame %llu: %.9f, want %.9f", (unsigned long long)t,
                     x[t], want);
    }
    free(x);
}

/* A zone cut by the render's blocks, or by variant pieces, comes out as
 * the formula says, exactly as an uncut one; an edit crossfade over a comp
 * zone mixes the crossfaded source. */
static void test_comp_crossfade_blocks_and_pieces(void **state)
{
    const uint64_t sw = REEL_RENDER_BLOCK - 10, total = REEL_RENDER_BLOCK + 1000;
    char pa[PATH_MAX], pb[PATH_MAX];
    snprintf(pa, sizeof pa, "%s", in_dir(state, "Bass_T01.wav"));
    snprintf(pb, sizeof pb, "%s", in_dir(state, "Bass_T02.wav"));
    write_level(pa, total, LA);
    write_level(pb, total, LB);
    reel_render_region r[2] = { { pa, "Bass take 1", 0, 0, sw }, { pb, "Bass take 2", (int64_t)sw, sw, 1000 } };
    /* Zone [BLOCK - 60, BLOCK + 40): 60 frames in the first block, 40 in
     * the second. */
    float *whole = render_comp(state, r, 2, 100, NULL, 0, 0, sw + 1000);
    expect_switch(whole, sw - 2000, sw + 1000, sw, 50, LA, LB);

    /* The same timeline in contiguous pieces, cut at 5 frames into the
     * zone and at the switch itself: no edits, the same samples. */
    reel_render_piece cut[] = { { 0, 0, sw - 45 }, { sw - 45, (int64_t)sw - 45, 45 },
                                { sw, (int64_t)sw, 1000 } };
    float *x = render_comp(state, r, 2, 100, cut, 3, 480, sw + 1000);
    assert_memory_equal(x, whole, (size_t)(sw + 1000) * sizeof *x);
    free(x);
    free(whole);

    /* An edit at output sw + 20 (inside the comp zone) to source 500:
     * crossfaded over 40 frames, [sw, sw + 40), between the comp zone's
     * audio (outgoing) and level A (incoming). */
    reel_render_piece edit[] = { { 0, 0, sw + 20 }, { sw + 20, 500, 1000 } };
    x = render_comp(state, r, 2, 100, edit, 2, 40, sw + 1020);
    expect_switch(x, sw - 2000, sw, sw, 50, LA, LB);
    for (uint64_t t = sw; t < sw + 1020; t++) {
        double want;
        if (t < sw + 40) {
            double y = ((double)(t - sw) + 0.5) / 40.0;
            want = switch_at(t, sw, 50, LA, LB) * cos(y * M_PI / 2.0) + LA * sin(y * M_PI / 2.0);
        } else {
            want = LA;
        }
        if (fabs(x[t] - want) > 1e-6)
            fail_msg("edit: frame %llu: %.9f, want %.9f", (unsigned long long)t, x[t], want);
    }
    free(x);
}

/* ---- bad input --------------------------------------------------------- */

static int expect_error(void **state, const char *path, uint64_t frames, char *err)
{
    reel_render_region r = { path, "track 'Vox' take 3", 0, 0, frames };
    reel_render_track tr = { "Vox", 1, 0.0, 0.0, 0, 0, &r, 1, NULL };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV24, .frames = 1000,
                               .tracks = &tr, .ntracks = 1, .mix_path = in_dir(state, "o.wav") };
    return reel_render_run(&cfg, NULL, err);
}

static void test_bad_input(void **state)
{
    char err[REEL_ERRMSG_MAX], want[PATH_MAX + 600];
    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s", in_dir(state, "Vox_T03.wav"));
    assert_int_equal(expect_error(state, missing, 1000, err), REEL_ENOTFOUND);
    snprintf(want, sizeof want, "track 'Vox' take 3 (%s): No such file or directory", missing);
    assert_string_equal(err, want);

    FILE *f = fopen(missing, "wb");
    assert_non_null(f);
    fputs("RIFF\x10\0\0\0WAVEjunkjunkjunk garbage", f);
    fclose(f);
    assert_int_equal(expect_error(state, missing, 1000, err), REEL_EFORMAT);
    snprintf(want, sizeof want, "track 'Vox' take 3 (%s): not a readable sound file: ", missing);
    assert_memory_equal(err, want, strlen(want));
    unlink(missing);

    write_take(missing, 44100, 1, 2000, fn_noise, NULL);
    assert_int_equal(expect_error(state, missing, 1000, err), REEL_EFORMAT);
    snprintf(want, sizeof want,
             "track 'Vox' take 3 (%s): recorded at 44100 Hz, the session is at 48000 Hz; reel "
             "render does not resample (convert the file first, e.g. sox IN -r 48000 OUT)",
             missing);
    assert_string_equal(err, want);
    unlink(missing);

    write_take(missing, RATE, 1, 500, fn_noise, NULL);
    assert_int_equal(expect_error(state, missing, 1000, err), REEL_EFORMAT);
    snprintf(want, sizeof want,
             "track 'Vox' take 3 (%s): the file has 500 frames, the session plays frames 0 to "
             "1000 (damaged, truncated or replaced?)", missing);
    assert_string_equal(err, want);
    /* Nothing was created: only the take is there. */
    assert_int_equal(count_files(state), 1);
}

static void test_never_replaces(void **state)
{
    const char *out = in_dir(state, "mix.wav");
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fputs("precious", f);
    fclose(f);
    reel_render_track tr = { "Empty", 1, 0.0, 0.0, 0, 0, NULL, 0, NULL };
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_WAV24, .frames = 100,
                               .tracks = &tr, .ntracks = 1, .mix_path = out };
    char err[REEL_ERRMSG_MAX], want[PATH_MAX + 64];
    assert_int_equal(reel_render_run(&cfg, NULL, err), REEL_EEXIST);
    snprintf(want, sizeof want, "%s: file exists; not replacing it", out);
    assert_string_equal(err, want);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, 8);
    /* With overwrite: replaced by a silent render of 100 frames. */
    cfg.overwrite = 1;
    assert_int_equal(reel_render_run(&cfg, NULL, err), 0);
    uint64_t n;
    unsigned ch;
    int32_t *x = read_all(out, &n, &ch);
    assert_int_equal(n, 100);
    assert_int_equal(x[0], 0);
    free(x);
    assert_int_equal(count_files(state), 1);
}

static int cancel_after_first(uint64_t done, uint64_t total, void *user)
{
    (void)total;
    *(uint64_t *)user = done;
    return 1;
}

static void test_cancel_leaves_nothing(void **state)
{
    reel_render_track tr = { "Empty", 2, 0.0, 0.0, 0, 0, NULL, 0, in_dir(state, "stem.wav") };
    uint64_t seen = 0;
    reel_render_config cfg = { .rate = RATE, .format = REEL_FORMAT_FLAC, .frames = 200000,
                               .tracks = &tr, .ntracks = 1, .mix_path = in_dir(state, "m.flac"),
                               .progress = cancel_after_first, .user = &seen };
    char err[REEL_ERRMSG_MAX];
    assert_int_equal(reel_render_run(&cfg, NULL, err), REEL_EAGAIN);
    assert_string_equal(err, "render cancelled");
    assert_int_equal(seen, REEL_RENDER_BLOCK);
    assert_int_equal(count_files(state), 0);
}

static void test_bad_config(void **state)
{
    reel_render_track tr = { "T", 1, 0.0, 0.0, 0, 0, NULL, 0, NULL };
    reel_render_piece gap[] = { { 0, 0, 10 }, { 20, 0, 10 } };
    reel_render_config cfg = { .rate = RATE, .frames = 30, .pieces = gap, .npieces = 2,
                               .tracks = &tr, .ntracks = 1, .mix_path = in_dir(state, "x.wav") };
    char err[REEL_ERRMSG_MAX];
    assert_int_equal(reel_render_run(&cfg, NULL, err), REEL_EINVAL);
    assert_string_equal(err, "render: piece 2: pieces must tile the output in order");
    cfg.pieces = NULL;
    cfg.mix_path = NULL;
    assert_int_equal(reel_render_run(&cfg, NULL, err), REEL_EINVAL);
    assert_string_equal(err, "render: no output (neither a mix nor stems)");
    assert_int_equal(count_files(state), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pan_law),
        cmocka_unit_test_setup_teardown(test_mix_equals_sum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_solo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stems_aligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats_and_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variant_order_and_crossfade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crossfade_no_click, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comp_crossfade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comp_same_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comp_crossfade_blocks_and_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
