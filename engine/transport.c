/* transport.c: the transport state machine of transport.h.
 *
 * Threads: the control thread calls create/destroy, the commands, the state
 * getters and poll_event; the audio thread calls the two _rt functions. They
 * share only the command ring (control -> audio), the event ring (audio ->
 * control) and the published atomics; everything else below "audio thread
 * only" is touched by the audio thread alone.
 *
 * The output side walks the timeline in pieces that end wherever something
 * changes: count-in end, punch points, loop end, autostop, period end. Each
 * piece goes into a history ring of segments (device frame, length, mapping)
 * and, merged with its neighbours where the mapping is continuous, into the
 * output spans. The input side keeps a cursor into that history latency
 * frames behind and replays it: takes start and end where the replayed
 * mapping says so. Recording decisions are therefore made once, on the
 * output side (a take serial and take position per segment), and the input
 * side only has to notice where the serial changes. A roll also leaves a
 * zero-length marker segment, so that a roll stopped before it played a frame
 * still reaches the input side and gets its RECORD_DONE. */
#include "transport.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ringbuf.h"
#include "rt.h"

#define CMD_SLOTS 64
#define EVENT_SLOTS 512
/* A window of latency + one period must cross at most this many loop passes
 * (about three segments each) for the history to cover it with room to
 * spare; roll enforces it through the minimum loop length. */
#define LOOP_PASSES_PER_LATENCY 64

enum { CMD_LOCATE = 1, CMD_ROLL, CMD_STOP, CMD_LATENCY };

struct cmd {
    int type;
    int64_t arg;
    uint64_t seq;
    reel_roll roll;
};

/* One stretch of device frames with one timeline mapping. */
struct seg {
    uint64_t dev;      /* device frame of its first frame */
    uint64_t frames;   /* 0 for a roll marker */
    int64_t pos;
    uint64_t take_pos; /* meaningful when take != 0 */
    uint32_t roll;     /* roll serial; 0 while stopped */
    uint32_t take;     /* take serial; 0 where nothing is recorded */
    unsigned flags;
    unsigned pass;
};

struct reel_transport {
    unsigned rate;
    reel_ring *cmds;
    reel_ring *events;

    /* Control thread only. */
    uint64_t ctl_seq;        /* commands sent */
    uint64_t ctl_roll_seq;   /* seq of the last roll sent */
    int64_t ctl_latency;

    /* Published by the audio thread. */
    _Atomic int64_t pub_pos;
    atomic_int pub_rolling;
    atomic_int pub_recording;
    atomic_uint_fast64_t pub_applied;   /* seq of the last command applied */
    atomic_uint_fast64_t events_dropped;
    atomic_uint_fast64_t spans_dropped;
    atomic_uint_fast64_t frames_unmapped;

    /* Audio thread only (create sets the first values). */
    int64_t latency;
    bool started;
    uint64_t out_next;       /* device frame the output side continues at */
    uint64_t period_dev;     /* current period, for the input side's offsets */
    unsigned period_frames;

    bool out_rolling;
    int64_t out_pos;
    unsigned out_pass;
    reel_roll roll;
    int64_t rec_in, rec_out, count_in_end; /* rec_out INT64_MAX: open-ended */
    bool looping;
    uint32_t roll_serial, take_serial;
    uint32_t out_take;       /* take of the current pass, 0 before it starts */
    uint64_t out_take_pos;
    bool rec_stopped;        /* a recording roll stopped at rec_stop_dev */
    uint64_t rec_stop_dev;

    struct seg hist[REEL_TRANSPORT_HISTORY];
    uint64_t hist_w;         /* segments ever written */
    uint64_t hist_floor;     /* segments before this index are forgotten */
    uint64_t hist_begin;     /* device frame where the remembered history begins */

    uint64_t in_next;        /* next input device frame */
    uint64_t hist_r;         /* input cursor: index of the segment being replayed */
    uint32_t in_roll;        /* roll the inputs are hearing, 0 if none */
    bool in_roll_rec;
    uint64_t in_takes;
    unsigned in_pass;
    int64_t in_end_pos;      /* one past the last rolling position replayed */
    uint32_t in_take;        /* open take, 0 if none */
    unsigned in_take_pass;
    int64_t in_take_end;     /* one past its last position */
    uint64_t in_take_len;

    /* Output of the _rt call in progress. */
    reel_span *spans;
    unsigned n_spans, max_spans;
    reel_rec_span *rspans;
    unsigned n_rspans, max_rspans;
};

/* ---- roll checks (control thread) ------------------------------------- */

void reel_roll_init(reel_roll *r)
{
    memset(r, 0, sizeof *r);
    r->from = 0;
    r->punch_in = r->punch_out = REEL_POS_NONE;
    r->loop_start = r->loop_end = REEL_POS_NONE;
    r->autostop = REEL_POS_NONE;
}

static bool out_of_range(int64_t v)
{
    return v != REEL_POS_NONE && (v > REEL_TRANSPORT_POS_MAX || v < -REEL_TRANSPORT_POS_MAX);
}

int reel_roll_check(const reel_roll *r, char *errmsg)
{
    if (!r)
        return reel_fail(errmsg, REEL_EINVAL, "no roll given");
    if (r->from == REEL_POS_NONE)
        return reel_fail(errmsg, REEL_EINVAL, "from is not set");
    const struct {
        const char *name;
        int64_t v;
    } fields[] = {
        {"from", r->from},         {"preroll", r->preroll},     {"count_in", r->count_in},
        {"punch in", r->punch_in}, {"punch out", r->punch_out}, {"loop start", r->loop_start},
        {"loop end", r->loop_end}, {"autostop", r->autostop},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (out_of_range(fields[i].v))
            return reel_fail(errmsg, REEL_EINVAL, "%s (%lld) is out of range", fields[i].name,
                             (long long)fields[i].v);
    if (r->preroll < 0)
        return reel_fail(errmsg, REEL_EINVAL, "preroll (%lld) must not be negative",
                         (long long)r->preroll);
    if (r->count_in < 0)
        return reel_fail(errmsg, REEL_EINVAL, "count_in (%lld) must not be negative",
                         (long long)r->count_in);

    bool has_ls = r->loop_start != REEL_POS_NONE, has_le = r->loop_end != REEL_POS_NONE;
    if (has_ls && !has_le)
        return reel_fail(errmsg, REEL_EINVAL, "loop start is set but loop end is not");
    if (has_le && !has_ls)
        return reel_fail(errmsg, REEL_EINVAL, "loop end is set but loop start is not");
    bool loop = has_ls;
    if (loop && r->loop_end <= r->loop_start)
        return reel_fail(errmsg, REEL_EINVAL, "loop end (%lld) is not after loop start (%lld)",
                         (long long)r->loop_end, (long long)r->loop_start);
    if (loop && r->from >= r->loop_end)
        return reel_fail(errmsg, REEL_EINVAL, "from (%lld) is not before loop end (%lld)",
                         (long long)r->from, (long long)r->loop_end);

    bool has_pi = r->punch_in != REEL_POS_NONE, has_po = r->punch_out != REEL_POS_NONE;
    if (has_pi && has_po && r->punch_out <= r->punch_in)
        return reel_fail(errmsg, REEL_EINVAL, "punch out (%lld) is not after punch in (%lld)",
                         (long long)r->punch_out, (long long)r->punch_in);
    if (!loop && has_po && !has_pi && r->punch_out <= r->from)
        return reel_fail(errmsg, REEL_EINVAL, "punch out (%lld) is not after from (%lld)",
                         (long long)r->punch_out, (long long)r->from);
    if (loop && has_pi && has_po &&
        (r->punch_in < r->loop_start || r->punch_out > r->loop_end))
        return reel_fail(errmsg, REEL_EINVAL,
                         "punch range %lld..%lld is not inside the loop %lld..%lld",
                         (long long)r->punch_in, (long long)r->punch_out,
                         (long long)r->loop_start, (long long)r->loop_end);
    if (loop && has_pi && !has_po && (r->punch_in < r->loop_start || r->punch_in >= r->loop_end))
        return reel_fail(errmsg, REEL_EINVAL, "punch in (%lld) is not inside the loop %lld..%lld",
                         (long long)r->punch_in, (long long)r->loop_start,
                         (long long)r->loop_end);
    if (loop && has_po && !has_pi && (r->punch_out <= r->loop_start || r->punch_out > r->loop_end))
        return reel_fail(errmsg, REEL_EINVAL, "punch out (%lld) is not inside the loop %lld..%lld",
                         (long long)r->punch_out, (long long)r->loop_start,
                         (long long)r->loop_end);
    if (r->max_passes && !loop)
        return reel_fail(errmsg, REEL_EINVAL, "max_passes needs a loop");
    if (r->autostop != REEL_POS_NONE && r->autostop <= r->from)
        return reel_fail(errmsg, REEL_EINVAL, "autostop (%lld) is not after from (%lld)",
                         (long long)r->autostop, (long long)r->from);
    return 0;
}

/* ---- create / destroy -------------------------------------------------- */

static int check_latency(unsigned rate, int64_t latency, char *errmsg)
{
    int64_t max = (int64_t)REEL_TRANSPORT_MAX_LATENCY_S * rate;
    if (latency < 0 || latency > max)
        return reel_fail(errmsg, REEL_EINVAL,
                         "latency (%lld frames) must be between 0 and %lld (%d s at %u Hz)",
                         (long long)latency, (long long)max, REEL_TRANSPORT_MAX_LATENCY_S, rate);
    return 0;
}

int reel_transport_create(reel_transport **out, unsigned rate, int64_t latency, char *errmsg)
{
    *out = NULL;
    if (rate == 0)
        return reel_fail(errmsg, REEL_EINVAL, "transport: rate (0) must be positive");
    int rc = check_latency(rate, latency, errmsg);
    if (rc)
        return rc;
    reel_transport *t = calloc(1, sizeof *t);
    if (!t)
        return reel_fail(errmsg, REEL_ENOMEM, "transport: out of memory");
    t->rate = rate;
    t->latency = t->ctl_latency = latency;
    if (reel_ring_create(&t->cmds, CMD_SLOTS * sizeof(struct cmd)) ||
        reel_ring_create(&t->events, EVENT_SLOTS * sizeof(reel_transport_event))) {
        reel_transport_destroy(t);
        return reel_fail(errmsg, REEL_ENOMEM, "transport: cannot allocate the queues");
    }
    reel_roll_init(&t->roll);
    atomic_init(&t->pub_pos, 0);
    atomic_init(&t->pub_rolling, 0);
    atomic_init(&t->pub_recording, 0);
    atomic_init(&t->pub_applied, 0);
    atomic_init(&t->events_dropped, 0);
    atomic_init(&t->spans_dropped, 0);
    atomic_init(&t->frames_unmapped, 0);
    *out = t;
    return 0;
}

void reel_transport_destroy(reel_transport *t)
{
    if (!t)
        return;
    reel_ring_destroy(t->cmds);
    reel_ring_destroy(t->events);
    free(t);
}

/* ---- commands (control thread) ----------------------------------------- */

static int send(reel_transport *t, struct cmd *c)
{
    /* All or nothing, so the audio thread never sees half a command. */
    if (reel_ring_write_space_rt(t->cmds) < sizeof *c)
        return REEL_EAGAIN;
    c->seq = t->ctl_seq + 1;
    reel_ring_write_rt(t->cmds, c, sizeof *c);
    t->ctl_seq = c->seq;
    return 0;
}

int reel_transport_locate(reel_transport *t, int64_t pos)
{
    if (pos == REEL_POS_NONE || out_of_range(pos))
        return REEL_EINVAL;
    struct cmd c = {.type = CMD_LOCATE, .arg = pos};
    return send(t, &c);
}

int reel_transport_roll(reel_transport *t, const reel_roll *r, char *errmsg)
{
    int rc = reel_roll_check(r, errmsg);
    if (rc)
        return rc;
    if (r->loop_start != REEL_POS_NONE) {
        int64_t len = r->loop_end - r->loop_start;
        int64_t min = t->ctl_latency / LOOP_PASSES_PER_LATENCY;
        if (len < min)
            return reel_fail(errmsg, REEL_EINVAL,
                             "loop %lld..%lld is too short for a latency of %lld frames "
                             "(at least %lld frames)",
                             (long long)r->loop_start, (long long)r->loop_end,
                             (long long)t->ctl_latency, (long long)min);
    }
    struct cmd c = {.type = CMD_ROLL, .roll = *r};
    rc = send(t, &c);
    if (rc == 0)
        t->ctl_roll_seq = c.seq;
    else
        reel_fail(errmsg, rc, "transport: the command queue is full");
    return rc;
}

int reel_transport_stop(reel_transport *t)
{
    struct cmd c = {.type = CMD_STOP};
    return send(t, &c);
}

int reel_transport_set_latency(reel_transport *t, int64_t latency)
{
    if (check_latency(t->rate, latency, NULL))
        return REEL_EINVAL;
    /* Once the last roll sent has been applied and the audio thread then says
     * stopped and not recording, only a later command of ours can start it
     * again, and that would queue behind this one. */
    uint64_t applied = atomic_load_explicit(&t->pub_applied, memory_order_acquire);
    if (applied < t->ctl_roll_seq || atomic_load(&t->pub_rolling) ||
        atomic_load(&t->pub_recording))
        return REEL_ESTATE;
    struct cmd c = {.type = CMD_LATENCY, .arg = latency};
    int rc = send(t, &c);
    if (rc == 0)
        t->ctl_latency = latency;
    return rc;
}

int64_t reel_transport_position(const reel_transport *t)
{
    return atomic_load_explicit(&t->pub_pos, memory_order_acquire);
}

int reel_transport_rolling(const reel_transport *t)
{
    return atomic_load_explicit(&t->pub_rolling, memory_order_acquire);
}

int reel_transport_recording(const reel_transport *t)
{
    return atomic_load_explicit(&t->pub_recording, memory_order_acquire);
}

int reel_transport_poll_event(reel_transport *t, reel_transport_event *ev)
{
    if (reel_ring_read_space_rt(t->events) < sizeof *ev)
        return 0;
    reel_ring_read_rt(t->events, ev, sizeof *ev);
    return 1;
}

void reel_transport_get_stats(const reel_transport *t, reel_transport_stats *st)
{
    st->events_dropped = atomic_load_explicit(&t->events_dropped, memory_order_relaxed);
    st->spans_dropped = atomic_load_explicit(&t->spans_dropped, memory_order_relaxed);
    st->frames_unmapped = atomic_load_explicit(&t->frames_unmapped, memory_order_relaxed);
}

/* ---- audio thread: shared helpers -------------------------------------- */

static void post_rt(reel_transport *t, reel_transport_event_type type, unsigned pass,
                    int64_t pos, uint64_t frames, uint64_t dev)
{
    reel_transport_event ev = {type, pass, pos, frames, dev};
    if (reel_ring_write_space_rt(t->events) < sizeof ev) {
        atomic_fetch_add_explicit(&t->events_dropped, 1, memory_order_relaxed);
        return;
    }
    reel_ring_write_rt(t->events, &ev, sizeof ev);
}

static bool recording_now_rt(const reel_transport *t)
{
    if (t->out_rolling && t->roll.record)
        return true;
    if (t->in_roll && t->in_roll_rec)
        return true;
    /* The inputs reach the stop at rec_stop_dev + latency and end the roll
     * there (a roll stopped before they heard it has no in_roll yet). */
    return t->rec_stopped && t->in_next < t->rec_stop_dev + (uint64_t)t->latency;
}

static void publish_rt(reel_transport *t)
{
    atomic_store_explicit(&t->pub_pos, t->out_pos, memory_order_release);
    atomic_store_explicit(&t->pub_rolling, t->out_rolling, memory_order_release);
    atomic_store_explicit(&t->pub_recording, recording_now_rt(t), memory_order_release);
}

/* Forgets the output history: input frames mapping before `dev` count as
 * stopped from now on. */
static void forget_history_rt(reel_transport *t, uint64_t dev)
{
    t->hist_floor = t->hist_w;
    t->hist_r = t->hist_w;
    t->hist_begin = dev;
}

/* ---- audio thread: output side ----------------------------------------- */

static void history_add_rt(reel_transport *t, const struct seg *s)
{
    if (t->hist_w > t->hist_floor) {
        struct seg *last = &t->hist[(t->hist_w - 1) % REEL_TRANSPORT_HISTORY];
        bool same = last->roll == s->roll && last->take == s->take &&
                    last->flags == s->flags && last->pass == s->pass &&
                    last->dev + last->frames == s->dev;
        /* Stopped stretches merge whatever their position: the inputs only
         * need to know nothing was rolling. Within one take take_pos moves
         * with pos, so contiguous positions are enough. */
        if (same && s->roll)
            same = last->pos + (int64_t)last->frames == s->pos;
        if (same) {
            last->frames += s->frames;
            return;
        }
    }
    t->hist[t->hist_w % REEL_TRANSPORT_HISTORY] = *s;
    t->hist_w++;
}

static void span_add_rt(reel_transport *t, uint64_t dev, uint64_t frames, int64_t pos,
                        unsigned flags, unsigned pass)
{
    if (!t->spans || frames == 0)
        return;
    unsigned off = (unsigned)(dev - t->period_dev);
    /* Inside a period the timeline jumps only at a wrap (the pass changes)
     * or a stop (the flags change); commands act before the first span. So
     * equal flags and pass mean one continuous mapping. */
    if (t->n_spans > 0) {
        reel_span *p = &t->spans[t->n_spans - 1];
        if (p->flags == flags && p->pass == pass && p->offset + p->frames == off) {
            p->frames += (unsigned)frames;
            return;
        }
    }
    if (t->n_spans == t->max_spans) {
        atomic_fetch_add_explicit(&t->spans_dropped, 1, memory_order_relaxed);
        return;
    }
    t->spans[t->n_spans++] = (reel_span){off, (unsigned)frames, pos, flags, pass};
}

static void out_stop_rt(reel_transport *t, uint64_t dev)
{
    t->out_rolling = false;
    if (t->roll.record) {
        t->rec_stopped = true;
        t->rec_stop_dev = dev;
    }
    post_rt(t, REEL_TEV_STOPPED, t->out_pass, t->out_pos, 0, dev);
}

static unsigned roll_flags_rt(const reel_transport *t)
{
    return REEL_SPAN_ROLLING | (t->roll.record ? REEL_SPAN_RECORD : 0u);
}

static void out_roll_rt(reel_transport *t, const reel_roll *r, uint64_t dev)
{
    if (t->out_rolling)
        out_stop_rt(t, dev);
    t->roll = *r;
    t->looping = r->loop_start != REEL_POS_NONE;
    t->count_in_end = r->from - r->preroll;
    t->rec_in = r->punch_in != REEL_POS_NONE ? r->punch_in
                : t->looping                 ? r->loop_start
                                             : r->from;
    t->rec_out = r->punch_out != REEL_POS_NONE ? r->punch_out
                 : t->looping                  ? r->loop_end
                                               : INT64_MAX;
    if (++t->roll_serial == 0)
        t->roll_serial = 1;
    t->out_pos = t->count_in_end - r->count_in;
    t->out_pass = 0;
    t->out_take = 0;
    t->out_take_pos = 0;
    t->out_rolling = true;
    post_rt(t, REEL_TEV_ROLLING, 0, t->out_pos, 0, dev);
    /* Flagged like the first piece, so that the two usually merge. */
    unsigned flags = roll_flags_rt(t) | (r->count_in > 0 ? REEL_SPAN_COUNT_IN : 0u);
    struct seg marker = {dev, 0, t->out_pos, 0, t->roll_serial, 0, flags, 0};
    history_add_rt(t, &marker);
}

static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Runs the output side over device frames [dev, dev + frames), into the
 * history and (when t->spans is set) the period's spans. */
static void out_run_rt(reel_transport *t, uint64_t dev, uint64_t frames)
{
    while (frames > 0) {
        if (!t->out_rolling) {
            struct seg s = {dev, frames, t->out_pos, 0, 0, 0, 0, 0};
            history_add_rt(t, &s);
            span_add_rt(t, dev, frames, t->out_pos, 0, 0);
            break;
        }
        int64_t p = t->out_pos;
        uint64_t n = frames;
        unsigned flags = roll_flags_rt(t);
        bool counting = t->out_pass == 0 && p < t->count_in_end;
        if (counting) {
            flags |= REEL_SPAN_COUNT_IN;
            n = min_u64(n, (uint64_t)(t->count_in_end - p));
        }
        /* While looping the position stays below loop_end (it wraps there). */
        if (t->looping)
            n = min_u64(n, (uint64_t)(t->roll.loop_end - p));
        if (t->roll.autostop != REEL_POS_NONE && p < t->roll.autostop)
            n = min_u64(n, (uint64_t)(t->roll.autostop - p));
        bool rec = false;
        if (t->roll.record && !counting) {
            if (p < t->rec_in) {
                n = min_u64(n, (uint64_t)(t->rec_in - p));
            } else if (p < t->rec_out) {
                rec = true;
                if (t->rec_out != INT64_MAX)
                    n = min_u64(n, (uint64_t)(t->rec_out - p));
            }
        }
        if (rec && !t->out_take) {
            if (++t->take_serial == 0)
                t->take_serial = 1;
            t->out_take = t->take_serial;
            t->out_take_pos = 0;
        }
        struct seg s = {dev, n, p, rec ? t->out_take_pos : 0, t->roll_serial,
                        rec ? t->out_take : 0, flags, t->out_pass};
        history_add_rt(t, &s);
        span_add_rt(t, dev, n, p, flags, t->out_pass);
        if (rec)
            t->out_take_pos += n;
        dev += n;
        frames -= n;
        t->out_pos += (int64_t)n;

        if (t->roll.autostop != REEL_POS_NONE && t->out_pos == t->roll.autostop) {
            out_stop_rt(t, dev);
        } else if (t->looping && t->out_pos == t->roll.loop_end) {
            if (t->roll.max_passes && t->out_pass + 1 >= t->roll.max_passes) {
                out_stop_rt(t, dev);
            } else {
                t->out_pass++;
                t->out_pos = t->roll.loop_start;
                t->out_take = 0;
                post_rt(t, REEL_TEV_LOOP, t->out_pass, t->out_pos, 0, dev);
            }
        }
    }
}

static void apply_commands_rt(reel_transport *t, uint64_t dev)
{
    struct cmd c;
    uint64_t applied = 0;
    bool rolled = false;
    while (reel_ring_read_space_rt(t->cmds) >= sizeof c) {
        /* One roll per period: each roll leaves segments in the history, and
         * a burst of rolls inside one latency window would lap the input
         * side, which would then never see those rolls end (no
         * RECORD_DONE). Later commands wait, in order, for the next period. */
        reel_ring_peek_rt(t->cmds, &c, sizeof c);
        if (c.type == CMD_ROLL && rolled)
            break;
        rolled |= c.type == CMD_ROLL;
        reel_ring_read_rt(t->cmds, &c, sizeof c);
        applied = c.seq;
        switch (c.type) {
        case CMD_LOCATE:
            if (t->out_rolling)
                out_stop_rt(t, dev);
            t->out_pos = c.arg;
            break;
        case CMD_ROLL:
            out_roll_rt(t, &c.roll, dev);
            break;
        case CMD_STOP:
            if (t->out_rolling)
                out_stop_rt(t, dev);
            break;
        case CMD_LATENCY:
            /* Quiet for sure: set_latency queued this only after the last
             * roll was applied and we had published stopped and not
             * recording, which nothing but a later command can undo. */
            t->latency = c.arg;
            forget_history_rt(t, dev);
            break;
        default:
            break;
        }
    }
    if (applied)
        atomic_store_explicit(&t->pub_applied, applied, memory_order_release);
}

REEL_NONBLOCKING unsigned reel_transport_process_rt(reel_transport *t, uint64_t device_pos,
                                                    unsigned frames, reel_span *spans,
                                                    unsigned max)
{
    if (!t->started || device_pos < t->out_next) {
        /* First period, or a new device: nothing before this frame is known. */
        t->started = true;
        t->out_next = t->in_next = device_pos;
        forget_history_rt(t, device_pos);
    }
    t->spans = NULL;
    if (device_pos > t->out_next)
        out_run_rt(t, t->out_next, device_pos - t->out_next);
    t->period_dev = device_pos;
    t->period_frames = frames;
    apply_commands_rt(t, device_pos);
    t->spans = spans;
    t->n_spans = 0;
    t->max_spans = spans ? max : 0;
    out_run_rt(t, device_pos, frames);
    t->spans = NULL;
    t->out_next = device_pos + frames;
    publish_rt(t);
    return t->n_spans;
}

/* ---- audio thread: input side ------------------------------------------ */

static void in_end_take_rt(reel_transport *t, uint64_t dev)
{
    post_rt(t, REEL_TEV_TAKE_END, t->in_take_pass, t->in_take_end, t->in_take_len, dev);
    t->in_take = 0;
}

static void in_end_roll_rt(reel_transport *t, uint64_t dev)
{
    if (t->in_take)
        in_end_take_rt(t, dev);
    if (t->in_roll_rec)
        post_rt(t, REEL_TEV_RECORD_DONE, t->in_pass, t->in_end_pos, t->in_takes, dev);
    t->in_roll = 0;
    t->in_roll_rec = false;
}

static void rspan_add_rt(reel_transport *t, uint64_t dev, uint64_t frames, int64_t pos,
                         uint64_t take_pos, unsigned pass)
{
    /* Frames before the period were lost by the device: no span, but the
     * take carries on (take_pos shows the gap). */
    if (dev + frames <= t->period_dev || !t->rspans)
        return;
    if (dev < t->period_dev) {
        uint64_t skip = t->period_dev - dev;
        dev += skip;
        frames -= skip;
        pos += (int64_t)skip;
        take_pos += skip;
    }
    unsigned off = (unsigned)(dev - t->period_dev);
    if (t->n_rspans > 0) {
        reel_rec_span *p = &t->rspans[t->n_rspans - 1];
        /* take_pos too: a roll restarted where it was continues the
         * positions and the pass, but is a new take. */
        if (p->pass == pass && p->offset + p->frames == off &&
            p->pos + (int64_t)p->frames == pos && p->take_pos + p->frames == take_pos) {
            p->frames += (unsigned)frames;
            return;
        }
    }
    if (t->n_rspans == t->max_rspans) {
        atomic_fetch_add_explicit(&t->spans_dropped, 1, memory_order_relaxed);
        return;
    }
    t->rspans[t->n_rspans++] = (reel_rec_span){off, (unsigned)frames, pos, take_pos, pass};
}

/* Replays n input frames starting at device frame dev, which heard segment s
 * from `off` frames into it. n may be 0 (a roll marker). */
static void in_replay_rt(reel_transport *t, const struct seg *s, uint64_t off, uint64_t dev,
                         uint64_t n)
{
    if (!s || !s->roll) {
        if (t->in_roll)
            in_end_roll_rt(t, dev);
        return;
    }
    if (s->roll != t->in_roll) {
        if (t->in_roll)
            in_end_roll_rt(t, dev);
        t->in_roll = s->roll;
        t->in_roll_rec = s->flags & REEL_SPAN_RECORD;
        t->in_takes = 0;
        t->in_end_pos = s->pos;
    }
    int64_t pos = s->pos + (int64_t)off;
    t->in_pass = s->pass;
    t->in_end_pos = pos + (int64_t)n;
    if (t->in_take && s->take != t->in_take)
        in_end_take_rt(t, dev);
    if (!s->take || n == 0)
        return;
    uint64_t take_pos = s->take_pos + off;
    if (!t->in_take) {
        t->in_take = s->take;
        t->in_take_pass = s->pass;
        t->in_takes++;
        post_rt(t, REEL_TEV_TAKE_START, s->pass, pos, 0, dev);
    }
    t->in_take_end = pos + (int64_t)n;
    t->in_take_len = take_pos + n;
    rspan_add_rt(t, dev, n, pos, take_pos, s->pass);
}

/* Replays input device frames [in_next, to). With a latency the mapping of
 * frame `to` is known already, so what changes there (a take or roll that
 * ends exactly at the period boundary) is replayed now, with no frames,
 * rather than a period late. */
static void in_run_rt(reel_transport *t, uint64_t to)
{
    const uint64_t L = (uint64_t)t->latency;
    for (;;) {
        uint64_t d = t->in_next;
        bool ahead = d >= to;
        if (ahead && L == 0)
            return;
        /* Before the remembered history: nothing was rolling that we know of. */
        if (d < t->hist_begin + L) {
            if (ahead) {
                in_replay_rt(t, NULL, 0, d, 0);
                return;
            }
            uint64_t n = min_u64(to, t->hist_begin + L) - d;
            in_replay_rt(t, NULL, 0, d, n);
            t->in_next += n;
            continue;
        }
        uint64_t e = d - L;
        /* The output side lapped us: what we had not replayed is gone. */
        if (t->hist_w - t->hist_r > REEL_TRANSPORT_HISTORY)
            t->hist_r = t->hist_w - REEL_TRANSPORT_HISTORY;
        /* The output side has run up to `to` > e, so a segment holds e; the
         * check only guards against a caller that broke the contract. */
        if (t->hist_r >= t->hist_w) {
            in_replay_rt(t, NULL, 0, d, ahead ? 0 : to - d);
            if (!ahead)
                t->in_next = to;
            return;
        }
        const struct seg *s = &t->hist[t->hist_r % REEL_TRANSPORT_HISTORY];
        if (e < s->dev) {
            /* Only after a lap: the segments that held e were overwritten. */
            if (ahead) {
                in_replay_rt(t, NULL, 0, d, 0);
                return;
            }
            uint64_t n = min_u64(to, s->dev + L) - d;
            in_replay_rt(t, NULL, 0, d, n);
            atomic_fetch_add_explicit(&t->frames_unmapped, n, memory_order_relaxed);
            t->in_next += n;
            continue;
        }
        uint64_t end = s->dev + s->frames;
        if (end <= e) {
            if (s->frames == 0)
                in_replay_rt(t, s, 0, d, 0);
            t->hist_r++;
            continue;
        }
        if (ahead) {
            in_replay_rt(t, s, e - s->dev, d, 0);
            return;
        }
        uint64_t n = min_u64(to - d, end - e);
        in_replay_rt(t, s, e - s->dev, d, n);
        t->in_next += n;
    }
}

REEL_NONBLOCKING unsigned reel_transport_record_spans_rt(reel_transport *t, reel_rec_span *spans,
                                                         unsigned max)
{
    t->rspans = spans;
    t->n_rspans = 0;
    t->max_rspans = spans ? max : 0;
    if (t->started)
        in_run_rt(t, t->out_next);
    t->rspans = NULL;
    publish_rt(t);
    return t->n_rspans;
}
