/* cmd_simulate.c - `kizuki simulate`: write a simulated estate's logs with the two incidents, and
 * the ground truth `kizuki eval` scores against.
 *
 * It is kizuki's red-team replay (test the defences against the attacks that actually happened),
 * the input of `make demo`, and the generator of benchmark corpora. The work is in src/sim/. */
#include "cli.h"

#include "../core/timeutil.h"
#include "../sim/estate.h"
#include "../sim/sim.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: kizuki simulate -o DIR [--scenario NAME]... [--users N] [--days D] [--seed S]\n"
    "                       [--start YYYY-MM-DD] [--format evtx|jsonl] [--threads N] [--quiet]\n"
    "\n"
    "Writes the logs of a simulated organisation (CORP / corp.example, in Japan) over D days,\n"
    "with the two incidents kizuki is built from injected step by step, and the ground truth.\n"
    "Benign volume: about 630 Windows events per employee-day (docs/simulate.md gives the mix),\n"
    "about 1.1 KB each as EVTX: --users 100 --days 30 writes 1.3 million events, 1.2 GB.\n"
    "\n"
    "  -o DIR           output folder (created; files of the same names are replaced)\n"
    "  --scenario NAME  ntt2020       stolen credentials: VPN from an unknown PC -> VDI -> reads\n"
    "                                 across many customers' folders; admin account ADOPS01 ->\n"
    "                                 OPS01 -> CIS01 reading customer records\n"
    "                   nightsky2021  password-reset portal exploited (CVE-2021-40539) -> web\n"
    "                                 shell -> lsass dump -> DC -> backdoors -> staging and\n"
    "                                 exfiltration -> GPO batch -> .nightsky on every machine\n"
    "                   none          benign behaviour only (truth.jsonl is empty)\n"
    "                   repeatable; default: both incidents\n"
    "  --users N        employees (default 200, at most 100000); hosts and customers scale\n"
    "  --days D         days simulated (default 14, at most 366)\n"
    "  --seed S         random seed (default 1); the same options give the same bytes\n"
    "  --start DATE     first day (default 2026-03-02, a Monday; times are JST, logs in UTC)\n"
    "  --format F       evtx (default): Windows event logs as Windows writes them; jsonl: the\n"
    "                   same events as Winlogbeat (ECS) JSON lines, <Channel>.jsonl per host\n"
    "  --threads N      writer threads (default: one per CPU); output does not depend on it\n"
    "  --quiet          no progress and no summary on stderr\n"
    "\n"
    "Output:\n"
    "  DIR/logs/HOST/Security.evtx, System.evtx, Microsoft-Windows-Sysmon%4Operational.evtx,\n"
    "      Microsoft-Windows-PowerShell%4Operational.evtx     Windows event logs per host\n"
    "  DIR/logs/PROXY01/access.log                  reverse proxy (nginx combined format)\n"
    "  DIR/logs/PWRESET01/localhost_access_log.txt  password-reset portal (Tomcat access log)\n"
    "  DIR/logs/VPNGW01/fortigate.log               SSL-VPN gateway (FortiOS event log)\n"
    "  DIR/truth.jsonl     one line per attack step, with every record it consists of\n"
    "  DIR/scenario.json   seed, size, attacker accounts and sources, benign confounders\n"
    "  DIR/customers.csv   pattern,customer: which paths hold which customer's files\n"
    "  DIR/geoip.mmdb      where the estate's public addresses are, for scan --geoip\n"
    "\n"
    "examples:\n"
    "  kizuki simulate -o demo --users 50 --days 7\n"
    "  kizuki simulate -o quiet --scenario none --seed 7\n"
    "  kizuki simulate -o big --users 2000 --days 30 --scenario nightsky2021\n";

struct progress {
    struct kz_cli *cli;
};

static void on_day(void *ctx, uint32_t day, uint32_t days, uint64_t events, uint64_t bytes) {
    struct progress *p = ctx;
    (void)bytes;
    kz_cli_progress(p->cli, day, days, events);
}

static int parse_date(const char *s, int64_t *days) {
    kz_time t;
    if (strlen(s) != 10 || kz_time_parse(s, 10, &t)) return -1;
    *days = t / KZ_TICKS_PER_SEC / 86400;
    return 0;
}

int kz_cmd_simulate(int argc, char **argv) {
    struct kz_cli cli;
    kz_cli_init(&cli, "simulate");
    struct kz_sim_opts o = {
        .users = 200, .days = 14, .seed = 1, .start_day = kz_sim_default_start()};
    unsigned scen = 0;
    int scen_given = 0, bad = 0;
    const char *val;
    long v;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i];
        int common = kz_cli_common(&cli, a, help);
        if (common == KZ_CLI_DONE) return KZ_EXIT_OK;
        if (common == KZ_CLI_HANDLED) continue;
        if (kz_cli_opt(&cli, argc, argv, &i, "-o", &val, &bad) ||
            kz_cli_opt(&cli, argc, argv, &i, "--output", &val, &bad)) {
            o.outdir = val;
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--scenario", &val, &bad)) {
            if (bad) break;
            unsigned b;
            if (kz_sim_scenario_parse(val, &b)) {
                kz_cli_error(&cli, "--scenario: '%s' is not one of ntt2020, nightsky2021, none",
                             val);
                bad = 1;
            }
            scen |= b;
            scen_given = 1;
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--users", &val, &bad)) {
            if (!bad && kz_cli_int(&cli, "--users", val, 1, KZ_SIM_MAX_USERS, &v)) bad = 1;
            o.users = (uint32_t)v;
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--days", &val, &bad)) {
            if (!bad && kz_cli_int(&cli, "--days", val, 1, KZ_SIM_MAX_DAYS, &v)) bad = 1;
            o.days = (uint32_t)v;
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--threads", &val, &bad)) {
            if (!bad && kz_cli_int(&cli, "--threads", val, 1, 64, &v)) bad = 1;
            o.threads = (int)v;
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--seed", &val, &bad)) {
            if (bad) break;
            char *end;
            unsigned long long s = strtoull(val, &end, 10);
            if (end == val || *end || val[0] == '-') {
                kz_cli_error(&cli, "--seed: '%s' is not a non-negative integer", val);
                bad = 1;
            }
            o.seed = s;
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--format", &val, &bad)) {
            if (bad) break;
            if (!strcmp(val, "evtx"))
                o.format = KZ_SIM_FORMAT_EVTX;
            else if (!strcmp(val, "jsonl") || !strcmp(val, "json"))
                o.format = KZ_SIM_FORMAT_JSONL;
            else {
                kz_cli_error(&cli, "--format: '%s' is not one of evtx, jsonl", val);
                bad = 1;
            }
        } else if (kz_cli_opt(&cli, argc, argv, &i, "--start", &val, &bad)) {
            if (!bad && parse_date(val, &o.start_day)) {
                kz_cli_error(&cli, "--start: '%s' is not a date YYYY-MM-DD", val);
                bad = 1;
            }
        } else {
            kz_cli_error(&cli, "unknown %s '%s' (see kizuki simulate --help)",
                         a[0] == '-' ? "option" : "argument", a);
            bad = 1;
        }
    }
    if (!bad && !o.outdir) {
        kz_cli_error(&cli, "no output folder: give -o DIR (see kizuki simulate --help)");
        bad = 1;
    }
    if (bad) return KZ_EXIT_INPUT;
    o.scenarios = scen_given ? scen : KZ_SIM_ALL;
    struct progress p = {&cli};
    o.progress = on_day;
    o.ctx = &p;

    double t0 = kz_cli_now();
    struct kz_sim_stats st;
    struct kz_err err = {0};
    int rc = kz_sim_run(&o, &st, &err);
    kz_cli_progress_clear(&cli);
    if (rc) {
        kz_cli_error(&cli, "%s", err.msg);
        return rc == KZ_ENOMEM ? KZ_EXIT_INTERNAL : KZ_EXIT_INPUT;
    }
    if (!cli.quiet) {
        double secs = kz_cli_now() - t0;
        fprintf(stderr,
                "kizuki simulate: %u users, %u hosts, %u customers, %u days: %" PRIu64
                " events (%" PRIu64 " Windows events, %" PRIu64
                " text log lines) in %u files, %.1f MB, "
                "%.2f s (%.0f events/s); %u attack steps with %" PRIu64
                " records in %s/truth.jsonl\n",
                o.users, st.hosts, st.customers, o.days, st.events, st.evtx_records, st.text_lines,
                st.files, (double)st.bytes / 1e6, secs, secs > 0 ? (double)st.events / secs : 0.0,
                st.steps, st.truth_records, o.outdir);
    }
    return KZ_EXIT_OK;
}
