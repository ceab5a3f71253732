/* sigma_int.h - what the files of src/sigma share and nothing outside should use.
 *
 * rule.c turns one `Field|mods` key and its YAML scalars into items and values (the modifier rules
 * and the value pre-processing live there, beside the modifier table); sigma_load.c walks YAML and
 * calls them; condition.c parses conditions. Ownership as in rule.h: everything built here is
 * allocated from the rule set's arena passed in. */
#ifndef KZ_SIGMA_INT_H
#define KZ_SIGMA_INT_H

#include "rule.h"

/* A YAML scalar as the loader hands it over. */
struct sigma_scalar {
    const char *text; /* unquoted text, NUL-terminated */
    size_t len;
    uint32_t line;
    uint8_t plain; /* 1 when written without quotes (so `null`, `true`, `42` are typed) */
};

/* Parses `Field|mod|mod` into it->field, field_name, mods and mod_order, and checks that the
 * modifiers exist and can be combined. err gets "modifier `|a|b` on field `F`: why". */
int sigma_item_parse_key(struct kz_arena *a, const char *key, size_t len, uint32_t line,
                         struct kz_sigma_item *it, struct kz_err *err);
/* Builds one value of item it from a scalar (types, wildcards, encodings, patterns). */
int sigma_value_compile(struct kz_arena *a, const struct kz_sigma_item *it,
                        const struct sigma_scalar *s, struct kz_sigma_value *out,
                        struct kz_err *err);
/* Checks what depends on the whole value list (|all needs two values, |exists one). */
int sigma_item_check_values(const struct kz_sigma_item *it, struct kz_err *err);
/* Writes "|a|b" of an item's modifiers into buf. */
void sigma_mods_text(const struct kz_sigma_item *it, char *buf, size_t size);

/* Records a failure (file and reason copied into the arena). Returns 0 or KZ_ENOMEM. */
int sigma_fail(struct kz_sigma_ruleset *rs, const char *file, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a loaded rule (already in the arena). Returns 0, KZ_ENOMEM or KZ_ELIMIT. */
int sigma_add_rule(struct kz_sigma_ruleset *rs, struct kz_sigma_rule *r);

#endif
