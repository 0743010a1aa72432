# Thin wrapper: CMake builds, ctest tests. Every target that needs Debian
# packages installs them first (as root, idempotently), so each works on a
# fresh Debian 12 machine.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
LISTEN     ?= 127.0.0.1:8080
DB         ?= var/convene.db

BUILD_PKGS = gcc libc6-dev make cmake pkg-config tzdata \
             libuv1-dev libh2o-dev libical-dev libsqlite3-dev libcurl4-openssl-dev \
             libjansson-dev libssl-dev zlib1g-dev libsodium-dev libxlsxwriter-dev
TEST_PKGS  = python3 python3-icalendar python3-recurring-ical-events sqlite3 valgrind curl jq \
             chromium chromium-l10n fonts-noto-cjk poppler-utils python3-openpyxl
BENCH_PKGS = wrk nginx-light
FUZZ_PKGS  = clang libclang-rt-14-dev llvm

FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = fuzz_api_body fuzz_framing fuzz_ical_import fuzz_rrule fuzz_router

.PHONY: all deps deps-test deps-node deps-bench deps-fuzz build run test test-asan test-valgrind bench \
        fuzz fuzz-build clean

all: build

# Installs only what is missing; apt-get update runs only when something is.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

# What building and running need: Debian's packages only, so an intranet machine
# with a Debian mirror and no npm registry can build and run the service.
deps:
	$(call apt_install,$(BUILD_PKGS))

# What the tests need on top: the Python oracles, and Node.js for the npm ones
# (ical.js, standardwebhooks), installed into tests/e2e/node_modules only.
deps-test: deps
	$(call apt_install,$(TEST_PKGS))
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory deps-node
	@[ -d tests/e2e/node_modules/ical.js ] && [ -d tests/e2e/node_modules/standardwebhooks ] || \
	  npm install --prefix tests/e2e --no-audit --no-fund --no-package-lock --loglevel=error
	@# The console's browser test: puppeteer-core drives Debian's chromium (no browser download).
	@[ -d tests/browser/node_modules/puppeteer-core ] && [ -d tests/browser/node_modules/axe-core ] || \
	  npm install --prefix tests/browser --no-audit --no-fund --no-package-lock --loglevel=error

# Node.js runs the independent oracles (ical.js, standardwebhooks); Debian's if none is present.
deps-node:
	$(call apt_install,nodejs npm)

deps-bench: deps-test
	$(call apt_install,$(BENCH_PKGS))

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The demo: a random admin token kept in var/admin-token, the demo
# organisation loaded once, then the service in the foreground.
run: build
	@mkdir -p var
	@[ -s var/admin-token ] || (umask 077; head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | sed 's/^/cvn_/' > var/admin-token)
	@$(BUILD)/convene seed --db $(DB) --listen $(LISTEN) calendars/demo
	@pw=$$($(BUILD)/convene passwd --db $(DB) --generate --if-unset zhaoming 2>/dev/null); \
	  if [ -n "$$pw" ]; then \
	    echo "console: http://$(LISTEN)/  login zhaoming (赵明, secretary), password $$pw (shown once)"; \
	  else \
	    echo "console: http://$(LISTEN)/  login zhaoming (password set earlier; a new one: $(BUILD)/convene passwd --db $(DB) zhaoming)"; \
	  fi
	@echo "admin token: $$(cat var/admin-token)"
	@echo "try: curl -H \"Authorization: Bearer $$(cat var/admin-token)\" http://$(LISTEN)/api/v1/rooms"
	CONVENE_ADMIN_TOKEN=$$(cat var/admin-token) $(BUILD)/convene serve --db $(DB) --listen $(LISTEN) \
	  --allow-private-webhooks

test: deps-test build
	cd $(BUILD) && ctest --output-on-failure -j 2

test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCONVENE_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j 2

test-valgrind: deps-test build
	CONVENE_BIN=$(CURDIR)/$(BUILD)/convene CONVENE_SOURCE_DIR=$(CURDIR) \
	  python3 tests/e2e/valgrind_check.py

# Every benchmark of docs/PERFORMANCE.md, one after the other (about 25 minutes);
# each prints its figures and exits 1 when its goal is missed. BENCHES picks some:
# make bench BENCHES="load-think dispatch".
BENCHES ?= nginx feeds booking group-commit availability dispatch reminders load-think load
bench: deps-bench build
	@failed=""; for b in $(BENCHES); do \
	  echo "== bench $$b"; \
	  case $$b in \
	    nginx) BUILD=$(BUILD) bench/run.sh ;; \
	    feeds) BUILD=$(BUILD) BENCH_ENFORCE=1 bench/feed_bench.sh ;; \
	    booking) python3 bench/booking_bench.py --bin $(BUILD)/convene ;; \
	    group-commit) python3 bench/group_commit_bench.py --bin $(BUILD)/convene --runs 3 ;; \
	    availability) python3 bench/availability_bench.py --bin $(BUILD)/convene ;; \
	    dispatch) python3 bench/dispatch_bench.py --bin $(BUILD)/convene ;; \
	    reminders) python3 bench/reminder_bench.py --bin $(BUILD)/convene ;; \
	    load-think) python3 bench/load.py --bin $(BUILD)/convene --think-ms 100 ;; \
	    load) python3 bench/load.py --bin $(BUILD)/convene ;; \
	    *) echo "unknown benchmark $$b"; false ;; \
	  esac || failed="$$failed $$b"; \
	done; \
	if [ -n "$$failed" ]; then echo "goals missed or failed:$$failed"; exit 1; fi

deps-fuzz: deps
	$(call apt_install,$(FUZZ_PKGS))

# libFuzzer targets (tests/fuzz/): library and targets built by clang with
# ASan+UBSan. Each runs FUZZ_SECONDS on its seed corpus and dictionary; new
# inputs go to $(FUZZ_BUILD)/corpus, crashes to $(FUZZ_BUILD)/artifacts.
fuzz-build: deps-fuzz
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCONVENE_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/artifacts
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  echo "== $$t: $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$t.log)"; \
	  if ! $(FUZZ_BUILD)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	      -rss_limit_mb=2048 -print_final_stats=1 -dict=tests/fuzz/$$t.dict \
	      -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	      $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t >$(FUZZ_BUILD)/$$t.log 2>&1; then \
	    tail -n 60 $(FUZZ_BUILD)/$$t.log; echo "$$t FAILED"; exit 1; \
	  fi; \
	  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' $(FUZZ_BUILD)/$$t.log; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
