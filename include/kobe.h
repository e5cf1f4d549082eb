/* kobe: an asynchronous I/O runtime for C.
 *
 * Tasks are stackful coroutines run M:N on a pool of worker threads with work stealing; every
 * call that would block suspends only the calling task. One reactor over the OS event queue is
 * shared by all workers; timers, TCP and a pool for blocking work sit on top. Errors are values:
 * 0 or a count on success, a negative errno on failure (kobe_strerror names them).
 *
 * Headers, one per area: runtime, task, sync, time, net, tcp, blocking, error. */
#ifndef KOBE_H
#define KOBE_H

#include "kobe/blocking.h"
#include "kobe/error.h"
#include "kobe/net.h"
#include "kobe/runtime.h"
#include "kobe/sync.h"
#include "kobe/task.h"
#include "kobe/tcp.h"
#include "kobe/time.h"

#define KOBE_VERSION_MAJOR 0
#define KOBE_VERSION_MINOR 1
#define KOBE_VERSION_PATCH 0

#endif
