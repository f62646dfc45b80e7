package dev.understudy.tests;

import java.nio.file.Path;

import dev.understudy.harness.workload.RedisClient;
import dev.understudy.harness.workload.RedisService;
import dev.understudy.core.criu.CriuNotificationListener;
import dev.understudy.primary.EpochObserver;
import dev.understudy.primary.Primary;
import dev.understudy.primary.ProtectContext;
import dev.understudy.replica.EpochJournal;
import dev.understudy.replica.Replica;
import dev.understudy.replica.ReplicaContext;
import dev.understudy.replica.ReplicaObserver;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.understudy.tests.EpochReplicationTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal stays bounded: with one-second journal files and a base every second, old files go, and
 * what remains holds a whole image with an unbroken chain of deltas after it.
 */
class JournalRetentionTest
{
    private final Path work = Path.of("/dev/shm/understudy-journal-" + ProcessHandle.current().pid());
    private Primary primary;
    private Replica replica;

    @AfterEach
    void cleanUp()
    {
        if (primary != null)
        {
            primary.close();
        }
        if (replica != null)
        {
            replica.closeAndDeleteImages();
        }
        TestSupport.deleteTree(work);
    }

    /** A base record repeats an epoch already journalled as a delta; deltas may chain from either. */
    private static boolean isBaseRecord(final long[] begins, final int index, final long base)
    {
        for (int i = index - 2; i >= 0; i -= 2)
        {
            if (begins[i] == base)
            {
                return true;
            }
        }
        return false;
    }

    @Test
    void basesBoundTheJournalAndItAlwaysStartsWithAWholeImage() throws Exception
    {
        final int port = TestSupport.freeUdpPort();
        final Path journal = work.resolve("journal");
        replica = Replica.start(new ReplicaContext().streamProtection(TestKeys.protection()).name("jrnl").listenEndpoint("127.0.0.1:" + port).workDir(work)
            .journalDir(journal).metricsPort(0).journalRollCycle(TestRollCycles.TEST_SECONDLY)
            .journalBaseIntervalMs(1000), ReplicaObserver.NONE);
        primary = Primary.start(new ProtectContext().streamProtection(TestKeys.protection()).name("jrnl").bridge("ustest2").serviceIp("10.77.17.10/24")
            .replicaEndpoint("127.0.0.1:" + port).workDir(work).metricsPort(0).intervalMs(50)
            .command(RedisService.command()), EpochObserver.NONE, CriuNotificationListener.NONE);
        try (RedisClient client = RedisClient.await("10.77.17.10", RedisService.PORT, 10_000))
        {
            RedisService.populate(client, 5);
            final long deadline = System.nanoTime() + 8_000_000_000L;
            int i = 0;
            while (System.nanoTime() < deadline)
            {
                client.call("SET", "key:" + (i++ % 5000), "v" + i);
                Thread.sleep(2);
            }
        }
        awaitTrue(() -> primary.metrics().committedCount() > 40, 30, "epochs committed");
        primary.close();
        primary = null;
        replica.close();
        final long files;
        try (java.util.stream.Stream<Path> list = java.nio.file.Files.list(journal))
        {
            files = list.filter(p -> p.getFileName().toString().endsWith(".cq4")).count();
        }
        assertTrue(files <= 4, "journal files left: " + files + " (about 9 without retention)");
        final long[] begins = EpochJournal.beginBases(journal); // epoch, base, epoch, base, ...
        int firstWhole = -1;
        for (int i = 0; i < begins.length && firstWhole < 0; i += 2)
        {
            firstWhole = begins[i + 1] == -1 ? i : -1;
        }
        assertTrue(firstWhole >= 0, "the journal holds a whole image");
        assertTrue(begins.length - firstWhole >= 4, "a whole image and deltas after it: " + (begins.length - firstWhole) / 2);
        for (int i = firstWhole + 2; i < begins.length; i += 2)
        {
            final long base = begins[i + 1];
            assertTrue(base == -1 || base == begins[i - 2] || isBaseRecord(begins, i, base),
                "epoch " + begins[i] + " is a delta against " + base + ", which precedes it in the journal");
        }
    }
}
