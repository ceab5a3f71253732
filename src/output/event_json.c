/* event_json.c - JSON line form of an event; see event_json.h. */
#include "event_json.h"

#include "../core/intern.h"

#include <string.h>

static void put_key(struct kz_buf *out, const char *key, int *first) {
    if (!*first) kz_buf_putc(out, ',');
    *first = 0;
    kz_buf_putc(out, '"');
    kz_buf_put_json_str(out, key, strlen(key));
    kz_buf_puts(out, "\":");
}

static void put_str(struct kz_buf *out, const char *s) {
    kz_buf_putc(out, '"');
    kz_buf_put_json_str(out, s, strlen(s));
    kz_buf_putc(out, '"');
}

static void put_opt_str(struct kz_buf *out, const char *key, const char *val, int *first) {
    if (!val) return;
    put_key(out, key, first);
    put_str(out, val);
}

/* A JSON number needs: optional '-', then "0" or digits without a leading zero, and nothing else. */
static int json_integer(const char *s, size_t n) {
    size_t i = s[0] == '-';
    if (i >= n || n - i > 19) return 0;
    if (s[i] == '0' && n - i > 1) return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static void put_value(struct kz_buf *out, const struct kz_field *f) {
    if (f->kind == KZ_VK_INT && json_integer(f->val, f->len)) {
        kz_buf_append(out, f->val, f->len);
    } else {
        kz_buf_putc(out, '"');
        kz_buf_put_json_str(out, f->val, f->len);
        kz_buf_putc(out, '"');
    }
}

static void put_section(struct kz_buf *out, const struct kz_event *ev, uint8_t section,
                        const char *key, int *first) {
    int any = 0;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct kz_field *f = &ev->fields[i];
        if (f->section != section) continue;
        /* Already printed as part of an earlier field's array? */
        int seen = 0;
        for (uint32_t k = 0; k < i && !seen; k++)
            seen = ev->fields[k].section == section && ev->fields[k].name == f->name;
        if (seen) continue;
        uint32_t count = 0;
        for (uint32_t k = i; k < ev->nfields; k++)
            count += ev->fields[k].section == section && ev->fields[k].name == f->name;
        if (!any) {
            put_key(out, key, first);
            kz_buf_putc(out, '{');
        } else {
            kz_buf_putc(out, ',');
        }
        any = 1;
        put_str(out, kz_intern_name(f->name));
        kz_buf_putc(out, ':');
        if (count == 1) {
            put_value(out, f);
            continue;
        }
        kz_buf_putc(out, '[');
        for (uint32_t k = i, n = 0; k < ev->nfields; k++) {
            const struct kz_field *g = &ev->fields[k];
            if (g->section != section || g->name != f->name) continue;
            if (n++) kz_buf_putc(out, ',');
            put_value(out, g);
        }
        kz_buf_putc(out, ']');
    }
    if (any) kz_buf_putc(out, '}');
}

void kz_event_json(struct kz_buf *out, const struct kz_event *ev, const char *file) {
    int first = 1;
    char ts[KZ_TIME_TEXT_MAX];
    kz_time_format(ev->ts, 7, ts);
    kz_buf_putc(out, '{');
    put_key(out, "ts", &first);
    put_str(out, ts);
    put_opt_str(out, "file", file, &first);
    put_key(out, "record_id", &first);
    kz_buf_put_u64(out, ev->record_id);
    put_key(out, "format", &first);
    put_str(out, ev->format == KZ_FMT_EVTX ? "evtx" : "unknown");
    put_key(out, "event_id", &first);
    kz_buf_put_u64(out, ev->event_id);
    put_opt_str(out, "channel", ev->channel, &first);
    put_opt_str(out, "host", ev->host, &first);
    put_opt_str(out, "provider", ev->provider, &first);

    const struct kz_entities *e = &ev->ent;
    int nfirst = 1;
    put_key(out, "norm", &first);
    kz_buf_putc(out, '{');
    put_opt_str(out, "user", e->user, &nfirst);
    put_opt_str(out, "domain", e->domain, &nfirst);
    put_opt_str(out, "sid", e->sid, &nfirst);
    if (e->logon_type >= 0) {
        put_key(out, "logon_type", &nfirst);
        kz_buf_put_i64(out, e->logon_type);
    }
    put_opt_str(out, "src_ip", e->src_ip, &nfirst);
    put_opt_str(out, "src_host", e->src_host, &nfirst);
    put_opt_str(out, "target_host", e->target_host, &nfirst);
    put_opt_str(out, "process", e->process, &nfirst);
    put_opt_str(out, "command_line", e->command_line, &nfirst);
    put_opt_str(out, "parent_process", e->parent_process, &nfirst);
    put_opt_str(out, "file_path", e->file_path, &nfirst);
    put_opt_str(out, "share", e->share, &nfirst);
    if (e->bytes >= 0) {
        put_key(out, "bytes", &nfirst);
        kz_buf_put_i64(out, e->bytes);
    }
    kz_buf_putc(out, '}');

    put_section(out, ev, KZ_SEC_SYSTEM, "System", &first);
    put_section(out, ev, KZ_SEC_EVENTDATA, "EventData", &first);
    put_section(out, ev, KZ_SEC_USERDATA, "UserData", &first);
    put_section(out, ev, KZ_SEC_OTHER, "Other", &first);
    kz_buf_puts(out, "}\n");
}
