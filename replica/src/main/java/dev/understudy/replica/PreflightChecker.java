package dev.understudy.replica;

import java.io.IOException;
import java.util.Queue;

import dev.understudy.core.criu.CriuBinary;
import dev.understudy.core.os.ThreadPriority;
import dev.understudy.core.preflight.HostFacts;
import dev.understudy.core.preflight.Preflight;
import org.agrona.concurrent.Agent;

/**
 * Checks the primary's facts against this host ({@link Preflight}) on a thread of its own (it runs CRIU and
 * hashes the service's files), keeps the verdict for status and the takeover, and hands it to the receiver,
 * which sends it to the primary on the ack stream.
 */
final class PreflightChecker implements Agent
{
    private final ReplicaContext context;
    private final ReplicaState state;
    private final Queue<HostFacts> facts;
    private final Queue<Preflight.Verdict> verdicts;
    private CriuBinary criu;

    PreflightChecker(final ReplicaContext context, final ReplicaState state, final Queue<HostFacts> facts,
        final Queue<Preflight.Verdict> verdicts)
    {
        this.context = context;
        this.state = state;
        this.facts = facts;
        this.verdicts = verdicts;
    }

    public String roleName()
    {
        return "understudy-preflight";
    }

    public void onStart()
    {
        ThreadPriority.lowerCurrentThread(); // hashing a service's files must not delay a heartbeat
    }

    public int doWork()
    {
        HostFacts latest = null;
        HostFacts next;
        while ((next = facts.poll()) != null)
        {
            latest = next; // only the newest facts matter
        }
        if (latest == null)
        {
            return 0;
        }
        Preflight.Verdict verdict;
        try
        {
            if (criu == null)
            {
                criu = CriuBinary.locate();
            }
            verdict = Preflight.check(latest, criu, context.workDir().resolve(context.name()).resolve("preflight"),
                context.imagesDir(), context.journalDir(), context.stateStoreDir(), context.stateStoreMb());
        }
        catch (final IOException | RuntimeException ex)
        {
            verdict = new Preflight.Verdict(false, "could not check this host: " + ex.getMessage(),
                java.util.List.of());
        }
        final Preflight.Verdict previous = state.preflight;
        state.preflight = verdict;
        if (!verdict.describe().equals(previous.describe()))
        {
            if (verdict.ok())
            {
                context.notices().info("preflight " + verdict.describe() + ": this host can restore the service");
            }
            else
            {
                context.notices().warning("preflight " + verdict.describe());
            }
        }
        verdicts.offer(verdict);
        return 1;
    }
}
