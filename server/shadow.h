/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shadow.h: the shadow rule for shortened lifetimes (shadow.c), cluster mode only.
 *
 * When a write replaces a value with one that expires sooner, an older copy on a node that
 * missed the write could outlive the new value and come back through repair.  So the new entry
 * remembers `shadow_until`, the latest expiry of what it replaced; when it expires while that
 * time is still ahead, a tombstone marker with the entry's version takes its place until
 * min(shadow_until, its expiry + tombstone-grace).  Overwrites that keep or extend the lifetime
 * (the common refresh) leave nothing behind.
 */
#ifndef SERVER_SHADOW_H
#define SERVER_SHADOW_H

#include <stddef.h>
#include <stdint.h>

#include "ttl/ttl.h"

struct srv_key;

/* Start (cluster mode): allocates the side table.  0 or -1. */
int srv_shadow_enable(void);
void srv_shadow_disable(void);

/* From the keyspace's removal hook: an entry is being replaced (remember what it shadowed) or
 * has expired (queue its marker if it shadows an older, longer-lived version). */
void srv_shadow_on_replaced(const ttl_entry *old);
void srv_shadow_on_expired(const ttl_entry *e);

/* Around a store of a value (not a tombstone) for k: forget any replaced entry seen earlier,
 * then record the new entry's shadow from what it replaced and from `incoming` (the shadow a
 * replicated record carried; 0 for a local write). */
void srv_shadow_before_store(void);
void srv_shadow_after_store(const struct srv_key *k, const ttl_entry *e, uint64_t incoming);

/* An entry changed in place (new version; EXPIRE may also have shortened it): carry the shadow
 * of old_version over, and add old_expire if the entry now expires sooner. */
void srv_shadow_rebase(const struct srv_key *k, uint64_t old_version, uint64_t old_expire,
                       const ttl_entry *e);

/* The shadow of an entry (0 when none), for records and for DEL's tombstone lifetime. */
uint64_t srv_shadow_of(const struct srv_key *k, const ttl_entry *e);

/* Insert the markers queued by srv_shadow_on_expired (outside any dictionary call). */
void srv_shadow_flush(void);

/* Entries held in the side table (INFO). */
size_t srv_shadow_count(void);

#endif /* SERVER_SHADOW_H */
