/* test_writer_rf64.c: a wav32f take crossing 4 GiB for real (slow test).
 *
 * Writes a mono float take to a tmpfs (/dev/shm, or $REEL_RF64_DIR) until its
 * data passes 4 GiB, syncing right at the edge: with the file one byte short
 * of 0xffffffff the header must still be plain RIFF with exact sizes, one
 * frame later (after a sync) it must be RF64 with a ds64 chunk, at the same
 * data offset, and libsndfile and sox must agree on the frame count at each
 * step and after close. Samples are compared at the start, at the RIFF/RF64
 * switch, at byte 2^32 of the file, at 4 GiB of data and at the end, both
 * through libsndfile and straight from the bytes. Needs about 4 GiB of free
 * space in that directory; removed in teardown.
 *
 * Threads: single-threaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reel_error.h"
#include "writer.h"

struct fx {
    char dir[PATH_MAX / 2];
    char path[PATH_MAX];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    const char *base = getenv("REEL_RF64_DIR");
    snprintf(f->dir, sizeof f->dir, "%s/reel-rf64-XXXXXX", base && *base ? base : "/dev/shm");
    if (mkdtemp(f->dir) == NULL) {
        fprintf(stderr, "mkdtemp %s failed\n", f->dir);
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/Long_T01.wav", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->path);
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

/* Exactly representable (16-bit step), and not periodic: the xor folds the
 * high bits of the product back in, so a block misplaced by any multiple of
 * 2^24 frames -- or wrapped at 4 GiB -- reads back different. */
static float pattern(uint64_t i)
{
    uint64_t x = i * 2654435761u;
    x ^= x >> 29;
    return (float)((x >> 8) & 0xffff) / 65536.0f - 0.5f;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

struct hdr {
    char magic[5];
    uint32_t riff_size;
    int junk, ds64, fact, pad;
    uint32_t fact_frames;
    uint64_t ds64_riff, ds64_data, ds64_frames;
    uint32_t data_size32;
    uint64_t data_offset;
    uint64_t file_size;
};

static void parse_header(const char *path, struct hdr *h)
{
    unsigned char b[8192];
    memset(h, 0, sizeof *h);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, b, sizeof b);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    h->file_size = (uint64_t)st.st_size;
    assert_true(n >= 12);
    memcpy(h->magic, b, 4);
    h->riff_size = le32(b + 4);
    assert_memory_equal(b + 8, "WAVE", 4);
    for (ssize_t pos = 12; pos + 8 <= n;) {
        uint32_t size = le32(b + pos + 4);
        const unsigned char *body = b + pos + 8;
        if (memcmp(b + pos, "data", 4) == 0) {
            h->data_offset = (uint64_t)pos + 8;
            h->data_size32 = size;
            return;
        }
        h->junk |= memcmp(b + pos, "JUNK", 4) == 0;
        h->pad |= memcmp(b + pos, "PAD ", 4) == 0;
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
    fail_msg("%s: no data chunk", path);
}

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

static long long sox_frames(const char *path)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "sox --i -s '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    long long n = -1;
    if (fscanf(p, "%lld", &n) != 1)
        n = -1;
    return pclose(p) == 0 ? n : -1;
}

/* Header and readers agree that the file holds exactly `frames` frames. */
static void assert_state(const char *path, uint64_t frames, int want_rf64)
{
    struct hdr h;
    parse_header(path, &h);
    uint64_t data = frames * 4;
    if (want_rf64) {
        assert_string_equal(h.magic, "RF64");
        assert_int_equal(h.riff_size, 0xffffffffu);
        assert_true(h.ds64);
        assert_false(h.junk);
        assert_int_equal(h.data_size32, 0xffffffffu);
        assert_int_equal(h.ds64_data, data);
        assert_int_equal(h.ds64_frames, frames);
        assert_int_equal(h.ds64_riff + 8, h.file_size);
    } else {
        assert_string_equal(h.magic, "RIFF");
        assert_true(h.junk);
        assert_false(h.ds64);
        assert_int_equal(h.fact_frames, frames);
        assert_int_equal(h.data_size32, data);
        assert_int_equal((uint64_t)h.riff_size + 8, h.file_size);
    }
    assert_int_equal(h.file_size, h.data_offset + data);
    assert_int_equal(sf_frames(path), frames);
    assert_int_equal(sox_frames(path), frames);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define CHUNK (1u << 20)

static void write_upto(reel_writer *w, float *buf, uint64_t target)
{
    while (reel_writer_frames(w) < target) {
        uint64_t pos = reel_writer_frames(w);
        size_t n = target - pos < CHUNK ? (size_t)(target - pos) : CHUNK;
        for (size_t k = 0; k < n; k++)
            buf[k] = pattern(pos + k);
        int rc = reel_writer_write(w, buf, n);
        if (rc != 0)
            fail_msg("write at frame %llu: %s", (unsigned long long)pos, reel_writer_error(w));
    }
}

/* Frames [first, first + n) through libsndfile and from the raw bytes. */
static void assert_window(const char *path, uint64_t data_offset, uint64_t first, size_t n)
{
    float *buf = malloc(n * sizeof *buf);
    assert_non_null(buf);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(sf_seek(sf, (sf_count_t)first, SEEK_SET), (sf_count_t)first);
    assert_int_equal(sf_readf_float(sf, buf, (sf_count_t)n), (sf_count_t)n);
    sf_close(sf);
    for (size_t k = 0; k < n; k++) {
        if (buf[k] != pattern(first + k))
            fail_msg("libsndfile frame %llu: got %.9g want %.9g",
                     (unsigned long long)(first + k), buf[k], pattern(first + k));
    }

    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t want = (ssize_t)(n * 4);
    assert_int_equal(pread(fd, buf, (size_t)want, (off_t)(data_offset + first * 4)), want);
    close(fd);
    for (size_t k = 0; k < n; k++) /* little-endian host, little-endian file */
        if (buf[k] != pattern(first + k))
            fail_msg("raw frame %llu: got %.9g", (unsigned long long)(first + k), buf[k]);
    free(buf);
}

static void test_wav32f_crosses_4gib(void **state)
{
    struct fx *f = *state;
    double t0 = now();
    reel_writer_config cfg = { .path = f->path, .format = REEL_FORMAT_WAV32F, .rate = 48000,
                               .channels = 1, .time_reference = 48000ull * 3600 * 30,
                               .description = "4 GiB crossing" };
    reel_writer *w = NULL;
    char err[REEL_ERRMSG_MAX] = "";
    if (reel_writer_open(&w, &cfg, err) != 0)
        fail_msg("%s", err);
    struct hdr h;
    parse_header(f->path, &h);
    const uint64_t off = h.data_offset;

    float *buf = malloc(CHUNK * sizeof *buf);
    assert_non_null(buf);

    /* The largest take that is still a RIFF file: length < 0xffffffff. */
    const uint64_t edge = (0xffffffffull - 1 - off) / 4;
    write_upto(w, buf, edge);
    assert_int_equal(reel_writer_sync(w), 0);
    assert_state(f->path, edge, 0);
    double t1 = now();

    /* One frame more and the next sync turns it into RF64 in place. */
    write_upto(w, buf, edge + 1);
    assert_int_equal(reel_writer_sync(w), 0);
    assert_state(f->path, edge + 1, 1);
    parse_header(f->path, &h);
    assert_int_equal(h.data_offset, off);
    assert_true(h.pad); /* PAD takes up what JUNK + fact held */

    const uint64_t total = (1ull << 30) + 262147; /* data past 4 GiB, odd count */
    write_upto(w, buf, total);
    assert_int_equal(reel_writer_frames(w), total);
    assert_int_equal(reel_writer_close(w), 0);
    free(buf);
    double t2 = now();

    assert_state(f->path, total, 1);
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(f->path, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.format, SF_FORMAT_RF64 | SF_FORMAT_FLOAT);
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    assert_int_equal(sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, (int)sizeof bi), SF_TRUE);
    sf_close(sf);
    assert_int_equal((uint64_t)bi.time_reference_high << 32 | bi.time_reference_low,
                     48000ull * 3600 * 30);

    assert_window(f->path, off, 0, 65536);
    assert_window(f->path, off, edge - 4096, 8192);               /* RIFF -> RF64 */
    assert_window(f->path, off, ((1ull << 32) - off) / 4 - 4096, 8192); /* byte 2^32 */
    assert_window(f->path, off, (1ull << 30) - 4096, 8192);       /* 4 GiB of data */
    assert_window(f->path, off, total - 65536, 65536);            /* the end */
    double t3 = now();
    fprintf(stderr, "[ rf64 ] data offset %llu, edge frame %llu; to edge %.1f s, "
            "to close %.1f s, checks %.1f s\n", (unsigned long long)off,
            (unsigned long long)edge, t1 - t0, t2 - t1, t3 - t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wav32f_crosses_4gib, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
