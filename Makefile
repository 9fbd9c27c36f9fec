# The two commands a user needs: `make demo` and `make check`. Both install what is missing
# (Debian packages), build with CMake and run; CTest does the testing underneath.
JOBS ?= 2
B := $(CURDIR)/build

# make install: PREFIX (default /usr/local) and DESTDIR, as usual
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build demo check bench clean install install-built uninstall mps2 esp8266
all: build

build:
	@bash scripts/deps.sh build
	cmake -S . -B $(B)/main -DBH_ASAN_BUILD=$(B)/asan -DBH_FUZZ_BUILD=$(B)/fuzz >/dev/null
	cmake --build $(B)/main -j$(JOBS)

# the firmware for the bare-metal lwIP board in QEMU (docs/ports.md); LWIP_DIR=... to choose lwIP
mps2:
	@bash scripts/mps2-build.sh $(B)/mps2

# the ESP8266 image and the esptool command to flash it (docs/esp8266.md); ESP8266_SDK=... to
# choose the NONOS SDK, CONFIG=path/to/config.py to put config.py into its file system
esp8266:
	@CONFIG="$(CONFIG)" bash scripts/esp8266-build.sh $(B)/esp8266

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
	@bash scripts/mps2-build.sh $(B)/mps2
	@bash scripts/esp8266-build.sh $(B)/esp8266
	cd $(B)/main && ctest --output-on-failure -j$(JOBS)
	@# the figures the tests print ("figures: ..." lines: the fault tests' counts)
	@grep -h '^figures: ' $(B)/main/Testing/Temporary/LastTest.log | sort || true

bench: build
	@bash scripts/deps.sh check
	@bash bench/run.sh $(B)/main

# hookd and simboard, their man pages, hookd's systemd unit and sysusers.d file, the docs.
# The prefix is given at install time, so `sudo make install PREFIX=/usr` needs no rebuild.
install: build
	@$(MAKE) --no-print-directory install-built
install-built:
	DESTDIR="$(DESTDIR)" cmake --install $(B)/main --prefix "$(PREFIX)"
	@echo "installed. For hookd as a service: systemd-sysusers && systemctl daemon-reload && systemctl enable --now hookd"

# removes what the last `make install` wrote (CMake's list of it; give the same DESTDIR)
uninstall:
	@test -f $(B)/main/install_manifest.txt || { echo "uninstall: nothing installed from $(B)/main" >&2; exit 1; }
	sed 's|^|$(DESTDIR)|' $(B)/main/install_manifest.txt | xargs -d '\n' rm -f --
	rm -f $(B)/main/install_manifest.txt

clean:
	rm -rf $(B)
