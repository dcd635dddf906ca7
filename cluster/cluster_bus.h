/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_bus.h: the libevent + OpenSSL transport (bus.c).  Private to cluster/.
 */
#ifndef CLUSTER_CLUSTER_BUS_H
#define CLUSTER_CLUSTER_BUS_H

#include <stddef.h>

#include "cluster/cluster_internal.h"

struct event_base;
typedef struct bus bus;

/* Create the transport (TLS context, DNS, timers) and install it in cl.  NULL + err. */
bus *cl_bus_create(cluster *cl, struct event_base *base, char *err, size_t errlen);

/* Listen on the bus port and start the periodic tick (which dials the seeds).  0 or -1 + err. */
int cl_bus_start(bus *b, char *err, size_t errlen);

/* Close every link and listener and free the transport.  NULL accepted. */
void cl_bus_free(bus *b);

#endif /* CLUSTER_CLUSTER_BUS_H */
