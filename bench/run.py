#!/usr/bin/env python3
"""Side-by-side load benchmark: nomserve against nginx, h2o, Caddy, python's http.server, the limit.

One command (`python3 bench/run.py`) builds the release binary, starts the servers on the same
document root, drives each with wrk in alternating rounds, and prints a table of requests/s,
p50 and p99 latency, socket errors and the ratio to nginx, and what each request cost: the
server's CPU time per request, alone and as a ratio to the limit's and to nginx's, and its peak
resident memory. Then it runs the grammar's benches against httparse (criterion, and an
interleaved one). It writes the tables to bench/RESULTS.md and bar charts of the ratios to
bench/ratios.svg, which the README shows.

The servers: nomserve; nginx and h2o (Debian's packages, installed if missing), both with 2
workers, the two anchors; python3 -m http.server on one row, for scale; and the limit,
bench/limit.c, compiled at start: an epoll loop that answers every request with a fixed
response, no parsing, no files. The limit is the cost floor, not a server: CPU per request ÷
the limit's is what a server spends on top of the syscalls no server can avoid.

CPU per request = the user+system CPU time of the server's processes (all their threads) over
the wrk run, from /proc/PID/stat, divided by the requests wrk counted. The small-file rows run
with wrk -t1 (wrk on one core, the server on the other: the server is saturated, as a busy
server is, and its CPU per request is what it costs at full load) and with wrk -t2 (wrk and
the server compete for both cores).

The HTTPS rows measure the same responses over TLS, the cost TLS adds, against nginx and h2o
on OpenSSL: https-small-50 (the small file, 50 connections, wrk -t2 as on the plain rows that
do not say -t1), https-1m-10 (the 1 MiB file, 10 connections: the bulk encryption), and
https-idle-1000 (resident memory with 1,000 idle connections, each past a TLS handshake and
one request, as on idle-1000: what a server keeps per TLS connection). At start the script
makes one self-signed ECDSA P-256 certificate with the openssl command, used by every server,
all of them allowing TLS 1.2 and 1.3; wrk and the checks offer OpenSSL's client defaults, so
each server chooses from the same offer (the table's header says what each chose). The limit
and python's http.server have no TLS and sit those rows out.

A new connection per request, what health checks, HTTP/1.0 clients, scripts and a browser's
first connections cost: close-50 is the small file with `Connection: close`, 50 connections,
wrk -t1, so every request pays a connect, an accept and a close (the limit never closes and
sits it out). tls-new-full and tls-new-resumed open new TLS 1.3 connections, one small request
each, as fast as bench/tlsnew.c's TLS_NEW_THREADS client threads can (a C client on OpenSSL,
compiled at start: wrk reuses connections, and `openssl s_time -reuse` does not resume TLS 1.3
sessions); full handshakes every time, or every one resuming the session (ticket) the thread's
previous connection received. Requests/s there are connections/s, and CPU per request the
server's CPU per connection. The client's side of a handshake costs about what the server's
does, and the two share the 2 cores, so connections/s is bounded by the client as much as by
the server: CPU per connection is the figure that compares the servers. The run stops if a
resumed row's handshakes did not resume (tlsnew.c counts SSL_session_reused), or if a full
row's did. The certificate is the HTTPS rows' (below); nginx and h2o resume with their
defaults (TLS 1.3 tickets; h2o sends new ones only after a full handshake, so the client offers
its last ticket again: see tlsnew.c).

syscalls-close, run only when asked for (`--only syscalls-close`: strace slows the server it
traces, so it never shares a run's timing with the other rows), counts the system calls each
server makes per new connection: after 200 Connection: close requests of warm-up, `strace -f
-c` attaches to all the server's processes and threads while SYSCALL_CONNECTIONS more are made
(SYSCALL_CLIENTS client threads), and the table gives each call's count per connection and
their total, start-up and warm-up excluded.

The compression rows measure what serving a page compressed costs: a 100 KiB HTML page,
generated at start from a fixed seed (an article with links, tables and lists, whose text
compresses as real pages' does), asked for by wrk at 20 connections with one coding in
Accept-Encoding. gzip-100k-20 runs nomserve against nginx with `gzip on;` (its defaults: level
1, every response compressed as it is sent) and h2o with `compress: ON` (gzip at quality 1, the
same way); br-100k-20 runs nomserve and h2o (brotli at quality 1), zstd-100k-20 nomserve alone:
Debian's nginx has neither coding, h2o 2.2 no zstd. nomserve compresses each file version once,
at a fast level for the first requests, then in the background at its best levels, and
serves the result from memory; before wrk starts, the check asks until the best version
shows (its ETag no longer ends in `-fast`), so the run measures that steady state, not the
first requests' answers. Every server must answer in the coding, with a body that
decodes to the page (br and zstd decoded with the brotli and zstd commands, installed if
missing), or the run stops. Besides requests/s, latency and CPU per request, those rows report
the bytes each response carried: the body's length (nginx and h2o send it chunked: measured
with the chunked framing removed, the coding kept) and all that wrk read per request.

The HTTP/2 rows run h2load (Debian's nghttp2-client, installed if missing) instead of wrk for
the run's duration (-D), with one client thread (-t1, leaving the server a core, as on the -t1
rows) except on h2-1m (-t2, as on the 1 MiB rows: with one thread h2load waits on its own reads,
at half the throughput with a third of a core busy) and on h2-small-t2 (the small file again with
h2load -t2, as on small-50-t2: on h2-small one h2load thread is the bottleneck, busy all the
time while the server is not, so that row's requests/s is what the client can decode of each
server's responses; with two threads client and server share both cores and each server's own
cost counts too), each row over TLS (key `-tls`: h2 chosen by ALPN, on the HTTPS rows'
certificate) and over h2c (`-h2c`: cleartext with prior knowledge, the
connection opening with the preface), against nomserve, nginx and h2o: h2-small (the small file,
10 connections × 100 concurrent streams), h2-page (a page of 60 assets: an index linking 20
style sheets, 20 scripts and 20 images of 0.5 to 12 KiB, sizes drawn from a fixed seed; 6
connections, each asking for the index and the 60 assets in turn with 61 streams in flight, as
six browsers loading the page at once would), and h2-1m (the 1 MiB file, 10 connections × 1
stream, the load of https-1m-10). nginx listens with `listen ... ssl http2;` (Debian's nginx
1.22 spelling) on TLS; its h2c listener (`listen ... http2;` without ssl) speaks nothing but
h2c, so it is a second port beside the HTTP/1.1 one. h2o and nomserve need nothing: both offer
h2 by ALPN and take h2c on a plain port. Before h2load, curl fetches every path the row asks for
over HTTP/2 (`--http2` over TLS, `--http2-prior-knowledge` on h2c) and each must be a 200 in
HTTP/2 with the file's bytes; after it, the run stops unless h2load's protocol was h2 (h2c) and
every request it finished succeeded with a 2xx: none failed, errored or timed out, no other
status. Requests/s are h2load's, CPU per request as on the wrk rows (measure()), no latency
percentiles (h2load gives none). h2-idle-500-tls and h2-idle-500-h2c measure resident memory
with 500 idle HTTP/2 connections per server, as idle-1000 does for HTTP/1.1: each opened by
Python (over TLS with ALPN offering only h2, which must be chosen), sending the preface, an
empty SETTINGS and a GET of the index page, acknowledging the server's SETTINGS and reading
until its own are acknowledged and the response has ended. The closing table gives the HTTP/2
goals as ratios of nomserve's figures to the peers' in the same run: requests/s ≥ 1.2× nginx's
and ≥ 1.0× h2o's, CPU per request ≤ h2o's, memory per idle HTTP/2 connection ≤ nginx's.

The HTTP/3 rows run nomserve (`--http3 on`) against Caddy (Debian's caddy, installed if
missing; it serves HTTP/3 with quic-go), the only peer here that speaks HTTP/3: Debian's nginx
1.22 and h2o 2.2 do not. Both listen on the HTTPS rows' certificate, with TCP and UDP on the
same port (caddy_conf says how Caddy is configured alike). The client is bench/h3load.py, on
aioquic's HTTP/3 layer (pip install aioquic), since Debian's h2load is built without HTTP/3:
H3_PROCESSES processes, each with its connections and concurrent streams, a new request sent
as each ends, for the run's duration; every response must be a 200 with the file's length,
and before the run one must be the file's bytes, over HTTP/3 by ALPN, or the run stops.
h3-small asks for the small file on 8 connections × 10 streams, h3-1m for the 1 MiB file on
4 connections × 1 stream. The client is pure Python, and it limits the absolute numbers far
below what either server can do (about 1,000 small requests/s a process here): the
requests/s of one run are mostly the client's, so what the rows report are the ratios of
nomserve to Caddy in one run, requests/s and above all CPU per request (the server's
processes' CPU over the run, as on the other rows, with the client's handshakes at the start
counted in). The closing table gives the HTTP/3 goals: requests/s ≥ 1.0× Caddy's, CPU per
request ≤ 1.0× Caddy's.

Everything runs on loopback on free ports picked at start; every wrk run is bounded in time;
every process the script starts is stopped, and its scratch directory removed, however the run
ends (an error, Ctrl+C, SIGTERM). Standard library only.

A full run (`python3 bench/run.py`: 2 rounds of 5 s per server and row, 82 runs a round)
takes about 13 minutes for the servers on a 2-core machine, plus the build and the grammar
benches (skip those with --no-grammar).
`--only small-50-t1,small-10000` runs some rows, and
`--only https-small-50,https-1m-10,https-idle-1000` the HTTPS ones,
`--only close-50,tls-new-full,tls-new-resumed,syscalls-close` the new-connection ones,
`--only gzip-100k-20,br-100k-20,zstd-100k-20` the compression ones,
`--only h2-small-tls,h2-small-h2c,h2-small-t2-tls,h2-small-t2-h2c,h2-page-tls,h2-page-h2c,
h2-1m-tls,h2-1m-h2c,h2-idle-500-tls,h2-idle-500-h2c` the HTTP/2 ones (one argument, without
the line break), `--only h3-small,h3-1m` the HTTP/3 ones; `--servers nomserve,nginx` some
servers (Caddy runs on the HTTP/3 rows only).
A run writes bench/RESULTS.md and bench/ratios.svg with the rows it ran and no
others: add --no-write to a run of a few rows unless they are to replace the full tables.
"""

import argparse
import collections
import gzip
import http.client
import importlib.metadata
import itertools
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"

# The servers are configured alike where they have the same knob: an idle keep-alive
# connection is kept 65 s and up to 4,096 connections are admitted (nginx's keepalive_timeout
# and worker_connections, h2o's http1-request-timeout and max-connections below).
KEEP_ALIVE = "65s"
MAX_CONNECTIONS = 4096

# The rows with more connections than MAX_CONNECTIONS (the 10,000-connection one) run every
# server with room for BIG_CONNECTIONS: nomserve --max-connections (and per IP: wrk is one
# address), h2o max-connections, nginx worker_rlimit_nofile; nginx's worker_connections see
# nginx_conf.
BIG_CONNECTIONS = 20000

# Descriptors the script and what it starts may open, within the hard limit (20,000 on the
# bench machine): the 10,000-connection row needs 10,000 in wrk and as many in the server.
NOFILE = 20000

# Scenarios where nginx runs with tcp_nopush off. With it on (TCP_CORK around sendfile, the
# usual advice), nginx holds pipelined responses in the corked socket: measured here, 1,478
# requests/s at 4 connections with a 24 ms median, and 18,000 at 50 against 47,000 with it
# off. The pipelined row compares against nginx at its best for that load.
NGINX_NOPUSH_OFF = {"pipeline-50"}

# The small file: 18 bytes, the body the limit sends, so the small-file rows compare the cost
# of the same response. PAGE, the site's index page (218 bytes), is what the HTTP/1.0,
# pipelined, access-log and idle-connection rows ask for (bench/http10.lua, pipeline.lua).
SMALL = "/small.txt"
SMALL_BODY = b"nomserve bench 18\n"
PAGE = "/index.html"
LARGE = "/1mib.bin"

# The compression rows' page: 100 KiB of generated HTML (article_page), the same bytes every
# run, asked for with one coding in Accept-Encoding. COMPRESSED maps each such row to that
# coding.
ARTICLE = "/article.html"
ARTICLE_SIZE = 100 * 1024
ARTICLE_SEED = 20261202
COMPRESSED = {"gzip-100k-20": "gzip", "br-100k-20": "br", "zstd-100k-20": "zstd"}

# Words English prose uses most, the commonest first: the generated page's text draws on them
# before its made-up words, as real text does.
COMMON_WORDS = ("the of and to in a is that for it as was with be by on not he this are or "
                "his from at which but have an had they you were their one all we can her has "
                "there been if more when will would who so no").split()

SERVERS = ["nomserve", "nginx", "h2o", "caddy", "python", "limit"]

# The idle-connection rows: this many keep-alive connections opened and left idle.
IDLE_CONNECTIONS = 1000

# The HTTP/2 rows, driven by h2load (Debian's nghttp2-client) instead of wrk, and how each
# reaches the server: "tls", h2 chosen by ALPN on the HTTPS listener, or "h2c", HTTP/2 over
# cleartext with prior knowledge (the connection opens with the preface, no Upgrade). nginx
# speaks h2c only on a listener of its own (`listen ... http2` without ssl answers nothing
# else), so on the h2c rows it gets a second port beside its HTTP/1.1 one (Servers.h2_port).
H2 = {"h2-small-tls": "tls", "h2-small-h2c": "h2c", "h2-small-t2-tls": "tls",
      "h2-small-t2-h2c": "h2c", "h2-page-tls": "tls", "h2-page-h2c": "h2c",
      "h2-1m-tls": "tls", "h2-1m-h2c": "h2c"}

# The 60-asset page of the h2-page rows: an index page under /page/ that links 60 assets
# (20 style sheets, 20 scripts, 20 images) of PAGE_ASSET_SIZES bytes each, drawn from
# PAGE_SEED so every run serves the same sizes. PAGE_URIS is the index and the assets, the
# order h2load asks for them on each connection.
PAGE_SEED = 20261207
PAGE_INDEX = "/page/index.html"
PAGE_ASSETS = [f"/page/asset-{i:02}.{ext}" for i, ext in
               enumerate(["css", "js", "png"] * 20)]
PAGE_URIS = [PAGE_INDEX] + PAGE_ASSETS
PAGE_ASSET_SIZES = (512, 12 * 1024)

# The idle HTTP/2 rows: this many connections opened, each past the preface, the SETTINGS
# exchange and one request, and left idle; over TLS (ALPN h2) or h2c. Fewer than the HTTP/1.1
# idle rows: each TLS connection here is made by Python, one after the other.
H2_IDLE = {"h2-idle-500-tls": "tls", "h2-idle-500-h2c": "h2c"}
H2_IDLE_CONNECTIONS = 500

# The HTTP/3 rows, driven by bench/h3load.py (aioquic) against nomserve and Caddy: each row's
# client processes, connections (over all processes) and concurrent streams a connection.
# Two processes: one Python process sends about 1,000 small requests/s here, and a second
# one nearly doubles that while the server still has a core's share; more would take the
# server's.
H3 = {"h3-small": (2, 8, 10), "h3-1m": (2, 4, 1)}
H3_LOAD = BENCH / "h3load.py"

# The HTTPS rows: the servers listen with TLS on the certificate made at start (make_cert),
# and wrk and the checks connect over https://. Only the servers with TLS run them: nomserve,
# nginx and h2o; neither python's http.server here nor the limit has it.
HTTPS = {"https-small-50", "https-1m-10", "https-idle-1000", "tls-new-full", "tls-new-resumed",
         *(k for k, mode in H2.items() if mode == "tls"),
         *(k for k, mode in H2_IDLE.items() if mode == "tls"), *H3}

# The new-TLS-connection rows, run with bench/tlsnew.c instead of wrk, and the handshake each
# makes: every one full, or every one but each client thread's first resuming the session the
# thread's previous connection ended with.
TLS_NEW = {"tls-new-full": "full", "tls-new-resumed": "resumed"}

# tlsnew.c's client threads: enough that the server's two workers always have a handshake to
# do while the client works on others, few enough to leave the server its share of the two
# cores (the client's side of a full handshake costs about what the server's does).
TLS_NEW_THREADS = 4

# The system-call count (--only syscalls-close): this many Connection: close requests, each on
# a new connection, made by SYSCALL_CLIENTS threads after a warm-up of SYSCALL_WARMUP.
SYSCALL_CONNECTIONS = 2000
SYSCALL_CLIENTS = 8
SYSCALL_WARMUP = 200


def scenarios():
    """The rows of the table: (key, title, path, connections, wrk threads, wrk extra args,
    servers). The limit answers any request with the small file's length of body, so it runs
    where that is the answer, and on the pipelined row, where its body is 200 bytes shorter
    than the index page the others send (a rough floor there, cheap to have); not on the
    HTTP/1.0 row (it never closes a connection) nor /echo nor the 1 MiB file, nor over HTTPS,
    nor on the compression rows, nor on close-50 (it never closes). The HTTPS rows (keys in
    HTTPS) are the small-file and 1 MiB rows again over TLS, and the new-TLS-connection rows
    (keys in TLS_NEW), whose client is bench/tlsnew.c, not wrk: their connections and wrk
    threads are its client threads, and their requests/s are connections/s. The compression
    rows (keys in COMPRESSED) ask for the 100 KiB page with one coding, and run the servers
    that have it. close-50 is "a new connection per request": wrk -t1 with `Connection:
    close`, so every request pays a connect, an accept and a close, as health checks, HTTP/1.0
    clients and scripts do; -t1 leaves the server a core of its own, as on small-50-t1. The
    HTTP/2 rows (keys in H2) run h2load, not wrk: their threads are h2load's, their extra
    arguments its -m (concurrent streams a connection) and, on h2-page, the paths it asks for
    after `path` on each connection. The HTTP/3 rows (keys in H3) run bench/h3load.py against
    nomserve and Caddy: their threads are its processes (H3 gives its streams)."""
    pair = ["nomserve", "nginx"]
    anchors = pair + ["h2o"]
    every = anchors + ["limit"]
    return [
        ("small-50-t1", "small file, 50 conns, wrk -t1", SMALL, 50, 1, [], every),
        ("small-50-t2", "small file, 50 conns, wrk -t2", SMALL, 50, 2, [],
         every + ["python"]),
        ("small-1000-t1", "small file, 1000 conns, wrk -t1", SMALL, 1000, 1, [], every),
        ("small-1000-t2", "small file, 1000 conns, wrk -t2", SMALL, 1000, 2, [], every),
        ("large-10", "1 MiB file, 10 conns", LARGE, 10, 2, [], anchors),
        ("echo-50", "/echo, 50 conns", "/echo?name=test", 50, 2, [], pair),
        ("close-50", "new connection per request (Connection: close), small file, 50 conns, "
         "wrk -t1", SMALL, 50, 1, ["-H", "Connection: close"], anchors),
        ("http10-50", "HTTP/1.0, no keep-alive, 50 conns", PAGE, 50, 2,
         ["-s", str(BENCH / "http10.lua")], anchors),
        ("pipeline-50", "pipelined depth 16, 50 conns", PAGE, 50, 2,
         ["-s", str(BENCH / "pipeline.lua")], every),
        ("small-10000", "small file, 10000 conns, wrk -t2", SMALL, 10000, 2, [], every),
        ("https-small-50", "HTTPS, small file, 50 conns, wrk -t2", SMALL, 50, 2, [], anchors),
        ("https-1m-10", "HTTPS, 1 MiB file, 10 conns", LARGE, 10, 2, [], anchors),
        ("tls-new-full", f"new TLS 1.3 connection per request, full handshakes, "
         f"{TLS_NEW_THREADS} client threads", SMALL, TLS_NEW_THREADS, TLS_NEW_THREADS, [],
         anchors),
        ("tls-new-resumed", f"new TLS 1.3 connection per request, resumed handshakes, "
         f"{TLS_NEW_THREADS} client threads", SMALL, TLS_NEW_THREADS, TLS_NEW_THREADS, [],
         anchors),
        ("gzip-100k-20", "100 KiB page, gzip, 20 conns", ARTICLE, 20, 2,
         ["-H", "Accept-Encoding: gzip"], anchors),
        ("br-100k-20", "100 KiB page, br, 20 conns", ARTICLE, 20, 2,
         ["-H", "Accept-Encoding: br"], ["nomserve", "h2o"]),
        ("zstd-100k-20", "100 KiB page, zstd, 20 conns", ARTICLE, 20, 2,
         ["-H", "Accept-Encoding: zstd"], ["nomserve"]),
        *[(f"h2-{row}-{mode}", f"HTTP/2 {over}, {what}, h2load -t{threads}", path, conns,
           threads, ["-m", str(streams), *more], anchors)
          for row, what, path, conns, threads, streams, more in [
              ("small", "small file, 10 conns × 100 streams", SMALL, 10, 1, 100, []),
              ("small-t2", "small file, 10 conns × 100 streams", SMALL, 10, 2, 100, []),
              ("page", "60-asset page, 6 conns × 61 streams", PAGE_INDEX, 6, 1, 61,
               PAGE_ASSETS),
              ("1m", "1 MiB file, 10 conns × 1 stream", LARGE, 10, 2, 1, [])]
          for mode, over in [("tls", "over TLS"), ("h2c", "h2c (prior knowledge)")]],
        *[(key, f"HTTP/3, {what}, {conns} conns × {streams} stream{'s' * (streams > 1)}, "
                f"h3load {procs} processes", path, conns, procs, [], ["nomserve", "caddy"])
          for key, what, path in [("h3-small", "small file", SMALL),
                                  ("h3-1m", "1 MiB file", LARGE)]
          for procs, conns, streams in [H3[key]]],
    ]


def need(cmd, package):
    """Installs a Debian package when its command is missing (the machine is reset often)."""
    if shutil.which(cmd):
        return
    print(f"installing {package} (for {cmd})", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                   check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on now: the machine is shared, so fixed ports
    could be taken by another run, and a benchmark of someone else's server would look fine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    """Raises the soft descriptor limit to NOFILE (within the hard limit) for this process and
    everything it starts; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(hard, NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def wait_port(proc, name, port, deadline=10.0):
    """Waits until `proc` accepts on 127.0.0.1:port; fails at once if it exited."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with status {proc.returncode} at start; "
                               f"see its log in the scratch directory")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name}: nothing listening on port {port} after {deadline} s")


def article_page():
    """The compression rows' page: ARTICLE_SIZE bytes of HTML, generated from ARTICLE_SEED so
    every run serves the same bytes. An article as a wiki or news site serves it: navigation,
    headed sections of paragraphs with links and reference marks, tables of figures, lists. The
    text draws on COMMON_WORDS and 2,000 made-up words with Zipf's law's frequencies, so it
    compresses as real pages do (gzip level 1 to about 2.9:1, level 9 to 3.5:1; pages of the
    Rust documentation measure 2.9 to 3.8 and 3.4 to 4.6), not as one line repeated would."""
    rng = random.Random(ARTICLE_SEED)
    onsets = ["", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w",
              "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou"]
    codas = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "nt", "rs", "st", "ck"]
    made_up, seen = [], set(COMMON_WORDS)
    while len(made_up) < 2000:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                       for _ in range(1 + int(rng.random() * 2.6)))
        if word not in seen:
            seen.add(word)
            made_up.append(word)
    # The shorter a word, the more often it is used.
    vocab = COMMON_WORDS + sorted(made_up, key=len)
    weights = list(itertools.accumulate(1 / (rank + 1) ** 1.15 for rank in range(len(vocab))))

    def words(n):
        return rng.choices(vocab, cum_weights=weights, k=n)

    def title(n):
        return " ".join(w.capitalize() for w in words(n))

    def sentence():
        ws = words(rng.randint(5, 22))
        for i in range(1, len(ws) - 1):
            r = rng.random()
            if r < 0.06:
                ws[i] += ","
            elif r < 0.12:
                ws[i] = f'<a href="/wiki/{ws[i].capitalize()}" title="{ws[i].capitalize()}">' \
                        f"{ws[i]}</a>"
            elif r < 0.14:
                ws[i] = f"<em>{ws[i]}</em>"
        text = " ".join(ws)
        end = rng.choice([".", ".", ".", "?", ";"])
        if rng.random() < 0.25:
            note = rng.randint(1, 120)
            end += (f'<sup class="reference" id="cite-ref-{note}"><a href="#cite-note-{note}">'
                    f"[{note}]</a></sup>")
        return text[0].upper() + text[1:] + end

    def table():
        cols = words(rng.randint(3, 6))
        rows = [f'      <tr><th scope="row">{title(2)}</th>' + "".join(
            f'<td class="num">{rng.randint(0, 99999):,}.{rng.randint(0, 99):02}</td>'
            if rng.random() < 0.6 else f"<td>{' '.join(words(rng.randint(1, 3)))}</td>"
            for _ in cols) + "</tr>\n" for _ in range(rng.randint(6, 20))]
        return (f'    <table class="data">\n      <thead><tr><th>{title(1)}</th>'
                + "".join(f"<th>{c.capitalize()}</th>" for c in cols)
                + "</tr></thead>\n      <tbody>\n" + "".join(rows)
                + "      </tbody>\n    </table>\n")

    def section(n):
        parts = [f'    <h2 id="section-{n}">{title(rng.randint(2, 6))}</h2>\n']
        for _ in range(rng.randint(2, 5)):
            parts.append(f"    <p>{' '.join(sentence() for _ in range(rng.randint(2, 7)))}</p>\n")
        r = rng.random()
        if r < 0.35:
            parts.append(table())
        elif r < 0.6:
            parts.append("    <ul>\n" + "".join(
                f'      <li><a href="/wiki/{w}">{w.capitalize()}</a>: {sentence()}</li>\n'
                for w in words(rng.randint(3, 8))) + "    </ul>\n")
        return "".join(parts)

    nav = "".join(f'        <li><a href="/topics/{w}">{w.capitalize()}</a></li>\n'
                  for w in made_up[:12])
    page = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
            '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'  <title>{title(5)}</title>\n  <link rel="stylesheet" href="/style.css">\n'
            f"</head>\n<body>\n  <header>\n    <nav>\n      <ul>\n{nav}      </ul>\n"
            f"    </nav>\n  </header>\n  <main>\n  <article>\n    <h1>{title(6)}</h1>\n"
            f'    <p class="byline">By {title(2)}, {rng.randint(1, 28)} '
            f"{rng.choice(['March', 'June', 'October'])} 2026</p>\n")
    tail = f"  </article>\n  </main>\n  <footer><p>{sentence()}</p></footer>\n</body>\n</html>\n"
    n = 1
    while len(page) + len(tail) < ARTICLE_SIZE:
        more = section(n)
        if len(page) + len(more) + len(tail) + 64 > ARTICLE_SIZE:
            # A last paragraph of plain words (no markup to cut in half) fills the size.
            room = ARTICLE_SIZE - len(page) - len(tail) - len("    <p></p>\n")
            text = " ".join(words(room))[:room].rstrip().ljust(room)
            more = f"    <p>{text}</p>\n"
        page += more
        n += 1
    body = (page + tail).encode("ascii")
    assert len(body) == ARTICLE_SIZE, len(body)
    return body


def make_page(root):
    """The h2-page rows' page under `root`: PAGE_INDEX, an HTML page that links the 60
    PAGE_ASSETS as a page's head and body do (style sheets, scripts, images), and the assets,
    each of a size drawn from PAGE_ASSET_SIZES with PAGE_SEED (random bytes: the rows ask
    without Accept-Encoding, so nothing is compressed, and only the sizes matter)."""
    rng = random.Random(PAGE_SEED)
    (root / "page").mkdir()
    tags = []
    for asset in PAGE_ASSETS:
        (root / asset.lstrip("/")).write_bytes(rng.randbytes(rng.randint(*PAGE_ASSET_SIZES)))
        tags.append({"css": f'<link rel="stylesheet" href="{asset}">',
                     "js": f'<script src="{asset}"></script>',
                     "png": f'<img src="{asset}" alt="">'}[asset.rsplit(".", 1)[1]])
    (root / PAGE_INDEX.lstrip("/")).write_text(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>60 assets</title>\n" + "\n".join(tags) + "\n</head>\n<body>\n"
        "<p>A page of 60 assets.</p>\n</body>\n</html>\n")


def make_root(tmp):
    """The shared document root: the repo's www/ plus the 18-byte small file, a 1 MiB file,
    the compression rows' 100 KiB page and the h2-page rows' page of 60 assets (make_page).
    Readable by all: nginx's workers and h2o run as nobody."""
    root = Path(tmp) / "www"
    shutil.copytree(REPO / "www", root)
    assert len(SMALL_BODY) == 18
    (root / SMALL.lstrip("/")).write_bytes(SMALL_BODY)
    (root / LARGE.lstrip("/")).write_bytes(os.urandom(1 << 20))
    (root / ARTICLE.lstrip("/")).write_bytes(article_page())
    make_page(root)
    os.chmod(tmp, 0o755)
    return root


def make_cert(tmp):
    """One self-signed certificate and its key in the scratch directory, for every server on
    the HTTPS rows: ECDSA on P-256, valid for 127.0.0.1 and localhost (the names the checks
    verify it against). Returns (certificate, key) paths: PEM, the key PKCS#8. Read by the
    servers while they still run as root, before nginx's workers and h2o become nobody."""
    cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-days", "2",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def client_tls(cert):
    """The TLS settings of the bench's own clients (the checks, the idle connections): Python's
    defaults (OpenSSL's, as wrk's are), trusting only the bench's certificate."""
    return ssl.create_default_context(cafile=str(cert))


def client_tls_h2(cert):
    """client_tls offering only h2 by ALPN: the idle HTTP/2 connections' TLS settings."""
    context = client_tls(cert)
    context.set_alpn_protocols(["h2"])
    return context


def build_tlsnew(tmp):
    """Compiles bench/tlsnew.c (the new-TLS-connection rows' client, on OpenSSL) into the
    scratch directory; returns the binary's path."""
    binary = Path(tmp) / "tlsnew"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(binary), str(BENCH / "tlsnew.c"),
                    "-lssl", "-lcrypto"], check=True)
    return binary


def build_limit(tmp):
    """Compiles bench/limit.c into the scratch directory; returns the binary's path."""
    binary = Path(tmp) / "limit"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(binary), str(BENCH / "limit.c")],
                   check=True)
    return binary


def nginx_conf(tmp, root, port, access_log, nopush=True, big=False, tls=None, compress=False,
               h2=None, h2c_port=None):
    """nginx as an operator would tune it for static files: 2 workers, sendfile, no access log.
    `compress` adds `gzip on;` and nothing else: the gzip module's defaults, level 1
    (gzip_comp_level), text/html always among gzip_types, each response compressed as it is
    sent, chunked (the compressed length is not known when the header goes).
    `tls`, a (certificate, key) pair, makes it listen with TLS 1.2 and 1.3 (OpenSSL; with TLS,
    nginx reads and encrypts files itself, sendfile only sends plain ones).
    `nopush` is tcp_nopush, on except for pipelined requests (see NGINX_NOPUSH_OFF). `big` is
    for the rows past MAX_CONNECTIONS: worker_connections is per worker, and without
    accept_mutex or reuseport one worker may accept nearly all of them, so each gets room for
    10,240; not BIG_CONNECTIONS, as nginx allocates and initializes all worker_connections
    slots at start (about 0.4 KiB each), which would add to the resident memory it is measured
    by on that row.
    `h2` (the HTTP/2 rows' mode, H2): "tls" adds http2 to the TLS listener (Debian's nginx
    1.22 spells it `listen ... ssl http2;`), offering h2 and http/1.1 by ALPN; "h2c" adds a
    listener on `h2c_port` with `http2` and no ssl, which speaks only HTTP/2 with prior
    knowledge, beside the HTTP/1.1 one the checks use. HTTP/2 at nginx's defaults otherwise
    (128 concurrent streams a connection; keepalive_requests bounds its requests too)."""
    log = f"access_log {tmp}/nginx-access.log;" if access_log else "access_log off;"
    listen = f"listen 127.0.0.1:{port};"
    if tls:
        listen = (f"listen 127.0.0.1:{port} ssl{' http2' if h2 == 'tls' else ''};\n"
                  f"        ssl_certificate {tls[0]};\n"
                  f"        ssl_certificate_key {tls[1]};\n"
                  f"        ssl_protocols TLSv1.2 TLSv1.3;")
    if h2 == "h2c":
        listen += f"\n        listen 127.0.0.1:{h2c_port} http2;"
    worker_connections = 10240 if big else MAX_CONNECTIONS
    gzip = "gzip on;" if compress else ""
    conf = Path(tmp) / "nginx.conf"
    conf.write_text(f"""
worker_processes 2;
worker_rlimit_nofile {NOFILE};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections {worker_connections}; }}
http {{
    sendfile on;
    tcp_nopush {"on" if nopush else "off"};
    tcp_nodelay on;
    {log}
    keepalive_requests 1000000;
    keepalive_timeout {KEEP_ALIVE};
    {gzip}
    types {{ text/html html; text/css css; text/plain txt; application/octet-stream bin;
             application/javascript js; image/png png; }}
    client_body_temp_path {tmp}/body;
    server {{
        {listen}
        root {root};
        location = /echo {{
            default_type text/plain;
            return 200 "$request\\n$args\\n";
        }}
    }}
}}
""")
    return conf


def h2o_conf(tmp, root, port, big=False, tls=None, compress=False):
    """h2o 2.2 configured as nginx is: 2 threads, idle connections kept KEEP_ALIVE (in h2o 2.2
    http1-request-timeout is also the keep-alive timeout: it is re-armed for the next request
    once a response is done), no access log (h2o logs only where access-log is given), room
    for MAX_CONNECTIONS or, for the rows past it, BIG_CONNECTIONS. No pid-file: h2o drops to
    nobody before writing it, and nobody cannot write in the scratch directory; the bench
    knows its pid anyway. `tls`, a (certificate, key) pair, makes it listen with TLS 1.2 and
    1.3 (OpenSSL), without OCSP stapling: it would start a helper process fetching a response
    for a certificate that names no responder, its CPU and memory counted as h2o's.
    `compress` adds `compress: ON`: gzip and brotli at h2o's default quality, 1 for both, each
    response compressed as it is sent, chunked (h2o 2.2 has no zstd). HTTP/2 needs nothing
    added: h2o offers h2 by ALPN on a TLS listener and takes h2c with prior knowledge on a
    plain one, at its defaults (100 concurrent requests a connection)."""
    listen = f"""
  host: 127.0.0.1
  port: {port}"""
    if tls:
        listen += f"""
  ssl:
    certificate-file: {tls[0]}
    key-file: {tls[1]}
    minimum-version: TLSv1.2
    ocsp-update-interval: 0"""
    conf = Path(tmp) / "h2o.conf"
    conf.write_text(f"""
num-threads: 2
max-connections: {BIG_CONNECTIONS if big else MAX_CONNECTIONS}
http1-request-timeout: {int(KEEP_ALIVE.rstrip("s"))}
error-log: {tmp}/h2o-error.log
listen:{listen}
hosts:
  default:
    paths:
      /:
        file.dir: {root}
{"        compress: ON" if compress else ""}
""")
    return conf


def caddy_conf(tmp, root, port, tls):
    """Caddy 2.6 configured as nomserve is on the HTTP/3 rows: the same document root, the same
    certificate and key (`tls` names them; auto_https off, so no ACME, no certificate of its
    own and no redirecting listener on port 80), HTTPS on TCP and HTTP/3 on UDP at the same
    `port` (`protocols h1 h2 h3`, the default spelled out), the site matching any host name.
    No access log (Caddy logs requests only where a `log` directive asks; its own log at ERROR,
    to keep start-up messages out), the admin endpoint off (nomserve has none), no compression
    (no `encode`: and the client asks for none), file_server's defaults otherwise (ETag,
    Last-Modified, ranges, as nomserve sends). HTTP/3 and QUIC at quic-go's defaults, as
    nomserve's are its own. Caddy's Go runtime uses every core, as nomserve's default
    workers do."""
    conf = Path(tmp) / "Caddyfile"
    conf.write_text(f"""{{
	admin off
	auto_https off
	log {{
		level ERROR
	}}
	servers {{
		protocols h1 h2 h3
	}}
}}
:{port} {{
	tls {tls[0]} {tls[1]}
	root * {root}
	file_server
}}
""")
    return conf


def check_serves(name, port, path, root, tls=None):
    """Fails unless the server answers a GET of `path` with 200 and the file's bytes (the
    limit: a body of the small file's length, whatever the path): a server that answers 404
    or errors quickly would otherwise bench well. `tls`, a client context (client_tls), asks
    over HTTPS, verifying the certificate; then returns the protocol and cipher suite the
    server chose, as `TLSv1.3 TLS_AES_256_GCM_SHA384`."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    negotiated = None
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if tls:
            negotiated = f"{conn.sock.version()} {conn.sock.cipher()[0]}"
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"{name}: GET {path} answered {resp.status}")
    if name == "limit":
        want = len(SMALL_BODY)
    else:
        file = root / path.lstrip("/")
        want = file.stat().st_size if file.is_file() else None
    if want is not None and len(body) != want:
        raise RuntimeError(f"{name}: GET {path} sent {len(body)} bytes of body, not {want}")
    return negotiated


def check_h2(name, port, paths, root, cert=None):
    """Fails unless the server answers a GET of each of `paths` over HTTP/2 with 200 and the
    file's bytes: asked with curl, over TLS with `--http2` (h2 by ALPN, trusting only `cert`)
    when `cert` is given, else with `--http2-prior-knowledge` (h2c); an answer in HTTP/1.1, as
    curl falls back to when ALPN does not choose h2, fails too. One curl a path: curl 7.88
    fails the second request it sends on a reused h2c prior-knowledge connection."""
    for path in paths:
        if cert:
            cmd = ["--http2", "--cacert", str(cert), f"https://127.0.0.1:{port}{path}"]
        else:
            cmd = ["--http2-prior-knowledge", f"http://127.0.0.1:{port}{path}"]
        done = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "-",
                               "-w", "%{stderr}%{http_version} %{http_code}", *cmd],
                              capture_output=True, timeout=30)
        got = done.stderr.decode(errors="replace").strip().splitlines()
        if done.returncode != 0 or not got or got[-1] != "2 200":
            raise RuntimeError(f"{name}: HTTP/2 GET {path} with curl {' '.join(cmd[:-1])}: "
                               f"status {done.returncode}, {' '.join(got)}")
        if done.stdout != (root / path.lstrip("/")).read_bytes():
            raise RuntimeError(f"{name}: HTTP/2 GET {path} sent {len(done.stdout)} bytes of "
                               f"body, not the file's")


def check_h3(name, port, path, root, cert):
    """Fails unless the server answers a GET of `path` over HTTP/3 (ALPN h3 over QUIC on UDP
    `port`, the certificate verified against `cert`) with 200 and the file's bytes, asked with
    bench/h3load.py --check; returns the TLS cipher suite chosen."""
    done = subprocess.run([sys.executable, str(H3_LOAD), "127.0.0.1", str(port), path,
                           "--cafile", str(cert), "--check", str(root / path.lstrip("/"))],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: HTTP/3 GET {path}: {done.stderr.strip()}")
    chose = json.loads(done.stdout)
    if chose["alpn"] != "h3":
        raise RuntimeError(f"{name}: HTTP/3 GET {path}: ALPN chose {chose['alpn']}, not h3")
    return f"TLSv1.3 {chose['cipher']}"


def h3load(port, path, seconds, cert, procs, conns, streams, length):
    """Runs bench/h3load.py once for `seconds`: `procs` processes, `conns` connections over all
    of them, `streams` requests in flight on each, a GET of `path` answered by `length` bytes
    of body. Returns what wrk() does: requests/s (each process's, summed), p50 and p99 in µs,
    socket errors (0: any failure stops the run), the requests completed and the bytes of
    body read. Fails, stopping the run, if any request failed: reset, closed, or not a 200
    with `length` bytes."""
    cmd = [sys.executable, str(H3_LOAD), "127.0.0.1", str(port), path, "--cafile", str(cert),
           "--length", str(length), "--processes", str(procs),
           "--connections", str(conns // procs), "--streams", str(streams),
           "--duration", str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 180)
    if done.returncode != 0:
        raise RuntimeError(f"h3load failed (status {done.returncode}): {done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    if out["failed"] or not out["requests"]:
        raise RuntimeError(f"h3load: {out['failed']} requests failed, {out['requests']} "
                           f"succeeded")
    return out["rps"], out["p50_us"], out["p99_us"], 0, out["requests"], out["bytes"]


def decode(coding, body):
    """`body` in content coding `coding` (gzip, br or zstd) decoded: gzip by the standard
    library, br and zstd by the brotli and zstd commands."""
    if coding == "gzip":
        return gzip.decompress(body)
    cmd = {"br": ["brotli", "-d", "-c"], "zstd": ["zstd", "-d", "-c", "-q"]}[coding]
    return subprocess.run(cmd, input=body, capture_output=True, check=True).stdout


def check_compressed(name, port, path, root, coding, deadline=30.0):
    """Fails unless the server answers a GET of `path` with `Accept-Encoding: coding` by a 200
    with `Content-Encoding: coding` whose body decodes to the file's bytes (a Content-Length,
    if sent, the body's length). Returns the body's length, the bytes per response of the
    compression rows, and its framing: Content-Length or chunked. http.client undoes chunked
    framing but not the coding, so the length is that of the compressed body however it is
    framed. nomserve answers a fast version (its ETag ends in `-fast`) until the best one is
    made in the background: asked again every 20 ms until the best version shows, within
    `deadline` seconds, so the wrk run that follows is answered from it from its first
    request. An answer in no coding is allowed only while that lasts, and only with the
    file's bytes."""
    want = (root / path.lstrip("/")).read_bytes()
    end = time.monotonic() + deadline
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path, headers={"Accept-Encoding": coding})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError(f"{name}: GET {path} with Accept-Encoding: {coding} answered "
                               f"{resp.status}")
        sent = resp.getheader("Content-Encoding")
        if sent == coding and not (resp.getheader("ETag") or "").endswith('-fast"'):
            break
        if sent not in (None, coding) or (sent is None and body != want):
            raise RuntimeError(f"{name}: GET {path} with Accept-Encoding: {coding} answered "
                               f"Content-Encoding {sent} with {len(body)} bytes of body")
        if time.monotonic() > end:
            raise RuntimeError(f"{name}: GET {path} with Accept-Encoding: {coding} is still "
                               f"answered without Content-Encoding after {deadline:.0f} s")
        time.sleep(0.02)
    if decode(coding, body) != want:
        raise RuntimeError(f"{name}: GET {path} in {coding} does not decode to the file")
    length = resp.getheader("Content-Length")
    if length is not None and int(length) != len(body):
        raise RuntimeError(f"{name}: GET {path} in {coding}: Content-Length {length}, "
                           f"{len(body)} bytes of body")
    chunked = "chunked" in (resp.getheader("Transfer-Encoding") or "").lower()
    return len(body), "chunked" if chunked else "Content-Length"


class Servers:
    """Starts and stops the servers under test."""

    def __init__(self, tmp, root, binary, baseline=None):
        self.tmp, self.root, self.binary, self.baseline = tmp, root, binary, baseline
        self.limit = None  # the compiled bench/limit.c, once built
        self.cert = None  # (certificate, key) from make_cert, when an HTTPS row runs
        self.procs = {}
        self.ports = {}
        self.h2_ports = {}

    def start(self, name, access_log=False, nopush=True, big=False, tls=False, compress=False,
              h2=None, h3=False):
        """Starts server `name` on a free port; returns the process once it accepts and, for
        nginx, once its workers are up (their CPU and memory are counted from their pids).
        `big`: configured for more than MAX_CONNECTIONS connections. `tls`: HTTPS on
        self.cert (nomserve, baseline, nginx and h2o). `compress`: nginx and h2o compress
        responses (nginx_conf, h2o_conf); nomserve compresses with its defaults either way
        (--compress br,zstd,gzip), and a request without Accept-Encoding, as on the other
        rows, gets the file as it is. `h2`, an HTTP/2 row's mode (H2): nginx is configured for
        it (nginx_conf), on a second port for h2c (h2_port); nomserve and h2o speak HTTP/2 by
        default, h2 by ALPN over TLS and h2c on their plain port. `h3`: nomserve also serves
        HTTP/3 on UDP at its HTTPS port (--http3 on); Caddy (HTTP/3 rows only) always does."""
        tls_args = ["--tls-cert", str(self.cert[0]), "--tls-key", str(self.cert[1])] \
            if tls else []
        self.stop(name)
        port = self.ports[name] = free_port()
        self.h2_ports[name] = free_port() if name == "nginx" and h2 == "h2c" else port
        conns = str(BIG_CONNECTIONS if big else MAX_CONNECTIONS)
        with open(Path(self.tmp) / f"{name}.log", "ab") as out:
            if name == "nomserve":
                env = {**os.environ, "RUST_LOG": "info" if access_log else "warn"}
                cmd = [str(self.binary), "--port", str(port), "--root", str(self.root),
                       "--keep-alive-timeout", KEEP_ALIVE,
                       "--max-connections", conns, "--max-connections-per-ip", conns,
                       *tls_args, *(["--http3", "on"] if h3 else [])]
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=out, env=env)
            elif name == "caddy":
                # Its config autosave and data directories in the scratch directory, not $HOME.
                conf = caddy_conf(self.tmp, self.root, port, self.cert)
                env = {**os.environ, "HOME": self.tmp, "XDG_CONFIG_HOME": f"{self.tmp}/caddy",
                       "XDG_DATA_HOME": f"{self.tmp}/caddy"}
                cmd = ["caddy", "run", "--config", str(conf), "--adapter", "caddyfile"]
                proc = subprocess.Popen(cmd, stdout=out, stderr=out, env=env)
            elif name == "baseline":
                # An earlier nomserve build, for a before/after comparison in one run. It may
                # predate --max-connections-per-ip, so it is started without it.
                env = {**os.environ, "RUST_LOG": "info" if access_log else "warn"}
                cmd = [str(self.baseline), "--port", str(port), "--root", str(self.root),
                       "--keep-alive-timeout", KEEP_ALIVE, "--max-connections", conns, *tls_args]
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=out, env=env)
            elif name == "nginx":
                conf = nginx_conf(self.tmp, self.root, port, access_log, nopush, big,
                                  self.cert if tls else None, compress, h2,
                                  self.h2_ports[name])
                cmd = ["nginx", "-c", str(conf), "-p", self.tmp, "-e",
                       f"{self.tmp}/nginx-error.log", "-g", "daemon off;"]
                proc = subprocess.Popen(cmd, stdout=out, stderr=out)
            elif name == "h2o":
                # h2o stays in the foreground unless told to daemonize (-m daemon).
                conf = h2o_conf(self.tmp, self.root, port, big, self.cert if tls else None,
                                compress)
                cmd = ["h2o", "-c", str(conf)]
                proc = subprocess.Popen(cmd, stdout=out, stderr=out)
            elif name == "limit":
                if self.limit is None:
                    self.limit = build_limit(self.tmp)
                proc = subprocess.Popen([str(self.limit), str(port), "2"], stdout=out,
                                        stderr=out)
            else:
                cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                       "--directory", str(self.root)]
                proc = subprocess.Popen(cmd, stdout=out, stderr=out)
        self.procs[name] = proc
        wait_port(proc, name, port)
        if self.h2_ports[name] != port:
            wait_port(proc, name, self.h2_ports[name])
        if name == "nginx":
            # The master listens before it forks the workers.
            end = time.monotonic() + 10
            while len(process_tree(proc.pid)) < 3 and time.monotonic() < end:
                time.sleep(0.05)
        return proc

    def port(self, name):
        return self.ports[name]

    def h2_port(self, name):
        """The port where `name` takes HTTP/2 on the current row: its only one, except
        nginx's h2c listener."""
        return self.h2_ports[name]

    def stop(self, name):
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # nginx's workers are its children: kill them too if the master did not.
            children = process_tree(proc.pid)[1:]
            proc.kill()
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


def parse_duration_us(text):
    """A wrk duration such as `890.00us` or `2.43ms` in microseconds; NaN for anything else
    (wrk prints `-nan` or `0.00us` when it has no latency samples)."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[m.group(2)]


def wrk(port, path, conns, seconds, extra, threads=2, tls=False):
    """Runs wrk once, over HTTPS if `tls`; returns requests/s, p50 and p99 in microseconds,
    socket errors (with non-2xx answers), the requests it completed, and the bytes it read
    (header and body, as wrk prints them: to three significant figures or more)."""
    threads = min(threads, conns)
    scheme = "https" if tls else "http"
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency",
           "--timeout", "5s", *extra, f"{scheme}://127.0.0.1:{port}{path}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    # Anchored at the line's start: "50%" also ends the "+/- Stdev" column of a line like
    # "Latency 8.60ms 5.77ms 83.73ms 70.50%", which an unanchored search matched first.
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    requests = re.search(r"^\s*(\d+) requests in [^,]+, ([\d.]+)([KMGTP]?)B read", out, re.M)
    if done.returncode != 0 or not (rps and p50 and p99 and requests):
        raise RuntimeError(f"wrk failed (status {done.returncode}): {out}{done.stderr}")
    rps, p50, p99 = float(rps.group(1)), parse_duration_us(p50.group(1)), \
        parse_duration_us(p99.group(1))
    if p50 != p50 or p99 != p99:
        print(f"warning: wrk gave no usable latency; its output:\n{out}", flush=True)
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors = sum(int(x) for x in m.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    # wrk's units are binary: 1.19GB is 1.19 GiB.
    read = float(requests.group(2)) * 1024 ** " KMGTP".index(requests.group(3) or " ")
    return rps, p50, p99, errors, int(requests.group(1)), read


def h2load(port, path, conns, threads, seconds, extra, tls=False, chose=None):
    """Runs h2load once for `seconds` (-D), HTTP/2 over TLS (h2 by ALPN) if `tls`, else h2c
    with prior knowledge; `extra` is h2load's options (-m, the concurrent streams a
    connection) and the further paths it asks for in turn after `path` on each connection.
    Returns what wrk() does: requests/s, p50 and p99 (NaN: h2load prints no percentiles),
    socket errors, the requests completed and the bytes read (all h2load received: frames,
    headers and bodies). `chose`, a dict, gets the TLS protocol and cipher the server chose
    under "tls". Fails, stopping the run, if the protocol is not h2 (h2c), or if any request
    did not succeed with a 2xx (failed, errored, timed out), or any answer was not a 2xx.
    Requests still in flight when
    the time is up are neither done nor failed (h2load counts them started)."""
    scheme = "https" if tls else "http"
    cmd = ["h2load", "-c", str(conns), "-t", str(min(threads, conns)), "-D", str(seconds),
           f"{scheme}://127.0.0.1:{port}{path}", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    rps = re.search(r"^finished in \S+, ([\d.]+) req/s", out, re.M)
    counts = re.search(r"^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored, (\d+) timeout", out, re.M)
    codes = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out, re.M)
    read = re.search(r"^traffic: \S+ \((\d+)\) total", out, re.M)
    proto = re.search(r"^Application protocol: (\S+)", out, re.M)
    if done.returncode != 0 or not (rps and counts and codes and read):
        raise RuntimeError(f"h2load failed (status {done.returncode}): {out[-3000:]}"
                           f"{done.stderr[-2000:]}")
    want = "h2" if tls else "h2c"
    if not proto or proto.group(1) != want:
        raise RuntimeError(f"h2load: the protocol is {proto.group(1) if proto else 'none'}, "
                           f"not {want}: {out[-2000:]}")
    total, finished, succeeded, failed, errored, timeout = (int(x) for x in counts.groups())
    # A status is counted when its HEADERS arrive, so 2xx may exceed the requests done by
    # those whose body was still coming when the time was up; any other status fails.
    if (failed or errored or timeout or not succeeded or succeeded != total
            or succeeded != finished or int(codes.group(1)) < succeeded
            or any(int(n) for n in codes.groups()[1:])):
        said = [line for line in out.splitlines() + done.stderr.splitlines()
                if not line.startswith(("progress:", "spawning", "Warm-up", "Main benchmark",
                                        "Stopped", "starting"))]
        raise RuntimeError(f"h2load: not every request succeeded with a 2xx: "
                           f"{counts.group(0)}; {codes.group(0)}; h2load said:\n"
                           + "\n".join(said[:40]))
    if tls and chose is not None:
        version = re.search(r"^TLS Protocol: (\S+)", out, re.M)
        cipher = re.search(r"^Cipher: (\S+)", out, re.M)
        if version and cipher:
            chose["tls"] = f"{version.group(1)} {cipher.group(1)}"
    return float(rps.group(1)), float("nan"), float("nan"), 0, succeeded, int(read.group(1))


# One wrk run against one server: requests/s, p50 and p99 (µs), socket errors, requests
# completed, CPU per request (µs; NaN if none completed), peak resident memory (KiB) of the
# server's processes during the run, and the bytes wrk read per request (header and body; NaN
# if none completed).
Run = collections.namedtuple("Run", "rps p50 p99 errors requests cpu_us rss_kib read_per_req")

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pids):
    """{pid: utime + stime} in clock ticks, from /proc/PID/stat: a process's figures include
    all its threads, live and ended. Processes gone are left out."""
    ticks = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # The fields after the command name, which is in parentheses and may hold spaces:
        # [0] is field 3 (state), so utime (field 14) is [11] and stime (15) is [12].
        fields = stat[stat.rindex(")") + 2:].split()
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


class PeakRss(threading.Thread):
    """Samples the resident memory of `pids` (summed) five times a second until stopped, and
    keeps the highest: the memory a load needs is its peak, which a single sample at some
    moment of the run may miss."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.peak = pids, 0
        self.done = threading.Event()

    def run(self):
        while True:
            self.peak = max(self.peak, rss_kib(self.pids))
            if self.done.wait(0.2):
                return

    def stop(self):
        """Stops sampling (after one last sample) and returns the peak in KiB."""
        self.done.set()
        self.join()
        self.peak = max(self.peak, rss_kib(self.pids))
        return self.peak


def measure(proc, load):
    """One run of `load` (a call of wrk() or h2load(), which returns their figures) against the
    server `proc` (and its worker processes), with the CPU time they used over the run, per
    request, and their peak resident memory: a Run."""
    pids = process_tree(proc.pid)
    before = cpu_ticks(pids)
    sampler = PeakRss(pids)
    sampler.start()
    try:
        rps, p50, p99, errors, requests, read = load()
    finally:
        rss = sampler.stop()
    # Read again over the tree as it is now: a worker started during the run counts whole.
    after = cpu_ticks(process_tree(proc.pid))
    seconds_cpu = sum(t - before.get(pid, 0) for pid, t in after.items()) / CLK_TCK
    cpu_us = seconds_cpu * 1e6 / requests if requests else float("nan")
    read_per_req = read / requests if requests else float("nan")
    return Run(rps, p50, p99, errors, requests, cpu_us, rss, read_per_req)


def measure_tls_new(client, proc, name, port, path, threads, seconds, mode):
    """One run of bench/tlsnew.c (`client`) against the server `proc`: new TLS 1.3 connections,
    one request each, `mode` full or resumed handshakes; a Run whose requests/s are
    connections/s, requests the connections completed, errors the connections that failed,
    CPU per request the server's CPU per connection; no latency (NaN). Fails the run if a
    resumed row's handshakes did not resume: every connection but each thread's first must
    (an assertion on the server, as the row would otherwise measure full handshakes)."""
    pids = process_tree(proc.pid)
    before = cpu_ticks(pids)
    sampler = PeakRss(pids)
    sampler.start()
    try:
        done = subprocess.run([str(client), str(port), str(threads), str(seconds), mode, path],
                              capture_output=True, text=True, timeout=seconds + 60)
    finally:
        rss = sampler.stop()
    after = cpu_ticks(process_tree(proc.pid))
    m = re.search(r"connections (\d+) resumed (\d+) failed (\d+) responses_ok (\d+) "
                  r"seconds ([\d.]+)", done.stdout)
    if done.returncode != 0 or not m:
        raise RuntimeError(f"tlsnew failed (status {done.returncode}): {done.stdout}"
                           f"{done.stderr}")
    conns, resumed, failed = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elapsed = float(m.group(5))
    if mode == "resumed" and resumed < conns - threads:
        raise RuntimeError(f"{name}: {resumed} of {conns} TLS handshakes resumed a session; "
                           f"every one but each client thread's first should")
    if mode == "full" and resumed:
        raise RuntimeError(f"{name}: {resumed} handshakes resumed on the full-handshake row")
    seconds_cpu = sum(t - before.get(pid, 0) for pid, t in after.items()) / CLK_TCK
    cpu_us = seconds_cpu * 1e6 / conns if conns else float("nan")
    return Run(conns / elapsed, float("nan"), float("nan"), failed, conns, cpu_us, rss,
               float("nan"))


def close_requests(port, count, threads):
    """Makes `count` GET requests of the small file, each on a new connection with
    `Connection: close`, from `threads` threads; fails unless each is answered 200 and closed
    by the server."""
    request = f"GET {SMALL} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()
    failures = []

    def client(n):
        for _ in range(n):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(request)
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            if not data.startswith(b"HTTP/1.1 200"):
                failures.append(data[:80])

    workers = [threading.Thread(target=client, args=(count // threads + (i < count % threads),))
               for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        raise RuntimeError(f"{len(failures)} Connection: close requests failed: "
                           f"{failures[0]!r}")


def count_syscalls(proc, port):
    """The system calls the server `proc` (all its processes and threads) makes per new
    connection: after SYSCALL_WARMUP requests unseen, `strace -f -c` attaches to every process
    of the tree (-f: all their threads) while SYSCALL_CONNECTIONS Connection: close requests
    are made, and detaches. Returns {call: calls per connection}. Start-up is not counted, and
    nor is anything before the warm-up ends (first-use allocations, lazily opened files)."""
    close_requests(port, SYSCALL_WARMUP, SYSCALL_CLIENTS)
    out = Path(tempfile.mkstemp(prefix="strace-")[1])
    cmd = ["strace", "-f", "-c", "-o", str(out)]
    for pid in process_tree(proc.pid):
        cmd += ["-p", str(pid)]
    tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # strace says "Process N attached" for each thread once it is tracing it.
        time.sleep(1.0)
        close_requests(port, SYSCALL_CONNECTIONS, SYSCALL_CLIENTS)
        time.sleep(0.5)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    calls = {}
    # strace -c's table: % time, seconds, usecs/call, calls, [errors], syscall.
    for line in out.read_text().splitlines():
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if m and m.group(2) != "total":
            calls[m.group(2)] = int(m.group(1)) / SYSCALL_CONNECTIONS
    out.unlink()
    return calls


def open_idle_connections(port, count, tls=None):
    """Opens `count` keep-alive connections, each with one request answered, and returns
    them open and idle. The caller closes them. `tls`, a client context (client_tls): each
    connection completes a TLS handshake first, verifying the certificate."""
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if tls:
                # A failed handshake closes the socket (wrap_socket does).
                s = tls.wrap_socket(s, server_hostname="127.0.0.1")
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n")
            socks.append(s)
        for s in socks:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed an idle connection during the count")
                data += chunk
        return socks
    except Exception:
        for s in socks:
            s.close()
        raise


# The client connection preface of HTTP/2 (RFC 9113 §3.4), which an empty SETTINGS follows.
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frame(kind, flags, stream, payload=b""):
    """One HTTP/2 frame: the 9-byte header (RFC 9113 §4.1) and `payload`."""
    return (len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big")
            + payload)


def h2_get(path, tls):
    """A HEADERS frame on stream 1, END_STREAM and END_HEADERS, asking GET `path`. Its HPACK
    block (RFC 7541 §6): :method GET and :scheme indexed from the static table (2, and 7
    https or 6 http), :path and :authority literals without indexing on the static table's
    names (4 and 1), no Huffman coding; no dynamic table entry, so the server's decoder state
    stays as small as a client can leave it."""
    def literal(index, value):
        value = value.encode()
        return bytes([index, len(value)]) + value

    block = b"\x82" + (b"\x87" if tls else b"\x86") + literal(4, path) + \
        literal(1, "127.0.0.1")
    return h2_frame(0x1, 0x1 | 0x4, 1, block)


def h2_settle(sock):
    """Reads an HTTP/2 connection on which H2_PREFACE, an empty SETTINGS and h2_get were sent
    until the exchange is over: the server's SETTINGS received and acknowledged, its
    acknowledgement of ours received, the response on stream 1 ended. Fails unless that
    response's status is 200: the first field of its header block is the static table's
    `:status: 200` (index 8, the encoding every HPACK encoder picks for it). A GOAWAY, a
    RST_STREAM or a close before then fails too. PINGs are answered."""
    buf, theirs, ours, ended, status = b"", False, False, False, None
    while True:
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            length, kind, flags = int.from_bytes(buf[:3], "big"), buf[3], buf[4]
            stream = int.from_bytes(buf[5:9], "big") & 0x7FFF_FFFF
            payload, buf = buf[9:9 + length], buf[9 + length:]
            if kind == 0x4 and flags & 0x1:
                ours = True
            elif kind == 0x4:
                theirs = True
                sock.sendall(h2_frame(0x4, 0x1, 0))
            elif kind == 0x6 and not flags & 0x1:
                sock.sendall(h2_frame(0x6, 0x1, 0, payload))
            elif kind == 0x7 or (kind == 0x3 and stream == 1):
                raise RuntimeError(f"HTTP/2 idle connection: frame type {kind} from the "
                                   f"server: {payload.hex()}")
            elif stream == 1 and kind in (0x0, 0x1):
                if kind == 0x1 and status is None:
                    # PADDED puts the pad length first, PRIORITY 5 bytes before the block.
                    start = (1 if flags & 0x8 else 0) + (5 if flags & 0x20 else 0)
                    status = payload[start:start + 1]
                ended = ended or bool(flags & 0x1)
        if theirs and ours and ended:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("server closed an idle HTTP/2 connection during the count")
        buf += chunk
    if status != b"\x88":
        raise RuntimeError(f"HTTP/2 idle connection: the response does not start with "
                           f":status 200 but {status!r}")


def open_idle_h2(port, count, tls=None):
    """Opens `count` HTTP/2 connections and returns them open and idle, each past the preface,
    the SETTINGS exchange both ways and one GET of the index page answered (h2_settle), as
    the HTTP/1.1 idle rows' connections are past one request. `tls`, a client context with
    ALPN h2 (client_tls_h2): each completes a TLS handshake first, and h2 must be the
    protocol chosen; else h2c with prior knowledge. The caller closes them."""
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if tls:
                s = tls.wrap_socket(s, server_hostname="127.0.0.1")
                chosen = s.selected_alpn_protocol()
                if chosen != "h2":
                    s.close()
                    raise RuntimeError(f"ALPN chose {chosen}, not h2")
            socks.append(s)
            s.sendall(H2_PREFACE + h2_frame(0x4, 0, 0) + h2_get(PAGE, tls is not None))
        for s in socks:
            h2_settle(s)
        return socks
    except Exception:
        for s in socks:
            s.close()
        raise


def rss_kib(pids):
    """The resident memory of `pids`, summed, in KiB; processes gone count nothing."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def process_tree(pid):
    """`pid` and its children: nginx's master and workers, h2o and its crash handler (a perl
    process, idle unless h2o crashes). One level is all the servers here have."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return [pid] + [int(p) for p in out.split()]


def grammar_bench(rounds):
    """Runs the criterion bench of the grammar `rounds` times and returns {corpus: {parser:
    ns}} from the round whose throughput ratio is the median for that corpus; empty, with the
    reason printed, if a run fails (the server table is still written). Criterion measures all
    of one parser before the other, so a slow spell on a shared machine lands on one side of a
    round's ratio; the median round is the one such spells tilted least, either way."""
    runs = {}  # corpus -> [(ratio, {parser: ns})]
    for rnd in range(rounds):
        try:
            done = subprocess.run(
                ["cargo", "bench", "-p", "nomserve-grammar", "--bench", "parse", "--",
                 "--warm-up-time", "1", "--measurement-time", "3"],
                cwd=REPO, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            print("grammar bench: timed out; left out of the table", flush=True)
            return {}
        if done.returncode != 0:
            print(f"grammar bench failed; left out of the table:\n{done.stderr[-2000:]}",
                  flush=True)
            return {}
        times = {}
        pattern = r"parse_request/(\w+)/(\w+)\s+time:\s+\[\S+ \S+ ([\d.]+) (\w+)"
        for m in re.finditer(pattern, done.stdout):
            parser, corpus, value, unit = m.groups()
            ns = float(value) * {"ps": 1e-3, "ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6}[unit]
            times.setdefault(corpus, {})[parser] = ns
        for corpus, t in times.items():
            if "nomserve" in t and "httparse" in t:
                runs.setdefault(corpus, []).append((t["httparse"] / t["nomserve"], t))
        print(f"grammar bench round {rnd + 1}: " + ", ".join(
            f"{c} {r[-1][0]:.2f}" for c, r in runs.items()), flush=True)
    return {corpus: sorted(r, key=lambda x: x[0])[len(r) // 2][1] for corpus, r in runs.items()}


def grammar_interleaved():
    """Runs the grammar's interleaved bench (`grammar/benches/interleaved.rs`: the two parsers
    take turns in short bursts, each keeps its best) and returns {corpus: (nomserve ns,
    httparse ns)}; empty if it fails."""
    done = subprocess.run(["cargo", "bench", "-p", "nomserve-grammar", "--bench", "interleaved"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        print(f"interleaved grammar bench failed:\n{done.stderr[-2000:]}", flush=True)
        return {}
    pattern = r"^(\w+) nomserve ([\d.]+) httparse ([\d.]+) ratio"
    return {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(pattern, done.stdout, re.M)}


def svg_chart(throughput, cpu, compressed=(), http2=()):
    """Horizontal bar charts: nomserve's requests/s ÷ nginx's per row (higher is better, 1.0
    marked); on the small-file rows, the CPU per request of nomserve, h2o and nginx ÷ the
    limit's (lower is better; the limit is the 1.0 mark); and on the compression rows, the
    requests/s of nomserve and h2o in each coding ÷ nginx's with gzip (higher is better); and
    on the HTTP/2 rows, the requests/s of nomserve and h2o ÷ nginx's (higher is better).
    `throughput` is [(title, ratio)], `cpu`, `compressed` and `http2` [(title, server,
    ratio)]; NaN ratios are left out, and so is a chart with no bars."""
    width, bar_h, gap, left = 700, 22, 10, 300
    colors = {"nomserve": "#2a7d4f", "nginx": "#4a6fa5", "h2o": "#8a6bb0"}
    parts = []

    def panel(top, title, bars):
        """Draws one chart from y = top; returns the y where the next may start."""
        bars = [b for b in bars if b[1] == b[1]]
        if not bars:
            return top
        scale = (width - left - 60) / max(1.5, max(v for _, v, _ in bars) * 1.1)
        parts.append(f'<text x="{left}" y="{top + 16}" font-weight="bold">{title}</text>')
        for i, (label, value, color) in enumerate(bars):
            y = top + 30 + i * (bar_h + gap)
            w = value * scale
            parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{label}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{color}"/>')
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}">{value:.2f}</text>')
        bottom = top + 30 + len(bars) * (bar_h + gap)
        x1 = left + scale
        parts.append(f'<line x1="{x1:.1f}" y1="{top + 24}" x2="{x1:.1f}" y2="{bottom - 4}" '
                     f'stroke="#333" stroke-dasharray="4 3"/>')
        return bottom + 10

    y = panel(0, "nomserve throughput / nginx (higher is better)",
              [(t, r, "#2a7d4f" if r >= 1 else "#b5651d") for t, r in throughput])
    y = panel(y, "CPU per request / the limit's (lower is better)",
              [(f"{t}: {name}", r, colors.get(name, "#999")) for t, name, r in cpu])
    y = panel(y, "100 KiB page compressed: requests/s / nginx gzip's (higher is better)",
              [(t, r, colors.get(name, "#999")) for t, name, r in compressed])
    y = panel(y, "HTTP/2: requests/s / nginx's (higher is better)",
              [(t, r, colors.get(name, "#999")) for t, name, r in http2])
    return "\n".join([f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
                      f'height="{max(y, 40)}" font-family="sans-serif" font-size="12">',
                      *parts, "</svg>"]) + "\n"


def fmt_us(us):
    if us != us:
        return "—"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def fmt_ratio(x):
    """A ratio to two decimals; a dash where there is none (the row has no such server)."""
    return "—" if x is None or x != x else f"{x:.2f}"


def h2_goals(chosen, row, memory):
    """The closing note's lines: the HTTP/2 goals, each a ratio of nomserve's figure to a
    peer's in this run. On each HTTP/2 row: requests/s ≥ 1.2× nginx's and ≥ 1.0× h2o's, CPU
    per request ≤ h2o's; on each idle HTTP/2 row, memory per connection ≤ nginx's. `row`
    combines a server's rounds on a row (None if it did not run); rows or peers that did not
    run are left out."""
    lines = []

    def goal(what, title, ratio, floor=None, ceiling=None):
        met = ratio >= floor if floor is not None else ratio <= ceiling
        bound = f"≥ {floor:.1f}" if floor is not None else f"≤ {ceiling:.1f}"
        lines.append(f"| {what} | {title} | {ratio:.2f} | {bound} | "
                     f"{'yes' if met else '**no**'} |")

    for key, title, *_ in chosen:
        ours = row(key, "nomserve") if key in H2 else None
        if ours is None:
            continue
        ng, h2o = row(key, "nginx"), row(key, "h2o")
        if ng:
            goal("requests/s ÷ nginx's", title, ours.rps / ng.rps, floor=1.2)
        if h2o:
            goal("requests/s ÷ h2o's", title, ours.rps / h2o.rps, floor=1.0)
            goal("CPU per request ÷ h2o's", title, ours.cpu_us / h2o.cpu_us, ceiling=1.0)
    for key in H2_IDLE:
        if (key, "nomserve") in memory and (key, "nginx") in memory:
            (rest, kib, count), (ng_rest, ng_kib, ng_count) = \
                memory[(key, "nomserve")], memory[(key, "nginx")]
            ng_per = (ng_kib - ng_rest) / ng_count
            if ng_per > 0:
                goal("memory per idle connection ÷ nginx's", key,
                     (kib - rest) / count / ng_per, ceiling=1.0)
    return lines


def h3_goals(chosen, row):
    """The HTTP/3 goals' lines, each a ratio of nomserve's figure to Caddy's in this run, on
    each HTTP/3 row both ran: requests/s ≥ 1.0× Caddy's, CPU per request ≤ 1.0× Caddy's.
    `row` combines a server's rounds on a row (None if it did not run)."""
    lines = []
    for key, title, *_ in chosen:
        ours, caddy = (row(key, "nomserve"), row(key, "caddy")) if key in H3 else (None, None)
        if not (ours and caddy):
            continue
        for what, ratio, met, bound in [
                ("requests/s ÷ Caddy's", ours.rps / caddy.rps, ours.rps >= caddy.rps, "≥ 1.0"),
                ("CPU per request ÷ Caddy's", ours.cpu_us / caddy.cpu_us,
                 ours.cpu_us <= caddy.cpu_us, "≤ 1.0")]:
            lines.append(f"| {what} | {title} | {ratio:.2f} | {bound} | "
                         f"{'yes' if met else '**no**'} |")
    return lines


def report_idle(key, name, rest, kib, count):
    """Prints an idle row's figures for one server as they are measured."""
    print(f"{key:15} {name:9} {kib:>10,} KiB resident, {rest:,} at rest: "
          f"{(kib - rest) / count:.1f} KiB per connection", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (5)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (2)")
    ap.add_argument("--only", help="comma-separated scenario keys to run")
    ap.add_argument("--servers", help=f"comma-separated servers to run, of {','.join(SERVERS)} "
                                      f"(all); ratios to one left out are blank")
    ap.add_argument("--no-grammar", action="store_true", help="skip the criterion bench")
    ap.add_argument("--grammar-rounds", type=int, default=5,
                    help="criterion runs of the grammar bench, the median one kept (5)")
    ap.add_argument("--no-write", action="store_true", help="print only, write no files")
    ap.add_argument("--baseline", type=Path,
                    help="an earlier nomserve binary, run as 'baseline' beside nomserve in every "
                         "row nomserve runs, for a before/after comparison in one run")
    args = ap.parse_args()

    chosen = scenarios()
    extras = ["small-50-log", "idle-1000", "https-idle-1000", *H2_IDLE, "syscalls-close"]
    # syscalls-close runs only when asked for: strace slows the servers it traces.
    keys = set(args.only.split(",")) if args.only else \
        {s[0] for s in chosen} | set(extras) - {"syscalls-close"}
    unknown = keys - {s[0] for s in chosen} - set(extras)
    if unknown:
        ap.error(f"unknown scenario keys: {', '.join(sorted(unknown))}; the keys: "
                 f"{', '.join([s[0] for s in chosen] + extras)}")
    wanted = set(args.servers.split(",")) if args.servers else set(SERVERS)
    if wanted - set(SERVERS):
        ap.error(f"unknown servers: {', '.join(sorted(wanted - set(SERVERS)))}")
    chosen = [(*s[:-1], [n for n in s[-1] if n in wanted]) for s in chosen if s[0] in keys]
    if args.baseline:
        # Not on the compression rows nor the HTTP/2 and HTTP/3 ones: an earlier build may not
        # compress or speak HTTP/2 or HTTP/3, and its check would stop the run there.
        chosen = [(*s[:-1], [m for n in s[-1] for m in ([n, "baseline"]
                                                         if n == "nomserve"
                                                         and s[0] not in COMPRESSED
                                                         and s[0] not in H2
                                                         and s[0] not in H3
                                                         else [n])]) for s in chosen]

    # SIGTERM and SIGHUP end the run like Ctrl+C: through the cleanup below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)
    nofile = raise_nofile()
    most = max([s[3] for s in chosen], default=0)
    if nofile < most + 256:
        # wrk and the server each hold one descriptor per connection, plus a few of their own
        # (each process has its own count, under the same limit).
        raise SystemExit(f"the descriptor limit is {nofile}, too low for {most:,} connections "
                         f"(raise the hard limit, or leave the row out with --only)")
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    if "h2o" in wanted:
        need("h2o", "h2o")
    if "limit" in wanted:
        need("cc", "gcc")
    if keys & HTTPS:
        need("openssl", "openssl")
    if keys & set(TLS_NEW):
        need("cc", "gcc")
        # OpenSSL's headers, for tlsnew.c: need() looks for commands, and libssl-dev has none.
        if not Path("/usr/include/openssl/ssl.h").exists():
            need("openssl-headers-missing", "libssl-dev")
    if "syscalls-close" in keys:
        need("strace", "strace")
    # h2load drives the HTTP/2 rows; curl (built with nghttp2) checks their answers.
    if keys & set(H2):
        need("h2load", "nghttp2-client")
        need("curl", "curl")
    # Caddy is the HTTP/3 rows' peer; h3load.py, their client, is built on aioquic.
    if keys & set(H3):
        if "caddy" in wanted:
            need("caddy", "caddy")
        try:
            importlib.metadata.version("aioquic")
        except importlib.metadata.PackageNotFoundError:
            raise SystemExit("the HTTP/3 rows' client, bench/h3load.py, needs aioquic: "
                             "pip install aioquic")
    # The checks decode the compression rows' responses: gzip in Python, br and zstd with these.
    if "br-100k-20" in keys:
        need("brotli", "brotli")
    if "zstd-100k-20" in keys:
        need("zstd", "zstd")
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "release" / "nomserve"

    # The grammar's benches first, before any server has run: run after them, the first two
    # criterion rounds measured kitty at 0.92 and browser at 0.97, where later rounds, and
    # runs on their own, gave 1.08-1.14.
    grammar = {} if args.no_grammar else grammar_bench(args.grammar_rounds)
    interleaved = {} if args.no_grammar else grammar_interleaved()

    tmp = tempfile.mkdtemp(prefix="nomserve-bench-")
    servers = Servers(tmp, None, binary, args.baseline)
    pair = ["nomserve", "nginx"] + (["baseline"] if args.baseline else [])
    results = {}  # (scenario, server) -> list of Run
    logged = {}
    # (idle row, server) -> (KiB resident at rest, KiB with the connections open, connections)
    memory = {}
    negotiated = {}  # server -> the TLS protocol and cipher suite it chose
    negotiated_h2 = {}  # server -> the same, for h2load on the HTTP/2 rows
    negotiated_h3 = {}  # server -> the cipher suite it chose for h3load on the HTTP/3 rows
    encoded = {}  # (compression row, server) -> (body bytes per response, framing)
    syscalls = {}  # server -> {system call: calls per new connection}
    tlsnew = None  # the compiled bench/tlsnew.c, once built
    client = None  # the checks' and idle connections' TLS context, on HTTPS rows
    try:
        servers.root = make_root(tmp)
        if keys & HTTPS:
            servers.cert = make_cert(tmp)
            client = client_tls(servers.cert[0])
        for rnd in range(args.rounds):
            for key, title, path, conns, threads, extra, names in chosen:
                # Alternate the order each round so no server always runs first.
                order = names if rnd % 2 == 0 else list(reversed(names))
                tls = key in HTTPS
                coding = COMPRESSED.get(key)
                h2 = H2.get(key)
                h3 = key in H3
                for name in order:
                    proc = servers.start(name, nopush=key not in NGINX_NOPUSH_OFF,
                                         big=conns > MAX_CONNECTIONS, tls=tls,
                                         compress=coding is not None, h2=h2, h3=h3)
                    chose = check_serves(name, servers.port(name), path, servers.root,
                                         client if tls else None)
                    if chose:
                        negotiated[name] = chose
                    if h2:
                        check_h2(name, servers.h2_port(name),
                                 PAGE_URIS if path == PAGE_INDEX else [path], servers.root,
                                 servers.cert[0] if tls else None)
                    if h3:
                        negotiated_h3[name] = check_h3(name, servers.port(name), path,
                                                       servers.root, servers.cert[0])
                    sent = ""
                    if coding:
                        encoded[(key, name)] = check_compressed(name, servers.port(name), path,
                                                                servers.root, coding)
                        sent = f" {coding} body {encoded[(key, name)][0]:,} bytes"
                    if key in TLS_NEW:
                        if tlsnew is None:
                            tlsnew = build_tlsnew(tmp)
                        run = measure_tls_new(tlsnew, proc, name, servers.port(name), path,
                                              threads, args.duration, TLS_NEW[key])
                    elif h2:
                        h2_chose = {}
                        run = measure(proc, lambda: h2load(servers.h2_port(name), path, conns,
                                                           threads, args.duration, extra, tls,
                                                           h2_chose))
                        if "tls" in h2_chose:
                            negotiated_h2[name] = h2_chose["tls"]
                    elif h3:
                        length = (servers.root / path.lstrip("/")).stat().st_size
                        run = measure(proc, lambda: h3load(servers.port(name), path,
                                                           args.duration, servers.cert[0],
                                                           threads, conns, H3[key][2],
                                                           length))
                    else:
                        run = measure(proc, lambda: wrk(servers.port(name), path, conns,
                                                        args.duration, extra, threads, tls))
                    servers.stop(name)
                    results.setdefault((key, name), []).append(run)
                    print(f"round {rnd + 1} {key:13} {name:9} {run.rps:>10.0f} req/s "
                          f"p50 {fmt_us(run.p50)} p99 {fmt_us(run.p99)} errors {run.errors} "
                          f"CPU/req {run.cpu_us:.1f} µs peak RSS {run.rss_kib / 1024:.1f} MiB"
                          f"{sent}", flush=True)
        # One row with access logging on in both, to show its cost.
        if "small-50-log" in keys:
            for name in pair:
                servers.start(name, access_log=True)
                logged[name] = wrk(servers.port(name), PAGE, 50, args.duration, [])
                servers.stop(name)
                print(f"access log {name:9} {logged[name][0]:>10.0f} req/s", flush=True)
        # Resident memory with IDLE_CONNECTIONS idle keep-alive connections, plain and with
        # TLS: at rest (started, one request answered), then with the connections open.
        tls_servers = [n for n in pair + ["h2o"] if n in wanted or n == "baseline"]
        for key, names, tls in [("idle-1000", pair, None),
                                ("https-idle-1000", tls_servers, client)]:
            if key not in keys:
                continue
            for name in names:
                proc = servers.start(name, tls=tls is not None)
                chose = check_serves(name, servers.port(name), PAGE, servers.root, tls)
                if chose:
                    negotiated[name] = chose
                rest = rss_kib(process_tree(proc.pid))
                socks = open_idle_connections(servers.port(name), IDLE_CONNECTIONS, tls)
                try:
                    memory[(key, name)] = (rest, rss_kib(process_tree(proc.pid)),
                                           IDLE_CONNECTIONS)
                finally:
                    for s in socks:
                        s.close()
                servers.stop(name)
                report_idle(key, name, *memory[(key, name)])
        # The same with H2_IDLE_CONNECTIONS idle HTTP/2 connections, over TLS and h2c: at rest
        # (started, the index page answered over HTTP/2), then with the connections open.
        h2_servers = [n for n in ["nomserve", "nginx", "h2o"] if n in wanted]
        for key, mode in H2_IDLE.items():
            if key not in keys:
                continue
            tls = client_tls_h2(servers.cert[0]) if mode == "tls" else None
            for name in h2_servers:
                proc = servers.start(name, tls=tls is not None, h2=mode)
                port = servers.h2_port(name)
                check_h2(name, port, [PAGE], servers.root,
                         servers.cert[0] if tls else None)
                rest = rss_kib(process_tree(proc.pid))
                socks = open_idle_h2(port, H2_IDLE_CONNECTIONS, tls)
                try:
                    memory[(key, name)] = (rest, rss_kib(process_tree(proc.pid)),
                                           H2_IDLE_CONNECTIONS)
                finally:
                    for s in socks:
                        s.close()
                servers.stop(name)
                report_idle(key, name, *memory[(key, name)])
        # System calls per new connection, under strace: once per server, after the timed
        # rows, none of whose figures it touches.
        if "syscalls-close" in keys:
            for name in [n for n in ["nomserve", "baseline", "nginx", "h2o"]
                         if n in wanted or n == "baseline" and args.baseline]:
                proc = servers.start(name)
                check_serves(name, servers.port(name), SMALL, servers.root)
                syscalls[name] = count_syscalls(proc, servers.port(name))
                servers.stop(name)
                print(f"syscalls-close  {name:9} {sum(syscalls[name].values()):.2f} system "
                      f"calls per connection", flush=True)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr, flush=True)
        raise SystemExit(130)
    finally:
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    def row(key, name):
        """The rounds of one server on one row, combined: requests/s and latency from the
        round with the most requests/s; the least CPU per request of any round (like the
        most requests/s, what the server does when the shared machine disturbs it least);
        the errors of all rounds, summed; the highest peak memory of any round."""
        runs = results.get((key, name), [])
        if not runs:
            return None
        cpus = [r.cpu_us for r in runs if r.cpu_us == r.cpu_us]
        return max(runs, key=lambda r: r.rps)._replace(
            errors=sum(r.errors for r in runs),
            cpu_us=min(cpus) if cpus else float("nan"),
            rss_kib=max(r.rss_kib for r in runs))

    lines = ["| scenario | server | requests/s | p50 | p99 | socket errors | req/s ÷ nginx "
             "| CPU/req (µs) | CPU/req ÷ limit | CPU/req ÷ nginx | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    chart, cpu_chart, gzip_chart, h2_chart = [], [], [], []
    for key, title, path, _, _, _, names in chosen:
        ng, lim = row(key, "nginx"), row(key, "limit")
        for name in names:
            r = row(key, name)
            ratio = r.rps / ng.rps if ng else None
            to_limit = r.cpu_us / lim.cpu_us if lim else None
            to_nginx = r.cpu_us / ng.cpu_us if ng else None
            lines.append(f"| {title} | {name} | {r.rps:,.0f} | {fmt_us(r.p50)} | "
                         f"{fmt_us(r.p99)} | {r.errors} | {fmt_ratio(ratio)} | "
                         f"{r.cpu_us:.1f} | {fmt_ratio(to_limit)} | {fmt_ratio(to_nginx)} | "
                         f"{r.rss_kib / 1024:.1f} |")
            # The compression and HTTP/2 rows have charts of their own, where their ratios
            # (up to tens) do not flatten the other bars.
            if name == "nomserve" and ratio is not None and key not in COMPRESSED \
                    and key not in H2:
                chart.append((title, ratio))
            if name in ("nomserve", "h2o") and ratio is not None and key in H2:
                h2_chart.append((f"{key}: {name}", name, ratio))
            # The small-file rows only: the limit sends the small file's bytes, and on the
            # pipelined row nginx's ratio (around 30) would flatten every other bar.
            if name in ("nomserve", "h2o", "nginx") and to_limit is not None and path == SMALL:
                cpu_chart.append((title, name, to_limit))
    if encoded:
        # The compression rows again, with the bytes each response carried, against nginx's
        # gzip: the same page, which a browser asks for with all three codings and gets in
        # the one the server prefers.
        ng = row("gzip-100k-20", "nginx")
        ng_bytes = encoded.get(("gzip-100k-20", "nginx"), (None,))[0]
        lines.append("")
        lines.append(f"| {ARTICLE_SIZE:,}-byte page ({ARTICLE}), 20 conns, one coding asked "
                     f"| server | coding | body bytes per response | ÷ the file "
                     f"| ÷ nginx gzip's | framing | bytes read per response (wrk) "
                     f"| requests/s | req/s ÷ nginx gzip's | CPU/req (µs) "
                     f"| CPU/req ÷ nginx gzip's |")
        lines.append("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
        for key, title, _, _, _, _, names in chosen:
            for name in names:
                if (key, name) not in encoded:
                    continue
                r, (size, framing) = row(key, name), encoded[(key, name)]
                ratio = r.rps / ng.rps if ng else None
                lines.append(f"| {title} | {name} | {COMPRESSED[key]} | {size:,} | "
                             f"{size / ARTICLE_SIZE:.3f} | "
                             f"{fmt_ratio(size / ng_bytes if ng_bytes else None)} | "
                             f"{framing} | {r.read_per_req:,.0f} | {r.rps:,.0f} | "
                             f"{fmt_ratio(ratio)} | {r.cpu_us:.1f} | "
                             f"{fmt_ratio(r.cpu_us / ng.cpu_us if ng else None)} |")
                if name != "nginx" and ratio is not None:
                    gzip_chart.append((f"{COMPRESSED[key]}: {name}", name, ratio))
    for name, r in logged.items():
        ratio = r[0] / logged["nginx"][0] if "nginx" in logged else None
        lines.append(f"| index page, 50 conns, access log ON | {name} | {r[0]:,.0f} | "
                     f"{fmt_us(r[1])} | {fmt_us(r[2])} | {r[3]} | {fmt_ratio(ratio)} "
                     f"| — | — | — | — |")
    if memory:
        lines.append("")
        lines.append("| resident memory with idle connections | server (all its processes) "
                     "| MiB | MiB at rest | KiB per connection |")
        lines.append("|---|---|---:|---:|---:|")
        titles = {
            "idle-1000": f"HTTP, {IDLE_CONNECTIONS:,} keep-alive connections",
            "https-idle-1000": f"HTTPS, {IDLE_CONNECTIONS:,} keep-alive connections, each "
                               f"after a TLS handshake",
            "h2-idle-500-tls": f"HTTP/2 over TLS, {H2_IDLE_CONNECTIONS:,} connections, each "
                               f"after ALPN h2, the SETTINGS exchange and one request",
            "h2-idle-500-h2c": f"HTTP/2 h2c, {H2_IDLE_CONNECTIONS:,} connections, each after "
                               f"the preface, the SETTINGS exchange and one request"}
        for (key, name), (rest, kib, count) in memory.items():
            lines.append(f"| {titles[key]} | {name} | {kib / 1024:.1f} | {rest / 1024:.1f} | "
                         f"{(kib - rest) / count:.1f} |")
    goals = h2_goals(chosen, row, memory)
    if goals:
        lines.append("")
        lines.append("| HTTP/2 goal: nomserve's ratio, in this run | row | ratio | goal | met |")
        lines.append("|---|---|---:|---|---|")
        lines.extend(goals)
    goals = h3_goals(chosen, row)
    if goals:
        lines.append("")
        lines.append("| HTTP/3 goal: nomserve's ratio to Caddy's, in this run | row | ratio "
                     "| goal | met |")
        lines.append("|---|---|---:|---|---|")
        lines.extend(goals)
    if syscalls:
        names = list(syscalls)
        lines.append("")
        lines.append(f"| system calls per new connection ({SYSCALL_CONNECTIONS:,} Connection: "
                     f"close requests, strace -f -c) | " + " | ".join(names) + " |")
        lines.append("|---|" + "---:|" * len(names))
        every = sorted({c for t in syscalls.values() for c in t},
                       key=lambda c: -max(t.get(c, 0) for t in syscalls.values()))
        for call in every:
            lines.append(f"| {call} | " + " | ".join(
                f"{syscalls[n].get(call, 0):.2f}" for n in names) + " |")
        lines.append("| **total** | " + " | ".join(
            f"**{sum(syscalls[n].values()):.2f}**" for n in names) + " |")
    if grammar:
        lines.append("")
        lines.append(f"Request parsing, nomserve's grammar against httparse: criterion "
                     f"(`grammar/benches/parse.rs`, the median of {args.grammar_rounds} runs), and the "
                     f"two parsers taking turns in bursts, each keeping its best "
                     f"(`grammar/benches/interleaved.rs`), which a drifting machine cannot "
                     f"tilt towards one side:")
        lines.append("")
        lines.append("| grammar corpus | nomserve | httparse | throughput ratio "
                     "| interleaved: nomserve | httparse | ratio |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for corpus, t in grammar.items():
            if "nomserve" in t and "httparse" in t:
                ours, theirs = interleaved.get(corpus, (float("nan"), float("nan")))
                lines.append(f"| {corpus} | {t['nomserve']:.1f} ns | {t['httparse']:.1f} ns | "
                             f"{t['httparse'] / t['nomserve']:.2f} | {ours:.1f} ns | "
                             f"{theirs:.1f} ns | {theirs / ours:.2f} |")

    nginx_v = subprocess.run(["nginx", "-V"], capture_output=True, text=True).stderr
    nginx_version = nginx_v.splitlines()[0].split("/")[-1]
    h2o_version, h2o_v = "?", ""
    if shutil.which("h2o"):
        h2o_v = subprocess.run(["h2o", "--version"], capture_output=True, text=True).stdout
        h2o_version = h2o_v.split("\n")[0].split()[-1]
    header = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{os.cpu_count()} cores ({platform.machine()}), {args.rounds} alternating rounds of "
        f"{args.duration} s per server and scenario; wrk on the same machine, -t2 unless the "
        f"row says -t1. Per row and server: requests/s and latency from the round with the "
        f"most requests/s, CPU per request the least of the rounds, socket errors (with non-2xx "
        f"answers) summed over the rounds, peak resident memory the highest of the rounds. "
        f"CPU/req is the user+system CPU time of the server's processes (all threads; nginx's "
        f"master and workers, h2o and its crash handler, an idle perl process of about 5.5 MiB "
        f"resident, counted in its memory too) over the wrk run, from /proc, divided by the "
        f"requests wrk completed; ÷ limit divides it by the limit's on "
        f"the same row: bench/limit.c, an epoll loop answering each request with a fixed "
        f"18-byte response, no parsing, no files, the cost floor. Peak RSS: the servers' "
        f"processes' resident memory summed, sampled five times a second during the run. "
        f"The small file is 18 bytes ({SMALL}), the index page {PAGE}. nomserve with "
        f"RUST_LOG=warn and its default worker count; nginx {nginx_version} with 2 workers, "
        f"sendfile on, tcp_nopush on (off for the pipelined row), access_log off; h2o "
        f"{h2o_version} with 2 threads, no access log; all keep idle connections {KEEP_ALIVE} "
        f"and admit {MAX_CONNECTIONS:,} connections, or, on the 10,000-connection row, "
        f"{BIG_CONNECTIONS:,} (nomserve --max-connections and --max-connections-per-ip, h2o "
        f"max-connections; nginx 10,240 worker_connections per worker).")
    if negotiated:
        # The OpenSSL each runs with: the last one named (nginx -V names the one it was built
        # with first).
        openssl = {n: (re.findall(r"OpenSSL [\d.]+\w*", v) or ["OpenSSL ?"])[-1]
                   for n, v in (("nginx", nginx_v), ("h2o", h2o_v))}
        header += (
            f" HTTPS rows: every server on one self-signed ECDSA P-256 certificate made at "
            f"start, TLS 1.2 and 1.3 allowed, HTTP/1.1; what each chose for OpenSSL's client "
            f"defaults (the checks'; wrk's are the same library's): "
            f"{', '.join(f'{n} {c}' for n, c in negotiated.items())}. nomserve with rustls on "
            f"aws-lc-rs, nginx with {openssl['nginx']}, h2o with {openssl['h2o']}; over TLS "
            f"nginx reads and encrypts files itself (its sendfile sends only plain responses). "
            f"No limit on those rows: it has no TLS.")
    if results.keys() & {(k, n) for k in H2 for n in SERVERS}:
        h2load_version = subprocess.run(["h2load", "--version"], capture_output=True,
                                        text=True).stdout.split()[-1]
        header += (
            f" HTTP/2 rows: {h2load_version} h2load -D {args.duration} instead of wrk "
            f"(-t1 or -t2, as each row says), "
            f"over TLS (h2 by ALPN, the HTTPS rows' certificate) and h2c (prior knowledge); "
            f"requests/s and requests completed are h2load's, no latency percentiles (h2load "
            f"prints none); nginx with `listen ... ssl http2` and, for h2c, a `listen ... "
            f"http2` port of its own, HTTP/2 otherwise at its defaults, as h2o and nomserve "
            f"are. What each chose for h2load's TLS offer: "
            f"{', '.join(f'{n} {c}' for n, c in negotiated_h2.items()) or '—'}.")
    if results.keys() & {(k, n) for k in H3 for n in SERVERS}:
        caddy_version, aioquic_version = "?", importlib.metadata.version("aioquic")
        if shutil.which("caddy"):
            caddy_version = subprocess.run(["caddy", "version"], capture_output=True,
                                           text=True).stdout.split()[0]
        header += (
            f" HTTP/3 rows: nomserve with --http3 on against Caddy {caddy_version} (quic-go), "
            f"both on the HTTPS rows' certificate with TCP and UDP at one port, Caddy with "
            f"`protocols h1 h2 h3`, admin and auto_https off, no access log, file_server; "
            f"driven by bench/h3load.py (aioquic {aioquic_version}, pure Python) in the "
            f"processes the row names, a new request as each ends, for {args.duration} s; "
            f"the client limits the absolute requests/s, so only the ratios of one run "
            f"compare (the HTTP/3 goal table), CPU per request above all. Latency from the "
            f"client, its own queueing included. What each chose for aioquic's offer: "
            f"{', '.join(f'{n} {c}' for n, c in negotiated_h3.items()) or '—'}.")
    if encoded:
        header += (
            f" Compression rows: a {ARTICLE_SIZE:,}-byte HTML page generated at start from a "
            f"fixed seed (the same bytes every run), asked for by wrk with one coding in "
            f"Accept-Encoding, each server checked first to answer in it with a body that "
            f"decodes to the page. nomserve with its defaults (--compress br,zstd,gzip: each "
            f"variant made once, at a fast level first, then in the background at gzip 9, "
            f"zstd 19, brotli 11, and served from memory with a Content-Length; warmed by "
            f"asking until the best version shows, before wrk starts); nginx with `gzip on;` added, at its defaults (level 1, each "
            f"response compressed as it is sent, chunked); h2o with `compress: ON` (gzip and "
            f"brotli at quality 1, per response, chunked). nginx here has no brotli or zstd "
            f"module and h2o 2.2 no zstd: they sit out the rows they cannot answer. Body bytes "
            f"per response: the compressed body's length (chunked framing removed); bytes read "
            f"per response: all wrk read over the run (headers, chunk framing) per request.")
    table = "\n".join(lines)
    print()
    print(header)
    print(table)
    if not args.no_write:
        (BENCH / "RESULTS.md").write_text(
            f"# Benchmark results\n\n{header}\n\nProduced by `python3 bench/run.py`.\n\n"
            f"![nomserve / nginx](ratios.svg)\n\n{table}\n")
        (BENCH / "ratios.svg").write_text(svg_chart(chart, cpu_chart, gzip_chart,
                                                           h2_chart))


if __name__ == "__main__":
    main()
