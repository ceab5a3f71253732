/* store.h - the evidence store: source files kept verbatim, a hash chain of ingest batches, and an
 * SQLite index of the normalised events that scope and timeline query.
 *
 * Layout of a store directory (DESIGN.md, "Evidence store and scope"):
 *   DIR/objects/<sha256>   every ingested file, byte for byte, named by its SHA-256
 *   DIR/kizuki.db          SQLite (WAL, so that readers run beside an ingest): names, files,
 *                          batches (the chain), events, logons, addrs, hosts
 *   DIR/ingest.lock        flock held by the running ingest (empty; readers only test it)
 *   DIR/HEAD               "<batch id> <hash>" of the last committed batch, an anchor outside the
 *                          database so that rewriting the chain's last rows is noticed too
 * A batch is up to 256 source files (or 2M events): the copies are on disk (fdatasync of each)
 * before anything commits, then the batch's events, file rows and chain row commit in one transaction, so
 * a kill at any moment loses at most the batch being indexed and the next ingest picks its files
 * up again (a file whose SHA-256 is in the files table is skipped).
 *
 * Chain: hash(n) = SHA-256 of the text "kizuki-batch\n<n>\n<prev hash>\n<created>\n" followed by
 * "<sha256> <size> <events> <name>\n" for each of its files in id order (prev hash of batch 1: 64
 * zeros). Verify recomputes every link and re-hashes every object.
 *
 * Ownership: kz_store owns its SQLite handle and caches; strings it returns point into its
 * caches or SQLite and are valid until the next call on the same store. */
#ifndef KZ_STORE_H
#define KZ_STORE_H

#include "../core/error.h"
#include "../core/timeutil.h"

#include <sqlite3.h>
#include <stdint.h>

struct kz_store;

/* Event-level access flags kept per file event (events.acc). */
enum {
    KZ_ACC_READ = 1,
    KZ_ACC_WRITE = 2,
    KZ_ACC_DELETE = 4,
    KZ_ACC_RENAME = 8,
};

/* logons.kind */
enum {
    KZ_LOGON = 0,    /* 4624: a session starts (user, host, logon id, type, source) */
    KZ_LOGOFF = 1,   /* 4634 / 4647: it ends */
    KZ_EXPLICIT = 2, /* 4648: inside session (host, lid) of user, credentials of tuser used
                      * towards tserver */
    KZ_VPN = 3,      /* FortiGate SSL-VPN tunnel of user on host (the gateway): lid the tunnel
                      * id, ip the remote address, ws the tunnel address, ltype 1 up / 0 down */
    KZ_WEB = 4,      /* a web request to host (the server) from ip, by user when logged: ltype
                      * the HTTP status; the request is the events row's obj */
};

#define KZ_STORE_NAME_MAX 4096 /* longest string kept in the index; longer ones are cut */

/* Opens (create != 0: creating it when missing) the store at dir. create is for the writer
 * (ingest): it takes the ingest lock (DIR/ingest.lock) until kz_store_close, and fails with
 * KZ_EIO when another ingest holds it. Returns 0, KZ_EIO (not a store, cannot create, another
 * ingest), KZ_ECORRUPT (the database is damaged) or KZ_ENOMEM, with err set. */
int kz_store_open(const char *dir, int create, struct kz_store **out, struct kz_err *err);
void kz_store_close(struct kz_store *s);
sqlite3 *kz_store_db(struct kz_store *s);
const char *kz_store_dir(const struct kz_store *s);

/* ---- ingest ---- */

struct kz_store_ingest_opts {
    int threads; /* decoding threads, <= 0: one per CPU */
    /* Progress (bytes done of total, events so far) and problems (a file that cannot be read,
     * damaged records): may be NULL. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, uint64_t events);
    void (*report)(void *ctx, const char *msg);
    void *ctx;
};

struct kz_store_ingest_stats {
    uint32_t files_added;   /* new files copied and indexed */
    uint32_t files_known;   /* skipped: the same bytes were already in the store */
    uint32_t files_failed;  /* could not be read, or in no format kizuki reads */
    uint32_t files_unindexed; /* added as evidence but not indexed (a format no reader indexes) */
    uint64_t events;        /* events indexed */
    uint64_t bad_records;   /* damaged records skipped */
    uint64_t bytes;         /* bytes of new files */
};

/* Ingests every log file under paths (files or folders): EVTX and the text logs kizuki reads
 * (JSON lines, web access logs, FortiGate) are indexed. Returns 0 or a KZ_E* status with err
 * set; files that cannot be read are reported and counted, not fatal. */
int kz_store_ingest(struct kz_store *s, const char *const *paths, int npaths,
                    const struct kz_store_ingest_opts *o, struct kz_store_ingest_stats *st,
                    struct kz_err *err);

/* ---- verify ---- */

struct kz_store_verify {
    uint32_t batches, files;
    uint32_t problems;    /* 0: the store is intact */
    uint32_t partial_copies; /* objects/.incoming.* left by a killed ingest: not evidence, not a
                              * problem; the next ingest removes them */
    char first[1024];     /* the first problem, as a sentence naming the batch or file */
};

/* Walks the chain from batch 1, re-hashes every stored file, checks HEAD and the event counts.
 * report (may be NULL) gets every problem in order. Returns 0 (check v->problems) or a KZ_E*
 * status when the store cannot be read at all. */
int kz_store_verify(struct kz_store *s, struct kz_store_verify *v,
                    void (*report)(void *ctx, const char *msg), void *ctx, struct kz_err *err);

/* 1 when the store was opened while a bulk ingest was loading it: its query indexes are not
 * built yet (ingest builds them when it ends), so scope and timeline would scan whole tables.
 * They refuse instead, saying so; verify does not need the indexes. */
int kz_store_loading(const struct kz_store *s);
/* The store's format: 2 now; 1 for a store made before the runs table (read and verified, not
 * added to; scope cannot tell the hosts that ran a file the account wrote on a share). */
int kz_store_format(const struct kz_store *s);

/* A query's read snapshot: refused (err set, what names the command: "run scope again then") while
 * a bulk load runs, else one read transaction, so that while an ingest commits batches (WAL) every
 * query of one answer sees the same committed state, not a mix. Returns 0 or an error code;
 * kz_store_read_end ends it (also after a failed query). */
int kz_store_read_begin(struct kz_store *s, const char *what, struct kz_err *err);
void kz_store_read_end(struct kz_store *s);

/* ---- names ---- */

/* The id of an indexed string, or 0 when the store has never seen it. */
int64_t kz_store_name_id(struct kz_store *s, const char *text);
/* The text of a name id ("" for 0 or unknown); valid until the next call of this function. */
const char *kz_store_name(struct kz_store *s, int64_t id);

/* How account names are keyed: the domain part ("CORP\\" or "@corp") dropped, lowercased, cut at
 * size - 1. Returns out. */
char *kz_store_user_key(const char *user, char *out, size_t size);
/* How device names are keyed: the first label of a host name, uppercased ("ws01.corp" -> "WS01").
 */
char *kz_store_host_key(const char *host, char *out, size_t size);
/* How addresses are keyed: an IPv4-mapped IPv6 prefix ("::ffff:") dropped, lowercased. */
char *kz_store_ip_key(const char *ip, char *out, size_t size);

/* ---- programs and scripts run from a share ----
 * A process started from a file on a share (4688, Sysmon 1: the program's path or its command
 * line names \\server\share\...\x.bat) is kept in the runs table, so that scope can tell which
 * hosts ran a file the account wrote there (the Night Sky GPO batch file: every domain machine
 * runs it as SYSTEM, and no event on those machines names the account). */

/* The first UNC path in text (quoted, or ending at a blank) naming a program or script: its start,
 * its length in *len, and its key and server as kz_store_run_key gives them. NULL when there is
 * none. */
const char *kz_store_unc_run(const char *text, size_t *len, char *key, size_t size, char *srv,
                             size_t srvsize);
/* The key a run and a written file are matched by, for the UNC path path[0..n): "SHARE\REL",
 * ASCII uppercased, '/' read as '\'; the server's device key (kz_store_host_key) in srv. NULL
 * unless path is \\server\share\rel and rel's last part has a program or script extension
 * (.exe .com .scr .bat .cmd .ps1 .vbs .vbe .js .jse .wsf .hta .msi .dll .cpl): a document opened
 * from a share is not a program the writer ran there. */
char *kz_store_run_key(const char *path, size_t n, char *key, size_t size, char *srv,
                       size_t srvsize);

#endif
