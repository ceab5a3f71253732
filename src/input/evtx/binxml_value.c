/* binxml_value.c - renders BinXML substitution values as text.
 *
 * The text forms follow what Windows' Event Viewer shows in its XML view (and what Sigma rules are
 * written against): decimal integers, 0x-prefixed lowercase hex for HexInt and SizeT, upper-case
 * braced GUIDs, S-1-... SIDs, RFC 3339 UTC times with 7 fraction digits, upper-case hex for binary.
 */
#include "evtx_int.h"

#include "../../core/event.h"
#include "../../core/fmt.h"
#include "../../core/timeutil.h"
#include "../../core/utf.h"

#include <stdio.h>
#include <string.h>

static const char HEX_UP[] = "0123456789ABCDEF";
static const char HEX_LOW[] = "0123456789abcdef";

/* Every writer below appends to o, which has room (bx_render_value reserves bx_text_bound once),
 * and returns the new end. */

static char *put_hex(char *o, uint64_t v) {
    char tmp[16];
    int i = sizeof tmp;
    do {
        tmp[--i] = HEX_LOW[v & 15];
        v >>= 4;
    } while (v);
    *o++ = '0';
    *o++ = 'x';
    memcpy(o, tmp + i, sizeof tmp - (size_t)i);
    return o + sizeof tmp - i;
}

static char *put_guid(char *o, const uint8_t *p) {
    /* {Data1-Data2-Data3-Data4[0..1]-Data4[2..7]}: the first three fields are little-endian on
     * disk. Source byte and output position of each byte's two digits, so the loop has no branches.
     */
    static const uint8_t src[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t pos[16] = {1, 3, 5, 7, 10, 12, 15, 17, 20, 22, 25, 27, 29, 31, 33, 35};
    o[0] = '{', o[9] = '-', o[14] = '-', o[19] = '-', o[24] = '-', o[37] = '}';
    for (int i = 0; i < 16; i++) {
        uint8_t b = p[src[i]];
        o[pos[i]] = HEX_UP[b >> 4];
        o[pos[i] + 1] = HEX_UP[b & 15];
    }
    return o + 38;
}

/* SID: revision (1), sub-authority count (1), identifier authority (6, big-endian),
 * sub-authorities. NULL when the value is too short for its count. */
static char *put_sid(char *o, const uint8_t *p, uint32_t len) {
    if (len < 8) return NULL;
    uint32_t count = p[1];
    if (8 + 4 * (uint64_t)count > len) return NULL;
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
        auth = auth << 8 | p[i];
    *o++ = 'S';
    *o++ = '-';
    o = kz_fmt_u64(o, p[0]);
    *o++ = '-';
    o = auth >> 32 ? put_hex(o, auth) : kz_fmt_u64(o, auth);
    for (uint32_t i = 0; i < count; i++) {
        *o++ = '-';
        o = kz_fmt_u64(o, rd32(p + 8 + 4 * i));
    }
    return o;
}

static char *put_time(char *o, kz_time t, int digits) {
    return o + kz_time_format(t, digits, o);
}

/* SYSTEMTIME: year, month, day of week, day, hour, minute, second, milliseconds (2 bytes each). */
static char *put_systime(char *o, const uint8_t *p) {
    unsigned y = rd16(p), mo = rd16(p + 2), da = rd16(p + 6), h = rd16(p + 8), mi = rd16(p + 10),
             s = rd16(p + 12), ms = rd16(p + 14);
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60 || ms > 999)
        return NULL;
    kz_time t =
        (kz_days_from_civil(y, mo, da) * 86400 + h * 3600 + mi * 60 + s) * KZ_TICKS_PER_SEC +
        (kz_time)ms * 10000;
    return put_time(o, t, 3);
}

static char *put_binary(char *o, const uint8_t *p, uint32_t len) {
    for (uint32_t i = 0; i < len; i++)
        *o++ = HEX_UP[p[i] >> 4], *o++ = HEX_UP[p[i] & 15];
    return o;
}

/* Size of one item of a fixed-size type, 0 for variable-size types. */
static uint32_t fixed_size(uint8_t type) {
    switch (type) {
    case VT_INT8:
    case VT_UINT8:
        return 1;
    case VT_INT16:
    case VT_UINT16:
        return 2;
    case VT_INT32:
    case VT_UINT32:
    case VT_REAL32:
    case VT_BOOL:
    case VT_HEXINT32:
        return 4;
    case VT_INT64:
    case VT_UINT64:
    case VT_REAL64:
    case VT_FILETIME:
    case VT_HEXINT64:
        return 8;
    case VT_GUID:
    case VT_SYSTIME:
        return 16;
    }
    return 0;
}

char *bx_render_to(char *o, uint8_t type, const uint8_t *p, uint32_t len) {
    uint32_t need = fixed_size(type);
    if (need && len < need) return NULL;
    switch (type) {
    case VT_NULL:
        break;
    case VT_WSTRING:
        o += kz_utf16le_to_utf8(o, p, len / 2);
        break;
    case VT_ASTRING:
        /* 8-bit text of unknown code page: ASCII as is, other bytes as Latin-1, up to a NUL. */
        for (uint32_t i = 0; i < len && p[i]; i++) {
            if (p[i] < 0x80)
                *o++ = (char)p[i];
            else
                *o++ = (char)(0xC0 | p[i] >> 6), *o++ = (char)(0x80 | (p[i] & 0x3F));
        }
        break;
    case VT_INT8:
        o = kz_fmt_i64(o, (int8_t)p[0]);
        break;
    case VT_UINT8:
        o = kz_fmt_u64(o, p[0]);
        break;
    case VT_INT16:
        o = kz_fmt_i64(o, (int16_t)rd16(p));
        break;
    case VT_UINT16:
        o = kz_fmt_u64(o, rd16(p));
        break;
    case VT_INT32:
        o = kz_fmt_i64(o, (int32_t)rd32(p));
        break;
    case VT_UINT32:
        o = kz_fmt_u64(o, rd32(p));
        break;
    case VT_INT64:
        o = kz_fmt_i64(o, (int64_t)rd64(p));
        break;
    case VT_UINT64:
        o = kz_fmt_u64(o, rd64(p));
        break;
    case VT_REAL32: {
        float f;
        memcpy(&f, p, 4);
        o += snprintf(o, 40, "%.9g", (double)f);
        break;
    }
    case VT_REAL64: {
        double f;
        memcpy(&f, p, 8);
        o += snprintf(o, 40, "%.17g", f);
        break;
    }
    case VT_BOOL:
        /* Windows writes a 32-bit BOOL; any non-zero value is true. */
        memcpy(o, rd32(p) ? "true" : "false", rd32(p) ? 4 : 5);
        o += rd32(p) ? 4 : 5;
        break;
    case VT_GUID:
        o = put_guid(o, p);
        break;
    case VT_SIZET:
        if (len == 4)
            o = put_hex(o, rd32(p));
        else if (len == 8)
            o = put_hex(o, rd64(p));
        else
            return NULL;
        break;
    case VT_FILETIME:
        o = put_time(o, kz_time_from_filetime(rd64(p)), 7);
        break;
    case VT_SYSTIME:
        o = put_systime(o, p);
        break;
    case VT_SID:
        o = put_sid(o, p, len);
        break;
    case VT_HEXINT32:
        o = put_hex(o, rd32(p));
        break;
    case VT_HEXINT64:
        o = put_hex(o, rd64(p));
        break;
    default:
        /* Binary, and anything kizuki has no text form for: upper-case hex, as Event Viewer shows.
         */
        o = put_binary(o, p, len);
        break;
    }
    if (o) *o = 0;
    return o;
}

int bx_render_value(struct kz_buf *out, uint8_t type, const uint8_t *p, uint32_t len) {
    /* One reservation for the worst case, then plain stores. */
    if (kz_buf_reserve(out, bx_text_bound(type, len))) return KZ_ELIMIT;
    char *o = bx_render_to(out->data + out->len, type, p, len);
    if (!o) {
        out->data[out->len] = 0;
        return KZ_ECORRUPT;
    }
    out->len = (size_t)(o - out->data);
    return 0;
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
