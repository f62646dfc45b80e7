package dev.understudy.buffering;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

import com.sun.jna.Native;
import dev.understudy.core.os.DirectLibC;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * How other threads talk to the commit buffer's holder thread: a queue of commands and an eventfd that wakes
 * the holder from its poll() on the queue socket. Each command completes when the holder has carried it out.
 */
final class HolderCommands
{
    enum Op
    {
        HOLD_INPUT, RELEASE_INPUT, SEAL, RELEASE, PASS_THROUGH, HOLD_OUTPUT, FENCE
    }

    record Command(Op op, long epoch, CompletableFuture<Void> done)
    {
    }

    private final ConcurrentLinkedQueue<Command> commands = new ConcurrentLinkedQueue<>();
    private final UnsafeBuffer wakeValue = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
    /** Where the holder reads the eventfd's counter: not wakeValue, which other threads write from. */
    private final UnsafeBuffer wakeCount = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
    private final int wakeFd;

    HolderCommands()
    {
        wakeFd = DirectLibC.eventfd(0, DirectLibC.EFD_NONBLOCK | DirectLibC.EFD_CLOEXEC);
        if (wakeFd < 0)
        {
            throw new IllegalStateException("eventfd failed (errno " + Native.getLastError() + ")");
        }
    }

    /** The eventfd the holder polls beside its queue socket. */
    int wakeFd()
    {
        return wakeFd;
    }

    CompletableFuture<Void> submit(final Op op, final long epoch, final Thread holder)
    {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        if (!holder.isAlive())
        {
            done.completeExceptionally(new IllegalStateException("commit buffer is not running"));
            return done;
        }
        commands.add(new Command(op, epoch, done));
        wake();
        if (!holder.isAlive())
        {
            failPending(); // the holder ended between the check and the add: nobody else will answer
        }
        return done;
    }

    /** The next command for the holder, or null. */
    Command poll()
    {
        return commands.poll();
    }

    void wake()
    {
        wakeValue.putLong(0, 1L);
        DirectLibC.write(wakeFd, wakeValue.addressOffset(), 8); // fails only if the counter is full: awake anyway
    }

    /** The holder woke on the eventfd: resets its counter. */
    void clearWake()
    {
        DirectLibC.read(wakeFd, wakeCount.addressOffset(), 8);
    }

    /** The holder is gone: every command still queued fails. */
    void failPending()
    {
        Command command;
        while ((command = commands.poll()) != null)
        {
            command.done().completeExceptionally(new IllegalStateException("commit buffer is not running"));
        }
    }
}
