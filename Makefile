# The two commands a newcomer needs: `make run` and `make test`. Everything they need is
# installed on first use and only re-done when its inputs change.
SHELL := /bin/bash
comma := ,
.DEFAULT_GOAL := help

APP_VENV  := .venvs/app
RASA_VENV := .venvs/rasa
APP_PY    := $(APP_VENV)/bin/python
RASA_BIN  := $(RASA_VENV)/bin/rasa
OAI_SPEC  := var/twilio-oai/twilio_api_v2010.json
PIP_FLAGS := --disable-pip-version-check --no-input -q

# Rasa Open Source 3.6 pins its own stack (SQLAlchemy 1.4, TensorFlow 2.12), so it gets its
# own interpreter: 3.11, which Rasa does not declare but passes (DEVELOPERS.md, "Dependencies").
PYTHON312 ?= $(shell scripts/find_python.sh 3.12)
PYTHON311 ?= $(shell scripts/find_python.sh 3.11)
RASA_PYTHON_VERSION := 3.11
# Every install checks each file against the hash pinned for it (make requirements).
PIP_INSTALL := -m pip install $(PIP_FLAGS) --require-hashes

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help install run test lint unit-tests pg-tests sqlite-tests rasa-validate bench \
        model migrate demo-data requirements clean browsers nlu-eval bench-console audit \
        run-prod haproxy

help:
	@echo "make run    install what is missing, then start the whole service (dev phone, demo data)"
	@echo "make test   install what is missing, then lint, audit and run every test (SQLite and PostgreSQL)"
	@echo "make bench  print the pipeline's benchmark figures"
	@echo "make run-prod  the production layout on PostgreSQL and Redis (docs/DEPLOY.md)"

# The development venv: production's pins (requirements.txt) and the tools that build and
# test them (requirements-dev.txt holds both). Production installs requirements.txt alone.
$(APP_VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON312)" || { scripts/find_python.sh 3.12 --explain; exit 1; }
	@echo "==> building the app's virtual environment (Python 3.12)"
	@test -x $(APP_PY) || $(PYTHON312) -m venv $(APP_VENV)
	$(APP_PY) $(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

# --no-deps: the pins are complete, and one of them (matplotlib) overrides what Rasa declares
# (requirements-rasa.overrides), which pip's resolver would refuse. --ignore-requires-python:
# Rasa 3.6.21 declares Python <3.11. A venv on another Python is built again.
$(RASA_VENV)/.installed: requirements-rasa.txt
	@test -n "$(PYTHON311)" || { scripts/find_python.sh $(RASA_PYTHON_VERSION) --explain; exit 1; }
	@echo "==> building the Rasa server's virtual environment (Python $(RASA_PYTHON_VERSION)); the first time takes minutes"
	@$(RASA_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(RASA_PYTHON_VERSION))))' 2>/dev/null \
	  || { rm -rf $(RASA_VENV) && $(PYTHON311) -m venv $(RASA_VENV); }
	$(RASA_VENV)/bin/python $(PIP_INSTALL) --no-deps --ignore-requires-python -r requirements-rasa.txt
	@touch $@

$(OAI_SPEC): scripts/fetch_twilio_oai.sh
	@echo "==> fetching Twilio's OpenAPI description (npm package @twilio-alpha/mcp)"
	scripts/fetch_twilio_oai.sh
	@touch $@

install: $(APP_VENV)/.installed $(RASA_VENV)/.installed $(OAI_SPEC)

# Trains only when config.yml, bot/ or nlu/ changed (the model is named by their hash).
model: $(RASA_VENV)/.installed
	@scripts/train_model.sh

migrate: $(APP_VENV)/.installed
	@$(APP_VENV)/bin/flask --app webhooks db-upgrade

demo-data: migrate
	@$(APP_VENV)/bin/flask --app webhooks demo-data

run: install model demo-data
	@exec $(APP_PY) -m scripts.run_service

# Debian's haproxy balances the Rasa replicas of the production layout (apt-get, only when
# it is missing).
haproxy:
	@scripts/install_haproxy.sh

# The production layout (docs/DEPLOY.md): PostgreSQL, Redis, gunicorn, workers, two Rasa
# replicas behind haproxy, a scheduler and its standby. It migrates and checks first.
run-prod: install model haproxy
	@exec $(APP_PY) -m scripts.run_service --production

lint: $(APP_VENV)/.installed
	@echo "==> ruff and mypy"
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/ruff format --check .
	$(APP_VENV)/bin/mypy .

# The training data as train_model.sh sees it: never the held-out split in nlu/test/.
TRAIN_DATA = $(shell find nlu -name '*.yml' -not -path 'nlu/test/*' | sort) bot/rules

rasa-validate: $(RASA_VENV)/.installed model
	@echo "==> rasa data validate, and the test stories against the trained model"
	$(RASA_BIN) data validate --domain bot/domain.yml --data $(TRAIN_DATA) --fail-on-warnings
	$(RASA_BIN) test core --model var/rasa-models/current.tar.gz --stories bot/tests \
	  --fail-on-prediction-errors --out var/rasa-results

# Debian's chromium for the console's browser test (apt-get, only when /usr/bin/chromium is missing).
browsers:
	@scripts/install_browser.sh

# Intent macro-F1 per language and report_danger recall (safety net included) on the
# held-out split nlu/test/{en,cy} and the hard split nlu/test/hard/ (indirect, dialect and
# code-switched messages), which training never sees; fails below the bars (docs/NLU.md).
nlu-eval: $(APP_VENV)/.installed $(RASA_VENV)/.installed model
	@echo "==> NLU evaluation on the held-out and hard splits (nlu/test/)"
	$(APP_PY) -m scripts.nlu_eval

# pip-audit over both venvs against the accepted advisories (advisories.yml). Says plainly
# when no advisory database can be reached, and then fails only with AUDIT_REQUIRED=1.
audit: $(APP_VENV)/.installed $(RASA_VENV)/.installed
	@echo "==> pip-audit over both virtual environments"
	$(APP_PY) -m scripts.audit

# The whole suite in one run: each test on the databases its markers ask for (tests marked
# both_databases on SQLite and PostgreSQL, other database tests on SQLite, the rest once;
# DEVELOPERS.md, "Tests"). PostgreSQL tests are skipped, saying why, where there is none.
# Debian's chromium and haproxy are installed first: the console's browser test and the
# balancer's tests use them.
# The suite on three pytest-xdist workers: most of its time is waiting for Rasa, callbacks
# and timeouts, not CPU (load about 1.2 on 2 cores when it ran alone: 19 min; on two workers
# 13-18 min, on three 14.8 min where two took 18.2 on the same slow day).
# A module's tests stay on one worker (loadfile); each worker starts its own Rasa.
# TEST_WORKERS=0 runs it in this one process, as before.
TEST_WORKERS ?= 3
test: install model browsers haproxy lint rasa-validate nlu-eval audit
	@echo "==> the test suite"
	$(APP_PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=15

bench: install model
	$(APP_PY) -m bench.all
	$(APP_PY) -m bench.planning
	$(APP_PY) -m bench.console

# The officer console's page loads with 10,000 conversations (prints figures, fails nothing).
bench-console: $(APP_VENV)/.installed
	$(APP_PY) -m bench.console

# The one way to pin: each .in file and all it pulls in, with the hash of every file, for
# Linux x86-64. A pin stays as it is until asked: UPGRADE=1 moves every pin to the newest
# release allowed, UPGRADE=name only that package (DEVELOPERS.md, "Dependencies").
COMPILE = $(APP_VENV)/bin/uv pip compile --quiet --generate-hashes --python-platform linux \
  --custom-compile-command "make requirements" \
  $(if $(filter 1,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))
requirements: $(APP_VENV)/.installed
	$(COMPILE) --python-version 3.12 requirements.in -o requirements.txt
	$(COMPILE) --python-version 3.12 requirements-dev.in -o requirements-dev.txt
	$(COMPILE) --python-version $(RASA_PYTHON_VERSION) --override requirements-rasa.overrides \
	  requirements-rasa.in -o requirements-rasa.txt

clean:
	rm -rf var/app.db* var/app.rasa_tracker.db* var/rasa_tracker.db* var/rasa-models var/run
