/* ringbuf.c: the single-producer/single-consumer byte ring of ringbuf.h.
 *
 * Threads: reel_ring_create, reel_ring_destroy and reel_ring_reset run on the
 * control thread while neither side is active. Afterwards exactly one
 * producer thread calls the write-side *_rt functions and exactly one
 * consumer thread the read-side ones; either may be the audio callback.
 *
 * The two indices count bytes ever written and ever read and are never
 * wrapped; only (index & mask) is wrapped to find a position in the buffer.
 * So w - r (unsigned, modulo SIZE_MAX + 1) is always the fill level in
 * 0..size, the ring can be completely full without a wasted slot, and the
 * counters may overflow safely because size divides SIZE_MAX + 1.
 * Each side owns one index: it loads its own relaxed (nobody else writes it),
 * loads the other side's with acquire (so the bytes the other side wrote, or
 * finished reading, are settled before we touch them) and publishes its own
 * with release (so our bytes, or our finished reads, precede the new index). */
#include "ringbuf.h"

#include "reel_error.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* 64 bytes is the line on every x86-64 and most ARM cores we target; a wrong
 * guess only costs speed, never correctness. */
#define RING_CACHE_LINE 64

struct reel_ring {
    /* Each index on its own line: the producer hammering write_idx must not
     * keep invalidating the line the consumer reads read_idx from. */
    alignas(RING_CACHE_LINE) atomic_size_t write_idx; /* stored by producer only */
    alignas(RING_CACHE_LINE) atomic_size_t read_idx;  /* stored by consumer only */
    /* Immutable after create, so both sides may share this line freely. */
    alignas(RING_CACHE_LINE) unsigned char *buf;
    size_t size;
    size_t mask;
    int locked;
    int mapped;   /* buf comes from map_buffer (munmap), else from the heap */
};

/* Capture rings are megabytes each and there may be a thousand of them.
 * Those get a mapping of their own, which mlock populates directly: the
 * kernel hands out zeroed pages without a first-touch fault per page, and
 * freeing is one munmap that also unlocks. Touching every page with memset
 * first, then mlock, then munlock and free cost a quarter of the process's
 * CPU time in a 256-track, 96 kHz, 10 s take. (Transparent huge pages were
 * tried too: with defrag on, allocating them ran into direct compaction
 * and cost between nothing and a second of CPU, so no.) */
#define RING_MAP_MIN ((size_t)1 << 16)

static void *map_buffer(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

int reel_ring_create(reel_ring **out, size_t min_bytes)
{
    if (!out)
        return REEL_EINVAL;
    *out = NULL;
    /* The SIZE_MAX / 4 cap keeps the power-of-two rounding below from
     * overflowing and rejects sizes that can only be a unit mix-up. */
    if (min_bytes == 0 || min_bytes > SIZE_MAX / 4)
        return REEL_EINVAL;

    size_t size = 1;
    while (size < min_bytes)
        size <<= 1;

    reel_ring *r = NULL;
    /* posix_memalign rather than malloc: malloc only promises 16-byte
     * alignment, which would defeat the alignas on the indices. */
    if (posix_memalign((void **)&r, RING_CACHE_LINE, sizeof *r) != 0)
        return REEL_ENOMEM;
    memset(r, 0, sizeof *r);

    void *buf = NULL;
    if (size >= RING_MAP_MIN) {
        buf = map_buffer(size);
        if (!buf) {
            free(r);
            return REEL_ENOMEM;
        }
        r->mapped = 1;
    } else if (posix_memalign(&buf, RING_CACHE_LINE, size) != 0) {
        free(r);
        return REEL_ENOMEM;
    }
    /* Every page must be resident before the audio thread touches it (no
     * first-touch page fault in the callback). mlock both populates and
     * keeps the pages; without the privilege or RLIMIT_MEMLOCK headroom it
     * fails, and then touching every page populates it: a ring that might
     * page out beats no ring. Fresh mappings are already zero. */
    r->locked = mlock(buf, size) == 0;
    if (!r->locked || !r->mapped)
        memset(buf, 0, size);

    r->buf = buf;
    r->size = size;
    r->mask = size - 1;
    atomic_init(&r->write_idx, 0);
    atomic_init(&r->read_idx, 0);
    *out = r;
    return REEL_OK;
}

void reel_ring_destroy(reel_ring *r)
{
    if (!r)
        return;
    /* Small buffers live inside the malloc heap and stay mapped after free,
     * so without munlock their pages would stay locked for the process. */
    if (r->mapped) {
        munmap(r->buf, r->size); /* unlocks too */
    } else {
        if (r->locked)
            munlock(r->buf, r->size);
        free(r->buf);
    }
    free(r);
}

size_t reel_ring_capacity(const reel_ring *r)
{
    return r->size;
}

/* Describes the `avail` bytes starting at free-running index idx as at most
 * two pieces, the second starting at the buffer's beginning. */
static void ring_vectors(const reel_ring *r, size_t idx, size_t avail,
                         reel_ring_vec v[2])
{
    size_t start = idx & r->mask;
    size_t first = min_size(avail, r->size - start);
    v[0].buf = r->buf + start;
    v[0].len = first;
    v[1].buf = r->buf;
    v[1].len = avail - first;
}

static void copy_in(reel_ring *r, size_t idx, const unsigned char *src, size_t n)
{
    size_t start = idx & r->mask;
    size_t first = min_size(n, r->size - start);
    memcpy(r->buf + start, src, first);
    if (n > first)
        memcpy(r->buf, src + first, n - first);
}

static void copy_out(const reel_ring *r, size_t idx, unsigned char *dst, size_t n)
{
    size_t start = idx & r->mask;
    size_t first = min_size(n, r->size - start);
    memcpy(dst, r->buf + start, first);
    if (n > first)
        memcpy(dst + first, r->buf, n - first);
}

/* ---- producer side ---- */

size_t reel_ring_write_space_rt(const reel_ring *r)
{
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    return r->size - (w - rd);
}

size_t reel_ring_write_rt(reel_ring *r, const void *src, size_t n)
{
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    n = min_size(n, r->size - (w - rd));
    /* Early out also keeps memcpy away from a NULL src when n is 0. */
    if (n == 0)
        return 0;
    copy_in(r, w, src, n);
    atomic_store_explicit(&r->write_idx, w + n, memory_order_release);
    return n;
}

void reel_ring_write_vector_rt(reel_ring *r, reel_ring_vec v[2])
{
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    ring_vectors(r, w, r->size - (w - rd), v);
}

void reel_ring_write_commit_rt(reel_ring *r, size_t n)
{
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_acquire);
    /* Clamp rather than trust: committing more than the vector offered would
     * push the fill level past size and let the consumer read bytes it is
     * still being handed, and the audio thread has no way to report it. */
    n = min_size(n, r->size - (w - rd));
    atomic_store_explicit(&r->write_idx, w + n, memory_order_release);
}

/* ---- consumer side ---- */

size_t reel_ring_read_space_rt(const reel_ring *r)
{
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    return w - rd;
}

size_t reel_ring_read_rt(reel_ring *r, void *dst, size_t n)
{
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    n = min_size(n, w - rd);
    if (n == 0)
        return 0;
    copy_out(r, rd, dst, n);
    /* Release: our reads of these bytes must finish before the producer can
     * see the space and overwrite them. */
    atomic_store_explicit(&r->read_idx, rd + n, memory_order_release);
    return n;
}

size_t reel_ring_peek_rt(const reel_ring *r, void *dst, size_t n)
{
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    n = min_size(n, w - rd);
    if (n == 0)
        return 0;
    copy_out(r, rd, dst, n);
    return n;
}

void reel_ring_read_vector_rt(reel_ring *r, reel_ring_vec v[2])
{
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    ring_vectors(r, rd, w - rd, v);
}

void reel_ring_read_commit_rt(reel_ring *r, size_t n)
{
    size_t rd = atomic_load_explicit(&r->read_idx, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write_idx, memory_order_acquire);
    /* Same reasoning as the write side: over-committing would hand the
     * producer space that still holds unread bytes. */
    n = min_size(n, w - rd);
    atomic_store_explicit(&r->read_idx, rd + n, memory_order_release);
}

void reel_ring_reset(reel_ring *r)
{
    /* Both sides are stopped, so ordering between the stores is moot; the
     * seq_cst defaults keep this obviously correct for whoever starts next. */
    atomic_store(&r->write_idx, 0);
    atomic_store(&r->read_idx, 0);
}

#ifdef REEL_FAULT_INJECTION
/* Test-only: starts both counters at idx so the tests can drive them across
 * SIZE_MAX without writing 2^64 bytes. Same rules as reel_ring_reset. The
 * prototype lives in the test, not in ringbuf.h, so no production caller can
 * reach it. */
void reel_ring_test_set_indices(reel_ring *r, size_t idx);
void reel_ring_test_set_indices(reel_ring *r, size_t idx)
{
    atomic_store(&r->write_idx, idx);
    atomic_store(&r->read_idx, idx);
}
#endif
