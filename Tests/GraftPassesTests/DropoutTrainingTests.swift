// DropoutTrainingTests: a DSL model with Dropout and LayerNorm through autodiff and AdamW: the
// model's %step and AdamW's are one input, the mask follows it, and AdamW does not decay
// LayerNorm's affine params.

import Testing
import GraftIR
import GraftDSL
import GraftPasses
import GraftInterpreter

@Suite struct DropoutTrainingTests {
    /// Linear → LayerNorm → Dropout → Σ y², differentiated and rewritten by AdamW.
    func step(weightDecay: Float) throws -> (graph: Graph, variables: [String: HostTensor]) {
        let traced = try trace("dropout_adamw", seed: 3) { g in
            let x = g.input("x", shape: [4, 6])
            let fc = Linear(g.scope("fc"), inputSize: 6, outputSize: 8)
            let norm = LayerNorm(g.scope("norm"), features: 8)
            let y = Dropout(rate: 0.5)(norm(fc(x)))
            return [(y * y).sum()]
        }
        var graph = traced.graph
        try PassManager([Autodiff(), AdamW(weightDecay: weightDecay)]).run(&graph)
        return (graph, graph.initialValues(seed: traced.seed))
    }

    func run(_ graph: Graph, _ variables: [String: HostTensor], step: Float) throws -> InterpreterResult {
        let x = HostTensor(shape: [4, 6], (0..<24).map { Float($0 % 7) / 7 - 0.4 })
        return try Interpreter().run(graph, inputs: ["x": x, "step": HostTensor(scalar: step), "learning_rate": HostTensor(scalar: 0.1)],
                                     variables: variables)
    }

    @Test func theModelAndAdamWReadOneStepInput() throws {
        let (graph, variables) = try step(weightDecay: 0.01)
        #expect(graph.nodes.filter { $0.op == .input("step") }.count == 1)
        let (first, second) = (try run(graph, variables, step: 1), try run(graph, variables, step: 2))
        #expect(first.outputs[0] != second.outputs[0], "the dropout mask should change with the step")
    }

    @Test func adamWDecaysTheLinearWeightButNotLayerNormParams() throws {
        let (decayed, variables) = try step(weightDecay: 0.5)
        let (plain, _) = try step(weightDecay: 0)
        let (a, b) = (try run(decayed, variables, step: 1).variables, try run(plain, variables, step: 1).variables)
        #expect(a["norm.weight"] == b["norm.weight"])
        #expect(a["norm.bias"] == b["norm.bias"])
        #expect(a["fc.weight"] != b["fc.weight"])
    }
}
