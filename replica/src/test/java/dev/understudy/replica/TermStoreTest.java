package dev.understudy.replica;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TermStoreTest
{
    @TempDir
    Path dir;

    @Test
    void termsOnlyGrowAndSurviveARestart() throws Exception
    {
        final ReplicaState state = new ReplicaState();
        final TermStore store = new TermStore(dir, state);
        assertEquals(0, state.term);
        store.adopt(4); // a primary ships under term 4
        store.adopt(2); // an older one does not lower it
        assertEquals(4, state.term);
        assertEquals(5, store.next(), "a takeover takes a term above anything seen");
        assertEquals(5, TermStore.read(dir), "durable");
        assertEquals(5, new TermStore(dir, new ReplicaState()).next() - 1, "a restarted node starts from it");
        assertEquals("6", Files.readString(dir.resolve("term")).trim());
    }
}
