/* auditd.h - Linux audit logs (auditd's /var/log/audit/audit.log) as events of channel `auditd`,
 * the records of one kernel event assembled into one event.
 *
 * A record is one line: `[node=HOST ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): key=value ...`,
 * values bare, "double-quoted", or 'single-quoted' (user-space records carry their own pairs in
 * msg='...', read as if they stood outside), optionally followed by auditd's enriched part after a
 * 0x1D byte (`ARCH=x86_64 SYSCALL=execve AUID="alice" ...`, log_format = ENRICHED). Strings the
 * kernel does not trust (exe, comm, name, cwd, proctitle, cmd, acct, EXECVE's a0, a1 ...) are
 * written as bare hex when they hold a space, a quote or a control byte: those are decoded (NUL
 * and control bytes become spaces, as in proctitle's argument list). Every pair becomes a raw field
 * under its audit name, preceded by `type` (and `node`), which is what Sigma's linux auditd rules
 * test (type, a0.., exe, comm, key, name, SYSCALL ...); a SYSCALL record that carries only the
 * number gets `SYSCALL` (its name) for x86_64 (arch=c000003e).
 *
 * One event = every record with the same node, time stamp and serial (SYSCALL, EXECVE, CWD, PATH,
 * PROCTITLE, SOCKADDR ... or one USER_* record); its fields are the records' fields in arrival
 * order, so `type` and `name` repeat and a rule's `type: EXECVE` + `a0: x` match the event that
 * holds both. Records of different events may interleave: the assembler (kz_auditd_asm) keeps at
 * most KZ_AUDITD_OPEN events open and completes one when its EOE record arrives, when it is a
 * user-space record (USER_*, CRED_*, LOGIN, ADD_USER ... stand alone), when KZ_AUDITD_WAIT_LINES
 * lines have passed since its last record, when the table is full (the oldest goes), or at the end
 * of the file. An event's record id is the line number of its first record.
 *
 * Entities: user (acct, else the enriched AUID/UID name), src_ip (addr, unless `?`), process
 * (exe), command_line (proctitle, else the EXECVE arguments), file_path (the first PATH name),
 * outcome (success=yes/no, res=success/failed/1/0), host (node). Ownership: as text_reader.h; the
 * assembler copies the records it keeps. */
#ifndef KZ_AUDITD_H
#define KZ_AUDITD_H

#include "text_reader.h"

#include <stddef.h>
#include <stdint.h>

#define KZ_AUDITD_OPEN 16                     /* events being assembled at once */
#define KZ_AUDITD_WAIT_LINES 64               /* lines an open event waits for its next record */
#define KZ_AUDITD_MAX_RECORDS 128             /* records kept per event; more are dropped */
#define KZ_AUDITD_MAX_EVENT ((size_t)1 << 20) /* bytes of records kept per event */
#define KZ_AUDITD_MAX_PAIRS 512               /* pairs read per record */

int kz_auditd_sniff(const char *line, size_t n);
/* One record on its own as an event (tests, fuzzers, and lines decoded one by one). */
int kz_auditd_parse(struct kz_text_decoder *d, const char *line, size_t n);

/* The text reader's entry (kz_text_decode_line): with d->seq set (the reader's sequential mode)
 * the line goes to the file's assembler (d->seq->state) and the call returns a completed event
 * (setting d->more when another is ready), KZ_TEXT_PENDING while none is, or the line's error;
 * without d->seq, as kz_auditd_parse. */
int kz_auditd_decode(struct kz_text_decoder *d, const char *line, size_t n);

/* ---- assembly of multi-record events ---- */

struct kz_auditd_asm;

struct kz_auditd_asm *kz_auditd_asm_new(void);
void kz_auditd_asm_free(struct kz_auditd_asm *a);
/* Forgets every open event (a new file starts). */
void kz_auditd_asm_reset(struct kz_auditd_asm *a);
/* Takes one line (without its newline) numbered line_no. Returns 0 when the record was kept, 1
 * for a blank line or a record that adds nothing (an EOE), KZ_EFORMAT / KZ_ELIMIT with *why set
 * for a line that is not an audit record or that the limits drop. Call kz_auditd_asm_next until it
 * returns 1 after every call, so completed events leave the table. */
int kz_auditd_asm_add(struct kz_auditd_asm *a, const char *line, size_t n, uint64_t line_no,
                      const char **why);
/* Decodes the next completed event (every open one when final) into d->event. Returns 0 with an
 * event, 1 when there is none. */
/* Is an event ready for kz_auditd_asm_next (every open one counts when final)? */
int kz_auditd_asm_ready(const struct kz_auditd_asm *a, int final);
int kz_auditd_asm_next(struct kz_auditd_asm *a, struct kz_text_decoder *d, uint32_t file_id,
                       int final);

#endif
