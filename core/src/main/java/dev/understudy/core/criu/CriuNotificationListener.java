package dev.understudy.core.criu;

/**
 * CRIU's stage notifications ("pre-dump", "network-lock", "post-dump", "network-unlock", ...) arriving
 * in-process over the RPC socket. CRIU waits for the reply, so the process stays frozen while this runs:
 * keep it short. Returning false makes CRIU abort the operation.
 */
@FunctionalInterface
public interface CriuNotificationListener
{
    CriuNotificationListener NONE = (script) -> true;

    boolean onNotify(String script);
}
