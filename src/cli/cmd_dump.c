/* cmd_dump.c - `kizuki dump`: decode logs and print every event, one per line, in file order.
 *
 * It is how a user sees what kizuki understood of a log, and the decoder's test and benchmark
 * harness. */
#include "cli.h"

#include "../core/alloc.h"
#include "../core/pool.h"
#include "../input/evtx/evtx_reader.h"
#include "../input/sources.h"
#include "../input/text_reader.h"
#include "../output/event_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: kizuki dump PATH... [--format jsonl|xml] [--slack] [--threads N] [-o FILE] [--quiet]\n"
    "\n"
    "Decodes every event of the logs under PATH (files, or folders walked recursively; the format\n"
    "is told by content: EVTX, JSON lines of Windows events (Winlogbeat, NXLog), Windows event\n"
    "XML (wevtutil, evtxexport), web access logs (nginx, Apache, Tomcat, IIS W3C), Squid proxy\n"
    "logs, FortiGate logs, syslog (auth logs, Sysmon for Linux, Samba audit), auditd (records of\n"
    "one event assembled); .gz, .zst and the members of .zip archives read in place) and prints\n"
    "one event per line,\n"
    "in file order. Formats and fields: docs/inputs.md.\n"
    "\n"
    "  --format jsonl  (default) one JSON object per event: ts, file, record_id, event_id, "
    "channel,\n"
    "                  host, provider, norm (the entities kizuki recognised), then System, "
    "EventData\n"
    "                  and UserData with the fields under their Windows names\n"
    "  --format xml    each event as Windows' own XML, on one line (EVTX only; text logs are\n"
    "                  skipped)\n"
    "  --slack         also recover records from free space and from chunks the file header no\n"
    "                  longer counts (deleted or overwritten events; may include stale data)\n"
    "  --threads N     decoding threads (default: one per CPU); output order never changes\n"
    "  -o FILE         write to FILE instead of standard output\n"
    "  --quiet         no progress and no summary on stderr\n"
    "\n"
    "Damaged files are read as far as they can be: bad chunks, records and lines are skipped,\n"
    "reported on stderr with their offsets or line numbers, and counted in the summary.\n"
    "\n"
    "examples:\n"
    "  kizuki dump Security.evtx | head -1\n"
    "  kizuki dump --format xml logs/ > events.xml\n"
    "  kizuki dump --slack suspicious.evtx -o recovered.jsonl\n";

enum out_format { OUT_JSONL, OUT_XML };

struct dump {
    struct kz_cli cli;
    enum out_format format;
    struct kz_sources sources;
    FILE *out;
    int write_failed;
    struct kz_evtx_reader *reader;
    struct kz_text_reader *text; /* text logs (JSON lines, access logs, FortiGate) */
    char **file_json; /* each source path as a JSON string, quoted once */
};

static void emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                 uint32_t file_id, struct kz_buf *out) {
    struct dump *dp = ctx;
    if (dp->format == OUT_XML) {
        size_t mark = out->len;
        if (kz_evtx_render_xml(d, rec, out))
            out->len = mark;
        else
            kz_buf_putc(out, '\n');
        return;
    }
    kz_event_json(out, rec->event, dp->file_json[file_id]);
}

static void emit_text(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                      uint32_t file_id, struct kz_buf *out) {
    struct dump *dp = ctx;
    kz_event_json(out, ev, dp->file_json[file_id]);
}

static void write_out(void *ctx, const char *data, size_t len) {
    struct dump *dp = ctx;
    if (!dp->write_failed && fwrite(data, 1, len, dp->out) != len) dp->write_failed = 1;
    uint64_t bytes = kz_evtx_reader_bytes(dp->reader), events = kz_evtx_reader_stats(dp->reader)->records;
    if (dp->text) {
        bytes += kz_text_reader_bytes(dp->text);
        events += kz_text_reader_stats(dp->text)->events;
    }
    kz_cli_progress(&dp->cli, bytes, dp->sources.bytes, events);
}

static void report_problem(void *ctx, const char *path, const char *msg) {
    struct dump *dp = ctx;
    if (!dp->cli.quiet) kz_cli_warn(&dp->cli, "%s: %s", path, msg);
}

static void report_source(void *ctx, const char *msg) {
    struct dump *dp = ctx;
    kz_cli_error(&dp->cli, "%s", msg);
}

int kz_cmd_dump(int argc, char **argv) {
    struct dump dp = {0};
    kz_cli_init(&dp.cli, "dump");
    const char **paths = kz_calloc((size_t)argc, sizeof *paths);
    int npaths = 0, bad = 0, slack = 0, rc = KZ_EXIT_OK;
    long threads = 0;
    const char *outpath = NULL, *val;
    if (!paths) return KZ_EXIT_INTERNAL;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&dp.cli, a, help);
        if (common == KZ_CLI_DONE) {
            kz_free(paths);
            return KZ_EXIT_OK;
        } else if (common == KZ_CLI_HANDLED) {
            continue;
        } else if (kz_cli_flag(a, "--slack")) {
            slack = 1;
        } else if (kz_cli_opt(&dp.cli, argc, argv, &i, "--format", &val, &bad)) {
            if (bad) break;
            if (!strcmp(val, "jsonl") || !strcmp(val, "json"))
                dp.format = OUT_JSONL;
            else if (!strcmp(val, "xml"))
                dp.format = OUT_XML;
            else {
                kz_cli_error(&dp.cli, "--format: '%s' is not one of jsonl, xml", val);
                bad = 1;
            }
        } else if (kz_cli_opt(&dp.cli, argc, argv, &i, "--threads", &val, &bad)) {
            if (!bad && kz_cli_int(&dp.cli, "--threads", val, 1, 256, &threads)) bad = 1;
        } else if (kz_cli_opt(&dp.cli, argc, argv, &i, "-o", &val, &bad) ||
                   kz_cli_opt(&dp.cli, argc, argv, &i, "--output", &val, &bad)) {
            outpath = val;
        } else if (a[0] == '-' && a[1]) {
            kz_cli_error(&dp.cli, "unknown option '%s' (see kizuki dump --help)", a);
            bad = 1;
        } else {
            paths[npaths++] = a;
        }
    }
    if (!bad && npaths == 0) {
        kz_cli_error(&dp.cli, "no PATH given (see kizuki dump --help)");
        bad = 1;
    }
    if (bad) {
        kz_free(paths);
        return KZ_EXIT_INPUT;
    }

    double t0 = kz_cli_now();
    for (int i = 0; i < npaths; i++) {
        if (kz_sources_add(&dp.sources, paths[i], report_source, &dp)) {
            kz_cli_error(&dp.cli, "out of memory listing inputs");
            rc = KZ_EXIT_INTERNAL;
            goto out;
        }
    }
    if (dp.sources.errors) rc = KZ_EXIT_INPUT;
    dp.file_json = kz_calloc(dp.sources.n + 1, sizeof *dp.file_json);
    for (uint32_t i = 0; dp.file_json && i < dp.sources.n; i++) {
        struct kz_buf q;
        kz_buf_init(&q, 1 << 20);
        kz_json_quote(&q, dp.sources.v[i].path);
        dp.file_json[i] = q.data; /* NULL if out of memory: the event is then printed without it */
    }
    if (!dp.file_json) {
        kz_cli_error(&dp.cli, "out of memory listing inputs");
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    dp.out = stdout;
    if (outpath && !(dp.out = fopen(outpath, "w"))) {
        kz_cli_error(&dp.cli, "%s: %s", outpath, strerror(errno));
        rc = KZ_EXIT_INPUT;
        goto out;
    }
    static char obuf[1 << 20];
    setvbuf(dp.out, obuf, _IOFBF, sizeof obuf);

    struct kz_pool *pool = kz_pool_new((int)threads);
    struct kz_evtx_reader_opts o = {
        .slack = slack, .emit = emit, .write = write_out, .report = report_problem, .ctx = &dp};
    struct kz_text_reader_opts to = {
        .emit = emit_text, .write = write_out, .report = report_problem, .ctx = &dp};
    dp.reader = pool ? kz_evtx_reader_new(pool, &o) : NULL;
    dp.text = pool ? kz_text_reader_new(pool, &to) : NULL;
    if (!dp.reader || !dp.text) {
        kz_evtx_reader_free(dp.reader);
        kz_text_reader_free(dp.text);
        kz_cli_error(&dp.cli, "out of memory starting the decoder");
        kz_pool_free(pool);
        rc = KZ_EXIT_INTERNAL;
        goto out;
    }
    /* Each file goes to its format's reader; switching readers first drains the other one, so
     * the output stays in file order. */
    uint32_t text_skipped = 0;
    for (uint32_t i = 0; i < dp.sources.n; i++) {
        struct kz_err err = {0};
        uint8_t fmt = dp.sources.v[i].format;
        int arc;
        if (fmt == KZ_FMT_EVTX) {
            kz_text_reader_flush(dp.text);
            arc = kz_evtx_reader_add_file(dp.reader, dp.sources.v[i].path, i, &err);
        } else if (dp.format == OUT_XML) {
            text_skipped++;
            continue;
        } else {
            kz_evtx_reader_flush(dp.reader);
            arc = kz_text_reader_add_file(dp.text, dp.sources.v[i].path, fmt, i, &err);
        }
        if (arc) {
            kz_cli_error(&dp.cli, "%s", err.msg);
            rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        }
    }
    kz_evtx_reader_flush(dp.reader);
    kz_text_reader_flush(dp.text);
    kz_cli_progress_clear(&dp.cli);
    if (fflush(dp.out) || dp.write_failed) {
        kz_cli_error(&dp.cli, "writing output: %s", strerror(errno));
        rc = KZ_EXIT_INPUT;
    }
    const struct kz_evtx_stats *st = kz_evtx_reader_stats(dp.reader);
    if (!dp.cli.quiet) {
        double secs = kz_cli_now() - t0;
        const struct kz_text_stats *ts = kz_text_reader_stats(dp.text);
        double mb = (double)(kz_evtx_reader_bytes(dp.reader) + kz_text_reader_bytes(dp.text)) / 1e6;
        /* EVTX counters only when EVTX was read: for text logs alone they would be all zeros */
        int evtx_read = st->records || st->bad_records || st->chunks || st->bad_chunks;
        if (evtx_read || !ts->files)
            fprintf(stderr,
                    "kizuki dump: %u files, %llu records (%llu bad, %llu from slack), %llu chunks "
                    "(%llu bad, %llu checksum errors), %.1f MB in %.2f s",
                    dp.sources.n, (unsigned long long)st->records,
                    (unsigned long long)st->bad_records, (unsigned long long)st->slack_records,
                    (unsigned long long)st->chunks, (unsigned long long)st->bad_chunks,
                    (unsigned long long)st->checksum_errors, mb, secs);
        if (ts->files)
            fprintf(stderr, "%s%llu text files: %llu lines, %llu events, %llu bad lines",
                    evtx_read || !ts->files ? "; " : "kizuki dump: ",
                    (unsigned long long)ts->files, (unsigned long long)ts->lines,
                    (unsigned long long)ts->events, (unsigned long long)ts->bad_lines);
        if (ts->files && !evtx_read) fprintf(stderr, ", %.1f MB in %.2f s", mb, secs);
        if (text_skipped)
            fprintf(stderr, "; %u text files skipped (--format xml is for EVTX)", text_skipped);
        if (dp.sources.skipped)
            fprintf(stderr, "; %u files in other formats skipped", dp.sources.skipped);
        fputc('\n', stderr);
    }
    if (dp.sources.n == 0 && rc == KZ_EXIT_OK) {
        kz_cli_error(&dp.cli, "no logs in a format kizuki reads found under the given paths");
        rc = KZ_EXIT_INPUT;
    }
    kz_evtx_reader_free(dp.reader);
    kz_text_reader_free(dp.text);
    kz_pool_free(pool);
out:
    if (dp.out && dp.out != stdout) fclose(dp.out);
    for (uint32_t i = 0; dp.file_json && i < dp.sources.n; i++)
        kz_free(dp.file_json[i]);
    kz_free(dp.file_json);
    kz_sources_free(&dp.sources);
    kz_free(paths);
    return rc;
}
