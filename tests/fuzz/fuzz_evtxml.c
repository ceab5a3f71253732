/* fuzz_evtxml.c - libFuzzer target: Windows event XML (events on one line or many, gathered and
 * tokenized) and `Get-WinEvent | ConvertTo-Xml` objects. The line checks are fuzz_text.h's, shared
 * by every text-log target; then the whole input goes to both document readers at once
 * (kz_evtxml_event, kz_evtxml_psobject, and kz_evtxml_event_data, the fragment reader of Azure's
 * EventData column), so the tokenizers are reached without the gathering's framing. Seeds:
 * tests/fixtures/web/wevtutil_events.xml, tests/fixtures/xml/psxml_*.xml. */
#include "fuzz_text.h"
#include "input/evtxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_text_format(data, size, KZ_FMT_EVTXML);
    static struct kz_text_decoder d;
    static int ready;
    if (!ready && kz_text_decoder_init(&d) == 0) ready = 1;
    if (!ready || size > 256 * 1024) return 0;
    for (int which = 0; which < 3; which++) {
        kz_arena_reset(&d.arena);
        d.nfields = 0;
        d.why = NULL;
        kz_event_reset(&d.event);
        int rc = which == 1   ? kz_evtxml_psobject(&d, (const char *)data, size)
                 : which == 2 ? kz_evtxml_event_data(&d, (const char *)data, size)
                              : kz_evtxml_event(&d, (const char *)data, size);
        if (which == 2) { /* a fragment appends fields (also those before an error) */
            d.event.fields = d.fields;
            d.event.nfields = d.nfields;
            check(&d.event);
            if (rc && !d.why) abort();
            continue;
        }
        if (rc == 0) {
            check(&d.event);
            struct kz_buf out;
            kz_buf_init(&out, 8 << 20);
            kz_event_json(&out, &d.event, NULL);
            kz_buf_free(&out);
        } else if (!d.why) {
            abort(); /* every refusal says why */
        }
    }
    return 0;
}
