package dev.understudy.core.aeron;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Activity;
import dev.understudy.core.agent.QuietIdleStrategy;
import dev.understudy.core.os.ThreadPriority;
import dev.understudy.core.protocol.Streams;
import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;


/**
 * An Aeron client with its own embedded media driver. Backoff idle strategies everywhere (busy-spinning
 * starves a 2-core machine), parking longer once idle for a while ({@link QuietIdleStrategy}). Liveness timeouts are short so a vanished peer is noticed within ~2 s.
 */
public final class EmbeddedAeron implements AutoCloseable
{
    /** How long the whole process may stand still and keep its transport (Aeron's client and driver timeouts). */
    public static final long STALL_TOLERANCE_NS = TimeUnit.SECONDS.toNanos(60);
    /**
     * Epoch streams an agent's driver may hold log buffers for at once (out to its replica and in from a primary,
     * as while a promoted replica protects the service); acks and heartbeats, out and in, are small streams.
     */
    private static final int EPOCH_STREAMS = 2;
    private static final int SMALL_STREAMS = 4;
    private static final long MB = 1024 * 1024;

    private final MediaDriver driver;
    private final Aeron aeron;

    private EmbeddedAeron(final MediaDriver driver, final Aeron aeron)
    {
        this.driver = driver;
        this.aeron = aeron;
    }

    public static EmbeddedAeron launch(final String aeronDir)
    {
        return launch(aeronDir, Activity.alwaysActive(), ThreadPriority.Level.NORMAL);
    }

    /**
     * With the driver's and client's threads parking longer while activity is quiet, and the driver's thread
     * at driverPriority (at most RAISED: it also carries whole epochs, so never real-time).
     */
    public static EmbeddedAeron launch(final String aeronDir, final Activity activity,
        final ThreadPriority.Level driverPriority)
    {
        final ThreadPriority.Level priority = driverPriority == ThreadPriority.Level.REALTIME ?
            ThreadPriority.Level.RAISED : driverPriority;
        final MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(aeronDir)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(QuietIdleStrategy.agents(activity))
            // Heartbeats go out and come in through this thread: a busy host must not delay them past the
            // failure timeout.
            .sharedThreadFactory(runnable -> new Thread(() ->
            {
                ThreadPriority.raiseCurrentThread(priority);
                runnable.run();
            }))
            .asyncExecutorEnabled(false) // endpoints are addresses: no name resolution to run aside
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .publicationConnectionTimeoutNs(TimeUnit.SECONDS.toNanos(2))
            .imageLivenessTimeoutNs(TimeUnit.SECONDS.toNanos(2))
            // The driver and its one client live in one process and stall together (SIGSTOP, a starved or
            // migrated VM): a client that misses the driver for long is the process stalled, not a dead client.
            // Aeron's 10 s default closed the client of a replica stopped for 10 s, which then judged its primary
            // with no transport at all. Unblock must exceed liveness.
            .publicationUnblockTimeoutNs(STALL_TOLERANCE_NS + TimeUnit.SECONDS.toNanos(15))
            .clientLivenessTimeoutNs(STALL_TOLERANCE_NS)
            .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(100))
            // Log buffers allocated whole when created (Aeron checks the room first and refuses cleanly): a sparse
            // one on a file system that fills later faults in the driver's thread at its next new page (SIGBUS).
            // The small streams' terms are 64 KiB, so this costs what the epoch stream's terms would use anyway.
            .termBufferSparseFile(false)
            .performStorageChecks(true);
        requireSpace(aeronDir, driverContext);
        final MediaDriver driver;
        try
        {
            driver = MediaDriver.launch(driverContext);
        }
        catch (final InternalError ex)
        {
            // A memory-mapped file that the filesystem cannot back faults on its first touch.
            throw new IllegalStateException("Aeron could not write its files in " + aeronDir + " (" +
                ex.getMessage() + "): is that filesystem full? Give --work-dir on one with room", ex);
        }
        try
        {
            final Aeron aeron = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(driver.aeronDirectoryName())
                .driverTimeoutMs(TimeUnit.NANOSECONDS.toMillis(STALL_TOLERANCE_NS))
                .idleStrategy(QuietIdleStrategy.lazy(activity, 50)));
            return new EmbeddedAeron(driver, aeron);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(driver);
            throw ex;
        }
    }

    /**
     * Aeron's files (its command-and-control file, and three terms of log buffer for each of the agent's
     * streams: epochs, acks, heartbeats both ways) are memory-mapped: without room they would fail later, as a
     * crash deep in a thread or a stream that never connects. Refuse at start, in one line, instead.
     */
    private static void requireSpace(final String aeronDir, final MediaDriver.Context context)
    {
        final long needed = (long)context.conductorBufferLength() + context.toClientsBufferLength() +
            2L * context.counterValuesBufferLength() + context.errorBufferLength() +
            EPOCH_STREAMS * 3L * context.publicationTermBufferLength() + SMALL_STREAMS * 3L * Streams.SMALL_TERM_LENGTH;
        Path existing = Path.of(aeronDir).toAbsolutePath();
        while (existing != null && !Files.exists(existing))
        {
            existing = existing.getParent();
        }
        if (existing == null)
        {
            return;
        }
        final long usable;
        try
        {
            usable = Files.getFileStore(existing).getUsableSpace();
        }
        catch (final IOException ex)
        {
            return; // cannot tell: Aeron's own checks and the InternalError guard remain
        }
        if (usable < needed)
        {
            throw new IllegalStateException("not enough room for Aeron's files in " + aeronDir + ": " +
                usable / MB + " MB free, about " + needed / MB + " MB needed; give --work-dir on a filesystem " +
                "with room");
        }
    }

    public Aeron aeron()
    {
        return aeron;
    }

    /** False once the client closed itself (a stall beyond {@link #STALL_TOLERANCE_NS}): nothing is heard any more. */
    public boolean alive()
    {
        return !aeron.isClosed();
    }

    public void close()
    {
        CloseHelper.closeAll(aeron, driver);
    }
}
