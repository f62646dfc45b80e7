package dev.understudy.core.os;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls Java has no API for: SOCK_SEQPACKET unix sockets (CRIU's RPC), setns, prctl, fallocate,
 * thread scheduling priority.
 */
public interface LibC extends Library
{
    LibC INSTANCE = Native.load("c", LibC.class);

    int AF_UNIX = 1;
    int SOCK_SEQPACKET = 5;
    int SOCK_CLOEXEC = 0x80000;
    int PR_SET_CHILD_SUBREAPER = 36;
    int CLONE_NEWNET = 0x40000000;
    int O_RDONLY = 0;
    int O_CLOEXEC = 0x80000;

    int socket(int domain, int type, int protocol) throws LastErrorException;

    int connect(int fd, byte[] sockaddr, int length) throws LastErrorException;

    long send(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

    long recv(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

    int MSG_DONTWAIT = 0x40;
    int EAGAIN = 11;
    int ENOSPC = 28;
    int EOPNOTSUPP = 95;
    int ENOBUFS = 105;
    int SOL_SOCKET = 1;
    int SO_RCVBUFFORCE = 33;

    /** recv into native memory; returns -1 with errno (no exception) so the hot loop can poll cheaply. */
    long recv(int fd, Pointer buffer, long length, int flags);

    int setsockopt(int fd, int level, int option, int[] value, int length);

    int getsockopt(int fd, int level, int option, int[] value, int[] length);

    int SO_PROTOCOL = 38;
    int IPPROTO_TCP = 6;
    int TCP_NODELAY = 1;
    /** x86_64 and aarch64 alike (numbers above 424 are shared by every architecture). */
    long SYS_PIDFD_OPEN = 434;
    long SYS_PIDFD_GETFD = 438;

    /** The raw system call, for those glibc 2.36 has no wrapper for; -1 with errno on failure. */
    long syscall(long number, long a, long b, long c);

    int close(int fd) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    int O_RDWR = 2;
    int FALLOC_FL_KEEP_SIZE = 1;
    int FALLOC_FL_PUNCH_HOLE = 2;

    /** Frees a range of a file (a hole reads as zeroes): the replica's page store gives back pages that left. */
    int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

    int setns(int fd, int nstype) throws LastErrorException;

    int syncfs(int fd) throws LastErrorException;

    int fdatasync(int fd) throws LastErrorException;

    int SHUT_RDWR = 2;

    int shutdown(int fd, int how);

    /** ioctl with an argument structure (e.g. btrfs's snapshot creation). */
    int ioctl(int fd, long request, byte[] argument) throws LastErrorException;

    int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws LastErrorException;

    int getpid();

    int AF_INET = 2;
    int AF_INET6 = 10;
    int IPPROTO_RAW = 255;
    int SO_MARK = 36;
    int AF_PACKET = 17;
    int SOCK_RAW = 3;

    long sendto(int fd, byte[] buffer, long length, int flags, byte[] sockaddr, int addrLength)
        throws LastErrorException;

    int if_nametoindex(String name);

    int SIGCONT = 18;
    int SIGSTOP = 19;

    /** Returns -1 with errno on failure (no exception). */
    int kill(int pid, int signal);

    /** param: struct sched_param, one int. Returns -1 with errno on failure (no exception). */
    int sched_setscheduler(int pid, int policy, int[] param);

    /** who 0 with PRIO_PROCESS: the calling thread on Linux. Returns -1 with errno on failure. */
    int setpriority(int which, int who, int priority);
}
