/* benign.c - a normal working day of the estate, and the benign confounders.
 *
 * What the logs of a real company hold besides the attack: people logging on in the morning
 * (Kerberos on a DC, 4624 on their machine), starting Outlook, Teams, a browser and Office on
 * customer documents, reading and writing their department's customer folders on the file servers,
 * locking the screen at lunch, working from home over the VPN (a company laptop, or their own PC
 * into a VDI host), resetting a forgotten password on the portal; administrators connecting to
 * servers with their admin accounts, running PowerShell, installing services, editing GPOs;
 * machines installing updates and running scheduled tasks; a backup job reading the shares every
 * night.
 *
 * The confounders are benign events a naive detector flags (scenario.json lists them so eval can
 * count them): a traveller on a new device, late nights before a deadline, a new hire, an admin
 * touching many hosts, the weekly full backup reading every customer folder, a user moving
 * departments, a legitimate bulk export from the construction-information server. */
#include "sim_int.h"

#include "../core/alloc.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof *(a))

/* Generator streams (each user-day and each machine has its own PRNG stream; the steady
 * background of sessions and machines has streams of its own, so it does not change what the
 * foreground behaviour of a seed is). */
enum {
    STREAM_USER = 1,
    STREAM_HOST = 1 << 20,
    STREAM_MISC = 1 << 21,
    STREAM_USER_BG = 1 << 22,
    STREAM_HOST_BG = 1 << 23,
};

struct benign {
    uint32_t traveller, late, newhire, admin_many, mover, exporter; /* users, or KZ_SIM_NONE */
    uint32_t travel_day, deadline_day, join_day, many_day, move_day, export_day;
    uint32_t move_to; /* department after the move */
    uint32_t full_backup_day;
    const char *travel_device;
    uint32_t travel_ip;
};

/* ---- plan ---- */

/* An employee of dept (or any, when the department is too small) not already in taken[]. The
 * confounders need distinct people, or they would blur into each other. */
static uint32_t pick_employee(const struct kz_sim_estate *e, struct kz_sim_rng *r, int dept,
                              const uint32_t *taken, int ntaken) {
    for (int tries = 0; tries < 4000; tries++) {
        uint32_t u = kz_sim_rng_below(r, e->nemployees);
        if (dept >= 0 && tries < 2000 && e->users[u].dept != dept) continue;
        if (e->users[u].it_staff) continue;
        int dup = 0;
        for (int k = 0; k < ntaken; k++)
            dup |= taken[k] == u;
        if (!dup) return u;
    }
    return KZ_SIM_NONE;
}

static int dept_index(const struct kz_sim_estate *e, const char *name) {
    for (uint32_t d = 0; d < e->ndepts; d++)
        if (!strcmp(e->depts[d].name, name)) return (int)d;
    return -1;
}

/* The first working day at or after d (or the last day). */
static uint32_t workday_from(const struct sim *s, uint32_t d) {
    while (d < s->days - 1 && !sim_workday(s, d))
        d++;
    return d < s->days ? d : s->days - 1;
}

int sim_benign_plan(struct sim *s) {
    struct kz_sim_estate *e = s->e;
    struct benign *b = kz_calloc(1, sizeof *b);
    if (!b) return KZ_ENOMEM;
    s->benign = b;
    struct kz_sim_rng r;
    kz_sim_rng_seed(&r, s->o->seed, STREAM_MISC + 7);
    uint32_t D = s->days;
    int sales = dept_index(e, "Sales"), cons = dept_index(e, "Construction");
    int eng = dept_index(e, "Engineering");
    uint32_t taken[5];
    taken[0] = b->traveller = pick_employee(e, &r, sales, taken, 0);
    taken[1] = b->late = pick_employee(e, &r, eng, taken, 1);
    taken[2] = b->mover = pick_employee(e, &r, sales, taken, 2);
    taken[3] = b->exporter = pick_employee(e, &r, cons, taken, 3);
    taken[4] = b->newhire = pick_employee(e, &r, eng, taken, 4);
    b->admin_many = KZ_SIM_NONE;
    for (uint32_t u = 0; u < e->nusers; u++)
        if (e->users[u].kind == KZ_SIM_ADMIN_ACCOUNT && e->users[u].person != KZ_SIM_NONE) {
            b->admin_many = u;
            break;
        }
    b->travel_day = workday_from(s, D / 3);
    b->deadline_day = workday_from(s, D * 2 / 3);
    b->join_day = workday_from(s, D / 2);
    b->many_day = workday_from(s, D / 4);
    b->move_day = workday_from(s, D / 2);
    b->export_day = workday_from(s, D * 3 / 5);
    b->move_to = (uint32_t)(eng >= 0 ? eng : 0);
    b->full_backup_day = D > 5 ? 5 : D - 1; /* the first Saturday of the default start */
    b->travel_ip = 203u << 24 | 116u << 16 | kz_sim_rng_below(&r, 256) << 8 |
                   kz_sim_rng_range(&r, 1, 254); /* a hotel in Singapore */
    static char dev[16];
    const char al[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    memcpy(dev, "DESKTOP-", 8);
    for (int i = 0; i < 7; i++)
        dev[8 + i] = al[kz_sim_rng_below(&r, 32)];
    dev[15] = 0;
    b->travel_device = kz_arena_strndup(&e->arena, dev, 15);
    if (!b->travel_device) return KZ_ENOMEM;
    if (b->newhire != KZ_SIM_NONE) {
        if (b->join_day < 1) b->join_day = D > 1 ? 1 : 0;
        e->users[b->newhire].join_day = (uint8_t)(b->join_day > 255 ? 255 : b->join_day);
    }

    kz_time t;
    if (b->traveller != KZ_SIM_NONE) {
        t = sim_day_start(s, b->travel_day);
        sim_confounder_add(s, "traveller_new_device", b->traveller, t, t + 3 * DAY - SEC);
    }
    if (b->late != KZ_SIM_NONE) {
        uint32_t first = b->deadline_day >= 2 ? b->deadline_day - 2 : 0;
        sim_confounder_add(s, "late_nights_deadline", b->late, sim_day_start(s, first),
                           sim_day_start(s, b->deadline_day) + DAY - SEC);
    }
    if (b->newhire != KZ_SIM_NONE) {
        t = sim_day_start(s, b->join_day);
        sim_confounder_add(s, "new_hire", b->newhire, t - DAY > sim_day_start(s, 0) ? t - DAY : t,
                           t + DAY * 3 - SEC);
    }
    if (b->admin_many != KZ_SIM_NONE) {
        t = sim_day_start(s, b->many_day);
        sim_confounder_add(s, "admin_many_hosts", b->admin_many, t, t + DAY - SEC);
    }
    sim_confounder_add(s, "backup_job", e->wk.svc_backup, sim_day_start(s, 0),
                       sim_day_start(s, D - 1) + DAY - SEC);
    if (b->mover != KZ_SIM_NONE) {
        t = sim_day_start(s, b->move_day);
        sim_confounder_add(s, "department_move", b->mover, t, sim_day_start(s, D - 1) + DAY - SEC);
    }
    if (b->exporter != KZ_SIM_NONE) {
        t = sim_day_start(s, b->export_day);
        sim_confounder_add(s, "bulk_export", b->exporter, t, t + DAY - SEC);
    }
    return 0;
}

uint32_t sim_benign_final_dept(const struct sim *s, uint32_t u) {
    const struct benign *b = s->benign;
    if (b && u == b->mover && b->mover != KZ_SIM_NONE) return b->move_to;
    return s->e->users[u].dept;
}

void sim_benign_free(struct sim *s) {
    kz_free(s->benign);
    s->benign = NULL;
}

/* ---- what people run ---- */

#define OFFICE "C:\\Program Files\\Microsoft Office\\root\\Office16\\"
#define EXPLORER "C:\\Windows\\explorer.exe"
#define CMD "C:\\Windows\\System32\\cmd.exe"
#define POWERSHELL "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
#define SVCHOST "C:\\Windows\\System32\\svchost.exe"

static const struct {
    const char *image, *cmd;
} apps[] = {
    {OFFICE "OUTLOOK.EXE", "\"" OFFICE "OUTLOOK.EXE\" "},
    {"C:\\Users\\Public\\AppData\\Local\\Microsoft\\WindowsApps\\ms-teams.exe",
     "\"ms-teams.exe\" --system-initiated"},
    {"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" "
     "--profile-directory=Default"},
    {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\""},
    {"C:\\Windows\\System32\\notepad.exe", "\"C:\\Windows\\System32\\notepad.exe\""},
    {"C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe",
     "\"C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe\""},
};

static const char *office_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".docx")) return OFFICE "WINWORD.EXE";
    if (dot && !strcmp(dot, ".pptx")) return OFFICE "POWERPNT.EXE";
    if (dot && !strcmp(dot, ".pdf"))
        return "C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe";
    return OFFICE "EXCEL.EXE";
}

static const char *const it_commands[] = {
    "ipconfig /all", "ping -n 2 FS01", "nslookup corp.example",    "gpupdate /force",
    "net use",       "whoami /groups", "query user /server:VDI01", "tasklist"};

static const char *const admin_ps[] = {
    "Get-ADUser -Filter * -SearchBase \"OU=Users,DC=corp,DC=example\" -Properties LastLogonDate "
    "| Where-Object {$_.LastLogonDate -lt (Get-Date).AddDays(-90)}",
    "Get-ADComputer -Filter * | Select-Object Name,OperatingSystem | Export-Csv "
    "C:\\Temp\\inventory.csv -NoTypeInformation",
    "Get-Service -ComputerName FS01,FS02 | Where-Object {$_.Status -eq 'Stopped'}",
    "Get-WinEvent -LogName System -MaxEvents 50",
    "Get-GPO -All | Sort-Object ModificationTime -Descending | Select-Object -First 5",
    "Test-NetConnection -ComputerName DC02 -Port 389",
    "Get-SmbShare; Get-SmbSession | Measure-Object",
};

static const char *const updates[] = {
    "2026-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)",
    "Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version "
    "1.407.112.0)",
    "2026-03 Cumulative Update for .NET Framework 3.5, 4.8 and 4.8.1 (KB5034466)",
    "Microsoft Edge Update (Version 122.0.2365.80)",
    "Windows Malicious Software Removal Tool x64 - v5.122 (KB890830)"};

/* ---- one person's day ---- */

struct session {
    uint32_t host;     /* where they work: desk machine, laptop or VDI host */
    uint32_t src_ip;   /* the address their share access comes from */
    uint64_t lid;      /* logon id on host */
    uint32_t explorer; /* explorer.exe pid */
    uint32_t outlook;  /* OUTLOOK.EXE pid (0: not started) */
    uint32_t browser;  /* the browser's pid (0: none today) and its apps[] index */
    uint32_t browser_app;
};

static kz_time local_time(const struct sim_day *d, int hour, int min) {
    return d->t0 + (kz_time)hour * HOUR + (kz_time)min * MIN;
}

/* Opens documents of customer folders: share logon, 5140, reads/writes (5145), Office processes. */
static void work_on_customers(struct sim_gen *g, struct session *ss, uint32_t u, kz_time t0,
                              kz_time t1, uint32_t dept, uint32_t ncust, uint32_t nfiles) {
    const struct kz_sim_estate *e = g->d->e;
    const struct kz_sim_dept *dp = &e->depts[dept];
    if (!dp->ncustomers || t1 <= t0) return;
    kz_time span = t1 - t0;
    for (uint32_t c = 0; c < ncust; c++) {
        /* People work on the same few customers: a per-user favourite set, not uniform. */
        uint32_t k =
            (uint32_t)(kz_sim_mix(u * 7919u + kz_sim_rng_below(&g->rng, 4)) % dp->ncustomers);
        uint32_t cust = dp->first_customer + k;
        uint32_t fs = e->customers[cust].fs;
        kz_time t = t0 + (kz_time)(kz_sim_rng_next(&g->rng) % (uint64_t)span);
        uint64_t lid = sim_logon(g, fs, t, u, 3, ss->src_ip, e->hosts[ss->host].name, SL_KERBEROS);
        sim_share_connect(g, fs, t + SEC / 10, u, lid, ss->src_ip, SHARE_PROJECTS,
                          SHARE_PROJECTS_LOCAL);
        uint32_t nf = 1 + kz_sim_rng_below(&g->rng, nfiles);
        for (uint32_t f = 0; f < nf; f++) {
            t += kz_sim_rng_range(&g->rng, 2, 600) * SEC + kz_sim_rng_below(&g->rng, 1000) * 10000;
            const char *rel = sim_customer_path(g->d, cust, kz_sim_rng_below(&g->rng, 12));
            int write = kz_sim_rng_chance(&g->rng, 200);
            sim_share_file(g, fs, t, u, lid, ss->src_ip, SHARE_PROJECTS, SHARE_PROJECTS_LOCAL, rel,
                           write ? 2 : 1);
            if (f < 3 && kz_sim_rng_chance(&g->rng, 500)) {
                const char *img = office_for(rel);
                sim_proc(
                    g, ss->host, t - SEC, u, ss->lid, img,
                    sim_strf(g->d, "\"%s\" \"\\\\%s\\projects\\%s\"", img, e->hosts[fs].name, rel),
                    ss->explorer, EXPLORER, EXPLORER, 1);
            }
        }
        sim_logoff(g, fs, t + kz_sim_rng_range(&g->rng, 60, 900) * SEC, u, lid, 3);
    }
}

static void desktop_start(struct sim_gen *g, struct session *ss, uint32_t u, kz_time t, int ltype,
                          int flags) {
    const struct kz_sim_estate *e = g->d->e;
    if (kz_sim_rng_chance(&g->rng, 30)) { /* a mistyped password first */
        struct sim_ev *x = sim_ev_new(g, K_4625, ss->host, t - 15 * SEC);
        x->u = u, x->ltype = (uint8_t)ltype, x->src = ltype == 10 ? ss->src_ip : 0;
        if (!(flags & SL_NODC)) {
            struct sim_ev *k = sim_ev_new(g, K_4768, e->wk.dc[ss->host & 1], t - 16 * SEC);
            k->u = u, k->src = e->hosts[ss->host].ip, k->flags = EVF_FAILED;
        }
    }
    ss->lid = sim_logon(g, ss->host, t, u, ltype, ltype == 10 ? ss->src_ip : 0,
                        ltype == 10 ? NULL : NULL, flags | SL_TGT);
    uint32_t init =
        sim_proc(g, ss->host, t + 2 * SEC, u, ss->lid, "C:\\Windows\\System32\\userinit.exe",
                 "C:\\Windows\\system32\\userinit.exe", 600, "C:\\Windows\\System32\\winlogon.exe",
                 "winlogon.exe", 1);
    ss->explorer =
        sim_proc(g, ss->host, t + 3 * SEC, u, ss->lid, EXPLORER, EXPLORER, init,
                 "C:\\Windows\\System32\\userinit.exe", "C:\\Windows\\system32\\userinit.exe", 1);
    uint32_t napps = kz_sim_rng_range(&g->rng, 2, 5);
    for (uint32_t i = 0; i < napps; i++) {
        uint32_t a = i < 2 ? i : kz_sim_rng_below(&g->rng, N(apps));
        kz_time ta = t + (kz_time)(20 + 40 * i) * SEC + kz_sim_rng_below(&g->rng, 30) * SEC;
        uint32_t pid = sim_proc(g, ss->host, ta, u, ss->lid, apps[a].image, apps[a].cmd,
                                ss->explorer, EXPLORER, EXPLORER, 1);
        if (a == 0) ss->outlook = pid;
        if ((a == 2 || a == 3) && !ss->browser) ss->browser = pid, ss->browser_app = a;
        if (a == 0 || a == 2 || a == 3) { /* mail and browsers talk to the internet */
            struct sim_ev *x = sim_ev_new(g, K_S3, ss->host, ta + 2 * SEC);
            x->u = u, x->pid = pid, x->s1 = apps[a].image;
            x->src = a == 0 ? (52u << 24 | 97u << 16 | 146u << 8 | 162u)
                            : (142u << 24 | 250u << 16 | 196u << 8 | 110u);
            x->port = 443;
            x->s2 = a == 0 ? "outlook.office365.com" : "www.google.com";
        }
    }
}

static void it_admin_work(struct sim_gen *g, struct session *ss, uint32_t person, kz_time t0,
                          kz_time t1, int many_hosts) {
    const struct kz_sim_estate *e = g->d->e;
    uint32_t adm = e->users[person].admin;
    if (adm == KZ_SIM_NONE || t1 <= t0) return;
    uint32_t servers[] = {e->wk.adops, e->wk.ops,    e->wk.dc[0],  e->wk.fs_first,
                          e->wk.cis,   e->wk.portal, e->wk.backup, e->wk.dc[1]};
    uint32_t nvisit = many_hosts ? 0 : kz_sim_rng_range(&g->rng, 1, 3);
    kz_time span = t1 - t0;
    for (uint32_t i = 0; i < nvisit; i++) {
        uint32_t srv = servers[kz_sim_rng_below(&g->rng, N(servers))];
        kz_time t = t0 + (kz_time)(kz_sim_rng_next(&g->rng) % (uint64_t)span);
        /* mstsc with the admin account's credentials: 4648 on the admin's own machine. */
        uint32_t mstsc = sim_proc(
            g, ss->host, t - 5 * SEC, person, ss->lid, "C:\\Windows\\System32\\mstsc.exe",
            sim_strf(g->d, "\"C:\\Windows\\system32\\mstsc.exe\" /v:%s", e->hosts[srv].name),
            ss->explorer, EXPLORER, EXPLORER, 1);
        struct sim_ev *x = sim_ev_new(g, K_4648, ss->host, t - 4 * SEC);
        x->u = person, x->lid = ss->lid, x->u2 = adm, x->s1 = e->hosts[srv].name;
        x->s2 = "C:\\Windows\\System32\\mstsc.exe", x->pid = mstsc;
        uint64_t lid = sim_logon(g, srv, t, adm, 10, e->hosts[ss->host].ip, e->hosts[ss->host].name,
                                 SL_TGT | SL_PRIV);
        kz_time tw = t + 60 * SEC;
        if (srv == e->wk.adops || kz_sim_rng_chance(&g->rng, 400)) {
            uint32_t ps = sim_proc(g, srv, tw, adm, lid, POWERSHELL,
                                   "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell."
                                   "exe\"",
                                   4000, EXPLORER, EXPLORER, 2);
            uint32_t nps = kz_sim_rng_range(&g->rng, 1, 4);
            for (uint32_t k = 0; k < nps; k++) {
                struct sim_ev *p = sim_ev_new(g, K_4104, srv, tw + (kz_time)(k + 1) * 40 * SEC);
                p->u = adm, p->pid = ps;
                p->s1 = admin_ps[kz_sim_rng_below(&g->rng, N(admin_ps))];
            }
        } else {
            sim_proc(g, srv, tw, adm, lid, "C:\\Windows\\System32\\mmc.exe",
                     "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\dsa.msc\"", 4000,
                     EXPLORER, EXPLORER, 2);
        }
        if (kz_sim_rng_chance(&g->rng, 120)) { /* a monitoring agent installed or updated */
            static const char *const svc[][2] = {
                {"Zabbix Agent 2", "\"C:\\Program Files\\Zabbix Agent 2\\zabbix_agent2.exe\" -c "
                                   "\"C:\\Program Files\\Zabbix Agent 2\\zabbix_agent2.conf\""},
                {"Veeam Installer Service", "C:\\Windows\\Veeam\\Backup\\VeeamDeploymentSvc.exe"},
                {"SQL Server VSS Writer",
                 "\"C:\\Program Files\\Microsoft SQL Server\\90\\Shared\\sqlwriter.exe\""}};
            uint32_t k = kz_sim_rng_below(&g->rng, N(svc));
            kz_time ts = tw + 5 * MIN;
            sim_proc(g, srv, ts - 10 * SEC, adm, lid, "C:\\Windows\\System32\\msiexec.exe",
                     "C:\\Windows\\system32\\msiexec.exe /i C:\\Temp\\agent.msi /qn", 4000,
                     EXPLORER, EXPLORER, 2);
            struct sim_ev *x7 = sim_ev_new(g, K_7045, srv, ts);
            x7->u = adm, x7->s1 = svc[k][0], x7->s2 = svc[k][1], x7->n = 2;
            struct sim_ev *x4 = sim_ev_new(g, K_4697, srv, ts);
            x4->u = adm, x4->lid = lid, x4->s1 = svc[k][0], x4->s2 = svc[k][1], x4->n = 2;
        }
        if (kz_sim_rng_chance(&g->rng, 80)) { /* a maintenance task */
            struct sim_ev *tk = sim_ev_new(g, K_4698, srv, tw + 8 * MIN);
            tk->u = adm, tk->lid = lid, tk->s1 = "\\Maintenance\\Cleanup Temp";
            tk->s2 = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task version=\"1.2\" "
                     "xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><Actions "
                     "Context=\"Author\"><Exec><Command>C:\\Scripts\\cleanup.cmd</Command></Exec>"
                     "</Actions></Task>";
        }
        if (srv == e->wk.dc[0] && kz_sim_rng_chance(&g->rng, 300)) { /* a GPO edited */
            kz_time tg = tw + 3 * MIN;
            const char *dn = "CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System,"
                             "DC=corp,DC=example";
            uint32_t corr = kz_sim_rng_next(&g->rng) & 0xffffff;
            struct sim_ev *a = sim_ev_new(g, K_5136, srv, tg);
            a->u = adm, a->lid = lid, a->s1 = dn, a->s2 = "versionNumber", a->ltype = 1;
            a->s3 = "65580", a->pid = corr;
            struct sim_ev *b2 = sim_ev_new(g, K_5136, srv, tg);
            b2->u = adm, b2->lid = lid, b2->s1 = dn, b2->s2 = "versionNumber", b2->s3 = "65581";
            b2->pid = corr;
        }
        sim_logoff(g, srv, tw + kz_sim_rng_range(&g->rng, 10, 50) * MIN, adm, lid, 10);
    }
    if (many_hosts) { /* inventory/patch check over every machine, with the admin account */
        kz_time t = t0 + HOUR;
        for (uint32_t h = 0; h < e->nhosts; h++) {
            if (!e->hosts[h].windows || h == ss->host) continue;
            t += kz_sim_rng_range(&g->rng, 3, 25) * SEC;
            uint64_t lid =
                sim_logon(g, h, t, adm, 3, e->hosts[ss->host].ip, e->hosts[ss->host].name, SL_PRIV);
            sim_proc(g, h, t + SEC, adm, lid, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
                     "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", 800, SVCHOST,
                     "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p", 3);
            sim_logoff(g, h, t + 4 * SEC, adm, lid, 3);
        }
    }
}

/* A password reset through the portal (proxy -> Tomcat; the portal's service account resets it on
 * a DC). */
static void portal_visit(struct sim_gen *g, uint32_t u, kz_time t, uint32_t client, int reset) {
    const struct kz_sim_estate *e = g->d->e;
    static const char ua[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                             "(KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0";
    sim_web(g, t, client, "GET /showLogin.cc HTTP/1.1", 200, 10934, ua, NULL);
    sim_web(g, t + 400 * 10000, client, "GET /js/ADSelfService.js HTTP/1.1", 200, 48211, ua, NULL);
    if (!reset) return;
    t += kz_sim_rng_range(&g->rng, 20, 90) * SEC;
    sim_web(g, t, client, "GET /accounts/Reset HTTP/1.1", 200, 8821, ua, NULL);
    t += kz_sim_rng_range(&g->rng, 30, 120) * SEC;
    sim_web(g, t, client, "POST /accounts/ResetPassword HTTP/1.1", 200, 3412, ua, e->users[u].sam);
    uint32_t dc = e->wk.dc[0];
    uint64_t lid =
        sim_logon(g, dc, t + SEC, e->wk.svc_adss, 3, e->hosts[e->wk.portal].ip, NULL, SL_KERBEROS);
    struct sim_ev *x = sim_ev_new(g, K_4724, dc, t + SEC + SEC / 2);
    x->u = e->wk.svc_adss, x->lid = lid, x->u2 = u;
    sim_logoff(g, dc, t + 3 * SEC, e->wk.svc_adss, lid, 3);
}

/* ---- the steady background of a session ----
 *
 * What a workstation logs all day besides what its user deliberately does: COM servers, brokers
 * and helpers started in the session, mail and browser connections, cache and autosave files,
 * Kerberos service tickets renewed. Each user has habits (the same few helpers, the same sites),
 * so none of it is new from one day to the next. docs/simulate.md gives the mix per user-day. */

#define DCOM_SVCHOST "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"
enum { BG_DCOM, BG_EXPLORER, BG_BROWSER, BG_SCHEDULE };
static const struct {
    const char *image, *cmd;
    int parent; /* BG_* */
} bg_procs[] = {
    {"C:\\Windows\\System32\\RuntimeBroker.exe",
     "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding", BG_DCOM},
    {"C:\\Windows\\System32\\backgroundTaskHost.exe",
     "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" "
     "-ServerName:BackgroundTaskHost.WebAccountProvider",
     BG_DCOM},
    {"C:\\Windows\\System32\\dllhost.exe",
     "C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
     BG_DCOM},
    {"C:\\Windows\\System32\\smartscreen.exe", "C:\\Windows\\System32\\smartscreen.exe -Embedding",
     BG_DCOM},
    {"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe",
     "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background", BG_EXPLORER},
    {"C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}",
     BG_SCHEDULE},
    {"C:\\Windows\\System32\\ctfmon.exe", "\"ctfmon.exe\"", BG_SCHEDULE},
    {"C:\\Program Files "
     "(x86)\\Microsoft\\EdgeWebView\\Application\\122.0.2365.80\\msedgewebview2.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\EdgeWebView\\Application\\122.0.2365.80\\"
     "msedgewebview2.exe\" --embedded-browser-webview=1 --webview-exe-name=SearchHost.exe",
     BG_DCOM},
    {"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --type=renderer "
     "--lang=ja --num-raster-threads=2 --renderer-client-id=12",
     BG_BROWSER},
    {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --lang=ja "
     "--renderer-client-id=9",
     BG_BROWSER},
};

static const struct {
    const char *name;
    uint8_t ip[4];
} bg_sites[] = {
    {"outlook.office365.com", {52, 97, 146, 162}},
    {"login.microsoftonline.com", {20, 190, 144, 161}},
    {"www.google.com", {142, 250, 196, 110}},
    {"www.bing.com", {13, 107, 21, 200}},
    {"www.nikkei.com", {23, 52, 76, 37}},
    {"www.mlit.go.jp", {202, 232, 146, 64}},
    {"weather.yahoo.co.jp", {183, 79, 250, 123}},
    {"github.com", {20, 27, 177, 113}},
    {"docs.microsoft.com", {23, 212, 90, 116}},
    {"www.jma.go.jp", {104, 18, 22, 32}},
    {"corp-example.sharepoint.com", {13, 107, 136, 9}},
};

static uint32_t ip4(const uint8_t b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void session_background(struct sim_day *d, const struct session *ss, uint32_t u, kz_time t0,
                               kz_time t1) {
    const struct kz_sim_estate *e = d->e;
    if (t1 <= t0 + 10 * MIN || !ss->lid) return;
    struct sim_gen g;
    sim_gen_init(&g, d, STREAM_USER_BG + u);
    /* The user's habits: four usual helpers and three usual sites, the same every day. */
    uint64_t habit = kz_sim_mix(e->seed ^ 0x6861626974ull ^ (uint64_t)u << 20);
    uint32_t procs[4], sites[3];
    for (int i = 0; i < 4; i++)
        procs[i] = (uint32_t)((habit >> (8 * i)) % N(bg_procs));
    for (int i = 0; i < 3; i++)
        sites[i] = i == 0 ? 0 : (uint32_t)((habit >> (32 + 8 * i)) % N(bg_sites));
    const char *sam = e->users[u].sam;

    /* Helpers started in the session, every 4-12 minutes. */
    for (kz_time t = t0 + kz_sim_rng_range(&g.rng, 1, 8) * MIN; t < t1;
         t += kz_sim_rng_range(&g.rng, 4, 12) * MIN + kz_sim_rng_below(&g.rng, 60) * SEC) {
        uint32_t k = procs[kz_sim_rng_below(&g.rng, 4)];
        int parent = bg_procs[k].parent;
        if (parent == BG_BROWSER &&
            (!ss->browser || strcmp(bg_procs[k].image, apps[ss->browser_app].image)))
            parent = BG_DCOM, k = 0; /* no browser of that kind today: a broker instead */
        uint32_t ppid = parent == BG_DCOM       ? 800 + 4 * (ss->host % 16)
                        : parent == BG_EXPLORER ? ss->explorer
                        : parent == BG_BROWSER  ? ss->browser
                                                : 1200;
        const char *pimg = parent == BG_EXPLORER  ? EXPLORER
                           : parent == BG_BROWSER ? apps[ss->browser_app].image
                                                  : SVCHOST;
        const char *pcmd = parent == BG_EXPLORER  ? EXPLORER
                           : parent == BG_BROWSER ? apps[ss->browser_app].cmd
                           : parent == BG_DCOM
                               ? DCOM_SVCHOST
                               : "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule";
        sim_proc(&g, ss->host, t, u, ss->lid, bg_procs[k].image, bg_procs[k].cmd, ppid, pimg, pcmd,
                 1);
    }
    /* Mail and web connections (Sysmon 3), every 1-4 minutes, to the user's usual sites. */
    if (ss->outlook || ss->browser) {
        for (kz_time t = t0 + kz_sim_rng_range(&g.rng, 30, 120) * SEC; t < t1;
             t +=
             kz_sim_rng_range(&g.rng, 60, 240) * SEC + kz_sim_rng_below(&g.rng, 1000) * 10000) {
            int mail = !ss->browser || (ss->outlook && kz_sim_rng_chance(&g.rng, 400));
            uint32_t site = mail ? 0 : sites[kz_sim_rng_below(&g.rng, 3)];
            struct sim_ev *x = sim_ev_new(&g, K_S3, ss->host, t);
            x->u = u, x->pid = mail ? ss->outlook : ss->browser;
            x->s1 = mail ? apps[0].image : apps[ss->browser_app].image;
            x->src = ip4(bg_sites[site].ip), x->port = 443, x->s2 = bg_sites[site].name;
        }
    }
    /* Autosave and cache files (Sysmon 11), every 15-45 minutes. */
    for (kz_time t = t0 + kz_sim_rng_range(&g.rng, 5, 30) * MIN; t < t1;
         t += kz_sim_rng_range(&g.rng, 15, 45) * MIN) {
        uint32_t n = kz_sim_rng_next(&g.rng) & 0xffff;
        if (ss->browser && (n & 1)) {
            sim_file_create(&g, ss->host, t, u, ss->browser, apps[ss->browser_app].image,
                            sim_strf(d, "C:\\Users\\%s\\AppData\\Local\\Temp\\%04x%04x.tmp", sam, n,
                                     (unsigned)(t / SEC) & 0xffff));
        } else if (ss->outlook) {
            sim_file_create(&g, ss->host, t, u, ss->outlook, apps[0].image,
                            sim_strf(d,
                                     "C:\\Users\\%s\\AppData\\Local\\Microsoft\\Outlook\\"
                                     "~%s@corp.example.ost.tmp%04x",
                                     sam, sam, n));
        }
    }
    /* Kerberos service tickets renewed about hourly (file server and LDAP on a DC). */
    uint32_t dc = e->wk.dc[ss->host & 1];
    for (kz_time t = t0 + kz_sim_rng_range(&g.rng, 20, 70) * MIN; t < t1;
         t += kz_sim_rng_range(&g.rng, 50, 70) * MIN) {
        struct sim_ev *x = sim_ev_new(&g, K_4769, dc, t);
        x->u = u, x->src = e->hosts[ss->host].ip, x->lid = sim_lid(&g);
        x->n = kz_sim_rng_chance(&g.rng, 500) ? dc : e->wk.fs_first + u % e->wk.nfs;
    }
}

static void user_day(struct sim_gen *g, struct benign *b, uint32_t u) {
    struct sim_day *d = g->d;
    struct sim *s = d->s;
    const struct kz_sim_estate *e = d->e;
    const struct kz_sim_user *us = &e->users[u];
    if (us->join_day && d->day < us->join_day) return;
    int traveller = u == b->traveller && d->day >= b->travel_day && d->day < b->travel_day + 3;
    if (d->holiday && !traveller) {
        /* Now and then someone checks mail on a weekend from home. */
        if (!(us->byod || us->remote_days) || !kz_sim_rng_chance(&g->rng, 25)) return;
    } else if (!traveller && kz_sim_rng_chance(&g->rng, 40)) {
        return; /* on leave */
    }
    s->benign_user_days++;
    int remote = traveller || d->holiday || (us->remote_days >> d->weekday & 1);
    int jitter = (int)kz_sim_rng_below(&g->rng, 41) - 20;
    int start_min = us->start_hour * 60 + us->start_min + jitter;
    int len_min = d->holiday ? 40 + (int)kz_sim_rng_below(&g->rng, 60)
                             : us->work_hours * 60 + (int)kz_sim_rng_below(&g->rng, 81) - 40;
    if (u == b->late && d->day + 2 >= b->deadline_day && d->day <= b->deadline_day)
        len_min = 23 * 60 + (int)kz_sim_rng_below(&g->rng, 50) - start_min;
    if (start_min + len_min > 23 * 60 + 55) len_min = 23 * 60 + 55 - start_min;
    kz_time t0 = local_time(d, 0, start_min), t1 = t0 + (kz_time)len_min * MIN;
    t0 += kz_sim_rng_below(&g->rng, 60) * SEC;

    struct session ss = {0};
    uint32_t dept = us->dept;
    if (u == b->mover && d->day >= b->move_day) dept = b->move_to;
    const struct kz_sim_host *home = &e->hosts[us->home_host];
    uint32_t vpn_tip = 0;
    if (!remote) {
        ss.host = us->home_host;
        ss.src_ip = home->ip;
        desktop_start(g, &ss, u, t0, 2, SL_KERBEROS);
    } else if (home->role == KZ_SIM_LAPTOP && !traveller) {
        /* Company laptop at home: cached logon, then the VPN; shares through the tunnel. */
        ss.host = us->home_host;
        desktop_start(g, &ss, u, t0, 11, SL_NODC);
        vpn_tip = sim_vpn(g, t0 + 2 * MIN, t1 + 2 * MIN, u, us->home_ip);
        ss.src_ip = vpn_tip;
    } else {
        /* Own PC (or a new device abroad): VPN, then RDP into a VDI host. */
        uint32_t rip = traveller ? b->travel_ip : us->home_ip;
        const char *dev = traveller ? b->travel_device : us->byod;
        vpn_tip = sim_vpn(g, t0 - 2 * MIN, t1 + MIN, u, rip);
        ss.host = e->wk.vdi_first + u % e->wk.nvdi;
        ss.src_ip = e->hosts[ss.host].ip;
        /* The RDP logon names the client device and the tunnel address. */
        ss.lid = sim_logon(g, ss.host, t0, u, 10, vpn_tip, dev, SL_TGT);
        uint32_t init =
            sim_proc(g, ss.host, t0 + 2 * SEC, u, ss.lid, "C:\\Windows\\System32\\userinit.exe",
                     "C:\\Windows\\system32\\userinit.exe", 600,
                     "C:\\Windows\\System32\\winlogon.exe", "winlogon.exe", 1);
        ss.explorer = sim_proc(g, ss.host, t0 + 3 * SEC, u, ss.lid, EXPLORER, EXPLORER, init,
                               "C:\\Windows\\System32\\userinit.exe",
                               "C:\\Windows\\system32\\userinit.exe", 1);
        ss.outlook = sim_proc(g, ss.host, t0 + 30 * SEC, u, ss.lid, apps[0].image, apps[0].cmd,
                              ss.explorer, EXPLORER, EXPLORER, 1);
    }
    /* Lunch: the screen locks and unlocks (type 7). */
    if (!d->holiday && len_min > 300 && kz_sim_rng_chance(&g->rng, 500)) {
        kz_time tl = local_time(d, 12, 0) + kz_sim_rng_below(&g->rng, 3600) * SEC;
        if (tl > t0 && tl < t1) sim_logon(g, ss.host, tl + 50 * MIN, u, 7, 0, NULL, SL_NODC);
    }
    /* Customer work. */
    uint32_t ncust = d->holiday ? 1 : kz_sim_rng_range(&g->rng, 1, 3);
    work_on_customers(g, &ss, u, t0 + 10 * MIN, t1 - 10 * MIN, dept, ncust, 10);
    if (us->it_staff && !d->holiday) {
        int many = b->admin_many != KZ_SIM_NONE && e->users[b->admin_many].person == u &&
                   d->day == b->many_day;
        it_admin_work(g, &ss, u, t0 + 20 * MIN, t1 - 20 * MIN, many);
        if (kz_sim_rng_chance(&g->rng, 500)) {
            const char *c = it_commands[kz_sim_rng_below(&g->rng, N(it_commands))];
            kz_time tc = t0 + HOUR + kz_sim_rng_below(&g->rng, 3600) * SEC;
            uint32_t cmd =
                sim_proc(g, ss.host, tc, u, ss.lid, CMD, "\"C:\\Windows\\system32\\cmd.exe\"",
                         ss.explorer, EXPLORER, EXPLORER, 1);
            const char *sp = strchr(c, ' ');
            size_t n = sp ? (size_t)(sp - c) : strlen(c);
            sim_proc(g, ss.host, tc + 5 * SEC, u, ss.lid,
                     sim_strf(g->d, "C:\\Windows\\System32\\%.*s.exe", (int)n, c), c, cmd, CMD,
                     "\"C:\\Windows\\system32\\cmd.exe\"", 1);
        }
    }
    /* Confounder: the authorised bulk export of customer records from CIS01. */
    if (u == b->exporter && d->day == b->export_day) {
        uint32_t cis = e->wk.cis;
        kz_time te = local_time(d, 10, 30);
        uint64_t lid = sim_logon(g, cis, te, u, 10, ss.src_ip, e->hosts[ss.host].name, SL_TGT);
        uint32_t exp = sim_proc(g, cis, te + MIN, u, lid, "C:\\CIS\\bin\\CisExport.exe",
                                "\"C:\\CIS\\bin\\CisExport.exe\" /all /format:csv "
                                "/out:C:\\Users\\Public\\export_fy2025.csv",
                                4000, EXPLORER, EXPLORER, 1);
        for (uint32_t c = 0; c < e->ncustomers; c += 3) {
            struct sim_ev *x = sim_ev_new(g, K_4663, cis, te + 2 * MIN + c * SEC / 2);
            x->u = u, x->lid = lid, x->pid = exp, x->s2 = "C:\\CIS\\bin\\CisExport.exe";
            x->n = 1;
            x->s1 = sim_strf(d, "E:\\CISData\\%s\\construction_records.csv", e->customers[c].code);
        }
        sim_logoff(g, cis, te + HOUR, u, lid, 10);
    }
    /* The portal: a few visit it, fewer reset a password. */
    if (kz_sim_rng_chance(&g->rng, 20)) {
        uint32_t client = remote ? us->home_ip : ss.src_ip;
        portal_visit(g, u, t0 + kz_sim_rng_below(&g->rng, 7200) * SEC, client,
                     kz_sim_rng_chance(&g->rng, 400));
    }
    session_background(d, &ss, u, t0 + 5 * MIN, t1 - MIN);
    sim_logoff(g, ss.host, t1, u, ss.lid, remote && home->role != KZ_SIM_LAPTOP ? 10 : 2);
    (void)vpn_tip;
}

/* ---- machines ---- */

/* A machine's own steady activity, day and night: services starting under SYSTEM (4624 type 5 and
 * 4672, every 20-40 minutes) and, on members, the computer account refreshing group policy on a
 * DC about every 90 minutes (a service ticket, a network logon and its logoff there). */
static void machine_background(struct sim_day *d, uint32_t h) {
    const struct kz_sim_estate *e = d->e;
    struct sim_gen g;
    sim_gen_init(&g, d, STREAM_HOST_BG + h);
    for (kz_time t = d->t0 + kz_sim_rng_range(&g.rng, 1, 30) * MIN; t < d->t0 + DAY;
         t += kz_sim_rng_range(&g.rng, 20, 40) * MIN + kz_sim_rng_below(&g.rng, 60) * SEC)
        sim_logon(&g, h, t, KZ_SIM_NONE, 5, 0, NULL, SL_NODC | SL_PRIV);
    if (e->hosts[h].role == KZ_SIM_DC) return;
    uint32_t dc = e->wk.dc[h & 1];
    for (kz_time t = d->t0 + kz_sim_rng_range(&g.rng, 1, 90) * MIN; t < d->t0 + DAY - MIN;
         t += kz_sim_rng_range(&g.rng, 80, 100) * MIN) {
        uint64_t lid = sim_lid(&g);
        struct sim_ev *k = sim_ev_new(&g, K_4769, dc, t - SEC / 2);
        k->u2 = h, k->flags = EVF_MACHINE, k->src = e->hosts[h].ip, k->n = dc, k->lid = lid;
        struct sim_ev *x = sim_ev_new(&g, K_4624, dc, t);
        x->u2 = h, x->flags = EVF_MACHINE, x->src = e->hosts[h].ip, x->ltype = 3, x->lid = lid;
        struct sim_ev *y = sim_ev_new(&g, K_4634, dc, t + kz_sim_rng_range(&g.rng, 1, 5) * SEC);
        y->u2 = h, y->flags = EVF_MACHINE, y->ltype = 3, y->lid = lid;
    }
}

static void machine_day(struct sim_gen *g, uint32_t h) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    const struct kz_sim_host *hh = &e->hosts[h];
    if (!hh->windows) return;
    machine_background(d, h);
    /* Scheduled maintenance as SYSTEM. */
    kz_time t = local_time(d, 3, (int)kz_sim_rng_below(&g->rng, 50));
    uint32_t th = sim_proc(g, h, t, KZ_SIM_NONE, 0x3e7, "C:\\Windows\\System32\\taskhostw.exe",
                           "taskhostw.exe", 1200, SVCHOST,
                           "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", 3);
    (void)th;
    sim_proc(g, h, t + 30 * MIN, KZ_SIM_NONE, 0x3e7, "C:\\Windows\\System32\\gpupdate.exe",
             "gpupdate.exe /target:computer", 1200, SVCHOST,
             "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", 3);
    /* Weekly updates, machine by machine. */
    if ((h + d->day) % 7 == 2) {
        kz_time tu = local_time(d, 4, (int)kz_sim_rng_below(&g->rng, 60));
        uint32_t wu = sim_proc(g, h, tu, KZ_SIM_NONE, 0x3e7, "C:\\Windows\\System32\\wuauclt.exe",
                               "\"C:\\Windows\\system32\\wuauclt.exe\" /RunHandlerComServer", 1200,
                               SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p", 3);
        (void)wu;
        uint32_t n = kz_sim_rng_range(&g->rng, 1, 2);
        for (uint32_t i = 0; i < n; i++) {
            struct sim_ev *x = sim_ev_new(g, K_WU19, h, tu + (kz_time)(i + 1) * 7 * MIN);
            x->s1 = updates[kz_sim_rng_below(&g->rng, N(updates))];
            x->n = kz_sim_rng_below(&g->rng, 50);
        }
    }
    /* Servers: the database service logs on at midnight (type 5). */
    if (hh->role == KZ_SIM_OPS || hh->role == KZ_SIM_CIS) {
        uint64_t lid = sim_logon(g, h, local_time(d, 0, 5), e->wk.svc_sql, 5, 0, NULL, SL_KERBEROS);
        (void)lid;
    }
}

/* The backup job: every night svc-backup on BKP01 reads what changed; on the full-backup day it
 * reads every customer folder. */
static void backup_night(struct sim_gen *g, struct benign *b) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t bk = e->wk.backup, svc = e->wk.svc_backup;
    int full = d->day == b->full_backup_day;
    kz_time t = local_time(d, 1, 0) + kz_sim_rng_below(&g->rng, 600) * SEC;
    uint32_t rb = sim_proc(g, bk, t - MIN, svc, 0x5000, "C:\\Windows\\System32\\robocopy.exe",
                           full ? "robocopy \\\\FS01\\projects E:\\Backup\\full /MIR /B /R:1 /W:1"
                                : "robocopy \\\\FS01\\projects E:\\Backup\\inc /M /B /R:1 /W:1",
                           1500, SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p", 2);
    (void)rb;
    for (uint32_t f = 0; f < e->wk.nfs; f++) {
        uint32_t fs = e->wk.fs_first + f;
        uint64_t lid = sim_logon(g, fs, t, svc, 3, e->hosts[bk].ip, "BKP01", SL_TGT | SL_PRIV);
        sim_share_connect(g, fs, t + SEC, svc, lid, e->hosts[bk].ip, SHARE_PROJECTS,
                          SHARE_PROJECTS_LOCAL);
        kz_time tf = t + 2 * SEC;
        for (uint32_t c = f; c < e->ncustomers; c += e->wk.nfs) {
            uint32_t nf = full ? 6 : kz_sim_rng_chance(&g->rng, 100) ? 1 : 0;
            for (uint32_t k = 0; k < nf; k++) {
                tf += 200 * 10000 + kz_sim_rng_below(&g->rng, 400) * 10000;
                sim_share_file(g, fs, tf, svc, lid, e->hosts[bk].ip, SHARE_PROJECTS,
                               SHARE_PROJECTS_LOCAL, sim_customer_path(d, c, k), 1);
            }
        }
        sim_logoff(g, fs, tf + MIN, svc, lid, 3);
    }
}

/* The new hire's account is created the working day before they start. */
static void admin_events(struct sim_gen *g, struct benign *b) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    if (b->newhire == KZ_SIM_NONE || b->admin_many == KZ_SIM_NONE) return;
    uint32_t create_day = b->join_day ? b->join_day - 1 : 0;
    if (d->day != create_day) return;
    uint32_t adm = b->admin_many, dc = e->wk.dc[0];
    kz_time t = local_time(d, 15, 10);
    uint64_t lid =
        sim_logon(g, dc, t, adm, 3, e->hosts[e->wk.adops].ip, "ADOPS01", SL_TGT | SL_PRIV);
    struct sim_ev *x = sim_ev_new(g, K_4720, dc, t + 20 * SEC);
    x->u = adm, x->lid = lid, x->u2 = b->newhire;
    sim_logoff(g, dc, t + 2 * MIN, adm, lid, 3);
}

void sim_benign_day(struct sim_day *d) {
    struct sim *s = d->s;
    const struct kz_sim_estate *e = d->e;
    struct benign *b = s->benign;
    struct sim_gen g;
    for (uint32_t u = 0; u < e->nemployees; u++) {
        sim_gen_init(&g, d, STREAM_USER + u);
        user_day(&g, b, u);
    }
    for (uint32_t h = 0; h < e->nhosts; h++) {
        sim_gen_init(&g, d, STREAM_HOST + h);
        machine_day(&g, h);
    }
    sim_gen_init(&g, d, STREAM_MISC);
    backup_night(&g, b);
    admin_events(&g, b);
}
