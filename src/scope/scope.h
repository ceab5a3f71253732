/* scope.h - blast radius: what an account or a host reached, and whose data it was; and the
 * timeline of an account or host. Both read an evidence store (store/store.h).
 *
 * With sources (--source), only the logon sessions that start from those addresses or devices are
 * the attacker's, and every session opened from a session the attacker holds, hop by hop:
 *   - from the held host (the logon names it as workstation, or comes from one of its addresses,
 *     learnt from other logons and Sysmon) by the same account, or by an account whose credentials
 *     were used explicitly (4648) inside the held session, while that session was open;
 *   - towards the server a 4648 names, by the account it names, within 10 minutes of it.
 * A source that is itself a host of the estate (a pivot) only starts sessions of the subject
 * account; an outside source starts sessions of any account (the attacker's own device).
 * hosts, files and customers then describe the subject account inside those sessions; edges show
 * every hop, through other accounts too. Without sources: everything the account did.
 * Web and VPN (text logs): with sources, the web requests from the source addresses (any user:
 * access logs seldom name one) and the subject's VPN tunnels whose remote or tunnel address is a
 * source; without sources, the subject's own requests and tunnels. They are listed apart and do
 * not add hosts (the web server or gateway was not logged on to).
 * A host where a process ran a program or script the account wrote on a share (the Night Sky GPO
 * batch, run as SYSTEM on every machine) is reached too, without a logon (host->ran).
 *
 * Ownership: a result owns its strings (an arena); free it with kz_scope_free. */
#ifndef KZ_SCOPE_H
#define KZ_SCOPE_H

#include "customers.h"

#include "../core/arena.h"
#include "../core/buf.h"
#include "../core/timeutil.h"
#include "../store/store.h"

#include <stdint.h>

#define KZ_SCOPE_MAX_SESSIONS 1000000u /* held sessions followed; more is reported as a limit */
#define KZ_SCOPE_MAX_SOURCES 256u
#define KZ_SCOPE_HOP_WINDOW (600 * KZ_TICKS_PER_SEC) /* 4648 -> logon on the named server */

struct kz_scope_query {
    const char *user;            /* --user (DOMAIN\name, name@domain or name), or NULL */
    const char *host;            /* --host (short or FQDN), or NULL */
    const char *const *sources;  /* --source values (IPs or device names) */
    uint32_t nsources;
    int has_since, has_until;
    kz_time since, until;
    const struct kz_customers *customers; /* may be NULL: files then have no customer */
};

struct kz_scope_host {
    const char *host;
    kz_time first, last;
    uint32_t logons;
    uint32_t ntypes;
    int types[12];        /* logon types seen, ascending */
    uint32_t nsources;
    const char **sources; /* where its logons came from */
    const char *ran;      /* a file the account wrote on a share that a process here ran (the
                           * first found), else NULL: reached without a logon (scope.c, "hosts
                           * that ran a file the account wrote") */
};

struct kz_scope_edge {
    const char *from, *to, *user;
    int logon_type;
    kz_time first;
    uint32_t count;
};

struct kz_scope_file {
    const char *path, *share, *host, *customer; /* share, customer may be NULL */
    const char *renamed_to; /* renames: the new name (the first, when several), else NULL */
    uint32_t reads, writes, renames, deletes;
    int64_t bytes;
    kz_time first, last;
    kz_time first_write; /* the first write; INT64_MAX when never written */
};

struct kz_scope_customer {
    const char *customer;
    uint32_t files;
    kz_time first, last;
    int written; /* 1: some file was written, renamed or deleted; 0: read only */
};

/* Web requests from one client address to one server (by one user when the log names it). */
struct kz_scope_web {
    const char *server, *client, *user; /* user may be NULL */
    kz_time first, last;
    uint32_t requests, errors; /* errors: HTTP status >= 400 */
};

/* One VPN tunnel (FortiGate): up to down (end is first when the down was not logged). */
struct kz_scope_vpn {
    const char *gateway, *user, *remote, *tunnel; /* tunnel (the inside address) may be NULL */
    kz_time start, end;
    int64_t id; /* the gateway's tunnel id */
};

struct kz_scope_result {
    const char *subject_kind; /* "user" or "host" */
    const char *subject;
    int has_since, has_until;
    kz_time since, until;
    struct kz_scope_host *hosts;
    uint32_t nhosts;
    struct kz_scope_edge *edges;
    uint32_t nedges;
    struct kz_scope_file *files;
    uint32_t nfiles;
    struct kz_scope_customer *customers;
    uint32_t ncustomers;
    struct kz_scope_web *web; /* sorted by first */
    uint32_t nweb;
    struct kz_scope_vpn *vpn; /* sorted by start */
    uint32_t nvpn;
    uint32_t sessions;  /* sessions held (with sources) or the account's logons */
    int truncated;      /* a limit was hit: the answer may be incomplete */
    int no_runs;        /* a format 1 store: hosts that ran a file the account wrote not looked
                         * for (kz_store_format) */
    struct kz_arena arena;
};

/* Runs the query. Returns 0, KZ_EUSAGE (neither or both of user/host) or a store error. An
 * account or host the store has never seen gives an empty result, not an error. */
int kz_scope_run(struct kz_store *s, const struct kz_scope_query *q, struct kz_scope_result **out,
                 struct kz_err *err);
void kz_scope_free(struct kz_scope_result *r);

enum kz_scope_format {
    KZ_SCOPE_TABLE,
    KZ_SCOPE_JSON,
    KZ_SCOPE_CSV,
    KZ_SCOPE_DOT,
    KZ_SCOPE_HTML,
};
/* Renders the result. JSON is DESIGN.md's form; CSV is one table of rows with a `section` column;
 * DOT is the lateral-movement graph; HTML is one self-contained page (graph, timeline, customers)
 * with every value escaped. */
void kz_scope_render(const struct kz_scope_result *r, enum kz_scope_format f, int colour,
                     struct kz_buf *out);

/* ---- timeline ---- */

enum kz_timeline_format {
    KZ_TIMELINE_TABLE,
    KZ_TIMELINE_CSV,   /* Timesketch: message, datetime, timestamp_desc + columns */
    KZ_TIMELINE_JSONL, /* Timesketch JSONL, the same fields */
};

/* Writes every event of the user (or on the host) in [since, until], in time order, through
 * write(ctx, text, len) in pieces. Returns 0 or a KZ_E* status. */
int kz_timeline_run(struct kz_store *s, const struct kz_scope_query *q,
                    enum kz_timeline_format f, void (*write)(void *ctx, const char *p, size_t n),
                    void *ctx, uint64_t *events, struct kz_err *err);

#endif
