# Two commands set up everything on a fresh clone (Python 3.11+ and make):
#   make lab    create .venv, install the course, start JupyterLab on it
#   make test   create/update .venv and run the whole test suite
#   make test-fast   the tests that start no kernel, no nbgrader and no browser (under a minute)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# nbgrader's formgrader and gradebook run the `alembic` command from PATH: put the venv's bin
# first, as an activated venv would (without it the formgrader fails: "No such file: 'alembic'").
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Learners: assignment list and Validate; instructors: formgrader, course list.
NBGRADER_SERVER_EXTENSIONS := $(addprefix nbgrader.server_extensions.,\
	assignment_list validate_assignment formgrader course_list)

.PHONY: lab test test-fast release strip clean exercises

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# jupyter-events pulls in rfc3987-syntax (jsonschema's optional IRI format check), which
	# builds 38 grammars at import: ~3 s added to every process that imports nbformat (each
	# nbgrader command, the grader and its workers, the Jupyter server). Nothing here checks IRIs.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	$(BIN)/jupyter labextension enable --level=sys_prefix @jupyter/nbgrader >/dev/null
	$(BIN)/jupyter server extension enable --sys-prefix $(NBGRADER_SERVER_EXTENSIONS) >/dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --port=$(PORT) $(ROOT_FLAG) --ServerApp.root_dir=$(CURDIR) \
		notebooks/00_welcome.ipynb

test: $(STAMP)
	bash tools/system-deps.sh
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow and not browser"

# Regenerate the student versions in release/ from source/ (the only way release/ changes).
release: $(STAMP)
	$(BIN)/python -m autograder.release

# Learners' working copies: each file of release/ copied into $(EXERCISES)/ (git-ignored), unless
# it is already there: an answer is never overwritten, so after `git pull` this only adds what is
# new. Needs no virtualenv.
EXERCISES ?= exercises
exercises:
	@cd release && find . -type f ! -path '*/.ipynb_checkpoints/*' | sort | while read -r file; do \
		dest="$(abspath $(EXERCISES))/$${file#./}"; \
		if [ -e "$$dest" ]; then echo "kept    $$dest (yours)"; \
		else mkdir -p "$$(dirname "$$dest")" && cp "$$file" "$$dest" && echo "copied  $$dest"; fi; \
	done

# Remove outputs from committed notebooks.
strip: $(STAMP)
	$(BIN)/python -m autograder.strip notebooks source

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
