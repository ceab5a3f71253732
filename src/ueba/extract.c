/* extract.c - normalised event -> UEBA activity record, and the record's wire form.
 *
 * Why a separate step: UEBA needs a tenth of what an event carries (who, where, from where, what),
 * and the records are kept until the whole input is read and ordered by time, so they must be
 * small. Extraction runs on the decoding threads; the packed form carries a record to the main
 * thread inside the chunk's output buffer (cmd_scan.c). Everything here only reads the event. */
#include "ueba.h"

#include "../core/error.h"
#include "../core/intern.h"
#include "../sigma/rule.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- raw fields UEBA reads beyond the normalised slots ---- */

enum {
    F_STATUS,
    F_ACCESS_MASK,
    F_SERVICE_NAME,
    F_SUBJECT_USER,
    F_TARGET_USER,
    F_OBJECT_NAME,
    F_WORKSTATION_NAME,
    F_WORKSTATION,
    F_TARGET_SERVER,
    F_OPERATION, /* Samba vfs_full_audit (src/input/samba_audit.h) */
    F_ACCESS,
    F_MEMBER_NAME,
    F_MEMBER_SID,
    F_TARGET_SID,
    F_SUBJECT_DOMAIN,
    NFIELDS
};
static const char *const field_names[NFIELDS] = {
    "Status",     "AccessMask",      "ServiceName", "SubjectUserName",  "TargetUserName",
    "ObjectName", "WorkstationName", "Workstation", "TargetServerName", "operation",
    "access",     "MemberName",      "MemberSid",   "TargetSid",        "SubjectDomainName",
};
static uint32_t field_id[NFIELDS];
static pthread_once_t ids_once = PTHREAD_ONCE_INIT;

static void resolve_ids(void) {
    for (int i = 0; i < NFIELDS; i++)
        field_id[i] = kz_intern(field_names[i], strlen(field_names[i]));
}

static const char *field(const struct kz_event *ev, int f) {
    const struct kz_field *x = kz_event_field(ev, field_id[f]);
    if (!x || x->len == 0 || (x->len == 1 && x->val[0] == '-')) return NULL;
    return x->val;
}

/* ---- helpers ---- */

static int ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return 0;
    }
    return *a == *b;
}

/* The account part of "DOMAIN\name" (the "name@domain" form is cut by the engine). */
static const char *bare_user(const char *u) {
    if (!u) return NULL;
    const char *s = strrchr(u, '\\');
    return s ? s + 1 : u;
}

/* Accounts that are the machine itself, not a person or a service someone can log on with. */
static int is_system_account(const char *u) {
    if (!u || !*u) return 1;
    size_t n = strlen(u);
    if (u[n - 1] == '$') return 1; /* computer accounts */
    static const char *const sys[] = {"SYSTEM",          "LOCAL SERVICE", "NETWORK SERVICE",
                                      "ANONYMOUS LOGON", "LocalSystem",   "-"};
    for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
        if (ieq(u, sys[i])) return 1;
    /* Desktop Window Manager and font driver sessions: DWM-1, UMFD-0 ... */
    if ((!strncmp(u, "DWM-", 4) || !strncmp(u, "UMFD-", 5))) return 1;
    return 0;
}

static const char *useful_sid(const char *s) {
    if (!s) return NULL;
    /* NULL SID, SYSTEM, LOCAL SERVICE, NETWORK SERVICE say nothing about a person. */
    if (!strcmp(s, "S-1-0-0") || !strcmp(s, "S-1-5-18") || !strcmp(s, "S-1-5-19") ||
        !strcmp(s, "S-1-5-20"))
        return NULL;
    return s;
}

/* An address worth learning: no loopback, no "none"; the IPv4-mapped prefix dropped. */
static const char *useful_ip(const char *ip) {
    if (!ip || !*ip || !strcmp(ip, "-")) return NULL;
    if (!strncmp(ip, "::ffff:", 7)) ip += 7;
    if (!strcmp(ip, "127.0.0.1") || !strcmp(ip, "::1") || !strcmp(ip, "0.0.0.0")) return NULL;
    return ip;
}

/* Windows writes status codes as "0x0" (or "0x00000000") for success. */
static int status_ok(const char *s) {
    if (!s) return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
    for (; *s; s++)
        if (*s != '0') return 0;
    return 1;
}

static uint8_t access_of(const char *mask) {
    if (!mask) return KZ_UEBA_READ;
    unsigned long m = strtoul(mask, NULL, 0);
    uint8_t a = 0;
    if (m & 0x1) a |= KZ_UEBA_READ;       /* ReadData / ListDirectory */
    if (m & 0x6) a |= KZ_UEBA_WRITE;      /* WriteData, AppendData */
    if (m & 0x10000) a |= KZ_UEBA_DELETE; /* DELETE */
    return a ? a : KZ_UEBA_READ;          /* attribute reads count as reads */
}

static int channel_is(const struct kz_event *ev, const char *name) {
    return ev->channel && ieq(ev->channel, name);
}

/* What a Samba vfs_full_audit operation did to the file, as 5145's access mask would say. */
static uint8_t samba_access(const char *op, const char *access) {
    if (!op) return KZ_UEBA_READ;
    if (!strncmp(op, "unlink", 6) || !strncmp(op, "rmdir", 5)) return KZ_UEBA_DELETE;
    if (!strncmp(op, "open", 4)) return access && access[0] == 'w' ? KZ_UEBA_WRITE : KZ_UEBA_READ;
    if (strstr(op, "write") || !strncmp(op, "rename", 6) || !strncmp(op, "mkdir", 5) ||
        !strncmp(op, "ftruncate", 9) || !strncmp(op, "fallocate", 9))
        return KZ_UEBA_WRITE;
    return KZ_UEBA_READ;
}

int kz_ueba_extract(const struct kz_event *ev, struct kz_ueba_act *out) {
    pthread_once(&ids_once, resolve_ids);
    memset(out, 0, sizeof *out);
    out->ts = ev->ts;
    out->file_id = ev->file_id;
    out->record_id = ev->record_id;
    out->logon_type =
        (int8_t)(ev->ent.logon_type >= 0 && ev->ent.logon_type < 100 ? ev->ent.logon_type : -1);
    out->outcome = -1;
    out->bytes = ev->ent.bytes;
    out->host = ev->host;
    out->user = bare_user(ev->ent.user);
    out->domain = ev->ent.domain;
    out->sid = useful_sid(ev->ent.sid);
    out->src_ip = useful_ip(ev->ent.src_ip);
    if (!ev->host || !*ev->host) return 0;
    int security = channel_is(ev, "Security");
    switch (security ? ev->event_id : 0) {
    case 4624:
    case 4625:
        out->kind = ev->event_id == 4624 ? KZ_UEBA_LOGON : KZ_UEBA_LOGON_FAILED;
        out->outcome = ev->event_id == 4624;
        out->device = field(ev, F_WORKSTATION_NAME);
        break;
    case 4648:
        out->kind = KZ_UEBA_EXPLICIT;
        out->object = bare_user(field(ev, F_SUBJECT_USER)); /* whose session used them */
        out->target = field(ev, F_TARGET_SERVER);
        if (out->target && (ieq(out->target, "localhost") || ieq(out->target, "127.0.0.1")))
            out->target = NULL;
        break;
    case 4768:
    case 4776:
        out->kind = KZ_UEBA_AUTH;
        out->outcome = (int8_t)status_ok(field(ev, F_STATUS));
        out->device = ev->event_id == 4776 ? field(ev, F_WORKSTATION) : NULL;
        out->domain = NULL; /* 4768 writes the DNS domain; the NetBIOS one comes from logons */
        break;
    case 4634:
    case 4647:
        out->kind = KZ_UEBA_LOGOFF;
        break;
    case 5140:
        out->kind = KZ_UEBA_SHARE;
        out->object = ev->ent.share;
        if (!out->object) return 0;
        break;
    case 5145: {
        out->kind = KZ_UEBA_FILE;
        out->object = ev->ent.share;
        out->access = access_of(field(ev, F_ACCESS_MASK));
        /* The top-level folder under the share: on a projects share, the customer. Kept as the
         * whole relative name here; the engine cuts it at the first separator when interning. */
        out->folder = ev->ent.file_path;
        break;
    }
    case 4663:
        out->kind = KZ_UEBA_FILE;
        out->access = access_of(field(ev, F_ACCESS_MASK));
        out->folder = field(ev, F_OBJECT_NAME); /* the engine keeps its parent directory */
        out->object = NULL;
        if (!out->folder) return 0;
        break;
    case 4688:
        out->kind = KZ_UEBA_PROCESS;
        out->user = bare_user(field(ev, F_SUBJECT_USER));
        out->object = ev->ent.process;
        out->src_ip = NULL;
        break;
    case 4697:
        out->kind = KZ_UEBA_SERVICE;
        out->user = bare_user(field(ev, F_SUBJECT_USER));
        out->object = field(ev, F_SERVICE_NAME);
        break;
    case 4720:
        out->kind = KZ_UEBA_ACCOUNT;
        out->user = field(ev, F_TARGET_USER);
        out->object = bare_user(field(ev, F_SUBJECT_USER));
        out->sid = useful_sid(field(ev, F_TARGET_SID)); /* the new account's (ent.sid: creator's) */
        break;
    case 4728:
    case 4732:
    case 4756: {
        /* A member added to a security-enabled global / local / universal group. TargetUserName
         * is the group; the member is named by its SID and its DN (CN=display name,...), so the
         * engine finds the account by SID and falls back on the CN. */
        out->kind = KZ_UEBA_GROUP;
        out->sid = useful_sid(field(ev, F_MEMBER_SID));
        out->user = field(ev, F_MEMBER_NAME); /* the engine takes the DN's CN */
        out->folder = field(ev, F_TARGET_USER);
        out->target = field(ev, F_TARGET_SID);
        out->object = bare_user(field(ev, F_SUBJECT_USER));
        out->domain = field(ev, F_SUBJECT_DOMAIN); /* shown with the one who added it */
        out->src_ip = NULL;
        if (!out->folder || (!out->sid && !out->user)) return 0;
        if (!out->user) out->user = out->sid; /* a member known by SID alone */
        break;
    }
    default:
        if (ev->event_id == 1 && (channel_is(ev, "Microsoft-Windows-Sysmon/Operational") ||
                                  channel_is(ev, "Linux-Sysmon/Operational"))) {
            out->kind = KZ_UEBA_PROCESS;
            out->object = ev->ent.process;
            out->src_ip = NULL;
            out->sid = NULL;
        } else if (channel_is(ev, "fortigate") &&
                   (ev->event_id == 39947 || ev->event_id == 39426)) {
            /* FortiGate SSL-VPN: tunnel up (a session) or login failure; src_ip is the client's
             * public address (remip) */
            out->kind = KZ_UEBA_VPN;
            out->outcome = ev->event_id == 39947;
            out->logon_type = -1;
            out->sid = NULL;
        } else if (channel_is(ev, "fortigate") && ev->event_id == 39948) {
            /* tunnel down: what the session moved (sentbyte + rcvdbyte) */
            if (ev->ent.bytes < 0) return 0;
            out->kind = KZ_UEBA_VPN_END;
            out->outcome = 1;
            out->logon_type = -1;
            out->sid = NULL;
            out->src_ip = NULL; /* the session's source was judged when it started */
        } else if (channel_is(ev, "syslog") && ev->provider && !strcmp(ev->provider, "sshd") &&
                   ev->ent.user && ev->ent.outcome >= 0) {
            /* an SSH logon to a Linux host, or its failure (syslog.c) */
            out->kind = ev->ent.outcome ? KZ_UEBA_LOGON : KZ_UEBA_LOGON_FAILED;
            out->outcome = (int8_t)ev->ent.outcome;
            out->sid = NULL;
        } else if (channel_is(ev, "samba") && ev->ent.share) {
            /* Samba vfs_full_audit: a share connection as 5140, a file operation as 5145 */
            const char *op = field(ev, F_OPERATION);
            if (op && (!strcmp(op, "connect") || !strcmp(op, "disconnect"))) {
                if (!strcmp(op, "disconnect")) return 0;
                out->kind = KZ_UEBA_SHARE;
            } else {
                out->kind = KZ_UEBA_FILE;
                out->access = samba_access(op, field(ev, F_ACCESS));
                out->folder = ev->ent.file_path;
            }
            out->object = ev->ent.share;
            out->outcome = (int8_t)ev->ent.outcome;
            out->sid = NULL;
        } else if (ev->event_id == 7045 && channel_is(ev, "System")) {
            /* Host activity: the installer is not in the event's data. */
            out->kind = KZ_UEBA_SERVICE;
            out->user = NULL;
            out->domain = NULL;
            out->sid = NULL;
            out->object = field(ev, F_SERVICE_NAME);
        } else {
            return 0;
        }
    }
    if (out->kind == KZ_UEBA_PROCESS && !out->object) return 0;
    if (out->kind == KZ_UEBA_SERVICE) {
        if (!out->object) return 0;
        if (is_system_account(out->user)) out->user = NULL;
        return 1;
    }
    if (is_system_account(out->user)) return 0;
    if (out->device && (is_system_account(out->device) || !strcmp(out->device, "-")))
        out->device = NULL;
    return 1;
}

/* Event ids whose TargetUserName is not the one who acted: a process start (4688 v2 names the
 * new process's account there, often "-"), account and group management (the account or group
 * changed). The finding is the subject's. */
static int subject_acts(const struct kz_event *ev) {
    if (!channel_is(ev, "Security")) return 0;
    uint32_t id = ev->event_id;
    return id == 4688 || (id >= 4720 && id <= 4767) || id == 4781 || id == 4798 || id == 4799;
}

int kz_ueba_extract_finding(const struct kz_event *ev, int level, const char *rule_id,
                            const char *title, struct kz_ueba_act *out) {
    pthread_once(&ids_once, resolve_ids);
    memset(out, 0, sizeof *out);
    if (level < KZ_LEVEL_MEDIUM || level > KZ_LEVEL_CRITICAL || !ev->host || !*ev->host || !title)
        return 0;
    out->ts = ev->ts;
    out->file_id = ev->file_id;
    out->record_id = ev->record_id;
    out->kind = KZ_UEBA_SIGMA;
    out->logon_type = -1;
    out->outcome = -1;
    out->access = (uint8_t)level;
    out->bytes = -1;
    out->host = ev->host;
    out->object = title;
    out->folder = rule_id && *rule_id ? rule_id : title;
    if (subject_acts(ev)) {
        out->user = bare_user(field(ev, F_SUBJECT_USER));
        out->domain = field(ev, F_SUBJECT_DOMAIN);
    } else {
        out->user = bare_user(ev->ent.user);
        out->domain = ev->ent.domain;
    }
    /* machines and the system: the host's finding */
    if (is_system_account(out->user)) out->user = NULL, out->domain = NULL;
    return 1;
}

/* ---- wire form: fixed header, then 9 strings (u32 length or UINT32_MAX for NULL, the bytes,
 * a NUL) ---- */

#define PACK_HEAD (8 + 4 + 8 + 8 + 4)

static void put_str(struct kz_buf *b, const char *s) {
    uint32_t n = s ? (uint32_t)strnlen(s, 65535) : UINT32_MAX;
    kz_buf_append(b, &n, 4);
    if (s) {
        kz_buf_append(b, s, n);
        kz_buf_putc(b, 0); /* so that unpacked strings are C strings in place */
    }
}

void kz_ueba_act_pack(struct kz_buf *b, const struct kz_ueba_act *a) {
    uint8_t head[4] = {a->kind, (uint8_t)a->logon_type, (uint8_t)a->outcome, a->access};
    kz_buf_append(b, &a->ts, 8);
    kz_buf_append(b, head, 4);
    kz_buf_append(b, &a->record_id, 8);
    kz_buf_append(b, &a->bytes, 8);
    kz_buf_append(b, &a->file_id, 4);
    const char *s[9] = {a->user,   a->domain, a->sid,    a->host,  a->target,
                        a->src_ip, a->device, a->object, a->folder};
    for (int i = 0; i < 9; i++)
        put_str(b, s[i]);
}

int kz_ueba_act_unpack(const char *p, size_t n, struct kz_ueba_act *out) {
    memset(out, 0, sizeof *out);
    if (n < PACK_HEAD) return KZ_EFORMAT;
    uint8_t head[4];
    memcpy(&out->ts, p, 8);
    memcpy(head, p + 8, 4);
    memcpy(&out->record_id, p + 12, 8);
    memcpy(&out->bytes, p + 20, 8);
    memcpy(&out->file_id, p + 28, 4);
    out->kind = head[0];
    out->logon_type = (int8_t)head[1];
    out->outcome = (int8_t)head[2];
    out->access = head[3];
    if (out->kind == KZ_UEBA_NONE || out->kind >= KZ_UEBA_NKINDS) return KZ_EFORMAT;
    const char **s[9] = {&out->user,   &out->domain, &out->sid,    &out->host,  &out->target,
                         &out->src_ip, &out->device, &out->object, &out->folder};
    size_t o = PACK_HEAD;
    for (int i = 0; i < 9; i++) {
        uint32_t len;
        if (n - o < 4) return KZ_EFORMAT;
        memcpy(&len, p + o, 4);
        o += 4;
        if (len == UINT32_MAX) continue;
        if (len >= n - o || p[o + len] != 0) return KZ_EFORMAT;
        *s[i] = p + o;
        o += (size_t)len + 1;
    }
    return 0;
}
