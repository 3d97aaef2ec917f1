/* render.h: the offline mix -- takes on a timeline mixed to a stereo file
 * and/or written out as one stem per track, as fast as the disk allows.
 *
 * The caller (scripts/reel/render.lua through lua/lrender.c) resolves the
 * session into plain data: per track its regions (a range of frames of a
 * take file placed at a sample of the source timeline), its channel count,
 * gain, pan, mute and solo; and the output timeline as pieces of the source
 * timeline (a variant's sections; one piece for the session as it is).
 * reel_render_run reads every region through libsndfile in large blocks,
 * crossfading at comp switches where one region hands over to another
 * file, assembles each track on the output timeline (crossfading at edits
 * where consecutive pieces are not contiguous in the source), applies the
 * fades, writes the stems and sums the audible tracks into the stereo mix.
 *
 * The rules, fixed here so that tests and people can count on them:
 *  - Pan law (mix only): a mono track at pan p (-1 left .. +1 right) goes
 *    to the left with cos((p + 1) pi / 4) and to the right with
 *    sin((p + 1) pi / 4): constant power, -3 dB each side at the centre.
 *    A stereo track is balanced: at the centre both channels pass at unity;
 *    p > 0 scales the left channel by cos(p pi / 2), p < 0 the right by
 *    cos(-p pi / 2) (p = +1 silences the left). Gain is gain_db in dB on
 *    top of that.
 *  - Mute and solo (mix only): when any track is soloed only soloed tracks
 *    are heard; otherwise every track that is not muted. (A soloed track
 *    that is also muted is heard, as on most consoles: solo wins.)
 *  - Stems are pre-fader: the track's audio as the arrangement plays it
 *    (regions, comp and edit crossfades, fades), its own channel count, no
 *    gain, pan, mute or solo; every stem starts at output frame 0 and has
 *    exactly cfg->frames frames, so stems line up sample for sample with
 *    the mix.
 *  - Channels: a mono file in a stereo track plays on both channels; a
 *    stereo file in a mono track is averaged; more than two channels, or a
 *    sample rate other than cfg->rate, is refused (no resampling here) with
 *    a message naming the region's `what` and path.
 *  - Edits: where piece k+1 does not continue piece k in the source, the
 *    two are crossfaded over cfg->crossfade frames centred on the edit
 *    (each side read from beyond its cut; before source sample 0 is
 *    silence), equal power: sin / cos quarter waves. A crossfade is never
 *    longer than the shorter of the two pieces.
 *  - Comp switches: where region k ends exactly where region k+1 starts
 *    (at + frames == next at) and the two do not continue one another in
 *    one file (another file, or not the next frame of the same one), the
 *    source timeline itself crossfades them, equal power with the same
 *    quarter waves, over 2h frames centred on the switch: region k goes on
 *    playing its file past its end, region k+1 starts h frames early in its
 *    own. h is cfg->comp_crossfade / 2, cut down to the frames each file
 *    really has beyond the cut (after region k's last frame; before region
 *    k+1's offset), to half the shorter region and to the switch's distance
 *    from sample 0; the same h on both sides, so the zone stays centred and
 *    symmetric. A file with no frames beyond the cut (h = 0), or
 *    comp_crossfade 0 or 1, gives a hard cut, sample for sample as the
 *    regions say. A region next to silence (a gap before or after it) is
 *    not faded. Since the crossfade belongs to the source timeline, variant
 *    pieces and their edit crossfades read it already crossfaded, and the
 *    stems have it too; a zone falls the same however blocks and pieces cut
 *    through it.
 *  - Fades (variant fade in / fade out): linear gain ramps on the output
 *    timeline, 0 -> 1 or 1 -> 0, applied to every track (mix and stems).
 *  - The mix is summed in double precision and written as float, so it
 *    equals the exact sum of the scaled inputs to the resolution of the
 *    output format; samples beyond full scale are clipped by the writer and
 *    counted in the result.
 *  - Files: outputs are written in cfg->format through writer.h (BWF bext
 *    time reference = cfg->time_reference, the timeline sample of the first
 *    frame) to a temporary name next to the final one and renamed into
 *    place only when everything succeeded; an existing file is replaced
 *    only with cfg->overwrite, never otherwise (REEL_EEXIST, checked before
 *    rendering and again atomically at the rename). A failed or cancelled
 *    render leaves no output file behind.
 *
 * Threads: call from the control thread (file I/O, allocation). The render
 * uses one private worker thread besides the caller's (two cores' worth of
 * reading and converting take files), joined before reel_render_run
 * returns. Nothing here is for the audio thread. The progress callback runs
 * on the calling thread, between blocks. */
#ifndef REEL_RENDER_H
#define REEL_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"
#include "writer.h"

/* Frames read and mixed per step; also the progress granularity. */
#define REEL_RENDER_BLOCK 65536u

typedef struct reel_render_region {
    const char *path;      /* the take file */
    const char *what;      /* for messages, e.g. "track 'Vox' take 3" */
    int64_t at;            /* source-timeline sample of its first frame (>= 0) */
    uint64_t offset;       /* first frame used in the file */
    uint64_t frames;       /* frames used */
} reel_render_region;

typedef struct reel_render_track {
    const char *name;
    unsigned channels;     /* 1 or 2 */
    double gain_db;
    double pan;            /* -1 .. +1 */
    int mute;
    int solo;
    const reel_render_region *regions;   /* sorted by at, not overlapping */
    size_t nregions;
    const char *stem_path; /* NULL: no stem for this track */
} reel_render_track;

/* Output frames [dst, dst + frames) play source frames [src, src + frames). */
typedef struct reel_render_piece {
    uint64_t dst;
    int64_t src;
    uint64_t frames;
} reel_render_piece;

typedef struct reel_render_fade {
    uint64_t start;        /* output frame */
    uint64_t frames;
    int fade_in;           /* 1: 0 -> 1, 0: 1 -> 0 */
} reel_render_fade;

/* Called after each block: done of total output frames. Return non-zero to
 * cancel (the render then fails with REEL_EAGAIN, "cancelled"). */
typedef int (*reel_render_progress_fn)(uint64_t done, uint64_t total, void *user);

typedef struct reel_render_config {
    unsigned rate;
    reel_format format;
    uint64_t frames;                    /* output length */
    const reel_render_piece *pieces;    /* NULL: one piece, dst = src */
    size_t npieces;                     /* pieces tile [0, frames) in order */
    uint64_t crossfade;                 /* frames per edit crossfade */
    uint64_t comp_crossfade;            /* frames per comp-switch crossfade; 0: hard cuts */
    const reel_render_fade *fades;
    size_t nfades;
    const reel_render_track *tracks;
    size_t ntracks;
    const char *mix_path;               /* NULL: no stereo mix */
    int overwrite;                      /* replace existing outputs */
    uint64_t time_reference;            /* bext of every output */
    const char *description;            /* bext, may be NULL */
    reel_render_progress_fn progress;   /* may be NULL */
    void *user;
} reel_render_config;

typedef struct reel_render_result {
    uint64_t frames;       /* written per output */
    double peak;           /* largest |sample| of the mix before clipping */
    uint64_t clipped;      /* mix samples beyond full scale */
    unsigned heard;        /* tracks in the mix after mute/solo */
} reel_render_result;

/* The mix gains of a track (pan law above): left and right multipliers for
 * a mono track, or for the left and right channel of a stereo one. */
void reel_render_gains(unsigned channels, double gain_db, double pan, double *left,
                       double *right);

/* Renders. Returns 0, or a REEL_E* code with a message in errmsg
 * (REEL_ERRMSG_MAX bytes) naming the track, take and file involved:
 * REEL_EINVAL (bad config), REEL_ENOTFOUND / REEL_EFORMAT (a take file
 * missing, unreadable, shorter than its region, at another rate),
 * REEL_EEXIST, REEL_EIO / REEL_ENOSPC (writing), REEL_EAGAIN (cancelled). */
int reel_render_run(const reel_render_config *cfg, reel_render_result *result, char *errmsg);

#endif
