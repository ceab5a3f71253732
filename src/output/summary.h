/* summary.h - what a scan found, in a few lines: counts by level and detector, the rules that
 * fired most, the hosts and users with most findings, what was read, which rules ran, how long.
 *
 * Why bounded: host and user names come from the logs, so an attacker can make every event carry
 * a new one. Each table keeps at most max_keys distinct names (100,000 by default), each cut to
 * KZ_SUMMARY_KEY_MAX bytes; findings for names that no longer fit are counted as "other". The
 * tables are hashed with SipHash keyed by a random per-summary key, so chosen names cannot collide
 * on purpose and adding stays O(1) whatever the input. Top-N lists order by count, highest first,
 * ties by name (bytewise), so the same findings always print the same summary.
 *
 * Ownership: a summary copies every string it keeps (findings only lend theirs); entries returned
 * by kz_summary_top point into the summary and live until kz_summary_free. Not thread-safe: feed
 * it from the one thread that writes findings in order. */
#ifndef KZ_OUTPUT_SUMMARY_H
#define KZ_OUTPUT_SUMMARY_H

#include "../core/buf.h"
#include "findings.h"

#include <stdint.h>
#include <stdio.h>

#define KZ_SUMMARY_MAX_KEYS 100000u /* default distinct names per table */
#define KZ_SUMMARY_KEY_MAX 256u     /* bytes of a name kept (cut at a UTF-8 boundary) */
#define KZ_SUMMARY_TOP 10u          /* rows of each top list kz_summary_print shows */

enum kz_summary_table {
    KZ_SUMMARY_RULES, /* keyed by rule id, or by title when a rule has no id */
    KZ_SUMMARY_HOSTS,
    KZ_SUMMARY_USERS,
    KZ_SUMMARY_TABLES
};

struct kz_summary;

/* One row of a top list. */
struct kz_summary_entry {
    const char *key;   /* rule id (or title), host or user */
    const char *label; /* rules: the title (what is printed); hosts and users: NULL */
    uint64_t count;    /* findings */
    int max_level;     /* highest enum kz_sigma_level among them */
};

/* What the scan read and ran, given by its caller. */
struct kz_summary_run {
    uint64_t files;         /* files read */
    uint64_t files_failed;  /* files that could not be read at all */
    uint64_t bytes;         /* bytes read */
    uint64_t records;       /* records decoded */
    uint64_t bad_records;   /* records skipped as damaged */
    uint32_t rules_loaded;  /* rules loaded */
    uint32_t rules_failed;  /* rules that could not load */
    uint32_t rules_skipped; /* rules loaded but not run (unsupported logsource, ...) */
    double seconds;         /* wall time of the scan */
};

/* Creates an empty summary; max_keys is the cap of distinct names per table (0: the default).
 * Returns 0 or KZ_ENOMEM. */
int kz_summary_new(struct kz_summary **out, uint32_t max_keys);
void kz_summary_free(struct kz_summary *s);

/* Counts one finding: by level, by kind, under its rule (id, else title), host and user. Returns 0,
 * or KZ_ENOMEM (the finding is still counted in the totals). */
int kz_summary_add(struct kz_summary *s, const struct kz_finding *f);
/* Records what was read and run (copied). */
void kz_summary_set_run(struct kz_summary *s, const struct kz_summary_run *run);

uint64_t kz_summary_total(const struct kz_summary *s);
/* Findings of one level (enum kz_sigma_level; NONE is counted as informational). */
uint64_t kz_summary_level_count(const struct kz_summary *s, int level);
/* Findings of a kind: "sigma", "correlation", "ueba"; other names are counted together under any
 * name not in that list. */
uint64_t kz_summary_kind_count(const struct kz_summary *s, const char *kind);
/* A table's distinct names kept, findings counted as other (table full), and findings without a
 * name (no host, no user). */
void kz_summary_table_stats(const struct kz_summary *s, int table, uint32_t *distinct,
                            uint64_t *other, uint64_t *unnamed);
/* The n entries of a table with most findings, in order (count descending, then name ascending;
 * the name of a rule is its title, then its id). Fills out[0..n) and returns how many it filled.
 * O(distinct * log n), no allocation. */
uint32_t kz_summary_top(const struct kz_summary *s, int table, struct kz_summary_entry *out,
                        uint32_t n);

/* The human summary (what `scan` prints on stderr at the end), top_n rows per list (0: the
 * default). Names from logs are made visible (kz_finding_put_visible) and cut to width. With
 * colour, level names are coloured and headings bold. */
void kz_summary_format(const struct kz_summary *s, struct kz_buf *out, int colour, uint32_t top_n);
/* Formats and writes to fp; returns 0, KZ_ENOMEM or KZ_EIO. */
int kz_summary_print(const struct kz_summary *s, FILE *fp, int colour);
/* SipHash-c-d of data under a 128-bit key (key[0] = bytes 0-7 little-endian, key[1] = 8-15);
 * the tables use SipHash-1-3. Public so a test can check it against the paper's vectors. */
uint64_t kz_summary_siphash(const uint64_t key[2], const void *data, size_t n, int c_rounds,
                            int d_rounds);

/* Whether to colour output to fp: it is a terminal and NO_COLOR is unset or empty (no-color.org).
 */
int kz_summary_colour(FILE *fp);

#endif
