/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.h: listeners, client I/O and the node's timers.
 */
#ifndef SERVER_NET_H
#define SERVER_NET_H

#include <stdint.h>

struct srv_client;

/* Output bytes pending on a client above which it is not read from (and its pipelined requests
 * wait) until the socket drains.  Keeps one client from growing its reply buffer without bound. */
#define SRV_OUT_HIGH_WATER (1u << 20) /* 1 MiB */

/* Most requests run per read event before yielding to other clients (STYLE.md 8.5). */
#define SRV_MAX_CMDS_PER_EVENT 64

/* Bytes requested from the kernel per read (Redis's PROTO_IOBUF_LEN). */
#define SRV_READ_CHUNK 16384

/* Open every configured listener.  Returns 0, or -1 after logging why. */
int srv_net_listen(void);

/* Close the listeners (shutdown). */
void srv_net_close_listeners(void);

/* Start the hz timer, the expiry timer and signal handlers. */
int srv_net_start(void);

/* CONFIG SET hz: re-arm the periodic timer at the new rate. */
void srv_net_update_hz(void);

/* Free timers and signal events (after the loop ended). */
void srv_net_stop(void);

/* A write set an expiry at `at_ms`: make sure active expiry runs by then.  O(1). */
void srv_net_note_expiry(uint64_t at_ms);

/* Begin a graceful shutdown: stop accepting, flush replies, close clients, leave the loop. */
void srv_net_shutdown(int exit_code);

/* A blocked client may go on: process its pending input on the next loop turn. */
void srv_client_unblock(struct srv_client *c);

/* Close every client (end of shutdown), freeing them. */
void srv_net_free_clients(void);

#endif /* SERVER_NET_H */
