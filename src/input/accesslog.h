/* accesslog.h - web server access logs (NCSA common and combined: nginx, Apache httpd, Tomcat's
 * AccessLogValve) as events of channel `webserver`, with Sigma's webserver field names.
 *
 * A line is `HOST IDENT USER [dd/Mon/yyyy:HH:MM:SS +hhmm] "METHOD TARGET VERSION" STATUS BYTES`,
 * optionally followed by `"REFERER" "USER-AGENT"` (combined) and anything else (ignored). Fields:
 * c-ip, cs-username, cs-method, cs-uri-stem, cs-uri-query (the part after `?`), cs-version,
 * sc-status, sc-bytes, cs-referer, cs-user-agent; a request line that is not METHOD TARGET VERSION
 * (a TLS handshake sent to a plain-HTTP port, a scanner's junk) is kept whole in `cs-request`.
 * Values are as written (not URL-decoded), as Sigma's webserver rules expect. A reverse proxy's
 * log is a web server log too: it records the requests the clients sent. The provider slot says
 * which layout the line had (`combined` or `common`). Entities: src_ip (c-ip), user, bytes,
 * outcome (status below 400). Ownership: as text_reader.h (the decoder's arena). */
#ifndef KZ_ACCESSLOG_H
#define KZ_ACCESSLOG_H

#include "text_reader.h"

#include <stddef.h>

/* 1 when line (possibly cut short) starts like an access log line. */
int kz_accesslog_sniff(const char *line, size_t n);
/* Parses one line into d->event and d's fields: 0, or KZ_EFORMAT with d->why set. */
int kz_accesslog_parse(struct kz_text_decoder *d, const char *line, size_t n);

#endif
