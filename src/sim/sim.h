/* sim.h - the simulator: writes a simulated estate's logs with the two incidents injected, and the
 * ground truth that `kizuki eval` scores detections against (DESIGN.md, "Simulator").
 *
 * Output under opts.outdir: logs/<HOST>/<Channel>.evtx (Security, System,
 * Microsoft-Windows-Sysmon%4Operational, Microsoft-Windows-PowerShell%4Operational), the reverse
 * proxy's logs/PROXY01/access.log (nginx combined), the portal's logs/PWRESET01/
 * localhost_access_log.txt (Tomcat common), the VPN gateway's logs/VPNGW01/fortigate.log (FortiOS
 * key=value event log), truth.jsonl, scenario.json, customers.csv and
 * geoip.mmdb (mmdb_writer.h).
 *
 * Deterministic: the same options (seed, users, days, start, scenarios) give the same bytes,
 * whatever the thread count. Memory: one day of events at a time plus one open writer (about 70
 * KiB) per output file; it does not grow with --days.
 *
 * Ownership: kz_sim_run owns everything it allocates and frees it before returning. */
#ifndef KZ_SIM_H
#define KZ_SIM_H

#include "../core/error.h"

#include <stdint.h>

enum {
    KZ_SIM_NTT2020 = 1,      /* incident A: stolen credentials, VPN -> VDI -> file servers */
    KZ_SIM_NIGHTSKY2021 = 2, /* incident B: password-reset portal -> AD -> GPO ransomware */
    KZ_SIM_ALL = 3,
};

#define KZ_SIM_MAX_DAYS 366

/* How the Windows events are written. */
enum {
    KZ_SIM_FORMAT_EVTX = 0,  /* <Channel>.evtx, as Windows keeps them */
    KZ_SIM_FORMAT_JSONL = 1, /* <Channel>.jsonl, as Winlogbeat ships them (ECS); record ids are
                              * line numbers */
};

struct kz_sim_opts {
    const char *outdir; /* created if missing; existing files of the same names are replaced */
    uint64_t seed;
    uint32_t users;       /* employees, 1..KZ_SIM_MAX_USERS (default 200) */
    uint32_t days;        /* 1..KZ_SIM_MAX_DAYS (default 14) */
    int64_t start_day;    /* first day, as days since 1970-01-01 (local date, JST) */
    unsigned scenarios;   /* KZ_SIM_* bits; 0: benign only */
    int threads;          /* writer threads (<= 0: one per CPU) */
    int format;           /* KZ_SIM_FORMAT_* */
    uint32_t shard_hosts; /* hosts written per pass over the days (0: 400); bounds the open logs.
                           * The output does not depend on it. */
    /* Called after each day is written (may be NULL). */
    void (*progress)(void *ctx, uint32_t day, uint32_t days, uint64_t events, uint64_t bytes);
    void *ctx;
};

struct kz_sim_stats {
    uint64_t events;       /* events written (EVTX records + text lines) */
    uint64_t evtx_records; /* Windows events (EVTX records, or JSON lines with --format jsonl) */
    uint64_t text_lines;
    uint64_t bytes;            /* bytes of log files */
    uint32_t files;            /* log files */
    uint32_t hosts;            /* hosts in the estate */
    uint32_t steps;            /* attack steps in truth.jsonl */
    uint64_t truth_records;    /* records listed in truth.jsonl */
    uint64_t benign_user_days; /* employee working days simulated */
    uint32_t customers;
};

/* Parses a scenario name ("ntt2020", "nightsky2021", "none", "all") into KZ_SIM_* bits. Returns 0
 * or KZ_EUSAGE. */
int kz_sim_scenario_parse(const char *name, unsigned *bits);

/* Default start: 2026-03-02 (a Monday). */
int64_t kz_sim_default_start(void);

/* Runs the simulation. Returns 0, or KZ_EUSAGE / KZ_EIO / KZ_ELIMIT / KZ_ENOMEM with err set. */
int kz_sim_run(const struct kz_sim_opts *o, struct kz_sim_stats *st, struct kz_err *err);

#endif
