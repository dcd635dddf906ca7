/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_model.c: a long randomized run against a reference model.  200k operations mix set,
 * overwrite, tombstones, delete, find (lazy expiry), expiry changes, value resizing, active
 * expiry, eviction, random, explicit rehash steps, clear and an always-running SCAN, with a fake
 * clock that moves forward.  The removal hook checks every removal against the model (right key,
 * right contents, a reason the current operation allows), and the whole dictionary is compared
 * with the model at intervals.  A second run uses a deliberately weak hash (few homes, one tag)
 * so that long Robin Hood runs and saturated distances meet every operation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttl/tests/support.h"

enum kstate { ABSENT = 0, LIVE, TOMB };

struct mkey {
    enum kstate state;
    uint32_t vlen;
    uint64_t version, expire, gen;
    int scan_ok; /* present, untouched, since the current scan started */
    int scan_seen;
};

/* What removals the operation in progress may cause. */
enum { ALLOW_EXPIRED = 1, ALLOW_EVICTED = 2, ALLOW_DELETED = 4, ALLOW_REPLACED = 8 };

struct model {
    ttl_dict *d;
    struct mkey *k;
    unsigned nkeys;
    uint64_t now, rng, version;
    int allow;
    unsigned target; /* the key a set/delete is about (UINT_MAX: any) */
    size_t evicted_now;
    int scanning;
    uint64_t cursor;
    size_t scans_done, max_slots, grows, shrinks, last_slots;
};

static unsigned key_id(const ttl_entry *e)
{
    size_t kl;
    const char *k = ttl_entry_key(e, &kl);
    unsigned id = 0;
    assert_true(kl >= 3 && k[0] == 'm' && k[1] == ':');
    for (size_t i = 2; i < kl; i++)
        id = id * 10 + (unsigned)(k[i] - '0');
    return id;
}

static size_t make_key(char *buf, unsigned id) { return test_key(buf, 24, "m:", id); }

static unsigned char value_byte(unsigned id, uint64_t gen, size_t pos)
{
    return (unsigned char)(id * 131 + gen * 31 + pos * 7);
}

static void assert_matches(const struct model *m, unsigned id, const ttl_entry *e)
{
    const struct mkey *k = &m->k[id];
    size_t vl;
    const unsigned char *v = ttl_entry_value(e, &vl);
    assert_int_not_equal(k->state, ABSENT);
    assert_int_equal(ttl_entry_is_tombstone(e), k->state == TOMB);
    assert_int_equal(ttl_entry_version(e), k->version);
    assert_int_equal(ttl_entry_expire_at(e), k->expire);
    assert_int_equal(vl, k->vlen);
    for (size_t i = 0; i < vl; i++)
        assert_int_equal(v[i], value_byte(id, k->gen, i));
}

static void on_remove(void *priv, const ttl_entry *e, enum ttl_reason why)
{
    struct model *m = priv;
    unsigned id = key_id(e);
    struct mkey *k = &m->k[id];

    assert_true(id < m->nkeys);
    assert_matches(m, id, e);
    switch (why) {
    case TTL_REMOVED_EXPIRED:
        assert_true(m->allow & ALLOW_EXPIRED);
        assert_true(k->expire <= m->now);
        break;
    case TTL_REMOVED_EVICTED:
        assert_true(m->allow & ALLOW_EVICTED);
        assert_int_equal(k->state, LIVE);
        assert_true(k->expire > m->now);
        m->evicted_now++;
        break;
    case TTL_REMOVED_DELETED:
        assert_true(m->allow & ALLOW_DELETED);
        assert_true(m->target == UINT32_MAX || m->target == id);
        break;
    case TTL_REMOVED_REPLACED:
        assert_true(m->allow & ALLOW_REPLACED);
        assert_int_equal(m->target, id);
        return; /* the set updates the model */
    }
    k->state = ABSENT;
    k->scan_ok = 0;
}

static uint64_t rnd(struct model *m, uint64_t n) { return test_rand(&m->rng) % n; }

static uint64_t new_expiry(struct model *m)
{
    return m->now + 1 + (rnd(m, 2) ? rnd(m, 3000) : rnd(m, 30000));
}

static void op_set(struct model *m, unsigned id, int tomb)
{
    char key[24], val[1200];
    size_t kl = make_key(key, id);
    struct mkey *k = &m->k[id];
    uint32_t vlen = tomb ? 0 : (uint32_t)(rnd(m, 10) == 0 ? rnd(m, 1200) : rnd(m, 120));
    uint64_t gen = k->gen + 1, at = new_expiry(m), h = ttl_dict_hash(m->d, key, kl);
    ttl_entry *e;
    int rc;

    for (size_t i = 0; i < vlen; i++)
        val[i] = (char)value_byte(id, gen, i);
    m->allow = ALLOW_REPLACED;
    m->target = id;
    if (tomb)
        rc = ttl_dict_set_tombstone(m->d, h, key, kl, at, ++m->version, &e);
    else
        rc = ttl_dict_set(m->d, h, key, kl, val, vlen, at, ++m->version, &e);
    assert_int_equal(rc, TTL_OK);
    if (tomb || k->state != LIVE || k->expire <= m->now)
        k->scan_ok = 0; /* it was hidden (or gone) for a while */
    *k = (struct mkey){tomb ? TOMB : LIVE, vlen, m->version, at, gen, k->scan_ok, k->scan_seen};
    assert_matches(m, id, e);
}

/* find at `now`, checking the answer against the model (expired entries are removed). */
static ttl_entry *op_find(struct model *m, unsigned id, int tombs)
{
    char key[24];
    size_t kl = make_key(key, id);
    struct mkey *k = &m->k[id];
    ttl_entry *e;
    int was_due = k->state != ABSENT && k->expire <= m->now;

    m->allow = ALLOW_EXPIRED;
    e = ttl_dict_find(m->d, ttl_dict_hash(m->d, key, kl), key, kl, m->now, tombs);
    if (was_due)
        assert_int_equal(k->state, ABSENT);
    if (k->state == ABSENT || (k->state == TOMB && !tombs)) {
        assert_null(e);
        return NULL;
    }
    assert_non_null(e);
    assert_matches(m, id, e);
    return e;
}

static void op_delete(struct model *m, unsigned id)
{
    char key[24];
    size_t kl = make_key(key, id);
    int present = m->k[id].state != ABSENT;

    m->allow = ALLOW_DELETED;
    m->target = id;
    assert_int_equal(ttl_dict_delete(m->d, ttl_dict_hash(m->d, key, kl), key, kl), present);
    assert_int_equal(m->k[id].state, ABSENT);
}

static void op_set_expire(struct model *m, unsigned id)
{
    ttl_entry *e = op_find(m, id, 1);
    if (e == NULL)
        return;
    uint64_t at = rnd(m, 2) ? m->now + rnd(m, 50) : new_expiry(m);
    if (at == 0)
        at = 1;
    m->allow = 0;
    ttl_dict_set_expire(m->d, e, at);
    m->k[id].expire = at;
    m->k[id].scan_ok = 0;
}

static void op_resize(struct model *m, unsigned id)
{
    ttl_entry *e = op_find(m, id, 0);
    if (e == NULL)
        return;
    struct mkey *k = &m->k[id];
    size_t nl = rnd(m, 300);
    unsigned char *v;
    m->allow = 0;
    assert_int_equal(ttl_dict_resize_value(m->d, &e, nl), TTL_OK);
    k->gen++;
    v = ttl_entry_value_mut(e);
    for (size_t i = 0; i < nl; i++)
        v[i] = value_byte(id, k->gen, i);
    k->vlen = (uint32_t)nl;
    assert_ptr_equal(op_find(m, id, 0), e);
}

static void op_expire(struct model *m)
{
    int more;
    size_t due = 0, removed;
    for (unsigned i = 0; i < m->nkeys; i++)
        due += m->k[i].state != ABSENT && m->k[i].expire <= m->now;
    m->allow = ALLOW_EXPIRED;
    removed = ttl_dict_expire(m->d, m->now, rnd(m, 4) == 0 ? SIZE_MAX : rnd(m, 300), &more);
    assert_true(removed <= due);
    if (!more) {
        for (unsigned i = 0; i < m->nkeys; i++)
            assert_false(m->k[i].state != ABSENT && m->k[i].expire <= m->now);
        assert_true(ttl_dict_next_expiry(m->d) > m->now);
    }
}

static void op_evict(struct model *m)
{
    size_t live = 0;
    for (unsigned i = 0; i < m->nkeys; i++)
        live += m->k[i].state == LIVE && m->k[i].expire > m->now;
    m->allow = ALLOW_EXPIRED | ALLOW_EVICTED;
    m->evicted_now = 0;
    int r = ttl_dict_evict(m->d, m->now);
    assert_int_equal((size_t)r, m->evicted_now);
    assert_int_equal(r, live > 0);
}

static void op_random(struct model *m)
{
    m->allow = ALLOW_EXPIRED;
    ttl_entry *e = ttl_dict_random(m->d, test_rand(&m->rng), m->now);
    if (e == NULL) {
        assert_int_equal(ttl_dict_size(m->d), 0);
        return;
    }
    unsigned id = key_id(e);
    assert_int_equal(m->k[id].state, LIVE);
    assert_true(m->k[id].expire > m->now);
    assert_matches(m, id, e);
}

static void scan_visit(void *priv, const ttl_entry *e)
{
    struct model *m = priv;
    unsigned id = key_id(e);
    assert_int_equal(m->k[id].state, LIVE);
    assert_true(m->k[id].expire > m->now);
    m->k[id].scan_seen = 1;
}

/* One call of the running scan; at the end, every key untouched since its start was seen. */
static void op_scan_step(struct model *m)
{
    m->allow = 0;
    if (!m->scanning) {
        for (unsigned i = 0; i < m->nkeys; i++) {
            m->k[i].scan_ok = m->k[i].state == LIVE;
            m->k[i].scan_seen = 0;
        }
        m->scanning = 1;
        m->cursor = 0;
    }
    m->cursor = ttl_dict_scan(m->d, m->cursor, 1 + rnd(m, 20), m->now, 0, scan_visit, m);
    if (m->cursor != 0)
        return;
    m->scanning = 0;
    m->scans_done++;
    for (unsigned i = 0; i < m->nkeys; i++)
        if (m->k[i].scan_ok && m->k[i].expire > m->now)
            assert_true(m->k[i].scan_seen);
}

static void verify_all(struct model *m)
{
    size_t live = 0, tombs = 0;
    uint64_t saved = m->now;
    m->now = 0; /* look without expiring */
    for (unsigned i = 0; i < m->nkeys; i++) {
        live += m->k[i].state == LIVE;
        tombs += m->k[i].state == TOMB;
        op_find(m, i, 1);
    }
    m->now = saved;
    assert_int_equal(ttl_dict_size(m->d), live);
    assert_int_equal(ttl_dict_tombstones(m->d), tombs);
    check_dict(m->d);
}

static void run(ttl_hash_fn *hash, unsigned nkeys, unsigned ops, uint64_t seed)
{
    struct model m = {0};

    m.d = ttl_dict_create(test_seed);
    assert_non_null(m.d);
    if (hash != NULL)
        ttl_dict_set_hash_override(m.d, hash);
    m.k = calloc(nkeys, sizeof *m.k);
    assert_non_null(m.k);
    m.nkeys = nkeys;
    m.now = 1000;
    m.rng = seed;
    ttl_dict_set_remove_hook(m.d, on_remove, &m);
    for (unsigned op = 0; op < ops; op++) {
        /* Key popularity drifts so the table grows and shrinks over the run. */
        unsigned span = (op / (ops / 10)) % 2 ? nkeys / 20 : nkeys;
        unsigned id = (unsigned)rnd(&m, span), r = (unsigned)rnd(&m, 1000);
        m.now += rnd(&m, 3);
        if (r < 300)
            op_set(&m, id, 0);
        else if (r < 330)
            op_set(&m, id, 1);
        else if (r < 500)
            op_find(&m, id, (int)rnd(&m, 2));
        else if (r < 650)
            op_delete(&m, (unsigned)rnd(&m, nkeys));
        else if (r < 720)
            op_set_expire(&m, id);
        else if (r < 750)
            op_resize(&m, id);
        else if (r < 790)
            op_expire(&m);
        else if (r < 800)
            op_evict(&m);
        else if (r < 830)
            op_random(&m);
        else if (r < 850) {
            m.allow = 0;
            ttl_dict_rehash(m.d, rnd(&m, 8));
        } else if (r < 999) {
            op_scan_step(&m);
        } else if (rnd(&m, 20) == 0) {
            m.allow = ALLOW_DELETED;
            m.target = UINT32_MAX;
            ttl_dict_clear(m.d);
        }
        if (op % 5000 == 4999)
            verify_all(&m);
        size_t slots = ttl_dict_slots(m.d) - (ttl_dict_is_rehashing(m.d) ? m.d->old->mask + 1 : 0);
        m.grows += slots > m.last_slots;
        m.shrinks += slots < m.last_slots;
        m.last_slots = slots;
        if (slots > m.max_slots)
            m.max_slots = slots;
    }
    verify_all(&m);
    assert_true(ttl_dict_stats(m.d)->expired > 0);
    assert_true(ttl_dict_stats(m.d)->evicted > 0);
    /* The run really exercised resizing in both directions and completed many scans. */
    print_message("# %u ops: %zu scans, %zu grows, %zu shrinks, max %zu slots, %llu expired, "
                  "%llu evicted\n", ops, m.scans_done, m.grows, m.shrinks, m.max_slots,
                  (unsigned long long)ttl_dict_stats(m.d)->expired,
                  (unsigned long long)ttl_dict_stats(m.d)->evicted);
    assert_true(m.grows >= 3 && m.shrinks >= 1);
    assert_true(m.scans_done >= 10);
    ttl_dict_free(m.d);
    free(m.k);
}

static void test_model_siphash(void **state)
{
    (void)state;
    run(NULL, 3000, 200000, 42);
}

static uint64_t weak_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0;
    for (size_t i = 0; i < len; i++)
        h = h * 33 + p[i];
    return (h % 5) * 3; /* five homes, tag 0 */
}

static void test_model_weak_hash(void **state)
{
    (void)state;
    run(weak_hash, 600, 20000, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_siphash),
        cmocka_unit_test(test_model_weak_hash),
    };
    return cmocka_run_group_tests_name("ttl model", tests, NULL, NULL);
}
