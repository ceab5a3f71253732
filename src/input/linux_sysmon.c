/* linux_sysmon.c - a Sysmon for Linux event document -> Windows Sysmon fields; see linux_sysmon.h.
 *
 * The document is Windows event XML, so evtxml.c's tokenizer reads it (one XML reader for both
 * inputs, one set of field rules with the EVTX reader); what is Linux-specific stays here: the
 * syslog header is dropped (the document is the event), the channel defaults to
 * Linux-Sysmon/Operational, and a document without an EventID is refused as it was before the
 * two readers were merged. */
#include "linux_sysmon.h"

#include "evtxml.h"

#include <string.h>

int kz_linux_sysmon_parse(struct kz_text_decoder *d, const char *doc, size_t n) {
    struct kz_event *ev = &d->event;
    d->nfields = 0; /* the document is the event: the syslog header's fields go */
    /* Header slots come from the document only (the syslog host and program are not its). Set
     * before the tokenizer runs, so its kz_event_normalise sees the default channel; a <Channel>
     * element overrides it. */
    ev->channel = "Linux-Sysmon/Operational";
    ev->provider = NULL;
    ev->host = NULL;
    ev->event_id = 0;
    int rc = kz_evtxml_event(d, doc, n);
    if (rc) return rc == KZ_ELIMIT ? KZ_ELIMIT : KZ_EFORMAT;
    if (!kz_event_field(ev, kz_text_name(d, "EventID", 7))) {
        d->why = "Sysmon message without an <Event> document and EventID";
        return KZ_EFORMAT;
    }
    if (!ev->channel || !*ev->channel) ev->channel = "Linux-Sysmon/Operational";
    return 0;
}
