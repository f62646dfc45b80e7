package dev.understudy.buffering;

/**
 * Asked before any held or passing output leaves: may this node's output reach clients now? With a coordinator
 * it is the service's lease (released only while it is held); without one, always open. Called on the holder
 * thread, for every release and every packet passed through, so it must be cheap and never block.
 */
@FunctionalInterface
public interface ReleaseGate
{
    ReleaseGate ALWAYS_OPEN = nowNs -> true;

    boolean open(long nowNs);
}
