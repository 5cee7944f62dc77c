/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading and writing big-endian wire fields at any alignment (memcpy, never
 * a cast), for the pure packet code that both processes link.
 */
#ifndef PORTER_SHM_WIRE_H
#define PORTER_SHM_WIRE_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, sizeof(v));
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, sizeof(v));
}

#endif
