#!/usr/bin/env python3
"""An HTTP/3 load client on aioquic's HTTP/3 layer (PyPI `aioquic`), for the h3 rows of
bench/run.py, which run it against nomserve and Caddy alike: Debian's h2load (nghttp2 1.52)
is built without HTTP/3 (`h2load --help` has no --h3).

    python3 h3load.py HOST PORT PATH --cafile CERT --length BYTES
                      [--processes P] [--connections N] [--streams M] [--duration S]
    python3 h3load.py HOST PORT PATH --cafile CERT --check FILE

Load: P processes (P ≥ 1; this one starts them and waits), each opening N QUIC connections
(HTTP/3 by ALPN, the server's certificate verified against CERT for the name localhost) and
keeping M requests in flight on each, a new GET of PATH sent as soon as one ends, for S
seconds after its connections are up; the requests still in flight then are dropped (as
h2load -D does) and the connections closed. Every response must be a 200 with BYTES of body,
or it counts as failed. Prints one JSON object: the requests completed, the failed ones,
requests/s (each process's requests over its own S seconds, summed), the latency percentiles
p50 and p99 in µs (of all completed requests, from the request sent to the response's end),
and the bytes of response body read.

Check: one GET of PATH on one connection; exits 1 unless it is a 200 whose body is FILE's
bytes; prints the ALPN protocol and the TLS cipher suite chosen, as JSON.

The client, not the server, limits the absolute numbers: aioquic is pure Python (QUIC
packet protection aside), and one process spends far more CPU per request than either server
does, so on a 2-core machine the requests/s are mostly what the client can send. Run against
both servers the same way in one run, the ratio of their requests/s and above all of their
CPU per request (measured on the server's processes, not the client's) still compare the
servers; bench/run.py reports only those ratios as goals.
"""

import argparse
import asyncio
import contextlib
import json
import ssl
import subprocess
import sys
import time

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, QuicEvent, StreamReset


class Client(QuicConnectionProtocol):
    """One HTTP/3 connection: requests by stream id, each answered through a future once its
    response has ended (or was reset, or the connection closed) with (status, body bytes)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic)
        self.pending = {}  # stream id -> [future, status, body length, body chunks or None]

    def get(self, headers, keep_body=False):
        """Sends a GET with `headers` (the pseudo-fields and user-agent); returns the future
        of its (status, length, body: bytes if `keep_body`, else None)."""
        stream_id = self._quic.get_next_available_stream_id()
        self.http.send_headers(stream_id=stream_id, headers=headers, end_stream=True)
        done = self._loop.create_future()
        self.pending[stream_id] = [done, None, 0, [] if keep_body else None]
        self.transmit()
        return done

    def finish(self, stream_id):
        entry = self.pending.pop(stream_id, None)
        if entry and not entry[0].done():
            body = b"".join(entry[3]) if entry[3] is not None else None
            entry[0].set_result((entry[1], entry[2], body))

    def quic_event_received(self, event: QuicEvent):
        if isinstance(event, ConnectionTerminated):
            for stream_id in list(self.pending):
                self.finish(stream_id)
        elif isinstance(event, StreamReset):
            self.finish(event.stream_id)
        for http_event in self.http.handle_event(event):
            entry = self.pending.get(getattr(http_event, "stream_id", None))
            if entry is None:
                continue
            if isinstance(http_event, HeadersReceived):
                for name, value in http_event.headers:
                    if name == b":status":
                        entry[1] = int(value)
            elif isinstance(http_event, DataReceived):
                entry[2] += len(http_event.data)
                if entry[3] is not None:
                    entry[3].append(http_event.data)
            if http_event.stream_ended:
                self.finish(http_event.stream_id)


def configuration(cafile):
    """HTTP/3 by ALPN, the certificate verified against `cafile` for the name localhost (the
    bench's certificate names it), flow-control windows large enough for a 1 MiB response
    per stream (aioquic's default connection window is 1 MiB)."""
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    config.verify_mode = ssl.CERT_REQUIRED
    config.load_verify_locations(cafile=cafile)
    config.server_name = "localhost"
    config.idle_timeout = 30.0
    config.max_data = 64 * 1024 * 1024
    config.max_stream_data = 2 * 1024 * 1024
    return config


def request_headers(args):
    return [(b":method", b"GET"), (b":scheme", b"https"),
            (b":authority", f"localhost:{args.port}".encode()),
            (b":path", args.path.encode()), (b"user-agent", b"h3load")]


async def check(args):
    try:
        await asyncio.wait_for(check_once(args), 15)
    except (ConnectionError, asyncio.TimeoutError):
        raise RuntimeError(f"no HTTP/3 answer from {args.host}:{args.port} within 15 s (is "
                           f"HTTP/3 on, and UDP open there?)") from None


async def check_once(args):
    async with connect(args.host, args.port, configuration=configuration(args.cafile),
                       create_protocol=Client) as client:
        status, _, body = await asyncio.wait_for(client.get(request_headers(args), True), 10)
        want = open(args.check, "rb").read()
        if status != 200 or body != want:
            raise RuntimeError(f"GET {args.path} answered {status} with {len(body or b'')} "
                               f"bytes of body, not the file's {len(want)}")
        tls = client._quic.tls
        print(json.dumps({"alpn": tls.alpn_negotiated,
                          "cipher": tls.key_schedule.cipher_suite.name}), flush=True)


async def load(args):
    """One process's load: its connections, M requests in flight on each, for S seconds."""
    headers = request_headers(args)
    connections = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(args.connections):
            connections.append(await stack.enter_async_context(
                connect(args.host, args.port, configuration=configuration(args.cafile),
                        create_protocol=Client)))
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + args.duration
        latencies, totals = [], {"failed": 0, "bytes": 0}

        async def stream(client):
            while True:
                sent = loop.time()
                status, length, _ = await client.get(headers)
                now = loop.time()
                if now > deadline:
                    return
                if status != 200 or length != args.length:
                    # Reset, closed or a wrong answer: counted, and this stream stops (the
                    # run fails anyway).
                    totals["failed"] += 1
                    return
                latencies.append(now - sent)
                totals["bytes"] += length

        tasks = [asyncio.ensure_future(stream(c)) for c in connections
                 for _ in range(args.streams)]
        await asyncio.sleep(args.duration)
        # Lets the responses due now end, then drops the rest.
        await asyncio.wait(tasks, timeout=0.2)
        for task in tasks:
            if task.done() and task.exception() is not None:
                totals["failed"] += 1
            task.cancel()
        for client in connections:
            client.close()
    latencies.sort()
    return {"requests": len(latencies), "failed": totals["failed"], "bytes": totals["bytes"],
            "rps": len(latencies) / args.duration,
            "latencies_us": [round(x * 1e6) for x in latencies]}


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("path")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--check")
    ap.add_argument("--length", type=int)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.check:
        asyncio.run(check(args))
        return
    if args.worker:
        print(json.dumps(asyncio.run(load(args))), flush=True)
        return
    # The processes start together; each reports its own figures, summed here.
    argv = [args.host, str(args.port), args.path, "--cafile", args.cafile,
            "--length", str(args.length), "--connections", str(args.connections),
            "--streams", str(args.streams), "--duration", str(args.duration), "--worker"]
    workers = [subprocess.Popen([sys.executable, __file__, *argv],
                                stdout=subprocess.PIPE, text=True)
               for _ in range(args.processes)]
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=args.duration + 120)
        if worker.returncode != 0:
            raise RuntimeError(f"a load process exited with status {worker.returncode}")
        results.append(json.loads(out))
    latencies = sorted(x for r in results for x in r["latencies_us"])
    print(json.dumps({"requests": sum(r["requests"] for r in results),
                      "failed": sum(r["failed"] for r in results),
                      "rps": sum(r["rps"] for r in results),
                      "bytes": sum(r["bytes"] for r in results),
                      "p50_us": percentile(latencies, 0.5),
                      "p99_us": percentile(latencies, 0.99)}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the reason, for bench/run.py's message
        print(f"h3load: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
