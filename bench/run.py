#!/usr/bin/env python3
"""Side-by-side load benchmark: nomserve against nginx and python3 -m http.server.

One command (`python3 bench/run.py`) builds the release binary, starts the three servers on the
same document root, drives each with wrk in alternating rounds, and prints a table of
requests/s, p50 and p99 latency, socket errors and the ratio to nginx. Then it runs the
grammar's benches against httparse (criterion, and an interleaved one). It writes the tables to
bench/RESULTS.md and a bar chart of the ratios to bench/ratios.svg, which the README shows.

Everything runs on loopback on free ports picked at start; every wrk run is bounded in time;
every process the script starts is stopped, and its scratch directory removed, however the run
ends (an error, Ctrl+C, SIGTERM). Standard library only.
"""

import argparse
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"

# Both servers are configured alike where the two have the same knob: an idle keep-alive
# connection is kept 65 s and up to 4,096 connections are admitted (nginx's keepalive_timeout
# and worker_connections below).
KEEP_ALIVE = "65s"
MAX_CONNECTIONS = 4096

# Descriptors the script and what it starts may open: 1,000-connection runs need more than the
# usual soft limit of 1,024 (wrk, the idle-connection count, and each server).
NOFILE = 8192

# Scenarios where nginx runs with tcp_nopush off. With it on (TCP_CORK around sendfile, the
# usual advice), nginx holds pipelined responses in the corked socket: measured here, 1,478
# requests/s at 4 connections with a 24 ms median, and 18,000 at 50 against 47,000 with it
# off. The pipelined row compares against nginx at its best for that load.
NGINX_NOPUSH_OFF = {"pipeline-50"}

SMALL = "/index.html"
LARGE = "/1mib.bin"


def scenarios(duration):
    """The rows of the table: (key, title, path, connections, wrk extra args, servers)."""
    every = ["nomserve", "nginx"]
    return [
        ("small-50", "small file, keep-alive, 50 conns", SMALL, 50, [], every + ["python"]),
        ("small-1000", "small file, keep-alive, 1000 conns", SMALL, 1000, [], every),
        ("large-10", "1 MiB file, 10 conns", LARGE, 10, [], every),
        ("echo-50", "/echo, 50 conns", "/echo?name=test", 50, [], every),
        ("http10-50", "HTTP/1.0, no keep-alive, 50 conns", SMALL, 50,
         ["-s", str(BENCH / "http10.lua")], every),
        ("pipeline-50", "pipelined depth 16, 50 conns", SMALL, 50,
         ["-s", str(BENCH / "pipeline.lua")], every),
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
    everything it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(hard, NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


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


def make_root(tmp):
    """The shared document root: the repo's www/ plus a 1 MiB file."""
    root = Path(tmp) / "www"
    shutil.copytree(REPO / "www", root)
    (root / LARGE.lstrip("/")).write_bytes(os.urandom(1 << 20))
    os.chmod(tmp, 0o755)
    return root


def nginx_conf(tmp, root, port, access_log, nopush=True):
    """nginx as an operator would tune it for static files: 2 workers, sendfile, no access log.
    `nopush` is tcp_nopush, on except for pipelined requests (see NGINX_NOPUSH_OFF)."""
    log = f"access_log {tmp}/nginx-access.log;" if access_log else "access_log off;"
    conf = Path(tmp) / "nginx.conf"
    conf.write_text(f"""
worker_processes 2;
worker_rlimit_nofile {NOFILE};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush {"on" if nopush else "off"};
    tcp_nodelay on;
    {log}
    keepalive_requests 1000000;
    keepalive_timeout {KEEP_ALIVE};
    types {{ text/html html; text/css css; text/plain txt; application/octet-stream bin; }}
    client_body_temp_path {tmp}/body;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location = /echo {{
            default_type text/plain;
            return 200 "$request\\n$args\\n";
        }}
    }}
}}
""")
    return conf


class Servers:
    """Starts and stops the servers under test."""

    def __init__(self, tmp, root, binary):
        self.tmp, self.root, self.binary = tmp, root, binary
        self.procs = {}
        self.ports = {}

    def start(self, name, access_log=False, nopush=True):
        """Starts server `name` on a free port; returns the process once it accepts."""
        self.stop(name)
        port = self.ports[name] = free_port()
        with open(Path(self.tmp) / f"{name}.log", "ab") as out:
            if name == "nomserve":
                env = {**os.environ, "RUST_LOG": "info" if access_log else "warn"}
                cmd = [str(self.binary), "--port", str(port), "--root", str(self.root),
                       "--keep-alive-timeout", KEEP_ALIVE,
                       "--max-connections", str(MAX_CONNECTIONS),
                       "--max-connections-per-ip", str(MAX_CONNECTIONS)]
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=out, env=env)
            elif name == "nginx":
                conf = nginx_conf(self.tmp, self.root, port, access_log, nopush)
                cmd = ["nginx", "-c", str(conf), "-p", self.tmp, "-e",
                       f"{self.tmp}/nginx-error.log", "-g", "daemon off;"]
                proc = subprocess.Popen(cmd, stdout=out, stderr=out)
            else:
                cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                       "--directory", str(self.root)]
                proc = subprocess.Popen(cmd, stdout=out, stderr=out)
        self.procs[name] = proc
        wait_port(proc, name, port)
        return proc

    def port(self, name):
        return self.ports[name]

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


def wrk(port, path, conns, seconds, extra):
    """Runs wrk once; returns requests/s, p50 and p99 in microseconds, and socket errors."""
    threads = min(2, conns)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency",
           "--timeout", "5s", *extra, f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    # Anchored at the line's start: "50%" also ends the "+/- Stdev" column of a line like
    # "Latency 8.60ms 5.77ms 83.73ms 70.50%", which an unanchored search matched first.
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if done.returncode != 0 or not (rps and p50 and p99):
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
    return rps, p50, p99, errors


def open_idle_connections(port, count=1000):
    """Opens `count` keep-alive connections, each with one request answered, and returns
    them open and idle. The caller closes them."""
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
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


def rss_kib(pids):
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def process_tree(pid):
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


def svg_chart(rows):
    """A horizontal bar chart of nomserve's ratio to nginx per scenario, 1.0 marked."""
    width, bar_h, gap, left = 640, 22, 10, 250
    height = 40 + len(rows) * (bar_h + gap)
    scale = (width - left - 60) / max(1.5, max(r for _, r in rows) * 1.1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="16" font-weight="bold">nomserve throughput / nginx '
             f'(higher is better)</text>']
    for i, (title, ratio) in enumerate(rows):
        y = 30 + i * (bar_h + gap)
        w = ratio * scale
        color = "#2a7d4f" if ratio >= 1 else "#b5651d"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{title}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                     f'fill="{color}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}">{ratio:.2f}</text>')
    x1 = left + scale
    parts.append(f'<line x1="{x1:.1f}" y1="24" x2="{x1:.1f}" y2="{height - 4}" '
                 f'stroke="#333" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def fmt_us(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (5)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (2)")
    ap.add_argument("--only", help="comma-separated scenario keys to run")
    ap.add_argument("--no-grammar", action="store_true", help="skip the criterion bench")
    ap.add_argument("--grammar-rounds", type=int, default=5,
                    help="criterion runs of the grammar bench, the median one kept (5)")
    ap.add_argument("--no-write", action="store_true", help="print only, write no files")
    args = ap.parse_args()

    # SIGTERM and SIGHUP end the run like Ctrl+C: through the cleanup below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)
    raise_nofile()
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    subprocess.run(["cargo", "build", "--release", "-q"], cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "release" / "nomserve"

    # The grammar's benches first, before any server has run: run after them, the first two
    # criterion rounds measured kitty at 0.92 and browser at 0.97, where later rounds, and
    # runs on their own, gave 1.08-1.14.
    grammar = {} if args.no_grammar else grammar_bench(args.grammar_rounds)
    interleaved = {} if args.no_grammar else grammar_interleaved()

    chosen = scenarios(args.duration)
    extras = ["small-50-log", "idle-1000"]
    keys = set(args.only.split(",")) if args.only else {s[0] for s in chosen} | set(extras)
    unknown = keys - {s[0] for s in chosen} - set(extras)
    if unknown:
        ap.error(f"unknown scenario keys: {', '.join(sorted(unknown))}")
    chosen = [s for s in chosen if s[0] in keys]

    tmp = tempfile.mkdtemp(prefix="nomserve-bench-")
    servers = Servers(tmp, None, binary)
    results = {}  # (scenario, server) -> list of runs
    logged = {}
    memory = {}
    try:
        servers.root = make_root(tmp)
        for rnd in range(args.rounds):
            for key, title, path, conns, extra, names in chosen:
                # Alternate the order each round so neither server always runs first.
                order = names if rnd % 2 == 0 else list(reversed(names))
                for name in order:
                    servers.start(name, nopush=key not in NGINX_NOPUSH_OFF)
                    run = wrk(servers.port(name), path, conns, args.duration, extra)
                    servers.stop(name)
                    results.setdefault((key, name), []).append(run)
                    print(f"round {rnd + 1} {key:12} {name:9} {run[0]:>10.0f} req/s "
                          f"p50 {fmt_us(run[1])} p99 {fmt_us(run[2])} errors {run[3]}",
                          flush=True)
        # One row with access logging on in both, to show its cost.
        if "small-50-log" in keys:
            for name in ["nomserve", "nginx"]:
                servers.start(name, access_log=True)
                logged[name] = wrk(servers.port(name), SMALL, 50, args.duration, [])
                servers.stop(name)
                print(f"access log {name:9} {logged[name][0]:>10.0f} req/s", flush=True)
        # Resident memory with 1,000 idle keep-alive connections.
        if "idle-1000" in keys:
            for name in ["nomserve", "nginx"]:
                proc = servers.start(name)
                socks = open_idle_connections(servers.port(name))
                try:
                    memory[name] = rss_kib(process_tree(proc.pid))
                finally:
                    for s in socks:
                        s.close()
                servers.stop(name)
                print(f"idle-1000  {name:9} {memory[name]:>10,} KiB resident", flush=True)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr, flush=True)
        raise SystemExit(130)
    finally:
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    def best(key, name):
        runs = results.get((key, name), [])
        return max(runs, key=lambda r: r[0]) if runs else None

    lines = ["| scenario | server | requests/s | p50 | p99 | socket errors | ratio to nginx |",
             "|---|---|---:|---:|---:|---:|---:|"]
    chart = []
    for key, title, _, _, _, names in chosen:
        ng = best(key, "nginx")
        for name in names:
            r = best(key, name)
            ratio = r[0] / ng[0] if ng else float("nan")
            lines.append(f"| {title} | {name} | {r[0]:,.0f} | {fmt_us(r[1])} | {fmt_us(r[2])} "
                         f"| {r[3]} | {ratio:.2f} |")
            if name == "nomserve":
                chart.append((title, ratio))
    for name, r in logged.items():
        ratio = r[0] / logged["nginx"][0]
        lines.append(f"| small file, 50 conns, access log ON | {name} | {r[0]:,.0f} | "
                     f"{fmt_us(r[1])} | {fmt_us(r[2])} | {r[3]} | {ratio:.2f} |")
    if memory:
        lines.append("")
        lines.append("| resident memory, 1,000 idle keep-alive connections | MiB |")
        lines.append("|---|---:|")
        for name, kib in memory.items():
            lines.append(f"| {name} (all its processes) | {kib / 1024:.1f} |")
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

    header = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
              f"{os.cpu_count()} cores ({platform.machine()}), {args.rounds} alternating rounds "
              f"of {args.duration} s per server and scenario, best round shown; wrk -t2 on the "
              f"same machine. nomserve with RUST_LOG=warn and its default worker count, nginx "
              f"{subprocess.run(['nginx', '-v'], capture_output=True, text=True).stderr.strip().split('/')[-1]} "
              f"with 2 workers, sendfile on, tcp_nopush on (off for the pipelined row), access_log off; both keep idle connections "
              f"{KEEP_ALIVE} and admit {MAX_CONNECTIONS:,} connections.")
    table = "\n".join(lines)
    print()
    print(header)
    print(table)
    if not args.no_write:
        (BENCH / "RESULTS.md").write_text(
            f"# Benchmark results\n\n{header}\n\nProduced by `python3 bench/run.py`.\n\n"
            f"![nomserve / nginx](ratios.svg)\n\n{table}\n")
        (BENCH / "ratios.svg").write_text(svg_chart(chart))


if __name__ == "__main__":
    main()
