/* syslog.h - syslog lines (RFC 3164 "BSD" and RFC 5424) as events: Linux auth logs (sshd, sudo,
 * su), Sysmon for Linux and Samba's vfs_full_audit, which all travel as syslog.
 *
 * Line forms:
 *   RFC 3164   [<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MESSAGE   (rsyslog's /var/log/auth.log has
 *              no <PRI>); also rsyslog's RSYSLOG_FileFormat, an RFC 3339 time in place of Mmm dd
 * ... RFC 5424   <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD-ELEMENTS|-] MESSAGE A BSD time stamp
 * has no year: it is the latest year that does not put the line after the decoder's reference time
 * (the file's modification time, set by the reader; the current time when none), so a December line
 * in a file written in January is last year's.
 *
 * Raw fields: facility, severity (from PRI), hostname, program, pid, msgid, structured_data,
 * message; channel `syslog`, provider = program (what data/logsource.yml's syslog services name:
 * sshd, sudo, su, CRON ...). Recognised messages add fields and entities:
 *   sshd  Accepted/Failed METHOD for [invalid user ]USER from IP port N; Invalid user USER from IP
 *         -> user, source_ip, source_port, auth_method, outcome (entities user, src_ip, outcome)
 *   sudo  USER : [reason ; ]TTY=.. ; PWD=.. ; USER=TARGET ; COMMAND=..  -> user, tty, pwd,
 *         target_user, command (entities user, command_line, outcome 0 when a reason is given)
 *   su    pam_unix(su[-l]:session): session opened for user TARGET[(uid=N)] by USER[(uid=N)];
 *         FAILED SU (to TARGET) USER on TTY -> user, target_user, outcome
 * A message that is a Sysmon <Event> document is decoded as Sysmon for Linux (linux_sysmon.h); a
 * smbd_audit message as Samba vfs_full_audit (samba_audit.h). Ownership: as text_reader.h. */
#ifndef KZ_SYSLOG_H
#define KZ_SYSLOG_H

#include "text_reader.h"

#include <stddef.h>

int kz_syslog_sniff(const char *line, size_t n);
int kz_syslog_parse(struct kz_text_decoder *d, const char *line, size_t n);

/* The year of a BSD time stamp's month and day: the latest year in which that day does not fall
 * more than a day after ref (0: now). */
int kz_syslog_year(kz_time ref, unsigned month, unsigned day);

#endif
