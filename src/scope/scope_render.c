/* scope_render.c - a scope result as a terminal table, DESIGN.md's JSON, CSV, Graphviz DOT or one
 * self-contained HTML page. Every value from the logs is escaped for its format: JSON strings,
 * CSV cells through kz_finding_csv_cell (formula injection neutralised), DOT quoted strings, and
 * HTML entities (no value ever lands in a script or an attribute unescaped). */
#include "scope.h"

#include "../output/findings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void ts(struct kz_buf *b, kz_time t) {
    char s[KZ_TIME_TEXT_MAX];
    kz_time_format(t, 3, s);
    kz_buf_puts(b, s);
}

static void jtime(struct kz_buf *b, kz_time t) {
    kz_buf_putc(b, '"');
    ts(b, t);
    kz_buf_putc(b, '"');
}

/* A JSON member: the literal that opens it (`,"key":`), then the string value or null; the
 * first member of an object also opens the object, after a comma from the second on. */
static void jstr(struct kz_buf *b, const char *key, const char *v) {
    kz_buf_puts(b, key);
    kz_buf_put_json_or_null(b, v);
}

static void jtm(struct kz_buf *b, const char *key, kz_time t) {
    kz_buf_puts(b, key);
    jtime(b, t);
}

static void jopen(struct kz_buf *b, uint32_t i, const char *key, const char *v) {
    if (i) kz_buf_putc(b, ',');
    kz_buf_putc(b, '{');
    jstr(b, key, v);
}

static void json(const struct kz_scope_result *r, struct kz_buf *b) {
    kz_buf_puts(b, "{\"subject\":{");
    kz_buf_put_json_or_null(b, r->subject_kind);
    kz_buf_putc(b, ':');
    kz_buf_put_json_or_null(b, r->subject);
    kz_buf_puts(b, "},\"since\":");
    if (r->has_since) jtime(b, r->since); else kz_buf_puts(b, "null");
    kz_buf_puts(b, ",\"until\":");
    if (r->has_until) jtime(b, r->until); else kz_buf_puts(b, "null");
    kz_buf_puts(b, ",\"hosts\":[");
    for (uint32_t i = 0; i < r->nhosts; i++) {
        const struct kz_scope_host *h = &r->hosts[i];
        jopen(b, i, "\"host\":", h->host);
        jtm(b, ",\"first\":", h->first);
        jtm(b, ",\"last\":", h->last);
        kz_buf_printf(b, ",\"logons\":%u,\"logon_types\":[", h->logons);
        for (uint32_t k = 0; k < h->ntypes; k++)
            kz_buf_printf(b, "%s%d", k ? "," : "", h->types[k]);
        kz_buf_puts(b, "],\"sources\":[");
        for (uint32_t k = 0; k < h->nsources; k++) {
            if (k) kz_buf_putc(b, ',');
            kz_buf_put_json_or_null(b, h->sources[k]);
        }
        kz_buf_puts(b, "],\"ran\":");
        kz_buf_put_json_or_null(b, h->ran);
        kz_buf_putc(b, '}');
    }
    kz_buf_puts(b, "],\"edges\":[");
    for (uint32_t i = 0; i < r->nedges; i++) {
        const struct kz_scope_edge *e = &r->edges[i];
        jopen(b, i, "\"from\":", e->from);
        jstr(b, ",\"to\":", e->to);
        jstr(b, ",\"user\":", e->user);
        kz_buf_printf(b, ",\"logon_type\":%d", e->logon_type);
        jtm(b, ",\"first\":", e->first);
        kz_buf_printf(b, ",\"count\":%u}", e->count);
    }
    kz_buf_puts(b, "],\"files\":[");
    for (uint32_t i = 0; i < r->nfiles; i++) {
        const struct kz_scope_file *f = &r->files[i];
        jopen(b, i, "\"path\":", f->path);
        jstr(b, ",\"share\":", f->share);
        jstr(b, ",\"host\":", f->host);
        jstr(b, ",\"renamed_to\":", f->renamed_to);
        kz_buf_printf(b, ",\"reads\":%u,\"writes\":%u,\"renames\":%u,\"deletes\":%u,\"bytes\":%lld",
                      f->reads, f->writes, f->renames, f->deletes, (long long)f->bytes);
        jtm(b, ",\"first\":", f->first);
        jtm(b, ",\"last\":", f->last);
        jstr(b, ",\"customer\":", f->customer);
        kz_buf_putc(b, '}');
    }
    kz_buf_puts(b, "],\"customers\":[");
    for (uint32_t i = 0; i < r->ncustomers; i++) {
        const struct kz_scope_customer *c = &r->customers[i];
        jopen(b, i, "\"customer\":", c->customer);
        kz_buf_printf(b, ",\"files\":%u", c->files);
        jtm(b, ",\"first\":", c->first);
        jtm(b, ",\"last\":", c->last);
        kz_buf_printf(b, ",\"access\":\"%s\"}", c->written ? "write" : "read");
    }
    kz_buf_puts(b, "],\"web\":[");
    for (uint32_t i = 0; i < r->nweb; i++) {
        const struct kz_scope_web *w = &r->web[i];
        jopen(b, i, "\"server\":", w->server);
        jstr(b, ",\"client\":", w->client);
        jstr(b, ",\"user\":", w->user);
        jtm(b, ",\"first\":", w->first);
        jtm(b, ",\"last\":", w->last);
        kz_buf_printf(b, ",\"requests\":%u,\"errors\":%u}", w->requests, w->errors);
    }
    kz_buf_puts(b, "],\"vpn\":[");
    for (uint32_t i = 0; i < r->nvpn; i++) {
        const struct kz_scope_vpn *v = &r->vpn[i];
        jopen(b, i, "\"gateway\":", v->gateway);
        jstr(b, ",\"user\":", v->user);
        jstr(b, ",\"remote\":", v->remote);
        jstr(b, ",\"tunnel\":", v->tunnel);
        jtm(b, ",\"start\":", v->start);
        jtm(b, ",\"end\":", v->end);
        kz_buf_printf(b, ",\"id\":%lld}", (long long)v->id);
    }
    kz_buf_puts(b, "]}\n");
}

static void cell(struct kz_buf *b, const char *s) {
    kz_finding_csv_cell(b, s ? s : "", s ? strlen(s) : 0);
}

static void ctime_cell(struct kz_buf *b, kz_time t) {
    char s[KZ_TIME_TEXT_MAX];
    kz_time_format(t, 3, s);
    cell(b, s);
}

/* One CSV for all four sections: section,name,host,user,first,last,count,reads,writes,deletes,
 * bytes,customer,detail. */
static void csv(const struct kz_scope_result *r, struct kz_buf *b) {
    kz_buf_puts(b, "section,name,host,user,first,last,count,reads,writes,deletes,bytes,customer,"
                   "detail\n");
    char num[64];
    for (uint32_t i = 0; i < r->nhosts; i++) {
        const struct kz_scope_host *h = &r->hosts[i];
        cell(b, "host"), kz_buf_putc(b, ','), cell(b, h->host), kz_buf_puts(b, ",,,");
        ctime_cell(b, h->first), kz_buf_putc(b, ','), ctime_cell(b, h->last);
        kz_buf_printf(b, ",%u,,,,,,", h->logons);
        struct kz_buf d;
        kz_buf_init(&d, 1 << 16);
        for (uint32_t k = 0; k < h->nsources; k++)
            kz_buf_printf(&d, "%s%s", k ? " " : "", h->sources[k]);
        if (h->ran) kz_buf_printf(&d, "%sran %s", h->nsources ? " " : "", h->ran);
        cell(b, d.data ? d.data : "");
        kz_buf_free(&d);
        kz_buf_putc(b, '\n');
    }
    for (uint32_t i = 0; i < r->nedges; i++) {
        const struct kz_scope_edge *e = &r->edges[i];
        cell(b, "edge"), kz_buf_putc(b, ','), cell(b, e->from), kz_buf_putc(b, ',');
        cell(b, e->to), kz_buf_putc(b, ','), cell(b, e->user), kz_buf_putc(b, ',');
        ctime_cell(b, e->first);
        snprintf(num, sizeof num, "logon type %d", e->logon_type);
        kz_buf_printf(b, ",,%u,,,,,,", e->count);
        cell(b, num);
        kz_buf_putc(b, '\n');
    }
    for (uint32_t i = 0; i < r->nfiles; i++) {
        const struct kz_scope_file *f = &r->files[i];
        cell(b, "file"), kz_buf_putc(b, ','), cell(b, f->path), kz_buf_putc(b, ',');
        cell(b, f->host), kz_buf_puts(b, ",,");
        ctime_cell(b, f->first), kz_buf_putc(b, ','), ctime_cell(b, f->last);
        kz_buf_printf(b, ",,%u,%u,%u,%lld,", f->reads, f->writes, f->deletes, (long long)f->bytes);
        cell(b, f->customer);
        kz_buf_putc(b, ',');
        cell(b, f->share);
        kz_buf_putc(b, '\n');
    }
    for (uint32_t i = 0; i < r->ncustomers; i++) {
        const struct kz_scope_customer *c = &r->customers[i];
        cell(b, "customer"), kz_buf_putc(b, ','), cell(b, c->customer), kz_buf_puts(b, ",,,");
        ctime_cell(b, c->first), kz_buf_putc(b, ','), ctime_cell(b, c->last);
        kz_buf_printf(b, ",%u,,,,,", c->files);
        cell(b, c->customer);
        kz_buf_putc(b, ',');
        cell(b, c->written ? "write" : "read");
        kz_buf_putc(b, '\n');
    }
    for (uint32_t i = 0; i < r->nweb; i++) { /* name: the client; detail: the requests */
        const struct kz_scope_web *w = &r->web[i];
        cell(b, "web"), kz_buf_putc(b, ','), cell(b, w->client), kz_buf_putc(b, ',');
        cell(b, w->server), kz_buf_putc(b, ','), cell(b, w->user), kz_buf_putc(b, ',');
        ctime_cell(b, w->first), kz_buf_putc(b, ','), ctime_cell(b, w->last);
        kz_buf_printf(b, ",%u,,,,,,%u errors\n", w->requests, w->errors);
    }
    for (uint32_t i = 0; i < r->nvpn; i++) { /* name: the remote address; detail: the tunnel's */
        const struct kz_scope_vpn *v = &r->vpn[i];
        cell(b, "vpn"), kz_buf_putc(b, ','), cell(b, v->remote), kz_buf_putc(b, ',');
        cell(b, v->gateway), kz_buf_putc(b, ','), cell(b, v->user), kz_buf_putc(b, ',');
        ctime_cell(b, v->start), kz_buf_putc(b, ','), ctime_cell(b, v->end);
        kz_buf_puts(b, ",1,,,,,,");
        cell(b, v->tunnel);
        kz_buf_putc(b, '\n');
    }
}

static void dot_str(struct kz_buf *b, const char *s) {
    kz_buf_putc(b, '"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') kz_buf_putc(b, '\\');
        if ((unsigned char)*s < 0x20) continue;
        kz_buf_putc(b, *s);
    }
    kz_buf_putc(b, '"');
}

/* A host reached only by running a file the account wrote: no logon, no source. */
static int ran_only(const struct kz_scope_host *h) {
    return h->ran && !h->logons && !h->nsources;
}

/* Whether host i is the first (of those that ran a file, or with only: of those reached only so)
 * to have run its file: the table and DOT show each file once, then its hosts. */
static int first_with_file(const struct kz_scope_result *r, uint32_t i, int only) {
    const struct kz_scope_host *h = &r->hosts[i];
    if (!h->ran || (only && !ran_only(h))) return 0;
    for (uint32_t k = 0; k < i; k++) {
        const struct kz_scope_host *x = &r->hosts[k];
        if (x->ran && (!only || ran_only(x)) && !strcmp(x->ran, h->ran)) return 0;
    }
    return 1;
}

static void dot(const struct kz_scope_result *r, struct kz_buf *b) {
    kz_buf_puts(b, "digraph scope {\n  rankdir=LR;\n  node [shape=box];\n");
    for (uint32_t i = 0; i < r->nedges; i++) {
        const struct kz_scope_edge *e = &r->edges[i];
        char label[512];
        snprintf(label, sizeof label, "%s (type %d) x%u", e->user ? e->user : "?", e->logon_type,
                 e->count);
        kz_buf_puts(b, "  ");
        dot_str(b, e->from);
        kz_buf_puts(b, " -> ");
        dot_str(b, e->to);
        kz_buf_puts(b, " [label=");
        dot_str(b, label);
        kz_buf_puts(b, "];\n");
    }
    /* a file the account wrote and the hosts that ran it: the file once (a note on its server,
     * "written by" the subject), a dashed edge to each host */
    char key[256];
    for (uint32_t i = 0; i < r->nhosts; i++) {
        const struct kz_scope_host *h = &r->hosts[i];
        if (!h->ran) continue;
        if (first_with_file(r, i, 0)) {
            const char *base = strrchr(h->ran, '\\');
            kz_buf_puts(b, "  ");
            dot_str(b, h->ran);
            kz_buf_puts(b, " [shape=note, label=");
            dot_str(b, base ? base + 1 : h->ran);
            kz_buf_puts(b, "];\n  ");
            dot_str(b, kz_store_host_key(h->ran, key, sizeof key));
            kz_buf_puts(b, " -> ");
            dot_str(b, h->ran);
            kz_buf_puts(b, " [label=");
            char label[512];
            snprintf(label, sizeof label, "written by %s", r->subject ? r->subject : "?");
            dot_str(b, label);
            kz_buf_puts(b, "];\n");
        }
        kz_buf_puts(b, "  ");
        dot_str(b, h->ran);
        kz_buf_puts(b, " -> ");
        dot_str(b, kz_store_host_key(h->host, key, sizeof key));
        kz_buf_puts(b, " [style=dashed, label=\"ran\"];\n");
    }
    kz_buf_puts(b, "}\n");
}

static void h(struct kz_buf *b, const char *s) {
    if (s) kz_buf_put_xml_str(b, s, strlen(s));
}

static void htime(struct kz_buf *b, kz_time t) {
    char s[KZ_TIME_TEXT_MAX];
    kz_time_format(t, 0, s);
    kz_buf_puts(b, s);
}

/* Table cells: <td>, the value escaped, </td>. */
static void hcell(struct kz_buf *b, const char *s) {
    kz_buf_puts(b, "<td>");
    h(b, s);
    kz_buf_puts(b, "</td>");
}

static void hcell_time(struct kz_buf *b, kz_time t) {
    kz_buf_puts(b, "<td>");
    htime(b, t);
    kz_buf_puts(b, "</td>");
}

/* A table's opening and its header row, from the column names (fixed text, not escaped). */
static void hhead(struct kz_buf *b, const char *const *cols, size_t n) {
    kz_buf_puts(b, "<table><tr>");
    for (size_t i = 0; i < n; i++)
        kz_buf_printf(b, "<th>%s</th>", cols[i]);
    kz_buf_puts(b, "</tr>\n");
}
#define HHEAD(b, ...)                                                                      \
    hhead(b, (const char *const[]){__VA_ARGS__},                                           \
          sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* The graph is drawn as inline SVG, nodes on a circle: no script, no external resource, so the
 * page is safe to open and works offline. */
static void html(const struct kz_scope_result *r, struct kz_buf *b) {
    kz_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'\"><title>kizuki scope: ");
    h(b, r->subject);
    kz_buf_puts(b, "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
                   "collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
                   "th{background:#eee}</style></head><body>\n<h1>Scope of ");
    h(b, r->subject_kind);
    kz_buf_putc(b, ' ');
    h(b, r->subject);
    kz_buf_printf(b, "</h1>\n<p>%u hosts, %u hops, %u files, %u customers, %u web client/server "
                     "pairs, %u VPN tunnels</p>\n",
                  r->nhosts, r->nedges, r->nfiles, r->ncustomers, r->nweb, r->nvpn);
    /* nodes: every endpoint of an edge */
    const char *nodes[256];
    uint32_t nn = 0;
    for (uint32_t i = 0; i < r->nedges; i++) {
        const char *ends[2] = {r->edges[i].from, r->edges[i].to};
        for (int k = 0; k < 2; k++) {
            int seen = 0;
            for (uint32_t m = 0; m < nn && !seen; m++)
                seen = !strcmp(nodes[m], ends[k]);
            if (!seen && nn < 256) nodes[nn++] = ends[k];
        }
    }
    kz_buf_puts(b, "<h2>Lateral movement</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                   "width=\"900\" height=\"600\">\n");
    double cx = 450, cy = 300, rad = 240;
    double x[256], y[256];
    for (uint32_t m = 0; m < nn; m++) {
        double a = 6.283185307179586 * m / (nn ? nn : 1);
        double ca = cos(a), sa = sin(a);
        x[m] = cx + rad * ca;
        y[m] = cy + rad * sa;
    }
    for (uint32_t i = 0; i < r->nedges; i++) {
        uint32_t f = 0, t = 0;
        for (uint32_t m = 0; m < nn; m++) {
            if (!strcmp(nodes[m], r->edges[i].from)) f = m;
            if (!strcmp(nodes[m], r->edges[i].to)) t = m;
        }
        kz_buf_printf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#c33\"/>",
                      x[f], y[f], x[t], y[t]);
    }
    for (uint32_t m = 0; m < nn; m++) {
        kz_buf_printf(b, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"5\"/><text x=\"%.0f\" y=\"%.0f\" "
                         "font-size=\"12\">",
                      x[m], y[m], x[m] + 7, y[m] - 7);
        h(b, nodes[m]);
        kz_buf_puts(b, "</text>\n");
    }
    kz_buf_puts(b, "</svg>\n<h2>Timeline of hops</h2>\n");
    HHEAD(b, "first", "from", "to", "account", "logon type", "count");
    for (uint32_t i = 0; i < r->nedges; i++) {
        const struct kz_scope_edge *e = &r->edges[i];
        kz_buf_puts(b, "<tr>");
        hcell_time(b, e->first);
        hcell(b, e->from);
        hcell(b, e->to);
        hcell(b, e->user);
        kz_buf_printf(b, "<td>%d</td><td>%u</td></tr>\n", e->logon_type, e->count);
    }
    kz_buf_puts(b, "</table>\n<h2>Hosts</h2>\n");
    HHEAD(b, "host", "first", "last", "logons", "ran a file the account wrote");
    for (uint32_t i = 0; i < r->nhosts; i++) {
        kz_buf_puts(b, "<tr>");
        hcell(b, r->hosts[i].host);
        hcell_time(b, r->hosts[i].first);
        hcell_time(b, r->hosts[i].last);
        kz_buf_printf(b, "<td>%u</td>", r->hosts[i].logons);
        hcell(b, r->hosts[i].ran ? r->hosts[i].ran : "");
        kz_buf_puts(b, "</tr>\n");
    }
    kz_buf_puts(b, "</table>\n<h2>Customers affected</h2>\n");
    HHEAD(b, "customer", "files", "first", "last", "access");
    for (uint32_t i = 0; i < r->ncustomers; i++) {
        const struct kz_scope_customer *c = &r->customers[i];
        kz_buf_puts(b, "<tr>");
        hcell(b, c->customer);
        kz_buf_printf(b, "<td>%u</td>", c->files);
        hcell_time(b, c->first);
        hcell_time(b, c->last);
        kz_buf_printf(b, "<td>%s</td></tr>\n", c->written ? "write" : "read");
    }
    kz_buf_puts(b, "</table>\n");
    /* web and VPN sessions: every value (request paths, user names) came from a log line */
    if (r->nweb) {
        kz_buf_printf(b, "<h2>Web sessions (%u client/server pairs)</h2>\n", r->nweb);
        HHEAD(b, "server", "client", "user", "first", "last", "requests", "errors");
        for (uint32_t i = 0; i < r->nweb; i++) {
            const struct kz_scope_web *w = &r->web[i];
            kz_buf_puts(b, "<tr>");
            hcell(b, w->server);
            hcell(b, w->client);
            hcell(b, w->user);
            hcell_time(b, w->first);
            hcell_time(b, w->last);
            kz_buf_printf(b, "<td>%u</td><td>%u</td></tr>\n", w->requests, w->errors);
        }
        kz_buf_puts(b, "</table>\n");
    }
    if (r->nvpn) {
        kz_buf_printf(b, "<h2>VPN sessions (%u tunnels)</h2>\n", r->nvpn);
        HHEAD(b, "gateway", "user", "remote address", "tunnel address", "start", "end",
              "tunnel id");
        for (uint32_t i = 0; i < r->nvpn; i++) {
            const struct kz_scope_vpn *v = &r->vpn[i];
            kz_buf_puts(b, "<tr>");
            hcell(b, v->gateway);
            hcell(b, v->user);
            hcell(b, v->remote);
            hcell(b, v->tunnel);
            hcell_time(b, v->start);
            hcell_time(b, v->end);
            kz_buf_printf(b, "<td>%lld</td></tr>\n", (long long)v->id);
        }
        kz_buf_puts(b, "</table>\n");
    }
    kz_buf_puts(b, "</body></html>\n");
}

static void table(const struct kz_scope_result *r, int colour, struct kz_buf *b) {
    const char *bold = colour ? "\033[1m" : "", *off = colour ? "\033[0m" : "";
    kz_buf_printf(b, "%sscope of %s %s%s\n\n%sHOSTS (%u)%s\n", bold, r->subject_kind, r->subject,
                  off, bold, r->nhosts, off);
    char f[KZ_TIME_TEXT_MAX], l[KZ_TIME_TEXT_MAX];
    for (uint32_t i = 0; i < r->nhosts; i++) {
        const struct kz_scope_host *x = &r->hosts[i];
        if (ran_only(x)) continue;
        kz_time_format(x->first, 0, f);
        kz_time_format(x->last, 0, l);
        kz_buf_printf(b, "  %-32s %s .. %s  %u logons", x->host, f, l, x->logons);
        for (uint32_t k = 0; k < x->nsources && k < 4; k++)
            kz_buf_printf(b, "%s%s", k ? ", " : "  from ", x->sources[k]);
        if (x->ran) { /* the full path is in the JSON, and in the heading below */
            const char *base = strrchr(x->ran, '\\');
            kz_buf_printf(b, "  ran %s%s", base ? "...\\" : "", base ? base + 1 : x->ran);
        }
        kz_buf_putc(b, '\n');
    }
    /* Hosts reached only by running a file the account wrote (a GPO script: every machine of the
     * domain) are many and alike: one heading per file, then their names, packed. */
    for (uint32_t i = 0; i < r->nhosts; i++) {
        const struct kz_scope_host *x = &r->hosts[i];
        if (!first_with_file(r, i, 1)) continue;
        uint32_t n = 0;
        kz_time t0 = x->first, t1 = x->last;
        for (uint32_t k = i; k < r->nhosts; k++) {
            const struct kz_scope_host *y = &r->hosts[k];
            if (!ran_only(y) || strcmp(y->ran, x->ran)) continue;
            n++;
            if (y->first < t0) t0 = y->first;
            if (y->last > t1) t1 = y->last;
        }
        kz_time_format(t0, 0, f);
        kz_time_format(t1, 0, l);
        /* names in one domain are shown without it, once in the heading */
        const char *dom = x->host ? strchr(x->host, '.') : NULL;
        for (uint32_t k = i; k < r->nhosts && dom; k++) {
            const struct kz_scope_host *y = &r->hosts[k];
            if (!ran_only(y) || strcmp(y->ran, x->ran)) continue;
            const char *d = y->host ? strchr(y->host, '.') : NULL;
            if (!d || strcmp(d, dom)) dom = NULL;
        }
        kz_buf_printf(b, "  %u hosts%s%s ran %s (no logon), %s .. %s:\n", n, dom ? " of " : "",
                      dom ? dom + 1 : "", x->ran, f, l);
        size_t col = 0;
        for (uint32_t k = i; k < r->nhosts; k++) {
            const struct kz_scope_host *y = &r->hosts[k];
            if (!ran_only(y) || strcmp(y->ran, x->ran)) continue;
            const char *name = y->host ? y->host : "?";
            size_t w = dom ? (size_t)(strchr(name, '.') - name) : strlen(name);
            if (col && col + w + 2 > 96) {
                kz_buf_puts(b, ",\n");
                col = 0;
            }
            kz_buf_puts(b, col ? ", " : "    ");
            kz_buf_append(b, name, w);
            col += w + 2;
        }
        kz_buf_putc(b, '\n');
    }
    kz_buf_printf(b, "\n%sLATERAL MOVEMENT (%u hops)%s\n", bold, r->nedges, off);
    for (uint32_t i = 0; i < r->nedges; i++) {
        const struct kz_scope_edge *e = &r->edges[i];
        kz_time_format(e->first, 0, f);
        kz_buf_printf(b, "  %s  %s -> %s  as %s (logon type %d) x%u\n", f, e->from, e->to,
                      e->user ? e->user : "?", e->logon_type, e->count);
    }
    uint32_t reads = 0, writes = 0;
    for (uint32_t i = 0; i < r->nfiles; i++) {
        reads += r->files[i].reads;
        writes += r->files[i].writes + r->files[i].deletes + r->files[i].renames;
    }
    kz_buf_printf(b, "\n%sFILES (%u: %u reads, %u writes/deletes)%s\n", bold, r->nfiles, reads,
                  writes, off);
    for (uint32_t i = 0; i < r->nfiles && i < 20; i++)
        kz_buf_printf(b, "  %s%s%s%s%s%s\n", r->files[i].path, r->files[i].customer ? "  [" : "",
                      r->files[i].customer ? r->files[i].customer : "",
                      r->files[i].customer ? "]" : "",
                      r->files[i].renamed_to ? "  renamed to " : "",
                      r->files[i].renamed_to ? r->files[i].renamed_to : "");
    if (r->nfiles > 20) kz_buf_printf(b, "  ... and %u more (--format json lists all)\n",
                                      r->nfiles - 20);
    kz_buf_printf(b, "\n%sCUSTOMERS AFFECTED (%u)%s\n", bold, r->ncustomers, off);
    for (uint32_t i = 0; i < r->ncustomers; i++) {
        const struct kz_scope_customer *c = &r->customers[i];
        kz_time_format(c->first, 0, f);
        kz_time_format(c->last, 0, l);
        kz_buf_printf(b, "  %-40s %4u files  %s .. %s  %s\n", c->customer, c->files, f, l,
                      c->written ? "WRITTEN" : "read");
    }
    if (r->nweb) kz_buf_printf(b, "\n%sWEB (%u client/server pairs)%s\n", bold, r->nweb, off);
    for (uint32_t i = 0; i < r->nweb && i < 20; i++) {
        const struct kz_scope_web *w = &r->web[i];
        kz_time_format(w->first, 0, f);
        kz_time_format(w->last, 0, l);
        kz_buf_printf(b, "  %s -> %s%s%s  %s .. %s  %u requests (%u errors)\n",
                      w->client ? w->client : "?", w->server ? w->server : "?",
                      w->user ? " as " : "", w->user ? w->user : "", f, l, w->requests,
                      w->errors);
    }
    if (r->nvpn) kz_buf_printf(b, "\n%sVPN (%u tunnels)%s\n", bold, r->nvpn, off);
    for (uint32_t i = 0; i < r->nvpn && i < 20; i++) {
        const struct kz_scope_vpn *v = &r->vpn[i];
        kz_time_format(v->start, 0, f);
        kz_time_format(v->end, 0, l);
        kz_buf_printf(b, "  %s .. %s  %s from %s via %s, tunnel address %s\n", f, l,
                      v->user ? v->user : "?", v->remote ? v->remote : "?",
                      v->gateway ? v->gateway : "?", v->tunnel ? v->tunnel : "?");
    }
    if (r->truncated) kz_buf_puts(b, "\n(a limit was reached: the answer may be incomplete)\n");
}

void kz_scope_render(const struct kz_scope_result *r, enum kz_scope_format f, int colour,
                     struct kz_buf *out) {
    switch (f) {
    case KZ_SCOPE_JSON: json(r, out); break;
    case KZ_SCOPE_CSV: csv(r, out); break;
    case KZ_SCOPE_DOT: dot(r, out); break;
    case KZ_SCOPE_HTML: html(r, out); break;
    case KZ_SCOPE_TABLE: table(r, colour, out); break;
    }
}
