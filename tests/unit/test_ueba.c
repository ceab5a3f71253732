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
#include "sim/mmdb_writer.h"
#include "ueba/geoip.h"
#include "ueba/ueba.h"
#include "ueba/ueba_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

static void test_opts(struct kz_ueba_opts *o) {
    kz_ueba_opts_default(o);
    o->baseline_days = 1;
    o->min_days = 2;
    o->min_events = 5;
}

/* ---- the fixture: one engine, its alerts, record numbers ---- */

struct fx {
    struct kz_ueba *u;
    struct got g;
    uint64_t rec;
};

/* A fresh engine with options o (test_opts, changed as a test needs) and, when peers is not NULL,
 * the peer mapping in that CSV text; no alerts yet, records numbered from 1. The one place every
 * test below makes its engine. */
static void fx_open_opts(struct fx *f, const struct kz_ueba_opts *o, const char *peers) {
    memset(f, 0, sizeof *f);
    kz_time_parse("2026-03-02", 10, &day0);
    REQUIRE(kz_ueba_new(&f->u, o) == 0);
    if (peers) {
        struct kz_err err = {0};
        int rc = kz_ueba_peers_buffer(f->u, peers, strlen(peers), "peers.csv", &err);
        CHECK_MSG(rc == 0, "peers: %s", err.msg);
    }
    f->rec = 1;
}

/* fx_open_opts with test_opts, a threshold (0 keeps the default) and a GeoIP handle (NULL:
 * none). */
static void fx_open(struct fx *f, double threshold, struct kz_geoip *geoip, const char *peers) {
    struct kz_ueba_opts o;
    test_opts(&o);
    if (threshold > 0) o.threshold = threshold;
    o.geoip = geoip;
    fx_open_opts(f, &o, peers);
}

static void fx_push(struct fx *f, const char *user, kz_time ts, int kind, int ltype,
                    const char *host, const char *ip, const char *object, const char *folder,
                    int64_t bytes) {
    struct kz_ueba_act a = {.ts = ts,
                            .kind = (uint8_t)kind,
                            .logon_type = (int8_t)ltype,
                            .outcome = 1,
                            .access = KZ_UEBA_READ,
                            .record_id = f->rec++,
                            .bytes = bytes,
                            .user = user,
                            .domain = "CORP",
                            .host = host,
                            .src_ip = ip,
                            .object = object,
                            .folder = folder};
    kz_ueba_push(f->u, &a, on_alert, &f->g);
}

/* office_history for n accounts at once (records must come in time order): each account on its
 * own file server and folder, who[i] / fs[i] / folder[i]. */
static void fx_office_n(struct fx *f, int n, const char *const *who, const char *const *fs,
                        const char *const *folder) {
    for (int d = 0; d < 10; d++)
        for (int h = 9; h <= 17; h++)
            for (int i = 0; i < n; i++) {
                kz_time t = day0 + d * 24 * H + h * H + 5 * M;
                fx_push(f, who[i], t, KZ_UEBA_LOGON, 3, fs[i], "10.1.2.3", NULL, NULL, -1);
                fx_push(f, who[i], t + M, KZ_UEBA_FILE, -1, fs[i], "10.1.2.3", "\\\\*\\projects",
                        folder[i], -1);
            }
}

static void fx_office(struct fx *f, const char *user, const char *fs, const char *folder) {
    fx_office_n(f, 1, &user, &fs, &folder);
}

static void push(struct fx *f, kz_time ts, int kind, int ltype, const char *host, const char *ip,
                 const char *device, const char *object, const char *folder, uint64_t rec) {
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
    kz_ueba_push(f->u, &a, on_alert, &f->g);
}

/* Ten days of office life: every hour 09:00-17:59 UTC a network logon to FS01 from 10.1.2.3 and
 * two reads, one in each of two customers' folders. 10 days x 9 hours = 90 active hours. */
static void office_history(struct fx *f) {
    uint64_t rec = 1;
    for (int d = 0; d < 10; d++)
        for (int h = 9; h <= 17; h++) {
            kz_time t = day0 + d * 24 * H + h * H + 5 * M;
            push(f, t, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, rec++);
            push(f, t + M, KZ_UEBA_FILE, -1, "FS01", "10.1.2.3", NULL, "\\\\*\\projects",
                 "custA\\f.doc", rec++);
            push(f, t + 2 * M, KZ_UEBA_FILE, -1, "FS01", "10.1.2.3", NULL, "\\\\*\\projects",
                 "custB\\g.doc", rec++);
        }
}

KZ_TEST(ueba_first_seen_device_hour_and_rdp) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    office_history(&f);
    CHECK_INT(f.g.n, 0); /* ordinary days raise nothing */
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
    push(&f, t, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL, NULL, 5000);
    REQUIRE(f.g.n == 2);
    CHECK_INT(f.g.score[0], 60);
    CHECK_INT(f.g.level[0], KZ_LEVEL_MEDIUM);
    CHECK_INT(f.g.score[1], 90);
    CHECK_INT(f.g.level[1], KZ_LEVEL_HIGH);
    CHECK_INT(f.g.nreasons[1], 6); /* the summary and five reasons */
    CHECK_STR(f.g.reasons[1][1], "active at 02:14 (never at this hour before; usual 09:00-17:59)");
    CHECK_STR(f.g.reasons[1][2],
              "first activity from network 10.212.0.0/16 (new to the organisation), 02:14");
    CHECK_STR(f.g.reasons[1][3],
              "first activity from device byod-7f2 (never seen in the organisation), 02:14");
    CHECK_STR(f.g.reasons[1][4], "first RDP logon (type 10) for the account, 02:14");
    CHECK_STR(f.g.reasons[1][5], "first RDP logon to VDI1 (admin server), 02:14");
    CHECK(!strncmp(f.g.first[1], "CORP\\alice: risk 90: active at 02:14", 36));

    /* Decay: 31 h later an ordinary logon (known hour, host, address) adds nothing; the risk is
     * 90 x 2^(-31/12) = 15.2. */
    push(&f, t + 31 * H, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, 5001);
    CHECK_INT(f.g.n, 2);
    struct top_ctx tc = {0};
    kz_ueba_top(f.u, 1, top_fn, &tc);
    CHECK(tc.seen == 1);
    CHECK_MSG(fabs(tc.now - 90 * exp2(-31.0 / 12)) < 0.01, "risk now %f", tc.now);
    CHECK_MSG(fabs(tc.peak - 90) < 0.01, "peak %f", tc.peak);
    kz_ueba_free(f.u);
}

KZ_TEST(ueba_gates_silence_young_profiles) {
    struct kz_ueba_opts o;
    test_opts(&o);
    o.min_days = 20; /* alice has 10 active days: still learning */
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    office_history(&f);
    push(&f, day0 + 10 * 24 * H + 2 * H, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL,
         NULL, 5000);
    CHECK_INT(f.g.n, 0);
    kz_ueba_free(f.u);
    /* the run's baseline: with 11 baseline days everything is learning */
    test_opts(&o);
    o.baseline_days = 11;
    fx_open_opts(&f, &o, NULL);
    office_history(&f);
    push(&f, day0 + 10 * 24 * H + 2 * H, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL,
         NULL, 5000);
    CHECK_INT(f.g.n, 0);
    kz_ueba_free(f.u);
}

KZ_TEST(ueba_volume_spike_folders) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    office_history(&f);
    /* Day 10, 10:xx (a usual hour): one read in each of 12 folders. History: every active hour
     * touched 2 folders (log2 bucket 1, values 2-3), so the 95th percentile is 3 and the bound
     * max(8, 3 x 3) = 9: the 10th folder is the spike. Points 25 + 5 log2(10/9) = 25.76; no
     * doubt (usual hour, known address), so half: 12.9. Below the threshold: no alert, and the
     * entity's peak is 12.9 with that one reason. */
    kz_time t = day0 + 10 * 24 * H + 10 * H;
    for (int i = 0; i < 12; i++) {
        char folder[32];
        snprintf(folder, sizeof folder, "cust%02d\\x.doc", i);
        push(&f, t + i * M, KZ_UEBA_FILE, -1, "FS01", "10.1.2.3", NULL, "\\\\*\\projects", folder,
             6000 + (uint64_t)i);
    }
    CHECK_INT(f.g.n, 0);
    struct peak_ctx pc = {0};
    REQUIRE(kz_ueba_top(f.u, 5, peak_fn, &pc) >= 1);
    CHECK_MSG(fabs(pc.peak - (25 + 5 * log2(10.0 / 9)) / 2) < 0.01, "peak %f", pc.peak);
    CHECK_STR(pc.reason, "reads across 10 folders (customers) in 1 h (usual: up to 3), 10:09");
    kz_ueba_free(f.u);
}

/* Keep + run (any arrival order, ties by keep order) gives what pushing in time order gives. */
KZ_TEST(ueba_keep_run_equals_ordered_push) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx fa, fb;
    fx_open_opts(&fa, &o, NULL);
    fx_open_opts(&fb, &o, NULL);
    office_history(&fa);
    push(&fa, day0 + 10 * 24 * H + 2 * H, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL,
         NULL, 5000);
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
        REQUIRE(kz_ueba_keep(fb.u, &acts[i]) == 0);
    kz_ueba_run(fb.u, on_alert, &fb.g);
    REQUIRE(fa.g.n == fb.g.n);
    for (int i = 0; i < fa.g.n; i++) {
        CHECK_INT(fb.g.score[i], fa.g.score[i]);
        CHECK_STR(fb.g.first[i], fa.g.first[i]);
    }
    kz_ueba_free(fa.u);
    kz_ueba_free(fb.u);
}

/* Memory: a profile and its share of the edge table stay far under the 2 KiB budget. 200 users
 * x 10 days of the office pattern, each with its own workstation and 20 customers' folders. */
KZ_TEST(ueba_memory_per_entity) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    fx_open_opts(&f, &o, NULL);
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
                kz_ueba_push(f.u, &a, NULL, NULL);
                a.kind = KZ_UEBA_FILE;
                a.access = KZ_UEBA_READ;
                a.object = "\\\\*\\projects";
                a.folder = folder;
                kz_ueba_push(f.u, &a, NULL, NULL);
            }
    struct kz_ueba_stats st;
    kz_ueba_stats(f.u, &st);
    CHECK_INT((int)st.users, 200);
    double per_entity = (double)st.bytes / (double)(st.users + st.hosts);
    CHECK_MSG(per_entity <= 2048, "%.0f bytes per profile", per_entity);
    /* fixed-size: 376 bytes with the bytes metric, peer group and travel memory (the budget
     * that matters is the average above) */
    CHECK_MSG(sizeof(struct ueba_user) <= 384, "user profile %zu bytes", sizeof(struct ueba_user));
    kz_ueba_free(f.u);
}

/* Found by fuzz_ueba (inputs in tests/corpus/ueba): a forged time at the very end of kz_time's
 * range overflowed the hour arithmetic, and a process record without an image dereferenced NULL.
 * Both are now taken in stride; under UBSan this test fails if either comes back. */
KZ_TEST(ueba_hostile_times_and_missing_fields) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    struct kz_ueba_act a;
    memset(&a, 0, sizeof a);
    a.kind = KZ_UEBA_LOGON;
    a.logon_type = 3;
    a.user = "mallory";
    a.host = "DC01";
    a.ts = INT64_MIN;
    kz_ueba_push(f.u, &a, on_alert, &f.g);
    a.ts = INT64_MAX;
    kz_ueba_push(f.u, &a, on_alert, &f.g);
    a.kind = KZ_UEBA_PROCESS;
    a.object = NULL;
    kz_ueba_push(f.u, &a, on_alert, &f.g);
    struct kz_ueba_stats st;
    kz_ueba_stats(f.u, &st);
    CHECK(st.records >= 2);
    kz_ueba_free(f.u);
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
    char path[64];
    snprintf(path, sizeof path, "/tmp/kz_ueba_state_%d", (int)getpid());
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    struct kz_err err = {0};
    fx_open_opts(&f, &o, NULL);
    office_history(&f);
    REQUIRE(kz_ueba_save(f.u, path, &err) == 0);
    kz_ueba_free(f.u);

    fx_open_opts(&f, &o, NULL);
    REQUIRE(kz_ueba_load(f.u, path, &err) == 0);
    kz_time t = day0 + 10 * 24 * H + 2 * H + 14 * M;
    push(&f, t, KZ_UEBA_LOGON, 10, "VDI1", "10.212.5.5", "BYOD-7F2", NULL, NULL, 5000);
    REQUIRE(f.g.n == 2);
    CHECK_INT(f.g.score[0], 60);
    CHECK_INT(f.g.score[1], 90);
    CHECK_INT(f.g.nreasons[1], 6);
    CHECK_STR(f.g.reasons[1][1], "active at 02:14 (never at this hour before; usual 09:00-17:59)");
    CHECK_STR(f.g.reasons[1][5], "first RDP logon to VDI1 (admin server), 02:14");
    CHECK(!strncmp(f.g.first[1], "CORP\\alice: risk 90: active at 02:14", 36));
    /* saved again mid-episode and loaded: the risk, its decay and the peak's reasons go on
     * (90 x 2^(-31/12) after 31 hours) */
    REQUIRE(kz_ueba_save(f.u, path, &err) == 0);
    kz_ueba_free(f.u);
    fx_open_opts(&f, &o, NULL);
    REQUIRE(kz_ueba_load(f.u, path, &err) == 0);
    push(&f, t + 31 * H, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, 5001);
    CHECK_INT(f.g.n, 0); /* no alert in this third run (the fixture counts afresh) */
    struct top_ctx tc = {0};
    kz_ueba_top(f.u, 1, top_fn, &tc);
    CHECK_MSG(fabs(tc.now - 90 * exp2(-31.0 / 12)) < 0.01, "risk now %f", tc.now);
    CHECK_MSG(fabs(tc.peak - 90) < 0.01, "peak %f", tc.peak);
    struct peak_ctx pc = {0};
    kz_ueba_top(f.u, 5, peak_fn, &pc);
    CHECK_STR(pc.reason, "first RDP logon to VDI1 (admin server), 02:14");
    /* a state loads into a fresh engine only */
    CHECK_INT(kz_ueba_load(f.u, path, &err), KZ_EUSAGE);
    kz_ueba_free(f.u);
    unlink(path);
}

/* Loads the state s[0..n) into a fresh engine; returns the status. */
static int load_forged(const unsigned char *s, size_t n) {
    struct fx f;
    fx_open(&f, 0, NULL, NULL);
    struct kz_err err = {0};
    int rc = kz_ueba_load_buffer(f.u, s, n, &err);
    /* refused whole: the engine is empty and still works */
    struct kz_ueba_stats st;
    kz_ueba_stats(f.u, &st);
    if (rc && (st.users || st.hosts || st.edges)) rc = 1;
    push(&f, day0, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, 1);
    kz_ueba_free(f.u);
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
    char path[64];
    snprintf(path, sizeof path, "/tmp/kz_ueba_tamper_%d", (int)getpid());
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    struct kz_err err = {0};
    fx_open_opts(&f, &o, NULL);
    office_history(&f);
    REQUIRE(kz_ueba_save(f.u, path, &err) == 0);
    kz_ueba_free(f.u);
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
    memcpy(c, s, n);
    c[8] = 3; /* a state of the previous format (return gaps in days, no window) */
    reseal(c, n);
    CHECK_INT(load_forged(c, n), KZ_EUNSUPP);
    {
        /* ... refused with what to do about it */
        struct fx v;
        fx_open_opts(&v, &o, NULL);
        struct kz_err e2 = {0};
        CHECK_INT(kz_ueba_load_buffer(v.u, c, n, &e2), KZ_EUNSUPP);
        CHECK_MSG(
            !strncmp(e2.msg, "state version 3 (this build reads 4: written by an older kizuki", 63),
            "%s", e2.msg);
        kz_ueba_free(v.u);
    }
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

static void push_as(struct fx *f, const char *user, kz_time ts, int kind, int ltype,
                    const char *host, const char *object, const char *folder, uint64_t rec) {
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
    kz_ueba_push(f->u, &a, on_alert, &f->g);
}

/* Reads across 8 customers' folders within the hour starting at t (records rec..rec+7). */
static void read_8_folders(struct fx *f, const char *user, kz_time t, uint64_t rec) {
    for (int i = 0; i < 8; i++) {
        char folder[32];
        snprintf(folder, sizeof folder, "cust%02d\\x.doc", i);
        push_as(f, user, t + i * M, KZ_UEBA_FILE, -1, "FS01", "\\\\*\\projects", folder,
                rec + (uint64_t)i);
    }
}

KZ_TEST(ueba_unowned_new_account_reads_and_dc) {
    struct kz_ueba_opts o;
    test_opts(&o);
    o.min_days = 5; /* every account below is still learning: only FAM_UNOWNED may speak */
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    /* day 0 (baseline): DC1 validates a logon (a domain controller); Administrator, then an
     * admin, create two accounts (4720) */
    push_as(&f, "bob", day0 + 9 * H, KZ_UEBA_AUTH, -1, "DC1", NULL, NULL, 1);
    push_as(&f, "Administrator", day0 + 18 * H, KZ_UEBA_LOGON, 3, "DC1", NULL, NULL, 2);
    push_as(&f, "backdoor", day0 + 18 * H + 10 * M, KZ_UEBA_ACCOUNT, -1, "DC1", "Administrator",
            NULL, 3);
    push_as(&f, "newhire", day0 + 18 * H + 20 * M, KZ_UEBA_ACCOUNT, -1, "DC1", "it-adm", NULL, 4);
    /* day 2, 01:00: the backdoor (never a person's logon) reads across 8 folders of FS01. At the
     * 8th folder (8 = the folders' floor) one reason of 60 points: an alert at 60, medium. */
    kz_time t = day0 + 2 * 24 * H + 1 * H;
    push_as(&f, "backdoor", t, KZ_UEBA_LOGON, 3, "FS01", NULL, NULL, 10);
    read_8_folders(&f, "backdoor", t + M, 11);
    REQUIRE(f.g.n == 1);
    CHECK_INT(f.g.score[0], 60);
    CHECK_INT(f.g.level[0], KZ_LEVEL_MEDIUM);
    CHECK_STR(f.g.first[0], "CORP\\backdoor: risk 60: account created 2 days ago by "
                            "CORP\\Administrator, never logged on interactively, reads across 8 "
                            "folders (customers) of \\\\fs01\\projects in 1 h, 01:08");
    /* More reads the same day are not reported again (once per week). */
    read_8_folders(&f, "backdoor", t + 20 * M, 30);
    CHECK_INT(f.g.n, 1);
    /* One hour after the first alert it logs on to DC1 for the first time: 40 x 3 (domain
     * controller) / 3 = 40 points; the family's cap (100) holds 60 + 40. Risk 60 x 2^(-1/12)
     * + 40 = 96.6: critical, a second alert with score 97. */
    push_as(&f, "backdoor", t + 8 * M + H, KZ_UEBA_LOGON, 3, "DC1", NULL, NULL, 50);
    REQUIRE(f.g.n == 2);
    CHECK_INT(f.g.score[1], 97);
    CHECK_INT(f.g.level[1], KZ_LEVEL_CRITICAL);
    CHECK_STR(f.g.reasons[1][2], "account first seen 2 days ago, created by CORP\\Administrator, "
                                 "never logged on interactively, logs on to DC1 (domain "
                                 "controller), 02:08");
    /* The new hire logs on at a desk first, then reads the same way: a person, silent. */
    kz_time t2 = day0 + 2 * 24 * H + 9 * H;
    push_as(&f, "newhire", t2, KZ_UEBA_LOGON, 2, "WS1", NULL, NULL, 60);
    read_8_folders(&f, "newhire", t2 + M, 61);
    /* An account whose creation was never seen, reading the same way: silent (learning). */
    read_8_folders(&f, "old", t2 + M, 70);
    CHECK_INT(f.g.n, 2);
    /* A week after its first report the backdoor's reads are reported again: day 9. Its risk
     * then: 96.6 x 2^(-7 days / 12 h) ~ 0.06, + 60 -> 60. */
    read_8_folders(&f, "backdoor", t + 7 * 24 * H, 80);
    REQUIRE(f.g.n == 3);
    CHECK_INT(f.g.score[2], 60);
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
    kz_ueba_push(f.u, &w, on_alert, &f.g);
    w.ts += M;
    kz_ueba_push(f.u, &w, on_alert, &f.g);
    REQUIRE(f.g.n == 4);
    CHECK_INT(f.g.score[3], 64);
    CHECK(!strncmp(f.g.first[3], "CORP\\backdoor: risk 64: ", 24));
    /* the reads of day 9 still weigh (3.75 points): they come first, then the writes */
    CHECK_INT(f.g.nreasons[3], 3);
    CHECK_STR(f.g.reasons[3][2], "account created 11 days ago by CORP\\Administrator, never logged "
                                 "on interactively, writes files on \\\\fs01\\projects, 01:00");
    kz_ueba_free(f.u);
}

KZ_TEST(ueba_service_account_runs_a_program_new_to_the_estate) {
    struct kz_ueba_opts o;
    test_opts(&o);
    o.min_days = 5;
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    /* days 0-5: the portal's service account runs java.exe on PORTAL every morning; an admin
     * (a person: interactive logons) runs cmd.exe on OPS1 */
    uint64_t rec = 1;
    for (int d = 0; d <= 5; d++) {
        kz_time t = day0 + d * 24 * H + 10 * H;
        push_as(&f, "svc-portal", t, KZ_UEBA_PROCESS, -1, "PORTAL", "C:\\jre\\bin\\java.exe", NULL,
                rec++);
        push_as(&f, "erin", t, KZ_UEBA_LOGON, 2, "OPS1", NULL, NULL, rec++);
        push_as(&f, "erin", t + M, KZ_UEBA_PROCESS, -1, "OPS1", "C:\\Windows\\cmd.exe", NULL,
                rec++);
    }
    CHECK_INT(f.g.n, 0);
    /* day 6, 19:46: the service account runs cmd.exe (known in the estate: nothing), then
     * 7z.exe, a program nobody ever ran: 60 points, an alert at 60 (medium). */
    kz_time t = day0 + 6 * 24 * H + 19 * H + 46 * M;
    push_as(&f, "svc-portal", t, KZ_UEBA_PROCESS, -1, "PORTAL", "C:\\Windows\\cmd.exe", NULL, 100);
    CHECK_INT(f.g.n, 0);
    push_as(&f, "svc-portal", t + M, KZ_UEBA_PROCESS, -1, "PORTAL", "C:\\ProgramData\\7z.exe", NULL,
            101);
    REQUIRE(f.g.n == 1);
    CHECK_INT(f.g.score[0], 60);
    CHECK_STR(f.g.first[0], "CORP\\svc-portal: risk 60: first run of 7z.exe anywhere in the "
                            "organisation, on PORTAL, by an account never logged on interactively "
                            "(a service's account), 19:47");
    /* 20 minutes later rclone.exe, new as well: the family's cap (100) leaves 40 of its 60.
     * 60 x 2^(-20/720) + 40 = 98.9: critical, score 99. (PORTAL's own risk: half of each, 30
     * then 30 x 2^(-20/720) + 20 = 49.4, under the threshold.) */
    push_as(&f, "svc-portal", t + 21 * M, KZ_UEBA_PROCESS, -1, "PORTAL",
            "C:\\ProgramData\\rclone.exe", NULL, 102);
    REQUIRE(f.g.n == 2);
    CHECK_INT(f.g.score[1], 99);
    CHECK_INT(f.g.level[1], KZ_LEVEL_CRITICAL);
    /* the admin (a person) running a program new to the estate: not this feature's business */
    push_as(&f, "erin", t, KZ_UEBA_PROCESS, -1, "OPS1", "C:\\tools\\newtool.exe", NULL, 103);
    CHECK_INT(f.g.n, 2);
    kz_ueba_free(f.u);
}

/* ---- evidence that is not the account's own activity: Sigma findings, group changes ---- */

/* Every entity's peak and the last reason of its peak, by name. */
struct peaks {
    int n;
    char name[16][64];
    double peak[16];
    char reason[16][256];
};
static void peaks_fn(void *ctx, const struct kz_ueba_entity *e) {
    struct peaks *p = ctx;
    if (p->n >= 16) return;
    snprintf(p->name[p->n], sizeof p->name[0], "%s", e->name);
    p->peak[p->n] = e->risk_peak;
    snprintf(p->reason[p->n], sizeof p->reason[0], "%s",
             e->nreasons ? e->reasons[e->nreasons - 1] : "");
    p->n++;
}
static int peak_of(struct kz_ueba *u, const char *name, double *peak, char *reason) {
    struct peaks p = {0};
    kz_ueba_top(u, 16, peaks_fn, &p);
    for (int i = 0; i < p.n; i++)
        if (!strcmp(p.name[i], name)) {
            *peak = p.peak[i];
            if (reason)
                snprintf(reason, sizeof p.reason[0], "%s",
                         p.reason[i]); /* callers pass 256 bytes */
            return 1;
        }
    *peak = 0;
    return 0;
}

static void push_sigma(struct fx *f, kz_time ts, const char *user, const char *host, int level,
                       const char *id, const char *title) {
    struct kz_ueba_act a = {.ts = ts,
                            .kind = KZ_UEBA_SIGMA,
                            .logon_type = -1,
                            .outcome = -1,
                            .access = (uint8_t)level,
                            .record_id = 77,
                            .bytes = -1,
                            .user = user,
                            .domain = user ? "CORP" : NULL,
                            .host = host,
                            .object = title,
                            .folder = id};
    kz_ueba_push(f->u, &a, on_alert, &f->g);
}

KZ_TEST(ueba_extract_findings_and_group_changes) {
    struct ev_builder b;
    struct kz_ueba_act a;
    /* 4688: the one who acted is the subject (TargetUserName "-" names no one) */
    ev_init(&b, 4688, "Security", "PWRESET01.corp.example");
    ev_field(&b, "SubjectUserName", "svc-adss");
    ev_field(&b, "SubjectDomainName", "CORP");
    ev_field(&b, "TargetUserName", "-");
    ev_field(&b, "NewProcessName", "C:\\Windows\\System32\\cmd.exe");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract_finding(&b.ev, KZ_LEVEL_HIGH, "rid-1", "Shell from Java", &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_SIGMA);
    CHECK_INT(a.access, KZ_LEVEL_HIGH);
    CHECK_STR(a.user, "svc-adss");
    CHECK_STR(a.domain, "CORP");
    CHECK_STR(a.object, "Shell from Java");
    CHECK_STR(a.folder, "rid-1");
    CHECK_STR(a.host, "PWRESET01.corp.example");
    /* low and informational rules are no evidence */
    CHECK_INT(kz_ueba_extract_finding(&b.ev, KZ_LEVEL_LOW, "rid-1", "x", &a), 0);
    /* a rule without an id is keyed by its title */
    REQUIRE(kz_ueba_extract_finding(&b.ev, KZ_LEVEL_MEDIUM, NULL, "Whoami", &a) == 1);
    CHECK_STR(a.folder, "Whoami");

    /* 4728: TargetUserName is the group; the finding is the subject's, the group change a
     * record with the member's SID and DN */
    ev_init(&b, 4728, "Security", "DC01.corp.example");
    ev_field(&b, "MemberName", "CN=AD Sync,CN=Users,DC=corp,DC=example");
    ev_field(&b, "MemberSid", "S-1-5-21-1-2-3-1105");
    ev_field(&b, "TargetUserName", "Domain Admins");
    ev_field(&b, "TargetDomainName", "CORP");
    ev_field(&b, "TargetSid", "S-1-5-21-1-2-3-512");
    ev_field(&b, "SubjectUserSid", "S-1-5-21-1-2-3-500");
    ev_field(&b, "SubjectUserName", "Administrator");
    ev_field(&b, "SubjectDomainName", "CORP");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract_finding(&b.ev, KZ_LEVEL_HIGH, "rid-2", "Added to admins", &a) == 1);
    CHECK_STR(a.user, "Administrator");
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_GROUP);
    CHECK_STR(a.user, "CN=AD Sync,CN=Users,DC=corp,DC=example");
    CHECK_STR(a.sid, "S-1-5-21-1-2-3-1105");
    CHECK_STR(a.folder, "Domain Admins");
    CHECK_STR(a.target, "S-1-5-21-1-2-3-512");
    CHECK_STR(a.object, "Administrator");

    /* 4720: the new account's SID is TargetSid (ent.sid would be the creator's) */
    ev_init(&b, 4720, "Security", "DC01.corp.example");
    ev_field(&b, "TargetUserName", "adsync_svc");
    ev_field(&b, "TargetSid", "S-1-5-21-1-2-3-1105");
    ev_field(&b, "SubjectUserSid", "S-1-5-21-1-2-3-500");
    ev_field(&b, "SubjectUserName", "Administrator");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract(&b.ev, &a) == 1);
    CHECK_INT(a.kind, KZ_UEBA_ACCOUNT);
    CHECK_STR(a.sid, "S-1-5-21-1-2-3-1105");

    /* the system acting: the host's finding */
    ev_init(&b, 1, "Microsoft-Windows-Sysmon/Operational", "FS01");
    ev_field(&b, "User", "NT AUTHORITY\\SYSTEM");
    ev_field(&b, "Image", "C:\\Windows\\System32\\vssadmin.exe");
    kz_event_normalise(&b.ev);
    REQUIRE(kz_ueba_extract_finding(&b.ev, KZ_LEVEL_HIGH, "rid-3", "Shadow copies", &a) == 1);
    CHECK(a.user == NULL);

    /* the wire form carries a finding whole */
    struct kz_buf w;
    kz_buf_init(&w, 1 << 16);
    kz_ueba_act_pack(&w, &a);
    struct kz_ueba_act back;
    REQUIRE(kz_ueba_act_unpack(w.data, w.len, &back) == 0);
    CHECK_INT(back.kind, KZ_UEBA_SIGMA);
    CHECK_INT(back.access, KZ_LEVEL_HIGH);
    CHECK_STR(back.object, "Shadow copies");
    kz_buf_free(&w);
}

KZ_TEST(ueba_sigma_findings_add_risk) {
    struct kz_ueba_opts o;
    test_opts(&o); /* baseline 1 day: day 0 only teaches activity */
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    /* Day 0 (in the baseline), an account with no history at all: Sigma findings count anyway.
     *   10:00 critical "Web Shell"                          40
     *   10:05 the same rule again: once a day per rule        0
     *   10:10 high "Shell": 25, but the Sigma family's cap is 60, so 20; the 40 decayed 10 min:
     *         40 x 2^(-10/720) = 39.615, + 20 = 59.615 -> alert, score 60, medium */
    kz_time t = day0 + 10 * H;
    push_sigma(&f, t, "svc-web", "WEB01", KZ_LEVEL_CRITICAL, "r1", "Web Shell");
    push_sigma(&f, t + 5 * M, "svc-web", "WEB01", KZ_LEVEL_CRITICAL, "r1", "Web Shell");
    CHECK_INT(f.g.n, 0);
    push_sigma(&f, t + 10 * M, "svc-web", "WEB01", KZ_LEVEL_HIGH, "r2", "Shell");
    REQUIRE(f.g.n == 1);
    CHECK_INT(f.g.score[0], 60);
    CHECK_INT(f.g.level[0], KZ_LEVEL_MEDIUM);
    CHECK_INT(f.g.nreasons[0], 3);
    CHECK_STR(f.g.reasons[0][1], "Sigma rule \"Web Shell\" (critical), 10:00");
    CHECK_STR(f.g.reasons[0][2], "Sigma rule \"Shell\" (high), 10:10");
    CHECK(!strncmp(f.g.first[0], "CORP\\svc-web: risk 60: Sigma rule", 33));

    /* Rarity: a high rule on six accounts in turn. The first four find it matched 0..3 others
     * before: 25 each; the fifth 4 others: 25 x 3/4 = 18.75; the sixth 5: 25 x 3/5 = 15. A
     * medium rule gives 10, a low one nothing. */
    char name[16];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "u%d", i);
        push_sigma(&f, t + (20 + i) * M, name, "WS1", KZ_LEVEL_HIGH, "r3", "Noisy");
    }
    double pk;
    char reason[256];
    REQUIRE(peak_of(f.u, "CORP\\u0", &pk, reason));
    CHECK_MSG(fabs(pk - 25) < 0.01, "u0 %f", pk);
    CHECK_STR(reason, "Sigma rule \"Noisy\" (high), 10:20");
    REQUIRE(peak_of(f.u, "CORP\\u4", &pk, NULL));
    CHECK_MSG(fabs(pk - 18.75) < 0.01, "u4 %f", pk);
    REQUIRE(peak_of(f.u, "CORP\\u5", &pk, reason));
    CHECK_MSG(fabs(pk - 15) < 0.01, "u5 %f", pk);
    CHECK_STR(reason, "Sigma rule \"Noisy\" (high; it matched 5 others before), 10:25");
    push_sigma(&f, t + 30 * M, "m1", "WS1", KZ_LEVEL_MEDIUM, "r4", "Whoami");
    REQUIRE(peak_of(f.u, "CORP\\m1", &pk, NULL));
    CHECK_MSG(fabs(pk - 10) < 0.01, "m1 %f", pk);
    push_sigma(&f, t + 31 * M, "l1", "WS1", KZ_LEVEL_LOW, "r5", "Low");
    CHECK(!peak_of(f.u, "CORP\\l1", &pk, NULL));

    /* No account (the system acted): the host's own risk, with the same points and cap:
     * critical 40 + high 25 -> capped at 60 within 24 hours, decayed 1 min: alert at 60 */
    int before = f.g.n;
    push_sigma(&f, t + 40 * M, NULL, "FS01", KZ_LEVEL_CRITICAL, "r6", "Ransom Note");
    REQUIRE(peak_of(f.u, "FS01", &pk, reason));
    CHECK_MSG(fabs(pk - 40) < 0.01, "FS01 %f", pk);
    push_sigma(&f, t + 41 * M, NULL, "FS01", KZ_LEVEL_HIGH, "r7", "Shadow Copies");
    REQUIRE(f.g.n == before + 1);
    CHECK_INT(f.g.score[before], 60);
    CHECK(!strncmp(f.g.first[before], "FS01: risk 60: Sigma rule \"Ransom Note\" (critical)", 50));

    /* The next day the same rule counts again for the same account (once a day, not once) */
    push_sigma(&f, t + 24 * H, "m1", "WS1", KZ_LEVEL_MEDIUM, "r4", "Whoami");
    REQUIRE(peak_of(f.u, "CORP\\m1", &pk, NULL));
    /* 10 decayed 23.5 h (10 x 2^(-23.5/12) = 2.57) + 10 = 12.57 */
    CHECK_MSG(fabs(pk - (10 * exp2(-23.5 / 12) + 10)) < 0.01, "m1 next day %f", pk);
    kz_ueba_free(f.u);
}

static void push_group(struct fx *f, kz_time ts, const char *member_dn, const char *member_sid,
                       const char *group, const char *group_sid, const char *by) {
    struct kz_ueba_act a = {.ts = ts,
                            .kind = KZ_UEBA_GROUP,
                            .logon_type = -1,
                            .outcome = -1,
                            .record_id = 88,
                            .bytes = -1,
                            .user = member_dn,
                            .sid = member_sid,
                            .domain = "CORP",
                            .host = "DC01",
                            .object = by,
                            .folder = group,
                            .target = group_sid};
    kz_ueba_push(f->u, &a, on_alert, &f->g);
}

KZ_TEST(ueba_privileged_group_changes) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    kz_time t = day0 + 18 * H; /* in the baseline: a fact, judged anyway */
    /* the administrator logs on (display CORP\Administrator); the account is created (4720,
     * with its SID); 31 s later it is added to Domain Admins, named by SID and a DN whose CN is
     * its display name, not its account name */
    push(&f, t, KZ_UEBA_LOGON, 3, "DC01", "10.1.2.3", NULL, NULL, NULL, 1);
    struct kz_ueba_act c = {.ts = t + M,
                            .kind = KZ_UEBA_ACCOUNT,
                            .logon_type = -1,
                            .outcome = -1,
                            .bytes = -1,
                            .user = "adsync_svc",
                            .sid = "S-1-5-21-1-2-3-1105",
                            .host = "DC01",
                            .object = "alice"};
    kz_ueba_push(f.u, &c, on_alert, &f.g);
    push_group(&f, t + M + 31 * KZ_TICKS_PER_SEC, "CN=AD Sync Service,CN=Users,DC=corp",
               "s-1-5-21-1-2-3-1105", "Domain Admins", "S-1-5-21-1-2-3-512", "alice");
    /* member: 40 (FAM_PRIV, cap 50); the one who added it: 20 */
    double pk;
    char reason[256];
    REQUIRE(peak_of(f.u, "adsync_svc", &pk, reason));
    CHECK_MSG(fabs(pk - 40) < 0.01, "member %f", pk);
    CHECK_STR(reason, "added to Domain Admins (privileged group) by CORP\\alice, 18:01");
    REQUIRE(peak_of(f.u, "CORP\\alice", &pk, reason));
    CHECK_MSG(fabs(pk - 20) < 0.01, "actor %f", pk);
    CHECK_STR(reason, "added adsync_svc to Domain Admins (privileged group), 18:01");
    CHECK(!peak_of(f.u, "AD Sync Service", &pk, NULL)); /* no profile by the CN: found by SID */
    CHECK_INT(f.g.n, 0);

    /* a group that administers nothing: no points (RID 1110) */
    push_group(&f, t + 2 * H, "CN=bob,CN=Users,DC=corp", "S-1-5-21-1-2-3-1200", "VPN Users",
               "S-1-5-21-1-2-3-1110", "alice");
    CHECK(!peak_of(f.u, "bob", &pk, NULL));
    /* Backup Operators by name (no group SID), the member unknown by SID: found by its CN; the
     * member 40, and alice's FAM_PRIV window already holds 20: 20 + 20 = 40 <= 50, her 20 from
     * 2 h ago decayed to 20 x 2^(-2/12) = 17.82, + 20 */
    push_group(&f, t + 2 * H + M, "CN=bob,CN=Users,DC=corp", NULL, "Backup Operators", NULL,
               "alice");
    REQUIRE(peak_of(f.u, "bob", &pk, reason));
    CHECK_MSG(fabs(pk - 40) < 0.01, "bob %f", pk);
    CHECK_STR(reason, "added to Backup Operators (privileged group) by CORP\\alice, 20:01");
    REQUIRE(peak_of(f.u, "CORP\\alice", &pk, NULL));
    CHECK_MSG(fabs(pk - (20 * exp2(-(2.0 * 60) / (12 * 60)) + 20)) < 0.05, "actor again %f", pk);
    kz_ueba_free(f.u);
}

/* The SID -> account map survives a saved state: a group change in the next run finds the
 * account created in the first. */
KZ_TEST(ueba_state_keeps_sids) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/kz_ueba_sid_%d", (int)getpid());
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    struct kz_err err = {0};
    fx_open_opts(&f, &o, NULL);
    struct kz_ueba_act c = {.ts = day0 + 9 * H,
                            .kind = KZ_UEBA_ACCOUNT,
                            .logon_type = -1,
                            .outcome = -1,
                            .bytes = -1,
                            .user = "adsync_svc",
                            .sid = "S-1-5-21-1-2-3-1105",
                            .host = "DC01",
                            .object = "alice"};
    kz_ueba_push(f.u, &c, on_alert, &f.g);
    REQUIRE(kz_ueba_save(f.u, path, &err) == 0);
    kz_ueba_free(f.u);
    fx_open_opts(&f, &o, NULL);
    REQUIRE(kz_ueba_load(f.u, path, &err) == 0);
    push_group(&f, day0 + 10 * H, "CN=Somebody Else", "S-1-5-21-1-2-3-1105", "Enterprise Admins",
               "S-1-5-21-1-2-3-519", NULL);
    double pk;
    char reason[256];
    REQUIRE(peak_of(f.u, "adsync_svc", &pk, reason));
    CHECK_MSG(fabs(pk - 40) < 0.01, "member %f", pk);
    CHECK_STR(reason, "added to Enterprise Admins (privileged group), 10:00");
    kz_ueba_free(f.u);
    unlink(path);
}

/* Weekdays only, 06:00-11:59 UTC, four weeks (Monday 2 to Friday 27 March 2026): 20 days x 6
 * hours = 120 active hours, each a network logon to FS01. */
static void weekday_history(struct fx *f) {
    uint64_t rec = 1;
    for (int d = 0; d < 26; d++) {
        if (d % 7 >= 5) continue; /* day0 is a Monday: 5, 6 are Saturday, Sunday */
        for (int h = 6; h <= 11; h++)
            push(f, day0 + d * 24 * H + h * H + 5 * M, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL,
                 NULL, NULL, rec++);
    }
}

KZ_TEST(ueba_rare_day_of_the_week) {
    struct kz_ueba_opts o;
    test_opts(&o);
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    weekday_history(&f);
    CHECK_INT(f.g.n, 0);
    /* Saturday 28 March, 09:30 (26 days after the first: judged from 21): the hour of day is
     * usual (09 is active), but never a Saturday.
     * Usual hours 06-11, quiet 12-05 (18 h), so the working day runs from the quiet run's middle,
     * 21:00, to 21:00: Friday 21:00 - Saturday 21:00 holds nothing, while 5 of the other 6 such
     * days hold work (Monday-Friday): 15 points (time family). The day named is the window's
     * middle, Saturday 09:00. */
    push(&f, day0 + 26 * 24 * H + 9 * H + 30 * M, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL,
         NULL, 900);
    double pk;
    char reason[256];
    REQUIRE(peak_of(f.u, "CORP\\alice", &pk, reason));
    CHECK_MSG(fabs(pk - 15) < 0.01, "saturday %f", pk);
    CHECK_STR(reason, "active on a Saturday at 09:30 (never on a Saturday before, in 120 active "
                      "hours)");
    kz_ueba_free(f.u);

    /* the same Saturday with a history from Monday 9 March (15 weekdays, 90 hours: enough hours)
     * is 19 days after the first: under 21, each day of the week had too few chances, nothing */
    fx_open_opts(&f, &o, NULL);
    for (int d = 7; d < 26; d++)
        if (d % 7 < 5)
            for (int h = 6; h <= 11; h++)
                push(&f, day0 + d * 24 * H + h * H + 5 * M, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3",
                     NULL, NULL, NULL, 1);
    push(&f, day0 + 26 * 24 * H + 9 * H + 30 * M, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL,
         NULL, 900);
    CHECK(!peak_of(f.u, "CORP\\alice", &pk, NULL));
    kz_ueba_free(f.u);

    /* Wednesday 1 April, 14:00: no afternoon was ever used on any day, so it is the hour of day
     * that is new (20: never at 13-15), not the day of the week (no second reason) */
    fx_open_opts(&f, &o, NULL);
    weekday_history(&f);
    push(&f, day0 + 30 * 24 * H + 14 * H, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL,
         901);
    REQUIRE(peak_of(f.u, "CORP\\alice", &pk, reason));
    CHECK_MSG(fabs(pk - 20) < 0.01, "wednesday afternoon %f", pk);
    CHECK_STR(reason, "active at 14:00 (never at this hour before; usual 06:00-11:59)");
    kz_ueba_free(f.u);

    /* An account in Tokyo (UTC+9): work 09:00-17:59 local = 00:00-08:59 UTC, Monday-Friday, four
     * weeks, and on Tuesday-Friday an early start at 08:xx local = 23:xx UTC the day before:
     * 20 x 9 + 16 = 196 active hours (197 with the Sunday below). Its first early Monday (Sunday
     * 23:37 UTC) is a Monday for it: usual hours 23-08, quiet 09-22 (14 h), working day from 16:00
     * UTC, and Sunday 16:00 - Monday 16:00 holds its Mondays: nothing (the hour 23 is usual too).
     * Saturday 01:00 UTC (10:00 local) is a Saturday: Friday 16:00 - Saturday 16:00 holds nothing:
     * 15 points. */
    fx_open_opts(&f, &o, NULL);
    struct kz_ueba_act t = {.kind = KZ_UEBA_LOGON,
                            .logon_type = 3,
                            .outcome = 1,
                            .bytes = -1,
                            .user = "bob",
                            .domain = "CORP",
                            .host = "FS01",
                            .src_ip = "10.1.2.4"};
    for (int d = 0; d < 26; d++) {
        if (d % 7 >= 5) continue;
        if (d % 7 != 0) {
            t.ts = day0 + d * 24 * H - H + 10 * M; /* 23:10 UTC the evening before */
            kz_ueba_push(f.u, &t, on_alert, &f.g);
        }
        for (int h = 0; h <= 8; h++) {
            t.ts = day0 + d * 24 * H + h * H + 10 * M;
            kz_ueba_push(f.u, &t, on_alert, &f.g);
        }
    }
    t.ts = day0 + 28 * 24 * H - H + 37 * M; /* Sunday 29 March 23:37 UTC */
    kz_ueba_push(f.u, &t, on_alert, &f.g);
    CHECK(!peak_of(f.u, "CORP\\bob", &pk, NULL));
    t.ts = day0 + 33 * 24 * H + H; /* Saturday 4 April 01:00 UTC */
    kz_ueba_push(f.u, &t, on_alert, &f.g);
    REQUIRE(peak_of(f.u, "CORP\\bob", &pk, reason));
    CHECK_MSG(fabs(pk - 15) < 0.01, "tokyo saturday %f", pk);
    CHECK_STR(reason, "active on a Saturday at 01:00 (never on a Saturday before, in 197 active "
                      "hours)");
    CHECK_INT(f.g.n, 0);
    kz_ueba_free(f.u);
}

/* Every reason of every entity's peak, one per line (to look for one). */
struct all_reasons {
    char text[8192];
};
static void all_reasons_fn(void *ctx, const struct kz_ueba_entity *e) {
    struct all_reasons *r = ctx;
    size_t n = strlen(r->text);
    for (uint32_t i = 0; i < e->nreasons && n + 2 < sizeof r->text; i++) {
        snprintf(r->text + n, sizeof r->text - n, "%s: %s\n", e->name, e->reasons[i]);
        n = strlen(r->text);
    }
}

/* ---- peer groups ---- */

/* Four Sales accounts work on FS01, an Engineering account on FS09. Worked by hand:
 * alice, at 02:14 (never active 01:00-03:59: strong doubt), logs on to FS09 (a file server: x1.5):
 *   hour never                                       20 (time)
 *   nobody of Sales reached FS09: 10 x 1.5           15 (peer; full on a day of doubt)  35
 *   first network logon to FS09: 6 x 1.5              9 (access, full with doubt)       44
 * threshold 40: one alert, score 44, its last reason the new host after the peer reason.
 * dave then reaches FS09 at 03:00 the same way: Sales has been there now (alice), no peer reason:
 * 20 + 9 = 29, no alert. carol reaches FS07 at 10:00 (her usual hour, no doubt): nobody of Sales
 * was there, but peer rarity counts only with doubt: no such reason in her peak. */
KZ_TEST(ueba_peer_group_rarity) {
    struct fx f;
    fx_open(&f, 40, NULL,
            "user,group\r\n"
            "# HR export\r\n"
            "alice,Sales\r\n"
            "\"CORP\\bob\",Sales\r\n"
            "\r\n"
            "carol@corp.example, \"Sales\"\r\n"
            "dave,Sales,extra column\r\n"
            "erin,Engineering\r\n");
    static const char *const who[] = {"alice", "bob", "carol", "dave", "erin"};
    static const char *const fs[] = {"FS01", "FS01", "FS01", "FS01", "FS09"};
    static const char *const folder[] = {"custA\\f.doc", "custA\\f.doc", "custB\\f.doc",
                                         "custB\\f.doc", "custE\\f.doc"};
    fx_office_n(&f, 5, who, fs, folder);
    CHECK_INT(f.g.n, 0);
    kz_time t = day0 + 10 * 24 * H;
    fx_push(&f, "alice", t + 2 * H + 14 * M, KZ_UEBA_LOGON, 3, "FS09", "10.1.2.3", NULL, NULL, -1);
    REQUIRE(f.g.n == 1);
    CHECK_INT(f.g.score[0], 44);
    CHECK_INT(f.g.nreasons[0], 4);
    CHECK_STR(f.g.reasons[0][2],
              "nobody of its peer group Sales (3 other accounts) logged on to FS09 before, 02:14");
    CHECK_STR(f.g.reasons[0][3], "first network logon to FS09 (file server), 02:14");
    fx_push(&f, "dave", t + 3 * H, KZ_UEBA_LOGON, 3, "FS09", "10.1.2.3", NULL, NULL, -1);
    fx_push(&f, "carol", t + 10 * H, KZ_UEBA_LOGON, 3, "FS07", "10.1.2.3", NULL, NULL, -1);
    CHECK_INT(f.g.n, 1);
    struct all_reasons ar = {{0}};
    kz_ueba_top(f.u, 10, all_reasons_fn, &ar);
    CHECK_MSG(strstr(ar.text, "CORP\\dave: active at 03:00") != NULL, "%s", ar.text);
    CHECK_MSG(!strstr(ar.text, "dave: nobody"), "%s", ar.text);
    CHECK_MSG(!strstr(ar.text, "carol: nobody"), "%s", ar.text);
    kz_ueba_free(f.u);

    /* without the mapping, the same night raises only 29 (no alert at 40) */
    fx_open(&f, 40, NULL, NULL);
    fx_office_n(&f, 5, who, fs, folder);
    fx_push(&f, "alice", t + 2 * H + 14 * M, KZ_UEBA_LOGON, 3, "FS09", "10.1.2.3", NULL, NULL, -1);
    CHECK_INT(f.g.n, 0);
    kz_ueba_free(f.u);
}

/* The mapping file is outside input: bounded, and a malformed line stops the load with its
 * number. */
KZ_TEST(ueba_peers_file_errors) {
    static const struct {
        const char *text;
        int rc;
        const char *msg;
    } cases[] = {
        {"alice\n", KZ_EFORMAT, "p.csv:1: expected `account,group`"},
        {"user,group\nalice,Sales\n\"bob,Sales\n", KZ_EFORMAT, "p.csv:3: expected"},
        {"alice,\n", KZ_EFORMAT, "p.csv:1: expected"},
        {"a\"b,Sales\n", KZ_EFORMAT, "p.csv:1: expected"},
        {"\"al\"x,Sales\n", KZ_EFORMAT, "p.csv:1: expected"},
        {"# only a comment\n\n", 0, NULL},
        {"\"a,b\",\"Sales \"\"West\"\"\"\n", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct fx f;
        fx_open(&f, 0, NULL, NULL);
        struct kz_err err = {0};
        int rc = kz_ueba_peers_buffer(f.u, cases[i].text, strlen(cases[i].text), "p.csv", &err);
        CHECK_MSG(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        if (cases[i].msg)
            CHECK_MSG(!strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)), "case %zu: %s", i,
                      err.msg);
        kz_ueba_free(f.u);
    }
    /* a NUL byte, and a line over 4 KiB */
    struct fx f;
    fx_open(&f, 0, NULL, NULL);
    struct kz_err err = {0};
    CHECK_INT(kz_ueba_peers_buffer(f.u, "al\0ce,Sales\n", 12, "p.csv", &err), KZ_EFORMAT);
    size_t n = 5000;
    char *big = kz_malloc(n + 1);
    REQUIRE(big);
    memset(big, 'a', n);
    big[10] = ',';
    big[n] = 0;
    CHECK_INT(kz_ueba_peers_buffer(f.u, big, n, "p.csv", &err), KZ_ELIMIT);
    CHECK_MSG(strstr(err.msg, "p.csv:1: line longer than 4096 bytes") != NULL, "%s", err.msg);
    kz_free(big);
    CHECK_INT(kz_ueba_load_peers(f.u, "/nonexistent/peers.csv", &err), KZ_EUSAGE);
    kz_ueba_free(f.u);
}

/* ---- bytes ---- */

/* Ten days with one VPN session a day moving 20 MiB (bucket 16-31: p95 = 31 MiB); the bound is
 * max(1 GiB floor, 4 x 31 MiB) = 1,024 MiB. A 3 GiB session: 25 + 5 log2(3072 / 1024) = 32.9
 * points, halved without doubt = 16.5 (threshold 10: an alert, score 16). A 1,000 MiB session of
 * another account with the same history stays under the floor: nothing. Two sessions ending in
 * one hour add up (2 x 600 MiB = 1,200 MiB > 1,024: 25 + 5 log2(1200 / 1024) = 26.1, halved 13.1).
 */
KZ_TEST(ueba_bytes_volume_spike) {
    struct fx f;
    fx_open(&f, 10, NULL, NULL);
    static const char *const who[] = {"alice", "bob", "carol"};
    for (int d = 0; d < 10; d++)
        for (int h = 9; h <= 18; h++)
            for (int k = 0; k < 3; k++) {
                kz_time t = day0 + d * 24 * H + h * H + 5 * M;
                if (h == 18) /* the day's session ends after the office hours */
                    fx_push(&f, who[k], t, KZ_UEBA_VPN_END, -1, "VPNGW01", NULL, NULL, NULL,
                            20LL << 20);
                else
                    fx_push(&f, who[k], t, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, -1);
            }
    CHECK_INT(f.g.n, 0);
    kz_time t = day0 + 10 * 24 * H + 17 * H + 30 * M;
    fx_push(&f, "bob", t, KZ_UEBA_VPN_END, -1, "VPNGW01", NULL, NULL, NULL, 1000LL << 20);
    CHECK_INT(f.g.n, 0);
    fx_push(&f, "alice", t, KZ_UEBA_VPN_END, -1, "VPNGW01", NULL, NULL, NULL, 3072LL << 20);
    REQUIRE(f.g.n == 1);
    CHECK_INT(f.g.score[0], 16);
    CHECK_STR(f.g.reasons[0][1], "3072 MiB moved over remote access in 1 h (usual: up to 31 MiB), "
                                 "17:30");
    fx_push(&f, "carol", t, KZ_UEBA_VPN_END, -1, "VPNGW01", NULL, NULL, NULL, 600LL << 20);
    CHECK_INT(f.g.n, 1);
    fx_push(&f, "carol", t + 10 * M, KZ_UEBA_VPN_END, -1, "VPNGW01", NULL, NULL, NULL, 600LL << 20);
    /* carol's alert (13.1), then the gateway's own: half of each account's points while it
     * alerts, 8.2 + 6.5 = 14.7 >= 10 */
    REQUIRE(f.g.n == 3);
    CHECK_STR(f.g.reasons[1][1], "1200 MiB moved over remote access in 1 h (usual: up to 31 MiB), "
                                 "17:40");
    kz_ueba_free(f.u);
}

/* ---- the travel memory in --ueba-state ---- */

/* 126.0.0.0/8 Tokyo, 45.84.0.0/16 Amsterdam. */
static int write_travel_db(char *path, size_t size) {
    static const struct kz_mmdb_place tokyo = {"Tokyo", "JP", "Japan", 35.6895, 139.6917, 20};
    static const struct kz_mmdb_place amsterdam = {"Amsterdam", "NL",   "Netherlands",
                                                   52.3676,     4.9041, 50};
    snprintf(path, size, "/tmp/kz_test_ueba_geo_%d.mmdb", (int)getpid());
    struct kz_mmdb_writer *w;
    if (kz_mmdb_writer_new(&w)) return -1;
    int rc = kz_mmdb_writer_add_v4(w, 126u << 24, 8, &tokyo);
    rc |= kz_mmdb_writer_add_v4(w, 45u << 24 | 84u << 16, 16, &amsterdam);
    struct kz_err err = {0};
    if (!rc) rc = kz_mmdb_writer_write(w, path, 1772409600, &err);
    kz_mmdb_writer_free(w);
    return rc;
}

/* The first half of the travel sequence: a VPN session from Tokyo on the baseline day (its
 * network learned without points), office days, and one from Tokyo on day 10 at 08:00 (the
 * account's last located place; hour 08 is next to its usual 09: no hour reason). */
static void travel_first_half(struct fx *f) {
    fx_push(f, "alice", day0 + 8 * H, KZ_UEBA_VPN, -1, "VPNGW01", "126.1.1.1", NULL, NULL, -1);
    fx_office(f, "alice", "FS01", "custA\\f.doc");
    fx_push(f, "alice", day0 + 10 * 24 * H + 8 * H, KZ_UEBA_VPN, -1, "VPNGW01", "126.1.1.1", NULL,
            NULL, -1);
}
/* The second: a VPN session from Amsterdam 4 hours later: 9,288 km (haversine, worked out
 * separately from the two cities' coordinates) in 4 h. Its network is new to the account and the
 * estate (15 + 10 = 25, source family), the travel 30 more, capped in the family at 40 less the 3
 * that the Tokyo session 4 h before took (its network back after exactly 10 days: the 10-day
 * return window, 15 x 0.2 = 3, source family): the peak is 3 x 2^(-4/12) + 37 = 39.381 and its
 * last reason the travel. */
static void travel_second_half(struct fx *f) {
    fx_push(f, "alice", day0 + 10 * 24 * H + 12 * H, KZ_UEBA_VPN, -1, "VPNGW01", "45.84.1.1", NULL,
            NULL, -1);
}

static void fx_peak(struct fx *f, struct peak_ctx *pc) {
    memset(pc, 0, sizeof *pc);
    kz_ueba_top(f->u, 5, peak_fn, pc);
}

/* One run, and the same records in two runs with the model saved and loaded between them (each
 * run with its own GeoIP handle, as two processes would have): the same peak and reason. Without
 * the travel memory in the state, the second run would see Amsterdam as the account's first
 * located place and raise nothing for it. */
KZ_TEST(ueba_state_keeps_travel_memory) {
    char db[64], path[64];
    REQUIRE(write_travel_db(db, sizeof db) == 0);
    snprintf(path, sizeof path, "/tmp/kz_ueba_travel_%d", (int)getpid());
    struct kz_err err = {0};
    struct kz_geoip *g1, *g2, *g3;
    REQUIRE(kz_geoip_open(&g1, db, &err) == 0);
    REQUIRE(kz_geoip_open(&g2, db, &err) == 0);
    REQUIRE(kz_geoip_open(&g3, db, &err) == 0);
    struct fx f;
    fx_open(&f, 0, g1, NULL);
    travel_first_half(&f);
    travel_second_half(&f);
    struct peak_ctx one;
    fx_peak(&f, &one);
    kz_ueba_free(f.u);
    const char *want = "VPN session from Amsterdam (NL) 4 h after Tokyo (JP): ";
    CHECK_MSG(!strncmp(one.reason, want, strlen(want)), "%s", one.reason);
    int km = 0;
    if (!strncmp(one.reason, want, strlen(want))) {
        const char *p = one.reason + strlen(want);
        for (; *p && *p != ' '; p++)
            if (*p >= '0' && *p <= '9') km = km * 10 + (*p - '0');
    }
    CHECK_MSG(abs(km - 9288) <= 2, "%d km", km);
    CHECK_MSG(fabs(one.peak - (3 * exp2(-4.0 / 12) + 37)) < 1e-3, "peak %f", one.peak);

    fx_open(&f, 0, g2, NULL);
    travel_first_half(&f);
    REQUIRE(kz_ueba_save(f.u, path, &err) == 0);
    kz_ueba_free(f.u);
    fx_open(&f, 0, g3, NULL);
    REQUIRE(kz_ueba_load(f.u, path, &err) == 0);
    travel_second_half(&f);
    struct peak_ctx two;
    fx_peak(&f, &two);
    kz_ueba_free(f.u);
    CHECK_STR(two.reason, one.reason);
    CHECK_MSG(fabs(two.peak - one.peak) < 1e-6, "peak %f vs %f", two.peak, one.peak);
    kz_geoip_free(g1);
    kz_geoip_free(g2);
    kz_geoip_free(g3);
    unlink(path);
    unlink(db);
}

/* ---- return windows ---- */

/* What a return-window case sees again: the same pair at day 0 13:30 and at 13:30 + gap. */
enum { W_HOST_RDP, W_NET, W_DEVICE, W_SHARE, W_PROC, W_OWN_WS, W_NEW_HOST };

static void window_sight(struct fx *f, int what, kz_time t) {
    switch (what) {
    case W_HOST_RDP: /* RDP to APP1: its only logons are RDP by one account, an admin server */
        push(f, t, KZ_UEBA_LOGON, 10, "APP1", "10.1.2.3", NULL, NULL, NULL, f->rec++);
        break;
    case W_NEW_HOST: /* day 0 as W_HOST_RDP; then an RDP to APP2, never reached before */
        push(f, t, KZ_UEBA_LOGON, 10, t > day0 + 24 * H ? "APP2" : "APP1", "10.1.2.3", NULL, NULL,
             NULL, f->rec++);
        break;
    case W_NET: /* a VPN session from home: network 126.1.1.0/24 */
        push(f, t, KZ_UEBA_VPN, -1, "VPNGW01", "126.1.1.1", NULL, NULL, NULL, f->rec++);
        break;
    case W_DEVICE: /* a personal laptop, not a machine of the estate */
        push(f, t, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", "LAPTOP-OLD", NULL, NULL, f->rec++);
        break;
    case W_OWN_WS: /* the account's own workstation: day 0 a desk logon on it, then a client */
        if (t < day0 + 24 * H)
            push(f, t - M, KZ_UEBA_LOGON, 2, "WS01", NULL, NULL, NULL, NULL, f->rec++);
        push(f, t, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", "WS01", NULL, NULL, f->rec++);
        break;
    case W_SHARE: /* \\fs02\hr: FS02 logs share access, a file server (x1.5) */
        push(f, t, KZ_UEBA_FILE, -1, "FS02", "10.1.2.3", NULL, "\\\\*\\hr", "pay\\x.doc", f->rec++);
        break;
    case W_PROC: /* backup.exe on APP3, a critical asset by pattern (x3) */
        push(f, t, KZ_UEBA_PROCESS, -1, "APP3", NULL, NULL, "C:\\Tools\\backup.exe", NULL,
             f->rec++);
        break;
    }
}

/* Alice's office life (every hour 09:00-17:59 of days 0-9 a network logon to FS01, as
 * office_history, then one at 10:05 each day, so she is never dormant), with `what` seen at day 0
 * 13:30 (inside the 1-day baseline: learned, not scored) and again at 13:30 + gap hours. Returns
 * the account's risk right after it (nothing else scores: the risk is that sighting's points) and
 * the peak's last reason in reason (empty when nothing scored). */
static double window_case(int what, int gap_hours, char *reason, size_t size, const char *save) {
    static const char *const crit[] = {"app3*"};
    struct kz_ueba_opts o;
    test_opts(&o);
    o.critical = crit;
    o.ncritical = 1;
    struct fx f;
    fx_open_opts(&f, &o, NULL);
    kz_time first = day0 + 13 * H + 30 * M, again = first + gap_hours * H;
    int saved = 0;
    for (int d = 0;; d++) {
        int h0 = d < 10 ? 9 : 10, h1 = d < 10 ? 17 : 10;
        kz_time day = day0 + d * 24 * H;
        if (day + h0 * H + 5 * M > again) break;
        if (save && !saved && d == 50) { /* a state saved and loaded between the sightings */
            struct kz_err err = {0};
            int rc = kz_ueba_save(f.u, save, &err);
            CHECK_MSG(rc == 0, "save: %s", err.msg);
            kz_ueba_free(f.u);
            fx_open_opts(&f, &o, NULL);
            if (rc == 0) rc = kz_ueba_load(f.u, save, &err);
            CHECK_MSG(rc == 0, "load: %s", err.msg);
            f.rec = 100000;
            saved = 1;
        }
        for (int h = h0; h <= h1; h++) {
            kz_time t = day + h * H + 5 * M;
            if (t > again) break;
            push(&f, t, KZ_UEBA_LOGON, 3, "FS01", "10.1.2.3", NULL, NULL, NULL, f.rec++);
            if (d == 0 && h == 13) window_sight(&f, what, first);
        }
    }
    window_sight(&f, what, again);
    CHECK_INT(f.g.n, 0);
    struct top_ctx tc = {0};
    kz_ueba_top(f.u, 1, top_fn, &tc);
    struct peak_ctx pc = {0};
    kz_ueba_top(f.u, 5, peak_fn, &pc);
    snprintf(reason, size, "%s", pc.reason);
    kz_ueba_free(f.u);
    return tc.seen ? tc.now : 0;
}

/* One case per window boundary, on an RDP logon to an admin server: first-ever 10 x 2.5 = 25,
 * access family, no doubt that day (usual hour, known address), so half. A gap one hour short of
 * a window (239 h is still 9 days) falls in the window below it:
 *   gap         window   share   points
 *   9 d 23 h    none     -       0
 *   10 d        10       0.2     25 x 0.2 / 2  = 2.5
 *   29 d 23 h   10       0.2     2.5
 *   30 d        30       0.5     6.25
 *   89 d 23 h   30       0.5     6.25
 *   90 d        90       0.7     8.75
 *   179 d 23 h  90       0.7     8.75
 *   180 d       180      0.85    10.625
 *   400 d       180      0.85    10.625 (no window past 180 days)
 * and a host never reached (APP2, day 400) is first-ever: 12.5, more than any return. */
KZ_TEST(ueba_return_windows_boundaries) {
    static const struct {
        int gap_hours;
        int window;
        double points;
    } cases[] = {
        {10 * 24 - 1, 0, 0},      {10 * 24, 10, 2.5},      {30 * 24 - 1, 10, 2.5},
        {30 * 24, 30, 6.25},      {90 * 24 - 1, 30, 6.25}, {90 * 24, 90, 8.75},
        {180 * 24 - 1, 90, 8.75}, {180 * 24, 180, 10.625}, {400 * 24, 180, 10.625},
    };
    char reason[512], want[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int g = cases[i].gap_hours;
        double risk = window_case(W_HOST_RDP, g, reason, sizeof reason, NULL);
        CHECK_MSG(fabs(risk - cases[i].points) < 1e-3, "gap %d h: risk %f, want %f", g, risk,
                  cases[i].points);
        if (!cases[i].window) {
            CHECK_MSG(!reason[0], "gap %d h: %s", g, reason);
            continue;
        }
        /* the return's time of day is 13:30 + the gap's odd hours */
        snprintf(want, sizeof want,
                 "first RDP logon to APP1 (admin server) in %d days (%d-day window; last seen "
                 "2026-03-02), %02d:30",
                 g / 24, cases[i].window, (13 + g % 24) % 24);
        CHECK_STR(reason, want);
    }
    /* first-ever still wins: APP2, never reached, on day 400 */
    double risk = window_case(W_NEW_HOST, 400 * 24, reason, sizeof reason, NULL);
    CHECK_MSG(fabs(risk - 12.5) < 1e-3, "first-ever %f", risk);
    CHECK_STR(reason, "first RDP logon to APP2 (admin server), 13:30");
}

/* Every kind of pair returns the same way (95 days: the 90-day window, 0.7 of the first
 * sighting's points):
 *   device laptop-old: 25 x 0.7 = 17.5, source family (not halved)
 *   network 126.1.1.0/24: 15 x 0.7 = 10.5, source family
 *   share \\fs02\hr: 8 x 1.5 (file server) x 0.7 = 8.4, access: half 4.2
 *   backup.exe on APP3: 5 x 3 (critical) x 0.7 = 10.5, access: half 5.25
 *   the account's own workstation as a client: nothing (its use is the host pair's return) */
KZ_TEST(ueba_return_windows_every_pair) {
    static const struct {
        int kind;
        double risk;
        const char *reason; /* "" for none */
    } want[] = {
        {W_DEVICE, 17.5,
         "first activity from device laptop-old in 95 days (90-day window; last seen 2026-03-02), "
         "13:30"},
        {W_NET, 10.5,
         "first activity from network 126.1.1.0/24 in 95 days (90-day window; last seen "
         "2026-03-02), 13:30"},
        {W_SHARE, 4.2,
         "first access to share \\\\fs02\\hr in 95 days (90-day window; last seen 2026-03-02), "
         "13:30"},
        {W_PROC, 5.25,
         "first run of backup.exe on APP3 in 95 days (90-day window; last seen 2026-03-02), 13:30"},
        {W_OWN_WS, 0, ""},
    };
    char reason[512];
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        double risk = window_case(want[i].kind, 95 * 24, reason, sizeof reason, NULL);
        /* none is exactly none */
        CHECK_MSG(want[i].risk ? fabs(risk - want[i].risk) < 1e-3 : risk == 0, "kind %d: %f",
                  want[i].kind, risk);
        CHECK_STR(reason, want[i].reason);
    }
}

/* A state saved on day 50 and loaded keeps each pair's last hour: the return on day 95 is the
 * same reason with the same points as in one run. */
KZ_TEST(ueba_return_windows_across_a_state) {
    char path[64], one[512], two[512];
    snprintf(path, sizeof path, "/tmp/kz_ueba_window_%d", (int)getpid());
    double a = window_case(W_HOST_RDP, 95 * 24, one, sizeof one, NULL);
    double b = window_case(W_HOST_RDP, 95 * 24, two, sizeof two, path);
    CHECK_MSG(fabs(a - 8.75) < 1e-3 && fabs(a - b) < 1e-9, "%f vs %f", a, b);
    CHECK_STR(two, one);
    unlink(path);
}
