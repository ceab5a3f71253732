/* cmd_scope.c - `kizuki scope` and `kizuki timeline`: what an account or host reached (hosts, hops,
 * files, customers), and everything it did in order. Queries live in scope/; this file parses the
 * options both commands share and writes the output. */
#include "cli.h"

#include "../core/alloc.h"
#include "../scope/scope.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const char scope_help[] =
    "usage: kizuki scope --store DIR (--user U | --host H) [--source IP|DEVICE]... [--since T]\n"
    "                    [--until T] [--customers FILE] [--format table|json|csv|dot|html]\n"
    "                    [-o FILE]\n"
    "\n"
    "What did this account (or host) reach, and whose data was it? Lists the hosts reached with\n"
    "first/last time, logon types and sources; the lateral-movement graph (who logged on where,\n"
    "from where, hop by hop); the files read, written, renamed or deleted with counts and bytes;\n"
    "the customers those files belong to; and web and VPN sessions (from access and FortiGate\n"
    "logs) of the sources or the account.\n"
    "\n"
    "A stolen account is used by its owner and the attacker at once. --source keeps only the\n"
    "logon sessions that start from the attacker's addresses or devices, and every session opened\n"
    "from them hop by hop (RDP, SMB, explicit credentials, other accounts used from a held host);\n"
    "hosts, files and customers then describe the attacker, not the owner.\n"
    "\n"
    "  --store DIR        the store written by kizuki ingest (required)\n"
    "  --user U           an account: CORP\\name, name@corp or name\n"
    "  --host H           a host: short name or FQDN\n"
    "  --source S         an attacker address or device name (repeatable)\n"
    "  --since T, --until T  the window (RFC 3339 or a date)\n"
    "  --customers FILE   customers.csv (pattern,customer; globs on UNC/local paths)\n"
    "  --format F         table (default on a terminal), json (default otherwise), csv, dot\n"
    "                     (Graphviz), html (one self-contained page)\n"
    "  -o FILE            write to FILE instead of standard output\n"
    "\n"
    "examples:\n"
    "  kizuki scope --store case42 --user 'CORP\\\\tsuzuki' --source 45.84.252.85 \\\n"
    "      --source DESKTOP-BZG86Y2 --customers customers.csv --format table\n"
    "  kizuki scope --store case42 --host OPS01 --format dot | dot -Tsvg > ops01.svg\n";

static const char timeline_help[] =
    "usage: kizuki timeline --store DIR (--user U | --host H) [--since T] [--until T]\n"
    "                       [--format table|csv|jsonl] [-o FILE]\n"
    "\n"
    "Everything the account did (or everything on the host), in time order: event id, host,\n"
    "source, process, file touched and how, and the evidence file and record it came from.\n"
    "csv and jsonl are Timesketch-ready (message, datetime, timestamp_desc, then attributes);\n"
    "csv cells are protected against formula injection.\n"
    "\n"
    "  --store DIR        the store (required)\n"
    "  --user U, --host H the entity\n"
    "  --since T, --until T  the window\n"
    "  --format F         table (default on a terminal), csv, jsonl (default otherwise)\n"
    "  -o FILE            write to FILE instead of standard output\n"
    "\n"
    "example:\n"
    "  kizuki timeline --store case42 --user tsuzuki --since 2026-03-03 --format csv -o t.csv\n";

struct opts {
    struct kz_cli cli;
    const char *store, *out, *customers, *format;
    struct kz_scope_query q;
    const char **sources;
};

static int parse_time(struct opts *o, const char *name, const char *val, kz_time *t) {
    if (kz_time_parse(val, strlen(val), t)) {
        kz_cli_error(&o->cli, "%s: '%s' is not a time (RFC 3339 or YYYY-MM-DD)", name, val);
        return 1;
    }
    return 0;
}

/* Returns -1 to exit 0 (help printed), 0 ok, 1 usage error. */
static int parse(struct opts *o, int argc, char **argv, const char *help, int scope) {
    const char *val;
    int bad = 0;
    o->sources = kz_calloc((size_t)argc + 1, sizeof *o->sources);
    if (!o->sources) return 1;
    o->q.sources = o->sources;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&o->cli, a, help);
        if (common == KZ_CLI_DONE) return -1;
        if (common == KZ_CLI_HANDLED) continue;
        if (kz_cli_opt(&o->cli, argc, argv, &i, "--store", &val, &bad)) {
            o->store = val;
        } else if (kz_cli_opt(&o->cli, argc, argv, &i, "--user", &val, &bad)) {
            o->q.user = val;
        } else if (kz_cli_opt(&o->cli, argc, argv, &i, "--host", &val, &bad)) {
            o->q.host = val;
        } else if (scope && kz_cli_opt(&o->cli, argc, argv, &i, "--source", &val, &bad)) {
            if (!bad) o->sources[o->q.nsources++] = val;
        } else if (kz_cli_opt(&o->cli, argc, argv, &i, "--since", &val, &bad)) {
            if (!bad && parse_time(o, "--since", val, &o->q.since)) bad = 1;
            o->q.has_since = 1;
        } else if (kz_cli_opt(&o->cli, argc, argv, &i, "--until", &val, &bad)) {
            if (!bad && parse_time(o, "--until", val, &o->q.until)) bad = 1;
            o->q.has_until = 1;
        } else if (scope && kz_cli_opt(&o->cli, argc, argv, &i, "--customers", &val, &bad)) {
            o->customers = val;
        } else if (kz_cli_opt(&o->cli, argc, argv, &i, "--format", &val, &bad)) {
            o->format = val;
        } else if (kz_cli_opt(&o->cli, argc, argv, &i, "-o", &val, &bad) ||
                   kz_cli_opt(&o->cli, argc, argv, &i, "--output", &val, &bad)) {
            o->out = val;
        } else {
            kz_cli_error(&o->cli, "unexpected argument '%s' (see kizuki %s --help)", a,
                         o->cli.command);
            bad = 1;
        }
    }
    if (bad) return 1;
    if (!o->store) {
        kz_cli_error(&o->cli, "--store DIR is required (see kizuki %s --help)", o->cli.command);
        return 1;
    }
    if (!!o->q.user == !!o->q.host) {
        kz_cli_error(&o->cli, "give one of --user U or --host H");
        return 1;
    }
    if (o->q.has_since && o->q.has_until && o->q.since > o->q.until) {
        kz_cli_error(&o->cli, "--since is after --until");
        return 1;
    }
    return 0;
}

static void write_file(void *ctx, const char *p, size_t n) {
    fwrite(p, 1, n, (FILE *)ctx);
}

int kz_cmd_scope(int argc, char **argv) {
    struct opts o;
    memset(&o, 0, sizeof o);
    kz_cli_init(&o.cli, "scope");
    int p = parse(&o, argc, argv, scope_help, 1);
    int rc = KZ_EXIT_OK;
    struct kz_store *s = NULL;
    struct kz_customers *cust = NULL;
    struct kz_scope_result *r = NULL;
    struct kz_buf out;
    kz_buf_init(&out, 0);
    FILE *f = NULL;
    if (p) {
        rc = p < 0 ? KZ_EXIT_OK : KZ_EXIT_INPUT;
        goto done;
    }
    enum kz_scope_format fmt;
    const char *fs = o.format ? o.format : isatty(o.out ? -1 : STDOUT_FILENO) ? "table" : "json";
    if (!strcmp(fs, "table")) fmt = KZ_SCOPE_TABLE;
    else if (!strcmp(fs, "json")) fmt = KZ_SCOPE_JSON;
    else if (!strcmp(fs, "csv")) fmt = KZ_SCOPE_CSV;
    else if (!strcmp(fs, "dot")) fmt = KZ_SCOPE_DOT;
    else if (!strcmp(fs, "html")) fmt = KZ_SCOPE_HTML;
    else {
        kz_cli_error(&o.cli, "--format: '%s' is not one of table, json, csv, dot, html", fs);
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    struct kz_err err = {0};
    if (o.customers && kz_customers_load(o.customers, &cust, &err)) {
        kz_cli_error(&o.cli, "--customers: %s", err.msg);
        rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        goto done;
    }
    o.q.customers = cust;
    if (kz_store_open(o.store, 0, &s, &err) || kz_scope_run(s, &o.q, &r, &err)) {
        kz_cli_error(&o.cli, "%s", err.msg);
        rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        goto done;
    }
    kz_scope_render(r, fmt, fmt == KZ_SCOPE_TABLE && !o.out && o.cli.color &&
                                isatty(STDOUT_FILENO), &out);
    f = o.out ? fopen(o.out, "w") : stdout;
    if (!f) {
        kz_cli_error(&o.cli, "%s: %s", o.out, strerror(errno));
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    if (out.failed || fwrite(out.data, 1, out.len, f) != out.len || fflush(f)) {
        kz_cli_error(&o.cli, "writing output failed");
        rc = KZ_EXIT_INTERNAL;
    }
    if (r->truncated) kz_cli_warn(&o.cli, "a limit was reached: the answer may be incomplete");
    if (r->no_runs)
        kz_cli_warn(&o.cli, "this store was made by an earlier kizuki (format 1): hosts that ran a "
                            "file the account wrote on a share are not found; ingest the sources "
                            "into a new store for them");
done:
    if (f && f != stdout) fclose(f);
    kz_buf_free(&out);
    kz_scope_free(r);
    kz_customers_free(cust);
    kz_store_close(s);
    kz_free(o.sources);
    return rc;
}

int kz_cmd_timeline(int argc, char **argv) {
    struct opts o;
    memset(&o, 0, sizeof o);
    kz_cli_init(&o.cli, "timeline");
    int p = parse(&o, argc, argv, timeline_help, 0);
    int rc = KZ_EXIT_OK;
    struct kz_store *s = NULL;
    FILE *f = NULL;
    if (p) {
        rc = p < 0 ? KZ_EXIT_OK : KZ_EXIT_INPUT;
        goto done;
    }
    enum kz_timeline_format fmt;
    const char *fs = o.format ? o.format : isatty(o.out ? -1 : STDOUT_FILENO) ? "table" : "jsonl";
    if (!strcmp(fs, "table")) fmt = KZ_TIMELINE_TABLE;
    else if (!strcmp(fs, "csv")) fmt = KZ_TIMELINE_CSV;
    else if (!strcmp(fs, "jsonl") || !strcmp(fs, "json")) fmt = KZ_TIMELINE_JSONL;
    else {
        kz_cli_error(&o.cli, "--format: '%s' is not one of table, csv, jsonl", fs);
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    struct kz_err err = {0};
    if (kz_store_open(o.store, 0, &s, &err)) {
        kz_cli_error(&o.cli, "%s", err.msg);
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    f = o.out ? fopen(o.out, "w") : stdout;
    if (!f) {
        kz_cli_error(&o.cli, "%s: %s", o.out, strerror(errno));
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    uint64_t n = 0;
    if (kz_timeline_run(s, &o.q, fmt, write_file, f, &n, &err)) {
        kz_cli_error(&o.cli, "%s", err.msg);
        rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    if (fflush(f)) {
        kz_cli_error(&o.cli, "writing output failed");
        rc = KZ_EXIT_INTERNAL;
    }
done:
    if (f && f != stdout) fclose(f);
    kz_store_close(s);
    kz_free(o.sources);
    return rc;
}
