# SPDX-License-Identifier: GPL-2.0
# tdx-host: the two front doors are `make demo` and `make check` (see README.md).

KVER ?= $(shell cat $(HOME)/.cache/tdx-host/kver 2>/dev/null || ls /usr/src | sed -n 's/^linux-headers-\(6\.12\..*-amd64\)$$/\1/p' | sort -V | tail -n1)
KDIR ?= /lib/modules/$(KVER)/build
ifeq ($(wildcard $(KDIR)),)
KDIR := /usr/src/linux-headers-$(KVER)
endif
BUILD ?= $(CURDIR)/build

.PHONY: all module clean deps check-ko

all: module

deps:
	@scripts/install-deps.sh >/dev/null

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

check-ko: module
	scripts/check-ko.sh $(CURDIR)/tdx_host.ko

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
