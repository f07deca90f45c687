# Graft's set-up and everyday commands. `make test` is what CI runs.
#
#   make deps    install the Debian packages Graft needs (only those missing)
#   make build   build everything (debug)
#   make test    install what is missing, build, run the whole test suite
#   make train   train BYOL on Fashion-MNIST and print its evaluation (not yet available)

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

train: deps
	@echo "graft train is not available yet: training on Fashion-MNIST arrives with the backend and" >&2
	@echo "training issues (#4, #5). Today Graft traces, prints and interprets models: see README.md." >&2
	@exit 1
