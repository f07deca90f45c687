# Graft's set-up and everyday commands. `make test` is what CI runs.
#
#   make deps    install the Debian packages Graft needs (only those missing)
#   make build   build everything (debug)
#   make test    install what is missing, build, run the whole test suite (and its
#                data-parallel tests again under mpirun -np 2), then build the examples
#                package and run each example for a few steps
#   make examples  build the examples (Examples/, a separate package using Graft by path) and
#                run each with its default settings, printing its final metric
#   make train   train BYOL on Fashion-MNIST, then print its linear probe and kNN beside the baselines
#   make ablations  the paper's ablations in miniature (graft experiment all): 23 short training
#                runs, each evaluated; tables and charts in Docs/results/ (about 2 hours on 2 cores)
#   make fuzz    a fuzz campaign: the suite's fuzz tests with 100 times their cases and a new seed
#                (FUZZ_SEED=N repeats one; FUZZ_CASES=100 is the suite's own size)
#   make bench-compare        byol-t and byol-s steps timed beside the same step in PyTorch
#   make bench-compare-check  from the same weights and views, do Graft's and PyTorch's losses agree?
#   make bench-memory         peak resident memory of a process running the step, Graft and PyTorch
#   make bench-loop           graft train's time per step against graft bench's (one epoch, 2 rounds)

DEBIAN_PACKAGES := llvm-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist graphviz libopenmpi-dev openmpi-bin
SWIFT ?= swift

.PHONY: deps build test test-mpi train ablations examples examples-smoke fuzz bench-venv bench-compare bench-compare-check bench-memory bench-loop bench-replica-statistics

deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) test-mpi
	$(MAKE) examples-smoke

# The data-parallel suite again as the two ranks of an MPI job (Open MPI; as root it needs
# --allow-run-as-root): each rank trains on half of each batch and must match one process.
MPIRUN := mpirun --allow-run-as-root --oversubscribe
test-mpi: deps
	$(MPIRUN) -np 2 "$$($(SWIFT) build --show-bin-path)/GraftPackageTests.xctest" --testing-library swift-testing --filter DataParallelTests

EXAMPLES := lenet autoencoder byol-custom-encoder

# Each example for 3 optimizer steps on 1,000 images, writing its IR at every stage: proves
# that a package outside Graft builds, compiles, trains, evaluates and dumps its own model.
examples-smoke: deps
	cd Examples && $(SWIFT) build
	for e in $(EXAMPLES); do \
	  (cd Examples && .build/debug/$$e --steps 3 --images 1000 --out .build/smoke/$$e --dump-ir .build/smoke/$$e/ir) || exit 1; \
	done

# Each example with its default settings (a few minutes in all on 2 cores).
examples: deps
	cd Examples && $(SWIFT) build -c release
	for e in $(EXAMPLES); do (cd Examples && .build/release/$$e) || exit 1; done

# The default run, chosen by measurement (Docs/Results.md): byol-t256 (ResNet-T widened to 256
# features by a 1×1 convolution before the pool), 19 epochs, LARS learning rate 4.0, crops of
# at least 25% of the image; about 30 minutes of training on 2 cores.
TRAIN_MODEL ?= byol-t256
TRAIN_EPOCHS ?= 19
TRAIN_LR ?= 4.0
TRAIN_MIN_CROP ?= 0.25
TRAIN_OUT ?= runs/byol

train: deps
	$(SWIFT) build -c release --product graft
	.build/release/graft train $(TRAIN_MODEL) --epochs $(TRAIN_EPOCHS) --lr $(TRAIN_LR) --min-crop-scale $(TRAIN_MIN_CROP) --out $(TRAIN_OUT)
	.build/release/graft plot $(TRAIN_OUT)/metrics.jsonl -o $(TRAIN_OUT)
	.build/release/graft eval $(TRAIN_OUT)/checkpoint.safetensors --with-baselines

# BYOL against its collapsing variants, BYOL against SimCLR over batch sizes and over the
# augmentations, each run ABLATION_EPOCHS epochs in runs/experiments/ (a finished run is kept,
# an interrupted one resumes); Docs/Results.md reads the tables.
ABLATION_EPOCHS ?= 2

ablations: deps
	$(SWIFT) build -c release --product graft
	.build/release/graft experiment all --epochs $(ABLATION_EPOCHS)

# The fuzz tests (IR text and pass lists, safetensors files, IDX files, stored training options,
# command-line values) with GRAFT_FUZZ_CASES percent of their cases; each prints its seed.
FUZZ_SEED ?= $(shell date +%s)
FUZZ_CASES ?= 10000

fuzz: deps
	$(SWIFT) build --build-tests
	GRAFT_FUZZ_SEED=$(FUZZ_SEED) GRAFT_FUZZ_CASES=$(FUZZ_CASES) $(SWIFT) test --skip-build --filter 'FuzzTests'

# Side by side with PyTorch (bench/compare.py; PyTorch lives in an ignored virtualenv and is
# never a dependency of Graft). Rounds alternate `graft bench` and PyTorch's modes.
BENCH_VENV ?= .build-bench/venv
BENCH_ROUNDS_T ?= 5
BENCH_ROUNDS_S ?= 3
BENCH_THREADS ?= 2

bench-venv:
	VENV=$(BENCH_VENV) sh bench/setup-venv.sh

bench-compare: deps bench-venv
	$(SWIFT) build -c release --product graft
	$(BENCH_VENV)/bin/python bench/compare.py bench --model byol-t --rounds $(BENCH_ROUNDS_T) --steps 10 --threads $(BENCH_THREADS)
	$(BENCH_VENV)/bin/python bench/compare.py bench --model byol-s --rounds $(BENCH_ROUNDS_S) --steps 4 --threads $(BENCH_THREADS)

bench-memory: deps bench-venv
	$(SWIFT) build -c release --product graft
	$(BENCH_VENV)/bin/python bench/compare.py memory --model byol-t --steps 3
	$(BENCH_VENV)/bin/python bench/compare.py memory --model byol-s --steps 3

# Needs only Python 3: no virtualenv.
bench-loop: deps
	$(SWIFT) build -c release --product graft
	python3 bench/loop.py --rounds 2

bench-compare-check: deps bench-venv
	$(SWIFT) build -c release --product graft
	$(BENCH_VENV)/bin/python bench/compare.py check --model byol-t --steps 3
	$(BENCH_VENV)/bin/python bench/compare.py check --model byol-s --steps 2

# Cross-replica against per-replica BatchNorm statistics: the first 30 steps of byol-t in one
# process and on 2 and 8 mpirun ranks (Docs/Distributed.md).
bench-replica-statistics: deps
	$(SWIFT) build -c release --product graft
	sh bench/replica-statistics.sh
