/* correlate.h - the Sigma correlation engine: turns the time-ordered stream of rule matches into
 * correlation alerts (event_count, value_count, temporal, temporal_ordered, value_sum, value_avg,
 * value_percentile), with group-by, aliases, timespans, `generate` and chains of correlations.
 *
 * Why this shape: a correlation is stateful, so it cannot run inside the parallel single-event
 * matcher; it consumes one stream merged by timestamp (DESIGN.md: results must not depend on the
 * thread count). The caller asks once which fields each rule's matches must carry
 * (kz_correlator_wants), then pushes every match in time order; the engine keeps, per correlation
 * and per group (the values of its group-by fields), only what the window needs, and calls back
 * as soon as a correlation holds. Alerts of a correlation that another one references are fed to
 * it at once, as an input whose fields are the group-by values (a chain).
 *
 * Semantics (docs/rules.md, "Correlation", says the same for users):
 *   - Window: an input at time t sees the inputs of its group at times in [t - timespan, t]
 *     (both ends included).
 *   - A condition with only lower bounds (gt, gte; and temporal without a condition) is a rising
 *     one: it is tested at every input over the sliding window ending there; when it holds the
 *     alert fires at once and the group's window starts again empty (no alert per later input).
 *   - A condition with an upper bound or an equality (lt, lte, eq, neq, or a range) cannot be
 *     decided while events may still come, so it is tested once per window that is closed: a
 *     window opens at the first input of its group and closes timespan later (tested when a later
 *     input, of any group, arrives after it, or at kz_correlator_finish).
 *   - temporal: the value is the number of distinct referenced rules seen in the window (the
 *     default condition: all of them). temporal_ordered: the value is the length of the longest
 *     prefix of `rules` seen in that order inside the window (default: all of them).
 *   - value_count counts distinct values (exact, case-sensitive); value_sum / value_avg /
 *     value_percentile read the field as a number (decimal or 0x hex) and ignore inputs where it
 *     is missing or not a number; the percentile is interpolated linearly between closest ranks.
 *   - An input missing one of its group-by fields is ignored by that correlation (as SIEM group-by
 *     drops such events); an alias without a mapping for a rule reads the alias name itself.
 *   - generate (Sigma: false by default): a rule's own matches, and a correlation's own alerts,
 *     are reported unless a correlation that references it has `generate: false`.
 *
 * Bounds: groups per correlation (oldest evicted and counted), entries per group (beyond the cap
 * the two oldest entries merge, so counts and sums stay exact while their times grow coarse; a
 * percentile drops its oldest value), distinct values per group, one memory budget for all group
 * state (when reached, the correlation's oldest group is evicted), group values truncated to
 * KZ_CORR_MAX_KEY_VALUE bytes for display (grouping uses the whole value), chains up to
 * KZ_CORR_MAX_DEPTH deep. Every cut is counted in struct kz_corr_stats.
 *
 * Threads: one correlator per stream; not thread-safe. The callback must not call back into the
 * correlator.
 *
 * Ownership: the correlator borrows the rule set (which must outlive it) and owns its state. An
 * alert and everything it points to (group values, events) is valid only during the callback. The
 * arrays kz_correlator_wants returns live as long as the correlator. */
#ifndef KZ_SIGMA_CORRELATE_H
#define KZ_SIGMA_CORRELATE_H

#include "core/error.h"
#include "core/timeutil.h"
#include "rule.h"

#include <stddef.h>
#include <stdint.h>

/* ---- limits ---- */
#define KZ_CORR_ALERT_EVENTS 32        /* contributing events kept per group (the latest ones) */
#define KZ_CORR_MAX_KEY_VALUE 256      /* bytes of one group value kept for display */
#define KZ_CORR_MAX_GROUP_BY 32        /* group-by fields; a correlation with more is skipped */
#define KZ_CORR_MAX_RULES 64           /* rules of one correlation; more is skipped */
#define KZ_CORR_MAX_DEPTH 16           /* correlations on correlations; deeper ones are skipped */
#define KZ_CORR_HARD_MAX_VALUES 65536u /* distinct values per group, whatever the threshold */
#define KZ_CORR_HARD_MAX_ENTRIES 65536u

/* Tunable bounds; kz_correlator_new starts with the defaults. */
struct kz_corr_limits {
    uint32_t max_groups;  /* live groups per correlation (default 10000) */
    uint32_t max_entries; /* times/values kept per group, <= KZ_CORR_HARD_MAX_ENTRIES (4096) */
    uint32_t max_values;  /* value_count: distinct values per group (4096; raised to the
                             threshold + 1 when that is higher, up to KZ_CORR_HARD_MAX_VALUES) */
    size_t memory;        /* bytes of group state for the whole correlator (256 MiB) */
};

/* One match of a detection rule, fed in time order. */
struct kz_corr_input {
    kz_time ts;
    const struct kz_sigma_rule *rule;
    uint32_t file_id; /* where the event came from, carried into alerts */
    uint64_t record_id;
    uint32_t nvalues;          /* the event's values of the fields kz_correlator_wants asked for */
    const uint32_t *fields;    /* interned ids, any order */
    const char *const *values; /* NUL-terminated; NULL when the event lacks the field */
};

/* An event that contributed to an alert. */
struct kz_corr_ref {
    kz_time ts;
    const struct kz_sigma_rule *rule; /* the detection rule it matched (chains are flattened) */
    uint32_t file_id;
    uint64_t record_id;
};

struct kz_corr_alert {
    const struct kz_sigma_rule *rule; /* the correlation rule that fired */
    kz_time first, last;              /* window of the contributing events */
    double value;                     /* the aggregate compared: count, distinct count, number of
                                         rules, sum, average or percentile */
    uint32_t ngroup;
    const uint32_t *group_fields;    /* the correlation's group-by names (aliases as written) */
    const char *const *group_values; /* truncated to KZ_CORR_MAX_KEY_VALUE bytes */
    uint32_t nevents;                /* <= KZ_CORR_ALERT_EVENTS, oldest first */
    const struct kz_corr_ref *events;
};
typedef void (*kz_corr_fire_fn)(void *ctx, const struct kz_corr_alert *a);

struct kz_corr_stats {
    uint32_t correlations;   /* correlation rules in the rule set */
    uint32_t skipped;        /* of those, not run (kz_correlator_skipped says why) */
    uint64_t inputs;         /* kz_correlator_push calls */
    uint64_t out_of_order;   /* inputs older than an input pushed before them */
    uint64_t late;           /* (input, correlation) pairs older than the correlation's clock by
                                more than its timespan: dropped */
    uint64_t ungrouped;      /* (input, correlation) pairs lacking a group-by field: ignored */
    uint64_t no_value;       /* ... lacking the value field, or not a number: ignored */
    uint64_t alerts;         /* correlations that held, chained ones included */
    uint64_t reported;       /* of those, passed to the callback (generate) */
    uint64_t groups_live;    /* groups holding state now */
    uint64_t groups_evicted; /* groups dropped by the group cap or the memory budget */
    uint64_t values_evicted; /* value_count: distinct values dropped by the per-group cap */
    uint64_t entries_merged; /* entries merged (or, for percentiles, dropped) by the entry cap */
    uint64_t no_memory;      /* inputs dropped because no memory could be found for them */
    size_t memory;           /* bytes of group state held (high-water, as the arena keeps blocks) */
};

struct kz_correlator;

/* Builds a correlator for every correlation rule of rs (linked with kz_sigma_ruleset_link).
 * Correlations it cannot run (too many group-by fields or rules, too deep a chain) are skipped
 * with a reason, never dropped silently. Returns 0, or KZ_ENOMEM (err says where). */
int kz_correlator_new(struct kz_correlator **out, const struct kz_sigma_ruleset *rs,
                      struct kz_err *err);
void kz_correlator_free(struct kz_correlator *c);
/* Replaces the limits (zero fields keep the current value); only before the first push. Returns 0
 * or KZ_EUSAGE. */
int kz_correlator_set_limits(struct kz_correlator *c, const struct kz_corr_limits *lim);

/* 1 when rule r is referenced by a correlation (directly or through a chain), with the fields its
 * matches must carry in *fields (group-by fields after alias resolution, and the value field);
 * 0 when no correlation uses r (then *nfields is 0). */
int kz_correlator_wants(const struct kz_correlator *c, const struct kz_sigma_rule *r,
                        const uint32_t **fields, uint32_t *nfields);
/* 1 when r's own matches (or, for a correlation, its alerts) are to be reported as findings:
 * unless a correlation referencing r says `generate: false` (the default). */
int kz_correlator_generates(const struct kz_correlator *c, const struct kz_sigma_rule *r);

/* Feeds one match. Inputs must come in non-decreasing ts; an older one is counted and, when still
 * inside a correlation's timespan, handled as if it came at the latest time seen. Alerts that are
 * reported go to fire(ctx, alert) before push returns, in a fixed order (correlations in rule
 * order, a chained alert right after the alert that caused it). */
void kz_correlator_push(struct kz_correlator *c, const struct kz_corr_input *in,
                        kz_corr_fire_fn fire, void *ctx);
/* End of the stream: tests every window still open (the closed-window conditions) and forgets all
 * state, so the correlator can take a new stream. */
void kz_correlator_finish(struct kz_correlator *c, kz_corr_fire_fn fire, void *ctx);

void kz_correlator_stats(const struct kz_correlator *c, struct kz_corr_stats *out);
/* The i-th skipped correlation (0 <= i < stats.skipped): its rule in *r and the reason; NULL when
 * i is out of range. */
const char *kz_correlator_skipped(const struct kz_correlator *c, uint32_t i,
                                  const struct kz_sigma_rule **r);

#endif
