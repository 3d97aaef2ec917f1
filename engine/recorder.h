/* recorder.h: one device plus one capture, wired together.
 *
 * The glue the script host needs: opens a device whose process callback
 * feeds reel_capture_process_rt, asks the device what it really runs at
 * (rate, input channels, period) and creates the capture for exactly that.
 * For the virtual freewheel device it installs the back-pressure hook
 * (reel_capture_ready), so freewheel never outruns the disk writer.
 *
 * Device start policy: the device is NOT started by reel_recorder_open. It
 * starts with the first take (reel_recorder_record starts the capture and
 * then the device), so a virtual device's file inputs and generators begin
 * at the take's first frame, and freewheel does not run ahead of a take that
 * has not begun. Between takes a real-time device keeps running (meters keep
 * moving); a freewheel device is stopped by reel_recorder_end_take, since
 * running as fast as the CPU allows with nothing to record is only waste.
 *
 * Threads: every function here is for the control thread. The private
 * process callback runs on the device's thread and only calls
 * reel_capture_process_rt. Not safe inside the audio callback. */
#ifndef REEL_RECORDER_H
#define REEL_RECORDER_H

#include <stdint.h>

#include "capture.h"
#include "click.h"
#include "device.h"
#include "playback.h"
#include "reel_error.h"
#include "tempo.h"
#include "transport.h"

typedef struct reel_recorder reel_recorder;

/* Opens the device described by dcfg (not started, see above) and creates
 * its capture from ccfg_template: format, ring_seconds and originator are
 * taken from it, rate/in_channels/max_period come from the device (the
 * template's values are ignored). dcfg->ready is replaced for virtual
 * freewheel. ccfg_template may be NULL (wav24, 5 s rings, "reel").
 * errmsg: REEL_ERRMSG_MAX bytes or NULL. Returns 0 or a REEL_E* code. */
int reel_recorder_open(reel_recorder **out, const reel_device_config *dcfg,
                       const reel_capture_config *ccfg_template, char *errmsg);

/* Stops a running take (files are closed valid), stops and closes the device,
 * frees everything. NULL is fine; r is invalid afterwards. */
void reel_recorder_close(reel_recorder *r);

void reel_recorder_get_info(const reel_recorder *r, reel_device_info *info);
reel_capture *reel_recorder_capture(reel_recorder *r);
reel_device *reel_recorder_device(reel_recorder *r);

/* Starts / stops the device's callback. Start is a no-op while running.
 * After stop returns the callback is not running and will not run again. */
int reel_recorder_start(reel_recorder *r, char *errmsg);
int reel_recorder_stop(reel_recorder *r);
int reel_recorder_running(const reel_recorder *r);
/* Non-zero while the device is healthy (JACK server still there, ...). */
int reel_recorder_alive(const reel_recorder *r);

/* Starts a take (reel_capture_start with the same arguments) and then the
 * device if it is not running yet. On a device start failure the take is
 * stopped again, its empty files are removed, and the error is
 * returned. */
int reel_recorder_record(reel_recorder *r, const char *const *paths, uint64_t max_frames,
                         const char *description, char *errmsg);

/* Ends the take (reel_capture_stop) and, for a freewheel device, stops the
 * device. Returns reel_capture_stop's result. Idempotent. */
int reel_recorder_end_take(reel_recorder *r, char *errmsg);

/* ---- tracking: transport, playback, monitor mix, click ------------------
 *
 * Every recorder also has a transport (stopped until a roll), a tempo map
 * (120 bpm 4/4 until changed), a playback reader for takes and backing files,
 * a metronome (off until configured) and a monitor mix. Per period the audio
 * thread: runs the transport; reads playback for the rolling spans and mixes
 * it (muted during the count-in) into the monitor outputs with each
 * source's gain and balance; adds each monitored track's inputs; adds the
 * click; hands the transport's record spans to the capture. The click and
 * the playback are output-only: nothing reaches a take except through the
 * device's inputs.
 *
 * Balance law: gain g, pan p in [-1, 1]: left = g * min(1, 1 - p), right =
 * g * min(1, 1 + p); the centre is unity on both sides, so a source panned
 * hard left reaches the left output bit for bit. */

/* Control thread; change the tempo map only while the transport is stopped. */
reel_tempo *reel_recorder_tempo(reel_recorder *r);
reel_transport *reel_recorder_transport(reel_recorder *r);
reel_playback *reel_recorder_playback(reel_recorder *r);

/* Monitor outputs (0-based; -1: none). Default 0 and 1 where they exist. */
int reel_recorder_set_monitor_outputs(reel_recorder *r, int left, int right, char *errmsg);
/* Input monitoring of a track: on/off, gain in dB, balance -1..1. Any time. */
int reel_recorder_set_monitor(reel_recorder *r, unsigned track, int on, double gain_db,
                              double pan, char *errmsg);
/* Adds a playback source (reel_playback_add) with its mix; only while the
 * transport is stopped. Returns the source index or a REEL_E* code. */
int reel_recorder_add_source(reel_recorder *r, const char *path, int64_t timeline_start,
                             double gain_db, double pan, char *errmsg);
/* The same for a region of the file (reel_playback_add_region: `frames`
 * frames from file frame file_offset, at timeline_start; frames < 0: to the
 * file's end). */
int reel_recorder_add_region(reel_recorder *r, const char *path, int64_t timeline_start,
                             int64_t file_offset, int64_t frames, double gain_db, double pan,
                             char *errmsg);
int reel_recorder_clear_sources(reel_recorder *r);
/* Replaces the metronome (only before the device first runs); mode and
 * levels change any time through reel_click_set_* on reel_recorder_click. */
int reel_recorder_set_click(reel_recorder *r, const reel_click_config *cfg, char *errmsg);
reel_click *reel_recorder_click(reel_recorder *r);
/* Round-trip latency used to align takes with playback, in frames. Default:
 * the device's reported input + output latency. Only while stopped. */
int reel_recorder_set_latency(reel_recorder *r, int64_t frames, char *errmsg);
int64_t reel_recorder_latency(const reel_recorder *r);

/* Starts a roll: checks it, starts the capture of numbered takes when
 * names is not NULL (one entry per track; armed tracks record), prepares the
 * playback at the roll's first position, starts the device if needed and
 * sends the roll to the transport. */
int reel_recorder_roll(reel_recorder *r, const reel_roll *roll, const reel_take_names *names,
                       const char *description, char *errmsg);
/* Asks the transport to stop (the takes end latency frames later). */
int reel_recorder_stop_roll(reel_recorder *r);
/* After the transport reported RECORD_DONE (or STOPPED for a roll without
 * recording): closes the takes and the playback. Returns the capture's
 * first writer error. Idempotent. */
int reel_recorder_finish_roll(reel_recorder *r, char *errmsg);

#endif
