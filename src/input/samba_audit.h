/* samba_audit.h - Samba's vfs_full_audit messages (smbd_audit in syslog) as file-share events.
 *
 * vfs_full_audit writes `PREFIX|OPERATION|RESULT|ARGS...`, where PREFIX is `full_audit:prefix`
 * (default `%u|%I`; the Samba manual's example adds the share: `%u|%I|%S`, and sites often add the
 * machine: `%u|%I|%m|%S`), RESULT is `ok` or `fail (REASON)` and the arguments depend on the
 * operation (openat: `r` or `w` then the path; renameat: old and new path; most: the path). The
 * operation is found as the field before the first `ok`/`fail...` field, so the prefix may have 2,
 * 3 or 4 parts: user, client address, [machine,] share.
 *
 * Fields: user, client, machine, share, operation, result, path (and new_path for renames),
 * access (r/w of openat); channel `samba`, provider `smbd_audit`. Entities, in the slots Windows
 * 5140/5145 fill: user, src_ip (client), share, file_path (path relative to the share, as 5145's
 * RelativeTargetName), outcome (ok 1, fail 0); target_host is the syslog host (the file server).
 * Ownership: as text_reader.h. */
#ifndef KZ_SAMBA_AUDIT_H
#define KZ_SAMBA_AUDIT_H

#include "text_reader.h"

#define KZ_SAMBA_AUDIT_MAX_PARTS 16 /* |-separated parts read; more go into the last */

/* Decodes the NUL-terminated message msg (the syslog header already read into d's event).
 * Returns 0, or KZ_EFORMAT when msg is not a vfs_full_audit record (d is left as it was). */
int kz_samba_audit_parse(struct kz_text_decoder *d, const char *msg);

#endif
