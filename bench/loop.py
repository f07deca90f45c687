#!/usr/bin/env python3
"""The training loop against the step alone: does `graft train` spend more time per step
than `graft bench`?

  loop.py [--model byol-t256] [--epochs 1] [--rounds 2] [--bench-steps 30]

Each round runs `graft bench MODEL` (the step alone, on the same synthetic views every
step), then `graft train MODEL` for --epochs epochs on the real data with `make train`'s
settings (data preparation, the per-epoch kNN monitor, a checkpoint every epoch, the log and
the progress line), then `graft bench` again. It prints the loop's time per step (its whole
wall time, from the first batch to the last plot, over its steps), the loop's own summary
of where that time went, and its ratio to the mean step of the two benches around it.
Issue 13's goal: at most 1.05. Needs only Python 3 and a release build of graft.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"^time: (\d+) steps, ([0-9.]+) s each; .*\(([0-9.]+) s in all, ([0-9.]+) s of steps\)$", re.M)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return result


def bench(args):
    out = run([args.graft, "bench", args.model, "--steps", str(args.bench_steps), "--json"]).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return figures["step_seconds_mean"], figures["step_seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="byol-t256")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--bench-steps", type=int, default=30)
    parser.add_argument("--train-args", default="--lr 4.0 --min-crop-scale 0.25",
                        help="further flags of graft train (default: make train's)")
    parser.add_argument("--graft", default=os.path.join(ROOT, ".build", "release", "graft"))
    args = parser.parse_args()
    if not os.access(args.graft, os.X_OK):
        sys.exit(f"error: {args.graft} is not built; run `swift build -c release --product graft` first")
    load = os.getloadavg()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{args.model}: graft train --epochs {args.epochs} {args.train_args} against graft bench --steps {args.bench_steps} before and after\n")
    ratios = []
    for round in range(1, args.rounds + 1):
        before = bench(args)
        out = tempfile.mkdtemp(prefix="graft-loop-")
        try:
            train = run([args.graft, "train", args.model, "--epochs", str(args.epochs), "--out", out] + args.train_args.split())
        finally:
            shutil.rmtree(out, ignore_errors=True)
        after = bench(args)
        match = SUMMARY.search(train.stderr)
        if not match:
            sys.exit(f"error: graft train printed no `time:` summary:\n{train.stderr[-2000:]}")
        steps, step_mean, wall = int(match.group(1)), float(match.group(2)), float(match.group(3))
        bench_mean = (before[0] + after[0]) / 2
        ratio = wall / steps / bench_mean
        ratios.append(ratio)
        print(f"round {round}: bench mean step {before[0]:.4f} s before, {after[0]:.4f} s after (medians {before[1]:.4f}, {after[1]:.4f})")
        print(f"  train: {wall:.1f} s for {steps} steps = {wall / steps:.4f} s a step (the step itself {step_mean:.4f} s)")
        print(f"  {match.group(0)}")
        print(f"  train / bench: {ratio:.3f}\n")
    print(f"train / bench per step, median of {len(ratios)} rounds: {statistics.median(ratios):.3f} (goal: at most 1.05)")


if __name__ == "__main__":
    sys.exit(main())
