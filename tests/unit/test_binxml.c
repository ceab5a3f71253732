/* test_binxml.c - EVTX decoder tests: every BinXML token, every value type, damaged chunks, failure
 * injection, the file reader, and python-evtx's sample files when ../shared/data is present.
 *
 * Inputs are assembled byte by byte with evtx_builder.h. Expected outputs are written out by hand
 * from MS-EVEN6 / MS-DTYP and the text forms promised at the top of src/input/evtx/binxml_value.c;
 * field names follow the rules at the top of src/input/evtx/evtx_fields.c. */
#include "unit.h"

#include "evtx_builder.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/intern.h"
#include "core/pool.h"
#include "input/evtx/evtx.h"
#include "input/evtx/evtx_reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Value types (MS-EVEN6 2.2.12), spelled out here rather than taken from the code under test. */
enum {
    T_NULL = 0x00,
    T_WSTR = 0x01,
    T_ASTR = 0x02,
    T_I8 = 0x03,
    T_U8 = 0x04,
    T_I16 = 0x05,
    T_U16 = 0x06,
    T_I32 = 0x07,
    T_U32 = 0x08,
    T_I64 = 0x09,
    T_U64 = 0x0a,
    T_R32 = 0x0b,
    T_R64 = 0x0c,
    T_BOOL = 0x0d,
    T_BIN = 0x0e,
    T_GUID = 0x0f,
    T_SIZET = 0x10,
    T_FILETIME = 0x11,
    T_SYSTIME = 0x12,
    T_SID = 0x13,
    T_HEX32 = 0x14,
    T_HEX64 = 0x15,
    T_BINXML = 0x21,
    T_ARRAY = 0x80,
};

#define FT_WRITTEN 0x01D1D94AA5D6E9C0ULL /* 2016-07-08T18:58:00.3587520Z */
/* kz_time of FT_WRITTEN: 1468004280 s after 1970 (see test_core.c) + 3587520 ticks */
#define TS_WRITTEN (1468004280LL * 10000000 + 3587520)

/* ---- collecting what the decoder reports ---- */

#define MAXF 48
#define MAXR 8

struct gfield {
    char name[96];
    char val[1024];
    uint8_t section, kind;
};

struct grec {
    uint64_t record_id;
    int64_t ts, written;
    uint32_t event_id;
    char host[128], channel[128], provider[128], user[128];
    int logon_type;
    char xml[8192];
    int xml_rc;
    int nfields;
    struct gfield f[MAXF];
};

struct got {
    int n;
    struct grec r[MAXR];
    struct kz_evtx_stats st;
    int rc;
    int nproblems;
    char problem[512];
};

static void copy_str(char *dst, size_t cap, const char *s) {
    snprintf(dst, cap, "%s", s ? s : "(null)");
}

static void on_rec(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct got *g = ctx;
    if (g->n >= MAXR) return;
    struct grec *r = &g->r[g->n++];
    const struct kz_event *ev = rec->event;
    r->record_id = rec->record_id;
    r->written = rec->written;
    r->ts = ev->ts;
    r->event_id = ev->event_id;
    copy_str(r->host, sizeof r->host, ev->host);
    copy_str(r->channel, sizeof r->channel, ev->channel);
    copy_str(r->provider, sizeof r->provider, ev->provider);
    copy_str(r->user, sizeof r->user, ev->ent.user);
    r->logon_type = ev->ent.logon_type;
    r->nfields = 0;
    for (uint32_t i = 0; i < ev->nfields && r->nfields < MAXF; i++) {
        struct gfield *f = &r->f[r->nfields++];
        copy_str(f->name, sizeof f->name, kz_intern_name(ev->fields[i].name));
        copy_str(f->val, sizeof f->val, ev->fields[i].val);
        f->section = ev->fields[i].section;
        f->kind = ev->fields[i].kind;
    }
    struct kz_buf b;
    kz_buf_init(&b, 1 << 20);
    r->xml_rc = kz_evtx_render_xml(d, rec, &b);
    copy_str(r->xml, sizeof r->xml, b.data ? b.data : "");
    kz_buf_free(&b);
}

static void on_problem(void *ctx, uint32_t off, uint64_t id, const char *msg) {
    struct got *g = ctx;
    g->nproblems++;
    copy_str(g->problem, sizeof g->problem, msg);
}

/* The result stays valid until the next decode() (which frees it), so a failed REQUIRE leaks
 * nothing. */
static struct got *last_got;

static struct got *decode(const uint8_t *chunk, size_t n) {
    free(last_got);
    struct got *g = last_got = calloc(1, sizeof *g);
    if (!g) return NULL;
    struct kz_evtx_decoder *d = kz_evtx_decoder_new();
    if (!d) {
        g->rc = KZ_ENOMEM;
        return g;
    }
    g->rc = kz_evtx_decode_chunk(d, chunk, n, 0, 0, on_rec, on_problem, g, &g->st);
    kz_evtx_decoder_free(d);
    return g;
}

static const struct gfield *field(const struct grec *r, const char *name) {
    for (int i = 0; i < r->nfields; i++)
        if (!strcmp(r->f[i].name, name)) return &r->f[i];
    return NULL;
}

static const char *fval(const struct grec *r, const char *name) {
    const struct gfield *f = field(r, name);
    return f ? f->val : NULL;
}

static struct eb_chunk C; /* the chunk under construction (64 KiB: kept off the stack) */

/* Starts a record whose body is a plain fragment (no template). */
static void plain_begin(uint64_t id) {
    eb_record_begin(&C, id, FT_WRITTEN);
    eb_fragment_header(&C);
}

static void plain_end(void) {
    eb_eof(&C);
    eb_record_end(&C);
}

static struct got *finish_and_decode(void) {
    eb_finish(&C);
    struct got *g = decode(C.b, sizeof C.b);
    eb_release(&C);
    return g;
}

/* <Event><EventData><Data Name="name">%index</Data></EventData></Event> as a template body. */
static void data_template_body(const char *name, uint8_t type, int optional) {
    eb_fragment_header(&C);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    eb_open(&C, "Data", 1);
    eb_attr(&C, "Name", 0);
    eb_text(&C, name);
    eb_close_start(&C);
    eb_subst(&C, 0, type, optional);
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    eb_eof(&C);
}

/* One record: the template above with one value. */
static void one_value_record(struct eb_template *t, uint64_t id, uint8_t type, const void *data,
                             size_t len) {
    eb_record_begin(&C, id, FT_WRITTEN);
    eb_fragment_header(&C);
    if (eb_template_instance(&C, t)) {
        data_template_body("X", type & 0x7f ? type : T_WSTR, 0);
        eb_template_def_end(&C);
    }
    eb_values_begin(&C, 1);
    eb_value(&C, 0, type, data, len);
    eb_record_end(&C);
}

/* XML text escaping as buf.h specifies it: & < > " as entities, LF as a character reference. */
static char *xml_escape_lf(const char *s, char *out, size_t cap) {
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        const char *rep = *s == '\n'  ? "&#10;"
                          : *s == '&' ? "&amp;"
                          : *s == '<' ? "&lt;"
                          : *s == '>' ? "&gt;"
                          : *s == '"' ? "&quot;"
                                      : NULL;
        if (rep)
            memcpy(out + o, rep, strlen(rep)), o += strlen(rep);
        else
            out[o++] = *s;
    }
    out[o] = 0;
    return out;
}

/* Decodes one value of the given type and checks its XML and its field. want_xml NULL: as want,
 * with line feeds as &#10; (buf.h). */
static void value_case(const char *what, uint8_t type, const void *data, size_t len,
                       const char *want, int kind) {
    eb_init(&C);
    struct eb_template t = {.id = 0x51};
    one_value_record(&t, 1, type, data, len);
    struct got *g = finish_and_decode();
    if (!g) {
        kz_test_fail(__FILE__, __LINE__, "%s: out of memory", what);
        return;
    }
    CHECK_MSG(g->rc == 0 && g->n == 1 && g->st.bad_records == 0,
              "%s: rc %d, %d records, %llu bad (%s)", what, g->rc, g->n,
              (unsigned long long)g->st.bad_records, g->problem);
    if (g->n == 1) {
        char esc[2048], xml[4096];
        snprintf(xml, sizeof xml,
                 "<Event><EventData><Data Name=\"X\">%s</Data></EventData></Event>",
                 xml_escape_lf(want, esc, sizeof esc));
        if (!*want)
            snprintf(xml, sizeof xml, "<Event><EventData><Data Name=\"X\"/></EventData></Event>");
        CHECK_MSG(g->r[0].xml_rc == 0 && !strcmp(g->r[0].xml, xml), "%s: xml %s, want %s", what,
                  g->r[0].xml, xml);
        const struct gfield *f = field(&g->r[0], "X");
        CHECK_MSG(f && !strcmp(f->val, want), "%s: field X = \"%s\", want \"%s\"", what,
                  f ? f->val : "(none)", want);
        if (f && kind >= 0) CHECK_MSG(f->kind == kind, "%s: kind %d, want %d", what, f->kind, kind);
        if (f) CHECK_MSG(f->section == KZ_SEC_EVENTDATA, "%s: section %d", what, f->section);
    }
}

/* ---- CRC32 ---- */

KZ_TEST(crc32_check_value) {
    /* The standard check value of CRC-32/ISO-HDLC (IEEE 802.3, as zlib). */
    CHECK_INT(kz_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_INT(eb_crc32("123456789", 9), 0xCBF43926u);
    CHECK_INT(kz_crc32(0, "", 0), 0);
    /* continuing from a previous value is the same as one pass */
    CHECK_INT(kz_crc32(kz_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    static uint8_t buf[70000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++)
        x = x * 1103515245u + 12345u, buf[i] = (uint8_t)(x >> 16);
    CHECK_INT(kz_crc32(0, buf, sizeof buf), eb_crc32(buf, sizeof buf));
    CHECK_INT(kz_crc32(0, buf + 3, 1001), eb_crc32(buf + 3, 1001));
}

/* ---- headers ---- */

KZ_TEST(chunk_header_parsed_and_checksums_ok) {
    eb_init(&C);
    struct eb_template t = {.id = 7};
    uint8_t v[2] = {5, 0};
    one_value_record(&t, 100, T_U16, v, 2);
    uint32_t second = C.pos;
    one_value_record(&t, 101, T_U16, v, 2);
    eb_finish(&C);
    struct kz_evtx_chunk_header h;
    REQUIRE(kz_evtx_parse_chunk_header(C.b, sizeof C.b, &h) == 0);
    CHECK_INT(h.first_record_num, 1);
    CHECK_INT(h.last_record_num, 2);
    CHECK_INT(h.first_record_id, 100);
    CHECK_INT(h.last_record_id, 101);
    CHECK_INT(h.header_size, 128);
    CHECK_INT(h.last_record_offset, second);
    CHECK_INT(h.free_space_offset, C.pos);
    CHECK(h.header_checksum_ok);
    CHECK(h.data_checksum_ok);
    CHECK_INT(h.data_checksum, eb_crc32(C.b + 512, C.pos - 512));
    struct got *g = decode(C.b, sizeof C.b);
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->n, 2);
    CHECK_INT(g->st.records, 2);
    CHECK_INT(g->st.chunks, 1);
    CHECK_INT(g->st.checksum_errors, 0);
    CHECK_INT(g->nproblems, 0);
    CHECK_INT(g->r[0].record_id, 100);
    CHECK_INT(g->r[1].record_id, 101);
    CHECK_INT(g->r[0].written, TS_WRITTEN);
    eb_release(&C);
}

KZ_TEST(file_header_parsed) {
    static uint8_t chunk[EB_CHUNK_SIZE];
    const uint8_t *chunks[] = {chunk};
    char path[64];
    REQUIRE(eb_write_file(chunks, 1, 1, 1, 77, path) == 0);
    size_t n;
    unsigned char *p = kz_test_read_file(path, &n);
    unlink(path);
    REQUIRE(p);
    CHECK_INT(n, 4096 + 65536);
    struct kz_evtx_header h;
    CHECK_INT(kz_evtx_parse_header(p, n, &h), 0);
    CHECK_INT(h.first_chunk, 0);
    CHECK_INT(h.last_chunk, 0);
    CHECK_INT(h.next_record_id, 77);
    CHECK_INT(h.header_size, 128);
    CHECK_INT(h.major, 3);
    CHECK_INT(h.minor, 1);
    CHECK_INT(h.block_size, 4096);
    CHECK_INT(h.chunk_count, 1);
    CHECK_INT(h.flags, 1);
    CHECK_INT(h.checksum, eb_crc32(p, 120));
    CHECK(h.checksum_ok);
    p[50] ^= 1; /* inside the checksummed range */
    CHECK_INT(kz_evtx_parse_header(p, n, &h), 0);
    CHECK(!h.checksum_ok);
    CHECK(kz_evtx_sniff(p, n));
    p[0] = 'X';
    CHECK_INT(kz_evtx_parse_header(p, n, &h), KZ_EFORMAT);
    CHECK(!kz_evtx_sniff(p, n));
    kz_free(p);
}

/* ---- a full System section ---- */

/* {54849625-5478-4994-A5BA-3E3B0328C30D} (Microsoft-Windows-Security-Auditing) in MS-DTYP order:
 * Data1 and Data2/Data3 little-endian, Data4 as is. */
static const uint8_t SEC_GUID[16] = {0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49,
                                     0xA5, 0xBA, 0x3E, 0x3B, 0x03, 0x28, 0xC3, 0x0D};

static void system_record(struct eb_template *t, uint64_t id, const char *subject,
                          const char *target) {
    eb_record_begin(&C, id,
                    FT_WRITTEN + 10000000ULL * 3600); /* written an hour after TimeCreated */
    eb_fragment_header(&C);
    if (eb_template_instance(&C, t)) {
        eb_fragment_header(&C);
        eb_open(&C, "Event", 1);
        eb_attr(&C, "xmlns", 0);
        eb_text(&C, "http://schemas.microsoft.com/win/2004/08/events/event");
        eb_close_start(&C);
        eb_open(&C, "System", 0);
        eb_close_start(&C);
        eb_open(&C, "Provider", 1);
        eb_attr(&C, "Name", 1);
        eb_text(&C, "Microsoft-Windows-Security-Auditing");
        eb_attr(&C, "Guid", 0);
        eb_subst(&C, 0, T_GUID, 1);
        eb_close_empty(&C);
        eb_open(&C, "EventID", 1);
        eb_attr(&C, "Qualifiers", 0);
        eb_subst(&C, 1, T_U16, 1);
        eb_close_start(&C);
        eb_subst(&C, 2, T_U16, 0);
        eb_end(&C);
        eb_open(&C, "Level", 0);
        eb_close_start(&C);
        eb_subst(&C, 3, T_U8, 0);
        eb_end(&C);
        eb_open(&C, "TimeCreated", 1);
        eb_attr(&C, "SystemTime", 0);
        eb_subst(&C, 4, T_FILETIME, 1);
        eb_close_empty(&C);
        eb_open(&C, "EventRecordID", 0);
        eb_close_start(&C);
        eb_subst(&C, 5, T_U64, 1);
        eb_end(&C);
        eb_open(&C, "Execution", 1);
        eb_attr(&C, "ProcessID", 1);
        eb_subst(&C, 6, T_U32, 0);
        eb_attr(&C, "ThreadID", 0);
        eb_subst(&C, 7, T_U32, 0);
        eb_close_empty(&C);
        eb_open(&C, "Channel", 0);
        eb_close_start(&C);
        eb_text(&C, "Security");
        eb_end(&C);
        eb_open(&C, "Computer", 0);
        eb_close_start(&C);
        eb_subst(&C, 8, T_WSTR, 0);
        eb_end(&C);
        eb_open(&C, "Security", 1);
        eb_attr(&C, "UserID", 0);
        eb_subst(&C, 9, T_SID, 1);
        eb_close_empty(&C);
        eb_end(&C); /* System */
        eb_open(&C, "EventData", 0);
        eb_close_start(&C);
        const char *names[] = {"SubjectUserName", "TargetUserName", "LogonType"};
        for (int i = 0; i < 3; i++) {
            eb_open(&C, "Data", 1);
            eb_attr(&C, "Name", 0);
            eb_text(&C, names[i]);
            eb_close_start(&C);
            eb_subst(&C, (uint16_t)(10 + i), i == 2 ? T_U32 : T_WSTR, 1);
            eb_end(&C);
        }
        eb_end(&C); /* EventData */
        eb_end(&C); /* Event */
        eb_eof(&C);
        eb_template_def_end(&C);
    }
    uint8_t tmp[256];
    eb_values_begin(&C, 13);
    eb_value(&C, 0, T_GUID, SEC_GUID, 16);
    eb_value(&C, 1, T_NULL, NULL, 0);
    uint8_t eid[2] = {0x10, 0x12}; /* 4624 = 0x1210 */
    eb_value(&C, 2, T_U16, eid, 2);
    uint8_t level = 0;
    eb_value(&C, 3, T_U8, &level, 1);
    uint64_t ft = FT_WRITTEN;
    uint8_t ftb[8];
    for (int i = 0; i < 8; i++)
        ftb[i] = (uint8_t)(ft >> 8 * i);
    eb_value(&C, 4, T_FILETIME, ftb, 8);
    uint8_t rid[8] = {(uint8_t)id, (uint8_t)(id >> 8)};
    eb_value(&C, 5, T_U64, rid, 8);
    uint8_t pid[4] = {0x00, 0x02, 0, 0}, tid[4] = {0x00, 0x04, 0, 0}; /* 512, 1024 */
    eb_value(&C, 6, T_U32, pid, 4);
    eb_value(&C, 7, T_U32, tid, 4);
    eb_value(&C, 8, T_WSTR, tmp, eb_wstr(tmp, "WIN-HOST", 0));
    eb_value(&C, 9, T_NULL, NULL, 0);
    eb_value(&C, 10, T_WSTR, tmp, eb_wstr(tmp, subject, 1)); /* Windows stores the NUL */
    eb_value(&C, 11, T_WSTR, tmp, eb_wstr(tmp, target, 1));
    uint8_t lt[4] = {3, 0, 0, 0};
    eb_value(&C, 12, T_U32, lt, 4);
    eb_record_end(&C);
}

static const char SYSTEM_XML[] =
    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
    "<Provider Name=\"Microsoft-Windows-Security-Auditing\" "
    "Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\"/>"
    "<EventID>4624</EventID><Level>0</Level>"
    "<TimeCreated SystemTime=\"2016-07-08T18:58:00.3587520Z\"/><EventRecordID>42</EventRecordID>"
    "<Execution ProcessID=\"512\" ThreadID=\"1024\"/><Channel>Security</Channel>"
    "<Computer>WIN-HOST</Computer><Security/></System><EventData>"
    "<Data Name=\"SubjectUserName\">alice</Data><Data Name=\"TargetUserName\">bob</Data>"
    "<Data Name=\"LogonType\">3</Data></EventData></Event>";

KZ_TEST(system_section_fields_and_header) {
    eb_init(&C);
    struct eb_template t = {.id = 0x4624};
    system_record(&t, 42, "alice", "bob");
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    REQUIRE(g->n == 1);
    const struct grec *r = &g->r[0];
    CHECK_INT(r->xml_rc, 0);
    CHECK_STR(r->xml, SYSTEM_XML);
    CHECK_INT(r->record_id, 42);
    CHECK_INT(r->event_id, 4624);
    CHECK_STR(r->channel, "Security");
    CHECK_STR(r->host, "WIN-HOST");
    CHECK_STR(r->provider, "Microsoft-Windows-Security-Auditing");
    CHECK_INT(r->ts, TS_WRITTEN);                          /* from TimeCreated */
    CHECK_INT(r->written, TS_WRITTEN + 3600LL * 10000000); /* from the record header */
    CHECK_STR(fval(r, "Provider_Name"), "Microsoft-Windows-Security-Auditing");
    CHECK_STR(fval(r, "Provider_Guid"), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
    CHECK_STR(fval(r, "EventID"), "4624");
    CHECK_STR(fval(r, "Level"), "0");
    CHECK_STR(fval(r, "TimeCreated_SystemTime"), "2016-07-08T18:58:00.3587520Z");
    CHECK_STR(fval(r, "EventRecordID"), "42");
    CHECK_STR(fval(r, "Execution_ProcessID"), "512");
    CHECK_STR(fval(r, "Execution_ThreadID"), "1024");
    CHECK_STR(fval(r, "Channel"), "Security");
    CHECK_STR(fval(r, "Computer"), "WIN-HOST");
    CHECK_STR(fval(r, "SubjectUserName"), "alice");
    CHECK_STR(fval(r, "TargetUserName"), "bob");
    CHECK_STR(fval(r, "LogonType"), "3");
    CHECK(fval(r, "EventID_Qualifiers") == NULL); /* NULL value: no attribute */
    CHECK(fval(r, "Security_UserID") == NULL);
    CHECK(fval(r, "Event_xmlns") == NULL); /* xmlns dropped */
    CHECK(fval(r, "xmlns") == NULL);
    CHECK_INT(r->nfields, 13);
    const struct gfield *f = field(r, "EventID");
    if (f) {
        CHECK_INT(f->section, KZ_SEC_SYSTEM);
        CHECK_INT(f->kind, KZ_VK_INT);
    }
    f = field(r, "TargetUserName");
    if (f) CHECK_INT(f->section, KZ_SEC_EVENTDATA);
    f = field(r, "LogonType");
    if (f) CHECK_INT(f->kind, KZ_VK_INT);
    CHECK_STR(r->user, "bob"); /* normalised: TargetUserName wins */
    CHECK_INT(r->logon_type, 3);
    /* document order */
    if (r->nfields == 13) {
        CHECK_STR(r->f[0].name, "Provider_Name");
        CHECK_STR(r->f[12].name, "LogonType");
    }
}

KZ_TEST(event_id_qualifiers) {
    eb_init(&C);
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "System", 0);
    eb_close_start(&C);
    eb_open(&C, "EventID", 1);
    eb_attr(&C, "Qualifiers", 0);
    eb_text(&C, "16384");
    eb_close_start(&C);
    eb_text(&C, "7036");
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    plain_end();
    struct got *g = finish_and_decode();
    REQUIRE(g && g->n == 1);
    CHECK_STR(g->r[0].xml,
              "<Event><System><EventID Qualifiers=\"16384\">7036</EventID></System></Event>");
    CHECK_STR(fval(&g->r[0], "EventID_Qualifiers"), "16384");
    CHECK_STR(fval(&g->r[0], "EventID"), "7036");
    CHECK_INT(g->r[0].event_id, 7036);
}

/* ---- one test per token ---- */

KZ_TEST(token_open_start_without_attributes) {
    eb_init(&C);
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    eb_open(&C, "Data", 0);
    eb_close_start(&C);
    eb_text(&C, "hello");
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    plain_end();
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    REQUIRE(g->n == 1);
    CHECK_STR(g->r[0].xml, "<Event><EventData><Data>hello</Data></EventData></Event>");
    CHECK_STR(fval(&g->r[0], "Data"), "hello");
    CHECK_INT(g->r[0].nfields, 1);
    CHECK_INT(g->r[0].f[0].section, KZ_SEC_EVENTDATA);
}

KZ_TEST(token_open_start_with_attributes) {
    eb_init(&C);
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "System", 0);
    eb_close_start(&C);
    eb_open(&C, "Provider", 1);
    eb_attr(&C, "Name", 1);
    eb_text(&C, "P");
    eb_attr(&C, "EventSourceName", 0);
    eb_text(&C, "S");
    eb_close_empty(&C);
    eb_end(&C);
    eb_end(&C);
    plain_end();
    struct got *g = finish_and_decode();
    REQUIRE(g && g->n == 1);
    CHECK_STR(g->r[0].xml,
              "<Event><System><Provider Name=\"P\" EventSourceName=\"S\"/></System></Event>");
    CHECK_STR(fval(&g->r[0], "Provider_Name"), "P");
    CHECK_STR(fval(&g->r[0], "Provider_EventSourceName"), "S");
    CHECK_STR(g->r[0].provider, "P");
    CHECK_INT(g->r[0].nfields, 2);
}

KZ_TEST(token_close_empty_and_end_element) {
    eb_init(&C);
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    eb_open(&C, "Data", 1);
    eb_attr(&C, "Name", 0);
    eb_text(&C, "Empty");
    eb_close_empty(&C);
    eb_open(&C, "Data", 1);
    eb_attr(&C, "Name", 0);
    eb_text(&C, "Full");
    eb_close_start(&C);
    eb_text(&C, "v");
    eb_end(&C);
    eb_open(&C, "Binary", 0);
    eb_close_start(&C);
    eb_text(&C, "00FF");
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    plain_end();
    struct got *g = finish_and_decode();
    REQUIRE(g && g->n == 1);
    CHECK_STR(g->r[0].xml, "<Event><EventData><Data Name=\"Empty\"/><Data Name=\"Full\">v</Data>"
                           "<Binary>00FF</Binary></EventData></Event>");
    CHECK_STR(fval(&g->r[0], "Empty"), "");
    CHECK_STR(fval(&g->r[0], "Full"), "v");
    CHECK_STR(fval(&g->r[0], "Binary"), "00FF"); /* other EventData children by element name */
}

KZ_TEST(token_end_element_userdata_leaves) {
    eb_init(&C);
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "UserData", 0);
    eb_close_start(&C);
    eb_open(&C, "LogFileCleared", 1);
    eb_attr(&C, "xmlns", 0);
    eb_text(&C, "http://manifests.microsoft.com/win/2004/08/windows/eventlog");
    eb_close_start(&C);
    eb_open(&C, "SubjectUserName", 0);
    eb_close_start(&C);
    eb_text(&C, "bob");
    eb_end(&C);
    eb_open(&C, "Item", 1);
    eb_attr(&C, "Kind", 0);
    eb_text(&C, "k");
    eb_close_empty(&C);
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    plain_end();
    struct got *g = finish_and_decode();
    REQUIRE(g && g->n == 1);
    CHECK_STR(g->r[0].xml,
              "<Event><UserData><LogFileCleared "
              "xmlns=\"http://manifests.microsoft.com/win/2004/08/windows/"
              "eventlog\"><SubjectUserName>bob</SubjectUserName><Item Kind=\"k\"/></LogFileCleared>"
              "</UserData></Event>");
    CHECK_STR(fval(&g->r[0], "SubjectUserName"), "bob");
    CHECK_STR(fval(&g->r[0], "Item_Kind"), "k");
    CHECK(fval(&g->r[0], "LogFileCleared") == NULL); /* not a leaf */
    CHECK(fval(&g->r[0], "LogFileCleared_xmlns") == NULL);
    CHECK_INT(g->r[0].nfields, 2);
    const struct gfield *f = field(&g->r[0], "SubjectUserName");
    if (f) CHECK_INT(f->section, KZ_SEC_USERDATA);
    CHECK_STR(g->r[0].user, "bob");
}

static struct got *data_text_record(void (*content)(void)) {
    eb_init(&C);
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    eb_open(&C, "Data", 0);
    eb_close_start(&C);
    content();
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    plain_end();
    return finish_and_decode();
}

static void content_value_text(void) {
    eb_text(&C, "a<b&\"c\"");
    eb_text(&C, " more");
    eb_text_ansi(&C, " caf\xE9");
}

KZ_TEST(token_value_text) {
    struct got *g = data_text_record(content_value_text);
    REQUIRE(g && g->n == 1);
    /* parts concatenate; ANSI bytes >= 0x80 read as Latin-1 (E9 = U+00E9 = C3 A9) */
    CHECK_STR(fval(&g->r[0], "Data"), "a<b&\"c\" more caf\xC3\xA9");
    CHECK_STR(g->r[0].xml, "<Event><EventData><Data>a&lt;b&amp;&quot;c&quot; more "
                           "caf\xC3\xA9</Data></EventData></Event>");
}

static void content_cdata(void) {
    eb_text(&C, "x");
    eb_cdata(&C, "<y>&");
}

KZ_TEST(token_cdata) {
    struct got *g = data_text_record(content_cdata);
    REQUIRE(g && g->n == 1);
    CHECK_STR(fval(&g->r[0], "Data"), "x<y>&");
    /* the text survives as escaped character data */
    CHECK_STR(g->r[0].xml, "<Event><EventData><Data>x&lt;y&gt;&amp;</Data></EventData></Event>");
}

static void content_charref(void) {
    eb_charref(&C, 'A');
    eb_charref(&C, 0xE9);
    eb_charref(&C, 0x20AC);
    eb_charref(&C, '<');
}

KZ_TEST(token_char_ref) {
    struct got *g = data_text_record(content_charref);
    REQUIRE(g && g->n == 1);
    CHECK_STR(fval(&g->r[0], "Data"), "A\xC3\xA9\xE2\x82\xAC<");
    CHECK_STR(g->r[0].xml,
              "<Event><EventData><Data>A\xC3\xA9\xE2\x82\xAC&lt;</Data></EventData></Event>");
}

static void content_entity(void) {
    eb_entity(&C, "amp");
    eb_entity(&C, "lt");
    eb_entity(&C, "gt");
    eb_entity(&C, "quot");
    eb_entity(&C, "apos");
    eb_text(&C, "!");
    eb_entity(&C, "lt"); /* second use: the name by reference */
}

KZ_TEST(token_entity_ref) {
    struct got *g = data_text_record(content_entity);
    REQUIRE(g && g->n == 1);
    CHECK_STR(fval(&g->r[0], "Data"), "&<>\"'!<");
    CHECK_STR(g->r[0].xml,
              "<Event><EventData><Data>&amp;&lt;&gt;&quot;'!&lt;</Data></EventData></Event>");
}

static void content_pi(void) {
    eb_text(&C, "a");
    eb_pi(&C, "xml-stylesheet", "href=\"x.xsl\"");
    eb_text(&C, "b");
}

KZ_TEST(token_pi_target_and_data_ignored) {
    struct got *g = data_text_record(content_pi);
    REQUIRE(g && g->n == 1);
    CHECK_STR(fval(&g->r[0], "Data"), "ab");
    CHECK_STR(g->r[0].xml, "<Event><EventData><Data>ab</Data></EventData></Event>");
}

KZ_TEST(token_fragment_header_and_eof) {
    eb_init(&C);
    eb_record_begin(&C, 1, FT_WRITTEN);
    eb_fragment_header(&C);
    eb_fragment_header(&C); /* repeated headers are allowed */
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    eb_end(&C);
    eb_end(&C);
    eb_eof(&C);
    eb_u8(&C, 0x01); /* after EOF: never read as a token */
    eb_u8(&C, 0xFF);
    eb_u8(&C, 0x7E);
    eb_record_end(&C);
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->st.bad_records, 0);
    REQUIRE(g->n == 1);
    CHECK_STR(g->r[0].xml, "<Event><EventData/></Event>");
    CHECK_INT(g->r[0].nfields, 0);
}

KZ_TEST(token_template_inline_then_by_reference) {
    eb_init(&C);
    struct eb_template t = {.id = 0xABCD};
    uint8_t v[4];
    for (int i = 0; i < 3; i++) {
        uint32_t x = 40 + (uint32_t)i;
        for (int k = 0; k < 4; k++)
            v[k] = (uint8_t)(x >> 8 * k);
        uint32_t before = C.pos;
        one_value_record(&t, (uint64_t)i + 1, T_U32, v, 4);
        if (i == 0)
            CHECK(C.pos - before > 100); /* the definition is inline once ... */
        else
            CHECK(C.pos - before < 60); /* ... and referred to after */
    }
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.bad_records, 0);
    REQUIRE(g->n == 3);
    CHECK_STR(g->r[0].xml, "<Event><EventData><Data Name=\"X\">40</Data></EventData></Event>");
    CHECK_STR(g->r[1].xml, "<Event><EventData><Data Name=\"X\">41</Data></EventData></Event>");
    CHECK_STR(g->r[2].xml, "<Event><EventData><Data Name=\"X\">42</Data></EventData></Event>");
    CHECK_STR(fval(&g->r[2], "X"), "42");
}

KZ_TEST(token_template_instance_inside_element) {
    /* A plain fragment whose element content is a template instance (evtx_int.h: OP_TEMPLATE):
     * <Event><System><Computer>HOST</Computer>[template: <Channel>%0</Channel>]</System></Event> */
    eb_init(&C);
    struct eb_template t = {.id = 0x77};
    plain_begin(1);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "System", 0);
    eb_close_start(&C);
    eb_open(&C, "Computer", 0);
    eb_close_start(&C);
    eb_text(&C, "HOST");
    eb_end(&C);
    if (eb_template_instance(&C, &t)) {
        eb_fragment_header(&C);
        eb_open(&C, "Channel", 0);
        eb_close_start(&C);
        eb_subst(&C, 0, T_WSTR, 0);
        eb_end(&C);
        eb_eof(&C);
        eb_template_def_end(&C);
    }
    uint8_t tmp[64];
    eb_values_begin(&C, 1);
    eb_value(&C, 0, T_WSTR, tmp, eb_wstr(tmp, "Security", 0));
    eb_end(&C); /* System */
    eb_end(&C); /* Event */
    plain_end();
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_MSG(g->st.bad_records == 0, "record bad: %s", g->problem);
    REQUIRE(g->n == 1);
    CHECK_STR(
        g->r[0].xml,
        "<Event><System><Computer>HOST</Computer><Channel>Security</Channel></System></Event>");
    CHECK_STR(fval(&g->r[0], "Computer"), "HOST");
    CHECK_STR(fval(&g->r[0], "Channel"), "Security");
    CHECK_STR(g->r[0].host, "HOST");
    CHECK_STR(g->r[0].channel, "Security");
    CHECK_INT(g->r[0].nfields, 2);
}

KZ_TEST(token_substitution_normal_and_optional) {
    eb_init(&C);
    struct eb_template t = {.id = 0x99};
    eb_record_begin(&C, 1, FT_WRITTEN);
    eb_fragment_header(&C);
    REQUIRE(eb_template_instance(&C, &t));
    eb_fragment_header(&C);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    const char *names[] = {"Normal", "Optional", "OptNull", "NormNull", "Missing"};
    for (int i = 0; i < 5; i++) {
        eb_open(&C, "Data", 1);
        eb_attr(&C, "Name", 0);
        eb_text(&C, names[i]);
        eb_close_start(&C);
        eb_subst(&C, (uint16_t)(i == 4 ? 9 : i), T_WSTR,
                 i == 1 || i == 2); /* value 9 does not exist */
        eb_end(&C);
    }
    eb_end(&C);
    eb_end(&C);
    eb_eof(&C);
    eb_template_def_end(&C);
    uint8_t tmp[64];
    eb_values_begin(&C, 4);
    eb_value(&C, 0, T_WSTR, tmp, eb_wstr(tmp, "n", 0));
    eb_value(&C, 1, T_WSTR, tmp, eb_wstr(tmp, "o", 0));
    eb_value(&C, 2, T_NULL, NULL, 0);
    eb_value(&C, 3, T_NULL, NULL, 0);
    eb_record_end(&C);
    struct got *g = finish_and_decode();
    REQUIRE(g && g->n == 1);
    /* MS-EVEN6 2.2.12.1: an element holding an optional substitution whose value is NULL is not
     * rendered; a normal substitution of NULL (or of a value that does not exist) renders nothing
     * inside an element that stays. */
    CHECK_STR(g->r[0].xml,
              "<Event><EventData><Data Name=\"Normal\">n</Data><Data Name=\"Optional\">o</Data>"
              "<Data Name=\"NormNull\"/><Data Name=\"Missing\"/>"
              "</EventData></Event>");
    CHECK_STR(fval(&g->r[0], "Normal"), "n");
    CHECK_STR(fval(&g->r[0], "Optional"), "o");
    CHECK(fval(&g->r[0], "OptNull") == NULL);
    CHECK_STR(fval(&g->r[0], "NormNull"), "");
    CHECK_STR(fval(&g->r[0], "Missing"), "");
}

KZ_TEST(token_nested_binxml_value) {
    eb_init(&C);
    struct eb_template outer = {.id = 0x100}, inner = {.id = 0x200};
    eb_record_begin(&C, 1, FT_WRITTEN);
    eb_fragment_header(&C);
    REQUIRE(eb_template_instance(&C, &outer));
    eb_fragment_header(&C);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "UserData", 0);
    eb_close_start(&C);
    eb_subst(&C, 0, T_BINXML, 1);
    eb_end(&C);
    eb_end(&C);
    eb_eof(&C);
    eb_template_def_end(&C);
    eb_values_begin(&C, 1);
    eb_value_begin(&C, 0, T_BINXML);
    {
        /* the value: its own fragment with its own template instance and values */
        eb_fragment_header(&C);
        REQUIRE(eb_template_instance(&C, &inner));
        eb_fragment_header(&C);
        eb_open(&C, "LogFileCleared", 0);
        eb_close_start(&C);
        eb_open(&C, "SubjectUserName", 0);
        eb_close_start(&C);
        eb_subst(&C, 0, T_WSTR, 0);
        eb_end(&C);
        eb_open(&C, "Count", 0);
        eb_close_start(&C);
        eb_subst(&C, 1, T_I32, 0);
        eb_end(&C);
        eb_end(&C);
        eb_eof(&C);
        eb_template_def_end(&C);
        uint8_t tmp[64];
        uint32_t saved_desc = C.vals_desc, saved_count = C.vals_count, saved_start = C.val_start[0];
        eb_values_begin(&C, 2);
        eb_value(&C, 0, T_WSTR, tmp, eb_wstr(tmp, "bob", 0));
        uint8_t m5[4] = {0xFB, 0xFF, 0xFF, 0xFF}; /* -5 */
        eb_value(&C, 1, T_I32, m5, 4);
        C.vals_desc = saved_desc, C.vals_count = saved_count, C.val_start[0] = saved_start;
    }
    eb_value_end(&C, 0);
    eb_record_end(&C);
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->st.bad_records, 0);
    REQUIRE(g->n == 1);
    CHECK_STR(g->r[0].xml, "<Event><UserData><LogFileCleared><SubjectUserName>bob</SubjectUserName>"
                           "<Count>-5</Count></LogFileCleared></UserData></Event>");
    CHECK_STR(fval(&g->r[0], "SubjectUserName"), "bob");
    CHECK_STR(fval(&g->r[0], "Count"), "-5");
    const struct gfield *f = field(&g->r[0], "SubjectUserName");
    if (f) CHECK_INT(f->section, KZ_SEC_USERDATA);
    f = field(&g->r[0], "Count");
    if (f) CHECK_INT(f->kind, KZ_VK_INT);
}

/* ---- one test per value type ---- */

static void le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

KZ_TEST(value_null) {
    value_case("null", T_NULL, NULL, 0, "", -1);
}

KZ_TEST(value_string) {
    uint8_t b[64];
    value_case("wstring", T_WSTR, b, eb_wstr(b, "C:\\Windows\\cmd.exe", 0), "C:\\Windows\\cmd.exe",
               KZ_VK_STRING);
    value_case("wstring NUL", T_WSTR, b, eb_wstr(b, "abc", 1), "abc", KZ_VK_STRING);
    /* U+00E9 and U+1F600 (a surrogate pair) */
    value_case("wstring non-ASCII", T_WSTR, b, eb_wstr(b, "\xC3\xA9\xF0\x9F\x98\x80", 0),
               "\xC3\xA9\xF0\x9F\x98\x80", KZ_VK_STRING);
    uint8_t lone[4] = {0x00, 0xD8, 'x', 0}; /* unpaired high surrogate */
    value_case("wstring lone surrogate", T_WSTR, lone, 4, "\xEF\xBF\xBDx", KZ_VK_STRING);
    value_case("wstring escaped", T_WSTR, b, eb_wstr(b, "a&b", 0), "a&b", KZ_VK_STRING);
}

KZ_TEST(value_ansi_string) {
    value_case("ansi", T_ASTR, "hello", 5, "hello", KZ_VK_STRING);
    value_case("ansi NUL", T_ASTR, "hi\0junk", 7, "hi", KZ_VK_STRING);
    value_case("ansi latin1", T_ASTR, "caf\xE9", 4, "caf\xC3\xA9", KZ_VK_STRING);
}

KZ_TEST(value_int8_uint8) {
    uint8_t b = 0x80;
    value_case("int8 min", T_I8, &b, 1, "-128", KZ_VK_INT);
    b = 0x7F;
    value_case("int8 max", T_I8, &b, 1, "127", KZ_VK_INT);
    b = 0xFF;
    value_case("int8 -1", T_I8, &b, 1, "-1", KZ_VK_INT);
    value_case("uint8 max", T_U8, &b, 1, "255", KZ_VK_INT);
    b = 0;
    value_case("uint8 0", T_U8, &b, 1, "0", KZ_VK_INT);
}

KZ_TEST(value_int16_uint16) {
    uint8_t b[2];
    le(b, 0x8000, 2);
    value_case("int16 min", T_I16, b, 2, "-32768", KZ_VK_INT);
    le(b, 0x7FFF, 2);
    value_case("int16 max", T_I16, b, 2, "32767", KZ_VK_INT);
    le(b, 0xFFFF, 2);
    value_case("uint16 max", T_U16, b, 2, "65535", KZ_VK_INT);
    le(b, 0x1210, 2);
    value_case("uint16 4624", T_U16, b, 2, "4624", KZ_VK_INT);
}

KZ_TEST(value_int32_uint32) {
    uint8_t b[4];
    le(b, 0x80000000u, 4);
    value_case("int32 min", T_I32, b, 4, "-2147483648", KZ_VK_INT);
    le(b, 0x7FFFFFFFu, 4);
    value_case("int32 max", T_I32, b, 4, "2147483647", KZ_VK_INT);
    le(b, 0xFFFFFFFEu, 4);
    value_case("int32 -2", T_I32, b, 4, "-2", KZ_VK_INT);
    le(b, 0xFFFFFFFFu, 4);
    value_case("uint32 max", T_U32, b, 4, "4294967295", KZ_VK_INT);
}

KZ_TEST(value_int64_uint64) {
    uint8_t b[8];
    le(b, 0x8000000000000000ull, 8);
    value_case("int64 min", T_I64, b, 8, "-9223372036854775808", KZ_VK_INT);
    le(b, 0x7FFFFFFFFFFFFFFFull, 8);
    value_case("int64 max", T_I64, b, 8, "9223372036854775807", KZ_VK_INT);
    le(b, (uint64_t)-1000000000000ll, 8);
    value_case("int64 -10^12", T_I64, b, 8, "-1000000000000", KZ_VK_INT);
    le(b, 0xFFFFFFFFFFFFFFFFull, 8);
    value_case("uint64 max", T_U64, b, 8, "18446744073709551615", KZ_VK_INT);
}

KZ_TEST(value_real32_real64) {
    /* exactly representable values, so every correct formatting agrees */
    uint8_t b[8];
    le(b, 0x3FC00000u, 4); /* 1.5f */
    value_case("real32 1.5", T_R32, b, 4, "1.5", KZ_VK_REAL);
    le(b, 0xC0100000u, 4); /* -2.25f */
    value_case("real32 -2.25", T_R32, b, 4, "-2.25", KZ_VK_REAL);
    le(b, 0x4059000000000000ull, 8); /* 100.0 */
    value_case("real64 100", T_R64, b, 8, "100", KZ_VK_REAL);
    le(b, 0xBFD0000000000000ull, 8); /* -0.25 */
    value_case("real64 -0.25", T_R64, b, 8, "-0.25", KZ_VK_REAL);
}

KZ_TEST(value_bool) {
    uint8_t b[4] = {1, 0, 0, 0};
    value_case("bool 1", T_BOOL, b, 4, "true", KZ_VK_BOOL);
    b[0] = 0;
    value_case("bool 0", T_BOOL, b, 4, "false", KZ_VK_BOOL);
    b[2] = 1; /* any non-zero BOOL is true */
    value_case("bool 0x10000", T_BOOL, b, 4, "true", KZ_VK_BOOL);
}

KZ_TEST(value_binary) {
    const uint8_t b[] = {0x00, 0x01, 0xAB, 0xFF, 0x7e};
    value_case("binary", T_BIN, b, sizeof b, "0001ABFF7E", KZ_VK_OTHER);
}

KZ_TEST(value_guid) {
    value_case("guid", T_GUID, SEC_GUID, 16, "{54849625-5478-4994-A5BA-3E3B0328C30D}", KZ_VK_OTHER);
    /* {00112233-4455-6677-8899-AABBCCDDEEFF}: Data1 33 22 11 00, Data2 55 44, Data3 77 66 */
    const uint8_t g[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                           0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
    value_case("guid order", T_GUID, g, 16, "{00112233-4455-6677-8899-AABBCCDDEEFF}", KZ_VK_OTHER);
}

KZ_TEST(value_size_t_4_and_8) {
    uint8_t b[8];
    le(b, 0x1000, 4);
    value_case("sizet 4", T_SIZET, b, 4, "0x1000", KZ_VK_OTHER);
    le(b, 0x00007FF6ABCD0000ull, 8);
    value_case("sizet 8", T_SIZET, b, 8, "0x7ff6abcd0000", KZ_VK_OTHER);
    le(b, 0, 8);
    value_case("sizet 0", T_SIZET, b, 8, "0x0", KZ_VK_OTHER);
}

KZ_TEST(value_filetime) {
    uint8_t b[8];
    le(b, FT_WRITTEN, 8);
    value_case("filetime", T_FILETIME, b, 8, "2016-07-08T18:58:00.3587520Z", KZ_VK_OTHER);
    le(b, 0, 8);
    value_case("filetime 0", T_FILETIME, b, 8, "1601-01-01T00:00:00.0000000Z", KZ_VK_OTHER);
}

KZ_TEST(value_systemtime) {
    /* year, month, day of week, day, hour, minute, second, milliseconds */
    uint16_t st[8] = {2024, 2, 4, 29, 13, 5, 9, 7};
    uint8_t b[16];
    for (int i = 0; i < 8; i++)
        le(b + 2 * i, st[i], 2);
    value_case("systemtime", T_SYSTIME, b, 16, "2024-02-29T13:05:09.007Z", KZ_VK_OTHER);
}

KZ_TEST(value_sid) {
    /* S-1-5-21-3623811015-3361044348-30300820-1013: revision 1, 4 sub-authorities, authority 5
     * (6 bytes big-endian), then the sub-authorities little-endian. */
    const uint8_t sid[] = {0x01, 0x04, 0,    0,    0, 0, 0, 0x05, 0x15, 0x00, 0x00, 0x00, /* 21 */
                           0xC7, 0xF7, 0xFE, 0xD7,  /* 0xD7FEF7C7 = 3623811015 */
                           0x7C, 0x77, 0x55, 0xC8,  /* 0xC855777C = 3361044348 */
                           0x94, 0x5A, 0xCE, 0x01}; /* 0x01CE5A94 = 30300820 */
    uint8_t full[sizeof sid + 4];
    memcpy(full, sid, sizeof sid);
    full[1] = 5;
    le(full + sizeof sid, 1013, 4);
    value_case("sid", T_SID, full, sizeof full, "S-1-5-21-3623811015-3361044348-30300820-1013",
               KZ_VK_OTHER);
    const uint8_t system[] = {0x01, 0x01, 0, 0, 0, 0, 0, 0x05, 0x12, 0, 0, 0}; /* S-1-5-18 */
    value_case("sid system", T_SID, system, sizeof system, "S-1-5-18", KZ_VK_OTHER);
}

KZ_TEST(value_hexint32_64) {
    uint8_t b[8];
    le(b, 0xDEADBEEFu, 4);
    value_case("hexint32", T_HEX32, b, 4, "0xdeadbeef", KZ_VK_OTHER);
    le(b, 0, 4);
    value_case("hexint32 0", T_HEX32, b, 4, "0x0", KZ_VK_OTHER);
    le(b, 0x19d3af, 8);
    value_case("hexint64", T_HEX64, b, 8, "0x19d3af", KZ_VK_OTHER);
    le(b, 0xFFFFFFFFFFFFFFFFull, 8);
    value_case("hexint64 max", T_HEX64, b, 8, "0xffffffffffffffff", KZ_VK_OTHER);
}

/* An array value as the whole content of <Data Name="X"> (the element is repeated per item,
 * MS-EVEN6 2.2.12.1), and after literal text in <Data Name="M"> (items one per line). */
static void array_case(const char *what, uint8_t type, const void *data, size_t len,
                       const char *const *items, int nitems) {
    eb_init(&C);
    struct eb_template t = {.id = 0xA77A};
    eb_record_begin(&C, 1, FT_WRITTEN);
    eb_fragment_header(&C);
    REQUIRE(eb_template_instance(&C, &t));
    eb_fragment_header(&C);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    eb_open(&C, "EventData", 0);
    eb_close_start(&C);
    eb_open(&C, "Data", 1);
    eb_attr(&C, "Name", 0);
    eb_text(&C, "X");
    eb_close_start(&C);
    eb_subst(&C, 0, type, 1);
    eb_end(&C);
    eb_open(&C, "Data", 1);
    eb_attr(&C, "Name", 0);
    eb_text(&C, "M");
    eb_close_start(&C);
    eb_text(&C, "L:");
    eb_subst(&C, 0, type, 1);
    eb_end(&C);
    eb_end(&C);
    eb_end(&C);
    eb_eof(&C);
    eb_template_def_end(&C);
    eb_values_begin(&C, 1);
    eb_value(&C, 0, type, data, len);
    eb_record_end(&C);
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_MSG(g->n == 1 && g->st.bad_records == 0, "%s: %d records, bad %llu (%s)", what, g->n,
              (unsigned long long)g->st.bad_records, g->problem);
    if (g->n != 1) return;
    char xml[4096] = "<Event><EventData>", joined[1024] = "L:", joined_xml[1024] = "L:";
    for (int i = 0; i < nitems; i++) {
        size_t o = strlen(xml);
        snprintf(xml + o, sizeof xml - o, "<Data Name=\"X\">%s</Data>", items[i]);
        o = strlen(joined);
        snprintf(joined + o, sizeof joined - o, "%s%s", i ? "\n" : "", items[i]);
        o = strlen(joined_xml);
        snprintf(joined_xml + o, sizeof joined_xml - o, "%s%s", i ? "&#10;" : "", items[i]);
    }
    size_t o = strlen(xml);
    snprintf(xml + o, sizeof xml - o, "<Data Name=\"M\">%s</Data></EventData></Event>", joined_xml);
    CHECK_MSG(!strcmp(g->r[0].xml, xml), "%s: xml %s, want %s", what, g->r[0].xml, xml);
    int k = 0;
    for (int i = 0; i < g->r[0].nfields; i++) {
        const struct gfield *f = &g->r[0].f[i];
        if (strcmp(f->name, "X")) continue;
        CHECK_MSG(k < nitems && !strcmp(f->val, items[k]), "%s: X #%d = %s", what, k, f->val);
        k++;
    }
    CHECK_MSG(k == nitems, "%s: %d X fields, want %d", what, k, nitems);
    CHECK_MSG(fval(&g->r[0], "M") && !strcmp(fval(&g->r[0], "M"), joined), "%s: M = %s, want %s",
              what, fval(&g->r[0], "M") ? fval(&g->r[0], "M") : "(none)", joined);
}

KZ_TEST(value_string_array) {
    uint8_t b[64];
    size_t n = eb_wstr(b, "first", 1);
    n += eb_wstr(b + n, "second", 1);
    n += eb_wstr(b + n, "x", 1);
    const char *items[] = {"first", "second", "x"};
    array_case("string array", T_WSTR | T_ARRAY, b, n, items, 3);
}

KZ_TEST(value_int_array) {
    uint8_t b[12];
    le(b, 1, 4);
    le(b + 4, 0xFFFFFFFFu, 4);
    le(b + 8, 300, 4);
    const char *u32[] = {"1", "4294967295", "300"};
    array_case("uint32 array", T_U32 | T_ARRAY, b, 12, u32, 3);
    uint8_t s[6];
    le(s, 0xFFFF, 2);
    le(s + 2, 7, 2);
    le(s + 4, 0x8000, 2);
    const char *i16[] = {"-1", "7", "-32768"};
    array_case("int16 array", T_I16 | T_ARRAY, s, 6, i16, 3);
}

/* ---- damaged input ---- */

static void good_chunk(int records) {
    eb_init(&C);
    struct eb_template t = {.id = 0x1234};
    uint8_t b[64];
    for (int i = 0; i < records; i++)
        one_value_record(&t, (uint64_t)i + 1, T_WSTR, b, eb_wstr(b, "bob", 0));
    eb_finish(&C);
}

KZ_TEST(damaged_bad_chunk_signature) {
    good_chunk(2);
    C.b[3] = 'X';
    struct got *g = decode(C.b, sizeof C.b);
    REQUIRE(g);
    CHECK_INT(g->rc, KZ_EFORMAT);
    CHECK_INT(g->st.bad_chunks, 1);
    CHECK_INT(g->st.records, 0);
    CHECK_INT(g->n, 0);
    CHECK(g->nproblems >= 1);
    eb_release(&C);
}

KZ_TEST(damaged_data_checksum_records_still_read) {
    good_chunk(2);
    /* change 'b' of the second record's "bob" to 'c' without fixing the checksum */
    uint32_t at = 0;
    for (uint32_t i = C.last_rec; i + 6 <= C.pos; i++)
        if (!memcmp(C.b + i, "b\0o\0b\0", 6)) at = i;
    REQUIRE(at);
    C.b[at] = 'c';
    struct kz_evtx_chunk_header h;
    REQUIRE(kz_evtx_parse_chunk_header(C.b, sizeof C.b, &h) == 0);
    CHECK(h.header_checksum_ok);
    CHECK(!h.data_checksum_ok);
    struct got *g = decode(C.b, sizeof C.b);
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.checksum_errors, 1);
    CHECK_INT(g->st.records, 2);
    CHECK_INT(g->st.bad_records, 0);
    if (g->n == 2) CHECK_STR(fval(&g->r[1], "X"), "cob");
    eb_release(&C);
}

KZ_TEST(damaged_header_checksum_records_still_read) {
    good_chunk(1);
    C.b[100] ^= 0x55; /* reserved header bytes, covered by the header checksum */
    struct kz_evtx_chunk_header h;
    REQUIRE(kz_evtx_parse_chunk_header(C.b, sizeof C.b, &h) == 0);
    CHECK(!h.header_checksum_ok);
    CHECK(h.data_checksum_ok);
    struct got *g = decode(C.b, sizeof C.b);
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.checksum_errors, 1);
    CHECK_INT(g->st.records, 1);
    eb_release(&C);
}

KZ_TEST(damaged_zero_size_record_resync) {
    eb_init(&C);
    struct eb_template t = {.id = 0x1234};
    uint8_t b[64];
    one_value_record(&t, 1, T_WSTR, b, eb_wstr(b, "one", 0));
    /* a record header whose size is 0 */
    eb_bytes(&C, "**\0\0", 4);
    eb_u32(&C, 0);
    eb_u64(&C, 2);
    eb_u64(&C, FT_WRITTEN);
    eb_u32(&C, 0);
    one_value_record(&t, 3, T_WSTR, b, eb_wstr(b, "three", 0));
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.records, 2);
    CHECK_INT(g->st.bad_records, 1);
    REQUIRE(g->n == 2);
    CHECK_INT(g->r[0].record_id, 1);
    CHECK_INT(g->r[1].record_id, 3);
    CHECK_STR(fval(&g->r[1], "X"), "three");
    CHECK(g->nproblems >= 1);
}

KZ_TEST(damaged_truncated_chunk) {
    good_chunk(2);
    struct got *g = decode(C.b, 300); /* not even a whole header */
    REQUIRE(g);
    CHECK_INT(g->rc, KZ_EFORMAT);
    CHECK_INT(g->st.bad_chunks, 1);
    /* cut inside the second record: the first is decoded, the second counted bad */
    uint32_t cut = C.last_rec + 40;
    g = decode(C.b, cut);
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.records, 1);
    CHECK_INT(g->st.bad_records, 1);
    REQUIRE(g->n == 1);
    CHECK_INT(g->r[0].record_id, 1);
    CHECK_STR(fval(&g->r[0], "X"), "bob");
    eb_release(&C);
}

KZ_TEST(damaged_template_refers_to_itself) {
    eb_init(&C);
    struct eb_template self = {.id = 0x5E1F}, ok = {.id = 0x600D};
    eb_record_begin(&C, 1, FT_WRITTEN);
    eb_fragment_header(&C);
    REQUIRE(eb_template_instance(&C, &self));
    eb_fragment_header(&C);
    eb_open(&C, "Event", 0);
    eb_close_start(&C);
    CHECK(eb_template_instance(&C, &self) == 0); /* by reference to the definition being written */
    eb_values_begin(&C, 0);
    eb_end(&C);
    eb_eof(&C);
    eb_template_def_end(&C);
    eb_values_begin(&C, 0);
    eb_record_end(&C);
    uint8_t b[64];
    one_value_record(&ok, 2, T_WSTR, b, eb_wstr(b, "fine", 0));
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.bad_records, 1);
    CHECK_INT(g->st.records, 1);
    REQUIRE(g->n == 1);
    CHECK_INT(g->r[0].record_id, 2);
    CHECK_STR(fval(&g->r[0], "X"), "fine");
}

static struct got *nested_elements(int depth) {
    eb_init(&C);
    plain_begin(1);
    for (int i = 0; i < depth; i++) {
        eb_open(&C, i == 0 ? "Event" : "E", 0);
        eb_close_start(&C);
    }
    eb_text(&C, "deep");
    for (int i = 0; i < depth; i++)
        eb_end(&C);
    plain_end();
    return finish_and_decode();
}

KZ_TEST(damaged_nesting_beyond_limit) {
    struct got *g = nested_elements(64); /* EVTX_MAX_DEPTH: still allowed */
    REQUIRE(g);
    CHECK_INT(g->st.records, 1);
    CHECK_INT(g->st.bad_records, 0);
    if (g->n == 1) CHECK_STR(fval(&g->r[0], "E"), "deep");
    g = nested_elements(65);
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.records, 0);
    CHECK_INT(g->st.bad_records, 1);
    g = nested_elements(1000);
    REQUIRE(g);
    CHECK_INT(g->st.records, 0);
    CHECK_INT(g->st.bad_records, 1);
}

static struct got *many_values(uint32_t count) {
    eb_init(&C);
    struct eb_template t = {.id = 0x4096};
    eb_record_begin(&C, 1, FT_WRITTEN);
    eb_fragment_header(&C);
    if (eb_template_instance(&C, &t)) {
        data_template_body("X", T_WSTR, 1);
        eb_template_def_end(&C);
    }
    if (count <= EB_MAX_VALUES)
        eb_values_begin(&C, count); /* all NULL, 0 bytes */
    else
        eb_u32(&C, count); /* a count with no descriptors behind it */
    eb_record_end(&C);
    return finish_and_decode();
}

KZ_TEST(damaged_substitution_count_beyond_limit) {
    struct got *g = many_values(4096); /* EVTX_MAX_VALUES: allowed */
    REQUIRE(g);
    CHECK_INT(g->st.records, 1);
    CHECK_INT(g->st.bad_records, 0);
    g = many_values(4097);
    REQUIRE(g);
    CHECK_INT(g->rc, 0);
    CHECK_INT(g->st.records, 0);
    CHECK_INT(g->st.bad_records, 1);
    /* a count far beyond the record, read from damaged bytes */
    g = many_values(0x7FFFFFFF);
    REQUIRE(g);
    CHECK_INT(g->st.records, 0);
    CHECK_INT(g->st.bad_records, 1);
}

KZ_TEST(damaged_value_runs_past_record) {
    eb_init(&C);
    struct eb_template t = {.id = 0x1234};
    uint8_t b[64];
    size_t n = eb_wstr(b, "abc", 0);
    one_value_record(&t, 1, T_WSTR, b, n);
    /* descriptor 0 of the record's values claims 60000 bytes */
    uint32_t desc = C.vals_desc;
    C.b[desc] = 0x60, C.b[desc + 1] = 0xEA;
    one_value_record(&t, 2, T_WSTR, b, n);
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->st.bad_records, 1);
    CHECK_INT(g->st.records, 1);
    if (g->n == 1) CHECK_INT(g->r[0].record_id, 2);
}

KZ_TEST(damaged_name_offset_outside_chunk) {
    eb_init(&C);
    plain_begin(1);
    eb_u8(&C, 0x01);
    eb_u16(&C, 0xFFFF);
    eb_u32(&C, 0);
    eb_u32(&C, 0x00FFFFF0); /* name offset far outside */
    eb_close_start(&C);
    eb_eof(&C);
    eb_record_end(&C);
    uint8_t b[64];
    struct eb_template t = {.id = 1};
    one_value_record(&t, 2, T_WSTR, b, eb_wstr(b, "ok", 0));
    struct got *g = finish_and_decode();
    REQUIRE(g);
    CHECK_INT(g->st.bad_records, 1);
    CHECK_INT(g->st.records, 1);
}

KZ_TEST(failure_injection_decode) {
    eb_init(&C);
    struct eb_template t = {.id = 0x4624};
    system_record(&t, 42, "alice", "bob");
    system_record(&t, 43, "carol", "dave");
    eb_finish(&C);
    /* warm up: names are interned once per process, outside the counted allocations */
    struct got *g = decode(C.b, sizeof C.b);
    REQUIRE(g && g->n == 2);
    size_t base = kz_alloc_in_use();
    int succeeded = 0;
    for (long i = 0; i < 2000 && !succeeded; i++) {
        g = calloc(1, sizeof *g);
        REQUIRE(g);
        kz_alloc_fail_after(i);
        struct kz_evtx_decoder *d = kz_evtx_decoder_new();
        if (d) {
            g->rc = kz_evtx_decode_chunk(d, C.b, sizeof C.b, 0, 0, on_rec, on_problem, g, &g->st);
            kz_evtx_decoder_free(d);
        }
        long failures = kz_alloc_failures();
        kz_alloc_fail_never();
        if (d) {
            CHECK_MSG(g->rc == 0 || g->rc == KZ_ENOMEM, "fail after %ld: rc %d", i, g->rc);
            if (g->rc == 0 && failures == 0) {
                succeeded = 1;
                CHECK_INT(g->st.records, 2);
                CHECK_INT(g->st.bad_records, 0);
                if (g->n == 2) {
                    CHECK_STR(g->r[0].xml, SYSTEM_XML);
                    CHECK_STR(fval(&g->r[1], "TargetUserName"), "dave");
                }
            }
        }
        CHECK_MSG(kz_alloc_in_use() == base, "fail after %ld: %zu bytes leaked", i,
                  kz_alloc_in_use() - base);
        free(g);
    }
    CHECK(succeeded);
    eb_release(&C);
}

/* ---- the file reader ---- */

struct reader_ctx {
    char out[4096];
    size_t len;
    int reports;
};

static void reader_emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                        uint32_t file_id, struct kz_buf *out) {
    kz_buf_put_u64(out, rec->record_id);
    kz_buf_putc(out, ':');
    const struct kz_field *f = kz_event_field(rec->event, kz_intern("X", 1));
    kz_buf_puts(out, f ? f->val : "?");
    kz_buf_putc(out, '\n');
}

static void reader_write(void *ctx, const char *data, size_t len) {
    struct reader_ctx *r = ctx;
    if (r->len + len < sizeof r->out) memcpy(r->out + r->len, data, len), r->len += len;
    r->out[r->len] = 0;
}

static void reader_report(void *ctx, const char *path, const char *msg) {
    ((struct reader_ctx *)ctx)->reports++;
}

static int read_file(const char *path, int slack, struct reader_ctx *rc, struct kz_evtx_stats *st) {
    struct kz_pool *pool = kz_pool_new(2);
    if (!pool) return KZ_ENOMEM;
    struct kz_evtx_reader_opts o = {.slack = slack,
                                    .window = 2,
                                    .emit = reader_emit,
                                    .write = reader_write,
                                    .report = reader_report,
                                    .ctx = rc};
    struct kz_evtx_reader *r = kz_evtx_reader_new(pool, &o);
    if (!r) {
        kz_pool_free(pool);
        return KZ_ENOMEM;
    }
    struct kz_err err = {0};
    int ret = kz_evtx_reader_add_file(r, path, 0, &err);
    kz_evtx_reader_flush(r);
    *st = *kz_evtx_reader_stats(r);
    kz_evtx_reader_free(r);
    kz_pool_free(pool);
    return ret;
}

static uint8_t *chunk_copy(uint64_t first_id, int records, const char *val) {
    eb_init(&C);
    struct eb_template t = {.id = 0x1234};
    uint8_t b[64];
    for (int i = 0; i < records; i++)
        one_value_record(&t, first_id + (uint64_t)i, T_WSTR, b, eb_wstr(b, val, 0));
    eb_finish(&C);
    eb_release(&C);
    uint8_t *p = malloc(EB_CHUNK_SIZE);
    if (p) memcpy(p, C.b, EB_CHUNK_SIZE);
    return p;
}

KZ_TEST(reader_reads_chunks_in_order) {
    uint8_t *c0 = chunk_copy(1, 2, "a"), *c1 = chunk_copy(3, 1, "b"), *c2 = chunk_copy(4, 2, "c");
    REQUIRE(c0 && c1 && c2);
    const uint8_t *chunks[] = {c0, c1, c2};
    char path[64];
    struct reader_ctx rc;
    struct kz_evtx_stats st;

    /* a clean header counting all three chunks */
    REQUIRE(eb_write_file(chunks, 3, 3, 0, 6, path) == 0);
    memset(&rc, 0, sizeof rc);
    CHECK_INT(read_file(path, 0, &rc, &st), 0);
    CHECK_STR(rc.out, "1:a\n2:a\n3:b\n4:c\n5:c\n");
    CHECK_INT(st.records, 5);
    CHECK_INT(st.chunks, 3);
    CHECK_INT(st.bad_records + st.bad_chunks + st.checksum_errors, 0);
    CHECK_INT(rc.reports, 0);
    unlink(path);

    /* a clean header counting two: the third chunk is not in use (read only with slack) */
    REQUIRE(eb_write_file(chunks, 3, 2, 0, 4, path) == 0);
    memset(&rc, 0, sizeof rc);
    CHECK_INT(read_file(path, 0, &rc, &st), 0);
    CHECK_STR(rc.out, "1:a\n2:a\n3:b\n");
    CHECK_INT(st.records, 3);
    memset(&rc, 0, sizeof rc);
    CHECK_INT(read_file(path, 1, &rc, &st), 0);
    CHECK_STR(rc.out, "1:a\n2:a\n3:b\n4:c\n5:c\n");
    CHECK_INT(st.slack_records, 2);
    unlink(path);

    /* a dirty header (flag bit 0) cannot be trusted: all chunks are read */
    REQUIRE(eb_write_file(chunks, 3, 2, 1, 4, path) == 0);
    memset(&rc, 0, sizeof rc);
    CHECK_INT(read_file(path, 0, &rc, &st), 0);
    CHECK_STR(rc.out, "1:a\n2:a\n3:b\n4:c\n5:c\n");
    unlink(path);

    /* not an EVTX file */
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("this is not an event log, just text long enough", f);
        fclose(f);
        memset(&rc, 0, sizeof rc);
        CHECK_INT(read_file(path, 0, &rc, &st), KZ_EFORMAT);
        unlink(path);
    }
    free(c0);
    free(c1);
    free(c2);
}

/* ---- python-evtx's test files (../shared/data) ---- */

static char *shared_path(const char *name) {
    static char path[4096];
    const char *root = kz_test_shared();
    if (!root) return NULL;
    snprintf(path, sizeof path, "%s/evtx/python-evtx-tests/tests/data/%s", root, name);
    if (access(path, R_OK)) return NULL;
    return path;
}

struct scan {
    uint64_t want_id;
    const char *want_field;
    int found;
    char val[256];
    int64_t ts;
    uint64_t records, first_id, last_id;
};

static void scan_rec(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct scan *s = ctx;
    if (!s->records++) s->first_id = rec->record_id;
    s->last_id = rec->record_id;
    if (s->found || (s->want_id && rec->record_id != s->want_id)) return;
    const struct kz_field *f =
        kz_event_field(rec->event, kz_intern(s->want_field, strlen(s->want_field)));
    if (!f) return;
    s->found = 1;
    snprintf(s->val, sizeof s->val, "%s", f->val);
    s->ts = rec->event->ts;
}

/* Decodes chunks [from, to) of a whole file held in memory. */
static void scan_file(const unsigned char *p, size_t n, size_t from, size_t to, struct scan *s) {
    struct kz_evtx_decoder *d = kz_evtx_decoder_new();
    if (!d) return;
    struct kz_evtx_stats st = {0};
    for (size_t i = from; i < to && 4096 + i * 65536 < n; i++) {
        size_t off = 4096 + i * 65536;
        size_t len = n - off < 65536 ? n - off : 65536;
        kz_evtx_decode_chunk(d, p + off, len, 0, 0, scan_rec, NULL, s, &st);
    }
    kz_evtx_decoder_free(d);
}

KZ_TEST(shared_python_evtx_system_header_and_chunks) {
    char *path = shared_path("system.evtx");
    if (!path) {
        kz_test_skip("../shared/data/evtx/python-evtx-tests not present");
        return;
    }
    size_t n;
    unsigned char *p = kz_test_read_file(path, &n);
    REQUIRE(p && n > 4096);
    struct kz_evtx_header h;
    REQUIRE(kz_evtx_parse_header(p, n, &h) == 0);
    CHECK_INT(h.major, 3);
    CHECK_INT(h.minor, 1);
    CHECK_INT(h.flags, 1); /* dirty, not full */
    CHECK_INT(h.last_chunk, 8);
    CHECK_INT(h.chunk_count, 9);
    CHECK_INT(h.first_chunk, 0);
    CHECK_INT(h.next_record_id, 0x34D8);
    CHECK_INT(h.checksum, 0x41B4B1EC);
    CHECK(h.checksum_ok);
    /* python-evtx's (file_first, file_last, log_first, log_last) are the chunk header's fields at
     * offsets 8, 16, 24, 32: kizuki's first/last_record_num and first/last_record_id. */
    static const uint64_t want[9][4] = {
        {1, 153, 12049, 12201},     {154, 336, 12202, 12384},   {337, 526, 12385, 12574},
        {527, 708, 12575, 12756},   {709, 882, 12757, 12930},   {883, 1059, 12931, 13107},
        {1060, 1241, 13108, 13289}, {1242, 1424, 13290, 13472}, {1425, 1601, 13473, 13649},
    };
    for (size_t i = 0; i < 9; i++) {
        struct kz_evtx_chunk_header ch;
        REQUIRE(4096 + (i + 1) * 65536 <= n);
        REQUIRE(kz_evtx_parse_chunk_header(p + 4096 + i * 65536, 65536, &ch) == 0);
        CHECK_INT(ch.first_record_num, want[i][0]);
        CHECK_INT(ch.last_record_num, want[i][1]);
        CHECK_INT(ch.first_record_id, want[i][2]);
        CHECK_INT(ch.last_record_id, want[i][3]);
    }
    /* the records of chunk 0 carry EventRecordIDs 12049..12201, all of them decodable */
    struct scan s = {.want_field = "EventID"};
    scan_file(p, n, 0, 1, &s);
    CHECK_INT(s.records, 153);
    CHECK_INT(s.first_id, 12049);
    CHECK_INT(s.last_id, 12201);
    kz_free(p);
}

KZ_TEST(shared_python_evtx_security_header) {
    char *path = shared_path("security.evtx");
    if (!path) {
        kz_test_skip("../shared/data/evtx/python-evtx-tests not present");
        return;
    }
    size_t n;
    unsigned char *p = kz_test_read_file(path, &n);
    REQUIRE(p && n > 4096);
    struct kz_evtx_header h;
    REQUIRE(kz_evtx_parse_header(p, n, &h) == 0);
    CHECK_INT(h.major, 3);
    CHECK_INT(h.minor, 1);
    CHECK_INT(h.flags, 1);
    CHECK_INT(h.last_chunk, 0x19);
    CHECK_INT(h.chunk_count, 0x1A);
    CHECK_INT(h.first_chunk, 0);
    CHECK_INT(h.next_record_id, 0x8B2);
    CHECK_INT(h.checksum, 0x3F6E33D5);
    CHECK(h.checksum_ok);
    kz_free(p);
}

KZ_TEST(shared_python_evtx_issue_38_hexint64) {
    char *path = shared_path("issue_38.evtx");
    if (!path) {
        kz_test_skip("../shared/data/evtx/python-evtx-tests not present");
        return;
    }
    size_t n;
    unsigned char *p = kz_test_read_file(path, &n);
    REQUIRE(p);
    struct scan s = {.want_field = "SubjectLogonId"};
    scan_file(p, n, 0, (n - 4096 + 65535) / 65536, &s);
    CHECK(s.found);
    if (s.found) {
        /* python-evtx prints 0x000000000019d3af; kizuki's form is unpadded (binxml_value.c) */
        CHECK_INT(strtoull(s.val, NULL, 16), 0x19d3af);
        CHECK_STR(s.val, "0x19d3af");
    }
    kz_free(p);
}

KZ_TEST(shared_python_evtx_issue_39_time_created) {
    char *path = shared_path("issue_39.evtx");
    if (!path) {
        kz_test_skip("../shared/data/evtx/python-evtx-tests not present");
        return;
    }
    size_t n;
    unsigned char *p = kz_test_read_file(path, &n);
    REQUIRE(p);
    struct scan s = {.want_id = 129, .want_field = "TimeCreated_SystemTime"};
    scan_file(p, n, 0, (n - 4096 + 65535) / 65536, &s);
    CHECK(s.found);
    if (s.found) {
        /* 2017-04-21 07:41:17.003393 UTC = 1492760477 s after 1970 (day 17277 * 86400 + 27677 s);
         * python-evtx shows microseconds, so the 7th digit is not known */
        CHECK_MSG(!strncmp(s.val, "2017-04-21T07:41:17.003393", 26), "TimeCreated %s", s.val);
        CHECK_INT(s.ts / 10, 1492760477LL * 1000000 + 3393);
    }
    kz_free(p);
}
