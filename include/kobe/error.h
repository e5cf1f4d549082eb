/* Errors are values: every fallible kobe call returns 0 or a count on success and a negative
 * errno value on failure (-ETIMEDOUT past a deadline, -ECANCELED after cancellation).
 * kobe never relies on errno itself: a task may resume on another thread after any call that
 * suspends, and errno belongs to the thread. */
#ifndef KOBE_ERROR_H
#define KOBE_ERROR_H

#include <errno.h> /* the codes kobe returns, negated: -ECANCELED, -ETIMEDOUT, ... */

#ifdef __cplusplus
extern "C" {
#endif

/* The message for a negative (or positive) errno value, e.g. kobe_strerror(-ECANCELED).
 * Never NULL; the string is static and thread-safe. */
const char *kobe_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
