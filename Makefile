# hookrelay: build, install and regenerate the shell completions.
#
#   make                                  release build, Swift standard library linked statically
#   make install PREFIX=/usr/local        binary, man pages, bash/zsh/fish completions
#   make install-systemd PREFIX=/usr/local  the units of contrib/systemd in SYSTEMDDIR, ExecStart
#                                         naming $(PREFIX)/bin/hookrelay
#   make uninstall PREFIX=/usr/local      removes what install put there
#   make uninstall-systemd                removes the units (stop and disable them first)
#   make test                             README's test command (bash .ci/deps && bash .ci/postgres swift test: installs what
#                                         the tests need, then runs them beside a throwaway PostgreSQL cluster)
#   make completions                      regenerates contrib/completions from the argument parser
#   make openapi                          embeds docs/openapi.yaml as JSON in serve (Sources/HookRelayServer/OpenAPIDocument.swift)
#
# DESTDIR is prepended to every installed path (staged installs, packaging).
# BIN=path/to/hookrelay makes install and completions use that binary instead of building one:
# the tests install the debug binary they run this way (a release build takes minutes).

SWIFT ?= swift
INSTALL ?= install
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
BASHDIR = $(PREFIX)/share/bash-completion/completions
ZSHDIR = $(PREFIX)/share/zsh/site-functions
FISHDIR = $(PREFIX)/share/fish/vendor_completions.d
SYSTEMDDIR ?= /etc/systemd/system

# The release build has a scratch directory of its own, so it never rebuilds the debug tree the
# tests use.
STATIC_SCRATCH = .build-static
RELEASE_BIN = $(STATIC_SCRATCH)/release/hookrelay
BIN ?=
INSTALL_BIN = $(or $(BIN),$(RELEASE_BIN))

MANPAGES = $(notdir $(wildcard man/*.1))
UNITS = hookrelay.service hookrelay-drain.service hookrelay-drain.timer

.PHONY: all build install install-systemd uninstall uninstall-systemd test completions openapi clean

all: build

build:
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(STATIC_SCRATCH) --product hookrelay

install: $(if $(BIN),,build)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	$(INSTALL) -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/hookrelay
	$(INSTALL) -m 0644 $(addprefix man/,$(MANPAGES)) $(DESTDIR)$(MANDIR)/
	$(INSTALL) -m 0644 contrib/completions/hookrelay.bash $(DESTDIR)$(BASHDIR)/hookrelay
	$(INSTALL) -m 0644 contrib/completions/_hookrelay $(DESTDIR)$(ZSHDIR)/_hookrelay
	$(INSTALL) -m 0644 contrib/completions/hookrelay.fish $(DESTDIR)$(FISHDIR)/hookrelay.fish

# The units name /usr/local/bin/hookrelay; installed, they name $(PREFIX)/bin/hookrelay.
install-systemd:
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDDIR)
	for unit in $(UNITS); do \
		sed 's|/usr/local/bin/hookrelay|$(BINDIR)/hookrelay|g' contrib/systemd/$$unit > $(DESTDIR)$(SYSTEMDDIR)/$$unit.tmp && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$unit.tmp && \
		mv $(DESTDIR)$(SYSTEMDDIR)/$$unit.tmp $(DESTDIR)$(SYSTEMDDIR)/$$unit || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hookrelay
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(MANPAGES))
	rm -f $(DESTDIR)$(BASHDIR)/hookrelay $(DESTDIR)$(ZSHDIR)/_hookrelay $(DESTDIR)$(FISHDIR)/hookrelay.fish

uninstall-systemd:
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(UNITS))

test:
	bash .ci/deps && bash .ci/postgres $(SWIFT) test

# After changing docs/openapi.yaml: `make openapi`, then commit both (OpenAPIContractTests fails
# while the JSON serve answers GET /v1/openapi.json with differs from the YAML). Needs PyYAML.
openapi:
	python3 docs/openapi.py

# After adding or changing a subcommand or option: `make completions`, then commit
# contrib/completions (CompletionTests fails while they differ from what the binary generates).
COMPLETION_BIN = $(or $(BIN),.build/debug/hookrelay)
completions:
	$(if $(BIN),,$(SWIFT) build --product hookrelay)
	$(COMPLETION_BIN) --generate-completion-script bash > contrib/completions/hookrelay.bash.tmp
	$(COMPLETION_BIN) --generate-completion-script zsh > contrib/completions/_hookrelay.tmp
	$(COMPLETION_BIN) --generate-completion-script fish > contrib/completions/hookrelay.fish.tmp
	mv contrib/completions/hookrelay.bash.tmp contrib/completions/hookrelay.bash
	mv contrib/completions/_hookrelay.tmp contrib/completions/_hookrelay
	mv contrib/completions/hookrelay.fish.tmp contrib/completions/hookrelay.fish

clean:
	rm -rf $(STATIC_SCRATCH)
