// Tests of BatchNorm in both modes against hand-computed values.

import Testing
import GraftDSL
import GraftInterpreter

@Suite struct BatchNormTests {
    /// x is [4, 2]: channel 0 holds 1, 2, 3, 4 and channel 1 holds 2, 2, 2, 6.
    let x = HostTensor(shape: [4, 2], [1, 2, 2, 2, 3, 2, 4, 6])
    let variables: [String: HostTensor] = [
        "bn.weight": HostTensor(shape: [2], [2, 1]),
        "bn.bias": HostTensor(shape: [2], [0.5, 0]),
        "bn.running_mean": HostTensor(shape: [2], [1, -1]),
        "bn.running_var": HostTensor(shape: [2], [4, 1]),
    ]

    /// `x` normalised with the given per-channel statistics, then scaled by (2, 1) and offset by (0.5, 0).
    func normalized(mean: (Double, Double), variance: (Double, Double)) -> [Double] {
        let epsilon = 1e-5
        var result: [Double] = []
        for (v0, v1) in zip([1.0, 2, 3, 4], [2.0, 2, 2, 6]) {
            let channel0 = 2 * (v0 - mean.0) / (variance.0 + epsilon).squareRoot() + 0.5
            let channel1 = (v1 - mean.1) / (variance.1 + epsilon).squareRoot()
            result += [channel0, channel1]
        }
        return result
    }

    func batchNorm(training: Bool, calls: Int = 1) throws -> TracedGraph {
        try trace("bn", training: training) { g in
            let input = g.input("x", shape: [4, 2])
            let layer = BatchNorm(g.scope("bn"), features: 2)
            var y = input
            for _ in 0..<calls { y = layer(y) }
            return [y]
        }
    }

    @Test func trainingModeUsesBatchStatisticsAndUpdatesRunningStatistics() throws {
        let traced = try batchNorm(training: true)
        let result = try Interpreter().run(traced.graph, inputs: ["x": x], variables: variables)
        // Channel 0: mean 2.5, biased variance 1.25; channel 1: mean 3, variance 3.
        let expected = normalized(mean: (2.5, 3), variance: (1.25, 3))
        for (got, want) in zip(result.outputs[0].scalars, expected) {
            #expect(Swift.abs(Double(got) - want) < 1e-5, "got \(got), want \(want)")
        }
        // running = 0.9·old + 0.1·batch, with the variance unbiased by n/(n−1) = 4/3.
        let mean = try #require(result.variables["bn.running_mean"]).scalars
        let variance = try #require(result.variables["bn.running_var"]).scalars
        #expect(Swift.abs(mean[0] - (0.9 * 1 + 0.1 * 2.5)) < 1e-6)
        #expect(Swift.abs(mean[1] - (0.9 * -1 + 0.1 * 3)) < 1e-6)
        #expect(Swift.abs(variance[0] - Float(0.9 * 4 + 0.1 * 1.25 * 4 / 3)) < 1e-6)
        #expect(Swift.abs(variance[1] - Float(0.9 * 1 + 0.1 * 3 * 4 / 3)) < 1e-6)
    }

    @Test func inferenceModeUsesRunningStatisticsAndUpdatesNothing() throws {
        let traced = try batchNorm(training: false)
        #expect(traced.graph.assigns.isEmpty)
        let result = try Interpreter().run(traced.graph, inputs: ["x": x], variables: variables)
        let expected = normalized(mean: (1, -1), variance: (4, 1))
        for (got, want) in zip(result.outputs[0].scalars, expected) {
            #expect(Swift.abs(Double(got) - want) < 1e-5, "got \(got), want \(want)")
        }
        #expect(result.variables["bn.running_mean"] == variables["bn.running_mean"])
    }

    @Test func twoCallsInOneStepChainTheirUpdatesAndAssignOnce() throws {
        let traced = try batchNorm(training: true, calls: 2)
        #expect(traced.graph.assigns.count == 2)
        let result = try Interpreter().run(traced.graph, inputs: ["x": x], variables: variables)
        // The second call sees the first call's output; channel 0 of that output has mean 0.5
        // (the offset), so the running mean is 0.9·(0.9·1 + 0.1·2.5) + 0.1·0.5.
        let mean = try #require(result.variables["bn.running_mean"]).scalars
        #expect(Swift.abs(mean[0] - Float(0.9 * (0.9 * 1 + 0.1 * 2.5) + 0.1 * 0.5)) < 1e-5)
    }

    @Test func convolutionFeatureMapsNormalisePerChannel() throws {
        let traced = try trace("bn4d") { g in
            let input = g.input("x", shape: [2, 3, 2, 2])
            return [BatchNorm(g.scope("bn"), features: 3)(input)]
        }
        let values = (0..<24).map { Float(($0 * 7) % 11) }
        let result = try Interpreter().run(
            traced.graph, inputs: ["x": HostTensor(shape: [2, 3, 2, 2], values)],
            variables: ["bn.weight": HostTensor(shape: [3], [1, 1, 1]), "bn.bias": HostTensor(shape: [3], [0, 0, 0]),
                        "bn.running_mean": HostTensor(shape: [3], [0, 0, 0]), "bn.running_var": HostTensor(shape: [3], [1, 1, 1])])
        let y = result.outputs[0].scalars
        for channel in 0..<3 {
            let indices = [0, 1].flatMap { n in (0..<4).map { n * 12 + channel * 4 + $0 } }
            let mean = indices.map { Double(y[$0]) }.reduce(0, +) / 8
            let variance = indices.map { Double(y[$0]) * Double(y[$0]) }.reduce(0, +) / 8 - mean * mean
            #expect(Swift.abs(mean) < 1e-5)
            #expect(Swift.abs(variance - 1) < 1e-3)
        }
    }
}
