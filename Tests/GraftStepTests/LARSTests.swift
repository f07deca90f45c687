// LARS against a hand computation on a small model with a weight, a bias and BatchNorm params.

import Testing
import GraftDSL
import GraftPasses
import GraftInterpreter

@Suite struct LARSTests {
    /// x·Wᵀ + b → BatchNorm → Σ y·r: a weight (adapted), a bias and two BN params (excluded).
    func model() throws -> TracedGraph {
        try trace("lars_model", seed: 4) { g in
            let x = g.input("x", shape: [4, 3])
            let r = g.input("r", shape: [4, 2])
            let fc = Linear(g.scope("fc"), inputSize: 3, outputSize: 2)
            let bn = BatchNorm(g.scope("bn"), features: 2)
            return [(bn(fc(x)) * r).sum()]
        }
    }

    @Test func oneStepMatchesTheFormulasOfBYOLsLARS() throws {
        let (momentum, eta, decay, learningRate): (Double, Double, Double, Double) = (0.9, 0.01, 0.1, 0.5)
        let traced = try model()
        var inputs: [String: HostTensor] = [
            "x": HostTensor(shape: [4, 3], [0.5, -1, 2, 1.5, 0.25, -0.5, -2, 1, 0.75, 0.3, -0.7, 1.1]),
            "r": HostTensor(shape: [4, 2], [1, -2, 0.5, 3, -1, 0.25, 2, -0.5]),
        ]
        var variables = traced.initialValues
        variables["bn.weight"] = HostTensor(shape: [2], [1.5, 0.8])
        variables["bn.bias"] = HostTensor(shape: [2], [0.1, -0.2])

        // The gradients, from the autodiff stage (checked against finite differences elsewhere).
        var gradientGraph = traced.graph
        try PassManager([Autodiff()]).run(&gradientGraph)
        let gradientValues = try Interpreter().run(gradientGraph, inputs: inputs, variables: variables).outputs
        let gradients = Dictionary(uniqueKeysWithValues: gradientGraph.gradients.map { ($0.param, gradientValues[$0.output].scalars) })

        var stepGraph = traced.graph
        try PassManager([Autodiff(), LARS(momentum: Float(momentum), trustCoefficient: Float(eta), weightDecay: Float(decay))])
            .run(&stepGraph)
        let initialValues = stepGraph.initialValues(seed: traced.seed)
        // Start from non-zero momentum so that μ·m is exercised too.
        var oldMomentum: [String: [Float]] = [:]
        for name in ["fc.weight", "fc.bias", "bn.weight", "bn.bias"] {
            let buffer = "optimizer.\(name).momentum"
            let count = try #require(initialValues[buffer]).scalars.count
            let values = (0..<count).map { Float($0 % 3) * 0.1 - 0.05 }
            variables[buffer] = HostTensor(try #require(initialValues[buffer]).type, values)
            oldMomentum[name] = values
        }
        inputs["learning_rate"] = HostTensor(scalar: Float(learningRate))
        let after = try Interpreter().run(stepGraph, inputs: inputs, variables: variables).variables

        func norm(_ v: [Double]) -> Double { v.map { $0 * $0 }.reduce(0, +).squareRoot() }
        for name in ["fc.weight", "fc.bias", "bn.weight", "bn.bias"] {
            let w = try #require(variables[name]).scalars.map(Double.init)
            let g = try #require(gradients[name]).map(Double.init)
            let m = try #require(oldMomentum[name]).map(Double.init)
            let excluded = name != "fc.weight"   // bias and BatchNorm params skip decay and trust ratio
            var step = g
            if !excluded {
                let decayed = zip(g, w).map { $0 + decay * $1 }
                let ratio = eta * norm(w) / norm(decayed)
                #expect(ratio > 0 && ratio != 1)
                step = decayed.map { ratio * $0 }
            }
            let newMomentum = zip(m, step).map { momentum * $0 + $1 }
            let newWeight = zip(w, newMomentum).map { $0 - learningRate * $1 }
            let gotWeight = try #require(after[name]).scalars
            let gotMomentum = try #require(after["optimizer.\(name).momentum"]).scalars
            for i in w.indices {
                #expect(Swift.abs(Double(gotWeight[i]) - newWeight[i]) <= 1e-6 * Swift.max(1, Swift.abs(newWeight[i])), "\(name)[\(i)]")
                #expect(Swift.abs(Double(gotMomentum[i]) - newMomentum[i]) <= 1e-6 * Swift.max(1, Swift.abs(newMomentum[i])), "momentum of \(name)[\(i)]")
            }
        }
        #expect(stepGraph.variables["fc.bias"]?.role == .bias)
        #expect(stepGraph.variables["bn.weight"]?.role == .normalization)
    }

    @Test func aZeroWeightHasTrustRatioOne() throws {
        // ‖w‖ = 0 would make the ratio 0; BYOL's LARS uses 1 there, so the step is g + wd·w = g.
        let traced = try model()
        var graph = traced.graph
        try PassManager([Autodiff(), LARS(momentum: 0, trustCoefficient: 0.01, weightDecay: 0.1)]).run(&graph)
        var variables = graph.initialValues(seed: traced.seed)
        variables["fc.weight"] = HostTensor(repeating: 0, TensorType(.f32, [2, 3]))
        let inputs = ["x": HostTensor(shape: [4, 3], (0..<12).map { Float($0) / 6 - 1 }),
                      "r": HostTensor(shape: [4, 2], [1, -1, 2, 0.5, -0.5, 1, 0.25, -2]),
                      "learning_rate": HostTensor(scalar: 1)]
        let after = try Interpreter().run(graph, inputs: inputs, variables: variables).variables
        let momentum = try #require(after["optimizer.fc.weight.momentum"]).scalars
        let weight = try #require(after["fc.weight"]).scalars
        #expect(momentum.contains { $0 != 0 })
        #expect(zip(weight, momentum).allSatisfy { $0 == -$1 })   // w' = 0 − 1·g
    }
}
