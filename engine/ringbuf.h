/* ringbuf.h: single-producer/single-consumer lock-free byte ring.
 *
 * One thread writes, one thread reads; no locks, C11 acquire/release atomics
 * on the two indices (JACK's ringbuffer.c design: power-of-two size, mask,
 * read/write vectors). Capacity is rounded up to a power of two and the ring
 * can hold all of it (indices are free-running, not wrapped), so a ring
 * created for N bytes accepts at least N bytes.
 * Memory is allocated by reel_ring_create only (control thread, before the
 * stream starts), locked with mlock when possible; everything ending in _rt
 * is wait-free and safe in the audio callback. The consumer-side functions are
 * also wait-free, so either side may be the audio thread. */
#ifndef REEL_RINGBUF_H
#define REEL_RINGBUF_H

#include <stddef.h>

typedef struct reel_ring reel_ring;

/* A contiguous piece of the ring: at most two make up the readable or the
 * writable region. */
typedef struct reel_ring_vec {
    unsigned char *buf;
    size_t len;
} reel_ring_vec;

/* Creates a ring holding at least min_bytes (rounded up to a power of two).
 * Returns 0 or REEL_ENOMEM / REEL_EINVAL (min_bytes 0 or absurdly large). */
int reel_ring_create(reel_ring **out, size_t min_bytes);
void reel_ring_destroy(reel_ring *r);   /* NULL is fine */
size_t reel_ring_capacity(const reel_ring *r);

/* Producer side. */
size_t reel_ring_write_space_rt(const reel_ring *r);
/* Copies min(n, space) bytes; returns how many were written. */
size_t reel_ring_write_rt(reel_ring *r, const void *src, size_t n);
/* Zero-copy: fills v[0], v[1] with the writable region; then commit. */
void reel_ring_write_vector_rt(reel_ring *r, reel_ring_vec v[2]);
void reel_ring_write_commit_rt(reel_ring *r, size_t n);

/* Consumer side. */
size_t reel_ring_read_space_rt(const reel_ring *r);
size_t reel_ring_read_rt(reel_ring *r, void *dst, size_t n);
size_t reel_ring_peek_rt(const reel_ring *r, void *dst, size_t n);
void reel_ring_read_vector_rt(reel_ring *r, reel_ring_vec v[2]);
void reel_ring_read_commit_rt(reel_ring *r, size_t n);

/* Empties the ring. Only when neither side is running. */
void reel_ring_reset(reel_ring *r);

#endif
