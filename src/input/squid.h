/* squid.h - Squid's native access.log as events of channel `proxy`, with Sigma's proxy field
 * names.
 *
 * A line is `TIME.MS ELAPSED CLIENT ACTION/CODE SIZE METHOD URL IDENT HIERARCHY/PEER TYPE`
 * (logformat `squid`; columns are separated by one or more spaces, Squid pads ELAPSED), optionally
 * followed by a quoted User-Agent (`"%{User-Agent}>h"`, a common addition). Fields: c-ip,
 * time-taken (ms), s-action (TCP_MISS ...), sc-status, sc-bytes, cs-method, c-uri (the URL as
 * logged), cs-host and r-dns (the URL's host, without port), c-uri-stem (its path), c-uri-query
 * (after `?`), c-uri-extension (of the path's last segment, without the dot), cs-username (IDENT
 * when not `-`), s-hierarchy (HIER_DIRECT ...), r-ip (the peer, when not `-`), rs-content-type,
 * c-useragent. Values as written, not URL-decoded. Time from TIME (seconds and milliseconds since
 * 1970, UTC); provider `squid`. Entities: src_ip, user, bytes, outcome (status below 400; 0 for
 * TCP_DENIED). Ownership: as text_reader.h. */
#ifndef KZ_SQUID_H
#define KZ_SQUID_H

#include "text_reader.h"

#include <stddef.h>

/* 1 when line (possibly cut short) starts like a Squid native access.log line. */
int kz_squid_sniff(const char *line, size_t n);
/* Parses one line into d->event: 0, or KZ_EFORMAT with d->why set. */
int kz_squid_parse(struct kz_text_decoder *d, const char *line, size_t n);

#endif
