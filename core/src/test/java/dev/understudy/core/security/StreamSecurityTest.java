package dev.understudy.core.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import dev.understudy.core.protocol.HelloCodec;
import dev.understudy.core.protocol.SealedFrameCodec;
import org.agrona.concurrent.UnsafeBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamSecurityTest
{
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path dir;

    @Test
    void hkdfGivesRfc5869sFirstTestVector()
    {
        final byte[] ikm = HEX.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        final byte[] salt = HEX.parseHex("000102030405060708090a0b0c");
        final byte[] info = HEX.parseHex("f0f1f2f3f4f5f6f7f8f9");
        assertEquals("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            HEX.formatHex(Hkdf.extract(salt, ikm)));
        assertEquals("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
            HEX.formatHex(Hkdf.derive(salt, ikm, info, 42)));
    }

    @Test
    void aKeyFileIsMadeOwnerOnlyNeverOverwrittenAndCheckedWhenRead() throws IOException
    {
        final Path file = dir.resolve("svc.key");
        KeyFile.generate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        final byte[] key = KeyFile.read(file);
        assertEquals(KeyFile.KEY_BYTES, key.length);
        final IOException again = assertThrows(IOException.class, () -> KeyFile.generate(file));
        assertTrue(again.getMessage().contains("never overwritten"), again.getMessage());
        assertArrayEquals(key, KeyFile.read(file), "the key stayed as it was");

        final IOException missing = assertThrows(IOException.class, () -> KeyFile.read(dir.resolve("none.key")));
        assertTrue(missing.getMessage().contains("understudy keygen --out"), missing.getMessage());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        final IOException open = assertThrows(IOException.class, () -> KeyFile.read(file));
        assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
        final Path shortKey = Files.write(dir.resolve("short.key"), new byte[16]);
        Files.setPosixFilePermissions(shortKey, PosixFilePermissions.fromString("rw-------"));
        assertThrows(IOException.class, () -> KeyFile.read(shortKey));
    }

    @ParameterizedTest
    @EnumSource(FrameCipher.Aead.class)
    void framesOpenOnceInOrderUnderTheirKeyAndStreamOnly(final FrameCipher.Aead aead)
    {
        final byte[] key = Hkdf.derive(new byte[]{1}, new byte[32], new byte[0], 32);
        final FrameCipher sealer = FrameCipher.sealer(aead, key, 1001, 77);
        final FrameCipher opener = FrameCipher.opener(aead, key, 1001, 77);
        final UnsafeBuffer[] sealed = new UnsafeBuffer[3];
        for (int i = 0; i < 3; i++)
        {
            final byte[] frame = ("frame " + i).getBytes();
            sealed[i] = new UnsafeBuffer(new byte[FrameCipher.sealedLength(frame.length)]);
            assertEquals(sealed[i].capacity(), sealer.seal(new UnsafeBuffer(frame), 0, frame.length, sealed[i], 0));
            assertFalse(new String(sealed[i].byteArray()).contains("frame"), "encrypted, not just signed");
            assertEquals(77, SealedFrameCodec.sessionId(sealed[i], 0));
            assertEquals(i, SealedFrameCodec.sequence(sealed[i], 0));
        }
        final UnsafeBuffer out = new UnsafeBuffer(new byte[64]);
        assertEquals(7, open(opener, sealed[0], out));
        assertEquals("frame 0", out.getStringWithoutLengthAscii(0, 7));
        assertEquals(-1, open(opener, sealed[0], out));
        assertEquals(FrameCipher.Rejection.REPLAYED, opener.lastRejection());

        final UnsafeBuffer tampered = copy(sealed[1]);
        tampered.putByte(SealedFrameCodec.HEADER_BYTES + 2, (byte)(tampered.getByte(SealedFrameCodec.HEADER_BYTES + 2) ^ 1));
        assertEquals(-1, open(opener, tampered, out));
        assertEquals(FrameCipher.Rejection.FORGED, opener.lastRejection());
        final UnsafeBuffer renumbered = copy(sealed[1]);
        renumbered.putLong(SealedFrameCodec.SEQUENCE_OFFSET, 9); // the sequence is authenticated too
        assertEquals(-1, open(opener, renumbered, out));
        assertEquals(FrameCipher.Rejection.FORGED, opener.lastRejection());
        final UnsafeBuffer otherSession = copy(sealed[1]);
        otherSession.putLong(SealedFrameCodec.SESSION_OFFSET, 78); // and the session id
        assertEquals(-1, open(opener, otherSession, out));
        assertEquals(FrameCipher.Rejection.FORGED, opener.lastRejection());

        assertEquals(7, open(opener, sealed[2], out), "a forged frame did not move the window");
        assertEquals(-1, open(opener, sealed[1], out), "out of order: rejected");
        assertEquals(FrameCipher.Rejection.REPLAYED, opener.lastRejection());

        final FrameCipher otherKey = FrameCipher.opener(aead, Hkdf.derive(new byte[]{2}, new byte[32], new byte[0], 32),
            1001, 77);
        assertEquals(-1, open(otherKey, sealed[0], out));
        assertEquals(FrameCipher.Rejection.FORGED, otherKey.lastRejection());
        final FrameCipher otherStream = FrameCipher.opener(aead, key, 1002, 77);
        assertEquals(-1, open(otherStream, sealed[0], out));
        assertEquals(FrameCipher.Rejection.FORGED, otherStream.lastRejection());
        assertEquals(-1, opener.open(new UnsafeBuffer(new byte[10]), 0, 10, out, 0));
        assertEquals(FrameCipher.Rejection.SHORT, opener.lastRejection());
    }

    @Test
    void aFrameSealedFromADirectBufferOpensFromOne()
    {
        final Session[] sessions = handshake(ring(1), ring(1));
        final FrameCipher sealer = sessions[0].sealer(1001, "epochs");
        final FrameCipher opener = sessions[1].opener(1001, "epochs");
        final byte[] message = new byte[1 << 20];
        new java.util.Random(3).nextBytes(message);
        final UnsafeBuffer in = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(message.length + 64), 16,
            message.length);
        in.putBytes(0, message);
        final UnsafeBuffer sealed = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(message.length + 100), 8,
            message.length + 80);
        final int length = sealer.seal(in, 0, message.length, sealed, 4);
        final UnsafeBuffer out = new UnsafeBuffer(new byte[message.length + 64]);
        assertEquals(message.length, opener.open(sealed, 4, length, out, 32));
        final byte[] opened = new byte[message.length];
        out.getBytes(32, opened);
        assertArrayEquals(message, opened);
    }

    @Test
    void twoSidesWithOneKeyMakeOneSessionWithAKeyPerStreamAndDirection()
    {
        final Session[] sessions = handshake(ring(1), ring(1));
        assertEquals(sessions[0].id(), sessions[1].id());
        assertTrue(sessions[0].confirmed() && sessions[1].confirmed(), "both hold it and know the other does");
        final UnsafeBuffer message = new UnsafeBuffer("an ack".getBytes());
        final UnsafeBuffer sealed = new UnsafeBuffer(new byte[128]);
        final UnsafeBuffer out = new UnsafeBuffer(new byte[128]);
        final int length = sessions[0].sealer(1002, "acks").seal(message, 0, message.capacity(), sealed, 0);
        assertEquals(message.capacity(), sessions[1].opener(1002, "acks").open(sealed, 0, length, out, 0));
        assertEquals(-1, sessions[0].opener(1002, "acks").open(sealed, 0, length, out, 0), "not back to its sender");
        assertEquals(-1, sessions[1].opener(1001, "epochs").open(sealed, 0, length, out, 0), "not on another stream");
    }

    @Test
    void aHelloUnderAnotherKeyOrAlteredMakesNoSession()
    {
        final Handshake a = new Handshake(StreamProtection.AEAD, ring(1));
        final Handshake b = new Handshake(StreamProtection.AEAD, ring(2));
        final UnsafeBuffer hello = new UnsafeBuffer(new byte[HelloCodec.MAX_LENGTH]);
        final int length = a.writeHello(hello, 0, "10.0.0.1:4000");
        assertEquals(Handshake.Outcome.UNKNOWN_KEY, b.onHello(hello, 0, length));
        assertEquals(PreSharedKey.of(key(1), "a").id(), b.lastUnknownKeyId());

        final Handshake c = new Handshake(StreamProtection.AEAD, ring(1));
        final UnsafeBuffer altered = copy(new UnsafeBuffer(hello, 0, length));
        altered.putByte(length - HelloCodec.MAC_BYTES - 3, (byte)'9'); // the endpoint it asks to be answered at
        assertEquals(Handshake.Outcome.FORGED, c.onHello(altered, 0, length));
        assertEquals(Handshake.Outcome.MALFORMED, c.onHello(altered, 0, length - 1));
        assertEquals(Handshake.Outcome.ANSWERED, c.onHello(hello, 0, length));
        assertEquals("10.0.0.1:4000", c.answerTo());
        assertNull(c.session());
    }

    @Test
    void hellosRecordedInAnEarlierSessionMakeNoSessionAndItsFramesOpenInNoLaterOne()
    {
        final KeyRing keys = ring(1);
        final Handshake replica = new Handshake(StreamProtection.AEAD, keys);
        final Handshake oldPrimary = new Handshake(StreamProtection.AEAD, keys);
        final java.util.List<UnsafeBuffer> recorded = new java.util.ArrayList<>();
        assertTrue(pump(oldPrimary, replica, recorded));
        final Session first = replica.session();
        final UnsafeBuffer sealed = new UnsafeBuffer(new byte[128]);
        final int length = oldPrimary.session().sealer(1001, "epochs").seal(new UnsafeBuffer(new byte[8]), 0, 8,
            sealed, 0);

        final Handshake newPrimary = new Handshake(StreamProtection.AEAD, keys);
        assertTrue(pump(newPrimary, replica, new java.util.ArrayList<>()));
        final Session second = replica.session();
        assertNotEquals(first.id(), second.id(), "a new session");
        assertEquals(newPrimary.session().id(), second.id());
        for (final UnsafeBuffer hello : recorded)
        {
            final Handshake.Outcome outcome = replica.onHello(hello, 0, hello.capacity());
            assertTrue(outcome == Handshake.Outcome.ANSWERED || outcome == Handshake.Outcome.IGNORED, outcome.name());
            assertEquals(second.id(), replica.session().id(), "a replayed hello changed no session");
        }
        assertNotEquals(second.id(), SealedFrameCodec.sessionId(sealed, 0));
        assertEquals(-1, second.opener(1001, "epochs").open(sealed, 0, length, new UnsafeBuffer(new byte[128]), 0));
    }

    /**
     * Found by ReprotectionTest's switchover: the primary made a session with the old agent on the other host, which
     * went before it heard our hold; the new agent there does not know where we are (it only answers) and ignores holds
     * of a session it never made. Our holds alone never end; an offer among them makes a session with the new one.
     */
    @Test
    void aSessionThePeerNeverConfirmedIsOfferedAnewWhenItsHoldsGoUnanswered()
    {
        final KeyRing keys = ring(1);
        final Handshake primary = new Handshake(StreamProtection.AEAD, keys);
        final Handshake oldAgent = new Handshake(StreamProtection.AEAD, keys);
        final UnsafeBuffer hello = new UnsafeBuffer(new byte[HelloCodec.MAX_LENGTH]);
        assertEquals(Handshake.Outcome.ANSWERED, oldAgent.onHello(hello, 0, primary.writeHello(hello, 0, "10.0.0.1:4000")));
        assertEquals(Handshake.Outcome.ESTABLISHED, primary.onHello(hello, 0, oldAgent.writeHello(hello, 0, "")));
        assertFalse(primary.session().confirmed(), "the old agent went before it heard our hold");

        final Handshake newAgent = new Handshake(StreamProtection.AEAD, keys);
        for (int round = 0; round < 2 * Handshake.UNCONFIRMED_HOLDS_BEFORE_OFFER && !primary.session().confirmed();
            round++)
        {
            if (primary.helloDue(true, false))
            {
                newAgent.onHello(hello, 0, primary.writeHello(hello, 0, "10.0.0.1:4000"));
            }
            if (newAgent.helloDue(false, false)) // answers and holds only: it does not know where we are
            {
                primary.onHello(hello, 0, newAgent.writeHello(hello, 0, ""));
            }
        }
        assertTrue(primary.session().confirmed(), "a session with the new agent, both holding it");
        assertEquals(primary.session().id(), newAgent.session().id());
    }

    @Test
    void aKeyAddedOnBothSidesMakesANewSessionWhileTheOldOneStillOpens() throws IOException
    {
        final Path aDir = Files.createDirectories(dir.resolve("a"));
        final Path bDir = Files.createDirectories(dir.resolve("b"));
        for (final Path keys : List.of(aDir, bDir))
        {
            write(keys.resolve("20261201.key"), key(1));
        }
        final KeyRing aKeys = KeyRing.of(List.of(aDir));
        final KeyRing bKeys = KeyRing.of(List.of(bDir));
        final Handshake a = new Handshake(StreamProtection.AEAD, aKeys);
        final Handshake b = new Handshake(StreamProtection.AEAD, bKeys);
        pump(a, b, new java.util.ArrayList<>());
        final Session before = a.sendingSession();
        assertEquals(PreSharedKey.of(key(1), "").id(), before.ownKeyId());

        write(bDir.resolve("20261206.key"), key(2));
        bKeys.reload();
        assertFalse(pump(a, b, new java.util.ArrayList<>()), "b offers under its new key, which a refuses");
        assertEquals(before, a.sendingSession(), "a lacks the new key: the session runs on, nothing paused");
        write(aDir.resolve("20261206.key"), key(2));
        aKeys.reload();
        assertTrue(pump(a, b, new java.util.ArrayList<>()));
        final Session after = a.sendingSession();
        assertNotEquals(before.id(), after.id());
        assertEquals(after.id(), b.sendingSession().id());
        assertEquals(PreSharedKey.of(key(2), "").id(), after.ownKeyId());
        assertEquals(before.id(), b.previous().id(), "the old session's frames still in flight open");
    }

    /** Runs a whole handshake between two sides; returns their sessions. */
    private static Session[] handshake(final KeyRing aKeys, final KeyRing bKeys)
    {
        final Handshake a = new Handshake(StreamProtection.AEAD, aKeys);
        final Handshake b = new Handshake(StreamProtection.AEAD, bKeys);
        assertTrue(pump(a, b, new java.util.ArrayList<>()), "the handshake settled");
        return new Session[] {a.session(), b.session()};
    }

    /**
     * Hellos both ways, as the heartbeat threads send them (every interval while a session is to be made), until
     * neither has one due or 10 rounds went; a's are recorded. Returns whether it settled.
     */
    private static boolean pump(final Handshake a, final Handshake b, final java.util.List<UnsafeBuffer> recorded)
    {
        final UnsafeBuffer hello = new UnsafeBuffer(new byte[HelloCodec.MAX_LENGTH]);
        for (int round = 0; round < 10; round++)
        {
            boolean sent = false;
            if (a.helloDue(true, false))
            {
                final int length = a.writeHello(hello, 0, "10.0.0.1:4000");
                recorded.add(copy(new UnsafeBuffer(hello, 0, length)));
                b.onHello(hello, 0, length);
                sent = true;
            }
            if (b.helloDue(true, false))
            {
                a.onHello(hello, 0, b.writeHello(hello, 0, ""));
                sent = true;
            }
            if (!sent)
            {
                return true;
            }
        }
        return false;
    }

    private static KeyRing ring(final int seed)
    {
        return KeyRing.of(PreSharedKey.of(key(seed), "test key " + seed));
    }

    private static byte[] key(final int seed)
    {
        final byte[] key = new byte[KeyFile.KEY_BYTES];
        Arrays.fill(key, (byte)seed);
        return key;
    }

    private static void write(final Path file, final byte[] key) throws IOException
    {
        Files.write(file, key);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private static int open(final FrameCipher opener, final UnsafeBuffer sealed, final UnsafeBuffer out)
    {
        return opener.open(sealed, 0, sealed.capacity(), out, 0);
    }

    private static UnsafeBuffer copy(final UnsafeBuffer buffer)
    {
        final byte[] bytes = new byte[buffer.capacity()];
        buffer.getBytes(0, bytes);
        return new UnsafeBuffer(bytes);
    }
}
