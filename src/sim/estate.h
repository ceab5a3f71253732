/* estate.h - the simulated organisation: departments, people, accounts, machines, customers.
 *
 * `kizuki simulate` needs an estate whose logs look like a real Japanese enterprise's (the two
 * incidents kizuki is built from happened in one): people with habits (hours, remote days, home
 * machine, laptops and personal devices), administrators with separate admin accounts, service
 * accounts, workstations, VDI hosts, file servers holding one folder per customer company, two
 * domain controllers, an operations segment (AD operations server -> operations server ->
 * construction-information server, the NTT Com 2020 path), a reverse proxy in front of the
 * self-service password-reset portal (the Night Sky 2021 entry), a VPN gateway and a backup server.
 *
 * Everything is drawn from the simulator's own PRNG (xoshiro256**, seeded by splitmix64), never
 * rand(), so the same seed and size give the same estate on every machine.
 *
 * Ownership: kz_sim_estate_build allocates the estate and every string in it (one arena);
 * kz_sim_estate_free releases it all. Nothing in it changes after the build. */
#ifndef KZ_SIM_ESTATE_H
#define KZ_SIM_ESTATE_H

#include "../core/arena.h"
#include "../core/error.h"
#include "evtx_writer.h"

#include <stdint.h>

/* ---- limits ---- */
#define KZ_SIM_MAX_USERS 100000   /* --users */
#define KZ_SIM_MAX_HOSTS 65000    /* host indexes are 16 bits in simulated events */
#define KZ_SIM_NONE UINT32_MAX    /* "no user / no host" */
#define KZ_SIM_DOMAIN "CORP"      /* NetBIOS domain name */
#define KZ_SIM_DNS "corp.example" /* DNS domain name */
#define KZ_SIM_REALM "CORP.EXAMPLE"
#define KZ_SIM_TZ_OFFSET (9 * 3600) /* the estate lives in Japan (JST, UTC+9, no DST) */

/* ---- the random number generator ---- */

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that any 64-bit seed, including
 * 0, gives a good state. Streams: the same seed with a different stream number gives an unrelated
 * sequence, which lets every user-day draw from its own generator (the output does not depend on
 * generation order). */
struct kz_sim_rng {
    uint64_t s[4];
};

void kz_sim_rng_seed(struct kz_sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t kz_sim_rng_next(struct kz_sim_rng *r);
/* Uniform in [0, n) (n > 0), without modulo bias worth speaking of (Lemire's multiply-shift). */
static inline uint32_t kz_sim_rng_below(struct kz_sim_rng *r, uint32_t n) {
    return (uint32_t)(((kz_sim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}
/* 1 with probability per_mille / 1000. */
static inline int kz_sim_rng_chance(struct kz_sim_rng *r, uint32_t per_mille) {
    return kz_sim_rng_below(r, 1000) < per_mille;
}
/* Uniform in [lo, hi]. */
static inline uint32_t kz_sim_rng_range(struct kz_sim_rng *r, uint32_t lo, uint32_t hi) {
    return lo + kz_sim_rng_below(r, hi - lo + 1);
}
/* A 64-bit mix of x (splitmix64's finaliser), for values derived from ids without a generator. */
uint64_t kz_sim_mix(uint64_t x);

/* ---- the estate ---- */

enum kz_sim_role {
    KZ_SIM_WORKSTATION = 0, /* a desk PC */
    KZ_SIM_LAPTOP,          /* a company laptop (taken home, cached logons) */
    KZ_SIM_VDI,             /* virtual desktop host (RDP sessions of remote workers) */
    KZ_SIM_FILESERVER,      /* \\FSnn\projects\<customer>\... */
    KZ_SIM_DC,              /* domain controller */
    KZ_SIM_ADOPS,           /* AD operations server (NTT "server A") */
    KZ_SIM_OPS,             /* operations server ("server B") */
    KZ_SIM_CIS,             /* construction-information server holding customer records ("C") */
    KZ_SIM_PORTAL,          /* self-service password-reset portal (Tomcat, java.exe) */
    KZ_SIM_BACKUP,          /* backup server */
    KZ_SIM_PROXY,           /* reverse proxy (Linux, nginx): text logs only */
    KZ_SIM_VPN,             /* SSL-VPN gateway (FortiGate): text logs only */
};

struct kz_sim_host {
    const char *name; /* "WS0012" */
    const char *fqdn; /* "WS0012.corp.example" */
    const char *ip_text;
    uint32_t ip;            /* IPv4, host order */
    uint8_t role;           /* enum kz_sim_role */
    uint8_t windows;        /* a domain-joined Windows machine (EVTX logs) */
    uint32_t owner;         /* user whose desk machine or laptop it is, or KZ_SIM_NONE */
    struct kz_evtx_sid sid; /* the computer account's SID */
};

enum kz_sim_kind {
    KZ_SIM_EMPLOYEE = 0,
    KZ_SIM_ADMIN_ACCOUNT, /* "<name>-adm", a member of Domain Admins, used by an IT person */
    KZ_SIM_SERVICE,       /* svc-*, used by machines */
};

struct kz_sim_user {
    const char *sam;      /* sAMAccountName, "tsuzuki" */
    const char *display;  /* "Suzuki Takeshi" */
    const char *sid_text; /* "S-1-5-21-...-1105" */
    const char *upn;      /* "tsuzuki@corp.example" */
    struct kz_evtx_sid sid;
    uint8_t kind;       /* enum kz_sim_kind */
    uint8_t dept;       /* department index */
    uint8_t start_hour; /* usual arrival, JST */
    uint8_t start_min;
    uint8_t work_hours;  /* usual length of the working day */
    uint8_t remote_days; /* bit d (0 = Monday) set: works from home that weekday */
    uint8_t it_staff;    /* works in IT: admin tools, servers, has an admin account */
    uint8_t join_day;    /* 0, or the day (index) a new hire starts */
    uint32_t home_host;  /* desk workstation or laptop */
    uint32_t admin;      /* this person's admin account (user index) or KZ_SIM_NONE */
    uint32_t person;     /* for admin accounts: the person using it */
    uint32_t home_ip;    /* public address of the home connection */
    const char *byod;    /* personal device name used over VPN, or NULL */
};

struct kz_sim_dept {
    const char *name;        /* "Construction" */
    const char *folder;      /* department share folder, "Construction" */
    uint32_t first_customer; /* customers [first_customer, first_customer + ncustomers) */
    uint32_t ncustomers;
    uint32_t first_user, nusers; /* employees [first_user, first_user + nusers) */
};

struct kz_sim_customer {
    const char *name;   /* "Sakura Kensetsu K.K." */
    const char *folder; /* "Sakura_Kensetsu" (the folder under \\FSnn\projects) */
    const char *code;   /* "C0123", the record key on the construction-information server */
    uint16_t dept;
    uint32_t fs; /* host index of the file server holding its folder */
};

/* Indexes of the well-known hosts and accounts. */
struct kz_sim_wellknown {
    uint32_t dc[2], adops, ops, cis, portal, backup, proxy, vpn;
    uint32_t fs_first, nfs;   /* file servers [fs_first, fs_first + nfs) */
    uint32_t vdi_first, nvdi; /* VDI hosts */
    uint32_t svc_backup, svc_adss, svc_sql, svc_deploy; /* service accounts */
    uint32_t administrator;                             /* the built-in Administrator (RID 500) */
};

struct kz_sim_estate {
    uint64_t seed;
    struct kz_sim_dept *depts;
    uint32_t ndepts;
    struct kz_sim_user *users; /* employees first, then admin accounts, then service accounts */
    uint32_t nusers, nemployees, users_cap;
    struct kz_sim_host *hosts;
    uint32_t nhosts;
    struct kz_sim_customer *customers;
    uint32_t ncustomers;
    struct kz_sim_wellknown wk;
    const char *domain_sid; /* "S-1-5-21-a-b-c" */
    uint32_t domain_sub[3]; /* its three random sub-authorities */
    int oom;                /* a string could not be stored during the build */
    struct kz_evtx_sid krbtgt_sid, domain_admins_sid;
    struct kz_arena arena; /* every string above */
};

/* Builds the estate for `users` employees (1..KZ_SIM_MAX_USERS) from seed. Returns 0, KZ_EUSAGE or
 * KZ_ENOMEM (err set). */
int kz_sim_estate_build(struct kz_sim_estate **out, uint64_t seed, uint32_t users,
                        struct kz_err *err);
void kz_sim_estate_free(struct kz_sim_estate *e);
/* Adds an account that exists only from some point of the run (a backdoor account a scenario
 * creates); it has no habits and no machine. Returns its index, or KZ_SIM_NONE when the estate's
 * spare slots (KZ_SIM_SPARE_USERS) are used up. Call before generation starts. */
#define KZ_SIM_SPARE_USERS 8
uint32_t kz_sim_estate_add_account(struct kz_sim_estate *e, const char *sam, const char *display);

/* The text of an IPv4 address into out (16 bytes); returns out. */
char *kz_sim_ip_text(uint32_t ip, char out[16]);
/* File k of a customer's project folder, relative to the share: "Sakura_Kensetsu\2026\P26-0412\
 * 見積書_v3.xlsx". Deterministic in (customer, k); written into out (cap bytes). Returns length. */
size_t kz_sim_customer_file(const struct kz_sim_estate *e, uint32_t customer, uint32_t k, char *out,
                            size_t cap);
#define KZ_SIM_FILES_PER_CUSTOMER 48 /* distinct files in each customer folder */

#endif
