/* error.h - status codes and error messages that carry their context.
 *
 * Functions return int status: 0 for success, a negative KZ_E* on failure. Where the caller needs
 * to tell the user what went wrong, the callee also fills a struct kz_err with a message that names
 * the file and record or line, so the message can be printed as it is ("FILE: record 42: bad size
 * 0"). */
#ifndef KZ_ERROR_H
#define KZ_ERROR_H

#include <stddef.h>

enum {
    KZ_OK = 0,
    KZ_ENOMEM = -1,   /* allocation failed (or was made to fail by the failure injector) */
    KZ_EIO = -2,      /* the operating system refused a read or write */
    KZ_EFORMAT = -3,  /* the input is not in the expected format */
    KZ_ECORRUPT = -4, /* the input is in the format but damaged */
    KZ_ELIMIT = -5,   /* the input exceeds one of kizuki's limits (size, nesting, count) */
    KZ_EUSAGE = -6,   /* the caller (or the user) asked for something invalid */
    KZ_EUNSUPP = -7,  /* valid input that kizuki does not handle */
};

#define KZ_ERR_MSG_MAX 512

/* A message with its context. Fixed-size, so reporting an error never allocates. */
struct kz_err {
    int code;                 /* the KZ_E* status, 0 when no error is set */
    char msg[KZ_ERR_MSG_MAX]; /* human-readable, already prefixed with context */
};

/* Sets err (if non-NULL) to code and a printf-style message; returns code, for `return
 * kz_err_set(...)`. */
int kz_err_set(struct kz_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with more context ("FILE: " + msg). */
void kz_err_prefix(struct kz_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A short name for a status code ("out of memory", "corrupt input", ...). */
const char *kz_strerror(int code);

#endif
