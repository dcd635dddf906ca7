/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frame.c: the cluster bus wire format.
 *
 * What: encoding and decoding of frame headers and of the HELLO and PING/PONG payloads, plus the
 * small writer/reader the rest of cluster/ uses for the other frame types.
 *
 * Why this shape: the decoder is the one piece of the bus that an unauthenticated or hostile
 * sender can reach with arbitrary bytes (and the target of a fuzzer), so it is pure, allocates
 * nothing, and every read goes through cl_reader, which refuses to run past the payload and turns
 * an overrun into a sticky `bad` flag instead of a branch at every call site.  Lengths are checked
 * against the receiver's limit from the fixed-size header alone, before a byte of payload is
 * buffered (as Redis's cluster bus reads its 8-byte prefix first).  Integers are big-endian.
 *
 * Rejected: a self-describing format (TLV everywhere).  The frame set is small and versioned by
 * the header's version field; a receiver refuses a version it does not speak.
 *
 * Invariant: a successful decode consumed exactly the payload (trailing bytes are an error).
 * Start reading at cl_frame_parse_header.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

int cl_frame_parse_header(const uint8_t *buf, size_t n, size_t max_len, cl_frame_header *h)
{
    if (n < CL_HEADER_LEN) return CL_FRAME_SHORT;
    if (rd32(buf) != CL_MAGIC) return CL_FRAME_BAD_MAGIC;
    h->len = rd32(buf + 4);
    if (rd16(buf + 8) != CL_VERSION) return CL_FRAME_BAD_VERSION;
    h->type = rd16(buf + 10);
    h->hlc = rd64(buf + 12);
    if (h->len < CL_HEADER_LEN || h->len > max_len) return CL_FRAME_BAD_LENGTH;
    if (h->type == 0 || h->type > CL_TYPE_MAX) return CL_FRAME_BAD_TYPE;
    return CL_FRAME_OK;
}

const char *cl_frame_strerror(int rc)
{
    switch (rc) {
    case CL_FRAME_OK: return "ok";
    case CL_FRAME_SHORT: return "incomplete header";
    case CL_FRAME_BAD_MAGIC: return "not a repram bus frame (bad magic)";
    case CL_FRAME_BAD_VERSION: return "unsupported bus protocol version";
    case CL_FRAME_BAD_LENGTH: return "frame length out of range";
    case CL_FRAME_BAD_TYPE: return "unknown frame type";
    default: return "unknown error";
    }
}

/* ---- writer */

void cl_wbuf_init(cl_wbuf *w) { memset(w, 0, sizeof *w); }

void cl_wbuf_free(cl_wbuf *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

static uint8_t *room(cl_wbuf *w, size_t n)
{
    if (w->failed) return NULL;
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->failed = 1;
                return NULL;
            }
            cap *= 2;
        }
        uint8_t *p = realloc(w->data, cap);
        if (!p) {
            w->failed = 1;
            return NULL;
        }
        w->data = p;
        w->cap = cap;
    }
    uint8_t *at = w->data + w->len;
    w->len += n;
    return at;
}

void cl_put_u8(cl_wbuf *w, uint8_t v)
{
    uint8_t *p = room(w, 1);
    if (p) p[0] = v;
}

void cl_put_u16(cl_wbuf *w, uint16_t v)
{
    uint8_t *p = room(w, 2);
    if (!p) return;
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void cl_put_u32(cl_wbuf *w, uint32_t v)
{
    uint8_t *p = room(w, 4);
    if (!p) return;
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}

void cl_put_u64(cl_wbuf *w, uint64_t v)
{
    cl_put_u32(w, (uint32_t)(v >> 32));
    cl_put_u32(w, (uint32_t)v);
}

void cl_put_bytes(cl_wbuf *w, const void *p, size_t n)
{
    uint8_t *at = room(w, n);
    if (at && n) memcpy(at, p, n);
}

void cl_put_str(cl_wbuf *w, const char *s)
{
    size_t n = strlen(s);
    if (n > CL_STR_MAX) n = CL_STR_MAX;
    cl_put_u8(w, (uint8_t)n);
    cl_put_bytes(w, s, n);
}

void cl_frame_begin(cl_wbuf *w, uint16_t type, uint64_t hlc)
{
    w->len = 0;
    w->failed = 0;
    cl_put_u32(w, CL_MAGIC);
    cl_put_u32(w, 0);
    cl_put_u16(w, CL_VERSION);
    cl_put_u16(w, type);
    cl_put_u64(w, hlc);
}

int cl_frame_end(cl_wbuf *w)
{
    if (w->failed || w->len > UINT32_MAX) return -1;
    uint32_t n = (uint32_t)w->len;
    for (int i = 0; i < 4; i++) w->data[4 + i] = (uint8_t)(n >> (24 - 8 * i));
    return 0;
}

/* ---- reader */

void cl_reader_init(cl_reader *r, const void *p, size_t n)
{
    r->p = p;
    r->left = n;
    r->bad = 0;
}

static const uint8_t *take(cl_reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

uint8_t cl_get_u8(cl_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint16_t cl_get_u16(cl_reader *r)
{
    const uint8_t *p = take(r, 2);
    return p ? rd16(p) : 0;
}

uint32_t cl_get_u32(cl_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? rd32(p) : 0;
}

uint64_t cl_get_u64(cl_reader *r)
{
    const uint8_t *p = take(r, 8);
    return p ? rd64(p) : 0;
}

void cl_get_str(cl_reader *r, char *out)
{
    out[0] = '\0';
    size_t n = cl_get_u8(r);
    const uint8_t *p = take(r, n);
    if (!p) return;
    /* Names, addresses and reasons are printable: a NUL would cut them short and a control
     * character (newline, escape) would forge or garble log lines. */
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            r->bad = 1;
            return;
        }
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

/* ---- payloads */

void cl_encode_hello(cl_wbuf *w, uint16_t type, uint64_t hlc, const cl_hello *h)
{
    cl_frame_begin(w, type, hlc);
    cl_put_str(w, h->cluster_name);
    cl_put_str(w, h->node_name);
    cl_put_str(w, h->run_id);
    cl_put_u16(w, h->client_port);
    cl_put_u16(w, h->http_port);
    cl_put_u16(w, h->bus_port);
    cl_put_u32(w, h->cluster_size);
    cl_put_u8(w, h->ready);
}

int cl_decode_hello(const void *payload, size_t n, cl_hello *h)
{
    cl_reader r;
    cl_reader_init(&r, payload, n);
    cl_get_str(&r, h->cluster_name);
    cl_get_str(&r, h->node_name);
    cl_get_str(&r, h->run_id);
    h->client_port = cl_get_u16(&r);
    h->http_port = cl_get_u16(&r);
    h->bus_port = cl_get_u16(&r);
    h->cluster_size = cl_get_u32(&r);
    h->ready = cl_get_u8(&r);
    if (r.bad || r.left != 0 || h->node_name[0] == '\0' || h->ready > 1) return -1;
    return 0;
}

void cl_encode_gossip(cl_wbuf *w, uint16_t type, uint64_t hlc, uint8_t ready,
                      const cl_gossip_entry *e, int n)
{
    cl_frame_begin(w, type, hlc);
    cl_put_u8(w, ready);
    cl_put_u8(w, (uint8_t)n);
    for (int i = 0; i < n; i++) {
        cl_put_str(w, e[i].name);
        cl_put_str(w, e[i].addr);
        cl_put_u8(w, e[i].state);
        cl_put_u16(w, e[i].client_port);
        cl_put_u16(w, e[i].http_port);
    }
}

int cl_decode_gossip(const void *payload, size_t n, uint8_t *ready, cl_gossip_entry *e, int max)
{
    cl_reader r;
    cl_reader_init(&r, payload, n);
    *ready = cl_get_u8(&r);
    int count = cl_get_u8(&r);
    if (r.bad || *ready > 1 || count > (int)CL_GOSSIP_MAX) return -1;
    int kept = 0;
    for (int i = 0; i < count; i++) {
        cl_gossip_entry tmp = {0}; /* entries beyond max are read and dropped */
        cl_gossip_entry *dst = kept < max ? &e[kept] : &tmp;
        cl_get_str(&r, dst->name);
        cl_get_str(&r, dst->addr);
        dst->state = cl_get_u8(&r);
        dst->client_port = cl_get_u16(&r);
        dst->http_port = cl_get_u16(&r);
        if (r.bad || dst->state > CLUSTER_PEER_FAIL || dst->name[0] == '\0') return -1;
        if (kept < max) kept++;
    }
    if (r.left != 0) return -1;
    return kept;
}
