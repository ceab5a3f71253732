/* cmd_ingest.c - `kizuki ingest PATH... --store DIR`: keep logs as evidence and index them.
 * The work is in store/ingest.c; this file parses options and reports. */
#include "cli.h"

#include "../core/alloc.h"
#include "../store/store.h"

#include <string.h>

static const char help[] =
    "usage: kizuki ingest PATH... --store DIR [--threads N]\n"
    "\n"
    "Copies every log file under PATH (files, or folders walked recursively) into the evidence\n"
    "store DIR, byte for byte, named by its SHA-256; records the files in batches of a hash\n"
    "chain; and indexes their events (accounts, hosts, sources, logon sessions, files touched;\n"
    "web requests and VPN tunnels from access logs and FortiGate logs) for `kizuki scope` and\n"
    "`kizuki timeline`. DIR is created when missing. A file already in the\n"
    "store (the same bytes) is skipped, so running ingest again only adds what is new, and an\n"
    "ingest that was interrupted (even by kill -9) resumes where it stopped.\n"
    "\n"
    "  --store DIR   the store (required)\n"
    "  --threads N   threads copying, hashing and decoding (default: one per CPU)\n"
    "  --quiet       no progress and no summary\n"
    "\n"
    "examples:\n"
    "  kizuki ingest logs/ --store case42\n"
    "  kizuki ingest new/Security.evtx --store case42 && kizuki verify --store case42\n";

struct ingest_cmd {
    struct kz_cli cli;
};

static void progress(void *ctx, uint64_t done, uint64_t total, uint64_t events) {
    struct ingest_cmd *c = ctx;
    kz_cli_progress(&c->cli, done, total, events);
}

static void report(void *ctx, const char *msg) {
    struct ingest_cmd *c = ctx;
    kz_cli_warn(&c->cli, "%s", msg);
}

int kz_cmd_ingest(int argc, char **argv) {
    struct ingest_cmd c;
    memset(&c, 0, sizeof c);
    kz_cli_init(&c.cli, "ingest");
    const char *store_dir = NULL, *val;
    const char **paths = kz_calloc((size_t)argc + 1, sizeof *paths);
    int npaths = 0, bad = 0;
    long threads = 0;
    if (!paths) return KZ_EXIT_INTERNAL;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&c.cli, a, help);
        if (common == KZ_CLI_DONE) {
            kz_free(paths);
            return KZ_EXIT_OK;
        }
        if (common == KZ_CLI_HANDLED) continue;
        if (kz_cli_opt(&c.cli, argc, argv, &i, "--store", &val, &bad)) {
            store_dir = val;
        } else if (kz_cli_opt(&c.cli, argc, argv, &i, "--threads", &val, &bad)) {
            if (!bad && kz_cli_int(&c.cli, "--threads", val, 1, 256, &threads)) bad = 1;
        } else if (a[0] == '-' && a[1]) {
            kz_cli_error(&c.cli, "unknown option '%s' (see kizuki ingest --help)", a);
            bad = 1;
        } else {
            paths[npaths++] = a;
        }
    }
    if (!bad && !store_dir) {
        kz_cli_error(&c.cli, "--store DIR is required (see kizuki ingest --help)");
        bad = 1;
    }
    if (!bad && !npaths) {
        kz_cli_error(&c.cli, "no PATH given (see kizuki ingest --help)");
        bad = 1;
    }
    if (bad) {
        kz_free(paths);
        return KZ_EXIT_INPUT;
    }
    struct kz_err err = {0};
    struct kz_store *s = NULL;
    int rc = KZ_EXIT_OK;
    double t0 = kz_cli_now();
    if (kz_store_open(store_dir, 1, &s, &err)) {
        kz_cli_error(&c.cli, "%s", err.msg);
        kz_free(paths);
        return err.code == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    struct kz_store_ingest_opts o = {
        .threads = (int)threads, .progress = progress, .report = report, .ctx = &c};
    struct kz_store_ingest_stats st;
    int irc = kz_store_ingest(s, paths, npaths, &o, &st, &err);
    kz_cli_progress_clear(&c.cli);
    if (irc) {
        kz_cli_error(&c.cli, "%s", err.msg);
        rc = irc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    } else if (st.files_failed) {
        rc = KZ_EXIT_INPUT;
    }
    double secs = kz_cli_now() - t0;
    if (!c.cli.quiet)
        fprintf(stderr,
                "kizuki ingest: %u files added (%u kept but not indexed), %u already in "
                "the store, %u failed; %llu events "
                "(%llu damaged records skipped), %.1f MB in %.2f s (%.0f events/s) into %s\n",
                st.files_added, st.files_unindexed, st.files_known, st.files_failed, (unsigned long long)st.events,
                (unsigned long long)st.bad_records, (double)st.bytes / 1e6, secs,
                secs > 0 ? (double)st.events / secs : 0.0, store_dir);
    kz_store_close(s);
    kz_free(paths);
    return rc;
}
