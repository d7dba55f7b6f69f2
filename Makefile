# lvlm-var: `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/lvlm-var
DATA ?= data/synthetic
EXP ?= experiments/synthetic_laiar.yaml
STAMP := $(VENV)/.installed
# This machine has the torch/torchvision pair on disk; an unpinned torch would download several GB.
TORCH_PIN := torch==2.14.1 torchvision==0.29.1
# pytest-xdist workers for the test targets: one per CPU (`make test PYTEST_WORKERS=0` runs serially).
# --dist loadfile keeps a test file on one worker, so its module fixtures are built once.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help install demo test test-full lint bench seeds ablation fit validate test-exp predict data clean \
	data-charades data-charades-ambiguous extract-features demo-rgb

help: ## show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): setup.cfg constraints.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## create .venv (if missing) and install the package with its pinned dependencies

$(DATA)/.complete: | $(STAMP)
	$(CLI) generate-synthetic --out $(DATA)

data: $(DATA)/.complete ## generate the embedded synthetic data sets (seconds)

CHARADES_SYN ?= data/synthetic_charades
$(CHARADES_SYN)/charades/Charades_v1_classes.txt: | $(STAMP)
	$(PY) -m datamodules.synthetic.charades_scale --out $(CHARADES_SYN)

data-charades: $(CHARADES_SYN)/charades/Charades_v1_classes.txt ## the Charades-scale synthetic set (157 classes, ~1 min)

CHARADES_AMBIGUOUS ?= data/synthetic_charades_ambiguous
$(CHARADES_AMBIGUOUS)/charades/Charades_v1_classes.txt: | $(STAMP)
	$(PY) -m datamodules.synthetic.charades_scale --out $(CHARADES_AMBIGUOUS) --feature-noise 3

data-charades-ambiguous: $(CHARADES_AMBIGUOUS)/charades/Charades_v1_classes.txt ## the same set, box features as ambiguous as real ones (noise 3)

AG ?= data/action_genome
extract-features: $(STAMP) ## RoI features of AG=data/action_genome frames: features_oracle/ and features_detected/ (WEIGHTS=file)
	$(CLI) extract-features --ag-dir $(AG) --out $(AG)/features_oracle --mode oracle $(if $(WEIGHTS),--weights $(WEIGHTS))
	$(CLI) extract-features --ag-dir $(AG) --out $(AG)/features_detected --mode predicted $(if $(WEIGHTS),--weights $(WEIGHTS))

RGB_DEMO ?= data/synthetic_rgb
demo-rgb: $(STAMP) ## synthetic PNG frames -> extract-features (RANDOM-INIT detector) -> LaIAR fit + test
	$(PY) -m experiments.demo_rgb --out $(RGB_DEMO)

demo: $(STAMP) $(DATA)/.complete ## install, generate data, run the main job and print its results
	$(PY) -m experiments.demo --data $(DATA)

test: $(STAMP) ## run the fast test suite
	$(PY) -m pytest -m "not slow and not gpu" -q $(PYTEST_PARALLEL)

test-full: $(STAMP) ## run every CPU test, slow ones included
	$(PY) -m pytest -m "not gpu" -q $(PYTEST_PARALLEL)

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check lvlm_var datamodules callbacks experiments tests

bench: $(STAMP) $(DATA)/.complete ## run the benchmarks, print tables, write bench_results/*.json
	$(PY) -m experiments.bench --data $(DATA)

seeds: $(STAMP) $(DATA)/.complete ## LVLM-VAR both stages for seeds 0 1 2: accuracies, mean and spread (runs/seeds)
	$(PY) -m experiments.lvlm_pipeline --data $(DATA) --out runs/seeds --seeds 0 1 2

ablation: $(STAMP) $(DATA)/.complete ## LaIAR Tables 1 and 2 re-run on the synthetic set (each cell a real run)
	$(PY) -m experiments.ablation --data $(DATA) $(ABLATION_ARGS)

fit: $(STAMP) $(DATA)/.complete ## train an experiment: make fit EXP=experiments/ntu60_xsub_lvlm.yaml
	$(CLI) fit --config $(EXP)

validate: $(STAMP) $(DATA)/.complete ## validate an experiment: make validate EXP=...
	$(CLI) validate --config $(EXP)

test-exp: $(STAMP) $(DATA)/.complete ## test an experiment: make test-exp EXP=... [CKPT=path; default its last checkpoint]
	$(CLI) test --config $(EXP) $(if $(CKPT),--ckpt_path $(CKPT))

predict: $(STAMP) $(DATA)/.complete ## predict with an experiment: make predict EXP=... [CKPT=path]
	$(CLI) predict --config $(EXP) $(if $(CKPT),--ckpt_path $(CKPT))

clean: ## remove generated data, runs and caches (keeps .venv)
	rm -rf data runs lightning_logs bench_results .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
