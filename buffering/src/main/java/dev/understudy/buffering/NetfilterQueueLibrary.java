package dev.understudy.buffering;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * libnetfilter_queue (Debian's libnetfilter-queue1): opening, binding and configuring the queues. Packets and
 * verdicts go through the socket directly (NfqueueMessages), not through the library's per-packet callback.
 */
interface NetfilterQueueLibrary extends Library
{
    NetfilterQueueLibrary LIB = Native.load("netfilter_queue", NetfilterQueueLibrary.class);

    short AF_INET = 2;
    short AF_INET6 = 10;
    byte NFQNL_COPY_PACKET = 2;
    int NF_DROP = 0;
    int NF_ACCEPT = 1;

    /** Required by nfq_create_queue; never called, as nfq_handle_packet is not used. */
    interface PacketCallback extends Callback
    {
        int invoke(Pointer queueHandle, Pointer nfmsg, Pointer nfad, Pointer data);
    }

    Pointer nfq_open();

    int nfq_close(Pointer handle);

    int nfq_bind_pf(Pointer handle, short pf);

    Pointer nfq_create_queue(Pointer handle, short num, PacketCallback callback, Pointer data);

    int nfq_destroy_queue(Pointer queueHandle);

    int nfq_set_mode(Pointer queueHandle, byte mode, int range);

    int nfq_set_queue_maxlen(Pointer queueHandle, int length);

    int nfq_fd(Pointer handle);
}
