/* cli_ueba.h - the behaviour-analytics options `kizuki scan` and `kizuki risk` share: parsed in one
 * place, explained by one help text, turned into an engine (GeoIP database opened, saved model
 * loaded, peer groups read) by one function, so the two commands cannot drift apart. */
#ifndef KZ_CLI_UEBA_H
#define KZ_CLI_UEBA_H

#include "cli.h"

struct kz_ueba;
struct kz_geoip;

/* Help lines of the shared options, for a command's --help text. */
#define KZ_CLI_UEBA_HELP                                                                           \
    "  --baseline-days N   UEBA only learns during the first N days of the input (default 5)\n"   \
    "  --ueba-threshold N  risk at which UEBA raises a finding (default 55)\n"                      \
    "  --ueba-min-days N   an account or host raises nothing before N active days of its own\n"   \
    "                      history (default 5; the learning gate)\n"                             \
    "  --ueba-min-events N ... and N activities (default 50)\n"                                    \
    "  --critical GLOB     hosts whose name matches GLOB (no case; `*` and `?`; repeatable) are\n" \
    "                      critical assets: reaching them weighs 3x, like a domain controller\n"  \
    "  --geoip FILE        a MaxMind DB (GeoIP2/GeoLite2 City): UEBA flags impossible travel\n"   \
    "                      between the places of an account's logons and VPN sessions\n"         \
    "  --peers FILE        CSV of `account,group` (department or OU): UEBA flags access nobody\n" \
    "                      of the account's group ever had (`kizuki simulate` writes peers.csv)\n"

struct kz_cli_ueba {
    long baseline_days, threshold, min_days, min_events; /* -1: the engine's default */
    const char *geoip_path, *peers_path;
    const char **critical; /* --critical patterns (pointers into argv); kept for the engine */
    uint32_t ncritical;
    const char *given; /* the first of these options given (for "cannot be used with --no-ueba") */
    struct kz_geoip *geoip;
};

/* argc bounds how many --critical patterns there can be. Returns 0, or -1 when out of memory. */
int kz_cli_ueba_init(struct kz_cli_ueba *u, int argc);
/* Returns 1 if argv[*i] is one of the shared options (consumed, with its value; *bad set on a
 * usage error, which is printed), else 0. */
int kz_cli_ueba_opt(struct kz_cli *c, struct kz_cli_ueba *u, int argc, char **argv, int *i, int *bad);
/* Makes the engine: options applied, --geoip opened, the model in state_path loaded (when given;
 * a file that does not exist yet is a first run when state_may_be_new, else an error), then
 * --peers read (after the state: this run's mapping is the one that holds). Errors are printed,
 * prefixed with state_label for the state file; returns a KZ_EXIT_* code. */
int kz_cli_ueba_open(struct kz_cli *c, struct kz_cli_ueba *u, const char *state_path,
                     int state_may_be_new, const char *state_label, struct kz_ueba **out);
/* Frees the GeoIP database and the pattern list (after the engine is freed). */
void kz_cli_ueba_free(struct kz_cli_ueba *u);

#endif
