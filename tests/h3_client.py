"""An HTTP/3 client built on aioquic's HTTP/3 layer (PyPI `aioquic`), for the tests of
tests/h3_clients.rs: the logic of aioquic's examples/http3_client.py, cut down to what the
tests need.

    python3 h3_client.py HOST PORT [--header NAME:VALUE]... [--migrate] [--pause SECONDS]
                         [--connections N] [--half-open N] [--stall SECONDS] PATH...

Fetches each PATH over one QUIC connection (all at once, each on its own request stream),
with the given request fields, and prints one JSON object a line per response, in the order
of the paths: its status, its fields, its content's length and SHA-256. `--migrate` moves
the connection to a new local UDP port after the first response (RFC 9000 §9) and fetches
the rest from there; `--pause` waits that long after the first response before the rest.
`--connections N` opens N connections one after the other, holding each open, fetches the
first PATH on each, and prints `{"connection": i, "ok": true}` or the error for each.
`--half-open N` first starts N handshakes from another socket that never answers the
server (each one Initial packet), then fetches as usual. `--stall` sends the requests, takes
responses for a moment, then stops reading and acknowledging altogether for that long, and
exits. `--amplification SECONDS` sends one Initial packet and never answers, and prints the bytes
sent and the bytes the server sent back in that time. `--show-limits` first prints the server's transport limits, `--show-cert` the SHA-256 of its
certificate. The server's certificate is not checked (the tests use a throwaway one).
Exits 1 with the reason on stderr if the connection fails.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import socket
import ssl
import sys
import time

from aioquic.asyncio.client import connect
from cryptography.hazmat.primitives.serialization import Encoding
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, QuicEvent, StreamReset


class HttpClient(QuicConnectionProtocol):
    """aioquic's example client protocol: requests by stream id, their events gathered."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http = H3Connection(self._quic)
        self.waiting = {}
        self.responses = {}
        self.terminated = False

    async def get(self, authority, path, headers):
        if self.terminated:
            return {"headers": [], "body": hashlib.sha256(), "length": 0}
        stream_id = self._quic.get_next_available_stream_id()
        fields = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", path.encode()),
            (b"user-agent", b"aioquic-test"),
        ] + [(name.encode(), value.encode()) for name, value in headers]
        self.http.send_headers(stream_id=stream_id, headers=fields, end_stream=True)
        done = self._loop.create_future()
        self.waiting[stream_id] = done
        self.responses[stream_id] = {"headers": [], "body": hashlib.sha256(), "length": 0}
        self.transmit()
        await asyncio.wait_for(done, timeout=60)
        return self.responses.pop(stream_id)

    def quic_event_received(self, event: QuicEvent):
        if isinstance(event, ConnectionTerminated):
            # The server closed the connection: how, for the test to read.
            closed = {"terminated": event.error_code, "reason": event.reason_phrase}
            print(json.dumps(closed), flush=True)
            for done in self.waiting.values():
                if not done.done():
                    done.set_result(None)
            self.waiting.clear()
            self.terminated = True
        if isinstance(event, StreamReset) and event.stream_id in self.responses:
            # The server reset the request: its error code is the answer.
            self.responses[event.stream_id]["reset"] = event.error_code
            done = self.waiting.pop(event.stream_id, None)
            if done is not None and not done.done():
                done.set_result(None)
        for http_event in self.http.handle_event(event):
            stream_id = getattr(http_event, "stream_id", None)
            response = self.responses.get(stream_id)
            if response is None:
                continue
            if isinstance(http_event, HeadersReceived):
                response["headers"] += http_event.headers
            elif isinstance(http_event, DataReceived):
                response["body"].update(http_event.data)
                response["length"] += len(http_event.data)
            if getattr(http_event, "stream_ended", False):
                done = self.waiting.pop(stream_id)
                if not done.done():
                    done.set_result(None)


def summary(path, response):
    fields = {}
    status = None
    for name, value in response["headers"]:
        name, value = name.decode(), value.decode()
        if name == ":status":
            status = int(value)
        else:
            fields[name] = value
    return {
        "path": path,
        "reset": response.get("reset"),
        "status": status,
        "headers": fields,
        "length": response["length"],
        "sha256": response["body"].hexdigest(),
    }


def configuration():
    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN)
    configuration.verify_mode = ssl.CERT_NONE
    configuration.server_name = "localhost"
    configuration.idle_timeout = 30.0
    return configuration


async def hold(args, authority, index, stack):
    """Opens connection `index`, kept open by `stack`, and fetches the first path on it."""
    try:
        client = await stack.enter_async_context(
            connect(args.host, args.port, configuration=configuration(),
                    create_protocol=HttpClient, wait_connected=True)
        )
        response = await asyncio.wait_for(client.get(authority, args.paths[0], []), 5)
        return {"connection": index, "ok": True, "status": summary("", response)["status"]}
    except Exception as e:  # refused, timed out: the test reads which
        return {"connection": index, "ok": False, "error": type(e).__name__}


async def connections(args, authority):
    async with contextlib.AsyncExitStack() as stack:
        for index in range(args.connections):
            result = await asyncio.wait_for(hold(args, authority, index, stack), 10)
            print(json.dumps(result), flush=True)


def half_open(args):
    """Starts `args.half_open` handshakes that never go on; returns their socket, to hold."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(args.half_open):
        quic = QuicConnection(configuration=configuration())
        quic.connect((args.host, args.port), now=time.time())
        for data, _ in quic.datagrams_to_send(now=time.time()):
            sock.sendto(data, (args.host, args.port))
    return sock


def amplification(args):
    """Sends one Initial and never answers; counts the bytes the server sends back."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quic = QuicConnection(configuration=configuration())
    quic.connect((args.host, args.port), now=time.time())
    sent = 0
    for data, _ in quic.datagrams_to_send(now=time.time()):
        sock.sendto(data, (args.host, args.port))
        sent += len(data)
    received = 0
    deadline = time.time() + args.amplification
    while time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            received += len(sock.recv(65536))
        except socket.timeout:
            break
    print(json.dumps({"sent": sent, "received": received}), flush=True)


async def stall(args, authority, headers):
    async with connect(
        args.host, args.port, configuration=configuration(), create_protocol=HttpClient
    ) as client:
        for path in args.paths:
            asyncio.ensure_future(client.get(authority, path, headers))
        await asyncio.sleep(0.3)
        # Stop acknowledging (nothing more is sent) and reading (what arrives is dropped),
        # the socket left open so that the server hears nothing at all.
        client.transmit = lambda: None
        client.datagram_received = lambda data, addr: None
        await asyncio.sleep(args.stall)
        print(json.dumps({"stalled": True}), flush=True)
        os._exit(0)


async def main(args):
    headers = [tuple(h.split(":", 1)) for h in args.header]
    authority = f"{args.host}:{args.port}"
    if args.connections:
        return await connections(args, authority)
    if args.stall:
        return await stall(args, authority, headers)
    if args.amplification:
        return amplification(args)
    held = half_open(args) if args.half_open else None
    async with connect(
        args.host, args.port, configuration=configuration(), create_protocol=HttpClient
    ) as client:
        paths = args.paths
        if args.pause:
            first = await client.get(authority, paths[0], headers)
            print(json.dumps(summary(paths[0], first)), flush=True)
            await asyncio.sleep(args.pause)
            paths = paths[1:]
        elif args.migrate:
            first = await client.get(authority, paths[0], headers)
            print(json.dumps(summary(paths[0], first)), flush=True)
            # A new local port, as a NAT rebinding gives (aioquic's example does the same).
            transport = client._transport
            loop = asyncio.get_running_loop()
            new_transport, _ = await loop.create_datagram_endpoint(
                lambda: client, local_addr=("::", 0)
            )
            client._transport = new_transport
            client._quic.change_connection_id()
            transport.close()
            paths = paths[1:]
        if args.show_cert:
            der = client._quic.tls._peer_certificate.public_bytes(Encoding.DER)
            print(json.dumps({"cert_sha256": hashlib.sha256(der).hexdigest()}), flush=True)
        if args.show_limits:
            limits = {"max_streams_bidi": client._quic._remote_max_streams_bidi}
            print(json.dumps(limits), flush=True)
        results = await asyncio.gather(*(client.get(authority, p, headers) for p in paths))
        for path, response in zip(paths, results):
            print(json.dumps(summary(path, response)), flush=True)
    if held:
        held.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--pause", type=float, default=0)
    parser.add_argument("--connections", type=int, default=0)
    parser.add_argument("--half-open", type=int, default=0)
    parser.add_argument("--stall", type=float, default=0)
    parser.add_argument("--show-limits", action="store_true")
    parser.add_argument("--show-cert", action="store_true")
    parser.add_argument("--amplification", type=float, default=0)
    parser.add_argument("paths", nargs="+")
    try:
        asyncio.run(main(parser.parse_args()))
    except Exception as e:  # the reason, for the test's message
        print(f"h3_client: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
