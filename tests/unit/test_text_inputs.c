/* test_text_inputs.c - unit tests of the text readers: src/input/text_reader.c (blocks, order,
 * limits, gzip), accesslog.c, fortigate.c and jsonl.c.
 *
 * Expected values are written by hand from the formats' documentation: the NCSA common/combined
 * layout (Apache httpd's mod_log_config documentation, whose example line is used), FortiOS's
 * key=value event log (the simulator's lines, docs/simulate.md), Winlogbeat's documented field
 * names, and times worked out by hand in the comments. The ECS fixture test reads
 * ../shared/data/ecs and compares with values read off the file by eye (quoted in the test). */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/pool.h"
#include "core/timeutil.h"
#include "input/sources.h"
#include "input/text_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char *field(const struct kz_event *ev, const char *name) {
    const struct kz_field *f = kz_event_field(ev, kz_intern(name, strlen(name)));
    return f ? f->val : NULL;
}

static int field_kind(const struct kz_event *ev, const char *name) {
    const struct kz_field *f = kz_event_field(ev, kz_intern(name, strlen(name)));
    return f ? f->kind : -1;
}

static const char *ts_text(kz_time t, char *buf) {
    kz_time_format(t, 0, buf);
    return buf;
}

static int decode(struct kz_text_decoder *d, uint8_t fmt, const char *line) {
    return kz_text_decode_line(d, fmt, line, strlen(line), 7, 3);
}

/* ---- access logs ---- */

KZ_TEST(text_accesslog_combined) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    /* Apache's documented combined example; -0700 means 13:55:36 local is 20:55:36 UTC. */
    REQUIRE(decode(&d, KZ_FMT_ACCESSLOG,
                   "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif?a=1&b=%2e "
                   "HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 "
                   "[en] (Win98; I ;Nav)\"\r") == 0);
    struct kz_event *ev = &d.event;
    CHECK_STR(ts_text(ev->ts, t), "2000-10-10T20:55:36Z");
    CHECK_STR(ev->channel, "webserver");
    CHECK_STR(ev->provider, "combined");
    CHECK_INT(ev->record_id, 7);
    CHECK_INT(ev->file_id, 3);
    CHECK_INT(ev->format, KZ_FMT_ACCESSLOG);
    CHECK_STR(field(ev, "c-ip"), "127.0.0.1");
    CHECK_STR(field(ev, "cs-username"), "frank");
    CHECK_STR(field(ev, "cs-method"), "GET");
    CHECK_STR(field(ev, "cs-uri-stem"), "/apache_pb.gif");
    CHECK_STR(field(ev, "cs-uri-query"), "a=1&b=%2e");
    CHECK_STR(field(ev, "cs-version"), "HTTP/1.0");
    CHECK_STR(field(ev, "sc-status"), "200");
    CHECK_INT(field_kind(ev, "sc-status"), KZ_VK_INT);
    CHECK_STR(field(ev, "sc-bytes"), "2326");
    CHECK_STR(field(ev, "cs-referer"), "http://www.example.com/start.html");
    CHECK_STR(field(ev, "cs-user-agent"), "Mozilla/4.08 [en] (Win98; I ;Nav)");
    CHECK_STR(ev->ent.src_ip, "127.0.0.1");
    CHECK_STR(ev->ent.user, "frank");
    CHECK_INT(ev->ent.bytes, 2326);
    CHECK_INT(ev->ent.outcome, 1);
    CHECK_INT(ev->nfields, 10);
    kz_text_decoder_free(&d);
}

KZ_TEST(text_accesslog_common_and_odd) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    /* Tomcat common: no referer/agent; bytes "-"; +0900 -> 02:10:04 JST is 17:10:04 UTC the day
     * before. */
    REQUIRE(decode(&d, KZ_FMT_ACCESSLOG,
                   "10.250.0.10 - svc [02/Mar/2026:02:10:04 +0900] \"POST /./RestAPI/Connection "
                   "HTTP/1.1\" 401 -") == 0);
    CHECK_STR(ts_text(d.event.ts, t), "2026-03-01T17:10:04Z");
    CHECK_STR(d.event.provider, "common");
    CHECK_STR(field(&d.event, "cs-uri-stem"), "/./RestAPI/Connection");
    CHECK(field(&d.event, "cs-uri-query") == NULL);
    CHECK(field(&d.event, "sc-bytes") == NULL);
    CHECK_INT(d.event.ent.bytes, -1);
    CHECK_INT(d.event.ent.outcome, 0);
    /* A TLS handshake sent to a plain-HTTP port: the request is kept whole. */
    REQUIRE(decode(&d, KZ_FMT_ACCESSLOG,
                   "198.51.100.4 - - [02/Mar/2026:02:10:04 +0000] \"\\x16\\x03\\x01\" 400 157 "
                   "\"-\" \"-\"") == 0);
    CHECK_STR(field(&d.event, "cs-request"), "\\x16\\x03\\x01");
    CHECK(field(&d.event, "cs-method") == NULL);
    CHECK(field(&d.event, "cs-referer") == NULL); /* "-" means none */
    /* An escaped quote inside the request (Apache writes \"). */
    REQUIRE(
        decode(&d, KZ_FMT_ACCESSLOG,
               "198.51.100.4 - - [02/Mar/2026:02:10:04 +0000] \"GET /a\\\"b HTTP/1.1\" 404 1") ==
        0);
    CHECK_STR(field(&d.event, "cs-uri-stem"), "/a\\\"b");
    /* Not access log lines. */
    const char *bad[] = {
        "127.0.0.1 - - [10/Foo/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1",
        "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 20 1",
        "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0 200 1",
        "127.0.0.1 - - 10/Oct/2000:13:55:36 -0700 \"GET / HTTP/1.0\" 200 1",
        "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 12x",
        "{\"a\":1}",
        "127.0.0.1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(decode(&d, KZ_FMT_ACCESSLOG, bad[i]) == KZ_EFORMAT && d.why, "accepted: %s",
                  bad[i]);
    CHECK_INT(decode(&d, KZ_FMT_ACCESSLOG, "   \r"), 1); /* blank */
    char nul[] = "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\0 HTTP/1.0\" 200 1";
    CHECK(kz_text_decode_line(&d, KZ_FMT_ACCESSLOG, nul, sizeof nul - 1, 1, 0) == KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

/* ---- FortiGate ---- */

KZ_TEST(text_fortigate_vpn) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    /* eventtime 1772618220000000000 ns = 1772618220 s = 2026-03-04T09:57:00Z (= 18:57 +0900). */
    const char *down =
        "date=2026-03-04 time=18:57:00 devname=\"VPNGW01\" devid=\"FG100FTK22004242\" "
        "eventtime=1772618220000000000 tz=\"+0900\" logid=\"0101039948\" type=\"event\" "
        "subtype=\"vpn\" level=\"information\" vd=\"root\" logdesc=\"SSL VPN tunnel down\" "
        "action=\"tunnel-down\" tunneltype=\"ssl-tunnel\" tunnelid=798350 remip=203.0.113.250 "
        "tunnelip=10.212.134.57 user=\"mmaeda\" group=\"SSLVPN-Users\" dst_host=\"N/A\" "
        "reason=\"N/A\" duration=36524 sentbyte=9569426 rcvdbyte=66985984 msg=\"SSL tunnel "
        "shutdown\"";
    REQUIRE(decode(&d, KZ_FMT_FORTIGATE, down) == 0);
    struct kz_event *ev = &d.event;
    CHECK_STR(ts_text(ev->ts, t), "2026-03-04T09:57:00Z");
    CHECK_INT(ev->event_id, 39948);
    CHECK_STR(ev->channel, "fortigate");
    CHECK_STR(ev->host, "VPNGW01");
    CHECK_STR(ev->ent.user, "mmaeda");
    CHECK_STR(ev->ent.src_ip, "203.0.113.250");
    CHECK_INT(ev->ent.bytes, 9569426 + 66985984);
    CHECK_INT(ev->ent.outcome, 1);
    CHECK_STR(field(ev, "tunnelip"), "10.212.134.57");
    CHECK_STR(field(ev, "tunnelid"), "798350");
    CHECK_INT(field_kind(ev, "duration"), KZ_VK_INT);
    CHECK_STR(field(ev, "msg"), "SSL tunnel shutdown");
    CHECK_INT(ev->nfields, 25);
    /* With a syslog priority, no eventtime: date + time + tz (10:00:05 -0500 = 15:00:05Z). */
    REQUIRE(decode(&d, KZ_FMT_FORTIGATE,
                   "<189>date=2026-03-05 time=10:00:05 devname=\"FGT\" devid=\"FG1\" tz=\"-0500\" "
                   "logid=\"0101039426\" type=\"event\" subtype=\"vpn\" action=\"ssl-login-fail\" "
                   "remip=198.51.100.9 user=\"eve\" reason=\"sslvpn_login_unknown_user\"") == 0);
    CHECK_STR(ts_text(ev->ts, t), "2026-03-05T15:00:05Z");
    CHECK_INT(ev->event_id, 39426);
    CHECK_INT(ev->ent.outcome, 0);
    CHECK_STR(ev->ent.user, "eve");
    /* With a BSD syslog header in front. */
    REQUIRE(decode(&d, KZ_FMT_FORTIGATE,
                   "Mar  5 10:00:05 fw01 date=2026-03-05 time=10:00:05 logid=\"0101039947\" "
                   "type=\"event\" action=\"tunnel-up\" user=\"bob\"") == 0);
    CHECK_STR(ts_text(ev->ts, t), "2026-03-05T10:00:05Z");
    CHECK_STR(field(ev, "user"), "bob");
    CHECK(decode(&d, KZ_FMT_FORTIGATE, "date=2026-03-05 time=10:00:05 msg=\"open") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_FORTIGATE, "hello world") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_FORTIGATE, "a=1 b=2") == KZ_EFORMAT); /* no logid, no date */
    kz_text_decoder_free(&d);
}

/* ---- JSON lines ---- */

KZ_TEST(text_jsonl_winlogbeat8) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    /* Winlogbeat 8: event_id as a string, task/opcode as names, keywords as a list. */
    REQUIRE(
        decode(&d, KZ_FMT_JSONL,
               "{\"@timestamp\":\"2024-02-13T06:56:24.223Z\",\"event\":{\"code\":\"4624\"},"
               "\"host\":{\"name\":\"dc1.corp\"},\"winlog\":{\"channel\":\"Security\","
               "\"event_id\":\"4624\",\"provider_name\":\"Microsoft-Windows-Security-Auditing\","
               "\"computer_name\":\"DC1.corp.example\",\"record_id\":99,\"process\":{\"pid\":"
               "640,\"thread\":{\"id\":7}},\"task\":\"Logon\",\"opcode\":\"Info\","
               "\"keywords\":[\"Audit Success\"],\"event_data\":{\"TargetUserName\":\"alice\","
               "\"TargetDomainName\":\"CORP\",\"LogonType\":\"10\",\"IpAddress\":"
               "\"203.0.113.5\",\"WorkstationName\":\"DESKTOP-1\"}}}") == 0);
    struct kz_event *ev = &d.event;
    CHECK_STR(ts_text(ev->ts, t), "2024-02-13T06:56:24Z");
    CHECK_INT(ev->event_id, 4624);
    CHECK_STR(ev->channel, "Security");
    CHECK_STR(ev->provider, "Microsoft-Windows-Security-Auditing");
    CHECK_STR(ev->host, "DC1.corp.example"); /* winlog.computer_name wins over host.name */
    CHECK_STR(field(ev, "EventID"), "4624");
    CHECK_INT(field_kind(ev, "EventID"), KZ_VK_INT);
    CHECK_STR(field(ev, "EventRecordID"), "99");
    CHECK_STR(field(ev, "Execution_ProcessID"), "640");
    CHECK_STR(field(ev, "Execution_ThreadID"), "7");
    CHECK_STR(field(ev, "Task"), "Logon");
    CHECK_STR(field(ev, "Keywords"), "Audit Success");
    CHECK_STR(field(ev, "TimeCreated_SystemTime"), "2024-02-13T06:56:24.2230000Z");
    CHECK_STR(field(ev, "IpAddress"), "203.0.113.5");
    CHECK_STR(ev->ent.user, "alice");
    CHECK_STR(ev->ent.domain, "CORP");
    CHECK_INT(ev->ent.logon_type, 10);
    CHECK_STR(ev->ent.src_ip, "203.0.113.5");
    CHECK_STR(ev->ent.src_host, "DESKTOP-1");
    /* System fields come first, in the EVTX reader's order. */
    CHECK_STR(kz_intern_name(ev->fields[0].name), "Provider_Name");
    CHECK_STR(kz_intern_name(ev->fields[1].name), "EventID");
    CHECK_INT(ev->fields[0].section, KZ_SEC_SYSTEM);
    kz_text_decoder_free(&d);
}

/* \u0000 in a JSON value must not end the value early for C-text readers (a fuzz find: the value's
 * strlen differed from its length), and a key that is empty or holds NUL names no field. */
KZ_TEST(text_jsonl_nul_escapes) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    REQUIRE(decode(&d, KZ_FMT_JSONL,
                   "{\"Channel\":\"Security\",\"EventID\":1,\"CommandLine\":\"cmd\\u0000 /c x\","
                   "\"\":\"empty\",\"\\u0000k\":\"nul key\"}") == 0);
    const struct kz_event *ev = &d.event;
    /* U+FFFD is EF BF BD in UTF-8 */
    CHECK_STR(field(ev, "CommandLine"), "cmd\xEF\xBF\xBD /c x");
    for (uint32_t i = 0; i < ev->nfields; i++) {
        CHECK(kz_intern_name(ev->fields[i].name)[0] != 0);
        CHECK_INT(strlen(ev->fields[i].val), ev->fields[i].len);
    }
    kz_text_decoder_free(&d);
}

KZ_TEST(text_jsonl_other_layouts) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char t[KZ_TIME_TEXT_MAX];
    /* NXLog flat (the OTRF layout): EventData at the top level beside the System fields; the
     * shipper's Message is not an event field. */
    REQUIRE(decode(&d, KZ_FMT_JSONL,
                   "{\"SourceName\":\"Microsoft-Windows-Sysmon\",\"TimeCreated\":\"2020-10-21 "
                   "12:19:04.411\",\"Hostname\":\"WORKSTATION5\",\"Task\":\"1\",\"Channel\":"
                   "\"Microsoft-Windows-Sysmon/Operational\",\"Message\":\"Process Create\","
                   "\"Image\":\"C:\\\\Windows\\\\System32\\\\netsh.exe\",\"CommandLine\":\"netsh "
                   "advfirewall\",\"EventID\":1,\"RecordNumber\":5}") == 0);
    struct kz_event *ev = &d.event;
    CHECK_STR(ts_text(ev->ts, t), "2020-10-21T12:19:04Z");
    CHECK_INT(ev->event_id, 1);
    CHECK_STR(ev->channel, "Microsoft-Windows-Sysmon/Operational");
    CHECK_STR(ev->provider, "Microsoft-Windows-Sysmon");
    CHECK_STR(ev->host, "WORKSTATION5");
    CHECK_STR(field(ev, "Image"), "C:\\Windows\\System32\\netsh.exe");
    CHECK_STR(field(ev, "Computer"), "WORKSTATION5");
    CHECK_STR(field(ev, "EventRecordID"), "5");
    CHECK(field(ev, "Message") == NULL);
    CHECK_STR(ev->ent.process, "C:\\Windows\\System32\\netsh.exe");
    CHECK_INT(ev->fields[0].section, KZ_SEC_SYSTEM); /* System rotated to the front */
    CHECK_INT(ev->fields[ev->nfields - 1].section, KZ_SEC_EVENTDATA);
    /* Winlogbeat 6 */
    REQUIRE(decode(&d, KZ_FMT_JSONL,
                   "{\"@timestamp\":\"2019-05-18T20:19:22.000Z\",\"event_id\":4688,\"log_name\":"
                   "\"Security\",\"source_name\":\"Microsoft-Windows-Security-Auditing\","
                   "\"computer_name\":\"HR001\",\"record_number\":\"77\",\"event_data\":{"
                   "\"NewProcessName\":\"C:\\\\w\\\\cmd.exe\"}}") == 0);
    CHECK_INT(ev->event_id, 4688);
    CHECK_STR(ev->channel, "Security");
    CHECK_STR(ev->host, "HR001");
    CHECK_STR(field(ev, "EventRecordID"), "77");
    CHECK_INT(field_kind(ev, "EventRecordID"), KZ_VK_INT);
    CHECK_STR(ev->ent.process, "C:\\w\\cmd.exe");
    /* evtx_dump-style JSON with #attributes */
    REQUIRE(decode(&d, KZ_FMT_JSONL,
                   "{\"Event\":{\"System\":{\"Provider\":{\"#attributes\":{\"Name\":\"P\",\"Guid\":"
                   "\"{G}\"}},\"EventID\":{\"#text\":7045,\"#attributes\":{\"Qualifiers\":16384}},"
                   "\"Channel\":\"System\",\"Computer\":\"S1\",\"TimeCreated\":{\"#attributes\":{"
                   "\"SystemTime\":\"2024-01-15T10:30:00.000Z\"}}},\"EventData\":{\"ServiceName\":"
                   "\"x\",\"ImagePath\":\"C:\\\\t\\\\a.exe\"}}}") == 0);
    CHECK_INT(ev->event_id, 7045);
    CHECK_STR(ev->provider, "P");
    CHECK_STR(field(ev, "Provider_Guid"), "{G}");
    CHECK_STR(field(ev, "ImagePath"), "C:\\t\\a.exe");
    CHECK_STR(ts_text(ev->ts, t), "2024-01-15T10:30:00Z");
    /* Other JSON: kept whole, nested names joined with dots, no channel. */
    REQUIRE(decode(&d, KZ_FMT_JSONL, "{\"Computer\":\"lnx\",\"a\":{\"b\":[1,true]},\"c\":null}") ==
            0);
    CHECK(ev->channel == NULL);
    CHECK_INT(ev->event_id, 0);
    CHECK_STR(ev->host, "lnx");
    CHECK_STR(field(ev, "a.b"), "1");
    CHECK_INT(ev->nfields, 4); /* Computer (System), Computer, a.b, a.b */
    /* Bad lines */
    CHECK(decode(&d, KZ_FMT_JSONL, "{\"a\":1,}") == KZ_EFORMAT && d.why && strstr(d.why, "column"));
    CHECK(decode(&d, KZ_FMT_JSONL, "[1,2]") == KZ_EFORMAT);
    CHECK(decode(&d, KZ_FMT_JSONL, "{\"a\":\"\xff\"}") == KZ_EFORMAT); /* invalid UTF-8 */
    CHECK(decode(&d, KZ_FMT_JSONL, "{\"a\":1") == KZ_EFORMAT);         /* truncated */
    kz_text_decoder_free(&d);
}

/* The ECS fixture of ../shared/data/ecs: two Sysmon events of Winlogbeat 7.16. Values read off
 * the file: line 1 is event 11 record 633889 on s.domain.local, TargetFilename
 * C:\Windows\ServiceState\EventLog\Data\lastalive1.dat. */
KZ_TEST(text_jsonl_ecs_fixture) {
    const char *root = kz_test_shared();
    if (!root) return kz_test_skip("../shared/data absent");
    char path[512];
    snprintf(path, sizeof path, "%s/ecs/tests/fixtures/winlogbeat_sysmon_sample.json", root);
    size_t len;
    char *text = (char *)kz_test_read_file(path, &len);
    if (!text) return kz_test_skip("ecs fixture absent");
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    char *nl = memchr(text, '\n', len);
    REQUIRE(nl);
    REQUIRE(kz_text_decode_line(&d, KZ_FMT_JSONL, text, (size_t)(nl - text), 1, 0) == 0);
    struct kz_event *ev = &d.event;
    CHECK_INT(ev->event_id, 11);
    CHECK_STR(ev->channel, "Microsoft-Windows-Sysmon/Operational");
    CHECK_STR(ev->host, "s.domain.local");
    CHECK_STR(field(ev, "EventRecordID"), "633889");
    CHECK_STR(field(ev, "Provider_Guid"), "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}");
    CHECK_STR(field(ev, "Security_UserID"), "S-1-5-18");
    CHECK_STR(field(ev, "TargetFilename"),
              "C:\\Windows\\ServiceState\\EventLog\\Data\\lastalive1.dat");
    CHECK_STR(field(ev, "Image"), "C:\\Windows\\System32\\svchost.exe");
    CHECK_STR(ev->ent.file_path, "C:\\Windows\\ServiceState\\EventLog\\Data\\lastalive1.dat");
    /* every line of both fixtures parses */
    const char *names[] = {"winlogbeat_sysmon_sample.json", "sample_events.json"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/ecs/tests/fixtures/%s", root, names[k]);
        size_t n2;
        char *t2 = (char *)kz_test_read_file(path, &n2);
        if (!t2) continue;
        int lines = 0, ok = 0;
        for (char *p = t2, *end = t2 + n2; p < end;) {
            char *e = memchr(p, '\n', (size_t)(end - p));
            size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
            if (l) {
                lines++;
                ok += kz_text_decode_line(&d, KZ_FMT_JSONL, p, l, 1, 0) == 0 &&
                      d.event.event_id != 0 && d.event.channel;
            }
            p = e ? e + 1 : end;
        }
        CHECK_MSG(lines > 0 && ok == lines, "%s: %d of %d lines", names[k], ok, lines);
        kz_free(t2);
    }
    kz_text_decoder_free(&d);
    kz_free(text);
}

/* ---- sniffing ---- */

static size_t gzip_bytes(const char *in, size_t n, unsigned char *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? got : 0;
}

KZ_TEST(text_sniff) {
    const char *acc = "\n\n1.2.3.4 - - [02/Mar/2026:02:10:04 +0900] \"GET / HTTP/1.1\" 404 1\n";
    const char *fg = "date=2026-03-02 time=07:52:29 devname=\"V\" logid=\"0101039947\" x=1\n";
    const char *js = "\xEF\xBB\xBF{\"winlog\":{}}\n";
    CHECK_INT(kz_text_sniff(acc, strlen(acc)), KZ_FMT_ACCESSLOG);
    CHECK_INT(kz_text_sniff(fg, strlen(fg)), KZ_FMT_FORTIGATE);
    CHECK_INT(kz_text_sniff(js, strlen(js)), KZ_FMT_JSONL);
    CHECK_INT(kz_text_sniff("hello\n", 6), KZ_FMT_UNKNOWN);
    CHECK_INT(kz_text_sniff("{\0\"", 3), KZ_FMT_UNKNOWN);
    CHECK_INT(kz_text_sniff("", 0), KZ_FMT_UNKNOWN);
    /* cut inside the first line still tells */
    CHECK_INT(kz_text_sniff(acc, 50), KZ_FMT_ACCESSLOG);
    unsigned char gz[512];
    size_t n = gzip_bytes(fg, strlen(fg), gz, sizeof gz);
    REQUIRE(n > 0);
    CHECK_INT(kz_sources_sniff(gz, n), KZ_FMT_FORTIGATE);
    CHECK_STR(kz_sources_format_name(KZ_FMT_ACCESSLOG), "accesslog");
}

/* ---- the reader: blocks, order, limits, gzip ---- */

struct collect {
    struct kz_buf out;
    int reports;
    int gzip_reported;
};

static void c_emit(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                   uint32_t file_id, struct kz_buf *out) {
    kz_buf_printf(out, "%u:%llu:%s\n", file_id, (unsigned long long)ev->record_id,
                  kz_event_field(ev, kz_intern("cs-uri-stem", 11))->val);
}

static void c_write(void *ctx, const char *data, size_t len) {
    struct collect *c = ctx;
    kz_buf_append(&c->out, data, len);
}

static void c_report(void *ctx, const char *path, const char *msg) {
    struct collect *c = ctx;
    c->reports++;
    if (strstr(msg, "gzip")) c->gzip_reported = 1;
}

/* Builds a test file: 2000 access log lines with a few bad ones, an over-long line, CRLF ends and
 * no newline at the end; returns its text and (in want) the expected emit output. */
static char *build_log(size_t *len, struct kz_buf *want, uint32_t file_id, uint64_t *bad) {
    struct kz_buf b;
    kz_buf_init(&b, 64 << 20);
    *bad = 0;
    for (int i = 1; i <= 2000; i++) {
        if (i == 500) { /* over-long: 1.5 MiB */
            for (int k = 0; k < (3 << 19); k++)
                kz_buf_putc(&b, 'x');
            kz_buf_putc(&b, '\n');
            (*bad)++;
            continue;
        }
        if (i % 97 == 0) {
            kz_buf_puts(&b, "garbage line\n");
            (*bad)++;
            continue;
        }
        if (i % 101 == 0) {
            kz_buf_puts(&b, "\r\n"); /* blank */
            continue;
        }
        kz_buf_printf(&b,
                      "10.0.0.%d - - [02/Mar/2026:02:10:04 +0900] \"GET /p%d HTTP/1.1\" 200 %d%s",
                      i % 250, i, i, i == 2000 ? "" : (i % 2 ? "\r\n" : "\n"));
        kz_buf_printf(want, "%u:%d:/p%d\n", file_id, i, i);
    }
    *len = b.len;
    return b.data;
}

KZ_TEST(text_reader_order_limits_gzip) {
    size_t len;
    struct kz_buf want;
    kz_buf_init(&want, 16 << 20);
    uint64_t bad;
    char *text = build_log(&len, &want, 5, &bad);
    REQUIRE(text && !want.failed);
    char *plain = kz_test_temp_file("text", text, len);
    size_t gcap = len + 1024;
    unsigned char *gz = kz_malloc(gcap);
    size_t glen = gzip_bytes(text, len, gz, gcap);
    char *gzpath = glen ? kz_test_temp_file("text", gz, glen) : NULL;
    REQUIRE(plain && gzpath);
    struct kz_pool *pool = kz_pool_new(2);
    REQUIRE(pool);
    size_t blocks[] = {97, 4096, 0};
    for (int k = 0; k < 3; k++) {
        for (int g = 0; g < 2; g++) {
            struct collect c = {0};
            kz_buf_init(&c.out, 16 << 20);
            struct kz_text_reader_opts o = {.window = 3,
                                            .block = blocks[k],
                                            .emit = c_emit,
                                            .write = c_write,
                                            .report = c_report,
                                            .ctx = &c};
            struct kz_text_reader *r = kz_text_reader_new(pool, &o);
            REQUIRE(r);
            struct kz_err err = {0};
            CHECK(kz_text_reader_add_file(r, g ? gzpath : plain, KZ_FMT_ACCESSLOG, 5, &err) == 0);
            kz_text_reader_flush(r);
            const struct kz_text_stats *st = kz_text_reader_stats(r);
            CHECK_MSG(c.out.len == want.len && !memcmp(c.out.data, want.data, want.len),
                      "block %zu gz %d: output differs (%zu vs %zu bytes)", blocks[k], g, c.out.len,
                      want.len);
            CHECK_INT(st->lines, 2000);
            CHECK_INT(st->bad_lines, bad);
            CHECK_INT(st->blank, 2000 / 101 - 0); /* multiples of 101 that are not of 97 */
            CHECK_INT(st->events + st->bad_lines + st->blank, 2000);
            CHECK(c.reports == KZ_TEXT_MAX_REPORTS);
            kz_text_reader_free(r);
            kz_buf_free(&c.out);
        }
    }
    /* a gzip file cut short: what was read is delivered, the damage reported */
    char *cut = kz_test_temp_file("text", gz, glen / 2);
    struct collect c = {0};
    kz_buf_init(&c.out, 16 << 20);
    struct kz_text_reader_opts o = {
        .emit = c_emit, .write = c_write, .report = c_report, .ctx = &c};
    struct kz_text_reader *r = kz_text_reader_new(pool, &o);
    struct kz_err err = {0};
    CHECK(kz_text_reader_add_file(r, cut, KZ_FMT_ACCESSLOG, 5, &err) == 0);
    kz_text_reader_flush(r);
    CHECK(kz_text_reader_stats(r)->events > 0);
    CHECK(c.gzip_reported);
    CHECK(c.out.len < want.len && !memcmp(c.out.data, want.data, c.out.len - 1));
    kz_text_reader_free(r);
    kz_buf_free(&c.out);
    kz_pool_free(pool);
    unlink(plain), unlink(gzpath), unlink(cut);
    kz_free(plain), kz_free(gzpath), kz_free(cut);
    kz_free(gz);
    kz_free(text);
    kz_buf_free(&want);
}
