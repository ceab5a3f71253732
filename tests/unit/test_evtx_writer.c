/* test_evtx_writer.c - the EVTX writer (src/sim/evtx_writer.c), read back by kizuki's decoder, by
 * `kizuki dump` and, when installed, by Debian's evtxexport.
 *
 * Expected texts are computed here from the values' parts (a SID from its authority and
 * sub-authorities, a FILETIME from a calendar date, a GUID from its fields), not with the writer's
 * or the decoder's helpers, so a shared mistake cannot hide. Files go to a temporary directory that
 * every test removes. */
#include "unit.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/intern.h"
#include "input/evtx/evtx.h"
#include "sim/evtx_writer.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temporary files ---- */

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char p[160];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/kz_evtxw_XXXXXX");
        if (!mkdtemp(tmpdir)) tmpdir[0] = 0;
    }
    mkdir(tmpdir, 0700); /* again, in case a test removed it when it was empty */
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

/* KZ_TEST_KEEP=1 keeps the files, to look at them with other tools. */
static void tmp_remove(const char *name) {
    if (getenv("KZ_TEST_KEEP")) return;
    unlink(tmp_path(name));
    rmdir(tmpdir); /* when it is empty */
}

/* ---- independent expectations ---- */

/* Days from 1601-01-01 to y-m-d (proleptic Gregorian), counted the slow way. */
static int64_t days_since_1601(int y, int m, int d) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int yy = 1601; yy < y; yy++)
        days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    for (int mm = 1; mm < m; mm++)
        days += mdays[mm - 1] + (mm == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
    return days + d - 1;
}

struct date {
    int y, mo, d, h, mi, s;
    uint32_t ticks; /* 100 ns units below the second */
};

static uint64_t filetime_of(const struct date *t) {
    return ((uint64_t)days_since_1601(t->y, t->mo, t->d) * 86400 + (uint64_t)t->h * 3600 +
            (uint64_t)t->mi * 60 + (uint64_t)t->s) *
               10000000ull +
           t->ticks;
}

static void date_text(const struct date *t, int digits, char *out, size_t cap) {
    if (digits == 7)
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%07uZ", t->y, t->mo, t->d, t->h, t->mi,
                 t->s, t->ticks);
    else
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", t->y, t->mo, t->d, t->h, t->mi,
                 t->s, t->ticks / 10000);
}

static void guid_text(const struct kz_evtx_guid *g, char *out, size_t cap) {
    snprintf(out, cap, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", (unsigned)g->data1,
             g->data2, g->data3, g->data4[0], g->data4[1], g->data4[2], g->data4[3], g->data4[4],
             g->data4[5], g->data4[6], g->data4[7]);
}

static void sid_text(const struct kz_evtx_sid *s, char *out, size_t cap) {
    int n = snprintf(out, cap, "S-%u-%llu", s->revision, (unsigned long long)s->authority);
    for (int i = 0; i < s->count && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "-%u", (unsigned)s->sub[i]);
}

/* ---- reading files back with kizuki's decoder ---- */

#define MAXF 96

struct rfield {
    char name[64];
    char val[512];
};

struct rrec {
    uint64_t record_id;
    int nfields;
    struct rfield f[MAXF];
    char xml[6144];
};

struct readback {
    struct rrec *r; /* kept when keep is set */
    uint64_t n, cap;
    int keep;
    uint64_t last_id; /* ids must run 1, 2, 3... */
    int ids_continuous;
    struct kz_evtx_stats st;
    int chunks, chunk_checksums_ok, chunks_inline_first; /* chunks whose first record defines its
                                                          * template inline */
    struct kz_evtx_header fh;
    int file_ok;
    int nproblems;
    char problem[256];
    void (*check)(void *ctx, const struct rrec *r); /* called for every record */
    void *check_ctx;
};

static void rb_on_rec(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    struct readback *rb = ctx;
    struct rrec tmp, *r = &tmp;
    if (rb->keep) {
        if (rb->n == rb->cap) {
            uint64_t cap = rb->cap ? rb->cap * 2 : 64;
            struct rrec *p = realloc(rb->r, cap * sizeof *p);
            if (!p) return;
            rb->r = p, rb->cap = cap;
        }
        r = &rb->r[rb->n];
    }
    rb->n++;
    if (rec->record_id != rb->last_id + 1) rb->ids_continuous = 0;
    rb->last_id = rec->record_id;
    r->record_id = rec->record_id;
    r->nfields = 0;
    const struct kz_event *ev = rec->event;
    for (uint32_t i = 0; i < ev->nfields && r->nfields < MAXF; i++) {
        struct rfield *f = &r->f[r->nfields++];
        snprintf(f->name, sizeof f->name, "%s", kz_intern_name(ev->fields[i].name));
        snprintf(f->val, sizeof f->val, "%s", ev->fields[i].val);
    }
    struct kz_buf b;
    kz_buf_init(&b, 1 << 20);
    if (kz_evtx_render_xml(d, rec, &b) == 0 && b.data)
        snprintf(r->xml, sizeof r->xml, "%s", b.data);
    else
        r->xml[0] = 0;
    kz_buf_free(&b);
    if (rb->check) rb->check(rb->check_ctx, r);
}

static void rb_on_problem(void *ctx, uint32_t off, uint64_t id, const char *msg) {
    struct readback *rb = ctx;
    rb->nproblems++;
    snprintf(rb->problem, sizeof rb->problem, "record %llu at %u: %s", (unsigned long long)id, off,
             msg);
}

/* Decodes every chunk of the file at path. */
static int read_back(const char *path, struct readback *rb) {
    rb->ids_continuous = 1;
    size_t len;
    unsigned char *data = kz_test_read_file(path, &len);
    if (!data) return -1;
    int rc = -1;
    if (len < KZ_EVTX_FILE_HEADER_SIZE || (len - KZ_EVTX_FILE_HEADER_SIZE) % KZ_EVTX_CHUNK_SIZE)
        goto out;
    if (kz_evtx_parse_header(data, len, &rb->fh)) goto out;
    rb->file_ok = rb->fh.checksum_ok && rb->fh.major == 3 && rb->fh.minor == 1 &&
                  rb->fh.header_size == 128 && rb->fh.block_size == 4096;
    struct kz_evtx_decoder *d = kz_evtx_decoder_new();
    if (!d) goto out;
    rb->chunk_checksums_ok = 1;
    uint64_t prev_last = 0;
    for (size_t off = KZ_EVTX_FILE_HEADER_SIZE; off < len; off += KZ_EVTX_CHUNK_SIZE) {
        const uint8_t *c = data + off;
        struct kz_evtx_chunk_header ch;
        if (kz_evtx_parse_chunk_header(c, KZ_EVTX_CHUNK_SIZE, &ch)) {
            rb->chunk_checksums_ok = 0;
            continue;
        }
        if (!ch.header_checksum_ok || !ch.data_checksum_ok) rb->chunk_checksums_ok = 0;
        if (ch.first_record_id != prev_last + 1) rb->ids_continuous = 0;
        prev_last = ch.last_record_id;
        /* First record: "**\0\0" size id time, fragment header, then 0c 01 id(4) offset(4): an
         * inline definition sits right after the offset field. */
        uint32_t def_off = (uint32_t)(c[512 + 34] | c[512 + 35] << 8 | c[512 + 36] << 16 |
                                      (uint32_t)c[512 + 37] << 24);
        if (c[512 + 28] == 0x0c && def_off == 512 + 38) rb->chunks_inline_first++;
        rb->chunks++;
        kz_evtx_decode_chunk(d, c, KZ_EVTX_CHUNK_SIZE, 0, 0, rb_on_rec, rb_on_problem, rb, &rb->st);
    }
    kz_evtx_decoder_free(d);
    rc = 0;
out:
    kz_free(data);
    return rc;
}

static const char *rfield(const struct rrec *r, const char *name) {
    for (int i = 0; i < r->nfields; i++)
        if (!strcmp(r->f[i].name, name)) return r->f[i].val;
    return NULL;
}

/* How many fields named name the record has. */
static int rcount(const struct rrec *r, const char *name) {
    int n = 0;
    for (int i = 0; i < r->nfields; i++)
        n += !strcmp(r->f[i].name, name);
    return n;
}

/* ---- an event with every value type ---- */

static const struct kz_evtx_guid SEC_GUID = {
    0x54849625, 0x5478, 0x4994, {0xA5, 0xBA, 0x3E, 0x3B, 0x03, 0x28, 0xC3, 0x0D}};

enum {
    I_WSTR,
    I_ASTR,
    I_I8,
    I_U8,
    I_I16,
    I_U16,
    I_I32,
    I_U32,
    I_I64,
    I_U64,
    I_R32,
    I_R64,
    I_BOOL,
    I_BIN,
    I_GUID,
    I_SIZET,
    I_FILETIME,
    I_SYSTIME,
    I_SID,
    I_HEX32,
    I_HEX64,
    I_WARR,
    I_U16ARR,
    I_OPTNULL,
    I_NULL,
    I_UNICODE,
    NITEMS
};

static const struct kz_evtx_item ALL_ITEMS[NITEMS] = {
    {"WStr", KZ_EVTX_VT_WSTRING, 0},
    {"AStr", KZ_EVTX_VT_ASTRING, 0},
    {"I8", KZ_EVTX_VT_INT8, 0},
    {"U8", KZ_EVTX_VT_UINT8, 0},
    {"I16", KZ_EVTX_VT_INT16, 0},
    {"U16", KZ_EVTX_VT_UINT16, 0},
    {"I32", KZ_EVTX_VT_INT32, 0},
    {"U32", KZ_EVTX_VT_UINT32, 0},
    {"I64", KZ_EVTX_VT_INT64, 0},
    {"U64", KZ_EVTX_VT_UINT64, 0},
    {"R32", KZ_EVTX_VT_REAL32, 0},
    {"R64", KZ_EVTX_VT_REAL64, 0},
    {"Flag", KZ_EVTX_VT_BOOL, 0},
    {"Bin", KZ_EVTX_VT_BINARY, 0},
    {"Guid", KZ_EVTX_VT_GUID, 0},
    {"Size", KZ_EVTX_VT_SIZET, 0},
    {"FileTime", KZ_EVTX_VT_FILETIME, 0},
    {"SysTime", KZ_EVTX_VT_SYSTIME, 0},
    {"Sid", KZ_EVTX_VT_SID, 0},
    {"Hex32", KZ_EVTX_VT_HEXINT32, 0},
    {"Hex64", KZ_EVTX_VT_HEXINT64, 0},
    {"Names", KZ_EVTX_VT_WSTRING | KZ_EVTX_VT_ARRAY, 0},
    {"Ports", KZ_EVTX_VT_UINT16 | KZ_EVTX_VT_ARRAY, 0},
    {"OptNull", KZ_EVTX_VT_WSTRING, 1},
    {"NormNull", KZ_EVTX_VT_WSTRING, 0},
    {"Unicode", KZ_EVTX_VT_WSTRING, 0},
};

/* Everything event i holds, in the caller's memory. */
struct ev_all {
    char wstr[64], astr[64], names[3][16];
    const char *name_ptrs[3];
    uint16_t ports[2];
    uint8_t bin[6];
    struct kz_evtx_guid guid, activity;
    struct kz_evtx_sid sid, user;
    struct date ft, created;
    struct kz_evtx_systime st;
    struct kz_evtx_value v[NITEMS];
    struct kz_evtx_event ev;
};

static void make_event(struct ev_all *e, uint32_t tmpl, int i) {
    memset(e, 0, sizeof *e);
    snprintf(e->wstr, sizeof e->wstr, "user%d", i);
    snprintf(e->astr, sizeof e->astr, "ansi-%d", i * 7);
    for (int k = 0; k < 3; k++) {
        snprintf(e->names[k], sizeof e->names[k], "n%d_%d", i, k);
        e->name_ptrs[k] = e->names[k];
    }
    e->ports[0] = (uint16_t)(445 + i), e->ports[1] = 3389;
    for (int k = 0; k < 6; k++)
        e->bin[k] = (uint8_t)((0xA0 + i + k) & 0xFF);
    e->guid = (struct kz_evtx_guid){0xDEADBEEFu - (uint32_t)i,
                                    (uint16_t)(0x1234 + i),
                                    0xABCD,
                                    {1, 2, 3, 4, 5, 6, 7, (uint8_t)i}};
    e->activity = (struct kz_evtx_guid){(uint32_t)i, 0, 0x4000, {0x80, 0, 0, 0, 0, 0, 0, 1}};
    e->sid = (struct kz_evtx_sid){
        1, 5, 5, {21, 1004336348u, 1177238915u, 682003330u, (uint32_t)(1000 + i)}};
    e->user = (struct kz_evtx_sid){1, 1, 5, {18}};
    e->ft = (struct date){2021, 12, 31, 23, 59, i % 60, (uint32_t)(1234567 + i)};
    e->created = (struct date){2020, 2, 29, 13, i % 60, 7, (uint32_t)(i * 1000)};
    e->st =
        (struct kz_evtx_systime){2021, 10, 0, 3, 4, 5, (uint16_t)(i % 60), (uint16_t)(i % 1000)};
    e->st.day_of_week = 0; /* 2021-10-03 was a Sunday */
    struct kz_evtx_value *v = e->v;
    v[I_WSTR] = kz_evtx_v_str(e->wstr);
    v[I_ASTR] = (struct kz_evtx_value){.type = KZ_EVTX_VT_ASTRING, .v.s = e->astr};
    v[I_I8] = kz_evtx_v_int(KZ_EVTX_VT_INT8, -100 + i % 50);
    v[I_U8] = kz_evtx_v_uint(KZ_EVTX_VT_UINT8, 200 + i % 50);
    v[I_I16] = kz_evtx_v_int(KZ_EVTX_VT_INT16, -30000 + i);
    v[I_U16] = kz_evtx_v_uint(KZ_EVTX_VT_UINT16, 60000 + i);
    v[I_I32] = kz_evtx_v_int(KZ_EVTX_VT_INT32, -2000000000 + i);
    v[I_U32] = kz_evtx_v_u32(4000000000u + (uint32_t)i);
    v[I_I64] = kz_evtx_v_int(KZ_EVTX_VT_INT64, -9000000000000000000LL + i);
    v[I_U64] = kz_evtx_v_uint(KZ_EVTX_VT_UINT64, 18000000000000000000ULL + (uint64_t)i);
    v[I_R32] = (struct kz_evtx_value){.type = KZ_EVTX_VT_REAL32, .v.r = 0.5 + i};
    v[I_R64] = (struct kz_evtx_value){.type = KZ_EVTX_VT_REAL64, .v.r = -0.25 - i};
    v[I_BOOL] = kz_evtx_v_uint(KZ_EVTX_VT_BOOL, (uint64_t)(i & 1));
    v[I_BIN] = (struct kz_evtx_value){.type = KZ_EVTX_VT_BINARY, .count = 6, .v.p = e->bin};
    v[I_GUID] = kz_evtx_v_guid(&e->guid);
    v[I_SIZET] = kz_evtx_v_uint(KZ_EVTX_VT_SIZET, 0x7ff6a0000000ull + (uint64_t)i);
    v[I_FILETIME] = kz_evtx_v_uint(KZ_EVTX_VT_FILETIME, filetime_of(&e->ft));
    v[I_SYSTIME] = (struct kz_evtx_value){.type = KZ_EVTX_VT_SYSTIME, .v.systime = &e->st};
    v[I_SID] = kz_evtx_v_sid(&e->sid);
    v[I_HEX32] = kz_evtx_v_hex32(0xC000006Du + (uint32_t)i);
    v[I_HEX64] = kz_evtx_v_hex64(0x8020000000000000ull | (uint64_t)i);
    v[I_WARR] = (struct kz_evtx_value){
        .type = KZ_EVTX_VT_WSTRING | KZ_EVTX_VT_ARRAY, .count = 3, .v.strs = e->name_ptrs};
    v[I_U16ARR] = (struct kz_evtx_value){
        .type = KZ_EVTX_VT_UINT16 | KZ_EVTX_VT_ARRAY, .count = 2, .v.p = e->ports};
    v[I_OPTNULL] = kz_evtx_v_null();
    v[I_NULL] = kz_evtx_v_null();
    v[I_UNICODE] = kz_evtx_v_str("日本語 \xF0\x9D\x84\x9E <&>");
    e->ev = (struct kz_evtx_event){.tmpl = tmpl,
                                   .time = (kz_time)filetime_of(&e->created) - 116444736000000000LL,
                                   .computer = "DC01.corp.example",
                                   .process_id = 600 + (uint32_t)i,
                                   .thread_id = 700 + (uint32_t)i,
                                   .user = (i % 3) ? &e->user : NULL,
                                   .activity_id = (i % 2) ? &e->activity : NULL,
                                   .values = e->v,
                                   .nvalues = NITEMS};
}

static void check_str(int *bad, int i, const char *what, const char *got, const char *want) {
    if (got && !strcmp(got, want)) return;
    if ((*bad)++ < 5)
        kz_test_fail(__FILE__, __LINE__, "record %d: %s: got \"%s\", want \"%s\"", i, what,
                     got ? got : "(missing)", want);
}

/* Checks record r (event i, from make_event) field by field. */
static void check_all_fields(const struct rrec *r, int i, int event_id, int *bad) {
    struct ev_all *e = malloc(sizeof *e);
    if (!e) return;
    make_event(e, 0, i);
    char want[256];
    check_str(bad, i, "Provider_Name", rfield(r, "Provider_Name"),
              "Microsoft-Windows-Security-Auditing");
    guid_text(&SEC_GUID, want, sizeof want);
    check_str(bad, i, "Provider_Guid", rfield(r, "Provider_Guid"), want);
    snprintf(want, sizeof want, "%d", event_id);
    check_str(bad, i, "EventID", rfield(r, "EventID"), want);
    check_str(bad, i, "Version", rfield(r, "Version"), "2");
    check_str(bad, i, "Level", rfield(r, "Level"), "4");
    check_str(bad, i, "Task", rfield(r, "Task"), "12544");
    check_str(bad, i, "Opcode", rfield(r, "Opcode"), "0");
    check_str(bad, i, "Keywords", rfield(r, "Keywords"), "0x8020000000000000");
    date_text(&e->created, 7, want, sizeof want);
    check_str(bad, i, "TimeCreated_SystemTime", rfield(r, "TimeCreated_SystemTime"), want);
    snprintf(want, sizeof want, "%d", i + 1);
    check_str(bad, i, "EventRecordID", rfield(r, "EventRecordID"), want);
    if (i % 2) {
        guid_text(&e->activity, want, sizeof want);
        check_str(bad, i, "Correlation_ActivityID", rfield(r, "Correlation_ActivityID"), want);
    } else if (rfield(r, "Correlation_ActivityID")) {
        check_str(bad, i, "Correlation_ActivityID (absent)", "present", "absent");
    }
    snprintf(want, sizeof want, "%d", 600 + i);
    check_str(bad, i, "Execution_ProcessID", rfield(r, "Execution_ProcessID"), want);
    snprintf(want, sizeof want, "%d", 700 + i);
    check_str(bad, i, "Execution_ThreadID", rfield(r, "Execution_ThreadID"), want);
    check_str(bad, i, "Channel", rfield(r, "Channel"), "Security");
    check_str(bad, i, "Computer", rfield(r, "Computer"), "DC01.corp.example");
    if (i % 3) check_str(bad, i, "Security_UserID", rfield(r, "Security_UserID"), "S-1-5-18");
    /* EventData */
    snprintf(want, sizeof want, "user%d", i);
    check_str(bad, i, "WStr", rfield(r, "WStr"), want);
    snprintf(want, sizeof want, "ansi-%d", i * 7);
    check_str(bad, i, "AStr", rfield(r, "AStr"), want);
    snprintf(want, sizeof want, "%d", -100 + i % 50);
    check_str(bad, i, "I8", rfield(r, "I8"), want);
    snprintf(want, sizeof want, "%d", 200 + i % 50);
    check_str(bad, i, "U8", rfield(r, "U8"), want);
    snprintf(want, sizeof want, "%d", -30000 + i);
    check_str(bad, i, "I16", rfield(r, "I16"), want);
    snprintf(want, sizeof want, "%d", 60000 + i);
    check_str(bad, i, "U16", rfield(r, "U16"), want);
    snprintf(want, sizeof want, "%d", -2000000000 + i);
    check_str(bad, i, "I32", rfield(r, "I32"), want);
    snprintf(want, sizeof want, "%u", 4000000000u + (unsigned)i);
    check_str(bad, i, "U32", rfield(r, "U32"), want);
    snprintf(want, sizeof want, "%lld", -9000000000000000000LL + i);
    check_str(bad, i, "I64", rfield(r, "I64"), want);
    snprintf(want, sizeof want, "%llu", 18000000000000000000ULL + (unsigned long long)i);
    check_str(bad, i, "U64", rfield(r, "U64"), want);
    snprintf(want, sizeof want, "%d.5", i); /* 0.5 + i, exact in binary */
    check_str(bad, i, "R32", rfield(r, "R32"), want);
    snprintf(want, sizeof want, "-%d.25", i);
    check_str(bad, i, "R64", rfield(r, "R64"), want);
    check_str(bad, i, "Flag", rfield(r, "Flag"), (i & 1) ? "true" : "false");
    snprintf(want, sizeof want, "%02X%02X%02X%02X%02X%02X", (0xA0 + i) & 0xFF, (0xA1 + i) & 0xFF,
             (0xA2 + i) & 0xFF, (0xA3 + i) & 0xFF, (0xA4 + i) & 0xFF, (0xA5 + i) & 0xFF);
    check_str(bad, i, "Bin", rfield(r, "Bin"), want);
    guid_text(&e->guid, want, sizeof want);
    check_str(bad, i, "Guid", rfield(r, "Guid"), want);
    snprintf(want, sizeof want, "0x%llx", 0x7ff6a0000000ull + (unsigned long long)i);
    check_str(bad, i, "Size", rfield(r, "Size"), want);
    date_text(&e->ft, 7, want, sizeof want);
    check_str(bad, i, "FileTime", rfield(r, "FileTime"), want);
    snprintf(want, sizeof want, "2021-10-03T04:05:%02d.%03dZ", i % 60, i % 1000);
    check_str(bad, i, "SysTime", rfield(r, "SysTime"), want);
    sid_text(&e->sid, want, sizeof want);
    check_str(bad, i, "Sid", rfield(r, "Sid"), want);
    snprintf(want, sizeof want, "0x%x", 0xC000006Du + (unsigned)i);
    check_str(bad, i, "Hex32", rfield(r, "Hex32"), want);
    snprintf(want, sizeof want, "0x%llx", 0x8020000000000000ull | (unsigned long long)i);
    check_str(bad, i, "Hex64", rfield(r, "Hex64"), want);
    /* arrays: one <Data> per item, so the field repeats */
    snprintf(want, sizeof want, "n%d_0", i);
    check_str(bad, i, "Names[0]", rfield(r, "Names"), want);
    if (rcount(r, "Names") != 3) check_str(bad, i, "Names count", "not 3", "3");
    snprintf(want, sizeof want, "<Data Name=\"Names\">n%d_2</Data>", i);
    if (!strstr(r->xml, want)) check_str(bad, i, "xml Names[2]", r->xml, want);
    snprintf(want, sizeof want, "<Data Name=\"Ports\">%d</Data><Data Name=\"Ports\">3389</Data>",
             445 + i);
    if (!strstr(r->xml, want)) check_str(bad, i, "xml Ports", r->xml, want);
    if (rfield(r, "OptNull")) check_str(bad, i, "OptNull", "present", "left out");
    check_str(bad, i, "NormNull", rfield(r, "NormNull"), "");
    check_str(bad, i, "Unicode", rfield(r, "Unicode"), "日本語 \xF0\x9D\x84\x9E <&>");
    free(e);
}

static struct kz_evtx_template_def all_types_def(int nested, uint16_t event_id) {
    struct kz_evtx_template_def def = {.provider = "Microsoft-Windows-Security-Auditing",
                                       .provider_guid = &SEC_GUID,
                                       .event_id = event_id,
                                       .qualifiers = -1,
                                       .version = 2,
                                       .level = 4,
                                       .task = 12544,
                                       .keywords = 0x8020000000000000ull,
                                       .channel = "Security",
                                       .nested = nested,
                                       .items = ALL_ITEMS,
                                       .nitems = NITEMS};
    return def;
}

/* Writes n events alternating between a flat and a nested template (event ids 4624 and 4625). */
static int write_all_types(const char *path, int n) {
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    int rc = kz_evtx_writer_open(&w, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return rc;
    uint32_t t[2];
    for (int k = 0; k < 2 && !rc; k++) {
        struct kz_evtx_template_def def = all_types_def(k, (uint16_t)(4624 + k));
        rc = kz_evtx_writer_template(w, &def, &t[k], &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
    }
    struct ev_all *e = malloc(sizeof *e);
    for (int i = 0; i < n && !rc && e; i++) {
        make_event(e, t[i % 2], i);
        uint64_t id = 0;
        rc = kz_evtx_writer_append(w, &e->ev, &id, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        if (!rc && id != (uint64_t)i + 1) CHECK_INT(id, i + 1);
    }
    free(e);
    int rc2 = kz_evtx_writer_close(w, &err);
    CHECK_MSG(rc2 == 0, "%s", err.msg);
    return rc ? rc : rc2;
}

KZ_TEST(evtx_writer_every_value_type) {
    const char *name = "types.evtx";
    const int n = 240;
    REQUIRE(write_all_types(tmp_path(name), n) == 0);
    struct readback rb = {.keep = 1};
    REQUIRE(read_back(tmp_path(name), &rb) == 0);
    CHECK(rb.file_ok);
    CHECK_INT(rb.fh.flags, 0);
    CHECK_INT(rb.fh.next_record_id, n + 1);
    CHECK_INT(rb.fh.chunk_count, rb.chunks);
    CHECK(rb.chunks >= 2); /* ~1 KiB records: more than a chunk */
    CHECK(rb.chunk_checksums_ok);
    CHECK_INT(rb.st.bad_records, 0);
    CHECK_MSG(rb.nproblems == 0, "%s", rb.problem);
    CHECK_INT(rb.n, n);
    CHECK(rb.ids_continuous);
    int bad = 0;
    for (uint64_t k = 0; k < rb.n && k < (uint64_t)n; k++)
        check_all_fields(&rb.r[k], (int)k, 4624 + (int)(k % 2), &bad);
    /* the XML form of one record, start to end */
    if (rb.n > 1) {
        const char *x = rb.r[1].xml;
        CHECK(strstr(x,
                     "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
                     "<System><Provider Name=\"Microsoft-Windows-Security-Auditing\" "
                     "Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\"/><EventID>4625</EventID>") ==
              x);
        CHECK(strstr(x, "<Data Name=\"Unicode\">日本語 \xF0\x9D\x84\x9E &lt;&amp;&gt;</Data>"));
        CHECK(strstr(x, "<Data Name=\"OptNull\">") == NULL);
        CHECK(strstr(x, "<Data Name=\"NormNull\"></Data>") ||
              strstr(x, "<Data Name=\"NormNull\"/>"));
    }
    free(rb.r);
    tmp_remove(name);
}

/* ---- many events across chunks, three template shapes ---- */

struct multi_check {
    int bad;
};

static const struct kz_evtx_item LOGON_ITEMS[] = {
    {"TargetUserName", KZ_EVTX_VT_WSTRING, 0},
    {"LogonType", KZ_EVTX_VT_UINT32, 0},
    {"IpAddress", KZ_EVTX_VT_WSTRING, 0},
    {"Seq", KZ_EVTX_VT_UINT64, 0},
};
static const struct kz_evtx_item CLEAR_ITEMS[] = {
    {"SubjectUserName", KZ_EVTX_VT_WSTRING, 0},
    {"Seq", KZ_EVTX_VT_UINT64, 0},
};

static void multi_record_check(void *ctx, const struct rrec *r) {
    struct multi_check *mc = ctx;
    uint64_t i = r->record_id - 1;
    char want[128];
    int ii = (int)i;
    snprintf(want, sizeof want, "%llu", (unsigned long long)i);
    check_str(&mc->bad, ii, "Seq", rfield(r, "Seq"), want);
    if (i % 3 == 2) {
        check_str(&mc->bad, ii, "EventID", rfield(r, "EventID"), "1102");
        snprintf(want, sizeof want, "admin%llu", (unsigned long long)(i % 17));
        check_str(&mc->bad, ii, "SubjectUserName", rfield(r, "SubjectUserName"), want);
        if (!strstr(r->xml, "<UserData><LogFileCleared xmlns=\"http://manifests.microsoft.com/"
                            "win/2004/08/windows/eventlog\"><SubjectUserName>"))
            check_str(&mc->bad, ii, "UserData xml", r->xml, "<UserData><LogFileCleared ...");
    } else {
        check_str(&mc->bad, ii, "EventID", rfield(r, "EventID"), i % 3 ? "4625" : "4624");
        snprintf(want, sizeof want, "user%llu-%.*s", (unsigned long long)i, (int)(i % 40),
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        check_str(&mc->bad, ii, "TargetUserName", rfield(r, "TargetUserName"), want);
        snprintf(want, sizeof want, "10.0.%llu.%llu", (unsigned long long)(i / 250 % 250),
                 (unsigned long long)(i % 250));
        check_str(&mc->bad, ii, "IpAddress", rfield(r, "IpAddress"), want);
    }
}

/* Writes n events: 4624 flat, 4625 nested, 1102 with UserData (nested); max_chunks: roll over
 * to a new part after that many chunks (0: the format's maximum). */
static int write_multi_parts(const char *path, int n, uint32_t max_chunks) {
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    int rc = kz_evtx_writer_open(&w, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return rc;
    if (max_chunks) kz_evtx_writer_set_max_chunks(w, max_chunks);
    uint32_t t[3];
    struct kz_evtx_template_def d = {.provider = "Microsoft-Windows-Security-Auditing",
                                     .provider_guid = &SEC_GUID,
                                     .qualifiers = -1,
                                     .channel = "Security",
                                     .keywords = 0x8020000000000000ull,
                                     .items = LOGON_ITEMS,
                                     .nitems = 4};
    d.event_id = 4624, d.task = 12544;
    rc = kz_evtx_writer_template(w, &d, &t[0], &err);
    d.event_id = 4625, d.nested = 1, d.keywords = 0x8010000000000000ull;
    if (!rc) rc = kz_evtx_writer_template(w, &d, &t[1], &err);
    struct kz_evtx_template_def c = {
        .provider = "Microsoft-Windows-Eventlog",
        .provider_guid =
            &(struct kz_evtx_guid){
                0xfc65ddd8, 0xd6ef, 0x4962, {0x83, 0xd5, 0x6e, 0x5c, 0xfe, 0x92, 0x28, 0xfd}},
        .event_id = 1102,
        .qualifiers = -1,
        .level = 4,
        .task = 104,
        .keywords = 0x4020000000000000ull,
        .channel = "Security",
        .body = KZ_EVTX_BODY_USERDATA,
        .nested = 1,
        .userdata_element = "LogFileCleared",
        .userdata_ns = "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
        .items = CLEAR_ITEMS,
        .nitems = 2};
    if (!rc) rc = kz_evtx_writer_template(w, &c, &t[2], &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    for (int i = 0; i < n && !rc; i++) {
        char user[96], ip[32];
        snprintf(user, sizeof user, "user%d-%.*s", i, i % 40,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250 % 250, i % 250);
        char admin[32];
        snprintf(admin, sizeof admin, "admin%d", i % 17);
        struct kz_evtx_value v[4];
        struct kz_evtx_event ev = {.tmpl = t[i % 3],
                                   .time = (1700000000LL + i) * KZ_TICKS_PER_SEC,
                                   .computer = "FS01.corp.example",
                                   .process_id = 4,
                                   .thread_id = 100,
                                   .values = v};
        if (i % 3 == 2) {
            v[0] = kz_evtx_v_str(admin);
            v[1] = kz_evtx_v_uint(KZ_EVTX_VT_UINT64, (uint64_t)i);
            ev.nvalues = 2;
        } else {
            v[0] = kz_evtx_v_str(user);
            v[1] = kz_evtx_v_u32(i % 3 ? 3 : 10);
            v[2] = kz_evtx_v_str(ip);
            v[3] = kz_evtx_v_uint(KZ_EVTX_VT_UINT64, (uint64_t)i);
            ev.nvalues = 4;
        }
        rc = kz_evtx_writer_append(w, &ev, NULL, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
    }
    int rc2 = kz_evtx_writer_close(w, &err);
    CHECK_MSG(rc2 == 0, "%s", err.msg);
    return rc ? rc : rc2;
}

static int write_multi(const char *path, int n) {
    return write_multi_parts(path, n, 0);
}

/* A full log goes on in Security-2.evtx, Security-3.evtx ... (as Windows goes on in a new log
 * when it archives a full one): each part a complete, clean file of at most max_chunks chunks;
 * record ids going on from part to part; every record read back once; part_of naming the part
 * each record is in. */
KZ_TEST(evtx_writer_rolls_over_when_full) {
    char a[64], b[64];
    kz_evtx_part_name("logs/DC01/Security.evtx", 1, a, sizeof a);
    CHECK_STR(a, "logs/DC01/Security.evtx");
    kz_evtx_part_name("logs/DC01/Security.evtx", 2, a, sizeof a);
    CHECK_STR(a, "logs/DC01/Security-2.evtx");
    kz_evtx_part_name("x.EVTX", 12, b, sizeof b);
    CHECK_STR(b, "x-12.EVTX");
    kz_evtx_part_name("log", 3, b, sizeof b);
    CHECK_STR(b, "log-3");
    const int n = 2000;
    const uint32_t max = 3;
    REQUIRE(write_multi_parts(tmp_path("roll.evtx"), n, max) == 0);
    uint64_t total = 0, next_id = 1;
    int parts = 0;
    for (uint32_t part = 1; part < 100; part++) {
        char name[64], path[512];
        kz_evtx_part_name("roll.evtx", part, name, sizeof name);
        snprintf(path, sizeof path, "%s", tmp_path(name));
        if (access(path, F_OK) != 0) break;
        parts++;
        struct readback rb = {0};
        REQUIRE(read_back(path, &rb) == 0);
        CHECK(rb.file_ok);
        CHECK_INT(rb.fh.flags, 0); /* every part was closed cleanly */
        CHECK_INT(rb.fh.chunk_count, rb.chunks);
        CHECK(rb.chunks >= 1 && rb.chunks <= (int)max);
        CHECK(rb.chunk_checksums_ok);
        CHECK_INT(rb.st.bad_records, 0);
        CHECK_MSG(rb.nproblems == 0, "%s", rb.problem);
        /* its first record follows the previous part's last */
        size_t len;
        unsigned char *data = kz_test_read_file(path, &len);
        struct kz_evtx_chunk_header ch;
        REQUIRE(data && len > KZ_EVTX_FILE_HEADER_SIZE &&
                kz_evtx_parse_chunk_header(data + KZ_EVTX_FILE_HEADER_SIZE, KZ_EVTX_CHUNK_SIZE,
                                           &ch) == 0);
        CHECK_INT(ch.first_record_id, next_id);
        kz_free(data);
        CHECK_INT(rb.fh.next_record_id, next_id + rb.n);
        next_id += rb.n;
        total += rb.n;
        if (part == 1) CHECK(rb.ids_continuous);
        tmp_remove(name);
    }
    CHECK(parts >= 3);
    CHECK_INT(total, n);
    /* part_of: the same split, asked of a writer */
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    REQUIRE(kz_evtx_writer_open(&w, tmp_path("roll2.evtx"), &err) == 0);
    kz_evtx_writer_set_max_chunks(w, 1);
    uint32_t t;
    struct kz_evtx_template_def d = {
        .provider = "P", .qualifiers = -1, .channel = "System", .items = LOGON_ITEMS, .nitems = 4};
    REQUIRE(kz_evtx_writer_template(w, &d, &t, &err) == 0);
    uint64_t first_of_2 = 0, last = 0;
    for (int i = 0; i < 400 && !err.code; i++) {
        struct kz_evtx_value v[4] = {kz_evtx_v_str("someone with a long enough name"),
                                     kz_evtx_v_u32(3), kz_evtx_v_str("10.1.2.3"),
                                     kz_evtx_v_uint(KZ_EVTX_VT_UINT64, (uint64_t)i)};
        struct kz_evtx_event ev = {.tmpl = t, .time = (1700000000LL + i) * KZ_TICKS_PER_SEC,
                                   .computer = "DC01", .values = v, .nvalues = 4};
        CHECK(kz_evtx_writer_append(w, &ev, &last, &err) == 0);
        if (!first_of_2 && kz_evtx_writer_part_of(w, last) == 2) first_of_2 = last;
    }
    CHECK(first_of_2 > 1);
    CHECK_INT(kz_evtx_writer_part_of(w, first_of_2 - 1), 1);
    CHECK(kz_evtx_writer_part_of(w, last) >= 2);
    CHECK_INT(kz_evtx_writer_part_of(w, 1), 1);
    CHECK(kz_evtx_writer_close(w, &err) == 0);
    for (uint32_t part = 1; part <= 1000; part++) {
        char name[64];
        kz_evtx_part_name("roll2.evtx", part, name, sizeof name);
        if (access(tmp_path(name), F_OK) != 0) break;
        tmp_remove(name);
    }
    /* on a caller's descriptor there is no name to go on with: a full file is an error */
    int fd = open(tmp_path("roll3.evtx"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(kz_evtx_writer_open_fd(&w, fd, "roll3.evtx", &err) == 0);
    kz_evtx_writer_set_max_chunks(w, 1);
    REQUIRE(kz_evtx_writer_template(w, &d, &t, &err) == 0);
    int rc = 0;
    for (int i = 0; i < 400 && !rc; i++) {
        struct kz_evtx_value v[4] = {kz_evtx_v_str("someone with a long enough name"),
                                     kz_evtx_v_u32(3), kz_evtx_v_str("10.1.2.3"),
                                     kz_evtx_v_uint(KZ_EVTX_VT_UINT64, (uint64_t)i)};
        struct kz_evtx_event ev = {.tmpl = t, .time = (1700000000LL + i) * KZ_TICKS_PER_SEC,
                                   .computer = "DC01", .values = v, .nvalues = 4};
        rc = kz_evtx_writer_append(w, &ev, NULL, &err);
    }
    CHECK_INT(rc, KZ_ELIMIT);
    CHECK(strstr(err.msg, "file full") != NULL);
    kz_evtx_writer_close(w, NULL);
    close(fd);
    tmp_remove("roll3.evtx");
}

KZ_TEST(evtx_writer_many_chunks) {
    const char *name = "multi.evtx";
    const int n = 20000;
    REQUIRE(write_multi(tmp_path(name), n) == 0);
    struct multi_check mc = {0};
    struct readback rb = {.check = multi_record_check, .check_ctx = &mc};
    REQUIRE(read_back(tmp_path(name), &rb) == 0);
    CHECK(rb.file_ok);
    CHECK_INT(rb.fh.flags, 0);
    CHECK_INT(rb.fh.chunk_count, rb.chunks);
    CHECK_INT(rb.fh.last_chunk, rb.chunks - 1);
    CHECK_INT(rb.fh.next_record_id, n + 1);
    CHECK(rb.chunks > 10);
    CHECK(rb.chunk_checksums_ok);
    CHECK_INT(rb.n, n);
    CHECK(rb.ids_continuous);
    CHECK_INT(rb.st.bad_records, 0);
    CHECK_INT(rb.st.checksum_errors, 0);
    CHECK_MSG(rb.nproblems == 0, "%s", rb.problem);
    CHECK_INT(mc.bad, 0);
    /* every chunk starts with a template defined inline: templates are declared again per chunk */
    CHECK_INT(rb.chunks_inline_first, rb.chunks);
    /* the same file again, byte for byte */
    REQUIRE(write_multi(tmp_path("multi2.evtx"), n) == 0);
    size_t la, lb;
    unsigned char *a = kz_test_read_file(tmp_path(name), &la);
    unsigned char *b = kz_test_read_file(tmp_path("multi2.evtx"), &lb);
    CHECK(a && b && la == lb && memcmp(a, b, la) == 0);
    kz_free(a);
    kz_free(b);
    tmp_remove("multi2.evtx");
    tmp_remove(name);
}

/* ---- errors ---- */

KZ_TEST(evtx_writer_errors_leave_writer_usable) {
    const char *name = "errors.evtx";
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    REQUIRE(kz_evtx_writer_open(&w, tmp_path(name), &err) == 0);
    uint32_t t;
    struct kz_evtx_template_def d = {
        .provider = "P", .qualifiers = -1, .channel = "System", .items = LOGON_ITEMS, .nitems = 4};
    REQUIRE(kz_evtx_writer_template(w, &d, &t, &err) == 0);
    /* bad names and types in templates */
    struct kz_evtx_item bad_name[] = {{"has space", KZ_EVTX_VT_WSTRING, 0}};
    struct kz_evtx_template_def d2 = d;
    d2.items = bad_name, d2.nitems = 1;
    d2.body = KZ_EVTX_BODY_USERDATA, d2.userdata_element = "Op";
    uint32_t t2;
    CHECK_INT(kz_evtx_writer_template(w, &d2, &t2, &err), KZ_EUSAGE);
    CHECK(strstr(err.msg, "has space") != NULL);
    struct kz_evtx_item bad_type[] = {{"X", 0x21, 0}};
    d2.items = bad_type;
    CHECK_INT(kz_evtx_writer_template(w, &d2, &t2, &err), KZ_EUSAGE);
    d2.provider = NULL;
    CHECK_INT(kz_evtx_writer_template(w, &d2, &t2, &err), KZ_EUSAGE);
    /* a value of the wrong type names the item */
    struct kz_evtx_value v[4] = {kz_evtx_v_str("a"), kz_evtx_v_str("not a number"),
                                 kz_evtx_v_str("b"), kz_evtx_v_uint(KZ_EVTX_VT_UINT64, 1)};
    struct kz_evtx_event ev = {.tmpl = t, .computer = "H", .values = v, .nvalues = 4};
    CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), KZ_EUSAGE);
    CHECK(strstr(err.msg, "LogonType") != NULL);
    CHECK(strstr(err.msg, "record 1") != NULL);
    v[1] = kz_evtx_v_null(); /* LogonType is not optional and a number: it cannot be empty */
    CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), KZ_EUSAGE);
    CHECK(strstr(err.msg, "LogonType") != NULL);
    ev.tmpl = 99;
    CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), KZ_EUSAGE);
    ev.tmpl = t;
    /* a record larger than a chunk */
    size_t big_len = 40000;
    char *big = malloc(big_len + 1);
    REQUIRE(big);
    memset(big, 'A', big_len);
    big[big_len] = 0;
    v[1] = kz_evtx_v_u32(3);
    v[0] = kz_evtx_v_str(big);
    CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), KZ_ELIMIT);
    CHECK(strstr(err.msg, "record 1") != NULL);
    /* a value over 64 KiB-1 that would fit a chunk is refused too */
    big[33000] = 0;
    CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), KZ_ELIMIT);
    free(big);
    /* after all that, good records get ids 1 and 2 */
    v[0] = kz_evtx_v_str("fine");
    uint64_t id = 0;
    CHECK_INT(kz_evtx_writer_append(w, &ev, &id, &err), 0);
    CHECK_INT(id, 1);
    CHECK_INT(kz_evtx_writer_append(w, &ev, &id, &err), 0);
    CHECK_INT(id, 2);
    CHECK_INT(kz_evtx_writer_records(w), 2);
    CHECK_INT(kz_evtx_writer_close(w, &err), 0);
    struct readback rb = {.keep = 1};
    REQUIRE(read_back(tmp_path(name), &rb) == 0);
    CHECK_INT(rb.n, 2);
    CHECK_INT(rb.st.bad_records, 0);
    CHECK(rb.chunk_checksums_ok);
    if (rb.n == 2) CHECK_STR(rfield(&rb.r[1], "TargetUserName"), "fine");
    free(rb.r);
    tmp_remove(name);
    /* an unwritable path */
    CHECK_INT(kz_evtx_writer_open(&w, "/nonexistent-dir/x.evtx", &err), KZ_EIO);
    CHECK(strstr(err.msg, "/nonexistent-dir/x.evtx") != NULL);
}

KZ_TEST(evtx_writer_sid_parse_and_systime) {
    struct kz_evtx_sid s;
    char text[128];
    CHECK_INT(kz_evtx_sid_parse("S-1-5-21-1004336348-1177238915-682003330-512", &s), 0);
    CHECK_INT(s.revision, 1);
    CHECK_INT(s.authority, 5);
    CHECK_INT(s.count, 5);
    CHECK_INT(s.sub[4], 512);
    sid_text(&s, text, sizeof text);
    CHECK_STR(text, "S-1-5-21-1004336348-1177238915-682003330-512");
    CHECK_INT(kz_evtx_sid_parse("S-1-0x123456789ABC", &s), 0);
    CHECK_INT(s.authority, 0x123456789ABCull);
    CHECK_INT(kz_evtx_sid_parse("S-1-5-18", &s), 0);
    CHECK_INT(kz_evtx_sid_parse("S-1-5-", &s), KZ_EFORMAT);
    CHECK_INT(kz_evtx_sid_parse("S-1-5-4294967296", &s), KZ_EFORMAT);
    CHECK_INT(kz_evtx_sid_parse("X-1-5", &s), KZ_EFORMAT);
    CHECK_INT(kz_evtx_sid_parse("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", &s), KZ_EFORMAT);
    struct kz_evtx_systime st;
    struct date dt = {2021, 12, 31, 23, 59, 58, 1239999};
    kz_evtx_systime_from((kz_time)filetime_of(&dt) - 116444736000000000LL, &st);
    CHECK_INT(st.year, 2021);
    CHECK_INT(st.month, 12);
    CHECK_INT(st.day, 31);
    CHECK_INT(st.day_of_week, 5); /* a Friday */
    CHECK_INT(st.hour, 23);
    CHECK_INT(st.minute, 59);
    CHECK_INT(st.second, 58);
    CHECK_INT(st.milliseconds, 123);
}

KZ_TEST(evtx_writer_failure_injection) {
    /* Every allocation failing in turn: an error or success, never a crash or a leak. */
    const char *name = "inject.evtx";
    size_t before = kz_alloc_in_use();
    int succeeded = 0;
    for (long k = 0; k < 5000 && !succeeded; k++) {
        struct kz_err err = {0};
        struct kz_evtx_writer *w = NULL;
        kz_alloc_fail_after(k);
        int rc = kz_evtx_writer_open(&w, tmp_path(name), &err);
        uint32_t t[2] = {0, 0};
        for (int j = 0; j < 2 && !rc; j++) {
            struct kz_evtx_template_def def = all_types_def(j, 4624);
            rc = kz_evtx_writer_template(w, &def, &t[j], &err);
        }
        struct ev_all *e = malloc(sizeof *e);
        for (int i = 0; i < 4 && !rc && e; i++) {
            make_event(e, t[i % 2], i);
            rc = kz_evtx_writer_append(w, &e->ev, NULL, &err);
        }
        free(e);
        if (w) {
            int rc2 = kz_evtx_writer_close(w, &err);
            if (!rc) rc = rc2;
        }
        kz_alloc_fail_never();
        CHECK_MSG(rc == 0 || rc == KZ_ENOMEM, "allocation %ld: %d %s", k, rc, err.msg);
        succeeded = rc == 0;
    }
    CHECK(succeeded);
    CHECK_INT(kz_alloc_in_use(), before);
    tmp_remove(name);
}

/* ---- other readers: kizuki dump and Debian's evtxexport ---- */

/* Runs cmd and returns its output (malloc'd), or NULL. */
static char *run(const char *cmd) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    while (out) {
        if (len + 4096 + 1 > cap) {
            char *q = realloc(out, cap * 2);
            if (!q) {
                free(out);
                out = NULL;
                break;
            }
            out = q, cap *= 2;
        }
        size_t k = fread(out + len, 1, 4096, p);
        if (k == 0) break;
        len += k;
    }
    pclose(p);
    if (out) out[len] = 0;
    return out;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

KZ_TEST(evtx_writer_kizuki_dump_reads_it) {
    char exe[512];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (k <= 0) {
        kz_test_skip("cannot locate the build directory");
        return;
    }
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    REQUIRE(slash);
    snprintf(slash + 1, 16, "kizuki");
    if (access(exe, X_OK)) {
        kz_test_skip("build/kizuki is not built");
        return;
    }
    REQUIRE(write_all_types(tmp_path("dump_a.evtx"), 300) == 0);
    REQUIRE(write_multi(tmp_path("dump_b.evtx"), 5000) == 0);
    char a[160], b[160], cmd[1400];
    snprintf(a, sizeof a, "%s", tmp_path("dump_a.evtx"));
    snprintf(b, sizeof b, "%s", tmp_path("dump_b.evtx"));
    snprintf(cmd, sizeof cmd, "'%s' dump '%s' '%s' 2>&1 >/dev/null", exe, a, b);
    char *out = run(cmd);
    REQUIRE(out);
    CHECK_MSG(strstr(out, "5300 records (0 bad") != NULL, "kizuki dump said: %s", out);
    CHECK_MSG(strstr(out, "0 checksum errors") != NULL, "kizuki dump said: %s", out);
    free(out);
    tmp_remove("dump_a.evtx");
    tmp_remove("dump_b.evtx");
}

KZ_TEST(evtx_writer_evtxexport_agrees) {
    const char *tool = "/usr/bin/evtxexport";
    if (access(tool, X_OK)) {
        kz_test_skip("evtxexport is not installed (apt-get install libevtx-utils)");
        return;
    }
    const int n = 300, m = 6000;
    REQUIRE(write_all_types(tmp_path("x_a.evtx"), n) == 0);
    REQUIRE(write_multi(tmp_path("x_b.evtx"), m) == 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s -f xml '%s' 2>&1", tool, tmp_path("x_a.evtx"));
    char *out = run(cmd);
    REQUIRE(out);
    CHECK_INT(count_of(out, "<Event xmlns="), n);
    CHECK_INT(count_of(out, "<Data Name=\"WStr\">user"), n);
    CHECK(strstr(out, "<EventRecordID>300</EventRecordID>") != NULL);
    CHECK(strstr(out, "<Data Name=\"Sid\">S-1-5-21-1004336348-1177238915-682003330-1042</Data>"));
    CHECK(strstr(out, "<Data Name=\"Guid\">{DEADBEE6-123D-ABCD-0102-030405060709}</Data>"));
    CHECK(strstr(out, "<Data Name=\"Hex32\">0xc000006d</Data>"));
    CHECK(strstr(out, "<Computer>DC01.corp.example</Computer>"));
    CHECK(strstr(out, "Guid=\"{54849625-5478-4994-A5BA-3E3B0328C30D}\""));
    /* (libevtx 20181227 decodes surrogate pairs wrongly, so the check stops before the one here) */
    CHECK(strstr(out, "<Data Name=\"Unicode\">日本語 "));
    CHECK_INT(count_of(out, "<Data Name=\"NormNull\"></Data>") +
                  count_of(out, "<Data Name=\"NormNull\"/>"),
              n);
    CHECK_MSG(count_of(out, "rror") == 0, "evtxexport reported errors: %.300s",
              strstr(out, "rror") ? strstr(out, "rror") - 20 : "");
    free(out);
    snprintf(cmd, sizeof cmd, "%s -f xml '%s' 2>&1", tool, tmp_path("x_b.evtx"));
    out = run(cmd);
    REQUIRE(out);
    CHECK_INT(count_of(out, "<Event xmlns="), m);
    CHECK_INT(count_of(out, "<EventID>1102</EventID>"), m / 3);
    CHECK_INT(count_of(out, "<LogFileCleared"), m / 3);
    CHECK(strstr(out, "<Data Name=\"TargetUserName\">user4-xxxx</Data>") != NULL);
    CHECK(strstr(out, "<Data Name=\"IpAddress\">10.0.23.248</Data>") != NULL); /* i = 5998 */
    CHECK_MSG(count_of(out, "rror") == 0, "evtxexport reported errors");
    free(out);
    tmp_remove("x_a.evtx");
    tmp_remove("x_b.evtx");
}

KZ_TEST(evtx_writer_classic_source_and_no_body) {
    /* System log style: Qualifiers, EventSourceName, no provider GUID, unnamed <Data>; and an event
     * with no body at all. */
    const char *name = "classic.evtx";
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    REQUIRE(kz_evtx_writer_open(&w, tmp_path(name), &err) == 0);
    static const struct kz_evtx_item data[] = {{NULL, KZ_EVTX_VT_WSTRING, 0},
                                               {NULL, KZ_EVTX_VT_WSTRING, 0}};
    struct kz_evtx_template_def d = {.provider = "Service Control Manager",
                                     .event_source = "Service Control Manager",
                                     .event_id = 7045,
                                     .qualifiers = 16384,
                                     .level = 4,
                                     .keywords = 0x8080000000000000ull,
                                     .channel = "System",
                                     .items = data,
                                     .nitems = 2};
    uint32_t t[2];
    REQUIRE(kz_evtx_writer_template(w, &d, &t[0], &err) == 0);
    struct kz_evtx_template_def none = {.provider = "Kizuki-Test",
                                        .event_id = 1,
                                        .qualifiers = -1,
                                        .channel = "System",
                                        .body = KZ_EVTX_BODY_NONE};
    REQUIRE(kz_evtx_writer_template(w, &none, &t[1], &err) == 0);
    struct kz_evtx_value v[2] = {kz_evtx_v_str("evilsvc"), kz_evtx_v_str("C:\\x.exe")};
    struct kz_evtx_event ev = {.tmpl = t[0], .computer = "WS1", .values = v, .nvalues = 2};
    CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), 0);
    struct kz_evtx_event ev2 = {.tmpl = t[1], .computer = "WS1"};
    CHECK_INT(kz_evtx_writer_append(w, &ev2, NULL, &err), 0);
    REQUIRE(kz_evtx_writer_close(w, &err) == 0);
    struct readback rb = {.keep = 1};
    REQUIRE(read_back(tmp_path(name), &rb) == 0);
    CHECK_INT(rb.st.bad_records, 0);
    REQUIRE(rb.n == 2);
    const struct rrec *r = &rb.r[0];
    CHECK_STR(rfield(r, "EventID"), "7045");
    CHECK_STR(rfield(r, "EventID_Qualifiers"), "16384");
    CHECK_STR(rfield(r, "Provider_EventSourceName"), "Service Control Manager");
    CHECK(rfield(r, "Provider_Guid") == NULL);
    CHECK_INT(rcount(r, "Data"), 2);
    CHECK(strstr(r->xml, "<EventID Qualifiers=\"16384\">7045</EventID>") != NULL);
    CHECK(strstr(r->xml, "<EventData><Data>evilsvc</Data><Data>C:\\x.exe</Data></EventData>"));
    CHECK(strstr(r->xml, "<TimeCreated SystemTime=\"1970-01-01T00:00:00.0000000Z\"/>"));
    CHECK_STR(rfield(&rb.r[1], "EventID"), "1");
    CHECK(strstr(rb.r[1].xml, "EventData") == NULL);
    free(rb.r);
    if (!access("/usr/bin/evtxexport", X_OK)) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "/usr/bin/evtxexport -f xml '%s' 2>&1", tmp_path(name));
        char *out = run(cmd);
        REQUIRE(out);
        CHECK_INT(count_of(out, "<Event xmlns="), 2);
        CHECK(strstr(out, "<Data>evilsvc</Data>") != NULL);
        CHECK(strstr(out, "EventSourceName=\"Service Control Manager\"") != NULL);
        CHECK_MSG(count_of(out, "rror") == 0, "evtxexport: %.400s", out);
        free(out);
    }
    tmp_remove(name);
}

/* Strings are widened 16 bytes at a time without measuring them first: text that ends on the last
 * byte of a readable page (the next one unmapped) must neither fault nor lose or gain characters,
 * ASCII or not, and every length around the 16-byte blocks must come back whole. The expected
 * text is the input itself. */
KZ_TEST(evtx_writer_strings_at_a_page_end) {
    long pg = sysconf(_SC_PAGESIZE);
    REQUIRE(pg >= 4096);
    unsigned char *map =
        mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(map != MAP_FAILED);
    REQUIRE(mprotect(map + pg, (size_t)pg, PROT_NONE) == 0);
    const char *name = "page_end.evtx";
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    REQUIRE(kz_evtx_writer_open(&w, tmp_path(name), &err) == 0);
    static const struct kz_evtx_item items[] = {{"Text", KZ_EVTX_VT_WSTRING, 0}};
    struct kz_evtx_template_def d = {.provider = "Kizuki-Test",
                                     .event_id = 9,
                                     .qualifiers = -1,
                                     .channel = "Application",
                                     .items = items,
                                     .nitems = 1};
    uint32_t t;
    REQUIRE(kz_evtx_writer_template(w, &d, &t, &err) == 0);
    /* lengths 0..40 of ASCII, then the same with a 2-byte and a 3-byte character in the middle */
    enum { NLEN = 41, NKIND = 3 };
    char want[NKIND * NLEN][64];
    int n = 0;
    for (int kind = 0; kind < NKIND; kind++) {
        for (int len = 0; len < NLEN; len++) {
            char s[64];
            int k = 0;
            while (k < len) {
                if (kind == 1 && k == len / 2 && len - k >= 2)
                    s[k++] = (char)0xC3, s[k++] = (char)0xA9; /* é */
                else if (kind == 2 && k == len / 2 && len - k >= 3)
                    s[k++] = (char)0xE6, s[k++] = (char)0x97, s[k++] = (char)0xA5; /* 日 */
                else
                    s[k] = (char)('a' + k % 26), k++;
            }
            s[k] = 0;
            memcpy(want[n], s, (size_t)k + 1);
            char *at = (char *)map + pg - (k + 1); /* its NUL on the page's last byte */
            memcpy(at, s, (size_t)k + 1);
            struct kz_evtx_value v = kz_evtx_v_str(at);
            struct kz_evtx_event ev = {.tmpl = t, .computer = "WS1", .values = &v, .nvalues = 1};
            CHECK_INT(kz_evtx_writer_append(w, &ev, NULL, &err), 0);
            n++;
        }
    }
    REQUIRE(kz_evtx_writer_close(w, &err) == 0);
    munmap(map, 2 * (size_t)pg);
    struct readback rb = {.keep = 1};
    REQUIRE(read_back(tmp_path(name), &rb) == 0);
    CHECK_INT(rb.st.bad_records, 0);
    REQUIRE(rb.n == (uint64_t)n);
    for (int i = 0; i < n; i++) {
        const char *got = rfield(&rb.r[i], "Text");
        if (!want[i][0]) continue; /* an empty string may read back as no value */
        CHECK_MSG(got && !strcmp(got, want[i]), "string %d: got \"%s\", want \"%s\"", i,
                  got ? got : "(none)", want[i]);
    }
    free(rb.r);
    tmp_remove(name);
}
