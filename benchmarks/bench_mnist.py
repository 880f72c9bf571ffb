"""Calibrate exercise 04: training time and test accuracy of the reference solution.

    /opt/venv/bin/python benchmarks/bench_mnist.py                 # chosen settings, 3 seeds
    /opt/venv/bin/python benchmarks/bench_mnist.py --sweep 5x128,6x256 --seeds 0,1,2
    /opt/venv/bin/python benchmarks/bench_mnist.py --quick-sizes 600,1000 --threads 1
    python benchmarks/bench_mnist.py --skip-full --deterministic --seeds 0-29 --repeat 2

Sweeps override the solution's EPOCHS and BATCH_SIZE and still call its train_model.
Full mode trains on all 60,000 training images; quick mode on the fixed stratified slice
from ``grader.mnist.data.quick_split``. Accuracy is always measured on the 10,000 test images.
Runs are sequential on purpose: timings are only comparable on an otherwise idle machine.
``--deterministic`` trains as the grader's quick mode does (``make_deterministic``: one
thread, deterministic ops, every generator seeded); ``--repeat`` runs each seed again to
show that the same seed gives the same accuracy.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.mnist import data as mnist  # noqa: E402
from grader.mnist.driver import import_keras, make_deterministic  # noqa: E402


def load_solution() -> ModuleType:
    """Import solutions/04_mnist_mlp.py (its name is not a valid module name)."""
    path = ROOT / "solutions" / "04_mnist_mlp.py"
    spec = importlib.util.spec_from_file_location("solution_04", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_once(
    solution: ModuleType,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    seed: int,
    settings: tuple[int, int] | None,
    deterministic: bool = False,
) -> tuple[float, float, float]:
    """Return (prepare+build+train seconds, fit seconds, test accuracy) for one seed."""
    keras = import_keras()
    if deterministic:
        make_deterministic(seed)
    else:
        keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    x, y = solution.prepare_data(*train)
    model = solution.build_model()
    chosen = solution.EPOCHS, solution.BATCH_SIZE
    if settings is not None:
        solution.EPOCHS, solution.BATCH_SIZE = settings
    fit_start = time.perf_counter()
    try:
        solution.train_model(model, x, y)
    finally:
        solution.EPOCHS, solution.BATCH_SIZE = chosen
    end = time.perf_counter()
    x_test = test[0].reshape(len(test[0]), 784).astype("float32") / 255
    predicted = model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1)
    return end - start, end - fit_start, float(np.mean(predicted == test[1]))


def report(label: str, runs: list[tuple[float, float, float]]) -> None:
    """Print one line per seed and a min/mean/max summary."""
    totals, fits, accs = (np.array(column) for column in zip(*runs, strict=True))
    print(
        f"{label:<34} fit {fits.min():5.2f}-{fits.max():5.2f}s (mean {fits.mean():5.2f})  "
        f"total<= {totals.max():5.2f}s  acc {accs.min():.4f}-{accs.max():.4f} "
        f"(mean {accs.mean():.4f})  per seed: {' '.join(f'{a:.4f}' for a in accs)}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="seeds: 0,1,2 or a range 0-29")
    parser.add_argument("--sweep", default="", help="EPOCHSxBATCH,... tried in full mode")
    parser.add_argument(
        "--quick-sizes",
        default=str(mnist.QUICK_PER_CLASS),
        help="images per class for the quick slice, comma-separated",
    )
    parser.add_argument("--quick-sweep", default="", help="EPOCHSxBATCH,... tried in quick mode")
    parser.add_argument("--threads", type=int, default=0, help="TF intra/inter-op threads")
    parser.add_argument("--skip-full", action="store_true", help="only run quick mode")
    parser.add_argument("--deterministic", action="store_true", help="as quick mode grades")
    parser.add_argument("--repeat", type=int, default=1, help="runs per seed")
    args = parser.parse_args()

    keras = import_keras()
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    seeds = [
        seed
        for part in args.seeds.split(",")
        for seed in (
            range(int(part.split("-")[0]), int(part.split("-")[1]) + 1)
            if "-" in part
            else [int(part)]
        )
        for _ in range(args.repeat)
    ]
    solution = load_solution()
    (x_train, y_train), test = mnist.load_data(mnist.BUNDLED_PATH)
    print(
        f"keras {keras.__version__}, cpus {os.cpu_count()}, threads {args.threads or 'default'},"
        f" solution EPOCHS={solution.EPOCHS} BATCH_SIZE={solution.BATCH_SIZE}",
        flush=True,
    )

    def settings_list(text: str) -> list[tuple[int, int] | None]:
        pairs = [tuple(int(v) for v in item.split("x")) for item in text.split(",") if item]
        return pairs or [None]

    def name(settings: tuple[int, int] | None) -> str:
        return "solution" if settings is None else f"{settings[0]} epochs x batch {settings[1]}"

    if not args.skip_full:
        for settings in settings_list(args.sweep):
            runs = [run_once(solution, (x_train, y_train), test, s, settings) for s in seeds]
            report(f"full 60000, {name(settings)}", runs)
    for per_class in (int(v) for v in args.quick_sizes.split(",")):
        quick = mnist.quick_split(x_train, y_train, per_class)
        for settings in settings_list(args.quick_sweep):
            runs = [run_once(solution, quick, test, s, settings, args.deterministic) for s in seeds]
            report(f"quick {len(quick[0])}, {name(settings)}", runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
