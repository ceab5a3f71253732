/* test_correlate.c - unit tests of the Sigma correlation engine (src/sigma/correlate.c).
 *
 * Rules are loaded from YAML text; where the Sigma correlation specification (2.0.x, "Correlation
 * Types", "Field Name Aliases", "Examples") has an example, the test uses it (thresholds scaled
 * down where the example counts 100 events) and says so. Inputs are built by hand, and every
 * expected alert (when it fires, its value, window and group) was worked out by hand from the
 * semantics in correlate.h, not taken from the engine's output. */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/timeutil.h"
#include "sigma/correlate.h"
#include "sigma/rule.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

#define SEC KZ_TICKS_PER_SEC
#define MAX_GOT 256

/* 2024-01-01T00:00:00Z */
static kz_time t0(void) {
    return (kz_time)kz_days_from_civil(2024, 1, 1) * 86400 * SEC;
}

struct got {
    const struct kz_sigma_rule *rule;
    kz_time first, last;
    double value;
    char group[512]; /* group values joined with '|' */
    uint32_t nevents;
    uint64_t records[KZ_CORR_ALERT_EVENTS];
};

struct sink {
    int n;
    struct got a[MAX_GOT];
};

static void on_fire(void *ctx, const struct kz_corr_alert *a) {
    struct sink *s = ctx;
    if (s->n >= MAX_GOT) return;
    struct got *g = &s->a[s->n++];
    memset(g, 0, sizeof *g);
    g->rule = a->rule;
    g->first = a->first;
    g->last = a->last;
    g->value = a->value;
    size_t at = 0;
    for (uint32_t i = 0; i < a->ngroup; i++)
        at += (size_t)snprintf(g->group + at, sizeof g->group - at, "%s%s", i ? "|" : "",
                               a->group_values[i]);
    g->nevents = a->nevents;
    for (uint32_t i = 0; i < a->nevents; i++)
        g->records[i] = a->events[i].record_id;
}

struct fixture {
    struct kz_sigma_ruleset rs;
    struct kz_correlator *c;
    struct sink sink;
};

static int setup(struct fixture *f, const char *yaml) {
    struct kz_err err = {0};
    memset(&f->sink, 0, sizeof f->sink);
    f->c = NULL;
    kz_sigma_ruleset_init(&f->rs);
    if (kz_sigma_load_buffer(&f->rs, "test.yml", yaml, strlen(yaml), &err)) return -1;
    if (kz_sigma_ruleset_link(&f->rs)) return -1;
    if (f->rs.failures_kept) {
        fprintf(stderr, "rule failure: %s\n", f->rs.failures[0].reason);
        return -1;
    }
    return kz_correlator_new(&f->c, &f->rs, &err);
}

static void teardown(struct fixture *f) {
    kz_correlator_free(f->c);
    kz_sigma_ruleset_free(&f->rs);
}

static const struct kz_sigma_rule *rule(const struct fixture *f, const char *name) {
    for (uint32_t i = 0; i < f->rs.nrules; i++) {
        const struct kz_sigma_rule *r = f->rs.rules[i];
        if ((r->name && !strcmp(r->name, name)) || (r->id && !strcmp(r->id, name)) ||
            !strcmp(r->title, name))
            return r;
    }
    return NULL;
}

/* Pushes a match of rule `name` at t0 + ticks, with record id rec and fields given as
 * "Name=value" strings (NULL-terminated list). */
static void push_at(struct fixture *f, const char *name, kz_time ticks, uint64_t rec, ...) {
    uint32_t fields[16];
    const char *values[16];
    static char store[16][300];
    uint32_t n = 0;
    va_list ap;
    va_start(ap, rec);
    for (const char *kv; (kv = va_arg(ap, const char *)) && n < 16;) {
        const char *eq = strchr(kv, '=');
        fields[n] = kz_intern(kv, (size_t)(eq - kv));
        snprintf(store[n], sizeof store[n], "%s", eq + 1);
        values[n] = store[n];
        n++;
    }
    va_end(ap);
    struct kz_corr_input in = {
        .ts = t0() + ticks,
        .rule = rule(f, name),
        .file_id = 1,
        .record_id = rec,
        .nvalues = n,
        .fields = fields,
        .values = values,
    };
    if (!in.rule) kz_test_fail(__FILE__, __LINE__, "no rule %s", name);
    kz_correlator_push(f->c, &in, on_fire, &f->sink);
}
#define push(f, name, sec, rec, ...) push_at(f, name, (kz_time)(sec)*SEC, rec, __VA_ARGS__)

static void finish(struct fixture *f) {
    kz_correlator_finish(f->c, on_fire, &f->sink);
}

static struct kz_corr_stats stats(const struct fixture *f) {
    struct kz_corr_stats s;
    kz_correlator_stats(f->c, &s);
    return s;
}

/* A detection rule named `name` (its selection does not matter: inputs are built by hand). */
#define DET(name)                                                                                  \
    "title: " name "\nname: " name "\nlogsource:\n    product: windows\ndetection:\n"              \
    "    sel:\n        EventID: 1\n    condition: sel\n"

/* ---- event_count ---- */

/* The specification's event_count example ("Many failed logins": gte 100 per ComputerName in
 * 1h), on the failed-logon rule it names by id. */
KZ_TEST(corr_event_count_spec_example) {
    struct fixture f;
    REQUIRE(!setup(&f, "title: Failed logon\nid: 5638f7c0-ac70-491d-8465-2a65075e0d86\n"
                       "logsource:\n    product: windows\n    service: security\n"
                       "detection:\n    sel:\n        EventID: 4625\n    condition: sel\n"
                       "---\n"
                       "title: Many failed logins\nid: 0e95725d-7320-415d-80f7-004da920fc11\n"
                       "correlation:\n    type: event_count\n    rules:\n"
                       "        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n"
                       "    group-by:\n        - ComputerName\n    timespan: 1h\n"
                       "    condition:\n        gte: 100\n"));
    const char *fl = "5638f7c0-ac70-491d-8465-2a65075e0d86";
    /* 99 on DC1 and 60 on DC2, interleaved, one every 10 s: nothing yet. */
    for (int i = 0; i < 99; i++) {
        push(&f, fl, i * 10, 1000 + i, "ComputerName=DC1", NULL);
        if (i < 60) push(&f, fl, i * 10, 5000 + i, "ComputerName=DC2", NULL);
    }
    CHECK_INT(f.sink.n, 0);
    /* The 100th on DC1 at 990 s: 100 events within [0 s, 990 s]. */
    push(&f, fl, 990, 1099, "ComputerName=DC1", NULL);
    REQUIRE(f.sink.n == 1);
    CHECK(f.sink.a[0].rule == rule(&f, "Many failed logins"));
    CHECK(f.sink.a[0].value == 100.0);
    CHECK_STR(f.sink.a[0].group, "DC1");
    CHECK_INT(f.sink.a[0].first, t0());
    CHECK_INT(f.sink.a[0].last, t0() + 990 * SEC);
    /* The latest 32 events, oldest first: records 1068..1099. */
    CHECK_INT(f.sink.a[0].nevents, 32);
    CHECK_INT(f.sink.a[0].records[0], 1068);
    CHECK_INT(f.sink.a[0].records[31], 1099);
    /* The window started again: one more event is not a second alert. */
    push(&f, fl, 991, 1100, "ComputerName=DC1", NULL);
    CHECK_INT(f.sink.n, 1);
    CHECK(kz_correlator_generates(f.c, rule(&f, fl)) == 0); /* generate defaults to false */
    CHECK(kz_correlator_generates(f.c, rule(&f, "Many failed logins")) == 1);
    const uint32_t *w;
    uint32_t nw;
    CHECK(kz_correlator_wants(f.c, rule(&f, fl), &w, &nw) == 1);
    REQUIRE(nw == 1);
    CHECK_INT(w[0], kz_intern_find("ComputerName", 12));
    CHECK(kz_correlator_wants(f.c, rule(&f, "Many failed logins"), &w, &nw) == 0);
    CHECK_INT(nw, 0);
    finish(&f);
    CHECK_INT(f.sink.n, 1);
    teardown(&f);
}

/* The window is [t - timespan, t]: an event exactly one timespan older still counts, one tick
 * more does not. */
KZ_TEST(corr_timespan_boundary) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("hit") "---\ntitle: Two in 10s\ncorrelation:\n  type: event_count\n"
                                  "  rules: [hit]\n  group-by: [User]\n  timespan: 10s\n"
                                  "  condition:\n    gte: 2\n"));
    push_at(&f, "hit", 0, 1, "User=in", NULL);
    push_at(&f, "hit", 10 * SEC, 2, "User=in", NULL); /* just inside */
    REQUIRE(f.sink.n == 1);
    CHECK_STR(f.sink.a[0].group, "in");
    CHECK(f.sink.a[0].value == 2.0);
    push_at(&f, "hit", 100 * SEC, 3, "User=out", NULL);
    push_at(&f, "hit", 110 * SEC + 1, 4, "User=out", NULL); /* just outside */
    CHECK_INT(f.sink.n, 1);
    teardown(&f);
}

/* Conditions with an upper bound are tested per closed window: it opens at the group's first
 * event and closes one timespan later. */
KZ_TEST(corr_event_count_closed_window) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("hit") "---\ntitle: Few\ncorrelation:\n  type: event_count\n"
                                  "  rules: [hit]\n  group-by: [User]\n  timespan: 1m\n"
                                  "  condition:\n    lt: 3\n"
                                  "---\ntitle: Exactly two\ncorrelation:\n  type: event_count\n"
                                  "  rules: [hit]\n  group-by: [User]\n  timespan: 1m\n"
                                  "  condition:\n    eq: 2\n"));
    push(&f, "hit", 0, 1, "User=x", NULL);
    push(&f, "hit", 0, 2, "User=y", NULL);
    push(&f, "hit", 10, 3, "User=y", NULL);
    push(&f, "hit", 20, 4, "User=y", NULL);
    push(&f, "hit", 30, 5, "User=x", NULL);
    push(&f, "hit", 60, 6, "User=x", NULL); /* still x's first window: [0, 60] */
    CHECK_INT(f.sink.n, 0);                 /* nothing decided while windows are open */
    /* z at 61 s closes both windows: x had 3 (not < 3, not 2), y had 3. */
    push(&f, "hit", 61, 7, "User=z", NULL);
    CHECK_INT(f.sink.n, 0);
    push(&f, "hit", 70, 8, "User=x", NULL); /* x's second window opens at 70 s */
    push(&f, "hit", 75, 9, "User=x", NULL);
    /* An event of another group at 131 s closes x's window [70, 130] (2 events) and z's [61, 121]
     * (1 event), in the order they opened: z first. */
    push(&f, "hit", 131, 10, "User=w", NULL);
    REQUIRE(f.sink.n == 3);
    CHECK_STR(f.sink.a[0].group, "z");
    CHECK(f.sink.a[0].rule == rule(&f, "Few"));
    CHECK(f.sink.a[0].value == 1.0);
    CHECK_STR(f.sink.a[1].group, "x");
    CHECK(f.sink.a[1].rule == rule(&f, "Few"));
    CHECK(f.sink.a[1].value == 2.0);
    CHECK_INT(f.sink.a[1].first, t0() + 70 * SEC);
    CHECK_INT(f.sink.a[1].last, t0() + 75 * SEC);
    CHECK_STR(f.sink.a[2].group, "x");
    CHECK(f.sink.a[2].rule == rule(&f, "Exactly two"));
    /* w's window is decided at the end of the stream. */
    finish(&f);
    REQUIRE(f.sink.n == 4);
    CHECK_STR(f.sink.a[3].group, "w");
    CHECK(f.sink.a[3].rule == rule(&f, "Few"));
    CHECK_INT(stats(&f).groups_live, 0);
    teardown(&f);
}

/* Past the entry cap, the oldest entries merge: the count stays exact. */
KZ_TEST(corr_event_count_entry_cap_keeps_count) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("hit") "---\ntitle: Ten\ncorrelation:\n  type: event_count\n"
                                  "  rules: [hit]\n  group-by: [User]\n  timespan: 1h\n"
                                  "  condition:\n    gte: 10\n"));
    struct kz_corr_limits lim = {.max_entries = 4};
    REQUIRE(!kz_correlator_set_limits(f.c, &lim));
    for (int i = 0; i < 9; i++)
        push(&f, "hit", i, i, "User=u", NULL);
    CHECK_INT(f.sink.n, 0);
    push(&f, "hit", 9, 9, "User=u", NULL);
    REQUIRE(f.sink.n == 1);
    CHECK(f.sink.a[0].value == 10.0);
    CHECK(stats(&f).entries_merged == 6); /* inputs 5..10 each merged two old entries */
    CHECK(kz_correlator_set_limits(f.c, &lim) == KZ_EUSAGE); /* too late: pushed already */
    teardown(&f);
}

/* ---- value_count ---- */

/* The specification's value_count example (failed logons with more than 100 distinct users per
 * ComputerName and WorkstationName in a day), threshold scaled to 3; two group-by fields. */
KZ_TEST(corr_value_count_spec_example) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("failed") "---\ntitle: Failed login\n"
                                     "id: 0e95725d-7320-415d-80f7-004da920fc12\n"
                                     "correlation:\n    type: value_count\n    rules:\n"
                                     "        - failed\n    group-by:\n        - ComputerName\n"
                                     "        - WorkstationName\n    timespan: 1d\n"
                                     "    condition:\n        field: User\n        gte: 3\n"));
    const char *h = "ComputerName=SRV1";
    push(&f, "failed", 0, 1, h, "WorkstationName=WS1", "User=alice", NULL);
    push(&f, "failed", 1, 2, h, "WorkstationName=WS1", "User=alice", NULL);
    push(&f, "failed", 2, 3, h, "WorkstationName=WS1", "User=bob", NULL);
    push(&f, "failed", 3, 4, h, "WorkstationName=WS1", "User=bob", NULL);
    push(&f, "failed", 4, 5, h, "WorkstationName=WS2", "User=carol", NULL); /* other group */
    push(&f, "failed", 5, 6, h, "WorkstationName=WS1", "User=alice", NULL);
    push(&f, "failed", 6, 7, h, "WorkstationName=WS1", NULL); /* no User: not a value */
    CHECK_INT(f.sink.n, 0); /* 2 distinct (alice, bob) in WS1, 1 in WS2 */
    CHECK_INT(stats(&f).no_value, 1);
    push(&f, "failed", 7, 8, h, "WorkstationName=WS1", "User=Bob", NULL); /* case counts */
    REQUIRE(f.sink.n == 1);
    CHECK(f.sink.a[0].value == 3.0);
    CHECK_STR(f.sink.a[0].group, "SRV1|WS1");
    CHECK_INT(f.sink.a[0].first, t0() + 3 * SEC); /* oldest value still in the set: bob at 3s */
    CHECK_INT(f.sink.a[0].last, t0() + 7 * SEC);
    const uint32_t *w;
    uint32_t nw;
    REQUIRE(kz_correlator_wants(f.c, rule(&f, "failed"), &w, &nw) == 1);
    CHECK_INT(nw, 3); /* ComputerName, WorkstationName, User */
    teardown(&f);
}

/* Values expire one by one with the sliding window; the per-group cap is raised to reach the
 * threshold. */
KZ_TEST(corr_value_count_expiry_and_cap) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("logon") "---\ntitle: Spray\ncorrelation:\n  type: value_count\n"
                                    "  rules: [logon]\n  group-by: [IpAddress]\n  timespan: 60s\n"
                                    "  condition:\n    field: TargetUserName\n    gte: 6\n"));
    struct kz_corr_limits lim = {.max_values = 2};
    REQUIRE(!kz_correlator_set_limits(f.c, &lim));
    const char *users[] = {"TargetUserName=u1", "TargetUserName=u2", "TargetUserName=u3",
                           "TargetUserName=u4", "TargetUserName=u5", "TargetUserName=u6"};
    /* u1..u5 at 0, 20, 40, 60, 80 s; at 80 s the window [20, 80] holds u2..u5. */
    for (int i = 0; i < 5; i++)
        push(&f, "logon", i * 20, i, "IpAddress=10.1.1.1", users[i], NULL);
    /* u1 again at 81 s: [21, 81] holds u3, u4, u5, u1 (u2 left at 20 s). u6 at 82: 5 values. */
    push(&f, "logon", 81, 10, "IpAddress=10.1.1.1", users[0], NULL);
    push(&f, "logon", 82, 11, "IpAddress=10.1.1.1", users[5], NULL);
    CHECK_INT(f.sink.n, 0);
    /* u2 again at 83: u3, u4, u5, u1, u6, u2 = 6. */
    push(&f, "logon", 83, 12, "IpAddress=10.1.1.1", users[1], NULL);
    REQUIRE(f.sink.n == 1);
    CHECK(f.sink.a[0].value == 6.0);
    CHECK_INT(f.sink.a[0].first, t0() + 40 * SEC);
    CHECK_INT(stats(&f).values_evicted, 0); /* the cap of 2 was raised to 7 for gte 6 */
    teardown(&f);
}

/* ---- temporal, temporal_ordered ---- */

/* The specification's temporal example (recon commands a, b, c within 5 minutes on one system
 * by one user), and the same rules ordered. */
KZ_TEST(corr_temporal_vs_ordered) {
    struct fixture f;
    REQUIRE(!setup(
        &f,
        DET("recon_cmd_a") "---\n" DET("recon_cmd_b") "---\n" DET(
            "recon_cmd_c") "---\ntitle: Recon\ncorrelation:\n    type: temporal\n    rules:\n"
                           "        - recon_cmd_a\n        - recon_cmd_b\n        - recon_cmd_c\n"
                           "    group-by:\n        - ComputerName\n        - User\n    timespan: "
                           "5m\n"
                           "---\ntitle: Recon in order\ncorrelation:\n    type: temporal_ordered\n"
                           "    rules:\n        - recon_cmd_a\n        - recon_cmd_b\n"
                           "        - recon_cmd_c\n    group-by:\n        - ComputerName\n"
                           "        - User\n    timespan: 5m\n"));
    const char *h = "ComputerName=WS7", *u = "User=eve";
    /* c, b, a: all three within 5 minutes, but in the wrong order. */
    push(&f, "recon_cmd_c", 0, 1, h, u, NULL);
    push(&f, "recon_cmd_b", 10, 2, h, u, NULL);
    push(&f, "recon_cmd_c", 15, 3, h, "User=mallory", NULL); /* another group */
    CHECK_INT(f.sink.n, 0);
    push(&f, "recon_cmd_a", 20, 4, h, u, NULL);
    REQUIRE(f.sink.n == 1);
    CHECK(f.sink.a[0].rule == rule(&f, "Recon"));
    CHECK(f.sink.a[0].value == 3.0);
    CHECK_STR(f.sink.a[0].group, "WS7|eve");
    CHECK_INT(f.sink.a[0].first, t0());
    CHECK_INT(f.sink.a[0].nevents, 3);
    /* Then b, c after that a: now in order, a(20) b(30) c(40). The unordered one started again
     * after its alert and has only b, c: no second alert from it. */
    push(&f, "recon_cmd_b", 30, 5, h, u, NULL);
    push(&f, "recon_cmd_c", 40, 6, h, u, NULL);
    REQUIRE(f.sink.n == 2);
    CHECK(f.sink.a[1].rule == rule(&f, "Recon in order"));
    CHECK(f.sink.a[1].value == 3.0);
    CHECK_INT(f.sink.a[1].first, t0() + 20 * SEC);
    CHECK_INT(f.sink.a[1].last, t0() + 40 * SEC);
    /* a, b in order, then c more than 5 minutes after a: no alert. */
    push(&f, "recon_cmd_a", 1000, 7, h, u, NULL);
    push(&f, "recon_cmd_b", 1100, 8, h, u, NULL);
    push(&f, "recon_cmd_c", 1301, 9, h, u, NULL);
    CHECK_INT(f.sink.n, 2);
    /* a at 1302: unordered, b (1100), c (1301) and a are all inside [1002, 1302]. Ordered, a
     * fresh a does not help the old b (whose chain starts at 1000, out of the window). */
    push(&f, "recon_cmd_a", 1302, 10, h, u, NULL);
    REQUIRE(f.sink.n == 3);
    CHECK(f.sink.a[2].rule == rule(&f, "Recon"));
    CHECK_INT(f.sink.a[2].first, t0() + 1100 * SEC);
    push(&f, "recon_cmd_c", 1303, 11, h, u, NULL);
    CHECK_INT(f.sink.n, 3);
    /* b, c after that a complete the ordered chain a 1302 < b 1304 < c 1305. */
    push(&f, "recon_cmd_b", 1304, 12, h, u, NULL);
    push(&f, "recon_cmd_c", 1305, 13, h, u, NULL);
    REQUIRE(f.sink.n == 4);
    CHECK(f.sink.a[3].rule == rule(&f, "Recon in order"));
    CHECK_INT(f.sink.a[3].first, t0() + 1302 * SEC);
    CHECK_INT(f.sink.a[3].last, t0() + 1305 * SEC);
    teardown(&f);
}

/* The specification's field-name alias example: internal_ip and remote_ip name different fields
 * in the two rules' events. */
KZ_TEST(corr_aliases_spec_example) {
    struct fixture f;
    REQUIRE(!setup(
        &f, "title: Internal error\nname: internal_error\nlogsource:\n  category: webserver\n"
            "detection:\n    selection:\n        http.response.status_code: 500\n"
            "    condition: selection\n---\n"
            "title: New connection\nname: new_network_connection\nlogsource:\n"
            "  category: network_connection\ndetection:\n    selection:\n"
            "        event.category: network\n        event.type: connection\n"
            "        event.outcome: success\n    condition: selection\n---\n"
            "title: Error then connection\ncorrelation:\n    type: temporal\n    rules:\n"
            "        - internal_error\n        - new_network_connection\n    group-by:\n"
            "        - internal_ip\n        - remote_ip\n    timespan: 10s\n    aliases:\n"
            "        internal_ip:\n            internal_error: destination.ip\n"
            "            new_network_connection: source.ip\n        remote_ip:\n"
            "            internal_error: source.ip\n"
            "            new_network_connection: destination.ip\n"));
    const uint32_t *w;
    uint32_t nw;
    REQUIRE(kz_correlator_wants(f.c, rule(&f, "internal_error"), &w, &nw) == 1);
    REQUIRE(nw == 2);
    uint32_t dst = kz_intern_find("destination.ip", 14), src = kz_intern_find("source.ip", 9);
    CHECK((w[0] == dst && w[1] == src) || (w[0] == src && w[1] == dst));
    push(&f, "internal_error", 0, 1, "destination.ip=10.0.0.5", "source.ip=203.0.113.9", NULL);
    /* Same addresses, same fields: not the same group (the roles are swapped). */
    push(&f, "new_network_connection", 1, 2, "destination.ip=10.0.0.5", "source.ip=203.0.113.9",
         NULL);
    CHECK_INT(f.sink.n, 0);
    push(&f, "new_network_connection", 2, 3, "source.ip=10.0.0.5", "destination.ip=203.0.113.9",
         NULL);
    REQUIRE(f.sink.n == 1);
    CHECK_STR(f.sink.a[0].group, "10.0.0.5|203.0.113.9");
    CHECK_INT(f.sink.a[0].nevents, 2);
    CHECK_INT(f.sink.a[0].records[0], 1);
    CHECK_INT(f.sink.a[0].records[1], 3);
    /* An input lacking a group-by field is ignored. */
    push(&f, "internal_error", 3, 4, "destination.ip=10.0.0.5", NULL);
    CHECK_INT(stats(&f).ungrouped, 1);
    teardown(&f);
}

/* ---- chains and generate ---- */

/* The specification's complete example "Failed Logins Followed by Successful Login": an
 * event_count correlation chained into a temporal_ordered one, rules named, generate left at its
 * default (false). */
KZ_TEST(corr_chain_spec_example) {
    struct fixture f;
    REQUIRE(!setup(&f,
                   "title: Correlation - Multiple Failed Logins Followed by Successful Login\n"
                   "id: b180ead8-d58f-40b2-ae54-c8940995b9b6\nstatus: experimental\n"
                   "correlation:\n    type: temporal_ordered\n    rules:\n"
                   "        - multiple_failed_login\n        - successful_login\n"
                   "    group-by:\n        - User\n    timespan: 10m\nlevel: high\n---\n"
                   "title: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\n"
                   "name: multiple_failed_login\ncorrelation:\n    type: event_count\n    rules:\n"
                   "        - failed_login\n    group-by:\n        - User\n    timespan: 10m\n"
                   "    condition:\n        gte: 10\n---\n"
                   "title: Single failed login\nid: 53ba33fd-3a50-4468-a5ef-c583635cfa92\n"
                   "name: failed_login\nlogsource:\n    product: windows\n    service: security\n"
                   "detection:\n    selection:\n        EventID:\n            - 529\n"
                   "            - 4625\n    condition: selection\n---\n"
                   "title: Successful login\nid: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8\n"
                   "name: successful_login\nlogsource:\n    product: windows\n"
                   "    service: security\ndetection:\n    selection:\n        EventID:\n"
                   "            - 528\n            - 4624\n    condition: selection\n"));
    const struct kz_sigma_rule *top =
        rule(&f, "Correlation - Multiple Failed Logins Followed by Successful Login");
    CHECK(kz_correlator_generates(f.c, rule(&f, "failed_login")) == 0);
    CHECK(kz_correlator_generates(f.c, rule(&f, "successful_login")) == 0);
    CHECK(kz_correlator_generates(f.c, rule(&f, "multiple_failed_login")) == 0);
    CHECK(kz_correlator_generates(f.c, top) == 1);
    /* bob: a success first, then 10 failures (0..9 s): the chain needs failures first. */
    push(&f, "successful_login", 0, 100, "User=bob", NULL);
    for (int i = 0; i < 10; i++)
        push(&f, "failed_login", i, (uint64_t)i, "User=bob", NULL);
    CHECK_INT(f.sink.n, 0); /* the intermediate alert is not reported */
    CHECK_INT(stats(&f).alerts, 1);
    /* alice: 10 failures then a success 50 s after the 10th. */
    for (int i = 0; i < 10; i++)
        push(&f, "failed_login", 100 + i, (uint64_t)(200 + i), "User=alice", NULL);
    push(&f, "successful_login", 159, 300, "User=alice", NULL);
    REQUIRE(f.sink.n == 1);
    CHECK(f.sink.a[0].rule == top);
    CHECK_STR(f.sink.a[0].group, "alice");
    CHECK(f.sink.a[0].value == 2.0);
    CHECK_INT(f.sink.a[0].first, t0() + 109 * SEC); /* when the failures correlation fired */
    CHECK_INT(f.sink.a[0].last, t0() + 159 * SEC);
    /* The failures' events are carried through the chain: 10 failures and the success. */
    REQUIRE(f.sink.a[0].nevents == 11);
    CHECK_INT(f.sink.a[0].records[0], 200);
    CHECK_INT(f.sink.a[0].records[10], 300);
    /* bob's success now comes after his failures: alert. */
    push(&f, "successful_login", 160, 101, "User=bob", NULL);
    REQUIRE(f.sink.n == 2);
    CHECK_STR(f.sink.a[1].group, "bob");
    struct kz_corr_stats s = stats(&f);
    CHECK_INT(s.alerts, 4);
    CHECK_INT(s.reported, 2);
    teardown(&f);
}

/* generate: true keeps the referenced rules' own findings; one `generate: false` among several
 * referencing correlations is enough to suppress them (as pySigma does). */
KZ_TEST(corr_generate_flags) {
    struct fixture f;
    REQUIRE(!setup(
        &f,
        DET("a") "---\n" DET("b") "---\n" DET(
            "lonely") "---\ntitle: Loud\nname: loud\ncorrelation:\n  type: event_count\n"
                      "  rules: [a]\n  group-by: [User]\n  timespan: 1m\n  condition:\n    gte: 2\n"
                      "  generate: true\n"
                      "---\ntitle: Quiet\ncorrelation:\n  type: event_count\n  rules: [b]\n"
                      "  group-by: [User]\n  timespan: 1m\n  condition:\n    gte: 2\n"
                      "---\ntitle: Both\ncorrelation:\n  type: temporal\n  rules: [a, b]\n"
                      "  group-by: [User]\n  timespan: 1m\n  generate: true\n"
                      "---\ntitle: Top\ncorrelation:\n  type: event_count\n  rules: [loud]\n"
                      "  group-by: [User]\n  timespan: 1h\n  condition:\n    gte: 2\n"
                      "  generate: true\n"));
    CHECK(kz_correlator_generates(f.c, rule(&f, "a")) == 1);
    CHECK(kz_correlator_generates(f.c, rule(&f, "b")) == 0);
    CHECK(kz_correlator_generates(f.c, rule(&f, "lonely")) == 1); /* not referenced */
    CHECK(kz_correlator_generates(f.c, rule(&f, "loud")) == 1);   /* Top says true */
    CHECK(kz_correlator_wants(f.c, rule(&f, "lonely"), NULL, NULL) == 0);
    /* Loud fires twice (a at 0,1 and at 10,11) and is reported each time; its second alert makes
     * Top fire (reported too), right after it. */
    push(&f, "a", 0, 1, "User=u", NULL);
    push(&f, "a", 1, 2, "User=u", NULL);
    push(&f, "a", 10, 3, "User=u", NULL);
    push(&f, "a", 11, 4, "User=u", NULL);
    REQUIRE(f.sink.n == 3);
    CHECK(f.sink.a[0].rule == rule(&f, "Loud"));
    CHECK(f.sink.a[1].rule == rule(&f, "Loud"));
    CHECK(f.sink.a[2].rule == rule(&f, "Top"));
    CHECK_INT(f.sink.a[2].nevents, 4); /* both Loud alerts' events, flattened */
    /* b at 12 completes Both (a at 11 is within a minute). */
    push(&f, "b", 12, 5, "User=u", NULL);
    REQUIRE(f.sink.n == 4);
    CHECK(f.sink.a[3].rule == rule(&f, "Both"));
    teardown(&f);
}

/* ---- value_sum, value_avg, value_percentile ---- */

KZ_TEST(corr_value_sum_and_avg) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("read") "---\ntitle: Big reads\ncorrelation:\n  type: value_sum\n"
                                   "  rules: [read]\n  group-by: [User]\n  timespan: 1h\n"
                                   "  condition:\n    field: Bytes\n    gt: 1000\n"
                                   "---\ntitle: Heavy average\ncorrelation:\n  type: value_avg\n"
                                   "  rules: [read]\n  group-by: [User]\n  timespan: 1h\n"
                                   "  condition:\n    field: Bytes\n    gte: 500\n"
                                   "---\ntitle: Average in range\ncorrelation:\n"
                                   "  type: value_avg\n  rules: [read]\n  group-by: [Host]\n"
                                   "  timespan: 1h\n  condition:\n    field: Bytes\n"
                                   "    gt: 10\n    lt: 20\n"));
    push(&f, "read", 0, 1, "User=u", "Host=h1", "Bytes=400", NULL);
    push(&f, "read", 1, 2, "User=u", "Host=h1", "Bytes=abc", NULL);    /* not a number */
    push(&f, "read", 2, 3, "User=u", "Host=h1", "Bytes= 0x10 ", NULL); /* 16 */
    CHECK_INT(f.sink.n, 0);                                            /* sum 416, average 208 */
    CHECK_INT(stats(&f).no_value, 3); /* "abc" for each of the three correlations */
    push(&f, "read", 3, 4, "User=u", "Host=h1", "Bytes=1400", NULL);
    /* sum 1816 > 1000; average (400 + 16 + 1400) / 3 = 605.33 >= 500: both, in rule order. */
    REQUIRE(f.sink.n == 2);
    CHECK(f.sink.a[0].rule == rule(&f, "Big reads"));
    CHECK(f.sink.a[0].value == 1816.0);
    CHECK(f.sink.a[1].rule == rule(&f, "Heavy average"));
    CHECK(fabs(f.sink.a[1].value - 1816.0 / 3) < 1e-9);
    /* Range average per host, closed windows: h2 gets 12, 18, 30 (average 20: not < 20); h3 gets
     * 10, 20, 15 (average 15). */
    push(&f, "read", 10, 5, "User=v", "Host=h2", "Bytes=12", NULL);
    push(&f, "read", 11, 6, "User=v", "Host=h2", "Bytes=18", NULL);
    push(&f, "read", 12, 7, "User=v", "Host=h2", "Bytes=30", NULL);
    push(&f, "read", 13, 8, "User=w", "Host=h3", "Bytes=10", NULL);
    push(&f, "read", 14, 9, "User=w", "Host=h3", "Bytes=20", NULL);
    push(&f, "read", 15, 10, "User=w", "Host=h3", "Bytes=15", NULL);
    CHECK_INT(f.sink.n, 2);
    finish(&f);
    /* h1's window (400, 16, 1400: 605.33) is out of range too; only h3. */
    REQUIRE(f.sink.n == 3);
    CHECK(f.sink.a[2].rule == rule(&f, "Average in range"));
    CHECK_STR(f.sink.a[2].group, "h3");
    CHECK(f.sink.a[2].value == 15.0);
    teardown(&f);
}

/* Percentiles interpolate linearly between closest ranks: of 1, 2, 3, 4, 100 the 90th is at rank
 * 0.9 * 4 = 3.6, 4 + 0.6 * (100 - 4) = 61.6; the median is 3. */
KZ_TEST(corr_value_percentile) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("proc") "---\ntitle: P90 high\ncorrelation:\n"
                                   "  type: value_percentile\n  rules: [proc]\n"
                                   "  group-by: [Host]\n  timespan: 1h\n  condition:\n"
                                   "    field: Duration\n    percentile: 90\n    gt: 60\n"
                                   "---\ntitle: Median low\ncorrelation:\n"
                                   "  type: value_percentile\n  rules: [proc]\n"
                                   "  group-by: [Host]\n  timespan: 1h\n  condition:\n"
                                   "    field: Duration\n    percentile: 50\n    lte: 3\n"));
    const char *d[] = {"Duration=4", "Duration=1", "Duration=100", "Duration=3", "Duration=2"};
    /* 4: the 90th is 4. 4, 1: rank 0.9, 1 + 0.9 * 3 = 3.7. 4, 1, 100: rank 1.8,
     * 4 + 0.8 * 96 = 80.8 > 60: fires at the third. */
    for (int i = 0; i < 3; i++)
        push(&f, "proc", i, i, "Host=h", d[i], NULL);
    REQUIRE(f.sink.n == 1);
    CHECK(fabs(f.sink.a[0].value - 80.8) < 1e-9);
    /* The window started again: 3, 2 -> rank 0.9: 2 + 0.9 = 2.9; no. */
    for (int i = 3; i < 5; i++)
        push(&f, "proc", i, i, "Host=h", d[i], NULL);
    CHECK_INT(f.sink.n, 1);
    /* Median over the closed window of all five: 3 <= 3. */
    finish(&f);
    REQUIRE(f.sink.n == 2);
    CHECK(f.sink.a[1].rule == rule(&f, "Median low"));
    CHECK(f.sink.a[1].value == 3.0);
    teardown(&f);
}

/* ---- bounds and odd input ---- */

KZ_TEST(corr_group_cap_and_expiry) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("hit") "---\ntitle: Twice\ncorrelation:\n  type: event_count\n"
                                  "  rules: [hit]\n  group-by: [User]\n  timespan: 1h\n"
                                  "  condition:\n    gte: 2\n"));
    struct kz_corr_limits lim = {.max_groups = 4};
    REQUIRE(!kz_correlator_set_limits(f.c, &lim));
    char user[32];
    for (int i = 0; i < 10; i++) {
        snprintf(user, sizeof user, "User=u%d", i);
        push(&f, "hit", i, (uint64_t)i, user, NULL);
    }
    struct kz_corr_stats s = stats(&f);
    CHECK_INT(s.groups_live, 4);
    CHECK_INT(s.groups_evicted, 6);
    push(&f, "hit", 20, 20, "User=u0", NULL); /* u0 was evicted: starts over, evicting u6 */
    CHECK_INT(f.sink.n, 0);
    push(&f, "hit", 21, 21, "User=u9", NULL); /* u9 is live: second event */
    REQUIRE(f.sink.n == 1);
    CHECK_STR(f.sink.a[0].group, "u9");
    /* Two hours later every group has expired: only the new one is left. */
    push(&f, "hit", 7300, 30, "User=late", NULL);
    s = stats(&f);
    CHECK_INT(s.groups_live, 1);
    CHECK_INT(s.groups_evicted, 7);
    teardown(&f);
}

KZ_TEST(corr_out_of_order_input) {
    struct fixture f;
    REQUIRE(!setup(&f, DET("hit") "---\ntitle: Twice\ncorrelation:\n  type: event_count\n"
                                  "  rules: [hit]\n  group-by: [User]\n  timespan: 1h\n"
                                  "  condition:\n    gte: 2\n"));
    push(&f, "hit", 7200, 1, "User=u", NULL);
    push(&f, "hit", 7100, 2, "User=u", NULL); /* 100 s late: counted as now */
    REQUIRE(f.sink.n == 1);
    CHECK_INT(f.sink.a[0].last, t0() + 7200 * SEC);
    push(&f, "hit", 0, 3, "User=u", NULL); /* two hours late: dropped */
    push(&f, "hit", 7201, 4, "User=u", NULL);
    CHECK_INT(f.sink.n, 1);
    struct kz_corr_stats s = stats(&f);
    CHECK_INT(s.inputs, 4);
    CHECK_INT(s.out_of_order, 2);
    CHECK_INT(s.late, 1);
    teardown(&f);
}

/* Correlations the engine cannot run are skipped with a reason, and the rest still run. */
KZ_TEST(corr_skipped_with_reason) {
    char yaml[8192];
    size_t at = (size_t)snprintf(yaml, sizeof yaml,
                                 DET("hit") "---\ntitle: Wide\nname: wide\ncorrelation:\n"
                                            "  type: event_count\n  rules: [hit]\n"
                                            "  timespan: 1h\n  condition:\n    gte: 2\n"
                                            "  group-by:\n");
    for (int i = 0; i < 33; i++)
        at += (size_t)snprintf(yaml + at, sizeof yaml - at, "    - F%d\n", i);
    snprintf(yaml + at, sizeof yaml - at,
             "---\ntitle: On wide\ncorrelation:\n  type: event_count\n  rules: [wide]\n"
             "  timespan: 1h\n  condition:\n    gte: 1\n---\ntitle: Fine\ncorrelation:\n"
             "  type: event_count\n  rules: [hit]\n  timespan: 1h\n  condition:\n    gte: 2\n");
    struct fixture f;
    REQUIRE(!setup(&f, yaml));
    struct kz_corr_stats s = stats(&f);
    CHECK_INT(s.correlations, 3);
    CHECK_INT(s.skipped, 2);
    const struct kz_sigma_rule *r = NULL;
    const char *why = kz_correlator_skipped(f.c, 0, &r);
    REQUIRE(why);
    CHECK(strstr(why, "group-by") != NULL);
    why = kz_correlator_skipped(f.c, 1, &r);
    REQUIRE(why);
    CHECK(strstr(why, "skipped") != NULL);
    CHECK(kz_correlator_skipped(f.c, 2, &r) == NULL);
    /* Fine (no group-by: one group for everything) still works. */
    push(&f, "hit", 0, 1, "User=a", NULL);
    push(&f, "hit", 1, 2, "User=b", NULL);
    REQUIRE(f.sink.n == 1);
    CHECK_STR(f.sink.a[0].group, "");
    teardown(&f);
}

/* Every allocation of building the correlator, failed in turn: an error or a correlator, never a
 * crash or a leak. */
KZ_TEST(corr_new_allocation_failures) {
    struct kz_sigma_ruleset rs;
    kz_sigma_ruleset_init(&rs);
    const char *y = DET("a") "---\n" DET(
        "b") "---\ntitle: T\nname: t\ncorrelation:\n"
             "  type: temporal\n  rules: [a, b]\n  group-by: [User]\n"
             "  timespan: 1m\n---\ntitle: U\ncorrelation:\n  type: value_percentile\n"
             "  rules: [t]\n  group-by: [User]\n  timespan: 1h\n  condition:\n"
             "    field: User\n    percentile: 50\n    gte: 1\n";
    struct kz_err err = {0};
    REQUIRE(!kz_sigma_load_buffer(&rs, "t.yml", y, strlen(y), &err));
    REQUIRE(!kz_sigma_ruleset_link(&rs));
    REQUIRE(rs.nrules == 4);
    size_t before = kz_alloc_in_use();
    int ok = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        struct kz_correlator *c = NULL;
        kz_alloc_fail_after(n);
        int rc = kz_correlator_new(&c, &rs, &err);
        kz_alloc_fail_never();
        CHECK(rc == 0 || rc == KZ_ENOMEM);
        CHECK((rc == 0) == (c != NULL));
        ok = rc == 0;
        kz_correlator_free(c);
        CHECK_INT(kz_alloc_in_use(), before);
    }
    CHECK(ok);
    kz_sigma_ruleset_free(&rs);
}

/* ---- stress ---- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

struct counting_sink {
    uint64_t n;
    int bad;
};

static void count_fire(void *ctx, const struct kz_corr_alert *a) {
    struct counting_sink *s = ctx;
    s->n++;
    if (a->nevents > KZ_CORR_ALERT_EVENTS || a->first > a->last || !a->rule) s->bad++;
    for (uint32_t i = 0; i < a->ngroup; i++)
        if (!a->group_values[i] || strlen(a->group_values[i]) > KZ_CORR_MAX_KEY_VALUE) s->bad++;
}

/* Random inputs over every correlation type, with small caps: state stays within the caps and
 * the budget, nothing crashes (run it under ASan), and everything is freed. */
KZ_TEST(corr_stress_random_inputs) {
    const char *y = DET("r0") "---\n" DET("r1") "---\n" DET(
        "r2") "---\ntitle: C0\nname: c0\ncorrelation:\n  type: event_count\n  rules: [r0, r1]\n"
              "  group-by: [U]\n  timespan: 30s\n  condition:\n    gte: 5\n"
              "---\ntitle: C1\ncorrelation:\n  type: value_count\n  rules: [r1, r2]\n"
              "  group-by: [U, H]\n  timespan: 1m\n  condition:\n    field: V\n    gte: 20\n"
              "---\ntitle: C2\ncorrelation:\n  type: temporal\n  rules: [r0, r1, r2]\n"
              "  group-by: [H]\n  timespan: 20s\n"
              "---\ntitle: C3\ncorrelation:\n  type: temporal_ordered\n  rules: [r2, r0, r2]\n"
              "  group-by: [u]\n  timespan: 20s\n  aliases:\n    u:\n      r2: H\n      r0: U\n"
              "---\ntitle: C4\ncorrelation:\n  type: value_sum\n  rules: [r0]\n  group-by: [U]\n"
              "  timespan: 10s\n  condition:\n    field: V\n    gt: 100\n    lt: 5000\n"
              "---\ntitle: C5\ncorrelation:\n  type: value_avg\n  rules: [r1]\n  group-by: [H]\n"
              "  timespan: 10s\n  condition:\n    field: V\n    gte: 50\n"
              "---\ntitle: C6\ncorrelation:\n  type: value_percentile\n  rules: [r2]\n"
              "  group-by: [U]\n  timespan: 1m\n  condition:\n    field: V\n    percentile: 75\n"
              "    neq: 3\n"
              "---\ntitle: C7\ncorrelation:\n  type: event_count\n  rules: [c0, r2]\n"
              "  group-by: [U]\n  timespan: 5m\n  condition:\n    gte: 3\n  generate: true\n";
    struct fixture f;
    REQUIRE(!setup(&f, y));
    struct kz_corr_limits lim = {
        .max_groups = 8, .max_entries = 16, .max_values = 8, .memory = 256 << 10};
    REQUIRE(!kz_correlator_set_limits(f.c, &lim));
    const char *names[] = {"r0", "r1", "r2"};
    const struct kz_sigma_rule *rules[3];
    for (int i = 0; i < 3; i++)
        rules[i] = rule(&f, names[i]);
    uint32_t fu = kz_intern("U", 1), fh = kz_intern("H", 1), fv = kz_intern("V", 1);
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[300] = (char)0xC3; /* a two-byte UTF-8 character across the truncation point */
    big[301] = (char)0xA9;
    struct counting_sink sink = {0};
    rng_state = 42;
    kz_time t = t0();
    char u[32], h[32], v[32];
    for (int i = 0; i < 200000; i++) {
        t += rnd(4) == 0 ? (kz_time)rnd(3000) * SEC / 10 : 0;
        kz_time ts = rnd(50) == 0 ? t - (kz_time)rnd(120) * SEC : t; /* some out of order */
        snprintf(u, sizeof u, "u%u", rnd(40));
        snprintf(h, sizeof h, "h%u", rnd(12));
        switch (rnd(4)) {
        case 0:
            snprintf(v, sizeof v, "%u", rnd(200));
            break;
        case 1:
            snprintf(v, sizeof v, "0x%x", rnd(64));
            break;
        case 2:
            snprintf(v, sizeof v, "v%u", rnd(100));
            break;
        default:
            snprintf(v, sizeof v, "%d.5", (int)rnd(100) - 50);
        }
        uint32_t fields[3] = {fu, fh, fv};
        const char *values[3] = {rnd(100) == 0 ? big : u, rnd(30) == 0 ? NULL : h, v};
        struct kz_corr_input in = {.ts = ts,
                                   .rule = rules[rnd(3)],
                                   .record_id = (uint64_t)i,
                                   .nvalues = 3,
                                   .fields = fields,
                                   .values = values};
        kz_correlator_push(f.c, &in, count_fire, &sink);
        if (i % 1000 == 0) {
            struct kz_corr_stats s = stats(&f);
            CHECK(s.groups_live <= 8u * 8u);
            CHECK(s.memory <= (size_t)(256 << 10));
        }
    }
    struct kz_corr_stats s = stats(&f);
    CHECK(s.alerts > 0);
    CHECK(s.out_of_order > 0);
    CHECK(s.groups_evicted > 0);
    CHECK(s.ungrouped > 0);
    CHECK(s.no_value > 0);
    CHECK_INT(sink.bad, 0);
    kz_correlator_finish(f.c, count_fire, &sink);
    s = stats(&f);
    CHECK_INT(s.groups_live, 0);
    CHECK(s.reported == sink.n);
    /* A second stream after finish works the same way. */
    struct kz_corr_input in = {.ts = t0(), .rule = rules[0], .nvalues = 0};
    kz_correlator_push(f.c, &in, count_fire, &sink);
    teardown(&f);
}

/* ---- differential: the engine against a naive model ---- */

/* The naive model keeps every input of a group since its last alert and recomputes the window
 * from scratch at each input: event_count (gte 4 in 30 s), value_count (gte 3 distinct in 30 s)
 * and temporal_ordered (o0, o1, o2 in order within 30 s), sliding windows, reset after an alert.
 * It shares no code with the engine. */
#define NAIVE_MAX 4096
struct naive_ev {
    kz_time ts;
    int what; /* rule index, or value */
};
struct naive_group {
    int n;
    struct naive_ev ev[NAIVE_MAX];
};

/* Type 0: event_count; 1: value_count; 2: temporal_ordered. Returns 1 when an alert fires. */
static int naive_push(struct naive_group *g, int type, kz_time ts, int what, kz_time span) {
    if (g->n == NAIVE_MAX) return 0;
    g->ev[g->n++] = (struct naive_ev){ts, what};
    int fired = 0;
    if (type == 0) {
        int count = 0;
        for (int i = 0; i < g->n; i++)
            count += ts - g->ev[i].ts <= span;
        fired = count >= 4;
    } else if (type == 1) {
        int distinct = 0;
        for (int i = 0; i < g->n; i++) {
            if (ts - g->ev[i].ts > span) continue;
            int seen = 0;
            for (int j = 0; j < i; j++)
                seen |= ts - g->ev[j].ts <= span && g->ev[j].what == g->ev[i].what;
            distinct += !seen;
        }
        fired = distinct >= 3;
    } else {
        /* some o0 at i, o1 at j > i, o2 at k > j, the o0 inside the window ending now */
        for (int i = 0; i < g->n && !fired; i++) {
            if (g->ev[i].what != 0 || ts - g->ev[i].ts > span) continue;
            for (int j = i + 1; j < g->n && !fired; j++) {
                if (g->ev[j].what != 1) continue;
                for (int k = j + 1; k < g->n && !fired; k++)
                    fired = g->ev[k].what == 2;
            }
        }
    }
    if (fired) g->n = 0;
    return fired;
}

struct diff_sink {
    int n;
    char log[64][64];
};

static void diff_fire(void *ctx, const struct kz_corr_alert *a) {
    struct diff_sink *s = ctx;
    if (s->n < 64)
        snprintf(s->log[s->n], sizeof s->log[0], "%s/%s", a->rule->title, a->group_values[0]);
    s->n++;
}

KZ_TEST(corr_differential_against_naive_model) {
    struct fixture f;
    REQUIRE(!setup(
        &f, DET("o0") "---\n" DET("o1") "---\n" DET(
                "o2") "---\ntitle: EC\ncorrelation:\n  type: event_count\n  rules: [o0, o1, o2]\n"
                      "  group-by: [U]\n  timespan: 30s\n  condition:\n    gte: 4\n"
                      "  generate: true\n"
                      "---\ntitle: VC\ncorrelation:\n  type: value_count\n  rules: [o0, o1, o2]\n"
                      "  group-by: [U]\n  timespan: 30s\n  condition:\n    field: V\n    gte: 3\n"
                      "  generate: true\n"
                      "---\ntitle: TO\ncorrelation:\n  type: temporal_ordered\n"
                      "  rules: [o0, o1, o2]\n  group-by: [U]\n  timespan: 30s\n"
                      "  generate: true\n"));
    static struct naive_group model[3][3]; /* [type][user] */
    memset(model, 0, sizeof model);
    const char *titles[3] = {"EC", "VC", "TO"};
    const struct kz_sigma_rule *rules[3] = {rule(&f, "o0"), rule(&f, "o1"), rule(&f, "o2")};
    uint32_t fu = kz_intern("U", 1), fv = kz_intern("V", 1);
    rng_state = 7;
    kz_time t = t0(), span = 30 * SEC;
    int mismatches = 0, alerts = 0;
    for (int i = 0; i < 20000 && mismatches < 5; i++) {
        t += (kz_time)rnd(40) * SEC / 4; /* 0 to 9.75 s: windows hold a handful of inputs */
        int user = (int)rnd(3), r = (int)rnd(3), value = (int)rnd(5);
        char u[8], v[8];
        snprintf(u, sizeof u, "u%d", user);
        snprintf(v, sizeof v, "v%d", value);
        uint32_t fields[2] = {fu, fv};
        const char *values[2] = {u, v};
        struct kz_corr_input in = {
            .ts = t, .rule = rules[r], .nvalues = 2, .fields = fields, .values = values};
        struct diff_sink got = {0};
        kz_correlator_push(f.c, &in, diff_fire, &got);
        /* The model, in the engine's reporting order: correlations in rule order. */
        char want[3][64];
        int nwant = 0;
        for (int type = 0; type < 3; type++)
            if (naive_push(&model[type][user], type, t, type == 1 ? value : r, span))
                snprintf(want[nwant++], sizeof want[0], "%s/%s", titles[type], u);
        alerts += nwant;
        int same = got.n == nwant;
        for (int j = 0; same && j < nwant; j++)
            same = !strcmp(got.log[j], want[j]);
        if (!same) {
            mismatches++;
            kz_test_fail(__FILE__, __LINE__, "input %d: engine gave %d alerts (%s), model %d (%s)",
                         i, got.n, got.n ? got.log[0] : "", nwant, nwant ? want[0] : "");
        }
    }
    CHECK_MSG(alerts > 1000, "only %d alerts", alerts); /* the stream exercised all three often */
    teardown(&f);
}

/* Once every group has grown to its working size, pushing allocates nothing more: group state is
 * recycled through the free lists (closed windows die and are born again, sliding ones reset). */
KZ_TEST(corr_steady_state_allocates_nothing) {
    struct fixture f;
    REQUIRE(!setup(
        &f, DET("s0") "---\n" DET(
                "s1") "---\ntitle: EC\ncorrelation:\n  type: event_count\n  rules: [s0]\n"
                      "  group-by: [U]\n  timespan: 10s\n  condition:\n    gte: 5\n"
                      "---\ntitle: VC\ncorrelation:\n  type: value_count\n  rules: [s0, s1]\n"
                      "  group-by: [U]\n  timespan: 10s\n  condition:\n    field: V\n    lt: 4\n"
                      "---\ntitle: TE\ncorrelation:\n  type: temporal\n  rules: [s0, s1]\n"
                      "  group-by: [U]\n  timespan: 10s\n"));
    uint32_t fields[2] = {kz_intern("U", 1), kz_intern("V", 1)};
    struct counting_sink sink = {0};
    rng_state = 99;
    size_t warm = 0;
    for (int i = 0; i < 60000; i++) {
        char u[8], v[8];
        snprintf(u, sizeof u, "u%u", rnd(20));
        snprintf(v, sizeof v, "v%u", rnd(6));
        const char *values[2] = {u, v};
        struct kz_corr_input in = {.ts = t0() + (kz_time)i * SEC / 2,
                                   .rule = rule(&f, rnd(2) ? "s0" : "s1"),
                                   .nvalues = 2,
                                   .fields = fields,
                                   .values = values};
        kz_correlator_push(f.c, &in, count_fire, &sink);
        if (i == 20000) warm = kz_alloc_in_use();
    }
    CHECK(sink.n > 1000);
    CHECK_INT(kz_alloc_in_use(), warm);
    teardown(&f);
}
