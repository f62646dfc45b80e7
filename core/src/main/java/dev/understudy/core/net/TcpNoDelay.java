package dev.understudy.core.net;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import dev.understudy.core.os.LibC;

/**
 * Turns Nagle's algorithm off on a process tree's TCP sockets, from outside: each socket is duplicated into this
 * process with pidfd_getfd (Linux 5.6) and given TCP_NODELAY, which acts on the socket the service holds.
 *
 * <p>Why: output commit holds a reply's first segment until its epoch is acknowledged, so the client's ACK of it comes
 * a whole epoch cycle later; with Nagle on, a reply written in two parts (headers, then body) keeps its second part
 * back until that ACK, and costs two cycles. A listening socket's setting is inherited by the connections it accepts.
 * Sockets seen once are not looked at again, so a scan costs a readdir and a readlink per descriptor.
 */
public final class TcpNoDelay
{
    private Set<String> seen = new HashSet<>();
    private long socketsSet;

    /** Sets TCP_NODELAY on every TCP socket of these processes not seen before; returns how many it set now. */
    public int apply(final List<Integer> pids)
    {
        final Set<String> now = new HashSet<>();
        int set = 0;
        for (final int pid : pids)
        {
            final int pidfd = (int)LibC.INSTANCE.syscall(LibC.SYS_PIDFD_OPEN, pid, 0, 0);
            if (pidfd < 0)
            {
                continue; // exited since the tree was read
            }
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "fd")))
            {
                for (final Path fd : fds)
                {
                    final String target;
                    try
                    {
                        target = Files.readSymbolicLink(fd).toString();
                    }
                    catch (final IOException closed)
                    {
                        continue;
                    }
                    if (!target.startsWith("socket:"))
                    {
                        continue;
                    }
                    now.add(target);
                    if (!seen.contains(target) && setOn(pidfd, Integer.parseInt(fd.getFileName().toString())))
                    {
                        set++;
                    }
                }
            }
            catch (final IOException exited)
            {
                // the process went while its descriptors were read
            }
            finally
            {
                LibC.INSTANCE.close(pidfd);
            }
        }
        seen = now; // closed sockets are forgotten, so the set is never larger than what the tree holds
        socketsSet += set;
        return set;
    }

    /** How many sockets it has set since it was made. */
    public long socketsSet()
    {
        return socketsSet;
    }

    private static boolean setOn(final int pidfd, final int targetFd)
    {
        final int fd = (int)LibC.INSTANCE.syscall(LibC.SYS_PIDFD_GETFD, pidfd, targetFd, 0);
        if (fd < 0)
        {
            return false;
        }
        try
        {
            final int[] protocol = new int[1];
            final int[] length = {4};
            if (LibC.INSTANCE.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PROTOCOL, protocol, length) != 0 ||
                protocol[0] != LibC.IPPROTO_TCP)
            {
                return false; // a unix or UDP socket: nothing to do
            }
            return LibC.INSTANCE.setsockopt(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, new int[] {1}, 4) == 0;
        }
        finally
        {
            LibC.INSTANCE.close(fd);
        }
    }
}
