/* findings.h - one finding (what any detector reports) and its three printed forms: a JSON line,
 * a CSV row a spreadsheet or Timesketch can take, and a table row for the terminal.
 *
 * Why one module: every detector (Sigma, correlation, UEBA) reports through the same struct, so
 * `scan`, `eval` and the reports read one schema (DESIGN.md "Findings"). Most of what a finding
 * carries was written by whoever wrote the log, that is possibly the attacker, so each form is
 * made safe for where it goes:
 *   - JSONL: escaped by kz_buf_put_json_str (core/buf.h), always valid JSON and valid UTF-8;
 *   - CSV: RFC 4180 quoting, and formula injection neutralised (a cell that starts with = + - @,
 *     tab, CR or LF gets a leading single quote, as OWASP's CSV-injection guidance says), other
 *     control bytes and invalid UTF-8 replaced by U+FFFD;
 *   - table: no control character from a log reaches the terminal: C0/C1 controls, DEL, invalid
 *     UTF-8 and the invisible Unicode format characters (bidi overrides, zero-width spaces) are
 *     printed as visible escapes (\x1b, \u202e), and columns are cut to their width.
 *
 * Ownership: a struct kz_finding only borrows its strings, tags, reasons and event (the detector's
 * batch owns them); nothing here keeps a pointer after returning. Output is appended to a
 * caller's kz_buf; a buffer over its cap just stops growing (kz_buf `failed`), like all output. */
#ifndef KZ_OUTPUT_FINDINGS_H
#define KZ_OUTPUT_FINDINGS_H

#include "../core/buf.h"
#include "../core/event.h"
#include "../core/timeutil.h"

#include <stddef.h>
#include <stdint.h>

struct kz_finding {
    kz_time ts;          /* when the finding's event happened (UTC) */
    const char *kind;    /* "sigma" | "correlation" | "ueba" */
    const char *rule_id; /* rule id; NULL when the detector has none */
    const char *title;   /* one-line name of what was found; NULL prints as "" */
    int level;           /* enum kz_sigma_level (sigma/rule.h); NONE prints as informational */
    int score;           /* 0-100; kz_finding_level_score(level) when a detector has none */
    uint32_t ntags;      /* tags, e.g. "attack.t1484.001" */
    const char *const *tags;
    const char *host, *user; /* NULL when unknown */
    const char *src_ip;      /* NULL when unknown */
    uint32_t nreasons;       /* why it fired, in words (UEBA lists every contributing anomaly) */
    const char *const *reasons;
    const char *file;             /* source file path; NULL when the finding has no one source */
    uint64_t record_id;           /* record inside file (EVTX EventRecordID), 0 when none */
    const char *format;           /* source format: "evtx", ...; NULL when unknown */
    const struct kz_event *event; /* the event that fired; may be NULL */
};

/* ---- limits: a hostile log cannot make one finding's text unbounded ---- */
#define KZ_FINDING_MSG_VALUE_COLS 200 /* columns of one field's value in a message */
#define KZ_FINDING_MSG_COLS 1000      /* columns of a whole message (CSV `message` column) */
#define KZ_FINDING_EVENT_FIELDS 4096  /* raw fields printed in `event` (the EVTX reader's cap) */

/* Table columns, in terminal columns (the last one, DETAILS, is cut at its width too). */
#define KZ_FINDING_COL_TIME 20
#define KZ_FINDING_COL_LEVEL 5 /* "LEVEL"; values are four letters: info low med high crit */
#define KZ_FINDING_COL_HOST 16
#define KZ_FINDING_COL_USER 20 /* room for DOMAIN\user */
#define KZ_FINDING_COL_TITLE 40
#define KZ_FINDING_COL_DETAILS 76

/* Score of a level, for detectors without their own: informational 10, low 30, medium 50,
 * high 75, critical 90; 0 for NONE or anything else. */
int kz_finding_level_score(int level);
/* "informational" .. "critical"; NONE and out-of-range levels are "informational" (the schema
 * allows only the five names). */
const char *kz_finding_level_name(int level);

/* One finding as a JSON line ending in '\n'. Keys in DESIGN.md order: ts (RFC 3339, 7 fraction
 * digits), kind, rule_id, title, level, score, tags, host, user, src_ip, reasons, source {file,
 * record_id, format}, event. Unknown strings are null; tags and reasons are always arrays; event is
 * a flat object of raw field name -> value over all sections in document order, a name that occurs
 * more than once an array of its values, integer/real/bool fields as JSON numbers/booleans when
 * their text is one (else strings), or null without an event. */
void kz_finding_jsonl(struct kz_buf *out, const struct kz_finding *f);

/* The message: one line a human can act on, used as the CSV `message` column. Form:
 *   TITLE [LEVEL] host=H user=U src_ip=IP process=... command_line=... ... reasons=R1; R2
 * each part only when known: the event's normalised entities (process, command_line, parent,
 * file, share, logon_type, src_host, target_host when not the host, bytes), then the reasons
 * (without an event, the reasons follow src_ip). Control characters made visible as in the
 * table; each value cut to KZ_FINDING_MSG_VALUE_COLS, the whole line to KZ_FINDING_MSG_COLS,
 * with "…" where cut. No newline. */
void kz_finding_message(struct kz_buf *out, const struct kz_finding *f);

/* CSV, one row per finding, RFC 4180 quoting; records end in LF (RFC 4180 says CRLF, but every
 * CSV reader takes LF, and line tools like grep and cut stay simple). Columns:
 * datetime (RFC 3339 UTC, microseconds), timestamp_desc ("Event Time"), message, level, rule_id,
 * title, host, user, src_ip, tags (';'-joined), file, record_id. Every text cell is quoted. */
void kz_finding_csv_header(struct kz_buf *out);
void kz_finding_csv(struct kz_buf *out, const struct kz_finding *f);
/* Appends s[0..n) as one quoted CSV cell: '"' doubled, a leading = + - @ TAB CR LF prefixed by
 * a single quote, control bytes other than TAB/CR/LF and invalid UTF-8 as U+FFFD. */
void kz_finding_csv_cell(struct kz_buf *out, const char *s, size_t n);

/* Terminal table: a header line and one line per finding, columns TIME LEVEL HOST USER TITLE
 * DETAILS at the widths above, padded with spaces and cut with "…". With colour, the level and
 * title are coloured by level (ANSI SGR) and the header is bold. */
void kz_finding_table_header(struct kz_buf *out, int colour);
void kz_finding_table_row(struct kz_buf *out, const struct kz_finding *f, int colour);

/* Appends s[0..n) made safe and visible for a terminal, in at most max_cols columns (cut with "…"
 * when longer; max_cols < 0 means no limit). Printable text is copied (East Asian wide characters
 * count two columns, combining marks none); TAB, LF, CR as \t \n \r; other C0 controls and DEL as
 * \xHH; invalid UTF-8 bytes as \xHH; C1 controls and invisible format characters (U+061C, U+00AD,
 * U+180E, U+200B-U+200F, U+2028-U+202E, U+2060-U+2064, U+2066-U+2069, U+FEFF) as \uXXXX.
 * Backslashes are left alone (Windows paths stay readable). Returns the columns written. */
int kz_finding_put_visible(struct kz_buf *out, const char *s, size_t n, int max_cols);

/* ANSI SGR parameters for a level's colour ("1;31" ...), "" for none. */
const char *kz_finding_level_colour(int level);

#endif
