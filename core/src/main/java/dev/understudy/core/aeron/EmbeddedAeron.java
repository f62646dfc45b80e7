package dev.understudy.core.aeron;

import java.util.concurrent.TimeUnit;

import dev.understudy.core.agent.Activity;
import dev.understudy.core.agent.QuietIdleStrategy;
import dev.understudy.core.os.ThreadPriority;
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
            .publicationUnblockTimeoutNs(TimeUnit.SECONDS.toNanos(15))
            .clientLivenessTimeoutNs(TimeUnit.SECONDS.toNanos(10))
            .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(100));
        final MediaDriver driver = MediaDriver.launch(driverContext);
        try
        {
            final Aeron aeron = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(driver.aeronDirectoryName())
                .idleStrategy(QuietIdleStrategy.lazy(activity, 50)));
            return new EmbeddedAeron(driver, aeron);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(driver);
            throw ex;
        }
    }

    public Aeron aeron()
    {
        return aeron;
    }

    public void close()
    {
        CloseHelper.closeAll(aeron, driver);
    }
}
