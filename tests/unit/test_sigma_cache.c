/* test_sigma_cache.c - the cache of compiled Vectorscan databases (src/sigma/dbcache.c).
 *
 * What must hold: a second engine over the same rules reads its databases from the cache
 * instead of compiling them and finds exactly what the first did; a cache file that is damaged
 * (flipped byte, truncated, another database's file under this name, garbage) is ignored, the
 * database compiled and the file written afresh; a directory others can write to is not used.
 * The verdicts are worked out by hand from the two rules below. */
#include "unit.h"

#include "core/alloc.h"
#include "core/crc32.h"
#include "core/intern.h"
#include "sigma/match.h"
#include "sigma/match_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cache_rules[] =
    "title: literal rule\nlogsource:\n  product: windows\n  category: process_creation\n"
    "detection:\n  sel:\n    CommandLine|contains: 'sekurlsa::logonpasswords'\n"
    "  condition: sel\n"
    "---\n"
    "title: regex rule\nlogsource:\n  product: windows\n  category: process_creation\n"
    "detection:\n  sel:\n    CommandLine|re: 'evil[0-9]+x'\n  condition: sel\n";

struct cache_event {
    struct kz_event ev;
    struct kz_field f[2];
};

static void cache_event_make(struct cache_event *t, const char *cmdline) {
    memset(t, 0, sizeof *t);
    t->ev.format = KZ_FMT_EVTX;
    t->ev.channel = "Microsoft-Windows-Sysmon/Operational";
    t->ev.provider = "Microsoft-Windows-Sysmon";
    t->ev.event_id = 1;
    t->ev.fields = t->f;
    t->ev.nfields = 2;
    t->f[0].name = kz_intern("Image", 5);
    t->f[0].val = "C:\\Windows\\System32\\cmd.exe";
    t->f[0].len = (uint32_t)strlen(t->f[0].val);
    t->f[1].name = kz_intern("CommandLine", 11);
    t->f[1].val = cmdline;
    t->f[1].len = (uint32_t)strlen(cmdline);
}

static void cache_count_hit(void *ctx, const struct kz_sigma_rule *r, uint32_t ri,
                            const struct kz_event *ev) {
    *(uint32_t *)ctx |= 1u << ri;
}

/* One engine's run: which rules each of three events hits (bit per rule), and how the engine
 * got its databases. */
struct cache_run {
    int ok;
    uint32_t hits[3];
    uint32_t cached, compiled;
};

static struct cache_run cache_run(const struct kz_sigma_ruleset *rs, const char *dir) {
    struct cache_run out = {0};
    struct kz_sigma_engine_opts opts = {.cache_dir = dir};
    struct kz_sigma_engine *e = NULL;
    struct kz_sigma_scratch *s = NULL;
    struct kz_err err = {0};
    if (kz_sigma_engine_new(&e, rs, &opts, &err) || kz_sigma_scratch_new(e, &s)) {
        kz_sigma_engine_free(e);
        return out;
    }
    static const char *const lines[3] = {
        "mimikatz.exe sekurlsa::logonpasswords exit", /* rule 0 */
        "cmd /c evil42x.bat",                         /* rule 1: evil, digits, x */
        "cmd /c evilx.bat sekurlsa::pth",             /* neither: no digit, other command */
    };
    struct cache_event t;
    for (int i = 0; i < 3; i++) {
        cache_event_make(&t, lines[i]);
        kz_sigma_match(e, s, &t.ev, cache_count_hit, &out.hits[i]);
    }
    out.cached = kz_sigma_engine_stats(e)->db_cached;
    out.compiled = kz_sigma_engine_stats(e)->db_compiled;
    out.ok = 1;
    kz_sigma_scratch_free(s);
    kz_sigma_engine_free(e);
    return out;
}

/* The .hsdb files in dir (up to 8 paths in names). */
static int cache_files(const char *dir, char names[8][512]) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".hsdb")) {
            if (n < 8) snprintf(names[n], 512, "%s/%s", dir, de->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

static int write_bytes(const char *path, const unsigned char *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

#define CHECK_HITS(r)                                                                              \
    do {                                                                                           \
        CHECK((r).ok);                                                                             \
        CHECK_INT((r).hits[0], 1);                                                                 \
        CHECK_INT((r).hits[1], 2);                                                                 \
        CHECK_INT((r).hits[2], 0);                                                                 \
    } while (0)

KZ_TEST(sigma_cache_reuse_and_damage) {
    struct kz_sigma_ruleset rs;
    kz_sigma_ruleset_init(&rs);
    struct kz_err err = {0};
    REQUIRE(kz_sigma_load_buffer(&rs, "c.yml", cache_rules, strlen(cache_rules), &err) == 0);
    REQUIRE(kz_sigma_ruleset_link(&rs) == 0);
    REQUIRE(rs.nrules == 2);
    char dir[] = "/tmp/kz-test-cache-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char sub[600];
    snprintf(sub, sizeof sub, "%s/kizuki", dir); /* created by the engine */
    char names[8][512];

    /* Without a cache: both databases (the prefilter's literals, the regex) compiled. */
    struct cache_run none = cache_run(&rs, NULL);
    CHECK_HITS(none);
    CHECK_INT(none.compiled, 2);
    CHECK_INT(none.cached, 0);

    /* First run with the cache: compiled and written; second run: read, same findings. */
    struct cache_run first = cache_run(&rs, sub);
    CHECK_HITS(first);
    CHECK_INT(first.compiled, 2);
    CHECK_INT(first.cached, 0);
    REQUIRE(cache_files(sub, names) == 2);
    struct stat st;
    REQUIRE(stat(sub, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0700);
    struct cache_run second = cache_run(&rs, sub);
    CHECK_HITS(second);
    CHECK_INT(second.compiled, 0);
    CHECK_INT(second.cached, 2);

    /* Damage each file in a different way: both ignored, compiled, written anew. */
    size_t n0 = 0, n1 = 0;
    unsigned char *f0 = kz_test_read_file(names[0], &n0);
    unsigned char *f1 = kz_test_read_file(names[1], &n1);
    REQUIRE(f0 && f1 && n0 > 64 && n1 > 64);
    f0[n0 - 1] ^= 0x20; /* a flipped payload byte: the CRC no longer holds */
    REQUIRE(write_bytes(names[0], f0, n0) == 0);
    REQUIRE(write_bytes(names[1], f1, n1 / 2) == 0); /* truncated */
    struct cache_run damaged = cache_run(&rs, sub);
    CHECK_HITS(damaged);
    CHECK_INT(damaged.compiled, 2);
    CHECK_INT(damaged.cached, 0);
    struct cache_run mended = cache_run(&rs, sub);
    CHECK_HITS(mended);
    CHECK_INT(mended.cached, 2);

    /* One database's (valid) file under the other's name: its key differs, so it is ignored. */
    f0[n0 - 1] ^= 0x20;
    REQUIRE(write_bytes(names[1], f0, n0) == 0);
    struct cache_run swapped = cache_run(&rs, sub);
    CHECK_HITS(swapped);
    CHECK_INT(swapped.cached, 1);
    CHECK_INT(swapped.compiled, 1);

    /* Garbage and an empty file: ignored. */
    REQUIRE(write_bytes(names[0], (const unsigned char *)"KZHSDB1\nnot a database", 22) == 0);
    REQUIRE(write_bytes(names[1], (const unsigned char *)"", 0) == 0);
    struct cache_run garbage = cache_run(&rs, sub);
    CHECK_HITS(garbage);
    CHECK_INT(garbage.compiled, 2);

    /* A directory others may write to is not trusted: nothing read from it. */
    REQUIRE(chmod(sub, 0777) == 0);
    struct cache_run shared = cache_run(&rs, sub);
    CHECK_HITS(shared);
    CHECK_INT(shared.cached, 0);
    CHECK_INT(shared.compiled, 2);
    CHECK_INT(cache_files(sub, names), 2); /* and nothing written there */

    for (int i = 0, n = cache_files(sub, names); i < n && i < 8; i++)
        unlink(names[i]);
    rmdir(sub);
    rmdir(dir);
    kz_free(f0);
    kz_free(f1);
    kz_sigma_ruleset_free(&rs);
}

/* dbcache_parse on hand-made headers: every field is checked before Vectorscan sees a byte. */
KZ_TEST(sigma_cache_parse_rejects) {
    static const char key[] = "the key";
    unsigned char f[64];
    memset(f, 0, sizeof f);
    memcpy(f, "KZHSDB1\n", 8);
    f[8] = 1;                 /* version */
    f[12] = (unsigned char)7; /* key length */
    f[16] = 64 - 32 - 7;      /* payload length: the rest of the file */
    memcpy(f + 32, key, 7);
    hs_database_t *db = (hs_database_t *)1;
    /* a well-formed frame whose CRC is wrong */
    CHECK_INT(dbcache_parse(f, sizeof f, key, 7, &db), KZ_ECORRUPT);
    CHECK(db == NULL);
    /* a frame whose CRC holds but whose payload is not a Vectorscan database */
    uint32_t crc = kz_crc32(0, f + 32, 64 - 32);
    for (int i = 0; i < 4; i++)
        f[24 + i] = (unsigned char)(crc >> (8 * i));
    CHECK_INT(dbcache_parse(f, sizeof f, key, 7, &db), KZ_ECORRUPT);
    /* the same file against another key of the same length */
    CHECK_INT(dbcache_parse(f, sizeof f, "the kez", 7, &db), KZ_ECORRUPT);
    /* lengths that do not add up to the file's size */
    CHECK_INT(dbcache_parse(f, sizeof f - 1, key, 7, &db), KZ_ECORRUPT);
    f[16] = 0xff;
    CHECK_INT(dbcache_parse(f, sizeof f, key, 7, &db), KZ_ECORRUPT);
    f[16] = 64 - 32 - 7;
    f[23] = 0x80; /* a payload length near 2^64 */
    CHECK_INT(dbcache_parse(f, sizeof f, key, 7, &db), KZ_ECORRUPT);
    f[23] = 0;
    f[8] = 2; /* another format version */
    CHECK_INT(dbcache_parse(f, sizeof f, key, 7, &db), KZ_EFORMAT);
    f[8] = 1;
    f[0] = 'X'; /* not a cache file */
    CHECK_INT(dbcache_parse(f, sizeof f, key, 7, &db), KZ_EFORMAT);
    CHECK_INT(dbcache_parse(f, 31, key, 7, &db), KZ_EFORMAT);
    CHECK(db == NULL);
}

/* ---- the value cache (prefilter.c): values seen before are looked up, not scanned ---- */

static const char value_rule[] =
    "title: whoami\nlogsource:\n  product: windows\n  category: process_creation\n"
    "detection:\n  sel:\n    CommandLine|contains: 'whoami /all'\n  tool:\n"
    "    Image|endswith: '\\tool.exe'\n  condition: sel or tool\n";

KZ_TEST(sigma_cache_value_cache) {
    struct kz_sigma_ruleset rs;
    kz_sigma_ruleset_init(&rs);
    struct kz_err err = {0};
    REQUIRE(kz_sigma_load_buffer(&rs, "v.yml", value_rule, strlen(value_rule), &err) == 0);
    REQUIRE(kz_sigma_ruleset_link(&rs) == 0);
    struct kz_sigma_engine_opts opts = {.value_cache_all = 1};
    struct kz_sigma_engine *e = NULL;
    struct kz_sigma_scratch *s = NULL;
    REQUIRE(kz_sigma_engine_new(&e, &rs, &opts, &err) == 0);
    REQUIRE(kz_sigma_scratch_new(e, &s) == 0);
    const struct kz_sigma_match_stats *st = kz_sigma_scratch_stats(s);
    struct cache_event t;
    uint32_t hits = 0;
    /* first sight: scanned, matches */
    cache_event_make(&t, "cmd /c whoami /all");
    CHECK_INT(kz_sigma_match(e, s, &t.ev, cache_count_hit, &hits), 1);
    CHECK_INT(st->scans, 1);
    /* the same values again: no scan, the same verdict */
    CHECK_INT(kz_sigma_match(e, s, &t.ev, cache_count_hit, &hits), 1);
    CHECK_INT(st->scans, 1);
    /* the cached value under another field name: the literal counts only in CommandLine */
    cache_event_make(&t, "C:\\Windows\\System32\\cmd.exe");
    t.f[0].val = "cmd /c whoami /all";
    t.f[0].len = (uint32_t)strlen(t.f[0].val);
    CHECK_INT(kz_sigma_match(e, s, &t.ev, cache_count_hit, &hits), 0);
    CHECK_INT(st->scans, 1); /* both values were cached: Image's and CommandLine's */
    /* a new command line: scanned; an almost equal one (case differs) is another value */
    cache_event_make(&t, "cmd /c WHOAMI /ALL");
    CHECK_INT(kz_sigma_match(e, s, &t.ev, cache_count_hit, &hits), 1);
    CHECK_INT(st->scans, 2);
    cache_event_make(&t, "cmd /c whoami /al");
    CHECK_INT(kz_sigma_match(e, s, &t.ev, cache_count_hit, &hits), 0);
    CHECK_INT(st->scans, 3);
    kz_sigma_scratch_free(s);
    kz_sigma_engine_free(e);
    kz_sigma_ruleset_free(&rs);
}
