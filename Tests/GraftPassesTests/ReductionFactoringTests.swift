// ReductionFactoringTests: factors constant along a reduction's axes leave it, what varies
// stays, and BatchNorm's backward then reads its activation in three reductions, not five,
// with the same gradients up to rounding.

import Testing
import GraftIR
@testable import GraftPasses
import GraftInterpreter
import GraftDSL

@Suite struct ReductionFactoringTests {
    /// Runs `passes` on `text` and returns the printed result.
    private func printed(_ text: String, _ passes: [any Pass]) throws -> String {
        var graph = try Parser.parse(text)
        try PassManager(passes).run(&graph)
        return Printer().print(graph)
    }

    @Test func aPerChannelFactorMultipliesTheSumInstead() throws {
        let text = """
            graph @g(%x: f32[2,3,4], %c: f32[3]) -> (f32[3]) {
              %0 = reshape(%c) : f32[3,1]
              %1 = broadcast(%0) : f32[2,3,4]
              %2 = mul(%x, %1) : f32[2,3,4]
              %3 = reduce_sum(%2) {axes = [0, 2]} : f32[3]
              return %3 : f32[3]
            }
            """
        #expect(try printed(text, TrainingPipeline.reductionSharing) == """
            graph @g(%x: f32[2,3,4], %c: f32[3]) -> (f32[3]) {
              %0 = reduce_sum(%x) {axes = [0, 2]} : f32[3]
              %1 = mul(%0, %c) : f32[3]
              return %1 : f32[3]
            }

            """)
    }

    /// Σ a·b·c and Σ b·(a·d), with c and d per channel, leave the same Σ a·b: one sum.
    @Test func theSameFactorsInAnotherOrderAreOneSum() throws {
        let text = """
            graph @g(%a: f32[2,3], %b: f32[2,3], %c: f32[3], %d: f32[3]) -> (f32[3], f32[3]) {
              %0 = broadcast(%c) : f32[2,3]
              %1 = broadcast(%d) : f32[2,3]
              %2 = mul(%a, %0) : f32[2,3]
              %3 = mul(%2, %b) : f32[2,3]
              %4 = reduce_sum(%3) {axes = [0]} : f32[3]
              %5 = mul(%a, %1) : f32[2,3]
              %6 = mul(%b, %5) : f32[2,3]
              %7 = reduce_sum(%6) {axes = [0]} : f32[3]
              return %4, %7 : f32[3], f32[3]
            }
            """
        #expect(try printed(text, TrainingPipeline.reductionSharing) == """
            graph @g(%a: f32[2,3], %b: f32[2,3], %c: f32[3], %d: f32[3]) -> (f32[3], f32[3]) {
              %0 = mul(%a, %b) : f32[2,3]
              %1 = reduce_sum(%0) {axes = [0]} : f32[3]
              %2 = mul(%1, %c) : f32[3]
              %3 = mul(%1, %d) : f32[3]
              return %2, %3 : f32[3], f32[3]
            }

            """)
    }

    /// Σ −2t = −2 Σ t exactly: a negation and a doubling come out bit for bit.
    @Test func negationsAndDoublingsComeOutExactly() throws {
        let text = """
            graph @g(%t: f32[5,3]) -> (f32[3]) {
              %0 = add(%t, %t) : f32[5,3]
              %1 = neg(%0) : f32[5,3]
              %2 = reduce_sum(%1) {axes = [0]} : f32[3]
              return %2 : f32[3]
            }
            """
        let before = try Parser.parse(text)
        var after = before
        try PassManager(TrainingPipeline.reductionSharing).run(&after)
        #expect(Printer().print(after) == """
            graph @g(%t: f32[5,3]) -> (f32[3]) {
              %0 = reduce_sum(%t) {axes = [0]} : f32[3]
              %1 = add(%0, %0) : f32[3]
              %2 = neg(%1) : f32[3]
              return %2 : f32[3]
            }

            """)
        let (inputs, variables) = sampleValues(before)
        let old = try Interpreter().run(before, inputs: inputs, variables: variables).outputs[0]
        let new = try Interpreter().run(after, inputs: inputs, variables: variables).outputs[0]
        #expect(old.scalars.map(\.bitPattern) == new.scalars.map(\.bitPattern))
    }

    /// A broadcast along an axis that is not reduced varies along the reduced one and stays
    /// inside; so does everything when nothing is constant along the axes.
    @Test(arguments: [
        // [3,1] -> [3,4] varies along axis 0, the one reduced.
        """
        graph @g(%x: f32[3,4], %c: f32[3,1]) -> (f32[4]) {
          %0 = broadcast(%c) : f32[3,4]
          %1 = mul(%x, %0) : f32[3,4]
          %2 = reduce_sum(%1) {axes = [0]} : f32[4]
          return %2 : f32[4]
        }

        """,
        // A variance: nothing to take out of Σ (x − μ)².
        """
        graph @g(%x: f32[3,4], %m: f32[4]) -> (f32[4]) {
          %0 = broadcast(%m) : f32[3,4]
          %1 = sub(%x, %0) : f32[3,4]
          %2 = mul(%1, %1) : f32[3,4]
          %3 = reduce_mean(%2) {axes = [0]} : f32[4]
          return %3 : f32[4]
        }

        """,
        // Only constants inside: nothing would be left to reduce.
        """
        graph @g(%c: f32[4]) -> (f32[4]) {
          %0 = broadcast(%c) : f32[3,4]
          %1 = reduce_sum(%0) {axes = [0]} : f32[4]
          return %1 : f32[4]
        }

        """,
    ])
    func whatVariesAlongTheAxesStays(_ text: String) throws {
        #expect(try printed(text, [ReductionFactoring()]) == text)
    }

    /// BatchNorm as the DSL writes it, between a 1×1 convolution and a tanh, differentiated:
    /// the backward's reductions over the activation go from five to three, and every gradient
    /// agrees with the unfactored step's within 1e-5 of its largest magnitude.
    @Test func batchNormBackwardSumsEachDistinctSumOnce() throws {
        let forward = try trace("bn") { g in
            let x = g.input("x", shape: [4, 3, 2, 2]), w = g.input("w", shape: [4, 3, 2, 2])
            let conv = Conv2D(g.scope("conv"), inputChannels: 3, outputChannels: 3, kernelSize: 1)
            let bn = BatchNorm(g.scope("bn"), features: 3)
            return [(tanh(bn(conv(x))) * w).sum()]
        }.graph
        var plain = forward, factored = forward
        try PassManager([Autodiff()] + TrainingPipeline.simplification).run(&plain)
        try PassManager([Autodiff()] + TrainingPipeline.simplification + TrainingPipeline.reductionSharing).run(&factored)
        /// Reductions over the activation's batch and pixels to one value per channel.
        func channelSums(_ graph: Graph) -> Int {
            graph.nodes.filter { $0.op.reducedAxes == [0, 2, 3] }.count
        }
        // The forward pass's mean and variance, and the backward's sums: Σ dy, Σ dy·x̂,
        // Σ dy·γ·(x − μ), Σ −dy·γ·r and Σ −2c·(x − μ) become Σ dy, Σ dy·(x − μ) and Σ (x − μ).
        #expect(channelSums(plain) == 2 + 5)
        #expect(channelSums(factored) == 2 + 3)

        let (inputs, variables) = sampleValues(forward, seed: 3)
        let old = try Interpreter().run(plain, inputs: inputs, variables: variables).outputs
        let new = try Interpreter().run(factored, inputs: inputs, variables: variables).outputs
        #expect(old.count == 4 && new.count == 4)   // the loss and three gradients
        for (index, (a, b)) in zip(old, new).enumerated() {
            let scale = a.scalars.map { Swift.abs($0) }.max() ?? 0
            for (x, y) in zip(a.scalars, b.scalars) {
                #expect(Swift.abs(x - y) <= 1e-5 * scale, "output \(index): \(x) vs \(y)")
            }
        }
    }
}
