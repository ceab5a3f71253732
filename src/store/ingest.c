/* ingest.c - `kizuki ingest`: copy each source file into the store, index its events, chain it.
 *
 * Per file: pool workers copy the bytes to objects/ while hashing them (one read), several files
 * at a time; the main thread renames each copy to its SHA-256 in source order. A sync thread
 * fdatasyncs each copy as soon as it is renamed, and every commit waits for it (and an fsync of
 * objects/), so the copies are on disk before any commit names them. The EVTX reader decodes a stored copy in parallel
 * (into an empty store, as soon as it is renamed, while later files are still being copied).
 * Workers turn each event into a compact record (the keys scope needs, already normalised) in the
 * chunk's buffer; the main thread inserts the records in file order. When the last record of a
 * file has been inserted, its file row joins the batch's transaction; the batch commits with its
 * chain row, so a kill loses at most the batch in flight and re-running ingest redoes just that
 * one (files whose SHA-256 is already in the store are skipped before decoding). Several files
 * share a batch (BATCH_MAX_*), one transaction and one chain row. */
#define _GNU_SOURCE /* sync_file_range */
#include "store_int.h"

#include "sha256.h"

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/intern.h"
#include "../core/pool.h"
#include "../input/evtx/evtx_reader.h"
#include "../input/sources.h"
#include "../input/text_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A batch commits after this many files or events (at a file boundary): large enough that the
 * per-commit fsyncs do not dominate, small enough that a kill loses little work. */
#define BATCH_MAX_FILES 256
#define BATCH_MAX_EVENTS 2000000

/* ---- fields the index reads, interned once ---- */

static pthread_once_t fields_once = PTHREAD_ONCE_INIT;
static uint32_t f_target_lid, f_subject_lid, f_logon_id, f_subject_user, f_target_user,
    f_target_server, f_access_mask, f_share, f_relative, f_object, f_target_file, f_tunnel_ip,
    f_tunnel_id, f_action, f_method, f_stem, f_status, f_new_process, f_image, f_command_line;

#define ID(s) kz_intern(s, sizeof s - 1)
static void fields_init(void) {
    f_target_lid = ID("TargetLogonId");
    f_subject_lid = ID("SubjectLogonId");
    f_logon_id = ID("LogonId");
    f_subject_user = ID("SubjectUserName");
    f_target_user = ID("TargetUserName");
    f_target_server = ID("TargetServerName");
    f_access_mask = ID("AccessMask");
    f_share = ID("ShareName");
    f_relative = ID("RelativeTargetName");
    f_object = ID("ObjectName");
    f_target_file = ID("TargetFilename");
    f_tunnel_ip = ID("tunnelip");
    f_tunnel_id = ID("tunnelid");
    f_action = ID("action");
    f_method = ID("cs-method");
    f_stem = ID("cs-uri-stem");
    f_status = ID("sc-status");
    f_new_process = ID("NewProcessName");
    f_image = ID("Image");
    f_command_line = ID("CommandLine");
}

static const char *field(const struct kz_event *ev, uint32_t id) {
    const struct kz_field *f = kz_event_field(ev, id);
    if (!f || !f->len || (f->len == 1 && f->val[0] == '-')) return NULL;
    return f->val;
}

static int64_t hex_or_dec(const char *s) {
    if (!s) return 0;
    return (int64_t)strtoull(s, NULL, 0);
}

/* ---- worker side: event -> compact record ---- */

#define NO_KIND 0xff
/* S_RUN, S_RUN_SERVER: a program or script run from a share (kz_store_run_key), its server */
enum { S_HOST, S_USER, S_IP, S_WS, S_OBJ, S_PROC, S_TUSER, S_TSERVER, S_RUN, S_RUN_SERVER, NSTR };

struct rec_head {
    kz_time ts;
    uint64_t record_id;
    int64_t bytes;
    int64_t lid;
    uint32_t file_id;
    uint32_t eid;
    int32_t ltype;
    uint32_t acc;
    uint32_t kind;
};

/* A string of a record: its length (UINT32_MAX: none), its name-cache hash (computed here, on a
 * worker, so that the main thread does not), its bytes. */
static void put_str(struct kz_buf *b, const char *s) {
    uint32_t n = s ? (uint32_t)strnlen(s, KZ_STORE_NAME_MAX) : UINT32_MAX;
    kz_buf_append(b, &n, 4);
    if (!s) return;
    uint64_t h = store_name_hash(s, n);
    kz_buf_append(b, &h, 8);
    kz_buf_append(b, s, n);
}

/* Access flags from a Windows access mask (ReadData 0x1, WriteData 0x2, AppendData 0x4,
 * DELETE 0x10000). */
static uint32_t access_of(const char *mask) {
    if (!mask) return 0;
    uint64_t m = strtoull(mask, NULL, 0);
    uint32_t a = 0;
    if (m & 0x1) a |= KZ_ACC_READ;
    if (m & 0x6) a |= KZ_ACC_WRITE;
    if (m & 0x10000) a |= KZ_ACC_DELETE;
    return a;
}

static void put_record(struct kz_buf *out, const struct rec_head *hp, const char *const *s);
struct ingest;

/* A Windows event (from EVTX or JSON lines) -> a record. */
static void emit_windows(const struct kz_event *ev, uint32_t file_id, struct kz_buf *out) {
    pthread_once(&fields_once, fields_init);
    struct rec_head h = {.ts = ev->ts, .record_id = ev->record_id, .bytes = ev->ent.bytes,
                         .file_id = file_id, .eid = ev->event_id, .ltype = ev->ent.logon_type,
                         .kind = NO_KIND};
    char user[256], ip[128], ws[256], tuser[256], tserver[256], hostkey[256];
    const char *s[NSTR] = {0};
    s[S_HOST] = ev->host;
    if (ev->ent.user) s[S_USER] = kz_store_user_key(ev->ent.user, user, sizeof user);
    if (ev->ent.src_ip) s[S_IP] = kz_store_ip_key(ev->ent.src_ip, ip, sizeof ip);
    if (ev->ent.src_host) s[S_WS] = kz_store_host_key(ev->ent.src_host, ws, sizeof ws);
    s[S_PROC] = ev->ent.process;
    const char *lid = NULL;
    char obj[KZ_STORE_NAME_MAX];
    int security = ev->event_id >= 4600 && ev->event_id < 5200;
    if (security && (ev->event_id == 4624 || ev->event_id == 4634 || ev->event_id == 4647)) {
        lid = field(ev, f_target_lid);
        h.kind = ev->event_id == 4624 ? KZ_LOGON : KZ_LOGOFF;
    } else if (security && ev->event_id == 4648) {
        lid = field(ev, f_subject_lid);
        h.kind = KZ_EXPLICIT;
        const char *tu = field(ev, f_target_user), *ts = field(ev, f_target_server);
        if (tu) s[S_TUSER] = kz_store_user_key(tu, tuser, sizeof tuser);
        if (ts) s[S_TSERVER] = kz_store_host_key(ts, tserver, sizeof tserver);
    } else {
        lid = field(ev, f_subject_lid);
        if (!lid) lid = field(ev, f_logon_id);
    }
    h.lid = hex_or_dec(lid);
    /* The object touched, as a full path customers.csv patterns can match. */
    if (security && (ev->event_id == 5145 || ev->event_id == 5140)) {
        const char *share = field(ev, f_share), *rel = field(ev, f_relative);
        if (share) {
            kz_store_host_key(ev->host, hostkey, sizeof hostkey);
            /* ShareName is "\\*\projects": the server is the logging host */
            const char *tail = share;
            if (!strncmp(tail, "\\\\*\\", 4)) tail += 3;
            else if (!strncmp(tail, "\\\\", 2)) tail = strchr(tail + 2, '\\');
            if (!tail) tail = "";
            if (rel)
                snprintf(obj, sizeof obj, "\\\\%s%s\\%s", hostkey, tail, rel);
            else
                snprintf(obj, sizeof obj, "\\\\%s%s", hostkey, tail);
            s[S_OBJ] = obj;
        }
        h.acc = ev->event_id == 5145 ? access_of(field(ev, f_access_mask)) : 0;
    } else if (security && ev->event_id == 4663) {
        s[S_OBJ] = field(ev, f_object);
        h.acc = access_of(field(ev, f_access_mask));
    } else if (!security && ev->event_id == 11) { /* Sysmon: file created or overwritten */
        s[S_OBJ] = field(ev, f_target_file);
        if (s[S_OBJ]) h.acc = KZ_ACC_WRITE;
    } else if (!security && (ev->event_id == 23 || ev->event_id == 26)) { /* Sysmon: deleted */
        s[S_OBJ] = field(ev, f_target_file);
        if (s[S_OBJ]) h.acc = KZ_ACC_DELETE;
    }
    /* A process started from a share: the program itself, else the first program or script its
     * command line names there (cmd.exe /c \\corp.example\SYSVOL\...\x.bat). */
    char run[KZ_STORE_NAME_MAX], run_server[256];
    if ((security && ev->event_id == 4688) || (!security && ev->event_id == 1)) {
        const char *texts[2] = {field(ev, security ? f_new_process : f_image),
                                field(ev, f_command_line)};
        size_t n;
        for (int i = 0; i < 2 && !s[S_RUN]; i++) {
            if (kz_store_unc_run(texts[i], &n, run, sizeof run, run_server, sizeof run_server)) {
                s[S_RUN] = run;
                s[S_RUN_SERVER] = run_server[0] ? run_server : NULL;
            }
        }
    }
    put_record(out, &h, s);
}

static void emit(void *ctx, struct kz_evtx_decoder *d, const struct kz_evtx_record *rec,
                 uint32_t file_id, struct kz_buf *out) {
    (void)ctx;
    (void)d;
    emit_windows(rec->event, file_id, out);
}

/* The record the main thread inserts: 'E', its length, the head, then NSTR strings. */
static void put_record(struct kz_buf *out, const struct rec_head *hp, const char *const *s) {
    struct rec_head h = *hp;
    size_t mark = out->len;
    kz_buf_putc(out, 'E');
    uint32_t len = 0;
    kz_buf_append(out, &len, 4);
    kz_buf_append(out, &h, sizeof h);
    for (int i = 0; i < NSTR; i++)
        put_str(out, s[i]);
    len = (uint32_t)(out->len - mark - 5);
    if (!out->failed) memcpy(out->data + mark + 1, &len, 4);
}

/* ---- main-thread side: records -> rows ---- */

/* Rows go to SQLite ROWS_PER_INSERT at a time, through one `INSERT ... VALUES (...), (...), ...`:
 * a statement step, reset and VDBE setup per row cost about as much as the row itself. A
 * rowbuf holds the rows not yet inserted; it is flushed when full, and before anything that
 * ends the transaction (commit_batch) or reads the table. */
#define ROWS_PER_INSERT 32
#define ROW_COLS_MAX 12

struct row {
    int64_t v[ROW_COLS_MAX];
    uint32_t null; /* bit i: column i + 1 is NULL */
};

struct rowbuf {
    sqlite3_stmt *one, *many; /* INSERT of one row, of ROWS_PER_INSERT rows */
    uint32_t ncols, n;
    struct row rows[ROWS_PER_INSERT];
};

struct pending {
    char *path; /* the source as given */
    char sha[KZ_SHA256_HEX];
    uint64_t size;
    uint8_t format; /* enum kz_format: only EVTX is indexed; other files are kept and chained */
    uint8_t decoded; /* EVTX read by the decoder, its copy waiting for its fdatasync to be
                      * dropped from the page cache (syncer_decoded) */
};

struct ingest {
    struct kz_store *s;
    const struct kz_store_ingest_opts *o;
    struct kz_store_ingest_stats *st;
    struct kz_evtx_reader *reader;
    struct pending *files;
    uint32_t nfiles;
    uint64_t total_bytes;
    int64_t cur;          /* file being indexed (index into files), -1 none */
    int file_open;        /* files[cur] is being indexed */
    int in_tx;            /* a batch's transaction is open */
    uint64_t cur_events;  /* events of files[cur] inserted */
    int64_t cur_file_row; /* files.id of files[cur] */
    uint32_t batch_files;
    uint64_t batch_events;
    struct kz_buf batch_text; /* what the open batch's hash will cover */
    uint32_t batch_max_files; /* BATCH_MAX_FILES, or KZ_STORE_BATCH_FILES (tests) */
    int64_t kill_after_commit; /* KZ_STORE_KILL_AFTER_COMMIT (tests): kill -9 after this batch's commit */
    int bulk;             /* more new bytes than half the store's: indexes rebuilt at the end */
    int dropped;          /* the indexes were dropped (in the first batch's transaction) */
    int rollback;         /* a bulk load under a rollback journal (journal_for_bulk) */
    int failed;           /* a database error: stop inserting */
    int unsynced;         /* copies made since the last sync_objects */
    struct syncer *syncer; /* fdatasyncs the copies in the background */
    struct kz_err err;
    sqlite3_stmt *ins_addr, *ins_host, *ins_file, *ins_batch, *last;
    struct rowbuf events, logons, runs; /* rows waiting for their multi-row INSERT */
    int64_t hosts_seen[64]; /* a tiny cache of hosts already in `hosts` (by name id) */
    int profile;            /* KZ_STORE_PROFILE set: phase times on stderr */
    double t0, sync_s, commit_s;
    char prev_hash[KZ_SHA256_HEX];
    int64_t prev_id;
};

/* Text logs (text_reader.h): web requests and FortiGate VPN tunnel events become events rows,
 * and also rows of the sessions table (KZ_WEB, KZ_VPN) that scope lists. A web server's access
 * log does not name the server: the folder the log was collected in does (logs/HOST/..., as
 * kizuki simulate and most collections lay them out). */
static void emit_text(void *ctx, struct kz_text_decoder *d, const struct kz_event *ev,
                      uint32_t file_id, struct kz_buf *out) {
    (void)d;
    struct ingest *g = ctx;
    int vpn = ev->channel && !strcmp(ev->channel, "fortigate"),
        web = ev->channel && !strcmp(ev->channel, "webserver");
    if (!vpn && !web) {
        emit_windows(ev, file_id, out);
        return;
    }
    pthread_once(&fields_once, fields_init);
    /* event id 0: web and VPN rows are not Windows events (scope counts no host for them) */
    struct rec_head h = {.ts = ev->ts, .record_id = ev->record_id, .bytes = ev->ent.bytes,
                         .file_id = file_id, .eid = 0, .ltype = -1, .kind = NO_KIND};
    char user[256], ip[128], ws[128], server[256], req[KZ_STORE_NAME_MAX];
    const char *s[NSTR] = {0};
    s[S_HOST] = ev->host;
    if (ev->ent.user) s[S_USER] = kz_store_user_key(ev->ent.user, user, sizeof user);
    if (ev->ent.src_ip) s[S_IP] = kz_store_ip_key(ev->ent.src_ip, ip, sizeof ip);
    if (vpn) {
        const char *action = field(ev, f_action), *tip = field(ev, f_tunnel_ip);
        int up = action && !strcmp(action, "tunnel-up"), down = action && !strcmp(action, "tunnel-down");
        if (up || down) {
            h.kind = KZ_VPN;
            h.ltype = up;
            h.lid = hex_or_dec(field(ev, f_tunnel_id));
            if (tip) s[S_WS] = kz_store_ip_key(tip, ws, sizeof ws);
            s[S_OBJ] = action; /* what the timeline shows */
        }
    } else {
        h.kind = KZ_WEB;
        const char *status = field(ev, f_status), *method = field(ev, f_method),
                   *stem = field(ev, f_stem);
        h.ltype = status ? (int32_t)strtol(status, NULL, 10) : -1;
        if (stem) {
            snprintf(req, sizeof req, "%s %s", method ? method : "-", stem);
            s[S_OBJ] = req;
        }
        if (!s[S_HOST]) {
            const char *path = g->files[file_id].path, *end = strrchr(path, '/'), *b = end;
            while (b && b > path && b[-1] != '/') b--;
            if (b && end > b) {
                snprintf(server, sizeof server, "%.*s", (int)(end - b), b);
                s[S_HOST] = server;
            }
        }
    }
    put_record(out, &h, s);
}

/* ---- phase times (KZ_STORE_PROFILE=1): where an ingest's wall and main-thread CPU go ---- */

static double now_s(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void profile_mark(struct ingest *g, const char *phase) {
    if (!g->profile) return;
    fprintf(stderr, "ingest profile: %-14s wall %7.3f s  main CPU %7.3f s  sync %6.3f s  commit %6.3f s\n",
            phase, now_s(CLOCK_MONOTONIC) - g->t0, now_s(CLOCK_THREAD_CPUTIME_ID), g->sync_s,
            g->commit_s);
}

static int db_fail(struct ingest *g, const char *what) {
    if (!g->failed)
        kz_err_set(&g->err, KZ_EIO, "%s/kizuki.db: %s: %s", g->s->dir, what,
                   sqlite3_errmsg(g->s->db));
    g->failed = 1;
    return KZ_EIO;
}

static int begin_file(struct ingest *g, int64_t i) {
    g->cur = i;
    g->cur_events = 0;
    if (!g->in_tx) {
        if (store_exec(g->s, "BEGIN IMMEDIATE", &g->err)) {
            g->failed = 1;
            return KZ_EIO;
        }
        g->in_tx = 1;
        /* Dropped inside the batch's transaction: a kill before it commits leaves them in place,
         * after it the next open of the store rebuilds them. */
        if (g->bulk && !g->dropped) {
            if (store_exec(g->s, store_drop_index_sql, &g->err)) {
                g->failed = 1;
                return KZ_EIO;
            }
            g->dropped = 1;
        }
        g->batch_files = 0;
        g->batch_events = 0;
        kz_buf_clear(&g->batch_text);
        /* file row ids, fixed now so that event rows can refer to them */
        sqlite3_stmt *q = NULL;
        g->cur_file_row = 0;
        if (sqlite3_prepare_v2(g->s->db, "SELECT coalesce(max(id),0) FROM files", -1, &q,
                               NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            g->cur_file_row = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    g->cur_file_row++;
    g->file_open = 1;
    return 0;
}

static void write_head(struct ingest *g) {
    char *tmp = store_path(g->s, "HEAD.tmp"), *head = store_path(g->s, "HEAD");
    FILE *f = tmp ? fopen(tmp, "w") : NULL;
    if (f) {
        fprintf(f, "%lld %s\n", (long long)g->prev_id, g->prev_hash);
        fflush(f);
        fsync(fileno(f));
        fclose(f);
        if (rename(tmp, head) != 0 && g->o->report) g->o->report(g->o->ctx, "cannot update HEAD");
    }
    kz_free(tmp);
    kz_free(head);
}

/* Prepares b's statements for table (ncols columns); 0 or an SQLite error code. */
static int rowbuf_prepare(sqlite3 *db, struct rowbuf *b, const char *table, uint32_t ncols) {
    struct kz_buf sql;
    kz_buf_init(&sql, 1u << 20);
    int rc = SQLITE_NOMEM;
    b->ncols = ncols;
    b->n = 0;
    for (int many = 0; many < 2; many++) {
        kz_buf_clear(&sql);
        kz_buf_printf(&sql, "INSERT INTO %s VALUES", table);
        for (uint32_t r = 0; r < (many ? ROWS_PER_INSERT : 1); r++) {
            kz_buf_puts(&sql, r ? ",(" : "(");
            for (uint32_t c = 0; c < ncols; c++)
                kz_buf_puts(&sql, c ? ",?" : "?");
            kz_buf_putc(&sql, ')');
        }
        kz_buf_putc(&sql, 0);
        if (sql.failed) goto out;
        rc = sqlite3_prepare_v3(db, sql.data, -1, SQLITE_PREPARE_PERSISTENT,
                                many ? &b->many : &b->one, NULL);
        if (rc != SQLITE_OK) goto out;
    }
out:
    kz_buf_free(&sql);
    return rc;
}

static void rowbuf_finalize(struct rowbuf *b) {
    sqlite3_finalize(b->one);
    sqlite3_finalize(b->many);
}

/* Binds rows [0, n) to q from parameter 1 on and runs it; 0 or KZ_EIO. */
static int rowbuf_run(struct rowbuf *b, sqlite3_stmt *q, uint32_t n) {
    int col = 1;
    for (uint32_t r = 0; r < n; r++) {
        const struct row *w = &b->rows[r];
        for (uint32_t c = 0; c < b->ncols; c++, col++)
            if (w->null >> c & 1)
                sqlite3_bind_null(q, col);
            else
                sqlite3_bind_int64(q, col, w->v[c]);
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : KZ_EIO;
}

/* Inserts the rows waiting in b; 0 or KZ_EIO (with g's error set). */
static int rowbuf_flush(struct ingest *g, struct rowbuf *b) {
    int rc = 0;
    if (b->n == ROWS_PER_INSERT)
        rc = rowbuf_run(b, b->many, b->n);
    else
        for (uint32_t r = 0; r < b->n && !rc; r++) {
            b->rows[0] = b->rows[r];
            rc = rowbuf_run(b, b->one, 1);
        }
    b->n = 0;
    return rc ? db_fail(g, "recording events, logons or runs") : 0;
}

/* The next free row of b (flushing it first when full), NULL on a database error. */
static struct row *rowbuf_add(struct ingest *g, struct rowbuf *b) {
    if (b->n == ROWS_PER_INSERT && rowbuf_flush(g, b)) return NULL;
    struct row *w = &b->rows[b->n++];
    w->null = 0;
    return w;
}

/* Column c (from 1) of w: v, or NULL when !present. */
static void row_set(struct row *w, int c, int present, int64_t v) {
    w->v[c - 1] = v;
    if (!present) w->null |= 1u << (c - 1);
}

/* Records the batch in the chain and commits it. */
static int sync_objects(struct ingest *g);
static int commit_batch(struct ingest *g) {
    if (!g->in_tx) return 0;
    if (rowbuf_flush(g, &g->events) || rowbuf_flush(g, &g->logons) || rowbuf_flush(g, &g->runs))
        return KZ_EIO;
    /* the batch's copies are on disk before the commit that names them */
    if (sync_objects(g)) return KZ_EIO;
    int64_t id = g->prev_id + 1;
    char created[KZ_TIME_TEXT_MAX], hash[KZ_SHA256_HEX];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    kz_time_format((kz_time)now.tv_sec * KZ_TICKS_PER_SEC + now.tv_nsec / 100, 3, created);
    struct kz_buf text;
    kz_buf_init(&text, 256u << 20);
    store_batch_head(&text, id, g->prev_hash, created);
    kz_buf_append(&text, g->batch_text.data, g->batch_text.len);
    int hrc = text.failed || g->batch_text.failed || kz_sha256_hex(text.data, text.len, hash);
    kz_buf_free(&text);
    if (hrc) {
        g->failed = 1;
        return kz_err_set(&g->err, KZ_ENOMEM, "out of memory");
    }
    sqlite3_stmt *b = g->ins_batch;
    sqlite3_bind_int64(b, 1, id);
    sqlite3_bind_text(b, 2, created, -1, SQLITE_STATIC);
    sqlite3_bind_text(b, 3, g->prev_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(b, 4, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(b);
    sqlite3_reset(b);
    if (rc != SQLITE_DONE) return db_fail(g, "recording the batch");
    double t = g->profile ? now_s(CLOCK_MONOTONIC) : 0;
    if (store_exec(g->s, "COMMIT", &g->err)) {
        g->failed = 1;
        return KZ_EIO;
    }
    if (g->profile) g->commit_s += now_s(CLOCK_MONOTONIC) - t;
    g->in_tx = 0;
    g->prev_id = id;
    memcpy(g->prev_hash, hash, sizeof hash);
    /* The crash test stops here (kill -9 of itself) to leave a commit without its HEAD. */
    if (g->kill_after_commit == id) raise(SIGKILL);
    write_head(g);
    g->st->files_added += g->batch_files;
    g->st->events += g->batch_events;
    return 0;
}

static int end_file(struct ingest *g) {
    if (!g->file_open) return 0;
    g->file_open = 0;
    struct pending *p = &g->files[g->cur];
    sqlite3_stmt *f = g->ins_file;
    sqlite3_bind_int64(f, 1, g->cur_file_row);
    sqlite3_bind_text(f, 2, p->sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f, 3, (int64_t)p->size);
    sqlite3_bind_text(f, 4, p->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(f, 5, g->prev_id + 1);
    sqlite3_bind_int64(f, 6, (int64_t)g->cur_events);
    int rc = sqlite3_step(f);
    sqlite3_reset(f);
    if (rc != SQLITE_DONE) return db_fail(g, "recording the file");
    store_batch_file(&g->batch_text, p->sha, (int64_t)p->size, (int64_t)g->cur_events, p->path);
    g->batch_files++;
    g->batch_events += g->cur_events;
    g->st->bytes += p->size;
    if (g->batch_files >= g->batch_max_files || g->batch_events >= BATCH_MAX_EVENTS)
        return commit_batch(g);
    return 0;
}

/* Finishes every file before files[upto] (files without events too) and starts files[upto] when
 * it exists. */
static int advance(struct ingest *g, int64_t upto) {
    while (!g->failed) {
        if (g->file_open && g->cur < upto) {
            end_file(g);
            continue;
        }
        if (g->file_open) break; /* at upto */
        int64_t next = g->cur + 1;
        if (next > upto || next >= (int64_t)g->nfiles) break;
        begin_file(g, next);
    }
    return g->failed ? KZ_EIO : 0;
}

static const char *get_str(const char **p, uint32_t *len, uint64_t *hash) {
    uint32_t n;
    memcpy(&n, *p, 4);
    *p += 4;
    *len = n;
    *hash = 0;
    if (n == UINT32_MAX) return NULL;
    memcpy(hash, *p, 8);
    *p += 8;
    const char *s = *p;
    *p += n;
    return s;
}

static void note_host(struct ingest *g, int64_t host, const char *text, uint32_t len) {
    size_t slot = (size_t)host % 64;
    if (g->hosts_seen[slot] == host) return;
    g->hosts_seen[slot] = host;
    char key[256], name[256];
    snprintf(name, sizeof name, "%.*s", (int)(len < 255 ? len : 255), text);
    kz_store_host_key(name, key, sizeof key);
    int64_t k = store_intern(g->s, key, strlen(key));
    if (k <= 0) return;
    sqlite3_bind_int64(g->ins_host, 1, k);
    sqlite3_bind_int64(g->ins_host, 2, host);
    if (sqlite3_step(g->ins_host) != SQLITE_DONE) db_fail(g, "recording a host");
    sqlite3_reset(g->ins_host);
}

static int usable_ip(const char *ip, uint32_t n) {
    return n && !(n == 9 && !memcmp(ip, "127.0.0.1", 9)) && !(n == 3 && !memcmp(ip, "::1", 3));
}

static void insert_record(struct ingest *g, const char *p) {
    struct rec_head h;
    memcpy(&h, p, sizeof h);
    p += sizeof h;
    const char *s[NSTR];
    uint32_t n[NSTR];
    uint64_t hash[NSTR];
    int64_t id[NSTR];
    for (int i = 0; i < NSTR; i++)
        s[i] = get_str(&p, &n[i], &hash[i]);
    if (((int64_t)h.file_id != g->cur || !g->file_open) && advance(g, h.file_id)) return;
    if (g->failed) return;
    for (int i = 0; i < NSTR; i++) {
        id[i] = s[i] ? store_intern_hashed(g->s, s[i], n[i], hash[i]) : 0;
        if (id[i] < 0) {
            db_fail(g, "recording a name");
            return;
        }
    }
    if (id[S_HOST] > 0) note_host(g, id[S_HOST], s[S_HOST], n[S_HOST]);
    struct row *w = rowbuf_add(g, &g->events);
    if (!w) return;
    row_set(w, 1, 1, h.ts);
    row_set(w, 2, id[S_HOST] > 0, id[S_HOST]);
    row_set(w, 3, id[S_USER] > 0, id[S_USER]);
    row_set(w, 4, 1, h.eid);
    row_set(w, 5, h.lid != 0, h.lid);
    int64_t src = id[S_IP] > 0 ? id[S_IP] : id[S_WS];
    row_set(w, 6, src > 0, src);
    row_set(w, 7, id[S_OBJ] > 0, id[S_OBJ]);
    row_set(w, 8, h.acc != 0, h.acc);
    row_set(w, 9, h.bytes >= 0, h.bytes);
    row_set(w, 10, id[S_PROC] > 0, id[S_PROC]);
    row_set(w, 11, 1, g->cur_file_row);
    row_set(w, 12, 1, (int64_t)h.record_id);
    g->cur_events++;
    if (h.kind != NO_KIND) {
        if (!(w = rowbuf_add(g, &g->logons))) return;
        row_set(w, 1, 1, h.ts);
        row_set(w, 2, id[S_HOST] > 0, id[S_HOST]);
        row_set(w, 3, id[S_USER] > 0, id[S_USER]);
        row_set(w, 4, h.lid != 0, h.lid);
        row_set(w, 5, h.ltype >= 0, h.ltype);
        row_set(w, 6, id[S_IP] > 0, id[S_IP]);
        row_set(w, 7, id[S_WS] > 0, id[S_WS]);
        row_set(w, 8, 1, h.kind);
        row_set(w, 9, id[S_TUSER] > 0, id[S_TUSER]);
        row_set(w, 10, id[S_TSERVER] > 0, id[S_TSERVER]);
    }
    if (id[S_RUN] > 0) {
        if (!(w = rowbuf_add(g, &g->runs))) return;
        row_set(w, 1, 1, id[S_RUN]);
        row_set(w, 2, id[S_RUN_SERVER] > 0, id[S_RUN_SERVER]);
        row_set(w, 3, 1, h.ts);
        row_set(w, 4, id[S_HOST] > 0, id[S_HOST]);
        row_set(w, 5, 1, g->cur_file_row);
        row_set(w, 6, 1, (int64_t)h.record_id);
    }
    /* Addresses: a logon naming both the workstation and its address, or a Sysmon network
     * event of the host about itself. */
    int learn = (h.kind == KZ_LOGON && s[S_WS] && s[S_IP] && usable_ip(s[S_IP], n[S_IP]));
    if (!learn && h.eid == 3 && s[S_WS] && s[S_IP] && s[S_HOST] && usable_ip(s[S_IP], n[S_IP])) {
        char hk[256], name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n[S_HOST] < 255 ? n[S_HOST] : 255), s[S_HOST]);
        kz_store_host_key(name, hk, sizeof hk);
        learn = strlen(hk) == n[S_WS] && !memcmp(hk, s[S_WS], n[S_WS]);
    }
    if (learn) {
        sqlite3_bind_int64(g->ins_addr, 1, id[S_IP]);
        sqlite3_bind_int64(g->ins_addr, 2, id[S_WS]);
        if (sqlite3_step(g->ins_addr) != SQLITE_DONE) db_fail(g, "recording an address");
        sqlite3_reset(g->ins_addr);
    }
}

static void insert_records(struct ingest *g, const char *data, size_t len) {
    const char *p = data, *end = data + len;
    while (p + 5 <= end) {
        char type = *p++;
        uint32_t n;
        memcpy(&n, p, 4);
        p += 4;
        if (n > (size_t)(end - p)) break;
        if (type == 'E') insert_record(g, p);
        p += n;
    }
}

static void write_text(void *ctx, const char *data, size_t len) {
    insert_records(ctx, data, len);
}

static void write_out(void *ctx, const char *data, size_t len) {
    struct ingest *g = ctx;
    insert_records(g, data, len);
    if (g->o->progress)
        g->o->progress(g->o->ctx, kz_evtx_reader_bytes(g->reader), g->total_bytes,
                       kz_evtx_reader_stats(g->reader)->records);
}

static void report_problem(void *ctx, const char *path, const char *msg) {
    struct ingest *g = ctx;
    if (!g->o->report) return;
    char line[1024];
    snprintf(line, sizeof line, "%s: %s", path, msg);
    g->o->report(g->o->ctx, line);
}

static void report_source(void *ctx, const char *msg) {
    struct ingest *g = ctx;
    if (g->o->report) g->o->report(g->o->ctx, msg);
}

/* ---- copying into objects/ ---- */

/* Copying and hashing run on the pool's workers, several files at a time (the copy is most of
 * the I/O and all of the hashing); the main thread then takes the copies in source order, asks
 * the database whether those bytes are already stored, and renames or drops each. A copy is
 * written under a temporary name unique to its slot, so the rename is the only step that makes
 * it an object. */
struct copy_job {
    struct kz_job job;
    const char *src; /* the source as given */
    char *tmp;       /* objects/.incoming.<pid>.<slot> */
    char sha[KZ_SHA256_HEX];
    uint64_t size;
    struct kz_err err;
};

#define COPY_BUF (1u << 20)

static void copy_run(void *arg) {
    struct copy_job *c = arg;
    int in = -1, out = -1;
    char *buf = kz_malloc(COPY_BUF);
    c->err.code = 0;
    if (!buf) {
        kz_err_set(&c->err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    if ((in = open(c->src, O_RDONLY)) < 0) {
        kz_err_set(&c->err, KZ_EIO, "%s: %s", c->src, strerror(errno));
        goto out;
    }
    if ((out = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0444)) < 0) {
        kz_err_set(&c->err, KZ_EIO, "%s: %s", c->tmp, strerror(errno));
        goto out;
    }
    struct kz_sha256 h;
    if (kz_sha256_init(&h)) {
        kz_err_set(&c->err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    ssize_t n;
    uint64_t size = 0;
    while ((n = read(in, buf, COPY_BUF)) > 0) {
        kz_sha256_update(&h, buf, (size_t)n);
        if (write(out, buf, (size_t)n) != n) {
            n = -1;
            break;
        }
        size += (uint64_t)n;
    }
    /* start writing it to disk now; the sync thread's fdatasync then has little to wait for */
    if (n >= 0) sync_file_range(out, 0, 0, SYNC_FILE_RANGE_WRITE);
    if (kz_sha256_final_hex(&h, c->sha) || n < 0) {
        kz_err_set(&c->err, KZ_EIO, "%s: copying into the store: %s", c->src, strerror(errno));
        goto out;
    }
    c->size = size;
out:
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (c->err.code) unlink(c->tmp);
    kz_free(buf);
}

/* Takes a finished copy: p gets its digest and size, and the copy becomes objects/<sha256>
 * unless the store already has those bytes (*known set, copy dropped). */
static int copy_finish(struct ingest *g, struct copy_job *c, struct pending *p, int *known,
                       struct kz_err *err) {
    *known = 0;
    if (c->err.code) {
        *err = c->err;
        return c->err.code;
    }
    memcpy(p->sha, c->sha, sizeof p->sha);
    p->size = c->size;
    sqlite3_bind_text(g->last, 1, p->sha, -1, SQLITE_STATIC);
    *known = sqlite3_step(g->last) == SQLITE_ROW;
    sqlite3_reset(g->last);
    if (*known) {
        unlink(c->tmp);
        return 0;
    }
    char rel[128];
    snprintf(rel, sizeof rel, "objects/%s", p->sha);
    char *dst = store_path(g->s, rel);
    int rc = 0;
    if (!dst)
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
    else if (rename(c->tmp, dst) != 0)
        rc = kz_err_set(err, KZ_EIO, "%s: %s", dst, strerror(errno));
    if (rc) unlink(c->tmp);
    kz_free(dst);
    return rc;
}

/* The chain's end, from the database; HEAD is brought up to it (after a kill between a commit
 * and the HEAD update). */
static int chain_end(struct ingest *g) {
    memset(g->prev_hash, '0', 64);
    g->prev_hash[64] = 0;
    g->prev_id = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(g->s->db, "SELECT id, hash FROM batches ORDER BY id DESC LIMIT 1", -1,
                           &q, NULL) != SQLITE_OK)
        return db_fail(g, "reading the chain");
    if (sqlite3_step(q) == SQLITE_ROW) {
        g->prev_id = sqlite3_column_int64(q, 0);
        snprintf(g->prev_hash, sizeof g->prev_hash, "%s", (const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_finalize(q);
    if (g->prev_id) write_head(g);
    return 0;
}

/* ---- putting the copies on disk ----
 * A thread of its own fdatasyncs each copy once it has its name (it waits on the disk, not the
 * CPU, so it takes nothing from the workers), while the main thread goes on indexing; a commit
 * waits only for what is still queued. Each file is synced by itself rather than with one
 * syncfs: syncfs flushes every dirty page of the whole file system, other programs' too, and
 * took seconds on a shared machine. copy_run starts each copy's writeback as soon as it is
 * written (sync_file_range), so little is left to wait for. */
struct syncer {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct kz_store *s;
    struct pending *files;
    uint32_t queued, done; /* files[done, queued) wait for their fdatasync */
    int stop;
    int err;               /* errno of the first failure, 0 */
    uint32_t err_file;     /* and which file */
};

/* fdatasync of objects/<sha>; 0 or an errno. */
static int sync_copy(struct kz_store *s, const char *sha) {
    char rel[128];
    snprintf(rel, sizeof rel, "objects/%s", sha);
    char *path = store_path(s, rel);
    if (!path) return ENOMEM;
    int fd = open(path, O_RDONLY);
    int e = fd < 0 || fdatasync(fd) != 0 ? errno : 0;
    if (fd >= 0) close(fd);
    kz_free(path);
    return e;
}

/* Drops objects/<sha> from the page cache. Ingest does not read a copy again once the decoder
 * has read it, and once it is on disk its pages are clean and can go. Without this, an ingest
 * fills the page cache with its copies (as much as the logs: 5.9 GB for a 6.9M-event estate),
 * pushing out what other programs cache, and every further copy's pages must be reclaimed first:
 * writing into freshly reclaimed pages was a quarter of all ingest samples (perf, 6.9M events),
 * against about a third of that when the pages of dropped copies are reused. */
static void drop_copy(struct kz_store *s, const char *sha) {
    char rel[128];
    snprintf(rel, sizeof rel, "objects/%s", sha);
    char *path = store_path(s, rel);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    kz_free(path);
}

static void *syncer_run(void *arg) {
    struct syncer *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (y->done == y->queued && !y->stop)
            pthread_cond_wait(&y->cv, &y->mu);
        if (y->done == y->queued) break;
        uint32_t i = y->done;
        pthread_mutex_unlock(&y->mu);
        int e = sync_copy(y->s, y->files[i].sha);
        pthread_mutex_lock(&y->mu);
        if (e && !y->err) {
            y->err = e;
            y->err_file = i;
        }
        y->done++;
        int drop = !e && y->files[i].decoded; /* read already: its pages can go now */
        pthread_cond_broadcast(&y->cv);
        if (drop) {
            pthread_mutex_unlock(&y->mu);
            drop_copy(y->s, y->files[i].sha);
            pthread_mutex_lock(&y->mu);
        }
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

/* files[i] (EVTX) has been read by the decoder: its copy leaves the page cache once it is on
 * disk, here when it is already, else by the sync thread right after its fdatasync. */
static void syncer_decoded(struct syncer *y, uint32_t i) {
    if (!y->started) return; /* copies are synced at commit: left to the kernel */
    pthread_mutex_lock(&y->mu);
    int synced = y->done > i && !y->err;
    if (y->done <= i) y->files[i].decoded = 1;
    pthread_mutex_unlock(&y->mu);
    if (synced) drop_copy(y->s, y->files[i].sha);
}

/* files[0, n) have their names in objects/: queue the new ones. */
static void syncer_push(struct syncer *y, uint32_t n) {
    if (!y->started) return;
    pthread_mutex_lock(&y->mu);
    y->queued = n;
    pthread_cond_broadcast(&y->cv);
    pthread_mutex_unlock(&y->mu);
}

/* Waits until files[0, n) are synced (syncing them here when the thread could not start);
 * returns the first failure's errno (file index in *which), or 0. */
static int syncer_wait(struct syncer *y, uint32_t n, uint32_t *which) {
    if (!y->started) {
        for (; y->done < n; y->done++) {
            int e = sync_copy(y->s, y->files[y->done].sha);
            if (e && !y->err) {
                y->err = e;
                y->err_file = y->done;
            }
        }
        *which = y->err_file;
        return y->err;
    }
    pthread_mutex_lock(&y->mu);
    while (y->done < n && !y->err)
        pthread_cond_wait(&y->cv, &y->mu);
    int e = y->err;
    *which = y->err_file;
    pthread_mutex_unlock(&y->mu);
    return e;
}

static void syncer_stop(struct syncer *y) {
    if (!y->started) return;
    pthread_mutex_lock(&y->mu);
    y->stop = 1;
    pthread_cond_broadcast(&y->cv);
    pthread_mutex_unlock(&y->mu);
    pthread_join(y->thread, NULL);
    pthread_mutex_destroy(&y->mu);
    pthread_cond_destroy(&y->cv);
    y->started = 0;
}

/* Puts every copy made so far on disk (the sync thread's fdatasyncs), then their names (an
 * fsync of objects/, for the renames). */
static int sync_objects(struct ingest *g) {
    if (!g->unsynced) return 0;
    double t = g->profile ? now_s(CLOCK_MONOTONIC) : 0;
    uint32_t which = 0;
    int e = syncer_wait(g->syncer, g->nfiles, &which);
    if (e) {
        kz_err_set(&g->err, KZ_EIO, "%s/objects/%s: cannot flush to disk: %s", g->s->dir,
                   g->files[which].sha, strerror(e));
        g->failed = 1;
        return KZ_EIO;
    }
    char *objdir = store_path(g->s, "objects");
    int fd = objdir ? open(objdir, O_RDONLY | O_DIRECTORY) : -1;
    int ok = fd >= 0 && fsync(fd) == 0;
    if (g->profile) g->sync_s += now_s(CLOCK_MONOTONIC) - t;
    if (fd >= 0) close(fd);
    kz_free(objdir);
    if (!ok) {
        kz_err_set(&g->err, KZ_EIO, "%s/objects: cannot flush to disk: %s", g->s->dir,
                   strerror(errno));
        g->failed = 1;
        return KZ_EIO;
    }
    g->unsynced = 0;
    return 0;
}

/* A bulk load writes under a rollback journal instead of WAL. Nothing can read the store while
 * its query indexes are dropped (scope and timeline say it is being loaded), so WAL's readers
 * beside the writer buy nothing here, and it costs: every page is written twice, once to the
 * log and again when the log is copied into the database (the checkpoint, with its fsync, at
 * the latest when ingest closes the store), while a rollback journal keeps only the old
 * contents of pages that existed before the transaction, and a load into a new store appends
 * almost only new pages. It is as crash-safe (synchronous=FULL; a kill leaves a hot journal that
 * the next open rolls back). Leaving WAL needs the store to ourselves: when a reader has it open,
 * the switch fails and the load stays in WAL, which is correct, only slower. */
static void journal_for_bulk(struct ingest *g) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(g->s->db, "PRAGMA journal_mode=TRUNCATE", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(q, 0);
        g->rollback = mode && !strcmp(mode, "truncate");
    }
    sqlite3_finalize(q);
}

/* Queues files[i] (EVTX) for decoding; its records arrive through write_out. */
static void add_evtx(struct ingest *g, uint32_t i) {
    char objrel[128];
    snprintf(objrel, sizeof objrel, "objects/%s", g->files[i].sha);
    char *obj = store_path(g->s, objrel);
    struct kz_err e = {0};
    /* decode the stored copy: what is indexed is what is kept */
    if (!obj || kz_evtx_reader_add_file(g->reader, obj, i, &e)) {
        if (g->o->report) g->o->report(g->o->ctx, obj ? e.msg : "out of memory");
    }
    kz_free(obj);
}

int kz_store_ingest(struct kz_store *s, const char *const *paths, int npaths,
                    const struct kz_store_ingest_opts *o, struct kz_store_ingest_stats *st,
                    struct kz_err *err) {
    static const struct kz_store_ingest_opts none = {0};
    if (!o) o = &none;
    memset(st, 0, sizeof *st);
    struct ingest g = {.s = s, .o = o, .st = st, .cur = -1};
    g.profile = getenv("KZ_STORE_PROFILE") != NULL;
    g.t0 = now_s(CLOCK_MONOTONIC);
    kz_buf_init(&g.batch_text, 256u << 20);
    /* The crash test uses small batches, to kill ingest between and inside many of them. */
    g.batch_max_files = BATCH_MAX_FILES;
    const char *bf = getenv("KZ_STORE_BATCH_FILES");
    if (bf) {
        unsigned long v = strtoul(bf, NULL, 10);
        if (v >= 1 && v <= BATCH_MAX_FILES) g.batch_max_files = (uint32_t)v;
    }
    const char *ka = getenv("KZ_STORE_KILL_AFTER_COMMIT");
    if (ka) g.kill_after_commit = strtoll(ka, NULL, 10);
    struct kz_sources src = {0};
    struct kz_pool *pool = NULL;
    struct kz_text_reader *text = NULL;
    struct syncer syncer = {.s = s};
    g.syncer = &syncer;
    int rc = 0;
    sqlite3 *db = s->db;
    /* One ingest at a time (a second is refused, not interleaved); readers see the lock and
     * leave the indexes of a bulk load to us. */
    int own_lock = s->lock_fd < 0; /* kz_store_open(create) took it already */
    if (own_lock && (rc = store_ingest_lock(s, err))) goto out;
    /* WAL while ingesting, so that scope and timeline can read the store meanwhile: a
     * reader sees the last committed batch and neither waits for ingest nor makes it wait (with
     * a rollback journal, each commit had to wait for every reader to finish, and failed after
     * the 10 s busy timeout). It is as crash-safe with synchronous=FULL (the log is synced at
     * each commit; a kill leaves a log the next open replays up to its last commit).
     * Stores still in rollback mode are switched; when another process has one open, the switch
     * cannot happen and this ingest keeps the rollback journal (commits then wait for readers
     * up to the busy timeout). A bulk load is the exception (journal_for_bulk). */
    uint64_t stored_bytes = 0;
    sqlite3_stmt *sz = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(size),0) FROM files", -1, &sz, NULL) ==
            SQLITE_OK &&
        sqlite3_step(sz) == SQLITE_ROW)
        stored_bytes = (uint64_t)sqlite3_column_int64(sz, 0);
    sqlite3_finalize(sz);
    if (stored_bytes == 0)
        journal_for_bulk(&g);
    else
        store_exec(s, "PRAGMA journal_mode=WAL", NULL);
    /* what a killed ingest left in objects/ (partial copies nothing refers to) */
    uint32_t leftovers = store_partial_copies(s, 1);
    if (leftovers && o->report) {
        char msg[160];
        snprintf(msg, sizeof msg, "removed %u partial copies left by an interrupted ingest",
                 leftovers);
        o->report(o->ctx, msg);
    }
    if (rowbuf_prepare(db, &g.events, "events", 12) ||
        rowbuf_prepare(db, &g.logons, "logons", 10) || rowbuf_prepare(db, &g.runs, "runs", 6) ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO addrs VALUES(?,?)", -1, &g.ins_addr, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO hosts VALUES(?,?)", -1, &g.ins_host, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO files VALUES(?,?,?,?,?,?)", -1, &g.ins_file, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO batches VALUES(?,?,?,?)", -1, &g.ins_batch, NULL) ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM files WHERE sha256=?", -1, &g.last, NULL)) {
        rc = kz_err_set(err, KZ_EIO, "%s/kizuki.db: %s", s->dir, sqlite3_errmsg(db));
        goto out;
    }
    if (chain_end(&g)) {
        *err = g.err;
        rc = KZ_EIO;
        goto out;
    }
    for (int i = 0; i < npaths; i++)
        if (kz_sources_add(&src, paths[i], report_source, &g)) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory listing inputs");
            goto out;
        }
    st->files_failed = src.errors;
    g.files = kz_calloc(src.n + 1, sizeof *g.files);
    if (!g.files) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    syncer.files = g.files;
    pthread_mutex_init(&syncer.mu, NULL);
    pthread_cond_init(&syncer.cv, NULL);
    if (pthread_create(&syncer.thread, NULL, syncer_run, &syncer) == 0) {
        syncer.started = 1;
    } else { /* then sync_objects syncs the copies itself */
        pthread_mutex_destroy(&syncer.mu);
        pthread_cond_destroy(&syncer.cv);
    }
    /* EVTX files first, then the text logs: each reader delivers in file order, and the batches
     * follow the files array, so the two kinds must not interleave in it (a stable partition of
     * the sources, so the order within each kind is the listing's). */
    {
        struct kz_source *sorted = kz_calloc(src.n + 1, sizeof *sorted);
        if (!sorted) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto out;
        }
        uint32_t k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (uint32_t i = 0; i < src.n; i++)
                if ((src.v[i].format == KZ_FMT_EVTX) == (pass == 0)) sorted[k++] = src.v[i];
        if (src.n) memcpy(src.v, sorted, src.n * sizeof *sorted);
        kz_free(sorted);
    }
    /* Into an empty store, each EVTX file is decoded and indexed as soon as its copy is in
     * objects/, while the next files are copied (pipe); the sync thread puts the copies on disk
     * meanwhile, and each batch's commit waits for it. Into a store that has files, all are copied first: which
     * are new, and so whether this is a bulk load, is only known once every file is hashed. */
    int pipe = stored_bytes == 0;
    /* Inserting many rows into the six query indexes costs several times what sorting them once
     * does; a small addition to a large store keeps them. */
    g.bulk = pipe;
    pool = kz_pool_new(o->threads);
    struct kz_evtx_reader_opts ro = {
        .emit = emit, .write = write_out, .report = report_problem, .ctx = &g};
    g.reader = pool ? kz_evtx_reader_new(pool, &ro) : NULL;
    if (!g.reader) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory starting the decoder");
        goto out;
    }
    /* a window of copies in flight: enough to keep every worker busy, few temporary files */
    uint32_t window = (uint32_t)kz_pool_threads(pool) * 2 + 2;
    struct copy_job *cj = kz_calloc(window, sizeof *cj);
    uint32_t submitted = 0, waited = 0; /* copies [waited, submitted) are in flight */
    if (!cj) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t k = 0; k < window; k++) {
        char tmpname[64];
        snprintf(tmpname, sizeof tmpname, "objects/.incoming.%ld.%u", (long)getpid(), k);
        if (!(cj[k].tmp = store_path(s, tmpname))) {
            rc = kz_err_set(err, KZ_ENOMEM, "out of memory");
            goto copy_out;
        }
    }
    for (uint32_t i = 0; i < src.n && !g.failed; i++) {
        for (; submitted < src.n && submitted < i + window; submitted++) {
            struct copy_job *c = &cj[submitted % window];
            c->src = src.v[submitted].path;
            kz_pool_submit(pool, &c->job, copy_run, c);
        }
        struct copy_job *c = &cj[i % window];
        kz_job_wait(&c->job);
        waited = i + 1;
        struct pending *p = &g.files[g.nfiles];
        int known = 0;
        struct kz_err e = {0};
        if (copy_finish(&g, c, p, &known, &e)) {
            if (e.code == KZ_ENOMEM) {
                *err = e;
                rc = KZ_ENOMEM;
                break;
            }
            st->files_failed++;
            if (o->report) o->report(o->ctx, e.msg);
            continue;
        }
        /* the same bytes twice in one run count once */
        for (uint32_t k = 0; k < g.nfiles && !known; k++)
            known = !strcmp(g.files[k].sha, p->sha);
        if (known) {
            st->files_known++;
            continue;
        }
        p->path = src.v[i].path;
        p->format = src.v[i].format;
        if (p->format != KZ_FMT_EVTX && !kz_text_format_ok(p->format)) st->files_unindexed++;
        g.total_bytes += p->size;
        g.nfiles++;
        g.unsynced = 1;
        syncer_push(&syncer, g.nfiles);
        if (pipe && p->format == KZ_FMT_EVTX) {
            add_evtx(&g, g.nfiles - 1);
            syncer_decoded(&syncer, g.nfiles - 1);
        }
    }
copy_out:
    profile_mark(&g, "copied");
    /* after an early stop, the copies still in flight finish before their slots go */
    for (; waited < submitted; waited++)
        kz_job_wait(&cj[waited % window].job);
    for (uint32_t i = 0; i < window; i++) {
        if (cj[i].tmp) unlink(cj[i].tmp);
        kz_free(cj[i].tmp);
    }
    kz_free(cj);
    if (rc) goto out;
    if (!pipe) {
        /* Every copy (data and directory entry) on disk before the first commit names it. */
        if (sync_objects(&g)) {
            *err = g.err;
            rc = KZ_EIO;
            goto out;
        }
        g.bulk = g.total_bytes >= stored_bytes / 2 && g.total_bytes > 0;
        if (g.bulk) journal_for_bulk(&g);
        for (uint32_t i = 0; i < g.nfiles && !g.failed; i++)
            if (g.files[i].format == KZ_FMT_EVTX) {
                add_evtx(&g, i);
                syncer_decoded(&syncer, i);
            }
    }
    kz_evtx_reader_flush(g.reader);
    profile_mark(&g, "evtx indexed");
    struct kz_text_reader_opts to = {
        .emit = emit_text, .write = write_text, .report = report_problem, .ctx = &g};
    text = kz_text_reader_new(pool, &to);
    if (!text) {
        rc = kz_err_set(err, KZ_ENOMEM, "out of memory starting the text reader");
        goto out;
    }
    for (uint32_t i = 0; i < g.nfiles && !g.failed; i++) {
        if (!kz_text_format_ok(g.files[i].format)) continue;
        char objrel[128];
        snprintf(objrel, sizeof objrel, "objects/%s", g.files[i].sha);
        char *obj = store_path(s, objrel);
        struct kz_err e = {0};
        if (!obj || kz_text_reader_add_file(text, obj, g.files[i].format, i, &e)) {
            if (o->report) o->report(o->ctx, obj ? e.msg : "out of memory");
        }
        kz_free(obj);
    }
    kz_text_reader_flush(text);
    profile_mark(&g, "text indexed");
    if (!g.failed) advance(&g, (int64_t)g.nfiles);
    if (!g.failed) commit_batch(&g);
    profile_mark(&g, "committed");
    if (!g.failed && g.dropped && store_ensure_indexes(s, &g.err)) g.failed = 1;
    profile_mark(&g, "indexes built");
    if (g.failed) {
        if (g.in_tx) store_exec(s, "ROLLBACK", NULL);
        store_cache_clear(s);
        *err = g.err;
        rc = g.err.code ? g.err.code : KZ_EIO;
    }
    /* back to WAL, for readers of the loaded store and for later ingests */
    if (g.rollback) store_exec(s, "PRAGMA journal_mode=WAL", NULL);
    st->bad_records =
        kz_evtx_reader_stats(g.reader)->bad_records + kz_text_reader_stats(text)->bad_lines;
out:
    syncer_stop(&syncer);
    if (own_lock) store_ingest_unlock(s);
    if (text) kz_text_reader_free(text);
    if (g.reader) kz_evtx_reader_free(g.reader);
    kz_pool_free(pool);
    rowbuf_finalize(&g.events);
    rowbuf_finalize(&g.logons);
    rowbuf_finalize(&g.runs);
    sqlite3_finalize(g.ins_addr);
    sqlite3_finalize(g.ins_host);
    sqlite3_finalize(g.ins_file);
    sqlite3_finalize(g.ins_batch);
    sqlite3_finalize(g.last);
    kz_free(g.files);
    kz_buf_free(&g.batch_text);
    kz_sources_free(&src);
    return rc;
}
