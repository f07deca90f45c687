// SiblingReductionTests: reductions over the same axes of same-shaped operands computed in one
// loop (`FusionPlan.mergingSiblingReductions`), compiled against the reference interpreter:
// the streaming walk (BatchNorm's axes) and the nested one, sums, means and maxima together,
// operands shared between siblings, and a reduction that reads another's result kept apart.

import Testing
import GraftIR
import GraftPasses
import GraftBackend
import GraftRuntime

@Suite struct SiblingReductionTests {
    /// The plan's reduction kernels and the values each writes.
    private func reductions(_ graph: Graph) -> [[ValueID]] {
        FusionPlan(graph).kernels.filter { $0.kind == .reduction }.map(\.outputs)
    }

    /// BatchNorm's backward sums: Σ dy, Σ dy·(x − μ) and Σ (x − μ), one kernel reading dy and
    /// x once (the streaming walk, axes [0, 2, 3]). Its inner loop keeps the accumulators in
    /// registers and vectorizes, as one sum alone does: with the three in one alloca, at
    /// offsets LLVM could not tell apart, it stayed scalar and ran ~6× slower.
    @Test func batchNormBackwardSumsShareOneStreamingLoop() throws {
        let graph = try Parser.parse("""
            graph @bn(%dy: f32[4,16,14,14], %x: f32[4,16,14,14], %mu: f32[16]) -> (f32[16], f32[16], f32[16]) {
              %0 = reshape(%mu) : f32[16,1,1]
              %1 = broadcast(%0) : f32[4,16,14,14]
              %2 = sub(%x, %1) : f32[4,16,14,14]
              %3 = mul(%dy, %2) : f32[4,16,14,14]
              %4 = reduce_sum(%dy) {axes = [0, 2, 3]} : f32[16]
              %5 = reduce_sum(%3) {axes = [0, 2, 3]} : f32[16]
              %6 = reduce_mean(%2) {axes = [0, 2, 3]} : f32[16]
              return %4, %5, %6 : f32[16], f32[16], f32[16]
            }
            """)
        #expect(reductions(graph).map(\.count) == [3])
        try expectCompiledMatchesInterpreter(graph, tolerance: 1e-5)
        let llvm = try BackendPipeline.text(of: graph, at: .llvm)
        #expect(llvm.contains("fadd reassoc nsz <8 x double>"), "the sibling sums' inner loop is not vectorized")
    }

    /// A sum, a mean and a maximum over the inner axis of different operands (the nested walk:
    /// one output element at a time).
    @Test func sumsMeansAndMaximaShareOneNestedLoop() throws {
        let graph = try Parser.parse("""
            graph @g(%a: f32[6,7,5], %b: f32[6,7,5]) -> (f32[6,5], f32[6,5], f32[6,5]) {
              %0 = mul(%a, %b) : f32[6,7,5]
              %1 = reduce_sum(%0) {axes = [1]} : f32[6,5]
              %2 = reduce_mean(%b) {axes = [1]} : f32[6,5]
              %3 = reduce_max(%a) {axes = [1]} : f32[6,5]
              return %1, %2, %3 : f32[6,5], f32[6,5], f32[6,5]
            }
            """)
        #expect(reductions(graph).map(\.count) == [3])
        try expectCompiledMatchesInterpreter(graph, tolerance: 1e-5)
    }

    /// A variance reads its mean: it cannot run in the mean's loop. Reductions over other
    /// axes, or of other shapes, stay apart too.
    @Test func aReductionOfAnotherResultOrAnotherWalkStaysApart() throws {
        let graph = try Parser.parse("""
            graph @g(%x: f32[4,3,5,5], %y: f32[4,3,5,4]) -> (f32[3], f32[3], f32[4], f32[3]) {
              %0 = reduce_mean(%x) {axes = [0, 2, 3]} : f32[3]
              %1 = reshape(%0) : f32[3,1,1]
              %2 = broadcast(%1) : f32[4,3,5,5]
              %3 = sub(%x, %2) : f32[4,3,5,5]
              %4 = mul(%3, %3) : f32[4,3,5,5]
              %5 = reduce_mean(%4) {axes = [0, 2, 3]} : f32[3]
              %6 = reduce_sum(%x) {axes = [0, 1, 2]} : f32[5]
              %7 = reduce_sum(%y) {axes = [0, 2, 3]} : f32[3]
              %8 = slice(%6) {limit = [4], start = [0]} : f32[4]
              return %0, %5, %8, %7 : f32[3], f32[3], f32[4], f32[3]
            }
            """)
        #expect(reductions(graph).map(\.count) == [1, 1, 1, 1])
        try expectCompiledMatchesInterpreter(graph, tolerance: 1e-5)
    }
}
