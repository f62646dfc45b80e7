package dev.understudy.primary;

import java.util.Queue;

import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * What the epoch loop and the shipper share, all of it queues: dumps ready to ship, slots free to dump into (two:
 * one being shipped while the next is dumped), and the epoch loop's inbox; plus a way to wake the shipper at once.
 */
record EpochPipeline(OneToOneConcurrentArrayQueue<CheckpointEpoch> ready,
    OneToOneConcurrentArrayQueue<CheckpointEpoch> free, Queue<EpochLoopMessage> epochLoop, Runnable wakeShipper)
{
    static EpochPipeline create(final Runnable wakeShipper)
    {
        final EpochPipeline pipeline = new EpochPipeline(new OneToOneConcurrentArrayQueue<>(2),
            new OneToOneConcurrentArrayQueue<>(2), new ManyToOneConcurrentLinkedQueue<>(), wakeShipper);
        pipeline.free().offer(new CheckpointEpoch());
        pipeline.free().offer(new CheckpointEpoch());
        return pipeline;
    }
}
