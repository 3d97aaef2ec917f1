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
 * (reel_transport_poll_event). Nothing here allocates after create.
 * Both queues are single-producer/single-consumer: commands and
 * poll_event must come from one control thread at a time.
 *
 * Semantics, sample-exact:
 *  - Stopped: one output span per period, flags 0, pass 0, pos = the
 *    current position, which does not advance. Locate while stopped sets it;
 *    locate while rolling is stop then locate (the takes end as for stop).
 *  - Commands take effect at frame 0 of the first period whose process_rt
 *    runs after they were sent, never inside a period; at most one roll is
 *    applied per period (a second waits, with what follows it, for the
 *    next), so that a burst of rolls cannot lap the history.
 *  - Roll: the timeline starts at from - preroll - count_in. Frames before
 *    from - preroll (in the first pass) carry REEL_SPAN_COUNT_IN; every
 *    rolling span carries REEL_SPAN_ROLLING, and REEL_SPAN_RECORD when the
 *    roll records. A roll while rolling stops the old roll (STOPPED event,
 *    its takes end) and starts the new one at the same frame.
 *  - Loop: when the timeline reaches loop_end it continues at loop_start in
 *    the same period (span split) and the pass number goes up (LOOP event).
 *    Pre-roll before loop_start plays straight into the loop. With
 *    max_passes N the output stops where it reaches loop_end in pass N-1.
 *  - Autostop: the output stops exactly at autostop (span split). Inside a
 *    loop only an autostop at or before loop_end can be reached.
 *  - Record range, each pass: rec_in = punch_in if set, else loop_start with
 *    a loop, else from; rec_out = punch_out if set, else loop_end with a
 *    loop, else none. A frame is recorded iff, at its latency-shifted output
 *    time, the roll records, the count-in is over and its position lies in
 *    [rec_in, rec_out) (pre-roll frames inside the range count). Each pass
 *    that crosses the range is one take (pass = loop pass; take_pos 0 at its
 *    first frame); without a loop there is one take, pass 0, ending at
 *    rec_out or where the output stopped.
 *  - Latency: input frame d uses the output mapping of device frame d - L.
 *    Frames for which no output history exists (the first L frames after
 *    create or after a latency change) are not recorded. After the output
 *    stops, input frames keep being recorded for L frames (the sound still
 *    in flight); then TAKE_END and RECORD_DONE follow.
 *  - device_pos must advance by the frames of each period. A jump forward
 *    (frames the device lost) is run through as if processed with no spans,
 *    so the timeline keeps time with the musicians and later take_pos values
 *    show the gap. A jump backwards forgets the history (a new device).
 *  - Loops are expected to be longer than the period (8 spans then always
 *    suffice) and, as roll enforces, at least latency / 64 frames, so that
 *    the history (REEL_TRANSPORT_HISTORY segments) always covers the latency.
 *    Outside that the transport stays consistent and counts what it could
 *    not deliver (reel_transport_stats). */
#ifndef REEL_TRANSPORT_H
#define REEL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "reel_error.h"

#define REEL_POS_NONE INT64_MIN

/* Limits: positions are within +-REEL_TRANSPORT_POS_MAX (so that sums never
 * overflow); latency at most REEL_TRANSPORT_MAX_LATENCY_S seconds. */
#define REEL_TRANSPORT_POS_MAX ((int64_t)1 << 60)
#define REEL_TRANSPORT_MAX_LATENCY_S 10
#define REEL_TRANSPORT_HISTORY 512

/* What a roll does. Positions are timeline samples; REEL_POS_NONE where not used. */
typedef struct reel_roll {
    int64_t from;          /* where the music starts (the punch-in or loop start usually) */
    int64_t preroll;       /* frames played before `from` (>= 0) */
    int64_t count_in;      /* frames of count-in before the pre-roll (>= 0): click only,
                              playback muted (the caller turns bars into frames) */
    int record;            /* non-zero: takes are recorded */
    int64_t punch_in;      /* record from here ... (NONE: from `from`, or loop_start) */
    int64_t punch_out;     /* ... up to here, exclusive (NONE: no end, or loop_end) */
    int64_t loop_start;    /* loop range [start, end); NONE: no loop */
    int64_t loop_end;
    unsigned max_passes;   /* with a loop: stop after this many passes (0: until stopped) */
    int64_t autostop;      /* stop when the timeline reaches this (NONE: never) */
} reel_roll;

/* Fills r with "nothing set": from 0, no pre-roll or count-in, no punch, no
 * loop, no autostop, no record. */
void reel_roll_init(reel_roll *r);

/* Checks a roll against itself. Returns 0 or REEL_EINVAL with a message
 * naming the field and values, word for word one of:
 *   "from is not set"
 *   "<field> (V) is out of range"                (|V| > REEL_TRANSPORT_POS_MAX)
 *   "preroll (-5) must not be negative", "count_in (-1) must not be negative"
 *   "loop start is set but loop end is not" (and the other way round)
 *   "loop end (48000) is not after loop start (96000)"
 *   "from (X) is not before loop end (Y)"
 *   "punch out (1000) is not after punch in (2000)"
 *   "punch out (X) is not after from (Y)"         (no punch in, no loop)
 *   "punch range 10..20 is not inside the loop 30..40"
 *   "punch in (X) is not inside the loop 30..40"  (only punch in set)
 *   "punch out (X) is not inside the loop 30..40" (only punch out set)
 *   "max_passes needs a loop"
 *   "autostop (X) is not after from (Y)"
 * Thread safety: pure; any thread but not the audio one (formats text). */
int reel_roll_check(const reel_roll *r, char *errmsg);

enum {
    REEL_SPAN_ROLLING = 1u << 0,  /* the timeline advances */
    REEL_SPAN_COUNT_IN = 1u << 1, /* within the count-in: click only */
    REEL_SPAN_RECORD = 1u << 2    /* the roll records (outputs may show it, e.g.
                                     click-only-while-recording) */
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

/* Events for the control thread. Each roll gives ROLLING ... STOPPED on the
 * output side; a recording roll also gives TAKE_START/TAKE_END pairs and
 * exactly one RECORD_DONE on the input side (L frames later). */
typedef enum reel_transport_event_type {
    REEL_TEV_ROLLING = 1,   /* pos: where the timeline started (from - preroll - count_in) */
    REEL_TEV_TAKE_START,    /* pass, pos: first frame of a take (input side) */
    REEL_TEV_TAKE_END,      /* pass, pos: one past the last frame; frames: its length */
    REEL_TEV_LOOP,          /* pass: the new pass, pos: loop start (output side) */
    REEL_TEV_STOPPED,       /* pass: the last pass, pos: where the output timeline stopped */
    REEL_TEV_RECORD_DONE    /* the last take of the roll has ended (input side);
                               frames: takes recorded, pass: last pass seen,
                               pos: one past the last position the inputs heard */
} reel_transport_event_type;

typedef struct reel_transport_event {
    reel_transport_event_type type;
    unsigned pass;
    int64_t pos;
    uint64_t frames;
    uint64_t device_pos;    /* device frame at which it happened */
} reel_transport_event;

typedef struct reel_transport reel_transport;

/* latency: round trip in frames (output to input), 0 to
 * REEL_TRANSPORT_MAX_LATENCY_S * rate, else REEL_EINVAL. */
int reel_transport_create(reel_transport **out, unsigned rate, int64_t latency, char *errmsg);
void reel_transport_destroy(reel_transport *t);   /* NULL is fine */

/* Control thread: commands, applied at the start of the next period.
 * REEL_EAGAIN if the command queue is full. roll: checked with
 * reel_roll_check first (REEL_EINVAL), and a loop must be at least
 * latency / 64 frames long. A roll while rolling restarts. locate:
 * REEL_EINVAL outside +-REEL_TRANSPORT_POS_MAX. */
int reel_transport_locate(reel_transport *t, int64_t pos);
int reel_transport_roll(reel_transport *t, const reel_roll *r, char *errmsg);
int reel_transport_stop(reel_transport *t);
/* Latency may change only while stopped: REEL_ESTATE while rolling, while
 * takes are still receiving input, or while a roll sent is not yet applied.
 * The output history is forgotten, so the next `latency` input frames are
 * not recorded. */
int reel_transport_set_latency(reel_transport *t, int64_t latency);

/* Control thread: state as last published by the audio thread. */
int64_t reel_transport_position(const reel_transport *t);  /* output timeline */
int reel_transport_rolling(const reel_transport *t);
/* Non-zero while takes may still receive input frames (rolling with record,
 * or within `latency` frames after the output stopped). */
int reel_transport_recording(const reel_transport *t);
/* 1 and fills ev if an event was waiting, else 0. */
int reel_transport_poll_event(reel_transport *t, reel_transport_event *ev);

/* What the audio thread could not deliver; counters only grow. Any thread. */
typedef struct reel_transport_stats {
    uint64_t events_dropped;  /* the event queue was full */
    uint64_t spans_dropped;   /* a period needed more spans than `max` */
    uint64_t frames_unmapped; /* input frames whose output history had been overwritten */
} reel_transport_stats;
void reel_transport_get_stats(const reel_transport *t, reel_transport_stats *st);

/* Audio thread, once per period and in this order:
 * process_rt applies queued commands and computes the output spans for the
 * period starting at device frame device_pos; record_spans_rt then gives the
 * input spans of the same period. Both return the number of spans written
 * (at most max; 8 always suffices for periods shorter than the loop). */
unsigned reel_transport_process_rt(reel_transport *t, uint64_t device_pos, unsigned frames,
                                   reel_span *spans, unsigned max);
unsigned reel_transport_record_spans_rt(reel_transport *t, reel_rec_span *spans, unsigned max);

#endif
