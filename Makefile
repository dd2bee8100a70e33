# One command each: make lab | make test | make book   (see README.md)
SHELL   := /bin/bash
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Kernels must draw with the inline backend: MPLBACKEND=Agg would leave the
# executed notebooks (and so the book) without figures.
unexport MPLBACKEND
# Matplotlib and friends write caches; keep them out of the learner's home.
export MPLCONFIGDIR := $(CURDIR)/build/mplconfig
# Keras 3 reads its backend from here (never looks for TensorFlow by surprise) and
# keeps its config in build/keras, not in ~/.keras. (The kernel spec sets the same.)
export KERAS_BACKEND ?= torch
export KERAS_HOME := $(CURDIR)/build/keras
# Two test workers on two cores: one math thread each, no oversubscription.
TEST_WORKERS ?= 2
TEST_THREADS ?= 1

.PHONY: setup lab updates test test-fast book book-check lab-check benchmark bench-layers doctor clean help figures

help:
	@echo "make lab        set up if needed, then open JupyterLab on the table of contents (prints its link)"
	@echo "make updates    list the chapters that changed in the course since your copies in my_work/ were made"
	@echo "make test       set up if needed, then run every test (unit tests, every notebook, prose numbers)"
	@echo "make test-fast  the unit tests of utils only (seconds)"
	@echo "make book       build the static book into build/book/_build/html"
	@echo "make book-check open every page of the built book in headless Chromium"
	@echo "make lab-check  open a chapter in JupyterLab in headless Chromium, run it, move a slider"
	@echo "make benchmark  execute every notebook serially; write build/benchmark.md"
	@echo "make slides     one offline reveal.js deck per section into build/slides/ (figures from make test's cache)"
	@echo "make grade SUBMISSIONS=<folder>  grade a class's notebooks (one folder per student) into build/grades/"
	@echo "make bench-layers  time the NumPy layers of chapter 3 against PyTorch"
	@echo "make figures    redraw figures/ (the course map, the learning path) from the chapters"
	@echo "make setup      create .venv and install the pinned packages (the other targets do it when needed)"
	@echo "make doctor     check the setup (Python, packages, torch build, JupyterLab, MathJax, Chromium, disk)"
	@echo "make clean      remove build outputs (keeps .venv and my_work/)"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml package.json package-lock.json tools/setup_jupyter.py tools/torch_index.sh tools/install_debs.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first: on Linux without an NVIDIA GPU, from PyTorch's CPU index (tools/torch_index.sh);
	@# if that index cannot be reached, requirements.txt installs torch from the default index.
	@args="$$(bash tools/torch_index.sh)" || exit 1; \
	if [ -n "$$args" ]; then \
	  echo "setup: no NVIDIA GPU on this Linux machine: PyTorch's CPU build (TORCH_BUILD=default to change)"; \
	  $(BIN)/python -m pip install --quiet --timeout 30 --retries 1 $$args "$$(grep -E '^torch==' requirements.txt | sed 's/[[:space:]]*#.*//')" \
	    || echo "setup: PyTorch's CPU index was not reachable; torch comes from the default index"; \
	fi
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	npm ci --silent --no-audit --no-fund
	$(BIN)/python tools/setup_jupyter.py
	bash tools/install_debs.sh
	@touch $(STAMP)
	@du -sh $(VENV) node_modules | sed 's/^/installed: /'

lab: setup
	@mkdir -p build/lab/workspaces
	@# the learner's own copy of the course (my_work/, ignored by git): pulls never conflict
	$(BIN)/python tools/workspace.py sync
	@token=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(24))'); \
	port=$$($(BIN)/python tools/free_port.py $${LAB_PORT:-8888}); \
	echo ""; \
	echo "  JupyterLab, once it has started (open this link in your browser; it holds the password):"; \
	echo "    http://127.0.0.1:$$port/lab/tree/chapters/index.md?token=$$token"; \
	echo "  Lost the link? In another terminal: $(BIN)/jupyter server list"; \
	echo ""; \
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$$port --ServerApp.port_retries=0 \
	  --ServerApp.root_dir="$(CURDIR)/my_work" --IdentityProvider.token="$$token" \
	  --LabApp.workspaces_dir="$(CURDIR)/build/lab/workspaces" \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) "$(CURDIR)/my_work/chapters/index.md"

# Which chapters changed in the course since your copies in my_work/ were made (after a git pull).
updates:
	@$(PYTHON) tools/workspace.py status

test: setup
	OMP_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval-lax \
	  --ignore=tests/browser --ignore=tests/prose tests chapters solutions
	# then every number in the prose against the outputs the notebooks just printed
	$(BIN)/python -m pytest -p no:cacheprovider tests/prose

# Unit tests only (seconds), for quick iterations on utils.
test-fast: setup
	$(BIN)/python -m pytest --ignore=tests/browser --ignore=tests/prose tests

book: setup
	@mkdir -p build
	rm -rf build/book/_build/html
	# From inside chapters/: the config's cache path (../build/jupyter_cache) is relative to
	# the working directory, and must be the cache that `make test` fills.
	cd chapters && ../$(BIN)/jupyter-book build . --path-output ../build/book -W -n --keep-going
	@echo "book: build/book/_build/html/index.html"

lab-check: setup
	bash tools/install_browser.sh
	$(BIN)/python -m pytest -p no:cacheprovider tests/browser/test_lab.py -v

book-check: setup
	bash tools/install_browser.sh
	$(BIN)/python -m pytest -p no:cacheprovider tests/browser/test_book.py -v

figures: setup
	$(BIN)/python tools/make_figures.py

bench-layers: setup
	$(BIN)/python tools/bench_layers.py

benchmark: setup
	$(BIN)/python tools/benchmark.py

# Slides for teachers: one reveal.js deck per section, from the notebooks; works from a USB stick.
.PHONY: slides grade
slides: setup
	$(BIN)/python tools/slides.py

# Grade a class: SUBMISSIONS=<folder with one folder per student>; GRADES=<output folder>.
GRADES ?= build/grades
grade: setup
	@test -n "$(SUBMISSIONS)" || { echo "grade: say which folder: make grade SUBMISSIONS=<folder with one folder per student>"; exit 2; }
	OMP_NUM_THREADS=1 $(BIN)/python tools/grade.py "$(SUBMISSIONS)" --out "$(GRADES)" $(GRADE_ARGS)

doctor:
	@$(PYTHON) tools/doctor.py || echo "doctor: fix the FAIL lines above (each says how), then run make doctor again"

clean:
	rm -rf build .pytest_cache
