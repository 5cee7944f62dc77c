/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owner-lock watchers: one thread per shard that waits on the shard's owner
 * lock (struct porter_shard.owner, a robust process-shared mutex) while a
 * worker holds it, and tells the main loop the moment it is free -- the
 * worker unlocked it when it stopped on request, or its main thread died and
 * the kernel released it (robust futex). Either way that thread will never
 * touch the shard again, though its process may take milliseconds to be torn
 * down (a DPDK process has a thousand mappings to undo), and the supervisor
 * can hand the shard to a ready standby at once instead of waiting for the
 * process's pidfd.
 *
 *   IDLE --owner_watch_arm (main loop: worker ready, holding the lock)--> ARMED
 *    ^                                                                     | pthread_mutex_lock
 *    +-- report: gone = the TID it was armed for, primary wake eventfd <---+ returns (unlock or
 *                                                                            EOWNERDEAD)
 * The watcher lets go of the lock at once; the next worker takes it when it
 * is granted the shard. The main loop reads the report with owner_watch_take
 * and asks the lock who holds it now (owner_watch_holder): a report means
 * "whoever held it while I waited let go", which after a hand-over the
 * supervisor made on a pidfd (the watcher not scheduled yet) can be the
 * successor rather than the TID the watcher was armed for.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_log.h>

#include "primary/primary.h"

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "porter: " fmt "\n", ##__VA_ARGS__)

struct watch_arg {
	struct primary *p;
	unsigned int shard;
};

static struct watch_arg args[PORTER_MAX_SHARDS];

static void *watch_main(void *arg)
{
	const struct watch_arg *a = arg;
	struct primary *p = a->p;
	struct owner_watch *ow = &p->owner_watch[a->shard];
	pthread_mutex_t *m = &p->shards[a->shard]->owner;

	for (;;) {
		uint64_t v;
		int rc;

		if (read(ow->arm_fd, &v, sizeof(v)) != sizeof(v) && errno != EINTR)
			return NULL;
		if (__atomic_load_n(&ow->quit, __ATOMIC_ACQUIRE))
			return NULL;
		if (!__atomic_load_n(&ow->armed, __ATOMIC_ACQUIRE))
			continue;
		/* blocks while the worker's main thread holds the lock */
		rc = pthread_mutex_lock(m);
		if (rc == EOWNERDEAD)
			rc = pthread_mutex_consistent(m);
		if (rc == 0)
			pthread_mutex_unlock(m);
		__atomic_store_n(&ow->gone, __atomic_load_n(&ow->armed_tid, __ATOMIC_RELAXED),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&ow->armed, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&p->owner_watch_pending, 1, __ATOMIC_RELEASE);
		v = 1;
		(void)!write(p->primary_wake_fd, &v, sizeof(v));
	}
}

/* The TID in the owner lock's futex word (the robust protocol's owner), 0 = free. */
static pid_t owner_tid(const pthread_mutex_t *m)
{
	return __atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE) & 0x3fffffff;   /* FUTEX_TID_MASK */
}

int owner_watch_init(struct primary *p)
{
	sigset_t all, old;

	/* the threads take no signal: the main loop's epoll_wait must see them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int s = 0; s < p->nshards; s++) {
		struct owner_watch *ow = &p->owner_watch[s];
		int rc;

		ow->arm_fd = eventfd(0, EFD_CLOEXEC);
		if (ow->arm_fd < 0) {
			LOG(ERR, "shard %u: owner watch eventfd: %s", s, strerror(errno));
			return -1;
		}
		args[s].p = p;
		args[s].shard = s;
		rc = pthread_create(&ow->thread, NULL, watch_main, &args[s]);
		if (rc != 0) {
			LOG(ERR, "shard %u: owner watch thread: %s", s, strerror(rc));
			close(ow->arm_fd);
			ow->arm_fd = -1;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return -1;
		}
		pthread_setname_np(ow->thread, "porter-owner");
		ow->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

bool owner_watch_arm(struct primary *p, unsigned int s, pid_t tid)
{
	struct owner_watch *ow = &p->owner_watch[s];
	uint64_t one = 1;

	if (!ow->running || __atomic_load_n(&ow->armed, __ATOMIC_ACQUIRE) ||
	    owner_tid(&p->shards[s]->owner) != tid)
		return false;   /* busy, or the worker does not hold it (a layout 2.0 binary) */
	__atomic_store_n(&ow->armed_tid, tid, __ATOMIC_RELAXED);
	__atomic_store_n(&ow->armed, 1, __ATOMIC_RELEASE);
	return write(ow->arm_fd, &one, sizeof(one)) == sizeof(one);
}

pid_t owner_watch_holder(const struct primary *p, unsigned int s)
{
	return owner_tid(&p->shards[s]->owner);
}

bool owner_watch_armed(const struct primary *p, unsigned int s)
{
	return __atomic_load_n(&p->owner_watch[s].armed, __ATOMIC_ACQUIRE) != 0;
}

pid_t owner_watch_take(struct primary *p, unsigned int s)
{
	return __atomic_exchange_n(&p->owner_watch[s].gone, 0, __ATOMIC_ACQ_REL);
}

/*
 * Stop the threads. Called once no worker holds a lock any more (all reaped):
 * an armed watcher has returned from the lock by then.
 */
void owner_watch_stop(struct primary *p)
{
	for (unsigned int s = 0; s < p->nshards; s++) {
		struct owner_watch *ow = &p->owner_watch[s];
		uint64_t one = 1;

		if (!ow->running)
			continue;
		__atomic_store_n(&ow->quit, 1, __ATOMIC_RELEASE);
		(void)!write(ow->arm_fd, &one, sizeof(one));
		pthread_join(ow->thread, NULL);
		close(ow->arm_fd);
		ow->running = false;
	}
}
