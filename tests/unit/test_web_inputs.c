/* test_web_inputs.c - unit tests of the web/proxy readers and Windows event XML: src/input/w3c.c,
 * squid.c, evtxml.c, and the sequential mode of text_reader.c they use.
 *
 * Expected values are written by hand: the W3C lines follow Microsoft's documented IIS example
 * (`#Fields: time c-ip cs-method cs-uri-stem sc-status cs-version` / `17:42:15 172.16.255.255 GET
 * /default.htm 200 HTTP/1.0`); the Squid line follows Squid's documented native format, and its
 * time is worked out in the comment; the XML values are the XML 1.0 entity rules applied by hand. */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/timeutil.h"
#include "input/evtxml.h"
#include "input/text_reader.h"

#include <stdio.h>
#include <string.h>

static const char *fld(const struct kz_event *ev, const char *name) {
    const struct kz_field *f = kz_event_field(ev, kz_intern(name, strlen(name)));
    return f ? f->val : NULL;
}

static int line(struct kz_text_decoder *d, uint8_t fmt, const char *s, uint64_t no) {
    return kz_text_decode_line(d, fmt, s, strlen(s), no, 1);
}

/* ---- IIS W3C ---- */

KZ_TEST(web_w3c_fields_directive) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_text_seq seq = {0};
    d.seq = &seq;
    CHECK_INT(line(&d, KZ_FMT_W3C, "17:42:15 172.16.255.255 GET /default.htm 200 HTTP/1.0", 1),
              KZ_EFORMAT); /* no #Fields yet */
    CHECK_INT(line(&d, KZ_FMT_W3C, "#Software: Microsoft Internet Information Services 6.0", 2), 1);
    CHECK_INT(line(&d, KZ_FMT_W3C, "#Fields: time c-ip cs-method cs-uri-stem sc-status cs-version",
                   3), 1);
    REQUIRE(line(&d, KZ_FMT_W3C, "17:42:15 172.16.255.255 GET /default.htm 200 HTTP/1.0", 4) == 0);
    CHECK_STR(fld(&d.event, "c-ip"), "172.16.255.255");
    CHECK_STR(fld(&d.event, "cs-method"), "GET");
    CHECK_STR(fld(&d.event, "cs-uri-stem"), "/default.htm");
    CHECK_STR(fld(&d.event, "sc-status"), "200");
    CHECK_STR(fld(&d.event, "cs-version"), "HTTP/1.0");
    CHECK_STR(d.event.channel, "webserver");
    CHECK_STR(d.event.ent.src_ip, "172.16.255.255");
    CHECK_INT(d.event.ent.outcome, 1);
    CHECK_INT(d.event.record_id, 4);
    CHECK_INT(d.event.ts, 0); /* no date column: no time */
    /* one value too many, one too few */
    CHECK_INT(line(&d, KZ_FMT_W3C, "17:42:15 172.16.255.255 GET /default.htm 200 HTTP/1.0 x", 5),
              KZ_EFORMAT);
    CHECK_INT(line(&d, KZ_FMT_W3C, "17:42:15 172.16.255.255 GET /default.htm 200", 6), KZ_EFORMAT);
    /* the layout changes mid-file; header columns take Sigma's names; '-' is no value */
    CHECK_INT(line(&d, KZ_FMT_W3C,
                   "#Fields: date time cs-username c-ip cs(User-Agent) cs(Referer) sc-status", 7),
              1);
    REQUIRE(line(&d, KZ_FMT_W3C, "2026-03-02 07:52:29 alice 10.0.0.9 curl/8.0 - 404", 8) == 0);
    CHECK_STR(fld(&d.event, "cs-user-agent"), "curl/8.0");
    CHECK(fld(&d.event, "cs-referer") == NULL);
    CHECK(fld(&d.event, "cs-method") == NULL);
    CHECK_STR(d.event.ent.user, "alice");
    CHECK_INT(d.event.ent.outcome, 0);
    char t[KZ_TIME_TEXT_MAX];
    kz_time_format(d.event.ts, 0, t);
    CHECK_STR(t, "2026-03-02T07:52:29Z");
    CHECK_INT(line(&d, KZ_FMT_W3C, "2026-13-02 07:52:29 alice 10.0.0.9 curl/8.0 - 404", 9),
              KZ_EFORMAT); /* month 13 */
    kz_text_seq_end(&seq);
    /* without the file's state a data line cannot be read */
    d.seq = NULL;
    CHECK_INT(line(&d, KZ_FMT_W3C, "2026-03-02 07:52:29 alice", 1), KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

/* ---- Squid ---- */

KZ_TEST(web_squid_native) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    const char *l = "1772437949.123    215 10.10.5.23 TCP_DENIED/403 3912 GET "
                    "http://u:p@[2001:db8::1]:8080/a/b.tar.gz?x=1 alice HIER_NONE/- text/html "
                    "\"Mozilla/5.0 (X11)\"";
    CHECK(kz_text_sniff(l, strlen(l)) == KZ_FMT_SQUID);
    REQUIRE(line(&d, KZ_FMT_SQUID, l, 1) == 0);
    /* 1772437949 s = 20514 days (2026-03-02: 56 years with 14 leap days = 20454 to 2026-01-01,
     * + 31 + 28 + 1) + 28349 s (07:52:29) */
    char t[KZ_TIME_TEXT_MAX];
    kz_time_format(d.event.ts, 3, t);
    CHECK_STR(t, "2026-03-02T07:52:29.123Z");
    CHECK_STR(fld(&d.event, "c-ip"), "10.10.5.23");
    CHECK_STR(fld(&d.event, "time-taken"), "215");
    CHECK_STR(fld(&d.event, "s-action"), "TCP_DENIED");
    CHECK_STR(fld(&d.event, "sc-status"), "403");
    CHECK_STR(fld(&d.event, "sc-bytes"), "3912");
    CHECK_STR(fld(&d.event, "cs-method"), "GET");
    CHECK_STR(fld(&d.event, "c-uri"), "http://u:p@[2001:db8::1]:8080/a/b.tar.gz?x=1");
    CHECK_STR(fld(&d.event, "cs-host"), "[2001:db8::1]");
    CHECK_STR(fld(&d.event, "c-uri-stem"), "/a/b.tar.gz");
    CHECK_STR(fld(&d.event, "c-uri-query"), "x=1");
    CHECK_STR(fld(&d.event, "c-uri-extension"), "gz");
    CHECK_STR(fld(&d.event, "cs-username"), "alice");
    CHECK_STR(fld(&d.event, "s-hierarchy"), "HIER_NONE");
    CHECK(fld(&d.event, "r-ip") == NULL);
    CHECK_STR(fld(&d.event, "rs-content-type"), "text/html");
    CHECK_STR(fld(&d.event, "c-useragent"), "Mozilla/5.0 (X11)");
    CHECK_STR(d.event.channel, "proxy");
    CHECK_INT(d.event.ent.outcome, 0);
    CHECK_INT(d.event.ent.bytes, 3912);
    /* CONNECT host:port: the host without the port, no path */
    REQUIRE(line(&d, KZ_FMT_SQUID,
                 "1772437950.456 87 10.10.5.23 TCP_TUNNEL/200 4096 CONNECT api.telegram.org:443 - "
                 "HIER_DIRECT/149.154.167.220 -",
                 2) == 0);
    CHECK_STR(fld(&d.event, "cs-host"), "api.telegram.org");
    CHECK_STR(fld(&d.event, "r-ip"), "149.154.167.220");
    CHECK(fld(&d.event, "c-uri-stem") == NULL);
    CHECK_INT(d.event.ent.outcome, 1);
    /* nine columns, a bad code */
    CHECK_INT(line(&d, KZ_FMT_SQUID, "1772437950.456 87 10.1.1.1 TCP_MISS/200 1 GET http://a/ - x", 3),
              KZ_EFORMAT);
    CHECK_INT(line(&d, KZ_FMT_SQUID,
                   "1772437950.456 87 10.1.1.1 TCP_MISS/2x0 1 GET http://a/ - HIER_NONE/- -", 4),
              KZ_EFORMAT);
    kz_text_decoder_free(&d);
}

/* ---- Windows event XML ---- */

KZ_TEST(web_evtxml_tokenizer) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    const char *x =
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='P' Guid='{0}'/><EventID Qualifiers='16384'>7045</EventID>"
        "<TimeCreated SystemTime='2026-03-02T07:52:29.123456789Z'/><Channel>System</Channel>"
        "<Computer>DC01</Computer></System><EventData><Data Name='ImagePath'>a&lt;b&gt;&amp;&quot;"
        "&apos;&#65;&#x42;&#x2192;&#0;&bogus;</Data><Data Name='Empty'/><Data>one</Data>"
        "<Data><![CDATA[<two>]]></Data><!-- c --><Binary>00FF</Binary></EventData>"
        "<UserData><X xmlns='urn:x' xmlns:a='urn:a'><Y k='v'>t</Y></X></UserData></Event>";
    REQUIRE(kz_evtxml_event(&d, x, strlen(x)) == 0);
    CHECK_INT(d.event.event_id, 7045);
    CHECK_STR(d.event.channel, "System");
    CHECK_STR(d.event.host, "DC01");
    CHECK_STR(d.event.provider, "P");
    CHECK_STR(fld(&d.event, "EventID_Qualifiers"), "16384");
    /* 9 fraction digits are written with 7, as the EVTX reader writes a FILETIME */
    CHECK_STR(fld(&d.event, "TimeCreated_SystemTime"), "2026-03-02T07:52:29.1234567Z");
    /* &#0; (no character) and an unknown entity stay as written; U+2192 is E2 86 92 */
    CHECK_STR(fld(&d.event, "ImagePath"), "a<b>&\"'AB\xE2\x86\x92&#0;&bogus;");
    CHECK_STR(fld(&d.event, "Empty"), "");
    CHECK_STR(fld(&d.event, "Data"), "one");
    CHECK_STR(fld(&d.event, "Binary"), "00FF");
    CHECK_STR(fld(&d.event, "Y_k"), "v");
    CHECK_STR(fld(&d.event, "Y"), "t");
    CHECK_STR(fld(&d.event, "X_xmlns:a"), "urn:a");
    CHECK(fld(&d.event, "X_xmlns") == NULL);
    /* the second unnamed Data follows the first */
    int datas = 0;
    for (uint32_t i = 0; i < d.event.nfields; i++)
        if (!strcmp(kz_intern_name(d.event.fields[i].name), "Data")) datas++;
    CHECK_INT(datas, 2);
    /* malformed documents */
    const char *bad[] = {
        "<Event><System></Event>",           "<Evt></Evt>",
        "<Event><System a=b/></Event>",      "<Event>",
        "<Event></Event><Event></Event>",    "x<Event></Event>",
        "<Event><System a='1></System></Event>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(kz_evtxml_event(&d, bad[i], strlen(bad[i])) < 0, "accepted %s", bad[i]);
    /* nesting past the limit */
    char deep[8192];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "<Event>");
    for (int i = 0; i < KZ_EVTXML_MAX_DEPTH + 1; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "<a>");
    CHECK_INT(kz_evtxml_event(&d, deep, n), KZ_ELIMIT);
    kz_text_decoder_free(&d);
}

KZ_TEST(web_evtxml_lines) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_text_seq seq = {0};
    d.seq = &seq;
    CHECK_INT(line(&d, KZ_FMT_EVTXML, "<?xml version='1.0'?>", 1), 1);
    /* an event over four lines, a blank one and a CR kept inside its value */
    CHECK_INT(line(&d, KZ_FMT_EVTXML, "<Event><System><EventID>1</EventID></System>", 2),
              KZ_TEXT_PENDING);
    CHECK_INT(line(&d, KZ_FMT_EVTXML, "<EventData><Data Name='A'>x\r", 3), KZ_TEXT_PENDING);
    CHECK_INT(line(&d, KZ_FMT_EVTXML, "", 4), KZ_TEXT_PENDING);
    REQUIRE(line(&d, KZ_FMT_EVTXML, "y</Data></EventData></Event>", 5) == 0);
    CHECK_INT(d.event.record_id, 2);
    CHECK_STR(fld(&d.event, "A"), "x\r\n\ny");
    CHECK_INT(seq.pending_line, 0);
    /* two events and the start of a third on one line */
    REQUIRE(line(&d, KZ_FMT_EVTXML,
                 "<Event><System><EventID>2</EventID></System></Event><Event><System><EventID>3"
                 "</EventID></System></Event> <Event><System>",
                 6) == 0);
    CHECK_INT(d.event.event_id, 2);
    CHECK(d.more);
    REQUIRE(line(&d, KZ_FMT_EVTXML, "", 6) == 0);
    CHECK_INT(d.event.event_id, 3);
    CHECK_INT(d.event.record_id, 6);
    CHECK(!d.more);
    CHECK_INT(seq.pending_line, 6);
    /* the file ends inside the third: the reader reports that line */
    CHECK_INT(kz_text_seq_end(&seq), 6);
    d.seq = &seq;
    CHECK_INT(line(&d, KZ_FMT_EVTXML, "not xml", 1), KZ_EFORMAT);
    kz_text_seq_end(&seq);
    kz_text_decoder_free(&d);
}

KZ_TEST(web_sniff) {
    const char *w3c = "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n";
    const char *xml = "<?xml version=\"1.0\"?><Events><Event xmlns='x'>";
    const char *banner = "evtxexport 20181227\n\n<Event xmlns=\"x\">\n";
    CHECK_INT(kz_text_sniff(w3c, strlen(w3c)), KZ_FMT_W3C);
    CHECK_INT(kz_text_sniff(xml, strlen(xml)), KZ_FMT_EVTXML);
    CHECK_INT(kz_text_sniff(banner, strlen(banner)), KZ_FMT_EVTXML);
    CHECK_INT(kz_text_sniff("<EventData>", 11), KZ_FMT_UNKNOWN);
    CHECK_STR(kz_event_format_name(KZ_FMT_W3C), "w3c");
    CHECK_STR(kz_event_format_name(KZ_FMT_SQUID), "squid");
    CHECK_STR(kz_event_format_name(KZ_FMT_EVTXML), "evtxml");
}

/* ---- Get-WinEvent | ConvertTo-Xml ---- */

/* A fixture of tests/fixtures/xml, from the repository root or the build directory. */
static char *fixture(const char *name, size_t *len) {
    const char *const roots[] = {"tests/fixtures/xml", "../tests/fixtures/xml",
                                 "../../tests/fixtures/xml", "/work/main/tests/fixtures/xml"};
    char path[512];
    char *text = NULL;
    for (size_t i = 0; i < sizeof roots / sizeof *roots && !text; i++) {
        snprintf(path, sizeof path, "%s/%s", roots[i], name);
        text = (char *)kz_test_read_file(path, len);
    }
    if (!text) {
        /* beside this source file, wherever the tests run from */
        const char *f = __FILE__, *slash = strrchr(f, '/');
        if (slash) {
            snprintf(path, sizeof path, "%.*s/../fixtures/xml/%s", (int)(slash - f), f, name);
            text = (char *)kz_test_read_file(path, len);
        }
    }
    return text;
}

/* Feeds text line by line as the reader does; calls check for each event (0-based). Returns the
 * number of events; *bad counts rejected records. */
static int psxml_feed(const char *text, size_t len, int *bad,
                      void (*check)(int i, const struct kz_event *ev)) {
    struct kz_text_decoder d;
    if (kz_text_decoder_init(&d)) return -1;
    struct kz_text_seq seq = {0};
    d.seq = &seq;
    int n = 0;
    *bad = 0;
    uint64_t no = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
        no++;
        d.more = 0;
        int rc = kz_text_decode_line(&d, KZ_FMT_EVTXML, p, k, no, 1);
        for (;;) {
            if (rc == 0) check(n++, &d.event);
            else if (rc < 0) (*bad)++;
            if (!d.more) break;
            d.more = 0;
            rc = kz_text_decode_line(&d, KZ_FMT_EVTXML, p, k, no, 1);
        }
        p = nl ? nl + 1 : end;
    }
    kz_text_seq_end(&seq);
    kz_text_decoder_free(&d);
    return n;
}

static void psxml_events_check(int i, const struct kz_event *ev) {
    char t[KZ_TIME_TEXT_MAX];
    if (i == 0) {
        /* Expected: the same logon as record 4 of chainsaw's security_sample.evtx (EventRecordID
         * 31794) as the EVTX reader gives it, less what ConvertTo-Xml loses (the time's fraction;
         * hex rendering of HexInt values: SubjectLogonId 0x3e7 is 999, ProcessId 0x29c is 668). */
        CHECK_INT(ev->event_id, 4624);
        CHECK_INT(ev->record_id, 4); /* the line the <Object> starts on */
        CHECK_STR(ev->channel, "Security");
        CHECK_STR(ev->host, "DESKTOP-JK4Q86I");
        CHECK_STR(ev->provider, "Microsoft-Windows-Security-Auditing");
        kz_time_format(ev->ts, 7, t);
        CHECK_STR(t, "2022-10-11T19:26:52.0000000Z"); /* 10/11/2022 7:26:52 PM */
        CHECK_STR(fld(ev, "Provider_Guid"), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
        CHECK_STR(fld(ev, "Version"), "2");
        CHECK_STR(fld(ev, "Task"), "12544");
        /* -9214364837600034816 + 2^64 = 9232379236109516800 = 0x8020000000000000 */
        CHECK_STR(fld(ev, "Keywords"), "0x8020000000000000");
        CHECK_STR(fld(ev, "EventRecordID"), "31794");
        CHECK_STR(fld(ev, "Correlation_ActivityID"), "{5965E1C0-DDA7-0003-D8E1-6559A7DDD801}");
        CHECK_STR(fld(ev, "Execution_ProcessID"), "688");
        CHECK_STR(fld(ev, "Execution_ThreadID"), "736");
        CHECK(fld(ev, "EventID_Qualifiers") == NULL); /* written empty */
        CHECK(fld(ev, "Security_UserID") == NULL);
        CHECK(fld(ev, "Message") == NULL);
        CHECK(fld(ev, "ContainerLog") == NULL);
        /* 27 values named by the 4624 version 2 template, in its order */
        CHECK_STR(fld(ev, "SubjectUserSid"), "S-1-5-18"); /* an expanded SecurityIdentifier */
        CHECK_STR(fld(ev, "SubjectUserName"), "DESKTOP-JK4Q86I$");
        CHECK_STR(fld(ev, "TargetUserName"), "SYSTEM");
        CHECK_STR(fld(ev, "LogonType"), "5");
        CHECK_STR(fld(ev, "LogonProcessName"), "Advapi  ");
        CHECK_STR(fld(ev, "LogonGuid"), "{00000000-0000-0000-0000-000000000000}");
        CHECK_STR(fld(ev, "ProcessName"), "C:\\Windows\\System32\\services.exe");
        CHECK_STR(fld(ev, "ElevatedToken"), "%%1842");
        CHECK(fld(ev, "Data1") == NULL);
        CHECK_INT(ev->ent.logon_type, 5);
        CHECK_STR(ev->ent.user, "SYSTEM");
        CHECK_STR(ev->ent.process, "C:\\Windows\\System32\\services.exe");
    } else if (i == 1) {
        /* the default -Depth: Properties hold type names, not values; UserId as its text */
        CHECK_INT(ev->event_id, 4688);
        kz_time_format(ev->ts, 0, t);
        CHECK_STR(t, "2022-10-11T00:05:00Z"); /* 12:05:00 AM is five past midnight */
        CHECK_STR(fld(ev, "Security_UserID"), "S-1-5-18");
        CHECK(fld(ev, "Data1") == NULL);
        CHECK(fld(ev, "NewProcessName") == NULL);
        CHECK(fld(ev, "Task") == NULL); /* not written: not guessed */
    } else if (i == 2) {
        /* psxml_oneline.xml: the first event of web/wevtutil_events.xml, as OuterXml writes it;
         * five values match no template of Sysmon 1 version 5, so they are numbered */
        CHECK_INT(ev->event_id, 1);
        CHECK_INT(ev->record_id, 1);
        CHECK_STR(ev->channel, "Microsoft-Windows-Sysmon/Operational");
        CHECK_STR(ev->host, "PWRESET01.corp.example");
        kz_time_format(ev->ts, 0, t);
        CHECK_STR(t, "2026-03-02T07:52:30Z"); /* de-DE: 02.03.2026 is the 2nd of March */
        CHECK_STR(fld(ev, "Provider_Guid"), "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}");
        CHECK_STR(fld(ev, "Keywords"), "0x8000000000000000"); /* Int64.MinValue */
        CHECK_STR(fld(ev, "Security_UserID"), "S-1-5-18");
        CHECK_STR(fld(ev, "Data2"), "C:\\Windows\\System32\\whoami.exe");
        CHECK_STR(fld(ev, "Data3"), "whoami /all && echo \"ok\"");
        CHECK(fld(ev, "Data6") == NULL);
    }
}

KZ_TEST(web_psxml_fixtures) {
    size_t len;
    char *text = fixture("psxml_events.xml", &len);
    REQUIRE(text);
    int bad = 0;
    CHECK_INT(psxml_feed(text, len, &bad, psxml_events_check), 2);
    CHECK_INT(bad, 1); /* the System.Diagnostics.Process object */
    CHECK_INT(kz_text_sniff(text, len), KZ_FMT_EVTXML);
    kz_free(text);
    text = fixture("psxml_oneline.xml", &len);
    REQUIRE(text);
    CHECK_INT(kz_text_sniff(text, len), KZ_FMT_EVTXML);
    /* a one-line document: the check sees it as event 2 */
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    struct kz_text_seq seq = {0};
    d.seq = &seq;
    size_t k = len && text[len - 1] == '\n' ? len - 1 : len;
    REQUIRE(kz_text_decode_line(&d, KZ_FMT_EVTXML, text, k, 1, 1) == 0);
    psxml_events_check(2, &d.event);
    kz_text_seq_end(&seq);
    kz_text_decoder_free(&d);
    kz_free(text);
}

/* One object whose TimeCreated is `when`: the event's time, 0 seconds precision. */
static const char *psxml_time(const char *when, char *out) {
    char doc[512];
    snprintf(doc, sizeof doc,
             "<Object Type=\"System.Diagnostics.Eventing.Reader.EventLogRecord\"><Property "
             "Name=\"Id\" Type=\"System.Int32\">7</Property><Property Name=\"TimeCreated\" "
             "Type=\"System.DateTime\">%s</Property></Object>",
             when);
    struct kz_text_decoder d;
    if (kz_text_decoder_init(&d)) return "init";
    const char *r = "error";
    if (kz_evtxml_psobject(&d, doc, strlen(doc)) == 0) {
        r = "no time";
        if (d.event.ts) kz_time_format(d.event.ts, 0, out), r = out;
    }
    kz_text_decoder_free(&d);
    return r;
}

KZ_TEST(web_psxml_cultures) {
    char t[KZ_TIME_TEXT_MAX];
    CHECK_STR(psxml_time("4/25/2022 11:51:07 AM", t), "2022-04-25T11:51:07Z"); /* en-US */
    CHECK_STR(psxml_time("4/25/2022 12:00:01 PM", t), "2022-04-25T12:00:01Z"); /* noon */
    CHECK_STR(psxml_time("12/1/2022 11:59:59 PM", t), "2022-12-01T23:59:59Z");
    CHECK_STR(psxml_time("25/04/2022 13:51:07", t), "2022-04-25T13:51:07Z"); /* en-GB */
    CHECK_STR(psxml_time("25.04.2022 13:51:07", t), "2022-04-25T13:51:07Z"); /* de-DE */
    CHECK_STR(psxml_time("2022/04/25 13:51:07", t), "2022-04-25T13:51:07Z"); /* ja-JP */
    CHECK_STR(psxml_time("2022-04-25 13:51:07", t), "2022-04-25T13:51:07Z"); /* sv-SE */
    CHECK_STR(psxml_time("2022-04-25T13:51:07.5Z", t), "2022-04-25T13:51:07Z");
    CHECK_STR(psxml_time("13/25/2022 1:00:00 PM", t), "no time"); /* month 13 */
    CHECK_STR(psxml_time("yesterday", t), "no time");
    /* the root must be an event record; only <Property> below it */
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    const char *x = "<Object Type=\"System.Diagnostics.Eventing.Reader.EventLogRecord\"><Property "
                    "Name=\"Id\">1</Property><Data>x</Data></Object>";
    CHECK_INT(kz_evtxml_psobject(&d, x, strlen(x)), KZ_EFORMAT);
    x = "<Object Type=\"System.Diagnostics.Eventing.Reader.EventLogRecord\"><Property "
        "Name=\"Version\">1</Property></Object>";
    CHECK_INT(kz_evtxml_psobject(&d, x, strlen(x)), KZ_EFORMAT); /* no Id */
    x = "<Object Type=\"System.Diagnostics.Eventing.Reader.EventLogRecord\"><Property "
        "Name=\"Id\">1</Property></Object><Object/>";
    CHECK_INT(kz_evtxml_psobject(&d, x, strlen(x)), KZ_EFORMAT);
    kz_text_decoder_free(&d);
    const char *sniff = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Objects><Object Type=\"System."
                        "Diagnostics.Eventing.Reader.EventLogRecord\"><Property Name=\"Id\">";
    CHECK_INT(kz_text_sniff(sniff, strlen(sniff)), KZ_FMT_EVTXML);
    sniff = "<Objects><Object Type=\"System.Diagnostics.Process\">";
    CHECK_INT(kz_text_sniff(sniff, strlen(sniff)), KZ_FMT_UNKNOWN);
}

/* ---- zip: the inputs fuzz_zip found, replayed (tests/corpus/zip) ---- */

#include "input/archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

KZ_TEST(web_zip_corpus_replay) {
    const char *const cands[] = {"tests/corpus/zip", "../tests/corpus/zip", "../../tests/corpus/zip"};
    DIR *dir = NULL;
    const char *root = NULL;
    for (size_t i = 0; i < sizeof cands / sizeof *cands && !dir; i++)
        if ((dir = opendir(cands[i]))) root = cands[i];
    if (!dir) {
        kz_test_skip("tests/corpus/zip not found");
        return;
    }
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        files++;
        off_t size = lseek(fd, 0, SEEK_END);
        struct kz_zip_member *v;
        uint32_t n;
        const char *why;
        if (kz_zip_list(fd, (uint64_t)size, &v, &n, &why) == 0) {
            for (uint32_t i = 0; i < n; i++) {
                struct kz_instream *in = kz_zip_open_member(fd, &v[i], &why);
                uint64_t total = 0;
                char buf[4096];
                ssize_t k;
                while (in && (k = kz_instream_read(in, buf, sizeof buf, &why)) > 0)
                    total += (uint64_t)k;
                /* a member never yields more than it declares */
                CHECK_MSG(total <= v[i].usize, "%s: member %s gave %llu of %llu bytes", path,
                          v[i].name, (unsigned long long)total, (unsigned long long)v[i].usize);
                kz_instream_close(in);
            }
            kz_zip_free_list(v, n);
        }
        close(fd);
    }
    closedir(dir);
    CHECK(files > 0);
}
