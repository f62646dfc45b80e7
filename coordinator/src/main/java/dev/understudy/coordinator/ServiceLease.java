package dev.understudy.coordinator;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import dev.understudy.core.protocol.LeaseCodec;
import dev.understudy.core.protocol.TermFileCodec;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The service's lease in the coordinator (ZooKeeper, through Curator). Two znodes under
 * {@code /understudy/NAME}: {@code term}, persistent, the highest fencing term ever granted; {@code lease},
 * ephemeral, "TERM HOLDER", owned by the session of the node that serves now. Taking the lease is one
 * transaction: the term moves from a version read before to the taker's term, and the lease is created; it
 * fails while another session's lease exists, so two nodes never hold it at once, and a stale node (a lower
 * term) never gets it back.
 *
 * <p>The holder renews on a thread of its own (a sync through the leader and a read of its lease, every tenth of
 * the session timeout) and counts the lease held until half the session timeout, less the clock drift allowed,
 * after it SENT its last renewal that succeeded (see {@link CoordinatorContext#validForNs}). The coordinator deletes the lease no
 * sooner than a whole session timeout after it last heard from the holder, so a holder cut off from the
 * coordinator stops counting its lease held well before another node can take it. {@link #releaseAllowed}
 * is what output commit asks before any packet leaves.
 */
public final class ServiceLease implements AutoCloseable
{
    /** Where the lease stands; in status. */
    public enum State
    {
        /** Not taken (yet). */
        NOT_HELD,
        /** Taken, renewed in time. */
        HELD,
        /** Taken, but renewals fail: held until it runs out, then output waits for a renewal. */
        RENEWAL_FAILING,
        /** Another node holds the service at a newer term: this one must never serve again. */
        SUPERSEDED,
        CLOSED
    }

    /** What {@link #acquire} came to. */
    public enum Outcome
    {
        ACQUIRED,
        /** The coordinator has granted a newer term than the one asked for: another node serves the service. */
        NEWER_TERM,
        /** Another session holds the lease still (the wait ran out). */
        HELD_ELSEWHERE,
        /** The caller gave up waiting (the primary spoke again). */
        GAVE_UP
    }

    /** @param holder who holds the lease (when known), @param term the coordinator's term. */
    public record Acquisition(Outcome outcome, long term, String holder)
    {
    }

    /** Called once, on the renewal thread, when another node holds the service at a newer term. */
    @FunctionalInterface
    public interface SupersededHandler
    {
        void onSuperseded(long newerTerm, String holder);
    }

    private static final long RETRY_NS = TimeUnit.MILLISECONDS.toNanos(20);

    private final CoordinatorContext context;
    private final CuratorFramework client;
    private final String termPath;
    private final String leasePath;
    private volatile long term = -1;
    private volatile long validUntilNs = Long.MIN_VALUE;
    private volatile State state = State.NOT_HELD;
    private volatile String lastProblem = "";
    private volatile long renewals;
    private volatile long renewalFailures;
    private volatile SupersededHandler supersededHandler;
    private volatile boolean running = true;
    private Thread renewer;

    private ServiceLease(final CoordinatorContext context, final CuratorFramework client)
    {
        this.context = context;
        this.client = client;
        final String base = "/understudy/" + context.serviceName();
        this.termPath = base + "/term";
        this.leasePath = base + "/lease";
        this.supersededHandler = (newer, holder) -> context.notices().warning("the coordinator gave " +
            context.serviceName() + " to " + holder + " at term " + newer + ": this node must not serve it");
    }

    /** Connects (waiting up to the context's connect timeout); the one-line error says what to do. */
    public static ServiceLease connect(final CoordinatorContext context) throws CoordinatorException
    {
        context.conclude();
        // No retries inside Curator: every loop here retries on its own, and a renewal must never be stretched
        // past the lease by a library's back-off.
        final CuratorFramework client = CuratorFrameworkFactory.builder().connectString(context.connectString())
            .sessionTimeoutMs((int)context.sessionTimeoutMs())
            .connectionTimeoutMs((int)Math.max(100, context.sessionTimeoutMs() / 2))
            .retryPolicy(new RetryNTimes(0, 0)).build();
        client.start();
        try
        {
            if (!client.blockUntilConnected((int)context.connectTimeoutMs(), TimeUnit.MILLISECONDS))
            {
                throw new CoordinatorException("cannot reach the coordinator at " + context.connectString() + " within " +
                    context.connectTimeoutMs() + " ms: start it ('understudy coordinator') or fix --coordinator");
            }
            final ServiceLease lease = new ServiceLease(context, client);
            lease.ensureTermNode();
            return lease;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            client.close();
            throw new CoordinatorException("interrupted while connecting to the coordinator", ex);
        }
        catch (final CoordinatorException | RuntimeException ex)
        {
            client.close();
            throw ex;
        }
    }

    private void ensureTermNode() throws CoordinatorException
    {
        try
        {
            client.create().creatingParentsIfNeeded().forPath(termPath, TermFileCodec.encode(0));
        }
        catch (final KeeperException.NodeExistsException ex)
        {
            // an earlier holder made it
        }
        catch (final Exception ex)
        {
            throw new CoordinatorException("the coordinator at " + context.connectString() + " refused to store " +
                termPath + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Takes the lease at term, waiting up to waitMs while another session holds it (its holder may have just
     * died: the coordinator frees it a session timeout after it last heard from it), unless giveUp says stop.
     * Refused at once when the coordinator already granted a newer term. On success the renewals start.
     */
    public Acquisition acquire(final long term, final long waitMs, final BooleanSupplier giveUp)
        throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        String holder = "";
        long sentNs = System.nanoTime();
        while (running)
        {
            if (giveUp.getAsBoolean())
            {
                return new Acquisition(Outcome.GAVE_UP, term, holder);
            }
            try
            {
                final Stat termStat = new Stat();
                final long stored = TermFileCodec.decode(client.getData().storingStatIn(termStat).forPath(termPath),
                    termPath);
                if (stored > term)
                {
                    return new Acquisition(Outcome.NEWER_TERM, stored, holderOrEmpty());
                }
                sentNs = System.nanoTime();
                client.transaction().forOperations(
                    client.transactionOp().setData().withVersion(termStat.getVersion())
                        .forPath(termPath, TermFileCodec.encode(term)),
                    client.transactionOp().create().withMode(CreateMode.EPHEMERAL)
                        .forPath(leasePath, LeaseCodec.encode(term, context.holder())));
                onAcquired(term, sentNs);
                return new Acquisition(Outcome.ACQUIRED, term, context.holder());
            }
            catch (final KeeperException.NodeExistsException ex)
            {
                holder = holderOrEmpty();
                if (ownsLease(term))
                {
                    onAcquired(term, sentNs); // the attempt that found it ours proves the session no later
                    return new Acquisition(Outcome.ACQUIRED, term, context.holder());
                }
            }
            catch (final KeeperException.BadVersionException ex)
            {
                continue; // another node moved the term meanwhile: read it again
            }
            catch (final InterruptedException ex)
            {
                throw ex;
            }
            catch (final Exception ex)
            {
                lastProblem = describe(ex);
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                return new Acquisition(Outcome.HELD_ELSEWHERE, term, holder.isEmpty() ? lastProblem : holder);
            }
            LockSupport.parkNanos(RETRY_NS);
            if (Thread.interrupted())
            {
                throw new InterruptedException();
            }
        }
        return new Acquisition(Outcome.GAVE_UP, term, holder);
    }

    private synchronized void onAcquired(final long term, final long sentNs)
    {
        this.term = term;
        this.validUntilNs = sentNs + CoordinatorContext.validForNs(negotiatedTimeoutMs());
        this.state = State.HELD;
        if (renewer == null)
        {
            renewer = new Thread(this::renewLoop, "understudy-lease");
            renewer.setDaemon(true);
            renewer.start();
        }
    }

    /** Our session holds the lease at term (the transaction failed only because we created it before). */
    private boolean ownsLease(final long term)
    {
        try
        {
            final Stat stat = new Stat();
            final byte[] data = client.getData().storingStatIn(stat).forPath(leasePath);
            return stat.getEphemeralOwner() == sessionId() && LeaseCodec.decode(data, leasePath).term() == term;
        }
        catch (final Exception ex)
        {
            return false;
        }
    }

    private String holderOrEmpty()
    {
        try
        {
            final LeaseCodec.Lease lease = LeaseCodec.decode(client.getData().forPath(leasePath), leasePath);
            return lease.holder() + " (term " + lease.term() + ")";
        }
        catch (final Exception ex)
        {
            return "";
        }
    }

    private void renewLoop()
    {
        while (running && state != State.SUPERSEDED)
        {
            if (state == State.NOT_HELD) // released on purpose (a planned switchover): nothing to renew
            {
                LockSupport.parkNanos(RETRY_NS);
                continue;
            }
            final long periodNs = TimeUnit.MILLISECONDS.toNanos(Math.max(20, negotiatedTimeoutMs() / 10));
            final long sentNs = System.nanoTime();
            String gone = null;
            try
            {
                // A sync passes through the leader, so the read after it sees the lease as the leader had it no
                // earlier than sentNs; nothing is written (no transaction log fsync per renewal on the ensemble).
                syncWithLeader();
                final Stat stat = client.checkExists().forPath(leasePath);
                if (stat == null)
                {
                    gone = "the coordinator ended this node's session";
                }
                else if (stat.getEphemeralOwner() != sessionId())
                {
                    gone = "held by another session";
                }
                else
                {
                    validUntilNs = sentNs + CoordinatorContext.validForNs(negotiatedTimeoutMs());
                    renewals++;
                    if (state == State.RENEWAL_FAILING)
                    {
                        state = State.HELD;
                        context.notices().info("lease of " + context.serviceName() + " renewed again");
                    }
                }
            }
            catch (final Exception ex)
            {
                renewalFailures++;
                lastProblem = describe(ex);
                if (state == State.HELD && System.nanoTime() - validUntilNs > 0)
                {
                    state = State.RENEWAL_FAILING;
                    context.notices().warning("lease of " + context.serviceName() + " not renewed in time (" +
                        lastProblem + "): the service's output is held until the coordinator answers");
                }
            }
            if (gone != null)
            {
                try
                {
                    onLeaseGone(gone);
                }
                catch (final InterruptedException ex)
                {
                    return; // closing
                }
            }
            LockSupport.parkNanos(Math.max(0, sentNs + periodNs - System.nanoTime()));
        }
    }

    private void syncWithLeader() throws Exception
    {
        final CompletableFuture<Integer> synced = new CompletableFuture<>();
        client.getZookeeperClient().getZooKeeper().sync(leasePath, (rc, path, ctx) -> synced.complete(rc), null);
        final int rc = synced.get(Math.max(100, negotiatedTimeoutMs() / 2), TimeUnit.MILLISECONDS);
        if (rc != KeeperException.Code.OK.intValue())
        {
            throw KeeperException.create(KeeperException.Code.get(rc), leasePath);
        }
    }

    /**
     * Our lease is gone (session expired, or a node took it): superseded if the coordinator granted a newer term,
     * else nobody else serves and the lease is taken again at the same term in this session.
     */
    private void onLeaseGone(final String why) throws InterruptedException
    {
        if (state == State.HELD)
        {
            state = State.RENEWAL_FAILING;
        }
        lastProblem = why;
        final Acquisition again = acquire(term, 0, () -> false);
        switch (again.outcome())
        {
            case ACQUIRED -> context.notices().warning("lease of " + context.serviceName() + " lost (" + why +
                ") and taken again at term " + term + ": no other node had taken it");
            case NEWER_TERM ->
            {
                state = State.SUPERSEDED;
                supersededHandler.onSuperseded(again.term(), again.holder());
            }
            default ->
            {
                // retried on the next renewal; output stays held meanwhile
            }
        }
    }

    /**
     * Gives the lease up on purpose, keeping the session (a planned switchover: the replica takes it at once
     * instead of waiting for a session to end). Output stops counting as allowed before the lease is deleted.
     */
    public void release()
    {
        state = State.NOT_HELD;
        validUntilNs = Long.MIN_VALUE;
        try
        {
            final Stat stat = new Stat();
            client.getData().storingStatIn(stat).forPath(leasePath);
            if (stat.getEphemeralOwner() == sessionId())
            {
                client.delete().withVersion(stat.getVersion()).forPath(leasePath);
            }
        }
        catch (final Exception ex)
        {
            lastProblem = "released, but not deleted (" + describe(ex) + "): it goes when the session ends";
        }
    }

    /**
     * Whether the coordinator holds no lease for the service now (its holder's session ended, or it gave it up);
     * false when that cannot be known (the coordinator does not answer).
     */
    public boolean leaseFree()
    {
        try
        {
            return client.checkExists().forPath(leasePath) == null;
        }
        catch (final Exception ex)
        {
            return false;
        }
    }

    /** The highest term the coordinator has granted for the service (0 before any). */
    public long grantedTerm() throws CoordinatorException
    {
        try
        {
            return TermFileCodec.decode(client.getData().forPath(termPath), termPath);
        }
        catch (final Exception ex)
        {
            throw new CoordinatorException("cannot read " + termPath + " from the coordinator at " +
                context.connectString() + ": " + ex.getMessage(), ex);
        }
    }

    /** May the service's output leave now? Only while the lease is held and counted valid. Any thread. */
    public boolean releaseAllowed(final long nowNs)
    {
        final State current = state;
        return (current == State.HELD || current == State.RENEWAL_FAILING) && nowNs - validUntilNs < 0;
    }

    public void onSuperseded(final SupersededHandler handler)
    {
        this.supersededHandler = handler;
    }

    public State state()
    {
        return state;
    }

    public long term()
    {
        return term;
    }

    public String connectString()
    {
        return context.connectString();
    }

    /** For status: "held at term 3, valid 412 ms more, session 1000 ms, 1234 renewals (2 failed)". */
    public String describe()
    {
        final long leftMs = TimeUnit.NANOSECONDS.toMillis(validUntilNs - System.nanoTime());
        return switch (state)
        {
            case NOT_HELD -> "not held" + (lastProblem.isEmpty() ? "" : " (" + lastProblem + ")");
            case HELD, RENEWAL_FAILING -> (leftMs > 0 ? "held at term " + term + ", valid " + leftMs + " ms more" :
                "NOT RENEWED for " + -leftMs + " ms at term " + term + ": output held (" + lastProblem + ")") +
                ", session " + negotiatedTimeoutMs() + " ms, " + renewals + " renewals (" + renewalFailures + " failed)";
            case SUPERSEDED -> "SUPERSEDED: another node holds the service at a newer term";
            case CLOSED -> "closed";
        };
    }

    private long sessionId()
    {
        try
        {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        }
        catch (final Exception ex)
        {
            return 0;
        }
    }

    private long negotiatedTimeoutMs()
    {
        try
        {
            final int negotiated = client.getZookeeperClient().getZooKeeper().getSessionTimeout();
            return negotiated > 0 ? negotiated : context.sessionTimeoutMs();
        }
        catch (final Exception ex)
        {
            return context.sessionTimeoutMs();
        }
    }

    private static String describe(final Exception ex)
    {
        if (ex instanceof java.util.concurrent.TimeoutException)
        {
            return "the coordinator did not answer in time";
        }
        return ex instanceof KeeperException keeper ? keeper.code().name().toLowerCase() + " " +
            (keeper.getPath() == null ? "" : keeper.getPath()) : ex.getClass().getSimpleName() + ": " + ex.getMessage();
    }

    /** Ends the session: the coordinator deletes the lease at once, so a replica may take it without waiting. */
    public void close()
    {
        running = false;
        final Thread thread;
        synchronized (this)
        {
            thread = renewer;
        }
        if (thread != null)
        {
            thread.interrupt();
            try
            {
                thread.join(2_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        if (state != State.SUPERSEDED)
        {
            state = State.CLOSED;
        }
        client.close();
    }
}
