"""The photo-to-3D pipeline against raw pycolmap, on the same synthetic photos.

For each photo set (12 photos at 640x480, 30 at 1600x1200, rendered at run time), the two are run
in turn, each in a fresh process, `--repeats` times, interleaved so that the machine's state
weighs on both alike:

- raw: pycolmap alone, as a script would call it: SIFT features (one shared camera), exhaustive
  matching, incremental mapping. No mesh, no export.
- pipeline: `pipeline.reconstruct.run`, every stage: prepare (orientation, scaling), features,
  matching, sparse reconstruction, Poisson mesh, `.glb`/`.ply` export and the preview picture.

Reported per set: the median wall time of the work (measured inside the process, after
imports) and the peak resident memory of the process (`wait4`), for each, and their ratios.
The target is a pipeline at most 1.25x raw pycolmap. Results print as a table and are written
to `bench/results/<date>-pipeline.json`.

    python -m bench.pipeline [--repeats N] [--sets small,large]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SETS = {"small": (12, (640, 480)), "large": (30, (1600, 1200))}
TARGET_RATIO = 1.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", 2)))
    parser.add_argument("--sets", default="small,large")
    args = parser.parse_args()

    from pipeline import synthetic

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "repeats": args.repeats,
        "target_ratio": TARGET_RATIO,
        "sets": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch:
        for name in args.sets.split(","):
            count, size = SETS[name]
            photos = Path(scratch) / name / "photos"
            print(f"Rendering {count} photos at {size[0]}x{size[1]}...", file=sys.stderr)
            synthetic.make_photos(photos, count=count, size=size, seed=7)
            runs = {"raw": [], "pipeline": []}
            for repeat in range(args.repeats):
                for kind in runs:
                    workdir = Path(scratch) / name / f"{kind}-{repeat}"
                    run = _measure(kind, photos, workdir)
                    runs[kind].append(run)
                    print(
                        f"  {name} {kind:8} run {repeat + 1}: {run['seconds']:.1f} s, "
                        f"{run['peak_mb']:.0f} MB, {run['registered']} placed, "
                        f"{run['points']} points",
                        file=sys.stderr,
                    )
            report["sets"][name] = _summary(count, size, runs)
    _print_table(report)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-pipeline.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\nWritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )


def _measure(kind: str, photos: Path, workdir: Path) -> dict:
    """Run one reconstruction in a child process; its own timing, and its peak memory."""
    command = [sys.executable, "-m", "bench.pipeline_child", kind, str(photos), str(workdir)]
    log = workdir.with_suffix(".log")
    with log.open("w") as errors:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, cwd=Path(__file__).parents[1]
        )
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{kind} reconstruction failed (exit {code}):\n{log.read_text()[-3000:]}")
    result = json.loads(output)
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def _summary(count: int, size: tuple[int, int], runs: dict[str, list[dict]]) -> dict:
    median = {
        kind: {
            "seconds": statistics.median(run["seconds"] for run in results),
            "peak_mb": statistics.median(run["peak_mb"] for run in results),
            "registered": min(run["registered"] for run in results),
            "points": min(run["points"] for run in results),
        }
        for kind, results in runs.items()
    }
    raw, pipeline = median["raw"], median["pipeline"]
    return {
        "photos": count,
        "size": f"{size[0]}x{size[1]}",
        "raw": raw,
        "pipeline": pipeline,
        "stages": {
            stage: statistics.median(run["timings"][stage] for run in runs["pipeline"])
            for stage in runs["pipeline"][0]["timings"]
        },
        "time_ratio": round(pipeline["seconds"] / raw["seconds"], 3),
        "memory_ratio": round(pipeline["peak_mb"] / raw["peak_mb"], 3),
        "runs": runs,
    }


def _print_table(report: dict) -> None:
    print(
        f"\n{'set':<22}{'raw s':>8}{'pipe s':>8}{'ratio':>7}"
        f"{'raw MB':>9}{'pipe MB':>9}{'ratio':>7}{'placed':>8}{'points':>8}"
    )
    for row in report["sets"].values():
        label = f"{row['photos']} @ {row['size']}"
        raw, pipeline = row["raw"], row["pipeline"]
        print(
            f"{label:<22}{raw['seconds']:>8.1f}{pipeline['seconds']:>8.1f}"
            f"{row['time_ratio']:>7.2f}{raw['peak_mb']:>9.0f}{pipeline['peak_mb']:>9.0f}"
            f"{row['memory_ratio']:>7.2f}{pipeline['registered']:>8}{pipeline['points']:>8}"
        )
        stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in row["stages"].items())
        print(f"{'':<22}pipeline stages: {stages}")
    misses = [
        f"{name}: {row[key]:.2f}x {what}"
        for name, row in report["sets"].items()
        for key, what in (("time_ratio", "time"), ("memory_ratio", "memory"))
        if row[key] > TARGET_RATIO
    ]
    print(
        f"Target: at most {TARGET_RATIO}x raw pycolmap. "
        + ("Missed: " + "; ".join(misses) if misses else "Met.")
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s in all)", file=sys.stderr)
