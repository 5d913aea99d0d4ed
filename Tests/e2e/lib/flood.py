"""A hostile client of the agent's API: opens IDLE connections that send nothing and HALF that send half a
request head and stop, and holds them until killed or DURATION seconds pass (a connection the server closes
is not opened again).

    flood.py PORT IDLE HALF DURATION

Prints one line a second: connections open, and how many the server has closed so far.
"""
import errno
import resource
import selectors
import socket
import sys
import time

port, idle, half, duration = (int(arg) for arg in sys.argv[1:5])
# The flooder needs descriptors of its own for all of them (the agent is the one held to 1024).
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))

selector = selectors.DefaultSelector()
HALF_HEAD = b"GET /metrics HTTP/1.1\r\nHost: flood\r\nX-Slow: "


def open_one(kind):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        sock.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    except OSError as error:
        sock.close()
        if error.errno in (errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL):
            return False
        raise
    selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, {"kind": kind, "sent": False})
    return True


closed = 0
deadline = time.monotonic() + duration
next_report = time.monotonic()
remaining = {"idle": idle, "half": half}
while time.monotonic() < deadline:
    for kind in ("idle", "half"):
        for _ in range(min(50, remaining[kind])):
            if not open_one(kind):
                break
            remaining[kind] -= 1
    for key, events in selector.select(timeout=0.05):
        sock, data = key.fileobj, key.data
        if events & selectors.EVENT_WRITE and not data["sent"]:
            data["sent"] = True
            try:
                if data["kind"] == "half":
                    sock.send(HALF_HEAD)
            except OSError:
                pass
            selector.modify(sock, selectors.EVENT_READ, data)
            continue
        if events & selectors.EVENT_READ:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                selector.unregister(sock)
                sock.close()
                closed += 1
    if time.monotonic() >= next_report:
        opened = idle + half - remaining["idle"] - remaining["half"]
        print(f"opened={opened} open={len(selector.get_map())} closed_by_server={closed}", flush=True)
        next_report += 1
