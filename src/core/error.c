/* error.c - error messages with context; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kz_err_set(struct kz_err *err, int code, const char *fmt, ...) {
    if (!err) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

void kz_err_prefix(struct kz_err *err, const char *fmt, ...) {
    if (!err) return;
    char prefix[KZ_ERR_MSG_MAX], old[KZ_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t pl = strlen(prefix), ol = strlen(old);
    if (pl > sizeof err->msg - 1) pl = sizeof err->msg - 1;
    if (ol > sizeof err->msg - 1 - pl) ol = sizeof err->msg - 1 - pl;
    memcpy(err->msg, prefix, pl);
    memcpy(err->msg + pl, old, ol);
    err->msg[pl + ol] = 0;
}

const char *kz_strerror(int code) {
    switch (code) {
    case KZ_OK:
        return "success";
    case KZ_ENOMEM:
        return "out of memory";
    case KZ_EIO:
        return "input/output error";
    case KZ_EFORMAT:
        return "unrecognised format";
    case KZ_ECORRUPT:
        return "corrupt input";
    case KZ_ELIMIT:
        return "input exceeds a limit";
    case KZ_EUSAGE:
        return "invalid usage";
    case KZ_EUNSUPP:
        return "not supported";
    }
    return "unknown error";
}
