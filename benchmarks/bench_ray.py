"""Benchmark stage: island throughput, local processes vs Ray actors, and the cost of one migration round trip.

Throughput: the demo search (P=1000, T=10, FEC on, select/final skipped) with 1, 2 and 4 islands, each island
running `--individuals` individuals (so the work grows with the islands), under the local process executor
and the Ray executor (a private Ray on this machine, started once before timing). Seconds are the whole
search: workers or actors starting, building their tasks, evolving and stopping.

Round trips: what one island pays per migration (asking the coordinator whether migration is due, then
sending its report with P/2 emigrants and receiving as many immigrants) and per plain sweep (the report
alone; local workers also ask whether migration is due every sweep); for Ray through the coordinator
actor, for local processes through a pipe to a coordinator in another process (what ProcessExecutor does).

    python benchmarks/bench_ray.py [--individuals 20000] [--islands 1,2,4] [--round-trips 200]

A private Ray binds to the machine's own network address; to keep all of its traffic on loopback, run the
benchmark in a fresh network namespace (as root), as the cluster test does:

    unshare --net sh -c 'ip link set lo up && exec python benchmarks/bench_ray.py'
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from azlang.rng import Rng
from azlang.search.config import override
from azlang.search.executors import ProcessExecutor
from azlang.search.experiment import run_experiment
from azlang.search.generate import Generator
from azlang.search.islands import Coordinator, Report
from azlang.search.presets import demo_config


def config(islands: int, individuals: int):
    return override(
        demo_config(),
        {
            "stop.max_individuals": individuals * islands,
            "stop.max_train_steps": 1e18,  # stop by individuals only
            "stop.max_experiments": 1,
            "tasks.select": (),
            "tasks.final": (),
            "run.workers": islands,
            "run.random_seed": 1,
            "run.progress_every": individuals * islands // 10,
            "run.migrate_every": 5000,
        },
    )


def throughput(executor, islands: int, individuals: int) -> dict:
    """Whole-run individuals/s, and the steady rate between the first and the last progress line (start-up
    of workers or actors excluded)."""
    lines = []
    t = time.perf_counter()
    result = run_experiment(config(islands, individuals), executor=executor, progress=lines.append)
    seconds = time.perf_counter() - t
    p = [e for e in lines if e["event"] == "progress"]
    dt = p[-1]["time"] - p[0]["time"] if len(p) > 1 else 0.0
    steady = (p[-1]["individuals"] - p[0]["individuals"]) / dt if dt > 0 else float("nan")
    return {"seconds": seconds, "per_s": result.individuals / seconds, "steady": steady}


# --- migration round trips ---------------------------------------------------------------------------------


def emigrants(population: int) -> list:
    gen, rng = Generator(demo_config()), Rng(5)
    return [(rng.unit(), gen.model("random", rng)) for _ in range(population // 2)]


def report(island: int, individuals: int, batch) -> Report:
    return Report(island, individuals, 0, (0.0, 0.0, 0.0), (0, 0), (0, 0), batch)


def _pipe_coordinator(conn) -> None:
    """ProcessExecutor's side of the exchange, with a Coordinator that has every island's emigrants."""
    coord = Coordinator(2, Rng(1), 1, lambda reports: None)
    while (msg := conn.recv()) is not None:
        conn.send(coord.migration_due(0, msg))
        conn.send(coord.receive(conn.recv()))


def pipe_round_trips(batch, n: int) -> list[float]:
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=_pipe_coordinator, args=(child,), daemon=True)
    proc.start()
    times = []
    for i in range(n + 1):
        t = time.perf_counter()
        parent.send(i + 1)
        parent.recv()
        parent.send(report(i % 2, i + 1, batch))
        parent.recv()
        times.append(time.perf_counter() - t)
    parent.send(None)
    proc.join()
    return times[1:]  # the first waited for the process to start


def ray_round_trips(ray, batch, n: int) -> list[float]:
    from azlang.search.ray_actors import CoordinatorActor

    hub = ray.remote(CoordinatorActor).options(num_cpus=0).remote(2, Rng(1), 1)
    times = []
    for i in range(n + 1):
        t = time.perf_counter()
        if batch is not None:  # an island asks first only when its own clock says migration is due
            ray.get(hub.migration_due.remote(i % 2, i + 1))
        ray.get(hub.receive.remote(report(i % 2, i + 1, batch)))
        times.append(time.perf_counter() - t)
    ray.kill(hub)
    return times[1:]


def ms(times: list[float]) -> str:
    return f"{1000 * statistics.median(times):.2f} ms (p90 {1000 * sorted(times)[int(0.9 * len(times))]:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--individuals", type=int, default=20000, help="per island")
    ap.add_argument("--islands", default="1,2,4")
    ap.add_argument("--round-trips", type=int, default=200)
    args = ap.parse_args()
    from azlang.search.ray_executor import RayExecutor

    ray_ex = RayExecutor()
    ray_ex.connect()  # start Ray before timing: a cluster is started once, not per run
    print("| islands | local: indiv/s whole run (s) | local: steady | Ray: indiv/s whole run (s) | Ray: steady |")
    print("|---:|---:|---:|---:|---:|")
    for n in [int(x) for x in args.islands.split(",")]:
        local = throughput(ProcessExecutor(), n, args.individuals)
        on_ray = throughput(ray_ex, n, args.individuals)
        cells = [f"{r['per_s']:,.0f} ({r['seconds']:.1f}) | {r['steady']:,.0f}" for r in (local, on_ray)]
        print(f"| {n} | {cells[0]} | {cells[1]} |", flush=True)
    batch = emigrants(demo_config().evolution.population)
    print(f"\nround trips, {len(batch)} emigrants out and as many immigrants back per migration (median, p90):")
    rows = [
        ("local pipe, migration", pipe_round_trips(batch, args.round_trips)),
        ("local pipe, plain sweep report", pipe_round_trips(None, args.round_trips)),
        ("Ray actor, migration", ray_round_trips(ray_ex.ray, batch, args.round_trips)),
        ("Ray actor, plain sweep report", ray_round_trips(ray_ex.ray, None, args.round_trips)),
    ]
    for name, times in rows:
        print(f"  {name:32} {ms(times)}")


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    main()
