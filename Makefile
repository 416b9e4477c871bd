# Call-center helpdesk. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium
INSTALLED := $(VENV)/.installed
ASSETS := agents_ui/node_modules/.installed
LOCALES := $(wildcard agents_ui/translations/*/LC_MESSAGES/messages.po)
CATALOGS := $(LOCALES:.po=.mo)

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(ASSETS): agents_ui/package.json agents_ui/package-lock.json
	cd agents_ui && npm ci --no-audit --no-fund --loglevel=error
	touch $@

%.mo: %.po $(INSTALLED)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

install: $(INSTALLED) $(ASSETS) $(CATALOGS) ## Create .venv, install Python and npm packages, compile translations

browser: ## Install Debian's Chromium for the browser tests (as root; otherwise they are skipped)
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
	  echo "No Chromium at $(CHROMIUM): browser tests will be skipped ('sudo make browser')"; \
	fi

DOVECOT ?= /usr/sbin/dovecot

dovecot: ## Install Debian's Dovecot IMAP server for the mail tests (as root; otherwise they are skipped)
	@if [ -x "$(DOVECOT)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Dovecot (dovecot-imapd) for the IMAP tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null; \
	  if command -v systemctl >/dev/null; then systemctl disable --now dovecot >/dev/null 2>&1 || :; fi; \
	else \
	  echo "No Dovecot at $(DOVECOT): IMAP tests will be skipped ('sudo make dovecot')"; \
	fi

run: install ## Migrate, seed demo data on an empty database, serve on http://127.0.0.1:$(PORT)
	@$(BIN)/helpdesk db upgrade
	@$(BIN)/helpdesk demo --if-empty --quiet
	@WEBHOOKS_ALLOW_PRIVATE=$${WEBHOOKS_ALLOW_PRIVATE:-1} PORT=$(PORT) $(BIN)/helpdesk serve --port $(PORT)

test: install browser dovecot ## Run every test tier this machine supports (services tier needs PostgreSQL and Redis)
	$(BIN)/pytest

lint: install ## ruff, mypy and the import layers (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy helpdesk agents_ui telephony kb
	$(BIN)/lint-imports

format: install ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## Run the benchmarks (PostgreSQL on 127.0.0.1) and print their figures
	$(BIN)/python -m bench

translations: install ## Extract console strings and update the .po catalogues
	$(BIN)/pybabel extract --project helpdesk -F agents_ui/babel.cfg -k _l -k lazy_gettext -o agents_ui/translations/messages.pot .
	$(BIN)/pybabel update -i agents_ui/translations/messages.pot -d agents_ui/translations

clean: ## Remove the virtualenv, npm packages and local data
	rm -rf $(VENV) agents_ui/node_modules instance

.PHONY: help install browser dovecot run test lint format bench translations clean
