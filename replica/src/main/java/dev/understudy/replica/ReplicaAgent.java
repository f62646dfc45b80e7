package dev.understudy.replica;

import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import org.agrona.concurrent.Agent;

/** The replica's duty cycle: poll the epoch stream; a vanished primary voids a half-received epoch. */
final class ReplicaAgent implements Agent
{
    private final Subscription epochs;
    private final FragmentAssembler fragments;
    private final ImageAssembler assembler;
    private final ReplicaState state;

    ReplicaAgent(final Subscription epochs, final EpochAdapter adapter, final ImageAssembler assembler,
        final ReplicaState state)
    {
        this.epochs = epochs;
        this.fragments = new FragmentAssembler(adapter);
        this.assembler = assembler;
        this.state = state;
    }

    public String roleName()
    {
        return "understudy-replica";
    }

    public int doWork()
    {
        if (state.fencedTerm > 0 && state.fenceApplied != state.fencedTerm)
        {
            assembler.abort();
            state.fenceApplied = state.fencedTerm; // from here on this thread commits nothing
        }
        final int work = epochs.poll(fragments, 64);
        final boolean connected = epochs.isConnected();
        if (!connected && assembler.active())
        {
            assembler.abort(); // the primary died mid-epoch: the committed image stays as it is
        }
        state.primaryConnected = connected;
        return work;
    }
}
