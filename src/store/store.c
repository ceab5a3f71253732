/* store.c - the evidence store: opening and creating it, the schema, the name table, and verify.
 * Ingest lives in ingest.c. See store.h for the layout and the chain. */
#include "store_int.h"

#include "sha256.h"

#include "../core/alloc.h"
#include "../core/buf.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- schema ----
 * Strings (hosts, accounts, addresses, paths, processes) are stored once in `names` and referred to
 * by id, which keeps rows small (the store's size per million events) and makes the equality
 * lookups scope needs integer comparisons. Times are kz_time ticks (100 ns since 1970, UTC). */
/* Format 2 added the runs table. A format 1 store (kizuki before it) is still read and verified;
 * it is not added to (its older files would have no runs), and scope says what it cannot find. */
#define STORE_FORMAT 2
#define STORE_TEXT_(x) #x
#define STORE_TEXT(x) STORE_TEXT_(x)
static const char schema[] =
    "PRAGMA journal_mode=TRUNCATE; BEGIN;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);"
    "CREATE TABLE IF NOT EXISTS names(id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);"
    /* one row per source file; sha256 names its copy under objects/ */
    "CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE,"
    " size INTEGER NOT NULL, name TEXT NOT NULL, batch INTEGER NOT NULL, events INTEGER NOT NULL);"
    /* the hash chain: one row per batch */
    "CREATE TABLE IF NOT EXISTS batches(id INTEGER PRIMARY KEY, created TEXT NOT NULL,"
    " prev TEXT NOT NULL, hash TEXT NOT NULL);"
    /* every event: who (user), where (host), what (eid, obj, acc, bytes, proc), in which logon
     * session (lid), from where (src), and the record it came from (file, rec) */
    "CREATE TABLE IF NOT EXISTS events(ts INTEGER NOT NULL, host INTEGER, user INTEGER,"
    " eid INTEGER, lid INTEGER, src INTEGER, obj INTEGER, acc INTEGER, bytes INTEGER,"
    " proc INTEGER, file INTEGER NOT NULL, rec INTEGER NOT NULL);"
    /* logon sessions: 4624 starts, 4634/4647 ends, 4648 explicit credentials (see store.h) */
    "CREATE TABLE IF NOT EXISTS logons(ts INTEGER NOT NULL, host INTEGER, user INTEGER,"
    " lid INTEGER, ltype INTEGER, ip INTEGER, ws INTEGER, kind INTEGER NOT NULL,"
    " tuser INTEGER, tserver INTEGER);"
    /* which address a device had, learnt from logons that name both (4624 WorkstationName +
     * IpAddress) and from Sysmon network events of the host itself: lets scope follow a hop
     * whose logon names only the source address */
    "CREATE TABLE IF NOT EXISTS addrs(ip INTEGER NOT NULL, ws INTEGER NOT NULL,"
    " PRIMARY KEY(ip, ws)) WITHOUT ROWID;"
    /* every host that logged something, by its device key (first label, uppercase) */
    "CREATE TABLE IF NOT EXISTS hosts(ws INTEGER PRIMARY KEY, host INTEGER NOT NULL);"
    /* processes started from a file on a share (store.h, "programs and scripts run from a
     * share"): key "SHARE\\REL", the server's device key, when, on which host, the record. Few
     * rows (only such processes), so its index is kept row by row, not dropped in a bulk load. */
    "CREATE TABLE IF NOT EXISTS runs(key INTEGER NOT NULL, server INTEGER, ts INTEGER NOT NULL,"
    " host INTEGER, file INTEGER NOT NULL, rec INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS runs_key ON runs(key, ts);"
    "INSERT OR IGNORE INTO meta VALUES('format', 'kizuki-store " STORE_TEXT(STORE_FORMAT) "'); COMMIT;";

/* The indexes scope and timeline read through. A bulk ingest drops them in its first batch's
 * transaction and builds them once at its end (a sort, several times cheaper than keeping six
 * B-trees in order row by row); a store whose ingest was killed in between gets them back the
 * next time it is opened (store_ensure_indexes). */
const char store_index_sql[] =
    /* scope and timeline look accounts and hosts up by id (user=?, host=?, host IN (...)), never
     * for the rows without one: partial indexes. Besides being smaller, an index whose first
     * column is never NULL is built with SQLite's integer comparison in its sort (a NULL anywhere
     * sends every comparison through the general record comparison): events_user took 21% less
     * CPU on 6.9M events. */
    "CREATE INDEX IF NOT EXISTS events_user ON events(user, ts) WHERE user IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS events_host ON events(host, ts) WHERE host IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS logons_user ON logons(user, ts) WHERE user IS NOT NULL;"
    /* most logons name no address (78% on simulate 100x10) or no workstation (42%), and scope
     * only looks up given ones (ip=?, ws=?): less to sort and keep */
    "CREATE INDEX IF NOT EXISTS logons_ip ON logons(ip, ts) WHERE ip IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS logons_ws ON logons(ws, ts) WHERE ws IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS logons_session ON logons(host, lid);"
    /* small tables, but scope looks them up once per session it follows */
    "CREATE INDEX IF NOT EXISTS hosts_host ON hosts(host);"
    "CREATE INDEX IF NOT EXISTS addrs_ws ON addrs(ws, ip);";
const char store_drop_index_sql[] =
    "DROP INDEX IF EXISTS events_user; DROP INDEX IF EXISTS events_host;"
    "DROP INDEX IF EXISTS logons_user; DROP INDEX IF EXISTS logons_ip;"
    "DROP INDEX IF EXISTS logons_ws; DROP INDEX IF EXISTS logons_session;"
    "DROP INDEX IF EXISTS hosts_host; DROP INDEX IF EXISTS addrs_ws;";
#define STORE_NINDEXES 8

/* How many of the query indexes exist (STORE_NINDEXES: all). */
static int index_count(struct kz_store *s) {
    sqlite3_stmt *q = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN "
                           "('events_user','events_host','logons_user','logons_ip','logons_ws',"
                           "'logons_session','hosts_host','addrs_ws')",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        have = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return have;
}

int store_ensure_indexes(struct kz_store *s, struct kz_err *err) {
    if (index_count(s) == STORE_NINDEXES) return 0;
    /* the sort spills to temporary files rather than memory: 100 million rows fit either way */
    return store_exec(s, "PRAGMA temp_store=FILE; BEGIN IMMEDIATE;", err) ||
                   store_exec(s, store_index_sql, err) || store_exec(s, "COMMIT", err)
               ? (store_exec(s, "ROLLBACK", NULL), KZ_EIO)
               : store_exec(s, "PRAGMA temp_store=MEMORY", err);
}

int store_exec(struct kz_store *s, const char *sql, struct kz_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    int rc = kz_err_set(err, KZ_EIO, "%s/kizuki.db: %s", s->dir, msg ? msg : "error");
    sqlite3_free(msg);
    return rc;
}

char *store_path(const struct kz_store *s, const char *rel) {
    size_t n = strlen(s->dir) + strlen(rel) + 2;
    char *p = kz_malloc(n);
    if (p) snprintf(p, n, "%s/%s", s->dir, rel);
    return p;
}

uint32_t store_partial_copies(struct kz_store *s, int remove) {
    char *objdir = store_path(s, "objects");
    DIR *d = objdir ? opendir(objdir) : NULL;
    uint32_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        static const char prefix[] = ".incoming.";
        if (strncmp(e->d_name, prefix, sizeof prefix - 1)) continue;
        char *end = NULL;
        long pid = strtol(e->d_name + sizeof prefix - 1, &end, 10);
        /* a copy of a process still running (ours, or another ingest's) is not a leftover */
        if (end && *end == '.' && pid > 0 && pid <= INT_MAX &&
            (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        n++;
        if (remove) unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d) closedir(d);
    kz_free(objdir);
    return n;
}

/* ---- the ingest lock ----
 * An ingest holds an exclusive flock on DIR/ingest.lock for its whole run (the kernel drops it
 * when the process ends, kill -9 too, so a killed ingest never leaves a stale lock). Other
 * processes only test it: a second ingest is refused rather than interleaving its batches, and
 * readers do not rebuild indexes a bulk load is about to build. */
int store_ingest_lock(struct kz_store *s, struct kz_err *err) {
    char *path = store_path(s, "ingest.lock");
    if (!path) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0)
        rc = kz_err_set(err, KZ_EIO, "%s: %s", path, strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        rc = kz_err_set(err, KZ_EIO,
                        "%s: another ingest is writing to this store; run this one when it has "
                        "finished",
                        s->dir);
    if (rc && fd >= 0) close(fd);
    if (!rc) s->lock_fd = fd;
    kz_free(path);
    return rc;
}

void store_ingest_unlock(struct kz_store *s) {
    if (s->lock_fd >= 0) close(s->lock_fd);
    s->lock_fd = -1;
}

int store_ingest_running(struct kz_store *s) {
    if (s->lock_fd >= 0) return 0; /* our own */
    char *path = store_path(s, "ingest.lock");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    kz_free(path);
    if (fd < 0) return 0; /* no ingest has ever run here, or not one since this version */
    int running = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* drops the shared lock if it was taken */
    return running;
}

int kz_store_format(const struct kz_store *s) {
    return s->format;
}

int kz_store_loading(const struct kz_store *s) {
    return s->loading;
}

int kz_store_read_begin(struct kz_store *s, const char *what, struct kz_err *err) {
    if (s->loading)
        return kz_err_set(err, KZ_EIO,
                          "%s: an ingest is loading this store and builds its query indexes when "
                          "it ends; run %s again then",
                          s->dir, what);
    /* no transaction (BEGIN refused) still answers, one statement's snapshot at a time */
    s->read_tx = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    return 0;
}

void kz_store_read_end(struct kz_store *s) {
    if (s->read_tx) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    s->read_tx = 0;
}

/* A new database is made whole under a temporary name and renamed into place, so a kill while
 * it is being created leaves no half-made kizuki.db (the next ingest starts over). */
static int create_db(struct kz_store *s, const char *db, struct kz_err *err) {
    char *tmp = store_path(s, "kizuki.db.new");
    if (!tmp) return kz_err_set(err, KZ_ENOMEM, "out of memory");
    char side[PATH_MAX];
    unlink(tmp); /* what a killed creation left */
    for (int i = 0; i < 3; i++)
        if (snprintf(side, sizeof side, "%s%s", tmp, i == 2 ? "-journal" : i ? "-shm" : "-wal") <
            (int)sizeof side)
            unlink(side);
    int rc = 0;
    if (sqlite3_open_v2(tmp, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = kz_err_set(err, KZ_EIO, "%s: %s", tmp, s->db ? sqlite3_errmsg(s->db) : "cannot create");
    } else {
        /* 16 KiB pages rather than 4 KiB: a bulk load appends whole pages, and a quarter as
         * many page writes, B-tree cells moved and index levels made the main thread's CPU
         * about an eighth less (2.36 -> 2.07 s, median of 3 on the 485k-event estate, loaded
         * machine) for the same file size; scope and timeline times did not change. Only a
         * new store gets it (an existing one keeps its page size; the format is the same). */
        rc = store_exec(s, "PRAGMA synchronous=FULL; PRAGMA page_size=16384;", err);
        if (!rc) rc = store_exec(s, schema, err);
    }
    sqlite3_close_v2(s->db);
    s->db = NULL;
    /* the emptied journal (journal_mode=TRUNCATE) belongs to the temporary name */
    if (snprintf(side, sizeof side, "%s-journal", tmp) < (int)sizeof side) unlink(side);
    if (!rc && rename(tmp, db) != 0)
        rc = kz_err_set(err, KZ_EIO, "%s: %s", db, strerror(errno));
    if (!rc) {
        int fd = open(s->dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    kz_free(tmp);
    return rc;
}

/* No memory statistics: with them, every SQLite allocation takes a global mutex (about 2% of
 * an ingest's main-thread samples), and nothing here reads them. Only possible before SQLite
 * initialises; store.c is the only user of SQLite in kizuki. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_setup(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int kz_store_open(const char *dir, int create, struct kz_store **out, struct kz_err *err) {
    *out = NULL;
    pthread_once(&sqlite_once, sqlite_setup);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (!create) return kz_err_set(err, KZ_EIO, "%s: no such store", dir);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return kz_err_set(err, KZ_EIO, "%s: cannot create: %s", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return kz_err_set(err, KZ_EIO, "%s: not a directory", dir);
    }
    struct kz_store *s = kz_calloc(1, sizeof *s);
    if (!s || !(s->dir = kz_strdup(dir))) {
        kz_free(s);
        return kz_err_set(err, KZ_ENOMEM, "out of memory");
    }
    kz_arena_init(&s->names, 1 << 20, 0);
    s->lock_fd = -1;
    int rc = 0;
    char *db = store_path(s, "kizuki.db"), *objects = store_path(s, "objects");
    if (!db || !objects) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    if (!create && access(db, F_OK) != 0) {
        rc = kz_err_set(err, KZ_EIO, "%s: not a kizuki store (no kizuki.db)", dir);
        goto out;
    }
    if (create && mkdir(objects, 0755) != 0 && errno != EEXIST) {
        rc = kz_err_set(err, KZ_EIO, "%s: cannot create: %s", objects, strerror(errno));
        goto out;
    }
    /* The writer (create: ingest) takes the ingest lock before it creates or changes anything,
     * so that two ingests starting together cannot both go ahead. */
    if (create && (rc = store_ingest_lock(s, err))) goto out;
    if (create && access(db, F_OK) != 0 && (rc = create_db(s, db, err))) goto out;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db, &s->db, flags, NULL) != SQLITE_OK) {
        rc = kz_err_set(err, KZ_EIO, "%s: %s", db, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* FULL: a committed batch survives power loss too, not only a killed process (NORMAL would
     * survive kill -9 but could lose the last commits on power loss, in WAL mode, or skip the
     * journal sync that makes a rollback safe, while HEAD, synced after them, already names
     * them). The cost is a few fsyncs per batch, i.e. per 256 files.
     * threads: CREATE INDEX after a bulk ingest sorts on a second thread. */
    if ((rc = store_exec(s, "PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
                            "PRAGMA temp_store=MEMORY; PRAGMA threads=2;",
                         err)))
        goto out;
    sqlite3_stmt *chk = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k='format'", -1, &chk, NULL) !=
            SQLITE_OK ||
        sqlite3_step(chk) != SQLITE_ROW) {
        sqlite3_finalize(chk);
        rc = kz_err_set(err, KZ_ECORRUPT, "%s: not a kizuki store database", db);
        goto out;
    }
    const char *fmt = (const char *)sqlite3_column_text(chk, 0);
    if (!fmt || sscanf(fmt, "kizuki-store %d", &s->format) != 1 || s->format < 1) s->format = 0;
    sqlite3_finalize(chk);
    if (s->format < 1 || s->format > STORE_FORMAT) {
        rc = kz_err_set(err, KZ_EUSAGE, "%s: a store of a newer kizuki (or not a kizuki store); "
                        "this version reads formats 1 to %d", dir, STORE_FORMAT);
        goto out;
    }
    if (create && s->format < STORE_FORMAT) {
        rc = kz_err_set(err, KZ_EUSAGE,
                        "%s: made by an earlier kizuki (store format %d), which did not index the "
                        "programs run from shares; it can still be read and verified, but not "
                        "added to: ingest into a new store (its evidence copies too: %s/objects)",
                        dir, s->format, dir);
        goto out;
    }
    /* A bulk ingest drops the indexes and builds them when it ends: building them here, under
     * it, would make it wait for this process's write transaction (or this one fail). A reader
     * opened meanwhile sees the store without them (kz_store_loading). */
    if (store_ingest_running(s))
        s->loading = index_count(s) != STORE_NINDEXES;
    else if ((rc = store_ensure_indexes(s, err)))
        goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM names WHERE s=?", -1, &s->name_get, NULL) ||
        sqlite3_prepare_v2(s->db, "INSERT INTO names(s) VALUES(?)", -1, &s->name_put, NULL) ||
        sqlite3_prepare_v2(s->db, "SELECT s FROM names WHERE id=?", -1, &s->name_text, NULL)) {
        rc = kz_err_set(err, KZ_ECORRUPT, "%s: %s", db, sqlite3_errmsg(s->db));
        goto out;
    }
out:
    kz_free(db);
    kz_free(objects);
    if (rc) {
        kz_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void kz_store_close(struct kz_store *s) {
    if (!s) return;
    sqlite3_finalize(s->name_get);
    sqlite3_finalize(s->name_put);
    sqlite3_finalize(s->name_text);
    if (s->db) sqlite3_close_v2(s->db);
    store_ingest_unlock(s);
    kz_free(s->slots);
    kz_arena_free(&s->names);
    kz_free(s->text_buf);
    kz_free(s->dir);
    kz_free(s);
}

sqlite3 *kz_store_db(struct kz_store *s) {
    return s->db;
}

const char *kz_store_dir(const struct kz_store *s) {
    return s->dir;
}

/* ---- names ---- */

/* FNV-1a, eight bytes at a time (a multiply per word rather than per byte: paths are long), the
 * tail byte by byte. Only the in-memory cache uses it; nothing stored depends on it. */
uint64_t store_name_hash(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h ? h : 1;
}

void store_cache_clear(struct kz_store *s) {
    if (s->slots) memset(s->slots, 0, s->nslots * sizeof *s->slots);
    s->nnames = 0;
    kz_arena_reset(&s->names);
}

static int cache_grow(struct kz_store *s) {
    uint32_t n = s->nslots ? s->nslots * 2 : 4096;
    struct name_slot *v = kz_calloc(n, sizeof *v);
    if (!v) return KZ_ENOMEM;
    for (uint32_t i = 0; i < s->nslots; i++) {
        struct name_slot *o = &s->slots[i];
        if (!o->hash) continue;
        uint32_t j = (uint32_t)o->hash & (n - 1);
        while (v[j].hash) j = (j + 1) & (n - 1);
        v[j] = *o;
    }
    kz_free(s->slots);
    s->slots = v;
    s->nslots = n;
    return 0;
}

int64_t store_intern(struct kz_store *s, const char *text, size_t len) {
    if (!text || !len || (len == 1 && text[0] == '-')) return 0;
    if (len > KZ_STORE_NAME_MAX) len = KZ_STORE_NAME_MAX;
    return store_intern_hashed(s, text, len, store_name_hash(text, len));
}

int64_t store_intern_hashed(struct kz_store *s, const char *text, size_t len, uint64_t h) {
    if (!text || !len || (len == 1 && text[0] == '-')) return 0;
    if (len > KZ_STORE_NAME_MAX) return store_intern(s, text, len); /* not how it was hashed */
    if (s->nnames >= STORE_CACHE_MAX) store_cache_clear(s);
    if ((s->nnames + 1) * 2 > s->nslots && cache_grow(s)) return KZ_ENOMEM;
    uint32_t j = (uint32_t)h & (s->nslots - 1);
    for (; s->slots[j].hash; j = (j + 1) & (s->nslots - 1)) {
        struct name_slot *e = &s->slots[j];
        if (e->hash == h && e->len == len && !memcmp(e->text, text, len)) return e->id;
    }
    int64_t id = 0;
    sqlite3_bind_text(s->name_get, 1, text, (int)len, SQLITE_STATIC);
    if (sqlite3_step(s->name_get) == SQLITE_ROW) id = sqlite3_column_int64(s->name_get, 0);
    sqlite3_reset(s->name_get);
    if (!id) {
        sqlite3_bind_text(s->name_put, 1, text, (int)len, SQLITE_STATIC);
        int rc = sqlite3_step(s->name_put);
        sqlite3_reset(s->name_put);
        if (rc != SQLITE_DONE) return KZ_EIO;
        id = sqlite3_last_insert_rowid(s->db);
    }
    char *copy = kz_arena_strndup(&s->names, text, len);
    if (!copy) return KZ_ENOMEM;
    s->slots[j] = (struct name_slot){.hash = h, .id = id, .text = copy, .len = len};
    s->nnames++;
    return id;
}

int64_t kz_store_name_id(struct kz_store *s, const char *text) {
    if (!text || !*text) return 0;
    int64_t id = 0;
    sqlite3_bind_text(s->name_get, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(s->name_get) == SQLITE_ROW) id = sqlite3_column_int64(s->name_get, 0);
    sqlite3_reset(s->name_get);
    return id;
}

const char *kz_store_name(struct kz_store *s, int64_t id) {
    const char *r = "";
    if (id <= 0) return r;
    sqlite3_bind_int64(s->name_text, 1, id);
    if (sqlite3_step(s->name_text) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s->name_text, 0);
        size_t n = t ? strlen(t) : 0;
        if (n + 1 > s->text_cap) {
            char *nb = kz_realloc(s->text_buf, n + 1);
            if (nb) {
                s->text_buf = nb;
                s->text_cap = n + 1;
            }
        }
        if (t && s->text_cap >= n + 1) {
            memcpy(s->text_buf, t, n + 1);
            r = s->text_buf;
        }
    }
    sqlite3_reset(s->name_text);
    return r;
}

char *kz_store_user_key(const char *user, char *out, size_t size) {
    const char *p = user ? user : "";
    const char *bs = strrchr(p, '\\');
    if (bs) p = bs + 1;
    size_t n = 0;
    for (; p[n] && p[n] != '@' && n + 1 < size; n++)
        out[n] = (char)tolower((unsigned char)p[n]);
    out[n] = 0;
    return out;
}

char *kz_store_host_key(const char *host, char *out, size_t size) {
    const char *p = host ? host : "";
    if (p[0] == '\\' && p[1] == '\\') p += 2;
    size_t n = 0;
    for (; p[n] && p[n] != '.' && p[n] != '\\' && n + 1 < size; n++)
        out[n] = (char)toupper((unsigned char)p[n]);
    out[n] = 0;
    return out;
}

char *kz_store_ip_key(const char *ip, char *out, size_t size) {
    const char *p = ip ? ip : "";
    if (!strncasecmp(p, "::ffff:", 7) && strchr(p + 7, '.')) p += 7;
    size_t n = 0;
    for (; p[n] && n + 1 < size; n++)
        out[n] = (char)tolower((unsigned char)p[n]);
    out[n] = 0;
    return out;
}

/* ---- runs ---- */

static int blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *kz_store_run_key(const char *path, size_t n, char *key, size_t size, char *srv,
                       size_t srvsize) {
    static const char *const ext[] = {"exe", "com", "scr", "bat", "cmd", "ps1", "vbs", "vbe",
                                      "js",  "jse", "wsf", "hta", "msi", "dll", "cpl"};
    if (n < 2 || !size || !srvsize || !((path[0] == '\\' || path[0] == '/') &&
                                        (path[1] == '\\' || path[1] == '/')))
        return NULL;
    size_t i = 2, s0;
    /* the server: not empty, not "?" or "." (\\?\ and \\.\ are device paths, not shares) */
    while (i < n && path[i] != '\\' && path[i] != '/') i++;
    if (i == 2 || i == n || (i == 3 && (path[2] == '?' || path[2] == '.'))) return NULL;
    /* kz_store_host_key wants the name alone: path is not cut after it */
    char server[256];
    size_t sl = i - 2 < sizeof server - 1 ? i - 2 : sizeof server - 1;
    memcpy(server, path + 2, sl);
    server[sl] = 0;
    kz_store_host_key(server, srv, srvsize);
    s0 = ++i; /* the share, then at least one more part */
    while (i < n && path[i] != '\\' && path[i] != '/') i++;
    if (i == s0 || i + 1 >= n) return NULL;
    size_t dot = n, k = n;
    while (k > s0 && path[k - 1] != '\\' && path[k - 1] != '/') {
        if (path[k - 1] == '.' && dot == n) dot = k - 1;
        k--;
    }
    if (dot == n || n - dot - 1 > 3 || n - s0 >= size) return NULL;
    int runnable = 0;
    for (size_t e = 0; e < sizeof ext / sizeof *ext && !runnable; e++)
        runnable = strlen(ext[e]) == n - dot - 1 && !strncasecmp(path + dot + 1, ext[e], n - dot - 1);
    if (!runnable) return NULL;
    for (k = s0; k < n; k++)
        key[k - s0] = path[k] == '/' ? '\\' : (char)toupper((unsigned char)path[k]);
    key[n - s0] = 0;
    return key;
}

const char *kz_store_unc_run(const char *text, size_t *len, char *key, size_t size, char *srv,
                             size_t srvsize) {
    for (const char *p = text ? strstr(text, "\\\\") : NULL; p; p = strstr(p + 2, "\\\\")) {
        /* a quoted path ends at its quote, another at the first blank */
        int quoted = p > text && (p[-1] == '"' || p[-1] == '\'');
        const char *e = p + 2;
        while (*e && (quoted ? *e != p[-1] : !blank(*e) && *e != '"')) e++;
        if (kz_store_run_key(p, (size_t)(e - p), key, size, srv, srvsize)) {
            *len = (size_t)(e - p);
            return p;
        }
        if (e - p > 2) p = e - 2; /* go on after this path */
    }
    return NULL;
}

/* ---- verify ---- */

struct vctx {
    struct kz_store_verify *v;
    void (*report)(void *ctx, const char *msg);
    void *ctx;
};

static void problem(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct vctx *c, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->v->problems++) snprintf(c->v->first, sizeof c->v->first, "%s", msg);
    if (c->report) c->report(c->ctx, msg);
}

/* Hashes the file at path; returns 0, or KZ_EIO when it cannot be read. */
static int hash_file(const char *path, char hex[KZ_SHA256_HEX], uint64_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return KZ_EIO;
    struct kz_sha256 h;
    if (kz_sha256_init(&h)) {
        close(fd);
        return KZ_ENOMEM;
    }
    static __thread char buf[1 << 20];
    uint64_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        kz_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    int rc = kz_sha256_final_hex(&h, hex);
    if (n < 0) return KZ_EIO;
    *size = total;
    return rc;
}

int store_hash_file(const char *path, char hex[KZ_SHA256_HEX], uint64_t *size) {
    return hash_file(path, hex, size);
}

void store_batch_head(struct kz_buf *b, int64_t id, const char *prev, const char *created) {
    kz_buf_printf(b, "kizuki-batch\n%lld\n%s\n%s\n", (long long)id, prev, created);
}

void store_batch_file(struct kz_buf *b, const char *sha, int64_t size, int64_t events,
                      const char *name) {
    kz_buf_printf(b, "%s %lld %lld ", sha, (long long)size, (long long)events);
    kz_buf_puts(b, name);
    kz_buf_putc(b, '\n');
}

int kz_store_verify(struct kz_store *s, struct kz_store_verify *v,
                    void (*report)(void *ctx, const char *msg), void *ctx, struct kz_err *err) {
    memset(v, 0, sizeof *v);
    /* The chain is checked against HEAD, which a running ingest moves on after each commit: a
     * store being written would show differences nobody made. */
    if (store_ingest_running(s))
        return kz_err_set(err, KZ_EIO,
                          "%s: an ingest is writing to this store; verify it when that has "
                          "finished",
                          s->dir);
    struct vctx c = {.v = v, .report = report, .ctx = ctx};
    sqlite3_stmt *q = NULL, *cnt = NULL;
    int rc = 0;
    char prev[KZ_SHA256_HEX], before[KZ_SHA256_HEX] = "";
    memset(prev, '0', 64);
    prev[64] = 0;
    int64_t expect = 1, last_id = 0;
    struct kz_buf text;
    kz_buf_init(&text, 256u << 20);
    sqlite3_stmt *files = NULL;
    int64_t *counts = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT id, created, prev, hash FROM batches ORDER BY id", -1,
                           &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "SELECT sha256, size, events, name, id FROM files WHERE batch=? "
                           "ORDER BY id",
                           -1, &files, NULL) != SQLITE_OK ||
        /* events per file, counted from the index itself (a deleted or added row shows here), in
         * one pass over the table rather than one per file */
        sqlite3_prepare_v2(s->db, "SELECT file, count(*) FROM events GROUP BY file", -1, &cnt,
                           NULL) != SQLITE_OK) {
        rc = kz_err_set(err, KZ_ECORRUPT, "%s/kizuki.db: %s", s->dir, sqlite3_errmsg(s->db));
        goto out;
    }
    int64_t maxfile = 0;
    sqlite3_stmt *mx = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(id),0) FROM files", -1, &mx, NULL) ==
            SQLITE_OK &&
        sqlite3_step(mx) == SQLITE_ROW)
        maxfile = sqlite3_column_int64(mx, 0);
    sqlite3_finalize(mx);
    if (maxfile < 0 || maxfile > (1 << 28)) maxfile = 0;
    counts = kz_calloc((size_t)maxfile + 1, sizeof *counts);
    if (!counts) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    while (sqlite3_step(cnt) == SQLITE_ROW) {
        int64_t fid = sqlite3_column_int64(cnt, 0), n = sqlite3_column_int64(cnt, 1);
        if (fid >= 1 && fid <= maxfile)
            counts[fid] = n;
        else
            problem(&c, "%lld events belong to no file of the store (file id %lld)", (long long)n,
                    (long long)fid);
    }
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *created = (const char *)sqlite3_column_text(q, 1);
        const char *bprev = (const char *)sqlite3_column_text(q, 2);
        const char *bhash = (const char *)sqlite3_column_text(q, 3);
        v->batches++;
        last_id = id;
        if (id != expect)
            problem(&c, "batch %lld: missing batch %lld before it", (long long)id,
                    (long long)expect);
        expect = id + 1;
        if (!created || !bprev || !bhash) {
            problem(&c, "batch %lld: its record is damaged", (long long)id);
            continue;
        }
        if (strcmp(bprev, prev))
            problem(&c, "batch %lld: broken link: its previous hash %.16s... is not batch %lld's "
                        "hash %.16s...",
                    (long long)id, bprev, (long long)id - 1, prev);
        kz_buf_clear(&text);
        store_batch_head(&text, id, bprev, created);
        char first_name[512] = "";
        uint32_t nfiles = 0;
        sqlite3_bind_int64(files, 1, id);
        while (sqlite3_step(files) == SQLITE_ROW) {
            const char *sha = (const char *)sqlite3_column_text(files, 0);
            int64_t size = sqlite3_column_int64(files, 1), events = sqlite3_column_int64(files, 2);
            const char *name = (const char *)sqlite3_column_text(files, 3);
            int64_t fid = sqlite3_column_int64(files, 4);
            if (!sha || !name) {
                problem(&c, "batch %lld: a file row is damaged", (long long)id);
                continue;
            }
            if (!nfiles++) snprintf(first_name, sizeof first_name, "%s", name);
            v->files++;
            store_batch_file(&text, sha, size, events, name);
            char rel[128], got[KZ_SHA256_HEX];
            snprintf(rel, sizeof rel, "objects/%.64s", sha);
            char *path = store_path(s, rel);
            uint64_t got_size = 0;
            int hr = path ? hash_file(path, got, &got_size) : KZ_ENOMEM;
            if (hr == KZ_EIO)
                problem(&c, "file %s (batch %lld): stored copy %s is missing or unreadable", name,
                        (long long)id, rel);
            else if (hr == 0 && (strcmp(got, sha) || (int64_t)got_size != size))
                problem(&c, "file %s (batch %lld): stored copy %s changed: SHA-256 is now %s",
                        name, (long long)id, rel, got);
            kz_free(path);
            if (hr == KZ_ENOMEM) {
                sqlite3_reset(files);
                rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
                goto out;
            }
            int64_t n = fid >= 1 && fid <= maxfile ? counts[fid] : -1;
            if (n != events)
                problem(&c, "file %s (batch %lld): the index holds %lld events, the chain says "
                            "%lld",
                        name, (long long)id, (long long)n, (long long)events);
        }
        sqlite3_reset(files);
        if (!nfiles) problem(&c, "batch %lld: its files are missing", (long long)id);
        char want[KZ_SHA256_HEX];
        if (text.failed || kz_sha256_hex(text.data, text.len, want)) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        if (strcmp(want, bhash))
            problem(&c, "batch %lld (%u files from %s): its record was changed (hash %.16s... "
                        "recomputed as %.16s...)",
                    (long long)id, nfiles, first_name, bhash, want);
        memcpy(before, prev, sizeof before);
        snprintf(prev, sizeof prev, "%s", bhash);
    }
    if (step != SQLITE_DONE) {
        problem(&c, "the database cannot be read past batch %lld: %s", (long long)last_id,
                sqlite3_errmsg(s->db));
    }
    /* HEAD, the anchor outside the database. One behind, naming the previous batch exactly, is
     * what a kill between a commit and the HEAD update leaves (the next ingest moves HEAD on);
     * anything else is a rewritten chain. The first batch's HEAD is written after its commit
     * too, so a kill there leaves the chain at batch 1 and no HEAD: that is HEAD at batch 0
     * (64 zeros, the first batch's previous hash), one behind. Verify called that "HEAD is
     * missing" until this version, a crash test failure seen once in a full test run
     * (KZ_STORE_KILL_AFTER_COMMIT reproduces it). */
    char *head = store_path(s, "HEAD");
    FILE *f = head ? fopen(head, "r") : NULL;
    long long hid = 0;
    char hhash[80];
    memset(hhash, '0', 64);
    hhash[64] = 0;
    if (!f && last_id > 1)
        problem(&c, "HEAD is missing (the chain has %lld batches)", (long long)last_id);
    else if (f && fscanf(f, "%lld %70s", &hid, hhash) != 2)
        problem(&c, "HEAD is damaged");
    else if ((hid != last_id || strcmp(hhash, prev)) &&
             !(hid == last_id - 1 && !strcmp(hhash, before)))
        problem(&c, "HEAD names batch %lld (%.16s...) but the chain ends at batch %lld (%.16s...)",
                hid, hhash, (long long)last_id, prev);
    if (f) fclose(f);
    kz_free(head);
    int64_t orphans = 0;
    sqlite3_stmt *o = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM files WHERE batch NOT IN (SELECT id FROM batches)",
                           -1, &o, NULL) == SQLITE_OK &&
        sqlite3_step(o) == SQLITE_ROW)
        orphans = sqlite3_column_int64(o, 0);
    sqlite3_finalize(o);
    if (orphans) problem(&c, "%lld files belong to no batch of the chain", (long long)orphans);
    v->partial_copies = store_partial_copies(s, 0);
out:
    sqlite3_finalize(q);
    sqlite3_finalize(files);
    sqlite3_finalize(cnt);
    kz_free(counts);
    kz_buf_free(&text);
    return rc;
}
