// VerifierTests: graphs built in Swift that break an invariant are rejected at the node's location.

import Testing
import GraftIR

private func at(_ line: Int) -> IRLocation { IRLocation(file: "Model.swift", line: line, column: 5) }

@Suite("Verifier")
struct VerifierTests {
    @Test("well-formed graphs verify")
    func accepts() throws {
        try Verifier.verify(mlpStep(locations: true))
        try Verifier.verify(try Parser.parse(everyOpText))
        for example in opExamples { try Verifier.verify(example.graph) }
        try Verifier.verify(Graph(name: "empty"))
    }

    @Test("an operand defined after its use")
    func operandAfterUse() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2)))
        graph.append(Node(.neg, [2], type: f32(2), location: at(10)))
        graph.append(Node(.abs, [x], type: f32(2), location: at(11)))
        expectVerifierError(graph, at: at(10), "neg: operand 2 is not defined before its use")
    }

    @Test("an operand that is the node itself, negative or past the end", arguments: [1, -1, 7])
    func operandOutOfRange(operand: Int) {
        var graph = Graph(name: "g")
        graph.append(Node(.input("x"), type: f32(2)))
        graph.append(Node(.exp, [operand], type: f32(2), location: at(3)))
        expectVerifierError(graph, at: at(3), "exp: operand \(operand) is not defined before its use")
    }

    @Test("a node type that disagrees with the op's rule")
    func wrongResultType() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2, 3)))
        let s = graph.append(Node(.reduceSum(axes: [1]), [x], type: f32(2), location: at(20)))
        graph.append(Node(.mul, [s, s], type: f32(3), location: at(21)))
        expectVerifierError(graph, at: at(21), "mul: result type is f32[2], but the node says f32[3]")
    }

    @Test("operands that break the op's rule")
    func brokenRule() {
        var graph = Graph(name: "g")
        let a = graph.append(Node(.input("a"), type: f32(256, 512)))
        let b = graph.append(Node(.input("b"), type: f32(256, 128)))
        graph.append(Node(.matmul(transposeA: false, transposeB: false), [a, b], type: f32(256, 128),
                          location: IRLocation(file: "models/BYOL.swift", line: 41)))
        expectVerifierError(graph, at: IRLocation(file: "models/BYOL.swift", line: 41),
                            "matmul: inner dimensions differ (f32[256,512] × f32[256,128])")
        do {
            try Verifier.verify(graph)
        } catch {
            #expect("\(error)" == "models/BYOL.swift:41: error: matmul: inner dimensions differ (f32[256,512] × f32[256,128])")
        }
    }

    @Test("a wrong operand count")
    func wrongArity() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2)))
        graph.append(Node(.select, [x, x], type: f32(2), location: at(4)))
        expectVerifierError(graph, at: at(4), "select: expects 3 operands, got 2")
    }

    @Test("a non-f32 param")
    func intParam() {
        var graph = Graph(name: "g")
        graph.append(Node(.param("w"), type: i32(2), location: at(1)))
        expectVerifierError(graph, at: at(1), "param: must be f32, got i32[2]")
    }

    @Test("a duplicate declaration", arguments: [Op.param("w"), .state("w"), .input("w")])
    func duplicateDeclaration(second: Op) {
        var graph = Graph(name: "g")
        graph.append(Node(.param("w"), type: f32(2), location: at(1)))
        graph.append(Node(second, type: f32(2), location: at(2)))
        expectVerifierError(graph, at: at(2), "duplicate declaration of 'w'")
    }

    @Test("an assign to a graph input")
    func assignToInput() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2)))
        let y = graph.append(Node(.neg, [x], type: f32(2)))
        graph.assigns = [Assign(name: "x", value: y, location: at(30))]
        expectVerifierError(graph, at: at(30), "assign: 'x' is a graph input; only params and state can be assigned")
    }

    @Test("an assign to an undeclared name")
    func assignUndeclared() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2)))
        graph.assigns = [Assign(name: "nope", value: x, location: at(31))]
        expectVerifierError(graph, at: at(31), "assign: '@nope' is not a declared param or state")
    }

    @Test("an assign of a wrong-typed value")
    func assignWrongType() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2)))
        graph.append(Node(.state("s"), type: f32(3)))
        graph.variables["s"] = VariableInfo(.zeros, role: .statistic)
        graph.assigns = [Assign(name: "s", value: x, location: at(32))]
        expectVerifierError(graph, at: at(32), "assign: '@s' has type f32[3] but the value has type f32[2]")
    }

    @Test("an assign of an undefined value")
    func assignUndefinedValue() {
        var graph = Graph(name: "g")
        graph.append(Node(.state("s"), type: f32(3)))
        graph.variables["s"] = VariableInfo(.zeros, role: .statistic)
        graph.assigns = [Assign(name: "s", value: 9, location: at(33))]
        expectVerifierError(graph, at: at(33), "assign: value 9 is not defined in the graph")
    }

    @Test("the same state assigned twice")
    func assignTwice() {
        var graph = Graph(name: "g")
        let s = graph.append(Node(.state("s"), type: f32(3)))
        graph.variables["s"] = VariableInfo(.zeros, role: .statistic)
        let t = graph.append(Node(.neg, [s], type: f32(3)))
        graph.assigns = [Assign(name: "s", value: t, location: at(40)), Assign(name: "s", value: s, location: at(41))]
        expectVerifierError(graph, at: at(41), "assign: 's' is assigned more than once")
    }

    @Test("a returned value that does not exist")
    func undefinedOutput() {
        var graph = Graph(name: "g")
        graph.append(Node(.input("x"), type: f32(2)))
        graph.outputs = [0, 5]
        expectVerifierError(graph, at: nil, "return: value 5 is not defined in the graph")
    }

    @Test("the first violation in graph order is the one reported")
    func firstViolation() {
        var graph = Graph(name: "g")
        let x = graph.append(Node(.input("x"), type: f32(2)))
        graph.append(Node(.add, [x], type: f32(2), location: at(50)))
        graph.append(Node(.neg, [9], type: f32(2), location: at(51)))
        expectVerifierError(graph, at: at(50), "add: expects 2 operands, got 1")
    }

    /// A graph with param @w (f32[3], at line 1), state @s (f32[3], at line 2), and the loss
    /// and @w's gradient as outputs 0 and 1.
    private func variablesGraph() -> Graph {
        var graph = Graph(name: "g")
        let w = graph.append(Node(.param("w"), type: f32(3), location: at(1)))
        graph.append(Node(.state("s"), type: f32(3), location: at(2)))
        let loss = graph.append(Node(.reduceSum(axes: [0]), [w], type: f32()))
        graph.outputs = [loss, w]
        graph.variables = ["w": VariableInfo(.normal(std: 0.5), role: .weight, gradient: 1),
                           "s": VariableInfo(.ones, role: .weight, targetOf: "w")]
        return graph
    }

    @Test("declarations with variables verify")
    func variablesVerify() throws {
        try Verifier.verify(variablesGraph())
    }

    @Test("a param or state without an initializer and role")
    func missingVariable() {
        var graph = variablesGraph()
        graph.variables["s"] = nil
        expectVerifierError(graph, at: at(2), "state @s: no initializer and role; every param and state declares them")
    }

    @Test("a described variable that is not declared")
    func undeclaredVariable() {
        var graph = variablesGraph()
        graph.variables["ghost"] = VariableInfo(.zeros, role: .weight)
        expectVerifierError(graph, at: nil, "variables: 'ghost' is described but not declared as a param or state")
    }

    @Test("a target that names nothing, a param target, a state gradient")
    func badReferences() {
        var graph = variablesGraph()
        graph.variables["s"]?.targetOf = "nothing"
        expectVerifierError(graph, at: at(2), "state @s: target_of names @nothing, which is not a declared param or state")
        graph = variablesGraph()
        graph.variables["w"]?.targetOf = "s"
        expectVerifierError(graph, at: at(1), "param @w: target_of is only for state")
        graph = variablesGraph()
        graph.variables["s"]?.gradient = 1
        expectVerifierError(graph, at: at(2), "state @s: only params have gradients")
    }

    @Test("a gradient that names the loss, no output, or an output of another type", arguments: [0, 2, -1])
    func badGradient(output: Int) {
        var graph = variablesGraph()
        graph.variables["w"]?.gradient = output
        expectVerifierError(graph, at: at(1), "param @w: gradient = \(output) is not an output (other than the loss) of type f32[3]")
    }
}
