package dev.understudy.replica;

/**
 * How an epoch ended on the replica, for its ack. An accepted epoch is verified but not yet written into the
 * page store ({@link ImageAssembler#commit()}); durableBeforeApply says the page store already holds the space
 * its pages need, so the epoch may be acknowledged before they are copied (once it is in the journal).
 *
 * @param status an {@link dev.understudy.core.protocol.AckCodec} status.
 */
record EpochOutcome(long epoch, long baseEpoch, int status, long digest, String reason, boolean durableBeforeApply)
{
}
