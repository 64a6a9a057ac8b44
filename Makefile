# The two commands a newcomer needs: `make run` and `make test`. Everything they need is
# installed on first use and only re-done when its inputs change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APP_VENV  := .venvs/app
RASA_VENV := .venvs/rasa
APP_PY    := $(APP_VENV)/bin/python
RASA_BIN  := $(RASA_VENV)/bin/rasa
OAI_SPEC  := var/twilio-oai/twilio_api_v2010.json
PIP_FLAGS := --disable-pip-version-check --no-input -q

# Rasa Open Source supports no Python newer than 3.10, so it gets its own interpreter.
PYTHON312 ?= $(shell scripts/find_python.sh 3.12)
PYTHON310 ?= $(shell scripts/find_python.sh 3.10)

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help install run test lint unit-tests pg-tests sqlite-tests rasa-validate bench \
        model migrate demo-data requirements clean browsers nlu-eval bench-console run-prod \
        haproxy

help:
	@echo "make run    install what is missing, then start the whole service (dev phone, demo data)"
	@echo "make test   install what is missing, then lint and run every test (SQLite and PostgreSQL)"
	@echo "make bench  print the pipeline's benchmark figures"
	@echo "make run-prod  the production layout on PostgreSQL and Redis (docs/DEPLOY.md)"

$(APP_VENV)/.installed: requirements.txt
	@test -n "$(PYTHON312)" || { scripts/find_python.sh 3.12 --explain; exit 1; }
	@echo "==> building the app's virtual environment (Python 3.12)"
	@test -x $(APP_PY) || $(PYTHON312) -m venv $(APP_VENV)
	$(APP_PY) -m pip install $(PIP_FLAGS) -r requirements.txt
	@touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt
	@test -n "$(PYTHON310)" || { scripts/find_python.sh 3.10 --explain; exit 1; }
	@echo "==> building the Rasa server's virtual environment (Python 3.10); the first time takes minutes"
	@test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements-rasa.txt
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
# held-out split nlu/test/, which training never sees; fails below the bar (docs/NLU.md).
nlu-eval: $(APP_VENV)/.installed $(RASA_VENV)/.installed model
	@echo "==> NLU evaluation on the held-out split (nlu/test/)"
	$(APP_PY) -m scripts.nlu_eval

# Every test on SQLite, then every test on PostgreSQL (skipped, saying why, where there is none).
test: install model browsers lint rasa-validate nlu-eval
	@echo "==> tests on SQLite"
	TEST_DATABASE=sqlite $(APP_PY) -m pytest -p no:cacheprovider
	@echo "==> tests on PostgreSQL"
	TEST_DATABASE=postgresql $(APP_PY) -m pytest -p no:cacheprovider

bench: install model
	$(APP_PY) -m bench.pipeline
	$(APP_PY) -m bench.planning
	$(APP_PY) -m bench.dispatch
	$(APP_PY) -m bench.console

# The officer console's page loads with 10,000 conversations (prints figures, fails nothing).
bench-console: $(APP_VENV)/.installed
	$(APP_PY) -m bench.console

# Pin requirements.in and all it pulls in, from a fresh venv so nothing stray is pinned.
requirements:
	@test -n "$(PYTHON312)" || { scripts/find_python.sh 3.12 --explain; exit 1; }
	rm -rf var/reqvenv && $(PYTHON312) -m venv var/reqvenv
	var/reqvenv/bin/python -m pip install $(PIP_FLAGS) -r requirements.in
	{ echo "# Generated from requirements.in by 'make requirements' (pip freeze of a fresh venv)."; \
	  var/reqvenv/bin/python -m pip freeze --exclude-editable; } > requirements.txt
	rm -rf var/reqvenv

clean:
	rm -rf var/app.db* var/app.rasa_tracker.db* var/rasa_tracker.db* var/rasa-models var/run
