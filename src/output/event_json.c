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

/* A JSON number needs: optional '-', then "0" or digits without a leading zero, and nothing else.
 */
static int json_integer(const char *s, size_t n) {
    size_t i = s[0] == '-';
    if (i >= n || n - i > 19) return 0;
    if (s[i] == '0' && n - i > 1) return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

void kz_event_json_value(struct kz_buf *out, const struct kz_field *f) {
    if (f->kind == KZ_VK_INT && json_integer(f->val, f->len)) {
        kz_buf_append(out, f->val, f->len);
    } else {
        kz_buf_putc(out, '"');
        kz_buf_put_json_str(out, f->val, f->len);
        kz_buf_putc(out, '"');
    }
}

/* Prints one value, or all values of a name that occurs more than once in the section as an array.
 */
static void put_values(struct kz_buf *out, const struct kz_event *ev, uint32_t i, uint8_t section) {
    const struct kz_field *f = &ev->fields[i];
    uint32_t count = 0;
    for (uint32_t k = i; k < ev->nfields; k++)
        count += ev->fields[k].section == section && ev->fields[k].name == f->name;
    if (count == 1) {
        kz_event_json_value(out, f);
        return;
    }
    kz_buf_putc(out, '[');
    for (uint32_t k = i, n = 0; k < ev->nfields; k++) {
        const struct kz_field *g = &ev->fields[k];
        if (g->section != section || g->name != f->name) continue;
        if (n++) kz_buf_putc(out, ',');
        kz_event_json_value(out, g);
    }
    kz_buf_putc(out, ']');
}

#define SEEN_SLOTS 512 /* names tracked per section; past that, a scan of the earlier fields */

/* Starts the next member of a section: `"Section":{` before the first, a comma before the others.
 */
static void next_member(struct kz_buf *out, const char *key, int *first, int *any) {
    if (*any) {
        kz_buf_putc(out, ',');
    } else {
        put_key(out, key, first);
        kz_buf_putc(out, '{');
        *any = 1;
    }
}

static void put_name(struct kz_buf *out, uint32_t name) {
    kz_buf_putc(out, '"');
    kz_buf_put_json_str(out, kz_intern_name(name), kz_intern_len(name));
    kz_buf_puts(out, "\":");
}

static void put_section(struct kz_buf *out, const struct kz_event *ev, uint8_t section,
                        const char *key, int *first) {
    int any = 0;
    /* Repeated names are rare: a 64-bit signature of the names tells, in one pass, when a section
     * certainly has none, and then every field is printed as it comes. */
    uint64_t sig = 0;
    int maybe_repeats = 0;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        if (ev->fields[i].section != section) continue;
        uint64_t bit = 1ull << ((ev->fields[i].name * 2654435761u) >> 26);
        maybe_repeats |= (sig & bit) != 0;
        sig |= bit;
    }
    uint32_t seen[SEEN_SLOTS]; /* names printed so far, when repeats are possible */
    uint32_t nseen = 0;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct kz_field *f = &ev->fields[i];
        if (f->section != section) continue;
        if (maybe_repeats) {
            int dup = 0;
            if (nseen < SEEN_SLOTS) {
                for (uint32_t k = 0; k < nseen && !dup; k++)
                    dup = seen[k] == f->name;
                if (!dup) seen[nseen++] = f->name;
            } else {
                for (uint32_t k = 0; k < i && !dup; k++)
                    dup = ev->fields[k].section == section && ev->fields[k].name == f->name;
            }
            if (dup) continue;
        }
        next_member(out, key, first, &any);
        put_name(out, f->name);
        if (maybe_repeats)
            put_values(out, ev, i, section);
        else
            kz_event_json_value(out, f);
    }
    if (any) kz_buf_putc(out, '}');
}

void kz_json_quote(struct kz_buf *out, const char *s) {
    put_str(out, s);
}

void kz_event_json(struct kz_buf *out, const struct kz_event *ev, const char *file_json) {
    int first = 1;
    char ts[KZ_TIME_TEXT_MAX];
    kz_time_format(ev->ts, 7, ts);
    kz_buf_putc(out, '{');
    put_key(out, "ts", &first);
    put_str(out, ts);
    if (file_json) {
        put_key(out, "file", &first);
        kz_buf_puts(out, file_json);
    }
    put_key(out, "record_id", &first);
    kz_buf_put_u64(out, ev->record_id);
    put_key(out, "format", &first);
    put_str(out, kz_event_format_name(ev->format));
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
