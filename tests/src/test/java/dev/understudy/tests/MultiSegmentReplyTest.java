package dev.understudy.tests;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.understudy.core.os.Directories;
import dev.understudy.harness.sim.ClientNamespace;
import dev.understudy.harness.sim.FailoverPair;
import dev.understudy.harness.workload.HttpService;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reply written in two parts (HTTP headers, then body) under output commit: with Nagle's algorithm on, the second
 * part waits for the client's ACK of the first, which output commit holds until its epoch is acknowledged, so each
 * request costs two epoch cycles. With TCP_NODELAY set on the service's sockets from outside (the default) it costs
 * one. Measured on one keep-alive connection, one request at a time, as requests per epoch committed.
 */
class MultiSegmentReplyTest
{
    private static final Path RUN = Path.of("target/multi-segment");
    private static final long WINDOW_MS = 8_000;

    @Test
    void aReplyWrittenInTwoPartsCostsOneEpochCycle() throws Exception
    {
        final double before = requestsPerEpoch("nagle", List.of("--no-tcp-nodelay"));
        final double after = requestsPerEpoch("nodelay", List.of());
        System.out.printf("requests per connection per epoch: %.2f with Nagle on (--no-tcp-nodelay), %.2f with " +
            "TCP_NODELAY set by Understudy%n", before, after);
        assertTrue(after >= 0.9, "with TCP_NODELAY a request costs one epoch cycle: " + after + " per epoch");
        // The case is real: without it the service's own Nagle costs a cycle more per request.
        assertTrue(before <= 0.75, "with Nagle on, the second write waits a cycle: " + before + " per epoch");
    }

    private static double requestsPerEpoch(final String run, final List<String> primaryArgs) throws Exception
    {
        Directories.deleteRecursively(RUN.resolve(run));
        final FailoverPair.Config config = FailoverPair.Config.defaults(RUN.resolve(run))
            .withServiceCommand(HttpService.command(RUN.resolve(run).toAbsolutePath())).withPrimaryArgs(primaryArgs);
        try (FailoverPair pair = FailoverPair.start(config);
            ClientNamespace client = FailoverPair.client())
        {
            final Map<String, String> status = pair.primaryStatus();
            assertEquals(primaryArgs.isEmpty(), status.get("tcp_nodelay").startsWith("on"), status.get("tcp_nodelay"));
            return client.call(() ->
            {
                try (HttpService.Client http = new HttpService.Client(pair.serviceHost(), 10_000))
                {
                    for (int i = 0; i < 5; i++)
                    {
                        assertEquals("xxxxx\n", http.get()); // warm: the connection's first epochs
                    }
                    final long epochsBefore = Long.parseLong(pair.primaryStatus().get("epochs_committed"));
                    final long end = System.nanoTime() + WINDOW_MS * 1_000_000;
                    long requests = 0;
                    while (System.nanoTime() < end)
                    {
                        http.get();
                        requests++;
                    }
                    final long epochs = Long.parseLong(pair.primaryStatus().get("epochs_committed")) - epochsBefore;
                    System.out.printf("%s: %d requests, %d epochs committed in %d ms%n", run, requests, epochs,
                        WINDOW_MS);
                    return (double)requests / epochs;
                }
            });
        }
    }
}
