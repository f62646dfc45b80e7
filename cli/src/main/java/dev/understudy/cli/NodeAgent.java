package dev.understudy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.understudy.failover.Standby;
import dev.understudy.primary.IntervalRequest;
import dev.understudy.primary.Primary;
import dev.understudy.primary.PrimaryState;
import org.agrona.CloseHelper;

/**
 * One node's agent process through its roles: the primary (started by protect, or a replica promoted by a
 * takeover) and the replica. It answers the commands of this host: {@code understudy stop} (SIGTERM, with the
 * stop-service file) and {@code understudy switchover} (a request file, answered in a result file). After a
 * switchover this node is the replica of the new primary: a fresh replica starts in this process. A primary
 * fenced by a newer term, or whose service exited, ends the process (exit 3 or 1); a replica one of whose
 * agents died, too (exit 4).
 */
final class NodeAgent
{
    /** Starts this node's replica (after a switchover); on the replica's own options. */
    @FunctionalInterface
    interface ReplicaStarter
    {
        Standby start() throws IOException;
    }

    private static final long POLL_MS = 5;
    private final Path workDir;
    private final String name;
    private final ReplicaStarter replicaStarter;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;
    /** The primary started by protect, until a switchover hands the service over; else null. */
    private volatile Primary primary;
    /** The replica (and, after a takeover, the primary it promoted to); else null. */
    private volatile Standby standby;

    NodeAgent(final Path workDir, final String name, final ReplicaStarter replicaStarter)
    {
        this.workDir = workDir;
        this.name = name;
        this.replicaStarter = replicaStarter;
    }

    static Path switchoverRequest(final Path workDir, final String name)
    {
        return workDir.resolve(name).resolve("switchover-request");
    }

    static Path switchoverResult(final Path workDir, final String name)
    {
        return workDir.resolve(name).resolve("switchover-result");
    }

    /** Runs until SIGTERM (exit 0) or until the primary here is fenced (3) or its service exits (1). */
    int run(final Primary startedPrimary, final Standby startedStandby) throws IOException, InterruptedException
    {
        primary = startedPrimary;
        standby = startedStandby;
        final Path pidFile = StopCommand.pidFile(workDir, name);
        final Path stopServiceFile = StopCommand.stopServiceFile(workDir, name);
        final Path request = switchoverRequest(workDir, name);
        Files.createDirectories(pidFile.getParent());
        Files.deleteIfExists(stopServiceFile);
        Files.deleteIfExists(request);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            stopping = true; // SIGTERM (understudy stop, Ctrl-C): protection ends without a failover
            try
            {
                closeAll(Files.exists(stopServiceFile));
            }
            finally
            {
                deleteQuietly(pidFile, stopServiceFile);
                stopped.countDown();
            }
        }, "understudy-stop"));
        while (!stopped.await(POLL_MS, TimeUnit.MILLISECONDS))
        {
            final Primary protecting = protecting();
            final Standby replicating = standby;
            if (protecting == null && replicating != null && !stopping && replicating.replicaFailure() != null)
            {
                // A half-dead replica helps no one: it says why and ends, for a supervisor or an operator.
                System.err.println("understudy: replica " + replicating.replicaFailure());
                stopping = true;
                standby = null;
                replicating.close();
                return 4;
            }
            if (protecting == null || stopping)
            {
                continue;
            }
            if (!Files.exists(pidFile))
            {
                Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid())); // for understudy stop
            }
            if (Files.exists(request))
            {
                Files.deleteIfExists(request);
                switchOver(protecting);
            }
            else if (Files.exists(IntervalRequest.file(workDir, name)))
            {
                final String asked = Files.readString(IntervalRequest.file(workDir, name));
                Files.deleteIfExists(IntervalRequest.file(workDir, name));
                try
                {
                    final IntervalRequest interval = IntervalRequest.parse(asked);
                    protecting.setInterval(interval.ms(), interval.autoTarget());
                    System.out.println("understudy: checkpoint interval now " + (interval.autoTarget() > 0 ? "auto" +
                        " (frozen share target " + Math.round(interval.autoTarget() * 100) + " %)" : interval.ms() +
                        " ms") + ", as asked");
                }
                catch (final IllegalArgumentException ex)
                {
                    System.err.println("understudy: " + ex.getMessage());
                }
            }
            else if (!protecting.isRunning() && !stopping)
            {
                final String error = protecting.state().lastError();
                // An exit is told the same whether the epoch loop reported it first or this loop saw it first.
                final boolean exited = protecting.state().fencedByTerm() == 0 && !protecting.service().isAlive();
                System.err.println("understudy: " + (exited ? protecting.serviceExit() : error.isEmpty() ?
                    "protection stopped" : error) +
                    (protecting.state().fencedByTerm() > 0 ? "; make this host the replica: understudy replica " +
                    "with this host's --listen" : ""));
                deleteQuietly(pidFile);
                stopping = true;
                // Nothing runs here to keep: the service is gone (fenced, or it exited).
                final Standby replica = standby;
                standby = null;
                primary = null;
                if (replica != null)
                {
                    replica.closeAndStopService();
                }
                else
                {
                    protecting.close();
                }
                return protecting.state().fencedByTerm() > 0 ? 3 : 1;
            }
        }
        return 0;
    }

    private Primary protecting()
    {
        final Primary started = primary;
        if (started != null)
        {
            return started;
        }
        final Standby replica = standby;
        return replica == null ? null : replica.primary();
    }

    /** Hands the service to the replica; on success this node becomes its replica, in this process. */
    private void switchOver(final Primary protecting) throws IOException
    {
        Primary.Switchover result;
        try
        {
            // Each step within 3 s (a last epoch is normally acknowledged in tens of ms): well inside Aeron's
            // 5 s connection timeout, so a replica that hangs meanwhile finds the stream as it left it.
            result = protecting.switchover(3_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return;
        }
        final Path resultFile = switchoverResult(workDir, name);
        final Path written = resultFile.resolveSibling(resultFile.getFileName() + ".new");
        Files.writeString(written, result.describe() + "\n");
        Files.move(written, resultFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE); // read whole or not at all
        System.out.println("understudy: " + result.describe());
        if (!result.ok())
        {
            return;
        }
        final Primary old = primary;
        final Standby oldStandby = standby;
        primary = null;
        standby = null;
        if (old != null)
        {
            old.close(); // fenced: its service is gone; frees the status port for the replica
        }
        if (oldStandby != null)
        {
            oldStandby.close();
        }
        deleteQuietly(StopCommand.pidFile(workDir, name));
        standby = replicaStarter.start();
        System.out.println("understudy: this node is now the replica of '" + name + "' (status on port " +
            standby.replica().statusPort() + ")");
    }

    private void closeAll(final boolean stopService)
    {
        final Primary started = primary;
        final Standby replica = standby;
        if (started != null)
        {
            try
            {
                started.stop(stopService);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                started.close();
            }
        }
        if (replica != null)
        {
            if (stopService)
            {
                replica.closeAndStopService();
            }
            else
            {
                CloseHelper.quietClose(replica);
            }
        }
    }

    static void deleteQuietly(final Path... files)
    {
        for (final Path file : files)
        {
            try
            {
                Files.deleteIfExists(file);
            }
            catch (final IOException ex)
            {
                System.err.println("understudy: could not delete " + file + ": " + ex.getMessage());
            }
        }
    }
}
