/* intern.h - interned field names: each distinct name gets a small integer id, once, process-wide.
 *
 * Events carry field names as ids, so comparing a field name (the hot operation of rule matching)
 * is an integer compare, and each name is stored once however many events use it. The table is
 * shared by all threads; interning takes a lock, so decoders intern when they compile a template
 * (once per template per chunk), never per event. Names and ids live until the process ends.
 * Well-known names have fixed ids (KZ_F_*), so code can test for them without a lookup. */
#ifndef KZ_INTERN_H
#define KZ_INTERN_H

#include <stddef.h>
#include <stdint.h>

/* Well-known names, interned at start-up in this order. */
enum kz_field_id {
    KZ_F_NONE = 0, /* id 0 is never a name */
    KZ_F_EventID,
    KZ_F_EventID_Qualifiers,
    KZ_F_Version,
    KZ_F_Level,
    KZ_F_Task,
    KZ_F_Opcode,
    KZ_F_Keywords,
    KZ_F_TimeCreated_SystemTime,
    KZ_F_EventRecordID,
    KZ_F_Channel,
    KZ_F_Computer,
    KZ_F_Provider_Name,
    KZ_F_Provider_Guid,
    KZ_F_Provider_EventSourceName,
    KZ_F_Execution_ProcessID,
    KZ_F_Execution_ThreadID,
    KZ_F_Security_UserID,
    KZ_F_Data,   /* the element name of EventData items, and the field of unnamed ones */
    KZ_F_Name,   /* the attribute naming a Data item */
    KZ_F_System, /* section elements */
    KZ_F_EventData,
    KZ_F_UserData,
    KZ_F_Event,
    KZ_F_WELL_KNOWN_COUNT
};

#define KZ_INTERN_MAX_NAMES (1u << 20) /* a hostile corpus cannot intern more names than this */
#define KZ_INTERN_MAX_LEN 512          /* longer names are truncated before interning */

/* Returns the id of name (len bytes, UTF-8), adding it if new; 0 when the table is full or out of
 * memory. */
uint32_t kz_intern(const char *name, size_t len);
/* Returns the id of name if interned, else 0; never adds. */
uint32_t kz_intern_find(const char *name, size_t len);
/* The NUL-terminated name of id ("" for an unknown id); valid for the life of the process. */
const char *kz_intern_name(uint32_t id);
/* Length of the name of id. */
size_t kz_intern_len(uint32_t id);
/* Number of names interned so far (ids are 1..count). */
uint32_t kz_intern_count(void);

#endif
