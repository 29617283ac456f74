#!/usr/bin/env python3
"""axes against django-axes, in one run, on this machine.

    scripts/bench/run.py [--quick] [--no-write]

What it does, unattended (about 10-15 minutes; --quick: about 2):

1. builds `axes` (`cargo build --release -p axes-cli`) and installs wrk
   with apt-get when it is missing;
2. makes a throwaway virtualenv outside the repository ($TMPDIR/axes-bench-venv)
   with Django 5.2, django-axes 8.x and gunicorn from PyPI;
3. starts, one after the other, each server on 127.0.0.1 with the same
   lockout settings (failure limit 5, one lockout per (IP address, username)
   pair, the client address from X-Forwarded-For sent by 127.0.0.1):
   - django-axes: scripts/bench/django_site under gunicorn, 2 sync workers,
     the database handler on SQLite (WAL), the MD5 password hasher;
   - `axes demo --password-hasher fast` on each store: memory, SQLite, and
     PostgreSQL / MySQL / Redis when AXES_BENCH_POSTGRES_URL /
     AXES_BENCH_MYSQL_URL / AXES_BENCH_REDIS_URL are set (a scratch database,
     or key prefix, made for the run and removed after it);
   - the same `axes demo` with `enabled = false` (the unprotected server);
4. drives each with the same wrk workloads (scripts/bench/login.lua):
   (a) wrong logins from distinct clients, (b) successful logins (the access
   log written), (c) a locked client hammering, (d) a username spray from
   one address, (e) a flood of up to 1 000 000 distinct clients, and (f)
   during that flood, logins from another address at a low rate, their
   latency before and during (a small client in this script);
5. runs the store micro benches (`cargo bench -p axes-cli --bench
   store_records`);
6. writes the figures between the markers of BENCHMARKS.md and the plot
   docs/bench.svg.

Every server is started in its own process group and stopped (by its id)
when the script ends, fails or is interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "scripts" / "bench"
LUA = HERE / "login.lua"
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
TICK = os.sysconf("SC_CLK_TCK")
USER, PASSWORD = "alice", "wonderland"
LIMIT = 5
WRK = ["wrk", "-t1", "-c4", "--timeout", "10s", "--latency"]
# Where each workload's numbering starts, so that runs on one server never
# reuse a client (see login.lua).
BASE = {"warm": 15_000_000, "fail": 0, "success": 2_000_000, "spray": 3_000_000,
        "flood": 4_000_000}

SCENARIOS = [
    ("fail", "(a) wrong logins, distinct clients"),
    ("success", "(b) successful logins"),
    ("locked", "(c) a locked client hammering"),
    ("spray", "(d) username spray, one address"),
    ("flood", "(e) flood of distinct clients"),
]

_children: list[subprocess.Popen] = []
_cleanups: list = []


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stop_all() -> None:
    """Stops the servers this script started (their process groups, by id)."""
    for p in _children:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in _children:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _children.clear()
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as e:  # noqa: BLE001 - cleanup must go on
            log(f"cleanup failed: {e}")


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def run(cmd, **kw) -> str:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, within: float = 60) -> None:
    deadline = time.time() + within
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not come up")


# ---- /proc ----

def tree(pid: int) -> list[int]:
    """pid and its descendants."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])  # utime, stime
        except OSError:
            pass
    return total


def peak_rss_mib(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


# ---- load ----

def wrk(port: int, mode: str, secs: float, base: int = 0, cap: int = 0,
        conns: int = 4) -> dict:
    cmd = WRK[:2] + [f"-c{conns}", f"-d{max(1, round(secs))}s"] + WRK[3:] + [
        "-s", str(LUA), f"http://127.0.0.1:{port}", "--", mode, str(base), str(cap)]
    out = subprocess.run(cmd, check=True, text=True, capture_output=True,
                         timeout=secs + 60).stdout
    m = lambda pat: re.search(pat, out)  # noqa: E731
    reqs = int(m(r"TOTAL requests:(\d+)").group(1))
    dur = int(m(r"duration_us:(\d+)").group(1)) / 1e6
    capped = int(m(r"CAPPED elapsed_us:(\d+)").group(1)) / 1e6
    if capped > 0:  # the cap was reached before the time bound
        dur = capped
    return {
        "requests": reqs,
        "rps": reqs / dur if dur else 0.0,
        "p50_ms": int(m(r"p50_us:(\d+)").group(1)) / 1000,
        "p99_ms": int(m(r"p99_us:(\d+)").group(1)) / 1000,
        "statuses": m(r"STATUSES (.*)").group(1).strip(),
        "command": " ".join(["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(secs))}s",
                             "--timeout", "10s", "--latency", "-s",
                             "scripts/bench/login.lua", "URL", "--", mode, str(base),
                             str(cap)]),
    }


class Prober(threading.Thread):
    """Successful logins of alice from one address, one at a time, about
    `rate` a second, on one keep-alive connection: their latencies."""

    def __init__(self, port: int, address: str, rate: float = 50):
        super().__init__(daemon=True)
        self.port, self.address, self.pause = port, address, 1 / rate
        self.mark = "idle"
        self.times: dict[str, list[float]] = {"idle": [], "flood": []}
        self.failures = 0
        self.halt = threading.Event()

    def run(self) -> None:
        body = urllib.parse.urlencode({"username": USER, "password": PASSWORD})
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Forwarded-For": self.address}
        conn = None
        while not self.halt.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                t = time.perf_counter()
                conn.request("POST", "/login", body, headers)
                r = conn.getresponse()
                r.read()
                took = time.perf_counter() - t
                if r.status in (200, 303):
                    self.times[self.mark].append(took * 1000)
                else:
                    self.failures += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                conn = None
            self.halt.wait(self.pause)

    def quantiles(self, mark: str) -> tuple[float, float, int]:
        xs = sorted(self.times[mark])
        if not xs:
            return (float("nan"), float("nan"), 0)
        q = statistics.quantiles(xs, n=100, method="inclusive") if len(xs) > 1 else [xs[0]] * 99
        return (q[49], q[98], len(xs))


# ---- servers ----

class Server:
    name: str
    port: int
    proc: subprocess.Popen
    command: str

    def pids(self) -> list[int]:
        return tree(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc in _children:
            _children.remove(self.proc)


def start(cmd: list[str], env: dict, cwd: Path, logfile: Path) -> subprocess.Popen:
    with open(logfile, "w") as out:
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    _children.append(p)
    return p


class Django(Server):
    def __init__(self, venv: Path, work: Path):
        self.name, self.port = "django-axes", free_port()
        site = HERE / "django_site"
        env = dict(os.environ, PYTHONPATH=str(site), BENCH_DB=str(work / "django.sqlite3"),
                   DJANGO_SETTINGS_MODULE="benchsite.settings")
        py = str(venv / "bin" / "python")
        run([py, "-m", "django", "migrate", "-v0"], env=env, cwd=work)
        run([py, "-m", "django", "shell", "-c",
             "from django.contrib.auth.models import User; "
             f"User.objects.create_user({USER!r}, password={PASSWORD!r})"], env=env, cwd=work)
        cmd = [str(venv / "bin" / "gunicorn"), "benchsite.wsgi:application", "--workers", "2",
               "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}"]
        self.command = " ".join(["gunicorn"] + cmd[1:]).replace(str(self.port), "PORT")
        self.proc = start(cmd, env, work, work / "django.log")
        wait_up(self.port, self.proc)


class AxesDemo(Server):
    def __init__(self, binary: Path, name: str, toml: str, work: Path):
        self.name, self.port = name, free_port()
        config = work / "axes.toml"
        settings = (f"failure_limit = {LIMIT}\n"
                    'lockout_parameters = [["ip_address", "username"]]\n'
                    'trusted_proxies = ["127.0.0.1/32"]\n' + toml)
        config.write_text(settings)
        self.settings = settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("AXES_")}
        if "database_url" in toml:
            run([str(binary), "--config", str(config), "migrate"], env=env, cwd=work)
        cmd = [str(binary), "--config", str(config), "demo", "--listen",
               f"127.0.0.1:{self.port}", "--user", f"{USER}:{PASSWORD}",
               "--password-hasher", "fast"]
        self.command = ("axes --config axes.toml demo --listen 127.0.0.1:PORT "
                        f"--user {USER}:{PASSWORD} --password-hasher fast")
        self.proc = start(cmd, env, work, work / "axes.log")
        wait_up(self.port, self.proc)


def measure(server: Server, fn) -> dict:
    pids = server.pids()
    before = cpu_ticks(pids)
    r = fn()
    after = cpu_ticks(server.pids())
    n = max(r["requests"], 1)
    r["cpu_us"] = (after - before) / TICK * 1e6 / n
    r["rss_mib"] = peak_rss_mib(server.pids())
    return r


def bench_server(server: Server, secs: float, flood_cap: int, flood_secs: float) -> dict:
    port = server.port
    out: dict = {"name": server.name, "command": server.command}
    wrk(port, "fail", min(2, secs), base=BASE["warm"])  # warm-up
    for mode in ("fail", "success"):
        log(f"{server.name}: {mode}")
        out[mode] = measure(server, lambda m=mode: wrk(port, m, secs, base=BASE[m]))
    log(f"{server.name}: locked")
    wrk(port, "locked", 1, cap=2 * LIMIT + 2, conns=1)  # lock the client out
    out["locked"] = measure(server, lambda: wrk(port, "locked", secs))
    log(f"{server.name}: spray")
    out["spray"] = measure(server, lambda: wrk(port, "spray", secs, base=BASE["spray"]))
    log(f"{server.name}: flood of up to {flood_cap} clients")
    prober = Prober(port, "192.0.2.77")
    prober.start()
    time.sleep(min(5, secs))
    prober.mark = "flood"
    out["flood"] = measure(server, lambda: wrk(port, "fail", flood_secs, base=BASE["flood"],
                                               cap=flood_cap))
    prober.halt.set()
    prober.join()
    out["probe"] = {"idle": prober.quantiles("idle"), "flood": prober.quantiles("flood"),
                    "failures": prober.failures}
    out["rss_mib"] = peak_rss_mib(server.pids())
    return out


# ---- stores ----

def scratch_sql(kind: str, url: str, name: str) -> str:
    """Creates database `name` next to the one of `url`; returns its URL
    and registers its removal."""
    u = urllib.parse.urlsplit(url)
    if kind == "postgres":
        run(["psql", url, "-qc", f"CREATE DATABASE {name}"])
        _cleanups.append(lambda: run(["psql", url, "-qc", f"DROP DATABASE IF EXISTS {name}"]))
    else:
        args = ["mysql", "-h", u.hostname or "127.0.0.1", "-P", str(u.port or 3306),
                "-u", u.username or "root"] + ([f"-p{u.password}"] if u.password else [])
        run(args + ["-e", f"CREATE DATABASE {name}"])
        _cleanups.append(lambda: run(args + ["-e", f"DROP DATABASE IF EXISTS {name}"]))
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, ""))


def axes_configs(work: Path, stamp: str) -> list[tuple[str, str]]:
    configs = [
        ("unprotected", 'enabled = false\nhandler = "memory"\n'),
        ("memory", 'handler = "memory"\n'),
        ("SQLite", f'handler = "database"\ndatabase_url = "sqlite://{work}/axes-sqlite.db"\n'),
    ]
    name = f"axes_bench_{stamp}"
    if url := os.environ.get("AXES_BENCH_POSTGRES_URL"):
        configs.append(("PostgreSQL", f'handler = "database"\n'
                        f'database_url = "{scratch_sql("postgres", url, name)}"\n'))
    if url := os.environ.get("AXES_BENCH_MYSQL_URL"):
        configs.append(("MySQL", f'handler = "database"\n'
                        f'database_url = "{scratch_sql("mysql", url, name)}"\n'))
    if url := os.environ.get("AXES_BENCH_REDIS_URL"):
        prefix = f"axesbench{stamp}:"
        configs.append(("Redis", f'handler = "cache"\ncache_url = "{url}"\n'
                        f'cache_prefix = "{prefix}"\n'))

        def drop_keys():
            keys = run(["redis-cli", "-u", url, "--scan", "--pattern", prefix + "*"]).split()
            for i in range(0, len(keys), 500):
                run(["redis-cli", "-u", url, "DEL"] + keys[i:i + 500])
        _cleanups.append(drop_keys)
    return configs


# ---- set-up ----

def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("installing wrk")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)


def ensure_venv() -> Path:
    venv = Path(os.environ.get("AXES_BENCH_VENV",
                               Path(tempfile.gettempdir()) / "axes-bench-venv"))
    if not (venv / "bin" / "gunicorn").exists():
        log(f"making the virtualenv {venv}")
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", "Django>=5.2,<6",
             "django-axes[ipware]>=8,<9", "gunicorn"])
    return venv


def build() -> Path:
    log("cargo build --release -p axes-cli")
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "axes-cli"], check=True,
                   cwd=ROOT)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "axes"


MICRO = [
    ("axes-core", "engine", "`Axes::authenticate` (or `check`) in a loop on one thread on the "
     "memory store, no HTTP"),
    ("axes-cli", "store_attempt", "`Axes::authenticate` with a wrong password (reservation and "
     "outcome: one store round trip), 1000 sequential attempts after a warm-up, per store"),
    ("axes-cli", "store_records", "one reservation and its release (`Store::reserve` + "
     "`Store::release`, as for a right password) and one reservation of a new client (a "
     "failure), after N records of other clients were added (a bounded store, like the "
     "memory store, may hold fewer); medians of "
     "sequential calls, no HTTP. The records are made through `Store::reserve`, within a "
     "fill budget of 30 s per size"),
]


def micro_benches(quick: bool) -> list[tuple[str, str, str]]:
    """(command, what, Markdown table) of each micro bench."""
    env = dict(os.environ)
    for store in ("POSTGRES", "MYSQL", "REDIS"):
        if url := os.environ.get(f"AXES_BENCH_{store}_URL"):
            env[f"AXES_TEST_{store}_URL"] = url
        else:
            env.pop(f"AXES_TEST_{store}_URL", None)
    env.pop("CI", None)  # a store without its URL is skipped, not a failure
    if quick:
        env["AXES_BENCH_QUICK"] = "1"
    out = []
    for crate, bench, what in MICRO:
        cmd = ["cargo", "bench", "-q", "-p", crate, "--bench", bench]
        log(" ".join(cmd))
        r = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True)
        if r.returncode != 0:
            log(f"{bench} failed:\n{r.stderr[-2000:]}")
            table = "(this bench failed in this run)"
        else:
            table = "\n".join(line for line in r.stdout.splitlines() if line.startswith("|"))
        out.append((" ".join(c for c in cmd if c != "-q"), what, table))
    return out


def versions(venv: Path, binary: Path) -> dict:
    freeze = run([str(venv / "bin" / "pip"), "freeze"]).split()
    pick = lambda p: next((x for x in freeze if x.lower().startswith(p)), p + "?")  # noqa: E731
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores ({cpu}), "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                   f"Linux {platform.release()}",
        "axes": run([str(binary), "--version"]).strip(),
        "rustc": run(["rustc", "--version"]).strip(),
        "python": platform.python_version(),
        "django": " ".join([pick("django=="), pick("django-axes=="), pick("gunicorn=="),
                            pick("python-ipware==")]),
        "wrk": subprocess.run(["wrk", "--version"], text=True,
                              capture_output=True).stdout.splitlines()[0].split(" [")[0],
        "git": run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip(),
    }


# ---- report ----

def fmt(x: float, digits: int = 0) -> str:
    if x != x:  # NaN
        return "–"
    return f"{x:,.{digits}f}".replace(",", " ")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def markdown(results: list[dict], meta: dict, micro: list, args) -> str:
    by = {r["name"]: r for r in results}
    dj, bare = by.get("django-axes"), by.get("unprotected")
    lines = [BEGIN, "", f"Measured {meta['date']} by `scripts/bench/run.py"
             f"{' --quick' if args.quick else ''}` (git {meta['git']}), on {meta['machine']}.",
             "", f"Versions: {meta['axes']}, {meta['rustc']}; Python {meta['python']}, "
             f"{meta['django']}; {meta['wrk']}.", ""]
    if args.quick:
        lines += ["**A `--quick` run (2 s windows): for trying the script, not for "
                  "reading figures.**", ""]
    lines += [
        f"Every scenario is one wrk window of {args.secs:g} s (`wrk -t1 -c4`, the load "
        "generator on the same cores); the flood stops at "
        f"{args.flood_cap:,} requests or {args.flood_secs:g} s. Server CPU is utime+stime "
        "of the server's processes (gunicorn: master and workers) from `/proc` before and "
        "after the window, per request; RSS is the peak (VmHWM, summed over the "
        "processes) after the window. Ratios: requests/s against django-axes and against "
        "the unprotected server (`axes demo` with `enabled = false`) of this run.", ""]
    for mode, title in SCENARIOS:
        lines += [f"### {title}", "",
                  "| server | requests/s | × django-axes | × unprotected | p50 ms | p99 ms "
                  "| CPU µs/request | peak RSS MiB | statuses |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in results:
            s = r[mode]
            lines.append(
                f"| {r['name']} | {fmt(s['rps'])} | "
                f"{ratio(s['rps'], dj[mode]['rps']) if dj else '–'} | "
                f"{ratio(s['rps'], bare[mode]['rps']) if bare else '–'} | "
                f"{fmt(s['p50_ms'], 2)} | {fmt(s['p99_ms'], 2)} | {fmt(s['cpu_us'])} | "
                f"{fmt(s['rss_mib'], 1)} | {s['statuses']} |")
        if mode == "flood":
            lines += ["", "Distinct clients reached: " + ", ".join(
                f"{r['name']} {r['flood']['requests']:,}".replace(",", " ") for r in results)
                + "."]
        lines.append("")
    lines += ["### (f) logins from another address during the flood", "",
              "alice, right password, one address, about 50 a second on one connection "
              "(a Python client in the script): before the flood and during it.", "",
              "| server | p50 ms idle | p99 ms idle | p50 ms flood | p99 ms flood "
              "| p99 flood / idle | logins idle / flood | failed |",
              "|---|---|---|---|---|---|---|---|"]
    for r in results:
        (i50, i99, ni), (f50, f99, nf) = r["probe"]["idle"], r["probe"]["flood"]
        lines.append(f"| {r['name']} | {fmt(i50, 2)} | {fmt(i99, 2)} | {fmt(f50, 2)} | "
                     f"{fmt(f99, 2)} | {ratio(f99, i99) if i99 == i99 else '–'} | "
                     f"{ni} / {nf} | {r['probe']['failures']} |")
    for cmd, what, table in micro:
        lines += ["", f"### `{cmd}`", "", what + ".", "", table]
    lines += ["", "### Commands", "", "```sh"]
    lines += [f"# {r['name']}: {r['command']}" for r in results]
    seen = set()
    for r in results[:1]:
        for mode, _ in SCENARIOS:
            if r[mode]["command"] not in seen:
                seen.add(r[mode]["command"])
                lines.append(r[mode]["command"])
    lines += ["```", "", "axes settings of every `axes demo` run (plus `handler`, "
              "`database_url` / `cache_url`, and `enabled = false` for the unprotected "
              "server):", "", "```toml", f"failure_limit = {LIMIT}",
              'lockout_parameters = [["ip_address", "username"]]',
              'trusted_proxies = ["127.0.0.1/32"]', "```", "",
              "django-axes: `scripts/bench/django_site/benchsite/settings.py` "
              "(`AXES_LOCKOUT_PARAMETERS = [[\"ip_address\", \"username\"]]`, "
              "`AXES_FAILURE_LIMIT = 5`, database handler, SQLite WAL, MD5 hasher).", "", END]
    return "\n".join(lines)


def svg(results: list[dict]) -> str:
    """Grouped bars: requests/s per server for (a), (b), (c), (d)."""
    modes = [m for m, _ in SCENARIOS if m != "flood"]
    colours = {"django-axes": "#c0392b", "unprotected": "#7f8c8d"}
    palette = ["#2471a3", "#17a589", "#7d3c98", "#d68910", "#2e4053"]
    names = [r["name"] for r in results]
    for i, n in enumerate(x for x in names if x not in colours):
        colours[n] = palette[i % len(palette)]
    top = max((r[m]["rps"] for r in results for m in modes), default=1) or 1
    w, h, left, bottom, head = 760, 340, 70, 60, 40
    group = (w - left - 20) / len(modes)
    bar = (group - 20) / max(len(results), 1)
    scale = (h - bottom - head) / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">'
           'Login requests per second (one run, same machine, higher is better)</text>']
    for k in range(5):
        v = top * k / 4
        y = h - bottom - v * scale
        out.append(f'<line x1="{left}" x2="{w - 10}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
    labels = dict(SCENARIOS)
    for g, m in enumerate(modes):
        x0 = left + g * group + 10
        for i, r in enumerate(results):
            v = r[m]["rps"]
            bh = v * scale
            x = x0 + i * bar
            out.append(f'<rect x="{x:.1f}" y="{h - bottom - bh:.1f}" width="{bar - 2:.1f}" '
                       f'height="{bh:.1f}" fill="{colours[r["name"]]}">'
                       f'<title>{r["name"]}: {v:,.0f}/s</title></rect>')
        out.append(f'<text x="{x0 + (group - 20) / 2:.1f}" y="{h - bottom + 16}" '
                   f'text-anchor="middle">{labels[m].split(" ", 1)[1][:30]}</text>')
    lx = left
    for n in names:
        out.append(f'<rect x="{lx}" y="{h - 22}" width="12" height="12" fill="{colours[n]}"/>')
        out.append(f'<text x="{lx + 16}" y="{h - 12}">{n}</text>')
        lx += 22 + 7 * len(n)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(md: str, svg_text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + md + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + md + "\n"
    path.write_text(text)
    (ROOT / "docs" / "bench.svg").write_text(svg_text)
    log("wrote BENCHMARKS.md and docs/bench.svg")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 s windows, a small flood")
    ap.add_argument("--no-write", action="store_true", help="print, do not write the files")
    ap.add_argument("--no-micro", action="store_true", help="skip the store micro benches")
    args = ap.parse_args()
    args.secs = 2.0 if args.quick else 10.0
    args.flood_cap = 30_000 if args.quick else 1_000_000
    args.flood_secs = 4.0 if args.quick else 50.0

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    atexit.register(stop_all)

    ensure_wrk()
    binary = build()
    venv = ensure_venv()
    work = Path(tempfile.mkdtemp(prefix="axes-bench-"))
    _cleanups.append(lambda: shutil.rmtree(work, ignore_errors=True))
    stamp = time.strftime("%Y%m%d%H%M%S")
    meta = versions(venv, binary)
    results = []
    for name, toml in [("django-axes", None)] + axes_configs(work, stamp):
        d = work / name
        d.mkdir()
        log(f"starting {name}")
        server = Django(venv, d) if toml is None else AxesDemo(binary, name, toml, d)
        try:
            results.append(bench_server(server, args.secs, args.flood_cap, args.flood_secs))
        finally:
            server.stop()
    micro = [] if args.no_micro else micro_benches(args.quick)
    (work.parent / f"axes-bench-{stamp}.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=1))
    md = markdown(results, meta, micro, args)
    if args.no_write:
        print(md)
    else:
        write(md, svg(results))
        print(md)


if __name__ == "__main__":
    main()
