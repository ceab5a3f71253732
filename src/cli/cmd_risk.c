/* cmd_risk.c - `kizuki risk`: the riskiest accounts and hosts of some logs, with their reasons.
 *
 * Why a command of its own: `scan` reports the moments risk crossed the threshold; an analyst
 * starting an investigation asks the other question, "who looks worst overall, and why", which
 * also shows entities that came close without alerting. It runs the same behaviour analytics as
 * `scan` (src/ueba: records extracted on the decoding threads, kept by the main thread, ordered
 * by time, scored) and then lists each entity's peak risk, when it peaked, its risk at the end of
 * the input and the reasons of its peak. `--state FILE` starts from (or only reads) a model saved
 * by `scan --ueba-state FILE`; `--store DIR` is the same with the model kept in an evidence
 * store's directory (DIR/ueba.state). */
#include "cli.h"
#include "cli_ueba.h"

#include "../core/alloc.h"
#include "../core/pool.h"
#include "../input/evtx/evtx_reader.h"
#include "../input/sources.h"
#include "../input/text_reader.h"
#include "../output/findings.h"
#include "../ueba/ueba.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: kizuki risk [PATH...] [--state FILE | --store DIR] [--top N]\n"
    "                   [--format table|json] [--threads N] [-o FILE] [UEBA options]\n"
    "\n"
    "Runs behaviour analytics (the `ueba` detector of `kizuki scan`) over the logs under PATH\n"
    "and lists the accounts and hosts whose risk rose highest, with when it peaked, what it is\n"
    "at the end of the input and every reason behind the peak (docs/ueba.md). With a saved\n"
    "model (--state or --store) and no PATH, lists from the model alone; with PATH too, the\n"
    "logs continue the saved history (the file is not changed).\n"
    "\n"
    "  --top N             entities listed (default 20)\n"
    "  --format F          table (default on a terminal) or json (one object: {\"entities\":\n"
    "                      [{\"kind\", \"name\", \"peak\", \"peak_ts\", \"now\", \"alerts\",\n"
    "                      \"reasons\"}]})\n"
    KZ_CLI_UEBA_HELP
    "  --threads N         decoding threads (default: one per CPU); the result is the same\n"
    "  -o FILE             write to FILE instead of standard output\n"
    "  --state FILE        a model saved by `kizuki scan --ueba-state FILE`\n"
    "  --store DIR         the model kept in an evidence store: DIR/ueba.state (written by\n"
    "                      `kizuki scan --ueba-state DIR/ueba.state`)\n"
    "\n"
    "examples:\n"
    "  kizuki risk logs/ --top 10\n"
    "  kizuki risk logs/ --format json -o risk.json\n"
    "  kizuki risk --state ueba.state --top 10\n";

struct risk {
    struct kz_cli cli;
    int json;
    struct kz_ueba *ueba;
    struct kz_sources sources;
    struct kz_evtx_reader *reader;
    struct kz_text_reader *text;
    struct kz_buf out;
    uint32_t listed;
};

static void pack(struct kz_buf *out, const struct kz_event *ev, uint32_t file_id) {
    struct kz_ueba_act act;
    if (!kz_ueba_extract(ev, &act)) return;
    act.file_id = file_id;
    size_t mark = out->len;
    uint32_t len = 0;
    kz_buf_append(out, &len, 4);
    kz_ueba_act_pack(out, &act);
    len = (uint32_t)(out->len - mark - 4);
    if (!out->failed) memcpy(out->data + mark, &len, 4);
}

static void emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                 uint32_t file_id, struct kz_buf *out) {
    pack(out, rec->event, file_id);
}

static void emit_text(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                      uint32_t file_id, struct kz_buf *out) {
    pack(out, ev, file_id);
}

static void write_out(void *ctx, const char *data, size_t len) {
    struct risk *r = ctx;
    const char *p = data, *end = data + len;
    while (end - p >= 4) {
        uint32_t n;
        memcpy(&n, p, 4);
        p += 4;
        if (n > (size_t)(end - p)) break; /* a truncated record: the buffer hit its cap */
        struct kz_ueba_act act;
        if (!kz_ueba_act_unpack(p, n, &act)) kz_ueba_keep(r->ueba, &act);
        p += n;
    }
    uint64_t bytes = kz_evtx_reader_bytes(r->reader) + kz_text_reader_bytes(r->text);
    kz_cli_progress(&r->cli, bytes, r->sources.bytes, kz_evtx_reader_stats(r->reader)->records);
}

static void report_problem(void *ctx, const char *path, const char *msg) {
    struct risk *r = ctx;
    if (!r->cli.quiet) kz_cli_warn(&r->cli, "%s: %s", path, msg);
}

static void report_source(void *ctx, const char *msg) {
    struct risk *r = ctx;
    kz_cli_error(&r->cli, "%s", msg);
}

static void list_entity(void *ctx, const struct kz_ueba_entity *e) {
    struct risk *r = ctx;
    struct kz_buf *b = &r->out;
    char peak[KZ_TIME_TEXT_MAX];
    kz_time_format(e->peak_ts, 0, peak);
    if (r->json) {
        kz_buf_puts(b, r->listed ? ",\n" : "\n");
        kz_buf_printf(b, "{\"kind\":\"%s\",\"name\":", e->is_host ? "host" : "user");
        kz_buf_putc(b, '"');
        kz_buf_put_json_str(b, e->name, strlen(e->name));
        kz_buf_putc(b, '"');
        kz_buf_printf(b,
                      ",\"peak\":%.1f,\"peak_ts\":\"%s\",\"now\":%.1f,\"alerts\":%u,\"reasons\":[",
                      e->risk_peak, peak, e->risk_now, e->alerts);
        for (uint32_t i = 0; i < e->nreasons; i++) {
            if (i) kz_buf_putc(b, ',');
            kz_buf_putc(b, '"');
            kz_buf_put_json_str(b, e->reasons[i], strlen(e->reasons[i]));
            kz_buf_putc(b, '"');
        }
        kz_buf_puts(b, "]}");
    } else {
        kz_buf_printf(b, "%-5s %5.1f  %s  %5.1f  %3u  ", e->is_host ? "host" : "user", e->risk_peak,
                      peak, e->risk_now, e->alerts);
        kz_finding_put_visible(b, e->name, strlen(e->name), 40);
        kz_buf_putc(b, '\n');
        for (uint32_t i = 0; i < e->nreasons; i++) {
            kz_buf_puts(b, "        - ");
            kz_finding_put_visible(b, e->reasons[i], strlen(e->reasons[i]), 200);
            kz_buf_putc(b, '\n');
        }
    }
    r->listed++;
}

int kz_cmd_risk(int argc, char **argv) {
    struct risk r = {0};
    kz_cli_init(&r.cli, "risk");
    kz_buf_init(&r.out, 64 << 20);
    const char **paths = kz_calloc((size_t)argc + 1, sizeof *paths);
    int npaths = 0, bad = 0, rc = KZ_EXIT_OK, format_given = 0;
    long top = 20, threads = 0;
    const char *outpath = NULL, *val, *state = NULL;
    struct kz_cli_ueba uopt;
    char *state_path = NULL;
    struct kz_pool *pool = NULL;
    FILE *out = stdout;
    if (kz_cli_ueba_init(&uopt, argc) || !paths) {
        kz_cli_ueba_free(&uopt);
        kz_free(paths);
        kz_buf_free(&r.out);
        return KZ_EXIT_INTERNAL;
    }
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&r.cli, a, help);
        if (common == KZ_CLI_DONE) goto out;
        if (common == KZ_CLI_HANDLED) continue;
        if (kz_cli_opt(&r.cli, argc, argv, &i, "--top", &val, &bad)) {
            if (!bad && kz_cli_int(&r.cli, "--top", val, 1, 1000000, &top)) bad = 1;
        } else if (kz_cli_opt(&r.cli, argc, argv, &i, "--format", &val, &bad)) {
            if (bad) break;
            format_given = 1;
            if (!strcmp(val, "json"))
                r.json = 1;
            else if (strcmp(val, "table")) {
                kz_cli_error(&r.cli, "--format: '%s' is not one of table, json", val);
                bad = 1;
            }
        } else if (kz_cli_ueba_opt(&r.cli, &uopt, argc, argv, &i, &bad)) {
            continue;
        } else if (kz_cli_opt(&r.cli, argc, argv, &i, "--threads", &val, &bad)) {
            if (!bad && kz_cli_int(&r.cli, "--threads", val, 1, 256, &threads)) bad = 1;
        } else if (kz_cli_opt(&r.cli, argc, argv, &i, "-o", &val, &bad)) {
            outpath = val;
        } else if (kz_cli_opt(&r.cli, argc, argv, &i, "--state", &val, &bad)) {
            if (!bad) state = val;
        } else if (kz_cli_opt(&r.cli, argc, argv, &i, "--store", &val, &bad)) {
            if (bad) break;
            size_t n = strlen(val) + sizeof "/ueba.state";
            kz_free(state_path);
            state_path = kz_malloc(n);
            if (!state_path) {
                rc = KZ_EXIT_INTERNAL;
                goto out;
            }
            snprintf(state_path, n, "%s/ueba.state", val);
            state = state_path;
        } else if (a[0] == '-' && a[1]) {
            kz_cli_error(&r.cli, "unknown option '%s' (see kizuki risk --help)", a);
            bad = 1;
        } else {
            paths[npaths++] = a;
        }
    }
    if (!bad && npaths == 0 && !state) {
        kz_cli_error(&r.cli, "no PATH and no --state given (see kizuki risk --help)");
        bad = 1;
    }
    if (bad) {
        rc = KZ_EXIT_INPUT;
        goto out;
    }
    if (!format_given) r.json = !isatty(outpath ? -1 : 1);
    if ((rc = kz_cli_ueba_open(&r.cli, &uopt, state, 0, NULL, &r.ueba))) goto out;
    for (int i = 0; i < npaths; i++)
        if (kz_sources_add(&r.sources, paths[i], report_source, &r)) {
            kz_cli_error(&r.cli, "out of memory listing inputs");
            rc = KZ_EXIT_INTERNAL;
            goto out;
        }
    if (r.sources.errors) rc = KZ_EXIT_INPUT;
    if (outpath && !(out = fopen(outpath, "w"))) {
        kz_cli_error(&r.cli, "%s: %s", outpath, strerror(errno));
        rc = KZ_EXIT_INPUT;
        goto out;
    }
    pool = kz_pool_new((int)threads);
    struct kz_evtx_reader_opts o = {
        .emit = emit, .write = write_out, .report = report_problem, .ctx = &r};
    struct kz_text_reader_opts to = {
        .emit = emit_text, .write = write_out, .report = report_problem, .ctx = &r};
    r.reader = pool ? kz_evtx_reader_new(pool, &o) : NULL;
    r.text = pool ? kz_text_reader_new(pool, &to) : NULL;
    if (!r.reader || !r.text) {
        kz_cli_error(&r.cli, "out of memory starting the decoder");
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    /* one reader at a time, draining the other first: records are kept in file order */
    for (uint32_t i = 0; i < r.sources.n; i++) {
        struct kz_err err = {0};
        uint8_t fmt = r.sources.v[i].format;
        int arc;
        if (fmt == KZ_FMT_EVTX) {
            kz_text_reader_flush(r.text);
            arc = kz_evtx_reader_add_file(r.reader, r.sources.v[i].path, i, &err);
        } else {
            kz_evtx_reader_flush(r.reader);
            arc = kz_text_reader_add_file(r.text, r.sources.v[i].path, fmt, i, &err);
        }
        if (arc) {
            kz_cli_error(&r.cli, "%s", err.msg);
            rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        }
    }
    kz_evtx_reader_flush(r.reader);
    kz_text_reader_flush(r.text);
    kz_cli_progress_clear(&r.cli);
    kz_ueba_run(r.ueba, NULL, NULL);
    if (r.json)
        kz_buf_puts(&r.out, "{\"entities\":[");
    else
        kz_buf_puts(&r.out, "KIND   PEAK  PEAK AT               NOW  ALERTS  NAME / REASONS\n");
    kz_ueba_top(r.ueba, (uint32_t)top, list_entity, &r);
    if (r.json) kz_buf_puts(&r.out, r.listed ? "\n]}\n" : "]}\n");
    if (r.out.failed || fwrite(r.out.data, 1, r.out.len, out) != r.out.len || fflush(out)) {
        kz_cli_error(&r.cli, "writing output: %s", strerror(errno));
        rc = KZ_EXIT_INPUT;
    }
    if (!r.cli.quiet) {
        struct kz_ueba_stats st;
        kz_ueba_stats(r.ueba, &st);
        fprintf(stderr,
                "kizuki risk: %llu activities, %u accounts, %u hosts, %llu alerts; model %.1f "
                "MiB (%.0f bytes per entity)\n",
                (unsigned long long)st.records, st.users, st.hosts, (unsigned long long)st.alerts,
                (double)st.bytes / (1 << 20),
                st.users + st.hosts ? (double)st.bytes / (st.users + st.hosts) : 0.0);
    }
out:
    if (r.reader) kz_evtx_reader_free(r.reader);
    if (r.text) kz_text_reader_free(r.text);
    kz_pool_free(pool);
    if (out && out != stdout) fclose(out);
    kz_ueba_free(r.ueba);
    kz_cli_ueba_free(&uopt); /* after the engine that uses it */
    kz_sources_free(&r.sources);
    kz_buf_free(&r.out);
    kz_free(paths);
    kz_free(state_path);
    return rc;
}
