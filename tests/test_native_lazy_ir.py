"""Native code from the object cache runs without the IR builders: a native search whose modules are all cached
imports none of them (they load on a cache miss only), and one built from an empty cache gives the same result."""

import json
import os
import subprocess
import sys

import pytest

from azlang.backends.native import available

pytestmark = pytest.mark.skipif(not available(), reason="no native backend here")

IR_MODULES = ("context", "irutil", "kernel_ir", "lanes", "lanes_simd", "lowering", "skeleton", "search_loop_ir",
              "search_dce_ir", "search_emit", "search_eval", "sigmoid_cuts")

RUN = """
import json, sys
from azlang.search.config import override
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config
from azlang.tasks.build import build_tasks
cfg = override(demo_config(), {"evolution.population": 30, "evolution.tournament": 5, "stop.max_individuals": 300,
    "stop.max_experiments": 1, "tasks.search": ("linear:F4:D4:N40:V20",), "tasks.select": ("linear:F4:D6:N50:V20",),
    "tasks.final": ("linear:F4:D3:N50:V20:S9:P8",), "run.random_seed": 3, "run.backend": "native"})
r = run_experiment(cfg, None)
build_tasks("linear:F4:D2:N3000:V10")  # a long Gaussian fill (native fills.py)
print(json.dumps({"result": [r.select_fitness, r.search_fitness, r.final_fitness, r.individuals, r.train_steps, r.text],
                  "loaded": sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("azlang.backends.native."))}))
"""


def run(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cached_native_search_loads_no_ir_builder_and_matches_a_cold_build(tmp_path):
    cold = run({"AZLANG_CACHE_DIR": str(tmp_path)})  # empty cache: every module is built (IR imported)
    warm = run({"AZLANG_CACHE_DIR": str(tmp_path)})  # the same modules, now from the cache
    assert warm["result"] == cold["result"]
    assert {"kernel_ir", "search_loop_ir"} <= set(cold["loaded"])
    assert {"kernel", "search_loop", "search_dce", "evaluator", "driver", "fills"} <= set(warm["loaded"])
    assert not set(IR_MODULES) & set(warm["loaded"]), warm["loaded"]


def test_ir_names_stay_reachable_where_code_generation_looks_for_them():
    from azlang.backends.native import abi, context, kernel_ir, layout, search_dce, search_dce_ir

    assert context.Layout is layout.Layout and context.LIBM == layout.LIBM  # re-exported for the emitters
    assert abi.TASK_FN_TYPE.return_type is not None and abi.LANES_FN_TYPE.args  # made on first use
    assert search_dce_ir.width is search_dce.width and callable(kernel_ir.build_module)
    with pytest.raises(AttributeError):
        abi.NO_SUCH_SLOT  # noqa: B018
