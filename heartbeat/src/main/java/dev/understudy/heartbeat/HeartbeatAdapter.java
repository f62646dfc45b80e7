package dev.understudy.heartbeat;

import dev.understudy.core.protocol.HeartbeatCodec;
import dev.understudy.core.protocol.HelloCodec;
import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.SealedFrameCodec;
import dev.understudy.core.protocol.Streams;
import dev.understudy.core.security.StreamProtection;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/**
 * Decodes the peer's heartbeat stream: hellos go to the handshake, heartbeats are opened and then are a sign of life
 * for the detector, gap figures, and the peer's term/role. A heartbeat that does not open (forged, replayed, of
 * another session) is no sign of life and reaches no listener.
 */
final class HeartbeatAdapter implements FragmentHandler
{
    private final HeartbeatCodec heartbeat = new HeartbeatCodec();
    private final FailureDetector detector;
    private final HeartbeatMetrics metrics;
    private final HeartbeatListener listener;
    private final StreamProtection protection;
    private final FragmentHandler opened;
    private long lastHeartbeatNs;
    private long nextSequence = -1;

    HeartbeatAdapter(final FailureDetector detector, final HeartbeatMetrics metrics, final HeartbeatListener listener,
        final StreamProtection protection)
    {
        this.detector = detector;
        this.metrics = metrics;
        this.listener = listener;
        this.protection = protection;
        this.opened = protection.open(this::onHeartbeat, Streams.HEARTBEATS, "heartbeats");
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (!SealedFrameCodec.isSealed(buffer, offset, length) &&
            MessageHeader.templateIdIfValid(buffer, offset, length) == HelloCodec.TEMPLATE_ID)
        {
            final long nowNs = System.nanoTime();
            final boolean peerHeard = detector.everHeard() && detector.silentNs(nowNs) <= detector.timeoutNs() / 2;
            if (protection.onHello(buffer, offset, length, peerHeard))
            {
                detector.onSignOfLife(nowNs); // it echoed our fresh nonce: the peer is live now
            }
            return;
        }
        opened.onFragment(buffer, offset, length, header);
    }

    private void onHeartbeat(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (MessageHeader.templateIdIfValid(buffer, offset, length) != HeartbeatCodec.TEMPLATE_ID ||
            length < HeartbeatCodec.LENGTH)
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
