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
#include "device.h"
#include "reel_error.h"

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

#endif
