/* findings.c - JSONL, CSV and table forms of a finding; see findings.h.
 *
 * The JSON escaping is core/buf.h's (kz_buf_put_json_str); what lives here is what is particular
 * to findings: the schema's key order, the flat `event` object, the human message, CSV cells that
 * a spreadsheet cannot execute, and text made visible for a terminal. */
#include "findings.h"

#include "event_json.h"

#include "../core/fmt.h"
#include "../core/intern.h"
#include "../core/utf.h"
#include "../sigma/rule.h"

#include <string.h>

/* ---- levels ---- */

int kz_finding_level_score(int level) {
    switch (level) {
    case KZ_LEVEL_INFORMATIONAL:
        return 10;
    case KZ_LEVEL_LOW:
        return 30;
    case KZ_LEVEL_MEDIUM:
        return 50;
    case KZ_LEVEL_HIGH:
        return 75;
    case KZ_LEVEL_CRITICAL:
        return 90;
    }
    return 0;
}

const char *kz_finding_level_name(int level) {
    if (level < KZ_LEVEL_INFORMATIONAL || level > KZ_LEVEL_CRITICAL) level = KZ_LEVEL_INFORMATIONAL;
    return kz_sigma_level_name(level);
}

/* Four letters, so the table's LEVEL column stays narrow. */
static const char *level_short(int level) {
    static const char *const n[] = {"info", "info", "low", "med", "high", "crit"};
    return level >= 0 && level <= KZ_LEVEL_CRITICAL ? n[level] : "info";
}

const char *kz_finding_level_colour(int level) {
    switch (level) {
    case KZ_LEVEL_CRITICAL:
        return "1;31"; /* bold red */
    case KZ_LEVEL_HIGH:
        return "31"; /* red */
    case KZ_LEVEL_MEDIUM:
        return "33"; /* yellow */
    case KZ_LEVEL_LOW:
        return "32"; /* green */
    }
    return "";
}

/* ---- UTF-8 and terminal columns ---- */

/* Decodes the sequence at p (avail bytes); returns its length and sets *cp, or 0 when p does not
 * start a valid sequence (kz_utf8_valid_prefix already rejects overlongs and surrogates). */
static size_t utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp) {
    size_t len = kz_utf8_valid_prefix(p, avail);
    switch (len) {
    case 1:
        *cp = p[0];
        break;
    case 2:
        *cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
        break;
    case 3:
        *cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        break;
    case 4:
        *cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
              (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
        break;
    }
    return len;
}

/* Characters that change how a terminal shows the text around them, or show nothing at all:
 * C1 controls (U+009B is CSI on some terminals), bidi embeddings and overrides (the "Trojan
 * Source" trick that makes `evil\u202Etxt.exe` read as `evilexe.txt`), zero-width and other
 * format characters that make two different user names look the same. */
static int invisible(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || cp == 0x61c || cp == 0x180e ||
           (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* Columns a printable character takes: 2 for East Asian wide and fullwidth forms (Japanese host
 * and user names are expected here), 0 for combining marks, 1 otherwise. A short table of the
 * main blocks, not all of Unicode's EastAsianWidth: an odd character misaligns a row, nothing
 * worse. */
static int char_cols(uint32_t cp) {
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
        (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
        (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0x3099 ||
        cp == 0x309a)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
        (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

static const char hexdig[] = "0123456789abcdef";

/* One unit of visible output: the character at p as it will be shown. Returns the source bytes it
 * consumes; *esc_len is 0 when the source bytes are shown as they are, else esc holds the escape.
 */
static size_t visible_unit(const unsigned char *p, size_t avail, char esc[8], size_t *esc_len,
                           int *cols) {
    unsigned char c = p[0];
    *esc_len = 0;
    if (c >= 0x20 && c < 0x7f) {
        *cols = 1;
        return 1;
    }
    if (c < 0x80) {
        esc[0] = '\\';
        if (c == '\t' || c == '\n' || c == '\r') {
            esc[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
            *esc_len = 2;
        } else {
            esc[1] = 'x', esc[2] = hexdig[c >> 4], esc[3] = hexdig[c & 15];
            *esc_len = 4;
        }
        *cols = (int)*esc_len;
        return 1;
    }
    uint32_t cp;
    size_t len = utf8_decode(p, avail, &cp);
    if (!len) { /* a byte that is not UTF-8: show its value */
        esc[0] = '\\', esc[1] = 'x', esc[2] = hexdig[c >> 4], esc[3] = hexdig[c & 15];
        *esc_len = 4;
        *cols = 4;
        return 1;
    }
    if (invisible(cp)) {
        esc[0] = '\\', esc[1] = 'u';
        for (int i = 0; i < 4; i++)
            esc[2 + i] = hexdig[(cp >> (12 - 4 * i)) & 15];
        *esc_len = 6;
        *cols = 6;
        return len;
    }
    *cols = char_cols(cp);
    return len;
}

/* Bytes one column may cost at most before the text counts as over its width: combining marks
 * take no column, so a string of them must still be cut somewhere. */
#define BYTES_PER_COL 8

int kz_finding_put_visible(struct kz_buf *out, const char *s, size_t n, int max_cols) {
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];
    size_t esc_len;
    int ucols;
    int limit = max_cols >= 0;
    size_t max_bytes = limit ? (size_t)max_cols * BYTES_PER_COL : 0;
    /* Pass 1: does all of it fit? Stops as soon as it does not. */
    int fits = 1;
    if (limit) {
        int cols = 0;
        size_t bytes = 0;
        for (size_t i = 0; i < n;) {
            i += visible_unit(p + i, n - i, esc, &esc_len, &ucols);
            cols += ucols;
            bytes += esc_len ? esc_len : 1;
            if (cols > max_cols || bytes > max_bytes) {
                fits = 0;
                break;
            }
        }
    }
    /* Pass 2: write, leaving room for "…" (one column, three bytes) when it does not fit. */
    int room = fits ? max_cols : max_cols - 1;
    size_t room_bytes = max_bytes > 3 ? max_bytes - 3 : 0;
    int cols = 0;
    size_t bytes = 0;
    if (limit && room < 0) return 0;
    for (size_t i = 0; i < n;) {
        size_t used = visible_unit(p + i, n - i, esc, &esc_len, &ucols);
        size_t ubytes = esc_len ? esc_len : used;
        if (limit && !fits && (cols + ucols > room || bytes + ubytes > room_bytes)) break;
        if (esc_len)
            kz_buf_append(out, esc, esc_len);
        else
            kz_buf_append(out, p + i, used);
        cols += ucols;
        bytes += ubytes;
        i += used;
    }
    if (!fits) {
        kz_buf_puts(out, "\xE2\x80\xA6"); /* … */
        cols++;
    }
    return cols;
}

static void pad(struct kz_buf *out, int n) {
    for (; n > 0; n--)
        kz_buf_putc(out, ' ');
}

/* ---- JSON ---- */

static void json_str_array(struct kz_buf *out, uint32_t n, const char *const *v) {
    kz_buf_putc(out, '[');
    for (uint32_t i = 0, k = 0; i < n; i++) {
        if (!v[i]) continue;
        if (k++) kz_buf_putc(out, ',');
        kz_buf_put_json_or_null(out, v[i]);
    }
    kz_buf_putc(out, ']');
}

#define NAME_SLOTS (2 * KZ_FINDING_EVENT_FIELDS) /* hash of names, at most half full */
#define NOT_FIRST 0xffff

/* The raw fields as one flat object. A name seen more than once (in any section) becomes an array
 * of its values in document order, at the place of its first occurrence. Linear time: a hash of
 * name ids finds each name's first field, and each field links to the next one of the same name. */
static void json_event(struct kz_buf *out, const struct kz_event *ev) {
    if (!ev) {
        kz_buf_puts(out, "null");
        return;
    }
    uint32_t n = ev->nfields < KZ_FINDING_EVENT_FIELDS ? ev->nfields : KZ_FINDING_EVENT_FIELDS;
    uint16_t slot[NAME_SLOTS];              /* first field index + 1 of a name, 0 = empty */
    uint16_t next[KZ_FINDING_EVENT_FIELDS]; /* next field index + 1 with the same name, 0 = none */
    uint16_t tail[KZ_FINDING_EVENT_FIELDS]; /* first field of a name: its last field so far;
                                               others: NOT_FIRST */
    /* Only as many slots as the event needs (at most half full): clearing all NAME_SLOTS for
     * each finding cost more than the rest of the table's work. */
    uint32_t bits = 6;
    while ((1u << bits) < 2 * n)
        bits++;
    uint32_t mask = (1u << bits) - 1;
    memset(slot, 0, (mask + 1) * sizeof *slot);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t name = ev->fields[i].name;
        uint32_t h = (name * 2654435761u) >> (32 - bits);
        next[i] = 0;
        for (;; h = (h + 1) & mask) {
            if (!slot[h]) {
                slot[h] = (uint16_t)(i + 1);
                tail[i] = (uint16_t)i;
                break;
            }
            uint32_t first = slot[h] - 1u;
            if (ev->fields[first].name == name) {
                next[tail[first]] = (uint16_t)(i + 1);
                tail[first] = (uint16_t)i;
                tail[i] = NOT_FIRST;
                break;
            }
        }
    }
    kz_buf_putc(out, '{');
    int any = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (tail[i] == NOT_FIRST) continue;
        const struct kz_field *f = &ev->fields[i];
        if (any++) kz_buf_putc(out, ',');
        kz_buf_putc(out, '"');
        kz_buf_put_json_str(out, kz_intern_name(f->name), kz_intern_len(f->name));
        kz_buf_puts(out, "\":");
        if (!next[i]) {
            kz_event_json_value(out, f);
            continue;
        }
        kz_buf_putc(out, '[');
        for (uint32_t k = i + 1; k; k = next[k - 1]) {
            if (k != i + 1) kz_buf_putc(out, ',');
            kz_event_json_value(out, &ev->fields[k - 1]);
        }
        kz_buf_putc(out, ']');
    }
    kz_buf_putc(out, '}');
}

void kz_finding_jsonl(struct kz_buf *out, const struct kz_finding *f) {
    char ts[KZ_TIME_TEXT_MAX];
    kz_time_format(f->ts, 7, ts);
    kz_buf_puts(out, "{\"ts\":\"");
    kz_buf_puts(out, ts);
    kz_buf_puts(out, "\",\"kind\":");
    kz_buf_put_json_or_null(out, f->kind);
    kz_buf_puts(out, ",\"rule_id\":");
    kz_buf_put_json_or_null(out, f->rule_id);
    kz_buf_puts(out, ",\"title\":");
    kz_buf_put_json_or_null(out, f->title ? f->title : "");
    kz_buf_puts(out, ",\"level\":\"");
    kz_buf_puts(out, kz_finding_level_name(f->level));
    kz_buf_puts(out, "\",\"score\":");
    kz_buf_put_i64(out, f->score < 0 ? 0 : f->score > 100 ? 100 : f->score);
    kz_buf_puts(out, ",\"tags\":");
    json_str_array(out, f->tags ? f->ntags : 0, f->tags);
    kz_buf_puts(out, ",\"host\":");
    kz_buf_put_json_or_null(out, f->host);
    kz_buf_puts(out, ",\"user\":");
    kz_buf_put_json_or_null(out, f->user);
    kz_buf_puts(out, ",\"src_ip\":");
    kz_buf_put_json_or_null(out, f->src_ip);
    kz_buf_puts(out, ",\"reasons\":");
    json_str_array(out, f->reasons ? f->nreasons : 0, f->reasons);
    kz_buf_puts(out, ",\"source\":{\"file\":");
    kz_buf_put_json_or_null(out, f->file);
    kz_buf_puts(out, ",\"record_id\":");
    kz_buf_put_u64(out, f->record_id);
    kz_buf_puts(out, ",\"format\":");
    kz_buf_put_json_or_null(out, f->format);
    kz_buf_puts(out, "},\"event\":");
    json_event(out, f->event);
    kz_buf_puts(out, "}\n");
}

/* ---- the message and the table's details ---- */

/* Writes the items of a line of `key=value` pairs within a column budget. */
struct line {
    struct kz_buf *out;
    int budget; /* columns left */
    int items;  /* items written (a space goes before each but the first) */
    int cut;    /* an item did not fit: "…" written, nothing more */
};

static void line_item(struct line *l, const char *key, const char *val, size_t len) {
    if (l->cut) return;
    size_t klen = strlen(key);
    int need = (l->items ? 1 : 0) + (int)klen + (klen ? 1 : 0) + 1; /* sep, key, '=', a column */
    if (l->budget < need + 1) {
        if (l->budget >= 2 && l->items) {
            kz_buf_puts(l->out, " \xE2\x80\xA6");
            l->budget -= 2;
        } else if (l->budget >= 1) {
            kz_buf_puts(l->out, "\xE2\x80\xA6");
            l->budget -= 1;
        }
        l->cut = 1;
        return;
    }
    if (l->items) kz_buf_putc(l->out, ' ');
    if (klen) {
        kz_buf_append(l->out, key, klen);
        kz_buf_putc(l->out, '=');
    }
    l->budget -= need - 1;
    int room = l->budget < KZ_FINDING_MSG_VALUE_COLS ? l->budget : KZ_FINDING_MSG_VALUE_COLS;
    l->budget -= kz_finding_put_visible(l->out, val, len, room);
    l->items++;
}

static void line_str(struct line *l, const char *key, const char *val) {
    if (val && *val) line_item(l, key, val, strlen(val));
}

static void line_int(struct line *l, const char *key, int64_t v) {
    char tmp[24];
    char *end = kz_fmt_i64(tmp, v);
    line_item(l, key, tmp, (size_t)(end - tmp));
}

/* What makes a finding actionable beyond its title, host and user: the source address, then the
 * event's entities, most telling first (what ran, from what, on which file or share, how the
 * account logged on), then the detector's reasons. Without an event (UEBA, some correlations) the
 * reasons are all there is, and they come right after the source address. */
static void line_reasons(struct line *l, const struct kz_finding *f) {
    if (!f->reasons || !f->nreasons) return;
    /* One item "reasons=a; b; c", built in a small buffer and cut as one value. */
    struct kz_buf r;
    kz_buf_init(&r, (size_t)KZ_FINDING_MSG_COLS * BYTES_PER_COL);
    for (uint32_t i = 0; i < f->nreasons; i++) {
        if (!f->reasons[i]) continue;
        if (r.len) kz_buf_puts(&r, "; ");
        kz_buf_puts(&r, f->reasons[i]);
    }
    if (r.len) line_item(l, "reasons", r.data, r.len);
    kz_buf_free(&r);
}

static void line_details(struct line *l, const struct kz_finding *f) {
    line_str(l, "src_ip", f->src_ip);
    const struct kz_event *ev = f->event;
    if (!ev) {
        line_reasons(l, f);
        return;
    }
    const struct kz_entities *e = &ev->ent;
    line_str(l, "process", e->process);
    line_str(l, "command_line", e->command_line);
    line_str(l, "parent", e->parent_process);
    line_str(l, "file", e->file_path);
    line_str(l, "share", e->share);
    if (e->logon_type >= 0) line_int(l, "logon_type", e->logon_type);
    line_str(l, "src_host", e->src_host);
    if (e->target_host && (!f->host || strcmp(e->target_host, f->host)))
        line_str(l, "target_host", e->target_host);
    if (e->bytes >= 0) line_int(l, "bytes", e->bytes);
    line_reasons(l, f);
}

void kz_finding_message(struct kz_buf *out, const struct kz_finding *f) {
    struct line l = {out, KZ_FINDING_MSG_COLS, 0, 0};
    const char *title = f->title ? f->title : "";
    int room = l.budget < KZ_FINDING_MSG_VALUE_COLS ? l.budget : KZ_FINDING_MSG_VALUE_COLS;
    l.budget -= kz_finding_put_visible(out, title, strlen(title), room);
    const char *lv = kz_finding_level_name(f->level);
    kz_buf_printf(out, " [%s]", lv);
    l.budget -= (int)strlen(lv) + 3;
    l.items = 1;
    line_str(&l, "host", f->host);
    line_str(&l, "user", f->user);
    line_details(&l, f);
}

/* ---- CSV ---- */

void kz_finding_csv_cell(struct kz_buf *out, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    kz_buf_putc(out, '"');
    /* A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV
     * injection); the quote makes it text, and Excel and LibreOffice hide the quote. */
    if (n && (p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@' || p[0] == '\t' ||
              p[0] == '\r' || p[0] == '\n'))
        kz_buf_putc(out, '\'');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"') {
            kz_buf_puts(out, "\"\"");
            i++;
        } else if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n') {
            size_t run = i + 1; /* copy a run of plain bytes at once */
            while (run < n && p[run] != '"' &&
                   ((p[run] >= 0x20 && p[run] < 0x7f) || p[run] == '\t' || p[run] == '\r' ||
                    p[run] == '\n'))
                run++;
            kz_buf_append(out, p + i, run - i);
            i = run;
        } else {
            uint32_t cp = 0;
            size_t len = c >= 0x80 ? utf8_decode(p + i, n - i, &cp) : 0;
            /* Control bytes and C1 controls could drive a terminal that `cat`s the file, and
             * invalid UTF-8 breaks importers: both become U+FFFD. */
            if (len && !(cp >= 0x80 && cp <= 0x9f))
                kz_buf_append(out, p + i, len);
            else
                kz_buf_puts(out, "\xEF\xBF\xBD");
            i += len ? len : 1;
        }
    }
    kz_buf_putc(out, '"');
}

static void csv_str(struct kz_buf *out, const char *s) {
    kz_finding_csv_cell(out, s ? s : "", s ? strlen(s) : 0);
    kz_buf_putc(out, ',');
}

void kz_finding_csv_header(struct kz_buf *out) {
    kz_buf_puts(out, "datetime,timestamp_desc,message,level,rule_id,title,host,user,src_ip,tags,"
                     "file,record_id\n");
}

void kz_finding_csv(struct kz_buf *out, const struct kz_finding *f) {
    char ts[KZ_TIME_TEXT_MAX];
    kz_time_format(f->ts, 6, ts); /* microseconds: Timesketch's own resolution */
    kz_buf_puts(out, ts);
    kz_buf_puts(out, ",\"Event Time\",");
    /* The message and the tags are built first, then quoted as one cell each. */
    struct kz_buf tmp;
    kz_buf_init(&tmp, (size_t)KZ_FINDING_MSG_COLS * BYTES_PER_COL + 64);
    kz_finding_message(&tmp, f);
    kz_finding_csv_cell(out, tmp.data ? tmp.data : "", tmp.len);
    kz_buf_putc(out, ',');
    csv_str(out, kz_finding_level_name(f->level));
    csv_str(out, f->rule_id);
    csv_str(out, f->title);
    csv_str(out, f->host);
    csv_str(out, f->user);
    csv_str(out, f->src_ip);
    kz_buf_clear(&tmp); /* now the tags, ';'-joined */
    for (uint32_t i = 0; f->tags && i < f->ntags; i++) {
        if (!f->tags[i]) continue;
        if (tmp.len) kz_buf_putc(&tmp, ';');
        kz_buf_puts(&tmp, f->tags[i]);
    }
    kz_finding_csv_cell(out, tmp.data ? tmp.data : "", tmp.len);
    kz_buf_putc(out, ',');
    kz_buf_free(&tmp);
    csv_str(out, f->file);
    kz_buf_put_u64(out, f->record_id);
    kz_buf_putc(out, '\n');
}

/* ---- table ---- */

static const char *const headers[] = {"TIME", "LEVEL", "HOST", "USER", "TITLE", "DETAILS"};
static const int widths[] = {KZ_FINDING_COL_TIME, KZ_FINDING_COL_LEVEL, KZ_FINDING_COL_HOST,
                             KZ_FINDING_COL_USER, KZ_FINDING_COL_TITLE, KZ_FINDING_COL_DETAILS};
#define COL_GAP 2 /* spaces between columns */

void kz_finding_table_header(struct kz_buf *out, int colour) {
    if (colour) kz_buf_puts(out, "\033[1m");
    for (int i = 0; i < 6; i++) {
        kz_buf_puts(out, headers[i]);
        if (i < 5) pad(out, widths[i] - (int)strlen(headers[i]) + COL_GAP);
    }
    if (colour) kz_buf_puts(out, "\033[0m");
    kz_buf_putc(out, '\n');
}

/* One cell: text made visible, cut to width, padded (but for the last column), optionally in a
 * colour. */
static void cell(struct kz_buf *out, const char *s, int width, const char *sgr, int last) {
    if (!s || !*s) s = "-";
    if (sgr && *sgr) kz_buf_printf(out, "\033[%sm", sgr);
    int cols = kz_finding_put_visible(out, s, strlen(s), width);
    if (sgr && *sgr) kz_buf_puts(out, "\033[0m");
    if (!last) pad(out, width - cols + COL_GAP);
}

void kz_finding_table_row(struct kz_buf *out, const struct kz_finding *f, int colour) {
    char ts[KZ_TIME_TEXT_MAX];
    kz_time_format(f->ts, 0, ts);
    const char *sgr = colour ? kz_finding_level_colour(f->level) : NULL;
    cell(out, ts, KZ_FINDING_COL_TIME, NULL, 0);
    cell(out, level_short(f->level), KZ_FINDING_COL_LEVEL, sgr, 0);
    cell(out, f->host, KZ_FINDING_COL_HOST, NULL, 0);
    cell(out, f->user, KZ_FINDING_COL_USER, NULL, 0);
    cell(out, f->title, KZ_FINDING_COL_TITLE, sgr, 0);
    struct line l = {out, KZ_FINDING_COL_DETAILS, 0, 0};
    line_details(&l, f);
    if (!l.items && !l.cut) kz_buf_putc(out, '-');
    kz_buf_putc(out, '\n');
}
