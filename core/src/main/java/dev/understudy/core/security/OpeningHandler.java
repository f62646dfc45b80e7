package dev.understudy.core.security;

import dev.understudy.core.protocol.MessageHeader;
import dev.understudy.core.protocol.SealedFrameCodec;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Opens each (whole, reassembled) message of a protected stream and hands its plaintext to the handler; a message
 * that does not open (another key or session, a replay, a byte changed, in the clear) is counted and dropped, never
 * decoded. Frames of the session before the latest are still taken while the peer moves over (a rotation). Unprotected
 * streams pass through, except sealed frames, which this side cannot read. One thread uses it.
 */
final class OpeningHandler implements FragmentHandler
{
    private final StreamProtection protection;
    private final FragmentHandler handler;
    private final int streamId;
    private final String streamName;
    private UnsafeBuffer plain = new UnsafeBuffer(new byte[4096]);
    private Session currentSession;
    private FrameCipher current;
    private Session previousSession;
    private FrameCipher previous;

    OpeningHandler(final StreamProtection protection, final FragmentHandler handler, final int streamId,
        final String streamName)
    {
        this.protection = protection;
        this.handler = handler;
        this.streamId = streamId;
        this.streamName = streamName;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final boolean sealedFrame = SealedFrameCodec.isSealed(buffer, offset, length);
        if (!protection.secure())
        {
            if (sealedFrame)
            {
                protection.reject(StreamProtection.Reason.SEALED_BUT_INSECURE, streamName, "");
                return;
            }
            handler.onFragment(buffer, offset, length, header);
            return;
        }
        if (!sealedFrame)
        {
            if (MessageHeader.templateIdIfValid(buffer, offset, length) >= 0)
            {
                protection.reject(StreamProtection.Reason.UNSEALED, streamName, "");
            }
            else
            {
                protection.reject(StreamProtection.Reason.FORGED, streamName, "neither sealed nor a message");
            }
            return;
        }
        if (length < SealedFrameCodec.HEADER_BYTES + SealedFrameCodec.TAG_BYTES)
        {
            protection.reject(StreamProtection.Reason.SHORT, streamName, "");
            return;
        }
        final FrameCipher cipher = cipherFor(SealedFrameCodec.sessionId(buffer, offset));
        if (cipher == null)
        {
            protection.reject(StreamProtection.Reason.OLD_SESSION, streamName, "");
            return;
        }
        if (plain.capacity() < length)
        {
            plain = new UnsafeBuffer(new byte[Math.max(length, plain.capacity() * 2)]);
        }
        final int plainLength = cipher.open(buffer, offset, length, plain, 0);
        if (plainLength < 0)
        {
            protection.reject(cipher.lastRejection() == FrameCipher.Rejection.REPLAYED ?
                StreamProtection.Reason.REPLAYED : cipher.lastRejection() == FrameCipher.Rejection.SHORT ?
                StreamProtection.Reason.SHORT : StreamProtection.Reason.FORGED, streamName, "");
            return;
        }
        if (cipher == current && !currentSession.confirmed())
        {
            currentSession.confirm(); // a frame of the latest session opened: the peer holds it
        }
        handler.onFragment(plain, 0, plainLength, header);
    }

    /** The opener of the session a frame names: the latest, or the one before it; null for any other. */
    private FrameCipher cipherFor(final long sessionId)
    {
        final Handshake handshake = protection.handshake();
        final Session latest = handshake.session();
        if (latest != null && latest != currentSession)
        {
            if (currentSession != null && handshake.previous() == currentSession)
            {
                previousSession = currentSession;
                previous = current;
            }
            currentSession = latest;
            current = latest.opener(streamId, streamName);
        }
        if (currentSession != null && currentSession.id() == sessionId)
        {
            return current;
        }
        final Session before = handshake.previous();
        if (before != null && before.id() == sessionId)
        {
            if (before != previousSession)
            {
                previousSession = before;
                previous = before.opener(streamId, streamName);
            }
            return previous;
        }
        return null;
    }
}
