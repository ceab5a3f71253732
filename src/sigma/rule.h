/* rule.h - Sigma rules in memory: detection rules, correlation rules and filters, as loaded from
 * YAML (sigma_load.c) and as the matcher will consume them.
 *
 * Why this shape: the matcher that comes next must test each event against thousands of rules, so
 * everything that can be decided once is decided here, at load time. Field names are interned
 * (core/intern.h) so a field test is an integer compare; every value modifier is parsed into flags
 * and parameters; string values are turned into patterns (exact / contains / startswith / endswith
 * / glob) with Sigma's wildcards and escapes already resolved, case already folded, and the
 * encodings (windash, utf16*, base64, base64offset) already applied, one pattern per variant; a
 * selection is an OR of AND-groups of items; the condition is an AST whose leaves index
 * selections. Rules that cannot load are never dropped silently: each one becomes a failure with
 * file, line and a reason a user can act on.
 *
 * Ownership: a struct kz_sigma_ruleset owns everything reachable from it. Rules, selections,
 * values, patterns, strings and failures all live in the rule set's one arena and stay valid until
 * kz_sigma_ruleset_free; the two growable arrays (rules, failures) are kz_malloc'd and also freed
 * there. Field ids come from the process-wide intern table and outlive the rule set. Nothing here
 * is thread-safe while loading; a loaded rule set is read-only and can be shared by matcher
 * threads. */
#ifndef KZ_SIGMA_RULE_H
#define KZ_SIGMA_RULE_H

#include "core/arena.h"
#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

/* ---- limits: a hostile rule file cannot make the loader use unbounded time or memory ---- */
#define KZ_SIGMA_MAX_FILE_BYTES (4u << 20) /* a rule file larger than this is refused */
#define KZ_SIGMA_MAX_YAML_NODES 200000u    /* YAML nodes per file (aliases count as copies) */
#define KZ_SIGMA_MAX_YAML_DEPTH 64u        /* YAML nesting */
#define KZ_SIGMA_MAX_DOCUMENTS 10000u      /* YAML documents per file */
#define KZ_SIGMA_MAX_SELECTIONS 1024u      /* selections per rule */
#define KZ_SIGMA_MAX_ITEMS 4096u           /* items in one selection, over all its groups */
#define KZ_SIGMA_MAX_VALUES 65536u         /* values of one item */
#define KZ_SIGMA_MAX_VARIANTS 4096u   /* patterns one value may expand to (windash, base64offset) */
#define KZ_SIGMA_MAX_CONDITION 8192u  /* characters in one condition */
#define KZ_SIGMA_MAX_COND_DEPTH 64u   /* nesting of brackets and `not` in a condition */
#define KZ_SIGMA_MAX_MODS 16u         /* modifiers on one field */
#define KZ_SIGMA_MAX_RULES (1u << 20) /* rules in one rule set */
#define KZ_SIGMA_MAX_FAILURES (1u << 20)     /* failures recorded (the count keeps going) */
#define KZ_SIGMA_ARENA_CAP ((size_t)2 << 30) /* memory for one rule set */
#define KZ_SIGMA_MAX_FILES 100000u           /* rule files under one folder */

/* ---- value modifiers: `Field|mod1|mod2: value` ---- */
enum kz_sigma_mod {
    KZ_MOD_CONTAINS,   /* value anywhere in the field (wildcards around it) */
    KZ_MOD_STARTSWITH, /* value at the start */
    KZ_MOD_ENDSWITH,   /* value at the end */
    KZ_MOD_ALL,        /* the values are ANDed instead of ORed */
    KZ_MOD_EXISTS,     /* the field is present (true) or absent (false) */
    KZ_MOD_CASED,      /* case-sensitive comparison */
    KZ_MOD_NEQ,        /* the field differs from the value */
    KZ_MOD_WINDASH, /* `-` and `/` at the start of a word, and the Unicode dashes, interchangeable
                     */
    KZ_MOD_RE,      /* the value is a (PCRE-flavoured) regular expression */
    KZ_MOD_RE_I,    /* re: case-insensitive */
    KZ_MOD_RE_M,    /* re: multi-line (^ and $ at line ends) */
    KZ_MOD_RE_S,    /* re: dot matches newline */
    KZ_MOD_BASE64,  /* the value is base64-encoded */
    KZ_MOD_BASE64OFFSET, /* the three base64 encodings of the value at offsets 0, 1, 2 */
    KZ_MOD_UTF16LE,      /* the value as UTF-16LE (before base64) */
    KZ_MOD_UTF16BE,      /* the value as UTF-16BE */
    KZ_MOD_UTF16,        /* the value as UTF-16LE with a byte order mark */
    KZ_MOD_WIDE,         /* alias of utf16le */
    KZ_MOD_LT,           /* numeric comparisons: field < value */
    KZ_MOD_LTE,
    KZ_MOD_GT,
    KZ_MOD_GTE,
    KZ_MOD_MINUTE, /* time parts: compare that part of a timestamp field */
    KZ_MOD_HOUR,
    KZ_MOD_DAY,
    KZ_MOD_WEEK,
    KZ_MOD_MONTH,
    KZ_MOD_YEAR,
    KZ_MOD_CIDR,     /* the field is an IP address inside the network */
    KZ_MOD_EXPAND,   /* the value holds %placeholders% a pipeline expands */
    KZ_MOD_FIELDREF, /* the value names another field of the same event */
    KZ_MOD_COUNT
};
#define KZ_SM(m) (1ull << (KZ_MOD_##m))
#define KZ_SM_COMPARE (KZ_SM(LT) | KZ_SM(LTE) | KZ_SM(GT) | KZ_SM(GTE))
#define KZ_SM_TIMEPART                                                                             \
    (KZ_SM(MINUTE) | KZ_SM(HOUR) | KZ_SM(DAY) | KZ_SM(WEEK) | KZ_SM(MONTH) | KZ_SM(YEAR))
#define KZ_SM_UTF16 (KZ_SM(UTF16LE) | KZ_SM(UTF16BE) | KZ_SM(UTF16) | KZ_SM(WIDE))
#define KZ_SM_POSITION (KZ_SM(CONTAINS) | KZ_SM(STARTSWITH) | KZ_SM(ENDSWITH))

/* The modifier table: name as written in rules, and what it does (for messages and docs). */
struct kz_sigma_mod_info {
    const char *name;
    const char *desc;
};
extern const struct kz_sigma_mod_info kz_sigma_mods[KZ_MOD_COUNT];
/* The modifier named name[0..len), or -1. */
int kz_sigma_mod_find(const char *name, size_t len);

/* ---- values ---- */

/* How a string pattern compares, after wildcards and position modifiers are folded in. */
enum kz_sigma_match {
    KZ_MATCH_EXACT,      /* the whole field equals text */
    KZ_MATCH_CONTAINS,   /* text anywhere */
    KZ_MATCH_STARTSWITH, /* text at the start */
    KZ_MATCH_ENDSWITH,   /* text at the end */
    KZ_MATCH_GLOB,       /* pieces, with * and ? wildcards in the middle */
    KZ_MATCH_ANY,        /* the pattern is only `*`: any value (including empty) */
};

enum kz_sigma_piece_kind { KZ_PIECE_LIT, KZ_PIECE_STAR, KZ_PIECE_ONE };
/* A glob piece: a literal run, `*` (any run) or `?` (one character). */
struct kz_sigma_piece {
    uint8_t kind;     /* enum kz_sigma_piece_kind */
    uint32_t len;     /* LIT: bytes in text */
    const char *text; /* LIT: literal bytes (folded when the pattern is case-insensitive) */
};

/* One alternative a string value matches (a value expands to several with windash/base64offset). */
struct kz_sigma_pattern {
    uint8_t match;    /* enum kz_sigma_match */
    uint8_t cased;    /* 1: compare case-sensitively; 0: text is ASCII-lowercased, fold the field */
    uint32_t len;     /* bytes in text (may contain NUL bytes after utf16 encodings) */
    const char *text; /* the literal for EXACT..ENDSWITH (NUL-terminated); for GLOB the pieces */
    uint32_t npieces; /* GLOB: pieces, in order */
    struct kz_sigma_piece *pieces;
};

enum kz_sigma_vtype {
    KZ_SV_STRING, /* patterns[] hold the comparisons */
    KZ_SV_NUMBER, /* a plain YAML number: num, and patterns[] for its text form */
    KZ_SV_NULL,   /* null / ~ / empty: the field is absent or empty */
    KZ_SV_BOOL, /* a plain YAML boolean (true/false/yes/no): boolean, and patterns[] for its text */
    KZ_SV_REGEX,    /* |re: raw is the expression; item flags carry i/m/s */
    KZ_SV_CIDR,     /* |cidr: family, addr, prefix */
    KZ_SV_FIELDREF, /* |fieldref: field is the other field's id */
    KZ_SV_EXISTS,   /* |exists: boolean */
};

struct kz_sigma_value {
    uint8_t type;     /* enum kz_sigma_vtype */
    uint8_t boolean;  /* BOOL, EXISTS */
    uint8_t family;   /* CIDR: 4 or 6 */
    uint8_t prefix;   /* CIDR: prefix length in bits */
    uint8_t addr[16]; /* CIDR: network address, host bits cleared */
    uint32_t line;    /* line of the value in the rule file */
    uint32_t field;   /* FIELDREF: interned id of the referenced field */
    double num;       /* NUMBER (also for compare and time-part modifiers) */
    const char *raw;  /* the value as written (after YAML unquoting), NUL-terminated */
    uint32_t raw_len;
    uint32_t npatterns; /* STRING, NUMBER, BOOL, FIELDREF (position of the referenced value) */
    struct kz_sigma_pattern *patterns;
};

/* One `Field|mods: value(s)` entry, or a keyword list (field 0). Its values are ORed, or ANDed
 * with |all; the patterns of one value are always ORed. Keyword items match when any field of the
 * event matches; a keyword value without modifiers is a `contains` search, as in Sigma. */
struct kz_sigma_item {
    uint32_t field;         /* interned field name; 0 for keywords */
    const char *field_name; /* as written, "" for keywords */
    uint64_t mods;          /* KZ_SM(...) flags */
    uint8_t nmods;          /* modifiers in the order written (the encodings apply in this order) */
    uint8_t mod_order[KZ_SIGMA_MAX_MODS];
    uint32_t line;
    uint32_t nvalues;
    struct kz_sigma_value *values;
};

/* Items ANDed. */
struct kz_sigma_group {
    uint32_t nitems;
    struct kz_sigma_item *items;
};

/* A named search identifier of `detection:`: its groups are ORed (a list of maps), a single map
 * is one group. */
struct kz_sigma_selection {
    const char *name;
    uint32_t line;
    uint32_t ngroups;
    struct kz_sigma_group *groups;
};

/* ---- the condition ---- */
enum kz_sigma_cond_op {
    KZ_COND_SEL, /* leaf: selections[sel] */
    KZ_COND_NOT, /* kids[0] */
    KZ_COND_AND, /* all kids */
    KZ_COND_OR,  /* any kid */
};
/* Where an AND/OR came from, for printing; the meaning is the same. */
enum kz_sigma_cond_quant { KZ_QUANT_NONE, KZ_QUANT_ONE_OF, KZ_QUANT_ALL_OF };

struct kz_sigma_cond {
    uint8_t op;     /* enum kz_sigma_cond_op */
    uint8_t quant;  /* enum kz_sigma_cond_quant */
    uint32_t sel;   /* SEL: index into the detection's selections */
    uint32_t nkids; /* NOT: 1; AND/OR: >= 1 */
    struct kz_sigma_cond **kids;
};

/* `detection:` of a rule, or the selections and condition of a filter. */
struct kz_sigma_detection {
    uint32_t nselections;
    struct kz_sigma_selection *selections;
    const char *condition;      /* text as written (several conditions joined with " or ") */
    struct kz_sigma_cond *cond; /* the parsed condition */
};

/* ---- rules ---- */
enum kz_sigma_kind { KZ_SIGMA_DETECTION, KZ_SIGMA_CORRELATION, KZ_SIGMA_FILTER, KZ_SIGMA_KINDS };
enum kz_sigma_level {
    KZ_LEVEL_NONE, /* not given */
    KZ_LEVEL_INFORMATIONAL,
    KZ_LEVEL_LOW,
    KZ_LEVEL_MEDIUM,
    KZ_LEVEL_HIGH,
    KZ_LEVEL_CRITICAL
};
enum kz_sigma_status {
    KZ_STATUS_NONE,
    KZ_STATUS_STABLE,
    KZ_STATUS_TEST,
    KZ_STATUS_EXPERIMENTAL,
    KZ_STATUS_DEPRECATED,
    KZ_STATUS_UNSUPPORTED
};

struct kz_sigma_logsource {
    const char *product, *category, *service, *definition; /* NULL when not given */
};

enum kz_sigma_corr_type {
    KZ_CORR_EVENT_COUNT,
    KZ_CORR_VALUE_COUNT,
    KZ_CORR_TEMPORAL,
    KZ_CORR_TEMPORAL_ORDERED,
    KZ_CORR_VALUE_SUM,
    KZ_CORR_VALUE_AVG,
    KZ_CORR_VALUE_PERCENTILE,
};
enum kz_sigma_cmp { KZ_CMP_GT, KZ_CMP_GTE, KZ_CMP_LT, KZ_CMP_LTE, KZ_CMP_EQ, KZ_CMP_NEQ };

/* One `alias_name: {rule_name: field, ...}` of a correlation. */
struct kz_sigma_alias {
    uint32_t alias; /* interned alias name (as used in group-by) */
    uint32_t nmaps;
    const char **rule_refs;       /* rule name or id, per mapping */
    struct kz_sigma_rule **rules; /* resolved by kz_sigma_ruleset_link (NULL before) */
    uint32_t *fields;             /* interned source field per mapping */
};

struct kz_sigma_correlation {
    uint8_t type;     /* enum kz_sigma_corr_type */
    uint8_t generate; /* generate: true (the referenced rules also alert alone) */
    uint32_t nrefs;
    const char **rule_refs;       /* as written: ids or names */
    struct kz_sigma_rule **rules; /* resolved by kz_sigma_ruleset_link */
    uint32_t ngroup_by;
    uint32_t *group_by;  /* interned field or alias names */
    uint64_t timespan_s; /* seconds */
    uint32_t field;      /* condition `field:` (value_* types), 0 otherwise */
    double percentile;   /* value_percentile: `percentile:` in the condition */
    uint32_t ncmp;       /* comparisons, ANDed; 0 for temporal without condition */
    uint8_t cmp_op[6];   /* enum kz_sigma_cmp */
    double cmp_val[6];
    uint32_t naliases;
    struct kz_sigma_alias *aliases;
};

struct kz_sigma_filter {
    uint32_t nrefs;
    const char **rule_refs;       /* rules the filter applies to (ids or names) */
    struct kz_sigma_rule **rules; /* resolved by kz_sigma_ruleset_link; NULL where not loaded */
};

struct kz_sigma_rule {
    uint8_t kind;   /* enum kz_sigma_kind */
    uint8_t level;  /* enum kz_sigma_level */
    uint8_t status; /* enum kz_sigma_status */
    const char *file;
    uint32_t line;                 /* first line of the rule's document */
    const char *id, *name, *title; /* NULL when not given (title is required, so never NULL) */
    uint32_t ntags;
    const char **tags;
    struct kz_sigma_logsource logsource;
    struct kz_sigma_detection detection; /* DETECTION and FILTER */
    struct kz_sigma_correlation corr;    /* CORRELATION */
    struct kz_sigma_filter filter;       /* FILTER */
};

/* A rule that could not load: where and why. */
struct kz_sigma_failure {
    const char *file;
    uint32_t line;      /* 0 when the problem is the whole file (unreadable, too large) */
    const char *reason; /* "rule TITLE: ..." with what to change */
};

struct kz_sigma_ruleset {
    struct kz_arena arena;
    uint32_t nrules, rules_alloc;
    struct kz_sigma_rule **rules;
    uint32_t nfailures, failures_alloc; /* nfailures counts all, failures[] keeps the first MAX */
    uint32_t failures_kept;
    struct kz_sigma_failure *failures;
    uint32_t nfiles;                 /* rule files read */
    uint32_t counts[KZ_SIGMA_KINDS]; /* loaded rules by kind */
    uint32_t placeholders;           /* items using |expand (they need a pipeline to match) */
};

void kz_sigma_ruleset_init(struct kz_sigma_ruleset *rs);
void kz_sigma_ruleset_free(struct kz_sigma_ruleset *rs);

/* Loads a rule file, or every *.yml / *.yaml under a folder (recursively, in sorted order). Rules
 * that load are added to rs; each one that cannot becomes a failure in rs. Returns 0 when the path
 * could be read (even if rules in it failed), KZ_EIO/KZ_EUSAGE when the path itself is unreadable
 * (also recorded as a failure with line 0), KZ_ENOMEM when out of memory (err says where). */
int kz_sigma_load_path(struct kz_sigma_ruleset *rs, const char *path, struct kz_err *err);
/* Loads rules from YAML text in memory; `file` names it in messages. Same returns. */
int kz_sigma_load_buffer(struct kz_sigma_ruleset *rs, const char *file, const char *text,
                         size_t len, struct kz_err *err);
/* Resolves the rule references of correlations and filters by id or name, over everything loaded.
 * A correlation that references a rule that is not loaded (or itself, in a cycle) is moved to the
 * failures. Call once after loading; returns 0 or KZ_ENOMEM. */
int kz_sigma_ruleset_link(struct kz_sigma_ruleset *rs);

/* Parses a condition against a detection's selections; on error fills err with a reason naming
 * the column, and returns KZ_EFORMAT (or KZ_EUNSUPP for Sigma 1 aggregations, KZ_ELIMIT). */
int kz_sigma_cond_parse(struct kz_arena *a, const struct kz_sigma_detection *det, const char *text,
                        struct kz_sigma_cond **out, struct kz_err *err);
/* Writes a condition AST in a fully bracketed form, for tests and debugging; NUL-terminated,
 * truncated to size. */
void kz_sigma_cond_format(const struct kz_sigma_cond *c, const struct kz_sigma_detection *det,
                          char *buf, size_t size);

/* Names, for messages and output. */
const char *kz_sigma_kind_name(int kind);
const char *kz_sigma_level_name(int level);
const char *kz_sigma_corr_type_name(int type);

#endif
