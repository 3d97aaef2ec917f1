/* jack_server_lost.c: what the RtAudio/JACK device does when its server goes
 * away while the stream runs.
 *
 * Starts a private dummy server (its own name, so the shared fixture server
 * is never touched) with jack_server.sh, opens and starts "jack" on it, then
 * stops the server. reel_device_alive must turn 0 within a few seconds, and
 * reel_device_stop and reel_device_close must return without hanging or
 * crashing. (Left to itself, RtAudio 5.2 closes the stream from a thread of
 * its own at that moment and about 1 run in 20 died in std::terminate;
 * device_rtaudio.c replaces that handler, see its jack_on_shutdown.)
 * Reopening then fails with REEL_EDEVICE. Under ThreadSanitizer this runs
 * without suppressions.
 *
 * Threads: the test body is the control thread; count_rt runs on the JACK
 * process thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device.h"

static atomic_uint_fast64_t periods;

static void count_rt(const reel_period *p, void *user)
{
    (void)p;
    (void)user;
    atomic_fetch_add_explicit(&periods, 1, memory_order_relaxed);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static char script[1024], dir[64], server[64];

static int run_script(const char *verb)
{
    char cmd[2048];
    if (strcmp(verb, "start") == 0)
        snprintf(cmd, sizeof cmd, "bash '%s' start '%s' 256", script, dir);
    else
        snprintf(cmd, sizeof cmd, "bash '%s' stop '%s'", script, dir);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("REEL_SOURCE_DIR");
    if (!src) {
        fprintf(stderr, "REEL_SOURCE_DIR is not set (run through ctest)\n");
        return -1;
    }
    snprintf(script, sizeof script, "%s/tests/integration/jack_server.sh", src);
    snprintf(dir, sizeof dir, "/tmp/reel_jack_lost.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* One fixed name per build tree: jackd keeps at most 8 server names in
     * its shared registry and frees a dead server's entry only when a server
     * of the same name starts again, so a fresh name per run could fill it
     * for everyone on the machine after a few unclean exits. */
    const char *build = getenv("REEL_BUILD_DIR");
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (const char *c = build ? build : ""; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    snprintf(server, sizeof server, "reeltest_lost_%08x", (unsigned)h);
    setenv("JACK_DEFAULT_SERVER", server, 1);
    return run_script("start") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    run_script("stop");   /* harmless when the test stopped it already */
    char log[128];
    snprintf(log, sizeof log, "%s/jackd.log", dir);
    unlink(log);
    rmdir(dir);
    /* A server that loses a client mid-shutdown leaves semaphore files named
     * after itself in /dev/shm; the name is this build tree's own. */
    char pattern[160];
    snprintf(pattern, sizeof pattern, "/dev/shm/jack_sem.*_%s_*", server);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
        globfree(&g);
    }
    return 0;
}

static void test_server_lost(void **state)
{
    (void)state;
    reel_device_config cfg = { .spec = "jack", .in_channels = 2, .out_channels = 2,
                               .client_name = "reeltest_lost", .no_connect = 1 };
    reel_device *d = NULL;
    char err[REEL_ERRMSG_MAX] = "";
    int rc = reel_device_open(&d, &cfg, count_rt, NULL, err);
    if (rc != 0)
        fail_msg("reel_device_open(jack) on %s: %d %s", server, rc, err);
    rc = reel_device_start(d);
    if (rc != 0)
        fail_msg("reel_device_start: %d %s", rc, reel_device_error(d));
    sleep_ms(300);
    assert_true(atomic_load(&periods) > 10);
    assert_int_equal(reel_device_alive(d), 1);

    assert_int_equal(run_script("stop"), 0);
    double t0 = now_s();
    int alive = 1;
    while (alive && now_s() - t0 < 10) {
        sleep_ms(20);
        alive = reel_device_alive(d);
    }
    double t_dead = now_s() - t0;
    printf("# alive() turned 0 %.2f s after the server stopped\n", t_dead);
    assert_int_equal(alive, 0);
    assert_true(t_dead < 5);

    double t1 = now_s();
    rc = reel_device_stop(d);
    printf("# stop: %d (%s) after %.3f s; error \"%s\"\n", rc, reel_strerror(rc), now_s() - t1,
           reel_device_error(d));
    assert_true(rc == 0 || rc == REEL_EDEVICE);
    assert_true(now_s() - t1 < 5);
    reel_device_close(d);

    d = NULL;
    rc = reel_device_open(&d, &cfg, count_rt, NULL, err);
    printf("# reopen: %d %s\n", rc, err);
    assert_null(d);
    assert_int_equal(rc, REEL_EDEVICE);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* keep progress lines if the test hangs */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_lost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
