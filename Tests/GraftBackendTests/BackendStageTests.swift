// BackendStageTests: golden text of the backend's stages for small hand-written graphs: the
// fused stage exactly, the LLVM stage FileCheck-style (the lines that matter, in order).

import Testing
import GraftIR
import GraftBackend
import GraftPasses

/// A small step: a BLAS operand that must be materialized, an elementwise chain with a
/// broadcast fused after the product, and a reduction of the chain's result.
let smallStep = """
    graph @small(%x: f32[4,32], %w: f32[32,8], %b: f32[8]) -> (f32[4,8], f32[8]) {
      %0 = relu(%x) : f32[4,32]
      %1 = matmul(%0, %w) {transpose_a = false, transpose_b = false} : f32[4,8]
      %2 = broadcast(%b) : f32[4,8]
      %3 = add(%1, %2) : f32[4,8]
      %4 = sigmoid(%3) : f32[4,8]
      %5 = reduce_mean(%4) {axes = [0]} : f32[8]
      return %4, %5 : f32[4,8], f32[8]
    }
    """

/// Checks `text` against FileCheck-style directives: each `CHECK: s` must match a later line
/// than the previous match (containing `s`), `CHECK-NEXT: s` the very next line, and
/// `CHECK-NOT: s` no line between the previous match and the next one.
func fileCheck(_ text: String, _ directives: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var position = 0
    var forbidden: [String] = []
    for directive in directives.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !directive.isEmpty {
        if directive.hasPrefix("CHECK-NOT: ") { forbidden.append(String(directive.dropFirst(11))); continue }
        let isNext = directive.hasPrefix("CHECK-NEXT: ")
        let pattern = String(directive.dropFirst(isNext ? 12 : 7))
        let found = isNext ? (position < lines.count && lines[position].contains(pattern) ? position : nil)
                           : lines[position...].firstIndex { $0.contains(pattern) }
        guard let found else {
            Issue.record("\(directive) matches no line after line \(position)", sourceLocation: sourceLocation)
            return
        }
        for line in lines[position..<found] { for text in forbidden where line.contains(text) {
            Issue.record("CHECK-NOT: \(text) found before \(directive): \(line)", sourceLocation: sourceLocation)
        } }
        forbidden = []
        position = found + 1
    }
}

@Suite("Backend stages")
struct BackendStageTests {
    @Test func fusedStageGroupsTheStepIntoFourKernels() throws {
        let text = try BackendPipeline.text(of: try Parser.parse(smallStep), at: .fused)
        #expect(text == """
            fusion @small: 4 kernels (1 BLAS contractions, 1 reductions, 2 elementwise loops)
            kernel #0 loop -> %0 : f32[4,32]  reads (%x)
              %0 = relu(%x) : f32[4,32]
            kernel #1 blas -> %1 : f32[4,8]  reads (%0, %w)
              %1 = matmul(%0, %w) {transpose_a = false, transpose_b = false} : f32[4,8]
            kernel #2 loop -> %4 : f32[4,8]  reads (%1, %b)
              %2 = broadcast(%b) : f32[4,8]
              %3 = add(%1, %2) : f32[4,8]
              %4 = sigmoid(%3) : f32[4,8]
            kernel #3 reduce -> %5 : f32[8]  reads (%4)
              %5 = reduce_mean(%4) {axes = [0]} : f32[8]

            """)
    }

    @Test func plannedStageReusesTheDeadOperandOfTheProduct() throws {
        let text = try BackendPipeline.text(of: try Parser.parse(smallStep), at: .planned)
        // relu's buffer (%0) is dead after the product, so the fused loop's result takes its place.
        fileCheck(text, """
            CHECK: memory plan @small: arena peak 2240 bytes
            CHECK: %0 : f32[4,32]  offset 1600  size 512
            CHECK-NEXT: %4 : f32[4,8]  offset 1600  size 128
            CHECK: params and state: 0 values
            """)
    }

    /// The emitted kernels as handed to LLVM: the legend names what each function runs, the
    /// sigmoid is lowered from its scalar meaning, the broadcast reads the bias at the column
    /// index, the mean accumulates in double and rounds once.
    @Test func llvmStageLowersTheScalarMeaning() throws {
        let jit = try LLVMJIT()
        let compiled = try KernelCache(jit: jit).compile(FusionPlan(try Parser.parse(smallStep)))
        fileCheck(compiled.legend, """
            CHECK: ; @graft_k0: kernel #0 (loop -> f32[4,32])
            CHECK-NEXT: ; @graft_k1: kernel #2 (loop -> f32[4,8])
            CHECK-NEXT: ; @graft_k2: kernel #3 (reduce -> f32[8])
            """)
        fileCheck(compiled.sourceIR, """
            CHECK: define void @graft_k1(float** noalias nocapture readonly %args, i64 %begin, i64 %end)
            CHECK: br i1 %empty, label %exit, label %loop
            CHECK: urem i64 %i, 8
            CHECK: fadd float
            CHECK: fneg float
            CHECK-NEXT: call float @llvm.exp.f32(float
            CHECK-NEXT: fadd float 0x3FF0000000000000,
            CHECK-NEXT: fdiv float 0x3FF0000000000000,
            CHECK: define void @graft_k2(
            CHECK: %acc0 = alloca double
            CHECK: fpext float
            CHECK: fadd reassoc nsz double
            CHECK: fdiv double
            CHECK-NEXT: fptrunc double
            """)
        // After O3 the relu loop is vectorized.
        fileCheck(try BackendPipeline.text(of: try Parser.parse(smallStep), at: .llvm), """
            CHECK: define void @graft_k0(
            CHECK: x float>
            CHECK: define void @graft_k1(
            """)
    }
}
