"""A service that writes memory at a set rate: every 10 ms it writes one byte into each of that many random pages
of a buffer, so each epoch has about rate x interval of pages to checkpoint. It answers "ok" on a TCP port
(a probe's request). Arguments: MB_PER_S BUFFER_MB PORT.
"""
import random
import socket
import sys
import threading
import time

rate_mb, buffer_mb, port = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
PAGE = 4096
buffer = bytearray(buffer_mb << 20)
pages = len(buffer) // PAGE
for p in range(pages):
    buffer[p * PAGE] = 1  # resident from the start: the writes below change pages, they do not grow the image


def serve():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(64)
    while True:
        connection, _ = listener.accept()
        connection.sendall(b"ok\n")
        connection.close()


threading.Thread(target=serve, daemon=True).start()
per_tick = max(1, int(rate_mb * (1 << 20) / PAGE / 100))
tick = 0.01
next_tick = time.monotonic()
value = 0
while True:
    value = (value + 1) & 0xff
    for _ in range(per_tick):
        buffer[random.randrange(pages) * PAGE] = value
    next_tick += tick
    delay = next_tick - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    else:
        next_tick = time.monotonic()
