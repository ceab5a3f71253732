/* test_sim.c - the simulator (src/sim): determinism, readable logs, and ground truth that holds.
 *
 * Every check reads the output back the way a consumer would: EVTX files with kizuki's decoder,
 * truth.jsonl / scenario.json / customers.csv as text, text logs line by line. What a record must
 * be is derived from the DESIGN.md contract (a truth record exists in the named file, on that host,
 * inside the step's window; a touched customer is in customers.csv and in some attack record's
 * path), not from the generator's own tables. Estates are small (a second or less each). */
#include "unit.h"

#include "core/alloc.h"
#include "core/intern.h"
#include "core/timeutil.h"
#include "input/evtx/evtx.h"
#include "sim/estate.h"
#include "sim/sim.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- running a simulation into a temporary folder ---- */

static int rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb)) return 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", path, de->d_name);
            rm_rf(p);
        }
        if (d) closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int simulate(char *dir, size_t cap, uint64_t seed, uint32_t users, uint32_t days,
                    unsigned scen, int threads, struct kz_sim_stats *st) {
    snprintf(dir, cap, "/tmp/kz_sim_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    struct kz_sim_opts o = {.outdir = dir,
                            .seed = seed,
                            .users = users,
                            .days = days,
                            .start_day = kz_sim_default_start(),
                            .scenarios = scen,
                            .threads = threads};
    struct kz_err err = {0};
    int rc = kz_sim_run(&o, st, &err);
    if (rc) fprintf(stderr, "kz_sim_run: %s\n", err.msg);
    return rc;
}

static void cleanup(const char *dir) {
    if (!getenv("KZ_TEST_KEEP")) rm_rf(dir);
}

/* FNV-1a over every file's relative path and bytes, in sorted order. */
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void hash_tree(const char *root, const char *rel, uint64_t *h, int *nfiles) {
    char p[4096];
    snprintf(p, sizeof p, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(p);
    if (!d) return;
    char *names[4096];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 4096)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char r[2048], full[4096];
        snprintf(r, sizeof r, "%.1000s%s%.255s", rel, *rel ? "/" : "", names[i]);
        snprintf(full, sizeof full, "%.2000s/%s", root, r);
        struct stat sb;
        if (!stat(full, &sb) && S_ISDIR(sb.st_mode)) {
            hash_tree(root, r, h, nfiles);
        } else {
            for (const char *c = r; *c; c++)
                *h = (*h ^ (uint8_t)*c) * 1099511628211ull;
            size_t len;
            unsigned char *data = kz_test_read_file(full, &len);
            for (size_t k = 0; data && k < len; k++)
                *h = (*h ^ data[k]) * 1099511628211ull;
            kz_free(data);
            (*nfiles)++;
        }
        free(names[i]);
    }
}

static uint64_t tree_hash(const char *root, int *nfiles) {
    uint64_t h = 1469598103934665603ull;
    *nfiles = 0;
    hash_tree(root, "", &h, nfiles);
    return h;
}

/* Writing the hosts in several passes (to bound open logs) gives the same bytes as one pass. */
KZ_TEST(sim_passes_do_not_change_output) {
    char a[64], b[64];
    struct kz_sim_stats sa, sb;
    REQUIRE(simulate(a, sizeof a, 8, 20, 3, KZ_SIM_ALL, 0, &sa) == 0);
    snprintf(b, sizeof b, "/tmp/kz_simp_XXXXXX");
    REQUIRE(mkdtemp(b));
    struct kz_sim_opts o = {.outdir = b,
                            .seed = 8,
                            .users = 20,
                            .days = 3,
                            .start_day = kz_sim_default_start(),
                            .scenarios = KZ_SIM_ALL,
                            .shard_hosts = 7};
    struct kz_err err;
    REQUIRE(kz_sim_run(&o, &sb, &err) == 0);
    int na, nb;
    CHECK_MSG(tree_hash(a, &na) == tree_hash(b, &nb), "5 passes and 1 pass differ");
    CHECK_INT(na, nb);
    CHECK_INT(sa.events, sb.events);
    cleanup(a);
    cleanup(b);
}

KZ_TEST(sim_same_seed_same_bytes) {
    char a[64], b[64], c[64];
    struct kz_sim_stats sa, sb, sc;
    REQUIRE(simulate(a, sizeof a, 42, 24, 4, KZ_SIM_ALL, 1, &sa) == 0);
    REQUIRE(simulate(b, sizeof b, 42, 24, 4, KZ_SIM_ALL, 2, &sb) == 0);
    REQUIRE(simulate(c, sizeof c, 43, 24, 4, KZ_SIM_ALL, 2, &sc) == 0);
    int na, nb, nc;
    uint64_t ha = tree_hash(a, &na), hb = tree_hash(b, &nb), hc = tree_hash(c, &nc);
    CHECK(na > 20);
    CHECK_INT(na, nb);
    CHECK_MSG(ha == hb, "same seed, different thread counts: outputs differ");
    CHECK_MSG(ha != hc, "a different seed gave the same bytes");
    CHECK_INT(sa.events, sb.events);
    CHECK(sa.events > 1000);
    cleanup(a);
    cleanup(b);
    cleanup(c);
}

/* ---- reading back ---- */

struct rec {
    uint64_t id;
    kz_time ts;
    char host[64];
    char path[512]; /* the file path the event names, made absolute as scope would */
    char ip[48], workstation[64];
    char user[64], logon_type[8], dest[96]; /* TargetUserName, LogonType, DestinationHostname */
    uint32_t event_id;
};

struct evfile {
    char rel[256]; /* HOST/Channel.evtx */
    struct rec *r;
    uint64_t n, cap;
    uint64_t bad;
    int ids_ok;
};

static struct evfile *files;
static int nfiles_read;

static const char *fieldv(const struct kz_event *ev, const char *name) {
    uint32_t id = kz_intern_find(name, strlen(name));
    const struct kz_field *f = id ? kz_event_field(ev, id) : NULL;
    return f ? f->val : NULL;
}

static void on_rec(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec) {
    (void)d;
    struct evfile *f = ctx;
    if (f->n == f->cap) {
        uint64_t cap = f->cap ? f->cap * 2 : 1024;
        struct rec *p = realloc(f->r, cap * sizeof *p);
        if (!p) return;
        f->r = p, f->cap = cap;
    }
    const struct kz_event *ev = rec->event;
    struct rec *r = &f->r[f->n++];
    memset(r, 0, sizeof *r);
    r->id = rec->record_id;
    if (r->id != f->n) f->ids_ok = 0;
    r->ts = ev->ts;
    r->event_id = ev->event_id;
    snprintf(r->host, sizeof r->host, "%s", ev->host ? ev->host : "");
    const char *rel = fieldv(ev, "RelativeTargetName"), *share = fieldv(ev, "ShareName");
    const char *obj = fieldv(ev, "ObjectName"), *tf = fieldv(ev, "TargetFilename");
    if (rel && share && !strncmp(share, "\\\\*\\", 3)) {
        /* \\*\projects + rel on host FS01.corp.example -> \\FS01\projects\rel */
        size_t hl = strcspn(r->host, ".");
        snprintf(r->path, sizeof r->path, "\\\\%.*s\\%s\\%s", (int)hl, r->host, share + 4, rel);
    } else if (obj) {
        snprintf(r->path, sizeof r->path, "%s", obj);
    } else if (tf) {
        snprintf(r->path, sizeof r->path, "%s", tf);
    }
    const char *ip = fieldv(ev, "IpAddress"), *ws = fieldv(ev, "WorkstationName");
    snprintf(r->ip, sizeof r->ip, "%s", ip ? ip : "");
    snprintf(r->workstation, sizeof r->workstation, "%s", ws ? ws : "");
    const char *tu = fieldv(ev, "TargetUserName"), *lt = fieldv(ev, "LogonType");
    const char *dh = fieldv(ev, "DestinationHostname");
    snprintf(r->user, sizeof r->user, "%s", tu ? tu : "");
    snprintf(r->logon_type, sizeof r->logon_type, "%s", lt ? lt : "");
    snprintf(r->dest, sizeof r->dest, "%s", dh ? dh : "");
}

static void on_problem(void *ctx, uint32_t off, uint64_t id, const char *msg) {
    (void)off, (void)id, (void)msg;
    ((struct evfile *)ctx)->bad++;
}

static void read_evtx(const char *root, const char *rel, struct evfile *f) {
    char p[4096];
    snprintf(p, sizeof p, "%s/logs/%s", root, rel);
    memset(f, 0, sizeof *f);
    snprintf(f->rel, sizeof f->rel, "%s", rel);
    f->ids_ok = 1;
    size_t len;
    unsigned char *data = kz_test_read_file(p, &len);
    if (!data || len < KZ_EVTX_FILE_HEADER_SIZE) {
        f->bad++;
        kz_free(data);
        return;
    }
    struct kz_evtx_decoder *d = kz_evtx_decoder_new();
    struct kz_evtx_stats st = {0};
    for (size_t off = KZ_EVTX_FILE_HEADER_SIZE; d && off + KZ_EVTX_CHUNK_SIZE <= len;
         off += KZ_EVTX_CHUNK_SIZE)
        kz_evtx_decode_chunk(d, data + off, KZ_EVTX_CHUNK_SIZE, 0, 0, on_rec, on_problem, f, &st);
    f->bad += st.bad_records + st.bad_chunks + st.checksum_errors;
    kz_evtx_decoder_free(d);
    kz_free(data);
}

/* Reads every .evtx under root/logs into `files`. */
static void read_all(const char *root) {
    char p[4096];
    snprintf(p, sizeof p, "%s/logs", root);
    DIR *d = opendir(p);
    struct dirent *de;
    files = calloc(4096, sizeof *files);
    nfiles_read = 0;
    while (d && files && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char hp[4096];
        snprintf(hp, sizeof hp, "%.3000s/%.255s", p, de->d_name);
        DIR *hd = opendir(hp);
        struct dirent *fe;
        while (hd && (fe = readdir(hd))) {
            size_t l = strlen(fe->d_name);
            if (l < 5 || strcmp(fe->d_name + l - 5, ".evtx") || nfiles_read == 4096) continue;
            char rel[256];
            snprintf(rel, sizeof rel, "%.100s/%.140s", de->d_name, fe->d_name);
            read_evtx(root, rel, &files[nfiles_read++]);
        }
        if (hd) closedir(hd);
    }
    if (d) closedir(d);
}

static void free_all(void) {
    for (int i = 0; files && i < nfiles_read; i++)
        free(files[i].r);
    free(files);
    files = NULL;
    nfiles_read = 0;
}

static struct evfile *find_file(const char *rel) {
    for (int i = 0; i < nfiles_read; i++)
        if (!strcmp(files[i].rel, rel)) return &files[i];
    return NULL;
}

/* ---- minimal readers for the simulator's JSON (flat, known shapes) ---- */

/* The string value after `"key":"` at or after p, unescaped into out; returns the end or NULL. */
static const char *json_str(const char *p, const char *key, char *out, size_t cap) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":\"", key);
    const char *s = strstr(p, k);
    if (!s) return NULL;
    s += strlen(k);
    size_t n = 0;
    for (; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) s++;
        if (n + 1 < cap) out[n++] = *s;
    }
    out[n] = 0;
    return *s ? s + 1 : NULL;
}

static kz_time parse_time(const char *s) {
    kz_time t = 0;
    kz_time_parse(s, strlen(s), &t);
    return t;
}

/* Lines of a text file (counted), and the text of line n (1-based). */
static long count_lines(const char *path, long want, char *line, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = 0;
    char buf[16384];
    while (fgets(buf, sizeof buf, f)) {
        n++;
        if (n == want && line) snprintf(line, cap, "%s", buf);
    }
    fclose(f);
    return n;
}

/* [02/Mar/2026:02:10:04 +0900] or date=2026-03-02 time=09:01:09 -> UTC ticks. */
static kz_time text_time(const char *line) {
    static const char *mons = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int d, y, h, mi, s;
    char mon[4];
    const char *b = strchr(line, '[');
    if (b && sscanf(b, "[%d/%3s/%d:%d:%d:%d", &d, mon, &y, &h, &mi, &s) == 6) {
        const char *m = strstr(mons, mon);
        int mo = m ? (int)(m - mons) / 3 + 1 : 1;
        return (kz_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s -
                9 * 3600) *
               KZ_TICKS_PER_SEC;
    }
    int mo;
    if (sscanf(line, "date=%d-%d-%d time=%d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6)
        return (kz_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s -
                9 * 3600) *
               KZ_TICKS_PER_SEC;
    return -1;
}

/* ---- the truth holds ---- */

struct truth_paths {
    char **p;
    int n, cap;
};

static void keep_path(struct truth_paths *tp, const char *p) {
    if (!*p) return;
    if (tp->n == tp->cap) {
        tp->cap = tp->cap ? tp->cap * 2 : 1024;
        tp->p = realloc(tp->p, (size_t)tp->cap * sizeof *tp->p);
    }
    tp->p[tp->n++] = strdup(p);
}

static char *read_text(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t len;
    unsigned char *d = kz_test_read_file(p, &len);
    if (!d) return NULL;
    char *s = malloc(len + 1);
    if (s) memcpy(s, d, len), s[len] = 0;
    kz_free(d);
    return s;
}

/* Does path fall under a customers.csv glob "PREFIX*" (case-insensitive)? */
static int glob_prefix(const char *pattern, const char *path) {
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*') n--;
    return !strncasecmp(pattern, path, n);
}

/* The benign estate logs what real machines log in volume (hundreds of Windows events per
 * employee-day, docs/simulate.md), and the added background follows habits: a desk PC's
 * connections go to its owner's few usual sites every day, machines log SYSTEM service logons, and
 * members' computer accounts log on to the DCs. */
KZ_TEST(sim_benign_volume_and_habits) {
    char dir[64];
    struct kz_sim_stats st;
    REQUIRE(simulate(dir, sizeof dir, 3, 20, 6, 0, 0, &st) == 0);
    REQUIRE(st.benign_user_days > 40);
    double per_user_day = (double)st.evtx_records / (double)st.benign_user_days;
    CHECK_MSG(per_user_day >= 300 && per_user_day <= 3000, "%.0f Windows events per user-day",
              per_user_day);
    read_all(dir);
    REQUIRE(nfiles_read > 20);
    int system_logons = 0, machine_logons = 0, desk_pcs = 0;
    for (int i = 0; i < nfiles_read; i++) {
        struct evfile *f = &files[i];
        int dc = !strncmp(f->rel, "DC0", 3), security = strstr(f->rel, "/Security.evtx") != NULL;
        int desk = !strncmp(f->rel, "WS", 2) && strstr(f->rel, "Sysmon") != NULL;
        char sites[16][96];
        int nsites = 0;
        for (uint64_t k = 0; k < f->n; k++) {
            const struct rec *r = &f->r[k];
            if (security && r->event_id == 4624 && !strcmp(r->logon_type, "5") &&
                !strcmp(r->user, "SYSTEM"))
                system_logons++;
            size_t ul = strlen(r->user);
            if (security && dc && r->event_id == 4624 && !strcmp(r->logon_type, "3") && ul > 1 &&
                r->user[ul - 1] == '$' && !strncmp(r->user, "WS", 2))
                machine_logons++;
            if (desk && r->event_id == 3 && r->dest[0]) {
                int seen = 0;
                for (int j = 0; j < nsites; j++)
                    seen |= !strcmp(sites[j], r->dest);
                if (!seen && nsites < 16) snprintf(sites[nsites++], sizeof sites[0], "%s", r->dest);
            }
        }
        if (desk) {
            desk_pcs++;
            /* mail, Google from the morning's browser start, and the three usual sites */
            CHECK_MSG(nsites <= 5, "%s: %d distinct sites in 6 days", f->rel, nsites);
        }
    }
    CHECK(desk_pcs > 5);
    CHECK_MSG(system_logons > 20 * 6 * 2, "%d SYSTEM service logons", system_logons);
    CHECK_MSG(machine_logons > 10 * 6 * 10, "%d computer-account logons on the DCs",
              machine_logons);
    free_all();
    cleanup(dir);
}

KZ_TEST(sim_truth_records_exist) {
    char dir[64];
    struct kz_sim_stats st;
    REQUIRE(simulate(dir, sizeof dir, 7, 30, 5, KZ_SIM_ALL, 0, &st) == 0);
    read_all(dir);
    REQUIRE(nfiles_read > 20);
    /* Every EVTX file decodes whole, ids 1..n, and the events sit on the host of their folder. */
    uint64_t total = 0;
    for (int i = 0; i < nfiles_read; i++) {
        struct evfile *f = &files[i];
        CHECK_MSG(f->bad == 0, "%s: %llu problems", f->rel, (unsigned long long)f->bad);
        CHECK_MSG(f->ids_ok, "%s: record ids are not 1..n", f->rel);
        size_t hl = strcspn(f->rel, "/");
        for (uint64_t k = 0; k < f->n; k++) {
            if (strncasecmp(f->r[k].host, f->rel, hl) || f->r[k].host[hl] != '.') {
                CHECK_MSG(0, "%s: record %llu is from %s", f->rel, (unsigned long long)f->r[k].id,
                          f->r[k].host);
                break;
            }
            if (k && f->r[k].ts < f->r[k - 1].ts) {
                CHECK_MSG(0, "%s: record %llu is older than the one before", f->rel,
                          (unsigned long long)f->r[k].id);
                break;
            }
        }
        total += f->n;
    }
    CHECK_INT(total, st.evtx_records);

    /* truth.jsonl: every record exists, on its host, inside [start, end]. */
    char *truth = read_text(dir, "truth.jsonl");
    REQUIRE(truth);
    struct truth_paths tp = {0};
    int steps = 0, seen_ntt = 0, seen_ns = 0;
    long records = 0, bad = 0;
    int ntt_step_expected = 1, ns_step_expected = 1;
    for (char *line = truth; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char scen[32], host[96], start[48], end[48], stepn[16] = "";
        REQUIRE(json_str(line, "scenario", scen, sizeof scen));
        REQUIRE(json_str(line, "host", host, sizeof host));
        REQUIRE(json_str(line, "start", start, sizeof start));
        REQUIRE(json_str(line, "end", end, sizeof end));
        const char *sp = strstr(line, "\"step\":");
        if (sp) snprintf(stepn, sizeof stepn, "%ld", strtol(sp + 7, NULL, 10));
        int *expect = !strcmp(scen, "ntt2020") ? &ntt_step_expected : &ns_step_expected;
        CHECK_MSG(strtol(stepn, NULL, 10) == *expect, "%s: step %s, expected %d", scen, stepn, *expect);
        (*expect)++;
        seen_ntt |= !strcmp(scen, "ntt2020");
        seen_ns |= !strcmp(scen, "nightsky2021");
        CHECK(strstr(line, "\"technique\":\"T") != NULL);
        kz_time t0 = parse_time(start), t1 = parse_time(end);
        CHECK(t0 > 0 && t1 >= t0);
        steps++;
        const char *p = strstr(line, "\"records\":[");
        REQUIRE(p);
        char file[256];
        int nrec = 0;
        while ((p = json_str(p, "file", file, sizeof file))) {
            nrec++;
            records++;
            const char *num = p;
            while (*num == ',' || *num == '"' || *num == ':' || (*num >= 'a' && *num <= 'z') ||
                   *num == '_')
                num++;
            uint64_t id = strtoull(num, NULL, 10);
            if (strstr(p, "\"line\":") == p + 1) {
                char full[4096], text[16384];
                snprintf(full, sizeof full, "%s/logs/%s", dir, file);
                long n = count_lines(full, (long)id, text, sizeof text);
                if (id < 1 || (long)id > n) {
                    if (bad++ < 5)
                        CHECK_MSG(0, "%s line %llu: no such line", file, (unsigned long long)id);
                    continue;
                }
                kz_time tt = text_time(text);
                /* Text logs have whole seconds. */
                if (tt < t0 - KZ_TICKS_PER_SEC || tt > t1) {
                    if (bad++ < 5)
                        CHECK_MSG(0, "%s line %llu: outside its step", file,
                                  (unsigned long long)id);
                }
                continue;
            }
            struct evfile *f = find_file(file);
            if (!f || id < 1 || id > f->n) {
                if (bad++ < 5)
                    CHECK_MSG(0, "%s record %llu: no such record", file, (unsigned long long)id);
                continue;
            }
            const struct rec *r = &f->r[id - 1];
            if (r->ts < t0 || r->ts > t1) {
                if (bad++ < 5)
                    CHECK_MSG(0, "%s record %llu: outside [%s, %s]", file, (unsigned long long)id,
                              start, end);
            }
            keep_path(&tp, r->path);
        }
        CHECK_MSG(nrec > 0, "%s step %s has no records", scen, stepn);
        line = nl ? nl + 1 : NULL;
    }
    CHECK(seen_ntt && seen_ns);
    CHECK_INT(steps, st.steps);
    CHECK_INT(records, st.truth_records);
    CHECK_INT(bad, 0);

    /* scenario.json: accounts with sources; touched customers are in customers.csv and in the
     * path of some attack record. */
    char *scj = read_text(dir, "scenario.json");
    char *csv = read_text(dir, "customers.csv");
    REQUIRE(scj && csv);
    CHECK(!strncmp(csv, "pattern,customer\n", 17));
    CHECK(strstr(scj, "\"seed\":7,") && strstr(scj, "\"users\":30,") && strstr(scj, "\"days\":5,"));
    int touched = 0, scen_with_customers = 0, nscen = 0;
    for (const char *sc = strstr(scj, "{\"name\":"); sc; sc = strstr(sc + 1, "{\"name\":")) {
        nscen++;
        const char *next = strstr(sc + 1, "{\"name\":");
        int accounts = 0, with_customers = 0;
        for (const char *a = strstr(sc, "{\"account\":"); a && (!next || a < next);
             a = strstr(a + 1, "{\"account\":")) {
            accounts++;
            CHECK_MSG(strncmp(strstr(a, "\"sources\":["), "\"sources\":[]", 12),
                      "an account without sources");
            const char *ct = strstr(a, "\"customers_touched\":[");
            REQUIRE(ct);
            ct += 21;
            if (*ct != ']') with_customers = 1;
            while (*ct == '"') {
                char name[256];
                size_t n = 0;
                for (ct++; *ct && *ct != '"'; ct++)
                    if (n + 1 < sizeof name) name[n++] = *ct;
                name[n] = 0;
                ct += *ct == '"';
                ct += *ct == ',';
                touched++;
                /* Its patterns in customers.csv, and an attack record under one of them. */
                int patterns = 0, found = 0;
                for (const char *l = csv; l && *l;) {
                    const char *e = strchr(l, '\n');
                    size_t ll = e ? (size_t)(e - l) : strlen(l);
                    const char *comma = memchr(l, ',', ll);
                    if (comma && (size_t)(l + ll - comma - 1) == strlen(name) &&
                        !strncmp(comma + 1, name, strlen(name))) {
                        patterns++;
                        char pat[512];
                        snprintf(pat, sizeof pat, "%.*s", (int)(comma - l), l);
                        for (int k = 0; k < tp.n && !found; k++)
                            found = glob_prefix(pat, tp.p[k]);
                    }
                    l = e ? e + 1 : NULL;
                }
                CHECK_MSG(patterns > 0, "customer %s is not in customers.csv", name);
                CHECK_MSG(found, "no attack record under customer %s's folders", name);
            }
        }
        CHECK_MSG(accounts > 0, "a scenario without accounts");
        scen_with_customers += with_customers;
    }
    CHECK_INT(nscen, 2);
    CHECK_INT(scen_with_customers, 2);
    CHECK(touched > 100);
    CHECK(strstr(scj, "\"files_exfiltrated\":3242"));
    static const char *const kinds[] = {
        "traveller_new_device", "late_nights_deadline", "new_hire",   "admin_many_hosts",
        "backup_job",           "department_move",      "bulk_export"};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        CHECK_MSG(strstr(scj, kinds[k]), "confounder %s missing", kinds[k]);
    for (int k = 0; k < tp.n; k++)
        free(tp.p[k]);
    free(tp.p);
    free(truth);
    free(scj);
    free(csv);
    free_all();
    cleanup(dir);
}

/* Completeness: every log entry from the attackers' own addresses and devices is in the truth,
 * and no VPN or proxy line from anyone else is. */
KZ_TEST(sim_truth_complete_for_attacker_sources) {
    char dir[64];
    struct kz_sim_stats st;
    REQUIRE(simulate(dir, sizeof dir, 11, 20, 4, KZ_SIM_ALL, 0, &st) == 0);
    char *truth = read_text(dir, "truth.jsonl"), *scj = read_text(dir, "scenario.json");
    REQUIRE(truth && scj);
    /* Public attacker addresses: sources that are not 10.x and contain dots. */
    char ips[16][64];
    int nips = 0;
    for (const char *s = strstr(scj, "\"sources\":["); s; s = strstr(s + 1, "\"sources\":[")) {
        s += 11;
        while (*s == '"' && nips < 16) {
            char v[64];
            size_t n = 0;
            for (s++; *s && *s != '"'; s++)
                if (n + 1 < sizeof v) v[n++] = *s;
            v[n] = 0;
            s += *s == '"';
            s += *s == ',';
            int dup = 0;
            for (int k = 0; k < nips; k++)
                dup |= !strcmp(ips[k], v);
            if (!dup && strncmp(v, "10.", 3) && strchr(v, '.') && v[0] >= '0' && v[0] <= '9')
                snprintf(ips[nips++], sizeof ips[0], "%s", v);
        }
    }
    CHECK(nips >= 3); /* ntt VPS, nightsky scanner and exploiter */
    const char *logs[] = {"PROXY01/access.log", "VPNGW01/fortigate.log"};
    for (int L = 0; L < 2; L++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/logs/%s", dir, logs[L]);
        FILE *f = fopen(path, "r");
        REQUIRE(f);
        char buf[16384];
        long n = 0, attacker = 0, missing = 0, extra = 0;
        while (fgets(buf, sizeof buf, f)) {
            n++;
            int is_att = 0;
            for (int k = 0; k < nips; k++) {
                char a[80], b2[80];
                snprintf(a, sizeof a, "%.63s - ", ips[k]);
                snprintf(b2, sizeof b2, "remip=%.63s ", ips[k]);
                is_att |= !strncmp(buf, a, strlen(a)) || strstr(buf, b2) != NULL;
            }
            char want[320];
            snprintf(want, sizeof want, "{\"file\":\"%s\",\"line\":%ld}", logs[L], n);
            int in_truth = strstr(truth, want) != NULL;
            attacker += is_att;
            if (is_att && !in_truth) missing++;
            if (!is_att && in_truth) extra++;
        }
        fclose(f);
        CHECK_MSG(attacker > 0, "%s: no attacker lines", logs[L]);
        CHECK_MSG(missing == 0, "%s: %ld attacker lines not in truth", logs[L], missing);
        CHECK_MSG(extra == 0, "%s: %ld benign lines in truth", logs[L], extra);
    }
    /* Every logon naming the attacker's PC is in the truth. */
    const char *dev = strstr(scj, "\"DESKTOP-");
    REQUIRE(dev);
    char device[32];
    snprintf(device, sizeof device, "%.15s", dev + 1);
    read_all(dir);
    long logons = 0, missing = 0;
    for (int i = 0; i < nfiles_read; i++)
        for (uint64_t k = 0; k < files[i].n; k++)
            if (files[i].r[k].event_id == 4624 && !strcmp(files[i].r[k].workstation, device)) {
                logons++;
                char want[400];
                snprintf(want, sizeof want, "{\"file\":\"%s\",\"record_id\":%llu}", files[i].rel,
                         (unsigned long long)files[i].r[k].id);
                missing += strstr(truth, want) == NULL;
            }
    CHECK(logons >= 3);
    CHECK_INT(missing, 0);
    free_all();
    free(truth);
    free(scj);
    cleanup(dir);
}

KZ_TEST(sim_benign_only_has_empty_truth) {
    char dir[64];
    struct kz_sim_stats st;
    REQUIRE(simulate(dir, sizeof dir, 3, 20, 3, 0, 0, &st) == 0);
    char p[4096];
    snprintf(p, sizeof p, "%s/truth.jsonl", dir);
    struct stat sb;
    REQUIRE(stat(p, &sb) == 0);
    CHECK_INT(sb.st_size, 0);
    CHECK_INT(st.steps, 0);
    char *scj = read_text(dir, "scenario.json");
    REQUIRE(scj);
    CHECK(strstr(scj, "\"scenarios\":[]") != NULL);
    CHECK(strstr(scj, "\"benign_user_days\":") != NULL);
    CHECK(st.benign_user_days > 20);
    free(scj);
    cleanup(dir);
}

KZ_TEST(sim_estate_shape) {
    struct kz_sim_estate *e;
    struct kz_err err;
    REQUIRE(kz_sim_estate_build(&e, 99, 120, &err) == 0);
    CHECK_INT(e->nemployees, 120);
    CHECK(e->ncustomers >= 188); /* the NTT incident touched 188 customers' folders */
    /* Account names unique; SID text agrees with the SID's parts. */
    for (uint32_t i = 0; i < e->nusers; i++) {
        for (uint32_t j = i + 1; j < e->nusers; j++)
            if (!strcasecmp(e->users[i].sam, e->users[j].sam)) {
                CHECK_MSG(0, "duplicate account %s", e->users[i].sam);
                break;
            }
        const struct kz_evtx_sid *s = &e->users[i].sid;
        char t[128];
        int n = snprintf(t, sizeof t, "S-%u-%llu", s->revision, (unsigned long long)s->authority);
        for (int k = 0; k < s->count; k++)
            n += snprintf(t + n, sizeof t - (size_t)n, "-%u", (unsigned)s->sub[k]);
        CHECK_STR(e->users[i].sid_text, t);
    }
    /* The well-known machines exist with their roles; employees have a machine. */
    CHECK_STR(e->hosts[e->wk.dc[0]].name, "DC01");
    CHECK_STR(e->hosts[e->wk.cis].name, "CIS01");
    CHECK_INT(e->hosts[e->wk.portal].role, KZ_SIM_PORTAL);
    CHECK_INT(e->hosts[e->wk.proxy].windows, 0);
    for (uint32_t u = 0; u < e->nemployees; u++)
        CHECK(e->users[u].home_host < e->nhosts && e->hosts[e->users[u].home_host].owner == u);
    /* Customer folders unique, each in a customer-facing department. */
    for (uint32_t c = 0; c < e->ncustomers; c++) {
        CHECK(e->depts[e->customers[c].dept].ncustomers > 0);
        for (uint32_t k = c + 1; k < e->ncustomers; k++)
            if (!strcmp(e->customers[c].folder, e->customers[k].folder)) {
                CHECK_MSG(0, "duplicate folder %s", e->customers[c].folder);
                break;
            }
    }
    char f1[512], f2[512];
    kz_sim_customer_file(e, 5, 3, f1, sizeof f1);
    kz_sim_customer_file(e, 5, 3, f2, sizeof f2);
    CHECK_STR(f1, f2);
    CHECK(!strncmp(f1, e->customers[5].folder, strlen(e->customers[5].folder)));
    /* The same seed, the same estate. */
    struct kz_sim_estate *e2;
    REQUIRE(kz_sim_estate_build(&e2, 99, 120, &err) == 0);
    CHECK_STR(e2->users[17].sam, e->users[17].sam);
    CHECK_STR(e2->customers[77].name, e->customers[77].name);
    kz_sim_estate_free(e2);
    kz_sim_estate_free(e);
    CHECK(kz_sim_estate_build(&e, 1, 0, &err) == KZ_EUSAGE);
}

KZ_TEST(sim_rng_is_uniform_enough) {
    /* Chi-square over 16 bins of kz_sim_rng_below: far inside what a broken generator gives. */
    struct kz_sim_rng r;
    kz_sim_rng_seed(&r, 0, 0);
    uint32_t bins[16] = {0};
    for (int i = 0; i < 160000; i++)
        bins[kz_sim_rng_below(&r, 16)]++;
    double chi = 0;
    for (int i = 0; i < 16; i++)
        chi += (bins[i] - 10000.0) * (bins[i] - 10000.0) / 10000.0;
    CHECK_MSG(chi < 40, "chi-square %.1f over 15 degrees of freedom", chi);
    /* Different streams differ. */
    struct kz_sim_rng a, b;
    kz_sim_rng_seed(&a, 5, 1);
    kz_sim_rng_seed(&b, 5, 2);
    CHECK(kz_sim_rng_next(&a) != kz_sim_rng_next(&b));
}

KZ_TEST(sim_rejects_bad_options) {
    struct kz_sim_opts o = {.outdir = "/tmp/kz_sim_never", .users = 10, .days = 0, .seed = 1};
    struct kz_sim_stats st;
    struct kz_err err = {0};
    CHECK_INT(kz_sim_run(&o, &st, &err), KZ_EUSAGE);
    o.days = 2;
    o.users = 0;
    CHECK(kz_sim_run(&o, &st, &err) == KZ_EUSAGE);
    rm_rf("/tmp/kz_sim_never");
    unsigned bits;
    CHECK(kz_sim_scenario_parse("ntt2020", &bits) == 0 && bits == KZ_SIM_NTT2020);
    CHECK(kz_sim_scenario_parse("none", &bits) == 0 && bits == 0);
    CHECK(kz_sim_scenario_parse("wannacry", &bits) == KZ_EUSAGE);
}

/* Every allocation failing in turn: the run reports it (or succeeds), never crashes or leaks (the
 * sanitizer build checks the leaks). */
KZ_TEST(sim_survives_allocation_failures) {
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/kz_simfail_XXXXXX");
    REQUIRE(mkdtemp(dir));
    struct kz_sim_opts o = {.outdir = dir,
                            .seed = 2,
                            .users = 6,
                            .days = 2,
                            .start_day = kz_sim_default_start(),
                            .scenarios = KZ_SIM_ALL,
                            .threads = 2};
    struct kz_sim_stats st;
    struct kz_err err;
    int failures = 0, successes = 0;
    for (long n = 0; n < 10000000; n += n < 200 ? 1 : n / 8) {
        kz_alloc_fail_after(n);
        int rc = kz_sim_run(&o, &st, &err);
        long injected = kz_alloc_failures();
        kz_alloc_fail_never();
        if (rc == 0) {
            successes++;
            if (!injected) break; /* the run needs fewer than n allocations */
        } else {
            failures++;
            CHECK_MSG(rc == KZ_ENOMEM || rc == KZ_ELIMIT || rc == KZ_EIO,
                      "allocation %ld failing gave %d (%s)", n, rc, err.msg);
        }
    }
    CHECK(failures > 50);
    CHECK(successes >= 1);
    cleanup(dir);
}

/* --format jsonl: the same events as the EVTX run of the same seed, one JSON object per line with
 * winlog.record_id = line number, and the same truth (file names aside). */
KZ_TEST(sim_jsonl_matches_evtx) {
    char a[64], b[64];
    struct kz_sim_stats sa, sb;
    REQUIRE(simulate(a, sizeof a, 21, 15, 3, KZ_SIM_ALL, 0, &sa) == 0);
    snprintf(b, sizeof b, "/tmp/kz_simj_XXXXXX");
    REQUIRE(mkdtemp(b));
    struct kz_sim_opts o = {.outdir = b,
                            .seed = 21,
                            .users = 15,
                            .days = 3,
                            .start_day = kz_sim_default_start(),
                            .scenarios = KZ_SIM_ALL,
                            .format = KZ_SIM_FORMAT_JSONL};
    struct kz_err err;
    REQUIRE(kz_sim_run(&o, &sb, &err) == 0);
    CHECK_INT(sa.evtx_records, sb.evtx_records);
    char *ta = read_text(a, "truth.jsonl"), *tb = read_text(b, "truth.jsonl");
    REQUIRE(ta && tb);
    /* Replace ".evtx\"" by ".jsonl\"" in the EVTX run's truth: it must then be the JSON run's. */
    size_t na = strlen(ta), n = 0;
    char *x = malloc(na * 2 + 1);
    REQUIRE(x);
    for (size_t i = 0; i < na;) {
        if (!strncmp(ta + i, ".evtx\"", 6)) {
            memcpy(x + n, ".jsonl\"", 7), n += 7, i += 6;
        } else {
            x[n++] = ta[i++];
        }
    }
    x[n] = 0;
    CHECK_MSG(!strcmp(x, tb), "the truth of the JSON run differs from the EVTX run's");
    /* Line n of DC01/Security.jsonl is record n of DC01/Security.evtx: same id and event. */
    read_all(a);
    struct evfile *f = find_file("DC01/Security.evtx");
    REQUIRE(f && f->n > 10);
    char path[4096], line[16384];
    snprintf(path, sizeof path, "%s/logs/DC01/Security.jsonl", b);
    long lines = count_lines(path, 10, line, sizeof line);
    CHECK_INT(lines, f->n);
    char want[64];
    snprintf(want, sizeof want, "\"event_id\":\"%u\"", f->r[9].event_id);
    CHECK_MSG(strstr(line, want) != NULL, "line 10 is not event %u", f->r[9].event_id);
    CHECK(strstr(line, "\"record_id\":10,") != NULL);
    CHECK(!strncmp(line, "{\"@timestamp\":\"20", 17));
    free_all();
    free(x);
    free(ta);
    free(tb);
    cleanup(a);
    cleanup(b);
}

/* ---- the EVTX writer at the end of a chunk ---- */

/* libevtx (Debian's evtxexport) loses a record that ends on a chunk's last byte (it wants 4 bytes
 * after it), so the writer must leave the last 8 bytes of every chunk free. Records of a few
 * sizes in random order make many chunks end exactly at the limit (without the rule, as many would
 * end on the last byte); every record must still be read back, by kizuki and by evtxexport. */
KZ_TEST(sim_evtx_chunk_end_left_free) {
    char path[] = "/tmp/kz_sim_chunkend_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    struct kz_err err = {0};
    struct kz_evtx_writer *w;
    REQUIRE(kz_evtx_writer_open(&w, path, &err) == 0);
    static const struct kz_evtx_item items[] = {{"Text", KZ_EVTX_VT_WSTRING, 0}};
    struct kz_evtx_template_def def = {.provider = "Test",
                                       .event_id = 1,
                                       .qualifiers = -1,
                                       .channel = "Application",
                                       .items = items,
                                       .nitems = 1};
    uint32_t t;
    REQUIRE(kz_evtx_writer_template(w, &def, &t, &err) == 0);
    const int n = 16000;
    char text[256];
    uint32_t x = 12345;
    for (int i = 0; i < n; i++) {
        /* 0..31 characters at random: record sizes in a few 8-byte classes, so the space left at
         * the end of a chunk is often exactly one record's size */
        x = x * 1103515245u + 12345u;
        int len = (int)(x >> 16) % 32;
        memset(text, 'a' + i % 26, (size_t)len);
        text[len] = 0;
        struct kz_evtx_value v = kz_evtx_v_str(text);
        struct kz_evtx_event ev = {.tmpl = t,
                                   .time = (kz_time)i * 10000000 + 133000000000000000,
                                   .computer = "HOST",
                                   .values = &v,
                                   .nvalues = 1};
        if (kz_evtx_writer_append(w, &ev, NULL, &err)) break;
    }
    CHECK_MSG(kz_evtx_writer_close(w, &err) == 0, "%s", err.msg);
    size_t size;
    unsigned char *data = kz_test_read_file(path, &size);
    REQUIRE(data && size > KZ_EVTX_FILE_HEADER_SIZE);
    int chunks = 0, at_limit = 0, past_limit = 0;
    for (size_t off = KZ_EVTX_FILE_HEADER_SIZE; off + KZ_EVTX_CHUNK_SIZE <= size;
         off += KZ_EVTX_CHUNK_SIZE) {
        const unsigned char *c = data + off;
        uint32_t free_off =
            (uint32_t)c[48] | (uint32_t)c[49] << 8 | (uint32_t)c[50] << 16 | (uint32_t)c[51] << 24;
        chunks++;
        at_limit += free_off == KZ_EVTX_CHUNK_SIZE - 8;
        past_limit += free_off > KZ_EVTX_CHUNK_SIZE - 8;
    }
    CHECK_INT(past_limit, 0);
    CHECK_MSG(at_limit > 0, "no chunk of %d ends at the limit: the test does not reach it", chunks);
    /* kizuki's decoder reads every record, ids 1..n */
    struct evfile f;
    memset(&f, 0, sizeof f);
    f.ids_ok = 1;
    struct kz_evtx_decoder *d = kz_evtx_decoder_new();
    struct kz_evtx_stats st = {0};
    for (size_t off = KZ_EVTX_FILE_HEADER_SIZE; d && off + KZ_EVTX_CHUNK_SIZE <= size;
         off += KZ_EVTX_CHUNK_SIZE)
        kz_evtx_decode_chunk(d, data + off, KZ_EVTX_CHUNK_SIZE, 0, 0, on_rec, on_problem, &f, &st);
    kz_evtx_decoder_free(d);
    CHECK_INT(f.n, n);
    CHECK_INT(f.bad + st.bad_records + st.checksum_errors, 0);
    CHECK(f.ids_ok);
    free(f.r);
    kz_free(data);
    /* evtxexport (libevtx) counts every record too */
    if (!access("/usr/bin/evtxexport", X_OK)) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "/usr/bin/evtxexport '%s' 2>/dev/null | grep -c '^Event number'",
                 path);
        FILE *p = popen(cmd, "r");
        long got = -1;
        if (p) {
            if (fscanf(p, "%ld", &got) != 1) got = -1;
            pclose(p);
        }
        CHECK_INT(got, n);
    }
    if (!getenv("KZ_TEST_KEEP")) unlink(path);
}
