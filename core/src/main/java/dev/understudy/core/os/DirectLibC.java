package dev.understudy.core.os;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * libc calls for hot loops, bound with JNA's direct mapping: an interface-mapped call marshals its arguments
 * through an Object[] and reflection (measured: about half of the output-commit thread's CPU at 10k packets
 * a second was JNA's own work). Addresses are passed as longs (native memory the caller owns). Calls return
 * -1 and leave errno in {@link Native#getLastError()}; they never throw.
 */
public final class DirectLibC
{
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final short POLLIN = 1;

    static
    {
        Native.register(DirectLibC.class, Platform.C_LIBRARY_NAME);
    }

    private DirectLibC()
    {
    }

    public static native long recv(int fd, long buffer, long length, int flags);

    public static native long send(int fd, long buffer, long length, int flags);

    public static native long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength);

    /** fds: an array of struct pollfd {int fd; short events; short revents;} in native memory. */
    public static native int poll(long fds, long count, int timeoutMs);

    public static native int eventfd(int initialValue, int flags);

    public static native long read(int fd, long buffer, long length);

    public static native long write(int fd, long buffer, long length);

    public static native int close(int fd);
}
