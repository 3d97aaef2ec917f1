/* fuzz_format.c: take format names (writer.h reel_format_parse), as given
 * to --format and in session files.
 * Contract: a name parses only to a format whose name is that text, with
 * the extension "wav" or "flac"; anything else is REEL_EINVAL. */
#include "fuzz_common.h"

#include "writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = fuzz_cstring(data, size);
    reel_format f = (reel_format)-1;
    int rc = reel_format_parse(name, &f);
    if (rc == 0) {
        const char *back = reel_format_name(f);
        const char *ext = reel_format_ext(f);
        if (!back || strcmp(back, name) != 0)
            fuzz_finding("'%s' parses to format %d, whose name is '%s'", name, (int)f,
                         back ? back : "(null)");
        if (!ext || (strcmp(ext, "wav") != 0 && strcmp(ext, "flac") != 0))
            fuzz_finding("format '%s' has extension '%s'", name, ext ? ext : "(null)");
    } else if (rc != REEL_EINVAL) {
        fuzz_finding("reel_format_parse('%s') returned %d, not 0 or REEL_EINVAL", name, rc);
    }
    free(name);
    return 0;
}
