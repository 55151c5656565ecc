"""Benchmark: reads under load at 1, 16 and 64 concurrent clients, beside ``/healthz`` (issue 16).

    python -m bench.load [--interactions 3000] [--seconds 10] [--clients 1,16,64]
                         [--configs sqlite:1,postgresql:2] [--compare REF]
                         [--night-requests 200] [--repeat 1]

For each configuration (database : worker processes): a fresh database with demo
interactions (``archivist demo``), an admin token, then ``archivist serve --workers N
--no-scheduler``. At each number of clients, for ``--seconds`` each and one after another on
the same server: ``GET /healthz``, a search by phone (``GET /api/v1/interactions?phone=``),
a details view (``GET /api/v1/interactions/{id}``) and a recording range read (``Range:
bytes=0-65535``), each client a keep-alive connection sending its next request when the
last one answered. Reported: requests/s, median and p99 latency of the answered requests,
errors (not 2xx), timeouts (no answer within 2 s), and the throughput as a share of
``/healthz`` at the same number of clients.

``--night-requests N`` (default 200; 0 leaves them out) adds, after that, two measurements
during a nightly run (issue 26): N anonymization requests for customers' phones are added
through the API, ``archivist nightly`` is started beside the server, and ``/healthz`` (first
night) and the search (a second night with N other customers) are measured at the largest
number of clients from the moment the night starts until it ends (at least one second); the
night's own wall time is reported.

``--repeat R`` runs each configuration R times on fresh databases and servers, before and after
alternating; each row is then the median over the runs (throughput, median and p99 latency, the
share of ``/healthz`` of each run), errors and timeouts summed.

``--compare REF`` measures the code of git commit REF the same way first (exported with
``git archive`` into a temporary directory and put first on ``PYTHONPATH``; its own
migrations make its database; served by its own ``archivist serve --workers N``, or, in code
from before that option, by its app factory under ``uvicorn --workers N``, which runs no
background audit chaining), so that before and after come from the same run.
The load generator is one asyncio process (httpx2) on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench.common import fresh_database, median, percentile, table, write_result

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 2.0
KINDS = ("healthz", "search", "details", "recording")
_CLI = "from archivist.cli import main; main()"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Targets:
    token: str
    phones: list[str]
    ids: list[str]
    recordings: list[str]


def _env(code: Path | None, url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVIST_")}
    env |= {"ARCHIVIST_DATABASE_URL": url, "ARCHIVIST_DATA_DIR": str(data_dir)}
    if code is not None:
        env["PYTHONPATH"] = str(code / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", _CLI, *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


@contextmanager
def _code_of(ref: str | None) -> Iterator[Path | None]:
    if ref is None:
        yield None
        return
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="archivist-bench-code-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _targets(url: str, token: str) -> Targets:
    headers = {"Authorization": f"Bearer {token}"}
    items: list[dict[str, Any]] = []
    params = {"limit": "500"}
    for _ in range(4):  # enough customers for the searches and for two nights' requests
        page = httpx.get(f"{url}/api/v1/interactions", params=params, headers=headers, timeout=30).json()
        items += page["items"]
        if not page.get("next_cursor"):
            break
        params["cursor"] = page["next_cursor"]
    phones = sorted({i["customer"]["phone"] for i in items if (i.get("customer") or {}).get("phone")})
    phones = [p for p in phones if p.isdigit() or p.startswith("00")] or phones
    return Targets(
        token=token,
        phones=phones,
        ids=[i["id"] for i in items][:200],
        recordings=[i["id"] for i in items if i.get("has_recording")][:200],
    )


def _request(kind: str, targets: Targets, rng: random.Random) -> tuple[str, dict[str, str], dict[str, str]]:
    auth = {"Authorization": f"Bearer {targets.token}"}
    if kind == "healthz":
        return "/healthz", {}, {}
    if kind == "search":
        return "/api/v1/interactions", {"phone": rng.choice(targets.phones), "limit": "50"}, auth
    if kind == "details":
        return f"/api/v1/interactions/{rng.choice(targets.ids)}", {}, auth
    return f"/api/v1/interactions/{rng.choice(targets.recordings)}/recording", {}, auth | {"Range": "bytes=0-65535"}


async def _load(url: str, kind: str, targets: Targets, clients: int, seconds: float) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits) as client:
        end = time.perf_counter() + seconds

        async def one(n: int) -> None:
            rng = random.Random(n)
            while time.perf_counter() < end:
                path, params, headers = _request(kind, targets, rng)
                started = time.perf_counter()
                try:
                    response = await client.get(path, params=params, headers=headers)
                except httpx.TimeoutException:
                    tally.timeouts += 1
                    continue
                except httpx.HTTPError:
                    tally.errors += 1
                    continue
                if response.status_code >= 300:
                    tally.errors += 1
                else:
                    tally.latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(clients)))
        tally.seconds = time.perf_counter() - started
    return tally


def _night(
    server_url: str, env: dict[str, str], kind: str, targets: Targets, phones: list[str], clients: int
) -> tuple[Tally, float]:
    """Add a request per phone, then load ``kind`` from the night's start to its end."""
    auth = {"Authorization": f"Bearer {targets.token}"}
    for phone in phones:
        response = httpx.post(f"{server_url}/api/v1/anonymization-requests", json={"phone": phone}, headers=auth)
        response.raise_for_status()
    # The searches go on among the customers the night does not erase.
    rest = Targets(targets.token, [p for p in targets.phones if p not in set(phones)], targets.ids, targets.recordings)
    started = time.perf_counter()
    night = subprocess.Popen([sys.executable, "-c", _CLI, "nightly"], env=env, stdout=subprocess.DEVNULL)

    async def until_done() -> Tally:
        total = Tally()
        while True:
            tally = await _load(server_url, kind, rest, clients, 1.0)
            total.latencies += tally.latencies
            total.errors += tally.errors
            total.timeouts += tally.timeouts
            total.seconds += tally.seconds
            if night.poll() is not None:
                return total

    tally = asyncio.run(until_done())
    wall = time.perf_counter() - started
    if night.wait() != 0:
        raise RuntimeError("the nightly run failed")
    return tally, wall


def measure(
    backend: str,
    workers: int,
    interactions: int,
    clients: list[int],
    seconds: float,
    code: Path | None,
    night_requests: int = 0,
) -> tuple[dict[tuple[int | str, str], Tally], list[str]]:
    database = fresh_database(backend) if code is None else _bare_database(backend)
    with database as url, tempfile.TemporaryDirectory(prefix="archivist-bench-load-") as tmp:
        env = _env(code, url, Path(tmp) / "var")
        _cli(env, "init")
        _cli(env, "demo", "--interactions", str(interactions))
        _cli(env, "user", "create", "bench-admin", "--role", "admin")
        token = _cli(env, "token", "create", "bench-admin").strip().splitlines()[-1]
        port = _free_port()
        server_url = f"http://127.0.0.1:{port}"
        if code is None or "--workers" in _cli(env, "serve", "--help"):
            command = ["-c", _CLI, "serve", "--port", str(port), "--no-scheduler", "--workers", str(workers)]
        else:
            # Code before `serve --workers`: its app factory under uvicorn's own workers, no scheduler.
            command = ["-m", "uvicorn", "--factory", "archivist.web.app:create_app", "--port", str(port)]
            command += ["--workers", str(workers), "--no-access-log", "--timeout-worker-healthcheck", "30"]
        with (Path(tmp) / "server.log").open("wb") as log:
            process = subprocess.Popen([sys.executable, *command], env=env, stdout=log, stderr=log)
        try:
            _wait_ready(server_url, process)
            targets = _targets(server_url, token)
            asyncio.run(_load(server_url, "details", targets, 4, 1))  # warm every worker's pool
            results: dict[tuple[int | str, str], Tally] = {}
            nights: list[str] = []
            for n in clients:
                for kind in KINDS:
                    results[(n, kind)] = asyncio.run(_load(server_url, kind, targets, n, seconds))
                    tally = results[(n, kind)]
                    print(
                        f"  {backend}:{workers} {n:>3} clients {kind:<9} {tally.throughput:8.1f}/s "
                        f"errors {tally.errors} timeouts {tally.timeouts}",
                        file=sys.stderr,
                    )
            if night_requests:
                most = max(clients)
                for turn, kind in enumerate(("healthz", "search")):
                    phones = targets.phones[turn * night_requests : (turn + 1) * night_requests]
                    tally, wall = _night(server_url, env, kind, targets, phones, most)
                    results[(f"{most}, during a night of {len(phones)} requests", kind)] = tally
                    nights.append(f"{backend}, {workers} workers: the night of `{kind}` took {wall:.1f} s")
                    print(
                        f"  {backend}:{workers} {most:>3} clients {kind:<9} during a night {tally.throughput:8.1f}/s "
                        f"errors {tally.errors} timeouts {tally.timeouts} (night {wall:.1f} s)",
                        file=sys.stderr,
                    )
            return results, nights
        finally:
            process.terminate()
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:  # a server still draining a backlog: the figures are taken
                process.kill()
                process.wait()


@contextmanager
def _bare_database(backend: str) -> Iterator[str]:
    """An empty database (no schema) for older code, whose own ``archivist init`` migrates it."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="archivist-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bench.common import POSTGRES_SERVER

    server = make_url(POSTGRES_SERVER)
    name = f"archivist_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def rows_of(label: str, config: str, runs: list[dict[tuple[int | str, str], Tally]]) -> list[list[str]]:
    """One row per (clients, request): over the runs, the median of throughput, of the median and
    of the p99 latency and of the share of ``/healthz`` (each run's own); errors and timeouts summed."""
    rows = []
    for key in runs[0]:
        n, kind = key
        tallies = [run[key] for run in runs]
        shares = [
            run[key].throughput / run[(n, "healthz")].throughput
            for run in runs
            if (n, "healthz") in run and run[(n, "healthz")].throughput
        ]
        answered = [t.latencies for t in tallies if t.latencies]
        rows.append(
            [
                label,
                config,
                str(n),
                f"`{kind}`",
                f"{median([t.throughput for t in tallies]):.0f}",
                _ms(median([median(lat) for lat in answered])) if answered else "-",
                _ms(median([percentile(lat, 99) for lat in answered])) if answered else "-",
                str(sum(t.errors for t in tallies)),
                str(sum(t.timeouts for t in tallies)),
                "1" if kind == "healthz" else (f"{median(shares):.2f}" if shares else "-"),
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interactions", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--configs", default="sqlite:1,postgresql:2")
    parser.add_argument("--compare", default=None, help="also measure this git commit's code first")
    parser.add_argument(
        "--night-requests", type=int, default=200, help="also measure during a night of N requests (0: not)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (medians reported)")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    rows: list[list[str]] = []
    notes: list[str] = []
    load = os.getloadavg()[0]
    for backend, workers in configs:
        refs = [args.compare, None] if args.compare else [None]
        runs: dict[str | None, list[dict[tuple[int | str, str], Tally]]] = {ref: [] for ref in refs}
        for _ in range(args.repeat):  # before and after alternate, so a change in the machine hits both
            for ref in refs:
                with _code_of(ref) as code:
                    results, nights = measure(
                        backend, workers, args.interactions, clients, args.seconds, code, args.night_requests
                    )
                runs[ref].append(results)
                notes += [f"{'before' if ref else 'this code'}, {night}" for night in nights]
        for ref in refs:
            label = f"before ({ref})" if ref else "this code"
            rows += rows_of(label, f"{backend}, {workers} process{'es' if workers > 1 else ''}", runs[ref])
    headers = [
        "code",
        "server",
        "clients",
        "request",
        "requests/s",
        "median ms",
        "p99 ms",
        "errors",
        "timeouts",
        "vs `/healthz`",
    ]
    text_ = table(headers, rows) + "".join(f"\n\n{note}" for note in notes)
    text_ += f"\n\nload average at the start: {load:.1f}"
    print(text_)
    print(f"written to {write_result('load', text_)}", file=sys.stderr)


if __name__ == "__main__":
    main()
