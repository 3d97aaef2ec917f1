/* fuzz_common.h: helpers shared by the libFuzzer targets (tests/fuzz/).
 *
 * Each target is one file defining LLVMFuzzerTestOneInput (and, where it
 * needs set-up, LLVMFuzzerInitialize). What counts as a finding: a crash or
 * sanitizer report (ASan, UBSan, LeakSanitizer), a hang past -timeout, and
 * any broken contract a target checks, reported through fuzz_finding(),
 * which prints what was wrong and aborts so that libFuzzer saves the input.
 *
 * Files: a target that needs files on disk works in one private temporary
 * folder, made at start under $TMPDIR (run.sh points it into build-fuzz/)
 * and removed at a normal exit. */
#ifndef REEL_FUZZ_COMMON_H
#define REEL_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((noreturn, format(printf, 1, 2), unused))
static void fuzz_finding(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("\n==reel-fuzz== FINDING: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

/* data[0..size) as a NUL-terminated string (cut at the first NUL byte, as
 * any C caller would see it). free() it. */
__attribute__((unused))
static char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

static char fuzz_dir[PATH_MAX];

static int fuzz_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    remove(p);
    return 0;
}

__attribute__((unused))
static void fuzz_rm_rf(const char *path)
{
    nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_tmpdir_cleanup(void)
{
    if (fuzz_dir[0])
        fuzz_rm_rf(fuzz_dir);
}

/* Makes the private folder ($TMPDIR/reel-fuzz-NAME.XXXXXX) once. */
__attribute__((unused))
static const char *fuzz_tmpdir(const char *name)
{
    if (fuzz_dir[0])
        return fuzz_dir;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/reel-fuzz-%s.XXXXXX", tmp, name);
    if (!mkdtemp(fuzz_dir)) {
        fprintf(stderr, "reel-fuzz: cannot make a folder under %s: %s\n", tmp, strerror(errno));
        exit(1);
    }
    atexit(fuzz_tmpdir_cleanup);
    return fuzz_dir;
}

/* Writes data to path (replacing it), or exits: the fuzzer's own disk
 * trouble is not a finding. */
__attribute__((unused))
static void fuzz_write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "reel-fuzz: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "reel-fuzz: writing %s: %s\n", path, strerror(errno));
            exit(1);
        }
        p += n;
        size -= (size_t)n;
    }
    close(fd);
}

/* Little-endian reads from the front of the input, for the parameters a
 * target takes before its text; 0 once the input runs out. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
} fuzz_input;

__attribute__((unused))
static unsigned fuzz_byte(fuzz_input *in)
{
    if (in->size == 0)
        return 0;
    unsigned b = in->data[0];
    in->data++;
    in->size--;
    return b;
}

#endif
