package dev.understudy.replica;

/** How durable a journal commit is before the epoch's ack goes out ({@code replica --journal-sync}). */
public enum JournalSync
{
    /** In the page cache: survives the replica process dying, not its host losing power. */
    NONE,
    /** Synced to the disk (fdatasync of the journal's file) after each commit record: survives a power loss. */
    COMMIT
}
