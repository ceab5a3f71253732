/* evtx_writer.h - writes Windows XML Event Log (EVTX) files, streaming, the way Windows lays them
 * out.
 *
 * The simulator must produce event logs that any EVTX reader opens (Debian's evtxexport, kizuki's
 * own decoder, evtx-rs), so this writer produces what the Windows event log service produces: a 4
 * KiB file header, 64 KiB chunks, records of Binary XML holding one template instance each,
 * templates and element names stored once per chunk (inline on first use, by chunk offset after),
 * the <System> element as Windows' generic template of optional substitutions, and EventData either
 * in the same template or as a nested BinXML value holding its own template instance (how Windows
 * stores Security events). docs/internals/evtx_writer.md explains the choices.
 *
 * Use: kz_evtx_writer_open (or _open_fd), kz_evtx_writer_template once per event layout,
 * kz_evtx_writer_append per event, kz_evtx_writer_close (always; it frees the writer). Record ids
 * are assigned by the writer, 1, 2, 3... in append order (going on across the parts of a log that
 * filled a file, below). Memory is one 64 KiB chunk plus the
 * templates: a file of any size is written in constant memory.
 *
 * Output is deterministic: the same calls give the same bytes (no clock, no uninitialised bytes).
 *
 * Ownership: the writer copies everything it keeps (template definitions, names); values passed to
 * kz_evtx_writer_append are read during the call only. Errors carry context (file, record,
 * template, item) in the struct kz_err the caller passes; a failed append leaves the writer usable
 * (the event is not written). Not thread-safe: one writer per thread. */
#ifndef KZ_EVTX_WRITER_H
#define KZ_EVTX_WRITER_H

#include "../core/error.h"
#include "../core/timeutil.h"

#include <stddef.h>
#include <stdint.h>

/* ---- limits ---- */
#define KZ_EVTXW_MAX_TEMPLATES 4096 /* event layouts per writer */
#define KZ_EVTXW_MAX_ITEMS 1024     /* Data items (substitutions) per layout */
#define KZ_EVTXW_MAX_NAMES 16384    /* distinct element and attribute names per writer */
#define KZ_EVTXW_MAX_NAME 255       /* characters in a name */
#define KZ_EVTXW_MAX_VALUE 65535    /* bytes of one encoded value (its descriptor holds 16 bits) */
#define KZ_EVTXW_MAX_CHUNKS 65535   /* chunks per file (the file header counts them in 16 bits) */
/* The largest record: a chunk minus its 512-byte header and the 8 bytes the writer leaves free at
 * its end (libevtx drops a record that ends on a chunk's last byte). A bigger record is an error
 * (KZ_ELIMIT). */
#define KZ_EVTXW_MAX_RECORD (65536 - 512 - 8)

/* Value types (MS-EVEN6 2.2.12 "ValueType"); KZ_EVTX_VT_ARRAY marks an array of the base type. */
enum {
    KZ_EVTX_VT_NULL = 0x00,
    KZ_EVTX_VT_WSTRING = 0x01, /* UTF-8 in, UTF-16LE on disk */
    KZ_EVTX_VT_ASTRING = 0x02, /* bytes as given (ASCII expected) */
    KZ_EVTX_VT_INT8 = 0x03,
    KZ_EVTX_VT_UINT8 = 0x04,
    KZ_EVTX_VT_INT16 = 0x05,
    KZ_EVTX_VT_UINT16 = 0x06,
    KZ_EVTX_VT_INT32 = 0x07,
    KZ_EVTX_VT_UINT32 = 0x08,
    KZ_EVTX_VT_INT64 = 0x09,
    KZ_EVTX_VT_UINT64 = 0x0a,
    KZ_EVTX_VT_REAL32 = 0x0b,
    KZ_EVTX_VT_REAL64 = 0x0c,
    KZ_EVTX_VT_BOOL = 0x0d, /* 32-bit on disk, as Windows' BOOL */
    KZ_EVTX_VT_BINARY = 0x0e,
    KZ_EVTX_VT_GUID = 0x0f,
    KZ_EVTX_VT_SIZET = 0x10, /* 64-bit on disk, as on 64-bit Windows */
    KZ_EVTX_VT_FILETIME = 0x11,
    KZ_EVTX_VT_SYSTIME = 0x12,
    KZ_EVTX_VT_SID = 0x13,
    KZ_EVTX_VT_HEXINT32 = 0x14,
    KZ_EVTX_VT_HEXINT64 = 0x15,
    KZ_EVTX_VT_ARRAY = 0x80,
};

/* A GUID by its fields, as MS-DTYP defines it (Data1..Data3 are little-endian on disk). */
struct kz_evtx_guid {
    uint32_t data1;
    uint16_t data2, data3;
    uint8_t data4[8];
};

/* A SID by its parts: S-revision-authority-sub[0]-...-sub[count-1]. */
struct kz_evtx_sid {
    uint8_t revision;   /* 1 */
    uint8_t count;      /* sub-authorities, at most 15 */
    uint64_t authority; /* identifier authority, 48 bits (5 for NT AUTHORITY) */
    uint32_t sub[15];   /* sub-authorities */
};

/* A SYSTEMTIME, field by field (day_of_week: 0 = Sunday). */
struct kz_evtx_systime {
    uint16_t year, month, day_of_week, day, hour, minute, second, milliseconds;
};

/* One substitution value. type is the value's KZ_EVTX_VT_* (NULL for a missing value). Which member
 * holds it:
 *   WSTRING, ASTRING: s (NUL-terminated UTF-8)      BINARY: p and count (bytes)
 *   INT8..INT64: i       UINT8..UINT64, HEXINT32/64, SIZET, BOOL (0/1), FILETIME (ticks since
 *   1601): u             REAL32/64: r            GUID: guid      SID: sid      SYSTIME: systime
 *   arrays (type | KZ_EVTX_VT_ARRAY, count items): strs for WSTRING/ASTRING, sids for SID, else p
 *   pointing at count items of the natural C type (int8_t .. uint64_t, float, double, uint32_t for
 *   BOOL, uint64_t for FILETIME/SIZET/HEXINT64, uint32_t for HEXINT32, struct kz_evtx_guid,
 *   struct kz_evtx_systime). */
struct kz_evtx_value {
    uint8_t type;
    uint32_t count;
    union {
        int64_t i;
        uint64_t u;
        double r;
        const char *s;
        const void *p;
        const char *const *strs;
        const struct kz_evtx_guid *guid;
        const struct kz_evtx_sid *sid;
        const struct kz_evtx_sid *sids;
        const struct kz_evtx_systime *systime;
    } v;
};

/* Constructors for the common cases. */
static inline struct kz_evtx_value kz_evtx_v_null(void) {
    struct kz_evtx_value x = {.type = KZ_EVTX_VT_NULL};
    return x;
}
static inline struct kz_evtx_value kz_evtx_v_str(const char *s) {
    struct kz_evtx_value x = {.type = s ? KZ_EVTX_VT_WSTRING : KZ_EVTX_VT_NULL, .v.s = s};
    return x;
}
static inline struct kz_evtx_value kz_evtx_v_uint(uint8_t type, uint64_t u) {
    struct kz_evtx_value x = {.type = type, .v.u = u};
    return x;
}
static inline struct kz_evtx_value kz_evtx_v_int(uint8_t type, int64_t i) {
    struct kz_evtx_value x = {.type = type, .v.i = i};
    return x;
}
static inline struct kz_evtx_value kz_evtx_v_u32(uint32_t u) {
    return kz_evtx_v_uint(KZ_EVTX_VT_UINT32, u);
}
static inline struct kz_evtx_value kz_evtx_v_hex32(uint32_t u) {
    return kz_evtx_v_uint(KZ_EVTX_VT_HEXINT32, u);
}
static inline struct kz_evtx_value kz_evtx_v_hex64(uint64_t u) {
    return kz_evtx_v_uint(KZ_EVTX_VT_HEXINT64, u);
}
static inline struct kz_evtx_value kz_evtx_v_sid(const struct kz_evtx_sid *sid) {
    struct kz_evtx_value x = {.type = sid ? KZ_EVTX_VT_SID : KZ_EVTX_VT_NULL, .v.sid = sid};
    return x;
}
static inline struct kz_evtx_value kz_evtx_v_guid(const struct kz_evtx_guid *g) {
    struct kz_evtx_value x = {.type = g ? KZ_EVTX_VT_GUID : KZ_EVTX_VT_NULL, .v.guid = g};
    return x;
}
static inline struct kz_evtx_value kz_evtx_v_filetime(kz_time t) {
    return kz_evtx_v_uint(KZ_EVTX_VT_FILETIME, (uint64_t)(t + KZ_FILETIME_UNIX_OFFSET));
}

/* ---- templates ---- */

enum kz_evtx_body {
    KZ_EVTX_BODY_EVENTDATA = 0, /* <EventData><Data Name="item">value</Data>...</EventData> */
    KZ_EVTX_BODY_USERDATA,      /* <UserData><element xmlns=ns><item>value</item>...</element> */
    KZ_EVTX_BODY_NONE,          /* <System> only */
};

/* One Data item (EventData) or child element (UserData). */
struct kz_evtx_item {
    const char *name; /* Data Name / element name; NULL for an unnamed <Data> (EventData only) */
    uint8_t type;     /* declared KZ_EVTX_VT_* (| ARRAY); a value must have it or be NULL */
    uint8_t optional; /* optional substitution: a NULL value leaves the element out */
};

/* An event layout: everything in the event but its per-event values. */
struct kz_evtx_template_def {
    const char *provider; /* Provider Name (required) */
    const struct kz_evtx_guid
        *provider_guid;       /* Provider Guid, or NULL for none (classic sources) */
    const char *event_source; /* Provider EventSourceName, or NULL */
    uint16_t event_id;
    int32_t qualifiers; /* EventID Qualifiers, or -1 for none */
    uint8_t version, level, opcode;
    uint16_t task;
    uint64_t keywords;
    const char
        *channel; /* Channel (required): Security, System, Microsoft-Windows-Sysmon/Operational.. */
    int body;     /* enum kz_evtx_body */
    int nested;   /* 1: the body is a BinXML value with its own template (Windows' Security
                   * form); 0: body and System in one template */
    const char *userdata_element; /* KZ_EVTX_BODY_USERDATA: the element inside <UserData> */
    const char *userdata_ns;      /* its xmlns attribute, or NULL */
    const struct kz_evtx_item *items;
    uint32_t nitems;
};

/* ---- events ---- */

struct kz_evtx_event {
    uint32_t tmpl;        /* from kz_evtx_writer_template */
    kz_time time;         /* TimeCreated SystemTime (UTC), also the record's written time */
    const char *computer; /* Computer (required) */
    uint32_t process_id, thread_id;              /* Execution */
    const struct kz_evtx_sid *user;              /* Security UserID, or NULL */
    const struct kz_evtx_guid *activity_id;      /* Correlation ActivityID, or NULL */
    const struct kz_evtx_guid *related_activity; /* Correlation RelatedActivityID, or NULL */
    const struct kz_evtx_value *values;          /* one per template item, in order; items past */
    uint32_t nvalues;                            /* nvalues are NULL */
};

struct kz_evtx_writer;

/* Creates (or truncates) the file at path and writes a provisional (dirty) file header. Returns 0
 * or KZ_EIO / KZ_ENOMEM with err set. */
int kz_evtx_writer_open(struct kz_evtx_writer **out, const char *path, struct kz_err *err);
/* The same on an open, seekable descriptor: the file is written from offset 0 with pwrite; the
 * caller closes fd after kz_evtx_writer_close. name is used in messages. */
int kz_evtx_writer_open_fd(struct kz_evtx_writer **out, int fd, const char *name,
                           struct kz_err *err);

/* Registers an event layout; *id is what events name it by. Validates names and types (KZ_EUSAGE)
 * and the limits above (KZ_ELIMIT). */
int kz_evtx_writer_template(struct kz_evtx_writer *w, const struct kz_evtx_template_def *def,
                            uint32_t *id, struct kz_err *err);

/* Appends one event; *record_id (may be NULL) receives its EventRecordID. Starts a new chunk when
 * the record does not fit the current one. Errors: KZ_EUSAGE (bad template id, value of the wrong
 * type, bad SID or string), KZ_ELIMIT (a value or the record too large, a full file on a
 * descriptor), KZ_EIO. */
int kz_evtx_writer_append(struct kz_evtx_writer *w, const struct kz_evtx_event *ev,
                          uint64_t *record_id, struct kz_err *err);

/* When a file holds KZ_EVTXW_MAX_CHUNKS chunks, a writer opened by path goes on in a new file
 * beside it, as Windows goes on in a new log when it archives a full one: "Security.evtx" is
 * followed by "Security-2.evtx", "Security-3.evtx" ... (kz_evtx_part_name), each a complete EVTX
 * file; record ids go on from one part to the next. On a descriptor (_open_fd), a full file is
 * an error (KZ_ELIMIT). */
/* The part record_id was written to: 1 for the file opened, 2 for its "-2" part ... */
uint32_t kz_evtx_writer_part_of(const struct kz_evtx_writer *w, uint64_t record_id);
/* The name of part `part` of the file named name (a path or a file name): name itself for part
 * 1, then "X-2.evtx" for "X.evtx" ("X-2" when name does not end in .evtx); cut at cap. */
void kz_evtx_part_name(const char *name, uint32_t part, char *out, size_t cap);
/* Tests: roll over after `chunks` chunks (1 to KZ_EVTXW_MAX_CHUNKS) instead of the maximum. */
void kz_evtx_writer_set_max_chunks(struct kz_evtx_writer *w, uint32_t chunks);

/* Records appended so far (the next record id is this + 1). */
uint64_t kz_evtx_writer_records(const struct kz_evtx_writer *w);

/* Writes the last chunk and the final (clean) file header, closes the file if the writer opened it,
 * and frees the writer (also on error). Returns 0 or KZ_EIO with err set. */
int kz_evtx_writer_close(struct kz_evtx_writer *w, struct kz_err *err);

/* Parses "S-1-5-21-..." into sid. Returns 0 or KZ_EFORMAT. */
int kz_evtx_sid_parse(const char *text, struct kz_evtx_sid *sid);
/* SYSTEMTIME fields of t (UTC, milliseconds truncated). */
void kz_evtx_systime_from(kz_time t, struct kz_evtx_systime *st);

#endif
