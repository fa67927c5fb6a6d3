// The DPDK headers this package uses, included in one place. DPDK 22.11's
// headers are C code that C++20 warns about (++ on volatile in
// rte_spinlock.h); the warning is silenced for them only, so our own code
// stays under -Wall -Wextra. Include only from stack/link/*.cc.
#ifndef LOCUS_STACK_LINK_DPDK_HEADERS_H_
#define LOCUS_STACK_LINK_DPDK_HEADERS_H_

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvolatile"
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#pragma GCC diagnostic pop

#endif  // LOCUS_STACK_LINK_DPDK_HEADERS_H_
