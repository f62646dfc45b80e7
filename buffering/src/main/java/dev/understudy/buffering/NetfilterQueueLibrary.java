package dev.understudy.buffering;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/** libnetfilter_queue (Debian's libnetfilter-queue1), the calls the commit buffer uses. */
interface NetfilterQueueLibrary extends Library
{
    NetfilterQueueLibrary LIB = Native.load("netfilter_queue", NetfilterQueueLibrary.class);

    short AF_INET = 2;
    short AF_INET6 = 10;
    byte NFQNL_COPY_PACKET = 2;
    int NF_DROP = 0;
    int NF_ACCEPT = 1;

    /** Called by nfq_handle_packet for each queued packet. */
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

    int nfq_handle_packet(Pointer handle, Pointer buffer, int length);

    Pointer nfq_get_msg_packet_hdr(Pointer nfad);

    int nfq_get_payload(Pointer nfad, PointerByReference data);

    int nfq_set_verdict(Pointer queueHandle, int id, int verdict, int length, Pointer buffer);

    /** Gives the verdict to every queued packet whose id is at most id. */
    int nfq_set_verdict_batch(Pointer queueHandle, int id, int verdict);
}
