// Tests of tracing: what the DSL records, parameter naming and seeded initialisation.

import Testing
import GraftDSL
import GraftInterpreter

@Suite struct TracingTests {
    @Test func linearRecordsMatmulWithTransposedWeightAndBroadcastBias() throws {
        let traced = try trace("linear") { g in
            let x = g.input("x", shape: [8, 4])
            let layer = Linear(g.scope("fc"), inputSize: 4, outputSize: 3)
            return [layer(x)]
        }
        let ops = traced.graph.nodes.map(\.op)
        #expect(ops.contains(.matmul(transposeA: false, transposeB: true)))
        #expect(ops.contains(.broadcast))
        #expect(ops.contains(.add))
        #expect(traced.graph.params.map { traced.graph[$0].op.declaredName } == ["fc.weight", "fc.bias"])
        #expect(traced.graph[traced.graph.params[0]].type == TensorType(.f32, [3, 4]))
        #expect(traced.graph.outputTypes == [TensorType(.f32, [8, 3])])
    }

    @Test func linearComputesXTimesWeightTransposedPlusBias() throws {
        let traced = try trace("linear") { g in
            let x = g.input("x", shape: [2, 2])
            return [Linear(g.scope("fc"), inputSize: 2, outputSize: 2)(x)]
        }
        let x = HostTensor(shape: [2, 2], [1, 2, 3, 4])
        let weight = HostTensor(shape: [2, 2], [1, 0, 1, 1])   // rows are output units
        let bias = HostTensor(shape: [2], [10, 20])
        let result = try Interpreter().run(traced.graph, inputs: ["x": x], variables: ["fc.weight": weight, "fc.bias": bias])
        // [1,2]·[[1,1],[0,1]] = [1, 3]; [3,4] → [3, 7]; plus the bias.
        #expect(result.outputs[0].scalars == [11, 23, 13, 27])
    }

    @Test func namesAreHierarchical() throws {
        let traced = try trace("mlp") { g in
            let x = g.input("x", shape: [4, 8])
            let head = MLP(g.scope("online")("projector"), inputSize: 8, hiddenSize: 16, outputSize: 4)
            return [head(x)]
        }
        let names = traced.graph.params.compactMap { traced.graph[$0].op.declaredName }
        #expect(names == ["online.projector.fc1.weight", "online.projector.fc1.bias", "online.projector.bn.weight",
                          "online.projector.bn.bias", "online.projector.fc2.weight"])
        let states = traced.graph.states.compactMap { traced.graph[$0].op.declaredName }
        #expect(states == ["online.projector.bn.running_mean", "online.projector.bn.running_var"])
        #expect(Set(traced.graph.assigns.map(\.name)) == Set(states))
    }

    @Test func initialValuesAreSeededAndKeyedByName() throws {
        func weights(seed: UInt64, declareExtraFirst: Bool) throws -> [Float] {
            let traced = try trace("init", seed: seed) { g in
                let x = g.input("x", shape: [1, 64])
                if declareExtraFirst { _ = Linear(g.scope("extra"), inputSize: 3, outputSize: 3) }
                return [Linear(g.scope("fc"), inputSize: 64, outputSize: 32)(x)]
            }
            return try #require(traced.initialValues["fc.weight"]).scalars
        }
        let a = try weights(seed: 7, declareExtraFirst: false)
        #expect(a == (try weights(seed: 7, declareExtraFirst: false)))
        #expect(a == (try weights(seed: 7, declareExtraFirst: true)))   // independent of declaration order
        #expect(a != (try weights(seed: 8, declareExtraFirst: false)))
        // PyTorch's default for Linear: uniform on ±1/sqrt(fan_in) = ±0.125.
        #expect(a.allSatisfy { Swift.abs($0) <= 0.125 })
        #expect(a.max()! > 0.1 && a.min()! < -0.1)
    }

    @Test func convolutionWeightsAreKaimingNormalWithFanOut() throws {
        let traced = try trace("conv") { g in
            let x = g.input("x", shape: [1, 16, 8, 8])
            return [Conv2D(g.scope("conv"), inputChannels: 16, outputChannels: 64, kernelSize: 3, padding: 1)(x)]
        }
        let w = try #require(traced.initialValues["conv.weight"]).scalars
        let mean = w.reduce(0, +) / Float(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
        let expected = (2 / Float(64 * 9)).squareRoot()   // 0.0589
        #expect(Swift.abs(mean) < 0.003)
        #expect(Swift.abs(std / expected - 1) < 0.03, "std \(std) vs \(expected) over \(w.count) samples")
    }

    @Test func operatorsBroadcastLikeNumPy() throws {
        let traced = try trace("broadcast") { g in
            let a = g.input("a", shape: [2, 3])
            let b = g.input("b", shape: [3])
            let c = g.input("c", shape: [2, 1])
            return [a + b, a * c - 1, 2 / c]
        }
        let inputs = ["a": HostTensor(shape: [2, 3], [1, 2, 3, 4, 5, 6]),
                      "b": HostTensor(shape: [3], [10, 20, 30]),
                      "c": HostTensor(shape: [2, 1], [2, 4])]
        let outputs = try Interpreter().run(traced.graph, inputs: inputs, variables: [:]).outputs
        #expect(outputs[0].scalars == [11, 22, 33, 14, 25, 36])
        #expect(outputs[1].scalars == [1, 3, 5, 15, 19, 23])
        #expect(outputs[2].scalars == [1, 0.5])
    }

    @Test func reductionsKeepDimsAndNegativeAxes() throws {
        let traced = try trace("reduce") { g in
            let x = g.input("x", shape: [2, 3])
            return [x.sum(axes: [-1], keepDims: true), x.mean(), x.max(axes: [0])]
        }
        let outputs = try Interpreter().run(traced.graph, inputs: ["x": HostTensor(shape: [2, 3], [1, 5, 3, 4, 2, 6])], variables: [:]).outputs
        #expect(outputs[0].type == TensorType(.f32, [2, 1]))
        #expect(outputs[0].scalars == [9, 12])
        #expect(outputs[1].scalars == [3.5])
        #expect(outputs[2].scalars == [4, 5, 6])
    }

    @Test func softmaxCrossEntropyMatchesHandComputedValue() throws {
        let traced = try trace("ce") { g in
            let logits = g.input("logits", shape: [2, 3])
            let labels = g.input("labels", TensorType(.i32, [2]))
            return [softmaxCrossEntropy(logits: logits, labels: labels)]
        }
        let logits = HostTensor(shape: [2, 3], [1, 2, 3, 0, 0, 0])
        let labels = HostTensor(TensorType(.i32, [2]), [2, 0])
        let loss = try Interpreter().run(traced.graph, inputs: ["logits": logits, "labels": labels], variables: [:]).outputs[0]
        // Row 1: -log(e^3 / (e + e^2 + e^3)) = 0.407606; row 2: log 3 = 1.098612.
        #expect(Swift.abs(loss.scalars[0] - Float((0.4076059644 + 1.0986122887) / 2)) < 1e-6)
    }

    @Test func l2NormalizeFollowsBYOLsDefinition() throws {
        let traced = try trace("norm") { g in
            let x = g.input("x", shape: [2, 2])
            return [l2Normalize(x)]
        }
        let out = try Interpreter().run(traced.graph, inputs: ["x": HostTensor(shape: [2, 2], [3, 4, 0, 0])], variables: [:]).outputs[0]
        // A zero row divides by sqrt(1e-12) instead of 0, so it stays 0 rather than NaN.
        #expect(out.scalars == [0.6, 0.8, 0, 0])
    }

    @Test func tracedGraphsVerifyAndRoundTripThroughText() throws {
        let traced = try trace("roundtrip") { g in
            let x = g.input("x", shape: [4, 1, 6, 6])
            let conv = Conv2D(g.scope("conv"), inputChannels: 1, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1)
            let bn = BatchNorm(g.scope("bn"), features: 2)
            return [GlobalAveragePool()(relu(bn(conv(x))))]
        }
        let text = Printer(printLocations: true).print(traced.graph)
        #expect(Printer(printLocations: true).print(try Parser.parse(text)) == text)
        #expect(text.contains("loc(\"Tests/GraftTests/TracingTests.swift\":"))
    }
}
