/* jsonl.h - JSON lines of Windows events -> the same events the EVTX reader makes.
 *
 * One JSON object per line, in any of the layouts the collectors write:
 *   - Winlogbeat 7.x/8.x (ECS): `winlog.{channel, event_id, provider_name, computer_name,
 *     record_id, process.pid, process.thread.id, version, task, opcode, keywords, provider_guid,
 *     user.identifier, event_data, user_data}`, time in `@timestamp`;
 *   - Winlogbeat 6.x: the same names at the top level (`event_id`, `log_name`, `source_name`,
 *     `computer_name`, `record_number`, `event_data` ...);
 *   - NXLog / HELK flat fields (the OTRF Security Datasets): `EventID`, `Channel`, `SourceName`,
 *     `Hostname`, `RecordNumber`, `ExecutionProcessID` ... beside the EventData fields at the top
 *     level; time from `@timestamp`, `TimeCreated` or `EventTime`;
 *   - evtx_dump-style JSON (`{"Event": {"System": {...}, "EventData": {...}}}` with
 *     `#attributes`);
 *   - anything else: every member becomes a raw field (nested objects as `a.b`), so nothing a line
 *     says is lost; event id 0, channel unknown.
 * Windows layouts give the System fields under the names the EVTX reader uses (Provider_Name,
 * Provider_Guid, EventID, Version, Level, Task, Opcode, Keywords, TimeCreated_SystemTime,
 * EventRecordID, Execution_ProcessID, Execution_ThreadID, Channel, Computer, Security_UserID; in
 * that order, those the line has) and the event data under their own names in EventData /
 * UserData, so Sigma rules and the normalised entities see the same event whichever way it was
 * shipped. Not reproducible from Winlogbeat: Level (it writes the level's name, not its number).
 * Ownership: as text_reader.h. */
#ifndef KZ_JSONL_H
#define KZ_JSONL_H

#include "text_reader.h"

#include <stddef.h>

/* 1 when line (possibly cut short) looks like a JSON object. */
int kz_jsonl_sniff(const char *line, size_t n);
/* Parses one line into d->event: 0, or KZ_EFORMAT / KZ_ELIMIT with d->why set. */
int kz_jsonl_parse(struct kz_text_decoder *d, const char *line, size_t n);

/* ---- JSON arrays of events (`[ {...}, {...} ]`, pretty-printed or not) ---- */

/* A JSON array is read as JSON lines without holding the document: a filter rewrites the stream
 * in place, byte for byte, so that each element of the top-level array becomes one line (the
 * array's brackets become blanks or line ends, the commas between elements line ends, and line
 * breaks inside an element spaces; strings are passed through untouched). Each element is then
 * one line of the text reader, bounded by its line limit (KZ_TEXT_MAX_LINE), and its record id is
 * its position in the array (1-based). The state is a few counters, whatever the array's size. */
struct kz_jsonl_array {
    uint32_t depth;    /* of nesting, outside strings */
    uint8_t in_string; /* inside a JSON string */
    uint8_t escape;    /* the last byte was a backslash inside a string */
    uint8_t top_array; /* the current top-level value is an array */
};
void kz_jsonl_array_filter(struct kz_jsonl_array *st, char *p, size_t n);
/* 1 when text (UTF-8, possibly cut short) starts, after blanks, with a JSON array of objects
 * (`[` then `{"` or `{}`), or an empty one (`[]`). */
int kz_jsonl_array_sniff(const char *p, size_t n);

#endif
