/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session-ticket keys for every worker (shm/tls-pub-t.h, struct
 * porter_tls_tickets): drawn from the kernel's CSPRNG through OpenSSL at
 * start, then one new key every PORTER_TLS_TICKET_ROTATE_S seconds. The
 * primary is their only writer; workers encrypt new tickets under the
 * current key and accept the two before it.
 */
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <rte_log.h>

#include "primary/primary.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

static int draw(struct porter_tls_ticket_key *k)
{
	struct porter_tls_ticket_key n = { 0 };

	if (RAND_priv_bytes(n.name, sizeof(n.name)) != 1 || RAND_priv_bytes(n.aes, sizeof(n.aes)) != 1 ||
	    RAND_priv_bytes(n.hmac, sizeof(n.hmac)) != 1)
		return -1;
	n.created_s = (uint64_t)time(NULL);
	memcpy(k, &n, sizeof(n));
	OPENSSL_cleanse(&n, sizeof(n));
	return 0;
}

int tickets_init(struct porter_tls_tickets *t)
{
	memset(t, 0, sizeof(*t));
	/* every slot holds a random key (never zeros a client could use), slot 0 the current one */
	for (unsigned int i = 0; i < PORTER_TLS_TICKET_KEYS; i++)
		if (draw(&t->key[i]) < 0) {
			LOG(ERR, "TLS session-ticket key: the random generator failed");
			return -1;
		}
	t->current = 0;
	t->rotations = 1;
	return 0;
}

void tickets_tick(struct primary *p)
{
	struct porter_tls_tickets *t = &p->tls->tickets;
	uint32_t cur = __atomic_load_n(&t->current, __ATOMIC_RELAXED), next = (cur + 1) % PORTER_TLS_TICKET_KEYS;
	uint64_t now = (uint64_t)time(NULL);

	if (now < t->key[cur].created_s + PORTER_TLS_TICKET_ROTATE_S)
		return;
	/* the oldest slot: neither the current key nor the one before it */
	if (draw(&t->key[next]) < 0) {
		LOG(WARNING, "TLS session-ticket key rotation: the random generator failed; the key stays");
		t->key[cur].created_s = now;   /* try again in a rotation period, not on every tick */
		return;
	}
	__atomic_store_n(&t->current, next, __ATOMIC_RELEASE);
	__atomic_store_n(&t->rotations, t->rotations + 1, __ATOMIC_RELEASE);
}
