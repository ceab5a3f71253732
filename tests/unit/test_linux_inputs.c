/* test_linux_inputs.c - unit tests of the Linux inputs: src/input/syslog.c (RFC 3164/5424, sshd,
 * sudo, su), linux_sysmon.c, samba_audit.c, auditd.c (records and assembly), and sniffing.
 *
 * Expected values are worked by hand: the example messages of RFC 3164 section 5.4 and RFC 5424
 * section 6.5 (PRI 34 = facility 4 * 8 + severity 2; 165 = 20 * 8 + 5), the message forms of
 * OpenSSH's auth log, sudo's log line (sudoers(5) "LOG FORMAT"), su's PAM session line, Sysmon
 * for Linux's event XML, Samba's vfs_full_audit(8) and the audit record format (auditd.conf(5),
 * ausearch(8)); hex strings were decoded by hand ("2F7573722F62696E" is "/usr/bin"). The shared
 * auditd data (../shared/data/auditd) gives go-libaudit's upstream goldens: per-record parses
 * (auparse/testdata, X.log.golden) and assembled events (aucoalesce/testdata, X.yaml and
 * X.json.golden). */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "input/auditd.h"
#include "input/syslog.h"
#include "input/text_reader.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *field(const struct kz_event *ev, const char *name) {
    const struct kz_field *f = kz_event_field(ev, kz_intern(name, strlen(name)));
    return f ? f->val : NULL;
}

/* The k-th (0-based) field called name, for fields an assembled event repeats. */
static const char *field_nth(const struct kz_event *ev, const char *name, unsigned k) {
    uint32_t id = kz_intern(name, strlen(name));
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (ev->fields[i].name == id && k-- == 0) return ev->fields[i].val;
    return NULL;
}

static const char *ts_text(kz_time t, int digits, char *buf) {
    kz_time_format(t, digits, buf);
    return buf;
}

static int decode(struct kz_text_decoder *d, uint8_t fmt, const char *line) {
    return kz_text_decode_line(d, fmt, line, strlen(line), 4, 2);
}

static kz_time at(const char *s) {
    kz_time t = 0;
    kz_time_parse(s, strlen(s), &t);
    return t;
}

/* ---- syslog ---- */

KZ_TEST(linux_syslog_year) {
    /* A Jan 2 reference: Dec 31 is last year's; Jan 3 (a day ahead: time zones) this year's;
     * Jan 4 would be in the future, so last year's. */
    kz_time ref = at("2026-01-02T10:00:00Z");
    CHECK_INT(kz_syslog_year(ref, 12, 31), 2025);
    CHECK_INT(kz_syslog_year(ref, 1, 2), 2026);
    CHECK_INT(kz_syslog_year(ref, 1, 3), 2026);
    CHECK_INT(kz_syslog_year(ref, 1, 4), 2025);
    CHECK_INT(kz_syslog_year(at("2026-07-01T00:00:00Z"), 3, 5), 2026);
}

KZ_TEST(linux_syslog_rfc3164) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    d.ref_time = at("2026-03-05T00:00:00Z");
    /* RFC 3164 section 5.4, example 1; October is after the March reference: 2025. */
    REQUIRE(
        decode(&d, KZ_FMT_SYSLOG,
               "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8") ==
        0);
    struct kz_event *ev = &d.event;
    CHECK_STR(ts_text(ev->ts, 0, t), "2025-10-11T22:14:15Z");
    CHECK_STR(field(ev, "facility"), "4");
    CHECK_STR(field(ev, "severity"), "2");
    CHECK_STR(ev->host, "mymachine");
    CHECK_STR(ev->provider, "su");
    CHECK_STR(ev->channel, "syslog");
    CHECK_STR(field(ev, "message"), "'su root' failed for lonvick on /dev/pts/8");
    CHECK(field(ev, "pid") == NULL);
    CHECK_INT(ev->record_id, 4);
    CHECK_INT(ev->format, KZ_FMT_SYSLOG);
    /* auth.log as rsyslog writes it: no PRI, the day padded with a space. */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 09:14:02 web01 sshd[2211]: Accepted publickey for alice from "
                   "198.51.100.7 port 50522 ssh2: ED25519 SHA256:abc") == 0);
    CHECK_STR(ts_text(ev->ts, 0, t), "2026-03-03T09:14:02Z");
    CHECK(field(ev, "facility") == NULL);
    CHECK_STR(field(ev, "pid"), "2211");
    CHECK_STR(field(ev, "auth_method"), "publickey");
    CHECK_STR(ev->ent.user, "alice");
    CHECK_STR(ev->ent.src_ip, "198.51.100.7");
    CHECK_STR(field(ev, "source_port"), "50522");
    CHECK_INT(ev->ent.outcome, 1);
    CHECK_STR(ev->ent.target_host, "web01");
    /* rsyslog's RSYSLOG_FileFormat: an RFC 3339 time, so the year is written */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "2024-12-31T23:59:58.250+09:00 bastion sshd[77]: Failed password for invalid "
                   "user ad min from 2001:db8::7 port 4242 ssh2") == 0);
    CHECK_STR(ts_text(ev->ts, 3, t), "2024-12-31T14:59:58.250Z");
    CHECK_STR(ev->ent.user, "ad min");
    CHECK_STR(ev->ent.src_ip, "2001:db8::7");
    CHECK_INT(ev->ent.outcome, 0);
    REQUIRE(
        decode(&d, KZ_FMT_SYSLOG,
               "Mar  3 09:15:40 web01 sshd[2290]: Invalid user oracle from 203.0.113.9 port 1") ==
        0);
    CHECK_STR(ev->ent.user, "oracle");
    CHECK_INT(ev->ent.outcome, 0);
    /* not syslog */
    CHECK(decode(&d, KZ_FMT_SYSLOG, "Mar 33 09:15:40 web01 x: y") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_SYSLOG, "<999>Mar  3 09:15:40 web01 x: y") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_SYSLOG, "hello world") == KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

KZ_TEST(linux_syslog_rfc5424) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    struct kz_event *ev = &d.event;
    /* RFC 5424 section 6.5, example 1 (the BOM before the message is dropped) */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
                   "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8") == 0);
    CHECK_STR(ts_text(ev->ts, 3, t), "2003-10-11T22:14:15.003Z");
    CHECK_STR(field(ev, "facility"), "4");
    CHECK_STR(field(ev, "severity"), "2");
    CHECK_STR(ev->host, "mymachine.example.com");
    CHECK_STR(ev->provider, "su");
    CHECK(field(ev, "pid") == NULL);
    CHECK_STR(field(ev, "msgid"), "ID47");
    CHECK(field(ev, "structured_data") == NULL);
    CHECK_STR(field(ev, "message"), "'su root' failed for lonvick on /dev/pts/8");
    /* example 3: structured data with an escaped quote-free value; PRI 165 = 20 * 8 + 5 */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                   "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An "
                   "application event log entry...") == 0);
    CHECK_STR(field(ev, "facility"), "20");
    CHECK_STR(field(ev, "severity"), "5");
    CHECK_STR(field(ev, "structured_data"),
              "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]");
    CHECK_STR(field(ev, "message"), "An application event log entry...");
    /* example 4: SD only, no message; a "]" escaped inside a value */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                   "[a@1 x=\"b\\]c\"][b@2 y=\"z\"]") == 0);
    CHECK_STR(field(ev, "structured_data"), "[a@1 x=\"b\\]c\"][b@2 y=\"z\"]");
    CHECK_STR(field(ev, "message"), "");
    CHECK(decode(&d, KZ_FMT_SYSLOG, "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [open") ==
          KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

KZ_TEST(linux_syslog_sudo_su) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_event *ev = &d.event;
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 09:20:11 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; "
                   "USER=root ; COMMAND=/bin/sh -c 'a ; b'") == 0);
    CHECK_STR(ev->provider, "sudo");
    CHECK_STR(ev->ent.user, "alice");
    CHECK_STR(field(ev, "tty"), "pts/0");
    CHECK_STR(field(ev, "pwd"), "/home/alice");
    CHECK_STR(field(ev, "target_user"), "root");
    CHECK_STR(field(ev, "command"), "/bin/sh -c 'a ; b'");
    CHECK_STR(ev->ent.command_line, "/bin/sh -c 'a ; b'");
    CHECK_INT(ev->ent.outcome, 1);
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 09:20:11 web01 sudo:     mallory : 3 incorrect password attempts ; "
                   "TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/id") == 0);
    CHECK_STR(ev->ent.user, "mallory");
    CHECK_STR(field(ev, "reason"), "3 incorrect password attempts");
    CHECK_INT(ev->ent.outcome, 0);
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 09:21:30 web01 su[2310]: pam_unix(su:session): session opened for user "
                   "root(uid=0) by alice(uid=1000)") == 0);
    CHECK_STR(field(ev, "target_user"), "root");
    CHECK_STR(ev->ent.user, "alice");
    CHECK_INT(ev->ent.outcome, 1);
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 09:21:30 web01 su[2311]: FAILED SU (to root) bob on pts/2") == 0);
    CHECK_STR(field(ev, "target_user"), "root");
    CHECK_STR(ev->ent.user, "bob");
    CHECK_INT(ev->ent.outcome, 0);
    /* another program's line: no entities guessed */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG, "Mar  3 09:21:30 web01 CRON[99]: (root) CMD (run-parts)") ==
            0);
    CHECK(ev->ent.user == NULL);
    CHECK_INT(ev->ent.outcome, -1);
    kz_text_decoder_free(&d);
}

KZ_TEST(linux_sysmon_process_creation) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    struct kz_event *ev = &d.event;
    REQUIRE(
        decode(&d, KZ_FMT_SYSLOG,
               "Oct 14 09:23:24 ubuntu sysmon: <Event><System><Provider Name=\"Linux-Sysmon\" "
               "Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>1</EventID><Version>5"
               "</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>"
               "0x8000000000000000</Keywords><TimeCreated SystemTime=\"2021-10-14T09:23:24."
               "727877000Z\"/><EventRecordID>30</EventRecordID><Correlation/><Execution "
               "ProcessID=\"38187\" ThreadID=\"38187\"/><Channel>Linux-Sysmon/Operational"
               "</Channel><Computer>ubuntu</Computer><Security UserId=\"0\"/></System>"
               "<EventData><Data Name=\"RuleName\">-</Data><Data Name=\"Image\">/usr/bin/"
               "whoami</Data><Data Name=\"CommandLine\">sh -c &quot;id &amp;&amp; whoami&quot; "
               "&#62; &#x2F;tmp</Data><Data Name=\"User\">root</Data><Data Name=\"ParentImage\">"
               "/usr/bin/bash</Data></EventData></Event>") == 0);
    CHECK_INT(ev->event_id, 1);
    CHECK_STR(ev->channel, "Linux-Sysmon/Operational");
    CHECK_STR(ev->provider, "Linux-Sysmon");
    CHECK_STR(ev->host, "ubuntu");
    CHECK_STR(ts_text(ev->ts, 7, t), "2021-10-14T09:23:24.7278770Z");
    CHECK_STR(field(ev, "EventID"), "1");
    CHECK_STR(field(ev, "Provider_Guid"), "{ff032593-a8d3-4f13-b0d6-01fc615a0f97}");
    CHECK_STR(field(ev, "Execution_ProcessID"), "38187");
    CHECK_STR(field(ev, "Security_UserID"), "0");
    CHECK_STR(field(ev, "EventRecordID"), "30");
    CHECK_STR(field(ev, "Image"), "/usr/bin/whoami");
    CHECK_STR(field(ev, "CommandLine"), "sh -c \"id && whoami\" > /tmp");
    CHECK_STR(ev->ent.process, "/usr/bin/whoami");
    CHECK_STR(ev->ent.parent_process, "/usr/bin/bash");
    CHECK_STR(ev->ent.user, "root");
    CHECK(field(ev, "message") == NULL); /* the document is the event */
    CHECK(decode(&d, KZ_FMT_SYSLOG, "Oct 14 09:23:24 ubuntu sysmon: <Event><System></System>") ==
          KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

/* The document read by evtxml.c's tokenizer: what stays Linux-specific. */
KZ_TEST(linux_sysmon_defaults_and_errors) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_event *ev = &d.event;
    /* no <Channel>, no <Computer>, no <Provider>: the channel defaults, the syslog host and
     * program are not the event's */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Oct 14 09:23:24 ubuntu sysmon: <Event><System><EventID>3</EventID></System>"
                   "<EventData><Data Name=\"Image\">/usr/bin/curl</Data><Data Name=\"Dest"
                   "inationPort\">443</Data></EventData></Event>") == 0);
    CHECK_INT(ev->event_id, 3);
    CHECK_STR(ev->channel, "Linux-Sysmon/Operational");
    CHECK(ev->provider == NULL);
    CHECK(ev->host == NULL);
    CHECK(field(ev, "hostname") == NULL);
    CHECK_STR(field(ev, "Image"), "/usr/bin/curl");
    CHECK_STR(field(ev, "DestinationPort"), "443");
    /* a document that names its channel keeps it */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Oct 14 09:23:24 ubuntu sysmon: <Event><System><EventID>1</EventID><Channel>"
                   "Other/Log</Channel></System></Event>") == 0);
    CHECK_STR(ev->channel, "Other/Log");
    /* bad lines, counted as before the merge: no EventID; malformed XML; a second root */
    CHECK(decode(&d, KZ_FMT_SYSLOG,
                 "Oct 14 09:23:24 ubuntu sysmon: <Event><System><Level>4</Level></System>"
                 "</Event>") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_SYSLOG,
                 "Oct 14 09:23:24 ubuntu sysmon: <Event><System><EventID>1</EventID></Sys>"
                 "</Event>") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_SYSLOG,
                 "Oct 14 09:23:24 ubuntu sysmon: <Event><System><EventID>1</EventID></System>"
                 "</Event><Event></Event>") == KZ_EFORMAT);
    /* nesting past the tokenizer's 64 levels is refused, not followed */
    char deep[2048];
    size_t k = (size_t)snprintf(deep, sizeof deep, "Oct 14 09:23:24 ubuntu sysmon: <Event>");
    for (int i = 0; i < 70; i++)
        k += (size_t)snprintf(deep + k, sizeof deep - k, "<a>");
    CHECK(decode(&d, KZ_FMT_SYSLOG, deep) < 0);
    kz_text_decoder_free(&d);
}

KZ_TEST(linux_samba_full_audit) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_event *ev = &d.event;
    /* prefix %u|%I|%m|%S (user, address, machine, share) */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 10:02:12 fs02 smbd_audit: CORP\\kfujiwara|10.20.4.31|pc-031|projects|"
                   "openat|ok|w|Customer A/plan|v2.xlsx") == 0);
    CHECK_STR(ev->channel, "samba");
    CHECK_STR(ev->provider, "smbd_audit");
    CHECK_STR(field(ev, "user"), "CORP\\kfujiwara");
    CHECK_STR(field(ev, "client"), "10.20.4.31");
    CHECK_STR(field(ev, "machine"), "pc-031");
    CHECK_STR(field(ev, "share"), "projects");
    CHECK_STR(field(ev, "operation"), "openat");
    CHECK_STR(field(ev, "access"), "w");
    /* a '|' in a file name cannot be told from a separator: the path is the next part */
    CHECK_STR(field(ev, "path"), "Customer A/plan");
    CHECK_STR(ev->ent.share, "projects");
    CHECK_STR(ev->ent.file_path, "Customer A/plan");
    CHECK_STR(ev->ent.src_ip, "10.20.4.31");
    CHECK_INT(ev->ent.outcome, 1);
    /* default prefix %u|%I: no share */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG,
                   "Mar  3 10:02:14 fs02 smbd_audit: bob|10.0.0.5|unlinkat|fail (No such file or "
                   "directory)|x/y.txt") == 0);
    CHECK_STR(field(ev, "operation"), "unlinkat");
    CHECK(ev->ent.share == NULL);
    CHECK_STR(ev->ent.file_path, "x/y.txt");
    CHECK_INT(ev->ent.outcome, 0);
    /* not vfs_full_audit: an ordinary smbd line stays a syslog event */
    REQUIRE(decode(&d, KZ_FMT_SYSLOG, "Mar  3 10:02:14 fs02 smbd[12]: daemon started") == 0);
    CHECK_STR(ev->channel, "syslog");
    kz_text_decoder_free(&d);
}

/* ---- auditd: single records ---- */

/* The syscall name of a lone SYSCALL record with this arch and number (NULL: none given). */
static const char *syscall_name(struct kz_text_decoder *d, const char *arch, const char *nr) {
    char line[256];
    snprintf(line, sizeof line,
             "type=SYSCALL msg=audit(1700000000.000:7): arch=%s syscall=%s success=yes exit=0", arch,
             nr);
    if (decode(d, KZ_FMT_AUDITD, line) != 0) return "decode failed";
    return field(&d->event, "SYSCALL");
}

KZ_TEST(linux_auditd_syscall_tables) {
    /* Expected names from the kernel's numbering, not from kizuki's tables:
     * include/uapi/asm-generic/unistd.h (arm64) and arch/x86/entry/syscalls/syscall_32.tbl. */
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    static const struct {
        const char *arch, *nr, *name;
    } want[] = {
        {"c00000b7", "221", "execve"},     {"c00000b7", "56", "openat"},
        {"c00000b7", "203", "connect"},    {"c00000b7", "79", "newfstatat"},
        {"c00000b7", "33", "mknodat"},     {"c00000b7", "281", "execveat"},
        {"c00000b7", "38", "renameat"},    {"c00000b7", "435", "clone3"},
        {"40000003", "11", "execve"},      {"40000003", "5", "open"},
        {"40000003", "14", "mknod"},       {"40000003", "102", "socketcall"},
        {"40000003", "362", "connect"},    {"40000003", "295", "openat"},
        {"40000003", "1", "exit"},         {"c000003e", "59", "execve"},
        {"c000003e", "133", "mknod"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const char *got = syscall_name(&d, want[i].arch, want[i].nr);
        CHECK_MSG(got && !strcmp(got, want[i].name), "arch %s syscall %s: got %s, want %s",
              want[i].arch, want[i].nr, got ? got : "(none)", want[i].name);
    }
    /* numbers no table names, and an arch without a table: no SYSCALL field invented */
    CHECK(syscall_name(&d, "c00000b7", "244") == NULL); /* arm64: arch-specific range, unused */
    CHECK(syscall_name(&d, "c00000b7", "99999") == NULL);
    CHECK(syscall_name(&d, "40000003", "222") == NULL); /* i386: unused slot */
    CHECK(syscall_name(&d, "c0000015", "11") == NULL);  /* ppc64: no table */
    kz_text_decoder_free(&d);
}

KZ_TEST(linux_auditd_record) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    struct kz_event *ev = &d.event;
    /* exe in hex: "/usr/bin/python2.7;58d1ccfb (deleted)" */
    REQUIRE(
        decode(&d, KZ_FMT_AUDITD,
               "type=SYSCALL msg=audit(1492037289.295:58): arch=c000003e syscall=42 success=no "
               "exit=-115 a0=6 a1=7ffed2893080 comm=\"google_accounts\" exe=2F7573722F62696E2F70"
               "7974686F6E322E373B3538643163636662202864656C6574656429 key=(null)") == 0);
    CHECK_STR(ts_text(ev->ts, 3, t), "2017-04-12T22:48:09.295Z");
    CHECK_STR(ev->channel, "auditd");
    CHECK_STR(field(ev, "type"), "SYSCALL");
    CHECK_STR(field(ev, "exe"), "/usr/bin/python2.7;58d1ccfb (deleted)");
    CHECK_STR(field(ev, "a1"), "7ffed2893080"); /* syscall arguments are numbers: kept */
    CHECK_STR(field(ev, "exit"), "-115");
    CHECK_STR(field(ev, "SYSCALL"), "connect"); /* x86_64 syscall 42 */
    CHECK_STR(field(ev, "key"), "(null)");
    CHECK_INT(ev->ent.outcome, 0);
    CHECK_STR(ev->ent.process, "/usr/bin/python2.7;58d1ccfb (deleted)");
    /* node= prefix, a user-space record with its own pairs in msg='...' */
    REQUIRE(decode(&d, KZ_FMT_AUDITD,
                   "node=db01 type=USER_LOGIN msg=audit(1493046015.752:42120): pid=18981 uid=0 "
                   "auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd"
                   "\" hostname=? addr=46.160.144.250 terminal=ssh res=failed'") == 0);
    CHECK_STR(ev->host, "db01");
    CHECK_STR(field(ev, "node"), "db01");
    CHECK_STR(field(ev, "type"), "USER_LOGIN");
    CHECK_STR(field(ev, "op"), "login");
    CHECK(field(ev, "msg") == NULL);
    CHECK_STR(ev->ent.user, "root");
    CHECK_STR(ev->ent.src_ip, "46.160.144.250");
    CHECK_INT(ev->ent.outcome, 0);
    /* EXECVE: a hex argument (it holds a space); enriched part after 0x1D */
    REQUIRE(decode(&d, KZ_FMT_AUDITD,
                   "type=EXECVE msg=audit(1.5:7): argc=2 a0=\"ls\" a1=2F746D702F6120622E747874"
                   "\x1d"
                   "ARCH=x86_64 SYSCALL=execve AUID=\"alice\"") == 0);
    CHECK_STR(field(ev, "a0"), "ls");
    CHECK_STR(field(ev, "a1"), "/tmp/a b.txt");
    CHECK_STR(field(ev, "SYSCALL"), "execve");
    CHECK_STR(field(ev, "AUID"), "alice");
    CHECK_STR(ev->ent.user, "alice");
    CHECK_STR(ev->ent.command_line, "ls /tmp/a b.txt");
    CHECK_STR(ts_text(ev->ts, 3, t), "1970-01-01T00:00:01.005Z");
    /* PROCTITLE: arguments separated by NUL */
    REQUIRE(decode(&d, KZ_FMT_AUDITD,
                   "type=PROCTITLE msg=audit(1.0:8): proctitle=2F62696E2F7368002D630069640000") ==
            0);
    CHECK_STR(field(ev, "proctitle"), "/bin/sh -c id");
    CHECK(decode(&d, KZ_FMT_AUDITD, "type=SYSCALL msg=audit(1x.0:8): a=b") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_AUDITD, "msg=audit(1.0:8): a=b") == KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

/* ---- auditd: assembly ---- */

struct asm_run {
    struct kz_auditd_asm *a;
    struct kz_text_decoder d;
    uint64_t line;
    unsigned events;
    uint64_t record_ids[64];
    unsigned records[64]; /* `type` fields per event */
};

static unsigned count_types(const struct kz_event *ev) {
    unsigned n = 0;
    while (field_nth(ev, "type", n))
        n++;
    return n;
}

static void take(struct asm_run *r, int final) {
    while (kz_auditd_asm_next(r->a, &r->d, 0, final) == 0) {
        if (r->events < 64) {
            r->record_ids[r->events] = r->d.event.record_id;
            r->records[r->events] = count_types(&r->d.event);
        }
        r->events++;
    }
}

static void feed(struct asm_run *r, const char *line) {
    const char *why;
    kz_auditd_asm_add(r->a, line, strlen(line), ++r->line, &why);
    take(r, 0);
}

KZ_TEST(linux_auditd_assembly) {
    struct asm_run r = {0};
    REQUIRE((r.a = kz_auditd_asm_new()) != NULL);
    REQUIRE(kz_text_decoder_init(&r.d) == 0);
    /* two events interleaved; the first ends with EOE, the second at the end of the input */
    feed(&r, "type=SYSCALL msg=audit(10.000:1): syscall=59 success=yes exe=\"/bin/ls\"");
    feed(&r, "type=SYSCALL msg=audit(10.001:2): syscall=2 success=no exe=\"/bin/cat\"");
    feed(&r, "type=EXECVE msg=audit(10.000:1): argc=1 a0=\"ls\"");
    feed(&r, "type=PATH msg=audit(10.001:2): item=0 name=\"/etc/shadow\"");
    CHECK_INT(r.events, 0);
    feed(&r, "type=EOE msg=audit(10.000:1): ");
    CHECK_INT(r.events, 1);
    CHECK_INT(r.record_ids[0], 1);
    CHECK_INT(r.records[0], 2);
    /* a user-space record is complete at once */
    feed(&r, "type=USER_START msg=audit(11.000:3): pid=1 msg='op=PAM:session_open acct=\"bob\" "
             "res=success'");
    CHECK_INT(r.events, 2);
    CHECK_INT(r.record_ids[1], 6);
    take(&r, 1);
    CHECK_INT(r.events, 3);
    CHECK_INT(r.record_ids[2], 2);
    CHECK_INT(r.records[2], 2);
    /* the table is bounded: KZ_AUDITD_OPEN events open, the next one pushes out the oldest */
    kz_auditd_asm_reset(r.a);
    r.events = 0;
    char line[128];
    for (int i = 0; i < KZ_AUDITD_OPEN; i++) {
        snprintf(line, sizeof line, "type=SYSCALL msg=audit(20.000:%d): syscall=0", 100 + i);
        feed(&r, line);
    }
    CHECK_INT(r.events, 0);
    feed(&r, "type=SYSCALL msg=audit(20.000:999): syscall=0");
    CHECK_INT(r.events, 1);
    /* and an event waits KZ_AUDITD_WAIT_LINES lines at most */
    kz_auditd_asm_reset(r.a);
    r.events = 0;
    feed(&r, "type=SYSCALL msg=audit(30.000:1): syscall=0");
    uint64_t opened = r.line;
    for (int i = 0; i < KZ_AUDITD_WAIT_LINES + 1; i++)
        feed(&r, "type=USER_END msg=audit(30.000:2): pid=1");
    CHECK_INT(r.events, KZ_AUDITD_WAIT_LINES + 2);
    CHECK(r.line - opened == KZ_AUDITD_WAIT_LINES + 1);
    kz_auditd_asm_free(r.a);
    kz_text_decoder_free(&r.d);
}

/* ---- go-libaudit's goldens ---- */

static char *auditd_dir(const char *sub) {
    static char path[4096];
    const char *root = kz_test_shared();
    if (!root) return NULL;
    snprintf(path, sizeof path, "%s/auditd/%s", root, sub);
    if (access(path, R_OK)) return NULL;
    return path;
}

static const struct kz_json_node *jget(const struct kz_json_node *o, const char *k) {
    return kz_json_get(o, k);
}

static int jstr_is(const struct kz_json_node *n, const char *s) {
    return n && s && kz_json_str_eq(n, s);
}

/* Each record of every auparse/testdata/X.log against X.log.golden: time, and the data values
 * the golden keeps as written (interpreted ones -- arch, syscall, auid "unset" -- are skipped). */
KZ_TEST(linux_auditd_auparse_goldens) {
    char *dir = auditd_dir("auparse/testdata");
    if (!dir) {
        kz_test_skip("../shared/data/auditd/auparse/testdata not present");
        return;
    }
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    DIR *dd = opendir(dirpath);
    REQUIRE(dd);
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_arena arena;
    kz_arena_init(&arena, 1 << 20, (size_t)256 << 20);
    static const char *const raw_keys[] = {"exe",  "comm", "name", "cwd",  "cmd",     "pid",
                                           "ppid", "a0",   "a1",   "a2",   "a3",      "inode",
                                           "dev",  "mode", "item", "acct", "terminal"};
    unsigned files = 0, records = 0, values = 0;
    struct dirent *de;
    while ((de = readdir(dd))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".log")) continue;
        char p[4096 + 300];
        snprintf(p, sizeof p, "%s/%s", dirpath, de->d_name);
        size_t n, gn;
        char *log = (char *)kz_test_read_file(p, &n);
        snprintf(p, sizeof p, "%s/%s.golden", dirpath, de->d_name);
        char *gold = (char *)kz_test_read_file(p, &gn);
        if (!log || !gold) {
            kz_free(log);
            kz_free(gold);
            continue;
        }
        files++;
        kz_arena_reset(&arena);
        struct kz_json_doc doc;
        struct kz_json_limits lim = {.max_input = 64 << 20, .max_depth = 16, .max_nodes = 1 << 22};
        REQUIRE(kz_json_parse(gold, gn, &arena, &lim, &doc, NULL) == 0);
        /* golden entries are matched to log lines by their raw_msg (the line after `type=T msg=`)
         */
        const struct kz_json_node *g = kz_json_first(kz_json_root(&doc));
        for (uint32_t gi = 0; g && gi < kz_json_root(&doc)->len; gi++, g = kz_json_next(g)) {
            if (g->type != KZ_JSON_OBJECT) continue; /* null: a record upstream could not parse */
            const char *raw = kz_json_strdup(&arena, jget(g, "raw_msg"));
            char *at = raw ? strstr(log, raw) : NULL;
            CHECK_MSG(at != NULL, "%s: raw_msg not found in the log", de->d_name);
            if (!at) continue;
            char *line = at;
            while (line > log && line[-1] != '\n')
                line--;
            char *e = memchr(at, '\n', (size_t)(log + n - at));
            size_t len = e ? (size_t)(e - line) : (size_t)(log + n - line);
            int rc = kz_text_decode_line(&d, KZ_FMT_AUDITD, line, len, 1, 0);
            CHECK_MSG(rc == 0, "%s: record not decoded", de->d_name);
            if (rc) continue;
            records++;
            const struct kz_json_node *ts = jget(g, "@timestamp");
            kz_time want = 0;
            const char *tss = ts ? kz_json_strdup(&arena, ts) : NULL;
            CHECK_MSG(tss && !kz_time_parse(tss, strlen(tss), &want) && want == d.event.ts,
                      "%s: time %s", de->d_name, tss ? tss : "?");
            const struct kz_json_node *data = jget(g, "data");
            for (size_t k = 0; k < sizeof raw_keys / sizeof *raw_keys; k++) {
                const struct kz_json_node *v = jget(data, raw_keys[k]);
                if (!v) continue;
                const char *got = field(&d.event, raw_keys[k]);
                values++;
                CHECK_MSG(jstr_is(v, got), "%s: %s = %s", de->d_name, raw_keys[k],
                          got ? got : "(missing)");
            }
        }
        kz_free(log);
        kz_free(gold);
    }
    closedir(dd);
    CHECK(files >= 7);
    CHECK(records >= 80);
    CHECK_MSG(values >= 250, "%u records, %u values", records, values);
    kz_arena_free(&arena);
    kz_text_decoder_free(&d);
}

/* Each test of aucoalesce/testdata/X.yaml (the records of one event) assembles into exactly one
 * event whose time, process (exe) and pid are those of the test's entry in X.json.golden. */
KZ_TEST(linux_auditd_aucoalesce_goldens) {
    char *dir = auditd_dir("aucoalesce/testdata");
    if (!dir) {
        kz_test_skip("../shared/data/auditd/aucoalesce/testdata not present");
        return;
    }
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    DIR *dd = opendir(dirpath);
    REQUIRE(dd);
    struct asm_run r = {0};
    REQUIRE((r.a = kz_auditd_asm_new()) != NULL);
    REQUIRE(kz_text_decoder_init(&r.d) == 0);
    struct kz_arena arena;
    kz_arena_init(&arena, 1 << 20, (size_t)256 << 20);
    unsigned tests = 0, exes = 0;
    struct dirent *de;
    while ((de = readdir(dd))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 5, ".yaml")) continue;
        char p[4096 + 300];
        snprintf(p, sizeof p, "%s/%s", dirpath, de->d_name);
        size_t n, gn;
        char *yaml = (char *)kz_test_read_file(p, &n);
        snprintf(p, sizeof p, "%s/%.*s.json.golden", dirpath, (int)(nl - 5), de->d_name);
        char *gold = (char *)kz_test_read_file(p, &gn);
        if (!yaml || !gold) {
            kz_free(yaml);
            kz_free(gold);
            continue;
        }
        kz_arena_reset(&arena);
        struct kz_json_doc doc;
        struct kz_json_limits lim = {.max_input = 64 << 20, .max_depth = 16, .max_nodes = 1 << 22};
        REQUIRE(kz_json_parse(gold, gn, &arena, &lim, &doc, NULL) == 0);
        /* The YAML is a map `tests:` of NAME: |-blocks indented four spaces (one record a line). */
        char *line = yaml, *end = yaml + n;
        char name[256] = "";
        int in_test = 0;
        for (;;) {
            char *e = line < end ? memchr(line, '\n', (size_t)(end - line)) : NULL;
            size_t len = line < end ? (e ? (size_t)(e - line) : (size_t)(end - line)) : 0;
            int record = len > 4 && !memcmp(line, "    ", 4);
            int test_start = len > 2 && !memcmp(line, "  ", 2) && line[2] != ' ' && line[2] != '#';
            if ((test_start || line >= end) && in_test) {
                /* the previous test ends: it must be one event */
                r.events = 0;
                take(&r, 1);
                tests++;
                CHECK_MSG(r.events == 1, "%s / %s: %u events", de->d_name, name, r.events);
                const struct kz_json_node *g = kz_json_first(kz_json_root(&doc));
                uint32_t gi = 0, gn_entries = kz_json_root(&doc)->len;
                while (g && gi < gn_entries && !jstr_is(jget(g, "test_name"), name))
                    g = kz_json_next(g), gi++;
                if (gi == gn_entries) g = NULL;
                CHECK_MSG(g != NULL, "%s / %s: not in the golden file", de->d_name, name);
                /* (the event is still in r.d: take() left the last one there) */
                const struct kz_json_node *ge = g ? jget(g, "event") : NULL;
                const struct kz_json_node *ts = jget(ge, "@timestamp");
                const char *tss = ts ? kz_json_strdup(&arena, ts) : NULL;
                kz_time want = 0;
                CHECK_MSG(tss && !kz_time_parse(tss, strlen(tss), &want) && want == r.d.event.ts,
                          "%s / %s: time %s", de->d_name, name, tss ? tss : "?");
                const struct kz_json_node *proc = jget(ge, "process");
                const struct kz_json_node *exe = jget(proc, "exe");
                if (exe) {
                    exes++;
                    CHECK_MSG(jstr_is(exe, r.d.event.ent.process), "%s / %s: exe %s", de->d_name,
                              name, r.d.event.ent.process ? r.d.event.ent.process : "(none)");
                }
                const struct kz_json_node *pid = jget(proc, "pid");
                if (pid)
                    CHECK_MSG(jstr_is(pid, field(&r.d.event, "pid")), "%s / %s: pid", de->d_name,
                              name);
                in_test = 0;
            }
            if (line >= end) break;
            if (test_start) {
                char *colon = memchr(line + 2, ':', len - 2);
                size_t k = colon ? (size_t)(colon - line - 2) : 0;
                if (k >= sizeof name) k = sizeof name - 1;
                memcpy(name, line + 2, k);
                name[k] = 0;
                in_test = 1;
                kz_auditd_asm_reset(r.a);
                r.line = 0;
            } else if (record && in_test) {
                const char *why;
                kz_auditd_asm_add(r.a, line + 4, len - 4, ++r.line, &why);
            }
            line = e ? e + 1 : end;
        }
        kz_free(yaml);
        kz_free(gold);
    }
    closedir(dd);
    CHECK(tests >= 48);
    CHECK(exes >= 20);
    kz_arena_free(&arena);
    kz_auditd_asm_free(r.a);
    kz_text_decoder_free(&r.d);
}

/* ---- sniffing: each format by content, in the registry's order ---- */

KZ_TEST(linux_sniff_formats) {
    struct {
        const char *text;
        uint8_t want;
    } cases[] = {
        {"Mar  3 09:14:02 web01 sshd[2211]: Accepted password for a from 1.2.3.4 port 1 ssh2\n",
         KZ_FMT_SYSLOG},
        {"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - hi\n", KZ_FMT_SYSLOG},
        {"2024-01-15T10:23:45.123456+00:00 host sudo: alice : TTY=pts/0 ; USER=root\n",
         KZ_FMT_SYSLOG},
        {"type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2\n", KZ_FMT_AUDITD},
        {"node=h1 type=EOE msg=audit(1364481363.243:24287): \n", KZ_FMT_AUDITD},
        /* FortiGate lines behind a syslog header stay FortiGate's */
        {"<189>Mar  2 07:52:29 VPNGW01 date=2026-03-02 time=07:52:29 devname=\"VPNGW01\" "
         "logid=\"0101039947\" type=\"event\"\n",
         KZ_FMT_FORTIGATE},
        {"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\n",
         KZ_FMT_ACCESSLOG},
        {"{\"EventID\": 4624}\n", KZ_FMT_JSONL},
        /* a time and host but no program tag: too little to call it syslog */
        {"Mar  3 09:14:02 web01 hello\n", KZ_FMT_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_MSG(kz_text_sniff(cases[i].text, strlen(cases[i].text)) == cases[i].want,
                  "case %zu: %d", i, kz_text_sniff(cases[i].text, strlen(cases[i].text)));
}
