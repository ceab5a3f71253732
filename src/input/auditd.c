/* auditd.c - Linux audit records -> events, and the assembly of one kernel event's records; see
 * auditd.h.
 *
 * A record is copied once into the decoder's arena and cut in place (keys end at their `=`, values
 * at their closing quote or the next space); hex-encoded values are decoded into the arena. The
 * assembler keeps each open event's record lines in its own buffer and decodes them only when the
 * event is complete, so lines of other events may come in between. */
#include "auditd.h"

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/intern.h"

#include <string.h>

#include "auditd_syscalls.h"

/* ---- one record ---- */

struct rec_head {
    const char *node;
    size_t node_len;
    const char *type;
    size_t type_len;
    uint64_t sec;
    uint32_t msec;
    uint64_t serial;
    const char *body; /* after "): " */
    size_t body_len;
};

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Reads a decimal number of at most max_digits digits at *p; returns 0 or -1. */
static int read_u64(const char **p, const char *end, unsigned max_digits, uint64_t *out) {
    const char *q = *p;
    uint64_t v = 0;
    unsigned k = 0;
    while (q < end && is_digit(*q) && k < max_digits)
        v = v * 10 + (uint64_t)(*q++ - '0'), k++;
    if (!k || (q < end && is_digit(*q))) return -1;
    *p = q;
    *out = v;
    return 0;
}

static int parse_head(const char *p, size_t n, struct rec_head *h) {
    const char *end = p + n;
    memset(h, 0, sizeof *h);
    if (n >= 5 && !memcmp(p, "node=", 5)) {
        h->node = p + 5;
        const char *sp = memchr(h->node, ' ', (size_t)(end - h->node));
        if (!sp) return -1;
        h->node_len = (size_t)(sp - h->node);
        p = sp + 1;
    }
    if (end - p < 5 || memcmp(p, "type=", 5)) return -1;
    h->type = p + 5;
    const char *sp = memchr(h->type, ' ', (size_t)(end - h->type));
    if (!sp || sp == h->type || sp - h->type > 64) return -1;
    h->type_len = (size_t)(sp - h->type);
    p = sp + 1;
    if (end - p < 10 || memcmp(p, "msg=audit(", 10)) return -1;
    p += 10;
    uint64_t ms;
    if (read_u64(&p, end, 12, &h->sec) || p >= end || *p != '.') return -1;
    p++;
    if (read_u64(&p, end, 3, &ms) || p >= end || *p != ':') return -1;
    h->msec = (uint32_t)ms;
    p++;
    if (read_u64(&p, end, 20, &h->serial) || p >= end || *p != ')') return -1;
    p++;
    if (p < end && *p == ':') p++; /* (auditd's own DAEMON_* records omit it) */
    while (p < end && *p == ' ')
        p++;
    h->body = p;
    h->body_len = (size_t)(end - p);
    return 0;
}

int kz_auditd_sniff(const char *line, size_t n) {
    struct rec_head h;
    return parse_head(line, n, &h) == 0;
}

/* What the pairs of a record (or of an event) said, for the header and the entities. */
struct facts {
    const char *exe, *proctitle, *acct, *addr, *name, *auid_name, *uid_name, *success, *res;
    const char *arch, *syscall, *SYSCALL;
    const char *argv[32]; /* EXECVE a0..a31 */
    unsigned argc;
};

static int is_hex(const char *v, size_t n) {
    if (n < 2 || n % 2) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!(is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

static int hexval(char c) {
    return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Keys whose values the kernel writes as hex when they hold untrusted bytes
 * (audit_log_untrustedstring in the kernel; auparse's "escaped" fields). In EXECVE records, the
 * arguments a0, a1 ... too. */
static int hex_key(const char *k, size_t n, int execve) {
    /* lengths kept beside the names: this runs for every pair of every record */
#define K(s) {s, sizeof s - 1}
    static const struct {
        const char *s;
        size_t n;
    } keys[] = {K("exe"),  K("comm"), K("name"), K("cwd"),  K("proctitle"), K("cmd"),
                K("acct"), K("path"), K("key"),  K("data"), K("watch"),     K("ocomm"),
                K("old"),  K("new"),  K("dir"),  K("file"), K("vm")};
#undef K
    if (execve && n >= 2 && k[0] == 'a') {
        size_t i = 1;
        while (i < n && is_digit(k[i]))
            i++;
        if (i == n) return 1;
    }
    if (n > 9) return 0; /* longer than "proctitle" */
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (keys[i].n == n && keys[i].s[0] == k[0] && !memcmp(keys[i].s, k, n)) return 1;
    return 0;
}

static int key_is(const char *k, size_t n, const char *s) {
    return strlen(s) == n && !memcmp(k, s, n);
}

static void note(struct facts *f, int execve, const char *k, size_t n, const char *v) {
    if (execve && n >= 2 && k[0] == 'a' && is_digit(k[1])) {
        unsigned idx = 0;
        size_t i = 1;
        while (i < n && is_digit(k[i]) && idx < 1000)
            idx = idx * 10 + (unsigned)(k[i++] - '0');
        if (i == n && idx < 32) {
            f->argv[idx] = v;
            if (idx + 1 > f->argc) f->argc = idx + 1;
        }
        return;
    }
    if (key_is(k, n, "exe")) {
        if (!f->exe) f->exe = v;
    } else if (key_is(k, n, "proctitle")) {
        if (!f->proctitle) f->proctitle = v;
    } else if (key_is(k, n, "acct")) {
        if (!f->acct) f->acct = v;
    } else if (key_is(k, n, "addr")) {
        if (!f->addr) f->addr = v;
    } else if (key_is(k, n, "name")) {
        if (!f->name) f->name = v;
    } else if (key_is(k, n, "AUID")) {
        f->auid_name = v;
    } else if (key_is(k, n, "UID")) {
        f->uid_name = v;
    } else if (key_is(k, n, "success")) {
        f->success = v;
    } else if (key_is(k, n, "res")) {
        f->res = v;
    } else if (key_is(k, n, "arch")) {
        f->arch = v;
    } else if (key_is(k, n, "syscall")) {
        f->syscall = v;
    } else if (key_is(k, n, "SYSCALL")) {
        f->SYSCALL = v;
    }
}

/* Reads the pairs in [p, end) (a writable copy) into fields. depth 1 is the inside of msg='...'. */
static void parse_pairs(struct kz_text_decoder *d, char *p, char *end, int execve, int depth,
                        struct facts *f, unsigned *pairs) {
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\x1d'))
            p++;
        if (p >= end) break;
        char *key = p;
        while (p < end && *p != '=' && *p != ' ' && *p != '\x1d')
            p++;
        if (p >= end || *p != '=' || p == key) { /* a bare word ("user" in USER_CMD): skipped */
            while (p < end && *p != ' ' && *p != '\x1d')
                p++;
            continue;
        }
        size_t klen = (size_t)(p - key);
        p++;
        char *val;
        size_t vlen;
        int bare = 0;
        if (p < end && (*p == '"' || *p == '\'')) {
            char q = *p++;
            val = p;
            while (p < end && *p != q)
                p++;
            vlen = (size_t)(p - val);
            if (p < end) p++; /* an unterminated quote runs to the end of the record */
            if (q == '\'' && depth == 0 && key_is(key, klen, "msg")) {
                val[vlen] = 0;
                parse_pairs(d, val, val + vlen, execve, 1, f, pairs);
                continue;
            }
        } else {
            val = p;
            while (p < end && *p != ' ' && *p != '\x1d')
                p++;
            vlen = (size_t)(p - val);
            bare = 1;
            if (p < end) p++; /* the separator (space or 0x1D), cut below */
        }
        val[vlen] = 0;
        if (++*pairs > KZ_AUDITD_MAX_PAIRS) continue;
        const char *out = val;
        size_t out_len = vlen;
        uint8_t kind = KZ_VK_STRING;
        if (bare && hex_key(key, klen, execve) && is_hex(val, vlen)) {
            char *dec = kz_arena_alloc(&d->arena, vlen / 2 + 1);
            if (dec) {
                for (size_t i = 0; i < vlen / 2; i++) {
                    unsigned char c =
                        (unsigned char)(hexval(val[2 * i]) << 4 | hexval(val[2 * i + 1]));
                    /* proctitle separates arguments with NUL, and key joins several keys
                     * with 0x01: both read as spaces. Other bytes (an argument's newline) are
                     * the value and stay. */
                    dec[i] = c == 0 || c == 1 ? ' ' : (char)c;
                }
                out_len = vlen / 2;
                while (out_len && dec[out_len - 1] == ' ' && val[2 * out_len - 1] == '0' &&
                       val[2 * out_len - 2] == '0') /* proctitle's trailing NUL */
                    out_len--;
                dec[out_len] = 0;
                out = dec;
            }
        } else if (bare && vlen && vlen <= 19) {
            size_t i = val[0] == '-' && vlen > 1;
            while (i < vlen && is_digit(val[i]))
                i++;
            if (i == vlen) kind = KZ_VK_INT;
        }
        kz_text_field_ref(d, kz_text_name(d, key, klen), KZ_SEC_EVENTDATA, kind, out, out_len);
        note(f, execve, key, klen, out);
    }
}

/* Appends the fields of one record; returns 0 or KZ_EFORMAT. */
static int record_fields(struct kz_text_decoder *d, const char *line, size_t n, struct facts *f,
                         struct rec_head *h) {
    if (parse_head(line, n, h)) {
        d->why = "not an audit record (type=... msg=audit(...): ...)";
        return KZ_EFORMAT;
    }
    if (h->node)
        kz_text_field(d, kz_text_name(d, "node", 4), KZ_SEC_EVENTDATA, 0, h->node, h->node_len);
    kz_text_field(d, kz_text_name(d, "type", 4), KZ_SEC_EVENTDATA, 0, h->type, h->type_len);
    char *body = kz_arena_strndup(&d->arena, h->body, h->body_len);
    if (!body) {
        d->why = "out of memory";
        return KZ_ELIMIT;
    }
    int execve = h->type_len == 6 && !memcmp(h->type, "EXECVE", 6);
    int syscall = h->type_len == 7 && !memcmp(h->type, "SYSCALL", 7);
    unsigned pairs = 0;
    const char *had = f->SYSCALL;
    f->SYSCALL = NULL;
    f->syscall = NULL;
    f->arch = NULL;
    parse_pairs(d, body, body + h->body_len, execve, 0, f, &pairs);
    /* A SYSCALL record with only the number: the name, as enriched logs write it. */
    const char *const *table = NULL;
    size_t table_len = 0;
    if (syscall && !f->SYSCALL && f->syscall && f->arch) {
        if (!strcmp(f->arch, "c000003e"))
            table = auditd_syscalls_x86_64,
            table_len = sizeof auditd_syscalls_x86_64 / sizeof *auditd_syscalls_x86_64;
        else if (!strcmp(f->arch, "c00000b7"))
            table = auditd_syscalls_aarch64,
            table_len = sizeof auditd_syscalls_aarch64 / sizeof *auditd_syscalls_aarch64;
        else if (!strcmp(f->arch, "40000003"))
            table = auditd_syscalls_i386,
            table_len = sizeof auditd_syscalls_i386 / sizeof *auditd_syscalls_i386;
    }
    if (table) {
        const char *s = f->syscall;
        uint64_t nr = 0;
        if (!read_u64(&s, s + strlen(s), 4, &nr) && !*s && nr < table_len && table[nr]) {
            const char *name = table[nr];
            kz_text_field_ref(d, kz_text_name(d, "SYSCALL", 7), KZ_SEC_EVENTDATA, 0, name,
                              strlen(name));
            f->SYSCALL = name;
        }
    }
    if (!f->SYSCALL) f->SYSCALL = had;
    return 0;
}

static int is_set(const char *v) {
    return v && *v && strcmp(v, "?") && strcmp(v, "(null)") && strcmp(v, "unset") &&
           strcmp(v, "(none)");
}

/* Header and entities from what the records said. */
static void finish(struct kz_text_decoder *d, const struct rec_head *h, struct facts *f) {
    struct kz_event *ev = &d->event;
    ev->ts = (kz_time)h->sec * KZ_TICKS_PER_SEC + (kz_time)h->msec * 10000;
    ev->channel = "auditd";
    ev->provider = "auditd";
    if (h->node) ev->host = kz_arena_strndup(&d->arena, h->node, h->node_len);
    struct kz_entities *e = &ev->ent;
    e->target_host = ev->host;
    if (is_set(f->acct))
        e->user = f->acct;
    else if (is_set(f->auid_name))
        e->user = f->auid_name;
    else if (is_set(f->uid_name))
        e->user = f->uid_name;
    if (is_set(f->addr)) e->src_ip = f->addr;
    if (is_set(f->exe)) e->process = f->exe;
    if (is_set(f->name)) e->file_path = f->name;
    if (is_set(f->proctitle)) {
        e->command_line = f->proctitle;
    } else if (f->argc) {
        /* the EXECVE arguments, joined as a shell would show them */
        size_t len = 0;
        for (unsigned i = 0; i < f->argc; i++)
            len += (f->argv[i] ? strlen(f->argv[i]) : 0) + 1;
        char *cl = kz_arena_alloc(&d->arena, len + 1);
        if (cl) {
            size_t k = 0;
            for (unsigned i = 0; i < f->argc; i++) {
                if (i) cl[k++] = ' ';
                size_t m = f->argv[i] ? strlen(f->argv[i]) : 0;
                memcpy(cl + k, f->argv[i] ? f->argv[i] : "", m);
                k += m;
            }
            cl[k] = 0;
            e->command_line = cl;
        }
    }
    if (f->success)
        e->outcome = !strcmp(f->success, "yes") ? 1 : !strcmp(f->success, "no") ? 0 : -1;
    else if (f->res)
        e->outcome = !strcmp(f->res, "success") || !strcmp(f->res, "1")  ? 1
                     : !strcmp(f->res, "failed") || !strcmp(f->res, "0") ? 0
                                                                         : -1;
}

int kz_auditd_parse(struct kz_text_decoder *d, const char *line, size_t n) {
    struct facts f;
    struct rec_head h;
    memset(&f, 0, sizeof f);
    int rc = record_fields(d, line, n, &f, &h);
    if (rc) return rc;
    finish(d, &h, &f);
    return 0;
}

/* ---- assembly ---- */

struct open_event {
    int used, complete;
    uint64_t sec, serial;
    uint32_t msec;
    uint64_t node_hash;
    uint64_t first_line; /* line of the first record: the event's record id */
    uint64_t last_line;  /* line of the latest record */
    uint32_t nrecords;
    struct kz_buf lines; /* the records, each ending in '\n' */
};

struct kz_auditd_asm {
    /* One more than KZ_AUDITD_OPEN: the newcomer that makes the oldest leave. */
    struct open_event ev[KZ_AUDITD_OPEN + 1];
};

struct kz_auditd_asm *kz_auditd_asm_new(void) {
    struct kz_auditd_asm *a = kz_calloc(1, sizeof *a);
    if (!a) return NULL;
    for (int i = 0; i <= KZ_AUDITD_OPEN; i++)
        kz_buf_init(&a->ev[i].lines, KZ_AUDITD_MAX_EVENT);
    return a;
}

void kz_auditd_asm_free(struct kz_auditd_asm *a) {
    if (!a) return;
    for (int i = 0; i <= KZ_AUDITD_OPEN; i++)
        kz_buf_free(&a->ev[i].lines);
    kz_free(a);
}

void kz_auditd_asm_reset(struct kz_auditd_asm *a) {
    for (int i = 0; i <= KZ_AUDITD_OPEN; i++) {
        a->ev[i].used = a->ev[i].complete = 0;
        kz_buf_clear(&a->ev[i].lines);
    }
}

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

/* Record types user-space programs write (PAM, login, shadow-utils, systemd ...): each is an event
 * of its own, with no EOE to wait for. */
static int standalone(const char *t, size_t n) {
    static const char *const prefixes[] = {
        "USER_",      "CRED_",         "DAEMON_",       "CRYPTO_",       "GRP_",
        "ACCT_",      "ROLE_",         "LABEL_",        "VIRT_",         "SYSTEM_",
        "ANOM_LOGIN", "ANOM_ADD_ACCT", "ANOM_DEL_ACCT", "ANOM_MOD_ACCT", "ANOM_ROOT_TRANS"};
    static const char *const names[] = {"LOGIN",       "ADD_USER",      "DEL_USER",
                                        "ADD_GROUP",   "DEL_GROUP",     "CHGRP_ID",
                                        "CHUSER_ID",   "SERVICE_START", "SERVICE_STOP",
                                        "TRUSTED_APP", "USYS_CONFIG",   "SOFTWARE_UPDATE"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t k = strlen(prefixes[i]);
        if (n >= k && !memcmp(t, prefixes[i], k)) return 1;
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && !memcmp(t, names[i], n)) return 1;
    return 0;
}

int kz_auditd_asm_add(struct kz_auditd_asm *a, const char *line, size_t n, uint64_t line_no,
                      const char **why) {
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == n) return 1;
    if (n > KZ_TEXT_MAX_LINE) {
        *why = "line longer than 1 MiB";
        return KZ_ELIMIT;
    }
    if (memchr(line, 0, n)) {
        *why = "NUL byte in the line";
        return KZ_EFORMAT;
    }
    struct rec_head h;
    if (parse_head(line, n, &h)) {
        *why = "not an audit record (type=... msg=audit(...): ...)";
        return KZ_EFORMAT;
    }
    uint64_t node = h.node ? hash_bytes(h.node, h.node_len) : 0;
    struct open_event *e = NULL, *free_slot = NULL, *oldest = NULL;
    unsigned open = 0;
    for (int k = 0; k <= KZ_AUDITD_OPEN; k++) {
        struct open_event *o = &a->ev[k];
        if (!o->used) {
            if (!free_slot) free_slot = o;
            continue;
        }
        if (!o->complete && o->serial == h.serial && o->sec == h.sec && o->msec == h.msec &&
            o->node_hash == node)
            e = o;
        if (!o->complete) {
            open++;
            if (!oldest || o->first_line < oldest->first_line) oldest = o;
        }
    }
    int eoe = h.type_len == 3 && !memcmp(h.type, "EOE", 3);
    if (!e && eoe) return 1; /* the end of an event already gone (or of none) */
    if (!e) {
        if (!free_slot) { /* the caller did not take completed events out */
            *why = "too many audit events open at once";
            return KZ_ELIMIT;
        }
        if (open >= KZ_AUDITD_OPEN && oldest) oldest->complete = 1;
        e = free_slot;
        e->used = 1;
        e->complete = 0;
        e->sec = h.sec;
        e->msec = h.msec;
        e->serial = h.serial;
        e->node_hash = node;
        e->first_line = line_no;
        e->nrecords = 0;
        kz_buf_clear(&e->lines);
    }
    int rc = 0;
    if (eoe) {
        e->complete = 1;
        rc = 1;
    } else if (e->nrecords >= KZ_AUDITD_MAX_RECORDS || e->lines.len + n + 1 > KZ_AUDITD_MAX_EVENT) {
        *why = "audit event has too many records; record dropped";
        rc = KZ_ELIMIT;
    } else {
        kz_buf_append(&e->lines, line, n);
        kz_buf_putc(&e->lines, '\n');
        e->nrecords++;
        if (standalone(h.type, h.type_len)) e->complete = 1;
    }
    e->last_line = line_no;
    /* Events that many lines have passed by will get no more records. (Not the log's time:
     * a late record carries its event's time, and quiet minutes can lie between two lines.) */
    for (int k = 0; k <= KZ_AUDITD_OPEN; k++) {
        struct open_event *o = &a->ev[k];
        if (o->used && !o->complete && line_no - o->last_line > KZ_AUDITD_WAIT_LINES)
            o->complete = 1;
    }
    return rc;
}

int kz_auditd_asm_next(struct kz_auditd_asm *a, struct kz_text_decoder *d, uint32_t file_id,
                       int final) {
    for (;;) {
        struct open_event *e = NULL;
        for (int k = 0; k <= KZ_AUDITD_OPEN; k++) {
            struct open_event *o = &a->ev[k];
            if (o->used && (o->complete || final) && (!e || o->first_line < e->first_line)) e = o;
        }
        if (!e) return 1;
        e->used = 0;
        if (!e->nrecords) continue; /* nothing but an EOE */
        kz_arena_reset(&d->arena);
        d->nfields = 0;
        d->dropped = 0;
        d->why = NULL;
        kz_event_reset(&d->event);
        struct facts f;
        memset(&f, 0, sizeof f);
        struct rec_head h, first;
        int have = 0;
        const char *p = e->lines.data, *end = p + e->lines.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (record_fields(d, p, n, &f, &h) == 0 && !have) first = h, have = 1;
            p = nl ? nl + 1 : end;
        }
        if (have) finish(d, &first, &f); /* (first points into lines: finish copies the node) */
        kz_buf_clear(&e->lines);
        if (!have) continue;
        d->event.fields = d->fields;
        d->event.nfields = d->nfields;
        d->event.record_id = e->first_line;
        d->event.file_id = file_id;
        d->event.format = KZ_FMT_AUDITD;
        return 0;
    }
}

int kz_auditd_asm_ready(const struct kz_auditd_asm *a, int final) {
    for (int k = 0; k <= KZ_AUDITD_OPEN; k++)
        if (a->ev[k].used && (a->ev[k].complete || final)) return 1;
    return 0;
}

static void asm_free(void *a) {
    kz_auditd_asm_free(a);
}

int kz_auditd_decode(struct kz_text_decoder *d, const char *line, size_t n) {
    if (!d->seq) return kz_auditd_parse(d, line, n);
    struct kz_auditd_asm *a = d->seq->state;
    if (!a) {
        if (!(a = kz_auditd_asm_new())) {
            d->why = "out of memory";
            return KZ_ELIMIT;
        }
        d->seq->state = a;
        d->seq->free_state = asm_free;
        d->seq->flush_at_end = 1;
    }
    int final = d->seq->at_end;
    int rc = n ? kz_auditd_asm_add(a, line, n, d->line_no, &d->why) : 1;
    if (rc < 0) {
        /* the line is bad, but events may be ready: the reader calls again for them */
        d->more = kz_auditd_asm_ready(a, final);
        return rc;
    }
    if (kz_auditd_asm_next(a, d, 0, final) != 0) return rc == 1 && !n ? 1 : KZ_TEXT_PENDING;
    d->more = kz_auditd_asm_ready(a, final);
    return 0;
}
