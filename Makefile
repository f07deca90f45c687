# Graft's set-up and everyday commands. `make test` is what CI runs.
#
#   make deps    install the Debian packages Graft needs (only those missing)
#   make build   build everything (debug)
#   make test    install what is missing, build, run the whole test suite
#   make train   train BYOL on Fashion-MNIST, then print its linear probe and kNN beside the baselines

DEBIAN_PACKAGES := llvm-dev libopenblas-dev zlib1g-dev dataset-fashion-mnist graphviz
SWIFT ?= swift

.PHONY: deps build test train

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

# The default run, chosen by measurement (Docs/Results.md): byol-t, 25 epochs, LARS learning
# rate 4.0, crops of at least 25% of the image; about 25 minutes of training on 2 cores.
TRAIN_MODEL ?= byol-t
TRAIN_EPOCHS ?= 25
TRAIN_LR ?= 4.0
TRAIN_MIN_CROP ?= 0.25
TRAIN_OUT ?= runs/byol

train: deps
	$(SWIFT) build -c release --product graft
	.build/release/graft train $(TRAIN_MODEL) --epochs $(TRAIN_EPOCHS) --lr $(TRAIN_LR) --min-crop-scale $(TRAIN_MIN_CROP) --out $(TRAIN_OUT)
	.build/release/graft plot $(TRAIN_OUT)/metrics.jsonl -o $(TRAIN_OUT)
	.build/release/graft eval $(TRAIN_OUT)/checkpoint.safetensors --with-baselines
