/* fmt.h - number formatting into a caller's buffer, for the hot paths that write text per field.
 *
 * snprintf parses its format on every call; decoders format tens of millions of integers. These
 * write digits directly and return the end of what they wrote (no NUL). */
#ifndef KZ_FMT_H
#define KZ_FMT_H

#include <stdint.h>

#define KZ_FMT_U64_MAX 20 /* digits of UINT64_MAX */

/* Writes v in decimal at o (at most KZ_FMT_U64_MAX bytes); returns the end. */
char *kz_fmt_u64(char *o, uint64_t v);
/* Writes v in decimal with a '-' when negative (at most 21 bytes). */
char *kz_fmt_i64(char *o, int64_t v);

#endif
