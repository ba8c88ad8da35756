/* status.c - error reporting for the core: emb_err_set and friends. */
#include "core/emb.h"

#include <stdarg.h>
#include <stdio.h>

int emb_err_set(emb_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *emb_status_name(int code)
{
    switch (code) {
    case EMB_OK: return "ok";
    case EMB_EINVAL: return "invalid argument";
    case EMB_ENOMEM: return "out of memory";
    case EMB_EIO: return "i/o error";
    case EMB_EFORMAT: return "format error";
    case EMB_ERANGE: return "out of range";
    case EMB_EUNSUP: return "unsupported";
    case EMB_ENOTFOUND: return "not found";
    case EMB_DONE: return "done";
    default: return "unknown status";
    }
}

int emb_mul_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return EMB_ERANGE;
    *out = r;
    return EMB_OK;
}

int emb_add_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        return EMB_ERANGE;
    *out = r;
    return EMB_OK;
}
