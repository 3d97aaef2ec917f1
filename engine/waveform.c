/* waveform.c: min/max per pixel column of a sound file, drawn as a PNG.
 *
 * The file is read through libsndfile in blocks of BLOCK frames (so a take of
 * hours needs no more memory than a short one) and reduced column by column
 * with the exact integer mapping documented in waveform.h; the picture goes
 * through libpng's simplified API (png_image_*), which reports errors in the
 * image struct instead of longjmp'ing through our frames.
 *
 * Threads: control thread only. */
#include "waveform.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <sndfile.h>

#define BLOCK 65536

void reel_waveform_destroy(reel_waveform *w)
{
    if (!w)
        return;
    free(w->min);
    free(w->max);
    free(w->clipped);
    free(w);
}

/* First frame of column c: floor(c * N / W), without overflow for any N
 * libsndfile can report. */
static uint64_t column_start(uint64_t c, uint64_t n, unsigned width)
{
    return (uint64_t)(((unsigned __int128)c * n) / width);
}

int reel_waveform_compute(const char *path, unsigned width, double clip_level,
                          reel_waveform **out, char *errmsg)
{
    *out = NULL;
    if (width < 1 || width > REEL_WAVEFORM_MAX_WIDTH)
        return reel_fail(errmsg, REEL_EINVAL, "width must be between 1 and %d, got %u",
                         REEL_WAVEFORM_MAX_WIDTH, width);
    if (!(clip_level > 0) || !isfinite(clip_level))
        return reel_fail(errmsg, REEL_EINVAL, "clip level must be a positive number");

    struct stat st;
    if (stat(path, &st) != 0)
        return reel_fail(errmsg, REEL_ENOTFOUND, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return reel_fail(errmsg, REEL_EFORMAT, "%s: is a folder, not a sound file", path);
    SF_INFO sfi;
    memset(&sfi, 0, sizeof sfi);
    SNDFILE *sf = sf_open(path, SFM_READ, &sfi);
    if (!sf)
        return reel_fail(errmsg, REEL_EFORMAT, "%s: not a sound file libsndfile reads (%s)", path,
                         sf_strerror(NULL));
    if (sfi.channels < 1 || sfi.samplerate < 1) {
        sf_close(sf);
        return reel_fail(errmsg, REEL_EFORMAT, "%s: no channels", path);
    }
    /* Float files keep values beyond full scale (they are what clipped);
     * integer files come normalised to [-1, 1). */
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);

    unsigned ch = (unsigned)sfi.channels;
    reel_waveform *w = calloc(1, sizeof *w);
    float *buf = malloc((size_t)BLOCK * ch * sizeof *buf);
    size_t cells = (size_t)width * ch;
    if (w) {
        w->min = calloc(cells, sizeof *w->min);
        w->max = calloc(cells, sizeof *w->max);
        w->clipped = calloc(cells, sizeof *w->clipped);
    }
    if (!w || !buf || !w->min || !w->max || !w->clipped) {
        reel_waveform_destroy(w);
        free(buf);
        sf_close(sf);
        return reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory for the waveform", path);
    }
    w->width = width;
    w->channels = ch;
    w->rate = (unsigned)sfi.samplerate;
    uint64_t n = sfi.frames > 0 ? (uint64_t)sfi.frames : 0;
    w->frames = n;

    float clip = (float)clip_level;
    uint64_t f = 0;            /* next frame */
    uint64_t c = 0;            /* its column */
    uint64_t end = column_start(1, n, width);
    int fresh = 1;             /* column c has no frame yet */
    while (f < n) {
        sf_count_t want = (sf_count_t)((n - f) < BLOCK ? (n - f) : BLOCK);
        sf_count_t got = sf_readf_float(sf, buf, want);
        if (got <= 0) {
            int rc = reel_fail(errmsg, REEL_EIO, "%s: read failed at frame %llu of %llu (%s)",
                               path, (unsigned long long)f, (unsigned long long)n,
                               sf_strerror(sf));
            reel_waveform_destroy(w);
            free(buf);
            sf_close(sf);
            return rc;
        }
        for (sf_count_t i = 0; i < got; i++, f++) {
            while (f >= end) {
                c++;
                end = column_start(c + 1, n, width);
                fresh = 1;
            }
            const float *fr = buf + (size_t)i * ch;
            float *mn = w->min + c * ch, *mx = w->max + c * ch;
            uint32_t *cl = w->clipped + c * ch;
            for (unsigned k = 0; k < ch; k++) {
                float x = fr[k];
                if (x != x)
                    x = 0; /* a NaN in a float file draws as silence */
                if (fresh || x < mn[k])
                    mn[k] = x;
                if (fresh || x > mx[k])
                    mx[k] = x;
                float a = fabsf(x);
                if (a > w->peak)
                    w->peak = a;
                if (a >= clip) {
                    if (cl[k] < UINT32_MAX)
                        cl[k]++;
                    w->clipped_total++;
                }
            }
            fresh = 0;
        }
    }
    free(buf);
    sf_close(sf);
    *out = w;
    return 0;
}

static void put(unsigned char *rgb, unsigned width, unsigned x, unsigned y, uint32_t colour)
{
    unsigned char *p = rgb + ((size_t)y * width + x) * 3;
    p[0] = (unsigned char)(colour >> 16);
    p[1] = (unsigned char)(colour >> 8);
    p[2] = (unsigned char)colour;
}

/* The row of value v in a lane of h rows starting at y0 (waveform.h). */
static unsigned row_of(float v, unsigned y0, unsigned h)
{
    double x = v;
    if (x > 1)
        x = 1;
    if (x < -1)
        x = -1;
    return y0 + (unsigned)floor((1 - x) * (double)(h - 1) / 2 + 0.5);
}

static int check_height(const reel_waveform *w, unsigned height, char *errmsg)
{
    if (height < 1 || height > REEL_WAVEFORM_MAX_HEIGHT)
        return reel_fail(errmsg, REEL_EINVAL, "height must be between 1 and %d, got %u",
                         REEL_WAVEFORM_MAX_HEIGHT, height);
    if ((uint64_t)height < (uint64_t)w->channels * REEL_WAVEFORM_MIN_LANE)
        return reel_fail(errmsg, REEL_EINVAL,
                         "height %u is too small for %u channels (at least %u rows each)", height,
                         w->channels, REEL_WAVEFORM_MIN_LANE);
    return 0;
}

int reel_waveform_draw(const reel_waveform *w, unsigned height, unsigned char *rgb,
                       char *errmsg)
{
    int rc = check_height(w, height, errmsg);
    if (rc)
        return rc;
    unsigned width = w->width;
    for (unsigned y = 0; y < height; y++)
        for (unsigned x = 0; x < width; x++)
            put(rgb, width, x, y, REEL_WAVEFORM_BG);
    for (unsigned k = 0; k < w->channels; k++) {
        unsigned y0 = (unsigned)((uint64_t)k * height / w->channels);
        unsigned y1 = (unsigned)((uint64_t)(k + 1) * height / w->channels);
        unsigned h = y1 - y0;
        unsigned centre = row_of(0, y0, h);
        for (unsigned x = 0; x < width; x++)
            put(rgb, width, x, centre, REEL_WAVEFORM_CENTRE);
        for (unsigned x = 0; x < width; x++) {
            size_t i = (size_t)x * w->channels + k;
            float mn = w->min[i], mx = w->max[i];
            if (mn == 0 && mx == 0)
                continue; /* no frame, or silence: the centre line shows */
            uint32_t colour = w->clipped[i] ? REEL_WAVEFORM_CLIP : REEL_WAVEFORM_WAVE;
            unsigned top = row_of(mx, y0, h), bottom = row_of(mn, y0, h);
            for (unsigned y = top; y <= bottom; y++)
                put(rgb, width, x, y, colour);
        }
    }
    return 0;
}

static void image_of(png_image *img, const reel_waveform *w, unsigned height)
{
    memset(img, 0, sizeof *img);
    img->version = PNG_IMAGE_VERSION;
    img->width = w->width;
    img->height = height;
    img->format = PNG_FORMAT_RGB;
}

int reel_waveform_png(const reel_waveform *w, unsigned height, unsigned char **png,
                      size_t *size, char *errmsg)
{
    *png = NULL;
    *size = 0;
    int rc = check_height(w, height, errmsg);
    if (rc)
        return rc;
    unsigned char *rgb = malloc((size_t)w->width * height * 3);
    if (!rgb)
        return reel_fail(errmsg, REEL_ENOMEM, "out of memory for a %ux%u picture", w->width,
                         height);
    rc = reel_waveform_draw(w, height, rgb, errmsg);
    if (rc) {
        free(rgb);
        return rc;
    }
    png_image img;
    image_of(&img, w, height);
    png_alloc_size_t need = 0;
    /* First call sizes the PNG, second writes it. */
    if (!png_image_write_to_memory(&img, NULL, &need, 0, rgb, 0, NULL)) {
        rc = reel_fail(errmsg, REEL_ENOMEM, "libpng: %s", img.message);
        png_image_free(&img);
        free(rgb);
        return rc;
    }
    unsigned char *mem = malloc(need ? need : 1);
    if (!mem) {
        free(rgb);
        return reel_fail(errmsg, REEL_ENOMEM, "out of memory for a PNG of %zu bytes",
                         (size_t)need);
    }
    image_of(&img, w, height);
    png_alloc_size_t got = need;
    if (!png_image_write_to_memory(&img, mem, &got, 0, rgb, 0, NULL)) {
        rc = reel_fail(errmsg, REEL_ENOMEM, "libpng: %s", img.message);
        png_image_free(&img);
        free(mem);
        free(rgb);
        return rc;
    }
    free(rgb);
    *png = mem;
    *size = got;
    return 0;
}

/* 1 when path exists and is something other than a PNG (or empty file). */
static int is_other_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    unsigned char sig[8];
    size_t n = fread(sig, 1, sizeof sig, fp);
    fclose(fp);
    if (n == 0)
        return 0;
    return n < sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0;
}

int reel_waveform_write_png(const reel_waveform *w, unsigned height, const char *out_path,
                            char *errmsg)
{
    struct stat st;
    if (stat(out_path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return reel_fail(errmsg, REEL_EEXIST, "%s: is a folder", out_path);
        if (is_other_file(out_path))
            return reel_fail(errmsg, REEL_EEXIST,
                             "%s: exists and is not a PNG; not replacing it", out_path);
    }
    unsigned char *png;
    size_t size;
    int rc = reel_waveform_png(w, height, &png, &size, errmsg);
    if (rc)
        return rc;
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", out_path, (long)getpid()) >= (int)sizeof tmp) {
        free(png);
        return reel_fail(errmsg, REEL_EINVAL, "%.200s...: path too long", out_path);
    }
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        rc = reel_fail(errmsg, errno == ENOENT ? REEL_ENOTFOUND : REEL_EIO, "%s: %s", out_path,
                       strerror(errno));
        free(png);
        return rc;
    }
    int ok = fwrite(png, 1, size, fp) == size;
    int e = errno;
    if (fclose(fp) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    free(png);
    if (!ok || rename(tmp, out_path) != 0) {
        if (ok)
            e = errno;
        unlink(tmp);
        return reel_fail(errmsg, e == ENOSPC ? REEL_ENOSPC : REEL_EIO, "%s: %s", out_path,
                         strerror(e));
    }
    return 0;
}

int reel_waveform_read_png(const char *path, unsigned char **rgb, unsigned *width,
                           unsigned *height, char *errmsg)
{
    *rgb = NULL;
    *width = *height = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return reel_fail(errmsg, REEL_ENOTFOUND, "%s: %s", path, strerror(errno));
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return reel_fail(errmsg, REEL_EFORMAT, "%s: not a PNG (%s)", path, img.message);
    img.format = PNG_FORMAT_RGB;
    size_t size = PNG_IMAGE_SIZE(img);
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        png_image_free(&img);
        return reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory (%ux%u)", path, img.width,
                         img.height);
    }
    png_color white = {255, 255, 255};
    if (!png_image_finish_read(&img, &white, buf, 0, NULL)) {
        int rc = reel_fail(errmsg, REEL_EFORMAT, "%s: broken PNG (%s)", path, img.message);
        png_image_free(&img);
        free(buf);
        return rc;
    }
    *rgb = buf;
    *width = img.width;
    *height = img.height;
    return 0;
}
