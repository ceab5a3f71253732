/* test_wrapped_inputs.c - unit tests of the ways a log can be wrapped (issue 5): UTF-16 text
 * (src/core/utf.c streaming conversion, detection), JSON arrays (the jsonl.c array filter and
 * the text reader reading through it), tar archives (archive.c), Azure Log Analytics exports
 * (jsonl.c) and the EventData XML fragments they carry (evtxml.c).
 *
 * Expected values are worked out by hand: UTF-8 and UTF-16 encodings of the characters used are
 * from the Unicode code charts (U+00E9 = C3 A9 / E9 00, U+20AC = E2 82 AC / AC 20, U+1F600 =
 * F0 9F 98 80 / 3D D8 00 DE); tar headers are built here from POSIX ustar's layout (pax
 * "Interchange Format", the checksum as the sum of the header's bytes with its own field as
 * spaces); the Azure records are written from the columns Microsoft documents for the
 * SecurityEvent, Event and WindowsEvent tables (azure-monitor/reference/tables), not exported
 * from a workspace. */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/pool.h"
#include "core/utf.h"
#include "input/archive.h"
#include "input/jsonl.h"
#include "input/text_reader.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fld(const struct kz_event *ev, const char *name) {
    const struct kz_field *f = kz_event_field(ev, kz_intern(name, strlen(name)));
    return f ? f->val : NULL;
}

/* ---- UTF-16 ---- */

/* "Aé€😀\n" in UTF-16LE, and its UTF-8 */
static const uint8_t U16LE[] = {0x41, 0x00, 0xE9, 0x00, 0xAC, 0x20,
                                0x3D, 0xD8, 0x00, 0xDE, 0x0A, 0x00};
static const char U8[] = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n";

static size_t convert_split(const uint8_t *src, size_t n, int be, size_t step, char *out) {
    struct kz_utf16_stream st = {.big_endian = be};
    size_t o = 0;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        o += kz_utf16_stream_convert(&st, src + i, k, out + o);
    }
    o += kz_utf16_stream_finish(&st, out + o);
    return o;
}

KZ_TEST(utf16_stream_any_cut) {
    char out[64];
    /* whole, one byte at a time, and cut at every point: the same text */
    for (size_t step = 1; step <= sizeof U16LE; step++) {
        size_t n = convert_split(U16LE, sizeof U16LE, 0, step, out);
        CHECK_MSG(n == sizeof U8 - 1 && !memcmp(out, U8, n), "step %zu", step);
    }
    uint8_t be[sizeof U16LE];
    for (size_t i = 0; i < sizeof U16LE; i += 2)
        be[i] = U16LE[i + 1], be[i + 1] = U16LE[i];
    size_t n = convert_split(be, sizeof be, 1, 3, out);
    CHECK(n == sizeof U8 - 1 && !memcmp(out, U8, n));
    /* a lone low surrogate, a high one followed by a letter, one at the very end, an odd byte */
    const uint8_t lone[] = {0x00, 0xDC, 0x41, 0x00, 0x00, 0xD8, 0x42, 0x00, 0x00, 0xD8};
    n = convert_split(lone, sizeof lone, 0, 1, out);
    CHECK(n == 11 && !memcmp(out,
                             "\xEF\xBF\xBD"
                             "A"
                             "\xEF\xBF\xBD"
                             "B"
                             "\xEF\xBF\xBD",
                             11));
    const uint8_t odd[] = {0x41, 0x00, 0x42};
    n = convert_split(odd, sizeof odd, 0, 2, out);
    CHECK(n == 4 && !memcmp(out, "A\xEF\xBF\xBD", 4));
    /* NUL code units are kept (the reader then rejects the line, as for UTF-8) */
    const uint8_t nul[] = {0x41, 0x00, 0x00, 0x00, 0x42, 0x00};
    n = convert_split(nul, sizeof nul, 0, 6, out);
    CHECK(n == 3 && !memcmp(out, "A\0B", 3));
}

KZ_TEST(utf16_detect) {
    size_t bom;
    CHECK(kz_utf16_detect((const uint8_t *)"\xFF\xFE{\0", 4, &bom) == 1 && bom == 2);
    CHECK(kz_utf16_detect((const uint8_t *)"\xFE\xFF\0{", 4, &bom) == 2 && bom == 2);
    CHECK(kz_utf16_detect((const uint8_t *)"{\0\"\0E\0", 6, &bom) == 1 && bom == 0);
    CHECK(kz_utf16_detect((const uint8_t *)"\xFF\xFE\0\0", 4, &bom) == 0); /* UTF-32LE */
    CHECK(kz_utf16_detect((const uint8_t *)"{\"EventID\":1}", 13, &bom) == 0);
    CHECK(kz_utf16_detect((const uint8_t *)"{\0", 2, &bom) == 0);       /* one unit: too little */
    CHECK(kz_utf16_detect((const uint8_t *)"\xE9\0a\0", 4, &bom) == 0); /* not ASCII */
    CHECK(kz_utf16_detect((const uint8_t *)"a\0\0\0", 4, &bom) == 0);   /* NUL unit */
    CHECK(kz_utf16_detect((const uint8_t *)"ElfFile\0", 8, &bom) == 0);
}

/* ---- JSON arrays ---- */

KZ_TEST(json_array_filter) {
    /* commas, brackets and a quote inside a string stay; the array's own punctuation goes */
    const char in[] = "[\n {\"a\": \"x,]\\\"[\", \"b\": [1,2]},\n {\"c\": {}}\n]\n";
    const char want[] = "   {\"a\": \"x,]\\\"[\", \"b\": [1,2]}\n  {\"c\": {}} \n\n";
    REQUIRE(sizeof in == sizeof want);
    for (size_t step = 1; step < sizeof in; step++) {
        char buf[sizeof in];
        memcpy(buf, in, sizeof in);
        struct kz_jsonl_array st = {0};
        for (size_t i = 0; i < sizeof in - 1; i += step)
            kz_jsonl_array_filter(&st, buf + i,
                                  sizeof in - 1 - i < step ? sizeof in - 1 - i : step);
        CHECK_MSG(!memcmp(buf, want, sizeof want), "step %zu: %s", step, buf);
    }
    /* a mismatched bracket closing the array stays as written (fuzz_json_array found it cut) */
    char mis[] = "[{\"a\":1}},{}";
    struct kz_jsonl_array ms = {0};
    kz_jsonl_array_filter(&ms, mis, strlen(mis));
    CHECK_STR(mis, " {\"a\":1}},{}");
    CHECK(kz_jsonl_array_sniff("[{\"a\":1}]", 9));
    CHECK(kz_jsonl_array_sniff("\xEF\xBB\xBF\r\n[\r\n  {\r\n    \"a\"", 18));
    CHECK(kz_jsonl_array_sniff("[]", 2));
    CHECK(!kz_jsonl_array_sniff("[1,2]", 5));
    CHECK(!kz_jsonl_array_sniff("[2026-03-02] started", 20));
    CHECK(kz_text_sniff("[\n  {\n    \"EventID\": 4624", 25) == KZ_FMT_JSONL);
    /* UTF-16LE without a BOM, and with one (wevtutil's XML through Out-File) */
    const char u[] = "[\0{\0\"\0E\0\"\0:\0"
                     "1\0}\0]\0";
    CHECK(kz_text_sniff(u, sizeof u - 1) == KZ_FMT_JSONL);
    const char x[] = "\xFF\xFE<\0E\0v\0e\0n\0t\0 \0x\0m\0l\0n\0s\0=\0'\0h\0'\0>\0";
    CHECK(kz_text_sniff(x, sizeof x - 1) == KZ_FMT_EVTXML);
}

struct out {
    struct kz_buf b;
};

static void o_emit(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                   uint32_t file_id, struct kz_buf *out) {
    const char *u = fld(ev, "TargetUserName");
    kz_buf_printf(out, "%llu:%u:%s:%s\n", (unsigned long long)ev->record_id, ev->event_id,
                  ev->channel ? ev->channel : "-", u ? u : "-");
}

static void o_write(void *ctx, const char *data, size_t len) {
    kz_buf_append(&((struct out *)ctx)->b, data, len);
}

/* Reads path as JSON lines through the reader with tiny blocks; returns the emit output. */
static void read_all(struct kz_pool *pool, const char *path, struct kz_buf *into, size_t block) {
    struct out o;
    kz_buf_init(&o.b, 16 << 20);
    struct kz_text_reader_opts opt = {
        .window = 3, .block = block, .emit = o_emit, .write = o_write, .ctx = &o};
    struct kz_text_reader *r = kz_text_reader_new(pool, &opt);
    struct kz_err err = {0};
    if (r && kz_text_reader_add_file(r, path, KZ_FMT_JSONL, 0, &err) == 0) kz_text_reader_flush(r);
    kz_text_reader_free(r);
    kz_buf_append(into, o.b.data ? o.b.data : "", o.b.len);
    kz_buf_free(&o.b);
}

KZ_TEST(json_array_utf16_reader) {
    /* 300 events: as JSON lines, a pretty-printed array, the array in UTF-16LE without a BOM and
     * in UTF-16BE with one; read in blocks of 64 to 4096 bytes, all give 300 events, element i
     * with record id i (its position), the same as line i of the JSON lines */
    struct kz_buf lines, arr;
    kz_buf_init(&lines, 1 << 20);
    kz_buf_init(&arr, 1 << 20);
    kz_buf_puts(&arr, "[\r\n");
    for (int i = 1; i <= 300; i++) {
        kz_buf_printf(
            &lines,
            "{\"EventID\": %d, \"Channel\": \"Security\", \"TargetUserName\": \"u\\u00e9%d,]\"}\n",
            4600 + i % 50, i);
        kz_buf_printf(&arr,
                      "  {\r\n    \"EventID\": %d,\r\n    \"Channel\": \"Security\",\r\n"
                      "    \"TargetUserName\": \"u\\u00e9%d,]\"\r\n  }%s\r\n",
                      4600 + i % 50, i, i < 300 ? "," : "");
    }
    kz_buf_puts(&arr, "]\r\n");
    size_t n16 = arr.len * 2 + 2;
    uint8_t *le = kz_malloc(n16), *be = kz_malloc(n16);
    REQUIRE(le && be);
    be[0] = 0xFE, be[1] = 0xFF;
    for (size_t i = 0; i < arr.len; i++) { /* ASCII only: one unit per byte */
        le[2 * i] = (uint8_t)arr.data[i], le[2 * i + 1] = 0;
        be[2 + 2 * i] = 0, be[2 + 2 * i + 1] = (uint8_t)arr.data[i];
    }
    char *p_lines = kz_test_temp_file("wrapped", lines.data, lines.len),
         *p_arr = kz_test_temp_file("wrapped", arr.data, arr.len);
    char *p_le = kz_test_temp_file("wrapped", le, arr.len * 2),
         *p_be = kz_test_temp_file("wrapped", be, n16);
    REQUIRE(p_lines && p_arr && p_le && p_be);
    struct kz_pool *pool = kz_pool_new(2);
    struct kz_buf want;
    kz_buf_init(&want, 1 << 20);
    read_all(pool, p_lines, &want, 0);
    /* by hand: line 7 is event 4607 of user "ué7,]" */
    CHECK(strstr(want.data, "\n7:4607:Security:u\xC3\xA9"
                            "7,]\n") != NULL);
    size_t count = 0;
    for (size_t i = 0; i < want.len; i++)
        count += want.data[i] == '\n';
    CHECK_INT(count, 300);
    const char *paths[] = {p_arr, p_le, p_be};
    size_t blocks[] = {64, 777, 4096};
    for (int f = 0; f < 3; f++)
        for (int b = 0; b < 3; b++) {
            struct kz_buf got;
            kz_buf_init(&got, 1 << 20);
            read_all(pool, paths[f], &got, blocks[b]);
            CHECK_MSG(got.len == want.len && !memcmp(got.data, want.data, want.len),
                      "file %d block %zu: %zu vs %zu bytes", f, blocks[b], got.len, want.len);
            kz_buf_free(&got);
        }
    kz_pool_free(pool);
    unlink(p_lines), unlink(p_arr), unlink(p_le), unlink(p_be);
    kz_free(p_lines), kz_free(p_arr), kz_free(p_le), kz_free(p_be);
    kz_free(le), kz_free(be);
    kz_buf_free(&want), kz_buf_free(&lines), kz_buf_free(&arr);
}

/* ---- tar ---- */

/* A ustar header block for name (with type and size) appended to b, then the data padded. */
static void tar_add(struct kz_buf *b, const char *name, char type, const char *data, size_t n) {
    char h[512];
    memset(h, 0, sizeof h);
    snprintf(h, 100, "%s", name);
    snprintf(h + 100, 8, "%07o", 0644);
    for (int i = 10, v = (int)n; i >= 0; i--, v >>= 3) /* 11 octal digits, then NUL */
        h[124 + i] = (char)('0' + (v & 7));
    h[156] = type;
    memcpy(h + 257, "ustar", 6); /* "ustar\0" */
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum); /* six digits, NUL, then the space already there */
    kz_buf_append(b, h, 512);
    kz_buf_append(b, data, n);
    static const char zeros[512];
    if (n % 512) kz_buf_append(b, zeros, 512 - n % 512);
}

KZ_TEST(tar_members) {
    struct kz_buf b;
    kz_buf_init(&b, 1 << 20);
    tar_add(&b, "logs/", '5', "", 0);
    tar_add(&b, "logs/a.log", '0', "first\n", 6);
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    tar_add(&b, "././@LongLink", 'L', long_name, strlen(long_name) + 1);
    tar_add(&b, "cut-name", '0', "second\n", 7);
    const char pax[] = "31 path=logs/pax/very-long.log\n"; /* 31 bytes, newline included */
    tar_add(&b, "PaxHeaders/x", 'x', pax, sizeof pax - 1);
    tar_add(&b, "short", '0', "", 0);
    tar_add(&b, "link", '2', "", 0);
    char big[1500];
    memset(big, 'z', sizeof big);
    tar_add(&b, "logs/big.log", '0', big, sizeof big);
    static const char zeros[1024];
    kz_buf_append(&b, zeros, sizeof zeros);
    char *path = kz_test_temp_file("wrapped", b.data, b.len);
    REQUIRE(path);
    CHECK(kz_archive_is_tar((const uint8_t *)b.data, b.len));
    int fd = open(path, O_RDONLY);
    REQUIRE(fd >= 0);
    const char *why = NULL;
    struct kz_tar *t = kz_tar_open(fd, b.len, &why);
    REQUIRE(t);
    uint64_t size;
    char buf[4096];
    CHECK(kz_tar_next(t, &size, &why) == 1);
    CHECK_STR(kz_tar_name(t), "logs/a.log");
    CHECK_INT(size, 6);
    CHECK(kz_tar_read(t, buf, sizeof buf, &why) == 6 && !memcmp(buf, "first\n", 6));
    CHECK(kz_tar_next(t, &size, &why) == 1);
    CHECK_STR(kz_tar_name(t), long_name);
    CHECK(kz_tar_read(t, buf, 3, &why) == 3); /* partly read: the rest is skipped */
    CHECK(kz_tar_next(t, &size, &why) == 1);
    CHECK_STR(kz_tar_name(t), "logs/pax/very-long.log");
    CHECK_INT(size, 0);
    CHECK(kz_tar_next(t, &size, &why) == 1); /* the link is passed over */
    CHECK_STR(kz_tar_name(t), "logs/big.log");
    CHECK_INT(size, 1500);
    CHECK(kz_tar_next(t, &size, &why) == 0);
    kz_tar_close(t);
    close(fd);
    /* a member read by path, as the text reader opens it */
    char member[128];
    snprintf(member, sizeof member, "%s/logs/big.log", path);
    struct kz_instream *in = kz_zip_open_path(member, &why);
    REQUIRE(in);
    size_t total = 0;
    ssize_t k;
    while ((k = kz_instream_read(in, buf, sizeof buf, &why)) > 0)
        total += (size_t)k;
    CHECK(k == 0);
    CHECK_INT(total, 1500);
    kz_instream_close(in);
    snprintf(member, sizeof member, "%s/logs/none.log", path);
    CHECK(kz_zip_open_path(member, &why) == NULL);
    unlink(path);
    kz_free(path);

    /* damage: a bad checksum (a.log's header, after the folder's), then a size past the end */
    b.data[512 + 148] ^= 1;
    path = kz_test_temp_file("wrapped", b.data, b.len);
    fd = open(path, O_RDONLY);
    t = kz_tar_open(fd, b.len, &why);
    why = NULL;
    CHECK(kz_tar_next(t, &size, &why) == -1 && why && strstr(why, "checksum"));
    kz_tar_close(t);
    close(fd);
    unlink(path);
    kz_free(path);
    struct kz_buf c;
    kz_buf_init(&c, 1 << 20);
    tar_add(&c, "x.log", '0', "abc", 3);
    memcpy(c.data + 124, "77777777777", 11); /* 8 GiB - 1: more than the file */
    memset(c.data + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)c.data[i];
    snprintf(c.data + 148, 8, "%06o", sum);
    path = kz_test_temp_file("wrapped", c.data, c.len);
    fd = open(path, O_RDONLY);
    t = kz_tar_open(fd, c.len, &why);
    why = NULL;
    CHECK(kz_tar_next(t, &size, &why) == -1 && why && strstr(why, "larger"));
    kz_tar_close(t);
    close(fd);
    unlink(path);
    kz_free(path);
    kz_buf_free(&c);
    kz_buf_free(&b);
}

/* ---- Azure Log Analytics ---- */

static int line(struct kz_text_decoder *d, const char *s) {
    return kz_text_decode_line(d, KZ_FMT_JSONL, s, strlen(s), 1, 0);
}

KZ_TEST(azure_tables) {
    struct kz_text_decoder d;
    REQUIRE(kz_text_decoder_init(&d) == 0);
    /* SecurityEvent: EventData XML is the event data; the columns Azure copied out of it are not
     * read again, workspace columns are dropped, Level (8: audit success) is no EVTX Level */
    REQUIRE(
        line(&d,
             "{\"TenantId\":\"t\",\"TimeGenerated\":\"2026-03-02T07:52:29Z\",\"Computer\":\"DC01\","
             "\"EventSourceName\":\"Microsoft-Windows-Security-Auditing\",\"Channel\":\"Security\","
             "\"Task\":12544,\"Level\":\"8\",\"EventID\":4625,\"Activity\":\"4625 - An account "
             "failed to log on.\","
             "\"EventData\":\"<EventData "
             "xmlns=\\\"http://schemas.microsoft.com/win/2004/08/events/event\\\">"
             "<Data Name=\\\"TargetUserName\\\">bob</Data><Data "
             "Name=\\\"Status\\\">0xc000006d</Data>"
             "<Data Name=\\\"SubjectUserName\\\" /></EventData>\",\"TargetUserName\":\"bob\","
             "\"Type\":\"SecurityEvent\",\"_ResourceId\":\"/x\"}") == 0);
    CHECK_INT(d.event.event_id, 4625);
    CHECK_STR(d.event.channel, "Security");
    CHECK_STR(d.event.host, "DC01");
    CHECK_STR(fld(&d.event, "Provider_Name"), "Microsoft-Windows-Security-Auditing");
    CHECK_STR(fld(&d.event, "Task"), "12544");
    CHECK_STR(fld(&d.event, "TimeCreated_SystemTime"), "2026-03-02T07:52:29.0000000Z");
    CHECK_STR(fld(&d.event, "TargetUserName"), "bob");
    CHECK_STR(fld(&d.event, "Status"), "0xc000006d");
    CHECK_STR(fld(&d.event, "SubjectUserName"), "");
    CHECK(fld(&d.event, "Level") == NULL && fld(&d.event, "TenantId") == NULL);
    CHECK(fld(&d.event, "Activity") == NULL && fld(&d.event, "_ResourceId") == NULL);
    /* 7 System fields? Provider, EventID, Task, time, Channel, Computer = 6; 3 data */
    CHECK_INT(d.event.nfields, 9);
    /* Event (the Log Analytics agent's table): EventLog, Source, EventData inside <DataItem> */
    REQUIRE(line(&d,
                 "{\"TimeGenerated\":\"2026-03-02T08:00:00Z\",\"Computer\":\"FS01\",\"Source\":"
                 "\"Service Control Manager\","
                 "\"EventLog\":\"System\",\"EventID\":7045,\"EventLevel\":4,\"EventLevelName\":"
                 "\"Information\","
                 "\"EventData\":\"<DataItem type=\\\"System.XmlData\\\" time=\\\"x\\\"><EventData "
                 "xmlns=\\\"http://schemas.microsoft.com/win/2004/08/events/event\\\">"
                 "<Data Name=\\\"ServiceName\\\">evil &amp; co</Data><Data "
                 "Name=\\\"ImagePath\\\">C:\\\\x.exe</Data></EventData></DataItem>\","
                 "\"RenderedDescription\":\"A service was installed\",\"Type\":\"Event\"}") == 0);
    CHECK_INT(d.event.event_id, 7045);
    CHECK_STR(d.event.channel, "System");
    CHECK_STR(d.event.provider, "Service Control Manager");
    CHECK_STR(fld(&d.event, "ServiceName"), "evil & co");
    CHECK_STR(fld(&d.event, "ImagePath"), "C:\\x.exe");
    CHECK(fld(&d.event, "EventLevel") == NULL && fld(&d.event, "RenderedDescription") == NULL);
    /* WindowsEvent (AMA): EventData an object; process and thread ids */
    REQUIRE(line(&d,
                 "{\"TimeGenerated\":\"2026-03-02T09:00:00Z\",\"Computer\":\"WS1\",\"Provider\":"
                 "\"Microsoft-Windows-Sysmon\","
                 "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,\"Task\":1,"
                 "\"SystemProcessId\":3000,\"SystemThreadId\":3001,\"EventRecordId\":\"77\","
                 "\"EventData\":{\"Image\":\"C:\\\\w.exe\",\"CommandLine\":\"w "
                 "-x\"},\"Type\":\"WindowsEvent\"}") == 0);
    CHECK_STR(fld(&d.event, "Execution_ProcessID"), "3000");
    CHECK_STR(fld(&d.event, "Execution_ThreadID"), "3001");
    CHECK_STR(fld(&d.event, "EventRecordID"), "77");
    CHECK_STR(fld(&d.event, "Image"), "C:\\w.exe");
    CHECK_STR(d.event.ent.command_line, "w -x");
    /* SecurityEvent without EventData (a projected export): the copied-out columns are the
     * event data; empty ones ("" or null) are no fields */
    REQUIRE(
        line(
            &d,
            "{\"TimeGenerated\":\"2026-03-02T07:52:29Z\",\"EventID\":4624,\"Channel\":\"Security\","
            "\"TargetUserName\":\"carol\",\"LogonType\":3,\"IpAddress\":\"\",\"WorkstationName\":"
            "null,"
            "\"Account\":\"CORP\\\\carol\",\"_BilledSize\":1}") == 0);
    CHECK_STR(fld(&d.event, "TargetUserName"), "carol");
    CHECK_STR(fld(&d.event, "LogonType"), "3");
    CHECK(fld(&d.event, "IpAddress") == NULL && fld(&d.event, "WorkstationName") == NULL);
    CHECK(fld(&d.event, "Account") == NULL && fld(&d.event, "_BilledSize") == NULL);
    /* malformed EventData XML: a bad record */
    CHECK(line(&d, "{\"TimeGenerated\":\"2026-03-02T07:52:29Z\",\"EventID\":1,"
                   "\"EventData\":\"<EventData><Data Name=\\\"a\\\">x</Dat></EventData>\"}") < 0);
    kz_text_decoder_free(&d);
}
