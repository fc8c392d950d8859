# The two commands of the README: `make demo` and `make test`. Each first
# installs what is missing into the active Python environment (idempotent).
PYTHON ?= python
TASK ?= all
PYTEST_ARGS ?=

.PHONY: install install-optional demo test test-fast

install:
	PYTHON=$(PYTHON) bash tools/install_deps.sh

# The test command also installs the optional extras (timm for the
# benchmark's peers, the deployment runtimes for the export's checks).
install-optional:
	PYTHON=$(PYTHON) bash tools/install_deps.sh --with-optional

demo: install
	$(PYTHON) tools/demo.py --task $(TASK)

# pytest exits 5 when it collected no test: that is a failure here.
test: install-optional
	@$(PYTHON) -m pytest tests --durations=25 $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$rc

# The suite without the end-to-end tests (marked e2e): a few minutes.
test-fast: install-optional
	@$(PYTHON) -m pytest tests -m "not e2e" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$rc
