/* estate.c - builds the simulated organisation of estate.h from a seed.
 *
 * Sizes follow --users: one desk machine or laptop per employee, a VDI host per 40 employees, a
 * file server per 300, and hundreds of customer companies whatever the size (the NTT incident
 * touched 188 customers' folders, so even a small estate must have more than that). Names,
 * addresses and habits are drawn from short word lists with the estate's PRNG. */
#include "estate.h"

#include "../core/alloc.h"

#include <stdio.h>
#include <string.h>

/* ---- PRNG ---- */

uint64_t kz_sim_mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void kz_sim_rng_seed(struct kz_sim_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ kz_sim_mix(stream * 0xd1342543de82ef95ull + 0x632be59bd9b4e019ull);
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        r->s[i] = kz_sim_mix(x);
    }
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t kz_sim_rng_next(struct kz_sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* ---- word lists ---- */

static const char *const family_names[] = {
    "Sato",      "Suzuki",    "Takahashi", "Tanaka",    "Watanabe", "Ito",      "Yamamoto",
    "Nakamura",  "Kobayashi", "Kato",      "Yoshida",   "Yamada",   "Sasaki",   "Yamaguchi",
    "Matsumoto", "Inoue",     "Kimura",    "Hayashi",   "Shimizu",  "Yamazaki", "Mori",
    "Abe",       "Ikeda",     "Hashimoto", "Yamashita", "Ishikawa", "Nakajima", "Maeda",
    "Fujita",    "Ogawa",     "Goto",      "Okada",     "Hasegawa", "Murakami", "Kondo",
    "Ishii",     "Saito",     "Sakamoto",  "Endo",      "Aoki",     "Fujii",    "Nishimura",
    "Fukuda",    "Ota",       "Miura",     "Fujiwara",  "Okamoto",  "Matsuda",  "Nakagawa"};
static const char *const given_names[] = {
    "Hiroshi", "Takeshi", "Kenji",  "Daisuke", "Yuki",   "Akira", "Naoki", "Kazuya",
    "Shota",   "Ryo",     "Makoto", "Satoshi", "Tomoko", "Yoko",  "Keiko", "Yumi",
    "Aya",     "Haruka",  "Misaki", "Naomi",   "Emi",    "Kaori", "Mai",   "Sakura",
    "Takumi",  "Yuta",    "Kenta",  "Sho",     "Hana",   "Rina",  "Yui",   "Koji"};
static const char *const intl_given[] = {"David", "Maria", "James", "Priya",  "Wei",
                                         "Anna",  "Lucas", "Sofia", "Minjun", "Olivia"};
static const char *const intl_family[] = {"Smith", "Garcia", "Chen",  "Kumar", "Muller",
                                          "Rossi", "Kim",    "Silva", "Brown", "Nguyen"};

static const char *const jp_prefix[] = {
    "Sakura",  "Fuji",   "Yamato",   "Tokai",      "Kansai",  "Hokuriku", "Asahi",     "Nippon",
    "Mitsuba", "Aozora", "Shinsei",  "Daiichi",    "Chuo",    "Hoshino",  "Kawasaki",  "Minato",
    "Tohoku",  "Kyushu", "Setouchi", "Hikari",     "Midori",  "Taiyo",    "Shirakawa", "Kitano",
    "Heiwa",   "Seiwa",  "Tsubasa",  "Marunouchi", "Nishiki", "Kasumi",   "Ootori",    "Takara"};
static const char *const jp_industry[] = {
    "Kensetsu", "Shoji",    "Denki",   "Kogyo",    "Sangyo",   "Unyu",    "Seimitsu", "Shokuhin",
    "Tsushin",  "Kaihatsu", "Setsubi", "Koumuten", "Butsuryu", "Fudosan", "Kagaku",   "Jidosha"};
static const char *const jp_suffix[] = {"K.K.", "Co. Ltd.", "Holdings", "Kogyo K.K."};
static const char *const intl_prefix[] = {"Harbor",     "Alpine",     "Northwind",   "Bluewater",
                                          "Redwood",    "Silverline", "Summit",      "Crescent",
                                          "Granite",    "Meridian",   "Pinecrest",   "Lakeside",
                                          "Ironbridge", "Oakfield",   "Brightstone", "Riverside"};
static const char *const intl_industry[] = {"Logistics", "Medical",   "Engineering", "Foods",
                                            "Systems",   "Materials", "Energy",      "Retail",
                                            "Pharma",    "Robotics"};
static const char *const intl_suffix[] = {"Inc.", "GmbH", "Ltd.", "Pte. Ltd.", "S.A.", "LLC"};

/* Departments: name, and whether they work on customer projects (and so own customer folders). */
static const struct {
    const char *name;
    int customers;
    int weight; /* share of employees */
} dept_table[] = {
    {"Sales", 1, 18},
    {"Engineering", 1, 20},
    {"Construction", 1, 18},
    {"Consulting", 1, 10},
    {"CustomerSupport", 1, 10},
    {"Finance", 0, 7},
    {"HumanResources", 0, 5},
    {"Legal", 0, 3},
    {"IT", 0, 9},
};
#define NDEPTS (sizeof dept_table / sizeof *dept_table)
#define N(a) (sizeof(a) / sizeof *(a))

/* ---- helpers ---- */

/* Strings that cannot be stored become "" and mark the build failed (checked once at the end). */
static char *astr(struct kz_sim_estate *e, const char *s) {
    char *p = kz_arena_strndup(&e->arena, s, strlen(s));
    if (!p) {
        e->oom = 1;
        p = (char *)"";
    }
    return p;
}

char *kz_sim_ip_text(uint32_t ip, char out[16]) {
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return out;
}

static void domain_sid_of(const struct kz_sim_estate *e, uint32_t rid, struct kz_evtx_sid *sid);

/* A public address that looks like a Japanese consumer ISP's (no private or reserved ranges). */
static uint32_t home_ip(struct kz_sim_rng *r) {
    static const uint8_t first[] = {126, 153, 180, 219, 220, 110, 114, 118, 122, 124, 60, 58};
    return (uint32_t)first[kz_sim_rng_below(r, N(first))] << 24 |
           kz_sim_rng_range(r, 1, 254) << 16 | kz_sim_rng_range(r, 0, 255) << 8 |
           kz_sim_rng_range(r, 1, 254);
}

/* "DESKTOP-7F3K2QX": Windows' default name for a machine set up at home. */
static char *device_name(struct kz_sim_estate *e, struct kz_sim_rng *r) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char b[16] = "DESKTOP-";
    for (int i = 0; i < 7; i++)
        b[8 + i] = al[kz_sim_rng_below(r, 36)];
    b[15] = 0;
    return astr(e, b);
}

static int add_host(struct kz_sim_estate *e, const char *name, uint8_t role, uint32_t ip,
                    uint32_t owner) {
    if (e->nhosts >= KZ_SIM_MAX_HOSTS) return -1;
    struct kz_sim_host *h = &e->hosts[e->nhosts];
    char fq[96], ipt[16];
    snprintf(fq, sizeof fq, "%s.%s", name, KZ_SIM_DNS);
    h->name = astr(e, name);
    h->fqdn = astr(e, fq);
    h->ip = ip;
    h->ip_text = astr(e, kz_sim_ip_text(ip, ipt));
    h->role = role;
    h->windows = role != KZ_SIM_PROXY && role != KZ_SIM_VPN;
    h->owner = owner;
    domain_sid_of(e, 3000 + e->nhosts, &h->sid);
    return (int)e->nhosts++;
}

static void domain_sid_of(const struct kz_sim_estate *e, uint32_t rid, struct kz_evtx_sid *sid) {
    memset(sid, 0, sizeof *sid);
    sid->revision = 1;
    sid->authority = 5;
    sid->count = 5;
    sid->sub[0] = 21;
    sid->sub[1] = e->domain_sub[0];
    sid->sub[2] = e->domain_sub[1];
    sid->sub[3] = e->domain_sub[2];
    sid->sub[4] = rid;
}

static struct kz_sim_user *add_user(struct kz_sim_estate *e, const char *sam, const char *display,
                                    uint32_t rid, uint8_t kind) {
    struct kz_sim_user *u = &e->users[e->nusers++];
    memset(u, 0, sizeof *u);
    char b[128];
    u->sam = astr(e, sam);
    u->display = astr(e, display);
    snprintf(b, sizeof b, "%s@%s", sam, KZ_SIM_DNS);
    u->upn = astr(e, b);
    domain_sid_of(e, rid, &u->sid);
    snprintf(b, sizeof b, "%s-%u", e->domain_sid, rid);
    u->sid_text = astr(e, b);
    u->kind = kind;
    u->admin = KZ_SIM_NONE;
    u->person = KZ_SIM_NONE;
    u->home_host = KZ_SIM_NONE;
    return u;
}

/* Is sam already taken by an earlier user? Linear over a small window is too weak for big estates,
 * so a tiny open-addressing set is used during the build. */
struct nameset {
    uint64_t *h;
    uint32_t cap;
};
static int nameset_add(struct nameset *s, const char *name) {
    uint64_t x = 1469598103934665603ull;
    for (const char *p = name; *p; p++)
        x = (x ^ (uint8_t)*p) * 1099511628211ull;
    x |= 1;
    for (uint32_t i = (uint32_t)x & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->h[i] == x) return 0;
        if (!s->h[i]) {
            s->h[i] = x;
            return 1;
        }
    }
}

/* ---- customers' files ---- */

static const char *const doc_names[] = {"見積書",
                                        "契約書",
                                        "工事計画書",
                                        "議事録",
                                        "仕様書",
                                        "請求書",
                                        "図面",
                                        "作業報告書",
                                        "提案書",
                                        "発注書",
                                        "Quotation",
                                        "Contract",
                                        "Site_Survey",
                                        "Meeting_Minutes",
                                        "Requirements",
                                        "Invoice",
                                        "Network_Diagram",
                                        "Acceptance_Test",
                                        "Proposal",
                                        "Purchase_Order",
                                        "Customer_List",
                                        "Contact_Directory",
                                        "Maintenance_Log",
                                        "Budget",
                                        "Schedule"};
static const char *const doc_ext[] = {".xlsx", ".docx", ".pdf", ".pptx", ".xlsx", ".pdf", ".csv"};

size_t kz_sim_customer_file(const struct kz_sim_estate *e, uint32_t customer, uint32_t k, char *out,
                            size_t cap) {
    uint64_t h = kz_sim_mix(e->seed ^ ((uint64_t)customer << 20) ^ k);
    const struct kz_sim_customer *c = &e->customers[customer];
    int n = snprintf(out, cap, "%s\\%u\\P%02u-%04u\\%s_v%u%s", c->folder, 2024u + (unsigned)(h % 3),
                     24u + (unsigned)(h >> 8) % 3, (unsigned)(h >> 16) % 10000,
                     doc_names[(h >> 32) % N(doc_names)], 1u + (unsigned)(h >> 40) % 4,
                     doc_ext[(h >> 48) % N(doc_ext)]);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- the build ---- */

int kz_sim_estate_build(struct kz_sim_estate **out, uint64_t seed, uint32_t users,
                        struct kz_err *err) {
    *out = NULL;
    if (users < 1 || users > KZ_SIM_MAX_USERS)
        return kz_err_set(err, KZ_EUSAGE, "users: %u is not from 1 to %u", users, KZ_SIM_MAX_USERS);
    struct kz_sim_estate *e = kz_calloc(1, sizeof *e);
    if (!e) return kz_err_set(err, KZ_ENOMEM, "out of memory building the estate");
    kz_arena_init(&e->arena, 1 << 20, (size_t)1 << 31);
    e->seed = seed;
    struct kz_sim_rng r;
    kz_sim_rng_seed(&r, seed, 0xE57A7E);
    struct nameset names = {0};
    int rc = KZ_ENOMEM;

    /* Domain SID: three random sub-authorities, as dcpromo picks them. */
    for (int i = 0; i < 3; i++)
        e->domain_sub[i] = 1000000000u + kz_sim_rng_below(&r, 1000000000u);
    char b[256];
    snprintf(b, sizeof b, "S-1-5-21-%u-%u-%u", e->domain_sub[0], e->domain_sub[1],
             e->domain_sub[2]);
    e->domain_sid = astr(e, b);
    domain_sid_of(e, 502, &e->krbtgt_sid);
    domain_sid_of(e, 512, &e->domain_admins_sid);

    uint32_t nadmins_max = users / 10 + 12; /* IT is 9% plus the rounding remainders */
    uint32_t ncust = users * 2 < 400 ? 400 : users * 2 > 4000 ? 4000 : users * 2;
    uint32_t nvdi = users / 40 + 2, nfs = users / 300 + 2;
    e->users_cap = users + nadmins_max + 8 + KZ_SIM_SPARE_USERS;
    e->users = kz_calloc(e->users_cap, sizeof *e->users);
    e->hosts = kz_calloc((size_t)users + nvdi + nfs + 16, sizeof *e->hosts);
    e->customers = kz_calloc(ncust, sizeof *e->customers);
    e->depts = kz_calloc(NDEPTS, sizeof *e->depts);
    names.cap = 1;
    /* Account names and customer folders share the set; at most half full. */
    while (names.cap < 2 * (users + nadmins_max + 8 + ncust + KZ_SIM_SPARE_USERS))
        names.cap <<= 1;
    names.h = kz_calloc(names.cap, sizeof *names.h);
    if (!e->users || !e->hosts || !e->customers || !e->depts || !names.h) goto fail;
    e->ndepts = NDEPTS;

    /* Servers first, so their indexes are small and stable across sizes. */
    struct kz_sim_wellknown *wk = &e->wk;
    uint32_t srv = 10u << 24 | 20u << 16; /* 10.20.0.0/16: servers */
    wk->dc[0] = (uint32_t)add_host(e, "DC01", KZ_SIM_DC, srv | 10, KZ_SIM_NONE);
    wk->dc[1] = (uint32_t)add_host(e, "DC02", KZ_SIM_DC, srv | 11, KZ_SIM_NONE);
    wk->fs_first = e->nhosts;
    wk->nfs = nfs;
    for (uint32_t i = 0; i < nfs; i++) {
        snprintf(b, sizeof b, "FS%02u", i + 1);
        add_host(e, b, KZ_SIM_FILESERVER, srv | (20 + i), KZ_SIM_NONE);
    }
    wk->adops = (uint32_t)add_host(e, "ADOPS01", KZ_SIM_ADOPS, srv | 1 << 8 | 10, KZ_SIM_NONE);
    wk->ops = (uint32_t)add_host(e, "OPS01", KZ_SIM_OPS, srv | 1 << 8 | 11, KZ_SIM_NONE);
    wk->cis = (uint32_t)add_host(e, "CIS01", KZ_SIM_CIS, srv | 1 << 8 | 12, KZ_SIM_NONE);
    wk->portal = (uint32_t)add_host(e, "PWRESET01", KZ_SIM_PORTAL, srv | 2 << 8 | 10, KZ_SIM_NONE);
    wk->backup = (uint32_t)add_host(e, "BKP01", KZ_SIM_BACKUP, srv | 30, KZ_SIM_NONE);
    wk->proxy =
        (uint32_t)add_host(e, "PROXY01", KZ_SIM_PROXY, 10u << 24 | 250u << 16 | 10, KZ_SIM_NONE);
    wk->vpn = (uint32_t)add_host(e, "VPNGW01", KZ_SIM_VPN, 10u << 24 | 250u << 16 | 1, KZ_SIM_NONE);
    wk->vdi_first = e->nhosts;
    wk->nvdi = nvdi;
    for (uint32_t i = 0; i < nvdi; i++) {
        snprintf(b, sizeof b, "VDI%02u", i + 1);
        add_host(e, b, KZ_SIM_VDI, 10u << 24 | 30u << 16 | (i / 250) << 8 | (10 + i % 240),
                 KZ_SIM_NONE);
    }

    /* Departments and their employees. */
    uint32_t wsum = 0, given = 0;
    for (uint32_t d = 0; d < NDEPTS; d++)
        wsum += (uint32_t)dept_table[d].weight;
    for (uint32_t d = 0; d < NDEPTS; d++) {
        uint32_t n = users * (uint32_t)dept_table[d].weight / wsum;
        if (d == NDEPTS - 1) n = users - given;
        e->depts[d].name = dept_table[d].name;
        e->depts[d].folder = dept_table[d].name;
        e->depts[d].first_user = given;
        e->depts[d].nusers = n;
        given += n;
    }
    uint32_t rid = 1105, nws = 0, nlt = 0;
    for (uint32_t d = 0; d < NDEPTS; d++) {
        for (uint32_t i = 0; i < e->depts[d].nusers; i++) {
            int intl = kz_sim_rng_chance(&r, 60);
            const char *gn = intl ? intl_given[kz_sim_rng_below(&r, N(intl_given))]
                                  : given_names[kz_sim_rng_below(&r, N(given_names))];
            const char *fn = intl ? intl_family[kz_sim_rng_below(&r, N(intl_family))]
                                  : family_names[kz_sim_rng_below(&r, N(family_names))];
            char sam[64], disp[96];
            snprintf(sam, sizeof sam, "%c%s", gn[0] + ('a' - 'A'), fn);
            for (char *p = sam; *p; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            for (int k = 2; !nameset_add(&names, sam); k++) {
                snprintf(sam, sizeof sam, "%c%s%d", gn[0] + ('a' - 'A'), fn, k);
                for (char *p = sam; *p; p++)
                    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            }
            snprintf(disp, sizeof disp, "%s %s", fn, gn);
            struct kz_sim_user *u = add_user(e, sam, disp, rid++, KZ_SIM_EMPLOYEE);
            uint32_t ui = e->nusers - 1;
            u->dept = (uint8_t)d;
            u->start_hour = (uint8_t)kz_sim_rng_range(&r, 8, 10);
            u->start_min = (uint8_t)kz_sim_rng_below(&r, 60);
            u->work_hours = (uint8_t)kz_sim_rng_range(&r, 8, 10);
            u->it_staff = !strcmp(dept_table[d].name, "IT");
            u->home_ip = home_ip(&r);
            /* A third work from home on one or two weekdays; a few mostly remote. */
            if (kz_sim_rng_chance(&r, 350))
                u->remote_days |= (uint8_t)(1u << kz_sim_rng_below(&r, 5));
            if (kz_sim_rng_chance(&r, 150))
                u->remote_days |= (uint8_t)(1u << kz_sim_rng_below(&r, 5));
            if (kz_sim_rng_chance(&r, 40)) u->remote_days = 0x1b;
            int laptop = kz_sim_rng_chance(&r, 250) || u->it_staff;
            if (laptop)
                snprintf(b, sizeof b, "LT%04u", ++nlt);
            else
                snprintf(b, sizeof b, "WS%04u", ++nws);
            /* 10.10.<dept*8 + n/250>.<n%250>: one block of subnets per department floor. */
            uint32_t seat = i;
            uint32_t ip = 10u << 24 | 10u << 16 | (d * 8 + seat / 240) << 8 | (10 + seat % 240);
            int h = add_host(e, b, laptop ? KZ_SIM_LAPTOP : KZ_SIM_WORKSTATION, ip, ui);
            if (h < 0) {
                rc = kz_err_set(err, KZ_ELIMIT, "too many hosts (limit %u)", KZ_SIM_MAX_HOSTS);
                goto fail;
            }
            u->home_host = (uint32_t)h;
            /* Personal devices: remote workers without a laptop use their own PC over VPN to VDI.
             */
            if (u->remote_days && !laptop) u->byod = device_name(e, &r);
        }
    }
    e->nemployees = e->nusers;

    /* Admin accounts for IT staff (and the built-in Administrator). */
    for (uint32_t i = 0; i < e->nemployees; i++) {
        struct kz_sim_user *p = &e->users[i];
        if (!p->it_staff) continue;
        snprintf(b, sizeof b, "%s-adm", p->sam);
        char disp[128];
        snprintf(disp, sizeof disp, "%s (admin)", p->display);
        struct kz_sim_user *a = add_user(e, b, disp, rid++, KZ_SIM_ADMIN_ACCOUNT);
        a->dept = p->dept;
        a->person = i;
        a->it_staff = 1;
        a->home_host = p->home_host;
        p->admin = e->nusers - 1;
    }
    wk->administrator = e->nusers;
    add_user(e, "Administrator", "Administrator", 500, KZ_SIM_ADMIN_ACCOUNT);
    static const char *const svcs[] = {"svc-backup", "svc-adss", "svc-sql", "svc-deploy"};
    uint32_t *svc_idx[] = {&wk->svc_backup, &wk->svc_adss, &wk->svc_sql, &wk->svc_deploy};
    for (uint32_t i = 0; i < N(svcs); i++) {
        *svc_idx[i] = e->nusers;
        struct kz_sim_user *s = add_user(e, svcs[i], svcs[i], 1100 + i, KZ_SIM_SERVICE);
        s->dept = (uint8_t)(NDEPTS - 1);
    }

    /* Customers, dealt to the customer-facing departments by weight. */
    e->ncustomers = ncust;
    uint32_t cdepts[NDEPTS], ncd = 0, cw = 0;
    for (uint32_t d = 0; d < NDEPTS; d++)
        if (dept_table[d].customers) cdepts[ncd++] = d, cw += (uint32_t)dept_table[d].weight;
    uint32_t c = 0;
    for (uint32_t k = 0; k < ncd; k++) {
        uint32_t d = cdepts[k];
        uint32_t n = k == ncd - 1 ? ncust - c : ncust * (uint32_t)dept_table[d].weight / cw;
        e->depts[d].first_customer = c;
        e->depts[d].ncustomers = n;
        for (uint32_t j = 0; j < n; j++, c++) {
            struct kz_sim_customer *cu = &e->customers[c];
            char name[128], folder[128];
            for (int tries = 0;; tries++) {
                if (kz_sim_rng_chance(&r, 700)) {
                    const char *p = jp_prefix[kz_sim_rng_below(&r, N(jp_prefix))];
                    const char *ind = jp_industry[kz_sim_rng_below(&r, N(jp_industry))];
                    snprintf(name, sizeof name, "%s %s %s", p, ind,
                             jp_suffix[kz_sim_rng_below(&r, N(jp_suffix))]);
                    snprintf(folder, sizeof folder, "%s_%s", p, ind);
                } else {
                    const char *p = intl_prefix[kz_sim_rng_below(&r, N(intl_prefix))];
                    const char *ind = intl_industry[kz_sim_rng_below(&r, N(intl_industry))];
                    snprintf(name, sizeof name, "%s %s %s", p, ind,
                             intl_suffix[kz_sim_rng_below(&r, N(intl_suffix))]);
                    snprintf(folder, sizeof folder, "%s_%s", p, ind);
                }
                if (tries > 3) { /* the word lists run out: number the folder */
                    size_t l = strlen(folder);
                    snprintf(folder + l, sizeof folder - l, "_%u", c);
                    l = strlen(name);
                    snprintf(name + l, sizeof name - l, " (%u)", c);
                }
                if (nameset_add(&names, folder)) break;
            }
            cu->name = astr(e, name);
            cu->folder = astr(e, folder);
            snprintf(b, sizeof b, "C%05u", c + 1);
            cu->code = astr(e, b);
            cu->dept = (uint16_t)d;
            cu->fs = wk->fs_first + c % nfs;
        }
    }
    if (e->oom) goto fail;
    kz_free(names.h);
    *out = e;
    return 0;
fail:
    kz_free(names.h);
    kz_sim_estate_free(e);
    if (rc == KZ_ENOMEM) kz_err_set(err, KZ_ENOMEM, "out of memory building the estate");
    return rc;
}

uint32_t kz_sim_estate_add_account(struct kz_sim_estate *e, const char *sam, const char *display) {
    if (e->nusers >= e->users_cap) return KZ_SIM_NONE;
    struct kz_sim_user *u = add_user(e, sam, display, 200000 + e->nusers, KZ_SIM_EMPLOYEE);
    u->dept = (uint8_t)(e->ndepts - 1);
    return e->oom ? KZ_SIM_NONE : e->nusers - 1;
}

void kz_sim_estate_free(struct kz_sim_estate *e) {
    if (!e) return;
    kz_arena_free(&e->arena);
    kz_free(e->users);
    kz_free(e->hosts);
    kz_free(e->customers);
    kz_free(e->depts);
    kz_free(e);
}
