# The two commands a user needs: `make demo` and `make check`. Both install what is missing
# (Debian packages), build with CMake and run; CTest does the testing underneath.
JOBS ?= 2
B := $(CURDIR)/build

.PHONY: all build demo check bench clean
all: build

build:
	@bash scripts/deps.sh build
	cmake -S . -B $(B)/main -DBH_ASAN_BUILD=$(B)/asan -DBH_FUZZ_BUILD=$(B)/fuzz >/dev/null
	cmake --build $(B)/main -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(B)/main

check:
	@bash scripts/deps.sh check
	cmake -S . -B $(B)/main -DBH_ASAN_BUILD=$(B)/asan -DBH_FUZZ_BUILD=$(B)/fuzz >/dev/null
	cmake --build $(B)/main -j$(JOBS)
	cmake -S . -B $(B)/asan -DBH_SANITIZE=ON >/dev/null
	cmake --build $(B)/asan -j$(JOBS)
	CC=clang cmake -S . -B $(B)/fuzz -DBH_FUZZ=ON >/dev/null
	cmake --build $(B)/fuzz -j$(JOBS)
	@bash scripts/cross-size.sh
	cd $(B)/main && ctest --output-on-failure -j$(JOBS)
	@# the figures the tests print ("figures: ..." lines: the fault tests' counts)
	@grep -h '^figures: ' $(B)/main/Testing/Temporary/LastTest.log | sort || true

bench: build
	@bash scripts/deps.sh check
	@bash bench/run.sh $(B)/main

clean:
	rm -rf $(B)
