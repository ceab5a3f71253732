/* evtxml.h - Windows event XML (`wevtutil qe LOG /f:xml`, `evtxexport -f xml`, `kizuki dump
 * --format xml`) -> the same events the EVTX reader makes.
 *
 * An event is one `<Event xmlns=...><System>...</System><EventData><Data Name=...>...</Data>
 * </EventData></Event>` document, on one line or spread over many (pretty-printed), several on
 * one line too (wevtutil writes them back to back). So the reader decodes these files
 * sequentially (text_reader.h, struct kz_text_seq): lines are gathered until `</Event>`, then the
 * document is read by a small bounded tokenizer (elements, attributes, text, CDATA, comments;
 * the entities &lt; &gt; &amp; &quot; &apos; and &#NN; / &#xNN;). A `<?xml ...?>` declaration,
 * an `<Events>` root around the events and evtxexport's banner line are skipped.
 *
 * Fields follow the EVTX reader's rules (src/input/evtx/evtx_fields.c), so a record gives the same
 * raw fields from either source: in <System> each leaf's text under its element name and each
 * attribute as Element_Attribute (Provider_Name, TimeCreated_SystemTime, Execution_ProcessID);
 * in <EventData> `<Data Name="X">v</Data>` as X = v (also when empty), an unnamed one as Data
 * (when not empty); in <UserData> and other sections every leaf by its element name, attributes
 * as Element_Attribute; the default namespace attribute (xmlns) is dropped. TimeCreated_SystemTime is written with 7
 * fraction digits as the EVTX reader does (evtxexport prints 9). What XML cannot say: the value
 * types of the binary record, so event data are strings (the System numbers EventID, Version,
 * Level, Task, Opcode, EventRecordID, Execution_ProcessID/ThreadID are integers). The record id
 * is the line the event starts on. Limits: an event of at most KZ_TEXT_MAX_LINE bytes, elements
 * nested at most KZ_EVTXML_MAX_DEPTH deep. Ownership: as text_reader.h. */
#ifndef KZ_EVTXML_H
#define KZ_EVTXML_H

#include "text_reader.h"

#include <stddef.h>

#define KZ_EVTXML_MAX_DEPTH 64

/* 1 when line starts Windows event XML (`<Event`, `<Events>`, or an XML declaration followed on
 * the same line by one of them). */
int kz_evtxml_sniff(const char *line, size_t n);
/* Takes one line of the file (needs d->seq): 0 with an event, 1 for a line outside any event
 * (declaration, root), KZ_TEXT_PENDING while an event is incomplete, or KZ_EFORMAT / KZ_ELIMIT
 * with d->why set. Sets d->more when the line holds another complete event. */
int kz_evtxml_parse(struct kz_text_decoder *d, const char *line, size_t n);
/* Reads one complete `<Event>...</Event>` document p[0..n) into d->event (the tokenizer, for
 * tests and fuzzing): 0, or KZ_EFORMAT / KZ_ELIMIT with d->why set. */
int kz_evtxml_event(struct kz_text_decoder *d, const char *p, size_t n);
/* Appends the event data of an XML fragment p[0..n) holding `<Data Name="X">v</Data>` elements
 * (`<EventData xmlns=...>...</EventData>`, or the `<DataItem>` around it, as the Azure Log
 * Analytics SecurityEvent and Event tables store them) to d's fields, as the EVTX reader names
 * them (X; an unnamed non-empty one as Data); other elements give nothing. 0, or KZ_EFORMAT /
 * KZ_ELIMIT with d->why set (fields already appended stay). */
int kz_evtxml_event_data(struct kz_text_decoder *d, const char *p, size_t n);
/* Reads one `<Object Type="System.Diagnostics.Eventing.Reader.EventLogRecord">...</Object>` of
 * `Get-WinEvent | ConvertTo-Xml` p[0..n) into d->event, with the field names the EVTX reader
 * gives (Id -> EventID, ProviderName -> Provider_Name, LogName -> Channel, MachineName ->
 * Computer, TimeCreated -> TimeCreated_SystemTime, RecordId -> EventRecordID, ...; Properties ->
 * event data named by the template of a well-known event, psxml_names.h, else Data1..DataN):
 * 0, or KZ_EFORMAT / KZ_ELIMIT with d->why set. */
int kz_evtxml_psobject(struct kz_text_decoder *d, const char *p, size_t n);

#endif
