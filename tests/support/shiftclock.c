/* Moves the machine's wall clock for one process tree, and nothing else.
 *
 * LD_PRELOAD=build/shiftclock.so TRUSTSCAN_SHIFT_SECONDS=N runs a program as if the
 * date were N seconds later (negative: earlier). Only the wall clock moves:
 * clock_gettime(CLOCK_REALTIME*), gettimeofday() and time(). Monotonic and CPU clocks,
 * timed waits and sleeps are untouched, which is why this is not libfaketime (0.9.10
 * breaks time.sleep when the monotonic clock is left alone, its issue #426, and hangs
 * timed lock waits otherwise). The variable is inherited, so pytest-xdist workers, the
 * bot subprocesses and Chromium all see the same shifted day.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long shift_seconds(void) {
    static int known = 0;
    static long long shift = 0;
    if (!known) {
        const char *text = getenv("TRUSTSCAN_SHIFT_SECONDS");
        shift = text ? atoll(text) : 0;
        known = 1;
    }
    return shift;
}

static int is_wall(clockid_t id) {
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE
#ifdef CLOCK_TAI
           || id == CLOCK_TAI
#endif
        ;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *) = 0;
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int result = real(id, ts);
    if (result == 0 && ts && is_wall(id)) ts->tv_sec += shift_seconds();
    return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    static int (*real)(struct timeval *restrict, void *restrict) = 0;
    if (!real) real = (int (*)(struct timeval *restrict, void *restrict))dlsym(RTLD_NEXT, "gettimeofday");
    int result = real(tv, tz);
    if (result == 0 && tv) tv->tv_sec += shift_seconds();
    return result;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
