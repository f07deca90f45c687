// InterpreterTests: the driver: assigns take effect after the step, values are checked against
// their declarations with a Diagnostic that names them, and graphs built by hand evaluate.

import GraftIR
import GraftInterpreter
import Testing

@Suite struct InterpreterTests {
    /// A step that counts in state @s: returns @s * @s and writes @s + x.
    static let counter = """
        graph @count(%x: f32[2]) -> (f32[2]) {
          state @s : f32[2] {init = zeros, role = statistic}
          %next = add(@s, %x) : f32[2]
          %square = mul(@s, @s) : f32[2]
          assign @s, %next
          return %square : f32[2]
        }
        """

    @Test func assignsApplyAfterTheStep() throws {
        let graph = try Parser.parse(Self.counter)
        try Verifier.verify(graph)
        let result = try Interpreter().run(graph, inputs: ["x": tensor([2], [1, 10])],
                                           variables: ["s": tensor([2], [3, 4]), "other": tensor([1], [9])])
        #expect(result.outputs == [tensor([2], [9, 16])])          // from the old @s
        #expect(result.variables["s"] == tensor([2], [4, 14]))     // the new @s
        #expect(result.variables["other"] == tensor([1], [9]))     // passed through
    }

    /// At Float32 every op's result is rounded: (2^24 + 1) − 2^24 loses the 1 in the first add
    /// and exp(x)·exp(−x) is rounded twice. At Float64 neither is rounded until the result.
    @Test func float64PrecisionRoundsOnlyTheResult() throws {
        let text = """
            graph @cancel(%a: f32[2], %b: f32[2], %c: f32[2]) -> (f32[2]) {
              %0 = add(%a, %b) : f32[2]
              %1 = add(%0, %c) : f32[2]
              return %1 : f32[2]
            }
            """
        let graph = try Parser.parse(text)
        let inputs = ["a": tensor([2], [16_777_216, 1]), "b": tensor([2], [1, 1e-8]), "c": tensor([2], [-16_777_216, -1])]
        #expect(try Interpreter().run(graph, inputs: inputs, variables: [:]).outputs == [tensor([2], [0, 0])])
        let exact = try Interpreter(precision: .float64).run(graph, inputs: inputs, variables: [:]).outputs[0]
        #expect(exact.scalars[0] == 1)
        #expect(exact.scalars[1] == Float(Double(Float(1e-8))))
    }

    @Test func assignsAllReadPreStepValues() throws {
        let text = """
            graph @swap() -> () {
              param @a : f32[2] {init = zeros, role = weight}
              param @b : f32[2] {init = zeros, role = weight}
              state @c : f32[2] {init = zeros, role = statistic}
              assign @a, @b
              assign @b, @a
              return
            }
            """
        let graph = try Parser.parse(text)
        try Verifier.verify(graph)
        let variables = ["a": tensor([2], [1, 2]), "b": tensor([2], [3, 4]), "c": tensor([2], [5, 6])]
        let result = try Interpreter().run(graph, inputs: [:], variables: variables)
        #expect(result.outputs.isEmpty)
        #expect(result.variables == ["a": tensor([2], [3, 4]), "b": tensor([2], [1, 2]), "c": tensor([2], [5, 6])])
    }

    @Test func evaluateReturnsEveryNodeInOrder() throws {
        let graph = try Parser.parse(Self.counter)
        let values = try Interpreter().evaluate(graph, inputs: ["x": tensor([2], [1, 10])],
                                                variables: ["s": tensor([2], [3, 4])])
        #expect(values == [tensor([2], [1, 10]), tensor([2], [3, 4]), tensor([2], [4, 14]), tensor([2], [9, 16])])
    }

    @Test func handBuiltGraph() throws {
        // y = relu(x · w + b), with b broadcast over the batch.
        var graph = Graph(name: "dense")
        let x = graph.append(Node(.input("x"), type: TensorType(.f32, [2, 3])))
        let w = graph.append(Node(.param("w"), type: TensorType(.f32, [3, 2])))
        let b = graph.append(Node(.param("b"), type: TensorType(.f32, [2])))
        let product = graph.append(Node(.matmul(transposeA: false, transposeB: false), [x, w], type: TensorType(.f32, [2, 2])))
        let bias = graph.append(Node(.broadcast, [b], type: TensorType(.f32, [2, 2])))
        let sum = graph.append(Node(.add, [product, bias], type: TensorType(.f32, [2, 2])))
        graph.outputs = [graph.append(Node(.relu, [sum], type: TensorType(.f32, [2, 2])))]
        graph.variables = ["w": VariableInfo(.zeros, role: .weight), "b": VariableInfo(.zeros, role: .bias)]
        try Verifier.verify(graph)

        let result = try Interpreter().run(graph, inputs: ["x": tensor([2, 3], [1, 2, 3, -1, -2, -3])],
                                           variables: ["w": tensor([3, 2], [1, 0, 0, 1, 1, -1]), "b": tensor([2], [0.5, 1])])
        // x · w = [[4, -1], [-4, 1]]; + b = [[4.5, 0], [-3.5, 2]]; relu.
        #expect(result.outputs == [tensor([2, 2], [4.5, 0, 0, 2])])
    }

    @Test func missingInputIsADiagnosticNamingIt() throws {
        let graph = try Parser.parse(Self.counter)
        let error = #expect(throws: Diagnostic.self) {
            try Interpreter().run(graph, inputs: [:], variables: ["s": tensor([2], [0, 0])])
        }
        let message = try #require(error).message
        #expect(message.contains("input '%x'"), "\(message)")
        #expect(message.contains("f32[2]"), "\(message)")
        #expect(message.contains("`inputs`"), "\(message)")
    }

    @Test func missingStateIsADiagnosticNamingIt() throws {
        let graph = try Parser.parse(Self.counter)
        let error = #expect(throws: Diagnostic.self) {
            try Interpreter().run(graph, inputs: ["x": tensor([2], [0, 0])], variables: [:])
        }
        let message = try #require(error).message
        #expect(message.contains("state '@s'"), "\(message)")
        #expect(message.contains("`variables`"), "\(message)")
    }

    @Test func wrongShapedParamIsADiagnosticNamingIt() throws {
        let text = """
            graph @f(%x: f32[2,2]) -> (f32[2,3]) {
              param @w : f32[2,3] {init = zeros, role = weight}  loc("model.swift":12)
              %y = matmul(%x, @w) {transpose_a = false, transpose_b = false} : f32[2,3]
              return %y : f32[2,3]
            }
            """
        let graph = try Parser.parse(text)
        let error = #expect(throws: Diagnostic.self) {
            try Interpreter().run(graph, inputs: ["x": tensor([2, 2], [1, 2, 3, 4])],
                                  variables: ["w": tensor([3, 2], [1, 2, 3, 4, 5, 6])])
        }
        let diagnostic = try #require(error)
        #expect(diagnostic.message.contains("param '@w'"), "\(diagnostic.message)")
        #expect(diagnostic.message.contains("declared as f32[2,3]"), "\(diagnostic.message)")
        #expect(diagnostic.message.contains("has type f32[3,2]"), "\(diagnostic.message)")
        #expect(diagnostic.location == GraftIR.SourceLocation(file: "model.swift", line: 12), "located at the declaration")
    }

    @Test func wrongDtypeInputIsADiagnostic() throws {
        let graph = try Parser.parse(Self.counter)
        let error = #expect(throws: Diagnostic.self) {
            try Interpreter().run(graph, inputs: ["x": tensor(.i32, [2], [1, 2])], variables: ["s": tensor([2], [0, 0])])
        }
        let message = try #require(error).message
        #expect(message.contains("input '%x'") && message.contains("i32[2]"), "\(message)")
    }

    @Test func valueWithTooFewElementsIsADiagnostic() throws {
        let graph = try Parser.parse(Self.counter)
        var x = tensor([2], [1, 2])
        x.scalars.removeLast()
        let error = #expect(throws: Diagnostic.self) {
            try Interpreter().run(graph, inputs: ["x": x], variables: ["s": tensor([2], [0, 0])])
        }
        #expect(try #require(error).message.contains("input '%x'"))
    }

    @Test func malformedGraphIsADiagnosticNotACrash() throws {
        var graph = Graph(name: "bad")
        let a = graph.append(Node(.input("a"), type: TensorType(.f32, [2])))
        let b = graph.append(Node(.input("b"), type: TensorType(.f32, [3])))
        graph.outputs = [graph.append(Node(.add, [a, b], type: TensorType(.f32, [2])))]
        #expect(throws: Diagnostic.self) {
            try Interpreter().run(graph, inputs: ["a": tensor([2], [1, 2]), "b": tensor([3], [1, 2, 3])], variables: [:])
        }
    }
}
