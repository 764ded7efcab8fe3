# The two commands of the README: `make lab` and `make test`. Both create the
# Python environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.requirements-installed
# Tools the targets start (molecule starts ansible-playbook) come from .venv.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := lab
.PHONY: lab lab-down lab-clean test test-debian test-upgrade test-recovery lint unit bad-input app-test molecule bench venv clean

venv: $(READY)

$(READY): requirements.txt requirements-run.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "Python 3.11 or newer is required as '$(PYTHON)' (set PYTHON=...)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
	  { echo "'$(PYTHON) -m venv' failed: install the venv module (Debian/Ubuntu: apt-get install python3-venv)."; exit 1; }
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# The variables the targets below read. Make ignores any other, so a
# misspelt one (FLAVOR=, MANGERS=) would silently change nothing: refused.
KNOWN_VARIABLES := MANAGERS WORKERS FLAVOUR SWARM DEBIAN SCENARIO APT_CHECK_VALID_UNTIL RUNS SKIP COMPARE PYTHON VENV
GIVEN_VARIABLES := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
ifneq ($(filter-out $(KNOWN_VARIABLES),$(GIVEN_VARIABLES)),)
$(error Unknown variable(s): $(filter-out $(KNOWN_VARIABLES),$(GIVEN_VARIABLES)). This Makefile reads $(KNOWN_VARIABLES))
endif
ifneq ($(filter-out init none,$(SWARM)),)
$(error SWARM=$(SWARM): init (form the swarm before site.yml, FLAVOUR=pwd only) or none)
endif

# The lab's shape, written to inventories/lab/hosts.yml (not tracked) when
# given, and the first time: make lab MANAGERS=3 WORKERS=2 FLAVOUR=pwd SWARM=init.
# What is not given stays as the inventory has it.
LAB_SHAPE := $(if $(MANAGERS),-e swarm_lab_managers=$(MANAGERS)) $(if $(WORKERS),-e swarm_lab_workers=$(WORKERS)) \
  $(if $(FLAVOUR),-e swarm_lab_flavour=$(FLAVOUR)) $(if $(SWARM),-e swarm_lab_preinit=$(if $(filter init,$(SWARM)),true,false))
LAB_ARGS := $(if $(strip $(LAB_SHAPE)),$(LAB_SHAPE) -e swarm_lab_write_inventory=true)

## Bring up the local lab (node1..node3 on this machine's Docker) and provision it.
lab: $(READY)
	$(BIN)/ansible-playbook playbooks/lab.yml $(LAB_ARGS)

## Remove the lab's node containers, their data and their network; keep the images and the image archive.
lab-down: $(READY)
	$(BIN)/ansible-playbook playbooks/lab-nodes.yml -e swarm_lab_state=absent
	@echo "Kept for the next 'make lab': the images built on this machine, the gallery's image archive" \
	  "(gallery_archive_dir, ~/.cache/swarm-gallery by default) and the lab's inventory (inventories/lab/hosts.yml)." \
	  "'make lab-clean' removes the images and the archive too."

## make lab-down, then also the images built here and the gallery's image archive (the next lab builds them again).
lab-clean: $(READY)
	$(BIN)/ansible-playbook playbooks/lab-clean.yml

## What CI runs: lint, unit tests, the bad-input suite, the gallery's tests, then every Molecule scenario.
test: lint unit bad-input app-test molecule

lint: $(READY)
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --offline --profile production

unit: $(READY)
	$(BIN)/pytest -q tests/unit

# Malformed inventories and variables, each refused before any change.
bad-input: $(READY)
	$(BIN)/pytest -q tests/badinput

# The gallery service's own tests, against a real redis-server.
app-test:
	cd app && npm ci --no-audit --no-fund --silent && npm test

# molecule test with the arguments given; a failed test's message is
# printed mid-scenario, and again last.
MOLECULE_TEST = $(BIN)/molecule test $(1) || { $(BIN)/python tests/failures.py artifacts/junit-*.xml; exit 1; }

molecule: $(READY)
	rm -f artifacts/junit-*.xml
	$(call MOLECULE_TEST,--all --exclude upgrade --exclude recovery)

## A Debian 12 cluster moved to Debian 13 and its engine by upgrade.yml under load (a system upgrade per node: minutes).
test-upgrade: $(READY)
	rm -f artifacts/junit-*.xml
	$(call MOLECULE_TEST,-s upgrade)

## Backup and disaster recovery on three managers and a worker: a lost quorum,
## then every manager's state, restored (backup.yml, restore.yml, restore-redis.yml: about 18 minutes).
test-recovery: $(READY)
	rm -f artifacts/junit-*.xml
	$(call MOLECULE_TEST,-s recovery)

## A scenario on nodes of another Debian release (make test's run Debian 13):
## make test-debian [DEBIAN=bookworm] [SCENARIO=default] [APT_CHECK_VALID_UNTIL=false]
DEBIAN ?= bookworm
SCENARIO ?= default
APT_CHECK_VALID_UNTIL ?= true
test-debian: $(READY)
	rm -f artifacts/junit-*.xml
	export SWARM_APT_CHECK_VALID_UNTIL=$(APT_CHECK_VALID_UNTIL); for suite in $(DEBIAN); do \
	  export SWARM_DEBIAN=$$suite; $(call MOLECULE_TEST,-s $(SCENARIO)); \
	done

## Time the project against a plain shell script on labs of its own (see docs/benchmarks.md);
## make bench COMPARE=<git ref>: site.yml of that ref beside this checkout's, run by run.
bench: $(READY)
	$(BIN)/python bench/benchmark.py $(if $(RUNS),--runs $(RUNS)) $(if $(SKIP),--skip $(SKIP)) \
	  $(if $(COMPARE),--compare '$(COMPARE)')

clean:
	rm -rf $(VENV)
