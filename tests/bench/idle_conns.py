#!/usr/bin/env python3
"""idle_conns.py: the daemon's memory with many idle keep-alive TLS connections.

Usage: idle_conns.py URL CACERT COUNT PID

Opens COUNT TLS connections to URL (https://HOST:PORT, loopback), sends one
keep-alive `GET /healthz` on each and reads the answer, so that every one is
an idle HTTP/1.1 connection with its TLS session and HTTP state in the
daemon; waits 2 s, reads VmRSS of PID, then checks that a request on a new
connection is still answered while all are held, and closes them.
Prints: opened=N failed=N rss_kb=N fresh_ms=F
"""
import socket
import ssl
import sys
import time
import urllib.parse


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def healthz(ctx, host, port):
    """A TLS connection with one keep-alive GET /healthz answered; the socket."""
    raw = socket.create_connection((host, port), timeout=30)
    s = ctx.wrap_socket(raw, server_hostname=host)
    s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed before the answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise OSError(head.split(b"\r\n")[0].decode(errors="replace"))
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            need = int(line.split(b":")[1])
            while len(body) < need:
                chunk = s.recv(4096)
                if not chunk:
                    break
                body += chunk
    return s


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    url, cacert, count, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname, u.port or 443
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("idle_conns.py: loopback only")
    ctx = ssl.create_default_context(cafile=cacert)
    ctx.check_hostname = False
    conns, failed = [], 0
    for _ in range(count):
        try:
            conns.append(healthz(ctx, host, port))
        except (OSError, ssl.SSLError) as e:
            failed += 1
            if failed == 1:
                print(f"idle_conns.py: {e}", file=sys.stderr)
    time.sleep(2)
    rss = rss_kb(pid)
    t0 = time.monotonic()
    try:
        healthz(ctx, host, port).close()
        fresh = f"{(time.monotonic() - t0) * 1000:.1f}"
    except (OSError, ssl.SSLError) as e:
        print(f"idle_conns.py: fresh connection: {e}", file=sys.stderr)
        fresh = "failed"
    for s in conns:
        s.close()
    print(f"opened={len(conns)} failed={failed} rss_kb={rss} fresh_ms={fresh}")


if __name__ == "__main__":
    main()
