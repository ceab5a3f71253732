/* fortigate.h - FortiGate (FortiOS) event log lines, as the SSL-VPN gateway writes them, as events
 * of channel `fortigate`.
 *
 * A line is a list of key=value pairs (`date=2026-03-02 time=07:52:29 devname="VPNGW01" ...
 * logid="0101039947" ... action="tunnel-up" remip=203.0.113.7 tunnelip=10.212.134.137
 * user="kfujiwara" ...`), values quoted or bare, optionally after a syslog header (`<189>` and/or
 * a BSD time stamp and host) as a FortiGate sends them to a collector. Every pair becomes a raw
 * field under its FortiOS name. Header: time from eventtime (seconds, ms, us or ns since 1970) or
 * date + time + tz; host = devname; event id = the message id (last six digits of logid: 39947
 * tunnel up, 39948 tunnel down, 39426 login failure ...); provider `FortiGate`. Entities: user,
 * src_ip (remip, else srcip), target_host (devname), bytes (sentbyte + rcvdbyte), outcome (from
 * action/status: tunnel-up, ssl-login-success -> 1; *fail* -> 0). The assigned address
 * (tunnelip), session id (tunnelid), duration and the client's name or id (when the log carries
 * one) stay raw fields. Ownership: as text_reader.h. */
#ifndef KZ_FORTIGATE_H
#define KZ_FORTIGATE_H

#include "text_reader.h"

#include <stddef.h>

#define KZ_FORTIGATE_MAX_PAIRS 256 /* more pairs on one line are dropped */

int kz_fortigate_sniff(const char *line, size_t n);
int kz_fortigate_parse(struct kz_text_decoder *d, const char *line, size_t n);

#endif
