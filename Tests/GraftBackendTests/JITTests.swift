// LLVMJIT tests: kernels compiled from textual IR (LLVM 14 typed-pointer syntax) are called
// through their JIT addresses and checked against values computed here in Swift.
import GraftBackend
import GraftIR
import Testing
import Foundation

/// The kernel ABI the backend emits: a table of buffer pointers and a half-open index range.
private typealias Kernel = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int64, Int64) -> Void

/// `c[i] = a[i] + b[i]` for i in [begin, end); buffers are (a, b, c).
private let addKernelIR = """
    define void @add_f32(i8** %buffers, i64 %begin, i64 %end) {
    entry:
      %pa = getelementptr inbounds i8*, i8** %buffers, i64 0
      %pb = getelementptr inbounds i8*, i8** %buffers, i64 1
      %pc = getelementptr inbounds i8*, i8** %buffers, i64 2
      %ra = load i8*, i8** %pa
      %rb = load i8*, i8** %pb
      %rc = load i8*, i8** %pc
      %a = bitcast i8* %ra to float*
      %b = bitcast i8* %rb to float*
      %c = bitcast i8* %rc to float*
      %empty = icmp sge i64 %begin, %end
      br i1 %empty, label %exit, label %loop
    loop:
      %i = phi i64 [ %begin, %entry ], [ %next, %loop ]
      %xa = getelementptr inbounds float, float* %a, i64 %i
      %xb = getelementptr inbounds float, float* %b, i64 %i
      %xc = getelementptr inbounds float, float* %c, i64 %i
      %va = load float, float* %xa
      %vb = load float, float* %xb
      %sum = fadd float %va, %vb
      store float %sum, float* %xc
      %next = add nuw nsw i64 %i, 1
      %done = icmp eq i64 %next, %end
      br i1 %done, label %exit, label %loop
    exit:
      ret void
    }
    """

/// Returns the sum of x[0..<n]; `reassoc nsz` lets the loop vectorizer reorder the adds.
private let sumKernelIR = """
    define float @sum_f32(float* noalias %x, i64 %n) {
    entry:
      %empty = icmp sle i64 %n, 0
      br i1 %empty, label %exit, label %loop
    loop:
      %i = phi i64 [ 0, %entry ], [ %next, %loop ]
      %acc = phi float [ 0.0, %entry ], [ %acc.next, %loop ]
      %px = getelementptr inbounds float, float* %x, i64 %i
      %v = load float, float* %px
      %acc.next = fadd reassoc nsz float %acc, %v
      %next = add nuw nsw i64 %i, 1
      %done = icmp eq i64 %next, %n
      br i1 %done, label %exit, label %loop
    exit:
      %result = phi float [ 0.0, %entry ], [ %acc.next, %loop ]
      ret float %result
    }
    """

@Test func addKernelComputesTheRangeItIsGiven() throws {
    let jit = try LLVMJIT()
    let optimised = try jit.add(module: addKernelIR, name: "add")
    #expect(optimised.contains("\"prefer-vector-width\"=\"512\""))
    #expect(optimised.contains("\"target-cpu\"=\"\(jit.cpuName)\""))
    let kernel = unsafeBitCast(try jit.address(of: "add_f32"), to: Kernel.self)

    let count = 1003  // not a multiple of the vector width, so the remainder loop runs too
    var a = (0..<count).map { Float($0) * 0.5 }
    var b = (0..<count).map { Float(count - $0) }
    var c = [Float](repeating: -1, count: count)
    let (begin, end) = (5, 998)
    a.withUnsafeMutableBytes { a in
        b.withUnsafeMutableBytes { b in
            c.withUnsafeMutableBytes { c in
                var buffers: [UnsafeMutableRawPointer?] = [a.baseAddress, b.baseAddress, c.baseAddress]
                buffers.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, Int64(begin), Int64(end)) }
            }
        }
    }
    for i in 0..<count {
        #expect(c[i] == ((begin..<end).contains(i) ? a[i] + b[i] : -1), "element \(i)")
    }
}

@Test func reductionVectorizesTo512BitsAndSumsCorrectly() throws {
    let jit = try LLVMJIT()
    let optimised = try jit.add(module: sumKernelIR, name: "sum")
    #expect(optimised.contains("<16 x float>"), "expected AVX-512 vectors in:\n\(optimised)")
    let sum = unsafeBitCast(
        try jit.address(of: "sum_f32"), to: (@convention(c) (UnsafePointer<Float>, Int64) -> Float).self)

    // Small integers: every partial sum is exact in Float, in any order.
    for count in [0, 1, 15, 16, 17, 1000, 4099] {
        let x = (0..<count).map { Float($0 % 7) }
        let expected = (0..<count).reduce(0) { $0 + $1 % 7 }
        #expect(sum(x, Int64(count)) == Float(expected), "n = \(count)")
    }
}

@Test func assemblyUsesZMMRegisters() throws {
    let jit = try LLVMJIT()
    let assembly = try jit.assembly(for: addKernelIR)
    #expect(assembly.contains("add_f32:"))
    #expect(assembly.contains("zmm"), "expected 512-bit registers in:\n\(assembly)")
    // Emitting assembly leaves the JIT alone: the same module still adds and links.
    try jit.add(module: addKernelIR, name: "add")
    _ = try jit.address(of: "add_f32")
}

@Test func malformedIRThrowsLLVMsParseError() throws {
    let jit = try LLVMJIT()
    let error = #expect(throws: Diagnostic.self) {
        try jit.add(module: "define void @broken( {\n  ret void\n}\n", name: "broken")
    }
    let message = error?.message ?? ""
    #expect(message.contains("broken"), "the module name: \(message)")
    #expect(message.contains("broken:2:3: error: expected type"), "LLVM's own parser message: \(message)")
}

@Test func verifierFailureThrowsLLVMsReport() throws {
    let jit = try LLVMJIT()
    let ir = """
        define i32 @uses_before_def(i32 %x) {
        entry:
          %y = add i32 %z, 1
          %z = add i32 %x, 1
          ret i32 %y
        }
        """
    let error = #expect(throws: Diagnostic.self) { try jit.add(module: ir, name: "bad") }
    #expect(error?.message.contains("Instruction does not dominate all uses") == true, "\(String(describing: error))")
    #expect(throws: Diagnostic.self) { try jit.assembly(for: ir) }
}

@Test func opaquePointerSyntaxIsRejectedByLLVM14() throws {
    let jit = try LLVMJIT()
    let ir = "define void @f(ptr %p) {\n  ret void\n}\n"
    let error = #expect(throws: Diagnostic.self) { try jit.add(module: ir, name: "opaque") }
    // LLVM 14 also prints "ptr type is only supported in -opaque-pointers mode" to stderr.
    #expect(error?.message.contains("expected type") == true, "\(String(describing: error))")
}

@Test func unknownAndDuplicateSymbolsThrow() throws {
    let jit = try LLVMJIT()
    let missing = #expect(throws: Diagnostic.self) { try jit.address(of: "no_such_kernel") }
    #expect(missing?.message.contains("no_such_kernel") == true, "\(String(describing: missing))")

    try jit.add(module: sumKernelIR, name: "first")
    let duplicate = #expect(throws: Diagnostic.self) { try jit.add(module: sumKernelIR, name: "second") }
    #expect(duplicate?.message.contains("sum_f32") == true, "\(String(describing: duplicate))")
}

@Test func jitCodeCanCallProcessSymbols() throws {
    let jit = try LLVMJIT()
    let ir = """
        declare float @sqrtf(float)
        define float @call_sqrt(float %x) {
          %r = call float @sqrtf(float %x)
          ret float %r
        }
        declare i64 @strlen(i8*)
        define i64 @call_strlen(i8* %s) {
          %r = call i64 @strlen(i8* %s)
          ret i64 %r
        }
        """
    try jit.add(module: ir, name: "calls")
    let root = unsafeBitCast(try jit.address(of: "call_sqrt"), to: (@convention(c) (Float) -> Float).self)
    #expect(root(6.25) == 2.5)
    let length = unsafeBitCast(
        try jit.address(of: "call_strlen"), to: (@convention(c) (UnsafePointer<CChar>) -> Int64).self)
    #expect(length("graft") == 5)
}

@Test func hostFactsAreKnown() throws {
    let jit = try LLVMJIT()
    #expect(!jit.cpuName.isEmpty)
    #expect(jit.cpuFeatures.contains("+"))
    print("LLVM host CPU: \(jit.cpuName); AVX-512F: \(jit.cpuFeatures.contains("+avx512f"))")
}

/// Compiled modules' object code is kept in an `ObjectCache` and read back by a later JIT (a
/// later process): the file is written once, the function it holds computes, and a file LLVM
/// cannot read is compiled again and replaced.
@Test func objectCodeIsKeptBetweenJITsAndADamagedFileIsReplaced() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-object-cache-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let cache = ObjectCache(directory: directory)
    func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil).filter { $0.pathExtension == "o" }
    }
    /// A fresh JIT's add_f32 over four elements.
    func compileAndRun() throws -> [Float] {
        let jit = try LLVMJIT(objectCache: cache)
        try jit.add(modules: [(addKernelIR, "add")], keepingText: false)
        let kernel = unsafeBitCast(try jit.address(of: "add_f32"), to: Kernel.self)
        var a: [Float] = [1, 2, 3, 4], b: [Float] = [10, 20, 30, 40], c = [Float](repeating: 0, count: 4)
        a.withUnsafeMutableBytes { a in
            b.withUnsafeMutableBytes { b in
                c.withUnsafeMutableBytes { c in
                    var buffers: [UnsafeMutableRawPointer?] = [a.baseAddress, b.baseAddress, c.baseAddress]
                    buffers.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, 0, 4) }
                }
            }
        }
        return c
    }
    #expect(try compileAndRun() == [11, 22, 33, 44])
    let stored = try files()
    try #require(stored.count == 1)
    let written = try FileManager.default.attributesOfItem(atPath: stored[0].path)[.modificationDate] as? Date
    #expect(try compileAndRun() == [11, 22, 33, 44])   // read back, not written again
    #expect(try FileManager.default.attributesOfItem(atPath: stored[0].path)[.modificationDate] as? Date == written)
    try Data("not an object file".utf8).write(to: stored[0])
    #expect(try compileAndRun() == [11, 22, 33, 44])
    #expect(try Data(contentsOf: stored[0]).count > 100)   // replaced by real object code
}
