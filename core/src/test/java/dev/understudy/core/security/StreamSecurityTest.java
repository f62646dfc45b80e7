package dev.understudy.core.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void sessionKeysDifferBySessionAndByStream()
    {
        final byte[] psk = new byte[32];
        final byte[] a = new byte[32];
        final byte[] b = new byte[32];
        final byte[] c = new byte[32];
        b[1] = 2;
        c[0] = 1;
        assertArrayEquals(SessionKeys.streamKey(psk, a, b, "epochs"), SessionKeys.streamKey(psk, a, b, "epochs"));
        assertFalse(Arrays.equals(SessionKeys.streamKey(psk, a, b, "epochs"), SessionKeys.streamKey(psk, a, b, "acks")));
        assertFalse(Arrays.equals(SessionKeys.streamKey(psk, a, b, "epochs"), SessionKeys.streamKey(psk, c, b, "epochs")));
        assertFalse(Arrays.equals(SessionKeys.streamKey(psk, a, b, "epochs"), SessionKeys.streamKey(psk, b, a, "epochs")));
    }

    @ParameterizedTest
    @EnumSource(FrameCipher.Aead.class)
    void framesOpenOnceInOrderUnderTheirKeyAndStreamOnly(final FrameCipher.Aead aead)
    {
        final byte[] key = Hkdf.derive(new byte[]{1}, new byte[32], new byte[0], 32);
        final FrameCipher sealer = FrameCipher.sealer(aead, key, 1001);
        final FrameCipher opener = FrameCipher.opener(aead, key, 1001);
        final byte[][] sealed = new byte[3][];
        for (int i = 0; i < 3; i++)
        {
            final byte[] frame = ("frame " + i).getBytes();
            sealed[i] = new byte[FrameCipher.sealedLength(frame.length)];
            assertEquals(sealed[i].length, sealer.seal(frame, 0, frame.length, sealed[i], 0));
            assertFalse(new String(sealed[i]).contains("frame"), "encrypted, not just signed");
        }
        final byte[] out = new byte[64];
        assertEquals(7, opener.open(sealed[0], 0, sealed[0].length, out, 0));
        assertEquals("frame 0", new String(out, 0, 7));
        assertEquals(-1, opener.open(sealed[0], 0, sealed[0].length, out, 0));
        assertEquals(FrameCipher.Rejection.REPLAYED, opener.lastRejection());

        final byte[] tampered = sealed[1].clone();
        tampered[FrameCipher.HEADER_BYTES + 2] ^= 1;
        assertEquals(-1, opener.open(tampered, 0, tampered.length, out, 0));
        assertEquals(FrameCipher.Rejection.FORGED, opener.lastRejection());
        final byte[] renumbered = sealed[1].clone();
        renumbered[0] = 9; // the sequence is authenticated too
        assertEquals(-1, opener.open(renumbered, 0, renumbered.length, out, 0));
        assertEquals(FrameCipher.Rejection.FORGED, opener.lastRejection());

        assertEquals(7, opener.open(sealed[2], 0, sealed[2].length, out, 0), "a forged frame did not move the window");
        assertEquals(-1, opener.open(sealed[1], 0, sealed[1].length, out, 0), "out of order: rejected");
        assertEquals(FrameCipher.Rejection.REPLAYED, opener.lastRejection());

        final FrameCipher otherKey = FrameCipher.opener(aead, Hkdf.derive(new byte[]{2}, new byte[32], new byte[0], 32),
            1001);
        assertEquals(-1, otherKey.open(sealed[0], 0, sealed[0].length, out, 0));
        assertEquals(FrameCipher.Rejection.FORGED, otherKey.lastRejection());
        final FrameCipher otherStream = FrameCipher.opener(aead, key, 1002);
        assertEquals(-1, otherStream.open(sealed[0], 0, sealed[0].length, out, 0));
        assertEquals(FrameCipher.Rejection.FORGED, otherStream.lastRejection());
        assertEquals(-1, opener.open(new byte[10], 0, 10, out, 0));
        assertEquals(FrameCipher.Rejection.SHORT, opener.lastRejection());
    }
}
