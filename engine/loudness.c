/* loudness.c: reel_loudness_* over libebur128 and libsndfile.
 *
 * The meter feeds libebur128 in hops of 100 ms of programme time (whatever
 * sizes the caller adds), so the maxima of momentary and short-term
 * loudness are taken on the 10 Hz grid EBU Tech 3341 uses. After each hop
 * it asks libebur128 for the energy of that hop alone (a 100 ms window)
 * and keeps the last 30: the momentary (400 ms) and short-term (3 s)
 * energies are their means. Asking libebur128 for those windows directly
 * would sum 34 times every sample (a third of the whole analysis time).
 * Files are read in blocks of 64 Ki frames (a few MiB at most, whatever the
 * length). Control thread only. */
#include "loudness.h"

#include <ebur128.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "writer.h"

#define BLOCK_FRAMES 65536
#define MAX_CHANNELS 64
#define MIN_RATE 8000
#define MAX_RATE 768000
#define NORMALIZE_TRIES 4
#define HOPS_MOMENTARY 4    /* 400 ms */
#define HOPS_SHORT_TERM 30  /* 3 s */

struct reel_loudness_meter {
    ebur128_state *st;
    unsigned channels;
    unsigned rate;
    size_t hop;        /* frames per 100 ms */
    size_t hop_left;   /* frames still to add before the next look */
    uint64_t frames;
    double hop_energy[HOPS_SHORT_TERM]; /* the last 30 hops, a ring; 0 before the start */
    unsigned hop_index;                 /* where the next one goes */
    double momentary_max;
    double short_term_max;
};

static double to_db(double linear)
{
    return linear > 0.0 ? 20.0 * log10(linear) : -INFINITY;
}

int reel_loudness_meter_new(reel_loudness_meter **out, unsigned channels, unsigned rate,
                            char *errmsg)
{
    *out = NULL;
    if (channels < 1 || channels > MAX_CHANNELS)
        return reel_fail(errmsg, REEL_EINVAL,
                         "loudness: %u channels cannot be measured (1 to %d can)", channels,
                         MAX_CHANNELS);
    if (rate < MIN_RATE || rate > MAX_RATE)
        return reel_fail(errmsg, REEL_EINVAL,
                         "loudness: a rate of %u Hz cannot be measured (%d to %d Hz can)", rate,
                         MIN_RATE, MAX_RATE);
    reel_loudness_meter *m = calloc(1, sizeof *m);
    if (!m)
        return reel_fail(errmsg, REEL_ENOMEM, "loudness: out of memory");
    /* No EBUR128_MODE_HISTOGRAM: the exact block lists cost 10 doubles per
     * second of programme (a few MiB for a day) and keep Tech 3341's
     * +-0.1 LU without the histogram's 0.1 LU bins. */
    m->st = ebur128_init(channels, rate,
                         EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_S
                             | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_SAMPLE_PEAK);
    if (!m->st) {
        free(m);
        return reel_fail(errmsg, REEL_ENOMEM,
                         "loudness: libebur128 could not start (out of memory)");
    }
    /* Mono: BS.1770 sums channels by their power, so one channel heard from
     * two loudspeakers counts twice (EBU R128, "dual mono"). */
    if (channels == 1)
        ebur128_set_channel(m->st, 0, EBUR128_DUAL_MONO);
    /* Past the sixth channel libebur128 counts nothing by default, which
     * would read a 64-track file by its first six. 7.1 (WAV order FL FR FC
     * LFE BL BR SL SR) gets the surround weight on its second pair, as
     * BS.1770 weighs surrounds; any other channel past the sixth counts
     * like a front channel. */
    for (unsigned c = 6; c < channels; c++)
        ebur128_set_channel(m->st, c,
                            channels == 8 ? (c == 6 ? EBUR128_LEFT_SURROUND : EBUR128_RIGHT_SURROUND)
                                          : EBUR128_LEFT);
    m->channels = channels;
    m->rate = rate;
    m->hop = rate / 10;
    m->hop_left = m->hop;
    m->momentary_max = -INFINITY;
    m->short_term_max = -INFINITY;
    *out = m;
    return 0;
}

/* BS.1770: loudness = -0.691 + 10 log10(weighted mean square). */
static double energy_of(double lufs)
{
    return isfinite(lufs) ? pow(10.0, (lufs + 0.691) / 10.0) : 0.0;
}

static double lufs_of(double energy)
{
    return energy > 0.0 ? -0.691 + 10.0 * log10(energy) : -INFINITY;
}

/* After a whole hop: its energy into the ring, the windows' means. */
static void look(reel_loudness_meter *m)
{
    double v;
    if (ebur128_loudness_window(m->st, 100, &v) != EBUR128_SUCCESS)
        v = -INFINITY;
    m->hop_energy[m->hop_index] = energy_of(v);
    m->hop_index = (m->hop_index + 1) % HOPS_SHORT_TERM;
    double sum = 0.0, momentary = 0.0;
    for (unsigned k = 1; k <= HOPS_SHORT_TERM; k++) {
        sum += m->hop_energy[(m->hop_index + HOPS_SHORT_TERM - k) % HOPS_SHORT_TERM];
        if (k == HOPS_MOMENTARY)
            momentary = sum / HOPS_MOMENTARY;
    }
    v = lufs_of(momentary);
    if (v > m->momentary_max)
        m->momentary_max = v;
    v = lufs_of(sum / HOPS_SHORT_TERM);
    if (v > m->short_term_max)
        m->short_term_max = v;
}

/* At the end, part of a hop: libebur128's own windows, once. */
static void look_last(reel_loudness_meter *m)
{
    double v;
    if (ebur128_loudness_momentary(m->st, &v) == EBUR128_SUCCESS && v > m->momentary_max)
        m->momentary_max = v;
    if (ebur128_loudness_shortterm(m->st, &v) == EBUR128_SUCCESS && v > m->short_term_max)
        m->short_term_max = v;
}

int reel_loudness_meter_add(reel_loudness_meter *m, const float *frames, size_t nframes)
{
    while (nframes > 0) {
        size_t n = nframes < m->hop_left ? nframes : m->hop_left;
        if (ebur128_add_frames_float(m->st, frames, n) != EBUR128_SUCCESS)
            return REEL_ENOMEM;
        frames += n * m->channels;
        nframes -= n;
        m->frames += n;
        m->hop_left -= n;
        if (m->hop_left == 0) {
            look(m);
            m->hop_left = m->hop;
        }
    }
    return 0;
}

void reel_loudness_meter_result(reel_loudness_meter *m, reel_loudness *out)
{
    memset(out, 0, sizeof *out);
    out->frames = m->frames;
    out->rate = m->rate;
    out->channels = m->channels;
    /* A programme that ends between two looks still gets its last windows. */
    if (m->hop_left != m->hop && m->frames > 0)
        look_last(m);
    double v;
    out->integrated = ebur128_loudness_global(m->st, &v) == EBUR128_SUCCESS ? v : -INFINITY;
    if (isnan(out->integrated))
        out->integrated = -INFINITY;
    out->range = ebur128_loudness_range(m->st, &v) == EBUR128_SUCCESS && isfinite(v) ? v : 0.0;
    out->momentary_max = m->momentary_max;
    out->short_term_max = m->short_term_max;
    double tp = 0.0, sp = 0.0;
    for (unsigned c = 0; c < m->channels; c++) {
        if (ebur128_true_peak(m->st, c, &v) == EBUR128_SUCCESS && v > tp) {
            tp = v;
            out->peak_channel = c + 1;
        }
        if (ebur128_sample_peak(m->st, c, &v) == EBUR128_SUCCESS && v > sp)
            sp = v;
    }
    out->true_peak = to_db(tp);
    out->sample_peak = to_db(sp);
}

void reel_loudness_meter_free(reel_loudness_meter *m)
{
    if (!m)
        return;
    ebur128_destroy(&m->st);
    free(m);
}

/* ---- reading files ------------------------------------------------------- */

typedef struct input {
    SNDFILE *sf;
    SF_INFO info;
    const char *path;
    int64_t promised;  /* frames the header announces (>= info.frames) */
    float *block;
} input;

static void input_close(input *in)
{
    if (in->sf)
        sf_close(in->sf);
    in->sf = NULL;
    free(in->block);
    in->block = NULL;
}

/* Bytes per frame of the PCM and float encodings (0: compressed or other). */
static int64_t frame_bytes(const SF_INFO *info)
{
    int64_t b = 0;
    switch (info->format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8: b = 1; break;
    case SF_FORMAT_PCM_16: b = 2; break;
    case SF_FORMAT_PCM_24: b = 3; break;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT: b = 4; break;
    case SF_FORMAT_DOUBLE: b = 8; break;
    default: return 0;
    }
    return b * info->channels;
}

/* libsndfile opens a WAV/RF64/W64 whose data chunk runs past the end of the
 * file (a copy cut short) and quietly reports the frames that are there; its
 * log keeps the header's word: "data : 576000 (should be 287960)". */
static int64_t promised_frames(input *in)
{
    int64_t promised = in->info.frames;
    char log[4096];
    log[0] = '\0';
    sf_command(in->sf, SFC_GET_LOG_INFO, log, sizeof log);
    int64_t fb = frame_bytes(&in->info);
    for (const char *p = log; fb > 0 && (p = strstr(p, "data : ")) != NULL; p += 7) {
        if (p != log && p[-1] != '\n')
            continue;
        long long said, real;
        if (sscanf(p, "data : %lld (should be %lld)", &said, &real) == 2 && said > real
            && said / fb > promised)
            promised = said / fb;
    }
    return promised;
}

static int input_open(input *in, const char *path, char *errmsg)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    struct stat stb;
    if (stat(path, &stb) != 0)
        return reel_fail(errmsg, errno == ENOENT ? REEL_ENOTFOUND : REEL_EIO, "%s: %s", path,
                         strerror(errno));
    if (S_ISDIR(stb.st_mode))
        return reel_fail(errmsg, REEL_EFORMAT, "%s: a folder, not a sound file", path);
    in->sf = sf_open(path, SFM_READ, &in->info);
    if (!in->sf) {
        /* libsndfile's words, without its trailing full stop. */
        const char *why = sf_strerror(NULL);
        int len = (int)strlen(why);
        while (len > 0 && why[len - 1] == '.')
            len--;
        return reel_fail(errmsg, REEL_EFORMAT, "%s: not a sound file (libsndfile: %.*s)", path,
                         len > 200 ? 200 : len, why);
    }
    if (in->info.channels < 1 || in->info.samplerate < 1) {
        input_close(in);
        return reel_fail(errmsg, REEL_EFORMAT, "%s: no audio (0 channels or a 0 Hz rate)", path);
    }
    in->promised = promised_frames(in);
    in->block = malloc((size_t)BLOCK_FRAMES * (size_t)in->info.channels * sizeof *in->block);
    if (!in->block) {
        input_close(in);
        return reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory", path);
    }
    return 0;
}

/* The next block: *got frames (0 at the end). At the end, fewer frames than
 * the header promised is an error: the file was cut short. */
static int input_read(input *in, uint64_t done, size_t *got, char *errmsg)
{
    sf_count_t n = sf_readf_float(in->sf, in->block, BLOCK_FRAMES);
    if (n < 0)
        n = 0;
    *got = (size_t)n;
    if (n > 0)
        return 0;
    if (sf_error(in->sf) != SF_ERR_NO_ERROR) {
        /* "Error : flac decoder lost sync." -> "flac decoder lost sync" */
        const char *why = sf_strerror(in->sf);
        if (strncmp(why, "Error : ", 8) == 0)
            why += 8;
        int len = (int)strlen(why);
        while (len > 0 && (why[len - 1] == '.' || why[len - 1] == ' '))
            len--;
        return reel_fail(errmsg, REEL_EIO, "%s: damaged or truncated: %.*s (after %llu frames)",
                         in->path, len > 200 ? 200 : len, why, (unsigned long long)done);
    }
    if ((int64_t)done < in->promised && in->promised > in->info.frames)
        return reel_fail(errmsg, REEL_EIO,
                         "%s: truncated: the header promises %lld frames, only %llu are there",
                         in->path, (long long)in->promised, (unsigned long long)done);
    /* A compressed stream that ends early may also have lost frames inside. */
    if ((int64_t)done < in->promised)
        return reel_fail(errmsg, REEL_EIO,
                         "%s: truncated or damaged: the header promises %lld frames, only %llu "
                         "could be decoded",
                         in->path, (long long)in->promised, (unsigned long long)done);
    return 0;
}

int reel_loudness_measure_file(const char *path, reel_loudness *out, char *errmsg)
{
    memset(out, 0, sizeof *out);
    out->integrated = out->momentary_max = out->short_term_max = -INFINITY;
    out->true_peak = out->sample_peak = -INFINITY;
    input in;
    int rc = input_open(&in, path, errmsg);
    if (rc < 0)
        return rc;
    reel_loudness_meter *m;
    char why[REEL_ERRMSG_MAX];
    rc = reel_loudness_meter_new(&m, (unsigned)in.info.channels, (unsigned)in.info.samplerate,
                                 why);
    if (rc < 0) {
        input_close(&in);
        /* why starts with "loudness: "; the file's name says more. */
        return reel_fail(errmsg, rc, "%s: %s", path, why + strlen("loudness: "));
    }
    uint64_t done = 0;
    for (;;) {
        size_t got;
        rc = input_read(&in, done, &got, errmsg);
        if (rc < 0 || got == 0)
            break;
        if (reel_loudness_meter_add(m, in.block, got) < 0) {
            rc = reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory", path);
            break;
        }
        done += got;
    }
    if (rc == 0)
        reel_loudness_meter_result(m, out);
    reel_loudness_meter_free(m);
    input_close(&in);
    return rc;
}

/* ---- normalizing --------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* One pass: out_path = in_path * gain. The output is removed on failure. */
static int write_scaled(const char *in_path, const char *out_path, double gain_db,
                        char *errmsg)
{
    input in;
    int rc = input_open(&in, in_path, errmsg);
    if (rc < 0)
        return rc;
    int sub = in.info.format & SF_FORMAT_SUBMASK;
    reel_writer_config cfg = {
        .path = out_path,
        .format = ends_with(out_path, ".flac") ? REEL_FORMAT_FLAC
                  : (sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE) ? REEL_FORMAT_WAV32F
                                                                        : REEL_FORMAT_WAV24,
        .rate = (unsigned)in.info.samplerate,
        .channels = (unsigned)in.info.channels,
        .originator = "reel loudness",
        .description = "normalized preview (gain only)",
    };
    reel_writer *w;
    rc = reel_writer_open(&w, &cfg, errmsg);
    if (rc < 0) {
        input_close(&in);
        return rc;
    }
    float g = (float)pow(10.0, gain_db / 20.0);
    uint64_t done = 0;
    for (;;) {
        size_t got;
        rc = input_read(&in, done, &got, errmsg);
        if (rc < 0 || got == 0)
            break;
        size_t n = got * (size_t)in.info.channels;
        for (size_t i = 0; i < n; i++)
            in.block[i] *= g;
        rc = reel_writer_write(w, in.block, got);
        if (rc < 0) {
            reel_fail(errmsg, rc, "%s", reel_writer_error(w));
            break;
        }
        done += got;
    }
    int crc = reel_writer_close(w);
    if (rc == 0 && crc < 0)
        rc = reel_fail(errmsg, crc, "%s: cannot finish writing", out_path);
    input_close(&in);
    if (rc < 0)
        unlink(out_path);
    return rc;
}

int reel_loudness_normalize(const char *in_path, const char *out_path, double target_lufs,
                            double ceiling_dbtp, reel_loudness_normalized *res, char *errmsg)
{
    reel_loudness_normalized local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!isfinite(target_lufs) || !isfinite(ceiling_dbtp))
        return reel_fail(errmsg, REEL_EINVAL, "%s: target and ceiling must be finite numbers",
                         out_path);
    int rc = reel_loudness_measure_file(in_path, &res->before, errmsg);
    if (rc < 0)
        return rc;
    if (!isfinite(res->before.integrated))
        return reel_fail(errmsg, REEL_EINVAL, "%s: too quiet to measure; nothing to normalize to",
                         in_path);
    /* Checked before reading anything; the writer's O_EXCL still guards
     * against a file that appears meanwhile. */
    if (access(out_path, F_OK) == 0)
        return reel_fail(errmsg, REEL_EEXIST, "%s: file exists; not replacing it", out_path);
    res->target_gain_db = target_lufs - res->before.integrated;
    res->ceiling_gain_db = ceiling_dbtp - res->before.true_peak;
    double gain = res->target_gain_db;
    if (res->ceiling_gain_db < gain) {
        gain = res->ceiling_gain_db;
        res->limited = 1;
    }
    for (int attempt = 0;; attempt++) {
        rc = write_scaled(in_path, out_path, gain, errmsg);
        if (rc < 0)
            return rc;
        rc = reel_loudness_measure_file(out_path, &res->after, errmsg);
        if (rc < 0) {
            unlink(out_path);
            return rc;
        }
        res->gain_db = gain;
        double over = res->after.true_peak - ceiling_dbtp;
        if (!(over > 0.0))
            return 0;
        /* Integer samples rounded the peak up past the ceiling: this file
         * is ours (just created), so it goes and a lower gain is tried. */
        unlink(out_path);
        if (attempt + 1 >= NORMALIZE_TRIES)
            return reel_fail(errmsg, REEL_EIO,
                             "%s: the true peak stays %.3f dB over the %.1f dBTP ceiling",
                             out_path, over, ceiling_dbtp);
        gain -= over + 0.001;
        res->limited = 1;
    }
}
