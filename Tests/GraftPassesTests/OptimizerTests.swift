// SGD and AdamW checked against updates computed by hand, in Double, from the formulas in each
// pass's header comment, over two consecutive steps.
//
// The model is L = Σ w·x + b², so the gradients are g_w = x and g_b = 2b. The graph is
// differentiated by `Autodiff`, rewritten by the optimizer, and run by the reference
// interpreter; every updated param and optimizer buffer must match the hand-computed value
// within 1e-6 relative.

import Testing
import Foundation
import GraftIR
import GraftPasses
import GraftInterpreter

/// The tiny model both optimizers train: g_w = x, g_b = 2b.
private let model = """
    graph @tiny(%x: f32[3]) -> (f32[]) {
      param @w : f32[3] {init = zeros, role = weight}
      param @b : f32[] {init = zeros, role = weight}
      %0 = mul(@w, %x) : f32[3]
      %1 = reduce_sum(%0) {axes = [0]} : f32[]
      %2 = mul(@b, @b) : f32[]
      %3 = add(%1, %2) : f32[]
      return %3 : f32[]
    }
    """

private let x: [Double] = [1.5, -0.25, 3.0]
private let initialW: [Double] = [2.5, -1.0, 2.0]
private let initialB: Double = 0.75
/// One learning rate per step: the rate is an input, read afresh each step.
private let learningRates: [Double] = [0.1, 0.05]

/// The hand-computed gradients of the tiny model at (w, b).
private func gradients(w: [Double], b: Double) -> (w: [Double], b: [Double]) { (x, [2 * b]) }

/// Differentiates the tiny model and applies `optimizer`; `roles` gives each param's role.
private func compile(_ optimizer: any Pass, roles: [String: VariableRole]) throws -> Graph {
    var graph = try Parser.parse(model)
    for (name, role) in roles { graph.variables[name]?.role = role }
    try PassManager([Autodiff(), optimizer]).run(&graph)
    return graph
}

/// The names of the optimizer buffers `graph` declares, checking that each starts at zero.
private func optimizerBuffers(_ graph: Graph, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Set<String> {
    let buffers = graph.variables.filter { $0.value.role == .optimizerState }.keys
    let initial = graph.initialValues(seed: 0)
    for name in buffers {
        #expect(initial[name]?.scalars.allSatisfy { $0 == 0 } == true, "@\(name) does not start at zero", sourceLocation: sourceLocation)
    }
    return Set(buffers)
}

/// Each element of `actual` is within 1e-6 relative of `expected` (computed in Double).
private func expectClose(_ actual: HostTensor?, _ expected: [Double], _ what: String,
                         sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    guard let actual else {
        Issue.record("\(what) is missing", sourceLocation: sourceLocation)
        return
    }
    #expect(actual.scalars.count == expected.count, "\(what): \(actual.scalars.count) elements", sourceLocation: sourceLocation)
    for (a, e) in zip(actual.scalars, expected) {
        #expect(Swift.abs(Double(a) - e) <= 1e-6 * Swift.max(Swift.abs(e), 1e-12),
                "\(what): got \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}

private func tensor(_ values: [Double], _ type: TensorType) -> HostTensor { HostTensor(type, values.map { Float($0) }) }

@Suite struct OptimizerTests {
    // MARK: SGD

    struct SGDCase: CustomTestStringConvertible, Sendable {
        var momentum: Double
        var nesterov: Bool
        var weightDecay: Double
        var biasRole: VariableRole
        var testDescription: String {
            "momentum \(momentum)\(nesterov ? " nesterov" : ""), weight decay \(weightDecay), @b is a \(biasRole.rawValue)"
        }
    }

    static let sgdCases: [SGDCase] = [
        SGDCase(momentum: 0, nesterov: false, weightDecay: 0, biasRole: .bias),
        SGDCase(momentum: 0.9, nesterov: false, weightDecay: 0, biasRole: .bias),
        SGDCase(momentum: 0.9, nesterov: true, weightDecay: 0, biasRole: .bias),
        SGDCase(momentum: 0, nesterov: false, weightDecay: 0.1, biasRole: .bias),
        SGDCase(momentum: 0.9, nesterov: true, weightDecay: 0.1, biasRole: .bias),
        SGDCase(momentum: 0.9, nesterov: false, weightDecay: 0.1, biasRole: .weight),
    ]

    /// One SGD step by hand (PyTorch's formulation, as SGD.swift states it).
    static func sgdStep(_ p: [Double], _ g: [Double], _ m: [Double], lr: Double, _ c: SGDCase, decays: Bool) -> (p: [Double], m: [Double]) {
        let wd = Double(Float(c.weightDecay)), mu = Double(Float(c.momentum))
        let d = zip(g, p).map { $0 + (decays ? wd * $1 : 0) }
        guard c.momentum != 0 else { return (zip(p, d).map { $0 - lr * $1 }, m) }
        let newM = zip(m, d).map { mu * $0 + $1 }
        let step = c.nesterov ? zip(d, newM).map { $0 + mu * $1 } : newM
        return (zip(p, step).map { $0 - lr * $1 }, newM)
    }

    @Test(arguments: sgdCases)
    func sgdMatchesTheHandComputedUpdate(_ c: SGDCase) throws {
        let optimizer = SGD(momentum: Float(c.momentum), nesterov: c.nesterov, weightDecay: Float(c.weightDecay))
        let graph = try compile(optimizer, roles: ["w": .weight, "b": c.biasRole])
        let buffers = c.momentum == 0 ? [] : ["optimizer.w.momentum", "optimizer.b.momentum"]
        #expect(Set(graph.assigns.map(\.name)) == Set(["w", "b"] + buffers))
        #expect(optimizerBuffers(graph) == Set(buffers))

        var variables = graph.initialValues(seed: 0)
        variables["w"] = tensor(initialW, TensorType(.f32, [3]))
        variables["b"] = HostTensor(scalar: Float(initialB))
        var (w, b) = (initialW, [initialB])
        var (mw, mb) = ([0.0, 0, 0], [0.0])
        let bDecays = c.biasRole == .weight
        for (step, lr) in learningRates.enumerated() {
            let result = try Interpreter().run(graph, inputs: ["x": tensor(x, TensorType(.f32, [3])), "learning_rate": HostTensor(scalar: Float(lr))],
                                               variables: variables)
            let g = gradients(w: w, b: b[0])
            (w, mw) = Self.sgdStep(w, g.w, mw, lr: Double(Float(lr)), c, decays: true)
            (b, mb) = Self.sgdStep(b, g.b, mb, lr: Double(Float(lr)), c, decays: bDecays)
            expectClose(result.variables["w"], w, "@w after step \(step + 1)")
            expectClose(result.variables["b"], b, "@b after step \(step + 1)")
            if c.momentum != 0 {
                expectClose(result.variables["optimizer.w.momentum"], mw, "momentum of @w after step \(step + 1)")
                expectClose(result.variables["optimizer.b.momentum"], mb, "momentum of @b after step \(step + 1)")
            }
            variables = result.variables
        }
    }

    /// Plain SGD, written out: w ← w − lr·x, b ← b − lr·2b, independent of the table above.
    @Test func plainSGDMovesAgainstTheGradient() throws {
        let graph = try compile(SGD(), roles: ["w": .weight, "b": .bias])
        let result = try Interpreter().run(graph, inputs: ["x": tensor(x, TensorType(.f32, [3])), "learning_rate": HostTensor(scalar: 0.1)],
                                           variables: graph.initialValues(seed: 0).merging(["w": tensor(initialW, TensorType(.f32, [3])), "b": HostTensor(scalar: 0.75)]) { $1 })
        expectClose(result.variables["w"], [2.5 - 0.15, -1.0 + 0.025, 2.0 - 0.3], "@w")
        expectClose(result.variables["b"], [0.75 - 0.15], "@b")
        // The loss is still the step's first output, computed from the old values.
        expectClose(result.outputs.first, [2.5 * 1.5 + 0.25 + 6 + 0.5625], "loss")
    }

    // MARK: AdamW

    struct AdamWCase: CustomTestStringConvertible, Sendable {
        var beta1: Double = 0.9
        var beta2: Double = 0.999
        var epsilon: Double = 1e-8
        var weightDecay: Double = 0.1
        var biasRole: VariableRole
        var testDescription: String { "β₁ \(beta1), β₂ \(beta2), weight decay \(weightDecay), @b is a \(biasRole.rawValue)" }
    }

    /// One AdamW step by hand at step t (AdamW.swift's formulas, βᵗ as a power).
    static func adamWStep(_ p: [Double], _ g: [Double], _ m: [Double], _ v: [Double], t: Double, lr: Double,
                          _ c: AdamWCase, decays: Bool) -> (p: [Double], m: [Double], v: [Double]) {
        let (b1, b2) = (Double(Float(c.beta1)), Double(Float(c.beta2)))
        let (eps, wd) = (Double(Float(c.epsilon)), Double(Float(c.weightDecay)))
        let newM = zip(m, g).map { b1 * $0 + (1 - b1) * $1 }
        let newV = zip(v, g).map { b2 * $0 + (1 - b2) * $1 * $1 }
        let newP = p.indices.map { i in
            let mHat = newM[i] / (1 - Foundation.pow(b1, t))
            let vHat = newV[i] / (1 - Foundation.pow(b2, t))
            return p[i] - lr * (mHat / (vHat.squareRoot() + eps) + (decays ? wd * p[i] : 0))
        }
        return (newP, newM, newV)
    }

    static let adamWCases: [AdamWCase] = [
        AdamWCase(biasRole: .normalization),
        AdamWCase(biasRole: .weight),
        AdamWCase(beta1: 0.5, beta2: 0.75, epsilon: 0.01, weightDecay: 0.2, biasRole: .bias),
    ]

    @Test(arguments: adamWCases)
    func adamWMatchesTheHandComputedUpdate(_ c: AdamWCase) throws {
        let optimizer = AdamW(beta1: Float(c.beta1), beta2: Float(c.beta2), epsilon: Float(c.epsilon), weightDecay: Float(c.weightDecay))
        let graph = try compile(optimizer, roles: ["w": .weight, "b": c.biasRole])
        let buffers = ["optimizer.w.adam_m", "optimizer.w.adam_v", "optimizer.b.adam_m", "optimizer.b.adam_v"]
        #expect(Set(graph.assigns.map(\.name)) == Set(["w", "b"] + buffers))
        #expect(optimizerBuffers(graph) == Set(buffers))

        var variables = graph.initialValues(seed: 0)
        variables["w"] = tensor(initialW, TensorType(.f32, [3]))
        variables["b"] = HostTensor(scalar: Float(initialB))
        var (w, b) = (initialW, [initialB])
        var (mw, vw, mb, vb) = ([0.0, 0, 0], [0.0, 0, 0], [0.0], [0.0])
        let bDecays = c.biasRole == .weight
        for (index, lr) in learningRates.enumerated() {
            let t = Double(index + 1)
            let inputs = ["x": tensor(x, TensorType(.f32, [3])), "learning_rate": HostTensor(scalar: Float(lr)),
                          "step": HostTensor(scalar: Float(t))]
            let result = try Interpreter().run(graph, inputs: inputs, variables: variables)
            let g = gradients(w: w, b: b[0])
            (w, mw, vw) = Self.adamWStep(w, g.w, mw, vw, t: t, lr: Double(Float(lr)), c, decays: true)
            (b, mb, vb) = Self.adamWStep(b, g.b, mb, vb, t: t, lr: Double(Float(lr)), c, decays: bDecays)
            expectClose(result.variables["w"], w, "@w after step \(index + 1)")
            expectClose(result.variables["b"], b, "@b after step \(index + 1)")
            expectClose(result.variables["optimizer.w.adam_m"], mw, "adam_m of @w after step \(index + 1)")
            expectClose(result.variables["optimizer.w.adam_v"], vw, "adam_v of @w after step \(index + 1)")
            expectClose(result.variables["optimizer.b.adam_m"], mb, "adam_m of @b after step \(index + 1)")
            expectClose(result.variables["optimizer.b.adam_v"], vb, "adam_v of @b after step \(index + 1)")
            variables = result.variables
        }
    }

    /// At step 1 with zero moments and no decay, bias-corrected Adam moves each weight by
    /// lr·g/(|g| + ε): almost exactly lr against the gradient's sign.
    @Test func firstAdamStepMovesByTheLearningRate() throws {
        let graph = try compile(AdamW(weightDecay: 0), roles: ["w": .weight, "b": .bias])
        var variables = graph.initialValues(seed: 0)
        variables["w"] = tensor(initialW, TensorType(.f32, [3]))
        variables["b"] = HostTensor(scalar: Float(initialB))
        let result = try Interpreter().run(graph, inputs: ["x": tensor(x, TensorType(.f32, [3])), "learning_rate": HostTensor(scalar: 0.01),
                                                           "step": HostTensor(scalar: 1)], variables: variables)
        expectClose(result.variables["w"], [2.5 - 0.01, -1.0 + 0.01, 2.0 - 0.01], "@w")
        expectClose(result.variables["b"], [0.75 - 0.01], "@b")
    }

    @Test func optimizersNeedAutodiffFirst() throws {
        for optimizer in [SGD() as any Pass, AdamW()] {
            var graph = try Parser.parse(model)
            #expect(throws: Diagnostic.self) { try optimizer.run(&graph) }
        }
    }
}
