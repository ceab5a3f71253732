/* intern.c - process-wide table of field names; see intern.h. */
#include "intern.h"

#include "alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct name {
    const char *str; /* NUL-terminated copy, never freed */
    uint32_t len;
    uint32_t hash;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* names[] grows by doubling into new arrays; old arrays are kept (never freed) so that readers that
 * loaded the pointer without the lock still see valid memory. */
static _Atomic(struct name *) names;
static atomic_uint_fast32_t count; /* names[1..count-1] are valid; id 0 is reserved */
static uint32_t names_alloc;
static struct name *retired[32]; /* earlier names[] arrays, still readable by lock-free readers */
static unsigned nretired;
static uint32_t *slots; /* open-addressing hash: slot -> id, 0 = empty */
static uint32_t slots_mask;

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static uint32_t lookup(const char *s, size_t n, uint32_t h) {
    struct name *tab = atomic_load(&names);
    for (uint32_t i = h & slots_mask;; i = (i + 1) & slots_mask) {
        uint32_t id = slots[i];
        if (!id) return 0;
        if (tab[id].hash == h && tab[id].len == n && !memcmp(tab[id].str, s, n)) return id;
    }
}

static int grow_slots(void) {
    uint32_t nslots = slots ? (slots_mask + 1) * 2 : 1024;
    uint32_t *ns = kz_calloc(nslots, sizeof *ns);
    if (!ns) return -1;
    struct name *tab = atomic_load(&names);
    uint32_t c = (uint32_t)atomic_load(&count);
    for (uint32_t id = 1; id < c; id++) {
        uint32_t i = tab[id].hash & (nslots - 1);
        while (ns[i])
            i = (i + 1) & (nslots - 1);
        ns[i] = id;
    }
    kz_free(slots);
    slots = ns;
    slots_mask = nslots - 1;
    return 0;
}

static uint32_t add(const char *s, size_t n, uint32_t h) {
    uint32_t c = (uint32_t)atomic_load(&count);
    if (c >= KZ_INTERN_MAX_NAMES) return 0;
    if (!slots || (c + 1) * 2 > slots_mask + 1) {
        if (grow_slots()) return 0;
    }
    if (c >= names_alloc) {
        uint32_t na = names_alloc ? names_alloc * 2 : 256;
        struct name *nt = kz_malloc(na * sizeof *nt);
        if (!nt) return 0;
        struct name *old = atomic_load(&names);
        if (old)
            memcpy(nt, old, c * sizeof *nt);
        else
            memset(nt, 0, sizeof *nt);
        /* old stays allocated on purpose (see the comment on names), and referenced from retired[]
         * so that leak checkers see it is kept, not lost. Doubling from 256 to the name limit
         * retires at most 13 arrays. */
        if (old && nretired < sizeof retired / sizeof *retired) retired[nretired++] = old;
        atomic_store(&names, nt);
        names_alloc = na;
    }
    char *copy = kz_strndup(s, n);
    if (!copy) return 0;
    struct name *tab = atomic_load(&names);
    tab[c].str = copy;
    tab[c].len = (uint32_t)n;
    tab[c].hash = h;
    uint32_t i = h & slots_mask;
    while (slots[i])
        i = (i + 1) & slots_mask;
    slots[i] = c;
    atomic_store(&count, c + 1);
    return c;
}

static void init_well_known(void) {
    static const char *const well_known[] = {
        "",
        "EventID",
        "EventID_Qualifiers",
        "Version",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "TimeCreated_SystemTime",
        "EventRecordID",
        "Channel",
        "Computer",
        "Provider_Name",
        "Provider_Guid",
        "Provider_EventSourceName",
        "Execution_ProcessID",
        "Execution_ThreadID",
        "Security_UserID",
        "Data",
        "Name",
        "System",
        "EventData",
        "UserData",
        "Event",
    };
    _Static_assert(sizeof well_known / sizeof *well_known == KZ_F_WELL_KNOWN_COUNT,
                   "well_known[] must list every enum kz_field_id");
    pthread_mutex_lock(&lock);
    atomic_store(&count, 1);
    for (size_t i = 1; i < KZ_F_WELL_KNOWN_COUNT; i++) {
        const char *s = well_known[i];
        add(s, strlen(s), hash_bytes(s, strlen(s)));
    }
    pthread_mutex_unlock(&lock);
}

uint32_t kz_intern(const char *s, size_t n) {
    pthread_once(&once, init_well_known);
    if (n > KZ_INTERN_MAX_LEN) n = KZ_INTERN_MAX_LEN;
    uint32_t h = hash_bytes(s, n);
    pthread_mutex_lock(&lock);
    uint32_t id = lookup(s, n, h);
    if (!id) id = add(s, n, h);
    pthread_mutex_unlock(&lock);
    return id;
}

uint32_t kz_intern_find(const char *s, size_t n) {
    pthread_once(&once, init_well_known);
    if (n > KZ_INTERN_MAX_LEN) n = KZ_INTERN_MAX_LEN;
    uint32_t h = hash_bytes(s, n);
    pthread_mutex_lock(&lock);
    uint32_t id = lookup(s, n, h);
    pthread_mutex_unlock(&lock);
    return id;
}

const char *kz_intern_name(uint32_t id) {
    pthread_once(&once, init_well_known);
    if (id == 0 || id >= (uint32_t)atomic_load(&count)) return "";
    return atomic_load(&names)[id].str;
}

size_t kz_intern_len(uint32_t id) {
    pthread_once(&once, init_well_known);
    if (id == 0 || id >= (uint32_t)atomic_load(&count)) return 0;
    return atomic_load(&names)[id].len;
}

uint32_t kz_intern_count(void) {
    pthread_once(&once, init_well_known);
    return (uint32_t)atomic_load(&count) - 1;
}
