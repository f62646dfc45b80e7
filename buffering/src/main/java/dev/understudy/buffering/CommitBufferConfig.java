package dev.understudy.buffering;

import java.nio.file.Path;

/**
 * Where and how much the {@link EpochCommitBuffer} holds.
 *
 * @param netns             the service's network namespace.
 * @param outputQueue       NFQUEUE number of the service's output.
 * @param inputQueue        NFQUEUE number of its input (held while it is frozen).
 * @param maxQueueLength    packets the kernel queues, and copies the holder keeps, before dropping (fail-closed).
 * @param socketBufferBytes receive buffer of the queue socket.
 * @param gate              asked before any output leaves (the service's lease with a coordinator).
 * @param evenRoundTrips    hold each acknowledged packet at least half its epoch's cycle (EpochLedger#release).
 */
public record CommitBufferConfig(Path netns, int outputQueue, int inputQueue, int maxQueueLength,
    int socketBufferBytes, ReleaseGate gate, boolean evenRoundTrips)
{
    public CommitBufferConfig(final Path netns, final int outputQueue, final int inputQueue, final int maxQueueLength,
        final int socketBufferBytes)
    {
        this(netns, outputQueue, inputQueue, maxQueueLength, socketBufferBytes, ReleaseGate.ALWAYS_OPEN, false);
    }

    public static CommitBufferConfig defaults(final Path netns)
    {
        return new CommitBufferConfig(netns, 0, 1, 65536, 64 << 20);
    }

    public CommitBufferConfig withGate(final ReleaseGate gate)
    {
        return new CommitBufferConfig(netns, outputQueue, inputQueue, maxQueueLength, socketBufferBytes, gate,
            evenRoundTrips);
    }

    public CommitBufferConfig withEvenRoundTrips(final boolean evenRoundTrips)
    {
        return new CommitBufferConfig(netns, outputQueue, inputQueue, maxQueueLength, socketBufferBytes, gate,
            evenRoundTrips);
    }
}
