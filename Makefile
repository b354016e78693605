# One command per habit: run, test, check, bench, account (see README.md).
PYTHON ?= python3
CHROMIUM := /usr/bin/chromium
ESPEAK := $(or $(shell command -v espeak-ng),/usr/bin/espeak-ng)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

CDK_VERSION := 2.1148.1
CDK := cd infra && npx --yes aws-cdk@$(CDK_VERSION)
STAGE ?= dev
CDK_CONTEXT = -c stage=$(STAGE) $(if $(AWS_REGION),-c region=$(AWS_REGION))

.PHONY: run test check bench account synth deploy destroy clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "pip>=25.1,<26.3"
	$(PY) -m pip install -q -r requirements.txt --group dev
	touch $(STAMP)

run: $(STAMP) $(ESPEAK)  ## start the whole platform on 127.0.0.1 (API on $$SWITCHBOARD_API_PORT, default 8000)
	$(PY) -m infra.local

$(CHROMIUM):  ## Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`)
	if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	else echo "no apt-get: install Chromium at $(CHROMIUM), or the browser tests skip"; fi

$(ESPEAK):  ## Debian's espeak-ng, the default speech engine (say, text play content), when it is not on PATH
	if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq espeak-ng; \
	else echo "no apt-get: install espeak-ng, or the speech tests skip"; fi

test: $(STAMP) $(CHROMIUM) $(ESPEAK)  ## every test: unit, functional (moto), media, integration (the local stack), browser, infra
	$(PY) -m pytest $(PYTEST_ARGS)

check: $(STAMP)  ## lint, format and types
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

bench: $(STAMP)  ## benchmarks on the local stack; prints numbers, asserts nothing
	$(PY) -m bench

account: $(STAMP)  ## create an account and its first API key: make account NAME=Acme (uses the stage's AWS env)
	@test -n "$(NAME)" || (echo "usage: make account NAME=<account name>" && exit 2)
	$(PY) -m chalicelib.accounts create --name "$(NAME)"

synth: $(STAMP)  ## synthesize the CloudFormation template offline, no credentials needed: infra/cdk.out
	$(CDK) synth $(CDK_CONTEXT) --quiet

deploy: $(STAMP)  ## deploy to the AWS account in your environment: make deploy STAGE=prod AWS_REGION=eu-west-1
	$(CDK) deploy $(CDK_CONTEXT) --require-approval never --outputs-file cdk.out/outputs.json

destroy: $(STAMP)  ## delete the stack (the media bucket, and prod's tables and keys secret, are kept)
	$(CDK) destroy $(CDK_CONTEXT) --force

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache infra/cdk.out
