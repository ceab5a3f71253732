/* store_int.h - what store.c and ingest.c share: the store handle and the name cache. Private to
 * src/store. */
#ifndef KZ_STORE_INT_H
#define KZ_STORE_INT_H

#include "store.h"

#include "../core/arena.h"
#include "../core/buf.h"

#include <stddef.h>

#define STORE_CACHE_MAX (1u << 22) /* names cached in memory; the cache is emptied beyond this */

struct name_slot {
    uint64_t hash;
    int64_t id;
    const char *text; /* in the cache arena */
    size_t len;
};

struct kz_store {
    char *dir;
    sqlite3 *db;
    sqlite3_stmt *name_get, *name_put, *name_text;
    /* name text -> id, for ingest: open addressing, power-of-two size */
    struct name_slot *slots;
    uint32_t nslots, nnames;
    struct kz_arena names;
    char *text_buf; /* kz_store_name's result */
    size_t text_cap;
    int lock_fd;    /* DIR/ingest.lock while this process ingests, else -1 */
    int loading;    /* opened while a bulk ingest had the indexes dropped */
    int read_tx;    /* kz_store_read_begin opened a read transaction */
    int format;     /* meta 'format': 1 before the runs table, 2 */
};

/* The query indexes (CREATE ... IF NOT EXISTS) and their DROP statements. */
extern const char store_index_sql[], store_drop_index_sql[];
/* Builds the query indexes when any is missing (after a bulk ingest, or one killed before it
 * built them); 0 or KZ_EIO with err set. */
int store_ensure_indexes(struct kz_store *s, struct kz_err *err);
/* Takes the ingest lock (DIR/ingest.lock, flock): 0, or KZ_EIO with err set when another
 * ingest holds it. Released by store_ingest_unlock or kz_store_close. */
int store_ingest_lock(struct kz_store *s, struct kz_err *err);
void store_ingest_unlock(struct kz_store *s);
/* 1 when another process is ingesting into the store now. */
int store_ingest_running(struct kz_store *s);
/* Executes SQL without results; returns 0 or KZ_EIO with err set. */
int store_exec(struct kz_store *s, const char *sql, struct kz_err *err);
/* The id of text (len bytes), inserting it when new; 0 for NULL, empty or "-". Negative KZ_E* on
 * failure. */
int64_t store_intern(struct kz_store *s, const char *text, size_t len);
/* The same, with hash = store_name_hash(text, len) computed beforehand (ingest's workers hash the
 * names, so the main thread, which alone talks to SQLite, only probes the cache). */
int64_t store_intern_hashed(struct kz_store *s, const char *text, size_t len, uint64_t hash);
/* The name cache's hash of len bytes (len already cut at KZ_STORE_NAME_MAX); never 0. */
uint64_t store_name_hash(const char *text, size_t len);
/* Forgets the cache (after a rolled-back transaction, ids in it may not exist). */
void store_cache_clear(struct kz_store *s);
/* The text a batch's hash covers: the header, then one line per file in file-id order. */
void store_batch_head(struct kz_buf *b, int64_t id, const char *prev, const char *created);
void store_batch_file(struct kz_buf *b, const char *sha, int64_t size, int64_t events,
                      const char *name);
/* Hashes the file at path (0, KZ_EIO or KZ_ENOMEM). */
int store_hash_file(const char *path, char hex[65], uint64_t *size);
/* Partial copies a killed ingest left in objects/ (".incoming.<pid>.<n>", never referred to):
 * counts those whose process is gone and, when remove is set, deletes them. A live ingest's are
 * left alone. */
uint32_t store_partial_copies(struct kz_store *s, int remove);
/* Path of DIR/<rel>, allocated. */
char *store_path(const struct kz_store *s, const char *rel);

#endif
