/* test_transport.c: unit tests for the transport (engine/transport.c).
 *
 * Most tests are single-threaded simulations: the test plays the device,
 * calling process_rt and record_spans_rt period after period, and expands
 * every span into a per-device-frame record (what the outputs played, what
 * the inputs recorded). Expectations are written per frame in closed form
 * from the numbers in each test (worked out in the comments), never by asking
 * the transport a second way. Periods of 256 and odd sizes (100, 300, 77)
 * put loop wraps, punch points and stops in the middle of periods.
 * test_commands_from_control_thread runs a real control thread against the
 * "audio" thread (TSan build); cmocka asserts stay on the main thread after
 * the join, the threads only count what went wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel_error.h"
#include "transport.h"

#define RATE 48000
#define SIM_FRAMES (1u << 17) /* device frames a simulation can record */
#define SIM_EVENTS 4096
#define MAX_SPANS 8

#define NONE REEL_POS_NONE
#define R REEL_SPAN_ROLLING
#define C REEL_SPAN_COUNT_IN
#define REC REEL_SPAN_RECORD

/* What happened at one device frame. */
typedef struct out_frame {
    int seen;
    unsigned flags;
    int64_t pos;
    unsigned pass;
} out_frame;

typedef struct in_frame {
    int rec;
    int64_t pos;
    uint64_t take_pos;
    unsigned pass;
} in_frame;

typedef struct sim {
    reel_transport *t;
    uint64_t base;  /* device frame of out[0] */
    uint64_t dev;   /* next device frame */
    out_frame *out;
    in_frame *in;
    reel_transport_event ev[SIM_EVENTS];
    size_t n_ev;
    unsigned max_spans; /* passed to the _rt calls */
    char err[REEL_ERRMSG_MAX];
} sim;

static sim S;

#define assert_i64(got, want)                                                          \
    do {                                                                               \
        long long g_ = (long long)(got), w_ = (long long)(want);                       \
        if (g_ != w_)                                                                  \
            fail_msg("%s = %lld, want %lld", #got, g_, w_);                            \
    } while (0)

static int make(void **state, int64_t latency)
{
    memset(&S, 0, sizeof S);
    S.out = calloc(SIM_FRAMES, sizeof *S.out);
    S.in = calloc(SIM_FRAMES, sizeof *S.in);
    S.max_spans = MAX_SPANS;
    if (!S.out || !S.in)
        return -1;
    if (reel_transport_create(&S.t, RATE, latency, S.err) != REEL_OK) {
        fprintf(stderr, "setup: %s\n", S.err);
        return -1;
    }
    *state = &S;
    return 0;
}

static int setup_l0(void **state) { return make(state, 0); }
static int setup_l1000(void **state) { return make(state, 1000); }

static int teardown(void **state)
{
    sim *s = *state;
    reel_transport_destroy(s->t);
    free(s->out);
    free(s->in);
    s->t = NULL;
    s->out = NULL;
    s->in = NULL;
    return 0;
}

/* Replaces the transport, for tests that try several latencies. */
static void remake(sim *s, int64_t latency, uint64_t base)
{
    reel_transport_destroy(s->t);
    s->t = NULL;
    assert_int_equal(reel_transport_create(&s->t, RATE, latency, s->err), REEL_OK);
    memset(s->out, 0, SIM_FRAMES * sizeof *s->out);
    memset(s->in, 0, SIM_FRAMES * sizeof *s->in);
    s->base = s->dev = base;
    s->n_ev = 0;
}

static void drain_events(sim *s)
{
    reel_transport_event ev;
    while (reel_transport_poll_event(s->t, &ev)) {
        assert_true(s->n_ev < SIM_EVENTS);
        s->ev[s->n_ev++] = ev;
    }
}

/* One period of `frames` at s->dev: output spans must tile the period in
 * order, input spans must lie inside it, in order, without overlap. */
static void period(sim *s, unsigned frames)
{
    reel_span sp[MAX_SPANS];
    reel_rec_span rs[MAX_SPANS];
    memset(sp, 0xa5, sizeof sp);
    unsigned n = reel_transport_process_rt(s->t, s->dev, frames, sp, s->max_spans);
    assert_true(n <= s->max_spans);
    unsigned at = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(sp[i].offset, at);
        assert_true(sp[i].frames > 0);
        for (unsigned k = 0; k < sp[i].frames; k++) {
            uint64_t d = s->dev + at + k - s->base;
            assert_true(d < SIM_FRAMES);
            int rolling = (sp[i].flags & R) != 0;
            s->out[d] = (out_frame){1, sp[i].flags, sp[i].pos + (rolling ? k : 0), sp[i].pass};
        }
        at += sp[i].frames;
    }
    if (s->max_spans >= MAX_SPANS)
        assert_int_equal(at, frames);

    unsigned m = reel_transport_record_spans_rt(s->t, rs, s->max_spans);
    assert_true(m <= s->max_spans);
    unsigned end = 0;
    for (unsigned i = 0; i < m; i++) {
        assert_true(rs[i].offset >= end);
        assert_true(rs[i].frames > 0);
        assert_true(rs[i].offset + rs[i].frames <= frames);
        for (unsigned k = 0; k < rs[i].frames; k++) {
            uint64_t d = s->dev + rs[i].offset + k - s->base;
            s->in[d] = (in_frame){1, rs[i].pos + k, rs[i].take_pos + k, rs[i].pass};
        }
        end = rs[i].offset + rs[i].frames;
    }
    s->dev += frames;
    drain_events(s);
}

/* Runs whole periods of `size` until `frames` device frames have passed (the
 * last one shorter if need be). */
static void run(sim *s, uint64_t frames, unsigned size)
{
    while (frames > 0) {
        unsigned n = frames < size ? (unsigned)frames : size;
        period(s, n);
        frames -= n;
    }
}

/* Frames [d0, d1) played rolling with `flags`, pass, positions from pos0. */
#define OUT_ROLL(s, d0, d1, fl, pos0, pa) out_roll_((s), (d0), (d1), (fl), (pos0), (pa), __LINE__)
static void out_roll_(sim *s, uint64_t d0, uint64_t d1, unsigned flags, int64_t pos0,
                      unsigned pass, int line)
{
    for (uint64_t d = d0; d < d1; d++) {
        const out_frame *f = &s->out[d - s->base];
        if (!f->seen || f->flags != flags || f->pos != pos0 + (int64_t)(d - d0) ||
            f->pass != pass)
            fail_msg("line %d: out frame %llu: seen %d flags %u pos %lld pass %u, want flags "
                     "%u pos %lld pass %u",
                     line, (unsigned long long)d, f->seen, f->flags, (long long)f->pos, f->pass,
                     flags, (long long)(pos0 + (int64_t)(d - d0)), pass);
    }
}

/* Frames [d0, d1) played stopped at pos. */
#define OUT_STOP(s, d0, d1, pos) out_stop_((s), (d0), (d1), (pos), __LINE__)
static void out_stop_(sim *s, uint64_t d0, uint64_t d1, int64_t pos, int line)
{
    for (uint64_t d = d0; d < d1; d++) {
        const out_frame *f = &s->out[d - s->base];
        if (!f->seen || f->flags != 0 || f->pos != pos || f->pass != 0)
            fail_msg("line %d: out frame %llu: seen %d flags %u pos %lld pass %u, want stopped "
                     "at %lld",
                     line, (unsigned long long)d, f->seen, f->flags, (long long)f->pos, f->pass,
                     (long long)pos);
    }
}

/* Input frames [d0, d1) recorded at positions from pos0, take_pos from tp0. */
#define IN_REC(s, d0, d1, pos0, tp0, pa) in_rec_((s), (d0), (d1), (pos0), (tp0), (pa), __LINE__)
static void in_rec_(sim *s, uint64_t d0, uint64_t d1, int64_t pos0, uint64_t tp0, unsigned pass,
                    int line)
{
    for (uint64_t d = d0; d < d1; d++) {
        const in_frame *f = &s->in[d - s->base];
        int64_t wp = pos0 + (int64_t)(d - d0);
        uint64_t wt = tp0 + (d - d0);
        if (!f->rec || f->pos != wp || f->take_pos != wt || f->pass != pass)
            fail_msg("line %d: in frame %llu: rec %d pos %lld take_pos %llu pass %u, want pos "
                     "%lld take_pos %llu pass %u",
                     line, (unsigned long long)d, f->rec, (long long)f->pos,
                     (unsigned long long)f->take_pos, f->pass, (long long)wp,
                     (unsigned long long)wt, pass);
    }
}

#define IN_NONE(s, d0, d1) in_none_((s), (d0), (d1), __LINE__)
static void in_none_(sim *s, uint64_t d0, uint64_t d1, int line)
{
    for (uint64_t d = d0; d < d1; d++)
        if (s->in[d - s->base].rec)
            fail_msg("line %d: in frame %llu recorded, want nothing", line,
                     (unsigned long long)d);
}

static uint64_t recorded_frames(const sim *s)
{
    uint64_t n = 0;
    for (uint64_t d = s->base; d < s->dev; d++)
        n += s->in[d - s->base].rec != 0;
    return n;
}

typedef struct want_ev {
    reel_transport_event_type type;
    unsigned pass;
    int64_t pos;
    uint64_t frames;
    uint64_t dev;
} want_ev;

static const char *ev_name(reel_transport_event_type t)
{
    switch (t) {
    case REEL_TEV_ROLLING: return "ROLLING";
    case REEL_TEV_TAKE_START: return "TAKE_START";
    case REEL_TEV_TAKE_END: return "TAKE_END";
    case REEL_TEV_LOOP: return "LOOP";
    case REEL_TEV_STOPPED: return "STOPPED";
    case REEL_TEV_RECORD_DONE: return "RECORD_DONE";
    }
    return "?";
}

#define EVENTS(s, ...)                                                                 \
    do {                                                                               \
        const want_ev w_[] = {__VA_ARGS__};                                            \
        events_((s), w_, sizeof w_ / sizeof w_[0], __LINE__);                          \
    } while (0)
static void events_(const sim *s, const want_ev *w, size_t n, int line)
{
    for (size_t i = 0; i < s->n_ev || i < n; i++) {
        const reel_transport_event *g = i < s->n_ev ? &s->ev[i] : NULL;
        if (!g)
            fail_msg("line %d: event %zu missing, want %s", line, i, ev_name(w[i].type));
        if (i >= n)
            fail_msg("line %d: extra event %zu: %s pass %u pos %lld frames %llu dev %llu", line,
                     i, ev_name(g->type), g->pass, (long long)g->pos,
                     (unsigned long long)g->frames, (unsigned long long)g->device_pos);
        if (g->type != w[i].type || g->pass != w[i].pass || g->pos != w[i].pos ||
            g->frames != w[i].frames || g->device_pos != w[i].dev)
            fail_msg("line %d: event %zu: %s pass %u pos %lld frames %llu dev %llu, want %s "
                     "pass %u pos %lld frames %llu dev %llu",
                     line, i, ev_name(g->type), g->pass, (long long)g->pos,
                     (unsigned long long)g->frames, (unsigned long long)g->device_pos,
                     ev_name(w[i].type), w[i].pass, (long long)w[i].pos,
                     (unsigned long long)w[i].frames, (unsigned long long)w[i].dev);
    }
}

static reel_roll roll_from(int64_t from)
{
    reel_roll r;
    reel_roll_init(&r);
    r.from = from;
    return r;
}

static void send_roll(sim *s, const reel_roll *r)
{
    if (reel_transport_roll(s->t, r, s->err) != REEL_OK)
        fail_msg("roll refused: %s", s->err);
}

/* ---- roll checks ------------------------------------------------------- */

#define CHECK_MSG(r, want)                                                             \
    do {                                                                               \
        char m_[REEL_ERRMSG_MAX] = "";                                                 \
        assert_int_equal(reel_roll_check(&(r), m_), REEL_EINVAL);                      \
        assert_string_equal(m_, (want));                                               \
    } while (0)

static void test_roll_check_messages(void **state)
{
    (void)state;
    reel_roll r = roll_from(0);
    char m[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_roll_check(&r, m), 0);

    r = roll_from(0);
    r.punch_in = 2000, r.punch_out = 1000;
    CHECK_MSG(r, "punch out (1000) is not after punch in (2000)");
    r.punch_out = 2000;
    CHECK_MSG(r, "punch out (2000) is not after punch in (2000)");

    r = roll_from(0);
    r.loop_start = 96000, r.loop_end = 48000;
    CHECK_MSG(r, "loop end (48000) is not after loop start (96000)");

    r = roll_from(30);
    r.loop_start = 30, r.loop_end = 40, r.punch_in = 10, r.punch_out = 20;
    CHECK_MSG(r, "punch range 10..20 is not inside the loop 30..40");
    r.punch_in = 35, r.punch_out = 41;
    CHECK_MSG(r, "punch range 35..41 is not inside the loop 30..40");
    r.punch_in = 30, r.punch_out = 40; /* exactly the loop is fine */
    assert_int_equal(reel_roll_check(&r, m), 0);
    r.punch_in = 40, r.punch_out = NONE;
    CHECK_MSG(r, "punch in (40) is not inside the loop 30..40");
    r.punch_in = NONE, r.punch_out = 30;
    CHECK_MSG(r, "punch out (30) is not inside the loop 30..40");

    r = roll_from(0);
    r.preroll = -5;
    CHECK_MSG(r, "preroll (-5) must not be negative");
    r = roll_from(0);
    r.count_in = -1;
    CHECK_MSG(r, "count_in (-1) must not be negative");

    r = roll_from(0);
    r.max_passes = 3;
    CHECK_MSG(r, "max_passes needs a loop");

    r = roll_from(NONE);
    CHECK_MSG(r, "from is not set");
    r = roll_from(0);
    r.loop_start = 100;
    CHECK_MSG(r, "loop start is set but loop end is not");
    r = roll_from(0);
    r.loop_end = 100;
    CHECK_MSG(r, "loop end is set but loop start is not");
    r = roll_from(100);
    r.loop_start = 0, r.loop_end = 100;
    CHECK_MSG(r, "from (100) is not before loop end (100)");
    r = roll_from(500);
    r.punch_out = 500;
    CHECK_MSG(r, "punch out (500) is not after from (500)");
    r = roll_from(500);
    r.autostop = 400;
    CHECK_MSG(r, "autostop (400) is not after from (500)");
    r = roll_from(0);
    r.preroll = ((int64_t)1 << 60) + 1;
    CHECK_MSG(r, "preroll (1152921504606846977) is out of range");
    r = roll_from(-((int64_t)1 << 61));
    CHECK_MSG(r, "from (-2305843009213693952) is out of range");
}

static void test_create_and_command_validation(void **state)
{
    (void)state;
    reel_transport *t = (reel_transport *)&t;
    char m[REEL_ERRMSG_MAX] = "";
    assert_int_equal(reel_transport_create(&t, RATE, 10 * RATE + 1, m), REEL_EINVAL);
    assert_null(t);
    assert_string_equal(m,
                        "latency (480001 frames) must be between 0 and 480000 (10 s at 48000 Hz)");
    assert_int_equal(reel_transport_create(&t, RATE, -1, m), REEL_EINVAL);
    assert_int_equal(reel_transport_create(&t, 0, 0, m), REEL_EINVAL);
    assert_string_equal(m, "transport: rate (0) must be positive");
    assert_int_equal(reel_transport_create(&t, RATE, 10 * RATE, m), REEL_OK);

    /* A loop must be at least latency / 64 = 7500 frames here. */
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 7499;
    assert_int_equal(reel_transport_roll(t, &r, m), REEL_EINVAL);
    assert_string_equal(m, "loop 0..7499 is too short for a latency of 480000 frames (at least "
                           "7500 frames)");
    r.loop_end = 7500;
    assert_int_equal(reel_transport_roll(t, &r, m), REEL_OK);
    r.punch_in = 5, r.punch_out = 1;
    assert_int_equal(reel_transport_roll(t, &r, m), REEL_EINVAL);
    assert_string_equal(m, "punch out (1) is not after punch in (5)");
    assert_int_equal(reel_transport_locate(t, NONE), REEL_EINVAL);
    assert_int_equal(reel_transport_locate(t, ((int64_t)1 << 60) + 1), REEL_EINVAL);
    assert_int_equal(reel_transport_set_latency(t, -1), REEL_EINVAL);

    /* The queue fills without blocking; nothing was consumed. */
    int rc = 0, sent = 1;
    while (sent < 1000 && (rc = reel_transport_stop(t)) == REEL_OK)
        sent++;
    assert_int_equal(rc, REEL_EAGAIN);
    assert_true(sent >= 64 && sent < 1000);
    reel_transport_destroy(t);
    reel_transport_destroy(NULL);
}

/* ---- stopped, locate, roll start --------------------------------------- */

static void test_stopped_and_locate(void **state)
{
    sim *s = *state;
    run(s, 512, 256);
    OUT_STOP(s, 0, 512, 0);
    assert_int_equal(reel_transport_locate(s->t, 5000), 0);
    run(s, 300, 100);
    OUT_STOP(s, 512, 812, 5000);
    assert_i64(reel_transport_position(s->t), 5000);
    assert_int_equal(reel_transport_rolling(s->t), 0);
    assert_int_equal(reel_transport_recording(s->t), 0);
    assert_i64(recorded_frames(s), 0);
    assert_int_equal(s->n_ev, 0);
}

/* A roll sent before period 3 starts exactly at frame 0 of period 3. */
static void test_roll_starts_at_period_start(void **state)
{
    sim *s = *state;
    run(s, 3 * 256, 256);
    reel_roll r = roll_from(10000);
    send_roll(s, &r);
    assert_int_equal(reel_transport_rolling(s->t), 0); /* not before the period */
    run(s, 3 * 256, 256);
    OUT_STOP(s, 0, 768, 0);
    OUT_ROLL(s, 768, 1536, R, 10000, 0);
    assert_i64(reel_transport_position(s->t), 10000 + 768);
    assert_int_equal(reel_transport_rolling(s->t), 1);
    assert_int_equal(reel_transport_recording(s->t), 0);
    assert_i64(recorded_frames(s), 0);

    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 100, 256);
    OUT_STOP(s, 1536, 1636, 10768);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 10000, 0, 768}, {REEL_TEV_STOPPED, 0, 10768, 0, 1536});
}

/* A stop sent while period k runs (between its two _rt calls) takes effect
 * at frame 0 of period k + 1; with L = 300 the take then gets the 300 frames
 * still in flight. Roll from 0, record, period 100, L 300: the stop is sent
 * during period 7 (device 700..799), so the output stops at 800 and the take
 * holds input frames 300..1099 (positions 0..799). */
static void test_stop_mid_period(void **state)
{
    sim *s = *state;
    remake(s, 300, 0);
    reel_roll r = roll_from(0);
    r.record = 1;
    send_roll(s, &r);
    run(s, 700, 100);
    reel_span sp[MAX_SPANS];
    reel_rec_span rs[MAX_SPANS];
    assert_int_equal(reel_transport_process_rt(s->t, 700, 100, sp, MAX_SPANS), 1);
    assert_int_equal(reel_transport_stop(s->t), 0);
    assert_int_equal(reel_transport_record_spans_rt(s->t, rs, MAX_SPANS), 1);
    assert_int_equal(rs[0].offset, 0);
    assert_int_equal(rs[0].frames, 100);
    assert_i64(rs[0].pos, 400);
    assert_i64(rs[0].take_pos, 400);
    s->dev = 800;
    OUT_ROLL(s, 0, 700, R | REC, 0, 0); /* sim saw 0..699 */
    assert_int_equal(reel_transport_recording(s->t), 1);
    run(s, 200, 100);
    OUT_STOP(s, 800, 1000, 800);
    assert_int_equal(reel_transport_rolling(s->t), 0);
    assert_int_equal(reel_transport_recording(s->t), 1); /* 300 frames in flight */
    run(s, 100, 100); /* to 1100: the tail ends exactly at the boundary */
    assert_int_equal(reel_transport_recording(s->t), 0);
    run(s, 100, 100);
    IN_NONE(s, 0, 300);
    IN_REC(s, 300, 700, 0, 0, 0);
    IN_REC(s, 800, 1100, 500, 500, 0);
    IN_NONE(s, 1100, 1200);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 0, 0, 300},
           {REEL_TEV_STOPPED, 0, 800, 0, 800}, {REEL_TEV_TAKE_END, 0, 800, 800, 1100},
           {REEL_TEV_RECORD_DONE, 0, 800, 1, 1100});
}

/* ---- count-in and pre-roll --------------------------------------------- */

/* from 48000, pre-roll 1000, count-in 2000, period 300: the timeline starts at
 * 45000 on device frame 0; count-in is device 0..1999 (split inside period 6
 * at offset 200), pre-roll 2000..2999, `from` at device 3000, where the take
 * (rec_in = from) begins. */
static void test_count_in_and_preroll(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(48000);
    r.preroll = 1000, r.count_in = 2000, r.record = 1;
    send_roll(s, &r);
    reel_span sp[MAX_SPANS];
    reel_rec_span rs[MAX_SPANS];
    for (unsigned k = 0; k < 6; k++) {
        assert_int_equal(reel_transport_process_rt(s->t, k * 300, 300, sp, MAX_SPANS), 1);
        assert_int_equal(sp[0].flags, R | C | REC);
        assert_int_equal(reel_transport_record_spans_rt(s->t, rs, MAX_SPANS), 0);
    }
    /* The period holding the count-in end has exactly two spans. */
    assert_int_equal(reel_transport_process_rt(s->t, 1800, 300, sp, MAX_SPANS), 2);
    assert_int_equal(sp[0].offset, 0);
    assert_int_equal(sp[0].frames, 200);
    assert_i64(sp[0].pos, 46800);
    assert_int_equal(sp[0].flags, R | C | REC);
    assert_int_equal(sp[1].offset, 200);
    assert_int_equal(sp[1].frames, 100);
    assert_i64(sp[1].pos, 47000);
    assert_int_equal(sp[1].flags, R | REC);
    assert_int_equal(reel_transport_record_spans_rt(s->t, rs, MAX_SPANS), 0);
    s->dev = 2100;
    s->base = 2100;
    run(s, 3000, 300);
    OUT_ROLL(s, 2100, 5100, R | REC, 47100, 0);
    IN_NONE(s, 2100, 3000);
    IN_REC(s, 3000, 5100, 48000, 0, 0);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 45000, 0, 0}, {REEL_TEV_TAKE_START, 0, 48000, 0, 3000});
}

/* Count-in frames are never recorded, even inside the record range;
 * pre-roll frames inside it are. Loop 0..10000, from 5000, pre-roll 1000,
 * count-in 2000, period 300: the timeline starts at 2000; device 0..1999 is
 * count-in (positions 2000..3999, inside [loop_start, loop_end)); the take
 * starts at device 2000, position 4000, in the pre-roll. */
static void test_count_in_never_records(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(5000);
    r.preroll = 1000, r.count_in = 2000, r.record = 1;
    r.loop_start = 0, r.loop_end = 10000;
    send_roll(s, &r);
    run(s, 4000, 300);
    OUT_ROLL(s, 0, 2000, R | C | REC, 2000, 0);
    OUT_ROLL(s, 2000, 4000, R | REC, 4000, 0);
    IN_NONE(s, 0, 2000);
    IN_REC(s, 2000, 4000, 4000, 0, 0);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 2000, 0, 0}, {REEL_TEV_TAKE_START, 0, 4000, 0, 2000});
}

/* ---- punch --------------------------------------------------------------- */

/* Roll from 0, punch 1000..3500, L 0, at periods of 256 and of 100: frames
 * 1000..3499 are recorded, take_pos = pos - 1000, 2500 frames in all. */
static void test_punch_in_out(void **state)
{
    sim *s = *state;
    const unsigned sizes[] = {256, 100};
    for (size_t i = 0; i < 2; i++) {
        remake(s, 0, 0);
        reel_roll r = roll_from(0);
        r.record = 1, r.punch_in = 1000, r.punch_out = 3500;
        send_roll(s, &r);
        run(s, 4000, sizes[i]);
        assert_int_equal(reel_transport_stop(s->t), 0);
        run(s, 200, sizes[i]);
        OUT_ROLL(s, 0, 4000, R | REC, 0, 0);
        OUT_STOP(s, 4000, 4200, 4000);
        IN_NONE(s, 0, 1000);
        IN_REC(s, 1000, 3500, 1000, 0, 0);
        IN_NONE(s, 3500, 4200);
        assert_i64(recorded_frames(s), 2500);
        EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 1000, 0, 1000},
               {REEL_TEV_TAKE_END, 0, 3500, 2500, 3500}, {REEL_TEV_STOPPED, 0, 4000, 0, 4000},
               {REEL_TEV_RECORD_DONE, 0, 4000, 1, 4000});
    }
}

/* ---- loops --------------------------------------------------------------- */

/* Loop 1000..3000, from 1000, pre-roll 500, max_passes 3, record, period 256:
 * device 0..499 pre-roll (positions 500..999), pass 0 device 500..2499, pass 1
 * 2500..4499, pass 2 4500..6499; the output stops at device 6500 at position
 * 3000 without wrapping. Wraps fall inside periods (2500 = 9 * 256 + 196). */
static void test_loop_three_passes(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(1000);
    r.preroll = 500, r.loop_start = 1000, r.loop_end = 3000, r.max_passes = 3, r.record = 1;
    send_roll(s, &r);
    run(s, 7000, 256);
    OUT_ROLL(s, 0, 2500, R | REC, 500, 0);
    OUT_ROLL(s, 2500, 4500, R | REC, 1000, 1);
    OUT_ROLL(s, 4500, 6500, R | REC, 1000, 2);
    OUT_STOP(s, 6500, 7000, 3000);
    IN_NONE(s, 0, 500);
    IN_REC(s, 500, 2500, 1000, 0, 0);
    IN_REC(s, 2500, 4500, 1000, 0, 1);
    IN_REC(s, 4500, 6500, 1000, 0, 2);
    IN_NONE(s, 6500, 7000);
    assert_i64(reel_transport_position(s->t), 3000);
    assert_int_equal(reel_transport_rolling(s->t), 0);
    assert_int_equal(reel_transport_recording(s->t), 0);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 500, 0, 0}, {REEL_TEV_TAKE_START, 0, 1000, 0, 500},
           {REEL_TEV_LOOP, 1, 1000, 0, 2500}, {REEL_TEV_TAKE_END, 0, 3000, 2000, 2500},
           {REEL_TEV_TAKE_START, 1, 1000, 0, 2500}, {REEL_TEV_LOOP, 2, 1000, 0, 4500},
           {REEL_TEV_TAKE_END, 1, 3000, 2000, 4500}, {REEL_TEV_TAKE_START, 2, 1000, 0, 4500},
           {REEL_TEV_STOPPED, 2, 3000, 0, 6500}, {REEL_TEV_TAKE_END, 2, 3000, 2000, 6500},
           {REEL_TEV_RECORD_DONE, 2, 3000, 3, 6500});
}

/* The period holding a wrap has exactly two spans, split where it wraps. */
static void test_loop_wrap_splits_span(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 1000;
    send_roll(s, &r);
    reel_span sp[MAX_SPANS];
    assert_int_equal(reel_transport_process_rt(s->t, 0, 900, sp, MAX_SPANS), 1);
    assert_int_equal(reel_transport_process_rt(s->t, 900, 300, sp, MAX_SPANS), 2);
    assert_int_equal(sp[0].offset, 0);
    assert_int_equal(sp[0].frames, 100);
    assert_i64(sp[0].pos, 900);
    assert_int_equal(sp[0].pass, 0);
    assert_int_equal(sp[0].flags, R);
    assert_int_equal(sp[1].offset, 100);
    assert_int_equal(sp[1].frames, 200);
    assert_i64(sp[1].pos, 0);
    assert_int_equal(sp[1].pass, 1);
    assert_int_equal(sp[1].flags, R);
}

/* Loop 0..4000 with punch 1000..1800 inside, max_passes 3, period 100, L 0:
 * three takes of exactly 800 frames, at device 1000..1799, 5000..5799 and
 * 9000..9799, each at positions 1000..1799. */
static void test_loop_with_punch(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 4000, r.punch_in = 1000, r.punch_out = 1800;
    r.max_passes = 3, r.record = 1;
    send_roll(s, &r);
    run(s, 12500, 100);
    for (unsigned p = 0; p < 3; p++) {
        OUT_ROLL(s, p * 4000, p * 4000 + 4000, R | REC, 0, p);
        IN_NONE(s, p * 4000, p * 4000 + 1000);
        IN_REC(s, p * 4000 + 1000, p * 4000 + 1800, 1000, 0, p);
        IN_NONE(s, p * 4000 + 1800, p * 4000 + 4000);
    }
    OUT_STOP(s, 12000, 12500, 4000);
    assert_i64(recorded_frames(s), 3 * 800);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 1000, 0, 1000},
           {REEL_TEV_TAKE_END, 0, 1800, 800, 1800}, {REEL_TEV_LOOP, 1, 0, 0, 4000},
           {REEL_TEV_TAKE_START, 1, 1000, 0, 5000}, {REEL_TEV_TAKE_END, 1, 1800, 800, 5800},
           {REEL_TEV_LOOP, 2, 0, 0, 8000}, {REEL_TEV_TAKE_START, 2, 1000, 0, 9000},
           {REEL_TEV_TAKE_END, 2, 1800, 800, 9800}, {REEL_TEV_STOPPED, 2, 4000, 0, 12000},
           {REEL_TEV_RECORD_DONE, 2, 4000, 3, 12000});
}

/* Loop and punch with L 1000 and period 77: the takes move 1000 device frames
 * later but keep their positions and lengths. */
static void test_loop_with_punch_latency(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 4000, r.punch_in = 1000, r.punch_out = 1800;
    r.max_passes = 3, r.record = 1;
    send_roll(s, &r);
    run(s, 13500, 77);
    for (unsigned p = 0; p < 3; p++) {
        IN_NONE(s, p * 4000 + 1000, p * 4000 + 2000);
        IN_REC(s, p * 4000 + 2000, p * 4000 + 2800, 1000, 0, p);
        IN_NONE(s, p * 4000 + 2800, p * 4000 + 5000);
    }
    assert_i64(recorded_frames(s), 3 * 800);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 1000, 0, 2000},
           {REEL_TEV_TAKE_END, 0, 1800, 800, 2800}, {REEL_TEV_LOOP, 1, 0, 0, 4000},
           {REEL_TEV_TAKE_START, 1, 1000, 0, 6000}, {REEL_TEV_TAKE_END, 1, 1800, 800, 6800},
           {REEL_TEV_LOOP, 2, 0, 0, 8000}, {REEL_TEV_TAKE_START, 2, 1000, 0, 10000},
           {REEL_TEV_TAKE_END, 2, 1800, 800, 10800}, {REEL_TEV_STOPPED, 2, 4000, 0, 12000},
           {REEL_TEV_RECORD_DONE, 2, 4000, 3, 13000});
}

/* A loop until stopped, from inside the loop: loop 1000..2000, from 1500.
 * Pass 0 records 1500..1999 (rec_in = loop_start, but the timeline starts at
 * 1500), later passes the whole loop. Stopped at device 1700 (pass 2, pos
 * 1200): the third take is 200 frames. */
static void test_loop_until_stopped(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(1500);
    r.loop_start = 1000, r.loop_end = 2000, r.record = 1;
    send_roll(s, &r);
    run(s, 1700, 100);
    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 300, 100);
    OUT_ROLL(s, 0, 500, R | REC, 1500, 0);
    OUT_ROLL(s, 500, 1500, R | REC, 1000, 1);
    OUT_ROLL(s, 1500, 1700, R | REC, 1000, 2);
    OUT_STOP(s, 1700, 2000, 1200);
    IN_REC(s, 0, 500, 1500, 0, 0);
    IN_REC(s, 500, 1500, 1000, 0, 1);
    IN_REC(s, 1500, 1700, 1000, 0, 2);
    IN_NONE(s, 1700, 2000);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 1500, 0, 0}, {REEL_TEV_TAKE_START, 0, 1500, 0, 0},
           {REEL_TEV_LOOP, 1, 1000, 0, 500}, {REEL_TEV_TAKE_END, 0, 2000, 500, 500},
           {REEL_TEV_TAKE_START, 1, 1000, 0, 500}, {REEL_TEV_LOOP, 2, 1000, 0, 1500},
           {REEL_TEV_TAKE_END, 1, 2000, 1000, 1500}, {REEL_TEV_TAKE_START, 2, 1000, 0, 1500},
           {REEL_TEV_STOPPED, 2, 1200, 0, 1700}, {REEL_TEV_TAKE_END, 2, 1200, 200, 1700},
           {REEL_TEV_RECORD_DONE, 2, 1200, 3, 1700});
}

/* ---- autostop ------------------------------------------------------------ */

/* from 0, autostop 1234, record, period 256: the output stops at device 1234
 * (period 4, offset 210), the take is exactly 1234 frames. */
static void test_autostop(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(0);
    r.autostop = 1234, r.record = 1;
    send_roll(s, &r);
    run(s, 1024, 256);
    reel_span sp[MAX_SPANS];
    assert_int_equal(reel_transport_process_rt(s->t, 1024, 256, sp, MAX_SPANS), 2);
    assert_int_equal(sp[0].offset, 0);
    assert_int_equal(sp[0].frames, 210);
    assert_i64(sp[0].pos, 1024);
    assert_int_equal(sp[0].flags, R | REC);
    assert_int_equal(sp[1].offset, 210);
    assert_int_equal(sp[1].frames, 46);
    assert_i64(sp[1].pos, 1234);
    assert_int_equal(sp[1].flags, 0);
    reel_rec_span rs[MAX_SPANS];
    assert_int_equal(reel_transport_record_spans_rt(s->t, rs, MAX_SPANS), 1);
    assert_int_equal(rs[0].offset, 0);
    assert_int_equal(rs[0].frames, 210);
    assert_i64(rs[0].take_pos, 1024);
    s->dev = 1280;
    run(s, 256, 256);
    OUT_STOP(s, 1280, 1536, 1234);
    IN_REC(s, 0, 1024, 0, 0, 0);
    IN_NONE(s, 1280, 1536);
    assert_i64(reel_transport_position(s->t), 1234);
    drain_events(s);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 0, 0, 0},
           {REEL_TEV_STOPPED, 0, 1234, 0, 1234}, {REEL_TEV_TAKE_END, 0, 1234, 1234, 1234},
           {REEL_TEV_RECORD_DONE, 0, 1234, 1, 1234});
}

/* Autostop at loop end wins over the wrap: the output stops at pass 0's end. */
static void test_autostop_at_loop_end(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 1000, r.autostop = 1000;
    send_roll(s, &r);
    run(s, 1100, 300);
    OUT_ROLL(s, 0, 1000, R, 0, 0);
    OUT_STOP(s, 1000, 1100, 1000);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_STOPPED, 0, 1000, 0, 1000});
}

/* ---- latency --------------------------------------------------------------- */

/* Roll from 0 with punch 2000..5000, record, stop sent before device 6400.
 * For each (L, period) the inputs record device 2000+L .. 5000+L at
 * positions 2000..4999: shifted by exactly L, including L = 0, L larger
 * than the period and L smaller than it. */
static void test_latency_shift(void **state)
{
    sim *s = *state;
    const struct {
        int64_t latency;
        unsigned period;
    } cases[] = {{0, 256}, {1000, 256}, {1000, 100}, {1000, 2048}, {37, 100}, {4999, 64}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t L = (uint64_t)cases[i].latency;
        remake(s, cases[i].latency, 0);
        reel_roll r = roll_from(0);
        r.record = 1, r.punch_in = 2000, r.punch_out = 5000;
        send_roll(s, &r);
        run(s, 6400, cases[i].period);
        assert_int_equal(reel_transport_stop(s->t), 0);
        run(s, 6000, cases[i].period);
        OUT_ROLL(s, 0, 6400, R | REC, 0, 0);
        IN_NONE(s, 0, 2000 + L);
        IN_REC(s, 2000 + L, 5000 + L, 2000, 0, 0);
        IN_NONE(s, 5000 + L, s->dev);
        /* Events come in device order; at equal frames the output's first. */
        if (5000 + L < 6400)
            EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0},
                   {REEL_TEV_TAKE_START, 0, 2000, 0, 2000 + L},
                   {REEL_TEV_TAKE_END, 0, 5000, 3000, 5000 + L},
                   {REEL_TEV_STOPPED, 0, 6400, 0, 6400},
                   {REEL_TEV_RECORD_DONE, 0, 6400, 1, 6400 + L});
        else
            EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_STOPPED, 0, 6400, 0, 6400},
                   {REEL_TEV_TAKE_START, 0, 2000, 0, 2000 + L},
                   {REEL_TEV_TAKE_END, 0, 5000, 3000, 5000 + L},
                   {REEL_TEV_RECORD_DONE, 0, 6400, 1, 6400 + L});
    }
}

/* L 1000, roll from 0 record, stop before device 2560: the take holds input
 * device 1000..3559 (positions 0..2559); the last 1000 frames arrive after
 * the output stopped. recording() stays on for exactly that tail. */
static void test_latency_tail_after_stop(void **state)
{
    sim *s = *state;
    reel_roll r = roll_from(0);
    r.record = 1;
    send_roll(s, &r);
    run(s, 2560, 256);
    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 768, 256); /* to 3328: tail not over */
    assert_int_equal(reel_transport_rolling(s->t), 0);
    assert_int_equal(reel_transport_recording(s->t), 1);
    run(s, 256, 256); /* to 3584: tail ends at 3560 */
    assert_int_equal(reel_transport_recording(s->t), 0);
    run(s, 256, 256);
    OUT_ROLL(s, 0, 2560, R | REC, 0, 0);
    OUT_STOP(s, 2560, 3840, 2560);
    IN_NONE(s, 0, 1000);
    IN_REC(s, 1000, 3560, 0, 0, 0);
    IN_NONE(s, 3560, 3840);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 0, 0, 1000},
           {REEL_TEV_STOPPED, 0, 2560, 0, 2560}, {REEL_TEV_TAKE_END, 0, 2560, 2560, 3560},
           {REEL_TEV_RECORD_DONE, 0, 2560, 1, 3560});
}

/* The device starts counting at 100000, L 1000, roll before the first
 * period: no output history exists for the first 1000 input frames. */
static void test_latency_before_history(void **state)
{
    sim *s = *state;
    remake(s, 1000, 100000);
    reel_roll r = roll_from(-500);
    r.record = 1, r.punch_in = NONE;
    send_roll(s, &r);
    run(s, 3000, 300);
    OUT_ROLL(s, 100000, 103000, R | REC, -500, 0);
    IN_NONE(s, 100000, 101000);
    IN_REC(s, 101000, 103000, -500, 0, 0);
    EVENTS(s, {REEL_TEV_ROLLING, 0, -500, 0, 100000},
           {REEL_TEV_TAKE_START, 0, -500, 0, 101000});
}

/* set_latency refuses while rolling or recording; once applied, the next
 * latency input frames map to nothing and the shift is the new one. */
static void test_set_latency(void **state)
{
    sim *s = *state; /* L 1000 */
    reel_roll r = roll_from(0);
    r.record = 1;
    send_roll(s, &r);
    assert_int_equal(reel_transport_set_latency(s->t, 200), REEL_ESTATE); /* roll pending */
    run(s, 1000, 100);
    assert_int_equal(reel_transport_set_latency(s->t, 200), REEL_ESTATE);
    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 500, 100);
    assert_int_equal(reel_transport_set_latency(s->t, 200), REEL_ESTATE); /* tail */
    run(s, 500, 100);
    assert_int_equal(reel_transport_recording(s->t), 0);
    assert_int_equal(reel_transport_set_latency(s->t, 200), REEL_OK);
    assert_int_equal(reel_transport_set_latency(s->t, 200), REEL_OK);
    run(s, 100, 100); /* applied at 2000 */
    send_roll(s, &r);
    run(s, 1000, 100); /* rolls at 2100 */
    OUT_ROLL(s, 2100, 3100, R | REC, 0, 0);
    IN_REC(s, 1000, 2000, 0, 0, 0);
    IN_NONE(s, 2000, 2300);
    IN_REC(s, 2300, 3100, 0, 0, 0);
    /* The stop and the take start share device frame 1000: output first. */
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_STOPPED, 0, 1000, 0, 1000},
           {REEL_TEV_TAKE_START, 0, 0, 0, 1000}, {REEL_TEV_TAKE_END, 0, 1000, 1000, 2000},
           {REEL_TEV_RECORD_DONE, 0, 1000, 1, 2000}, {REEL_TEV_ROLLING, 0, 0, 0, 2100},
           {REEL_TEV_TAKE_START, 0, 0, 0, 2300});
}

/* Raising the latency after a take must not let the inputs hear the old
 * roll again: L 100, roll from 0 with record, stop at 500 (the take is
 * input 100..599), L 1000 applied at 700. Without forgetting the history,
 * input 1000..1499 would map to device 0..499 and record a second take.
 * A new roll at 2700 is heard from 3700. */
static void test_latency_raise_forgets_history(void **state)
{
    sim *s = *state;
    remake(s, 100, 0);
    reel_roll r = roll_from(0);
    r.record = 1;
    send_roll(s, &r);
    run(s, 500, 100);
    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 200, 100);
    assert_int_equal(reel_transport_recording(s->t), 0);
    assert_int_equal(reel_transport_set_latency(s->t, 1000), REEL_OK);
    run(s, 2000, 100);
    send_roll(s, &r);
    run(s, 1500, 100);
    IN_NONE(s, 0, 100);
    IN_REC(s, 100, 600, 0, 0, 0);
    IN_NONE(s, 600, 3700);
    IN_REC(s, 3700, 4200, 0, 0, 0);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 0, 0, 100},
           {REEL_TEV_STOPPED, 0, 500, 0, 500}, {REEL_TEV_TAKE_END, 0, 500, 500, 600},
           {REEL_TEV_RECORD_DONE, 0, 500, 1, 600}, {REEL_TEV_ROLLING, 0, 0, 0, 2700},
           {REEL_TEV_TAKE_START, 0, 0, 0, 3700});
    /* Frames before the new history are "not rolling", not lost. */
    reel_transport_stats st;
    reel_transport_get_stats(s->t, &st);
    assert_i64(st.frames_unmapped, 0);
}

/* ---- commands while rolling ----------------------------------------------- */

/* Locate while rolling is stop then locate: the take ends at the period
 * boundary (plus latency), the position is the new one and stays. */
static void test_locate_while_rolling(void **state)
{
    sim *s = *state; /* L 0 */
    reel_roll r = roll_from(100);
    r.record = 1;
    send_roll(s, &r);
    run(s, 500, 100);
    assert_int_equal(reel_transport_locate(s->t, 9000), 0);
    run(s, 300, 100);
    OUT_ROLL(s, 0, 500, R | REC, 100, 0);
    OUT_STOP(s, 500, 800, 9000);
    IN_REC(s, 0, 500, 100, 0, 0);
    IN_NONE(s, 500, 800);
    assert_i64(reel_transport_position(s->t), 9000);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 100, 0, 0}, {REEL_TEV_TAKE_START, 0, 100, 0, 0},
           {REEL_TEV_STOPPED, 0, 600, 0, 500}, {REEL_TEV_TAKE_END, 0, 600, 500, 500},
           {REEL_TEV_RECORD_DONE, 0, 600, 1, 500});
}

/* A roll while rolling restarts at the period boundary: the old roll gets
 * STOPPED, its take ends and its RECORD_DONE comes before the new take.
 * Period 128, L 1000: the restart at device 1536 goes to 50000 in the first
 * case and to 1536, exactly where the timeline was, in the second; then the
 * positions and the pass run on, but the new take's take_pos starts at 0
 * (input 2536, in the middle of a period). */
static void test_roll_while_rolling(void **state)
{
    sim *s = *state; /* L 1000 */
    const int64_t froms[] = {50000, 1536};
    for (size_t i = 0; i < 2; i++) {
        remake(s, 1000, 0);
        reel_roll r = roll_from(0);
        r.record = 1;
        send_roll(s, &r);
        run(s, 1536, 128);
        r.from = froms[i];
        send_roll(s, &r);
        run(s, 2000, 128);
        OUT_ROLL(s, 0, 1536, R | REC, 0, 0);
        OUT_ROLL(s, 1536, 3536, R | REC, froms[i], 0);
        IN_REC(s, 1000, 2536, 0, 0, 0);
        IN_REC(s, 2536, 3536, froms[i], 0, 0);
        EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 0, 0, 1000},
               {REEL_TEV_STOPPED, 0, 1536, 0, 1536}, {REEL_TEV_ROLLING, 0, froms[i], 0, 1536},
               {REEL_TEV_TAKE_END, 0, 1536, 1536, 2536},
               {REEL_TEV_RECORD_DONE, 0, 1536, 1, 2536},
               {REEL_TEV_TAKE_START, 0, froms[i], 0, 2536});
    }
}

/* A recording roll stopped before it played a frame still gets its
 * RECORD_DONE, latency frames later, with no take. */
static void test_roll_and_stop_in_one_batch(void **state)
{
    sim *s = *state; /* L 1000 */
    run(s, 200, 100);
    reel_roll r = roll_from(0);
    r.record = 1;
    send_roll(s, &r);
    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 100, 100);
    assert_int_equal(reel_transport_recording(s->t), 1);
    run(s, 1100, 100);
    assert_int_equal(reel_transport_recording(s->t), 0);
    OUT_STOP(s, 0, 1400, 0);
    IN_NONE(s, 0, 1400);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 200}, {REEL_TEV_STOPPED, 0, 0, 0, 200},
           {REEL_TEV_RECORD_DONE, 0, 0, 0, 1200});
}

/* Without record: rolling spans, no RECORD flag, no takes, no RECORD_DONE. */
static void test_roll_without_record(void **state)
{
    sim *s = *state; /* L 1000 */
    reel_roll r = roll_from(-300);
    r.punch_in = 0, r.punch_out = 500; /* ignored without record */
    send_roll(s, &r);
    run(s, 3000, 256);
    assert_int_equal(reel_transport_recording(s->t), 0);
    assert_int_equal(reel_transport_stop(s->t), 0);
    run(s, 1500, 256);
    OUT_ROLL(s, 0, 3000, R, -300, 0);
    OUT_STOP(s, 3000, 4500, 2700);
    assert_i64(recorded_frames(s), 0);
    EVENTS(s, {REEL_TEV_ROLLING, 0, -300, 0, 0}, {REEL_TEV_STOPPED, 0, 2700, 0, 3000});
}

/* ---- device gaps, limits ------------------------------------------------- */

/* The device loses frames 1000..1499 while rolling: the timeline keeps time
 * (position at 1500 is 1500), the loop wrap inside the gap still happens,
 * and the take's take_pos shows the gap. */
static void test_device_gap(void **state)
{
    sim *s = *state; /* L 0 */
    reel_roll r = roll_from(0);
    r.record = 1, r.loop_start = 0, r.loop_end = 1200;
    send_roll(s, &r);
    run(s, 1000, 100);
    s->dev = 1500;
    run(s, 500, 100);
    OUT_ROLL(s, 0, 1000, R | REC, 0, 0);
    OUT_ROLL(s, 1500, 2000, R | REC, 300, 1);
    IN_REC(s, 0, 1000, 0, 0, 0);
    IN_NONE(s, 1000, 1500);
    IN_REC(s, 1500, 2000, 300, 300, 1);
    EVENTS(s, {REEL_TEV_ROLLING, 0, 0, 0, 0}, {REEL_TEV_TAKE_START, 0, 0, 0, 0},
           {REEL_TEV_LOOP, 1, 0, 0, 1200}, {REEL_TEV_TAKE_END, 0, 1200, 1200, 1200},
           {REEL_TEV_TAKE_START, 1, 0, 0, 1200});
}

/* Too few span slots: the transport keeps its state and counts. */
static void test_spans_dropped_counted(void **state)
{
    sim *s = *state; /* L 0 */
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 150;
    send_roll(s, &r);
    s->max_spans = 1;
    period(s, 100);
    period(s, 100); /* needs two spans: 100..149, then 0..49 */
    reel_transport_stats st;
    reel_transport_get_stats(s->t, &st);
    assert_i64(st.spans_dropped, 1);
    s->max_spans = MAX_SPANS;
    period(s, 100);
    OUT_ROLL(s, 0, 150, R, 0, 0);
    OUT_ROLL(s, 200, 300, R, 50, 1);
}

/* Nobody polls: the event queue fills, further events are counted, the audio
 * thread goes on. */
static void test_events_dropped_counted(void **state)
{
    sim *s = *state; /* L 0 */
    reel_roll r = roll_from(0);
    r.loop_start = 0, r.loop_end = 10;
    send_roll(s, &r);
    reel_span sp[MAX_SPANS];
    reel_rec_span rs[MAX_SPANS];
    for (uint64_t d = 0; d < 10000; d += 8) {
        reel_transport_process_rt(s->t, d, 8, sp, MAX_SPANS);
        reel_transport_record_spans_rt(s->t, rs, MAX_SPANS);
    }
    /* ROLLING and 1000 wraps (at device 10, 20, ... 10000), 512 slots. */
    reel_transport_stats st;
    reel_transport_get_stats(s->t, &st);
    assert_i64(st.events_dropped, 1001 - 512);
    drain_events(s);
    assert_int_equal(s->n_ev, 512);
    assert_int_equal(s->ev[0].type, REEL_TEV_ROLLING);
    assert_int_equal(s->ev[511].type, REEL_TEV_LOOP);
    assert_int_equal(s->ev[511].pass, 511);
}

/* A control thread restarting the roll every 16-frame period under a 10 s
 * latency makes more segments than the history holds: the input side counts
 * the frames it could not map and recovers once the restarts stop. */
static void test_history_overrun_counted(void **state)
{
    sim *s = *state;
    remake(s, 10 * RATE, 0);
    reel_roll r = roll_from(0);
    r.record = 1;
    reel_span sp[MAX_SPANS];
    reel_rec_span rs[MAX_SPANS];
    reel_transport_event ev;
    uint64_t d = 0;
    for (unsigned k = 0; k < 2000; k++, d += 16) {
        r.from = k % 2 ? 0 : 100000; /* two alternate rolls, never mergeable */
        assert_int_equal(reel_transport_roll(s->t, &r, s->err), 0);
        reel_transport_process_rt(s->t, d, 16, sp, MAX_SPANS);
        reel_transport_record_spans_rt(s->t, rs, MAX_SPANS);
        while (reel_transport_poll_event(s->t, &ev))
            ;
    }
    unsigned last_n = 0;
    for (; d < 600000; d += 16) {
        reel_transport_process_rt(s->t, d, 16, sp, MAX_SPANS);
        last_n = reel_transport_record_spans_rt(s->t, rs, MAX_SPANS);
        while (reel_transport_poll_event(s->t, &ev))
            ;
    }
    /* Each restart left a marker and a rolling segment: 4000 segments, the
     * last growing since. The oldest of the 512 kept is number 3488, roll
     * 1744's marker at device 1744 * 16, so the input frames that heard
     * device 0 .. 27903 had no mapping left. */
    reel_transport_stats st;
    reel_transport_get_stats(s->t, &st);
    assert_i64(st.frames_unmapped, 1744 * 16);
    /* The last roll (from 100000 - k odd? k = 1999 is odd: from 0) started at
     * device 1999 * 16 and is still rolling; the inputs hear it 480000 later. */
    assert_int_equal(last_n, 1);
    assert_i64(rs[0].pos, (int64_t)(d - 16 - 480000 - 1999 * 16));
    assert_i64(st.events_dropped, 0);
}

/* ---- threads ------------------------------------------------------------- */

typedef struct threaded {
    reel_transport *t;
    atomic_uint_fast64_t allowed;  /* periods the audio thread may run */
    atomic_int control_done;
    atomic_uint_fast64_t bad;      /* invariant violations seen by either thread */
    unsigned rolls, rec_rolls;
    unsigned n_rolling, n_stopped, n_take_start, n_take_end, n_done;
    int rolling_open, take_open;
    uint64_t last_out_dev, last_in_dev;
} threaded;

static void check_event(threaded *x, const reel_transport_event *ev)
{
    switch (ev->type) {
    case REEL_TEV_ROLLING:
        x->bad += x->rolling_open != 0;
        x->rolling_open = 1;
        x->n_rolling++;
        break;
    case REEL_TEV_STOPPED:
        x->bad += x->rolling_open != 1;
        x->rolling_open = 0;
        x->n_stopped++;
        break;
    case REEL_TEV_LOOP:
        x->bad += x->rolling_open != 1;
        break;
    case REEL_TEV_TAKE_START:
        x->bad += x->take_open != 0;
        x->take_open = 1;
        x->n_take_start++;
        break;
    case REEL_TEV_TAKE_END:
        x->bad += x->take_open != 1 || ev->frames == 0;
        x->take_open = 0;
        x->n_take_end++;
        break;
    case REEL_TEV_RECORD_DONE:
        x->bad += x->take_open != 0;
        x->n_done++;
        break;
    }
    int out = ev->type == REEL_TEV_ROLLING || ev->type == REEL_TEV_STOPPED ||
              ev->type == REEL_TEV_LOOP;
    uint64_t *last = out ? &x->last_out_dev : &x->last_in_dev;
    x->bad += ev->device_pos < *last;
    *last = ev->device_pos;
}

static void poll_all(threaded *x)
{
    reel_transport_event ev;
    while (reel_transport_poll_event(x->t, &ev))
        check_event(x, &ev);
}

static void *control_main(void *arg)
{
    threaded *x = arg;
    unsigned seed = 12345;
    for (unsigned sent = 0; sent < 3000;) {
        seed = seed * 1103515245u + 12345u;
        unsigned what = (seed >> 16) % 4;
        int rc;
        if (what == 0) {
            rc = reel_transport_locate(x->t, (int64_t)(seed % 100000));
        } else if (what == 1) {
            rc = reel_transport_stop(x->t);
        } else {
            reel_roll r;
            reel_roll_init(&r);
            r.from = (int64_t)(seed % 50000);
            r.record = what == 2;
            r.preroll = seed % 300;
            if (seed & 0x100) {
                r.loop_start = r.from;
                r.loop_end = r.from + 3000;
                r.max_passes = (seed >> 9) % 4;
            }
            rc = reel_transport_roll(x->t, &r, NULL);
            if (rc == 0) {
                x->rolls++;
                x->rec_rolls += r.record != 0;
            }
        }
        if (rc == REEL_EAGAIN) {
            /* Let the audio thread run a period to drain the queue; retry. */
            atomic_fetch_add(&x->allowed, 1);
            sched_yield();
            continue;
        }
        x->bad += rc != 0;
        sent++;
        /* Publication is monotone enough to read any time. */
        (void)reel_transport_position(x->t);
        (void)reel_transport_rolling(x->t);
        (void)reel_transport_recording(x->t);
        atomic_fetch_add(&x->allowed, (seed >> 20) % 8);
        poll_all(x);
    }
    while (reel_transport_stop(x->t) == REEL_EAGAIN)
        sched_yield();
    atomic_fetch_add(&x->allowed, 100); /* beyond the 700-frame tail */
    atomic_store(&x->control_done, 1);
    return NULL;
}

static void test_commands_from_control_thread(void **state)
{
    sim *s = *state;
    remake(s, 700, 0);
    static threaded x;
    memset(&x, 0, sizeof x);
    x.t = s->t;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, control_main, &x), 0);

    uint64_t dev = 0, done = 0, bad = 0;
    reel_span sp[MAX_SPANS];
    reel_rec_span rs[MAX_SPANS];
    for (;;) {
        if (done >= atomic_load(&x.allowed)) {
            if (atomic_load(&x.control_done) && done >= atomic_load(&x.allowed))
                break;
            sched_yield();
            continue;
        }
        unsigned n = reel_transport_process_rt(s->t, dev, 128, sp, MAX_SPANS);
        unsigned at = 0;
        for (unsigned i = 0; i < n; i++) {
            bad += sp[i].offset != at;
            at += sp[i].frames;
        }
        bad += at != 128;
        unsigned m = reel_transport_record_spans_rt(s->t, rs, MAX_SPANS);
        unsigned end = 0;
        for (unsigned i = 0; i < m; i++) {
            bad += rs[i].offset < end || rs[i].offset + rs[i].frames > 128;
            end = rs[i].offset + rs[i].frames;
        }
        dev += 128;
        done++;
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    poll_all(&x);
    assert_i64(bad, 0);
    assert_i64(atomic_load(&x.bad), 0);
    reel_transport_stats st;
    reel_transport_get_stats(s->t, &st);
    assert_i64(st.events_dropped, 0);
    /* One roll per period keeps a burst of commands from lapping the
     * history, however the two threads interleave. */
    assert_i64(st.frames_unmapped, 0);
    assert_true(x.rolls > 100);
    assert_i64(x.n_rolling, x.rolls);
    assert_i64(x.n_stopped, x.rolls);
    assert_i64(x.n_done, x.rec_rolls);
    assert_i64(x.n_take_start, x.n_take_end);
    assert_true(x.n_take_start > 0);
    assert_int_equal(reel_transport_rolling(s->t), 0);
    assert_int_equal(reel_transport_recording(s->t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roll_check_messages),
        cmocka_unit_test(test_create_and_command_validation),
        cmocka_unit_test_setup_teardown(test_stopped_and_locate, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_roll_starts_at_period_start, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_stop_mid_period, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_count_in_and_preroll, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_count_in_never_records, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_punch_in_out, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_loop_three_passes, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_loop_wrap_splits_span, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_loop_with_punch, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_loop_with_punch_latency, setup_l1000, teardown),
        cmocka_unit_test_setup_teardown(test_loop_until_stopped, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_autostop, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_autostop_at_loop_end, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_latency_shift, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_latency_tail_after_stop, setup_l1000, teardown),
        cmocka_unit_test_setup_teardown(test_latency_before_history, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_set_latency, setup_l1000, teardown),
        cmocka_unit_test_setup_teardown(test_latency_raise_forgets_history, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_locate_while_rolling, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_roll_while_rolling, setup_l1000, teardown),
        cmocka_unit_test_setup_teardown(test_roll_and_stop_in_one_batch, setup_l1000, teardown),
        cmocka_unit_test_setup_teardown(test_roll_without_record, setup_l1000, teardown),
        cmocka_unit_test_setup_teardown(test_device_gap, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_spans_dropped_counted, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_events_dropped_counted, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_history_overrun_counted, setup_l0, teardown),
        cmocka_unit_test_setup_teardown(test_commands_from_control_thread, setup_l0, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
