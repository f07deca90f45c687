#!/usr/bin/env python3
"""Graft's BYOL step side by side with the same step in PyTorch (bench/byol_torch.py).

  compare.py check --model byol-t [--steps 3]    same weights, same views: do the losses agree?
  compare.py bench --model byol-t [--rounds 5]   graft bench and PyTorch's modes, interleaved
  compare.py memory --model byol-t [--steps 3]   peak resident memory of a process running the step

`make bench-compare` and `make bench-compare-check` run these in the virtualenv that
bench/setup-venv.sh makes (.build-bench/venv). Both sides use 2 threads unless --threads says
otherwise. PyTorch is never a dependency of Graft itself.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import byol_torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".build-bench")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line(threads):
    load = os.getloadavg()
    return (f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
            f"threads: Graft --threads {threads}; PyTorch {torch.__version__} set_num_threads({threads}) → "
            f"{torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op, "
            f"CPU capability {torch.backends.cpu.get_cpu_capability()}; "
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return result.stdout


# ----- check: the same computation -----

DECLARATION = re.compile(r"^\s*(param|state) @(\S+) : f32\[([0-9,]*)\]")
INPUT = re.compile(r"%(\w+): f32\[([0-9,]*)\]")


def declarations(gir):
    """Params and state of a dumped graph, name → shape, and its inputs."""
    variables, inputs = {}, {}
    for line in gir.splitlines():
        if line.startswith("graph @"):
            inputs = {n: [int(d) for d in s.split(",") if d] for n, s in INPUT.findall(line.split("->")[0])}
        match = DECLARATION.match(line)
        if match:
            variables[match.group(2)] = [int(d) for d in match.group(3).split(",") if d]
    return variables, inputs


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def check(args):
    os.makedirs(WORK, exist_ok=True)
    model, batch = args.model, byol_torch.CONFIGS[args.model][5]
    lr = args.lr if args.lr is not None else byol_torch.default_lr(model)
    tau = byol_torch.tau_at_start()
    gir_path = os.path.join(WORK, f"{model}-step.gir")
    gir = run([args.graft, "dump", model, "--stage", "optimized"])
    with open(gir_path, "w") as f:
        f.write(gir)
    declared, inputs = declarations(gir)

    torch.set_num_threads(args.threads)
    reference = byol_torch.BYOLStep(model, seed=args.seed)
    values = reference.variables()
    missing = sorted(set(declared) - set(values))
    extra = sorted(set(values) - set(declared))
    wrong = sorted(n for n in set(declared) & set(values) if list(values[n].shape) != declared[n])
    if missing or extra or wrong:
        sys.exit(f"error: PyTorch's variables do not match @{model}'s: missing {missing[:5]}, extra {extra[:5]}, shapes {wrong[:5]}")
    print(machine_line(args.threads))
    print(f"{model}: {len(values)} variables (params, target, BN statistics, LARS momentum) match the IR's names and shapes; "
          f"{byol_torch.online_param_count(reference)} online params; lr {lr}, tau {tau}, {args.steps} steps")

    state = os.path.join(WORK, f"{model}-state-0.safetensors")
    save_file(values, state)
    # The same step in float64, from the same fp32 weights: the yardstick for fp32 round-off.
    exact = byol_torch.BYOLStep(model, seed=args.seed, dtype=torch.float64)
    exact.load_variables(values)
    generator = torch.Generator().manual_seed(args.seed + 1)
    worst = 0.0
    for k in range(args.steps):
        view1 = torch.rand(batch, 1, 28, 28, generator=generator)
        view2 = torch.rand(batch, 1, 28, 28, generator=generator)
        feed = {"view1": view1, "view2": view2, "learning_rate": torch.tensor(lr), "tau": torch.tensor(tau)}
        unknown = sorted(set(inputs) - set(feed))
        if unknown:
            sys.exit(f"error: @{model} has inputs this check does not know: {unknown}")
        inputs_path = os.path.join(WORK, f"{model}-inputs-{k}.safetensors")
        save_file({n: t.contiguous() for n, t in feed.items()}, inputs_path)
        after = os.path.join(WORK, f"{model}-state-{k + 1}.safetensors")
        run([args.graft, "run", gir_path, "--variables", state, "--inputs", inputs_path, "-o", after])
        graft_values = load_file(after)
        graft_loss, graft_monitor = graft_values["output.0"].item(), graft_values["output.1"].item()
        loss, monitor = (t.item() for t in reference.step(view1, view2, lr, tau))
        loss64, _ = (t.item() for t in exact.step(view1, view2, lr, tau))
        worst = max(worst, relative(graft_loss, loss))
        print(f"step {k + 1}: loss Graft {graft_loss:.7f}, PyTorch {loss:.7f} (relative {relative(graft_loss, loss):.1e}), "
              f"PyTorch float64 {loss64:.7f} (Graft {relative(graft_loss, loss64):.1e}, PyTorch {relative(loss, loss64):.1e} from it); "
              f"collapse monitor {graft_monitor:.7f} / {monitor:.7f}")
        state = after  # each side continues from its own state
    ours, exact_values = reference.variables(), exact.variables()
    initial = load_file(os.path.join(WORK, f"{model}-state-0.safetensors"))

    def error(a, b):  # normwise relative error ‖a − b‖ / ‖b‖
        return ((a.double() - b.double()).norm() / max(b.double().norm().item(), 1e-300)).item()

    # A bias followed by BatchNorm has a zero gradient in exact arithmetic (BN removes the
    # batch mean): its gradient and momentum are round-off on both sides, so they are listed
    # apart.
    def round_off_only(name):
        return ".fc1.bias" in name
    def group(name):
        if round_off_only(name):
            return "pre-BN biases' momentum (zero gradient up to round-off)" if name.startswith("optimizer.") else "pre-BN biases"
        if name.startswith("optimizer."):
            return "LARS momentum"
        if name.endswith(("running_mean", "running_var")):
            return "BN running statistics"
        return "online params" if name.startswith("online.") else "target params (EMA)"
    print(f"after {args.steps} steps, normwise relative error ‖x − x₆₄‖/‖x₆₄‖ against the float64 step, the largest in each group "
          f"(and how far the group moved: ‖x₆₄ − x₀‖/max(‖x₀‖, ‖x₆₄‖)):")
    print(f"  {'':56} {'Graft':>8} {'PyTorch':>8} {'moved':>8}")
    groups = {}
    for n in ours:
        row = groups.setdefault(group(n), [0.0, 0.0, 0.0])
        row[0] = max(row[0], error(graft_values[n], exact_values[n]))
        row[1] = max(row[1], error(ours[n], exact_values[n]))
        x, x0 = exact_values[n].double(), initial[n].double()
        row[2] = max(row[2], ((x - x0).norm() / max(x0.norm().item(), x.norm().item(), 1e-300)).item())
    for name, (graft_error, torch_error, moved) in groups.items():
        print(f"  {name:56} {graft_error:8.1e} {torch_error:8.1e} {moved:8.1e}")
    kept = [row for name, row in groups.items() if "round-off" not in name]
    graft_worst, torch_worst = max(r[0] for r in kept), max(r[1] for r in kept)
    ok = worst <= args.tolerance and graft_worst <= max(10 * torch_worst, args.tolerance)
    print(f"{'PASS' if ok else 'FAIL'}: largest relative loss difference {worst:.1e} (tolerance {args.tolerance:g}); "
          f"Graft's variables within {max(10 * torch_worst, args.tolerance):.1e} of float64 (10× PyTorch fp32's error, at least the tolerance)")
    return 0 if ok else 1


# ----- bench: interleaved timing -----

def time_graft(args):
    out = run([args.graft, "bench", args.model, "--json", "--steps", str(args.steps), "--threads", str(args.threads)])
    figures = json.loads(out.strip().splitlines()[-1])
    return figures["step_seconds"], figures


class TorchMode:
    def __init__(self, name, model, channels_last=False, compile=False):
        self.name, self.model = name, model
        self.step = byol_torch.BYOLStep(model, channels_last=channels_last, compile=compile)
        batch = byol_torch.CONFIGS[model][5]
        generator = torch.Generator().manual_seed(1)
        self.views = (torch.rand(batch, 1, 28, 28, generator=generator), torch.rand(batch, 1, 28, 28, generator=generator))
        self.lr, self.tau = byol_torch.default_lr(model), byol_torch.tau_at_start()
        self.first_seconds = None

    def run_step(self):
        loss, _ = self.step.step(*self.views, self.lr, self.tau)
        return loss.item()  # waits for the step, like graft's run

    def time(self, steps):
        """Median step seconds after two warm-up steps (graft bench's method)."""
        for _ in range(2):
            start = time.perf_counter()
            self.run_step()
            if self.first_seconds is None:
                self.first_seconds = time.perf_counter() - start
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            self.run_step()
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def make_modes(args):
    modes = [TorchMode("eager NCHW", args.model), TorchMode("eager channels_last", args.model, channels_last=True)]
    if not args.no_compile:
        try:
            mode = TorchMode("torch.compile", args.model, compile=True)
            start = time.perf_counter()
            mode.run_step()
            print(f"torch.compile: first step (compilation) {time.perf_counter() - start:.1f} s")
            modes.append(mode)
        except Exception as error:  # a missing C compiler, Python headers, an Inductor failure
            print(f"torch.compile skipped: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    return modes


def spread(values):
    median = statistics.median(values)
    return median, min(values), max(values)


def bench(args):
    torch.set_num_threads(args.threads)
    print(machine_line(args.threads))
    modes = make_modes(args)
    results = {"Graft": []}
    results.update({m.name: [] for m in modes})
    graft_rounds = []
    for round_index in range(args.rounds):
        seconds, figures = time_graft(args)
        graft_rounds.append(figures)
        results["Graft"].append(seconds)
        line = [f"Graft {seconds:.3f}"]
        for mode in modes:
            t = mode.time(args.steps)
            results[mode.name].append(t)
            line.append(f"{mode.name} {t:.3f}")
        print(f"round {round_index + 1}/{args.rounds} ({os.getloadavg()[0]:.2f} load): " + ", ".join(line) + " s/step")
    batch = byol_torch.CONFIGS[args.model][5]
    print(f"\n{args.model}, batch {batch}, {args.rounds} rounds of {args.steps} timed steps after 2 warm-up steps "
          f"(median of each round; the spread is the rounds' min–max)")
    print(f"{'':22} {'median s/step':>14} {'min':>8} {'max':>8} {'images/s':>9}")
    summary = {}
    for name, values in results.items():
        median, low, high = spread(values)
        summary[name] = {"median_seconds": median, "min_seconds": low, "max_seconds": high, "rounds": values}
        print(f"{name:22} {median:14.3f} {low:8.3f} {high:8.3f} {batch / median:9.0f}")
    fastest = min((n for n in results if n != "Graft"), key=lambda n: summary[n]["median_seconds"])
    ratio = summary[fastest]["median_seconds"] / summary["Graft"]["median_seconds"]
    def graft_median(key):
        return statistics.median(r.get(key, float("nan")) for r in graft_rounds)
    print(f"Graft is {ratio:.2f}× the speed of the fastest PyTorch mode ({fastest}). Graft, median over rounds: "
          f"ceiling_share {graft_median('ceiling_share'):.2f} (sgemm {graft_median('sgemm_gflops'):.0f} GFLOP/s, "
          f"BLAS core {graft_rounds[-1]['blas_core']}), peak_share {graft_median('peak_share'):.2f} "
          f"(FMA peak {graft_median('peak_gflops'):.0f} GFLOP/s on {args.threads} threads, "
          f"{graft_median('peak_gflops_1_thread'):.0f} on 1)")
    print(machine_line(args.threads))
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(WORK, f"compare-{args.model}.json"), "w") as f:
        json.dump({"model": args.model, "cpu": cpu_model(), "threads": args.threads, "torch": torch.__version__,
                   "results": summary, "fastest_torch": fastest, "graft_speedup": ratio, "graft_bench_rounds": graft_rounds,
                   "load_average_end": os.getloadavg()}, f, indent=1)
    return 0


# ----- memory: peak resident set size of a process running the step -----

def measured(cmd):
    """Peak resident set size in bytes of `cmd`: a fresh Python starts it and waits for it with
    wait4, whose usage is that child's alone (RUSAGE_CHILDREN would be the largest child so far)."""
    probe = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "_, status, usage = os.wait4(p.pid, 0); print(usage.ru_maxrss * 1024 if os.waitstatus_to_exitcode(status) == 0 else -1)")
    value = int(run([sys.executable, "-c", probe] + cmd).strip().splitlines()[-1])
    if value < 0:
        sys.exit(f"error: {' '.join(cmd)} failed")
    return value


def torch_step(args):
    """Runs `args.steps` steps of one PyTorch mode (the child process that `memory` measures)."""
    torch.set_num_threads(args.threads)
    if args.mode != "import":
        TorchMode(args.mode, args.model, channels_last=args.mode == "eager channels_last",
                  compile=args.mode == "torch.compile").time(args.steps)
    return 0


def memory(args):
    """Peak RSS of a process that builds the model and runs its step, for Graft and each PyTorch
    mode, and of the same process doing nothing (the framework loaded: `graft models`, `import
    torch`), so the step's own memory is the difference."""
    print(machine_line(args.threads))
    me = [sys.executable, os.path.abspath(__file__), "torch-step", "--model", args.model, "--threads", str(args.threads),
          "--steps", str(args.steps)]
    rows = [("Graft", measured([args.graft, "bench", args.model, "--steps", str(args.steps), "--threads", str(args.threads)]),
             measured([args.graft, "models"]))]
    baseline = measured(me + ["--mode", "import"])
    modes = ["eager NCHW", "eager channels_last"] + ([] if args.no_compile else ["torch.compile"])
    rows += [(mode, measured(me + ["--mode", mode]), baseline) for mode in modes]
    mib = 1 << 20
    print(f"\n{args.model}, peak resident memory of a process that builds the step and runs {args.steps} of them (+ 2 warm-up)")
    print(f"{'':22} {'peak MiB':>9} {'loaded MiB':>11} {'step MiB':>9}")
    summary = {}
    for name, peak, loaded in rows:
        summary[name] = {"peak_bytes": peak, "framework_bytes": loaded, "step_bytes": peak - loaded}
        print(f"{name:22} {peak / mib:9.0f} {loaded / mib:11.0f} {(peak - loaded) / mib:9.0f}")
    smallest = min((n for n in summary if n != "Graft"), key=lambda n: summary[n]["step_bytes"])
    print(f"Graft's step uses {summary['Graft']['step_bytes'] / summary[smallest]['step_bytes']:.2f}× the memory of the "
          f"leanest PyTorch mode ({smallest}); 'loaded' is the process with the framework loaded and no model "
          f"(`graft models`, `import torch`), 'step' the difference")
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(WORK, f"memory-{args.model}.json"), "w") as f:
        json.dump({"model": args.model, "cpu": cpu_model(), "threads": args.threads, "torch": torch.__version__,
                   "steps": args.steps, "results": summary}, f, indent=1)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "bench", "memory", "torch-step"):
        p = sub.add_parser(name)
        p.add_argument("--model", choices=sorted(byol_torch.CONFIGS), default="byol-t")
        p.add_argument("--graft", default=os.path.join(ROOT, ".build", "release", "graft"))
        p.add_argument("--threads", type=int, default=2)
        if name == "check":
            p.add_argument("--steps", type=int, default=3)
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--lr", type=float, default=None, help="default 0.2·B/256")
            p.add_argument("--tolerance", type=float, default=1e-4)
        elif name == "bench":
            p.add_argument("--rounds", type=int, default=5)
            p.add_argument("--steps", type=int, default=10)
            p.add_argument("--no-compile", action="store_true")
        else:
            p.add_argument("--steps", type=int, default=3)
            p.add_argument("--no-compile", action="store_true")
            p.add_argument("--mode", default="import", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "torch-step":
        return torch_step(args)
    if not os.access(args.graft, os.X_OK):
        sys.exit(f"error: {args.graft} is not built; run `swift build -c release --product graft` first")
    return {"check": check, "bench": bench, "memory": memory}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
