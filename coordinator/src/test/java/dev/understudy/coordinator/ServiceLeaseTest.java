package dev.understudy.coordinator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lease against a real ZooKeeper server (in this JVM). The holder reaches it through a TCP relay the test can
 * cut, which stands in for a partition between the primary and the coordinator.
 */
class ServiceLeaseTest
{
    private static final long SESSION_MS = 1_000;

    @TempDir
    Path dir;
    private CoordinatorServer server;
    private Relay relay;
    private final List<ServiceLease> leases = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException
    {
        server = CoordinatorServer.standalone("127.0.0.1", 0, dir.resolve("zk"));
        relay = new Relay(server.port());
    }

    @AfterEach
    void stop()
    {
        leases.forEach(ServiceLease::close);
        relay.close();
        server.close();
    }

    private ServiceLease lease(final int port, final String holder) throws CoordinatorException
    {
        final ServiceLease lease = ServiceLease.connect(new CoordinatorContext().connectString("127.0.0.1:" + port)
            .serviceName("svc").holder(holder).sessionTimeoutMs(SESSION_MS));
        leases.add(lease);
        return lease;
    }

    @Test
    void onlyOneNodeHoldsTheLeaseAndACutOffHolderStopsReleasingBeforeAnotherTakesIt() throws Exception
    {
        final ServiceLease primary = lease(relay.port(), "primary");
        final ServiceLease replica = lease(server.port(), "replica");
        assertEquals(ServiceLease.Outcome.ACQUIRED, primary.acquire(1, 0, () -> false).outcome());
        assertTrue(primary.releaseAllowed(System.nanoTime()));
        final ServiceLease.Acquisition refused = replica.acquire(2, 300, () -> false);
        assertEquals(ServiceLease.Outcome.HELD_ELSEWHERE, refused.outcome());
        assertTrue(refused.holder().contains("primary (term 1)"), refused.holder());
        Thread.sleep(300);
        assertTrue(primary.releaseAllowed(System.nanoTime()), "renewals keep it held: " + primary.describe());

        // Cut the primary off the coordinator; record when it stops counting its lease held.
        final AtomicLong closedAtNs = new AtomicLong();
        final Thread watcher = new Thread(() ->
        {
            while (primary.releaseAllowed(System.nanoTime()))
            {
                Thread.onSpinWait();
            }
            closedAtNs.set(System.nanoTime());
        });
        final long cutNs = System.nanoTime();
        relay.cut(true);
        watcher.start();
        final ServiceLease.Acquisition taken = replica.acquire(2, 10_000, () -> false);
        final long takenNs = System.nanoTime();
        watcher.join(1_000);
        assertEquals(ServiceLease.Outcome.ACQUIRED, taken.outcome());
        System.out.println("cut off: stopped releasing after " + (closedAtNs.get() - cutNs) / 1_000_000 +
            " ms; the lease passed after " + (takenNs - cutNs) / 1_000_000 + " ms (session " + SESSION_MS + " ms)");
        assertTrue(closedAtNs.get() != 0 && closedAtNs.get() < takenNs, "the old holder stopped releasing before " +
            "the lease passed: closed " + (closedAtNs.get() - cutNs) / 1_000_000 + " ms, taken " +
            (takenNs - cutNs) / 1_000_000 + " ms after the cut");
        assertTrue(takenNs - cutNs >= SESSION_MS * 1_000_000L * 9 / 10, "taken only once the session could expire");
        assertTrue(replica.releaseAllowed(System.nanoTime()));

        // The old holder comes back: it learns of the newer term and never counts the lease held again.
        final AtomicReference<String> superseded = new AtomicReference<>();
        primary.onSuperseded((term, holder) -> superseded.set(term + " " + holder));
        relay.cut(false);
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (superseded.get() == null && System.nanoTime() < deadline)
        {
            Thread.sleep(20);
        }
        assertEquals("2 replica (term 2)", superseded.get());
        assertEquals(ServiceLease.State.SUPERSEDED, primary.state());
        assertFalse(primary.releaseAllowed(System.nanoTime()));
        assertTrue(replica.releaseAllowed(System.nanoTime()), replica.describe());
    }

    @Test
    void aStaleTermIsRefusedAndAClosedHolderFreesTheLeaseAtOnce() throws Exception
    {
        final ServiceLease first = lease(server.port(), "n1");
        assertEquals(ServiceLease.Outcome.ACQUIRED, first.acquire(3, 0, () -> false).outcome());
        first.close();
        final ServiceLease second = lease(server.port(), "n2");
        final long startNs = System.nanoTime();
        assertEquals(ServiceLease.Outcome.ACQUIRED, second.acquire(4, 5_000, () -> false).outcome());
        assertTrue(System.nanoTime() - startNs < SESSION_MS * 1_000_000L / 2, "a closed session's lease goes at once");
        final ServiceLease stale = lease(server.port(), "n1 again");
        final ServiceLease.Acquisition refused = stale.acquire(3, 0, () -> false);
        assertEquals(ServiceLease.Outcome.NEWER_TERM, refused.outcome());
        assertEquals(4, refused.term());
        assertFalse(stale.releaseAllowed(System.nanoTime()));
        assertEquals(ServiceLease.Outcome.GAVE_UP, stale.acquire(5, 5_000, () -> true).outcome());
    }

    @Test
    void anUnreachableCoordinatorIsOneLineSayingWhatToDo() throws IOException
    {
        final int closedPort;
        try (ServerSocket socket = new ServerSocket(0))
        {
            closedPort = socket.getLocalPort();
        }
        final CoordinatorException ex = assertThrows(CoordinatorException.class, () -> ServiceLease.connect(
            new CoordinatorContext().connectString("127.0.0.1:" + closedPort).serviceName("svc").connectTimeoutMs(500)));
        assertEquals("cannot reach the coordinator at 127.0.0.1:" + closedPort + " within 500 ms: start it " +
            "('understudy coordinator') or fix --coordinator", ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CoordinatorContext().connectString("nohost")
            .serviceName("svc").conclude());
    }

    /** A TCP relay to the server that can be cut: existing connections are closed and new ones refused. */
    private static final class Relay implements AutoCloseable
    {
        private final ServerSocket listener;
        private final int target;
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private volatile boolean cut;

        Relay(final int target) throws IOException
        {
            this.target = target;
            listener = new ServerSocket();
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            final Thread acceptor = new Thread(this::accept, "relay");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port()
        {
            return listener.getLocalPort();
        }

        void cut(final boolean cut)
        {
            this.cut = cut;
            if (cut)
            {
                open.forEach(Relay::closeQuietly);
                open.clear();
            }
        }

        private void accept()
        {
            while (!listener.isClosed())
            {
                try
                {
                    final Socket client = listener.accept();
                    if (cut)
                    {
                        client.close();
                        continue;
                    }
                    final Socket upstream = new Socket("127.0.0.1", target);
                    open.add(client);
                    open.add(upstream);
                    pump(client, upstream);
                    pump(upstream, client);
                }
                catch (final IOException ex)
                {
                    // listener closed, or one connection failed
                }
            }
        }

        private void pump(final Socket from, final Socket to)
        {
            final Thread thread = new Thread(() ->
            {
                final byte[] buffer = new byte[8192];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream())
                {
                    int n;
                    while (!cut && (n = in.read(buffer)) > 0)
                    {
                        out.write(buffer, 0, n);
                    }
                }
                catch (final IOException ex)
                {
                    // cut or closed
                }
                closeQuietly(from);
                closeQuietly(to);
            }, "relay-pump");
            thread.setDaemon(true);
            thread.start();
        }

        private static void closeQuietly(final Socket socket)
        {
            try
            {
                socket.close();
            }
            catch (final IOException ex)
            {
                // already closed
            }
        }

        public void close()
        {
            cut(true);
            closeQuietly2();
        }

        private void closeQuietly2()
        {
            try
            {
                listener.close();
            }
            catch (final IOException ex)
            {
                // already closed
            }
        }
    }
}
