/* test_ueba.c - unit tests of src/ueba: extraction, the record wire form, and each feature on
 * hand-built activity sequences.
 *
 * Every expected figure is worked out by hand from the rules in ueba.c and docs/ueba.md (points
 * per reason, caps per family, doubt, decay); the arithmetic is in the comments next to each
 * check, never copied from what the code printed. */
#include "unit.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/intern.h"
#include "sigma/rule.h"
#include "ueba/ueba.h"
#include "ueba/ueba_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define H (3600LL * KZ_TICKS_PER_SEC)
#define M (60LL * KZ_TICKS_PER_SEC)

/* ---- extraction ---- */

struct ev_builder {
    struct kz_event ev;
    struct kz_field f[32];
};

static void ev_init(struct ev_builder *b, uint32_t id, const char *channel, const char *host) {
    memset(b, 0, sizeof *b);
    b->ev.fields = b->f;
    kz_event_reset(&b->ev);
    b->ev.event_id = id;
    b->ev.channel = channel;
    b->ev.host = host;
    b->ev.ts = 1000;
    b->ev.record_id = 7;
}

static void ev_field(struct ev_builder *b, const char *name, const char *val) {
    struct kz_field *f = &b->f[b->ev.nfields++];
    f->name = kz_intern(name, strlen(name));
    f->section = KZ_SEC_EVENTDATA;
    f->val = val;
    f->len = (uint32_t)strlen(val);
}

KZ_TEST(ueba_extract_logon_and_file) {
    struct ev_builder b;
    ev_init(&b, 4624, "Security", "VDI04.corp.example");
    ev_field(&b, "SubjectUserName", "VDI04$");
    ev_field(&b, "TargetUserName", "kyamashita");
    ev_field(&b, "TargetDomainName", "CORP");
    ev_field(&b, "LogonType", "10");
    ev_field(&b, "WorkstationName", "DESKTOP-BZG86Y2");
    ev_field(&b, "IpAddress", "::ffff:10.212.137.43");
    kz_event_normalise(&b.ev);
    struct kz_ueba_act a;
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_LOGON);
    CHECK_INT(a.logon_type, 10);
    CHECK_INT(a.outcome, 1);
    CHECK_STR(a.user, "kyamashita");
    CHECK_STR(a.domain, "CORP");
    CHECK_STR(a.device, "DESKTOP-BZG86Y2");
    CHECK_STR(a.src_ip, "10.212.137.43"); /* IPv4-mapped prefix dropped */
    CHECK_INT((int)a.record_id, 7);

    /* a machine account's logon is not a person's activity */
    ev_init(&b, 4624, "Security", "FS01");
    ev_field(&b, "TargetUserName", "WS0001$");
    ev_field(&b, "LogonType", "3");
    kz_event_normalise(&b.ev);
    CHECK_INT(kz_ueba_extract(&b.ev, &a), 0);

    /* 5145: share, the relative path (the engine cuts the folder), access from the mask */
    ev_init(&b, 5145, "Security", "FS01.corp.example");
    ev_field(&b, "SubjectUserName", "asasaki");
    ev_field(&b, "ShareName", "\\\\*\\projects");
    ev_field(&b, "RelativeTargetName", "Sakura_Kensetsu\\2026\\P1\\a.docx");
    ev_field(&b, "AccessMask", "0x120089"); /* ReadData among others: a read */
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_FILE);
    CHECK_INT(a.access, KZ_UEBA_READ);
    CHECK_STR(a.object, "\\\\*\\projects");
    CHECK_STR(a.folder, "Sakura_Kensetsu\\2026\\P1\\a.docx");

    /* 4648: the account used, the target server, and whose session typed it */
    ev_init(&b, 4648, "Security", "VDI04");
    ev_field(&b, "SubjectUserName", "kyamashita");
    ev_field(&b, "TargetUserName", "asuzuki-adm");
    ev_field(&b, "TargetServerName", "ADOPS01");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_EXPLICIT);
    CHECK_STR(a.user, "asuzuki-adm");
    CHECK_STR(a.object, "kyamashita");
    CHECK_STR(a.target, "ADOPS01");

    /* Sysmon 1 with DOMAIN\user; other channels' event 1 is nothing */
    ev_init(&b, 1, "Microsoft-Windows-Sysmon/Operational", "OPS01");
    ev_field(&b, "User", "CORP\\asuzuki-adm");
    ev_field(&b, "Image", "C:\\Windows\\System32\\net.exe");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_PROCESS);
    CHECK_STR(a.user, "asuzuki-adm");
    b.ev.channel = "Application";
    CHECK_INT(kz_ueba_extract(&b.ev, &a), 0);

    /* 7045: host activity without a user */
    ev_init(&b, 7045, "System", "DC01");
    ev_field(&b, "ServiceName", "WinSysMon");
    ev_field(&b, "AccountName", "LocalSystem");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_SERVICE);
    CHECK(a.user == NULL);
    CHECK_STR(a.object, "WinSysMon");
}

KZ_TEST(ueba_pack_roundtrip_and_truncation) {
    struct kz_ueba_act a = {.ts = 123456789,
                            .kind = KZ_UEBA_FILE,
                            .logon_type = -1,
                            .outcome = -1,
                            .access = KZ_UEBA_READ,
                            .file_id = 3,
                            .record_id = 99,
                            .bytes = -1,
                            .user = "alice",
                            .host = "FS01",
                            .object = "\\\\*\\projects",
                            .folder = "custA\\x.doc"};
    struct kz_buf b;
    kz_buf_init(&b, 1 << 16);
    kz_ueba_act_pack(&b, &a);
    struct kz_ueba_act o;
    REQUIRE(kz_ueba_act_unpack(b.data, b.len, &o) == 0);
    CHECK(o.ts == a.ts);
    CHECK_INT(o.kind, KZ_UEBA_FILE);
    CHECK_INT(o.logon_type, -1);
    CHECK_INT((int)o.record_id, 99);
    CHECK_INT((int)o.file_id, 3);
    CHECK_STR(o.user, "alice");
    CHECK_STR(o.folder, "custA\\x.doc");
    CHECK(o.domain == NULL && o.device == NULL);
    /* every shorter prefix is refused, never read past */
    for (size_t n = 0; n < b.len; n++)
        CHECK_MSG(kz_ueba_act_unpack(b.data, n, &o) != 0, "prefix %zu accepted", n);
    kz_buf_free(&b);
}

/* ---- features on hand-built sequences ---- */

struct got {
    int n;
    int score[8], level[8];
    char first[8][1024];
    char reasons[8][8][512];
    int nreasons[8];
};

static void on_alert(void *ctx, const struct kz_ueba_alert *a) {
    struct got *g = ctx;
    if (g->n >= 8) return;
    g->score[g->n] = a->score;
    g->level[g->n] = a->level;
    snprintf(g->first[g->n], sizeof g->first[0], "%s", a->reasons[0]);
    g->nreasons[g->n] = (int)a->nreasons;
    for (uint32_t i = 0; i < a->nreasons && i < 8; i++)
        snprintf(g->reasons[g->n][i], sizeof g->reasons[0][0], "%s", a->reasons[i]);
    g->n++;
}

struct top_ctx {
    double now, peak;
    int seen;
};
static void top_fn(void *ctx, const struct kz_ueba_entity *e) {
    struct top_ctx *t = ctx;
    t->now = e->risk_now;
    t->peak = e->risk_peak;
    t->seen++;
}

struct peak_ctx {
    double peak;
    char reason[512];
};
static void peak_fn(void *ctx, const struct kz_ueba_entity *e) {
    struct peak_ctx *p = ctx;
    if (e->is_host || p->peak) return;
    p->peak = e->risk_peak;
    if (e->nreasons) snprintf(p->reason, sizeof p->reason, "%s", e->reasons[e->nreasons - 1]);
}

static kz_time day0; /* 2026-03-02T00:00:00Z */

static void push(struct kz_ueba *u, struct got *g, kz_time ts, int kind, int ltype,
                 const char *host, const char *ip, const char *device, const char *object,
                 const char *folder, uint64_t rec) {
    struct kz_ueba_act a = {.ts = ts,
                            .kind = (uint8_t)kind,
                            .logon_type = (int8_t)ltype,
                            .outcome = 1,
                            .access = KZ_UEBA_READ,
                            .file_id = 0,
                            .record_id = rec,
                            .bytes = -1,
                            .user = "alice",
                            .domain = "CORP",
                            .host = host,
                            .src_ip = ip,
                            .device = device,
                            .object = object,
                            .folder = folder};
    kz_ueba_push(u, &a, on_alert, g);
}

/* Ten days of office life: every hour 09:00-17:59 UTC a network logon to FS01 from 10.1.2.3 and
 * two reads, one in each of two customers' folders. 10 days x 9 hours = 90 active hours. */
static void office_history(struct kz_ueba *u, struct got *g) {
    uint64_t rec = 1;
    for (int d = 0; d < 10; d++)
        for (int h = 9; h <= 17; h++) {
            kz_time t = day0 + d * 24 * H + h * H + 5 * M;
            push(u, g, t, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, rec++);
            push(u, g, t + M, KZ_UEBA_FILE, -1, "FS01", "10.1.2.3", NULL, "\\\\*\\projects",
                 "custA\\f.doc", rec++);
            push(u, g, t + 2 * M, KZ_UEBA_FILE, -1, "FS01", "10.1.2.3", NULL, "\\\\*\\projects",
                 "custB\\g.doc", rec++);
        }
}

static void test_opts(struct kz_ueba_opts *o) {
    kz_ueba_opts_default(o);
    o->baseline_days = 1;
    o->min_days = 2;
    o->min_events = 5;
}

KZ_TEST(ueba_first_seen_device_hour_and_rdp) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    office_history(u, &g);
    CHECK_INT(g.n, 0); /* ordinary days raise nothing */
    /* Day 10, 02:14: RDP logon to VDI1 from a device and a network nobody has used.
     * Reasons in order, points by hand:
     *   hour: never active 01:00-03:59 (bins 1,2,3 empty)         20  time family   total 20
     *   network 10.212.0.0/16: new for alice (15), and org (+10)   25  source        45
     *   device BYOD-7F2: new (25), and org (+10) = 35; source cap 40 leaves 15     60 -> alert
     *     (60 >= 55: medium, score 60)
     *   logon type 10 never used (alice had 90 type-3 logons)      15  access        75
     *   first RDP logon to VDI1: a host whose only logons are RDP by <= 10 users is an admin
     *     server (x2.5): 10 x 2.5 = 25; access cap 30 leaves 15                      90 -> high
     * The hour is strong doubt, so access counts in full. */
    kz_time t = day0 + 10 * 24 * H + 2 * H + 14 * M;
    push(u, &g, t, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL, NULL, 5000);
    REQUIRE(g.n == 2);
    CHECK_INT(g.score[0], 60);
    CHECK_INT(g.level[0], KZ_LEVEL_MEDIUM);
    CHECK_INT(g.score[1], 90);
    CHECK_INT(g.level[1], KZ_LEVEL_HIGH);
    CHECK_INT(g.nreasons[1], 6); /* the summary and five reasons */
    CHECK_STR(g.reasons[1][1], "active at 02:14 (never at this hour before; usual 09:00-17:59)");
    CHECK_STR(g.reasons[1][2],
              "first activity from network 10.212.0.0/16 (new to the organisation), 02:14");
    CHECK_STR(g.reasons[1][3],
              "first activity from device byod-7f2 (never seen in the organisation), 02:14");
    CHECK_STR(g.reasons[1][4], "first RDP logon (type 10) for the account, 02:14");
    CHECK_STR(g.reasons[1][5], "first RDP logon to VDI1 (admin server), 02:14");
    CHECK(!strncmp(g.first[1], "CORP\\alice: risk 90: active at 02:14", 36));

    /* Decay: 31 h later an ordinary logon (known hour, host, address) adds nothing; the risk is
     * 90 x 2^(-31/12) = 15.2. */
    push(u, &g, t + 31 * H, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, 5001);
    CHECK_INT(g.n, 2);
    struct top_ctx tc = {0};
    kz_ueba_top(u, 1, top_fn, &tc);
    CHECK(tc.seen == 1);
    CHECK_MSG(fabs(tc.now - 90 * exp2(-31.0 / 12)) < 0.01, "risk now %f", tc.now);
    CHECK_MSG(fabs(tc.peak - 90) < 0.01, "peak %f", tc.peak);
    kz_ueba_free(u);
}

KZ_TEST(ueba_gates_silence_young_profiles) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    o.min_days = 20; /* alice has 10 active days: still learning */
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    office_history(u, &g);
    push(u, &g, day0 + 10 * 24 * H + 2 * H, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2",
         NULL, NULL, 5000);
    CHECK_INT(g.n, 0);
    kz_ueba_free(u);
    /* the run's baseline: with 11 baseline days everything is learning */
    test_opts(&o);
    o.baseline_days = 11;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    memset(&g, 0, sizeof g);
    office_history(u, &g);
    push(u, &g, day0 + 10 * 24 * H + 2 * H, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2",
         NULL, NULL, 5000);
    CHECK_INT(g.n, 0);
    kz_ueba_free(u);
}

KZ_TEST(ueba_volume_spike_folders) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    office_history(u, &g);
    /* Day 10, 10:xx (a usual hour): one read in each of 12 folders. History: every active hour
     * touched 2 folders (log2 bucket 1, values 2-3), so the 95th percentile is 3 and the bound
     * max(8, 3 x 3) = 9: the 10th folder is the spike. Points 25 + 5 log2(10/9) = 25.76; no
     * doubt (usual hour, known address), so half: 12.9. Below the threshold: no alert, and the
     * entity's peak is 12.9 with that one reason. */
    kz_time t = day0 + 10 * 24 * H + 10 * H;
    for (int i = 0; i < 12; i++) {
        char folder[32];
        snprintf(folder, sizeof folder, "cust%02d\\x.doc", i);
        push(u, &g, t + i * M, KZ_UEBA_FILE, -1, "FS01", "10.1.2.3", NULL, "\\\\*\\projects",
             folder, 6000 + (uint64_t)i);
    }
    CHECK_INT(g.n, 0);
    struct peak_ctx pc = {0};
    REQUIRE(kz_ueba_top(u, 5, peak_fn, &pc) >= 1);
    CHECK_MSG(fabs(pc.peak - (25 + 5 * log2(10.0 / 9)) / 2) < 0.01, "peak %f", pc.peak);
    CHECK_STR(pc.reason, "reads across 10 folders (customers) in 1 h (usual: up to 3), 10:09");
    kz_ueba_free(u);
}

/* Keep + run (any arrival order, ties by keep order) gives what pushing in time order gives. */
KZ_TEST(ueba_keep_run_equals_ordered_push) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *a, *b;
    REQUIRE(kz_ueba_new(&a, &o) == 0);
    REQUIRE(kz_ueba_new(&b, &o) == 0);
    struct got ga = {0}, gb = {0};
    office_history(a, &ga);
    push(a, &ga, day0 + 10 * 24 * H + 2 * H, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2",
         NULL, NULL, 5000);
    /* b gets the same records newest first */
    struct kz_ueba_act acts[300];
    int n = 0;
    for (int d = 0; d < 10; d++)
        for (int h = 9; h <= 17; h++) {
            kz_time t = day0 + d * 24 * H + h * H + 5 * M;
            acts[n++] = (struct kz_ueba_act){.ts = t,
                                             .kind = KZ_UEBA_LOGON,
                                             .logon_type = 3,
                                             .outcome = 1,
                                             .user = "alice",
                                             .domain = "CORP",
                                             .host = "FS01",
                                             .src_ip = "10.1.2.3"};
            acts[n++] = (struct kz_ueba_act){.ts = t + M,
                                             .kind = KZ_UEBA_FILE,
                                             .logon_type = -1,
                                             .outcome = 1,
                                             .access = KZ_UEBA_READ,
                                             .user = "alice",
                                             .domain = "CORP",
                                             .host = "FS01",
                                             .src_ip = "10.1.2.3",
                                             .object = "\\\\*\\projects",
                                             .folder = "custA\\f.doc"};
            acts[n++] = (struct kz_ueba_act){.ts = t + 2 * M,
                                             .kind = KZ_UEBA_FILE,
                                             .logon_type = -1,
                                             .outcome = 1,
                                             .access = KZ_UEBA_READ,
                                             .user = "alice",
                                             .domain = "CORP",
                                             .host = "FS01",
                                             .src_ip = "10.1.2.3",
                                             .object = "\\\\*\\projects",
                                             .folder = "custB\\g.doc"};
        }
    acts[n++] = (struct kz_ueba_act){.ts = day0 + 10 * 24 * H + 2 * H,
                                     .kind = KZ_UEBA_LOGON,
                                     .logon_type = 10,
                                     .outcome = 1,
                                     .record_id = 5000,
                                     .user = "alice",
                                     .domain = "CORP",
                                     .host = "VDI1",
                                     .src_ip = "10.212.5.5",
                                     .device = "BYOD-7F2"};
    for (int i = n; i-- > 0;)
        REQUIRE(kz_ueba_keep(b, &acts[i]) == 0);
    kz_ueba_run(b, on_alert, &gb);
    REQUIRE(ga.n == gb.n);
    for (int i = 0; i < ga.n; i++) {
        CHECK_INT(gb.score[i], ga.score[i]);
        CHECK_STR(gb.first[i], ga.first[i]);
    }
    kz_ueba_free(a);
    kz_ueba_free(b);
}

/* Memory: a profile and its share of the edge table stay far under the 2 KiB budget. 200 users
 * x 10 days of the office pattern, each with its own workstation and 20 customers' folders. */
KZ_TEST(ueba_memory_per_entity) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    char user[32], ws[32], folder[64], ip[32];
    for (int d = 0; d < 10; d++)
        for (int h = 9; h <= 17; h++)
            for (int k = 0; k < 200; k++) {
                snprintf(user, sizeof user, "user%03d", k);
                snprintf(ws, sizeof ws, "WS%04d", k);
                snprintf(ip, sizeof ip, "10.1.%d.%d", k / 250, k % 250);
                snprintf(folder, sizeof folder, "cust%03d\\f.doc", (k * 7 + h + d) % 400);
                kz_time t = day0 + d * 24 * H + h * H + k * KZ_TICKS_PER_SEC;
                struct kz_ueba_act a = {.ts = t,
                                        .kind = KZ_UEBA_LOGON,
                                        .logon_type = 3,
                                        .outcome = 1,
                                        .user = user,
                                        .host = "FS01",
                                        .src_ip = ip,
                                        .device = ws};
                kz_ueba_push(u, &a, NULL, NULL);
                a.kind = KZ_UEBA_FILE;
                a.access = KZ_UEBA_READ;
                a.object = "\\\\*\\projects";
                a.folder = folder;
                kz_ueba_push(u, &a, NULL, NULL);
            }
    struct kz_ueba_stats st;
    kz_ueba_stats(u, &st);
    CHECK_INT((int)st.users, 200);
    double per_entity = (double)st.bytes / (double)(st.users + st.hosts);
    CHECK_MSG(per_entity <= 2048, "%.0f bytes per profile", per_entity);
    CHECK_MSG(sizeof(struct ueba_user) <= 320, "user profile %zu bytes", sizeof(struct ueba_user));
    kz_ueba_free(u);
}

/* Found by fuzz_ueba (inputs in tests/corpus/ueba): a forged time at the very end of kz_time's
 * range overflowed the hour arithmetic, and a process record without an image dereferenced NULL.
 * Both are now taken in stride; under UBSan this test fails if either comes back. */
KZ_TEST(ueba_hostile_times_and_missing_fields) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    struct kz_ueba_act a;
    memset(&a, 0, sizeof a);
    a.kind = KZ_UEBA_LOGON;
    a.logon_type = 3;
    a.user = "mallory";
    a.host = "DC01";
    a.ts = INT64_MIN;
    kz_ueba_push(u, &a, on_alert, &g);
    a.ts = INT64_MAX;
    kz_ueba_push(u, &a, on_alert, &g);
    a.kind = KZ_UEBA_PROCESS;
    a.object = NULL;
    kz_ueba_push(u, &a, on_alert, &g);
    struct kz_ueba_stats st;
    kz_ueba_stats(u, &st);
    CHECK(st.records >= 2);
    kz_ueba_free(u);
}

/* ---- state save/restore ---- */

/* FNV-1a 64, written from its definition (offset basis 14695981039346656037, prime
 * 1099511628211), to re-seal a state the test forges. */
static uint64_t test_fnv64(const unsigned char *p, size_t n) {
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = kz_malloc((size_t)len + 1);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        kz_free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* Ten office days in one run, saved; the attack night in a second run that loads the state:
 * the same two alerts as one continuous run (ueba_first_seen_device_hour_and_rdp works out 60
 * and 90 by hand), reasons word for word. */
KZ_TEST(ueba_state_continues_a_run) {
    kz_time_parse("2026-03-02", 10, &day0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/kz_ueba_state_%d", (int)getpid());
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    struct kz_err err = {0};
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    office_history(u, &g);
    REQUIRE(kz_ueba_save(u, path, &err) == 0);
    kz_ueba_free(u);

    REQUIRE(kz_ueba_new(&u, &o) == 0);
    REQUIRE(kz_ueba_load(u, path, &err) == 0);
    kz_time t = day0 + 10 * 24 * H + 2 * H + 14 * M;
    push(u, &g, t, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL, NULL, 5000);
    REQUIRE(g.n == 2);
    CHECK_INT(g.score[0], 60);
    CHECK_INT(g.score[1], 90);
    CHECK_INT(g.nreasons[1], 6);
    CHECK_STR(g.reasons[1][1], "active at 02:14 (never at this hour before; usual 09:00-17:59)");
    CHECK_STR(g.reasons[1][5], "first RDP logon to VDI1 (admin server), 02:14");
    CHECK(!strncmp(g.first[1], "CORP\\alice: risk 90: active at 02:14", 36));
    /* saved again mid-episode and loaded: the risk, its decay and the peak's reasons go on
     * (90 x 2^(-31/12) after 31 hours) */
    REQUIRE(kz_ueba_save(u, path, &err) == 0);
    kz_ueba_free(u);
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    REQUIRE(kz_ueba_load(u, path, &err) == 0);
    push(u, &g, t + 31 * H, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, 5001);
    CHECK_INT(g.n, 2);
    struct top_ctx tc = {0};
    kz_ueba_top(u, 1, top_fn, &tc);
    CHECK_MSG(fabs(tc.now - 90 * exp2(-31.0 / 12)) < 0.01, "risk now %f", tc.now);
    CHECK_MSG(fabs(tc.peak - 90) < 0.01, "peak %f", tc.peak);
    struct peak_ctx pc = {0};
    kz_ueba_top(u, 5, peak_fn, &pc);
    CHECK_STR(pc.reason, "first RDP logon to VDI1 (admin server), 02:14");
    /* a state loads into a fresh engine only */
    CHECK_INT(kz_ueba_load(u, path, &err), KZ_EUSAGE);
    kz_ueba_free(u);
    unlink(path);
}

/* Loads the state s[0..n) into a fresh engine; returns the status. */
static int load_forged(const unsigned char *s, size_t n) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    struct kz_err err = {0};
    if (kz_ueba_new(&u, &o)) return 1;
    int rc = kz_ueba_load_buffer(u, s, n, &err);
    /* refused whole: the engine is empty and still works */
    struct kz_ueba_stats st;
    kz_ueba_stats(u, &st);
    if (rc && (st.users || st.hosts || st.edges)) rc = 1;
    struct got g = {0};
    push(u, &g, day0, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, 1);
    kz_ueba_free(u);
    return rc;
}

static void reseal(unsigned char *s, size_t n) {
    uint64_t h = test_fnv64(s, n - 8);
    memcpy(s + n - 8, &h, 8);
}

/* A state file may be edited by whoever holds the disk: every check refuses it whole. Offsets
 * from the layout in ueba_state.c: magic 8 bytes, then ten u32 (version at 8, names count at 32,
 * users count at 36), then seven u64, names from byte 104. */
KZ_TEST(ueba_state_refuses_tampering) {
    kz_time_parse("2026-03-02", 10, &day0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/kz_ueba_tamper_%d", (int)getpid());
    struct kz_ueba_opts o;
    test_opts(&o);
    struct kz_ueba *u;
    struct kz_err err = {0};
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    office_history(u, &g);
    REQUIRE(kz_ueba_save(u, path, &err) == 0);
    kz_ueba_free(u);
    size_t n;
    unsigned char *s = slurp(path, &n);
    REQUIRE(s && n > 200);
    unlink(path);
    unsigned char *c = kz_malloc(n);
    REQUIRE(c);
    CHECK_INT(load_forged(s, n), 0); /* the untouched file loads */

    memcpy(c, s, n);
    c[150] ^= 1; /* one bit: the checksum */
    CHECK_INT(load_forged(c, n), KZ_ECORRUPT);
    CHECK_INT(load_forged(s, n - 1), KZ_ECORRUPT); /* truncated */
    CHECK_INT(load_forged(s, 10), KZ_EFORMAT);
    memcpy(c, s, n);
    c[0] = 'X';
    CHECK_INT(load_forged(c, n), KZ_EFORMAT);
    memcpy(c, s, n);
    c[8] = 99; /* version 99 */
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_EUNSUPP);
    uint32_t v = 0xfffffff0u; /* names count far beyond the file */
    memcpy(c, s, n);
    memcpy(c + 32, &v, 4);
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_ECORRUPT);
    memcpy(c, s, n);
    memcpy(c + 36, &v, 4); /* users count */
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_ECORRUPT);
    /* the first user's name id (its first field) pointed past the names */
    uint32_t nstr;
    memcpy(&nstr, s + 32, 4);
    size_t off = 104;
    for (uint32_t id = 1; id < nstr; id++) {
        uint16_t len;
        memcpy(&len, s + off + 1, 2);
        off += 3 + len;
    }
    memcpy(c, s, n);
    v = nstr + 5;
    memcpy(c + off, &v, 4);
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_ECORRUPT);
    /* ... or at a name of another kind (alice is the only account, so any other id is not one) */
    uint32_t name1;
    memcpy(&name1, s + off, 4);
    memcpy(c, s, n);
    v = name1 == 1 ? 2 : 1;
    memcpy(c + off, &v, 4);
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_ECORRUPT);
    /* a risk that is not a number (struct ueba_risk's first field) */
    memcpy(c, s, n);
    float nan_risk = NAN;
    memcpy(c + off + offsetof(struct ueba_user, r), &nan_risk, 4);
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_ECORRUPT);
    /* every truncation and every single-byte change, re-sealed, is refused or loads a model
     * that works (never a crash: ASan and the fuzzer watch this) */
    for (size_t i = 8; i + 8 < n; i += 7) {
        memcpy(c, s, n);
        c[i] ^= 0x5a;
        reseal(c, n);
        (void)load_forged(c, n);
    }
    kz_free(c);
    kz_free(s);
}

/* ---- accounts nobody owns (FAM_UNOWNED) ---- */

static void push_as(struct kz_ueba *u, struct got *g, const char *user, kz_time ts, int kind,
                    int ltype, const char *host, const char *object, const char *folder,
                    uint64_t rec) {
    struct kz_ueba_act a = {.ts = ts,
                            .kind = (uint8_t)kind,
                            .logon_type = (int8_t)ltype,
                            .outcome = 1,
                            .access = KZ_UEBA_READ,
                            .record_id = rec,
                            .bytes = -1,
                            .user = user,
                            .domain = "CORP",
                            .host = host,
                            .src_ip = kind == KZ_UEBA_PROCESS ? NULL : "10.20.2.10",
                            .object = object,
                            .folder = folder};
    kz_ueba_push(u, &a, on_alert, g);
}

/* Reads across 8 customers' folders within the hour starting at t (records rec..rec+7). */
static void read_8_folders(struct kz_ueba *u, struct got *g, const char *user, kz_time t,
                           uint64_t rec) {
    for (int i = 0; i < 8; i++) {
        char folder[32];
        snprintf(folder, sizeof folder, "cust%02d\\x.doc", i);
        push_as(u, g, user, t + i * M, KZ_UEBA_FILE, -1, "FS01", "\\\\*\\projects", folder,
                rec + (uint64_t)i);
    }
}

KZ_TEST(ueba_unowned_new_account_reads_and_dc) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    o.min_days = 5; /* every account below is still learning: only FAM_UNOWNED may speak */
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    /* day 0 (baseline): DC1 validates a logon (a domain controller); Administrator, then an
     * admin, create two accounts (4720) */
    push_as(u, &g, "bob", day0 + 9 * H, KZ_UEBA_AUTH, -1, "DC1", NULL, NULL, 1);
    push_as(u, &g, "Administrator", day0 + 18 * H, KZ_UEBA_LOGON, 3, "DC1", NULL, NULL, 2);
    push_as(u, &g, "backdoor", day0 + 18 * H + 10 * M, KZ_UEBA_ACCOUNT, -1, "DC1", "Administrator",
            NULL, 3);
    push_as(u, &g, "newhire", day0 + 18 * H + 20 * M, KZ_UEBA_ACCOUNT, -1, "DC1", "it-adm", NULL,
            4);
    /* day 2, 01:00: the backdoor (never a person's logon) reads across 8 folders of FS01. At the
     * 8th folder (8 = the folders' floor) one reason of 60 points: an alert at 60, medium. */
    kz_time t = day0 + 2 * 24 * H + 1 * H;
    push_as(u, &g, "backdoor", t, KZ_UEBA_LOGON, 3, "FS01", NULL, NULL, 10);
    read_8_folders(u, &g, "backdoor", t + M, 11);
    REQUIRE(g.n == 1);
    CHECK_INT(g.score[0], 60);
    CHECK_INT(g.level[0], KZ_LEVEL_MEDIUM);
    CHECK_STR(g.first[0], "CORP\\backdoor: risk 60: account created 2 days ago by "
                          "CORP\\Administrator, never logged on interactively, reads across 8 "
                          "folders (customers) of \\\\fs01\\projects in 1 h, 01:08");
    /* More reads the same day are not reported again (once per week). */
    read_8_folders(u, &g, "backdoor", t + 20 * M, 30);
    CHECK_INT(g.n, 1);
    /* One hour after the first alert it logs on to DC1 for the first time: 40 x 3 (domain
     * controller) / 3 = 40 points; the family's cap (100) holds 60 + 40. Risk 60 x 2^(-1/12)
     * + 40 = 96.6: critical, a second alert with score 97. */
    push_as(u, &g, "backdoor", t + 8 * M + H, KZ_UEBA_LOGON, 3, "DC1", NULL, NULL, 50);
    REQUIRE(g.n == 2);
    CHECK_INT(g.score[1], 97);
    CHECK_INT(g.level[1], KZ_LEVEL_CRITICAL);
    CHECK_STR(g.reasons[1][2], "account first seen 2 days ago, created by CORP\\Administrator, "
                               "never logged on interactively, logs on to DC1 (domain "
                               "controller), 02:08");
    /* The new hire logs on at a desk first, then reads the same way: a person, silent. */
    kz_time t2 = day0 + 2 * 24 * H + 9 * H;
    push_as(u, &g, "newhire", t2, KZ_UEBA_LOGON, 2, "WS1", NULL, NULL, 60);
    read_8_folders(u, &g, "newhire", t2 + M, 61);
    /* An account whose creation was never seen, reading the same way: silent (learning). */
    read_8_folders(u, &g, "old", t2 + M, 70);
    CHECK_INT(g.n, 2);
    /* A week after its first report the backdoor's reads are reported again: day 9. Its risk
     * then: 96.6 x 2^(-7 days / 12 h) ~ 0.06, + 60 -> 60. */
    read_8_folders(u, &g, "backdoor", t + 7 * 24 * H, 80);
    REQUIRE(g.n == 3);
    CHECK_INT(g.score[2], 60);
    /* Day 11 (risk 60 x 2^(-48/12) = 3.75 by then): it writes a file on FS01's share: 60 points,
     * 63.75 -> an alert at 64; a second write on the same share that day adds nothing. */
    struct kz_ueba_act w = {.ts = t + 9 * 24 * H,
                            .kind = KZ_UEBA_FILE,
                            .logon_type = -1,
                            .outcome = 1,
                            .access = KZ_UEBA_WRITE,
                            .record_id = 90,
                            .bytes = -1,
                            .user = "backdoor",
                            .domain = "CORP",
                            .host = "FS01",
                            .src_ip = "10.20.2.10",
                            .object = "\\\\*\\projects",
                            .folder = "cust01\\a.doc.nightsky"};
    kz_ueba_push(u, &w, on_alert, &g);
    w.ts += M;
    kz_ueba_push(u, &w, on_alert, &g);
    REQUIRE(g.n == 4);
    CHECK_INT(g.score[3], 64);
    CHECK(!strncmp(g.first[3], "CORP\\backdoor: risk 64: ", 24));
    /* the reads of day 9 still weigh (3.75 points): they come first, then the writes */
    CHECK_INT(g.nreasons[3], 3);
    CHECK_STR(g.reasons[3][2], "account created 11 days ago by CORP\\Administrator, never logged "
                               "on interactively, writes files on \\\\fs01\\projects, 01:00");
    kz_ueba_free(u);
}

KZ_TEST(ueba_service_account_runs_a_program_new_to_the_estate) {
    kz_time_parse("2026-03-02", 10, &day0);
    struct kz_ueba_opts o;
    test_opts(&o);
    o.min_days = 5;
    struct kz_ueba *u;
    REQUIRE(kz_ueba_new(&u, &o) == 0);
    struct got g = {0};
    /* days 0-5: the portal's service account runs java.exe on PORTAL every morning; an admin
     * (a person: interactive logons) runs cmd.exe on OPS1 */
    uint64_t rec = 1;
    for (int d = 0; d <= 5; d++) {
        kz_time t = day0 + d * 24 * H + 10 * H;
        push_as(u, &g, "svc-portal", t, KZ_UEBA_PROCESS, -1, "PORTAL", "C:\\jre\\bin\\java.exe",
                NULL, rec++);
        push_as(u, &g, "erin", t, KZ_UEBA_LOGON, 2, "OPS1", NULL, NULL, rec++);
        push_as(u, &g, "erin", t + M, KZ_UEBA_PROCESS, -1, "OPS1", "C:\\Windows\\cmd.exe", NULL,
                rec++);
    }
    CHECK_INT(g.n, 0);
    /* day 6, 19:46: the service account runs cmd.exe (known in the estate: nothing), then
     * 7z.exe, a program nobody ever ran: 60 points, an alert at 60 (medium). */
    kz_time t = day0 + 6 * 24 * H + 19 * H + 46 * M;
    push_as(u, &g, "svc-portal", t, KZ_UEBA_PROCESS, -1, "PORTAL", "C:\\Windows\\cmd.exe", NULL,
            100);
    CHECK_INT(g.n, 0);
    push_as(u, &g, "svc-portal", t + M, KZ_UEBA_PROCESS, -1, "PORTAL", "C:\\ProgramData\\7z.exe",
            NULL, 101);
    REQUIRE(g.n == 1);
    CHECK_INT(g.score[0], 60);
    CHECK_STR(g.first[0], "CORP\\svc-portal: risk 60: first run of 7z.exe anywhere in the "
                          "organisation, on PORTAL, by an account never logged on interactively "
                          "(a service's account), 19:47");
    /* 20 minutes later rclone.exe, new as well: the family's cap (100) leaves 40 of its 60.
     * 60 x 2^(-20/720) + 40 = 98.9: critical, score 99. (PORTAL's own risk: half of each, 30
     * then 30 x 2^(-20/720) + 20 = 49.4, under the threshold.) */
    push_as(u, &g, "svc-portal", t + 21 * M, KZ_UEBA_PROCESS, -1, "PORTAL",
            "C:\\ProgramData\\rclone.exe", NULL, 102);
    REQUIRE(g.n == 2);
    CHECK_INT(g.score[1], 99);
    CHECK_INT(g.level[1], KZ_LEVEL_CRITICAL);
    /* the admin (a person) running a program new to the estate: not this feature's business */
    push_as(u, &g, "erin", t, KZ_UEBA_PROCESS, -1, "OPS1", "C:\\tools\\newtool.exe", NULL, 103);
    CHECK_INT(g.n, 2);
    kz_ueba_free(u);
}
