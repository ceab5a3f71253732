/* cmd_rules.c - `kizuki rules check`: load Sigma rules and say which cannot be used, and why.
 *
 * A rule that does not load is a detection that silently does not happen; this command makes
 * every such rule visible (file, line, reason) before a scan relies on them, and exits 1 so CI
 * can gate rule changes on it. */
#include "cli.h"

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../sigma/correlate.h"
#include "../sigma/match.h"
#include "../sigma/rule.h"

#include <string.h>
#include <sys/stat.h>

static const char help[] =
    "usage: kizuki rules check [DIR|FILE]... [--format text|json] [--quiet]\n"
    "\n"
    "Loads every Sigma rule under the given folders (recursively, *.yml and *.yaml, in sorted\n"
    "order) or files, and lists each rule that cannot be used, with its file, line and the\n"
    "reason: YAML errors, unknown or conflicting modifiers (`Field|base64offset` without\n"
    "`|contains`), malformed conditions, references to undefined selections, Sigma 1\n"
    "aggregations (`| count() > 5`), correlation rules naming rules that are not loaded.\n"
    "Detection rules, correlation rules and filters (Sigma 2) are all loaded and counted.\n"
    "Rules that load but cannot run are listed too, as `skipped`: a logsource kizuki does\n"
    "not read (cloud audit logs, macOS), |expand placeholders without values, a regular\n"
    "expression neither Vectorscan nor PCRE2 compiles.\n"
    "Without DIR, the rules/ folder of the current directory is checked.\n"
    "\n"
    "  --format text  (default) one line per failure, `FILE:LINE: reason`, then a summary\n"
    "  --format json  {\"loaded\": N, \"failed\": N, \"failures\": [{\"file\", \"line\", "
    "\"reason\"}],\n"
    "                 \"skipped\": N, \"skips\": [{\"file\", \"line\", \"title\", \"reason\"}]}\n"
    "  --quiet        text format: failures only, no summary\n"
    "\n"
    "Exit status: 0 when every rule loads, 1 when any failed (or a path is unreadable),\n"
    "2 on an internal error.\n"
    "\n"
    "examples:\n"
    "  kizuki rules check                                # ./rules\n"
    "  kizuki rules check sigma/rules sigma/rules-emerging-threats\n"
    "  kizuki rules check my_rule.yml\n"
    "  kizuki rules check sigma/rules --format json | jq '.failures[].reason'\n";

static int check(int argc, char **argv, struct kz_cli *cli) {
    const char **paths = kz_calloc((size_t)argc + 1, sizeof *paths);
    int npaths = 0, bad = 0, json = 0, rc = KZ_EXIT_OK;
    const char *val;
    if (!paths) return KZ_EXIT_INTERNAL;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(cli, a, help);
        if (common == KZ_CLI_DONE) {
            kz_free(paths);
            return KZ_EXIT_OK;
        } else if (common == KZ_CLI_HANDLED) {
            continue;
        } else if (kz_cli_opt(cli, argc, argv, &i, "--format", &val, &bad)) {
            if (bad) break;
            if (!strcmp(val, "json"))
                json = 1;
            else if (!strcmp(val, "text"))
                json = 0;
            else {
                kz_cli_error(cli, "--format: '%s' is not one of text, json", val);
                bad = 1;
            }
        } else if (a[0] == '-' && a[1]) {
            kz_cli_error(cli, "unknown option '%s' (see kizuki rules check --help)", a);
            bad = 1;
        } else {
            paths[npaths++] = a;
        }
    }
    if (!bad && npaths == 0) {
        struct stat st;
        if (stat("rules", &st) == 0 && S_ISDIR(st.st_mode)) {
            paths[npaths++] = "rules";
        } else {
            kz_cli_error(cli, "no rules/ folder here; pass the folders or files to check, e.g. "
                              "`kizuki rules check path/to/sigma/rules`");
            bad = 1;
        }
    }
    if (bad) {
        kz_free(paths);
        return KZ_EXIT_INPUT;
    }

    struct kz_sigma_ruleset rs;
    struct kz_sigma_engine *engine = NULL;
    struct kz_correlator *corr = NULL;
    kz_sigma_ruleset_init(&rs);
    for (int i = 0; i < npaths && rc == KZ_EXIT_OK; i++) {
        struct kz_err err = {0};
        int r = kz_sigma_load_path(&rs, paths[i], &err);
        if (r == KZ_ENOMEM) {
            kz_cli_error(cli, "%s", err.msg);
            rc = KZ_EXIT_INTERNAL;
        }
        /* Unreadable paths are recorded as failures and reported below. */
    }
    if (rc == KZ_EXIT_OK && kz_sigma_ruleset_link(&rs)) {
        kz_cli_error(cli, "out of memory linking correlations");
        rc = KZ_EXIT_INTERNAL;
    }
    if (rc != KZ_EXIT_OK) goto out;

    /* Compile what loaded, as scan would, to list the rules that cannot run. */
    struct kz_err eerr = {0};
    if (kz_sigma_engine_new(&engine, &rs, NULL, &eerr) || kz_correlator_new(&corr, &rs, &eerr)) {
        kz_cli_error(cli, "%s", eerr.msg);
        rc = eerr.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        goto out;
    }
    uint32_t nskips = 0;
    const struct kz_sigma_skip *skips = kz_sigma_engine_skips(engine, &nskips);
    struct kz_corr_stats cs;
    kz_correlator_stats(corr, &cs);

    struct kz_buf b;
    kz_buf_init(&b, (size_t)1 << 30);
    if (json) {
        kz_buf_printf(&b, "{\"loaded\": %u, \"failed\": %u, \"failures\": [", rs.nrules,
                      rs.nfailures);
        for (uint32_t i = 0; i < rs.failures_kept; i++) {
            const struct kz_sigma_failure *f = &rs.failures[i];
            kz_buf_puts(&b, i ? ", {\"file\": \"" : "{\"file\": \"");
            kz_buf_put_json_str(&b, f->file, strlen(f->file));
            kz_buf_printf(&b, "\", \"line\": %u, \"reason\": \"", f->line);
            kz_buf_put_json_str(&b, f->reason, strlen(f->reason));
            kz_buf_puts(&b, "\"}");
        }
        kz_buf_printf(&b, "], \"skipped\": %u, \"skips\": [", nskips + cs.skipped);
        for (uint32_t i = 0; i < nskips + cs.skipped; i++) {
            const struct kz_sigma_rule *r = i < nskips ? skips[i].rule : NULL;
            const char *why = i < nskips ? skips[i].reason
                                         : kz_correlator_skipped(corr, i - nskips, &r);
            kz_buf_puts(&b, i ? ", {\"file\": \"" : "{\"file\": \"");
            kz_buf_put_json_str(&b, r->file, strlen(r->file));
            kz_buf_printf(&b, "\", \"line\": %u, \"title\": \"", r->line);
            kz_buf_put_json_str(&b, r->title, strlen(r->title));
            kz_buf_puts(&b, "\", \"reason\": \"");
            kz_buf_put_json_str(&b, why, strlen(why));
            kz_buf_puts(&b, "\"}");
        }
        kz_buf_puts(&b, "]}\n");
    } else {
        for (uint32_t i = 0; i < rs.failures_kept; i++) {
            const struct kz_sigma_failure *f = &rs.failures[i];
            if (f->line)
                kz_buf_printf(&b, "%s:%u: %s\n", f->file, f->line, f->reason);
            else
                kz_buf_printf(&b, "%s: %s\n", f->file, f->reason);
        }
        if (rs.nfailures > rs.failures_kept)
            kz_buf_printf(&b, "... and %u more failures\n", rs.nfailures - rs.failures_kept);
        for (uint32_t i = 0; i < nskips + cs.skipped; i++) {
            const struct kz_sigma_rule *r = i < nskips ? skips[i].rule : NULL;
            const char *why = i < nskips ? skips[i].reason
                                         : kz_correlator_skipped(corr, i - nskips, &r);
            kz_buf_printf(&b, "%s:%u: skipped: rule %s: %s\n", r->file, r->line, r->title, why);
        }
    }
    if (b.failed) {
        kz_cli_error(cli, "out of memory formatting the report");
        rc = KZ_EXIT_INTERNAL;
    } else if (fwrite(b.data ? b.data : "", 1, b.len, stdout) != b.len || fflush(stdout)) {
        kz_cli_error(cli, "writing output failed");
        rc = KZ_EXIT_INPUT;
    }
    kz_buf_free(&b);
    if (!json && !cli->quiet) {
        double total = (double)rs.nrules + rs.nfailures;
        fprintf(stderr,
                "kizuki rules check: %u files, %u rules loaded (%u detection, %u correlation, %u "
                "filter), %u failed (%.1f%% loaded)",
                rs.nfiles, rs.nrules, rs.counts[KZ_SIGMA_DETECTION],
                rs.counts[KZ_SIGMA_CORRELATION], rs.counts[KZ_SIGMA_FILTER], rs.nfailures,
                total > 0 ? 100.0 * rs.nrules / total : 100.0);
        if (nskips + cs.skipped)
            fprintf(stderr, "; %u loaded but skipped (cannot run here)", nskips + cs.skipped);
        fputc('\n', stderr);
    }
    if (rc == KZ_EXIT_OK && rs.nfailures) rc = KZ_EXIT_INPUT;
    if (rc == KZ_EXIT_OK && rs.nrules == 0 && rs.nfiles == 0) {
        kz_cli_error(cli, "no rule files (*.yml, *.yaml) under the given paths");
        rc = KZ_EXIT_INPUT;
    }
out:
    kz_correlator_free(corr);
    kz_sigma_engine_free(engine);
    kz_sigma_ruleset_free(&rs);
    kz_free(paths);
    return rc;
}

int kz_cmd_rules(int argc, char **argv) {
    struct kz_cli cli;
    kz_cli_init(&cli, "rules");
    if (argc < 2 || kz_cli_flag(argv[1], "--help") || kz_cli_flag(argv[1], "-h")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? KZ_EXIT_INPUT : KZ_EXIT_OK;
    }
    if (kz_cli_flag(argv[1], "--version")) {
        kz_cli_print_version();
        return KZ_EXIT_OK;
    }
    if (!strcmp(argv[1], "check")) {
        cli.command = "rules check";
        return check(argc - 1, argv + 1, &cli);
    }
    kz_cli_error(&cli, "unknown subcommand '%s'; the only one is `check` (see kizuki rules --help)",
                 argv[1]);
    return KZ_EXIT_INPUT;
}
