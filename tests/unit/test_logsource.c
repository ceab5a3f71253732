/* test_logsource.c - unit tests of src/sigma/logsource: the mapping compiled into the binary
 * (data/logsource.yml), the loader's errors on broken mapping files, resolution semantics, and
 * the SigmaHQ corpus (every rule's logsource resolves; every regression EVTX sample lies in the
 * log its rule resolves to).
 *
 * Expected values come from outside kizuki: Sysmon's event ids from the Sysmon documentation,
 * Security 4688/5156/4657 field names and codes from Microsoft's audit event pages, channel names
 * from the logs themselves (the regression samples' .json renderings, read here with plain string
 * search, not with kizuki's decoder). */
#include "unit.h"

#include "core/alloc.h"
#include "core/embedded.h"
#include "core/intern.h"
#include "sigma/logsource.h"
#include "sigma/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYSMON "Microsoft-Windows-Sysmon/Operational"

/* ---- helpers ---- */

static const struct kz_ls_map *dflt(void) {
    struct kz_err err = {0};
    const struct kz_ls_map *m = kz_ls_default(&err);
    if (!m) kz_test_fail(__FILE__, __LINE__, "default mapping: %s", err.msg);
    return m;
}

static void resolve(const struct kz_ls_map *m, const char *product, const char *category,
                    const char *service, struct kz_ls_result *r) {
    struct kz_sigma_logsource ls = {.product = product, .category = category, .service = service};
    kz_ls_resolve(m, &ls, r);
}

static uint32_t fid(const char *name) {
    return kz_intern(name, strlen(name));
}

/* The target whose channel is `channel` (case-insensitive), or NULL. */
static const struct kz_ls_target *on(const struct kz_ls_result *r, const char *channel) {
    for (uint32_t i = 0; i < r->ntargets; i++)
        if (r->targets[i]->channel && !strcasecmp(r->targets[i]->channel, channel))
            return r->targets[i];
    return NULL;
}

/* Source value of a value map entry, or NULL. */
static const char *mapped_value(const struct kz_ls_target *t, const char *field, const char *v) {
    uint32_t f = fid(field);
    for (uint32_t i = 0; i < t->nvalmaps; i++)
        if (t->valmaps[i].field == f)
            for (uint32_t k = 0; k < t->valmaps[i].n; k++)
                if (!strcmp(t->valmaps[i].from[k], v)) return t->valmaps[i].to[k];
    return NULL;
}

#define CHECK_HAS(hay, needle)                                                                     \
    do {                                                                                           \
        const char *h_ = (hay);                                                                    \
        if (!h_ || !strstr(h_, needle))                                                            \
            kz_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", \
                         needle);                                                                  \
    } while (0)

/* ---- the embedded mapping ---- */

KZ_TEST(ls_default_loads) {
    const struct kz_ls_map *m = dflt();
    REQUIRE(m);
    CHECK(kz_ls_entry_count(m) > 100);
    CHECK(kz_ls_default(NULL) == m); /* loaded once */
}

KZ_TEST(ls_process_creation_sysmon_and_4688) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", "process_creation", NULL, &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    CHECK_INT(r.ntargets, 2);
    CHECK_STR(r.reason, "");
    const struct kz_ls_target *s = on(&r, SYSMON), *a = on(&r, "Security");
    REQUIRE(s && a);
    CHECK_STR(s->product, "windows");
    CHECK_INT(s->nevent_ids, 1);
    CHECK_INT(s->event_ids[0], 1);
    CHECK_INT(s->nrenames, 0);
    CHECK(kz_ls_target_field(s, fid("Image")) == fid("Image"));

    CHECK_INT(a->nevent_ids, 1);
    CHECK_INT(a->event_ids[0], 4688);
    CHECK_STR(a->provider, "Microsoft-Windows-Security-Auditing");
    /* Microsoft's 4688 schema: NewProcessName, ParentProcessName, NewProcessId (the child),
     * ProcessId (the creator), SubjectLogonId, MandatoryLabel */
    CHECK(kz_ls_target_field(a, fid("Image")) == fid("NewProcessName"));
    CHECK(kz_ls_target_field(a, fid("ParentImage")) == fid("ParentProcessName"));
    CHECK(kz_ls_target_field(a, fid("ProcessId")) == fid("NewProcessId"));
    CHECK(kz_ls_target_field(a, fid("ParentProcessId")) == fid("ProcessId"));
    CHECK(kz_ls_target_field(a, fid("LogonId")) == fid("SubjectLogonId"));
    CHECK(kz_ls_target_field(a, fid("IntegrityLevel")) == fid("MandatoryLabel"));
    CHECK(kz_ls_target_field(a, fid("CommandLine")) == fid("CommandLine")); /* same name */
    /* integrity levels as mandatory label SIDs (S-1-16-12288 is High, 16384 System) */
    CHECK_STR(mapped_value(a, "IntegrityLevel", "High"), "S-1-16-12288");
    CHECK_STR(mapped_value(a, "IntegrityLevel", "System"), "S-1-16-16384");
    CHECK_STR(mapped_value(a, "IntegrityLevel", "Low"), "S-1-16-4096");
    CHECK(kz_ls_target_lacks(a, fid("OriginalFileName")));
    CHECK(kz_ls_target_lacks(a, fid("User")));
    CHECK(!kz_ls_target_lacks(a, fid("CommandLine")));
    CHECK(!kz_ls_target_lacks(s, fid("OriginalFileName")));
}

KZ_TEST(ls_category_and_service_intersect) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", "process_creation", "security", &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "Security");
    CHECK_INT(r.targets[0]->event_ids[0], 4688);

    resolve(m, "windows", "process_creation", "sysmon", &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, SYSMON);
    CHECK_INT(r.targets[0]->event_ids[0], 1);

    resolve(m, "windows", "ps_script", "system", &r);
    CHECK_INT(r.status, KZ_LS_UNKNOWN);
    CHECK_HAS(r.reason, "share no log");
}

KZ_TEST(ls_powershell) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", "ps_script", NULL, &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    CHECK_INT(r.ntargets, 2); /* Windows PowerShell 5 and PowerShell 7 */
    const struct kz_ls_target *a = on(&r, "Microsoft-Windows-PowerShell/Operational");
    const struct kz_ls_target *b = on(&r, "PowerShellCore/Operational");
    REQUIRE(a && b);
    CHECK_INT(a->nevent_ids, 1);
    CHECK_INT(a->event_ids[0], 4104);
    CHECK_INT(b->event_ids[0], 4104);
    resolve(m, "windows", "ps_module", NULL, &r);
    REQUIRE(r.ntargets >= 1);
    CHECK_INT(r.targets[0]->event_ids[0], 4103);
    resolve(m, "windows", "ps_classic_start", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "Windows PowerShell");
    CHECK_INT(r.targets[0]->event_ids[0], 400);
    resolve(m, "windows", "ps_classic_provider_start", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_INT(r.targets[0]->event_ids[0], 600);
    resolve(m, "windows", "ps_classic_script", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_INT(r.targets[0]->event_ids[0], 800);
}

KZ_TEST(ls_services) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", "security", NULL, &r); /* a category named security does not exist */
    CHECK_INT(r.status, KZ_LS_UNKNOWN);
    resolve(m, "Windows", NULL, "Security", &r); /* names are case-insensitive */
    CHECK_INT(r.status, KZ_LS_MAPPED);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "Security");
    CHECK_INT(r.targets[0]->nevent_ids, 0); /* every event of the channel */
    resolve(m, "windows", NULL, "applocker", &r);
    CHECK_INT(r.ntargets, 4);
    CHECK(on(&r, "Microsoft-Windows-AppLocker/EXE and DLL") != NULL);
    resolve(m, "windows", NULL, "taskscheduler", &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "Microsoft-Windows-TaskScheduler/Operational");
    /* service without a product: looked up in every product */
    resolve(m, NULL, NULL, "sysmon", &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, SYSMON);
    CHECK_STR(r.targets[0]->product, "windows");
    /* linux syslog programs go in the provider slot */
    resolve(m, "linux", NULL, "sshd", &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "syslog");
    CHECK_STR(r.targets[0]->provider, "sshd");
    resolve(m, "linux", NULL, "auditd", &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "auditd");
}

KZ_TEST(ls_sysmon_event_ids) {
    /* The Sysmon documentation's event ids, one category at a time. */
    static const struct {
        const char *category;
        uint32_t n, ids[3];
    } want[] = {
        {"network_connection", 1, {3}},
        {"sysmon_status", 2, {4, 16}},
        {"process_termination", 1, {5}},
        {"driver_load", 1, {6}},
        {"image_load", 1, {7}},
        {"create_remote_thread", 1, {8}},
        {"raw_access_thread", 1, {9}},
        {"process_access", 1, {10}},
        {"file_event", 1, {11}},
        {"registry_add", 1, {12}},
        {"registry_delete", 1, {12}},
        {"registry_set", 1, {13}},
        {"registry_rename", 1, {14}},
        {"registry_event", 3, {12, 13, 14}},
        {"create_stream_hash", 1, {15}},
        {"pipe_created", 2, {17, 18}},
        {"wmi_event", 3, {19, 20, 21}},
        {"dns_query", 1, {22}},
        {"file_delete", 2, {23, 26}},
        {"clipboard_capture", 1, {24}},
        {"process_tampering", 1, {25}},
        {"file_delete_detected", 1, {26}},
        {"file_block_executable", 1, {27}},
        {"file_block_shredding", 1, {28}},
        {"file_executable_detected", 1, {29}},
        {"sysmon_error", 1, {255}},
        {"file_change", 1, {2}},
    };
    const struct kz_ls_map *m = dflt();
    REQUIRE(m);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        struct kz_ls_result r;
        resolve(m, "windows", want[i].category, "sysmon", &r);
        CHECK_MSG(r.status == KZ_LS_MAPPED && r.ntargets == 1, "%s: %s", want[i].category,
                  r.reason);
        if (r.ntargets != 1) continue;
        const struct kz_ls_target *t = r.targets[0];
        CHECK_STR(t->channel, SYSMON);
        CHECK_MSG(t->nevent_ids == want[i].n, "%s: %u ids", want[i].category, t->nevent_ids);
        for (uint32_t k = 0; k < want[i].n && k < t->nevent_ids; k++)
            CHECK_MSG(t->event_ids[k] == want[i].ids[k], "%s: id %u", want[i].category,
                      t->event_ids[k]);
    }
}

KZ_TEST(ls_security_equivalents) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    /* 5156: Application, SourceAddress, DestAddress, DestPort; Direction %%14593 = outbound */
    resolve(m, "windows", "network_connection", "security", &r);
    REQUIRE(r.ntargets == 1);
    const struct kz_ls_target *t = r.targets[0];
    CHECK_INT(t->event_ids[0], 5156);
    CHECK(kz_ls_target_field(t, fid("Image")) == fid("Application"));
    CHECK(kz_ls_target_field(t, fid("SourceIp")) == fid("SourceAddress"));
    CHECK(kz_ls_target_field(t, fid("DestinationIp")) == fid("DestAddress"));
    CHECK(kz_ls_target_field(t, fid("DestinationPort")) == fid("DestPort"));
    CHECK(kz_ls_target_field(t, fid("SourcePort")) == fid("SourcePort"));
    CHECK(kz_ls_target_field(t, fid("Initiated")) == fid("Direction"));
    CHECK_STR(mapped_value(t, "Initiated", "true"), "%%14593");
    CHECK_STR(mapped_value(t, "Protocol", "tcp"), "6");
    CHECK(kz_ls_target_lacks(t, fid("DestinationHostname")));
    /* 4657: OperationType %%1904 new value, %%1905 modified */
    resolve(m, "windows", "registry_set", "security", &r);
    REQUIRE(r.ntargets == 1);
    t = r.targets[0];
    CHECK_INT(t->event_ids[0], 4657);
    CHECK(kz_ls_target_field(t, fid("TargetObject")) == fid("ObjectName"));
    CHECK(kz_ls_target_field(t, fid("Details")) == fid("NewValue"));
    REQUIRE(t->nwhere == 1);
    CHECK(t->where[0].field == fid("OperationType"));
    REQUIRE(t->where[0].nvalues == 2);
    CHECK_STR(t->where[0].values[0], "%%1904");
    CHECK_STR(t->where[0].values[1], "%%1905");
    CHECK(t->note != NULL);
    /* registry_add is CreateKey: 4657 has no key creation */
    resolve(m, "windows", "registry_add", NULL, &r);
    CHECK_INT(r.ntargets, 1);
    /* file_event is not taken from 4663; file_access is */
    resolve(m, "windows", "file_event", NULL, &r);
    CHECK_INT(r.ntargets, 1);
    CHECK(on(&r, "Security") == NULL);
    resolve(m, "windows", "file_access", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_INT(r.targets[0]->event_ids[0], 4663);
    CHECK(kz_ls_target_field(r.targets[0], fid("FileName")) == fid("ObjectName"));
}

KZ_TEST(ls_product_only_and_generic) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", NULL, NULL, &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    REQUIRE(r.ntargets == 1);
    CHECK(r.targets[0]->channel == NULL);
    CHECK_INT(r.targets[0]->nevent_ids, 0);
    CHECK_STR(r.targets[0]->product, "windows");
    resolve(m, NULL, "proxy", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "proxy");
    CHECK(r.targets[0]->product == NULL);
    resolve(m, NULL, "webserver", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "webserver");
    /* a product falls back to the generic names it does not define itself */
    resolve(m, "windows", "webserver", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "webserver");
    /* no product: every product's definition (Sysmon 1, Security 4688, Sysmon for Linux 1) */
    resolve(m, NULL, "process_creation", NULL, &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    CHECK_INT(r.ntargets, 3);
    CHECK(on(&r, "Linux-Sysmon/Operational") != NULL);
    resolve(m, NULL, "antivirus", NULL, &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "Microsoft-Windows-Windows Defender/Operational");
    CHECK_STR(r.targets[0]->product, "windows");
    CHECK(kz_ls_target_field(r.targets[0], fid("Signature")) == fid("Threat Name"));
}

KZ_TEST(ls_unknown_and_unsupported) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", "process_creatoin", NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNKNOWN);
    CHECK_INT(r.ntargets, 0);
    CHECK_HAS(r.reason, "category `process_creatoin`");
    CHECK_HAS(r.reason, "windows");
    resolve(m, "windows", NULL, "no-such-service", &r);
    CHECK_INT(r.status, KZ_LS_UNKNOWN);
    CHECK_HAS(r.reason, "service `no-such-service`");
    resolve(m, "amiga", "process_creation", NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNKNOWN);
    CHECK_HAS(r.reason, "product `amiga`");
    resolve(m, NULL, NULL, NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNKNOWN);
    resolve(m, "macos", "process_creation", NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNSUPPORTED);
    CHECK_INT(r.ntargets, 0);
    CHECK_HAS(r.reason, "macos");
    resolve(m, "aws", NULL, "cloudtrail", &r);
    CHECK_INT(r.status, KZ_LS_UNSUPPORTED);
    resolve(m, "windows", "file_rename", NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNSUPPORTED);
    CHECK_HAS(r.reason, "file_rename");
    resolve(m, NULL, "dns", NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNSUPPORTED);
    CHECK_STR(kz_ls_status_name(KZ_LS_UNSUPPORTED), "unsupported");
    /* a result stays valid when copied: its reason is inline */
    struct kz_ls_result copy = r;
    memset(&r, 0, sizeof r);
    CHECK_HAS(copy.reason, "DNS");
}

KZ_TEST(ls_target_accepts) {
    const struct kz_ls_map *m = dflt();
    struct kz_ls_result r;
    REQUIRE(m);
    resolve(m, "windows", "pipe_created", NULL, &r);
    REQUIRE(r.ntargets == 1);
    const struct kz_ls_target *t = r.targets[0];
    CHECK(kz_ls_target_accepts(t, "microsoft-windows-sysmon/operational", NULL, 17));
    CHECK(kz_ls_target_accepts(t, SYSMON, "Microsoft-Windows-Sysmon", 18));
    CHECK(!kz_ls_target_accepts(t, SYSMON, NULL, 19));
    CHECK(!kz_ls_target_accepts(t, "Security", NULL, 17));
    CHECK(!kz_ls_target_accepts(t, NULL, NULL, 17));
    resolve(m, "windows", "process_creation", "security", &r);
    REQUIRE(r.ntargets == 1);
    CHECK(kz_ls_target_accepts(r.targets[0], "Security", "Microsoft-Windows-Security-Auditing",
                               4688));
    CHECK(!kz_ls_target_accepts(r.targets[0], "Security", "Microsoft-Windows-Eventlog", 4688));
    resolve(m, "windows", NULL, NULL, &r);
    CHECK(kz_ls_target_accepts(r.targets[0], "Anything/At all", "x", 12345));
}

/* ---- the loader ---- */

static const char small_map[] = "version: 1\n"
                                "generic:\n"
                                "  categories:\n"
                                "    proxy: [{channel: proxy}]\n"
                                "products:\n"
                                "  windows:\n"
                                "    any: [{channel: ~}]\n"
                                "    categories:\n"
                                "      process_creation:\n"
                                "        - {channel: A, event_ids: [7, 1, 7]}\n"
                                "        - channels: [B, C]\n"
                                "          provider: P\n"
                                "          event_ids: 4688\n"
                                "          rename: {Image: NewProcessName}\n"
                                "          values: {Level: {high: [x, y], low: z}}\n"
                                "          where: {Kind: [K1, K2]}\n"
                                "          absent: [Hashes]\n"
                                "          note: careful\n"
                                "      gone: {unsupported: \"not here\"}\n"
                                "    services:\n"
                                "      security: [{channel: B}]\n"
                                "  beos:\n"
                                "    unsupported: \"no reader\"\n";

KZ_TEST(ls_load_small_mapping) {
    struct kz_ls_map *m = NULL;
    struct kz_err err = {0};
    REQUIRE(kz_ls_load(&m, "t.yml", small_map, strlen(small_map), &err) == 0);
    struct kz_ls_result r;
    resolve(m, "WINDOWS", "Process_Creation", NULL, &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    REQUIRE(r.ntargets == 3);
    CHECK_STR(r.targets[0]->channel, "A");
    CHECK_INT(r.targets[0]->nevent_ids, 2); /* sorted, duplicates dropped */
    CHECK_INT(r.targets[0]->event_ids[0], 1);
    CHECK_INT(r.targets[0]->event_ids[1], 7);
    CHECK_INT(r.targets[0]->line, 10);
    const struct kz_ls_target *c = r.targets[2];
    CHECK_STR(c->channel, "C");
    CHECK_STR(c->provider, "P");
    CHECK_STR(c->note, "careful");
    CHECK_INT(c->nevent_ids, 1);
    CHECK_INT(c->event_ids[0], 4688);
    CHECK(kz_ls_target_field(c, fid("Image")) == fid("NewProcessName"));
    REQUIRE(c->nvalmaps == 1);
    CHECK_INT(c->valmaps[0].n, 3);
    CHECK_STR(c->valmaps[0].from[1], "high");
    CHECK_STR(c->valmaps[0].to[1], "y");
    CHECK_STR(c->valmaps[0].to[2], "z");
    REQUIRE(c->nwhere == 1);
    CHECK_INT(c->where[0].nvalues, 2);
    CHECK(kz_ls_target_lacks(c, fid("Hashes")));
    /* service narrows the category to channel B */
    resolve(m, "windows", "process_creation", "security", &r);
    REQUIRE(r.ntargets == 1);
    CHECK_STR(r.targets[0]->channel, "B");
    resolve(m, "windows", "gone", NULL, &r);
    CHECK_INT(r.status, KZ_LS_UNSUPPORTED);
    CHECK_HAS(r.reason, "not here");
    resolve(m, "beos", NULL, "anything", &r);
    CHECK_INT(r.status, KZ_LS_UNSUPPORTED);
    CHECK_HAS(r.reason, "no reader");
    resolve(m, "windows", "proxy", NULL, &r);
    CHECK_INT(r.status, KZ_LS_MAPPED);
    kz_ls_free(m);
    kz_ls_free(NULL);
}

/* Loads text expected to fail; checks the status and that the message has `want`. */
static void bad_map(const char *text, int code, const char *want, int line) {
    struct kz_ls_map *m = (struct kz_ls_map *)1;
    struct kz_err err = {0};
    int rc = kz_ls_load(&m, "bad.yml", text, strlen(text), &err);
    if (rc != code) kz_test_fail(__FILE__, line, "status %d, want %d (%s)", rc, code, err.msg);
    if (m != NULL) kz_test_fail(__FILE__, line, "out not cleared on error");
    if (!strstr(err.msg, want))
        kz_test_fail(__FILE__, line, "\"%s\" does not contain \"%s\"", err.msg, want);
}
#define BAD(text, code, want) bad_map(text, code, want, __LINE__)

KZ_TEST(ls_load_rejects_broken_files) {
    BAD("", KZ_EFORMAT, "bad.yml: the mapping is empty");
    BAD("version: 2\n", KZ_EFORMAT, "bad.yml:1: `version` must be 1");
    BAD("products: {}\n", KZ_EFORMAT, "`version: 1` is missing");
    BAD("version: 1\nproducts:\n  windows:\n    any: [{channel: x\n", KZ_EFORMAT,
        "bad.yml:5: YAML syntax error");
    BAD("version: 1\nversion: 1\n", KZ_EFORMAT,
        "bad.yml:2: key `version` repeats the one on line 1");
    BAD("version: 1\nprodcts: {}\n", KZ_EFORMAT, "bad.yml:2: unknown key `prodcts`");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: [{chanel: x}]\n", KZ_EFORMAT,
        "bad.yml:5: unknown key `chanel` in a target");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: [{event_ids: [1]}]\n",
        KZ_EFORMAT, "bad.yml:5: a target needs `channel`");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a:\n        - channel: x\n"
        "          event_ids: [1, 70000]\n",
        KZ_EFORMAT, "bad.yml:7: event id `70000`");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a:\n        - channel: x\n"
        "          event_ids: [abc]\n",
        KZ_EFORMAT, "bad.yml:7: event id `abc`");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a:\n        - channel: x\n"
        "          channels: [y]\n",
        KZ_EFORMAT, "bad.yml:6: a target has `channel` or `channels`, not both");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: []\n", KZ_EFORMAT,
        "bad.yml:5: an entry with no targets");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: yes\n", KZ_EFORMAT,
        "bad.yml:5: an entry is a list of targets");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: [{channel: x}]\n"
        "      A: [{channel: y}]\n",
        KZ_EFORMAT, "bad.yml:6: `A` repeats the entry on line 5");
    BAD("version: 1\nproducts:\n  windows: {any: [{channel: x}]}\n  Windows: {}\n", KZ_EFORMAT,
        "bad.yml:4: product `Windows` repeats");
    BAD("version: 1\nproducts:\n  mac:\n    unsupported: no\n    any: [{channel: x}]\n", KZ_EFORMAT,
        "unsupported as a whole");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: {unsupported: \"\"}\n",
        KZ_EFORMAT, "bad.yml:5: `unsupported` is empty");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: [{channel: [x]}]\n",
        KZ_EFORMAT, "bad.yml:5: `channel` must be a single value, not a list");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: [{channel: x, rename: "
        "[a]}]\n",
        KZ_EFORMAT, "`rename` must be a map");
    BAD("version: 1\nx: &a 1\ny: *a\n", KZ_EFORMAT, "bad.yml:3: YAML aliases");
    BAD("version: 1\n---\nversion: 1\n", KZ_EFORMAT, "bad.yml:2: the mapping is one YAML document");
    BAD("version: 1\n? [a]\n: b\n", KZ_EFORMAT, "a map key must be a single value");
    BAD("version: 1\nproducts:\n  windows:\n    categories:\n      a: [{channel: \"x\\0y\"}]\n",
        KZ_EFORMAT, "NUL byte");
    /* nesting: 20 levels of lists */
    BAD("version: 1\ngeneric: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]\n", KZ_ELIMIT,
        "bad.yml:2: YAML nests deeper than 16");
    /* too many targets in one entry */
    {
        char buf[4096];
        size_t off = (size_t)snprintf(buf, sizeof buf,
                                      "version: 1\nproducts:\n  w:\n    categories:\n      a:\n");
        for (int i = 0; i < 17; i++)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "        - {channel: c%d}\n", i);
        BAD(buf, KZ_ELIMIT, "more than 16 targets");
    }
    /* a file over the size limit is refused before parsing */
    {
        size_t n = KZ_LS_MAX_FILE_BYTES + 1;
        char *big = kz_malloc(n + 1);
        REQUIRE(big);
        memset(big, '#', n);
        big[n] = 0;
        struct kz_ls_map *m;
        struct kz_err err = {0};
        CHECK_INT(kz_ls_load(&m, "big.yml", big, n, &err), KZ_ELIMIT);
        CHECK_HAS(err.msg, "big.yml: larger than");
        kz_free(big);
    }
}

/* Every allocation failure on the way through the real mapping is reported and leaks nothing. */
KZ_TEST(ls_load_allocation_failures) {
    const struct kz_ls_map *dm = dflt();
    REQUIRE(dm); /* interns every field name first, so the intern table does not grow below */
    const struct kz_embedded_file *f = kz_embedded_find("data/logsource.yml");
    REQUIRE(f);
    const char *text = f->data;
    size_t len = f->len;
    size_t before = kz_alloc_in_use();
    int ok = 0;
    for (long n = 0; n < 10000 && !ok; n++) {
        struct kz_ls_map *m = NULL;
        struct kz_err err = {0};
        kz_alloc_fail_after(n);
        int rc = kz_ls_load(&m, "data/logsource.yml", text, len, &err);
        kz_alloc_fail_never();
        if (rc == 0) {
            ok = 1;
            CHECK(kz_ls_entry_count(m) == kz_ls_entry_count(dm));
            kz_ls_free(m);
        } else {
            CHECK_MSG(rc == KZ_ENOMEM, "after %ld allocations: %s", n, err.msg);
        }
        CHECK_MSG(kz_alloc_in_use() == before, "leak after %ld allocations", n);
    }
    CHECK(ok);
}

/* ---- the SigmaHQ corpus ---- */

/* What every rule's logsource must resolve to. Windows and Linux logs, proxy and web server
 * access logs and Defender detections (generic `antivirus`) are read; everything else is a log
 * kizuki knowingly does not read. The one Windows exception: file_rename needs an EDR agent's
 * Kernel-File stream that no Windows event log provides. */
static int expect_status(const struct kz_sigma_logsource *ls) {
    const char *p = ls->product, *c = ls->category;
    if (p && !strcasecmp(p, "windows") && c && !strcasecmp(c, "file_rename"))
        return KZ_LS_UNSUPPORTED;
    if (p && (!strcasecmp(p, "windows") || !strcasecmp(p, "linux") || !strcasecmp(p, "fortigate")))
        return KZ_LS_MAPPED;
    if (!p && c &&
        (!strcasecmp(c, "proxy") || !strcasecmp(c, "webserver") || !strcasecmp(c, "antivirus")))
        return KZ_LS_MAPPED;
    return KZ_LS_UNSUPPORTED;
}

KZ_TEST(ls_sigmahq_every_logsource_resolves) {
    const char *shared = kz_test_shared();
    if (!shared) {
        kz_test_skip("../shared/data not present");
        return;
    }
    const struct kz_ls_map *m = dflt();
    REQUIRE(m);
    static const char *const dirs[] = {"rules",
                                       "rules-compliance",
                                       "rules-dfir",
                                       "rules-emerging-threats",
                                       "rules-placeholder",
                                       "rules-threat-hunting"};
    uint32_t counts[3] = {0}, wrong = 0, rules = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/sigma/SigmaHQ/%s", shared, dirs[d]);
        struct kz_sigma_ruleset rs;
        struct kz_err err = {0};
        kz_sigma_ruleset_init(&rs);
        if (kz_sigma_load_path(&rs, path, &err) != 0) {
            kz_sigma_ruleset_free(&rs);
            continue; /* a folder a newer SigmaHQ may not have */
        }
        for (uint32_t i = 0; i < rs.nrules; i++) {
            const struct kz_sigma_rule *r = rs.rules[i];
            const struct kz_sigma_logsource *ls = &r->logsource;
            if (r->kind == KZ_SIGMA_CORRELATION) continue;
            if (!ls->product && !ls->category && !ls->service) continue;
            struct kz_ls_result res;
            kz_ls_resolve(m, ls, &res);
            rules++;
            counts[res.status]++;
            int want = expect_status(ls);
            if (res.status != want) {
                if (++wrong <= 40)
                    printf("  %s: %s/%s/%s -> %s (want %s): %s\n", r->file,
                           ls->product ? ls->product : "-", ls->category ? ls->category : "-",
                           ls->service ? ls->service : "-", kz_ls_status_name(res.status),
                           kz_ls_status_name(want), res.reason);
            }
        }
        kz_sigma_ruleset_free(&rs);
    }
    printf("  logsource: %u rules: %u mapped, %u unsupported, %u unknown\n", rules,
           counts[KZ_LS_MAPPED], counts[KZ_LS_UNSUPPORTED], counts[KZ_LS_UNKNOWN]);
    CHECK(rules > 3000);
    CHECK_INT(counts[KZ_LS_UNKNOWN], 0);
    CHECK_INT(wrong, 0);
}

/* The string value after `"key": "` at or after p, copied into buf; the position after it. */
static const char *json_str(const char *p, const char *key, char *buf, size_t size) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *s = strstr(p, pat);
    if (!s) return NULL;
    s += strlen(pat);
    size_t n = 0;
    for (; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) s++;
        if (n + 1 < size) buf[n++] = *s;
    }
    buf[n] = 0;
    return s;
}

KZ_TEST(ls_sigmahq_regression_samples_resolve) {
    const char *shared = kz_test_shared();
    if (!shared) {
        kz_test_skip("../shared/data not present");
        return;
    }
    const struct kz_ls_map *m = dflt();
    REQUIRE(m);
    char path[4096];
    snprintf(path, sizeof path, "%s/manifests/sigma_regression_tests.json", shared);
    size_t len;
    char *manifest = (char *)kz_test_read_file(path, &len);
    if (!manifest) {
        kz_test_skip("sigma_regression_tests.json not present");
        return;
    }
    manifest[len] = 0;
    uint32_t files = 0, events = 0, bad = 0;
    const char *p = manifest;
    char rule_path[1024], evtx[1024];
    while ((p = json_str(p, "rule_path", rule_path, sizeof rule_path)) &&
           (p = json_str(p, "evtx", evtx, sizeof evtx))) {
        files++;
        /* the rule's logsource */
        struct kz_sigma_ruleset rs;
        struct kz_err err = {0};
        kz_sigma_ruleset_init(&rs);
        snprintf(path, sizeof path, "%s/sigma/SigmaHQ/%s", shared, rule_path);
        const struct kz_sigma_rule *rule = NULL;
        if (kz_sigma_load_path(&rs, path, &err) == 0)
            for (uint32_t i = 0; i < rs.nrules && !rule; i++)
                if (rs.rules[i]->kind == KZ_SIGMA_DETECTION) rule = rs.rules[i];
        if (!rule) {
            CHECK_MSG(0, "%s: no detection rule loaded", rule_path);
            kz_sigma_ruleset_free(&rs);
            continue;
        }
        struct kz_ls_result res;
        kz_ls_resolve(m, &rule->logsource, &res);
        /* the events of the sample, from its JSON rendering beside it */
        size_t n = strlen(evtx);
        if (n > 5 && !strcmp(evtx + n - 5, ".evtx")) evtx[n - 5] = 0;
        snprintf(path, sizeof path, "%s/sigma/SigmaHQ/%s.json", shared, evtx);
        size_t jlen;
        char *json = (char *)kz_test_read_file(path, &jlen);
        if (!json) {
            CHECK_MSG(0, "%s: cannot read", path);
            kz_sigma_ruleset_free(&rs);
            continue;
        }
        json[jlen] = 0;
        uint32_t in_file = 0;
        for (const char *q = json; (q = strstr(q, "\"System\": {")) != NULL; q++) {
            char provider[256] = "", channel[256] = "";
            const char *pn = json_str(q, "Name", provider, sizeof provider);
            const char *ch = json_str(q, "Channel", channel, sizeof channel);
            const char *id = strstr(q, "\"EventID\": ");
            if (!pn || !ch || !id) break;
            id += strlen("\"EventID\": ");
            if (*id == '{') { /* EventID with Qualifiers: {"#attributes": ..., "#text": N} */
                const char *t = strstr(id, "\"#text\": ");
                id = t ? t + strlen("\"#text\": ") : id;
            }
            uint32_t eid = (uint32_t)strtoul(id, NULL, 10);
            int ok = 0;
            for (uint32_t i = 0; i < res.ntargets && !ok; i++)
                ok = kz_ls_target_accepts(res.targets[i], channel, provider, eid);
            in_file++;
            events++;
            if (!ok && ++bad <= 20)
                printf("  %s: event %u on %s (%s) not in %s/%s/%s -> %s %s\n", rule_path, eid,
                       channel, provider, rule->logsource.product ? rule->logsource.product : "-",
                       rule->logsource.category ? rule->logsource.category : "-",
                       rule->logsource.service ? rule->logsource.service : "-",
                       kz_ls_status_name(res.status), res.reason);
        }
        CHECK_MSG(in_file > 0, "%s: no events found", path);
        kz_free(json);
        kz_sigma_ruleset_free(&rs);
    }
    kz_free(manifest);
    printf("  regression samples: %u files, %u events, %u outside their rule's logsource\n", files,
           events, bad);
    CHECK_INT(files, 202);
    CHECK_INT(bad, 0);
}
