/* jsonl.c - JSON lines of Windows events -> events; see jsonl.h.
 *
 * Each line is parsed into the project's DOM (core/json.h, zero-copy strings), its layout is told
 * from the root's members, and one pass over the relevant object sorts members into the System
 * slots (kept aside, emitted afterwards in EVTX order) and event data (emitted as met, so the
 * document order of the event's own fields is kept). Field names go through the decoder's name
 * cache, so the shared intern table's lock is taken only for names never seen by this worker. */
#include "jsonl.h"

#include "../core/intern.h"
#include "../core/timeutil.h"
#include "evtxml.h"

#include <stdio.h>
#include <string.h>

#define FLATTEN_DEPTH 8 /* nested objects below this depth in event data are not kept */

enum sys_slot {
    S_PROVIDER,
    S_GUID,
    S_EID,
    S_VERSION,
    S_LEVEL,
    S_TASK,
    S_OPCODE,
    S_KEYWORDS,
    S_TIME,
    S_RECORD,
    S_PID,
    S_TID,
    S_CHANNEL,
    S_COMPUTER,
    S_USER,
    S_N,
    S_SKIP, /* metadata of the shipper: not an event field */
    S_TS,   /* a time stamp member */
    S_DATA, /* the object holding the event data */
    S_UDATA,
    S_PROCESS, /* winlog.process {pid, thread {id}} */
    S_USEROBJ, /* winlog.user / user {identifier} */
    S_NONE = -1,
};

static const char *const sys_names[S_N] = {
    "Provider_Name",
    "Provider_Guid",
    "EventID",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "TimeCreated_SystemTime",
    "EventRecordID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "Channel",
    "Computer",
    "Security_UserID",
};
static uint32_t sys_ids[S_N];
static int names_ready; /* kz_text_intern_names */

struct key {
    const char *name;
    int slot;
};

/* winlog.* of Winlogbeat 7/8 */
static const struct key ecs_keys[] = {
    {"provider_name", S_PROVIDER}, {"provider_guid", S_GUID}, {"event_id", S_EID},
    {"version", S_VERSION},        {"task", S_TASK},          {"opcode", S_OPCODE},
    {"keywords", S_KEYWORDS},      {"record_id", S_RECORD},   {"channel", S_CHANNEL},
    {"computer_name", S_COMPUTER}, {"process", S_PROCESS},    {"user", S_USEROBJ},
    {"event_data", S_DATA},        {"user_data", S_UDATA},    {NULL, 0},
};
/* the top level of Winlogbeat 6 */
static const struct key wlb6_keys[] = {
    {"source_name", S_PROVIDER},
    {"provider_guid", S_GUID},
    {"event_id", S_EID},
    {"version", S_VERSION},
    {"task", S_TASK},
    {"opcode", S_OPCODE},
    {"keywords", S_KEYWORDS},
    {"record_number", S_RECORD},
    {"process_id", S_PID},
    {"thread_id", S_TID},
    {"log_name", S_CHANNEL},
    {"computer_name", S_COMPUTER},
    {"user", S_USEROBJ},
    {"event_data", S_DATA},
    {"user_data", S_UDATA},
    {"@timestamp", S_TS},
    {NULL, 0},
};
/* NXLog / HELK flat: System fields and shipper metadata; every other member is event data */
static const struct key flat_keys[] = {
    {"SourceName", S_PROVIDER},
    {"ProviderGuid", S_GUID},
    {"EventID", S_EID},
    {"Version", S_VERSION},
    {"Task", S_TASK},
    {"OpcodeValue", S_OPCODE},
    {"Keywords", S_KEYWORDS},
    {"RecordNumber", S_RECORD},
    {"ExecutionProcessID", S_PID},
    {"ExecutionThreadID", S_TID},
    {"Channel", S_CHANNEL},
    {"Hostname", S_COMPUTER},
    {"UserID", S_USER},
    {"@timestamp", S_TS},
    {"TimeCreated", S_TS},
    {"EventTime", S_TS},
    {"Message", S_SKIP},
    {"EventReceivedTime", S_SKIP},
    {"SourceModuleName", S_SKIP},
    {"SourceModuleType", S_SKIP},
    {"EventType", S_SKIP},
    {"Severity", S_SKIP},
    {"SeverityValue", S_SKIP},
    {"Category", S_SKIP},
    {"Opcode", S_SKIP},
    {"@version", S_SKIP},
    {"host", S_SKIP},
    {"port", S_SKIP},
    {"tags", S_SKIP},
    {"beat", S_SKIP},
    {"type", S_SKIP},
    {NULL, 0},
};
/* Event.System of evtx_dump-style JSON */
static const struct key evtx_keys[] = {
    {"Provider", S_PROVIDER},
    {"EventID", S_EID},
    {"Version", S_VERSION},
    {"Level", S_LEVEL},
    {"Task", S_TASK},
    {"Opcode", S_OPCODE},
    {"Keywords", S_KEYWORDS},
    {"TimeCreated", S_TIME},
    {"EventRecordID", S_RECORD},
    {"Execution", S_PID},
    {"Channel", S_CHANNEL},
    {"Computer", S_COMPUTER},
    {"Security", S_USER},
    {NULL, 0},
};
/* Azure Monitor Log Analytics tables of Windows events, as exported (the portal's export, `az
 * monitor log-analytics query`, Sentinel's data export): SecurityEvent (EventSourceName, Level,
 * EventData an XML string), Event (Source, EventLog, EventLevel, EventCategory, EventData an XML
 * string inside <DataItem>) and WindowsEvent (Provider, EventData an object, SystemProcessId ...).
 * Columns the workspace adds (TenantId, SourceSystem, MG, Type, _ResourceId ...) and text rendered
 * from the event (Activity, Account, RenderedDescription, EventLevelName) are not event fields. */
static const struct key azure_keys[] = {
    {"EventSourceName", S_PROVIDER},
    {"Source", S_PROVIDER},
    {"Provider", S_PROVIDER},
    {"EventID", S_EID},
    {"Version", S_VERSION},
    /* SecurityEvent's Level and Event's EventLevel are the legacy entry type (8 audit success,
     * 16 audit failure; 1 error, 2 warning, 4 information), not the EVTX Level, and Event's
     * EventCategory is the legacy category: none is given as an EVTX field */
    {"Level", S_SKIP},
    {"EventLevel", S_SKIP},
    {"EventCategory", S_SKIP},
    {"Task", S_TASK},
    {"Opcode", S_OPCODE},
    {"Keywords", S_KEYWORDS},
    {"EventRecordId", S_RECORD},
    {"SystemProcessId", S_PID},
    {"SystemThreadId", S_TID},
    {"Channel", S_CHANNEL},
    {"EventLog", S_CHANNEL},
    {"Computer", S_COMPUTER},
    {"SystemUserId", S_USER},
    {"TimeGenerated", S_TS},
    {"EventData", S_DATA},
    {"TenantId", S_SKIP},
    {"SourceSystem", S_SKIP},
    {"MG", S_SKIP},
    {"ManagementGroupName", S_SKIP},
    {"Type", S_SKIP},
    {"TableName", S_SKIP},
    {"Account", S_SKIP},
    {"AccountType", S_SKIP},
    {"Activity", S_SKIP},
    {"EventOriginId", S_SKIP},
    {"EventLevelName", S_SKIP},
    {"RenderedDescription", S_SKIP},
    {"ParameterXml", S_SKIP},
    {"Message", S_SKIP},
    {"UserName", S_SKIP},
    {"AzureDeploymentID", S_SKIP},
    {"Role", S_SKIP},
    {"RawEventData", S_SKIP},
    {"Correlation", S_SKIP},
    {"SourceComputerId", S_SKIP},
    {NULL, 0},
};
/* time stamps and host names of other JSON */
static const struct key generic_keys[] = {
    {"@timestamp", S_TS},     {"TimeGenerated", S_TS},  {"timestamp", S_TS}, {"EventTime", S_TS},
    {"Computer", S_COMPUTER}, {"Hostname", S_COMPUTER}, {NULL, 0},
};

static int lookup(const struct key *t, const struct kz_json_node *k) {
    for (; t->name; t++)
        if (k->len == strlen(t->name) && !memcmp(k->u.str, t->name, k->len)) return t->slot;
    return S_NONE;
}

static int key_is(const struct kz_json_node *k, const char *s) {
    return k->len == strlen(s) && !memcmp(k->u.str, s, k->len);
}

/* ---- values to fields ---- */

static int digits_only(const char *s, size_t n) {
    if (!n || n > 19) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* A JSON string may hold NUL (written \u0000), but event values are C text that every consumer
 * reads up to its length and its NUL alike: each NUL becomes U+FFFD, so nothing after it is hidden
 * from the rules (an attacker could otherwise end "cmd.exe\u0000 -enc ..." early for some readers).
 * Returns the copy in the line's arena, or NULL when out of space. */
static const char *without_nul(struct kz_text_decoder *d, const char *s, size_t n, size_t *out_n) {
    size_t nul = 0;
    for (size_t i = 0; i < n; i++)
        nul += s[i] == 0;
    char *t = kz_arena_alloc(&d->arena, n + 2 * nul + 1);
    if (!t) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i]) {
            t[o++] = s[i];
        } else {
            memcpy(t + o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
    }
    t[o] = 0;
    *out_n = o;
    return t;
}

/* A scalar as a field; numbers given as strings count as numbers when `numeric`. */
static struct kz_field *scalar(struct kz_text_decoder *d, uint32_t name, uint8_t section,
                               const struct kz_json_node *v, int numeric) {
    switch (v->type) {
    case KZ_JSON_STRING: {
        uint8_t kind = numeric && digits_only(v->u.str, v->len) ? KZ_VK_INT : KZ_VK_STRING;
        if (v->flags & KZ_JSON_F_COPIED) {
            const char *s = v->u.str;
            size_t n = v->len;
            /* only unescaped strings can hold NUL: raw control bytes are rejected by the parser */
            if (memchr(s, 0, n) && !(s = without_nul(d, s, n, &n))) return NULL;
            return kz_text_field_ref(d, name, section, kind, s, n);
        }
        return kz_text_field(d, name, section, kind, v->u.str, v->len);
    }
    case KZ_JSON_NUMBER:
        return kz_text_field(d, name, section,
                             (v->flags & KZ_JSON_F_INTEGER) ? KZ_VK_INT : KZ_VK_REAL, v->u.str,
                             v->len);
    case KZ_JSON_TRUE:
        return kz_text_field_ref(d, name, section, KZ_VK_BOOL, "true", 4);
    case KZ_JSON_FALSE:
        return kz_text_field_ref(d, name, section, KZ_VK_BOOL, "false", 5);
    default:
        return NULL;
    }
}

/* Any value under name (prefix[0..plen)): scalars as one field, arrays as one field per element
 * (repeated names are how the event model keeps lists), objects flattened to prefix.key. */
static void value(struct kz_text_decoder *d, char *prefix, size_t plen, uint8_t section,
                  const struct kz_json_node *v, int depth) {
    if (v->type < KZ_JSON_ARRAY) {
        scalar(d, kz_text_name(d, prefix, plen), section, v, 0);
        return;
    }
    if (depth >= FLATTEN_DEPTH) return;
    if (v->type == KZ_JSON_ARRAY) {
        for (const struct kz_json_node *e = kz_json_first(v); e && e < v + v->u.span;
             e = kz_json_next(e))
            value(d, prefix, plen, section, e, depth + 1);
        return;
    }
    for (const struct kz_json_node *k = kz_json_first(v); k && k < v + v->u.span;) {
        const struct kz_json_node *val = k + 1;
        size_t n = plen;
        /* evtx_dump's "#attributes" and "#text" add nothing to the name */
        if (!(k->len && k->u.str[0] == '#')) {
            if (n && n < KZ_INTERN_MAX_LEN) prefix[n++] = '.';
            size_t take = k->len < KZ_INTERN_MAX_LEN - n ? k->len : KZ_INTERN_MAX_LEN - n;
            memcpy(prefix + n, k->u.str, take);
            n += take;
        }
        if (n) value(d, prefix, n, section, val, depth + 1);
        k = kz_json_next(val);
    }
}

/* One member `k: v` as a field of `section` named k (cut to the intern limit): a scalar as it is,
 * an object or array flattened under k's name. */
static void member(struct kz_text_decoder *d, uint8_t section, const struct kz_json_node *k,
                   const struct kz_json_node *v) {
    char name[KZ_INTERN_MAX_LEN + 1];
    size_t n = k->len < KZ_INTERN_MAX_LEN ? k->len : KZ_INTERN_MAX_LEN;
    memcpy(name, k->u.str, n);
    if (v->type < KZ_JSON_ARRAY)
        scalar(d, kz_text_name(d, name, n), section, v, 0);
    else
        value(d, name, n, section, v, 1);
}

/* The members of an event-data object, each under its own name. */
static void data_object(struct kz_text_decoder *d, uint8_t section, const struct kz_json_node *o) {
    if (!o || o->type != KZ_JSON_OBJECT) return;
    for (const struct kz_json_node *k = kz_json_first(o); k && k < o + o->u.span;) {
        const struct kz_json_node *v = k + 1;
        if (!(k->len && k->u.str[0] == '#')) /* #attributes of the element itself */
            member(d, section, k, v);
        k = kz_json_next(v);
    }
}

/* The scalar inside evtx_dump's wrappers: {"#text": x}, {"#attributes": {"Name": x}}. */
static const struct kz_json_node *unwrap(const struct kz_json_node *v, const char *attr) {
    if (v && v->type == KZ_JSON_OBJECT) {
        const struct kz_json_node *a = kz_json_get(v, "#attributes");
        if (attr && a) return kz_json_get(a, attr);
        return kz_json_get(v, "#text");
    }
    return v;
}

/* ---- System fields ---- */

struct sys {
    const struct kz_json_node *v[S_N];
    const struct kz_json_node *ts; /* a time stamp, when the layout has no TimeCreated */
};

static void emit_system(struct kz_text_decoder *d, struct sys *s) {
    struct kz_event *ev = &d->event;
    const struct kz_json_node *t = s->v[S_TIME] ? s->v[S_TIME] : s->ts;
    if (t && t->type == KZ_JSON_STRING) {
        kz_time ts;
        if (!kz_time_parse(t->u.str, t->len, &ts))
            ev->ts = ts;
        else
            t = NULL;
    } else {
        t = NULL;
    }
    for (int k = 0; k < S_N; k++) {
        struct kz_field *f = NULL;
        if (k == S_TIME) {
            if (!t) continue;
            char *txt = kz_arena_alloc(&d->arena, KZ_TIME_TEXT_MAX);
            if (txt)
                f = kz_text_field_ref(d, sys_ids[k], KZ_SEC_SYSTEM, KZ_VK_OTHER, txt,
                                      kz_time_format(ev->ts, 7, txt));
            continue;
        }
        const struct kz_json_node *v = s->v[k];
        if (!v || v->type >= KZ_JSON_ARRAY) {
            /* keywords may be a list of names (Winlogbeat): one field each */
            if (v && v->type == KZ_JSON_ARRAY)
                for (const struct kz_json_node *e = kz_json_first(v); e && e < v + v->u.span;
                     e = kz_json_next(e))
                    if (e->type < KZ_JSON_ARRAY) scalar(d, sys_ids[k], KZ_SEC_SYSTEM, e, 0);
            continue;
        }
        int numeric = k == S_EID || k == S_VERSION || k == S_LEVEL || k == S_TASK ||
                      k == S_OPCODE || k == S_RECORD || k == S_PID || k == S_TID;
        f = scalar(d, sys_ids[k], KZ_SEC_SYSTEM, v, numeric);
        if (!f) continue;
        if (k == S_GUID || k == S_USER || k == S_KEYWORDS) f->kind = KZ_VK_OTHER;
        switch (k) {
        case S_PROVIDER:
            ev->provider = f->val;
            break;
        case S_CHANNEL:
            ev->channel = f->val;
            break;
        case S_COMPUTER:
            ev->host = f->val;
            break;
        case S_EID:
            if (digits_only(f->val, f->len)) {
                uint64_t id = 0;
                for (uint32_t i = 0; i < f->len; i++)
                    id = id * 10 + (uint64_t)(f->val[i] - '0');
                if (id <= UINT32_MAX) ev->event_id = (uint32_t)id;
            }
            break;
        }
    }
}

/* Members of obj sorted by table: System slots into s, event data emitted (flat layout only). */
static void members(struct kz_text_decoder *d, const struct key *table,
                    const struct kz_json_node *obj, struct sys *s, const struct kz_json_node **data,
                    const struct kz_json_node **udata, int rest_is_data) {
    for (const struct kz_json_node *k = kz_json_first(obj); k && k < obj + obj->u.span;) {
        const struct kz_json_node *v = k + 1;
        int slot = lookup(table, k);
        if (slot >= 0 && slot < S_N) {
            s->v[slot] = v;
        } else if (slot == S_TS) {
            if (!s->ts) s->ts = v;
        } else if (slot == S_DATA) {
            *data = v;
        } else if (slot == S_UDATA) {
            *udata = v;
        } else if (slot == S_PROCESS && v->type == KZ_JSON_OBJECT) {
            s->v[S_PID] = kz_json_get(v, "pid");
            s->v[S_TID] = kz_json_get(kz_json_get(v, "thread"), "id");
        } else if (slot == S_USEROBJ && v->type == KZ_JSON_OBJECT) {
            s->v[S_USER] = kz_json_get(v, "identifier");
        } else if (slot == S_NONE && rest_is_data) {
            member(d, KZ_SEC_EVENTDATA, k, v);
        }
        k = kz_json_next(v);
    }
}

/* ---- ECS fields Winlogbeat moves out of event_data ---- */

/* Winlogbeat's Sysmon module copies event data into ECS fields and may ship the event without
 * them in winlog.event_data (the ECS fixture of ../shared/data/ecs does). These are put back
 * under their Sysmon names when event_data lacks them. */
static const struct {
    const char *path, *name;
} ecs_sysmon[] = {
    {"process.executable", "Image"},
    {"process.command_line", "CommandLine"},
    {"process.entity_id", "ProcessGuid"},
    {"process.pid", "ProcessId"},
    {"process.working_directory", "CurrentDirectory"},
    {"process.parent.executable", "ParentImage"},
    {"process.parent.command_line", "ParentCommandLine"},
    {"process.parent.entity_id", "ParentProcessGuid"},
    {"process.parent.pid", "ParentProcessId"},
    {"file.path", "TargetFilename"},
    {"registry.path", "TargetObject"},
    {"source.ip", "SourceIp"},
    {"source.port", "SourcePort"},
    {"destination.ip", "DestinationIp"},
    {"destination.port", "DestinationPort"},
    {"destination.domain", "DestinationHostname"},
    {"dns.question.name", "QueryName"},
};

static const struct kz_json_node *get_path(const struct kz_json_node *o, const char *path) {
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        o = kz_json_getn(o, path, n);
        path += n + (dot != NULL);
    }
    return o;
}

static void ecs_restore(struct kz_text_decoder *d, const struct kz_json_node *root) {
    for (size_t i = 0; i < sizeof ecs_sysmon / sizeof *ecs_sysmon; i++) {
        uint32_t id = kz_text_name(d, ecs_sysmon[i].name, strlen(ecs_sysmon[i].name));
        int have = 0;
        for (uint32_t k = 0; k < d->nfields && !have; k++)
            have = d->fields[k].name == id;
        if (have) continue;
        const struct kz_json_node *v = get_path(root, ecs_sysmon[i].path);
        if (v && v->type < KZ_JSON_ARRAY) scalar(d, id, KZ_SEC_EVENTDATA, v, 0);
    }
}

/* ---- Azure Log Analytics ---- */

/* System columns first, then the event data: from EventData (an XML string, or an object), else
 * (an export that projected columns, or lost EventData) every column no table names, which in
 * SecurityEvent are the event data fields Azure copied out (TargetUserName, LogonType ...). */
static int azure(struct kz_text_decoder *d, const struct kz_json_node *root, struct sys *s) {
    const struct kz_json_node *data = NULL, *udata = NULL;
    members(d, azure_keys, root, s, &data, &udata, 0);
    emit_system(d, s);
    if (data && data->type == KZ_JSON_STRING && data->len && data->u.str[0] == '<') {
        if (kz_evtxml_event_data(d, data->u.str, data->len)) return -1;
    } else if (data && data->type == KZ_JSON_OBJECT) {
        data_object(d, KZ_SEC_EVENTDATA, data);
    } else {
        for (const struct kz_json_node *k = kz_json_first(root); k && k < root + root->u.span;) {
            const struct kz_json_node *v = k + 1;
            /* _ResourceId, _BilledSize ...: the workspace's own columns */
            /* SecurityEvent exports carry every column, empty ("" or null) where the event
             * has no such field: those are no fields of the event */
            if (lookup(azure_keys, k) == S_NONE && k->len && k->u.str[0] != '_' &&
                v->type != KZ_JSON_NULL && !(v->type == KZ_JSON_STRING && !v->len))
                member(d, KZ_SEC_EVENTDATA, k, v);
            k = kz_json_next(v);
        }
    }
    return 0;
}

/* ---- layouts ---- */

int kz_jsonl_sniff(const char *line, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= n || line[i] != '{') return 0;
    i++;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < n && (line[i] == '"' || line[i] == '}');
}

int kz_jsonl_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    kz_text_intern_names(sys_names, sys_ids, S_N, &names_ready);
    struct kz_json_doc doc;
    struct kz_json_error err;
    if (kz_json_parser_parse(&d->json, line, n, &d->arena, &doc, &err)) {
        char msg[KZ_JSON_ERR_MSG_MAX + 48];
        int k = snprintf(msg, sizeof msg, "invalid JSON at column %u: %s", err.column, err.msg);
        d->why = kz_arena_strndup(&d->arena, msg, k > 0 ? (size_t)k : 0);
        if (!d->why) d->why = "invalid JSON";
        return err.code ? err.code : KZ_EFORMAT;
    }
    const struct kz_json_node *root = kz_json_root(&doc);
    if (!root || root->type != KZ_JSON_OBJECT) {
        d->why = "a JSON line that is not an object";
        return KZ_EFORMAT;
    }
    /* The layout, from the root's members. */
    const struct kz_json_node *winlog = NULL, *event = NULL, *ecs_event = NULL, *host = NULL;
    int has_EventID = 0, has_event_id = 0, has_TimeGenerated = 0;
    for (const struct kz_json_node *k = kz_json_first(root); k && k < root + root->u.span;) {
        const struct kz_json_node *v = k + 1;
        if (v->type == KZ_JSON_OBJECT) {
            if (key_is(k, "winlog"))
                winlog = v;
            else if (key_is(k, "Event"))
                event = v;
            else if (key_is(k, "event"))
                ecs_event = v;
            else if (key_is(k, "host"))
                host = v;
        } else if (key_is(k, "EventID")) {
            has_EventID = 1;
        } else if (key_is(k, "event_id")) {
            has_event_id = 1;
        } else if (key_is(k, "TimeGenerated")) {
            has_TimeGenerated = 1;
        }
        k = kz_json_next(v);
    }
    struct sys s;
    memset(&s, 0, sizeof s);
    const struct kz_json_node *data = NULL, *udata = NULL;
    if (winlog) { /* Winlogbeat 7/8 (ECS) */
        members(d, ecs_keys, winlog, &s, &data, &udata, 0);
        s.ts = kz_json_get(root, "@timestamp");
        if (!s.v[S_EID] && ecs_event) s.v[S_EID] = kz_json_get(ecs_event, "code");
        if (!s.v[S_PROVIDER] && ecs_event) s.v[S_PROVIDER] = kz_json_get(ecs_event, "provider");
        if (!s.v[S_COMPUTER] && host) s.v[S_COMPUTER] = kz_json_get(host, "name");
        emit_system(d, &s);
        data_object(d, KZ_SEC_EVENTDATA, data);
        data_object(d, KZ_SEC_USERDATA, udata);
        if (d->event.provider && !strcmp(d->event.provider, "Microsoft-Windows-Sysmon"))
            ecs_restore(d, root);
    } else if (event && kz_json_get(event, "System")) { /* evtx_dump JSON */
        const struct kz_json_node *sysobj = kz_json_get(event, "System");
        if (sysobj->type == KZ_JSON_OBJECT) members(d, evtx_keys, sysobj, &s, &data, &udata, 0);
        const struct kz_json_node *prov = s.v[S_PROVIDER], *exec = s.v[S_PID];
        s.v[S_PROVIDER] = unwrap(prov, "Name");
        s.v[S_GUID] = unwrap(prov, "Guid");
        s.v[S_EID] = unwrap(s.v[S_EID], NULL);
        s.v[S_TIME] = unwrap(s.v[S_TIME], "SystemTime");
        s.v[S_PID] = unwrap(exec, "ProcessID");
        s.v[S_TID] = unwrap(exec, "ThreadID");
        s.v[S_USER] = unwrap(s.v[S_USER], "UserID");
        emit_system(d, &s);
        data_object(d, KZ_SEC_EVENTDATA, kz_json_get(event, "EventData"));
        data_object(d, KZ_SEC_USERDATA, kz_json_get(event, "UserData"));
    } else if (has_EventID && has_TimeGenerated) { /* Azure Log Analytics */
        if (azure(d, root, &s)) return KZ_EFORMAT;
    } else if (has_EventID) { /* NXLog / HELK flat */
        /* event data first pass: System slots are found on the way and emitted first */
        uint32_t mark = d->nfields;
        members(d, flat_keys, root, &s, &data, &udata, 1);
        /* System fields go before the data: rotate them to the front. */
        uint32_t ndata = d->nfields - mark;
        emit_system(d, &s);
        uint32_t nsys = d->nfields - mark - ndata;
        if (ndata && nsys) {
            struct kz_field tmp[S_N + 16];
            if (nsys <= sizeof tmp / sizeof *tmp) {
                memcpy(tmp, d->fields + mark + ndata, nsys * sizeof *tmp);
                memmove(d->fields + mark + nsys, d->fields + mark, ndata * sizeof *tmp);
                memcpy(d->fields + mark, tmp, nsys * sizeof *tmp);
            }
        }
    } else if (has_event_id) { /* Winlogbeat 6 */
        members(d, wlb6_keys, root, &s, &data, &udata, 0);
        emit_system(d, &s);
        data_object(d, KZ_SEC_EVENTDATA, data);
        data_object(d, KZ_SEC_USERDATA, udata);
    } else { /* some other JSON: keep everything */
        members(d, generic_keys, root, &s, &data, &udata, 0);
        const struct kz_json_node *computer = s.v[S_COMPUTER];
        memset(s.v, 0, sizeof s.v);
        s.v[S_COMPUTER] = computer && computer->type == KZ_JSON_STRING ? computer : NULL;
        emit_system(d, &s);
        data_object(d, KZ_SEC_EVENTDATA, root);
    }
    d->event.fields = d->fields; /* normalise reads the fields through the event */
    d->event.nfields = d->nfields;
    kz_event_normalise(&d->event);
    return 0;
}

/* ---- JSON arrays ---- */

void kz_jsonl_array_filter(struct kz_jsonl_array *st, char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (st->in_string) {
            if (st->escape)
                st->escape = 0;
            else if (c == '\\')
                st->escape = 1;
            else if (c == '"')
                st->in_string = 0;
            continue;
        }
        switch (c) {
        case '"':
            st->in_string = 1;
            break;
        case '[':
        case '{':
            if (st->depth == 0) {
                st->top_array = c == '[';
                if (c == '[') p[i] = ' '; /* the array's own bracket */
            }
            if (st->depth < UINT32_MAX) st->depth++;
            break;
        case ']':
        case '}':
            if (st->depth == 0) break; /* unbalanced: left for the JSON parser to reject */
            if (--st->depth == 0 && st->top_array) {
                /* the array's end, after its last element (a '}' here is a mismatched bracket,
                 * left for the JSON parser to reject) */
                if (c == ']') p[i] = '\n';
                st->top_array = 0;
            }
            break;
        case ',':
            if (st->depth == 1 && st->top_array) p[i] = '\n'; /* between two elements */
            break;
        case '\n':
        case '\r':
            if (st->depth > 0) p[i] = ' '; /* inside an element (pretty-printed) */
            break;
        default:
            break;
        }
    }
}

int kz_jsonl_array_sniff(const char *p, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) i = 3;
#define BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
    while (i < n && BLANK(p[i]))
        i++;
    if (i >= n || p[i] != '[') return 0;
    i++;
    while (i < n && BLANK(p[i]))
        i++;
    if (i < n && p[i] == ']') return 1;
    if (i >= n || p[i] != '{') return 0;
    i++;
    while (i < n && BLANK(p[i]))
        i++;
#undef BLANK
    return i < n && (p[i] == '"' || p[i] == '}');
}
