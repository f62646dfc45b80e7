package dev.understudy.core.criu;

import java.nio.file.Path;
import java.util.List;

/** Test access to the package-private candidate search. */
public final class CriuBinaryAccess
{
    private CriuBinaryAccess()
    {
    }

    public static CriuBinary locate(final List<Path> candidates)
    {
        return CriuBinary.locate(candidates);
    }
}
