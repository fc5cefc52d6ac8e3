// SPDX-License-Identifier: GPL-2.0
/*
 * The module compiles its C++ core as one translation unit. GCC 12 records the
 * -fpatchable-function-entry sites (kernels with CALL_PADDING) of every function of an object in
 * one __patchable_function_entries section, outside the COMDAT groups of inline and template
 * functions: when two objects emit the same inline function, the partial link of the module
 * discards one copy and fails ("defined in discarded section"). In one translation unit each
 * inline function is emitted once. Host tests still build the files one by one.
 */
#include "seamcall.cpp"
#include "backend.cpp"
#include "metadata.cpp"
#include "pages.cpp"
#include "tdmr.cpp"
#include "ext.cpp"
#include "quote.cpp"
#include "bringup.cpp"
#include "td.cpp"
#include "core.cpp"
#include "bench.cpp"
#include "update_image.cpp"
#include "update.cpp"
#ifdef TDX_KUNIT_HOOKS
#include "kunit_hooks.cpp"
#endif
