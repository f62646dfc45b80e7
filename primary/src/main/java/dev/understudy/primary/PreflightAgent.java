package dev.understudy.primary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

import dev.understudy.core.os.ThreadPriority;
import dev.understudy.core.preflight.HostFacts;
import dev.understudy.core.protocol.PreflightCodec;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Collects the service's {@link HostFacts} at start and every {@link #PERIOD_NS} (its mapped files change
 * with upgrades, its size with its data) and hands them, encoded, to the shipper, which sends them to the
 * replica between epochs. Its own thread: running CRIU and hashing libraries takes tens of milliseconds the
 * epoch loop and the shipper do not have.
 */
final class PreflightAgent implements Agent
{
    static final long PERIOD_NS = TimeUnit.SECONDS.toNanos(60);
    private final ProtectContext context;
    private final PrimaryState state;
    /** The paths the service sees its replicated state directories at: not its unprotected state. */
    private final List<Path> stateDirs;
    private final List<Path> stateCopies;
    private final ProtectedProcess service;
    private final Queue<byte[]> toShipper;
    private long nextNs;

    /**
     * @param stateDirs   the paths the service sees its state directories at (left out of the file checks).
     * @param stateCopies this host's copies of them (their size is a fact: the replica's store must hold them).
     */
    PreflightAgent(final ProtectContext context, final PrimaryState state, final ProtectedProcess service,
        final Queue<byte[]> toShipper, final List<Path> stateDirs, final List<Path> stateCopies)
    {
        this.context = context;
        this.state = state;
        this.stateDirs = stateDirs;
        this.stateCopies = stateCopies;
        this.service = service;
        this.toShipper = toShipper;
    }

    public String roleName()
    {
        return "understudy-preflight";
    }

    public void onStart()
    {
        ThreadPriority.lowerCurrentThread(); // running CRIU and hashing files must not delay an epoch or heartbeat
    }

    public int doWork()
    {
        final long now = context.nanoClock().nanoTime();
        if (now < nextNs)
        {
            return 0;
        }
        nextNs = now + PERIOD_NS;
        try
        {
            HostFacts facts = HostFacts.collect(context.criuBinary(), service.rootPid(),
                context.runDir().resolve("preflight")).without(stateDirs);
            if (!stateCopies.isEmpty())
            {
                facts = facts.withStateBytes(bytesIn(stateCopies));
            }
            if (context.preflightCpuinfo() != null)
            {
                facts = new HostFacts(facts.criuVersion(), facts.kernel(), Files.readAllBytes(
                    context.preflightCpuinfo()), facts.files(), facts.openFiles(), facts.imageBytes(),
                    facts.stateBytes());
            }
            final List<String> written = facts.writtenFiles();
            if (!written.equals(state.unprotectedFiles))
            {
                if (!written.isEmpty())
                {
                    context.notices().warning("the service writes files that are not replicated: " +
                        PrimaryState.describeFiles(written) + " (a takeover restores its memory, not these)");
                }
                state.unprotectedFiles = written;
            }
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[PreflightCodec.length(facts)]);
            PreflightCodec.encode(buffer, 0, facts);
            toShipper.offer(buffer.byteArray());
            return 1;
        }
        catch (final IOException | RuntimeException ex)
        {
            state.errors.report("preflight: could not collect this host's facts: " + ex.getMessage(), ex);
            nextNs = now + TimeUnit.SECONDS.toNanos(5);
            return 0;
        }
    }

    /** The bytes of the files under dirs (once a minute, on this low-priority thread). */
    private static long bytesIn(final List<Path> dirs) throws IOException
    {
        long bytes = 0;
        for (final Path dir : dirs)
        {
            try (java.util.stream.Stream<Path> files = Files.walk(dir))
            {
                bytes += files.filter(Files::isRegularFile).mapToLong(file ->
                {
                    try
                    {
                        return Files.size(file);
                    }
                    catch (final IOException ex)
                    {
                        return 0; // gone meanwhile
                    }
                }).sum();
            }
        }
        return bytes;
    }
}
