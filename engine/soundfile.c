/* soundfile.c: reel_sound_info / reel_sound_read through libsndfile.
 * Control thread only. */
#include "soundfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>

static SNDFILE *open_read(const char *path, SF_INFO *sfi, char *errmsg, int *rc)
{
    struct stat stb;
    if (stat(path, &stb) != 0) {
        *rc = reel_fail(errmsg, REEL_ENOTFOUND, "%s: %s", path, strerror(errno));
        return NULL;
    }
    memset(sfi, 0, sizeof *sfi);
    SNDFILE *sf = sf_open(path, SFM_READ, sfi);
    if (!sf) {
        *rc = reel_fail(errmsg, REEL_EFORMAT, "%s: %s", path, sf_strerror(NULL));
        return NULL;
    }
    *rc = 0;
    return sf;
}

int reel_sound_get_info(const char *path, reel_sound_info *info, char *errmsg)
{
    SF_INFO sfi;
    int rc;
    SNDFILE *sf = open_read(path, &sfi, errmsg, &rc);
    if (!sf)
        return rc;
    memset(info, 0, sizeof *info);
    info->frames = sfi.frames > 0 ? (uint64_t)sfi.frames : 0;
    info->rate = (unsigned)sfi.samplerate;
    info->channels = (unsigned)sfi.channels;
    const char *c = "other", *s = "other";
    switch (sfi.format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV: c = "wav"; break;
    case SF_FORMAT_WAVEX: c = "wav"; break;
    case SF_FORMAT_RF64: c = "rf64"; break;
    case SF_FORMAT_FLAC: c = "flac"; break;
    case SF_FORMAT_AIFF: c = "aiff"; break;
    default: break;
    }
    switch (sfi.format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_16: s = "pcm16"; break;
    case SF_FORMAT_PCM_24: s = "pcm24"; break;
    case SF_FORMAT_PCM_32: s = "pcm32"; break;
    case SF_FORMAT_FLOAT: s = "float"; break;
    case SF_FORMAT_DOUBLE: s = "double"; break;
    default: break;
    }
    snprintf(info->container, sizeof info->container, "%s", c);
    snprintf(info->sample, sizeof info->sample, "%s", s);
    sf_close(sf);
    return 0;
}

int reel_sound_read(const char *path, uint64_t start, float *dst, size_t max_frames,
                    size_t *got, char *errmsg)
{
    SF_INFO sfi;
    int rc;
    *got = 0;
    SNDFILE *sf = open_read(path, &sfi, errmsg, &rc);
    if (!sf)
        return rc;
    if (start > 0 && sf_seek(sf, (sf_count_t)start, SEEK_SET) < 0) {
        if ((sf_count_t)start >= sfi.frames) {
            sf_close(sf);
            return 0;
        }
        rc = reel_fail(errmsg, REEL_EIO, "%s: cannot seek to frame %llu", path,
                       (unsigned long long)start);
        sf_close(sf);
        return rc;
    }
    sf_count_t n = sf_readf_float(sf, dst, (sf_count_t)max_frames);
    if (n < 0)
        n = 0;
    *got = (size_t)n;
    sf_close(sf);
    return 0;
}
