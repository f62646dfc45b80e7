// SPDX-License-Identifier: Apache-2.0
/*
 * understudy-uffd: keeps every process of a service's tree registered for asynchronous
 * userfaultfd write-protection, so that CRIU (patched: --dirty-track uffd-wp) dumps only
 * the pages written since the last dump.
 *
 * A userfaultfd belongs to the mm of the process that creates it, so one is created inside
 * each target by a syscall injected with ptrace (through a syscall instruction already in the
 * target: no code is written), copied out with pidfd_getfd and closed in the target again.
 * This process holds the copies: the registrations live as long as it does. If it dies the
 * kernel unregisters and un-protects everything, and every later dump is full, never wrong.
 *
 * Registration never write-protects: a registered page that was never protected reads as
 * written. CRIU protects the written pages again (PAGEMAP_SCAN WP_MATCHING) while the tree
 * is frozen at the end of each dump.
 *
 * Commands, one per line on stdin; one answer line each on stdout:
 *   root PID    the tree to track (the service's init)          -> ok
 *   refresh     track new processes, re-inject after exec, register new VMAs
 *               -> ok procs=N tracked=N injected=N registered=N failed=N
 *   written     did anything change since the last re-arm? (no side effect on tracking)
 *               -> written pages=N untracked=N procs=N   (untracked: processes new, gone or not tracked)
 *   quit
 *
 * understudy-uffd --lose-writes PID: fault injection for tests (see lose_writes).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* Linux >= 6.7 uapi, absent from older headers. */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#define MAX_PROCS 4096
#define MAX_VMAS 65536

struct proc {
	pid_t pid;
	unsigned long long start_time; /* tells a reused pid from the process we injected */
	int uffd;		       /* -1: not tracked (all its memory counts as written) */
	int pagemap;
	bool seen;
};

struct vma {
	uint64_t start, end;
};

static struct proc procs[MAX_PROCS];
static int nr_procs;
static pid_t root_pid;
static struct vma vmas[MAX_VMAS];

static unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p)
		return 0;
	/* field 22 (starttime); p points at the end of field 2 */
	for (i = 2; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* Writable private mappings: what CRIU dumps and what a service writes. */
static int writable_private_vmas(pid_t pid)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < MAX_VMAS) {
		unsigned long long start, end;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3)
			continue;
		if (perms[1] != 'w' || perms[3] != 'p')
			continue;
		if (strstr(line, "[vvar") || strstr(line, "[vdso]") || strstr(line, "[vsyscall]"))
			continue;
		vmas[n].start = start;
		vmas[n].end = end;
		n++;
	}
	fclose(f);
	return n;
}

static long scan(int pagemap, uint64_t start, uint64_t end, struct page_region *vec, uint64_t vec_len,
		 uint64_t max_pages, uint64_t inverted, uint64_t mask, uint64_t anyof)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.max_pages = max_pages,
		.category_inverted = inverted,
		.category_mask = mask,
		.category_anyof_mask = anyof,
		.return_mask = PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN | PAGE_IS_PRESENT,
	};
	return ioctl(pagemap, PAGEMAP_SCAN, &arg);
}

/* Runs one syscall in the stopped tracee through the syscall instruction at insn. */
static long remote_syscall(pid_t pid, uint64_t insn, const struct user_regs_struct *saved, long nr, long a1,
			   long a2, long a3)
{
	struct user_regs_struct regs = *saved;
	int status;

	regs.rip = insn;
	regs.rax = nr;
	regs.orig_rax = -1; /* keep the kernel's syscall-restart logic off our registers */
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) || ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
		return -errno;
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == SIGTRAP)
			break;
		/* Another signal arrived first: keep it pending for after detach, step again. */
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL))
			return -errno;
	}
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return -errno;
	return (long)regs.rax;
}

/* Address of a syscall instruction (0f 05) in an executable mapping, the vDSO first. */
static uint64_t find_syscall_insn(pid_t pid)
{
	char path[64], line[512];
	uint64_t found = 0;
	int pass, mem;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	for (pass = 0; pass < 2 && !found; pass++) {
		f = fopen(path, "re");
		if (!f)
			break;
		while (!found && fgets(line, sizeof(line), f)) {
			unsigned long long start, end;
			unsigned char buf[8192];
			char perms[8];
			uint64_t at;

			if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 || perms[2] != 'x')
				continue;
			if ((pass == 0) != (strstr(line, "[vdso]") != NULL))
				continue;
			for (at = start; at < end && !found; at += sizeof(buf) - 1) {
				ssize_t n = pread(mem, buf, sizeof(buf), at);
				ssize_t i;

				if (n <= 1)
					break;
				for (i = 0; i + 1 < n; i++)
					if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
						found = at + i;
						break;
					}
			}
		}
		fclose(f);
	}
	close(mem);
	return found;
}

/* Creates a uffd in pid's mm and returns our copy of it, or -errno. */
static int inject_uffd(pid_t pid)
{
	struct user_regs_struct saved;
	int status, pidfd, fd = -ENOSYS;
	long remote;
	uint64_t insn;

	insn = find_syscall_insn(pid);
	if (!insn)
		return -ENOEXEC;
	/* Without SUSPEND_SECCOMP a filter that kills on userfaultfd(2) would kill the service. */
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_SUSPEND_SECCOMP))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		goto detach_err;
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0)
			goto detach_err;
		if (!WIFSTOPPED(status)) {
			errno = ESRCH;
			return -errno;
		}
		if ((status >> 16) == PTRACE_EVENT_STOP)
			break;
		/* A signal-delivery stop: let the signal go, the interrupt stop follows. */
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status)))
			goto detach_err;
	}
	if (ptrace(PTRACE_GETREGS, pid, NULL, &saved))
		goto detach_err;

	remote = remote_syscall(pid, insn, &saved, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK, 0, 0);
	if (remote == -EPERM) /* an unprivileged service: async write-protect needs no kernel faults */
		remote = remote_syscall(pid, insn, &saved, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY,
					0, 0);
	if (remote >= 0) {
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		fd = pidfd < 0 ? -errno : syscall(SYS_pidfd_getfd, pidfd, (int)remote, 0);
		if (fd < 0 && pidfd >= 0)
			fd = -errno;
		if (pidfd >= 0)
			close(pidfd);
		remote_syscall(pid, insn, &saved, SYS_close, remote, 0, 0); /* the service holds no uffd */
	} else {
		fd = (int)remote;
	}
	if (ptrace(PTRACE_SETREGS, pid, NULL, &saved) && fd >= 0) {
		close(fd);
		fd = -errno;
	}
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	if (fd >= 0) {
		struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };

		if (ioctl(fd, UFFDIO_API, &api)) {
			int err = errno;

			close(fd);
			return -err;
		}
	}
	return fd;

detach_err:
	fd = -errno;
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return fd;
}

static void untrack(struct proc *p)
{
	if (p->uffd >= 0)
		close(p->uffd);
	if (p->pagemap >= 0)
		close(p->pagemap);
	p->uffd = -1;
	p->pagemap = -1;
}

static struct proc *find_or_add(pid_t pid)
{
	int i;

	for (i = 0; i < nr_procs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	if (nr_procs == MAX_PROCS)
		return NULL;
	procs[nr_procs] = (struct proc){ .pid = pid, .uffd = -1, .pagemap = -1 };
	return &procs[nr_procs++];
}

/* Every process below (and including) pid, through each thread's children list. */
static void walk_tree(pid_t pid, int depth)
{
	char path[320], list[4096];
	struct dirent *task;
	struct proc *p;
	DIR *tasks;

	if (depth > 64 || !(p = find_or_add(pid)) || p->seen)
		return;
	p->seen = true;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	tasks = opendir(path);
	if (!tasks)
		return;
	while ((task = readdir(tasks))) {
		char *tok, *save;
		FILE *children;

		if (task->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, task->d_name);
		children = fopen(path, "re");
		if (!children)
			continue;
		if (fgets(list, sizeof(list), children))
			for (tok = strtok_r(list, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
				walk_tree(atoi(tok), depth + 1);
		fclose(children);
	}
	closedir(tasks);
}

/*
 * A protected page zapped by MADV_DONTNEED leaves a uffd-wp PTE marker, reported as swapped and not
 * written; CRIU must dump it (its content is zero now, not the parent's), so it would appear in one image
 * and vanish from the next. Un-protecting it here, before the freeze, just removes the marker: the page is
 * then absent, as in a full dump. A real swapped (or migrating) page un-protected this way reads as
 * written and is dumped: right either way.
 */
static void clear_markers(struct proc *p, uint64_t start, uint64_t end)
{
	static struct page_region vec[256];
	long i, n;

	n = scan(p->pagemap, start, end, vec, 256, 0, PAGE_IS_PRESENT | PAGE_IS_WRITTEN,
		 PAGE_IS_PRESENT | PAGE_IS_WRITTEN | PAGE_IS_WPALLOWED, PAGE_IS_SWAPPED);
	for (i = 0; i < n; i++) {
		struct uffdio_writeprotect wp = {
			.range = { .start = vec[i].start, .len = vec[i].end - vec[i].start },
			.mode = 0,
		};

		ioctl(p->uffd, UFFDIO_WRITEPROTECT, &wp);
	}
}

/* Registers every writable private VMA of p that is not registered yet; returns how many. */
static int register_new_vmas(struct proc *p, int *failed)
{
	struct page_region region;
	int i, n, registered = 0;

	n = writable_private_vmas(p->pid);
	for (i = 0; i < n; i++) {
		struct uffdio_register reg = {
			.range = { .start = vmas[i].start, .len = vmas[i].end - vmas[i].start },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};
		long found = scan(p->pagemap, vmas[i].start, vmas[i].end, &region, 1, 0, PAGE_IS_WPALLOWED,
				  PAGE_IS_WPALLOWED, 0);

		if (found == 0) {
			clear_markers(p, vmas[i].start, vmas[i].end);
			continue; /* all of it registered already */
		}
		if (ioctl(p->uffd, UFFDIO_REGISTER, &reg) == 0) {
			registered++;
		} else if (errno == ESRCH) {
			return -ESRCH; /* our uffd's mm is gone: the process exec'd */
		} else {
			(*failed)++; /* e.g. a mapping uffd-wp cannot cover: it stays all-dirty */
		}
	}
	return registered;
}

static void refresh(void)
{
	int i, injected = 0, registered = 0, failed = 0, tracked = 0;

	for (i = 0; i < nr_procs; i++)
		procs[i].seen = false;
	walk_tree(root_pid, 0);
	/* Forget processes that left the tree. */
	for (i = 0; i < nr_procs;) {
		if (!procs[i].seen) {
			untrack(&procs[i]);
			procs[i] = procs[--nr_procs];
			continue;
		}
		i++;
	}
	for (i = 0; i < nr_procs; i++) {
		struct proc *p = &procs[i];
		unsigned long long start = proc_start_time(p->pid);
		int attempt, r;

		if (p->uffd >= 0 && start != p->start_time)
			untrack(p); /* a reused pid */
		for (attempt = 0; attempt < 2; attempt++) {
			if (p->uffd < 0) {
				char path[64];
				int fd = inject_uffd(p->pid);

				if (fd < 0) {
					failed++;
					break;
				}
				snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
				p->pagemap = open(path, O_RDONLY | O_CLOEXEC);
				if (p->pagemap < 0) {
					close(fd);
					failed++;
					break;
				}
				p->uffd = fd;
				p->start_time = start;
				injected++;
			}
			r = register_new_vmas(p, &failed);
			if (r == -ESRCH) {
				untrack(p); /* exec replaced the mm: inject into the new one */
				continue;
			}
			registered += r;
			break;
		}
		if (p->uffd >= 0)
			tracked++;
	}
	printf("ok procs=%d tracked=%d injected=%d registered=%d failed=%d\n", nr_procs, tracked, injected,
	       registered, failed);
}

/*
 * Written pages since the last re-arm, counted up to a small bound: registered pages not
 * write-protected, and present pages of writable private mappings nobody registered.
 */
static void written(void)
{
	static struct page_region vec[64];
	long pages = 0, untracked = 0;
	int i, j, n;

	/* A process that came (not tracked yet) or went changes the image by itself. */
	for (i = 0; i < nr_procs; i++)
		procs[i].seen = false;
	walk_tree(root_pid, 0);
	for (i = 0; i < nr_procs; i++) {
		struct proc *p = &procs[i];
		int pagemap = p->pagemap;

		if (!p->seen || pagemap < 0) {
			untracked++;
			continue;
		}
		n = writable_private_vmas(p->pid);
		for (j = 0; j < n && pages < 64; j++) {
			long k, r;

			r = scan(pagemap, vmas[j].start, vmas[j].end, vec, 64, 64,
				 PAGE_IS_PFNZERO | PAGE_IS_FILE, PAGE_IS_PFNZERO | PAGE_IS_FILE,
				 PAGE_IS_PRESENT | PAGE_IS_SWAPPED);
			for (k = 0; k < r; k++)
				if (!(vec[k].categories & PAGE_IS_WPALLOWED) || (vec[k].categories & PAGE_IS_WRITTEN))
					pages += (vec[k].end - vec[k].start) / 4096;
		}
	}
	printf("written pages=%ld untracked=%ld procs=%d\n", pages, untracked, nr_procs);
}

/*
 * Fault injection for tests only: write-protect the pages pid wrote since the last dump without dumping
 * them, as a broken tracker would. The next incremental dump then takes stale pages from its parent, and
 * the memory check (--verify-memory) must refuse it.
 */
static int lose_writes(pid_t pid)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = 1, /* PM_SCAN_WP_MATCHING */
		.end = (1ULL << 47) - 4096, /* TASK_SIZE on x86-64: one page more is refused */
		.category_mask = PAGE_IS_WRITTEN,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
	};
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	while (arg.start < arg.end) {
		if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0) {
			perror("PAGEMAP_SCAN");
			close(fd);
			return 1;
		}
		if (arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char line[256];

	if (argc == 3 && !strcmp(argv[1], "--lose-writes"))
		return lose_writes(atoi(argv[2]));

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "root ", 5)) {
			int i;

			for (i = 0; i < nr_procs; i++)
				untrack(&procs[i]);
			nr_procs = 0;
			root_pid = atoi(line + 5);
			printf("ok\n");
		} else if (!strcmp(line, "refresh\n")) {
			refresh();
		} else if (!strcmp(line, "written\n")) {
			written();
		} else if (!strcmp(line, "quit\n")) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	return 0;
}
