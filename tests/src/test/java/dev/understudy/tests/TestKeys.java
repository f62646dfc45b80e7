package dev.understudy.tests;

import java.security.SecureRandom;

import dev.understudy.core.security.KeyFile;
import dev.understudy.core.security.KeyRing;
import dev.understudy.core.security.PreSharedKey;
import dev.understudy.core.security.StreamProtection;

/** The key the in-process pairs of these tests share: one per test run, as an operator makes one per pair. */
final class TestKeys
{
    private static final KeyRing RING = KeyRing.of(PreSharedKey.of(newKey(), "the tests' key"));

    private TestKeys()
    {
    }

    /** A protection of its own (handshake, counters) under the shared key, for one agent. */
    static StreamProtection protection()
    {
        return StreamProtection.withKeys(RING);
    }

    static byte[] newKey()
    {
        final byte[] key = new byte[KeyFile.KEY_BYTES];
        new SecureRandom().nextBytes(key);
        return key;
    }
}
