/* eval.h - scoring findings against a simulation's ground truth (`kizuki eval`, DESIGN.md
 * "Simulator" and "Findings").
 *
 * Why a library: the question "would we have caught it?" is answered by numbers (steps detected,
 * delays, false positives per 1000 benign user-days, confounders flagged), and those numbers must
 * be right. Keeping the scoring apart from file reading lets the unit tests drive it with hand-made
 * truth and findings whose figures were worked out by hand.
 *
 * Use: kz_eval_init; kz_eval_add_step for each line of truth.jsonl and kz_eval_set_scenario with
 * scenario.json (any order); kz_eval_prepare; kz_eval_add_finding for each finding (streamed: a
 * finding is scored and forgotten, so any number of findings costs no memory); then read the
 * results from the struct or print them with kz_eval_write_json / kz_eval_write_text.
 *
 * Matching (a finding counts for a step when any of these holds):
 *   - record: the finding's source.record_id equals a record_id (EVTX) or line (text logs) the
 *     step lists, and the step's `file` (relative to DIR/logs) is a suffix of source.file on a path
 *     component boundary ("FS01/Security.evtx" matches "/x/logs/FS01/Security.evtx", not
 *     ".../AFS01/Security.evtx"); '/' and '\' are the same separator and letters compare without
 *     case (the simulator writes Windows-style names, and Windows compares them so);
 *   - host: the finding's ts is inside [start, end] and its host is the step's host, compared
 *     without case, a short name matching the first label of an FQDN ("fs01" = "FS01.corp.local",
 *     but "FS01.a.local" != "FS01.b.local"; IP addresses only match exactly);
 *   - user: the same window, and the finding's user is the step's user, compared without case,
 *     "DOMAIN\name" and "name@domain" matching a bare "name" (and each other when the domains agree
 *     on their first label).
 * Empty values and "-" (Windows' "none") never match. A step's delay is its earliest matching
 * finding's ts minus its start, and 0 when that finding came first (a record can be logged before
 * the step's nominal start). A finding that matches no step is a false positive; it "flags" a
 * confounder when its user is the confounder's account (same rules) inside the confounder's
 * window, and the confounder reports the highest level among the findings that flagged it.
 * Findings below min_level are ignored altogether.
 *
 * Ownership: struct kz_eval owns every string and array it holds (its arena and kz_malloc'd
 * arrays); kz_eval_free releases them. JSON nodes passed in are only read during the call.
 * Limits: KZ_EVAL_MAX_* below; a truth or scenario file over them is refused with KZ_ELIMIT. */
#ifndef KZ_SIM_EVAL_H
#define KZ_SIM_EVAL_H

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../core/timeutil.h"

#include <stddef.h>
#include <stdint.h>

#define KZ_EVAL_MAX_STEPS 100000
#define KZ_EVAL_MAX_SCENARIOS 1000
#define KZ_EVAL_MAX_CONFOUNDERS 100000
#define KZ_EVAL_MAX_FILES 100000        /* distinct truth files */
#define KZ_EVAL_MAX_RECORDS (64u << 20) /* truth records over all steps (the simulator's cap) */
#define KZ_EVAL_MAX_STRINGS ((size_t)1 << 30) /* bytes of names kept from the truth */
/* JSON limits for truth.jsonl lines (a step may list a million records) and for findings. */
#define KZ_EVAL_TRUTH_LINE_MAX ((size_t)128 << 20)
#define KZ_EVAL_TRUTH_NODES_MAX (1u << 23)

struct kz_eval_step {
    const char *scenario;    /* name */
    uint32_t scenario_index; /* index in kz_eval.scenarios (set by kz_eval_prepare) */
    uint32_t number;         /* "step": 1, 2, ... */
    const char *stage;       /* NULL when absent */
    const char *technique;   /* ATT&CK id; NULL when absent */
    const char *host;        /* NULL when absent */
    const char *user;        /* NULL when absent */
    kz_time start, end;
    uint64_t nrecords; /* records listed */
    /* results */
    int detected;
    kz_time first;     /* ts of the earliest matching finding (valid when detected) */
    uint64_t findings; /* findings that matched this step */
    /* internal */
    uint32_t order; /* position in truth.jsonl, to re-point records after sorting */
    uint64_t seen;  /* serial of the last finding counted, so a finding counts once per step */
};

struct kz_eval_scenario {
    const char *name;
    uint32_t steps_total, steps_detected; /* set by kz_eval_prepare / kz_eval_add_finding */
};

struct kz_eval_confounder {
    const char *kind, *account;
    kz_time start, end;
    int level; /* highest level of the false positives that flagged it; 0: not flagged */
};

struct kz_eval_record; /* entry of the record index (eval.c) */

struct kz_eval {
    int min_level;              /* enum kz_sigma_level; findings below it are ignored */
    struct kz_arena arena;      /* names */
    struct kz_eval_step *steps; /* sorted by scenario, then number, after kz_eval_prepare */
    uint32_t nsteps, steps_cap;
    struct kz_eval_scenario *scenarios; /* scenario.json's order, then truth-only names */
    uint32_t nscenarios, scenarios_cap;
    struct kz_eval_confounder *conf;
    uint32_t nconf, conf_cap;
    int have_scenario_json;
    double benign_user_days;
    const char **files; /* truth file paths, normalised ('/' separators, no leading "./" or "/") */
    uint32_t nfiles, files_cap;
    /* records: collected per line, then indexed by record id in kz_eval_prepare */
    struct kz_eval_record *recs;
    uint64_t nrecs, recs_cap;
    struct kz_eval_record *table; /* open addressing on record id */
    uint64_t table_cap;
    int prepared;
    /* finding counts */
    uint64_t findings;    /* passed to kz_eval_add_finding */
    uint64_t below_level; /* of which ignored for --min-level */
    uint64_t matched;     /* of which matched at least one step */
    uint64_t false_positives;
};

/* Starts an empty evaluation counting findings at or above min_level (0: all). */
void kz_eval_init(struct kz_eval *ev, int min_level);
void kz_eval_free(struct kz_eval *ev);

/* Adds one attack step: an object of truth.jsonl (scenario, step, stage, technique, host, user,
 * start, end, records [{file, record_id | line}]). On a missing or malformed field, returns
 * KZ_EFORMAT with err naming the field; KZ_ELIMIT over a limit; KZ_ENOMEM. */
int kz_eval_add_step(struct kz_eval *ev, const struct kz_json_node *step, struct kz_err *err);
/* Reads scenario.json's root object: benign_user_days (required), scenarios [{name}],
 * confounders [{kind, account, start, end}]. Same returns. */
int kz_eval_set_scenario(struct kz_eval *ev, const struct kz_json_node *root, struct kz_err *err);
/* Checks the truth as a whole (steps unique per scenario; scenario.json given), orders the steps
 * and builds the record index. Returns 0, KZ_EFORMAT (err says why) or KZ_ENOMEM. */
int kz_eval_prepare(struct kz_eval *ev, struct kz_err *err);

/* Both truth files from memory (for tests and small tools): truth_jsonl is parsed line by line,
 * the first bad line failing the call with "truth.jsonl:LINE: ..." in err; then scenario_json;
 * then kz_eval_prepare. */
int kz_eval_load_text(struct kz_eval *ev, const char *truth_jsonl, size_t truth_len,
                      const char *scenario_json, size_t scenario_len, struct kz_err *err);

/* One finding, as far as scoring needs it. Strings are NUL-terminated, NULL when unknown. */
struct kz_eval_finding {
    kz_time ts;
    int level; /* enum kz_sigma_level, KZ_LEVEL_INFORMATIONAL..KZ_LEVEL_CRITICAL */
    const char *host;
    const char *user;
    const char *file;   /* source.file */
    uint64_t record_id; /* source.record_id; 0 when none */
};

/* Reads a finding from a findings.jsonl object: ts and level are required; host, user and source
 * {file, record_id} may be null or absent. Strings are copied into a (a per-line scratch arena
 * will do). Returns 0 or KZ_EFORMAT (err says which field) / KZ_ENOMEM. */
int kz_eval_finding_from_json(const struct kz_json_node *obj, struct kz_arena *a,
                              struct kz_eval_finding *f, struct kz_err *err);
/* Scores one finding (after kz_eval_prepare). */
void kz_eval_add_finding(struct kz_eval *ev, const struct kz_eval_finding *f);

/* "informational".."critical" -> KZ_LEVEL_*; -1 for anything else. */
int kz_eval_level_parse(const char *s, size_t n);

/* Results. Delay of a detected step in ticks (>= 0). */
kz_time kz_eval_step_delay(const struct kz_eval_step *st);
/* The result object of DESIGN.md on one line (with '\n'): steps_total, steps_detected, scenarios
 * [{name, steps_total, steps_detected, first_detection_delay_s, steps [{step, detected,
 * delay_s}]}], false_positives, benign_user_days, fp_per_1000_user_days, confounders_flagged
 * [{kind, account, level}]. Delays are seconds (decimals when not whole), null when nothing was
 * detected; fp_per_1000_user_days is null when benign_user_days is 0. */
void kz_eval_write_json(const struct kz_eval *ev, struct kz_buf *out);
/* A short human summary: totals, each scenario and step with its delay, false positives, the
 * confounders flagged. */
void kz_eval_write_text(const struct kz_eval *ev, struct kz_buf *out);

/* The matching rules above, exposed for tests. */
int kz_eval_host_match(const char *a, const char *b);
int kz_eval_user_match(const char *a, const char *b);
/* 1 when truth_file (relative, normalised or not) names the end of path on a component boundary. */
int kz_eval_path_match(const char *truth_file, const char *path);

#endif
