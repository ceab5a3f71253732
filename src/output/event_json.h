/* event_json.h - an event as one JSON object on one line (what `kizuki dump` prints).
 *
 * Layout: the header ("ts", "file", "record_id", "format", "event_id", "channel", "host",
 * "provider"), "norm" with the normalised entity slots that are known, then one object per section
 * ("System", "EventData", "UserData", "Other") with the raw fields by their Windows names. A name
 * that occurs more than once in a section (unnamed <Data> items, arrays) becomes a JSON array, in
 * document order. Integer fields print as JSON numbers, everything else as strings. */
#ifndef KZ_EVENT_JSON_H
#define KZ_EVENT_JSON_H

#include "../core/buf.h"
#include "../core/event.h"

/* Appends ev as one JSON line. file_json is the source path already as a JSON string with its
 * quotes (kz_json_quote), or NULL: paths repeat on every event, so callers quote each once. */
void kz_event_json(struct kz_buf *out, const struct kz_event *ev, const char *file_json);
/* Appends one raw field's value: integers as JSON numbers, everything else as a string. Every
 * JSON output that prints raw fields uses this, so a field looks the same in dump and findings. */
void kz_event_json_value(struct kz_buf *out, const struct kz_field *f);
/* Appends s as a JSON string, quotes included. */
void kz_json_quote(struct kz_buf *out, const char *s);

#endif
