/* fuzz_position.c: positions typed by a user (tempo.h
 * reel_tempo_parse_position: "96000", "12.5s", "5:2.5"), against a tempo map
 * the input also chooses.
 *
 * Input: rate, bpm, meter and up to three tempo changes from the first
 * bytes, then the text. Contract checked: failure leaves *sample alone and
 * says "position '...'"; success gives a sample at or after 1:1 (0) that
 * converts back to bars:beats, and plain forms round-trip exactly: "N" is
 * sample N, "BAR:BEAT" lands on that bar and beat. */
#include "fuzz_common.h"

#include "tempo.h"

static const unsigned rates[] = { 48000, 44100, 96000, 8000, 1000, 1000000, 192000, 22050 };
static const int dens[] = { 1, 2, 4, 8, 16, 32 };

/* bpm from two bytes: 1..1000 in steps of 1/64 (fractions included). */
static double pick_bpm(fuzz_input *in)
{
    unsigned v = fuzz_byte(in) << 8 | fuzz_byte(in);
    double bpm = 1.0 + (double)(v % 63937) / 64.0;
    return bpm > REEL_TEMPO_BPM_MAX ? REEL_TEMPO_BPM_MAX : bpm;
}

static int all_digits(const char *s, const char *end)
{
    if (s == end)
        return 0;
    for (; s < end; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = { data, size };
    char err[REEL_ERRMSG_MAX] = "";
    unsigned rate = rates[fuzz_byte(&in) % 8];
    double bpm = pick_bpm(&in);
    int num = 1 + (int)(fuzz_byte(&in) % REEL_TEMPO_NUM_MAX);
    int den = dens[fuzz_byte(&in) % 6];
    reel_tempo *m = NULL;
    if (reel_tempo_create(&m, rate, bpm, num, den, err) != 0)
        fuzz_finding("reel_tempo_create(%u, %g, %d/%d) refused valid values: %s", rate, bpm, num,
                     den, err);
    unsigned changes = fuzz_byte(&in) % 4;
    for (unsigned i = 0; i < changes; i++) {
        unsigned b = fuzz_byte(&in) << 8 | fuzz_byte(&in);
        int bar = 1 + (int)(b % REEL_TEMPO_BAR_MAX);
        double cbpm = pick_bpm(&in);
        int cnum = 1 + (int)(fuzz_byte(&in) % REEL_TEMPO_NUM_MAX);
        int cden = dens[fuzz_byte(&in) % 6];
        if (reel_tempo_set(m, bar, cbpm, cnum, cden, err) != 0)
            fuzz_finding("reel_tempo_set(%d, %g, %d/%d) refused valid values: %s", bar, cbpm,
                         cnum, cden, err);
    }

    char *text = fuzz_cstring(in.data, in.size);
    const int64_t untouched = INT64_MIN + 12345;
    int64_t sample = untouched;
    err[0] = 0;
    int rc = reel_tempo_parse_position(m, text, &sample, err);
    if (rc != 0) {
        if (rc != REEL_EINVAL)
            fuzz_finding("parse_position('%s') returned %d, not REEL_EINVAL", text, rc);
        if (sample != untouched)
            fuzz_finding("parse_position('%s') failed but wrote %lld", text, (long long)sample);
        if (strncmp(err, "position '", 10) != 0)
            fuzz_finding("parse_position('%s') failed with message '%s'", text, err);
    } else {
        int bar, beat;
        double frac;
        if (sample < 0)
            fuzz_finding("parse_position('%s') gave %lld, before 1:1", text, (long long)sample);
        if (reel_tempo_sample_to_bbt_rt(m, sample, &bar, &beat, &frac) != 0)
            fuzz_finding("parse_position('%s') gave %lld, which has no bars:beats", text,
                         (long long)sample);
        if (bar < 1 || beat < 1 || !(frac >= 0.0 && frac < 1.0))
            fuzz_finding("parse_position('%s') gave %lld = %d:%d + %g", text, (long long)sample,
                         bar, beat, frac);
        const char *colon = strchr(text, ':');
        size_t len = strlen(text);
        if (all_digits(text, text + len)) {
            if (len < 16 && sample != strtoll(text, NULL, 10))
                fuzz_finding("parse_position('%s') gave sample %lld", text, (long long)sample);
        } else if (colon && all_digits(text, colon) && all_digits(colon + 1, text + len) &&
                   colon - text < 7 && text + len - colon < 7) {
            long want_bar = strtol(text, NULL, 10), want_beat = strtol(colon + 1, NULL, 10);
            if (bar != want_bar || beat != want_beat || frac != 0.0)
                fuzz_finding("parse_position('%s') gave %lld, which is %d:%d + %g", text,
                             (long long)sample, bar, beat, frac);
        }
    }
    free(text);
    reel_tempo_destroy(m);
    return 0;
}
