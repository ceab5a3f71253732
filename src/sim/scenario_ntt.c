/* scenario_ntt.c - incident A, `ntt2020`: impersonation with stolen credentials (NTT Com, 2020).
 *
 * What the report describes, step by step, as the logs show it:
 *   - valid credentials of several employees, used from a personal (BYOD) device the company has
 *     never seen, over the remote-access VPN, at night;
 *   - RDP into a VDI host with them (4624 type 10 naming the unknown device), a look around
 *     (`net view`, `net use`), then network logons to the file servers and reads spreading over
 *     many customers' project folders (5140/5145), far beyond the owner's department;
 *   - separately, an administrator's account used from there: AD operations server -> operations
 *     server -> construction-information server (4648 explicit credentials, RDP and SMB logons),
 *     and reads of customer records there (4663).
 * No malware: only valid accounts, admin tools and Explorer. The owners keep working normally on
 * the same accounts (benign.c), so what separates the attacker is the source (VPN address, device
 * name), the hour and the breadth of access. Quiet and spread over days. */
#include "sim_int.h"

#include "../core/alloc.h"

#include <string.h>

#define NAME "ntt2020"
#define NVICTIMS 3
enum { STREAM = 0x4e5454 };

struct ntt {
    uint32_t scen; /* index in sim->scen */
    uint32_t victim[NVICTIMS], acct[NVICTIMS], day[NVICTIMS];
    uint32_t admin, admin_acct, admin_day, admin_day2;
    /* steps */
    uint32_t s_vpn[NVICTIMS], s_rdp[NVICTIMS], s_disc, s_read[NVICTIMS];
    uint32_t s_vpn_a, s_rdp_a, s_vpn_b, s_rdp_b; /* re-entries for the admin chain */
    uint32_t s_adops, s_ops, s_cis, s_records, s_records2;
    uint32_t remote_ip, vdi;
    const char *device, *remote_text;
    uint32_t *order; /* customers in the order the attacker reads them */
    uint32_t ncust_target;
};

/* The VPS address: the first draws of the scenario's stream, so that sim_ntt_remote_ip gives the
 * same address without planning the scenario (geoip.mmdb places it). */
static uint32_t remote_ip_draw(struct kz_sim_rng *r) {
    uint32_t b = kz_sim_rng_range(r, 8, 150);
    uint32_t c = kz_sim_rng_below(r, 256);
    uint32_t d = kz_sim_rng_range(r, 2, 250);
    return (45u << 24) | (b << 16) | (c << 8) | d;
}

uint32_t sim_ntt_remote_ip(uint64_t seed) {
    struct kz_sim_rng r;
    kz_sim_rng_seed(&r, seed, STREAM);
    return remote_ip_draw(&r);
}

static int ntt_plan(struct sim *s, void **state) {
    const struct kz_sim_estate *e = s->e;
    struct ntt *n = kz_calloc(1, sizeof *n);
    if (!n) return KZ_ENOMEM;
    *state = n;
    n->scen = s->nscen - 1;
    struct kz_sim_rng r;
    kz_sim_rng_seed(&r, s->o->seed, STREAM);
    /* The attacker's infrastructure: a VPS address and a personal Windows PC. */
    n->remote_ip = remote_ip_draw(&r);
    char b[32];
    kz_sim_ip_text(n->remote_ip, b);
    n->remote_text = kz_arena_strndup(&s->e->arena, b, strlen(b));
    static const char al[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    memcpy(b, "DESKTOP-", 8);
    for (int i = 0; i < 7; i++)
        b[8 + i] = al[kz_sim_rng_below(&r, 32)];
    b[15] = 0;
    n->device = kz_arena_strndup(&s->e->arena, b, 15);
    if (!n->remote_text || !n->device) return KZ_ENOMEM;
    n->vdi = e->wk.vdi_first + e->wk.nvdi - 1;

    /* Victims: employees of customer-facing departments who work remotely (their VPN use is
     * normal, which is what makes the attack quiet), all different. */
    uint32_t got = 0;
    for (int tries = 0; got < NVICTIMS && tries < 100000; tries++) {
        uint32_t u = kz_sim_rng_below(&r, e->nemployees);
        const struct kz_sim_user *us = &e->users[u];
        if (!e->depts[us->dept].ncustomers || us->it_staff || us->join_day) continue;
        if (tries < 50000 && !us->byod) continue;
        int dup = 0;
        for (uint32_t k = 0; k < got; k++)
            dup |= n->victim[k] == u;
        if (dup) continue;
        n->victim[got++] = u;
    }
    if (got < NVICTIMS) {
        kz_err_set(&s->err, KZ_EUSAGE, "no employees to steal credentials from");
        return KZ_EUSAGE;
    }
    n->admin = KZ_SIM_NONE;
    for (uint32_t u = 0; u < e->nusers && n->admin == KZ_SIM_NONE; u++)
        if (e->users[u].kind == KZ_SIM_ADMIN_ACCOUNT && e->users[u].person != KZ_SIM_NONE &&
            kz_sim_rng_chance(&r, 500))
            n->admin = u;
    if (n->admin == KZ_SIM_NONE) n->admin = e->wk.administrator;

    /* Days: from a third of the run on, every other day, the admin chain last. */
    uint32_t D = s->days, d0 = D / 3;
    for (int i = 0; i < NVICTIMS; i++) {
        uint32_t d = d0 + 2 * (uint32_t)i;
        n->day[i] = d < D ? d : D - 1;
    }
    n->admin_day = d0 + 5 < D ? d0 + 5 : D - 1;
    n->admin_day2 = n->admin_day + 1 < D ? n->admin_day + 1 : n->admin_day;

    for (int i = 0; i < NVICTIMS; i++) {
        n->acct[i] = sim_account_add(s, n->scen, n->victim[i]);
        if (n->acct[i] == KZ_SIM_NONE) return KZ_ELIMIT;
        sim_account_source(s, n->acct[i], n->remote_text);
        sim_account_source(s, n->acct[i], n->device);
    }
    n->admin_acct = sim_account_add(s, n->scen, n->admin);
    if (n->admin_acct == KZ_SIM_NONE) return KZ_ELIMIT;
    sim_account_source(s, n->admin_acct, n->remote_text);
    sim_account_source(s, n->admin_acct, n->device);
    sim_account_source(s, n->admin_acct, e->hosts[n->vdi].ip_text);

    for (int i = 0; i < NVICTIMS; i++) {
        n->s_vpn[i] = sim_step_add(s, NAME, "initial-access", "T1133", n->acct[i]);
        n->s_rdp[i] = sim_step_add(s, NAME, "lateral-movement", "T1021.001", n->acct[i]);
        if (i == 0) n->s_disc = sim_step_add(s, NAME, "discovery", "T1135", n->acct[i]);
        n->s_read[i] = sim_step_add(s, NAME, "collection", "T1039", n->acct[i]);
    }
    n->s_vpn_a = sim_step_add(s, NAME, "initial-access", "T1133", n->acct[0]);
    n->s_rdp_a = sim_step_add(s, NAME, "lateral-movement", "T1021.001", n->acct[0]);
    n->s_adops = sim_step_add(s, NAME, "lateral-movement", "T1021.001", n->admin_acct);
    n->s_ops = sim_step_add(s, NAME, "lateral-movement", "T1021.001", n->admin_acct);
    n->s_cis = sim_step_add(s, NAME, "lateral-movement", "T1021.002", n->admin_acct);
    n->s_records = sim_step_add(s, NAME, "collection", "T1005", n->admin_acct);
    n->s_vpn_b = sim_step_add(s, NAME, "initial-access", "T1133", n->acct[0]);
    n->s_rdp_b = sim_step_add(s, NAME, "lateral-movement", "T1021.001", n->acct[0]);
    n->s_records2 = sim_step_add(s, NAME, "collection", "T1005", n->admin_acct);
    if (!n->s_records2) return KZ_ELIMIT;

    /* The file-server reads cover 188 customers in the report; here the same share of the
     * estate's customers (at most all), in a random order. */
    n->order = kz_calloc(e->ncustomers, sizeof *n->order);
    if (!n->order) return KZ_ENOMEM;
    for (uint32_t c = 0; c < e->ncustomers; c++)
        n->order[c] = c;
    for (uint32_t c = e->ncustomers - 1; c > 0; c--) {
        uint32_t k = kz_sim_rng_below(&r, c + 1), t = n->order[c];
        n->order[c] = n->order[k], n->order[k] = t;
    }
    n->ncust_target = e->ncustomers < 188 ? e->ncustomers : 188;
    return 0;
}

static void ntt_free(void *state) {
    struct ntt *n = state;
    if (!n) return;
    kz_free(n->order);
    kz_free(n);
}

#define EXPLORER "C:\\Windows\\explorer.exe"
#define CMD "C:\\Windows\\System32\\cmd.exe"

/* VPN in from the attacker's PC, then RDP to the VDI host. Returns the VDI logon id. */
static uint64_t get_in(struct sim_gen *g, struct ntt *n, uint32_t acct, uint32_t u, kz_time t,
                       kz_time t_end, uint32_t s_vpn, uint32_t s_rdp, uint32_t *explorer,
                       uint32_t *tip_out) {
    struct sim_day *d = g->d;
    g->step = s_vpn;
    if (s_vpn == n->s_vpn[0]) { /* one mistyped password first */
        struct sim_ev *x = sim_ev_new(g, K_VPN, d->e->wk.vpn, t - 40 * SEC);
        x->u = u, x->src = n->remote_ip, x->n = VPN_FAIL;
    }
    uint32_t tip = sim_vpn(g, t, t_end, u, n->remote_ip);
    *tip_out = tip;
    char ipt[16];
    sim_account_source(d->s, acct, kz_sim_ip_text(tip, ipt));
    g->step = s_rdp;
    uint64_t lid = sim_logon(g, n->vdi, t + 90 * SEC, u, 10, tip, n->device, SL_TGT);
    uint32_t init = sim_proc(g, n->vdi, t + 92 * SEC, u, lid, "C:\\Windows\\System32\\userinit.exe",
                             "C:\\Windows\\system32\\userinit.exe", 600,
                             "C:\\Windows\\System32\\winlogon.exe", "winlogon.exe", 1);
    *explorer =
        sim_proc(g, n->vdi, t + 93 * SEC, u, lid, EXPLORER, EXPLORER, init,
                 "C:\\Windows\\System32\\userinit.exe", "C:\\Windows\\system32\\userinit.exe", 1);
    return lid;
}

/* Reads spreading over customers [from, to) of the attack order. */
static void read_spread(struct sim_gen *g, struct ntt *n, uint32_t acct, uint32_t u, kz_time t,
                        uint32_t from, uint32_t to) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t src = e->hosts[n->vdi].ip;
    for (uint32_t f = 0; f < e->wk.nfs; f++) {
        uint32_t fs = e->wk.fs_first + f;
        kz_time tf = t + (kz_time)f * 30 * SEC;
        uint64_t lid = sim_logon(g, fs, tf, u, 3, src, e->hosts[n->vdi].name, SL_KERBEROS);
        sim_share_connect(g, fs, tf + SEC, u, lid, src, SHARE_PROJECTS, SHARE_PROJECTS_LOCAL);
        kz_time tr = tf + 5 * SEC;
        for (uint32_t k = from; k < to; k++) {
            uint32_t c = n->order[k];
            if (e->customers[c].fs != fs) continue;
            sim_account_customer(d->s, acct, c);
            uint32_t nf = kz_sim_rng_range(&g->rng, 2, 6);
            for (uint32_t j = 0; j < nf; j++) {
                tr += kz_sim_rng_range(&g->rng, 3, 40) * SEC;
                sim_share_file(g, fs, tr, u, lid, src, SHARE_PROJECTS, SHARE_PROJECTS_LOCAL,
                               sim_customer_path(d, c, kz_sim_rng_below(&g->rng, 20)), 1);
            }
        }
        sim_logoff(g, fs, tr + 2 * MIN, u, lid, 3);
    }
}

static void ntt_day(struct sim_day *d, void *state) {
    struct ntt *n = state;
    struct sim *s = d->s;
    const struct kz_sim_estate *e = d->e;
    struct sim_gen g;
    sim_gen_init(&g, d, STREAM + 1);
    uint32_t per = (n->ncust_target + NVICTIMS - 1) / NVICTIMS;
    for (int i = 0; i < NVICTIMS; i++) {
        if (d->day != n->day[i]) continue;
        uint32_t u = n->victim[i];
        /* Odd hours: between 01:00 and 03:00 JST, a bit later each time. */
        kz_time t = d->t0 + HOUR + (kz_time)i * 20 * MIN + kz_sim_rng_below(&g.rng, 1800) * SEC;
        kz_time t_end = t + 95 * MIN;
        uint32_t explorer, tip;
        uint64_t lid =
            get_in(&g, n, n->acct[i], u, t, t_end, n->s_vpn[i], n->s_rdp[i], &explorer, &tip);
        sim_account_source(s, n->acct[i], e->hosts[n->vdi].ip_text);
        kz_time tw = t + 4 * MIN;
        if (i == 0) {
            g.step = n->s_disc;
            uint32_t cmd =
                sim_proc(&g, n->vdi, tw, u, lid, CMD, "\"C:\\Windows\\system32\\cmd.exe\"",
                         explorer, EXPLORER, EXPLORER, 1);
            static const char *const disc[] = {"net view \\\\FS01 /all", "net use",
                                               "net view \\\\FS02 /all",
                                               "net group \"Domain Admins\" /domain"};
            for (int k = 0; k < 4; k++) {
                const char *c = disc[k];
                sim_proc(&g, n->vdi, tw + (kz_time)(k + 1) * 25 * SEC, u, lid,
                         "C:\\Windows\\System32\\net.exe", c, cmd, CMD,
                         "\"C:\\Windows\\system32\\cmd.exe\"", 1);
            }
            tw += 3 * MIN;
        }
        g.step = n->s_read[i];
        uint32_t from = (uint32_t)i * per, to = from + per;
        if (to > n->ncust_target) to = n->ncust_target;
        read_spread(&g, n, n->acct[i], u, tw + MIN, from, to);
        g.step = n->s_rdp[i];
        sim_logoff(&g, n->vdi, t_end - MIN, u, lid, 10);
    }

    if (d->day == n->admin_day) {
        /* Back in as the first victim, then the admin account, server to server. */
        uint32_t u = n->victim[0];
        kz_time t = d->t0 + 2 * HOUR + kz_sim_rng_below(&g.rng, 1200) * SEC;
        uint32_t explorer, tip;
        uint64_t lid =
            get_in(&g, n, n->acct[0], u, t, t + 3 * HOUR, n->s_vpn_a, n->s_rdp_a, &explorer, &tip);
        uint32_t adm = n->admin;
        uint32_t hops[3] = {e->wk.adops, e->wk.ops, e->wk.cis};
        uint32_t steps[3] = {n->s_adops, n->s_ops, n->s_cis};
        uint32_t from = n->vdi, from_user = u;
        uint64_t from_lid = lid;
        kz_time th = t + 6 * MIN;
        uint64_t hop_lid = 0;
        for (int k = 0; k < 3; k++) {
            g.step = steps[k];
            uint32_t to = hops[k];
            int rdp = k < 2;
            uint32_t mstsc = sim_proc(
                &g, from, th - 20 * SEC, from_user, from_lid,
                rdp ? "C:\\Windows\\System32\\mstsc.exe" : CMD,
                rdp ? sim_strf(d, "\"C:\\Windows\\system32\\mstsc.exe\" /v:%s", e->hosts[to].name)
                    : sim_strf(d, "net use \\\\%s\\cisdata /user:%s\\%s", e->hosts[to].name,
                               KZ_SIM_DOMAIN, e->users[adm].sam),
                explorer, EXPLORER, EXPLORER, 1);
            struct sim_ev *x = sim_ev_new(&g, K_4648, from, th - 15 * SEC);
            x->u = from_user, x->lid = from_lid, x->u2 = adm, x->s1 = e->hosts[to].name;
            x->s2 = rdp ? "C:\\Windows\\System32\\mstsc.exe" : "C:\\Windows\\System32\\net.exe";
            x->pid = mstsc;
            hop_lid = sim_logon(&g, to, th, adm, rdp ? 10 : 3, e->hosts[from].ip,
                                e->hosts[from].name, SL_TGT | SL_PRIV);
            if (rdp)
                explorer = sim_proc(&g, to, th + 3 * SEC, adm, hop_lid, EXPLORER, EXPLORER, 600,
                                    "C:\\Windows\\System32\\userinit.exe",
                                    "C:\\Windows\\system32\\userinit.exe", 2);
            from = to, from_user = adm, from_lid = hop_lid;
            th += kz_sim_rng_range(&g.rng, 8, 20) * MIN;
        }
        /* Customer records on CIS01: the report's 621 companies, here 60% of the estate's. */
        g.step = n->s_records;
        uint32_t cis = e->wk.cis, nrec = e->ncustomers * 6 / 10;
        kz_time tr = th;
        for (uint32_t k = 0; k < nrec; k++) {
            uint32_t c = n->order[e->ncustomers - 1 - k];
            sim_account_customer(s, n->admin_acct, c);
            tr += kz_sim_rng_range(&g.rng, 1, 4) * SEC;
            struct sim_ev *x = sim_ev_new(&g, K_4663, cis, tr);
            x->u = adm, x->lid = hop_lid, x->n = 1, x->pid = 4;
            x->s2 = "System";
            x->s1 = sim_strf(d, "E:\\CISData\\%s\\construction_records.csv", e->customers[c].code);
            struct sim_ev *y = sim_ev_new(&g, K_5145, cis, tr);
            y->u = adm, y->lid = hop_lid, y->src = e->hosts[e->wk.ops].ip;
            y->s1 = "\\\\*\\cisdata", y->s2 = "\\??\\E:\\CISData";
            y->s3 = sim_strf(d, "%s\\construction_records.csv", e->customers[c].code);
            y->n = 1;
        }
        g.step = n->s_cis;
        sim_logoff(&g, cis, tr + 5 * MIN, adm, hop_lid, 3);
    }
    if (d->day == n->admin_day2 && n->admin_day2 != n->admin_day) {
        /* A second, shorter visit: 83 more companies in the report, here 8% of the estate. */
        uint32_t u = n->victim[0];
        kz_time t = d->t0 + 3 * HOUR + kz_sim_rng_below(&g.rng, 1200) * SEC;
        uint32_t explorer, tip;
        uint64_t lid =
            get_in(&g, n, n->acct[0], u, t, t + 2 * HOUR, n->s_vpn_b, n->s_rdp_b, &explorer, &tip);
        (void)lid;
        g.step = n->s_records2;
        uint32_t adm = n->admin, cis = e->wk.cis;
        uint64_t hop = sim_logon(&g, cis, t + 10 * MIN, adm, 3, e->hosts[n->vdi].ip,
                                 e->hosts[n->vdi].name, SL_TGT | SL_PRIV);
        uint32_t first = e->ncustomers * 6 / 10, extra = e->ncustomers * 8 / 100;
        kz_time tr = t + 11 * MIN;
        for (uint32_t k = first; k < first + extra && k < e->ncustomers; k++) {
            uint32_t c = n->order[e->ncustomers - 1 - k];
            sim_account_customer(s, n->admin_acct, c);
            tr += kz_sim_rng_range(&g.rng, 1, 4) * SEC;
            struct sim_ev *y = sim_ev_new(&g, K_5145, cis, tr);
            y->u = adm, y->lid = hop, y->src = e->hosts[n->vdi].ip;
            y->s1 = "\\\\*\\cisdata", y->s2 = "\\??\\E:\\CISData";
            y->s3 = sim_strf(d, "%s\\construction_records.csv", e->customers[c].code);
            y->n = 1;
        }
        sim_logoff(&g, cis, tr + MIN, adm, hop, 3);
    }
}

const struct sim_scenario sim_scenario_ntt2020 = {
    .name = NAME, .plan = ntt_plan, .day = ntt_day, .free = ntt_free};
