/* linux_sysmon.h - Sysmon for Linux events, which travel as syslog messages holding one Windows-
 * style event document: `<Event><System><Provider Name="Linux-Sysmon" Guid="{...}"/><EventID>1
 * </EventID>...<Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer>...</System>
 * <EventData><Data Name="Image">/usr/bin/id</Data>...</EventData></Event>`.
 *
 * The document becomes the fields the EVTX reader gives a Windows Sysmon event: System fields
 * Provider_Name, Provider_Guid, EventID, Version, Level, Task, Opcode, Keywords,
 * TimeCreated_SystemTime, EventRecordID, Execution_ProcessID, Execution_ThreadID, Channel,
 * Computer, Security_UserID; then each <Data Name="X"> as field X (Image, CommandLine, User,
 * ParentImage ...), XML entities decoded. The document is read by evtxml.c's tokenizer
 * (kz_evtxml_event), so the field rules and limits are those of Windows event XML: Sysmon for
 * Linux's `<Security UserId=...>` becomes Security_UserID as in EVTX, TimeCreated_SystemTime is
 * written with 7 fraction digits, malformed XML is a bad line. Header: time from TimeCreated,
 * host Computer, channel (Linux-Sysmon/Operational when the document names none), provider,
 * event id; entities as kz_event_normalise gives them. The syslog header's fields are dropped:
 * the event is the document, as on Windows. Ownership: as text_reader.h. */
#ifndef KZ_LINUX_SYSMON_H
#define KZ_LINUX_SYSMON_H

#include "text_reader.h"

#include <stddef.h>

/* Decodes the document doc[0..n) into d's event (fields start afresh). 0, or KZ_EFORMAT /
 * KZ_ELIMIT with d->why set. */
int kz_linux_sysmon_parse(struct kz_text_decoder *d, const char *doc, size_t n);

#endif
