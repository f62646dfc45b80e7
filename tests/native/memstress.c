// SPDX-License-Identifier: Apache-2.0
/*
 * memstress: a service that changes its memory in every way dirty tracking must follow, for Understudy's
 * --verify-memory tests. Threads write random pages; mappings come and go (mmap, munmap, mremap moving a
 * mapping, MAP_FIXED over a written range, MADV_DONTNEED); a THP region; a written private file mapping;
 * guard pages (MADV_GUARD_INSTALL, Linux >= 6.13) that come and go in a written region; a forked child that
 * keeps writing; children that exec after the tracker has seen them.
 *
 * TCP on port 7100, one command per line:
 *   pause   stop changing memory (threads park); answers "paused"
 *   sum     a checksum of the main regions; answers "sum HEX"
 * Usage: memstress DIR [--seccomp]   DIR: its working directory (the private file mapping lives there);
 *        --seccomp installs a filter that kills the process on userfaultfd(2) (the tracker must cope).
 *        memstress --child: what an exec'd child runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAIN_SIZE (16UL << 20)
#define THP_SIZE (8UL << 20)
#define FILE_SIZE (1UL << 20)
#define SLOTS 16
#define GUARDED_PAGES 64

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

static uint8_t *main_region, *thp_region, *file_region, *guarded_region;
static uint8_t *slots[SLOTS];
static size_t slot_size[SLOTS];
static atomic_int paused, parked;
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void park(void)
{
	if (!atomic_load(&paused))
		return;
	atomic_fetch_add(&parked, 1);
	while (atomic_load(&paused))
		usleep(1000);
	atomic_fetch_sub(&parked, 1);
}

static void *writer(void *arg)
{
	uint64_t s = (uintptr_t)arg * 7919 + 1;

	for (;;) {
		park();
		for (int i = 0; i < 64; i++) {
			main_region[rnd(&s) % MAIN_SIZE] = (uint8_t)rnd(&s);
			thp_region[rnd(&s) % THP_SIZE] = (uint8_t)rnd(&s);
		}
		file_region[(rnd(&s) % (FILE_SIZE / PAGE)) * PAGE + 17] = (uint8_t)rnd(&s);
		usleep(500);
	}
	return NULL;
}

/* Mappings that come and go. */
static void *mapper(void *arg)
{
	uint64_t s = 4242;

	(void)arg;
	for (;;) {
		park();
		pthread_mutex_lock(&slots_lock);
		int k = rnd(&s) % SLOTS;
		switch (rnd(&s) % 6) {
		case 0: /* new mapping, written */
			if (!slots[k]) {
				slot_size[k] = (1 + rnd(&s) % 64) * PAGE;
				slots[k] = mmap(NULL, slot_size[k], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (slots[k] == MAP_FAILED)
					slots[k] = NULL;
				else
					memset(slots[k], (int)k + 1, slot_size[k]);
			}
			break;
		case 1: /* gone */
			if (slots[k]) {
				munmap(slots[k], slot_size[k]);
				slots[k] = NULL;
			}
			break;
		case 2: /* moved and grown: its registration does not follow */
			if (slots[k]) {
				void *moved = mremap(slots[k], slot_size[k], slot_size[k] + PAGE, MREMAP_MAYMOVE);
				if (moved != MAP_FAILED) {
					slots[k] = moved;
					slot_size[k] += PAGE;
					slots[k][slot_size[k] - 1] = 0x5a;
				}
			}
			break;
		case 3: { /* MAP_FIXED over a written range of the main region */
			size_t at = (rnd(&s) % (MAIN_SIZE / PAGE - 4)) * PAGE;
			void *fixed = mmap(main_region + at, 4 * PAGE, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (fixed != MAP_FAILED)
				((uint8_t *)fixed)[100] = 0x33;
			break;
		}
		case 4: /* pages dropped: they read as zero again */
			madvise(main_region + (rnd(&s) % (MAIN_SIZE / PAGE - 8)) * PAGE, 8 * PAGE, MADV_DONTNEED);
			break;
		case 5: { /* a guard page moves: the old one reads as zero, then is written; CRIU lists guards apart */
			size_t from = rnd(&s) % GUARDED_PAGES, to = rnd(&s) % GUARDED_PAGES;
			if (guarded_region && !madvise(guarded_region + from * PAGE, PAGE, MADV_GUARD_REMOVE)) {
				guarded_region[from * PAGE + 9] = (uint8_t)rnd(&s);
				madvise(guarded_region + to * PAGE, PAGE, MADV_GUARD_INSTALL);
			}
			break;
		}
		}
		pthread_mutex_unlock(&slots_lock);
		usleep(2000);
	}
	return NULL;
}

static void child_loop(void)
{
	uint64_t s = (uint64_t)getpid();
	uint8_t *mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (;;) {
		mem[rnd(&s) % (1 << 20)] = (uint8_t)rnd(&s);
		usleep(1000);
	}
}

/* Forks children that exec after a while (the tracker injected into the pre-exec process by then). */
static void *spawner(void *arg)
{
	const char *self = arg;

	for (;;) {
		park();
		pid_t pid = fork();
		if (pid == 0) {
			usleep(300 * 1000);
			execl(self, self, "--child", "exec", (char *)NULL);
			_exit(127);
		}
		sleep(2);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	return NULL;
}

static uint64_t checksum(void)
{
	uint64_t sum = 1469598103934665603ULL;
	const uint64_t *regions[] = { (uint64_t *)main_region, (uint64_t *)thp_region, (uint64_t *)file_region };
	const size_t sizes[] = { MAIN_SIZE, THP_SIZE, FILE_SIZE };

	for (int r = 0; r < 3; r++)
		for (size_t i = 0; i < sizes[r] / 8; i++)
			sum = (sum ^ regions[r][i]) * 1099511628211ULL;
	/* Under the mapper's lock: a client asks for sums while the mapper unmaps and moves slots. */
	pthread_mutex_lock(&slots_lock);
	for (int k = 0; k < SLOTS; k++)
		for (size_t i = 0; slots[k] && i < slot_size[k]; i += 64)
			sum = (sum ^ slots[k][i]) * 1099511628211ULL;
	pthread_mutex_unlock(&slots_lock);
	return sum;
}

static void kill_on_userfaultfd(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		exit(3);
}

int main(int argc, char **argv)
{
	pthread_t t;
	int one = 1, fd, server;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(7100) };

	if (argc > 1 && !strcmp(argv[1], "--child"))
		child_loop();
	if (argc < 2 || chdir(argv[1]))
		return 2;
	if (argc > 2 && !strcmp(argv[2], "--seccomp"))
		kill_on_userfaultfd();

	main_region = mmap(NULL, MAIN_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	thp_region = aligned_alloc(2UL << 20, THP_SIZE);
	madvise(thp_region, THP_SIZE, MADV_HUGEPAGE);
	memset(thp_region, 1, THP_SIZE);
	/* Written in full, then every fourth page a guard; a kernel without guard regions just has none. */
	guarded_region = mmap(NULL, GUARDED_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(guarded_region, 7, GUARDED_PAGES * PAGE);
	for (size_t i = 0; i < GUARDED_PAGES; i += 4)
		if (madvise(guarded_region + i * PAGE, PAGE, MADV_GUARD_INSTALL))
			break;
	fd = open("memstress.data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, FILE_SIZE))
		return 2;
	file_region = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	for (size_t i = 0; i < MAIN_SIZE; i += PAGE)
		main_region[i] = (uint8_t)i;

	if (fork() == 0)
		child_loop(); /* a forked child that keeps writing, never exec'd */
	for (long i = 0; i < 2; i++)
		pthread_create(&t, NULL, writer, (void *)i);
	pthread_create(&t, NULL, mapper, NULL);
	pthread_create(&t, NULL, spawner, argv[0]);

	server = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(server, (struct sockaddr *)&addr, sizeof(addr)) || listen(server, 4))
		return 4;
	for (;;) {
		int c = accept(server, NULL, NULL);
		char line[64];
		ssize_t n;

		while (c >= 0 && (n = read(c, line, sizeof(line) - 1)) > 0) {
			char answer[64];

			line[n] = 0;
			if (!strncmp(line, "pause", 5)) {
				atomic_store(&paused, 1);
				while (atomic_load(&parked) < 4)
					usleep(1000);
				snprintf(answer, sizeof(answer), "paused\n");
			} else {
				snprintf(answer, sizeof(answer), "sum %016llx\n", (unsigned long long)checksum());
			}
			if (write(c, answer, strlen(answer)) < 0)
				break;
		}
		if (c >= 0)
			close(c);
	}
}
