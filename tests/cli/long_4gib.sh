# A long run in freewheel crosses the 4 GiB boundary without losing or
# duplicating a sample (slow: writes 4.3 GB to a tmpfs).
#
# `reel record` takes 1400 s of an impulse train at 768 kHz into one mono
# wav32f take: 1,075,200,000 frames, 4,300,800,000 bytes of audio, past the
# 4 GiB (2^30 frames) a RIFF file can hold, so the writer turns it into RF64
# in place. Then: the file starts with "RF64" and its ds64 chunk holds the
# exact sizes; libsndfile, sox, the session file and the command's report
# agree on exactly 1400 * 768000 frames; and a checker compiled here reads
# every sample through libsndfile, and the raw bytes around the RIFF limit,
# byte 2^32 of the file, frame 2^30 and the end: frame k is 1.0 when k is a
# multiple of the prime period 997 and 0.0 otherwise. Any lost or repeated
# block (the writer moves blocks of 2^n frames, periods of 256) shifts the
# train and fails. Written to /dev/shm ($REEL_LONG_DIR to change), which needs
# about 4.4 GB free.
. "$(dirname "$0")/lib.sh"

RATE=768000
SECONDS_=1400
PERIOD=997
FRAMES=$((RATE * SECONDS_))
base=${REEL_LONG_DIR:-/dev/shm}
need=$((FRAMES * 4 + 100 * 1024 * 1024))
avail=$(df -B1 --output=avail "$base" | tail -1 | tr -d ' ')
[ "$avail" -ge "$need" ] ||
    fail "$base has $avail bytes free; this test needs $need (set REEL_LONG_DIR)"
BIG=$(mktemp -d "$base/reel-long.XXXXXX")
trap 'rm -rf "$T" "$BIG"' EXIT

cat > check.c <<'C'
/* check FILE FRAMES PERIOD: the take holds exactly FRAMES frames of an
 * impulse train (1.0 at multiples of PERIOD, 0.0 elsewhere), read through
 * libsndfile in full and from the raw bytes in windows. */
#include <fcntl.h>
#include <inttypes.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t period;
static int bad(const char *how, uint64_t k, float v)
{
    fprintf(stderr, "%s frame %" PRIu64 ": %.9g, expected %.1f\n", how, k, v,
            k % period == 0 ? 1.0 : 0.0);
    return 1;
}
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    const char *path = argv[1];
    uint64_t frames = strtoull(argv[2], NULL, 10);
    period = strtoull(argv[3], NULL, 10);

    /* Header: RF64, ds64 sizes, where the data starts. */
    unsigned char h[65536];
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, h, sizeof h) < 64) { perror(path); return 1; }
    if (memcmp(h, "RF64", 4) || memcmp(h + 8, "WAVE", 4)) {
        fprintf(stderr, "not an RF64 WAVE file: %.4s\n", (const char *)h);
        return 1;
    }
    uint64_t off = 0, ds64_data = 0, ds64_frames = 0;
    for (size_t pos = 12; pos + 8 <= sizeof h;) {
        uint32_t size = le32(h + pos + 4);
        if (!memcmp(h + pos, "ds64", 4)) {
            ds64_data = le64(h + pos + 16);
            ds64_frames = le64(h + pos + 24);
        }
        if (!memcmp(h + pos, "data", 4)) { off = pos + 8; break; }
        pos += 8 + size + (size & 1);
    }
    if (!off) { fprintf(stderr, "no data chunk\n"); return 1; }
    if (ds64_data != frames * 4 || ds64_frames != frames) {
        fprintf(stderr, "ds64: data %" PRIu64 " bytes, %" PRIu64 " frames; expected %" PRIu64
                " frames\n", ds64_data, ds64_frames, frames);
        return 1;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    if ((uint64_t)end != off + frames * 4) {
        fprintf(stderr, "file is %lld bytes, expected %" PRIu64 "\n", (long long)end,
                off + frames * 4);
        return 1;
    }

    /* Raw windows: the largest RIFF file, byte 2^32, frame 2^30, the end. */
    uint64_t at[] = { (0xffffffffull - 1 - off) / 4, ((1ull << 32) - off) / 4, 1ull << 30,
                      frames - 4096 };
    static float w[8192];
    for (int i = 0; i < 4; i++) {
        uint64_t first = at[i] - 4096;
        size_t n = first + 8192 <= frames ? 8192 : (size_t)(frames - first);
        if (pread(fd, w, n * 4, (off_t)(off + first * 4)) != (ssize_t)(n * 4)) {
            perror("pread");
            return 1;
        }
        for (size_t k = 0; k < n; k++)
            if (w[k] != (float)((first + k) % period == 0))
                return bad("raw", first + k, w[k]);
    }
    close(fd);

    /* Every frame through libsndfile. */
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) { fprintf(stderr, "libsndfile: %s\n", sf_strerror(NULL)); return 1; }
    if ((uint64_t)info.frames != frames || info.channels != 1) {
        fprintf(stderr, "libsndfile: %lld frames, %d channels\n", (long long)info.frames,
                info.channels);
        return 1;
    }
    enum { CHUNK = 1 << 20 };
    float *buf = malloc(CHUNK * sizeof *buf);
    uint64_t k = 0, ones = 0, next = 0; /* next: the next multiple of period */
    sf_count_t got;
    while ((got = sf_readf_float(sf, buf, CHUNK)) > 0) {
        for (sf_count_t i = 0; i < got; i++, k++) {
            if (k == next) {
                if (buf[i] != 1.0f) return bad("libsndfile", k, buf[i]);
                ones++;
                next += period;
            } else if (buf[i] != 0.0f) {
                return bad("libsndfile", k, buf[i]);
            }
        }
    }
    sf_close(sf);
    free(buf);
    if (k != frames) {
        fprintf(stderr, "libsndfile read %" PRIu64 " frames, expected %" PRIu64 "\n", k, frames);
        return 1;
    }
    uint64_t want = (frames + period - 1) / period;
    if (ones != want) {
        fprintf(stderr, "%" PRIu64 " impulses, expected %" PRIu64 "\n", ones, want);
        return 1;
    }
    printf("ok: %" PRIu64 " frames, %" PRIu64 " impulses, data at byte %" PRIu64 "\n", frames,
           ones, off);
    return 0;
}
C
${CC:-cc} -O2 -Wall -o check check.c -lsndfile || fail "cannot compile the checker"

t0=$(date +%s.%N)
run 0 "$REEL" record --device virtual:freewheel --input "impulse:$PERIOD" --format wav32f \
    --rate "$RATE" --period 1024 --seconds "$SECONDS_" --status-interval 5 "$BIG/sess"
t1=$(date +%s.%N)
take="$BIG/sess/audio/In1_T01.wav"
[ -f "$take" ] || fail "no take file $take"
contains out.txt "$take  $FRAMES frames  $SECONDS_.000 s  peak 0.0 dBFS  xruns 0  overruns 0"
contains out.txt "stopped elapsed=00:23:20 frames=$FRAMES xruns=0 overruns=0 lost_frames=0"
[ "$(head -c 4 "$take")" = RF64 ] || fail "the take is not RF64: $(head -c 4 "$take" | od -c)"
[ "$(frames "$take")" = "$FRAMES" ] || fail "sox reads $(frames "$take") frames, expected $FRAMES"
[ "$(json_get "$BIG/sess/session.json" 'j.takes[1].frames')" = "$FRAMES" ] ||
    fail "session.json frames"
[ "$(json_get "$BIG/sess/session.json" 'j.takes[1].lost_frames')" = 0 ] || fail "lost frames"
./check "$take" "$FRAMES" "$PERIOD" > check.txt 2>&1 || { cat check.txt >&2; fail "sample check"; }
t2=$(date +%s.%N)
cat check.txt
awk -v a="$t0" -v b="$t1" -v c="$t2" \
    'BEGIN { printf "recorded 4.3 GB in %.1f s, checked in %.1f s\n", b - a, c - b }'
echo ok
