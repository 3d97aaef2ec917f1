/* transport.h: the transport state machine, run sample-accurately in the
 * audio thread.
 *
 * The transport maps device frames to session timeline positions (int64
 * samples; 0 is the session start, negative during pre-roll and count-in).
 * Per period it answers two questions:
 *  - output side (reel_transport_process_rt): which timeline positions the
 *    outputs play in this period (spans split at loop wraps, at the end of
 *    the count-in and where the transport starts or stops inside a period);
 *  - input side (reel_transport_record_spans_rt): which input frames of this
 *    period belong to a take, at which take position and loop pass. An input
 *    frame arriving at device frame d is the sound the outputs played at
 *    device frame d - latency (the round trip), so recording decisions use the
 *    output mapping of L frames ago, kept in a small history of segments.
 *    That is how an overdub lands on the sample it was played against.
 *
 * Threads: the control thread creates the transport and sends commands
 * (locate, roll, stop) through a lock-free queue; the audio thread applies
 * them at the start of its next period and runs the _rt functions; events go
 * back through another lock-free queue to the control thread
 * (reel_transport_poll_event). Nothing here allocates after create. */
#ifndef REEL_TRANSPORT_H
#define REEL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

#define REEL_POS_NONE INT64_MIN

/* What a roll does. Positions are timeline samples; REEL_POS_NONE where not used. */
typedef struct reel_roll {
    int64_t from;          /* where the music starts (the punch-in or loop start usually) */
    int64_t preroll;       /* frames played before `from` (>= 0) */
    int64_t count_in;      /* frames of count-in before the pre-roll (>= 0): click only,
                              playback muted (the caller turns bars into frames) */
    int record;            /* non-zero: takes are recorded */
    int64_t punch_in;      /* record from here ... (NONE: from `from`) */
    int64_t punch_out;     /* ... up to here, exclusive (NONE: no end) */
    int64_t loop_start;    /* loop range [start, end); NONE: no loop */
    int64_t loop_end;
    unsigned max_passes;   /* with a loop: stop after this many passes (0: until stopped) */
    int64_t autostop;      /* stop when the timeline reaches this (NONE: never) */
} reel_roll;

/* Fills r with "nothing set": no punch, no loop, no autostop, no record. */
void reel_roll_init(reel_roll *r);

/* Checks a roll against itself (punch out after punch in, loop end after
 * loop start, punch range inside the loop when both are set, ...). Returns 0
 * or REEL_EINVAL with a message naming the field, e.g.
 * "punch out (1000) is not after punch in (2000)". */
int reel_roll_check(const reel_roll *r, char *errmsg);

enum {
    REEL_SPAN_ROLLING = 1u << 0,  /* the timeline advances */
    REEL_SPAN_COUNT_IN = 1u << 1, /* within the count-in: click only */
    REEL_SPAN_RECORD = 1u << 2    /* the roll records (outputs may show it, e.g. click-only-while-recording) */
};

/* A run of consecutive frames of one period with one timeline mapping. */
typedef struct reel_span {
    unsigned offset;   /* first frame within the period */
    unsigned frames;
    int64_t pos;       /* timeline position of that frame (meaningful when rolling) */
    unsigned flags;    /* REEL_SPAN_* */
    unsigned pass;     /* loop pass, 0 first */
} reel_span;

/* A run of input frames that belong to a take. */
typedef struct reel_rec_span {
    unsigned offset;   /* first frame within the period */
    unsigned frames;
    int64_t pos;       /* timeline position the frames represent (latency compensated) */
    uint64_t take_pos; /* position within the take (0 at its first frame) */
    unsigned pass;     /* which take of this roll: 0, 1, ... (one per loop pass) */
} reel_rec_span;

/* Events for the control thread. */
typedef enum reel_transport_event_type {
    REEL_TEV_ROLLING = 1,   /* pos: where the timeline started */
    REEL_TEV_TAKE_START,    /* pass, pos: first frame of a take (input side) */
    REEL_TEV_TAKE_END,      /* pass, pos: one past the last frame; frames: its length */
    REEL_TEV_LOOP,          /* pass: the new pass, pos: loop start (output side) */
    REEL_TEV_STOPPED,       /* pos: where the output timeline stopped */
    REEL_TEV_RECORD_DONE    /* the last take of the roll has ended (input side) */
} reel_transport_event_type;

typedef struct reel_transport_event {
    reel_transport_event_type type;
    unsigned pass;
    int64_t pos;
    uint64_t frames;
    uint64_t device_pos;    /* device frame at which it happened */
} reel_transport_event;

typedef struct reel_transport reel_transport;

/* latency: round trip in frames (output to input), >= 0. */
int reel_transport_create(reel_transport **out, unsigned rate, int64_t latency, char *errmsg);
void reel_transport_destroy(reel_transport *t);

/* Control thread: commands, applied at the start of the next period.
 * REEL_EAGAIN if the command queue is full. roll: checked with
 * reel_roll_check first (REEL_EINVAL). A roll while rolling restarts. */
int reel_transport_locate(reel_transport *t, int64_t pos);
int reel_transport_roll(reel_transport *t, const reel_roll *r, char *errmsg);
int reel_transport_stop(reel_transport *t);
/* Latency may change only while stopped. */
int reel_transport_set_latency(reel_transport *t, int64_t latency);

/* Control thread: state as last published by the audio thread. */
int64_t reel_transport_position(const reel_transport *t);  /* output timeline */
int reel_transport_rolling(const reel_transport *t);
/* Non-zero while takes may still receive input frames (rolling with record,
 * or within `latency` frames after the output stopped). */
int reel_transport_recording(const reel_transport *t);
/* 1 and fills ev if an event was waiting, else 0. */
int reel_transport_poll_event(reel_transport *t, reel_transport_event *ev);

/* Audio thread, once per period and in this order:
 * process_rt applies queued commands and computes the output spans for the
 * period starting at device frame device_pos; record_spans_rt then gives the
 * input spans of the same period. Both return the number of spans written
 * (at most max; 8 always suffices for periods shorter than the loop). */
unsigned reel_transport_process_rt(reel_transport *t, uint64_t device_pos, unsigned frames,
                                   reel_span *spans, unsigned max);
unsigned reel_transport_record_spans_rt(reel_transport *t, reel_rec_span *spans, unsigned max);

#endif
