package dev.understudy.heartbeat;

import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.protocol.MessageHeader;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/** Decodes the peer's heartbeats: a sign of life for the detector, gap figures, and the peer's term/role. */
final class HeartbeatAdapter implements FragmentHandler
{
    private final HeartbeatCodec heartbeat = new HeartbeatCodec();
    private final FailureDetector detector;
    private final HeartbeatMetrics metrics;
    private final HeartbeatListener listener;
    private long lastHeartbeatNs;
    private long nextSequence = -1;

    HeartbeatAdapter(final FailureDetector detector, final HeartbeatMetrics metrics, final HeartbeatListener listener)
    {
        this.detector = detector;
        this.metrics = metrics;
        this.listener = listener;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (MessageHeader.templateIdIfValid(buffer, offset, length) != HeartbeatCodec.TEMPLATE_ID)
        {
            return;
        }
        final long nowNs = System.nanoTime();
        heartbeat.wrap(buffer, offset);
        detector.onSignOfLife(nowNs);
        if (lastHeartbeatNs != 0)
        {
            metrics.onGap(nowNs - lastHeartbeatNs);
        }
        lastHeartbeatNs = nowNs;
        final long sequence = heartbeat.sequence();
        metrics.onReceived(nextSequence >= 0 && sequence > nextSequence ? sequence - nextSequence : 0);
        nextSequence = sequence + 1;
        listener.onHeartbeat(heartbeat.term(), heartbeat.role(), heartbeat.epoch());
    }

    /** After a suspicion the next gap is the outage, not a heartbeat gap worth a percentile. */
    void resetGap()
    {
        lastHeartbeatNs = 0;
    }
}
