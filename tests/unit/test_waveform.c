/* test_waveform.c: unit tests for waveform pictures (engine/waveform.c).
 *
 * Single-threaded. Sound files are written here with libsndfile (float WAV,
 * so the values are exact), summarised and drawn, and the PNG is read back
 * with libpng (reel_waveform_read_png, itself checked against libpng's own
 * reader on dimensions). Expected columns and rows are worked out by hand
 * from the mapping in waveform.h: column c holds frames
 * [floor(c*N/W), floor((c+1)*N/W)), value v is row
 * y0 + floor((1 - v) * (h - 1) / 2 + 0.5) of its lane. Every fixture file
 * lives in a temporary folder that teardown removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <png.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reel_error.h"
#include "waveform.h"

typedef struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 64];
    char png[PATH_MAX + 64];
    reel_waveform *w;
    unsigned char *rgb;
    char err[REEL_ERRMSG_MAX];
} fixture;

static fixture fx;

static int setup(void **state)
{
    memset(&fx, 0, sizeof fx);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/reel-waveform.XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.path, sizeof fx.path, "%s/in.wav", fx.dir);
    snprintf(fx.png, sizeof fx.png, "%s/out.png", fx.dir);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    reel_waveform_destroy(f->w);
    free(f->rgb);
    f->w = NULL;
    f->rgb = NULL;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes frames (interleaved) as a float WAV at path. */
static void write_sound(const char *path, const float *x, sf_count_t frames, int channels)
{
    SF_INFO sfi = {.samplerate = 48000, .channels = channels,
                   .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &sfi);
    assert_non_null(sf);
    assert_int_equal(sf_writef_float(sf, x, frames), frames);
    assert_int_equal(sf_close(sf), 0);
}

/* The colour at (x, y) of an RGB picture of width w, as 0xRRGGBB. */
static uint32_t pixel(const unsigned char *rgb, unsigned w, unsigned x, unsigned y)
{
    const unsigned char *p = rgb + ((size_t)y * w + x) * 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

#define assert_colour(got, want)                                                       \
    do {                                                                               \
        uint32_t g_ = (got), w_ = (want);                                              \
        if (g_ != w_)                                                                  \
            fail_msg("%s = #%06x, want #%06x", #got, g_, w_);                          \
    } while (0)

/* Checks column x of lane [y0, y0 + h): colour `bar` on rows [top, bottom]
 * (none when top > bottom), the centre line elsewhere on its row, and the
 * background on every other row. */
static void check_column(const unsigned char *rgb, unsigned w, unsigned x, unsigned y0,
                         unsigned h, unsigned top, unsigned bottom, uint32_t bar,
                         unsigned centre)
{
    for (unsigned y = y0; y < y0 + h; y++) {
        uint32_t want = REEL_WAVEFORM_BG;
        if (y >= top && y <= bottom)
            want = bar;
        else if (y == centre)
            want = REEL_WAVEFORM_CENTRE;
        uint32_t got = pixel(rgb, w, x, y);
        if (got != want)
            fail_msg("column %u row %u: #%06x, want #%06x", x, y, got, want);
    }
}

/* Draws f->w to a PNG file of the given height and reads it back. */
static void draw_and_read(fixture *f, unsigned height, unsigned *w, unsigned *h)
{
    int rc = reel_waveform_write_png(f->w, height, f->png, f->err);
    if (rc)
        fail_msg("write_png: %s", f->err);
    free(f->rgb);
    f->rgb = NULL;
    rc = reel_waveform_read_png(f->png, &f->rgb, w, h, f->err);
    if (rc)
        fail_msg("read_png: %s", f->err);
}

/* ---- the column mapping ---------------------------------------------------- */

/* N = 10 frames in W = 4 columns: [0,2) [2,5) [5,7) [7,10). Frame i holds
 * (i + 1) / 16 with the sign alternating, so each column's min and max name
 * exactly which frames it got. */
static void test_column_mapping(void **state)
{
    fixture *f = *state;
    float x[10];
    for (int i = 0; i < 10; i++)
        x[i] = (float)(i + 1) / 16 * (i % 2 ? -1 : 1);
    write_sound(f->path, x, 10, 1);
    assert_int_equal(reel_waveform_compute(f->path, 4, 0.999, &f->w, f->err), 0);
    assert_int_equal(f->w->width, 4);
    assert_int_equal(f->w->channels, 1);
    assert_int_equal(f->w->frames, 10);
    assert_int_equal(f->w->rate, 48000);
    /* column: frames -> min, max */
    const float want_min[4] = {-2 / 16.f, -4 / 16.f, -6 / 16.f, -10 / 16.f};
    const float want_max[4] = {1 / 16.f, 5 / 16.f, 7 / 16.f, 9 / 16.f};
    for (int c = 0; c < 4; c++) {
        if (f->w->min[c] != want_min[c] || f->w->max[c] != want_max[c])
            fail_msg("column %d: [%g, %g], want [%g, %g]", c, f->w->min[c], f->w->max[c],
                     want_min[c], want_max[c]);
    }
    assert_true(f->w->peak == 10 / 16.f);
    assert_int_equal(f->w->clipped_total, 0);
}

/* Fewer frames than columns: N = 3, W = 6 gives boundaries 0 0 1 1 2 2 3, so
 * columns 0, 2 and 4 are empty and 1, 3, 5 hold frames 0, 1, 2. */
static void test_fewer_frames_than_columns(void **state)
{
    fixture *f = *state;
    const float x[3] = {0.5f, -0.5f, 0.25f};
    write_sound(f->path, x, 3, 1);
    assert_int_equal(reel_waveform_compute(f->path, 6, 0.999, &f->w, f->err), 0);
    const float want[6] = {0, 0.5f, 0, -0.5f, 0, 0.25f};
    for (int c = 0; c < 6; c++) {
        if (f->w->min[c] != want[c] || f->w->max[c] != want[c])
            fail_msg("column %d: [%g, %g], want %g", c, f->w->min[c], f->w->max[c], want[c]);
    }
    unsigned w, h;
    draw_and_read(f, 21, &w, &h);
    /* h = 21: v -> floor((1 - v) * 10 + 0.5); 0.5 -> 5, -0.5 -> 15, 0.25 -> 8 */
    check_column(f->rgb, w, 0, 0, 21, 1, 0, 0, 10);
    check_column(f->rgb, w, 1, 0, 21, 5, 5, REEL_WAVEFORM_WAVE, 10);
    check_column(f->rgb, w, 2, 0, 21, 1, 0, 0, 10);
    check_column(f->rgb, w, 3, 0, 21, 15, 15, REEL_WAVEFORM_WAVE, 10);
    check_column(f->rgb, w, 4, 0, 21, 1, 0, 0, 10);
    check_column(f->rgb, w, 5, 0, 21, 8, 8, REEL_WAVEFORM_WAVE, 10);
}

/* ---- pictures ---------------------------------------------------------------- */

/* Default size, read back by libpng's own reader (not ours) too. */
static void test_png_dimensions(void **state)
{
    fixture *f = *state;
    float x[4800];
    for (int i = 0; i < 4800; i++)
        x[i] = (i / 24) % 2 ? 0.3f : -0.3f;
    write_sound(f->path, x, 4800, 1);
    assert_int_equal(reel_waveform_compute(f->path, REEL_WAVEFORM_WIDTH, 0.999, &f->w, f->err), 0);
    assert_int_equal(reel_waveform_write_png(f->w, REEL_WAVEFORM_HEIGHT, f->png, f->err), 0);

    FILE *fp = fopen(f->png, "rb");
    assert_non_null(fp);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) {
        fclose(fp);
        fail_msg("libpng could not read %s", f->png);
    }
    png_init_io(png, fp);
    png_read_info(png, info);
    assert_int_equal(png_get_image_width(png, info), 1200);
    assert_int_equal(png_get_image_height(png, info), 120);
    assert_int_equal(png_get_bit_depth(png, info), 8);
    assert_int_equal(png_get_color_type(png, info), PNG_COLOR_TYPE_RGB);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);

    unsigned w, h;
    assert_int_equal(reel_waveform_read_png(f->png, &f->rgb, &w, &h, f->err), 0);
    assert_int_equal(w, 1200);
    assert_int_equal(h, 120);
}

/* DC and square-wave segments, a clipped column, a negative DC segment:
 * N = 1000, W = 10 (100 frames a column), H = 21 (rows 0..20, centre 10).
 *   columns 0-2  +0.5 DC         one blue pixel on row 5
 *   columns 3-4  silence         centre line only
 *   columns 5-6  square +-0.5    blue rows 5..15
 *   column  7    +-1.2 (float)   red rows 0..20 (clamped), 100 clipped
 *   columns 8-9  -0.25 DC        one blue pixel on row 13 */
static void test_known_signal(void **state)
{
    fixture *f = *state;
    float x[1000];
    for (int i = 0; i < 1000; i++) {
        int c = i / 100;
        if (c <= 2)
            x[i] = 0.5f;
        else if (c <= 4)
            x[i] = 0;
        else if (c <= 6)
            x[i] = (i / 5) % 2 ? -0.5f : 0.5f;
        else if (c == 7)
            x[i] = i % 2 ? -1.2f : 1.2f;
        else
            x[i] = -0.25f;
    }
    write_sound(f->path, x, 1000, 1);
    assert_int_equal(reel_waveform_compute(f->path, 10, 0.999, &f->w, f->err), 0);
    assert_int_equal(f->w->clipped_total, 100);
    assert_int_equal(f->w->clipped[7], 100);
    assert_int_equal(f->w->clipped[6], 0);
    assert_true(f->w->peak == 1.2f);
    unsigned w, h;
    draw_and_read(f, 21, &w, &h);
    assert_int_equal(w, 10);
    assert_int_equal(h, 21);
    for (unsigned c = 0; c <= 2; c++)
        check_column(f->rgb, w, c, 0, 21, 5, 5, REEL_WAVEFORM_WAVE, 10);
    for (unsigned c = 3; c <= 4; c++)
        check_column(f->rgb, w, c, 0, 21, 1, 0, 0, 10);
    for (unsigned c = 5; c <= 6; c++)
        check_column(f->rgb, w, c, 0, 21, 5, 15, REEL_WAVEFORM_WAVE, 10);
    check_column(f->rgb, w, 7, 0, 21, 0, 20, REEL_WAVEFORM_CLIP, 10);
    for (unsigned c = 8; c <= 9; c++)
        check_column(f->rgb, w, c, 0, 21, 13, 13, REEL_WAVEFORM_WAVE, 10);
}

/* The clip level is the caller's: 0.5 makes the +-0.5 square clipped. */
static void test_clip_level(void **state)
{
    fixture *f = *state;
    float x[200];
    for (int i = 0; i < 200; i++)
        x[i] = i < 100 ? 0.4f : (i % 2 ? -0.5f : 0.5f);
    write_sound(f->path, x, 200, 1);
    assert_int_equal(reel_waveform_compute(f->path, 2, 0.5, &f->w, f->err), 0);
    assert_int_equal(f->w->clipped[0], 0);
    assert_int_equal(f->w->clipped[1], 100);
    unsigned w, h;
    draw_and_read(f, 11, &w, &h);
    /* h = 11: 0.4 -> floor(0.6 * 5 + 0.5) = 3; +-0.5 -> rows 3 (2.5+0.5) .. 8 */
    check_column(f->rgb, w, 0, 0, 11, 3, 3, REEL_WAVEFORM_WAVE, 5);
    check_column(f->rgb, w, 1, 0, 11, 3, 8, REEL_WAVEFORM_CLIP, 5);
}

/* Stereo: two lanes, H = 20: lane 0 rows 0..9 (centre floor(4.5+0.5) = 5),
 * lane 1 rows 10..19 (centre 15). Left +0.5 -> row floor(0.5*4.5+0.5) = 2;
 * right silent -> its centre line only. */
static void test_stereo_lanes(void **state)
{
    fixture *f = *state;
    float x[2 * 300];
    for (int i = 0; i < 300; i++) {
        x[2 * i] = 0.5f;
        x[2 * i + 1] = 0;
    }
    write_sound(f->path, x, 300, 2);
    assert_int_equal(reel_waveform_compute(f->path, 3, 0.999, &f->w, f->err), 0);
    assert_int_equal(f->w->channels, 2);
    unsigned w, h;
    draw_and_read(f, 20, &w, &h);
    for (unsigned c = 0; c < 3; c++) {
        check_column(f->rgb, w, c, 0, 10, 2, 2, REEL_WAVEFORM_WAVE, 5);
        check_column(f->rgb, w, c, 10, 10, 1, 0, 0, 15);
    }
    /* Too low for two lanes of REEL_WAVEFORM_MIN_LANE rows. */
    unsigned char *png = NULL;
    size_t size = 0;
    assert_int_equal(reel_waveform_png(f->w, 5, &png, &size, f->err), REEL_EINVAL);
    assert_null(png);
    assert_non_null(strstr(f->err, "too small for 2 channels"));
}

/* A silent file, and an empty one: background and the centre line only. */
static void test_silence_is_centre_line_only(void **state)
{
    fixture *f = *state;
    float x[48000] = {0};
    for (int pass = 0; pass < 2; pass++) {
        unlink(f->path);
        write_sound(f->path, x, pass == 0 ? 48000 : 0, 1);
        reel_waveform_destroy(f->w);
        f->w = NULL;
        assert_int_equal(reel_waveform_compute(f->path, 300, 0.999, &f->w, f->err), 0);
        assert_int_equal(f->w->frames, pass == 0 ? 48000 : 0);
        assert_true(f->w->peak == 0);
        unsigned w, h;
        draw_and_read(f, 60, &w, &h);
        assert_int_equal(w, 300);
        assert_int_equal(h, 60);
        /* h = 60: centre row floor(29.5 + 0.5) = 30 */
        for (unsigned y = 0; y < h; y++)
            for (unsigned c = 0; c < w; c++)
                assert_colour(pixel(f->rgb, w, c, y),
                              y == 30 ? REEL_WAVEFORM_CENTRE : REEL_WAVEFORM_BG);
    }
}

/* A file longer than one read block: every frame lands in its column. */
static void test_long_file_blocks(void **state)
{
    fixture *f = *state;
    enum { N = 200003 };
    float *x = malloc(N * sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = (float)(i % 1000) / 2000;      /* 0 .. 0.4995 */
    x[N - 1] = -0.75f;                         /* the very last frame */
    x[65536] = 0.9f;                           /* first frame of the second block */
    write_sound(f->path, x, N, 1);
    free(x);
    assert_int_equal(reel_waveform_compute(f->path, 7, 0.999, &f->w, f->err), 0);
    /* boundaries floor(c * 200003 / 7): 0 28571 57143 85715 114287 142859
     * 171431 200003: frame 65536 is in column 2, frame 200002 in column 6. */
    assert_true(f->w->max[2] == 0.9f);
    assert_true(f->w->min[6] == -0.75f);
    assert_true(f->w->min[0] == 0.0f);
    assert_true(f->w->max[0] == 0.4995f);
    assert_true(f->w->min[5] == 0.0f);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_errors(void **state)
{
    fixture *f = *state;
    char missing[PATH_MAX + 64];
    snprintf(missing, sizeof missing, "%s/nope.wav", f->dir);
    assert_int_equal(reel_waveform_compute(missing, 100, 0.999, &f->w, f->err), REEL_ENOTFOUND);
    assert_null(f->w);
    assert_non_null(strstr(f->err, missing));

    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("not a sound at all, just text\n", fp);
    fclose(fp);
    assert_int_equal(reel_waveform_compute(f->path, 100, 0.999, &f->w, f->err), REEL_EFORMAT);
    assert_non_null(strstr(f->err, "not a sound file"));
    assert_int_equal(reel_waveform_compute(f->dir, 100, 0.999, &f->w, f->err), REEL_EFORMAT);
    assert_non_null(strstr(f->err, "is a folder"));

    unlink(f->path);
    float x[100] = {0.25f};
    write_sound(f->path, x, 100, 1);
    assert_int_equal(reel_waveform_compute(f->path, 0, 0.999, &f->w, f->err), REEL_EINVAL);
    assert_non_null(strstr(f->err, "width must be between 1 and 16384, got 0"));
    assert_int_equal(reel_waveform_compute(f->path, 10, 0, &f->w, f->err), REEL_EINVAL);
    assert_null(f->w);
    assert_int_equal(reel_waveform_compute(f->path, 10, 0.999, &f->w, f->err), 0);

    /* --out naming the take itself (or any other non-PNG) is refused and the
     * file is left as it was. */
    struct stat before, after;
    assert_int_equal(stat(f->path, &before), 0);
    assert_int_equal(reel_waveform_write_png(f->w, 20, f->path, f->err), REEL_EEXIST);
    assert_non_null(strstr(f->err, "exists and is not a PNG; not replacing it"));
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    /* An existing PNG is replaced. */
    assert_int_equal(reel_waveform_write_png(f->w, 20, f->png, f->err), 0);
    assert_int_equal(reel_waveform_write_png(f->w, 30, f->png, f->err), 0);
    unsigned w, h;
    assert_int_equal(reel_waveform_read_png(f->png, &f->rgb, &w, &h, f->err), 0);
    assert_int_equal(h, 30);
    /* A folder that does not exist. */
    char bad[PATH_MAX + 64];
    snprintf(bad, sizeof bad, "%s/no/such/out.png", f->dir);
    assert_int_equal(reel_waveform_write_png(f->w, 20, bad, f->err), REEL_ENOTFOUND);
    assert_non_null(strstr(f->err, bad));
    /* Reading a PNG that is not one. */
    free(f->rgb);
    f->rgb = NULL;
    assert_int_equal(reel_waveform_read_png(f->path, &f->rgb, &w, &h, f->err), REEL_EFORMAT);
    assert_null(f->rgb);
    assert_int_equal(reel_waveform_draw(f->w, 0, NULL, f->err), REEL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_column_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fewer_frames_than_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_png_dimensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_known_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clip_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stereo_lanes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_is_centre_line_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_file_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
