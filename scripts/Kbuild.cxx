# SPDX-License-Identifier: GPL-2.0
#
# The C++ rule for Kbuild: `%.o: %.cpp` shaped like Kbuild's own C rule (cmd_and_fixdep, then
# objtool), with the kernel's C flags minus the options that are C-only or that C++ must not have.

CXX_C_ONLY_FLAGS := -std=gnu11 -std=gnu99 -std=gnu89 -Wstrict-prototypes \
	-Werror=strict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-Wdeclaration-after-statement -Wno-pointer-sign -Werror=implicit-function-declaration \
	-Werror=implicit-int -Wimplicit-fallthrough=5 -Werror=incompatible-pointer-types \
	-Werror=designated-init -Wno-override-init -Wmissing-declarations \
	-Wno-unterminated-string-initialization -Wpointer-arith -Wnested-externs \
	-Werror=return-type -Wno-alloc-size-larger-than -Wno-format-security \
	-Wno-packed-not-aligned -Wvla -Wno-dangling-pointer -Wno-array-bounds \
	-Wno-stringop-overflow -Wno-restrict -Wno-maybe-uninitialized \
	-Wenum-conversion -Werror=date-time -Wunused -Wno-unused-but-set-variable \
	-Wno-unused-const-variable -Wno-address-of-packed-member -fno-strict-overflow \
	-Wmissing-include-dirs -Wno-main

# Debug info: C++ DWARF is kept out of the module (BTF generation cannot read it).
CXX_DROP_FLAGS := $(CXX_C_ONLY_FLAGS) -g -gdwarf-4 -gdwarf-5 -gdwarf -gz=zlib -gsplit-dwarf \
	-fno-var-tracking -femit-struct-debug-baseonly -fno-var-tracking-assignments

CXX_LANG_FLAGS := -x c++ -std=gnu++20 -fno-exceptions -fno-rtti -fno-threadsafe-statics \
	-fno-use-cxa-atexit -nostdinc++ -ffreestanding -fno-sized-deallocation \
	-fno-asynchronous-unwind-tables -g0 -Wno-missing-field-initializers \
	-Wno-invalid-offsetof -Wno-volatile -I$(src)/include

cxx_flags = -Wp,-MMD,$(depfile) $(NOSTDINC_FLAGS) \
	$(filter-out $(CXX_DROP_FLAGS), $(_c_flags) $(modkern_cflags)) \
	$(basename_flags) $(modname_flags) $(CXX_LANG_FLAGS)

# COMDAT groups are dropped from the object: the core is one translation unit (see
# arch-x86-virt-tdx/unity.cpp), so they select nothing, and 6.12's objtool, when it adds the
# __pfx_ symbols of call padding, moves global symbols without renumbering the groups' signature
# symbols; the final module link then discards live sections ("defined in discarded section").
quiet_cmd_cc_o_cpp = CXX $(quiet_modtag) $@
      cmd_cc_o_cpp = $(CC) $(cxx_flags) -c -o $@ $< && $(OBJCOPY) --remove-section=.group $@ \
		$(cmd_objtool)

define rule_cc_o_cpp
	$(call cmd_and_fixdep,cc_o_cpp)
endef

$(obj)/%.o: $(src)/%.cpp FORCE
	$(call if_changed_rule,cc_o_cpp)
