/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porterctl streams: every TCP stream of the gateway, filtered, sorted and
 * flagged. The primary asks each (or one) shard's worker for a dump of its
 * streams and waits briefly for it; the worker writes the file from its own
 * loop, one JSON object per stream, and the primary never reads TCBs itself
 * (DESIGN §1). Arguments (after "streams"): [SHARD] state=NAME peer=ADDRESS
 * sort=KEY flagged limit=N.
 *
 * Flags, the signs of a peer that behaves like an attack (docs/OPERATIONS.md):
 *   zero_window   its window has been zero for TCP_ANOMALY_ZWND_MS or more, with data waiting
 *   tiny_mss      it announced an MSS below TCP_ANOMALY_MSS
 *   retransmits   the stream needed TCP_ANOMALY_REXMIT retransmissions or more, over a tenth of
 *                 the segments it sent
 *   many_streams  its address holds STREAMS_PER_PEER or more streams (all shards)
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rte_eal.h>

#include "primary/primary.h"
#include "primary/sbuf.h"
#include "shm/tcp-t.h"
#include "shm/names.h"

#define STREAMS_PER_PEER 256
#define STREAMS_MAX      (1u << 22)

enum { FL_ZWND = 1, FL_MSS = 2, FL_REXMIT = 4, FL_MANY = 8 };
static const char *const flag_names[] = { "zero_window", "tiny_mss", "retransmits", "many_streams" };

struct srec {
	char *line;                   /* the worker's object, as written */
	unsigned int shard, srtt, rto, cwnd, rex, zw_ms, peer_mss, mss, snd_queued;
	uint64_t in, out, age_ms;
	char local[32], remote[32], state[16], app[16];
	uint32_t raddr;
	unsigned int flags;
};

static uint64_t num(const char *line, const char *key)
{
	const char *k = strstr(line, key);

	return k ? strtoull(k + strlen(key), NULL, 10) : 0;
}

static bool parse(struct srec *r, char *line)
{
	char ip[32];

	if (sscanf(line, "{\"shard\":%u,\"id\":%*u,\"local\":\"%31[^\"]\",\"remote\":\"%31[^\"]\","
		   "\"state\":\"%15[^\"]\",\"app\":\"%15[^\"]\"", &r->shard, r->local, r->remote, r->state, r->app) < 5)
		return false;
	r->srtt = (unsigned int)num(line, "\"srtt_us\":");
	r->rto = (unsigned int)num(line, "\"rto_ms\":");
	r->cwnd = (unsigned int)num(line, "\"cwnd\":");
	r->rex = (unsigned int)num(line, "\"retransmits\":");
	r->in = num(line, "\"bytes_in\":");
	r->out = num(line, "\"bytes_out\":");
	r->age_ms = num(line, "\"age_ms\":");
	r->zw_ms = (unsigned int)num(line, "\"zero_window_ms\":");
	r->peer_mss = (unsigned int)num(line, "\"peer_mss\":");
	r->mss = (unsigned int)num(line, "\"mss\":");
	r->snd_queued = (unsigned int)num(line, "\"snd_queued\":");
	snprintf(ip, sizeof(ip), "%s", r->remote);
	if (strchr(ip, ':'))
		*strchr(ip, ':') = '\0';
	r->raddr = inet_addr(ip);
	r->line = line;
	return true;
}

static int by_raddr(const void *a, const void *b)
{
	const struct srec *x = a, *y = b;

	return x->raddr < y->raddr ? -1 : x->raddr > y->raddr;
}

static const char *sort_key;

static int by_key(const void *a, const void *b)
{
	const struct srec *x = a, *y = b;
	uint64_t u = 0, v = 0;

	if (strcmp(sort_key, "rtt") == 0)
		u = x->srtt, v = y->srtt;
	else if (strcmp(sort_key, "retransmits") == 0)
		u = x->rex, v = y->rex;
	else if (strcmp(sort_key, "zero_window") == 0)
		u = x->zw_ms, v = y->zw_ms;
	else if (strcmp(sort_key, "bytes_in") == 0)
		u = x->in, v = y->in;
	else if (strcmp(sort_key, "bytes_out") == 0)
		u = x->out, v = y->out;
	else if (strcmp(sort_key, "age") == 0)
		u = x->age_ms, v = y->age_ms;
	if (u != v)
		return u > v ? -1 : 1;   /* largest first */
	return x->shard != y->shard ? (x->shard < y->shard ? -1 : 1) : strcmp(x->remote, y->remote);
}

/* Ask every wanted shard for its dump; read the streams into *RECS (each owns its line). Returns their count. */
static unsigned int collect(struct primary *p, int only, struct srec **recs)
{
	uint32_t want[PORTER_MAX_SHARDS] = { 0 };
	uint64_t deadline = now_ms() + 1000;
	unsigned int n = 0, cap = 0;

	*recs = NULL;
	for (unsigned int s = 0; s < p->nshards; s++) {
		if ((only >= 0 && (unsigned int)only != s) || p->g->slots[s].state != SLOT_READY)
			continue;
		want[s] = __atomic_add_fetch(&p->shards[s]->dump_req, 1, __ATOMIC_ACQ_REL);
		wake_shard(p, s);
	}
	for (unsigned int s = 0; s < p->nshards; s++) {
		char path[PATH_MAX], *line = NULL;
		size_t lcap = 0;
		FILE *f;

		if (want[s] == 0)
			continue;
		while (__atomic_load_n(&p->shards[s]->dump_done, __ATOMIC_ACQUIRE) != want[s] && now_ms() < deadline)
			usleep(200);
		if (p->shards[s]->dump_done != want[s])
			continue;   /* busy or dead worker: its streams are left out */
		porter_name_stream_dump(path, sizeof(path), rte_eal_get_runtime_dir(), s);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (getline(&line, &lcap, f) > 0 && n < STREAMS_MAX) {
			size_t l = strlen(line);
			char *keep;

			while (l && (line[l - 1] == '\n' || line[l - 1] == ','))
				line[--l] = '\0';
			if (n == cap) {
				unsigned int ncap = cap ? cap * 2 : 256;
				struct srec *nr = realloc(*recs, ncap * sizeof(**recs));

				if (nr == NULL)
					break;
				*recs = nr;
				cap = ncap;
			}
			keep = strdup(line);
			if (keep == NULL)
				break;
			memset(&(*recs)[n], 0, sizeof(**recs));
			if (parse(&(*recs)[n], keep))
				n++;
			else
				free(keep);   /* a line of another worker version: left out */
		}
		free(line);
		fclose(f);
		unlink(path);
	}
	return n;
}

int streams_list(struct primary *p, struct sbuf *b, bool json, int argc, char **argv, char *err, size_t errlen)
{
	const char *state = NULL, *peer = NULL;
	unsigned long limit = ULONG_MAX;
	bool flagged = false;
	int only = -1;
	struct srec *r;
	unsigned int n, shown = 0;

	sort_key = "none";
	for (int i = 0; i < argc; i++) {
		char *end;

		if (strncmp(argv[i], "state=", 6) == 0)
			state = argv[i] + 6;
		else if (strncmp(argv[i], "peer=", 5) == 0)
			peer = argv[i] + 5;
		else if (strncmp(argv[i], "sort=", 5) == 0) {
			sort_key = argv[i] + 5;
			if (strcmp(sort_key, "rtt") && strcmp(sort_key, "retransmits") && strcmp(sort_key, "zero_window") &&
			    strcmp(sort_key, "bytes_in") && strcmp(sort_key, "bytes_out") && strcmp(sort_key, "age")) {
				snprintf(err, errlen, "sort by rtt, retransmits, zero_window, bytes_in, bytes_out or age");
				return -1;
			}
		} else if (strcmp(argv[i], "flagged") == 0)
			flagged = true;
		else if (strncmp(argv[i], "limit=", 6) == 0 && (limit = strtoul(argv[i] + 6, &end, 10), !*end))
			;
		else if ((only = (int)strtol(argv[i], &end, 10), *end == '\0') && only >= 0 && only < (int)p->nshards)
			;
		else {
			snprintf(err, errlen, "usage: streams [SHARD] [state=STATE] [peer=ADDRESS] [sort=KEY] [flagged] "
				 "[limit=N] (\"%s\"?)", argv[i]);
			return -1;
		}
	}
	n = collect(p, only, &r);
	/* flags; many_streams counts an address over every shard asked */
	qsort(r, n, sizeof(*r), by_raddr);
	for (unsigned int i = 0, j; i < n; i = j) {
		for (j = i; j < n && r[j].raddr == r[i].raddr; j++)
			;
		for (unsigned int k = i; k < j; k++) {
			r[k].flags = (r[k].zw_ms >= TCP_ANOMALY_ZWND_MS && r[k].snd_queued ? FL_ZWND : 0) |
				     (r[k].peer_mss && r[k].peer_mss < TCP_ANOMALY_MSS ? FL_MSS : 0) |
				     /* many, and more than a tenth of what it sent: a bad path or a bad peer */
				     (r[k].rex >= TCP_ANOMALY_REXMIT &&
				      (uint64_t)r[k].rex * (r[k].mss ? r[k].mss : 536) * 10 > r[k].out ? FL_REXMIT : 0) |
				     (j - i >= STREAMS_PER_PEER ? FL_MANY : 0);
		}
	}
	qsort(r, n, sizeof(*r), by_key);
	if (json)
		sb_printf(b, "{\"ok\":true,\"streams\":[");
	else
		sb_printf(b, "ok\n%-5s %-21s %-21s %-12s %-7s %8s %7s %9s %6s %12s %12s %8s %8s %s\n", "shard", "local",
			  "remote", "state", "app", "srtt_us", "rto_ms", "cwnd", "rexmit", "bytes_in", "bytes_out", "age_s",
			  "zwnd_ms", "flags");
	for (unsigned int i = 0; i < n && shown < limit; i++) {
		char fl[64] = "";

		if ((state && strcasecmp(state, r[i].state) != 0) || (peer && r[i].raddr != inet_addr(peer)) ||
		    (flagged && !r[i].flags))
			continue;
		for (unsigned int k = 0; k < 4; k++)
			if (r[i].flags & (1u << k))
				snprintf(fl + strlen(fl), sizeof(fl) - strlen(fl), json ? "%s\"%s\"" : "%s%s",
					 fl[0] ? "," : "", flag_names[k]);
		if (json) {
			size_t l = strlen(r[i].line);

			/* the worker's object with its flags added */
			sb_printf(b, "%s%.*s,\"flags\":[%s]}", shown ? "," : "", (int)(l ? l - 1 : 0), r[i].line, fl);
		} else {
			sb_printf(b, "%-5u %-21s %-21s %-12s %-7s %8u %7u %9u %6u %12" PRIu64 " %12" PRIu64 " %8" PRIu64
				  " %8u %s\n", r[i].shard, r[i].local, r[i].remote, r[i].state, r[i].app, r[i].srtt, r[i].rto,
				  r[i].cwnd, r[i].rex, r[i].in, r[i].out, r[i].age_ms / 1000, r[i].zw_ms, fl[0] ? fl : "-");
		}
		shown++;
	}
	if (json)
		sb_printf(b, "]}\n");
	for (unsigned int i = 0; i < n; i++)
		free(r[i].line);
	free(r);
	return 0;
}
