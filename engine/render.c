/* render.c: the offline mix (see render.h for the rules it implements).
 *
 * How it runs: the output timeline is walked in blocks of REEL_RENDER_BLOCK
 * frames. For each block, each track is assembled into one float buffer
 * (its own channel count): the pieces overlapping the block are read from
 * the source timeline -- regions read from their files, silence between
 * them, comp switches crossfaded (each region's zone read on from its own
 * file past the cut and weighted; the outgoing side stored, the incoming
 * one added, always in that order, so a zone comes out the same whichever
 * reads cut it) -- the core of a piece copied, the crossfade zones at its
 * edits windowed and added. The fades multiply the buffer, the stem writer
 * takes it as it is, and the mix adds it with the track's gains into a
 * double-precision stereo accumulator, which becomes float for the mix
 * writer.
 *
 * Reading: libsndfile opens every file (through virtual I/O with a 1 MiB
 * buffer of ours, since its own reads come in chunks of a few KiB); for
 * little-endian PCM-24 and float WAV/RF64 -- what reel records -- the
 * sample bytes are then read with pread in whole blocks and converted here
 * exactly as libsndfile would (value / 2^23), which halves the CPU time of
 * a mixdown; other formats (FLAC, 16-bit, AIFF...) are read by libsndfile.
 *
 * Files: each track keeps one take file open at a time (the region being
 * read), so a comp of hundreds of regions costs one descriptor per track;
 * reads that continue where the last one stopped need no seek. Every region
 * is opened once before anything is written, so a missing, damaged or
 * mismatched take is reported before a long render starts, naming it.
 *
 * Threads: reel_render_run is called on the control thread; it starts one
 * private worker thread for the duration of the render (when there are at
 * least two tracks) and joins it before returning. The tracks are split
 * between the two by index (even on the caller's thread, odd on the
 * worker), each thread with its own buffers and share of the mix; per
 * block the caller posts the block under a mutex, both assemble their
 * tracks, the caller waits for the worker, adds the two shares and writes
 * the mix. A track's file handle and stem writer are only ever touched by
 * the thread its index belongs to. Nothing here is for the audio thread. */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xfade.h"

/* A take file read through libsndfile's virtual I/O with a large buffer of
 * our own: libsndfile reads PCM in chunks of a few KiB, which for a mix of
 * many tracks costs more in read(2) calls than the conversion itself. */
#define REEL_RENDER_IOBUF (1u << 20)

typedef struct vfile {
    int fd;
    sf_count_t size, pos;
    unsigned char *buf;
    sf_count_t buf_start, buf_len;
} vfile;

static sf_count_t vf_len(void *user)
{
    return ((vfile *)user)->size;
}

static sf_count_t vf_seek(sf_count_t offset, int whence, void *user)
{
    vfile *v = user;
    sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? v->pos + offset
                                                                     : v->size + offset;
    if (to < 0)
        return -1;
    v->pos = to;
    return to;
}

static sf_count_t vf_read(void *ptr, sf_count_t count, void *user)
{
    vfile *v = user;
    unsigned char *out = ptr;
    sf_count_t done = 0;
    while (done < count) {
        if (v->pos >= v->buf_start && v->pos < v->buf_start + v->buf_len) {
            sf_count_t n = v->buf_start + v->buf_len - v->pos;
            if (n > count - done)
                n = count - done;
            memcpy(out + done, v->buf + (v->pos - v->buf_start), (size_t)n);
            v->pos += n;
            done += n;
            continue;
        }
        ssize_t got;
        if (count - done >= (sf_count_t)REEL_RENDER_IOBUF) {
            got = pread(v->fd, out + done, (size_t)(count - done), v->pos);
            if (got <= 0)
                break;
            v->pos += got;
            done += got;
        } else {
            got = pread(v->fd, v->buf, REEL_RENDER_IOBUF, v->pos);
            if (got <= 0)
                break;
            v->buf_start = v->pos;
            v->buf_len = got;
        }
    }
    return done;
}

static sf_count_t vf_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr;
    (void)count;
    (void)user;
    return 0;
}

static sf_count_t vf_tell(void *user)
{
    return ((vfile *)user)->pos;
}

static SF_VIRTUAL_IO vf_io = { vf_len, vf_seek, vf_read, vf_write, vf_tell };

typedef struct rtrack {
    const reel_render_track *t;
    double gl, gr;          /* mix gains (render.h's pan law) */
    int heard;
    SNDFILE *sf;            /* the open region's file, or NULL */
    vfile vf;               /* its descriptor and read buffer (fd -1: none) */
    size_t open_region;
    unsigned file_channels;
    sf_count_t file_pos;
    /* Little-endian PCM-24 or float WAV/RF64 (what reel records) are read
     * and converted here, without libsndfile's small chunks: fast = 3 or 4
     * (bytes per sample), data_offset where frame 0 starts; 0: libsndfile. */
    unsigned fast;
    sf_count_t data_offset;
    reel_writer *stem;
    char *stem_tmp;
    /* Half-length of the comp crossfade at the end of each region (at the
     * switch to the next), 0 for none; NULL when the track has none. */
    uint64_t *xh;
} rtrack;

typedef struct rpiece {
    uint64_t dst, frames;
    int64_t src;
    uint64_t hin, hout;     /* half crossfades at its start and end edits */
} rpiece;

struct render;

/* One of the (at most two) threads assembling tracks: its own buffers and
 * its share of the mix. Worker k handles the tracks i with i % nworkers == k,
 * always the same ones, so a track's open file and stem writer belong to
 * one thread. */
typedef struct rworker {
    struct render *rd;
    size_t index;
    float *buf;             /* one track's block, up to 2 channels */
    float *tmp;             /* a crossfade side */
    float *xf;              /* a comp crossfade side, read past its region */
    float *scratch;         /* file frames needing channel conversion */
    unsigned char *raw;     /* file bytes for the fast path */
    double *mixd;           /* this worker's tracks summed, stereo */
    int rc;
    char errmsg[REEL_ERRMSG_MAX];
} rworker;

typedef struct render {
    const reel_render_config *cfg;
    rtrack *tracks;
    rpiece *pieces;
    size_t npieces;
    rworker workers[2];
    size_t nworkers;
    float *mixf;
    reel_writer *mix;
    char *mix_tmp;
    char *errmsg;
    /* The second worker's thread and its hand-off: the control thread
     * posts a block (job_gen++), both work, the worker answers with
     * done_gen = job_gen. */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t job_gen, done_gen, job_o;
    size_t job_n;
    int quit;
} render;

void reel_render_gains(unsigned channels, double gain_db, double pan, double *left,
                       double *right)
{
    double g = pow(10.0, gain_db / 20.0);
    if (pan < -1.0)
        pan = -1.0;
    if (pan > 1.0)
        pan = 1.0;
    if (channels == 1) {
        double th = (pan + 1.0) * M_PI / 4.0;
        *left = g * cos(th);
        *right = g * sin(th);
    } else {
        *left = g * (pan > 0.0 ? cos(pan * M_PI / 2.0) : 1.0);
        *right = g * (pan < 0.0 ? cos(-pan * M_PI / 2.0) : 1.0);
    }
}

/* ---- checks before anything is written -------------------------------- */

/* What setup needs to know of a region's file besides that it is fine:
 * its length (the handle beyond the region) and its identity (two paths
 * to one file continue one another). */
typedef struct file_facts {
    uint64_t frames;
    dev_t dev;
    ino_t ino;
} file_facts;

static int check_region_file(const reel_render_track *t, const reel_render_region *r,
                             unsigned rate, file_facts *facts, char *errmsg)
{
    const char *what = r->what ? r->what : t->name;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(r->path, SFM_READ, &info);
    if (sf == NULL) {
        if (access(r->path, F_OK) != 0)
            return reel_fail(errmsg, REEL_ENOTFOUND, "%s (%s): %s", what, r->path,
                             strerror(errno));
        return reel_fail(errmsg, REEL_EFORMAT, "%s (%s): not a readable sound file: %s",
                         what, r->path, sf_strerror(NULL));
    }
    int rc = 0;
    if ((unsigned)info.samplerate != rate)
        rc = reel_fail(errmsg, REEL_EFORMAT,
                       "%s (%s): recorded at %d Hz, the session is at %u Hz; reel render "
                       "does not resample (convert the file first, e.g. sox IN -r %u OUT)",
                       what, r->path, info.samplerate, rate, rate);
    else if (info.channels < 1 || info.channels > 2)
        rc = reel_fail(errmsg, REEL_EFORMAT, "%s (%s): %d channels; a track plays 1 or 2",
                       what, r->path, info.channels);
    else if (info.frames < 0 || r->offset + r->frames > (uint64_t)info.frames)
        rc = reel_fail(errmsg, REEL_EFORMAT,
                       "%s (%s): the file has %lld frames, the session plays frames %llu to "
                       "%llu (damaged, truncated or replaced?)",
                       what, r->path, (long long)info.frames, (unsigned long long)r->offset,
                       (unsigned long long)(r->offset + r->frames));
    sf_close(sf);
    if (rc == 0 && facts) {
        struct stat st;
        facts->frames = (uint64_t)info.frames;
        if (stat(r->path, &st) == 0) {
            facts->dev = st.st_dev;
            facts->ino = st.st_ino;
        }
    }
    return rc;
}

static int check_config(const reel_render_config *cfg, char *errmsg)
{
    if (cfg->rate == 0 || cfg->rate > 768000)
        return reel_fail(errmsg, REEL_EINVAL, "render: invalid sample rate %u", cfg->rate);
    if (cfg->mix_path == NULL) {
        int any = 0;
        for (size_t i = 0; i < cfg->ntracks; i++)
            any |= cfg->tracks[i].stem_path != NULL;
        if (!any)
            return reel_fail(errmsg, REEL_EINVAL, "render: no output (neither a mix nor stems)");
    }
    if (cfg->ntracks > 0 && cfg->tracks == NULL)
        return reel_fail(errmsg, REEL_EINVAL, "render: tracks missing");
    for (size_t i = 0; i < cfg->ntracks; i++) {
        const reel_render_track *t = &cfg->tracks[i];
        const char *name = t->name ? t->name : "?";
        if (t->channels < 1 || t->channels > 2)
            return reel_fail(errmsg, REEL_EINVAL, "render: track '%s': %u channels (1 or 2)",
                             name, t->channels);
        if (!(t->pan >= -1.0 && t->pan <= 1.0))
            return reel_fail(errmsg, REEL_EINVAL, "render: track '%s': pan %g not in -1..1",
                             name, t->pan);
        if (!isfinite(t->gain_db))
            return reel_fail(errmsg, REEL_EINVAL, "render: track '%s': gain is not finite", name);
        int64_t end = 0;
        for (size_t k = 0; k < t->nregions; k++) {
            const reel_render_region *r = &t->regions[k];
            if (r->path == NULL || r->at < 0 || r->frames > (uint64_t)INT64_MAX / 2)
                return reel_fail(errmsg, REEL_EINVAL, "render: track '%s': region %zu is invalid",
                                 name, k + 1);
            if (r->at < end)
                return reel_fail(errmsg, REEL_EINVAL,
                                 "render: track '%s': region %zu overlaps the one before "
                                 "(regions must be sorted and not overlap)", name, k + 1);
            end = r->at + (int64_t)r->frames;
        }
    }
    if (cfg->pieces != NULL) {
        uint64_t at = 0;
        for (size_t k = 0; k < cfg->npieces; k++) {
            const reel_render_piece *p = &cfg->pieces[k];
            if (p->dst != at || p->frames == 0)
                return reel_fail(errmsg, REEL_EINVAL,
                                 "render: piece %zu: pieces must tile the output in order", k + 1);
            at += p->frames;
        }
        if (at != cfg->frames)
            return reel_fail(errmsg, REEL_EINVAL,
                             "render: pieces cover %llu frames, the output has %llu",
                             (unsigned long long)at, (unsigned long long)cfg->frames);
    }
    for (size_t k = 0; k < cfg->nfades; k++) {
        const reel_render_fade *f = &cfg->fades[k];
        if (f->frames == 0 || f->start + f->frames > cfg->frames)
            return reel_fail(errmsg, REEL_EINVAL, "render: fade %zu lies outside the output", k + 1);
    }
    return 0;
}

/* ---- output files ------------------------------------------------------ */

static char *temp_name(const char *final)
{
    static unsigned counter;
    size_t n = strlen(final) + 64;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s.reel-part-%ld-%u", final, (long)getpid(), counter++);
    return p;
}

static int open_output(const render *rd, const char *final, unsigned channels,
                       reel_writer **w, char **tmp)
{
    const reel_render_config *cfg = rd->cfg;
    if (!cfg->overwrite && access(final, F_OK) == 0)
        return reel_fail(rd->errmsg, REEL_EEXIST, "%s: file exists; not replacing it", final);
    *tmp = temp_name(final);
    if (*tmp == NULL)
        return reel_fail(rd->errmsg, REEL_ENOMEM, "%s: out of memory", final);
    reel_writer_config wc = {
        .path = *tmp, .format = cfg->format, .rate = cfg->rate, .channels = channels,
        .time_reference = cfg->time_reference, .originator = "reel",
        .description = cfg->description,
    };
    char msg[REEL_ERRMSG_MAX];
    int rc = reel_writer_open(w, &wc, msg);
    if (rc < 0) {
        free(*tmp);
        *tmp = NULL;
        /* The message names the temporary file; the person knows the final one. */
        return reel_fail(rd->errmsg, rc, "%s: cannot create: %s", final, reel_strerror(rc));
    }
    return 0;
}

/* Moves a finished output into place: replacing only with overwrite,
 * otherwise refusing atomically if the name appeared meanwhile. */
static int publish(const render *rd, const char *tmp, const char *final)
{
    if (rd->cfg->overwrite) {
        if (rename(tmp, final) == 0)
            return 0;
    } else {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EINVAL || errno == ENOSYS) {
            /* A filesystem without RENAME_NOREPLACE: link() refuses too. */
            if (link(tmp, final) == 0) {
                unlink(tmp);
                return 0;
            }
        }
        if (errno == EEXIST)
            return reel_fail(rd->errmsg, REEL_EEXIST, "%s: file exists; not replacing it", final);
    }
    return reel_fail(rd->errmsg, REEL_EIO, "%s: cannot move the render into place: %s", final,
                     strerror(errno));
}

/* ---- reading the source timeline --------------------------------------- */

static void close_file(rtrack *rt)
{
    if (rt->sf)
        sf_close(rt->sf);
    rt->sf = NULL;
    if (rt->vf.fd >= 0)
        close(rt->vf.fd);
    rt->vf.fd = -1;
}

static int region_fail(rworker *w, const rtrack *rt, size_t ri, int code, const char *why)
{
    const reel_render_region *r = &rt->t->regions[ri];
    return reel_fail(w->errmsg, code, "%s (%s): %s", r->what ? r->what : rt->t->name, r->path,
                     why);
}

/* 3 or 4 when the open file is little-endian PCM-24 or float in a WAV or
 * RF64 container whose sample data is where libsndfile says (measured by
 * seeking it: the virtual file's position is the byte offset), else 0. */
static unsigned fast_kind(rtrack *rt, const SF_INFO *info)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    int type = info->format & SF_FORMAT_TYPEMASK, sub = info->format & SF_FORMAT_SUBMASK;
    int endian = info->format & SF_FORMAT_ENDMASK;
    if ((type != SF_FORMAT_WAV && type != SF_FORMAT_WAVEX && type != SF_FORMAT_RF64)
        || (endian != SF_ENDIAN_FILE && endian != SF_ENDIAN_LITTLE)
        || (sub != SF_FORMAT_PCM_24 && sub != SF_FORMAT_FLOAT))
        return 0;
    unsigned bytes = sub == SF_FORMAT_PCM_24 ? 3 : 4;
    sf_count_t bpf = (sf_count_t)bytes * info->channels;
    if (info->frames < 1 || sf_seek(rt->sf, 1, SEEK_SET) != 1)
        return 0;
    sf_count_t at1 = rt->vf.pos;
    if (sf_seek(rt->sf, 0, SEEK_SET) != 0)
        return 0;
    sf_count_t at0 = rt->vf.pos;
    if (at0 <= 0 || at1 - at0 != bpf || at0 + info->frames * bpf > rt->vf.size)
        return 0;
    rt->data_offset = at0;
    return bytes;
#else
    (void)rt;
    (void)info;
    return 0;
#endif
}

static int read_fast(rworker *w, rtrack *rt, size_t ri, uint64_t frame, size_t count, float *dst)
{
    unsigned ch = rt->t->channels, fch = rt->file_channels;
    size_t samples = count * fch;
    size_t want = samples * rt->fast;
    off_t off = (off_t)(rt->data_offset + (sf_count_t)frame * (sf_count_t)(rt->fast * fch));
    size_t have = 0;
    while (have < want) {
        ssize_t got = pread(rt->vf.fd, w->raw + have, want - have, off + (off_t)have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            char why[320];
            snprintf(why, sizeof why, "read failed at frame %llu: %.200s",
                     (unsigned long long)(frame + have / (rt->fast * fch)),
                     got < 0 ? strerror(errno) : "the file ends early");
            return region_fail(w, rt, ri, REEL_EIO, why);
        }
        have += (size_t)got;
    }
    float *into = fch == ch ? dst : w->scratch;
    const unsigned char *b = w->raw;
    if (rt->fast == 3) {
        for (size_t i = 0; i < samples; i++, b += 3) {
            /* As libsndfile scales PCM-24: the value over 2^23. */
            int32_t v = (int32_t)((uint32_t)b[0] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 24);
            into[i] = (float)(v >> 8) * (1.0f / 8388608.0f);
        }
    } else {
        memcpy(into, b, samples * sizeof *into);
    }
    if (fch == 1 && ch == 2) {
        for (size_t i = count; i-- > 0;)
            dst[2 * i] = dst[2 * i + 1] = into[i];
    } else if (fch == 2 && ch == 1) {
        for (size_t i = 0; i < count; i++)
            dst[i] = 0.5f * (into[2 * i] + into[2 * i + 1]);
    }
    return 0;
}

/* Reads count frames from file frame `frame` of region ri into dst, in the
 * track's channel count. */
static int read_region(rworker *w, rtrack *rt, size_t ri, uint64_t frame, size_t count, float *dst)
{
    const reel_render_region *r = &rt->t->regions[ri];
    unsigned ch = rt->t->channels;
    if (rt->sf == NULL || rt->open_region != ri) {
        close_file(rt);
        if (rt->vf.buf == NULL && (rt->vf.buf = malloc(REEL_RENDER_IOBUF)) == NULL)
            return region_fail(w, rt, ri, REEL_ENOMEM, "out of memory");
        rt->vf.fd = open(r->path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (rt->vf.fd < 0 || fstat(rt->vf.fd, &st) != 0)
            return region_fail(w, rt, ri, REEL_EIO, strerror(errno));
        rt->vf.size = st.st_size;
        rt->vf.pos = rt->vf.buf_start = rt->vf.buf_len = 0;
        SF_INFO info;
        memset(&info, 0, sizeof info);
        rt->sf = sf_open_virtual(&vf_io, SFM_READ, &info, &rt->vf);
        if (rt->sf == NULL)
            return region_fail(w, rt, ri, REEL_EIO, sf_strerror(NULL));
        if (info.channels < 1 || info.channels > 2)
            return region_fail(w, rt, ri, REEL_EFORMAT, "the file changed during the render");
        rt->open_region = ri;
        rt->file_channels = (unsigned)info.channels;
        rt->file_pos = 0;
        rt->fast = fast_kind(rt, &info);
    }
    if (rt->fast)
        return read_fast(w, rt, ri, frame, count, dst);
    if (rt->file_pos != (sf_count_t)frame) {
        if (sf_seek(rt->sf, (sf_count_t)frame, SEEK_SET) != (sf_count_t)frame)
            return region_fail(w, rt, ri, REEL_EIO, "cannot seek in the file");
        rt->file_pos = (sf_count_t)frame;
    }
    unsigned fch = rt->file_channels;
    float *into = fch == ch ? dst : w->scratch;
    sf_count_t got = sf_readf_float(rt->sf, into, (sf_count_t)count);
    if (got != (sf_count_t)count) {
        char why[320];
        snprintf(why, sizeof why, "read failed at frame %llu: %.200s",
                 (unsigned long long)(frame + (got > 0 ? (uint64_t)got : 0)),
                 sf_error(rt->sf) ? sf_strerror(rt->sf) : "the file ends early");
        close_file(rt);
        return region_fail(w, rt, ri, REEL_EIO, why);
    }
    rt->file_pos += got;
    if (fch == 1 && ch == 2) {
        for (size_t i = 0; i < count; i++)
            dst[2 * i] = dst[2 * i + 1] = into[i];
    } else if (fch == 2 && ch == 1) {
        for (size_t i = 0; i < count; i++)
            dst[i] = 0.5f * (into[2 * i] + into[2 * i + 1]);
    }
    return 0;
}

/* The first region that ends after sample s. */
static size_t first_region_after(const reel_render_track *t, int64_t s)
{
    size_t lo = 0, hi = t->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->regions[mid].at + (int64_t)t->regions[mid].frames <= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The weight of engine/xfade.h: one formula for renders and playback. */
static inline float ramp(uint64_t t, uint64_t z, uint64_t len, int rising)
{
    return reel_xfade_gain(t, z, len, rising);
}

/* Source frames [a, b) of region ri's side of the comp crossfade around
 * sample sw (half-length h), read from its file beyond the region and
 * weighted into out (which holds source frame s first): the incoming side
 * (rising) is added to what the outgoing one stored there. */
static int comp_side(rworker *w, rtrack *rt, size_t ri, int64_t a, int64_t b, int64_t sw,
                     uint64_t h, int rising, int64_t s, float *out)
{
    const reel_render_region *r = &rt->t->regions[ri];
    unsigned ch = rt->t->channels;
    size_t n = (size_t)(b - a);
    /* setup keeps h within the file on both sides: frame >= 0. */
    int rc = read_region(w, rt, ri, (uint64_t)((int64_t)r->offset + (a - r->at)), n, w->xf);
    if (rc < 0)
        return rc;
    float *dst = out + (size_t)(a - s) * ch;
    const float *x = w->xf;
    uint64_t z = (uint64_t)(sw - (int64_t)h);
    for (size_t i = 0; i < n; i++) {
        float g = ramp((uint64_t)a + i, z, 2 * h, rising);
        for (unsigned c = 0; c < ch; c++) {
            if (rising)
                dst[i * ch + c] += g * x[i * ch + c];
            else
                dst[i * ch + c] = g * x[i * ch + c];
        }
    }
    return 0;
}

/* Source frames [s, s + n) of the track into out (silence outside regions
 * and before sample 0). Region ri plays [at - hin, at + frames + hout):
 * its comp crossfade zones reach hin before its start and hout past its
 * end, read from its own file; between them it is copied as it is. The
 * regions are visited in order, so the outgoing side of a zone is always
 * stored before the incoming side is added. */
static int read_source(rworker *w, rtrack *rt, int64_t s, size_t n, float *out)
{
    const reel_render_track *t = rt->t;
    unsigned ch = t->channels;
    int64_t end = s + (int64_t)n;
    int64_t at = s;     /* out holds [s, at) */
    size_t ri = first_region_after(t, s);
    /* The region before may still be fading out past its end. */
    if (ri > 0 && rt->xh
        && t->regions[ri - 1].at + (int64_t)t->regions[ri - 1].frames + (int64_t)rt->xh[ri - 1] > s)
        ri--;
    for (; ri < t->nregions; ri++) {
        const reel_render_region *r = &t->regions[ri];
        int64_t hin = ri > 0 && rt->xh ? (int64_t)rt->xh[ri - 1] : 0;
        int64_t hout = rt->xh ? (int64_t)rt->xh[ri] : 0;
        int64_t r0 = r->at, r1 = r->at + (int64_t)r->frames;
        if (r0 - hin >= end)
            break;
        if (r0 - hin > at) {
            memset(out + (size_t)(at - s) * ch, 0, (size_t)(r0 - hin - at) * ch * sizeof *out);
            at = r0 - hin;
        }
        int64_t a, b;
        int rc;
        /* Fading in: [r0 - hin, r0 + hin). */
        a = r0 - hin > s ? r0 - hin : s;
        b = r0 + hin < end ? r0 + hin : end;
        if (a < b && (rc = comp_side(w, rt, ri, a, b, r0, (uint64_t)hin, 1, s, out)) < 0)
            return rc;
        /* As it is: [r0 + hin, r1 - hout). */
        a = r0 + hin > s ? r0 + hin : s;
        b = r1 - hout < end ? r1 - hout : end;
        if (a < b) {
            rc = read_region(w, rt, ri, r->offset + (uint64_t)(a - r->at), (size_t)(b - a),
                             out + (size_t)(a - s) * ch);
            if (rc < 0)
                return rc;
        }
        /* Fading out: [r1 - hout, r1 + hout). */
        a = r1 - hout > s ? r1 - hout : s;
        b = r1 + hout < end ? r1 + hout : end;
        if (a < b && (rc = comp_side(w, rt, ri, a, b, r1, (uint64_t)hout, 0, s, out)) < 0)
            return rc;
        if (r1 + hout > at)
            at = r1 + hout < end ? r1 + hout : end;
    }
    if (at < end)
        memset(out + (size_t)(at - s) * ch, 0, (size_t)(end - at) * ch * sizeof *out);
    return 0;
}

/* ---- one track, one block ---------------------------------------------- */

/* Adds piece p's source over output [a, b) into buf (block starts at o),
 * weighted by its crossfade ramps. */
static int add_ramp(rworker *w, rtrack *rt, const rpiece *p, uint64_t a, uint64_t b, uint64_t o,
                    uint64_t z, uint64_t len, int rising)
{
    unsigned ch = rt->t->channels;
    int64_t s = p->src + (int64_t)a - (int64_t)p->dst;
    int rc = read_source(w, rt, s, (size_t)(b - a), w->tmp);
    if (rc < 0)
        return rc;
    float *dst = w->buf + (size_t)(a - o) * ch;
    const float *src = w->tmp;
    for (uint64_t t = a; t < b; t++) {
        float g = ramp(t, z, len, rising);
        for (unsigned c = 0; c < ch; c++)
            dst[(t - a) * ch + c] += g * src[(t - a) * ch + c];
    }
    return 0;
}

static int track_block(rworker *w, rtrack *rt, uint64_t o, size_t n)
{
    unsigned ch = rt->t->channels;
    uint64_t end = o + n;
    memset(w->buf, 0, n * ch * sizeof *w->buf);
    for (size_t k = 0; k < w->rd->npieces; k++) {
        const rpiece *p = &w->rd->pieces[k];
        uint64_t ext0 = p->dst - p->hin, ext1 = p->dst + p->frames + p->hout;
        if (ext1 <= o)
            continue;
        if (ext0 >= end)
            break;
        /* Ramp in: [dst - hin, dst + hin); core; ramp out: [e - hout, e + hout). */
        uint64_t core0 = p->dst + p->hin, core1 = p->dst + p->frames - p->hout;
        uint64_t a, b;
        int rc;
        a = ext0 > o ? ext0 : o;
        b = core0 < end ? core0 : end;
        if (a < b && (rc = add_ramp(w, rt, p, a, b, o, ext0, 2 * p->hin, 1)) < 0)
            return rc;
        a = core0 > o ? core0 : o;
        b = core1 < end ? core1 : end;
        if (a < b) {
            rc = read_source(w, rt, p->src + (int64_t)a - (int64_t)p->dst, (size_t)(b - a),
                             w->buf + (size_t)(a - o) * ch);
            if (rc < 0)
                return rc;
        }
        a = core1 > o ? core1 : o;
        b = ext1 < end ? ext1 : end;
        if (a < b && (rc = add_ramp(w, rt, p, a, b, o, core1, 2 * p->hout, 0)) < 0)
            return rc;
    }
    for (size_t k = 0; k < w->rd->cfg->nfades; k++) {
        const reel_render_fade *f = &w->rd->cfg->fades[k];
        uint64_t a = f->start > o ? f->start : o;
        uint64_t b = f->start + f->frames < end ? f->start + f->frames : end;
        for (uint64_t t = a; t < b; t++) {
            double x = (double)(t - f->start) / (double)f->frames;
            float g = (float)(f->fade_in ? x : 1.0 - (double)(t - f->start + 1) / (double)f->frames);
            for (unsigned c = 0; c < ch; c++)
                w->buf[(t - o) * ch + c] *= g;
        }
    }
    return 0;
}

/* ---- the run ----------------------------------------------------------- */

/* Opens every region's file of a track to check it (before anything is
 * written) and works out its comp crossfades (render.h: the half-length h
 * of each switch, as long as both files and both regions allow). */
static int check_track_files(render *rd, rtrack *rt)
{
    const reel_render_track *t = rt->t;
    uint64_t want = rd->cfg->comp_crossfade / 2;
    file_facts *facts = NULL;
    if (want > 0 && t->nregions >= 2) {
        facts = calloc(t->nregions, sizeof *facts);
        rt->xh = calloc(t->nregions, sizeof *rt->xh);
        if (!facts || !rt->xh) {
            free(facts);
            return reel_fail(rd->errmsg, REEL_ENOMEM, "render: out of memory");
        }
    }
    for (size_t k = 0; k < t->nregions; k++) {
        int rc = check_region_file(t, &t->regions[k], rd->cfg->rate, facts ? &facts[k] : NULL,
                                   rd->errmsg);
        if (rc < 0) {
            free(facts);
            return rc;
        }
    }
    for (size_t k = 0; facts && k + 1 < t->nregions; k++) {
        const reel_render_region *a = &t->regions[k], *b = &t->regions[k + 1];
        if (a->at + (int64_t)a->frames != b->at)
            continue;   /* silence between them: nothing to fade into */
        int same_file = strcmp(a->path, b->path) == 0
                        || (facts[k].ino != 0 && facts[k].dev == facts[k + 1].dev
                            && facts[k].ino == facts[k + 1].ino);
        if (same_file && b->offset == a->offset + a->frames)
            continue;   /* one stretch of one file: no switch */
        uint64_t h = want;
        uint64_t after = facts[k].frames - (a->offset + a->frames);  /* checked >= 0 */
        uint64_t shorter = a->frames < b->frames ? a->frames : b->frames;
        if (h > after)
            h = after;
        if (h > b->offset)
            h = b->offset;
        if (h > shorter / 2)
            h = shorter / 2;
        if (h > (uint64_t)b->at)
            h = (uint64_t)b->at;
        rt->xh[k] = h;
    }
    free(facts);
    return 0;
}

static int setup(render *rd)
{
    const reel_render_config *cfg = rd->cfg;
    size_t np = cfg->pieces ? cfg->npieces : (cfg->frames > 0 ? 1 : 0);
    rd->tracks = calloc(cfg->ntracks ? cfg->ntracks : 1, sizeof *rd->tracks);
    rd->pieces = calloc(np ? np : 1, sizeof *rd->pieces);
    rd->mixf = malloc(REEL_RENDER_BLOCK * 2 * sizeof *rd->mixf);
    if (!rd->tracks || !rd->pieces || !rd->mixf)
        return reel_fail(rd->errmsg, REEL_ENOMEM, "render: out of memory");
    /* Two workers when there are two tracks to share: reading and
     * converting take files is most of the work, and it splits cleanly. */
    rd->nworkers = cfg->ntracks >= 2 ? 2 : 1;
    for (size_t k = 0; k < rd->nworkers; k++) {
        rworker *w = &rd->workers[k];
        w->rd = rd;
        w->index = k;
        w->buf = malloc(REEL_RENDER_BLOCK * 2 * sizeof *w->buf);
        w->tmp = malloc(REEL_RENDER_BLOCK * 2 * sizeof *w->tmp);
        w->xf = malloc(REEL_RENDER_BLOCK * 2 * sizeof *w->xf);
        w->scratch = malloc(REEL_RENDER_BLOCK * 2 * sizeof *w->scratch);
        w->mixd = malloc(REEL_RENDER_BLOCK * 2 * sizeof *w->mixd);
        w->raw = malloc(REEL_RENDER_BLOCK * 2 * 4);
        if (!w->buf || !w->tmp || !w->xf || !w->scratch || !w->mixd || !w->raw)
            return reel_fail(rd->errmsg, REEL_ENOMEM, "render: out of memory");
    }
    rd->npieces = np;
    for (size_t k = 0; k < np; k++) {
        rpiece *p = &rd->pieces[k];
        if (cfg->pieces) {
            p->dst = cfg->pieces[k].dst;
            p->src = cfg->pieces[k].src;
            p->frames = cfg->pieces[k].frames;
        } else {
            p->dst = 0;
            p->src = 0;
            p->frames = cfg->frames;
        }
    }
    for (size_t k = 1; k < np; k++) {
        rpiece *prev = &rd->pieces[k - 1], *p = &rd->pieces[k];
        if (p->src == prev->src + (int64_t)prev->frames)
            continue;   /* contiguous in the source: no edit */
        uint64_t h = cfg->crossfade / 2;
        uint64_t shorter = prev->frames < p->frames ? prev->frames : p->frames;
        if (h > shorter / 2)
            h = shorter / 2;
        prev->hout = p->hin = h;
    }
    int any_solo = 0;
    for (size_t i = 0; i < cfg->ntracks; i++)
        any_solo |= cfg->tracks[i].solo != 0;
    for (size_t i = 0; i < cfg->ntracks; i++) {
        rtrack *rt = &rd->tracks[i];
        rt->t = &cfg->tracks[i];
        rt->vf.fd = -1;
        rt->heard = any_solo ? rt->t->solo != 0 : rt->t->mute == 0;
        reel_render_gains(rt->t->channels, rt->t->gain_db, rt->t->pan, &rt->gl, &rt->gr);
        int rc = check_track_files(rd, rt);
        if (rc < 0)
            return rc;
    }
    /* Every existing output is refused before the first is created. */
    if (!cfg->overwrite) {
        if (cfg->mix_path && access(cfg->mix_path, F_OK) == 0)
            return reel_fail(rd->errmsg, REEL_EEXIST, "%s: file exists; not replacing it",
                             cfg->mix_path);
        for (size_t i = 0; i < cfg->ntracks; i++) {
            const char *sp = cfg->tracks[i].stem_path;
            if (sp && access(sp, F_OK) == 0)
                return reel_fail(rd->errmsg, REEL_EEXIST, "%s: file exists; not replacing it", sp);
        }
    }
    if (cfg->mix_path) {
        int rc = open_output(rd, cfg->mix_path, 2, &rd->mix, &rd->mix_tmp);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < cfg->ntracks; i++) {
        rtrack *rt = &rd->tracks[i];
        if (rt->t->stem_path) {
            int rc = open_output(rd, rt->t->stem_path, rt->t->channels, &rt->stem, &rt->stem_tmp);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Assembles worker w's tracks for output frames [o, o + n): stems written,
 * the heard ones summed into w->mixd. */
static int tracks_block(rworker *w, uint64_t o, size_t n)
{
    render *rd = w->rd;
    const reel_render_config *cfg = rd->cfg;
    if (rd->mix)
        memset(w->mixd, 0, n * 2 * sizeof *w->mixd);
    for (size_t i = w->index; i < cfg->ntracks; i += rd->nworkers) {
        rtrack *rt = &rd->tracks[i];
        if (!rt->stem && !(rd->mix && rt->heard))
            continue;
        int rc = track_block(w, rt, o, n);
        if (rc < 0)
            return rc;
        if (rt->stem && (rc = reel_writer_write(rt->stem, w->buf, n)) < 0)
            return reel_fail(w->errmsg, rc, "%s: %s", rt->t->stem_path,
                             reel_writer_error(rt->stem));
        if (!rd->mix || !rt->heard)
            continue;
        const float *x = w->buf;
        double *m = w->mixd;
        double gl = rt->gl, gr = rt->gr;
        if (rt->t->channels == 1) {
            for (size_t k = 0; k < n; k++) {
                m[2 * k] += gl * x[k];
                m[2 * k + 1] += gr * x[k];
            }
        } else {
            for (size_t k = 0; k < n; k++) {
                m[2 * k] += gl * x[2 * k];
                m[2 * k + 1] += gr * x[2 * k + 1];
            }
        }
    }
    return 0;
}

static void *worker_main(void *arg)
{
    render *rd = arg;
    rworker *w = &rd->workers[1];
    uint64_t seen = 0;
    pthread_mutex_lock(&rd->lock);
    for (;;) {
        while (rd->job_gen == seen && !rd->quit)
            pthread_cond_wait(&rd->cond, &rd->lock);
        if (rd->quit)
            break;
        seen = rd->job_gen;
        uint64_t o = rd->job_o;
        size_t n = rd->job_n;
        pthread_mutex_unlock(&rd->lock);
        int rc = tracks_block(w, o, n);
        pthread_mutex_lock(&rd->lock);
        w->rc = rc;
        rd->done_gen = seen;
        pthread_cond_broadcast(&rd->cond);
    }
    pthread_mutex_unlock(&rd->lock);
    return NULL;
}

/* The second worker's thread, with SIGINT and SIGTERM blocked so that
 * Ctrl-C reaches the control thread (which cancels between blocks). When
 * the thread cannot start, one worker does everything. */
static void start_worker(render *rd)
{
    if (rd->nworkers < 2)
        return;
    if (pthread_mutex_init(&rd->lock, NULL) != 0)
        goto single;
    if (pthread_cond_init(&rd->cond, NULL) != 0) {
        pthread_mutex_destroy(&rd->lock);
        goto single;
    }
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&rd->thread, NULL, worker_main, rd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) {
        rd->thread_started = 1;
        return;
    }
    pthread_cond_destroy(&rd->cond);
    pthread_mutex_destroy(&rd->lock);
single:
    rd->nworkers = 1;
}

static void stop_worker(render *rd)
{
    if (!rd->thread_started)
        return;
    pthread_mutex_lock(&rd->lock);
    rd->quit = 1;
    pthread_cond_broadcast(&rd->cond);
    pthread_mutex_unlock(&rd->lock);
    pthread_join(rd->thread, NULL);
    pthread_cond_destroy(&rd->cond);
    pthread_mutex_destroy(&rd->lock);
    rd->thread_started = 0;
}

static int mix_block(render *rd, uint64_t o, size_t n, reel_render_result *res)
{
    const reel_render_config *cfg = rd->cfg;
    rworker *w0 = &rd->workers[0], *w1 = &rd->workers[1];
    if (rd->thread_started) {
        pthread_mutex_lock(&rd->lock);
        rd->job_o = o;
        rd->job_n = n;
        rd->job_gen++;
        pthread_cond_broadcast(&rd->cond);
        pthread_mutex_unlock(&rd->lock);
    }
    int rc = tracks_block(w0, o, n);
    if (rc < 0 && rd->errmsg)
        snprintf(rd->errmsg, REEL_ERRMSG_MAX, "%s", w0->errmsg);
    if (rd->thread_started) {
        pthread_mutex_lock(&rd->lock);
        while (rd->done_gen != rd->job_gen)
            pthread_cond_wait(&rd->cond, &rd->lock);
        pthread_mutex_unlock(&rd->lock);
        if (rc == 0 && w1->rc < 0) {
            rc = w1->rc;
            if (rd->errmsg)
                snprintf(rd->errmsg, REEL_ERRMSG_MAX, "%s", w1->errmsg);
        }
    }
    if (rc < 0)
        return rc;
    if (!rd->mix)
        return 0;
    double peak = res->peak;
    uint64_t clipped = 0;
    const double *m1 = rd->nworkers > 1 ? w1->mixd : NULL;
    for (size_t k = 0; k < 2 * n; k++) {
        double v = w0->mixd[k] + (m1 ? m1[k] : 0.0);
        double a = fabs(v);
        if (a > peak)
            peak = a;
        if (a > 1.0)
            clipped++;
        rd->mixf[k] = (float)v;
    }
    res->peak = peak;
    res->clipped += clipped;
    rc = reel_writer_write(rd->mix, rd->mixf, n);
    if (rc < 0)
        return reel_fail(rd->errmsg, rc, "%s: %s", cfg->mix_path, reel_writer_error(rd->mix));
    return 0;
}

/* Closes everything; on failure removes the temporary outputs. */
static int finish(render *rd, int rc)
{
    const reel_render_config *cfg = rd->cfg;
    stop_worker(rd);
    if (rd->mix) {
        int crc = reel_writer_close(rd->mix);
        rd->mix = NULL;
        if (crc < 0 && rc == 0)
            rc = reel_fail(rd->errmsg, crc, "%s: %s", cfg->mix_path, reel_strerror(crc));
    }
    for (size_t i = 0; rd->tracks && i < cfg->ntracks; i++) {
        rtrack *rt = &rd->tracks[i];
        close_file(rt);
        free(rt->vf.buf);
        free(rt->xh);
        if (rt->stem) {
            int crc = reel_writer_close(rt->stem);
            if (crc < 0 && rc == 0)
                rc = reel_fail(rd->errmsg, crc, "%s: %s", rt->t->stem_path, reel_strerror(crc));
        }
    }
    if (rc == 0 && rd->mix_tmp) {
        rc = publish(rd, rd->mix_tmp, cfg->mix_path);
        if (rc == 0) {
            free(rd->mix_tmp);
            rd->mix_tmp = NULL;
        }
    }
    for (size_t i = 0; rc == 0 && rd->tracks && i < cfg->ntracks; i++) {
        rtrack *rt = &rd->tracks[i];
        if (rt->stem_tmp) {
            rc = publish(rd, rt->stem_tmp, rt->t->stem_path);
            if (rc == 0) {
                free(rt->stem_tmp);
                rt->stem_tmp = NULL;
            }
        }
    }
    if (rd->mix_tmp) {
        unlink(rd->mix_tmp);
        free(rd->mix_tmp);
    }
    for (size_t i = 0; rd->tracks && i < cfg->ntracks; i++) {
        if (rd->tracks[i].stem_tmp) {
            unlink(rd->tracks[i].stem_tmp);
            free(rd->tracks[i].stem_tmp);
        }
    }
    free(rd->tracks);
    free(rd->pieces);
    for (size_t k = 0; k < 2; k++) {
        free(rd->workers[k].buf);
        free(rd->workers[k].tmp);
        free(rd->workers[k].xf);
        free(rd->workers[k].scratch);
        free(rd->workers[k].mixd);
        free(rd->workers[k].raw);
    }
    free(rd->mixf);
    return rc;
}

int reel_render_run(const reel_render_config *cfg, reel_render_result *result, char *errmsg)
{
    if (cfg == NULL)
        return reel_fail(errmsg, REEL_EINVAL, "render: no configuration");
    int rc = check_config(cfg, errmsg);
    if (rc < 0)
        return rc;
    reel_render_result res = { 0 };
    render rd = { .cfg = cfg, .errmsg = errmsg };
    rc = setup(&rd);
    if (rc == 0)
        start_worker(&rd);
    for (uint64_t o = 0; rc == 0 && o < cfg->frames; o += REEL_RENDER_BLOCK) {
        size_t n = (size_t)(cfg->frames - o < REEL_RENDER_BLOCK ? cfg->frames - o
                                                                 : REEL_RENDER_BLOCK);
        rc = mix_block(&rd, o, n, &res);
        if (rc == 0 && cfg->progress && cfg->progress(o + n, cfg->frames, cfg->user) != 0)
            rc = reel_fail(errmsg, REEL_EAGAIN, "render cancelled");
    }
    rc = finish(&rd, rc);
    if (rc == 0) {
        res.frames = cfg->frames;
        for (size_t i = 0; i < cfg->ntracks; i++) {
            int any_solo = 0;
            for (size_t k = 0; k < cfg->ntracks; k++)
                any_solo |= cfg->tracks[k].solo != 0;
            res.heard += any_solo ? cfg->tracks[i].solo != 0 : cfg->tracks[i].mute == 0;
        }
        if (result)
            *result = res;
    }
    return rc;
}
