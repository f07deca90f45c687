// The machine Graft compiles for: the host's triple, CPU and features as LLVM sees them, and
// the LLVM calls that turn them into target machines. Shared by the JIT and the BLAS loader.
import CLLVM
import GraftIR

/// The host CPU as LLVM describes it, and a factory for host target machines.
///
/// LLVM 14 names recent Xeons `icelake-client` (or the generic `x86-64` for CPUs it predates)
/// but its feature string still lists every AVX-512 extension the CPU has, so code generated
/// for `cpuName` + `cpuFeatures` uses them.
struct HostTarget: Sendable {
    /// The normalised host triple, e.g. `x86_64-pc-linux-gnu`.
    let triple: String
    /// LLVM's name for the host CPU, e.g. `icelake-client`.
    let cpuName: String
    /// The host's feature string, e.g. `+sse2,+avx512f,-amx-tile,…`.
    let cpuFeatures: String

    /// Reads the host facts from LLVM; initialises the native target first.
    ///
    /// - Throws: `Diagnostic` if LLVM was built without the host's target.
    init() throws {
        guard nativeTargetStatus == 0 else {
            throw Diagnostic("LLVM could not initialise the native target (step \(nativeTargetStatus) failed)")
        }
        triple = takeLLVMString(LLVMNormalizeTargetTriple(takeLLVMString(LLVMGetDefaultTargetTriple())))
        cpuName = takeLLVMString(LLVMGetHostCPUName())
        cpuFeatures = takeLLVMString(LLVMGetHostCPUFeatures())
    }

    /// Whether the host features enable `feature` (a name without the sign, e.g. `avx512f`).
    func has(_ feature: String) -> Bool {
        cpuFeatures.split(separator: ",").contains { $0 == "+" + feature }
    }

    /// A new host target machine at `-O3`; the caller owns it (dispose it, or hand it to
    /// `LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine`, which consumes it).
    ///
    /// - Parameter forJIT: use the JIT code model (large on x86-64, so code may live anywhere
    ///   in the address space) instead of the default one.
    func makeTargetMachine(forJIT: Bool = false) throws -> LLVMTargetMachineRef {
        var target: LLVMTargetRef?
        var message: UnsafeMutablePointer<CChar>?
        guard LLVMGetTargetFromTriple(triple, &target, &message) == 0, let target else {
            throw Diagnostic("LLVM has no target for \(triple): \(takeLLVMString(message))")
        }
        guard let machine = LLVMCreateTargetMachine(
            target, triple, cpuName, cpuFeatures, LLVMCodeGenLevelAggressive, LLVMRelocDefault,
            forJIT ? LLVMCodeModelJITDefault : LLVMCodeModelDefault)
        else { throw Diagnostic("LLVM could not create a target machine for \(triple) (\(cpuName))") }
        return machine
    }
}

/// `graft_llvm_initialize_native()`'s result, computed once: Swift initialises globals lazily
/// and thread-safely.
private let nativeTargetStatus: Int32 = graft_llvm_initialize_native()

/// Copies an LLVM-allocated C string into a Swift string and frees it (`LLVMDisposeMessage`).
/// A null pointer reads as the empty string.
func takeLLVMString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    defer { LLVMDisposeMessage(pointer) }
    return String(cString: pointer)
}

/// Turns an `LLVMErrorRef` (consumed) into a `Diagnostic`, or returns normally for success.
///
/// - Parameter context: what Graft was doing, prefixed to LLVM's message.
func checkLLVM(_ error: LLVMErrorRef?, _ context: String) throws {
    guard let error else { return }
    let raw = LLVMGetErrorMessage(error)  // consumes `error`
    defer { LLVMDisposeErrorMessage(raw) }
    throw Diagnostic("\(context): \(raw.map { String(cString: $0) } ?? "unknown LLVM error")")
}
