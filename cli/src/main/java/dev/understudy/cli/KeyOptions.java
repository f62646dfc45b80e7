package dev.understudy.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.understudy.core.security.StreamProtection;
import picocli.CommandLine.Option;

/** How the streams to the peer are protected: protect and replica (and the runs that start them) share these. */
final class KeyOptions
{
    @Option(names = "--key-file", paramLabel = "FILE|DIR", description = "the key both hosts share, made by " +
        "'understudy keygen --out FILE' (0600): every stream to the peer is authenticated and encrypted with it " +
        "(AES-256-GCM, keys per session). For a rotation give it twice, or a directory of *.key files (read again " +
        "every 5 s; the greatest name is sent under)")
    List<Path> keyFiles = new ArrayList<>();

    @Option(names = "--insecure-no-auth", description = "run without a key: anyone who can send to this host's " +
        "ports can feed it an image or fence its primary, and checkpoints cross the network in the clear")
    boolean insecure;

    /** A fresh protection for one agent (its own handshake); one line saying what to do when there is no key. */
    StreamProtection protection() throws IOException
    {
        return StreamProtection.of(keyFiles, insecure);
    }
}
