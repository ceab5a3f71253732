/* fuzz_sigma_match.c - libFuzzer target: Sigma rules compiled into an engine and run on events,
 * both taken from the input.
 *
 * Why: a rule set is outside input (downloaded rules), and so is every event value it is matched
 * against (written by the attacker). This drives what fuzz_sigma_load cannot reach: logsource
 * routing, the prefilter's literal extraction and Vectorscan databases, regex compilation by both
 * engines, and every comparison of evaluate.c on hostile values. The input is a rule file; after
 * a line `#EVENT` the rest is events, one field per line (`Name: value`), an empty line between
 * events; `@channel:` and `@event_id:` lines set the event's header. Each event is matched with
 * the prefilter and without it, and the two must agree (a prefilter that drops a match is a bug
 * this target reports by aborting); and with the prefilter's value cache on for every database,
 * twice (the second time from the cache), which must agree too. */
#include "core/alloc.h"
#include "core/intern.h"
#include "sigma/match.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:src/core/intern.c\n";
}

#define MAX_FIELDS 64

struct fuzz_event {
    struct kz_event ev;
    struct kz_field fields[MAX_FIELDS];
};

static void count(void *ctx, const struct kz_sigma_rule *r, uint32_t ri, const struct kz_event *ev) {
    ++*(uint32_t *)ctx;
}

/* Runs one event through every engine (the value cache one twice, the second time from its
 * cache); they must all agree. */
static void run_event(struct kz_sigma_engine *const e[3], struct kz_sigma_scratch *const s[3],
                      struct fuzz_event *fe) {
    uint32_t hits[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        int x = k < 3 ? k : 2;
        if (e[x] && s[x]) kz_sigma_match(e[x], s[x], &fe->ev, count, &hits[k]);
    }
    if (e[0] && e[1] && s[0] && s[1] && hits[0] != hits[1]) abort();
    if (e[0] && e[2] && s[0] && s[2] && (hits[2] != hits[0] || hits[3] != hits[0])) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 128 * 1024) return 0;
    char *text = kz_malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char *events = strstr(text, "\n#EVENT\n");
    size_t rules_len = events ? (size_t)(events - text) : size;
    if (events) events += 8;

    struct kz_sigma_ruleset rs;
    struct kz_err err = {0};
    kz_sigma_ruleset_init(&rs);
    struct kz_sigma_engine *e[3] = {NULL, NULL, NULL};
    struct kz_sigma_scratch *s[3] = {NULL, NULL, NULL};
    if (kz_sigma_load_buffer(&rs, "fuzz.yml", text, rules_len, &err) == 0 &&
        kz_sigma_ruleset_link(&rs) == 0) {
        for (int k = 0; k < 3; k++) {
            struct kz_sigma_engine_opts o = {.no_prefilter = k == 1, .value_cache_all = k == 2};
            if (kz_sigma_engine_new(&e[k], &rs, &o, &err) == 0) kz_sigma_scratch_new(e[k], &s[k]);
        }
    }
    if (events && e[0]) {
        struct fuzz_event *fe = kz_calloc(1, sizeof *fe);
        if (fe) {
            fe->ev.format = KZ_FMT_EVTX;
            fe->ev.channel = "Microsoft-Windows-Sysmon/Operational";
            fe->ev.event_id = 1;
            fe->ev.fields = fe->fields;
            for (char *line = events; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl) *nl = 0;
                char *colon = strchr(line, ':');
                if (!*line) { /* an empty line ends the event */
                    run_event(e, s, fe);
                    fe->ev.nfields = 0;
                } else if (colon) {
                    *colon = 0;
                    char *v = colon + 1 + (colon[1] == ' ');
                    if (!strcmp(line, "@channel"))
                        fe->ev.channel = v;
                    else if (!strcmp(line, "@event_id"))
                        fe->ev.event_id = (uint32_t)strtoul(v, NULL, 10);
                    else if (fe->ev.nfields < MAX_FIELDS) {
                        struct kz_field *f = &fe->fields[fe->ev.nfields];
                        f->name = kz_intern(line, strlen(line));
                        f->val = v;
                        f->len = (uint32_t)strlen(v);
                        if (f->name) fe->ev.nfields++;
                    }
                }
                line = nl ? nl + 1 : NULL;
            }
            run_event(e, s, fe);
            kz_free(fe);
        }
    }
    for (int k = 0; k < 3; k++) {
        kz_sigma_scratch_free(s[k]);
        kz_sigma_engine_free(e[k]);
    }
    kz_sigma_ruleset_free(&rs);
    kz_free(text);
    return 0;
}
