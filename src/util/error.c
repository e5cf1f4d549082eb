/* kobe_strerror: names for the negative errno values kobe returns. A table of its own rather than
 * strerror(), which is not thread-safe, or strerror_r(), whose two incompatible variants and
 * caller buffer make a poor fit for "returns a static string". */
#include <errno.h>

#include "kobe/error.h"

static const struct {
    int code;
    const char *text;
} table[] = {
    {0, "Success"},
    {EPERM, "Operation not permitted (not inside a kobe task?)"},
    {ENOENT, "No such file or directory"},
    {EINTR, "Interrupted system call"},
    {EIO, "Input/output error"},
    {EBADF, "Bad file descriptor (closed stream?)"},
    {EAGAIN, "Resource temporarily unavailable"},
    {ENOMEM, "Out of memory"},
    {EACCES, "Permission denied"},
    {EFAULT, "Bad address"},
    {EBUSY, "Device or resource busy"},
    {EEXIST, "File exists"},
    {EINVAL, "Invalid argument"},
    {ENFILE, "Too many open files in system"},
    {EMFILE, "Too many open files"},
    {ENOSPC, "No space left (buffer too small)"},
    {EPIPE, "Broken pipe (peer closed)"},
    {ERANGE, "Result out of range"},
    {EDEADLK, "Deadlock avoided (a task cannot join itself)"},
    {ENOSYS, "Function not implemented"},
    {EOVERFLOW, "Value too large"},
    {ENOTSOCK, "Not a socket"},
    {EDESTADDRREQ, "Destination address required"},
    {EMSGSIZE, "Message too long"},
    {EPROTOTYPE, "Wrong protocol type for socket"},
    {ENOPROTOOPT, "Protocol not available"},
    {EPROTONOSUPPORT, "Protocol not supported"},
    {EOPNOTSUPP, "Operation not supported"},
    {EAFNOSUPPORT, "Address family not supported"},
    {EADDRINUSE, "Address already in use"},
    {EADDRNOTAVAIL, "Cannot assign requested address"},
    {ENETDOWN, "Network is down"},
    {ENETUNREACH, "Network is unreachable"},
    {ECONNABORTED, "Connection aborted"},
    {ECONNRESET, "Connection reset by peer"},
    {ENOBUFS, "No buffer space available"},
    {EISCONN, "Socket is already connected"},
    {ENOTCONN, "Socket is not connected"},
    {ESHUTDOWN, "Runtime or stream is shutting down"},
    {ETIMEDOUT, "Timed out (deadline passed)"},
    {ECONNREFUSED, "Connection refused"},
    {EHOSTUNREACH, "No route to host"},
    {EALREADY, "Operation already in progress"},
    {EINPROGRESS, "Operation now in progress"},
    {ECANCELED, "Operation canceled (task cancelled)"},
    {ENODATA, "No data (the stream ended early)"},
};

const char *kobe_strerror(int err) {
    if (err < 0) err = -err;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == err) return table[i].text;
    return "Unknown error";
}
