/* sim_int.h - what the simulator's files share: simulated events, the day being generated, attack
 * steps and their ground truth, and the helpers that turn "alice logs on to FS01 from WS0012" into
 * the events Windows would log for it.
 *
 * How a run works (sim.c): the estate is built; benign behaviour and each scenario plan their days
 * (confounders, attack steps); then day by day every generator appends simulated events (struct
 * sim_ev: compact, ~100 bytes, strings borrowed from the estate or the day's arena) to the day's
 * buffer; the buffer is sorted by output file and time and each file's events are rendered and
 * appended to its EVTX writer or text log (in parallel, one thread per file at a time). Malicious
 * events carry their step; after writing, their record ids (or line numbers) go to the truth.
 *
 * Generators draw from their own PRNG stream (struct sim_gen), so the benign logs of a seed do not
 * change when a scenario is added or removed.
 *
 * Ownership: the day's events and strings live until the day is written (sim_day's arena is reset
 * then); anything a scenario keeps across days it allocates itself. */
#ifndef KZ_SIM_INT_H
#define KZ_SIM_INT_H

#include "estate.h"
#include "sim.h"

#include "../core/arena.h"
#include "../core/timeutil.h"

#include <stdint.h>

/* ---- output channels: one file per host and channel ---- */
enum sim_channel {
    CH_SECURITY = 0, /* Security.evtx */
    CH_SYSTEM,       /* System.evtx */
    CH_SYSMON,       /* Microsoft-Windows-Sysmon%4Operational.evtx */
    CH_POWERSHELL,   /* Microsoft-Windows-PowerShell%4Operational.evtx */
    CH_NGINX,        /* access.log (nginx combined) on the reverse proxy */
    CH_TOMCAT,       /* localhost_access_log.txt (Tomcat AccessLogValve, common) on the portal */
    CH_VPN,          /* fortigate.log (FortiOS event log, key=value) on the VPN gateway */
    NCH
};
#define CH_FIRST_TEXT CH_NGINX

/* ---- kinds of simulated events (each one template / one line format) ---- */
enum sim_kind {
    K_4624 = 0, /* logon: u account, lid new logon id, ltype, src ip, s1 workstation, pid, flags */
    K_4625,     /* failed logon: u, ltype, src, s1 workstation, n sub-status */
    K_4634,     /* logoff: u, lid, ltype */
    K_4648,     /* explicit credentials: u subject, lid, u2 account used, s1 target server, s2
                 * process, pid, src */
    K_4672,     /* special privileges: u, lid */
    K_4688,     /* process creation: u, lid, pid, ppid, s1 image, s2 command line, s3 parent image,
                 * ltype integrity (1 medium, 2 high, 3 system) */
    K_4663,     /* object access: u, lid, s1 object, s2 process, pid, n access mask */
    K_4697,     /* service installed (Security): u, lid, s1 name, s2 image path, n start type */
    K_4698,     /* scheduled task created: u, lid, s1 task name, s2 task XML */
    K_4720,     /* account created: u subject, lid, u2 new account */
    K_4724,     /* password reset: u subject, lid, u2 target */
    K_4728,     /* member added to a global group: u subject, lid, u2 member, s1 group */
    K_4768,     /* Kerberos TGT: u, src, n status */
    K_4769,     /* Kerberos service ticket: u, s1 service, src, n status */
    K_4776,     /* NTLM validation: u, s1 workstation, n status */
    K_5136,     /* directory object modified: u, lid, s1 object DN, s2 attribute, s3 value, ltype
                 * 0 value added / 1 deleted, pid correlation seed */
    K_5140,     /* share accessed: u, lid, src, s1 share, s2 local path */
    K_5145,     /* share object checked: u, lid, src, s1 share, s2 local path, s3 relative path, n
                 * access mask (1 read, 2 write, 0x10000 delete) */
    K_7045,     /* service installed (System): u installer, s1 name, s2 image path, n start type */
    K_WU19,     /* Windows Update installed: s1 title */
    K_S1,       /* Sysmon process creation: as K_4688, plus s4 parent command line */
    K_S3,       /* Sysmon network connection: u, pid, s1 image, src destination ip, port, s2 dest
                 * host name */
    K_S10,      /* Sysmon process access: u, pid source, s1 source image, ppid target pid, s2 target
                 * image, n granted access */
    K_S11,      /* Sysmon file created: u, pid, s1 image, s2 file */
    K_S13,      /* Sysmon registry value set: u, pid, s1 image, s2 key, s3 details */
    K_4104,     /* PowerShell script block (verbose): u, s1 text, s2 script path */
    K_4104W,    /* the same, logged as a warning (PowerShell flags suspicious blocks) */
    K_NGINX,    /* proxy access line: src client, s1 request line, s2 user agent, s3 referer, n
                 * status, lid bytes */
    K_TOMCAT,   /* portal access line: src client, s1 request line, s3 remote user, n status, lid
                 * bytes */
    K_VPN,      /* VPN event: u user, src remote ip, n action (VPN_*), pid tunnel id, ppid tunnel
                 * ip, lid bytes, u2 duration s */
    NKINDS
};
enum { VPN_UP = 0, VPN_DOWN, VPN_FAIL };

/* Flags on simulated events. */
enum {
    EVF_NTLM = 1,     /* 4624: NTLM rather than Kerberos */
    EVF_ELEVATED = 2, /* 4624: elevated token */
    EVF_FAILED = 4,   /* 4768/4769/4776: failure */
    EVF_MACHINE = 8,  /* 4624/4634/4769: the account is the computer account of host u2 */
};

/* One simulated event. Strings are borrowed (estate, static tables, the day's arena). */
struct sim_ev {
    kz_time t;
    uint64_t lid; /* logon id (or bytes for text lines) */
    uint64_t rid; /* set when written: EVTX record id, or line number of a text log */
    const char *s1, *s2, *s3, *s4;
    uint32_t seq;  /* generation order, the tie-break of equal times */
    uint32_t step; /* 0 benign, else index + 1 of the attack step it belongs to */
    uint32_t u, u2;
    uint32_t src;
    uint32_t pid, ppid;
    uint32_t n;
    uint32_t host;
    uint16_t port;
    uint8_t kind;
    uint8_t ltype;
    uint16_t flags;
};

/* ---- attack steps, accounts and confounders (what scenario.json and truth.jsonl say) ---- */

struct sim_rec {
    uint32_t file; /* output file index (host * NCH + channel) */
    uint32_t part; /* 1, or the part of a full EVTX log it went to (kz_evtx_writer_part_of) */
    uint64_t id;   /* record id or line */
};

struct sim_step {
    const char *scenario, *stage, *technique;
    uint32_t number;  /* 1, 2, ... within its scenario */
    uint32_t host;    /* main host (where most of its records are) */
    uint32_t user;    /* account used */
    uint32_t account; /* index in the scenario's accounts */
    kz_time start, end;
    kz_time host_time; /* time of the event that chose host */
};

#define SIM_MAX_SOURCES 8
struct sim_account {
    uint32_t scenario; /* index in sim->scen */
    uint32_t user;
    const char *sources[SIM_MAX_SOURCES]; /* attacker IPs and device names (static or estate) */
    uint32_t nsources;
    kz_time first, last;
    uint8_t *hosts;     /* bitmap over hosts */
    uint8_t *customers; /* bitmap over customers */
};

struct sim_confounder {
    const char *kind;
    uint32_t user;
    kz_time start, end;
};

struct sim;
struct sim_day;

/* A scenario: plan() runs once before day 0 (registers accounts and steps, picks days); day() adds
 * the day's events. */
struct sim_scenario {
    const char *name;
    int (*plan)(struct sim *s, void **state);
    void (*day)(struct sim_day *d, void *state);
    void (*free)(void *state);
    void *state;
    uint64_t files_exfiltrated;
};

#define SIM_MAX_STEPS 64
#define SIM_MAX_ACCOUNTS 32
#define SIM_MAX_CONFOUNDERS 64
#define SIM_MAX_SCENARIOS 4
/* Events in one day's buffer of one pass (112 bytes each: at most 1.8 GiB). The largest is the pass
 * holding the two DCs of a 100,000-user estate: every member's computer account and every
 * employee's ticket renewals land there, about 8 million events a day. */
#define SIM_MAX_DAY_EVENTS (16u << 20)
#define SIM_MAX_TRUTH_RECORDS (64u << 20)
/* Hosts whose logs are written in one pass over the days: with more, the days are generated again
 * for the next hosts (generation is cheap next to writing), so at most this many hosts' writers
 * (about 90 KiB per log file) are open at a time. */
#define SIM_SHARD_HOSTS 400

struct sim {
    const struct kz_sim_opts *o;
    struct kz_sim_estate *e;
    uint32_t days;
    int64_t start_day; /* days since 1970 of the first (local) day */
    struct sim_scenario scen[SIM_MAX_SCENARIOS];
    uint32_t nscen;
    struct sim_step steps[SIM_MAX_STEPS];
    uint32_t nsteps;
    struct sim_account accounts[SIM_MAX_ACCOUNTS];
    uint32_t naccounts;
    struct sim_confounder conf[SIM_MAX_CONFOUNDERS];
    uint32_t nconf;
    void *benign; /* benign.c's plan */
    uint64_t benign_user_days;
    int failed; /* a limit was hit while generating; err says which */
    struct kz_err err;
};

/* The day being generated. */
struct sim_day {
    struct sim *s;
    const struct kz_sim_estate *e;
    uint32_t day; /* index from 0 */
    kz_time t0;   /* local (JST) midnight of the day, in UTC ticks */
    int weekday;  /* 0 Monday .. 6 Sunday */
    int holiday;  /* weekend or public holiday */
    struct sim_ev *ev;
    uint32_t nev, cap;
    uint32_t nseq;             /* events generated today, kept or not */
    uint32_t host_lo, host_hi; /* the hosts whose events this pass keeps */
    struct kz_arena arena;     /* strings made for this day */
};

/* A generator's cursor: its day, its PRNG, and the step its events count for (0: benign). */
struct sim_gen {
    struct sim_day *d;
    struct kz_sim_rng rng;
    uint32_t step;
};

#define SEC (KZ_TICKS_PER_SEC)
#define MIN (60 * KZ_TICKS_PER_SEC)
#define HOUR (3600 * KZ_TICKS_PER_SEC)
#define DAY (86400 * KZ_TICKS_PER_SEC)

/* ---- sim.c ---- */
void sim_gen_init(struct sim_gen *g, struct sim_day *d, uint64_t stream);
/* A new event of kind on host at t (clamped into the day). Never NULL: when the day's buffer is
 * full the event goes to a scratch slot and the run fails at the end of the day. */
struct sim_ev *sim_ev_new(struct sim_gen *g, int kind, uint32_t host, kz_time t);
/* A customer's file k, relative to the projects share, in the day's arena. */
const char *sim_customer_path(struct sim_day *d, uint32_t customer, uint32_t k);
#define SHARE_PROJECTS "\\\\*\\projects"
#define SHARE_PROJECTS_LOCAL "\\??\\D:\\Shares\\projects"
/* printf into the day's arena; "" when it is full. */
const char *sim_strf(struct sim_day *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Registers an attack step; returns its index + 1 (what sim_gen.step takes), 0 when full. */
uint32_t sim_step_add(struct sim *s, const char *scenario, const char *stage, const char *technique,
                      uint32_t account);
/* Registers an attacker-controlled account of a scenario; returns its index or KZ_SIM_NONE. */
uint32_t sim_account_add(struct sim *s, uint32_t scenario, uint32_t user);
/* Adds an attacker source (IP or device name; copied) to an account. */
void sim_account_source(struct sim *s, uint32_t account, const char *source);
void sim_account_customer(struct sim *s, uint32_t account, uint32_t customer);
void sim_confounder_add(struct sim *s, const char *kind, uint32_t user, kz_time start, kz_time end);
/* Local midnight (UTC ticks) of day index d. */
kz_time sim_day_start(const struct sim *s, uint32_t d);
/* Is day d (index) a working day (not a weekend or Japanese public holiday)? */
int sim_workday(const struct sim *s, uint32_t d);

/* ---- sim_events.c: Windows behaviour as events ---- */
enum {
    SL_KERBEROS = 0, /* ticket from a DC (4768 when tgt, 4769) */
    SL_NTLM = 1,     /* 4776 on a DC */
    SL_TGT = 2,      /* also a TGT request (first logon of the session) */
    SL_PRIV = 4,     /* 4672 (an administrator) */
    SL_NODC = 8,     /* no DC events (local or cached logon) */
};
/* Logs `user` on to host at t: 4624 (+4672) on host, Kerberos or NTLM events on a DC. src_ip 0:
 * local. Returns the new logon id. */
uint64_t sim_logon(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, int ltype,
                   uint32_t src_ip, const char *src_dev, int flags);
void sim_logoff(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, uint64_t lid,
                int ltype);
/* A process start: Sysmon 1 and Security 4688 on host. Returns the new pid. */
uint32_t sim_proc(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, uint64_t lid,
                  const char *image, const char *cmdline, uint32_t ppid, const char *parent_image,
                  const char *parent_cmd, int integrity);
/* Share connect (5140) and one file access (5145) on file server fs from src_ip. */
void sim_share_connect(struct sim_gen *g, uint32_t fs, kz_time t, uint32_t user, uint64_t lid,
                       uint32_t src_ip, const char *share, const char *local);
void sim_share_file(struct sim_gen *g, uint32_t fs, kz_time t, uint32_t user, uint64_t lid,
                    uint32_t src_ip, const char *share, const char *local, const char *rel,
                    uint32_t access);
/* Sysmon 11: a file written by a process. */
void sim_file_create(struct sim_gen *g, uint32_t host, kz_time t, uint32_t user, uint32_t pid,
                     const char *image, const char *path);
/* A web request through the reverse proxy to the portal: one nginx line, and one Tomcat line when
 * the request reaches the portal (status of the backend). */
void sim_web(struct sim_gen *g, kz_time t, uint32_t client_ip, const char *method_path, int status,
             uint32_t bytes, const char *ua, const char *user);
/* A VPN tunnel (up at t, down at t_end) with its events; returns the tunnel's address. */
uint32_t sim_vpn(struct sim_gen *g, kz_time t, kz_time t_end, uint32_t user, uint32_t remote_ip);
/* A random pid, as Windows hands them out (multiples of 4). */
uint32_t sim_pid(struct sim_gen *g);
uint64_t sim_lid(struct sim_gen *g);

/* Rendering (sim_events.c): registers kinds' templates and writes one event. */
struct sim_render; /* per-thread scratch */
struct sim_render *sim_render_new(const struct kz_sim_estate *e);
void sim_render_free(struct sim_render *r);
int sim_render_channel(int kind);
/* Appends ev to the EVTX writer w (tmpl: the file's template ids by kind, 0 = not yet registered,
 * else id + 1). Sets ev->rid. */
int sim_render_evtx(struct sim_render *r, struct kz_evtx_writer *w, uint32_t *tmpl,
                    struct sim_ev *ev, struct kz_err *err);
/* --format jsonl: ev as one Winlogbeat (ECS) JSON line with winlog.record_id = record_id (set in
 * ev->rid too); NULL with err set when it cannot be built. */
const char *sim_render_json(struct sim_render *r, struct sim_ev *ev, uint64_t record_id,
                            size_t *len, struct kz_err *err);
/* Formats ev as one text line (with its newline) into r's buffer; returns it and its length. */
const char *sim_render_text(struct sim_render *r, const struct sim_ev *ev, size_t *len);

/* ---- benign.c, scenario_*.c ---- */
int sim_benign_plan(struct sim *s);
void sim_benign_day(struct sim_day *d);
void sim_benign_free(struct sim *s);
extern const struct sim_scenario sim_scenario_ntt2020;
/* The ntt2020 attacker's VPS address (host order) for seed: geoip.mmdb places it. */
uint32_t sim_ntt_remote_ip(uint64_t seed);
/* The department an account belongs to at the end of the simulated period (the department-move
 * confounder's new one): peers.csv, an HR export taken when the logs are scanned. */
uint32_t sim_benign_final_dept(const struct sim *s, uint32_t u);
extern const struct sim_scenario sim_scenario_nightsky2021;

#endif
