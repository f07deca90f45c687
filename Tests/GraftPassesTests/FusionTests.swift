// The fusion plan's choice between a buffer and recomputation for values with several readers.

import Testing
import GraftIR
@testable import GraftPasses

@Suite struct FusionTests {
    /// BatchNorm's shape: a centred value read by the variance reduction and the output. It
    /// reads one large tensor (x) and a small one (the mean), so each reader recomputes it.
    @Test func aCheapValueOfOneLargeTensorIsRecomputedInEachReader() throws {
        let graph = try Parser.parse("""
            graph @bn(%x: f32[8,4,6,6]) -> (f32[8,4,6,6], f32[4]) {
              %mean = reduce_mean(%x) {axes = [0, 2, 3]} : f32[4]
              %m = reshape(%mean) : f32[4,1,1]
              %b = broadcast(%m) : f32[8,4,6,6]
              %c = sub(%x, %b) : f32[8,4,6,6]
              %sq = mul(%c, %c) : f32[8,4,6,6]
              %var = reduce_mean(%sq) {axes = [0, 2, 3]} : f32[4]
              %y = relu(%c) : f32[8,4,6,6]
              return %y, %var : f32[8,4,6,6], f32[4]
            }
            """)
        let plan = FusionPlan(graph)
        let centred = graph.nodes.indices.first { graph[$0].op == .sub }!
        #expect(!plan.materialized[centred])
        // Three kernels: the mean, the variance (recomputing x − mean), the output (again).
        #expect(plan.kernels.count == 3)
        #expect(plan.kernels.filter { $0.body.contains(centred) }.count == 2)
    }

    /// A sum of two large tensors read twice: recomputing would read both tensors per reader,
    /// more than writing the sum once and reading it back, so it gets a buffer.
    @Test func aValueOfTwoLargeTensorsIsMaterialized() throws {
        let graph = try Parser.parse("""
            graph @twice(%a: f32[64], %b: f32[64]) -> (f32[64], f32[64]) {
              %s = add(%a, %b) : f32[64]
              %u = relu(%s) : f32[64]
              %v = neg(%s) : f32[64]
              return %u, %v : f32[64], f32[64]
            }
            """)
        let plan = FusionPlan(graph)
        #expect(plan.materialized[graph.nodes.indices.first { graph[$0].op == .add }!])
    }

    /// A long chain over one tensor, read twice: over the op budget, so it gets a buffer.
    @Test func anExpensiveValueIsMaterialized() throws {
        var statements: [String] = []
        var previous = "%x"
        for index in 0...FusionPlan.recomputationBudget {
            statements.append("  %e\(index) = exp(\(previous)) : f32[64]")
            previous = "%e\(index)"
        }
        let graph = try Parser.parse("""
            graph @chain(%x: f32[64]) -> (f32[64], f32[64]) {
            \(statements.joined(separator: "\n"))
              %u = relu(\(previous)) : f32[64]
              %v = neg(\(previous)) : f32[64]
              return %u, %v : f32[64], f32[64]
            }
            """)
        let plan = FusionPlan(graph)
        let last = graph.nodes.indices.last { graph[$0].op == .exp }!
        #expect(plan.materialized[last])
        // One op fewer, and it is recomputed.
        #expect(FusionPlan.isRecomputable(graph[last].operands[0], in: graph, materialized: plan.materialized))
    }
}
