/* match.h - the Sigma matcher: a rule set compiled once into an engine, then every event tested
 * against it.
 *
 * Why this shape: a scan tests millions of events against thousands of rules, and almost every
 * (event, rule) pair fails. The engine therefore decides as much as it can up front (rule.h did
 * the per-value work already):
 *   1. routing: each rule's logsource is resolved (logsource.h) into the channels, event ids and
 *      providers its events come from, with the field renames of that source (Security 4688 names
 *      the image NewProcessName where Sysmon says Image). A rule with two sources becomes two
 *      variants. An event only meets the variants of its (channel, event id).
 *   2. prefilter: from each rule's condition, literals that must occur in given fields of the
 *      event for the rule to possibly match (an OR of ANDs of literal sets; see prefilter.c). All
 *      literals of the rules of one channel and event id go into one Vectorscan database; one
 *      scan over the event's values (two when keywords meet a big database: the fields no rule
 *      names then go through the keyword literals alone) says which rules are candidates.
 *      Rules without such a requirement are always candidates on their route. Every scan goes
 *      through hsrun.c, which avoids Vectorscan code that misses matches on this CPU.
 *   3. evaluation: candidates are evaluated exactly (evaluate.c): patterns, regexes (Vectorscan,
 *      PCRE2 where Vectorscan cannot), numbers, CIDR, field references, then the condition, then
 *      the filters (Sigma meta filters) that apply to the rule.
 * A rule that cannot run (logsource kizuki does not read, a regex neither engine compiles, a
 * placeholder without a value) is never dropped silently: it is listed as skipped with a reason.
 *
 * Threads: an engine is read-only once built and shared by all threads; each thread has its own
 * scratch (field index, case-folded copies, Vectorscan scratch, route cache). Results do not depend
 * on the thread: hits are reported in rule order.
 *
 * Ownership: the engine borrows the rule set (which must outlive it) and owns everything else it
 * builds; a scratch belongs to one thread and is freed before its engine. */
#ifndef KZ_SIGMA_MATCH_H
#define KZ_SIGMA_MATCH_H

#include "core/error.h"
#include "core/event.h"
#include "rule.h"

#include <stdint.h>

struct kz_sigma_engine;
struct kz_sigma_scratch;
struct kz_ls_map;

struct kz_sigma_engine_opts {
    int no_prefilter;           /* 1: evaluate every rule of the route (to measure the prefilter) */
    const struct kz_ls_map *ls; /* logsource mapping; NULL: the one built into kizuki */
    const char *cache_dir;      /* where compiled Vectorscan databases are kept between runs
                                 * (dbcache.c; created when missing); NULL: compile each run */
    int value_cache_all;        /* 1: every prefilter database looks values up in the scratch's
                                 * value cache, not only the big ones (for tests and fuzzing) */
};

/* A rule that will not run, and why (for `rules check` and scan's summary). */
struct kz_sigma_skip {
    const struct kz_sigma_rule *rule;
    const char *reason;
};

struct kz_sigma_engine_stats {
    uint32_t rules;        /* detection rules that run */
    uint32_t variants;     /* (rule, source) pairs */
    uint32_t skipped;      /* rules that do not run (see kz_sigma_engine_skips) */
    uint32_t sources_dropped; /* (rule, source) pairs not run: a `not` on a field the log lacks */
    uint32_t filters;      /* filters attached to rules */
    uint32_t literals;     /* distinct prefilter literals */
    uint32_t unfiltered;   /* variants without a literal set (always evaluated on their route) */
    uint32_t regexes;      /* |re values (PCRE2 checks them; Vectorscan compiles them on first use) */
    /* Vectorscan databases made so far (they are made on first use, so these grow during a
     * scan): read from the cache directory, or compiled. */
    uint32_t db_cached, db_compiled;
};

/* Compiles the detection rules and filters of rs. Returns 0, or KZ_ENOMEM / KZ_EFORMAT (the
 * logsource mapping is broken) with err set. Rules that cannot run are recorded, not errors. */
int kz_sigma_engine_new(struct kz_sigma_engine **out, const struct kz_sigma_ruleset *rs,
                        const struct kz_sigma_engine_opts *opts, struct kz_err *err);
void kz_sigma_engine_free(struct kz_sigma_engine *e);
const struct kz_sigma_engine_stats *kz_sigma_engine_stats(const struct kz_sigma_engine *e);
/* 1 when this system's Vectorscan failed hsrun.c's check with no working alternative: engines then
 * run without the prefilter and match regexes with PCRE2 (same findings, slower). */
int kz_sigma_vectorscan_untrusted(void);
/* The skipped rules, in rule-set order; *n gets the count. */
const struct kz_sigma_skip *kz_sigma_engine_skips(const struct kz_sigma_engine *e, uint32_t *n);

int kz_sigma_scratch_new(const struct kz_sigma_engine *e, struct kz_sigma_scratch **out);
void kz_sigma_scratch_free(struct kz_sigma_scratch *s);

/* Per-scratch counters (add them up over threads). */
struct kz_sigma_match_stats {
    uint64_t events;     /* events tested */
    uint64_t scans;      /* prefilter scans run */
    uint64_t candidates; /* rule variants evaluated */
    uint64_t hits;       /* rules matched (after filters) */
    uint64_t filtered;   /* matches suppressed by a filter */
};
const struct kz_sigma_match_stats *kz_sigma_scratch_stats(const struct kz_sigma_scratch *s);

/* Called for each rule the event matches, in rule-set order, at most once per rule; rule_index
 * is the rule's position in the rule set. */
typedef void (*kz_sigma_hit_fn)(void *ctx, const struct kz_sigma_rule *rule, uint32_t rule_index,
                                const struct kz_event *ev);

/* Tests ev against every rule of its route. Returns the number of hits. ev must stay unchanged
 * during the call; the scratch keeps nothing of it afterwards. */
uint32_t kz_sigma_match(const struct kz_sigma_engine *e, struct kz_sigma_scratch *s,
                        const struct kz_event *ev, kz_sigma_hit_fn hit, void *ctx);

/* The default cache directory for compiled databases (kz_sigma_engine_opts.cache_dir):
 * $XDG_CACHE_HOME/kizuki when XDG_CACHE_HOME is an absolute path, else $HOME/.cache/kizuki.
 * Returns 0, or -1 when neither is set (or the path does not fit in cap bytes). */
int kz_sigma_cache_dir(char *out, size_t cap);

/* The product an event belongs to for logsource purposes ("windows" for EVTX). */
const char *kz_sigma_event_product(const struct kz_event *ev);

#endif
