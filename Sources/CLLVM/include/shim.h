// The LLVM 14 C API as one Clang module for Swift. The quoted includes resolve through the
// `llvm-c` and `llvm` symlinks beside this file, so SwiftPM's `-I <target>/include` is enough.
#ifndef GRAFT_CLLVM_SHIM_H
#define GRAFT_CLLVM_SHIM_H

#include "llvm-c/Core.h"
#include "llvm-c/Analysis.h"
#include "llvm-c/BitWriter.h"
#include "llvm-c/Error.h"
#include "llvm-c/Target.h"
#include "llvm-c/TargetMachine.h"
#include "llvm-c/Orc.h"
#include "llvm-c/LLJIT.h"
#include "llvm-c/Transforms/PassBuilder.h"
#include "llvm-c/IRReader.h"
#include "llvm-c/Support.h"

/// Initialises the host target, its assembly printer and its assembly parser (the
/// `LLVMInitializeNative*` functions are static inline, so Swift cannot call them directly).
/// Returns 0 on success, non-zero if the host target is not compiled into LLVM.
int graft_llvm_initialize_native(void);

#endif
