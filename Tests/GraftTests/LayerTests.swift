// Tests of the activation, normalisation, lookup and dropout layers, traced and run in the
// reference interpreter, against values computed by hand or in Python (stated per test).

import Foundation
import Testing
import GraftDSL
import GraftInterpreter

/// Runs a one-input model `body(x)` on `x` in the interpreter and returns its output.
private func run(_ x: HostTensor, training: Bool = true, variables: [String: HostTensor] = [:], inputs: [String: HostTensor] = [:],
                 _ body: @escaping (GraphBuilder, Tensor) -> Tensor) throws -> HostTensor {
    let traced = try trace("layer", training: training) { g in [body(g, g.input("x", x.type))] }
    var all = inputs
    all["x"] = x
    return try Interpreter().run(traced.graph, inputs: all, variables: variables).outputs[0]
}

/// Expects every element within `tolerance` of `expected` (absolute).
private func expectClose(_ actual: HostTensor, _ expected: [Double], tolerance: Double = 1e-6,
                         sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(actual.scalars.count == expected.count, sourceLocation: sourceLocation)
    for (index, (got, want)) in zip(actual.scalars, expected).enumerated() {
        #expect(Swift.abs(Double(got) - want) <= tolerance, "element \(index): got \(got), want \(want)", sourceLocation: sourceLocation)
    }
}

@Suite struct ActivationTests {
    /// Logits [1, 2, 3] and the same row shifted by 1000 (exp(1000) overflows f32).
    let logits = HostTensor(shape: [2, 3], [1, 2, 3, 1000, 1001, 1002])
    /// Python: e = exp(r − max(r)); e / sum(e), and (r − max) − log(sum(e)).
    let softmaxRow = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
    let logSoftmaxRow = [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804]

    @Test func softmaxIsStableForLargeLogitsAndRowsSumToOne() throws {
        let y = try run(logits) { _, x in softmax(x) }
        expectClose(y, softmaxRow + softmaxRow)
        for row in 0..<2 {
            let sum = y.scalars[(3 * row)..<(3 * row + 3)].reduce(0, +)
            #expect(Swift.abs(sum - 1) < 1e-6, "row \(row) sums to \(sum)")
        }
    }

    @Test func softmaxAlongTheFirstAxis() throws {
        let columns = HostTensor(shape: [3, 2], [1, 1000, 2, 1001, 3, 1002])
        let y = try run(columns) { _, x in Softmax(axis: 0)(x) }
        expectClose(y, zip(softmaxRow, softmaxRow).flatMap { [$0, $1] })
    }

    @Test func logSoftmaxIsStableForLargeLogits() throws {
        let y = try run(logits) { _, x in LogSoftmax()(x) }
        expectClose(y, logSoftmaxRow + logSoftmaxRow, tolerance: 1e-5)
    }

    @Test func leakyReLUScalesNegativeValues() throws {
        let y = try run(HostTensor(shape: [4], [-2, -0.5, 0, 3])) { _, x in LeakyReLU(slope: 0.1)(x) }
        expectClose(y, [-0.2, -0.05, 0, 3])
    }

    /// Python: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (PyTorch's gelu(approximate="tanh")).
    @Test func geluIsTheTanhApproximation() throws {
        let y = try run(HostTensor(shape: [5], [-2, -0.5, 0, 1, 3])) { _, x in GELU()(x) }
        expectClose(y, [-0.04540230591222494, -0.15428599017485606, 0, 0.8411919906082768, 2.996362607918227])
    }

    @Test func tanhLayer() throws {
        let y = try run(HostTensor(shape: [3], [-1, 0, 0.5])) { _, x in Tanh()(x) }
        expectClose(y, [Foundation.tanh(-1), 0, Foundation.tanh(0.5)])
    }

    @Test func softmaxRejectsAnAxisOutOfRange() throws {
        let error = try #require(diagnostic { _ = try run(logits) { _, x in softmax(x, axis: 2) } })
        #expect(error.message == "softmax: axis 2 is out of range for f32[2,3]")
    }
}

@Suite struct LayerNormTests {
    /// Python (biased variance, eps 1e-5): rows [1, 2, 3, 6] and [0, 0, 4, 4], weight
    /// [1, 2, 1, 0.5], bias [0, 0.5, −1, 0].
    @Test func normalizesEachRowThenScalesAndShifts() throws {
        let variables = ["norm.weight": HostTensor(shape: [4], [1, 2, 1, 0.5]), "norm.bias": HostTensor(shape: [4], [0, 0.5, -1, 0])]
        let y = try run(HostTensor(shape: [2, 4], [1, 2, 3, 6, 0, 0, 4, 4]), variables: variables) { g, x in
            LayerNorm(g.scope("norm"), features: 4)(x)
        }
        expectClose(y, [-1.0690434404458735, -0.5690434404458735, -1.0, 0.8017825803344051,
                        -0.9999987500023437, -1.4999975000046875, -1.2499976562718729e-06, 0.49999937500117186], tolerance: 2e-6)
    }

    @Test func affineParamsAreNormalizationParamsThatOptimizersDoNotDecay() throws {
        let traced = try trace("ln") { g in [LayerNorm(g.scope("norm"), normalizedShape: [2, 3])(g.input("x", shape: [5, 2, 3]))] }
        #expect(traced.graph.variables["norm.weight"]?.role == .normalization)
        #expect(traced.graph.variables["norm.bias"]?.role == .normalization)
        #expect(traced.graph.variables["norm.weight"]?.initializer == .ones)
    }

    @Test func rejectsAnInputWhoseTrailingAxesDiffer() throws {
        let line = #line + 3
        let thrown = diagnostic {
            _ = try trace("ln") { g in
                [LayerNorm(g.scope("norm"), features: 4)(g.input("x", shape: [2, 5]))]
            }
        }
        let error = try #require(thrown)
        #expect(error.description == "Tests/GraftTests/LayerTests.swift:\(line): error: layer_norm: normalizes trailing axes [4], but the input is f32[2,5]")
    }
}

@Suite struct ConcatenateAndLossTests {
    @Test func concatenateJoinsAlongANegativeAxis() throws {
        let y = try run(HostTensor(shape: [2, 1], [1, 2])) { g, x in
            concatenate([x, g.constant(5, shape: [2, 2])], axis: -1)
        }
        #expect(y == HostTensor(shape: [2, 3], [1, 5, 5, 2, 5, 5]))
    }

    @Test func concatenateRejectsMismatchedShapesAtTheCall() throws {
        let line = #line + 4
        let thrown = diagnostic {
            _ = try trace("cat") { g in
                let (a, b) = (g.input("a", shape: [2, 3]), g.input("b", shape: [3, 3]))
                return [concatenate([a, b], axis: 1)]
            }
        }
        let error = try #require(thrown)
        #expect(error.description == "Tests/GraftTests/LayerTests.swift:\(line): error: concat: operand shapes differ outside axis 1 (f32[2,3] × f32[3,3])")
    }

    /// Python: mean over rows of logsumexp(row) − row[label], logits [[2, 1, 0], [0, 0, 3]], labels [0, 2].
    @Test func crossEntropyFromIntegerLabels() throws {
        let labels = HostTensor(TensorType(.i32, [2]), [0, 2])
        let loss = try run(HostTensor(shape: [2, 3], [2, 1, 0, 0, 0, 3]), inputs: ["labels": labels]) { g, x in
            crossEntropy(logits: x, labels: g.input("labels", TensorType(.i32, [2])))
        }
        expectClose(loss, [0.2512644604326708])
    }

    /// Python (numpy, float64): the six normalised views of a = [[1, 2, 0], [0, 1, 1], [1, -1, 2]]
    /// and b = [[2, 0.5, 1], [1, 0, -1], [0, 2, 1]], similarities / 0.5, each view's
    /// cross-entropy against the other view of its image among the five other views (per
    /// view: 1.489, 3.700, 2.017, 1.414, 2.648, 2.730), averaged.
    @Test func ntXentOfTwoViewsAgreesWithNumpy() throws {
        let b = HostTensor(shape: [3, 3], [2, 0.5, 1, 1, 0, -1, 0, 2, 1])
        let loss = try run(HostTensor(shape: [3, 3], [1, 2, 0, 0, 1, 1, 1, -1, 2]), inputs: ["b": b]) { g, a in
            ntXent(a, g.input("b", shape: [3, 3]), temperature: 0.5)
        }
        expectClose(loss, [2.3331501890951425])
    }

    @Test func ntXentRejectsViewsOfDifferentShapes() throws {
        let error = try #require(diagnostic {
            _ = try trace("nt") { g in [ntXent(g.input("a", shape: [2, 3]), g.input("b", shape: [3, 3]))] }
        })
        #expect(error.message == "nt_xent: expects two f32 views [N, D] of the same shape and a positive temperature, got f32[2,3], f32[3,3] and 0.1")
    }

    @Test func crossEntropyRejectsFloatLabels() throws {
        let error = try #require(diagnostic {
            _ = try trace("ce") { g in [crossEntropy(logits: g.input("x", shape: [2, 3]), labels: g.input("y", shape: [2]))] }
        })
        #expect(error.message == "cross_entropy: expects f32 logits [N, K] and i32 labels [N], got f32[2,3] and f32[2]")
    }
}

@Suite struct EmbeddingTests {
    let table = HostTensor(shape: [3, 2], [0, 1, 10, 11, 20, 21])

    @Test func looksUpRowsByIndex() throws {
        let indices = HostTensor(TensorType(.i32, [2, 2]), [2, 0, 1, 1])
        let traced = try trace("embed") { g in [Embedding(g.scope("embed"), count: 3, dimension: 2)(g.input("i", TensorType(.i32, [2, 2])))] }
        let y = try Interpreter().run(traced.graph, inputs: ["i": indices], variables: ["embed.weight": table]).outputs[0]
        #expect(y == HostTensor(shape: [2, 2, 2], [20, 21, 0, 1, 10, 11, 10, 11]))
    }

    @Test func anIndexOutsideTheTableIsAnErrorAtTheLayerCall() throws {
        let line = #line + 2
        let traced = try trace("embed") { g in
            [Embedding(g.scope("embed"), count: 3, dimension: 2)(g.input("i", TensorType(.i32, [2])))]
        }
        let error = try #require(diagnostic {
            _ = try Interpreter().run(traced.graph, inputs: ["i": HostTensor(TensorType(.i32, [2]), [1, 3])], variables: ["embed.weight": table])
        })
        #expect(error.description == "Tests/GraftTests/LayerTests.swift:\(line): error: gather: index 3 (element 1 of the indices) is outside the table's 3 rows; indices must be in 0..<3")
    }

    @Test func floatIndicesAreATypeErrorAtTheCall() throws {
        let error = try #require(diagnostic {
            _ = try trace("embed") { g in [Embedding(g.scope("embed"), count: 3, dimension: 2)(g.input("i", shape: [2]))] }
        })
        #expect(error.message == "gather: indices must be i32, got f32[2]; convert them with `convert`")
    }
}

@Suite struct DropoutTests {
    static let count = 20_000

    func dropout(rate: Float, training: Bool = true) throws -> TracedGraph {
        try trace("drop", training: training) { g in [Dropout(rate: rate)(g.input("x", shape: [Self.count]))] }
    }

    func mask(_ graph: TracedGraph, step: Float) throws -> [Float] {
        let ones = HostTensor(repeating: 1, TensorType(.f32, [Self.count]))
        return try Interpreter().run(graph.graph, inputs: ["x": ones, "step": HostTensor(scalar: step)], variables: [:]).outputs[0].scalars
    }

    @Test(arguments: [Float(0.1), 0.5, 0.8])
    func keepsAbout1MinusRateAndScalesKeptValues(rate: Float) throws {
        let values = try mask(try dropout(rate: rate), step: 1)
        let scale = 1 / (1 - rate)
        #expect(values.allSatisfy { $0 == 0 || $0 == scale })
        // Binomial: kept = count·(1 − rate) ± 5σ.
        let kept = Double(values.filter { $0 != 0 }.count)
        let expected = Double(Self.count) * Double(1 - rate)
        let sigma = (Double(Self.count) * Double(rate) * Double(1 - rate)).squareRoot()
        #expect(Swift.abs(kept - expected) < 5 * sigma, "kept \(kept) of \(Self.count), expected \(expected)")
    }

    @Test func theMaskChangesFromStepToStep() throws {
        let graph = try dropout(rate: 0.5)
        let (first, second) = (try mask(graph, step: 1), try mask(graph, step: 2))
        let differing = zip(first, second).filter { $0 != $1 }.count
        // Independent masks differ at half the elements.
        #expect(Swift.abs(differing - Self.count / 2) < 5 * 71, "\(differing) of \(Self.count) differ")
        #expect(try mask(graph, step: 1) == first)
    }

    @Test func isTheIdentityAtInference() throws {
        let graph = try dropout(rate: 0.5, training: false)
        #expect(!graph.graph.nodes.contains { $0.op == .input("step") })
        let x = HostTensor(shape: [Self.count], (0..<Self.count).map { Float($0) })
        #expect(try Interpreter().run(graph.graph, inputs: ["x": x], variables: [:]).outputs[0] == x)
    }

    @Test func twoDropoutsShareTheStepButNotTheirMasks() throws {
        let traced = try trace("drop") { g in
            let x = g.input("x", shape: [Self.count])
            return [Dropout(rate: 0.5)(x), Dropout(rate: 0.5)(x)]
        }
        #expect(traced.graph.nodes.filter { $0.op == .input("step") }.count == 1)
        let ones = HostTensor(repeating: 1, TensorType(.f32, [Self.count]))
        let outputs = try Interpreter().run(traced.graph, inputs: ["x": ones, "step": HostTensor(scalar: 1)], variables: [:]).outputs
        #expect(outputs[0] != outputs[1])
    }

    @Test func rejectsARateOfOne() throws {
        let error = try #require(diagnostic { _ = try dropout(rate: 1) })
        #expect(error.message == "dropout: rate must be in [0, 1), got 1.0")
    }
}
