package dev.understudy.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.understudy.core.criu.CriuBinaryAccess;
import dev.understudy.core.criu.CriuException;
import dev.understudy.core.criu.DumpOptions;
import dev.understudy.core.memory.DirtyTracking;
import dev.understudy.core.net.Endpoints;
import dev.understudy.core.net.Ipv4Cidr;
import dev.understudy.core.net.ServiceNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InputValidationTest
{
    @Test
    void serviceAddressesParseAndDeriveTheirMacAndGateway()
    {
        final Ipv4Cidr cidr = Ipv4Cidr.parse("10.77.3.10/24");
        assertEquals("10.77.3.10", cidr.ip());
        assertEquals("10.77.3.1/24", cidr.firstHost().toString());
        assertEquals("02:75:73:4d:03:0a", cidr.derivedMac());
        for (final String bad : List.of("10.77.3.10", "10.77.3/24", "10.77.3.300/24", "10.77.3.10/31", "x/24"))
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Ipv4Cidr.parse(bad));
            assertTrue(ex.getMessage().contains(bad) || ex.getMessage().contains("IPv4"), ex.getMessage());
        }
    }

    @Test
    void namesAndEndpointsAreChecked()
    {
        assertThrows(IllegalArgumentException.class, () -> ServiceNetwork.Spec.of("Bad_Name", "usbr0", "10.1.1.2/24"));
        assertThrows(IllegalArgumentException.class, () -> ServiceNetwork.Spec.of("waytoolongname", "usbr0", "10.1.1.2/24"));
        assertThrows(IllegalArgumentException.class, () -> ServiceNetwork.Spec.of("ok", "usbr0", "10.1.1.1/24"),
            "the service may not take the bridge's address");
        assertThrows(IllegalArgumentException.class, () -> Endpoints.parse("localhost", "--replica"));
        assertThrows(IllegalArgumentException.class, () -> Endpoints.parse("localhost:70000", "--replica"));
        assertEquals(40123, Endpoints.parse("127.0.0.1:40123", "--replica").getPort());
    }

    @Test
    void nftablesNetworkLockIsRefused()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new DumpOptions(Path.of("/tmp"), 1, true, true, "nftables", DirtyTracking.CONTENT, null));
        assertTrue(ex.getMessage().contains("nftables"));
    }

    @Test
    void missingOrOldCriuNamesTheInstaller(@TempDir final Path dir) throws Exception
    {
        final CriuException missing = assertThrows(CriuException.class,
            () -> CriuBinaryAccess.locate(List.of(dir.resolve("nope"))));
        assertTrue(missing.getMessage().contains("scripts/install.sh"), missing.getMessage());

        final Path old = dir.resolve("criu");
        Files.writeString(old, "#!/bin/sh\necho 'Version: 3.17.1'\n");
        old.toFile().setExecutable(true);
        final CriuException tooOld = assertThrows(CriuException.class, () -> CriuBinaryAccess.locate(List.of(old)));
        assertTrue(tooOld.getMessage().contains("3.17.1") && tooOld.getMessage().contains("scripts/install.sh"),
            tooOld.getMessage());

        final Path fine = dir.resolve("criu42");
        Files.writeString(fine, "#!/bin/sh\necho 'Version: 4.2.1'\n");
        fine.toFile().setExecutable(true);
        assertEquals("4.2.1", CriuBinaryAccess.locate(List.of(old, fine)).version());
    }
}
