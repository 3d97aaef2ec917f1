/* fuzz_gen_spec.c: generator specs (generator.h), as typed after --input.
 *
 * Input: one byte choosing the sample rate, then the spec text.
 * Contract checked: reel_gen_create either fails with a message or gives a
 * generator whose samples are finite and within full scale (levels are
 * dBFS peak, never above 0), and only for text reel_gen_is_spec accepts. */
#include "fuzz_common.h"

#include <math.h>

#include "generator.h"

static const unsigned rates[] = { 48000, 44100, 96000, 8000, 1000, 1, 2, 3, 192000, 768000,
                                  1000000, 0, 4294967295u, 22050, 11025, 7 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = { data, size };
    unsigned rate = rates[fuzz_byte(&in) % (sizeof rates / sizeof rates[0])];
    char *spec = fuzz_cstring(in.data, in.size);
    char err[REEL_ERRMSG_MAX] = "";
    reel_gen *g = NULL;
    int is_spec = reel_gen_is_spec(spec);
    int rc = reel_gen_create(&g, spec, rate, err);
    if (rc < 0) {
        if (g)
            fuzz_finding("reel_gen_create('%s', %u) failed (%d) but set *out", spec, rate, rc);
        if (!err[0])
            fuzz_finding("reel_gen_create('%s', %u) failed (%d) without a message", spec, rate, rc);
    } else {
        if (!g)
            fuzz_finding("reel_gen_create('%s', %u) succeeded without a generator", spec, rate);
        if (!is_spec)
            fuzz_finding("'%s' makes a generator but reel_gen_is_spec says it is not one", spec);
        static float buf[4096];
        /* A few periods of the shapes with long cycles, and the first frames
         * of every other. */
        for (int round = 0; round < 4; round++) {
            reel_gen_fill_rt(g, buf, sizeof buf / sizeof buf[0]);
            for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++)
                if (!isfinite(buf[i]) || fabsf(buf[i]) > 1.0f)
                    fuzz_finding("'%s' at %u Hz: sample %zu is %g (outside full scale)", spec,
                                 rate, round * (sizeof buf / sizeof buf[0]) + i, buf[i]);
        }
        reel_gen_destroy(g);
    }
    free(spec);
    return 0;
}
