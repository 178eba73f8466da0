# Two entry points for a fresh machine: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Fashion-MNIST (Debian package) and Chromium are optional system extras: tests that need them skip
# with a reason when they are absent. `make system-deps` installs them where apt-get is allowed.
APT_PACKAGES := dataset-fashion-mnist chromium

.PHONY: demo test test-all venv system-deps clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/latentspace demo
	@echo "the latentspace command is $(VENV)/bin/latentspace; 'source $(VENV)/bin/activate' puts it on your PATH"

test: venv
	$(PY) -m pytest -n 2 -q

# Everything, slow tests included.
test-all: venv
	$(PY) -m pytest -n 2 -q -m 'slow or not slow'

system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	else echo "skipping system packages (needs root and apt-get): $(APT_PACKAGES)"; fi

clean:
	rm -rf $(VENV) .pytest_cache latentspace-demo
