/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK vdev strings ("net_af_packet0,iface=veth0,framecnt=4096"): reading an
 * argument and adding porter's defaults. Pure string code (no EAL), so the
 * unit tests drive it directly.
 */
#ifndef PORTER_PRIMARY_DEVARGS_H
#define PORTER_PRIMARY_DEVARGS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * net_af_packet RX ring when the device string sets none of its geometry
 * (framecnt, framesz, blocksz). DPDK's default is 512 frames of 2 KiB, which
 * a veth at ~280 kpps fills in under 2 ms -- less than one scheduler time
 * slice on a shared core. Measured (tests/bench/bench_burst.py, 100k clients
 * in 7 s arriving 200 at a time, 2 vCPUs): 512 frames lost 0 to 159k frames
 * per run with the old timed sleeps and ~100-600 with wake-ups on the
 * driver's socket; 4096 lost none either way. They cost 8 MiB of locked
 * memory for RX and as much for TX (the driver sizes both rings alike), per
 * port.
 */
#define AF_PACKET_DEFAULT_FRAMECNT 4096

/*
 * The value of argument KEY of vdev string DEVICE into OUT (LEN bytes, cut to
 * fit; OUT may be NULL to test presence only). Returns whether KEY is there.
 * The device name (before the first ',') is not an argument.
 */
bool devarg_get(const char *device, const char *key, char *out, size_t len);

/*
 * DEVICE as porter passes it to EAL: net_af_packet (or its alias
 * eth_af_packet) without framecnt, framesz or blocksz gets
 * ",framecnt=AF_PACKET_DEFAULT_FRAMECNT"; anything else is copied as is.
 * Returns the length of the result, as snprintf does (>= LEN: cut).
 */
size_t devargs_with_defaults(const char *device, char *out, size_t len);

#endif
