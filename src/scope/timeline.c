/* timeline.c - `kizuki timeline`: every event of an account or on a host, in time order, as a
 * table, or as Timesketch-ready CSV / JSONL (Timesketch needs `message`, `datetime` and
 * `timestamp_desc`; the other columns become attributes). Rows come straight from the store's
 * (user, ts) and (host, ts) indexes, so memory stays flat whatever the entity's volume. */
#include "scope.h"

#include "../output/findings.h"

#include <stdio.h>
#include <string.h>

static const char sql_user[] =
    "SELECT e.ts, h.s, u.s, e.eid, e.lid, sr.s, o.s, e.acc, e.bytes, p.s, f.name, e.rec "
    "FROM events e LEFT JOIN names h ON h.id=e.host LEFT JOIN names u ON u.id=e.user "
    "LEFT JOIN names sr ON sr.id=e.src LEFT JOIN names o ON o.id=e.obj "
    "LEFT JOIN names p ON p.id=e.proc LEFT JOIN files f ON f.id=e.file "
    "WHERE e.user=?1 AND e.ts BETWEEN ?2 AND ?3 ORDER BY e.ts";
static const char sql_host[] =
    "SELECT e.ts, h.s, u.s, e.eid, e.lid, sr.s, o.s, e.acc, e.bytes, p.s, f.name, e.rec "
    "FROM events e LEFT JOIN names h ON h.id=e.host LEFT JOIN names u ON u.id=e.user "
    "LEFT JOIN names sr ON sr.id=e.src LEFT JOIN names o ON o.id=e.obj "
    "LEFT JOIN names p ON p.id=e.proc LEFT JOIN files f ON f.id=e.file "
    "WHERE e.host IN (SELECT host FROM hosts WHERE ws=?1) AND e.ts BETWEEN ?2 AND ?3 "
    "ORDER BY e.ts";

static const char *col(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static void access_text(int acc, char *out, size_t size) {
    snprintf(out, size, "%s%s%s%s", acc & KZ_ACC_READ ? "read " : "",
             acc & KZ_ACC_WRITE ? "write " : "", acc & KZ_ACC_DELETE ? "delete " : "",
             acc & KZ_ACC_RENAME ? "rename " : "");
    size_t n = strlen(out);
    if (n) out[n - 1] = 0;
}

static void message(struct kz_buf *m, sqlite3_stmt *st, const char *acc) {
    kz_buf_clear(m);
    kz_buf_printf(m, "%d %s on %s", sqlite3_column_int(st, 3), col(st, 2), col(st, 1));
    if (*col(st, 5)) kz_buf_printf(m, " from %s", col(st, 5));
    if (*col(st, 9)) kz_buf_printf(m, " process %s", col(st, 9));
    if (*col(st, 6)) kz_buf_printf(m, " %s %s", *acc ? acc : "object", col(st, 6));
}

static int timeline_run(struct kz_store *s, const struct kz_scope_query *q,
                        enum kz_timeline_format f,
                        void (*write)(void *ctx, const char *p, size_t n), void *ctx,
                        uint64_t *events, struct kz_err *err) {
    *events = 0;
    if (!!q->user == !!q->host) return kz_err_set(err, KZ_EUSAGE, "give one of --user or --host");
    char key[512];
    int64_t id = q->user ? kz_store_name_id(s, kz_store_user_key(q->user, key, sizeof key))
                         : kz_store_name_id(s, kz_store_host_key(q->host, key, sizeof key));
    struct kz_buf out, m;
    kz_buf_init(&out, 64 << 20);
    kz_buf_init(&m, 1 << 20);
    static const char *cols[] = {"message", "datetime", "timestamp_desc", "host", "user",
                                 "event_id", "logon_id", "source", "object", "access", "bytes",
                                 "process", "evidence_file", "record_id"};
    const size_t ncols = sizeof cols / sizeof *cols;
    if (f == KZ_TIMELINE_CSV) {
        for (size_t i = 0; i < ncols; i++)
            kz_buf_printf(&out, "%s%s", i ? "," : "", cols[i]);
        kz_buf_putc(&out, '\n');
    } else if (f == KZ_TIMELINE_TABLE) {
        kz_buf_printf(&out, "%-24s %-24s %-16s %6s  %s\n", "TIME", "HOST", "USER", "EVENT",
                      "DETAILS");
    }
    int rc = 0;
    sqlite3_stmt *st = NULL;
    if (id && sqlite3_prepare_v2(kz_store_db(s), q->user ? sql_user : sql_host, -1, &st, NULL) !=
                  SQLITE_OK) {
        rc = kz_err_set(err, KZ_EIO, "store query failed: %s", sqlite3_errmsg(kz_store_db(s)));
        goto out;
    }
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, q->has_since ? q->since : INT64_MIN);
        sqlite3_bind_int64(st, 3, q->has_until ? q->until : INT64_MAX);
    }
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        char t[KZ_TIME_TEXT_MAX], acc[64], lid[32], num[32], bytes[32], rec[32];
        kz_time_format(sqlite3_column_int64(st, 0), 3, t);
        access_text(sqlite3_column_int(st, 7), acc, sizeof acc);
        snprintf(lid, sizeof lid, "0x%llx", (unsigned long long)sqlite3_column_int64(st, 4));
        snprintf(num, sizeof num, "%d", sqlite3_column_int(st, 3));
        snprintf(rec, sizeof rec, "%lld", (long long)sqlite3_column_int64(st, 11));
        bytes[0] = 0;
        if (sqlite3_column_type(st, 8) != SQLITE_NULL)
            snprintf(bytes, sizeof bytes, "%lld", (long long)sqlite3_column_int64(st, 8));
        message(&m, st, acc);
        const char *v[] = {m.data ? m.data : "", t, "Event Recorded", col(st, 1), col(st, 2),
                           num, sqlite3_column_int64(st, 4) ? lid : "", col(st, 5), col(st, 6),
                           acc, bytes, col(st, 9), col(st, 10), rec};
        if (f == KZ_TIMELINE_CSV) {
            for (size_t i = 0; i < ncols; i++) {
                if (i) kz_buf_putc(&out, ',');
                kz_finding_csv_cell(&out, v[i], strlen(v[i]));
            }
            kz_buf_putc(&out, '\n');
        } else if (f == KZ_TIMELINE_JSONL) {
            kz_buf_putc(&out, '{');
            for (size_t i = 0; i < ncols; i++) {
                kz_buf_printf(&out, "%s\"%s\":\"", i ? "," : "", cols[i]);
                kz_buf_put_json_str(&out, v[i], strlen(v[i]));
                kz_buf_putc(&out, '"');
            }
            kz_buf_puts(&out, "}\n");
        } else {
            kz_buf_printf(&out, "%-24s %-24.24s %-16.16s %6s  ", t, v[3], v[4], num);
            kz_buf_puts(&out, m.data ? m.data : "");
            kz_buf_putc(&out, '\n');
        }
        (*events)++;
        if (out.len > (1 << 20)) {
            write(ctx, out.data, out.len);
            kz_buf_clear(&out);
        }
    }
    if (out.failed) rc = kz_err_set(err, KZ_ELIMIT, "an event too large to print");
    if (out.len) write(ctx, out.data, out.len);
out:
    sqlite3_finalize(st);
    kz_buf_free(&out);
    kz_buf_free(&m);
    return rc;
}

int kz_timeline_run(struct kz_store *s, const struct kz_scope_query *q,
                    enum kz_timeline_format f, void (*write)(void *ctx, const char *p, size_t n),
                    void *ctx, uint64_t *events, struct kz_err *err) {
    *events = 0;
    int rc = kz_store_read_begin(s, "timeline", err); /* one snapshot for the whole timeline */
    if (rc) return rc;
    rc = timeline_run(s, q, f, write, ctx, events, err);
    kz_store_read_end(s);
    return rc;
}
