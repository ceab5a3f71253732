/* event.c - event model helpers; see event.h. */
#include "event.h"

#include "intern.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *kz_event_format_name(uint8_t format) {
    static const char *const names[] = {"unknown",   "evtx", "jsonl",  "accesslog",
                                        "fortigate", "w3c",  "squid", "evtxml",
                                        "syslog",    "auditd"};
    return format < sizeof names / sizeof *names ? names[format] : "unknown";
}

void kz_event_reset(struct kz_event *ev) {
    struct kz_field *f = ev->fields;
    uint32_t n = ev->nfields;
    memset(ev, 0, sizeof *ev);
    ev->fields = f;
    ev->nfields = n;
    ev->ent.logon_type = -1;
    ev->ent.bytes = -1;
    ev->ent.outcome = -1;
}

const struct kz_field *kz_event_field(const struct kz_event *ev, uint32_t name_id) {
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (ev->fields[i].name == name_id) return &ev->fields[i];
    return NULL;
}

/* ---- normalisation: raw Windows field -> entity slot ---- */

enum slot {
    S_USER,
    S_DOMAIN,
    S_SID,
    S_LOGON_TYPE,
    S_SRC_IP,
    S_SRC_HOST,
    S_TARGET_HOST,
    S_PROCESS,
    S_COMMAND_LINE,
    S_PARENT,
    S_FILE,
    S_SHARE,
    S_BYTES,
};

/* In order of preference: an earlier name wins over a later one for the same slot. "Target" names
 * come before "Subject" names because for logons the target is the account that logged on. */
static const struct {
    const char *name;
    enum slot slot;
} slot_names[] = {
    {"TargetUserName", S_USER},
    {"User", S_USER},
    {"SubjectUserName", S_USER},
    {"AccountName", S_USER},
    {"TargetDomainName", S_DOMAIN},
    {"SubjectDomainName", S_DOMAIN},
    {"TargetUserSid", S_SID},
    {"SubjectUserSid", S_SID},
    {"LogonType", S_LOGON_TYPE},
    {"IpAddress", S_SRC_IP},
    {"SourceAddress", S_SRC_IP},
    {"SourceIp", S_SRC_IP},
    {"ClientAddress", S_SRC_IP},
    {"WorkstationName", S_SRC_HOST},
    {"Workstation", S_SRC_HOST},
    {"SourceHostname", S_SRC_HOST},
    {"TargetServerName", S_TARGET_HOST},
    {"DestinationHostname", S_TARGET_HOST},
    {"Image", S_PROCESS},
    {"NewProcessName", S_PROCESS},
    {"ProcessName", S_PROCESS},
    {"CommandLine", S_COMMAND_LINE},
    {"ParentImage", S_PARENT},
    {"ParentProcessName", S_PARENT},
    {"TargetFilename", S_FILE},
    {"RelativeTargetName", S_FILE},
    {"ObjectName", S_FILE},
    {"ShareName", S_SHARE},
    {"BytesTransferred", S_BYTES},
};
#define NSLOT_NAMES (sizeof slot_names / sizeof *slot_names)

static pthread_once_t ids_once = PTHREAD_ONCE_INIT;
/* Field name id -> 1 + index into slot_names, 0 for names that fill no slot. Indexed directly, so
 * that each field costs one load; the names are interned early, so their ids are small. */
#define RANK_IDS 4096
static uint8_t rank_of[RANK_IDS];
static uint32_t slot_ids[NSLOT_NAMES]; /* for ids >= RANK_IDS, if interning came late */

static void resolve_ids(void) {
    for (size_t i = 0; i < NSLOT_NAMES; i++) {
        uint32_t id = kz_intern(slot_names[i].name, strlen(slot_names[i].name));
        slot_ids[i] = id;
        if (id < RANK_IDS) rank_of[id] = (uint8_t)(i + 1);
    }
}

static int rank(uint32_t name) {
    if (name < RANK_IDS) return (int)rank_of[name] - 1;
    for (size_t k = 0; k < NSLOT_NAMES; k++)
        if (slot_ids[k] == name) return (int)k;
    return -1;
}

static int usable(const struct kz_field *f) {
    /* Windows writes "-" for "no value". */
    return f->len > 0 && !(f->len == 1 && f->val[0] == '-');
}

void kz_event_normalise(struct kz_event *ev) {
    pthread_once(&ids_once, resolve_ids);
    int best[S_BYTES + 1];
    const char *val[S_BYTES + 1];
    for (int s = 0; s <= S_BYTES; s++)
        best[s] = (int)NSLOT_NAMES, val[s] = NULL;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct kz_field *f = &ev->fields[i];
        if (f->section == KZ_SEC_SYSTEM) continue;
        int k = rank(f->name);
        if (k < 0 || !usable(f)) continue;
        enum slot s = slot_names[k].slot;
        if (k < best[s]) best[s] = k, val[s] = f->val;
    }
    struct kz_entities *e = &ev->ent;
    e->user = val[S_USER];
    e->domain = val[S_DOMAIN];
    e->sid = val[S_SID];
    e->logon_type = val[S_LOGON_TYPE] ? (int)strtol(val[S_LOGON_TYPE], NULL, 10) : -1;
    e->src_ip = val[S_SRC_IP];
    e->src_host = val[S_SRC_HOST];
    e->target_host = val[S_TARGET_HOST] ? val[S_TARGET_HOST] : ev->host;
    e->process = val[S_PROCESS];
    e->command_line = val[S_COMMAND_LINE];
    e->parent_process = val[S_PARENT];
    e->file_path = val[S_FILE];
    e->share = val[S_SHARE];
    e->bytes = val[S_BYTES] ? strtoll(val[S_BYTES], NULL, 10) : -1;
}
