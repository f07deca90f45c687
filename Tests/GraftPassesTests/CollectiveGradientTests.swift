// CollectiveGradientTests: reverse mode through `all_reduce`, checked by central differences
// over a simulated group of replicas. The objective of a data-parallel step is the sum of the
// replicas' losses, so replica s's gradient must be ∂(Σ_r loss_r)/∂(replica s's params).

import Foundation
import GraftIR
import GraftPasses
import GraftInterpreter
import Testing

/// Each replica normalises its own batch with statistics all-reduced across the group (as
/// cross-replica BatchNorm does), then takes a mean-reduced, all-reduced loss.
private func replicatedText(_ reduction: CollectiveReduction) -> String {
    """
    graph @replicated(%x: f32[4,3]) -> (f32[]) {
      param @w : f32[3] {init = ones, role = weight}
      %0 = broadcast(@w) : f32[4,3]
      %1 = mul(%x, %0) : f32[4,3]
      %2 = reduce_mean(%1) {axes = [0]} : f32[3]
      %3 = all_reduce(%2) {reduction = mean} : f32[3]
      %4 = broadcast(%3) : f32[4,3]
      %5 = sub(%1, %4) : f32[4,3]
      %6 = mul(%5, %5) : f32[4,3]
      %7 = tanh(%6) : f32[4,3]
      %8 = reduce_mean(%7) {axes = [0, 1]} : f32[]
      %9 = all_reduce(%8) {reduction = \(reduction.rawValue)} : f32[]
      return %9 : f32[]
    }
    """
}

@Suite struct CollectiveGradientTests {
    @Test(arguments: CollectiveReduction.allCases)
    func replicaGradientsMatchCentralDifferencesOfTheGroupObjective(_ reduction: CollectiveReduction) throws {
        var graph = try Parser.parse(replicatedText(reduction))
        try Autodiff().run(&graph)
        let gradient = try #require(graph.gradients.first { $0.param == "w" }).output
        let replicas = 3
        var generator = SplitMix64(seed: 23)
        let inputs = (0..<replicas).map { _ in ["x": HostTensor(shape: [4, 3], (0..<12).map { _ in Float(generator.nextUnit() * 2 - 1) })] }
        // Each replica's own copy of the param (equal in training; different here, so a rule
        // that mixed up whose copy is whose would show).
        let ws = (0..<replicas).map { _ in HostTensor(shape: [3], (0..<3).map { _ in Float(generator.nextUnit() + 0.5) }) }
        let interpreter = Interpreter(precision: .float64)
        let results = try interpreter.runReplicas(graph, inputs: inputs, variables: ws.map { ["w": $0] })

        /// The group objective: the sum of every replica's loss.
        func objective(_ ws: [HostTensor]) throws -> Double {
            try interpreter.runReplicas(graph, inputs: inputs, variables: ws.map { ["w": $0] })
                .reduce(0.0) { $0 + Double($1.outputs[0].scalars[0]) }
        }
        let h: Float = 1e-3
        for replica in 0..<replicas {
            for index in 0..<3 {
                var plus = ws, minus = ws
                plus[replica].scalars[index] += h
                minus[replica].scalars[index] -= h
                let step = Double(plus[replica].scalars[index]) - Double(minus[replica].scalars[index])   // 2h as stored
                let difference = (try objective(plus) - objective(minus)) / step
                let computed = Double(results[replica].outputs[gradient].scalars[index])
                #expect(abs(computed - difference) <= 1e-4 * max(1, abs(difference)),
                        "replica \(replica), w[\(index)]: autodiff \(computed), central difference \(difference)")
            }
        }
    }
}
