/* cmd_eval.c - `kizuki eval --truth DIR FINDINGS.jsonl`: how much of the simulated attack did the
 * findings catch, how fast, and at what cost in false positives?
 *
 * The scoring lives in src/sim/eval.c; this file reads the three inputs (streamed in pieces, so a
 * findings file of any size costs no memory), reports every malformed line with its file and line
 * number, and prints the result. A score computed from a partly unreadable input would mislead, so
 * any malformed line makes the command fail (exit 1) without printing one. */
#include "cli.h"

#include "../core/alloc.h"
#include "../core/json.h"
#include "../sim/eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: kizuki eval --truth DIR FINDINGS.jsonl [--min-level L] [--format json|text] [--quiet]\n"
    "\n"
    "Scores detections against the ground truth of a simulation (`kizuki simulate -o DIR`). Reads\n"
    "DIR/truth.jsonl (the attack steps), DIR/scenario.json (benign user-days, confounders) and "
    "the\n"
    "findings (JSON lines as `kizuki scan --format jsonl` writes them; '-' reads standard input),\n"
    "and prints one JSON object: steps_total, steps_detected, each scenario's steps with their\n"
    "detection delays, false_positives, benign_user_days, fp_per_1000_user_days, and the\n"
    "confounders (benign look-alikes of the attack) that findings flagged.\n"
    "\n"
    "  --truth DIR      the simulation's folder (truth.jsonl, scenario.json, logs/)\n"
    "  --min-level L    count only findings at level L or above: informational, low, medium,\n"
    "                   high, critical (the others are neither detections nor false positives)\n"
    "  --format json    (default) the result as one JSON object on one line\n"
    "  --format text    a short summary for people: each step detected or missed, and after how\n"
    "                   long\n"
    "  --quiet          no summary line on stderr\n"
    "\n"
    "A finding detects a step when it names one of the step's records (its source.file ends with\n"
    "the record's file and its source.record_id is the record id, or the line of a text log), or\n"
    "the step's host or user inside the step's time window (FS01 = fs01.corp.local, CORP\\alice =\n"
    "alice). A step's delay is its first detecting finding's ts minus the step's start. A finding\n"
    "that detects no step is a false positive. Details: docs/eval.md.\n"
    "\n"
    "Exit status: 0 when scored, 1 when an input is missing or malformed (each bad line is\n"
    "reported as FILE:LINE), 2 on internal errors.\n"
    "\n"
    "examples:\n"
    "  kizuki eval --truth sim findings.jsonl\n"
    "  kizuki eval --truth sim findings.jsonl --min-level high --format text\n"
    "  kizuki scan sim/logs --format jsonl | kizuki eval --truth sim -\n";

#define MAX_REPORTED 20                 /* malformed lines printed per file; the rest are counted */
#define READ_PIECE ((size_t)1 << 20)    /* bytes read at a time */
#define SCENARIO_MAX ((size_t)64 << 20) /* scenario.json is small; refuse absurd ones */

struct eval_cmd {
    struct kz_cli cli;
    struct kz_eval ev;
    struct kz_arena lines; /* per-line scratch of the JSON-lines splitter, reset after each line */
    const char *path;      /* file being read, for messages */
    uint64_t bad;          /* malformed lines in it */
    int nomem;
};

static void report(struct eval_cmd *e, uint64_t line, int code, const char *msg) {
    if (code == KZ_ENOMEM) e->nomem = 1;
    if (++e->bad <= MAX_REPORTED)
        kz_cli_error(&e->cli, "%s:%llu: %s", e->path, (unsigned long long)line, msg);
}

static void on_bad(void *ctx, uint64_t line, const struct kz_json_error *err) {
    struct eval_cmd *e = ctx;
    char msg[KZ_JSON_ERR_MSG_MAX + 32];
    snprintf(msg, sizeof msg, "column %u: %s", err->column, err->msg);
    report(e, line, err->code, msg);
}

static int on_step(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct eval_cmd *e = ctx;
    struct kz_err err = {0};
    if (kz_eval_add_step(&e->ev, kz_json_root(doc), &err)) report(e, line, err.code, err.msg);
    return 0;
}

static int on_finding(void *ctx, uint64_t line, const struct kz_json_doc *doc) {
    struct eval_cmd *e = ctx;
    struct kz_err err = {0};
    struct kz_eval_finding f;
    if (kz_eval_finding_from_json(kz_json_root(doc), &e->lines, &f, &err))
        report(e, line, err.code, err.msg);
    else if (!e->bad) /* once a line is bad no result is printed: stop scoring */
        kz_eval_add_finding(&e->ev, &f);
    return 0;
}

/* Streams a file ("-": standard input) through a JSON-lines splitter. Returns 0 when it was read
 * to the end (its lines may still be bad: e->bad), else an exit code (the error printed). */
static int read_lines(struct eval_cmd *e, const char *path, const struct kz_json_limits *lim,
                      kz_json_line_fn fn, uint64_t *lines) {
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    e->path = is_stdin ? "(standard input)" : path;
    e->bad = 0;
    if (!f) {
        kz_cli_error(&e->cli, "%s: %s", path, strerror(errno));
        return KZ_EXIT_INPUT;
    }
    char *piece = kz_malloc(READ_PIECE);
    struct kz_json_lines jl;
    if (!piece || kz_json_lines_init(&jl, lim, &e->lines, fn, on_bad, e)) {
        kz_free(piece);
        if (!is_stdin) fclose(f);
        kz_cli_error(&e->cli, "out of memory");
        return KZ_EXIT_INTERNAL;
    }
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(piece, 1, READ_PIECE, f)) > 0)
        rc = kz_json_lines_feed(&jl, piece, n);
    int read_error = ferror(f);
    if (!rc) rc = kz_json_lines_finish(&jl);
    *lines = jl.line;
    kz_json_lines_free(&jl);
    kz_free(piece);
    if (!is_stdin) fclose(f);
    if (rc == KZ_ENOMEM || e->nomem) {
        kz_cli_error(&e->cli, "%s: out of memory", e->path);
        return KZ_EXIT_INTERNAL;
    }
    if (read_error) {
        kz_cli_error(&e->cli, "%s: read error: %s", e->path, strerror(errno));
        return KZ_EXIT_INPUT;
    }
    return 0;
}

static int read_scenario(struct eval_cmd *e, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        kz_cli_error(&e->cli, "%s: %s", path, strerror(errno));
        return KZ_EXIT_INPUT;
    }
    struct kz_buf b;
    kz_buf_init(&b, SCENARIO_MAX);
    char piece[1 << 16];
    size_t n;
    while ((n = fread(piece, 1, sizeof piece, f)) > 0 && !b.failed)
        kz_buf_append(&b, piece, n);
    int read_error = ferror(f);
    fclose(f);
    int rc = 0;
    if (read_error || b.failed) {
        kz_cli_error(&e->cli, "%s: %s", path,
                     read_error ? "read error" : "too large for a scenario file (over 64 MiB)");
        rc = KZ_EXIT_INPUT;
        goto out;
    }
    struct kz_json_doc doc;
    struct kz_json_error je;
    struct kz_err err = {0};
    int prc = kz_json_parse(b.data ? b.data : "", b.len, &e->lines, NULL, &doc, &je);
    if (prc) {
        kz_cli_error(&e->cli, "%s:%llu: column %u: %s", path, (unsigned long long)je.line,
                     je.column, je.msg);
        rc = prc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    } else if ((prc = kz_eval_set_scenario(&e->ev, kz_json_root(&doc), &err))) {
        kz_cli_error(&e->cli, "%s: %s", path, err.msg);
        rc = prc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    kz_arena_reset(&e->lines);
out:
    kz_buf_free(&b);
    return rc;
}

/* DIR + "/" + name, kz_malloc'd. */
static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = kz_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

int kz_cmd_eval(int argc, char **argv) {
    struct eval_cmd e;
    memset(&e, 0, sizeof e);
    kz_cli_init(&e.cli, "eval");
    const char *truth_dir = NULL, *findings = NULL, *val;
    int bad = 0, text = 0, min_level = 0, rc = KZ_EXIT_OK;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&e.cli, a, help);
        if (common == KZ_CLI_DONE) return KZ_EXIT_OK;
        if (common == KZ_CLI_HANDLED) continue;
        if (kz_cli_opt(&e.cli, argc, argv, &i, "--truth", &val, &bad)) {
            truth_dir = val;
        } else if (kz_cli_opt(&e.cli, argc, argv, &i, "--min-level", &val, &bad)) {
            if (bad) break;
            if ((min_level = kz_eval_level_parse(val, strlen(val))) < 0) {
                kz_cli_error(&e.cli,
                             "--min-level: '%s' is not one of informational, low, medium, high, "
                             "critical",
                             val);
                bad = 1;
            }
        } else if (kz_cli_opt(&e.cli, argc, argv, &i, "--format", &val, &bad)) {
            if (bad) break;
            if (!strcmp(val, "json"))
                text = 0;
            else if (!strcmp(val, "text"))
                text = 1;
            else {
                kz_cli_error(&e.cli, "--format: '%s' is not one of json, text", val);
                bad = 1;
            }
        } else if (a[0] == '-' && a[1]) {
            kz_cli_error(&e.cli, "unknown option '%s' (see kizuki eval --help)", a);
            bad = 1;
        } else if (findings) {
            kz_cli_error(&e.cli, "one FINDINGS file only ('%s' and '%s' given)", findings, a);
            bad = 1;
        } else {
            findings = a;
        }
    }
    if (!bad && !truth_dir) {
        kz_cli_error(&e.cli, "--truth DIR is required (see kizuki eval --help)");
        bad = 1;
    }
    if (!bad && !findings) {
        kz_cli_error(&e.cli, "no FINDINGS file given (see kizuki eval --help)");
        bad = 1;
    }
    if (bad) return KZ_EXIT_INPUT;

    kz_eval_init(&e.ev, min_level);
    kz_arena_init(&e.lines, 64 * 1024, 0);
    char *truth_path = join(truth_dir, "truth.jsonl");
    char *scenario_path = join(truth_dir, "scenario.json");
    struct kz_buf out;
    kz_buf_init(&out, 0);
    if (!truth_path || !scenario_path) {
        kz_cli_error(&e.cli, "out of memory");
        rc = KZ_EXIT_INTERNAL;
        goto done;
    }
    /* The truth: every bad line is reported before giving up. */
    struct kz_json_limits truth_lim = {.max_input = KZ_EVAL_TRUTH_LINE_MAX,
                                       .max_nodes = KZ_EVAL_TRUTH_NODES_MAX};
    uint64_t lines = 0;
    if ((rc = read_lines(&e, truth_path, &truth_lim, on_step, &lines))) goto done;
    if (e.bad) {
        kz_cli_error(&e.cli, "%s: %llu malformed line(s); nothing scored", truth_path,
                     (unsigned long long)e.bad);
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    if ((rc = read_scenario(&e, scenario_path))) goto done;
    struct kz_err err = {0};
    if (kz_eval_prepare(&e.ev, &err)) {
        kz_cli_error(&e.cli, "%s: %s", truth_path, err.msg);
        rc = err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        goto done;
    }
    if (e.ev.nsteps == 0 && !e.cli.quiet)
        kz_cli_warn(&e.cli, "%s lists no attack step (a benign-only simulation?)", truth_path);

    if ((rc = read_lines(&e, findings, NULL, on_finding, &lines))) goto done;
    if (e.bad) {
        kz_cli_error(&e.cli, "%s: %llu of %llu lines are not findings; nothing scored", e.path,
                     (unsigned long long)e.bad, (unsigned long long)lines);
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    if (text)
        kz_eval_write_text(&e.ev, &out);
    else
        kz_eval_write_json(&e.ev, &out);
    if (out.failed) {
        kz_cli_error(&e.cli, "out of memory writing the result");
        rc = KZ_EXIT_INTERNAL;
        goto done;
    }
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)) {
        kz_cli_error(&e.cli, "writing output: %s", strerror(errno));
        rc = KZ_EXIT_INPUT;
        goto done;
    }
    if (!e.cli.quiet && !text) {
        uint32_t detected = 0;
        for (uint32_t i = 0; i < e.ev.nsteps; i++)
            detected += e.ev.steps[i].detected != 0;
        fprintf(stderr,
                "kizuki eval: %llu findings (%llu below --min-level), %u of %u steps detected, "
                "%llu false positives\n",
                (unsigned long long)e.ev.findings, (unsigned long long)e.ev.below_level, detected,
                e.ev.nsteps, (unsigned long long)e.ev.false_positives);
    }
done:
    kz_buf_free(&out);
    kz_free(truth_path);
    kz_free(scenario_path);
    kz_arena_free(&e.lines);
    kz_eval_free(&e.ev);
    return rc;
}
