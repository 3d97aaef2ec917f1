/* test_writer.c: unit tests for the take writer (engine/writer.c).
 *
 * Everything is checked from the outside: files are read back with
 * libsndfile (exact sample comparison -- the pattern uses 24-bit values,
 * which wav24, wav32f and FLAC all store exactly), header bytes are parsed by
 * hand, and `sox --i -s` must agree on the frame count. Each test gets a
 * fresh mkdtemp directory, removed in teardown.
 *
 * Threads: single-threaded, but several tests fork. A child never returns
 * into cmocka: it either kills itself with SIGKILL (the "simulated crash"
 * tests, so nothing is closed or flushed) or reports through its exit status
 * and stderr (the full-disk test, which runs in a private mount namespace so
 * its 1 MiB tmpfs disappears with it, even if it crashes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reel_error.h"
#include "writer.h"

#ifndef REEL_FAULT_INJECTION
#error "test_writer needs REEL_FAULT_INJECTION (the default CMake option)"
#endif

/* ---- fixture ----------------------------------------------------------- */

struct fx {
    char dir[PATH_MAX / 2]; /* leaves room for file names under it */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/reel-writer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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

/* dir/name into out; our paths are short, so running out of room is a bug. */
static void join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        abort();
}

static const char *in_dir(void **state, const char *name)
{
    static char buf[PATH_MAX];
    struct fx *f = *state;
    join(buf, sizeof buf, f->dir, name);
    return buf;
}

/* ---- helpers ----------------------------------------------------------- */

static const reel_format all_formats[] = {
    REEL_FORMAT_WAV24, REEL_FORMAT_WAV32F, REEL_FORMAT_FLAC, REEL_FORMAT_RF64,
};
#define N_FORMATS (sizeof all_formats / sizeof all_formats[0])

/* A deterministic, position-dependent 24-bit value: catches lost, repeated
 * or shifted samples, and is exact in every supported format. */
static float pattern(uint64_t sample_index)
{
    uint64_t z = sample_index + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    int32_t v = (int32_t)(z & 0xffffff) - 0x800000;
    return (float)v / 8388608.0f;
}

/* Frames [first, first + n) of the pattern, interleaved. */
static float *make_frames(uint64_t first, size_t n, unsigned channels)
{
    float *p = malloc(n * channels * sizeof *p + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n * channels; i++)
        p[i] = pattern(first * channels + i);
    return p;
}

static int write_pattern(reel_writer *w, uint64_t first, size_t n, unsigned channels)
{
    float *p = make_frames(first, n, channels);
    int rc = reel_writer_write(w, p, n);
    free(p);
    return rc;
}

static reel_writer *open_w(const char *path, reel_format f, unsigned channels)
{
    reel_writer_config cfg = { .path = path, .format = f, .rate = 48000,
                               .channels = channels, .time_reference = 0,
                               .originator = NULL, .description = NULL };
    reel_writer *w = NULL;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_writer_open(&w, &cfg, err);
    if (rc != 0)
        print_error("open %s: %d %s\n", path, rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(w);
    return w;
}

/* Reads a whole file; returns the samples (malloc) and fills *info. */
static float *read_all(const char *path, SF_INFO *info)
{
    memset(info, 0, sizeof *info);
    SNDFILE *sf = sf_open(path, SFM_READ, info);
    if (sf == NULL)
        print_error("sf_open %s: %s\n", path, sf_strerror(NULL));
    assert_non_null(sf);
    sf_count_t cap = info->frames;
    if (cap == SF_COUNT_MAX || cap < 0)
        cap = 1 << 22; /* FLAC with unknown length: read what decodes */
    float *buf = malloc((size_t)(cap + 1) * (size_t)info->channels * sizeof *buf);
    assert_non_null(buf);
    sf_count_t got = sf_readf_float(sf, buf, cap);
    if (info->frames == SF_COUNT_MAX)
        info->frames = got;
    assert_int_equal(got, info->frames);
    sf_close(sf);
    return buf;
}

/* Frames libsndfile reports for a file, or -1 if it cannot open it. */
static long long sf_frames(const char *path)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (sf == NULL)
        return -1;
    sf_close(sf);
    return (long long)info.frames;
}

static void assert_pattern(const float *buf, uint64_t first_frame, uint64_t n,
                           unsigned channels)
{
    for (uint64_t i = 0; i < n * channels; i++) {
        float want = pattern(first_frame * channels + i);
        if (buf[i] != want) {
            print_error("sample %llu (frame %llu): got %.9g want %.9g\n",
                        (unsigned long long)i, (unsigned long long)(first_frame + i / channels),
                        buf[i], want);
            fail();
        }
    }
}

/* `sox --i -s`: frames per channel, or -1 when sox cannot read the file. */
static long long sox_frames(const char *path)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "sox --i -s '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r"); /* no cmocka assert: forked children call this */
    if (p == NULL)
        return -1;
    long long n = -1;
    if (fscanf(p, "%lld", &n) != 1)
        n = -1;
    int st = pclose(p);
    return st == 0 ? n : -1;
}

/* `sox FILE -n stat`: samples sox actually decodes (all channels). */
static long long sox_decoded_samples(const char *path)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "sox '%s' -n stat 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    long long n = -1;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "Samples read: %lld", &n) == 1)
            break;
    while (fgets(line, sizeof line, p)) {
    }
    pclose(p);
    return n;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* What the RIFF/RF64 header on disk says, parsed without libsndfile. */
struct hdr {
    char magic[5];
    uint32_t riff_size;
    int junk, fact, bext, ds64;
    uint32_t fact_frames;
    uint64_t ds64_riff, ds64_data, ds64_frames;
    uint32_t data_size32;
    uint64_t data_offset;
    uint64_t file_size;
};

/* No cmocka asserts here: forked children use it. -1 if unparseable. */
static int read_header(const char *path, struct hdr *h)
{
    unsigned char b[8192];
    memset(h, 0, sizeof *h);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, b, sizeof b);
    struct stat st;
    int ok = fstat(fd, &st) == 0;
    close(fd);
    if (!ok || n < 12 || memcmp(b + 8, "WAVE", 4) != 0)
        return -1;
    h->file_size = (uint64_t)st.st_size;
    memcpy(h->magic, b, 4);
    h->riff_size = le32(b + 4);
    for (ssize_t pos = 12; pos + 8 <= n;) {
        uint32_t size = le32(b + pos + 4);
        const unsigned char *body = b + pos + 8;
        if (memcmp(b + pos, "data", 4) == 0) {
            h->data_offset = (uint64_t)pos + 8;
            h->data_size32 = size;
            return 0;
        }
        if (memcmp(b + pos, "JUNK", 4) == 0)
            h->junk = 1;
        if (memcmp(b + pos, "bext", 4) == 0)
            h->bext = 1;
        if (memcmp(b + pos, "fact", 4) == 0) {
            h->fact = 1;
            h->fact_frames = le32(body);
        }
        if (memcmp(b + pos, "ds64", 4) == 0) {
            h->ds64 = 1;
            h->ds64_riff = le64(body);
            h->ds64_data = le64(body + 8);
            h->ds64_frames = le64(body + 16);
        }
        pos += 8 + (ssize_t)size + (ssize_t)(size & 1);
    }
    return -1; /* no data chunk in the first 8 KiB */
}

static void parse_header(const char *path, struct hdr *h)
{
    if (read_header(path, h) != 0)
        fail_msg("%s: not a RIFF/RF64 WAVE file with a data chunk", path);
}

/* The header must describe exactly `frames` frames of `frame_bytes`, in the
 * container the format promises under 4 GiB. `exact`: nothing unsynced is in
 * the file, so the RIFF/ds64 size must match the file length too. */
static void assert_header(const char *path, reel_format f, uint64_t frames,
                          unsigned frame_bytes, int exact)
{
    struct hdr h;
    parse_header(path, &h);
    uint64_t data = frames * frame_bytes;
    assert_true(h.bext);
    if (f == REEL_FORMAT_RF64) {
        assert_string_equal(h.magic, "RF64");
        assert_int_equal(h.riff_size, 0xffffffffu);
        assert_true(h.ds64);
        assert_int_equal(h.data_size32, 0xffffffffu);
        assert_int_equal(h.ds64_data, data);
        assert_int_equal(h.ds64_frames, frames);
        assert_true(h.ds64_riff >= h.data_offset + data - 8);
    } else {
        /* Plain RIFF/WAVE, with the JUNK reserve that later becomes ds64. */
        assert_string_equal(h.magic, "RIFF");
        assert_true(h.junk);
        assert_false(h.ds64);
        assert_true(h.fact);
        assert_int_equal(h.fact_frames, frames);
        assert_int_equal(h.data_size32, data);
        assert_true((uint64_t)h.riff_size + 8 >= h.data_offset + data);
    }
    assert_true(h.file_size >= h.data_offset + data);
    if (exact) {
        uint64_t riff = f == REEL_FORMAT_RF64 ? h.ds64_riff : h.riff_size;
        assert_int_equal(riff + 8, h.file_size);
        /* at most the RIFF pad byte after odd-sized data */
        assert_true(h.file_size - h.data_offset - data <= (data & 1));
    }
}

static unsigned frame_bytes_of(reel_format f, unsigned channels)
{
    return (f == REEL_FORMAT_WAV32F ? 4 : 3) * channels;
}

static int contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* ---- formats and opening ----------------------------------------------- */

static void test_format_names(void **state)
{
    (void)state;
    static const char *names[] = { "wav24", "wav32f", "flac", "rf64" };
    static const char *exts[] = { "wav", "wav", "flac", "wav" };
    for (size_t i = 0; i < N_FORMATS; i++) {
        reel_format f = (reel_format)99;
        assert_int_equal(reel_format_parse(names[i], &f), 0);
        assert_int_equal(f, all_formats[i]);
        assert_string_equal(reel_format_name(f), names[i]);
        assert_string_equal(reel_format_ext(f), exts[i]);
    }
    reel_format f = REEL_FORMAT_FLAC;
    assert_int_equal(reel_format_parse("wav", &f), REEL_EINVAL);
    assert_int_equal(reel_format_parse("WAV24", &f), REEL_EINVAL);
    assert_int_equal(reel_format_parse("", &f), REEL_EINVAL);
    assert_int_equal(reel_format_parse(NULL, &f), REEL_EINVAL);
    assert_int_equal(f, REEL_FORMAT_FLAC); /* untouched on failure */
    assert_int_equal(REEL_FORMAT_WAV24, 0);   /* zeroed config = default */
}

static void test_open_rejects_bad_config(void **state)
{
    const char *path = in_dir(state, "bad.wav");
    char err[REEL_ERRMSG_MAX];
    reel_writer *w = (reel_writer *)1;
    reel_writer_config cfg = { .path = path, .format = REEL_FORMAT_WAV24, .rate = 48000,
                               .channels = 0 };
    assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_EINVAL);
    assert_null(w);
    assert_true(contains(err, path));
    cfg.channels = 1025;
    assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_EINVAL);
    cfg.channels = 1;
    cfg.rate = 0;
    assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_EINVAL);
    cfg.rate = 48000;
    cfg.format = (reel_format)42;
    assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_EINVAL);
    cfg.path = NULL;
    assert_int_equal(reel_writer_open(&w, &cfg, NULL), REEL_EINVAL);
    assert_int_equal(reel_writer_open(&w, NULL, NULL), REEL_EINVAL);
    assert_int_equal(access(path, F_OK), -1); /* nothing was created */
    assert_int_equal(reel_writer_close(NULL), 0);
}

static void test_never_replaces_existing(void **state)
{
    const char *path = in_dir(state, "Vox_T01.wav");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "precious", 8), 8);
    close(fd);

    for (size_t i = 0; i < N_FORMATS; i++) {
        reel_writer *w = NULL;
        char err[REEL_ERRMSG_MAX] = "";
        reel_writer_config cfg = { .path = path, .format = all_formats[i], .rate = 48000,
                                   .channels = 2 };
        assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_EEXIST);
        assert_null(w);
        assert_true(contains(err, path));
    }
    char buf[16] = "";
    fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof buf), 8);
    close(fd);
    assert_memory_equal(buf, "precious", 8);
}

static void test_open_errors_name_path(void **state)
{
    char err[REEL_ERRMSG_MAX] = "";
    reel_writer *w = NULL;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(state, "no/such/dir/x.wav"));
    reel_writer_config cfg = { .path = path, .format = REEL_FORMAT_WAV24, .rate = 48000,
                               .channels = 1 };
    assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_ENOTFOUND);
    assert_true(contains(err, path));
    assert_true(contains(err, strerror(ENOENT)));

    /* sysfs refuses new files even to root, unlike a chmod'ed directory
     * (read-only in some containers). */
    cfg.path = "/sys/reel-writer-test.wav";
    assert_int_equal(reel_writer_open(&w, &cfg, err), REEL_EIO);
    assert_true(contains(err, "/sys/reel-writer-test.wav"));
    assert_true(contains(err, strerror(EACCES)) || contains(err, strerror(EROFS)));
    assert_null(w);
}

/* Right after open, before any frame, the file is already a valid take. */
static void test_empty_file_is_valid(void **state)
{
    for (size_t i = 0; i < N_FORMATS; i++) {
        reel_format f = all_formats[i];
        char name[32];
        snprintf(name, sizeof name, "empty_%s.%s", reel_format_name(f), reel_format_ext(f));
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", in_dir(state, name));
        reel_writer *w = open_w(path, f, 2);
        assert_string_equal(reel_writer_path(w), path);
        assert_string_equal(reel_writer_error(w), "");
        assert_int_equal(reel_writer_frames(w), 0);
        if (f != REEL_FORMAT_FLAC) {
            assert_header(path, f, 0, frame_bytes_of(f, 2), 1);
            assert_int_equal(sf_frames(path), 0);
            assert_int_equal(sox_frames(path), 0);
        }
        assert_int_equal(reel_writer_sync(w), 0);
        assert_int_equal(reel_writer_close(w), 0);
        SF_INFO info;
        float *buf = read_all(path, &info);
        free(buf);
        assert_int_equal(info.frames, 0);
        assert_int_equal(sox_frames(path), 0);
        if (f == REEL_FORMAT_FLAC) {
            /* FLAC's STREAMINFO uses 0 samples for "unknown", so libsndfile
             * reports an empty FLAC as endless; it decodes nothing. */
            assert_true(sf_frames(path) == SF_COUNT_MAX);
        } else {
            assert_header(path, f, 0, frame_bytes_of(f, 2), 1);
            assert_int_equal(sf_frames(path), 0);
        }
    }
}

/* ---- round trips ------------------------------------------------------- */

static void roundtrip(void **state, reel_format f, unsigned channels)
{
    char name[64];
    snprintf(name, sizeof name, "rt_%s_%u.%s", reel_format_name(f), channels,
             reel_format_ext(f));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(state, name));
    reel_writer *w = open_w(path, f, channels);

    /* Uneven chunks, with silence in the middle as the capture thread
     * writes it for lost frames. */
    static const size_t chunks[] = { 1, 4095, 4097, 10000, 3 };
    uint64_t pos = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(write_pattern(w, pos, chunks[i], channels), 0);
        pos += chunks[i];
    }
    const uint64_t silence_at = pos, silence = 20000;
    assert_int_equal(reel_writer_write_silence(w, silence), 0);
    pos += silence;
    for (size_t i = 3; i < 5; i++) {
        assert_int_equal(write_pattern(w, pos, chunks[i], channels), 0);
        pos += chunks[i];
    }
    assert_int_equal(reel_writer_write(w, NULL, 0), 0);
    assert_int_equal(reel_writer_frames(w), pos);
    assert_int_equal(reel_writer_close(w), 0);

    SF_INFO info;
    float *buf = read_all(path, &info);
    assert_int_equal(info.frames, pos);
    assert_int_equal(info.channels, channels);
    assert_int_equal(info.samplerate, 48000);
    int sub = info.format & SF_FORMAT_SUBMASK, type = info.format & SF_FORMAT_TYPEMASK;
    switch (f) {
    case REEL_FORMAT_WAV24:
        assert_int_equal(type, SF_FORMAT_WAVEX);
        assert_int_equal(sub, SF_FORMAT_PCM_24);
        break;
    case REEL_FORMAT_WAV32F:
        assert_int_equal(type, SF_FORMAT_WAVEX);
        assert_int_equal(sub, SF_FORMAT_FLOAT);
        break;
    case REEL_FORMAT_FLAC:
        assert_int_equal(type, SF_FORMAT_FLAC);
        assert_int_equal(sub, SF_FORMAT_PCM_24);
        break;
    case REEL_FORMAT_RF64:
        assert_int_equal(type, SF_FORMAT_RF64);
        assert_int_equal(sub, SF_FORMAT_PCM_24);
        break;
    }
    /* The pattern is indexed by absolute sample, so compare piecewise. */
    uint64_t tail = silence_at + silence;
    for (uint64_t i = 0; i < silence_at * channels; i++)
        assert_true(buf[i] == pattern(i));
    for (uint64_t i = silence_at * channels; i < tail * channels; i++)
        assert_true(buf[i] == 0.0f);
    for (uint64_t i = tail * channels; i < pos * channels; i++)
        assert_true(buf[i] == pattern(i));
    free(buf);

    if (f != REEL_FORMAT_FLAC)
        assert_header(path, f, pos, frame_bytes_of(f, channels), 1);
    assert_int_equal(sox_frames(path), pos);
    assert_int_equal(sox_decoded_samples(path), pos * channels);
}

static void test_roundtrip_all_formats(void **state)
{
    for (size_t i = 0; i < N_FORMATS; i++) {
        roundtrip(state, all_formats[i], 1);
        roundtrip(state, all_formats[i], 2);
    }
}

static void test_many_channels(void **state)
{
    roundtrip(state, REEL_FORMAT_WAV24, 24);
    roundtrip(state, REEL_FORMAT_FLAC, 8);
}

/* Float input beyond full scale clips in integer formats (libsndfile would
 * otherwise wrap +1.0 to negative full scale in 24-bit) and is kept as-is
 * in float files. */
static void test_clipping(void **state)
{
    static const float in[] = { 1.5f, -1.5f, 1.0f, -1.0f, 0.5f, 1e9f };
    const float top = 8388607.0f / 8388608.0f;
    static const float want_int[] = { 8388607.0f / 8388608.0f, -1.0f,
                                      8388607.0f / 8388608.0f, -1.0f, 0.5f,
                                      8388607.0f / 8388608.0f };
    for (size_t i = 0; i < N_FORMATS; i++) {
        reel_format f = all_formats[i];
        char name[32];
        snprintf(name, sizeof name, "clip_%s.%s", reel_format_name(f), reel_format_ext(f));
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", in_dir(state, name));
        reel_writer *w = open_w(path, f, 1);
        assert_int_equal(reel_writer_write(w, in, 6), 0);
        assert_int_equal(reel_writer_close(w), 0);
        SF_INFO info;
        float *buf = read_all(path, &info);
        assert_int_equal(info.frames, 6);
        for (int k = 0; k < 6; k++) {
            if (f == REEL_FORMAT_WAV32F)
                assert_true(buf[k] == in[k]);
            else
                assert_true(buf[k] == want_int[k] && buf[k] <= top);
        }
        free(buf);
    }
}

/* ---- metadata ---------------------------------------------------------- */

static void read_bext(const char *path, SF_BROADCAST_INFO *bi)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    memset(bi, 0, sizeof *bi);
    assert_int_equal(sf_command(sf, SFC_GET_BROADCAST_INFO, bi, (int)sizeof *bi), SF_TRUE);
    sf_close(sf);
}

static uint64_t bext_time_reference(const SF_BROADCAST_INFO *bi)
{
    return (uint64_t)bi->time_reference_high << 32 | bi->time_reference_low;
}

static void assert_date_time(const SF_BROADCAST_INFO *bi)
{
    char d[11], t[9];
    memcpy(d, bi->origination_date, 10);
    d[10] = 0;
    memcpy(t, bi->origination_time, 8);
    t[8] = 0;
    int y, mo, da, h, mi, s;
    assert_int_equal(sscanf(d, "%4d-%2d-%2d", &y, &mo, &da), 3);
    assert_int_equal(sscanf(t, "%2d:%2d:%2d", &h, &mi, &s), 3);
    assert_true(y >= 2024 && mo >= 1 && mo <= 12 && da >= 1 && da <= 31);
    assert_true(h < 24 && mi < 60 && s < 61);
}

static void test_bext(void **state)
{
    static const reel_format wavs[] = { REEL_FORMAT_WAV24, REEL_FORMAT_WAV32F,
                                        REEL_FORMAT_RF64 };
    /* Above 2^32 samples: both 32-bit halves must carry. */
    const uint64_t t0 = 0x123456789abcull, t1 = (5ull << 32) + 48000;
    for (size_t i = 0; i < 3; i++) {
        reel_format f = wavs[i];
        char name[32];
        snprintf(name, sizeof name, "bext_%s.wav", reel_format_name(f));
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", in_dir(state, name));
        reel_writer_config cfg = { .path = path, .format = f, .rate = 96000, .channels = 2,
                                   .time_reference = t0, .originator = "reel test rig",
                                   .description = "Vox, Chorus 2, pass 3" };
        reel_writer *w = NULL;
        assert_int_equal(reel_writer_open(&w, &cfg, NULL), 0);

        /* Valid while recording: the bext is on disk before any frame. */
        SF_BROADCAST_INFO bi;
        read_bext(path, &bi);
        assert_int_equal(bext_time_reference(&bi), t0);

        assert_int_equal(reel_writer_set_time_reference(w, t1), 0);
        read_bext(path, &bi);
        assert_int_equal(bext_time_reference(&bi), t1);

        assert_int_equal(write_pattern(w, 0, 1000, 2), 0);
        assert_int_equal(reel_writer_set_time_reference(w, 7), REEL_ESTATE);
        assert_true(contains(reel_writer_error(w), path));
        assert_int_equal(reel_writer_close(w), 0);

        read_bext(path, &bi);
        assert_int_equal(bi.time_reference_high, 5);
        assert_int_equal(bi.time_reference_low, 48000);
        assert_int_equal(strncmp(bi.originator, "reel test rig", sizeof bi.originator), 0);
        assert_int_equal(strncmp(bi.description, "Vox, Chorus 2, pass 3",
                                 sizeof bi.description), 0);
        assert_date_time(&bi);
        assert_header(path, f, 1000, frame_bytes_of(f, 2), 1);

        SF_INFO info;
        float *buf = read_all(path, &info);
        assert_int_equal(info.frames, 1000);
        assert_pattern(buf, 0, 1000, 2);
        free(buf);
    }

    /* Defaults: originator "reel", empty description, time reference 0;
     * an originator longer than the 32-byte field is cut, not overflowed. */
    const char *path = in_dir(state, "bext_default.wav");
    reel_writer *w = open_w(path, REEL_FORMAT_WAV24, 1);
    assert_int_equal(reel_writer_close(w), 0);
    SF_BROADCAST_INFO bi;
    read_bext(path, &bi);
    assert_int_equal(strncmp(bi.originator, "reel", sizeof bi.originator), 0);
    assert_int_equal(bi.description[0], 0);
    assert_int_equal(bext_time_reference(&bi), 0);

    path = in_dir(state, "bext_long.wav");
    reel_writer_config cfg = { .path = path, .format = REEL_FORMAT_WAV24, .rate = 48000,
                               .channels = 1,
                               .originator = "0123456789abcdef0123456789ABCDEF-overflow" };
    assert_int_equal(reel_writer_open(&w, &cfg, NULL), 0);
    assert_int_equal(reel_writer_close(w), 0);
    read_bext(path, &bi);
    assert_memory_equal(bi.originator, "0123456789abcdef0123456789ABCDEF", 32);
    assert_int_equal(bi.originator_reference[0], 0);
}

static void test_flac_tags(void **state)
{
    const char *path = in_dir(state, "tags.flac");
    reel_writer_config cfg = { .path = path, .format = REEL_FORMAT_FLAC, .rate = 48000,
                               .channels = 1, .time_reference = 99,
                               .originator = "reel test rig", .description = "Bass, Verse 1" };
    reel_writer *w = NULL;
    assert_int_equal(reel_writer_open(&w, &cfg, NULL), 0);
    /* Tags are handed over with the first frame, so this still counts. */
    assert_int_equal(reel_writer_set_time_reference(w, (7ull << 32) + 1), 0);
    assert_int_equal(reel_writer_sync(w), 0);
    assert_int_equal(reel_writer_set_time_reference(w, (7ull << 32) + 2), 0);
    assert_int_equal(write_pattern(w, 0, 5000, 1), 0);
    assert_int_equal(reel_writer_set_time_reference(w, 3), REEL_ESTATE);
    assert_int_equal(reel_writer_close(w), 0);

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    const char *comment = sf_get_string(sf, SF_STR_COMMENT);
    const char *software = sf_get_string(sf, SF_STR_SOFTWARE);
    const char *date = sf_get_string(sf, SF_STR_DATE);
    assert_non_null(comment);
    assert_non_null(software);
    assert_non_null(date);
    assert_string_equal(comment, "Bass, Verse 1\ntime_reference=30064771074");
    assert_true(strncmp(software, "reel test rig", 13) == 0);
    int y, mo, d, h, mi, s;
    assert_int_equal(sscanf(date, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s), 6);
    sf_close(sf);

    /* A take closed with no frames still gets its tags. */
    path = in_dir(state, "tags_empty.flac");
    cfg.path = path;
    cfg.description = NULL;
    assert_int_equal(reel_writer_open(&w, &cfg, NULL), 0);
    assert_int_equal(reel_writer_close(w), 0);
    sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    comment = sf_get_string(sf, SF_STR_COMMENT);
    assert_non_null(comment);
    assert_string_equal(comment, "time_reference=99");
    sf_close(sf);
}

/* ---- header kept valid while recording ---------------------------------- */

static void test_sync_rewrites_header(void **state)
{
    static const reel_format wavs[] = { REEL_FORMAT_WAV24, REEL_FORMAT_WAV32F,
                                        REEL_FORMAT_RF64 };
    for (size_t i = 0; i < 3; i++) {
        reel_format f = wavs[i];
        unsigned fb = frame_bytes_of(f, 1);
        char name[32];
        snprintf(name, sizeof name, "sync_%s.wav", reel_format_name(f));
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", in_dir(state, name));
        reel_writer *w = open_w(path, f, 1);

        assert_int_equal(write_pattern(w, 0, 1001, 1), 0);
        assert_int_equal(reel_writer_sync(w), 0);
        assert_header(path, f, 1001, fb, 1);
        assert_int_equal(sf_frames(path), 1001);
        assert_int_equal(sox_frames(path), 1001);

        /* Written but not synced: the header still says 1001, and readers
         * ignore the bytes past it. */
        assert_int_equal(write_pattern(w, 1001, 500, 1), 0);
        assert_header(path, f, 1001, fb, 0);
        assert_int_equal(sf_frames(path), 1001);
        assert_int_equal(sox_frames(path), 1001);
        assert_int_equal(sox_decoded_samples(path), 1001);

        assert_int_equal(reel_writer_sync(w), 0);
        assert_header(path, f, 1501, fb, 1);
        assert_int_equal(sf_frames(path), 1501);
        assert_int_equal(sox_frames(path), 1501);

        SF_INFO info;
        float *buf = read_all(path, &info);
        assert_pattern(buf, 0, 1501, 1);
        free(buf);
        assert_int_equal(reel_writer_close(w), 0);
        /* Odd 24-bit mono data gets its RIFF pad byte at close. */
        assert_header(path, f, 1501, fb, 1);
        assert_int_equal(sf_frames(path), 1501);
    }
}

/* Child side of the crash tests: write, sync, write more, then die without
 * closing anything. Exit codes only matter if SIGKILL somehow fails. */
static void crash_child(const char *path, reel_format f, unsigned channels, size_t synced,
                        size_t unsynced, int do_sync)
{
    reel_writer_config cfg = { .path = path, .format = f, .rate = 48000,
                               .channels = channels, .time_reference = 1234567 };
    reel_writer *w = NULL;
    if (reel_writer_open(&w, &cfg, NULL) != 0)
        _exit(2);
    float *p = malloc((synced + unsynced) * channels * sizeof *p + 1);
    if (p == NULL)
        _exit(3);
    for (size_t i = 0; i < (synced + unsynced) * channels; i++)
        p[i] = pattern(i);
    if (synced && reel_writer_write(w, p, synced) != 0)
        _exit(4);
    if (do_sync && reel_writer_sync(w) != 0)
        _exit(5);
    if (unsynced && reel_writer_write(w, p + synced * channels, unsynced) != 0)
        _exit(6);
    kill(getpid(), SIGKILL);
    _exit(7);
}

static void run_crash(const char *path, reel_format f, unsigned channels, size_t synced,
                      size_t unsynced, int do_sync)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        crash_child(path, f, channels, synced, unsynced, do_sync);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st))
        fail_msg("crash child exited with %d instead of dying", WEXITSTATUS(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
}

static void test_kill_keeps_synced_frames(void **state)
{
    static const reel_format wavs[] = { REEL_FORMAT_WAV24, REEL_FORMAT_WAV32F,
                                        REEL_FORMAT_RF64 };
    for (size_t i = 0; i < 3; i++) {
        reel_format f = wavs[i];
        char name[32];
        snprintf(name, sizeof name, "kill_%s.wav", reel_format_name(f));
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s", in_dir(state, name));
        const size_t synced = 48001, unsynced = 12345;
        run_crash(path, f, 2, synced, unsynced, 1);

        SF_INFO info;
        float *buf = read_all(path, &info);
        assert_int_equal(info.frames, synced);
        assert_int_equal(info.channels, 2);
        assert_pattern(buf, 0, synced, 2);
        free(buf);
        assert_int_equal(sox_frames(path), synced);
        assert_int_equal(sox_decoded_samples(path), synced * 2);
        assert_header(path, f, synced, frame_bytes_of(f, 2), 0);
        SF_BROADCAST_INFO bi;
        read_bext(path, &bi);
        assert_int_equal(bext_time_reference(&bi), 1234567);

        /* Killed before the first sync: a valid, empty take. */
        snprintf(name, sizeof name, "kill0_%s.wav", reel_format_name(f));
        snprintf(path, sizeof path, "%s", in_dir(state, name));
        run_crash(path, f, 2, 0, 5000, 0);
        assert_int_equal(sf_frames(path), 0);
        assert_int_equal(sox_frames(path), 0);
    }
}

/* What is true of a FLAC take whose writer was killed (libsndfile 1.2.0,
 * libFLAC 1.4): STREAMINFO still says "length unknown" (written only at
 * close), libsndfile reports frames = SF_COUNT_MAX and decodes every
 * complete 4096-frame FLAC block; the partial block held by the encoder is
 * lost. sox --i reports 0 samples yet decodes the same blocks. sync cannot
 * change any of this. Killed before the first frame, the file is empty. */
static void test_kill_flac(void **state)
{
    const char *path = in_dir(state, "kill.flac");
    const size_t written = 3 * 4096 + 1000;
    run_crash(path, REEL_FORMAT_FLAC, 2, written - 700, 700, 1);

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    assert_true(info.frames == SF_COUNT_MAX);
    sf_close(sf);
    float *buf = read_all(path, &info);
    assert_int_equal(info.frames, 3 * 4096);
    assert_pattern(buf, 0, 3 * 4096, 2);
    free(buf);
    assert_int_equal(sox_frames(path), 0);
    assert_int_equal(sox_decoded_samples(path), 3 * 4096 * 2);

    path = in_dir(state, "kill0.flac");
    run_crash(path, REEL_FORMAT_FLAC, 2, 0, 0, 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
}

/* ---- failures ---------------------------------------------------------- */

static void injected(void **state, reel_format f, int code)
{
    char name[48];
    snprintf(name, sizeof name, "inject_%s_%d.%s", reel_format_name(f), -code,
             reel_format_ext(f));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", in_dir(state, name));
    reel_writer *w = open_w(path, f, 2);
    const uint64_t limit = 10000;
    reel_writer_inject_fault(w, limit, code);

    assert_int_equal(write_pattern(w, 0, 6000, 2), 0);
    /* Passes the limit: what fits goes in, then the failure. */
    assert_int_equal(write_pattern(w, 6000, 6000, 2), code);
    assert_int_equal(reel_writer_frames(w), limit);
    const char *msg = reel_writer_error(w);
    assert_true(contains(msg, path));
    assert_true(contains(msg, code == REEL_ENOSPC ? "no space" : "input/output"));
    assert_true(contains(msg, "10000"));

    /* Sticky: later writes fail and change nothing. */
    assert_int_equal(write_pattern(w, limit, 10, 2), code);
    assert_int_equal(reel_writer_write_silence(w, 10), code);
    assert_int_equal(reel_writer_set_time_reference(w, 1), REEL_ESTATE);
    assert_int_equal(reel_writer_frames(w), limit);

    /* The header was rewritten at the failure, before any close. */
    if (f != REEL_FORMAT_FLAC) {
        assert_header(path, f, limit, frame_bytes_of(f, 2), 1);
        assert_int_equal(sf_frames(path), limit);
        assert_int_equal(sox_frames(path), limit);
    }
    assert_int_equal(reel_writer_sync(w), 0);
    assert_int_equal(reel_writer_close(w), 0);

    SF_INFO info;
    float *buf = read_all(path, &info);
    assert_int_equal(info.frames, limit);
    assert_pattern(buf, 0, limit, 2);
    free(buf);
    assert_int_equal(sox_frames(path), limit);
}

static void test_injected_faults(void **state)
{
    for (size_t i = 0; i < N_FORMATS; i++) {
        injected(state, all_formats[i], REEL_ENOSPC);
        injected(state, all_formats[i], REEL_EIO);
    }

    /* Limit reached exactly by a write: that write succeeds, the next one
     * fails without writing anything; silence obeys the limit too. */
    const char *path = in_dir(state, "inject_exact.wav");
    reel_writer *w = open_w(path, REEL_FORMAT_WAV24, 1);
    reel_writer_inject_fault(w, 3000, REEL_ENOSPC);
    assert_int_equal(write_pattern(w, 0, 1000, 1), 0);
    assert_int_equal(reel_writer_write_silence(w, 2000), 0);
    assert_int_equal(reel_writer_frames(w), 3000);
    assert_int_equal(reel_writer_write_silence(w, 1), REEL_ENOSPC);
    assert_int_equal(reel_writer_frames(w), 3000);
    assert_int_equal(reel_writer_close(w), 0);
    assert_int_equal(sf_frames(path), 3000);

    /* Limit 0 disables injection again. */
    path = in_dir(state, "inject_off.wav");
    w = open_w(path, REEL_FORMAT_WAV24, 1);
    reel_writer_inject_fault(w, 10, REEL_EIO);
    reel_writer_inject_fault(w, 0, REEL_EIO);
    assert_int_equal(write_pattern(w, 0, 1000, 1), 0);
    assert_int_equal(reel_writer_close(w), 0);
    assert_int_equal(sf_frames(path), 1000);
}

/* ---- a real full disk -------------------------------------------------- */

#define CHILD_CHECK(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                              \
        }                                                                          \
    } while (0)

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A private mount namespace (with a user namespace when not root), so the
 * tmpfs needs no cleanup and never shows outside the child. */
static int private_tmpfs(const char *dir, const char *size_opt)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (uid == 0) {
        if (unshare(CLONE_NEWNS) != 0)
            return -1;
    } else {
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
        if (write_file("/proc/self/setgroups", "deny") != 0
            || write_file("/proc/self/uid_map", map) != 0)
            return -1;
        snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
        if (write_file("/proc/self/gid_map", map) != 0)
            return -1;
    }
    /* Without this, a shared root would propagate the mount to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    return mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, size_opt);
}

static int fill_disk(const char *dir, reel_format f, unsigned channels, const char *name)
{
    char path[PATH_MAX];
    join(path, sizeof path, dir, name);
    reel_writer_config cfg = { .path = path, .format = f, .rate = 48000,
                               .channels = channels };
    reel_writer *w = NULL;
    char err[REEL_ERRMSG_MAX];
    CHILD_CHECK(reel_writer_open(&w, &cfg, err) == 0);
    const size_t chunk = 4801; /* odd, so the failure lands mid-frame */
    float *p = malloc(chunk * channels * sizeof *p);
    CHILD_CHECK(p != NULL);
    int rc = 0;
    uint64_t pos = 0;
    for (int i = 0; i < 100000 && rc == 0; i++) {
        for (size_t k = 0; k < chunk * channels; k++)
            p[k] = pattern(pos * channels + k);
        rc = reel_writer_write(w, p, chunk);
        if (rc == 0)
            pos += chunk;
        if (i % 7 == 0 && rc == 0)
            rc = reel_writer_sync(w);
    }
    uint64_t frames = reel_writer_frames(w);
    fprintf(stderr, "[ full disk ] %s: %s after %llu frames: \"%s\"\n", name,
            reel_strerror(rc), (unsigned long long)frames, reel_writer_error(w));
    CHILD_CHECK(rc == REEL_ENOSPC);
    CHILD_CHECK(strstr(reel_writer_error(w), path) != NULL);
    CHILD_CHECK(strstr(reel_writer_error(w), strerror(ENOSPC)) != NULL);
    CHILD_CHECK(frames >= pos && frames < pos + chunk);
    CHILD_CHECK(reel_writer_write(w, p, 0) == REEL_ENOSPC);
    free(p);
    /* Before close, the header already describes exactly the whole frames
     * written: a crash now would lose nothing the writer accepted. */
    int hdr_ok = 1;
    if (f != REEL_FORMAT_FLAC) {
        struct hdr h;
        uint64_t data = frames * frame_bytes_of(f, channels);
        CHILD_CHECK(read_header(path, &h) == 0);
        uint64_t riff = h.ds64 ? h.ds64_riff : h.riff_size;
        uint64_t dsize = h.ds64 ? h.ds64_data : h.data_size32;
        hdr_ok = dsize == data && h.file_size == h.data_offset + data && riff + 8 == h.file_size;
        if (!hdr_ok)
            fprintf(stderr, "[ full disk ] header before close: data %llu (want %llu), "
                    "file %llu (want %llu), riff %llu\n", (unsigned long long)dsize,
                    (unsigned long long)data, (unsigned long long)h.file_size,
                    (unsigned long long)(h.data_offset + data), (unsigned long long)riff);
    }
    int crc = reel_writer_close(w);
    if (crc != 0)
        fprintf(stderr, "[ full disk ] close: %s\n", reel_strerror(crc));

    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    CHILD_CHECK(sf != NULL);
    sf_count_t cap = info.frames == SF_COUNT_MAX ? (sf_count_t)frames + 1 : info.frames;
    float *back = malloc((size_t)(cap + 1) * channels * sizeof *back);
    CHILD_CHECK(back != NULL);
    sf_count_t got = sf_readf_float(sf, back, cap);
    sf_close(sf);
    fprintf(stderr, "[ full disk ] %s: libsndfile reads %lld frames (header %lld), "
            "sox --i says %lld\n", name, (long long)got, (long long)info.frames,
            sox_frames(path));
    for (sf_count_t k = 0; k < got * (sf_count_t)channels; k++)
        CHILD_CHECK(back[k] == pattern((uint64_t)k));
    free(back);
    if (f != REEL_FORMAT_FLAC) {
        /* Everything the writer accepted, whole frames only, nothing more. */
        CHILD_CHECK(hdr_ok);
        CHILD_CHECK(crc == 0);
        CHILD_CHECK((uint64_t)got == frames);
        CHILD_CHECK(info.frames == (sf_count_t)frames);
        CHILD_CHECK(sox_frames(path) == (long long)frames);
        struct hdr h;
        uint64_t data = frames * frame_bytes_of(f, channels);
        CHILD_CHECK(read_header(path, &h) == 0);
        uint64_t riff = h.ds64 ? h.ds64_riff : h.riff_size;
        CHILD_CHECK(h.file_size == h.data_offset + data + (data & 1));
        CHILD_CHECK(riff + 8 == h.file_size);
    } else {
        /* FLAC: see test_kill_flac; the encoder's last partial block, and
         * whatever it was writing when the disk filled, are lost. */
        CHILD_CHECK(got > 0 && (uint64_t)got <= frames);
    }
    return 0;
}

static int full_disk_child(const char *dir)
{
    if (private_tmpfs(dir, "size=1m") != 0) {
        fprintf(stderr, "cannot mount a private tmpfs on %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (fill_disk(dir, REEL_FORMAT_WAV24, 2, "full_stereo.wav") != 0)
        return 1;
    /* The disk is now full: a new take cannot even get its header. */
    char path[PATH_MAX];
    join(path, sizeof path, dir, "next.wav");
    reel_writer_config cfg = { .path = path, .format = REEL_FORMAT_WAV24, .rate = 48000,
                               .channels = 1 };
    reel_writer *w = NULL;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_writer_open(&w, &cfg, err);
    fprintf(stderr, "[ full disk ] open on a full disk: %s: \"%s\"\n", reel_strerror(rc), err);
    CHILD_CHECK(rc == REEL_ENOSPC);
    CHILD_CHECK(strstr(err, path) != NULL);
    CHILD_CHECK(access(path, F_OK) != 0); /* no half-made take left behind */

    /* Free the space and go again with odd-sized frames and other formats. */
    join(path, sizeof path, dir, "full_stereo.wav");
    CHILD_CHECK(unlink(path) == 0);
    if (fill_disk(dir, REEL_FORMAT_WAV24, 1, "full_mono.wav") != 0)
        return 1;
    join(path, sizeof path, dir, "full_mono.wav");
    CHILD_CHECK(unlink(path) == 0);
    if (fill_disk(dir, REEL_FORMAT_RF64, 1, "full.rf64.wav") != 0)
        return 1;
    join(path, sizeof path, dir, "full.rf64.wav");
    CHILD_CHECK(unlink(path) == 0);
    if (fill_disk(dir, REEL_FORMAT_WAV32F, 2, "full_float.wav") != 0)
        return 1;
    join(path, sizeof path, dir, "full_float.wav");
    CHILD_CHECK(unlink(path) == 0);
    if (fill_disk(dir, REEL_FORMAT_FLAC, 2, "full.flac") != 0)
        return 1;
    return 0;
}

static void test_real_disk_full(void **state)
{
    const char *dir = in_dir(state, "tiny");
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    assert_int_equal(mkdir(d, 0755), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(full_disk_child(d));
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test_setup_teardown(test_open_rejects_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_replaces_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors_name_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file_is_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_all_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clipping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flac_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_rewrites_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_keeps_synced_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_flac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_disk_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
