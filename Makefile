# Deep Music Recommendation, the course.
#
#   make book    set up .venv if missing, install, execute every chapter, build the HTML book
#   make test    set up .venv if missing, install, run the unit tests and every notebook under nbval
#   make lab     open JupyterLab on chapters/ (the .md files open as notebooks, via jupytext)
#
#   make run CHAPTER=02_als PARAMS="dataset=lastfm_hetrec2011 data_path=~/data/hetrec2011-lastfm-2k"
#                one chapter with other parameters (papermill), into _build/runs/
#   make handout student handouts: every chapter as a notebook, no solutions (_build/handout)
#   make grade SUBMISSIONS=folder   run and grade students' handout notebooks (_build/grades)
#   make browser-check   JupyterLab in headless Chromium: no raw MyST, no cell error (screenshots)
#
#   make test-backend KERAS_BACKEND=jax   the convnet tests and chapter 04 on another Keras backend
#   make test-portable   unit tests and notebooks again under other BLAS kernels (Sandybridge, SkylakeX)
#   make test-seeds      the light chapters again with another seed (SEED_PARAMS="seed=1")
#
# Other targets: install, unit, nbval, portable, seeds, book-build, linkcheck, lint, constraints,
# clean.
# "make book SOLUTIONS=no" builds the book without its Solutions part (_build/student/_build/html).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The course folder (where this Makefile lives). Targets work on the course in the current
# folder, which is ROOT unless you run "make -f path/to/Makefile" elsewhere (the tests do).
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

VENV ?= $(ROOT)/.venv
BIN  := $(VENV)/bin
PY   := $(BIN)/python
# Python 3.11 is the tested version; python3 >= 3.10 works.
PYTHON ?= $(shell command -v python3.11 || command -v python3)

# nbval runs every chapter, solution and data card, converted to .ipynb under NB_DIR (not
# tracked); pages without code cells contribute no tests.
NB_SOURCES   ?= $(sort $(wildcard chapters/*.md solutions/*.md datasets/*.md))
NB_DIR       ?= _build/notebooks
UNIT_TESTS   ?= tests
CELL_TIMEOUT ?= 1200
# The book: jupyter-book builds the folder BOOK_ROOT (book.yml, _toc.yml, references.bib).
BOOK_ROOT  ?= .
BOOK_FLAGS ?= -W -n --keep-going
# Extra JupyterLab options, e.g. LAB_FLAGS="--no-browser --port 8899".
LAB_FLAGS  ?=
JUPYTER_CACHE := _build/.jupyter_cache

# Quiet notebooks (course_lib/_quiet.py does the same for "import course_lib" anywhere).
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYDEVD_DISABLE_FILE_VALIDATION ?= 1

.PHONY: help install unit notebooks nbval test test-backend book-build book linkcheck lab lint \
  constraints clean handout grade run browser-check test-portable portable test-seeds seeds

help:
	@sed -n '3,20p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

# --- environment -------------------------------------------------------------------------------
$(PY):
	@test -n "$(PYTHON)" || { echo "No python3 found: install Python 3.11 first." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) $(ROOT)/pyproject.toml $(ROOT)/constraints.txt
	$(PY) -m pip install --quiet -c $(ROOT)/constraints.txt -e "$(ROOT)[dev,spark]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" > /dev/null
	@touch $@

install: $(VENV)/.installed

# --- tests ---------------------------------------------------------------------------------------
# pytest exits with 5 when it collected nothing: that must fail, not pass silently.
define run_pytest
	rc=0; PYTHONPATH="$(ROOT)$${PYTHONPATH:+:$$PYTHONPATH}" $(PY) -m pytest $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests from $(2)" >&2; exit 1; fi; \
	exit $$rc
endef

unit:
	@$(call run_pytest,-q $(UNIT_TESTS),$(UNIT_TESTS))

notebooks:
	@test -n "$(strip $(NB_SOURCES))" || { echo "ERROR: no chapters/*.md to test" >&2; exit 1; }
	@rm -rf $(NB_DIR)
	@$(PY) $(ROOT)/tools/convert_notebooks.py $(NB_DIR) $(NB_SOURCES)

# jupyter-cache keys a notebook on its code only: drop the cache whenever course_lib (any file of
# any package) or book.yml changes.
CACHE_DEPS ?= $(shell find $(ROOT)/course_lib -name "*.py") $(wildcard book.yml)
_build/.course_lib.stamp: $(CACHE_DEPS)
	rm -rf $(JUPYTER_CACHE)
	@mkdir -p _build && touch $@

# Notebooks that pass are also stored in the book's jupyter-cache (tools/nbval_cache.py), so that
# "make book" after "make test" does not execute them a second time.
NBVAL_FLAGS ?= --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) \
  -p tools.nbval_cache --nbval-cache=$(JUPYTER_CACHE) --nbval-cache-sources=$(NB_DIR)

nbval: notebooks _build/.course_lib.stamp
	@$(call run_pytest,-q -p no:cacheprovider $(NBVAL_FLAGS) $(NB_DIR),$(NB_DIR))

test: install
	@$(MAKE) --no-print-directory -f $(ROOT)/Makefile unit
	@$(MAKE) --no-print-directory -f $(ROOT)/Makefile nbval

# The convnet code on a second Keras backend (jax or torch; CI: jax, on the CPU): installs that
# backend into the venv (the extra of the same name, pinned by constraints.txt), then runs the
# unit tests of the convnet and of the packages that read it (inspection, fusion), and chapter 04
# with its solutions under nbval, with KERAS_BACKEND set. Its notebooks go to their own folder
# and not into the book's cache (the book shows TensorFlow's outputs).
BACKEND_TESTS ?= tests/convnet tests/inspection tests/fusion
BACKEND_NB    ?= chapters/04_convnet_cold_start.md solutions/04_convnet_cold_start_solutions.md
TEST_BACKEND  := $(if $(filter-out tensorflow,$(KERAS_BACKEND)),$(KERAS_BACKEND),jax)
test-backend: install
	@case "$(TEST_BACKEND)" in jax|torch) ;; *) echo "usage: make test-backend \
	  KERAS_BACKEND=jax (or torch)" >&2; exit 2;; esac
	$(PY) -m pip install --quiet -c $(ROOT)/constraints.txt -e "$(ROOT)[$(TEST_BACKEND)]"
	@KERAS_BACKEND=$(TEST_BACKEND) $(MAKE) --no-print-directory -f $(ROOT)/Makefile unit \
	  UNIT_TESTS="$(BACKEND_TESTS)"
	@KERAS_BACKEND=$(TEST_BACKEND) $(MAKE) --no-print-directory -f $(ROOT)/Makefile nbval \
	  NB_SOURCES="$(BACKEND_NB)" NB_DIR=_build/notebooks-$(TEST_BACKEND) \
	  NBVAL_FLAGS="--nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT)"

# Another machine rounds differently: OpenBLAS picks its kernels from the CPU (AVX-512 machines get
# SkylakeX), and another rounding trains another model. Every assert must survive that (README,
# CONTRIBUTING: tolerances derived from the data). test-portable runs the unit tests (the
# real-format tests included) and nbval once per kernel of PORTABLE_KERNELS, with one numba and
# OpenMP thread: Sandybridge runs on any x86-64 with AVX; SkylakeX needs AVX-512 and is skipped,
# saying so, where the CPU lacks it. Each kernel's notebooks go to their own folder and not into
# the book's cache. PORTABLE_TESTS and PORTABLE_NB narrow it down (e.g. to one chapter).
PORTABLE_KERNELS ?= Sandybridge SkylakeX
PORTABLE_TESTS   ?= $(UNIT_TESTS)
PORTABLE_NB      ?= $(NB_SOURCES)
PORTABLE_ENV     := NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1
test-portable: install
	@$(MAKE) --no-print-directory -f $(ROOT)/Makefile portable

portable:
	@test "$$(uname -m)" = x86_64 || { echo "test-portable: OpenBLAS kernel names are for x86-64; \
	  this is $$(uname -m), nothing to do"; exit 0; }; \
	for kernel in $(PORTABLE_KERNELS); do \
	  if [ "$$kernel" = SkylakeX ] && [ "$$(grep -c avx512f /proc/cpuinfo)" = 0 ]; then \
	    echo "=== OPENBLAS_CORETYPE=SkylakeX: skipped, this CPU has no AVX-512"; continue; fi; \
	  arch=$$(OPENBLAS_CORETYPE=$$kernel $(PY) -c "from threadpoolctl import threadpool_info; \
	    import numpy; print(*{i.get('architecture') for i in threadpool_info()} - {None})"); \
	  echo "=== OPENBLAS_CORETYPE=$$kernel (numpy's OpenBLAS runs: $$arch)"; \
	  export OPENBLAS_CORETYPE=$$kernel $(PORTABLE_ENV); \
	  $(MAKE) --no-print-directory -f $(ROOT)/Makefile unit UNIT_TESTS="$(PORTABLE_TESTS)" \
	    || exit 1; \
	  $(MAKE) --no-print-directory -f $(ROOT)/Makefile nbval NB_SOURCES="$(PORTABLE_NB)" \
	    NB_DIR=_build/notebooks-$$kernel \
	    NBVAL_FLAGS="--nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT)" \
	    || exit 1; \
	done

# Another seed: each chapter of SEED_CHAPTERS runs to its end with SEED_PARAMS (make run's tool,
# notebooks in SEED_DIR); every failing chapter is named, then the target fails. CI runs the light
# chapters with seed=1.
SEED_CHAPTERS ?= 00_welcome 01_implicit_feedback 02b_als_at_scale 03_audio_features
SEED_PARAMS   ?= seed=1
SEED_DIR      ?= _build/runs-seed
test-seeds: install
	@$(MAKE) --no-print-directory -f $(ROOT)/Makefile seeds

seeds:
	@failed=""; for chapter in $(SEED_CHAPTERS); do \
	  start=$$SECONDS; \
	  if $(PY) $(ROOT)/tools/run_chapter.py $$chapter $(SEED_PARAMS) --out $(SEED_DIR) \
	    --timeout $(CELL_TIMEOUT) --quiet; then \
	    echo "=== $$chapter with $(SEED_PARAMS): passed in $$((SECONDS - start)) s"; \
	  else failed="$$failed $$chapter"; fi; \
	done; \
	test -z "$$failed" || { echo "ERROR: failed with $(SEED_PARAMS):$$failed (see $(SEED_DIR))" >&2; \
	  exit 1; }

# --- the book ------------------------------------------------------------------------------------
# SOLUTIONS=no: the book without its "Solutions" part, for a term in progress, built from a copy
# of the sources in STUDENT_BOOK that reuses the full book's execution cache.
SOLUTIONS    ?= yes
STUDENT_BOOK ?= _build/student
book-build: _build/.course_lib.stamp
ifeq ($(SOLUTIONS),no)
	$(PY) $(ROOT)/tools/student_book.py $(STUDENT_BOOK) --cache $(JUPYTER_CACHE) \
	  $(if $(filter 1 yes true,$(FORCE)),--force)
	$(BIN)/jupyter-book build $(abspath $(STUDENT_BOOK)) \
	  --config $(abspath $(STUDENT_BOOK))/book.yml --toc $(abspath $(STUDENT_BOOK))/_toc.yml \
	  $(BOOK_FLAGS)
else
	$(BIN)/jupyter-book build $(BOOK_ROOT) --config $(BOOK_ROOT)/book.yml \
	  --toc $(BOOK_ROOT)/_toc.yml $(BOOK_FLAGS)
endif

book: install
	@$(MAKE) --no-print-directory -f $(ROOT)/Makefile book-build
	@if [ "$(SOLUTIONS)" = no ]; then echo "The book is in $(STUDENT_BOOK)/_build/html/index.html"; \
	else echo "The book is in _build/html/index.html"; fi

HTML ?= _build/html
linkcheck:
	$(PY) $(ROOT)/tools/check_links.py $(HTML)

# --- teaching with the course ---------------------------------------------------------------------
# Student handouts, and grading of the handouts students hand back (one folder per student).
HANDOUT ?= _build/handout
SUBMISSIONS ?=
GRADE_TIMEOUT ?= 900
# HANDOUT must be new, empty or an earlier handout (tools/handout.py refuses any other folder,
# so as not to delete it); FORCE=1 replaces it anyway.
FORCE ?=
handout: install
	$(PY) $(ROOT)/tools/handout.py $(HANDOUT) $(sort $(wildcard chapters/*.md)) \
	  $(if $(filter 1 yes true,$(FORCE)),--force)

grade: handout
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder" >&2; exit 2; }
	$(PY) $(ROOT)/tools/grade.py $(SUBMISSIONS) --handout $(HANDOUT)/notebooks \
	  --out _build/grades --timeout $(GRADE_TIMEOUT)

# --- one chapter, other parameters ----------------------------------------------------------------
# The values of the chapter's "parameters" cell, overridden (tools/run_chapter.py: papermill, a
# progress bar, what the cells print; the executed notebook goes to RUN_DIR/<chapter>.ipynb; the
# exit status is non-zero when a cell fails). E.g. the real Last.fm plays (datasets/*.md):
#   make run CHAPTER=02_als PARAMS="dataset=lastfm_hetrec2011 data_path=~/data/hetrec2011-lastfm-2k"
#   make run CHAPTER=03 PARAMS="audio_path=~/Music/clips"
CHAPTER ?=
PARAMS  ?=
RUN_DIR ?= _build/runs
run: install
	@test -n "$(CHAPTER)" || { echo 'usage: make run CHAPTER=02_als PARAMS="name=value ..."' >&2; \
	  exit 2; }
	@$(PY) $(ROOT)/tools/run_chapter.py $(CHAPTER) $(PARAMS) --out $(RUN_DIR) \
	  --timeout $(CELL_TIMEOUT)

# --- working on the course -----------------------------------------------------------------------
# The chapters' .md files open as notebooks: tools/jupyterlab_overrides.json makes "Jupytext
# Notebook" the default viewer of markdown files, in this .venv only. Outputs are not saved into
# the .md files, which stay text. jupyterlab-myst renders their MyST; the overrides also switch
# off the news prompt and the extension manager. As root (a container), JupyterLab needs
# --allow-root: it is passed, with a note.
lab: install
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp $(ROOT)/tools/jupyterlab_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@if [ "$$(id -u)" = 0 ]; then echo "make lab: running as root, so with --allow-root"; fi
	$(BIN)/jupyter lab --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root) \
	  $(LAB_FLAGS) chapters/00_welcome.md

# JupyterLab in headless Chromium (tools/browser_check.py): a chapter and a handout notebook open,
# their first cells run, no raw MyST and no cell error; screenshots in _build/browser-check.
# Needs chromium, chromedriver and the "browser" extra (Selenium); without them it says so and
# fails, unless BROWSER_CHECK_FLAGS=--skip-without-browser (CI).
BROWSER_CHECK_FLAGS ?=
browser-check: install
	$(PY) $(ROOT)/tools/browser_check.py $(BROWSER_CHECK_FLAGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/codespell chapters solutions course_lib tests tools datasets benchmarks README.md instructors.md

# Record the exact versions that were tested together (run after changing dependencies).
constraints: $(PY)
	$(PY) -m pip install --quiet -e "$(ROOT)[dev,spark,jax]"
	{ echo "# Exact versions tested together (Python 3.11, Linux x86_64). Regenerate: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable; } > $(ROOT)/constraints.txt

clean:
	rm -rf _build
