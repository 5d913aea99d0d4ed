#!/usr/bin/env python3
"""Plays systemd's side for one service process, without systemd: passes listening sockets as fds 3, 4, …
(LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES), receives sd_notify datagrams on a NOTIFY_SOCKET (checking the
sender's pid), and enforces WATCHDOG_USEC by sending SIGABRT when pings stop, as systemd does.
Writes one JSON object per line for each event; exits 0 unless the service never got ready.

usage: systemd-harness.py [--listen ADDR]... [--watchdog-usec N] [--seconds S] -- command args...
ADDR is host:port, [v6]:port or an absolute unix socket path."""
import argparse, json, os, signal, socket, struct, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--listen", action="append", default=[])
parser.add_argument("--watchdog-usec", type=int, default=0)
parser.add_argument("--seconds", type=float, default=8)
parser.add_argument("command", nargs="+")
args = parser.parse_args()
start = time.monotonic()

def event(**fields):
    print(json.dumps({"t": round(time.monotonic() - start, 3), **fields}), flush=True)

def listener(address):
    if address.startswith("/"):
        if os.path.exists(address):
            os.unlink(address)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(address)
    else:
        host, port = address.rsplit(":", 1)
        family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), int(port)))
    sock.listen(64)
    return sock

listeners = [listener(address) for address in args.listen]
notify_dir = tempfile.mkdtemp(prefix="kp-notify-")
notify_path = os.path.join(notify_dir, "notify")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
notify.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

child = os.fork()
if child == 0:
    environment = dict(os.environ, NOTIFY_SOCKET=notify_path)
    # Move the listeners to 3, 4, … without clobbering one another, and let them survive exec.
    duplicates = [os.dup(sock.fileno()) for sock in listeners]
    for index, fd in enumerate(duplicates):
        os.dup2(fd, 3 + index)
        os.set_inheritable(3 + index, True)
    if listeners:
        environment.update(
            LISTEN_FDS=str(len(listeners)), LISTEN_PID=str(os.getpid()),
            LISTEN_FDNAMES=":".join(f"http{index}" for index in range(len(listeners))))
    if args.watchdog_usec:
        environment.update(WATCHDOG_USEC=str(args.watchdog_usec), WATCHDOG_PID=str(os.getpid()))
    os.execvpe(args.command[0], args.command, environment)

event(event="started", pid=child)
ready = False
last_ping = None
stop_at = time.monotonic() + args.seconds
status = None
notify.settimeout(0.05)
while True:
    if status is None:
        pid, raw = os.waitpid(child, os.WNOHANG)
        if pid:
            status = raw
        now = time.monotonic()
        if args.watchdog_usec and last_ping is not None and now - last_ping > args.watchdog_usec / 1e6:
            event(event="watchdog-timeout", seconds_since_ping=round(now - last_ping, 3))
            os.kill(child, signal.SIGABRT)
            last_ping = None
        if now > stop_at:
            event(event="terminate")
            os.kill(child, signal.SIGTERM)
            stop_at = float("inf")
    try:
        data, ancillary, _, _ = notify.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        if status is not None:
            signalled = os.WIFSIGNALED(status)
            event(event="exited", code=None if signalled else os.WEXITSTATUS(status),
                  signal=os.WTERMSIG(status) if signalled else None)
            break
        continue
    sender = next((struct.unpack("iII", payload[:12])[0] for level, kind, payload in ancillary
                   if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), None)
    fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
    event(event="notify", sender=sender, fields=fields)
    if fields.get("READY") == "1":
        ready = True
        last_ping = time.monotonic()
    if fields.get("WATCHDOG") == "1" and last_ping is not None:
        last_ping = time.monotonic()
sys.exit(0 if ready else 2)
