"""Run by tests/test_search_ray.py inside a private network namespace (loopback only): a local Ray cluster of
a head and two worker nodes runs the reduced demo with 4 islands, island 1's actor is killed mid-run, and
the outcome is printed as one JSON line for the test to check."""

import json
import os
import sys

MB = 2**20
CFG = {  # the demo, reduced: 4 islands of 50, a migration every 100 individuals per island
    "evolution.population": 50,
    "stop.max_individuals": 30000,
    "stop.max_experiments": 1,
    "tasks.select": (),
    "tasks.final": ("linear:F4:D10:N100:V100:S1000000:P2000000",),
    "run.workers": 4,
    "run.migrate_every": 100,
    "run.random_seed": 7,
    "run.progress_every": 500,
    "run.checkpoint_every": 0.3,
}


class Recording:
    """An executor wrapper that keeps the final island states of the last run."""

    def __init__(self, inner):
        self.inner, self.states = inner, None

    def run(self, jobs, coordinator, checkpoint, every):
        self.states = self.inner.run(jobs, coordinator, checkpoint, every)
        return self.states


def main(run_dir: str) -> None:
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray
    from ray.cluster_utils import Cluster

    from azlang.search.config import override
    from azlang.search.experiment import run_experiment
    from azlang.search.presets import demo_config
    from azlang.search.ray_executor import RayExecutor

    node = {"object_store_memory": 100 * MB}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "num_cpus": 0, "include_dashboard": False})
    for _ in range(2):
        cluster.add_node(**node, num_cpus=2)
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        ex = RayExecutor()
        rec, killed = Recording(ex), []

        def progress(event):  # kill island 1 once a checkpoint holds its population
            if event["event"] == "progress" and ex.checkpoints >= 1 and not killed:
                ray.kill(ex.islands[1], no_restart=False)
                killed.append(event["individuals"])

        r = run_experiment(override(demo_config(), CFG), run_dir, progress=progress, executor=rec)
        print(json.dumps({
            "node_ips": sorted(n["NodeManagerAddress"] for n in ray.nodes()),
            "killed": killed, "migrations": ex.migrations, "restarts": ex.restarts,
            "restored": [list(x) for x in ex.restored], "islands": [s.island for s in rec.states],
            "sizes": [len(s.programs) for s in rec.states], "stopped_by": r.stopped_by,
            "individuals": r.individuals, "final_fitness": r.final_fitness,
        }))
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
