/* event.h - the one event model every reader produces and every detector consumes.
 *
 * An event has a header (time, where it came from, host, channel, provider, event id), normalised
 * entity slots (who, from where, what process, which file) that detectors use whatever the source
 * format, and the raw fields by their original names (what Sigma rules reference: Image,
 * CommandLine, TargetUserName...). Field names are interned ids (core/intern.h). Ownership: an
 * event and all its strings belong to the reader that produced it (usually in a per-batch arena)
 * and are valid only until the reader's next batch; a consumer that keeps anything copies it. */
#ifndef KZ_EVENT_H
#define KZ_EVENT_H

#include "timeutil.h"

#include <stddef.h>
#include <stdint.h>

/* Where a raw field sits in the source document. */
enum kz_section {
    KZ_SEC_SYSTEM = 0, /* Windows <System> (or a format's own header fields) */
    KZ_SEC_EVENTDATA,  /* Windows <EventData>; the body fields of other formats */
    KZ_SEC_USERDATA,   /* Windows <UserData> */
    KZ_SEC_OTHER,      /* anything else (RenderingInfo, DebugData...) */
};

/* What kind of value a raw field holds; the text is always there, the kind tells output whether it
 * may print the value as a JSON number. */
enum kz_value_kind {
    KZ_VK_STRING = 0,
    KZ_VK_INT,  /* signed or unsigned decimal integer */
    KZ_VK_REAL, /* floating point */
    KZ_VK_BOOL,
    KZ_VK_OTHER, /* hex, GUID, SID, time, binary: printed as strings */
};

struct kz_field {
    uint32_t name;   /* interned field name id */
    uint8_t section; /* enum kz_section */
    uint8_t kind;    /* enum kz_value_kind */
    uint16_t flags;  /* reserved, 0 */
    uint32_t len;    /* bytes in val, excluding the NUL */
    const char *val; /* UTF-8 text, NUL-terminated */
};

enum kz_format {
    KZ_FMT_UNKNOWN = 0,
    KZ_FMT_EVTX,
    KZ_FMT_JSONL,     /* JSON lines of Windows events (Winlogbeat ECS/6.x, NXLog flat, evtx JSON) */
    KZ_FMT_ACCESSLOG, /* web access log: NCSA common/combined (nginx, Apache, Tomcat) */
    KZ_FMT_FORTIGATE, /* FortiOS key=value event log (SSL-VPN), with or without a syslog header */
    KZ_FMT_W3C,       /* IIS W3C extended log (#Fields directive), channel webserver */
    KZ_FMT_SQUID,     /* Squid native access.log, channel proxy */
    KZ_FMT_EVTXML,    /* Windows event XML (wevtutil qe /f:xml, evtxexport -f xml) */
    KZ_FMT_SYSLOG,    /* syslog RFC 3164/5424: auth logs, Sysmon for Linux, Samba full_audit */
    KZ_FMT_AUDITD,    /* Linux audit log, records assembled into events */
};

/* Normalised entity slots, filled from raw fields by kz_event_normalise. NULL or -1 when unknown.
 */
struct kz_entities {
    const char *user;           /* account name, without domain */
    const char *domain;         /* account domain */
    const char *sid;            /* account SID */
    int logon_type;             /* Windows logon type, -1 unknown */
    const char *src_ip;         /* where the activity came from */
    const char *src_host;       /* workstation name of the source */
    const char *target_host;    /* host acted upon (defaults to the event's host) */
    const char *process;        /* image path of the acting process */
    const char *command_line;   /* its command line */
    const char *parent_process; /* image path of the parent */
    const char *file_path;      /* file or object touched */
    const char *share;          /* network share name */
    int64_t bytes;              /* bytes transferred, -1 unknown */
    int outcome;                /* 1 success, 0 failure, -1 unknown */
};

struct kz_event {
    kz_time ts;           /* when the event happened (UTC) */
    uint64_t record_id;   /* record number inside the source file (EVTX EventRecordID) */
    uint32_t file_id;     /* index of the source file in the run's file table */
    uint32_t event_id;    /* Windows event id, 0 when none */
    uint8_t format;       /* enum kz_format of the source */
    const char *host;     /* Computer */
    const char *channel;  /* Channel (Security, Microsoft-Windows-Sysmon/Operational...) */
    const char *provider; /* Provider Name */
    struct kz_entities ent;
    struct kz_field *fields; /* raw fields in document order */
    uint32_t nfields;
};

/* The format's name as outputs print it ("evtx", "jsonl", "accesslog", "fortigate", "unknown"). */
const char *kz_event_format_name(uint8_t format);

/* Clears header and entities (fields are left to the reader). */
void kz_event_reset(struct kz_event *ev);

/* Returns the first field called name_id in any section, or NULL. */
const struct kz_field *kz_event_field(const struct kz_event *ev, uint32_t name_id);

/* Fills ev->ent from the raw fields, using the Windows field names of Security, Sysmon and the
 * common providers. Idempotent. */
void kz_event_normalise(struct kz_event *ev);

#endif
