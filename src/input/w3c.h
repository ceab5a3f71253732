/* w3c.h - IIS W3C extended log files as events of channel `webserver`, with Sigma's webserver
 * field names.
 *
 * The file is self-describing: a `#Fields: date time s-ip cs-method cs-uri-stem ...` directive
 * names the space-separated columns of every data line after it, and may change mid-file (IIS
 * writes a new header block when the logged fields change). So the reader decodes W3C files
 * sequentially (text_reader.h, struct kz_text_seq) and keeps the column layout in the file's
 * state. Columns keep their W3C names (c-ip, cs-method, cs-uri-stem, cs-uri-query, sc-status,
 * cs-username, s-ip, s-port, time-taken ...), except the header columns `cs(Header)` / `sc(Header)`,
 * which become `cs-header` / `sc-header` in lower case as Sigma writes them (cs(User-Agent) ->
 * cs-user-agent, cs(Referer) -> cs-referer, cs(Cookie) -> cs-cookie). A `-` value (W3C's "no
 * value") gives no field. Values are as written: IIS writes a space inside a value as `+` and
 * does not URL-decode. Time from `date` + `time` (UTC, as IIS writes them); host
 * `s-computername` when logged; provider `w3c`. Entities: src_ip (c-ip), user (cs-username),
 * bytes (sc-bytes), outcome (status below 400). Other directives (#Software, #Version, #Date,
 * #Remark) hold no event. Ownership: as text_reader.h. */
#ifndef KZ_W3C_H
#define KZ_W3C_H

#include "text_reader.h"

#include <stddef.h>

#define KZ_W3C_MAX_COLUMNS 128 /* columns of a #Fields directive; a longer one is rejected */

/* 1 when line starts a W3C extended log (`#Software:`, `#Version:`, `#Fields:`, `#Date:`). */
int kz_w3c_sniff(const char *line, size_t n);
/* One line (a directive or data) into d->event: 0, 1 for a directive, or KZ_EFORMAT with d->why
 * set. Needs d->seq (the file's state); without it every data line is rejected. */
int kz_w3c_parse(struct kz_text_decoder *d, const char *line, size_t n);

#endif
