/* samba_audit.c - Samba vfs_full_audit messages -> file-share events; see samba_audit.h. */
#include "samba_audit.h"

#include <string.h>

static int result_part(const char *p, size_t n) {
    return (n == 2 && !memcmp(p, "ok", 2)) || (n >= 4 && !memcmp(p, "fail", 4));
}

int kz_samba_audit_parse(struct kz_text_decoder *d, const char *msg) {
    const char *part[KZ_SAMBA_AUDIT_MAX_PARTS];
    size_t len[KZ_SAMBA_AUDIT_MAX_PARTS];
    unsigned n = 0;
    const char *p = msg;
    while (n < KZ_SAMBA_AUDIT_MAX_PARTS) {
        const char *bar = n + 1 < KZ_SAMBA_AUDIT_MAX_PARTS ? strchr(p, '|') : NULL;
        part[n] = p;
        len[n] = bar ? (size_t)(bar - p) : strlen(p);
        n++;
        if (!bar) break;
        p = bar + 1;
    }
    unsigned r = 0; /* the result's index: the prefix (2 to 4 parts) and the operation before it */
    for (unsigned i = 3; i < n && i <= 5 && !r; i++)
        if (result_part(part[i], len[i])) r = i;
    if (!r || !len[r - 1]) return KZ_EFORMAT;
    unsigned prefix = r - 1;
    struct kz_entities *e = &d->event.ent;
    static const char *const names4[] = {"user", "client", "machine", "share"};
    static const char *const names3[] = {"user", "client", "share"};
    for (unsigned i = 0; i < prefix; i++) {
        const char *name = prefix == 4 ? names4[i] : prefix == 3 ? names3[i] : names3[i];
        struct kz_field *f = kz_text_field(d, kz_text_name(d, name, strlen(name)), KZ_SEC_EVENTDATA,
                                           KZ_VK_STRING, part[i], len[i]);
        if (!f || !len[i]) continue;
        if (i == 0) e->user = f->val;
        if (i == 1) e->src_ip = f->val;
        if (i == prefix - 1 && prefix >= 3) e->share = f->val;
    }
    const char *op = part[r - 1];
    size_t op_len = len[r - 1];
    kz_text_field(d, kz_text_name(d, "operation", 9), KZ_SEC_EVENTDATA, KZ_VK_STRING, op, op_len);
    kz_text_field(d, kz_text_name(d, "result", 6), KZ_SEC_EVENTDATA, KZ_VK_STRING, part[r], len[r]);
    e->outcome = len[r] == 2; /* "ok" */
    unsigned a = r + 1;
    /* openat/open: the access (r or w) comes before the path */
    if (a + 1 < n && len[a] == 1 && (part[a][0] == 'r' || part[a][0] == 'w') && op_len >= 4 &&
        !memcmp(op, "open", 4)) {
        kz_text_field(d, kz_text_name(d, "access", 6), KZ_SEC_EVENTDATA, KZ_VK_STRING, part[a], 1);
        a++;
    }
    if (a < n && len[a]) {
        struct kz_field *f = kz_text_field(d, kz_text_name(d, "path", 4), KZ_SEC_EVENTDATA,
                                           KZ_VK_STRING, part[a], len[a]);
        /* connect/disconnect name the share, not a file */
        int share_op = (op_len == 7 && !memcmp(op, "connect", 7)) ||
                       (op_len == 10 && !memcmp(op, "disconnect", 10));
        if (f && !share_op) e->file_path = f->val;
        if (f && share_op && !e->share) e->share = f->val;
        if (a + 1 < n && len[a + 1] && op_len >= 6 && !memcmp(op, "rename", 6))
            kz_text_field(d, kz_text_name(d, "new_path", 8), KZ_SEC_EVENTDATA, KZ_VK_STRING,
                          part[a + 1], len[a + 1]);
    }
    d->event.channel = "samba";
    d->event.provider = "smbd_audit";
    return 0;
}
