/* writer.c: one take file, written through libsndfile (see writer.h).
 *
 * Threads: a writer belongs to one thread at a time -- the disk-writer thread
 * while a take records, the control thread before and after. Nothing here is
 * safe on the audio thread: it allocates, makes syscalls and blocks on the
 * disk. Distinct writers may be used from distinct threads at once; the only
 * shared state is libsndfile's global "last open error" string, read once
 * when sf_open_fd fails.
 *
 * How the file stays valid:
 * - WAV takes (wav24, wav32f) are opened as SF_FORMAT_RF64 with
 *   SFC_RF64_AUTO_DOWNGRADE. libsndfile 1.2.0 then writes, on every header
 *   update while the file is under 4 GiB, a plain RIFF/WAVE header with a
 *   24-byte JUNK chunk and a fact chunk; once the file reaches 0xffffffff
 *   bytes the next update writes "RF64" + ds64 (36 bytes) and a zero-length
 *   PAD chunk in place of JUNK + fact (44 bytes), so the header keeps its
 *   size and no sample moves (EBU Tech 3306's reserve scheme). Checked by
 *   hand on the bytes and by tests: mid-recording SFC_UPDATE_HEADER_NOW
 *   yields a RIFF file that libsndfile and sox read with the synced frame
 *   count; past 4 GiB it yields an RF64 file with a correct ds64.
 * - The header is rewritten by reel_writer_sync() (SFC_UPDATE_HEADER_NOW,
 *   which recomputes the data size from the file length). Sample data goes
 *   straight to write(2) (libsndfile keeps no user-space buffer for PCM or
 *   float), so a killed process leaves the synced frames plus possibly some
 *   trailing bytes that the header does not count; readers ignore them.
 * - The bext chunk is handed to libsndfile at open, so the header has its
 *   final size before the first sample. set_time_reference re-sends it while
 *   no frame is written (the header is rewritten at once; libsndfile refuses
 *   a new bext after data, and so do we).
 * - FLAC: libFLAC writes STREAMINFO (total samples, MD5) only when the
 *   encoder finishes at close; there is no way to rewrite it mid-stream
 *   through libsndfile, and SFC_UPDATE_HEADER_NOW before the first frame
 *   would start the encoder and freeze the tags. So for FLAC sync is a no-op,
 *   the tags (which carry the time reference) are handed over just before
 *   the first frame, and a file whose writer was killed has STREAMINFO with
 *   total_samples = 0 ("unknown"): libsndfile 1.2.0 opens it with
 *   frames = SF_COUNT_MAX and decodes every complete FLAC frame (4096
 *   samples per channel each); the last partial block, still inside the
 *   encoder, is lost; sox --i reports 0 samples but decodes the same frames.
 *   A writer killed before its first frame leaves a zero-byte file.
 * - Write failures: sf_writef_float may stop mid-frame on a full disk. The
 *   writer cuts the file back to whole frames (ftruncate), rewrites the
 *   header for them and refuses further writes, so everything written before
 *   the failure stays readable. A FLAC encoder that failed cannot finish its
 *   stream, so such a file reads like a killed one (complete blocks only).
 *   A take that cannot get its header (disk already full) is removed again.
 * - Nothing is fsync'ed: the promise is about the process dying, not the
 *   machine; when data must reach the platter is the caller's policy. */
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* libsndfile's own channel limit (SF_MAX_CHANNELS in 1.2.0, not exported). */
#define REEL_WRITER_MAX_CHANNELS 1024u
/* Silence comes from one static buffer; it must hold at least one frame of
 * the widest file, and large chunks keep the syscall count low. */
#define REEL_SILENCE_SAMPLES 16384u

static const float reel_silence[REEL_SILENCE_SAMPLES];

struct reel_writer {
    SNDFILE *sf;
    int fd;                  /* owned by sf (close_desc); used for fstat/ftruncate */
    reel_format format;
    unsigned rate;
    unsigned channels;
    unsigned frame_bytes;    /* bytes per frame in the file; 0 for FLAC */
    off_t data_offset;       /* WAV/RF64: first byte of sample data */
    uint64_t frames;         /* whole frames handed to libsndfile and accepted */
    uint64_t time_reference;
    int failed;              /* sticky write failure code, 0 while healthy */
    int flac_tags_pending;   /* FLAC: tags not yet given to libsndfile */
#ifdef REEL_FAULT_INJECTION
    uint64_t fault_limit;
    int fault_code;
#endif
    char originator[33];     /* bext field widths + NUL */
    char description[257];
    char date[11];           /* yyyy-mm-dd, local time at open, as BWF wants */
    char time[9];            /* hh:mm:ss */
    char *path;
    char error[REEL_ERRMSG_MAX];
};

int reel_format_parse(const char *name, reel_format *out)
{
    static const struct { const char *name; reel_format f; } table[] = {
        { "wav24", REEL_FORMAT_WAV24 }, { "wav32f", REEL_FORMAT_WAV32F },
        { "flac", REEL_FORMAT_FLAC }, { "rf64", REEL_FORMAT_RF64 },
    };
    if (name == NULL || out == NULL)
        return REEL_EINVAL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(name, table[i].name) == 0) {
            *out = table[i].f;
            return 0;
        }
    }
    return REEL_EINVAL;
}

const char *reel_format_name(reel_format f)
{
    switch (f) {
    case REEL_FORMAT_WAV24: return "wav24";
    case REEL_FORMAT_WAV32F: return "wav32f";
    case REEL_FORMAT_FLAC: return "flac";
    case REEL_FORMAT_RF64: return "rf64";
    }
    return "unknown";
}

const char *reel_format_ext(reel_format f)
{
    switch (f) {
    case REEL_FORMAT_WAV24:
    case REEL_FORMAT_WAV32F:
    case REEL_FORMAT_RF64: return "wav";
    case REEL_FORMAT_FLAC: return "flac";
    }
    return "";
}

static int is_flac(const reel_writer *w)
{
    return w->format == REEL_FORMAT_FLAC;
}

/* ENOSPC and EDQUOT both mean "the disk is full" to the person recording. */
static int code_from_errno(int e)
{
    if (e == ENOSPC || e == EDQUOT)
        return REEL_ENOSPC;
    if (e == ENOENT || e == ENOTDIR)
        return REEL_ENOTFOUND;
    return REEL_EIO;
}

/* libsndfile reports system errors as text ("System error : <strerror>.")
 * and errno may have been touched since the failing write(2); look at both. */
static int code_from_sndfile(int saved_errno, const char *sfmsg)
{
    if (saved_errno == ENOSPC || saved_errno == EDQUOT)
        return REEL_ENOSPC;
    if (sfmsg != NULL && (strstr(sfmsg, strerror(ENOSPC)) != NULL
                          || strstr(sfmsg, strerror(EDQUOT)) != NULL))
        return REEL_ENOSPC;
    return REEL_EIO;
}

static int sf_format_of(reel_format f)
{
    switch (f) {
    case REEL_FORMAT_WAV24: return SF_FORMAT_RF64 | SF_FORMAT_PCM_24;
    case REEL_FORMAT_WAV32F: return SF_FORMAT_RF64 | SF_FORMAT_FLOAT;
    case REEL_FORMAT_FLAC: return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    case REEL_FORMAT_RF64: return SF_FORMAT_RF64 | SF_FORMAT_PCM_24;
    }
    return 0;
}

/* Copies into a fixed bext field; the fields need no terminating NUL. */
static void copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    memcpy(dst, src, n < size ? n : size);
}

static int set_bext(reel_writer *w)
{
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    copy_field(bi.description, sizeof bi.description, w->description);
    copy_field(bi.originator, sizeof bi.originator, w->originator);
    copy_field(bi.origination_date, sizeof bi.origination_date, w->date);
    copy_field(bi.origination_time, sizeof bi.origination_time, w->time);
    bi.time_reference_low = (uint32_t)(w->time_reference & 0xffffffffu);
    bi.time_reference_high = (uint32_t)(w->time_reference >> 32);
    /* libsndfile adds its own coding-history line and sets version 2. */
    if (sf_command(w->sf, SFC_SET_BROADCAST_INFO, &bi, (int)sizeof bi) != SF_TRUE)
        return reel_fail(w->error, REEL_EIO, "%s: cannot set bext chunk: %s",
                         w->path, sf_strerror(w->sf));
    /* SET_BROADCAST_INFO rewrites the header, but with the RIFF size taken
     * from the file length *before* the header grew by the bext chunk;
     * a second pass measures the real length. */
    sf_command(w->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
    if (sf_error(w->sf) != SF_ERR_NO_ERROR) {
        int code = code_from_sndfile(errno, sf_strerror(w->sf));
        return reel_fail(w->error, code, "%s: cannot write header: %s",
                         w->path, sf_strerror(w->sf));
    }
    /* With no data yet, libsndfile leaves the file offset at the data start. */
    off_t pos = lseek(w->fd, 0, SEEK_CUR);
    if (pos < 0)
        return reel_fail(w->error, REEL_EIO, "%s: %s", w->path, strerror(errno));
    w->data_offset = pos;
    return 0;
}

/* FLAC has no bext; the same facts go into Vorbis comments. libsndfile has
 * no free-form keys, so the time reference rides in the comment as a
 * "time_reference=N" line after the description. libsndfile appends its own
 * name to the "software" tag. */
static int set_flac_tags(reel_writer *w)
{
    char comment[sizeof w->description + 48];
    char date[32];
    w->flac_tags_pending = 0;
    snprintf(comment, sizeof comment, "%s%stime_reference=%llu", w->description,
             w->description[0] ? "\n" : "", (unsigned long long)w->time_reference);
    snprintf(date, sizeof date, "%sT%s", w->date, w->time);
    if (sf_set_string(w->sf, SF_STR_COMMENT, comment) != 0
        || sf_set_string(w->sf, SF_STR_SOFTWARE, w->originator) != 0
        || sf_set_string(w->sf, SF_STR_DATE, date) != 0)
        return reel_fail(w->error, REEL_EIO, "%s: cannot set FLAC tags: %s",
                         w->path, sf_strerror(w->sf));
    return 0;
}

static int check_config(const reel_writer_config *cfg, char *errmsg)
{
    if (cfg == NULL || cfg->path == NULL || cfg->path[0] == '\0')
        return reel_fail(errmsg, REEL_EINVAL, "writer: no path given");
    if (sf_format_of(cfg->format) == 0)
        return reel_fail(errmsg, REEL_EINVAL, "%s: unknown format %d", cfg->path,
                         (int)cfg->format);
    if (cfg->rate == 0 || cfg->rate > INT_MAX)
        return reel_fail(errmsg, REEL_EINVAL, "%s: invalid sample rate %u", cfg->path,
                         cfg->rate);
    if (cfg->channels == 0 || cfg->channels > REEL_WRITER_MAX_CHANNELS)
        return reel_fail(errmsg, REEL_EINVAL, "%s: invalid channel count %u (1 to %u)",
                         cfg->path, cfg->channels, REEL_WRITER_MAX_CHANNELS);
    return 0;
}

static void stamp_now(reel_writer *w)
{
    time_t now = time(NULL);
    struct tm tm;
    /* strftime returns 0 (and we keep "") only for years past 9999. */
    if (localtime_r(&now, &tm) == NULL
        || strftime(w->date, sizeof w->date, "%Y-%m-%d", &tm) == 0
        || strftime(w->time, sizeof w->time, "%H:%M:%S", &tm) == 0) {
        w->date[0] = '\0';
        w->time[0] = '\0';
    }
}

static void writer_free(reel_writer *w)
{
    free(w->path);
    free(w);
}

/* Undo a half-done open: the file is ours (O_EXCL), so an unusable one goes. */
static int open_abort(reel_writer *w, int code, char *errmsg)
{
    if (errmsg)
        snprintf(errmsg, REEL_ERRMSG_MAX, "%s", w->error);
    if (w->sf)
        sf_close(w->sf);
    unlink(w->path);
    writer_free(w);
    return code;
}

int reel_writer_open(reel_writer **out, const reel_writer_config *cfg, char *errmsg)
{
    if (out == NULL)
        return reel_fail(errmsg, REEL_EINVAL, "writer: no result pointer");
    *out = NULL;
    int rc = check_config(cfg, errmsg);
    if (rc < 0)
        return rc;

    reel_writer *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(cfg->path)) == NULL) {
        free(w);
        return reel_fail(errmsg, REEL_ENOMEM, "%s: out of memory", cfg->path);
    }
    w->fd = -1;
    w->format = cfg->format;
    w->rate = cfg->rate;
    w->channels = cfg->channels;
    w->time_reference = cfg->time_reference;
    copy_field(w->originator, sizeof w->originator - 1,
               cfg->originator ? cfg->originator : "reel");
    copy_field(w->description, sizeof w->description - 1,
               cfg->description ? cfg->description : "");
    stamp_now(w);
    switch (w->format) {
    case REEL_FORMAT_WAV24:
    case REEL_FORMAT_RF64: w->frame_bytes = 3 * w->channels; break;
    case REEL_FORMAT_WAV32F: w->frame_bytes = 4 * w->channels; break;
    case REEL_FORMAT_FLAC: w->frame_bytes = 0; break;
    }

    /* O_EXCL: a take that already exists is never replaced, not even by a
     * race with another writer. */
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        rc = e == EEXIST
            ? reel_fail(errmsg, REEL_EEXIST, "%s: file exists; not replacing it", w->path)
            : reel_fail(errmsg, code_from_errno(e), "%s: cannot create: %s", w->path,
                        strerror(e));
        writer_free(w);
        return rc;
    }

    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)w->rate;
    info.channels = (int)w->channels;
    info.format = sf_format_of(w->format);
    errno = 0;
    w->sf = sf_open_fd(w->fd, SFM_WRITE, &info, SF_TRUE);
    if (w->sf == NULL) {
        /* sf_open_fd closed the descriptor (close_desc) on failure. */
        int e = errno;
        const char *why = sf_strerror(NULL);
        int code = sf_error(NULL) == SF_ERR_SYSTEM ? code_from_sndfile(e, why) : REEL_EFORMAT;
        reel_fail(w->error, code, "%s: cannot open for writing: %s", w->path, why);
        return open_abort(w, code, errmsg);
    }

    /* Float input outside [-1, 1] must clip, not wrap around in 24-bit. */
    sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);

    if (is_flac(w)) {
        w->flac_tags_pending = 1;
    } else {
        if (w->format != REEL_FORMAT_RF64
            && sf_command(w->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE) != SF_TRUE) {
            reel_fail(w->error, REEL_EFORMAT, "%s: libsndfile refused RF64 auto-downgrade",
                      w->path);
            return open_abort(w, REEL_EFORMAT, errmsg);
        }
        /* Sets bext and rewrites the header in its final (RIFF or RF64)
         * form, so a zero-frame file is already valid. */
        rc = set_bext(w);
        if (rc < 0)
            return open_abort(w, rc, errmsg);
    }
    w->error[0] = '\0';
    *out = w;
    return 0;
}

int reel_writer_set_time_reference(reel_writer *w, uint64_t sample)
{
    if (w == NULL)
        return REEL_EINVAL;
    if (w->frames > 0 || w->failed || (is_flac(w) && !w->flac_tags_pending))
        return reel_fail(w->error, REEL_ESTATE,
                         "%s: time reference can only change before the first frame",
                         w->path);
    w->time_reference = sample;
    if (is_flac(w))
        return 0;
    return set_bext(w);
}

/* After a failed write: cut a partial frame off the end and rewrite the
 * header, so the file holds exactly w->frames whole frames. Best effort --
 * the write error is what gets reported. */
static void salvage(reel_writer *w)
{
    if (is_flac(w))
        return; /* the encoder owns the stream; close finishes what it can */
    off_t want = w->data_offset + (off_t)(w->frames * w->frame_bytes);
    struct stat st;
    if (fstat(w->fd, &st) == 0 && st.st_size > want && ftruncate(w->fd, want) != 0) {
        /* The header rewrite below still counts whole frames only. */
        size_t len = strlen(w->error);
        snprintf(w->error + len, sizeof w->error - len,
                 " (and could not trim a partial frame: %s)", strerror(errno));
    }
    sf_command(w->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
}

static int write_failed(reel_writer *w, int code, const char *why)
{
    w->failed = code;
    reel_fail(w->error, code, "%s: write failed after %llu frames: %s", w->path,
              (unsigned long long)w->frames, why);
    salvage(w);
    return code;
}

int reel_writer_write(reel_writer *w, const float *frames, size_t nframes)
{
    if (w == NULL)
        return REEL_EINVAL;
    if (w->failed)
        return w->failed;
    if (nframes == 0)
        return 0;
    if (frames == NULL)
        return reel_fail(w->error, REEL_EINVAL, "%s: write of %zu frames from NULL",
                         w->path, nframes);
    if (w->flac_tags_pending) {
        int rc = set_flac_tags(w);
        if (rc < 0)
            return rc;
    }

    uint64_t todo = nframes;
    int injected = 0;
#ifdef REEL_FAULT_INJECTION
    if (w->fault_limit > 0 && w->frames + todo > w->fault_limit) {
        todo = w->fault_limit > w->frames ? w->fault_limit - w->frames : 0;
        injected = w->fault_code;
    }
#endif
    if (todo > 0) {
        errno = 0;
        sf_count_t got = sf_writef_float(w->sf, frames, (sf_count_t)todo);
        int e = errno;
        if (got > 0)
            w->frames += (uint64_t)got;
        if (got < (sf_count_t)todo) {
            const char *why = sf_strerror(w->sf);
            int code = code_from_sndfile(e, why);
            char whybuf[256];
            /* Prefer the OS's words; libsndfile's may be generic. */
            snprintf(whybuf, sizeof whybuf, "%s",
                     e != 0 ? strerror(e) : (why && why[0] ? why : "short write"));
            return write_failed(w, code, whybuf);
        }
    }
    if (injected)
        return write_failed(w, injected, injected == REEL_ENOSPC
                                             ? "no space left on device (injected)"
                                             : "input/output error (injected)");
    return 0;
}

int reel_writer_write_silence(reel_writer *w, size_t nframes)
{
    if (w == NULL)
        return REEL_EINVAL;
    size_t chunk = REEL_SILENCE_SAMPLES / w->channels;
    while (nframes > 0) {
        size_t n = nframes < chunk ? nframes : chunk;
        int rc = reel_writer_write(w, reel_silence, n);
        if (rc < 0)
            return rc;
        nframes -= n;
    }
    return w->failed;
}

int reel_writer_sync(reel_writer *w)
{
    if (w == NULL)
        return REEL_EINVAL;
    if (is_flac(w))
        return 0; /* see the top of this file */
    errno = 0;
    sf_command(w->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
    if (sf_error(w->sf) != SF_ERR_NO_ERROR) {
        int code = code_from_sndfile(errno, sf_strerror(w->sf));
        return reel_fail(w->error, code, "%s: cannot rewrite header: %s", w->path,
                         sf_strerror(w->sf));
    }
    return 0;
}

int reel_writer_close(reel_writer *w)
{
    if (w == NULL)
        return 0;
    int rc = 0;
    if (w->flac_tags_pending) {
        /* No frame ever came: start the encoder by hand, or libsndfile
         * would leave a zero-byte file instead of an empty FLAC stream. */
        rc = set_flac_tags(w);
        sf_command(w->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
    }
    errno = 0;
    int err = sf_close(w->sf);
    if (err != 0 && rc == 0) {
        const char *why = sf_error_number(err);
        rc = reel_fail(w->error, code_from_sndfile(errno, why), "%s: close failed: %s",
                       w->path, why);
    }
    writer_free(w);
    return rc;
}

uint64_t reel_writer_frames(const reel_writer *w)
{
    return w ? w->frames : 0;
}

const char *reel_writer_path(const reel_writer *w)
{
    return w ? w->path : "";
}

const char *reel_writer_error(const reel_writer *w)
{
    return w ? w->error : "";
}

#ifdef REEL_FAULT_INJECTION
void reel_writer_inject_fault(reel_writer *w, uint64_t limit_frames, int code)
{
    if (w == NULL)
        return;
    w->fault_limit = limit_frames;
    w->fault_code = code == REEL_ENOSPC ? REEL_ENOSPC : REEL_EIO;
}
#endif
