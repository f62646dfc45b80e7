package dev.understudy.replica;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import dev.understudy.core.aeron.EmbeddedAeron;
import dev.understudy.core.metrics.StatusServer;
import dev.understudy.core.protocol.Streams;
import io.aeron.Subscription;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

/** {@code understudy replica}: receives epochs, rebuilds and journals them, acknowledges. */
public final class Replica implements AutoCloseable
{
    private final ReplicaContext context;
    private final ReplicaState state = new ReplicaState();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ReplicaMetrics metrics = new ReplicaMetrics(registry);
    private ImageStore store;
    private EmbeddedAeron aeron;
    private EpochJournal journal;
    private AckPublisher acks;
    private StatusServer statusServer;
    private AgentRunner runner;
    private ImageAssembler assembler;

    private Replica(final ReplicaContext context)
    {
        this.context = context;
    }

    public static Replica start(final ReplicaContext context, final ReplicaObserver observer) throws IOException
    {
        context.validate();
        final Replica replica = new Replica(context);
        try
        {
            replica.open(observer);
            return replica;
        }
        catch (final IOException | RuntimeException ex)
        {
            replica.close();
            throw ex;
        }
    }

    private void open(final ReplicaObserver observer) throws IOException
    {
        store = new ImageStore(context.imagesDir());
        metrics.currentEpoch.set(store.currentEpoch());
        Files.createDirectories(context.journalDir());
        journal = new EpochJournal(context.journalDir(), context.journalRollCycle());
        aeron = EmbeddedAeron.launch(context.aeronDir());
        acks = new AckPublisher(aeron.aeron());
        final Subscription epochs = aeron.aeron().addSubscription(Streams.udpChannel(context.listenEndpoint()),
            Streams.EPOCHS);
        assembler = new ImageAssembler(store);
        final EpochAdapter adapter = new EpochAdapter(assembler, store, journal, acks, metrics, state, observer,
            context.journalBaseIntervalMs());
        statusServer = StatusServer.start(context.metricsHost(), context.metricsPort(), registry,
            () -> state.toMap(context, store, metrics, assembler));
        runner = new AgentRunner(new SleepingMillisIdleStrategy(1), error -> state.lastError = String.valueOf(error),
            null, new ReplicaAgent(epochs, adapter, assembler, state));
        AgentRunner.startOnThread(runner);
    }

    public long committedEpoch()
    {
        return store.currentEpoch();
    }

    /** The directory of the last acknowledged complete image (a symlink that is switched atomically). */
    public Path currentImage()
    {
        return store.currentLink();
    }

    /** Pages images rebuilt by patching the spare image, and by assembling them whole. */
    public long[] pagesImagesPatchedAndAssembled()
    {
        return new long[]{assembler.patchedFiles(), assembler.assembledFiles()};
    }

    /** Median time from an epoch's last message to its commit (rebuild, verify, journal), in ms. */
    public double applyMsP50()
    {
        final var percentiles = registry.get("understudy.replica.epoch.apply").timer().takeSnapshot()
            .percentileValues();
        return percentiles.length == 0 ? Double.NaN : percentiles[0].value(java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    public long refusedEpochs()
    {
        return metrics.refusedCount.get();
    }

    public Map<String, String> status()
    {
        return state.toMap(context, store, metrics, assembler);
    }

    public int statusPort()
    {
        return statusServer.port();
    }

    public PrometheusMeterRegistry registry()
    {
        return registry;
    }

    /** Stops receiving; the committed image and the journal stay (they are what a takeover restores). */
    public void close()
    {
        CloseHelper.quietCloseAll(runner, statusServer, acks, aeron, journal);
        registry.close();
    }

    /** Also removes the images from tmpfs. */
    public void closeAndDeleteImages()
    {
        close();
        if (store != null)
        {
            store.deleteAll();
        }
    }
}
