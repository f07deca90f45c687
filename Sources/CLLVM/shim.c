// Plain-function wrapper around LLVM's static-inline native-target initialisers.
#include "shim.h"

int graft_llvm_initialize_native(void) {
    if (LLVMInitializeNativeTarget()) return 1;
    if (LLVMInitializeNativeAsmPrinter()) return 2;
    if (LLVMInitializeNativeAsmParser()) return 3;
    return 0;
}
