package dev.understudy.cli;

import java.nio.file.Path;

import dev.understudy.core.Configuration;
import picocli.CommandLine.Option;

/** Where a host keeps its copy of the service's state directories: protect and replica share them. */
final class StateStoreOptions
{
    @Option(names = "--state-store", description = "where this host keeps its copy of the service's state " +
        "directories (--state-dir): a btrfs loop image and its mount (default /var/lib/understudy/NAME/state)")
    Path stateStore;

    @Option(names = "--state-store-mb", defaultValue = "" + Configuration.STATE_STORE_MB, description = "size of " +
        "the state store's loop image when it is made, allocated whole (default ${DEFAULT-VALUE})")
    int stateStoreMb;
}
