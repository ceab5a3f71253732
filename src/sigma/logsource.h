/* logsource.h - resolves a Sigma rule's `logsource:` to the places its events are: channel,
 * provider, event ids, and the fields that have another name (or other values) in that log.
 *
 * Why: Sigma names inputs abstractly (`product: windows, category: process_creation`); kizuki
 * reads raw logs and must know that this means Sysmon event 1 *or* Security 4688 with
 * NewProcessName in place of Image, natively, without pre-converted rules. The knowledge is data
 * (data/logsource.yml, compiled into the binary; its header comment documents the format); this
 * module loads it, bounded like any outside input, and answers one logsource at a time.
 *
 * Resolution (kz_ls_resolve): names compare case-insensitively.
 *   - category and service both given: the category's targets that share a channel (and
 *     provider) with one of the service's targets (`process_creation` + `security` -> 4688);
 *   - category or service alone: its targets under the product; a name the product does not
 *     define is looked up among the product-less (`generic`) ones; with no product, the union
 *     over the generic section and every product that defines the name;
 *   - product alone: the product's `any` targets (windows: every Windows event, channel NULL);
 *   - a product the file marks unsupported: UNSUPPORTED, whatever the category or service;
 *   - a name the file does not know: UNKNOWN, and the reason names it.
 *
 * Ownership: a struct kz_ls_map owns everything reachable from it (one arena); targets, strings
 * and arrays stay valid until kz_ls_free. Field ids are interned (core/intern.h) and live as long
 * as the process. The map is read-only once loaded: resolving from several threads is safe.
 * kz_ls_default's map is loaded once and never freed. A struct kz_ls_result holds pointers into
 * the map and its reason inline, so it can be copied freely while the map lives. */
#ifndef KZ_SIGMA_LOGSOURCE_H
#define KZ_SIGMA_LOGSOURCE_H

#include "core/error.h"
#include "sigma/rule.h"

#include <stddef.h>
#include <stdint.h>

/* ---- limits: a broken or hostile mapping file cannot take unbounded time or memory ---- */
#define KZ_LS_MAX_FILE_BYTES (1u << 20) /* a mapping larger than this is refused */
#define KZ_LS_MAX_NODES 65536u          /* YAML nodes in the file */
#define KZ_LS_MAX_DEPTH 16u             /* YAML nesting */
#define KZ_LS_MAX_KEYS 4096u            /* keys of one YAML map */
#define KZ_LS_MAX_ENTRIES 4096u         /* products + categories + services */
#define KZ_LS_MAX_TARGETS 16u           /* targets of one entry, and of one answer */
#define KZ_LS_MAX_IDS 1024u             /* event ids of one target */
#define KZ_LS_MAX_FIELDS 256u           /* renames / where / values / absent of one target, each */
#define KZ_LS_MAX_VALUES 256u           /* values of one `where` field or one value map */
#define KZ_LS_MAX_NAME 256u             /* bytes in a name, channel, field or value */
#define KZ_LS_MAX_TEXT 1024u            /* bytes in a reason or note */
#define KZ_LS_ARENA_CAP ((size_t)32 << 20)
#define KZ_LS_REASON_MAX 512u /* bytes kept of a result's reason */

/* An extra condition on the event: source field `field` equals one of values (case-insensitive). */
struct kz_ls_cond {
    uint32_t field; /* interned source field name */
    uint32_t nvalues;
    const char *const *values;
};

/* The same information written differently: a rule value from[i] on Sigma field `field` is
 * written to[i] in this log (from may repeat: one rule value, several source forms). */
struct kz_ls_valmap {
    uint32_t field; /* interned Sigma field name (before rename) */
    uint32_t n;
    const char *const *from, *const *to;
};

/* One place a rule's events come from. */
struct kz_ls_target {
    const char *product;       /* "windows", "linux" ... (lowercase); NULL: not tied to one */
    const char *channel;       /* exact channel name (compare case-insensitively); NULL = any */
    const char *provider;      /* Provider_Name (syslog: program) the event must have; NULL = any */
    uint32_t nevent_ids;       /* 0 = any event id */
    const uint32_t *event_ids; /* ascending, no duplicates */
    uint32_t nrenames;         /* Sigma field -> this log's field, interned */
    const uint32_t *rename_from, *rename_to;
    uint32_t nwhere; /* conditions ANDed with the rule's detection */
    const struct kz_ls_cond *where;
    uint32_t nvalmaps;
    const struct kz_ls_valmap *valmaps;
    uint32_t nabsent; /* Sigma fields this log never carries, interned */
    const uint32_t *absent;
    const char *note; /* caveat for `rules check`, or NULL */
    uint32_t line;    /* line of the target in the mapping file */
};

enum kz_ls_status {
    KZ_LS_MAPPED,      /* targets[] say where the events are */
    KZ_LS_UNSUPPORTED, /* a known log kizuki does not read; reason says which and why */
    KZ_LS_UNKNOWN      /* the mapping does not know this logsource; reason names the key */
};

struct kz_ls_result {
    int status;        /* enum kz_ls_status */
    uint32_t ntargets; /* MAPPED: 1..KZ_LS_MAX_TARGETS; otherwise 0 */
    const struct kz_ls_target *targets[KZ_LS_MAX_TARGETS];
    char reason[KZ_LS_REASON_MAX]; /* UNSUPPORTED/UNKNOWN: why (for `rules check`); "" if MAPPED */
};

struct kz_ls_map;

/* The mapping compiled into the binary (data/logsource.yml), loaded on first use; thread-safe.
 * NULL (and err filled, "data/logsource.yml:LINE: why") when the embedded file is broken. */
const struct kz_ls_map *kz_ls_default(struct kz_err *err);

/* Loads a mapping from text (len bytes; need not be NUL-terminated); `name` prefixes messages.
 * Returns 0 and *out, or KZ_EFORMAT / KZ_ELIMIT / KZ_ENOMEM with err = "NAME:LINE: why". */
int kz_ls_load(struct kz_ls_map **out, const char *name, const char *text, size_t len,
               struct kz_err *err);
void kz_ls_free(struct kz_ls_map *m);

/* Resolves product/category/service of ls (any may be NULL; `definition` is not used). */
void kz_ls_resolve(const struct kz_ls_map *m, const struct kz_sigma_logsource *ls,
                   struct kz_ls_result *out);

/* The field a target reads for Sigma field `sigma_field` (itself when not renamed). */
uint32_t kz_ls_target_field(const struct kz_ls_target *t, uint32_t sigma_field);
/* 1 when Sigma field `sigma_field` is listed as absent from the target's log. */
int kz_ls_target_lacks(const struct kz_ls_target *t, uint32_t sigma_field);
/* 1 when an event of this channel, provider and event id can belong to the target (channel and
 * provider case-insensitively; NULL channel/provider of the event match only a target that does
 * not require one). `where` conditions are not checked: they need the event's fields. */
int kz_ls_target_accepts(const struct kz_ls_target *t, const char *channel, const char *provider,
                         uint32_t event_id);

/* Counts, for `rules check` and tests. */
uint32_t kz_ls_entry_count(const struct kz_ls_map *m);
/* "mapped", "unsupported", "unknown". */
const char *kz_ls_status_name(int status);

#endif
