// LossGradientTests: autodiff of the losses written in the DSL from primitive ops, checked
// against central differences in the reference interpreter.

import Testing
import GraftIR
import GraftDSL
import GraftPasses
import GraftInterpreter

@Suite struct LossGradientTests {
    /// NT-Xent over two views [3, 4] held as params: its gradient with respect to both views
    /// (through the normalisation, the similarity matrix, the masked log-softmax) is the
    /// central-difference estimate's.
    @Test func ntXentGradientMatchesCentralDifferences() throws {
        let graph = try trace("nt_xent") { g in
            let views = g.scope("view")
            return [ntXent(views.param("a", shape: [3, 4], .zeros), views.param("b", shape: [3, 4], .zeros), temperature: 0.2)]
        }.graph
        var random = SplitMix64(seed: 11)
        func sample() -> HostTensor { HostTensor(shape: [3, 4], (0..<12).map { _ in Float(random.nextUnit() * 2 - 1) }) }
        let variables = ["view.a": sample(), "view.b": sample()]
        var differentiated = graph
        try PassManager([Autodiff()]).run(&differentiated)
        let outputs = try Interpreter().run(differentiated, inputs: [:], variables: variables).outputs
        let estimates = try CentralDifferences(step: 1e-2).gradients(of: graph, inputs: [:], variables: variables)
        for (name, gradient) in zip(differentiated.gradients.map(\.param), outputs.dropFirst()) {
            let estimate = try #require(estimates[name])
            #expect(estimate.contains { Swift.abs($0) > 1e-2 }, "@\(name): the loss does not depend on it")
            for (index, (value, expected)) in zip(gradient.scalars, estimate).enumerated() {
                #expect(Swift.abs(Double(value) - expected) <= 2e-4 + 2e-3 * Swift.abs(expected), "@\(name)[\(index)]: autodiff \(value), central difference \(expected)")
            }
        }
    }
}
