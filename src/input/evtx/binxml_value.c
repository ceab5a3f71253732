/* binxml_value.c - renders BinXML substitution values as text.
 *
 * The text forms follow what Windows' Event Viewer shows in its XML view (and what Sigma rules are
 * written against): decimal integers, 0x-prefixed lowercase hex for HexInt and SizeT, upper-case braced
 * GUIDs, S-1-... SIDs, RFC 3339 UTC times with 7 fraction digits, upper-case hex for binary. */
#include "evtx_int.h"

#include "../../core/event.h"
#include "../../core/timeutil.h"
#include "../../core/utf.h"

#include <stdio.h>

static const char HEX_UP[] = "0123456789ABCDEF";

static void put_hex_u64(struct kz_buf *out, uint64_t v) {
    char tmp[19];
    int i = sizeof tmp;
    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    kz_buf_append(out, tmp + i, sizeof tmp - (size_t)i);
}

static void put_guid(struct kz_buf *out, const uint8_t *p) {
    char g[39];
    int o = 0;
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    g[o++] = '{';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) g[o++] = '-';
        uint8_t b = p[order[i]];
        g[o++] = HEX_UP[b >> 4];
        g[o++] = HEX_UP[b & 15];
    }
    g[o++] = '}';
    kz_buf_append(out, g, (size_t)o);
}

/* SID: revision (1), sub-authority count (1), identifier authority (6, big-endian), sub-authorities. */
static int put_sid(struct kz_buf *out, const uint8_t *p, uint32_t len) {
    if (len < 8) return KZ_ECORRUPT;
    uint32_t count = p[1];
    if (8 + 4 * (uint64_t)count > len) return KZ_ECORRUPT;
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++) auth = auth << 8 | p[i];
    kz_buf_puts(out, "S-");
    kz_buf_put_u64(out, p[0]);
    kz_buf_putc(out, '-');
    if (auth >> 32) put_hex_u64(out, auth);
    else kz_buf_put_u64(out, auth);
    for (uint32_t i = 0; i < count; i++) {
        kz_buf_putc(out, '-');
        kz_buf_put_u64(out, rd32(p + 8 + 4 * i));
    }
    return 0;
}

static void put_time(struct kz_buf *out, kz_time t, int digits) {
    char tmp[KZ_TIME_TEXT_MAX];
    size_t n = kz_time_format(t, digits, tmp);
    kz_buf_append(out, tmp, n);
}

/* SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds (2 bytes each). */
static int put_systime(struct kz_buf *out, const uint8_t *p) {
    unsigned y = rd16(p), mo = rd16(p + 2), da = rd16(p + 6), h = rd16(p + 8), mi = rd16(p + 10),
             s = rd16(p + 12), ms = rd16(p + 14);
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60 || ms > 999)
        return KZ_ECORRUPT;
    kz_time t = (kz_days_from_civil(y, mo, da) * 86400 + h * 3600 + mi * 60 + s) * KZ_TICKS_PER_SEC +
                (kz_time)ms * 10000;
    put_time(out, t, 3);
    return 0;
}

/* Size of one item of a fixed-size type, 0 for variable-size types. */
static uint32_t fixed_size(uint8_t type) {
    switch (type) {
    case VT_INT8: case VT_UINT8: return 1;
    case VT_INT16: case VT_UINT16: return 2;
    case VT_INT32: case VT_UINT32: case VT_REAL32: case VT_BOOL: case VT_HEXINT32: return 4;
    case VT_INT64: case VT_UINT64: case VT_REAL64: case VT_FILETIME: case VT_HEXINT64: return 8;
    case VT_GUID: case VT_SYSTIME: return 16;
    }
    return 0;
}

int bx_render_value(struct kz_buf *out, uint8_t type, const uint8_t *p, uint32_t len) {
    uint32_t need = fixed_size(type);
    if (need && len < need) return KZ_ECORRUPT;
    switch (type) {
    case VT_NULL: return 0;
    case VT_WSTRING: {
        uint32_t nchars = len / 2;
        if (kz_buf_reserve(out, KZ_UTF8_MAX_FOR_UTF16((size_t)nchars))) return KZ_ELIMIT;
        out->len += kz_utf16le_to_utf8(out->data + out->len, p, nchars);
        return 0;
    }
    case VT_ASTRING: {
        /* 8-bit text of unknown code page: ASCII as is, other bytes as Latin-1, up to a NUL. */
        if (kz_buf_reserve(out, 2 * (size_t)len + 1)) return KZ_ELIMIT;
        char *o = out->data + out->len;
        for (uint32_t i = 0; i < len && p[i]; i++) {
            if (p[i] < 0x80) *o++ = (char)p[i];
            else *o++ = (char)(0xC0 | p[i] >> 6), *o++ = (char)(0x80 | (p[i] & 0x3F));
        }
        out->len = (size_t)(o - out->data);
        out->data[out->len] = 0;
        return 0;
    }
    case VT_INT8: kz_buf_put_i64(out, (int8_t)p[0]); return 0;
    case VT_UINT8: kz_buf_put_u64(out, p[0]); return 0;
    case VT_INT16: kz_buf_put_i64(out, (int16_t)rd16(p)); return 0;
    case VT_UINT16: kz_buf_put_u64(out, rd16(p)); return 0;
    case VT_INT32: kz_buf_put_i64(out, (int32_t)rd32(p)); return 0;
    case VT_UINT32: kz_buf_put_u64(out, rd32(p)); return 0;
    case VT_INT64: kz_buf_put_i64(out, (int64_t)rd64(p)); return 0;
    case VT_UINT64: kz_buf_put_u64(out, rd64(p)); return 0;
    case VT_REAL32: {
        float f;
        memcpy(&f, p, 4);
        kz_buf_printf(out, "%.9g", (double)f);
        return 0;
    }
    case VT_REAL64: {
        double f;
        memcpy(&f, p, 8);
        kz_buf_printf(out, "%.17g", f);
        return 0;
    }
    case VT_BOOL:
        /* Windows writes a 32-bit BOOL; any non-zero value is true. */
        kz_buf_puts(out, rd32(p) ? "true" : "false");
        return 0;
    case VT_GUID: put_guid(out, p); return 0;
    case VT_SIZET:
        if (len == 4) put_hex_u64(out, rd32(p));
        else if (len == 8) put_hex_u64(out, rd64(p));
        else return KZ_ECORRUPT;
        return 0;
    case VT_FILETIME: put_time(out, kz_time_from_filetime(rd64(p)), 7); return 0;
    case VT_SYSTIME: return put_systime(out, p);
    case VT_SID: return put_sid(out, p, len);
    case VT_HEXINT32: put_hex_u64(out, rd32(p)); return 0;
    case VT_HEXINT64: put_hex_u64(out, rd64(p)); return 0;
    case VT_BINARY:
    case VT_EVTHANDLE:
    case VT_EVTXML:
    default: {
        /* Binary and anything kizuki has no text form for: upper-case hex, as Event Viewer shows it. */
        if (kz_buf_reserve(out, 2 * (size_t)len + 1)) return KZ_ELIMIT;
        char *o = out->data + out->len;
        for (uint32_t i = 0; i < len; i++) *o++ = HEX_UP[p[i] >> 4], *o++ = HEX_UP[p[i] & 15];
        out->len += 2 * (size_t)len;
        out->data[out->len] = 0;
        return 0;
    }
    }
}

int bx_array_items(const struct bx_value *v, int (*fn)(void *ctx, const struct bx_value *item),
                   void *ctx) {
    uint8_t base = v->type & 0x7f;
    struct bx_value item = {.type = base};
    int rc;
    if (base == VT_WSTRING) {
        /* NUL-terminated UTF-16 strings back to back. */
        uint32_t i = 0, start = 0, nchars = v->len / 2;
        for (; i < nchars; i++) {
            if (rd16(v->data + 2 * i) != 0) continue;
            item.data = v->data + 2 * start;
            item.len = 2 * (i - start);
            if ((rc = fn(ctx, &item))) return rc;
            start = i + 1;
        }
        if (start < nchars) {
            item.data = v->data + 2 * start;
            item.len = 2 * (nchars - start);
            return fn(ctx, &item);
        }
        return 0;
    }
    if (base == VT_ASTRING) {
        uint32_t i = 0, start = 0;
        for (; i < v->len; i++) {
            if (v->data[i]) continue;
            item.data = v->data + start, item.len = i - start;
            if ((rc = fn(ctx, &item))) return rc;
            start = i + 1;
        }
        if (start < v->len) {
            item.data = v->data + start, item.len = v->len - start;
            return fn(ctx, &item);
        }
        return 0;
    }
    uint32_t size = base == VT_SIZET ? 8 : fixed_size(base);
    if (base == VT_SID) {
        /* SIDs are variable-size: each is 8 + 4 * sub-authority count bytes. */
        uint32_t p = 0;
        while (p + 8 <= v->len) {
            uint32_t n = 8 + 4 * (uint32_t)v->data[p + 1];
            if (p + n > v->len) return KZ_ECORRUPT;
            item.data = v->data + p, item.len = n;
            if ((rc = fn(ctx, &item))) return rc;
            p += n;
        }
        return 0;
    }
    if (!size) return KZ_EUNSUPP;
    for (uint32_t p = 0; p + size <= v->len; p += size) {
        item.data = v->data + p, item.len = size;
        if ((rc = fn(ctx, &item))) return rc;
    }
    return 0;
}
