#!/bin/sh
# The first 30 steps of byol-t (make train's settings, global batch 128) in one process and on
# 2 and 8 mpirun ranks, with cross-replica and with per-replica BatchNorm statistics; prints
# the loss the metrics log holds at steps 10, 20 and 30 of each run (Docs/Distributed.md).
# Usage: sh bench/replica-statistics.sh [output directory, default .build-bench/replica-statistics]
set -eu
graft=.build/release/graft
out=${1:-.build-bench/replica-statistics}
mpirun="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && mpirun="$mpirun --allow-run-as-root"
run="train byol-t --epochs 1 --lr 4.0 --min-crop-scale 0.25 --knn-train 0 --stop-at-step 30"
rm -rf "$out" && mkdir -p "$out"
$graft $run --out "$out/one" > /dev/null 2>&1
for n in 2 8; do
  $mpirun -np $n $graft $run --out "$out/cross-$n" > /dev/null 2>&1
  $mpirun -np $n $graft $run --per-replica-statistics --out "$out/per-$n" > /dev/null 2>&1
done
for run in one cross-2 cross-8 per-2 per-8; do
  python3 -c "
import json, sys
records = [json.loads(line) for line in open(sys.argv[2])]
print(sys.argv[1].ljust(8), ' '.join('step %d: %.5f' % (r['step'], r['loss']) for r in records if 'loss' in r))" "$run" "$out/$run/metrics.jsonl"
done
