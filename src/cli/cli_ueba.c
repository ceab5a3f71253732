/* cli_ueba.c - the behaviour-analytics options of `scan` and `risk` (cli_ueba.h). */
#include "cli_ueba.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../ueba/geoip.h"
#include "../ueba/ueba.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

int kz_cli_ueba_init(struct kz_cli_ueba *u, int argc) {
    memset(u, 0, sizeof *u);
    u->baseline_days = u->threshold = u->min_days = u->min_events = -1;
    u->critical = kz_calloc((size_t)(argc > 0 ? argc : 1), sizeof *u->critical);
    return u->critical ? 0 : -1;
}

int kz_cli_ueba_opt(struct kz_cli *c, struct kz_cli_ueba *u, int argc, char **argv, int *i, int *bad) {
    static const struct {
        const char *name;
        long min, max;
        size_t off;
    } ints[] = {
        {"--baseline-days", 0, 3650, offsetof(struct kz_cli_ueba, baseline_days)},
        {"--ueba-threshold", 1, 1000, offsetof(struct kz_cli_ueba, threshold)},
        {"--ueba-min-days", 0, 3650, offsetof(struct kz_cli_ueba, min_days)},
        {"--ueba-min-events", 0, 100000000, offsetof(struct kz_cli_ueba, min_events)},
    };
    const char *arg = argv[*i], *val;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if (kz_cli_opt(c, argc, argv, i, ints[k].name, &val, bad)) {
            long *dst = (long *)((char *)u + ints[k].off);
            if (!*bad && kz_cli_int(c, ints[k].name, val, ints[k].min, ints[k].max, dst)) *bad = 1;
            goto given;
        }
    if (kz_cli_opt(c, argc, argv, i, "--geoip", &val, bad)) {
        if (!*bad) u->geoip_path = val;
    } else if (kz_cli_opt(c, argc, argv, i, "--peers", &val, bad)) {
        if (!*bad) u->peers_path = val;
    } else if (kz_cli_opt(c, argc, argv, i, "--critical", &val, bad)) {
        if (!*bad && !val[0]) {
            kz_cli_error(c, "--critical: an empty pattern matches no host");
            *bad = 1;
        } else if (!*bad) {
            u->critical[u->ncritical++] = val; /* at most one per argument: argc bounds it */
        }
    } else {
        return 0;
    }
given:
    if (!u->given) u->given = arg;
    return 1;
}

int kz_cli_ueba_open(struct kz_cli *c, struct kz_cli_ueba *u, const char *state_path,
                     int state_may_be_new, const char *state_label, struct kz_ueba **out) {
    struct kz_ueba_opts uo;
    struct kz_err err = {0};
    kz_ueba_opts_default(&uo);
    if (u->baseline_days >= 0) uo.baseline_days = (uint32_t)u->baseline_days;
    if (u->threshold > 0) uo.threshold = (double)u->threshold;
    if (u->min_days >= 0) uo.min_days = (uint32_t)u->min_days;
    if (u->min_events >= 0) uo.min_events = (uint32_t)u->min_events;
    uo.critical = u->critical;
    uo.ncritical = u->ncritical;
    if (u->geoip_path) {
        /* a database that cannot be read stops the run: going on without it would look like an
         * estate where nobody travels */
        int rc = kz_geoip_open(&u->geoip, u->geoip_path, &err);
        if (rc) {
            kz_cli_error(c, "--geoip: %s", err.msg);
            return rc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
        }
        uo.geoip = u->geoip;
    }
    if (kz_ueba_new(out, &uo)) {
        kz_cli_error(c, "out of memory");
        return KZ_EXIT_INTERNAL;
    }
    /* a state that fails its checks stops the run: silently starting from nothing would forget
     * the history */
    int rc = 0;
    if (state_path && !(state_may_be_new && access(state_path, F_OK) != 0))
        rc = kz_ueba_load(*out, state_path, &err);
    if (rc) {
        kz_cli_error(c, "%s%s", state_label ? state_label : "", err.msg);
        return rc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    if (u->peers_path && (rc = kz_ueba_load_peers(*out, u->peers_path, &err))) {
        kz_cli_error(c, "--peers: %s", err.msg);
        return rc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    return KZ_EXIT_OK;
}

void kz_cli_ueba_free(struct kz_cli_ueba *u) {
    kz_geoip_free(u->geoip);
    u->geoip = NULL;
    kz_free(u->critical);
    u->critical = NULL;
}
