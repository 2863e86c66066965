# The README's two commands are `make lab` and `make test`; everything else is for authors and TAs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
JUPYTER_PORT ?= 8888
PYTEST_WORKERS ?= 3  # grading waits more than it computes: a third worker uses the idle CPU
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)  # nbgrader runs `alembic` and `jupyter` from PATH

.PHONY: setup browser lab lab-instructor student publish-student test quick format lint release \
	grade-class grading-stress reliability \
	test-postgres test-cluster test-pythons bench clean

setup: $(VENV)/.installed ## create .venv and install the course with its test tools

$(VENV)/.installed: pyproject.toml postBuild $(wildcard jupyter-config/*/*/*/* jupyter-config/*/*/*/*/*)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ./postBuild
	touch $@

browser: ## Debian's chromium for the browser tests (needs root; never `playwright install`)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

STUDENT_DIR ?= dist/student
LAB_ARGS ?=  # extra `jupyter lab` options, e.g. --no-browser
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: student ## open the student edition (what students get) in JupyterLab
	cd "$(STUDENT_DIR)" && "$(abspath $(VENV))/bin/jupyter" lab \
		--ServerApp.root_dir="$(abspath $(STUDENT_DIR))" --port=$(JUPYTER_PORT) $(ALLOW_ROOT) \
		$(LAB_ARGS) index.ipynb

lab-instructor: setup ## open the whole repository (source/, tests/, docs/) in JupyterLab
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --port=$(JUPYTER_PORT) $(ALLOW_ROOT) \
		$(LAB_ARGS) index.ipynb

student: setup ## build the student edition into dist/student/ (only when its inputs changed)
	$(PY) scripts/student_edition.py build --out "$(STUDENT_DIR)" $(if $(FORCE),--force)

publish-student: setup ## commit the student edition to branch `student` (docs/student-edition.md)
	$(PY) scripts/student_edition.py publish --out "$(STUDENT_DIR)" $(if $(FORCE),--force)

test: ## every test: lint, notebooks, release sync, real grading, browser, other Pythons
	$(MAKE) --no-print-directory -j2 setup browser  # pip and apt-get side by side
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

quick: setup ## the course package and repository checks only (seconds)
	$(PY) -m pytest -q tests/test_repository.py tests/test_timeline*.py tests/test_grading_*.py

format: setup ## canonical notebooks, ruff format
	$(PY) scripts/notebooks.py format
	$(VENV)/bin/ruff format course tests scripts benchmarks nbgrader_config.py
	$(VENV)/bin/ruff check --fix course tests scripts benchmarks nbgrader_config.py

release: setup ## regenerate release/ from source/ with nbgrader generate_assignment
	$(PY) scripts/notebooks.py release

ASSIGNMENTS ?= $(notdir $(wildcard source/[0-9]*))
grade-class: setup ## TAs: autograde submitted/ in parallel (WORKERS=cores), then reports/
	$(PY) -m course.classgrade autograde $(ASSIGNMENTS) $(if $(WORKERS),--workers $(WORKERS)); \
	status=$$?; $(PY) -m course.classgrade report $(ASSIGNMENTS) && exit $$status

grading-stress: setup ## every grading check against its corpus, 50 times
	GRADING_REPEAT=50 $(PY) -m pytest -q tests/test_grading_*.py

reliability: setup ## autograde every corpus: reference, mutants, alternatives 20 times, adversarial once
	$(PY) scripts/reliability.py --copies 20 --workers $(PYTEST_WORKERS)

test-postgres: setup ## classgrade with a PostgreSQL gradebook on a real local server (root for apt)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	$(PY) -m pip install -q 'psycopg[binary]'
	$(PY) -m pytest -q -m slow tests/test_classgrade_postgres.py

test-cluster: setup ## classgrade's slow proofs: a real Dask cluster (a worker killed mid-run); grades = stock nbgrader's on every corpus submission
	$(PY) -m pip install -q -e '.[test,cluster]'
	$(PY) -m pytest -q -m slow -n $(PYTEST_WORKERS) --dist loadgroup tests/test_classgrade_cluster.py \
		tests/test_classgrade.py

PYTHON_VERSIONS ?= 3.12 3.13
PACKAGE_TEST_DEPS := pytest pytest-timeout nbclient nbformat ipykernel matplotlib gevent greenlet requests
test-pythons: ## the course package tests under each other pyenv CPython present (3.12, 3.13)
	@for v in $(PYTHON_VERSIONS); do \
		py=$$(ls -d $$HOME/.pyenv/versions/$$v.*/bin/python 2>/dev/null | tail -1); \
		[ -n "$$py" ] || { echo "python $$v: not installed, skipped"; continue; }; \
		env=.venv-$$v; [ -x $$env/bin/python ] || $$py -m venv $$env; \
		$$env/bin/pip install -q $(PACKAGE_TEST_DEPS) && $$env/bin/pip install -q --no-deps -e . && \
		echo "== course package tests on $$($$env/bin/python --version)" && \
		$$env/bin/python -m pytest -q -p no:cacheprovider tests/test_timeline*.py tests/test_workers.py \
			tests/test_servers.py tests/test_grading_*.py || exit 1; \
	done

bench: setup ## timeline and class-grading benchmarks (ratios measured in one run)
	$(PY) benchmarks/bench_timeline.py
	$(PY) benchmarks/bench_classgrade.py
	$(PY) -m pip install -q -e '.[test,cluster]' && $(PY) benchmarks/bench_cluster.py

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache gradebook.db dist
