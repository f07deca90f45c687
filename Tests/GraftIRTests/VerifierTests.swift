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
        graph.assigns = [Assign(name: "s", value: x, location: at(32))]
        expectVerifierError(graph, at: at(32), "assign: '@s' has type f32[3] but the value has type f32[2]")
    }

    @Test("an assign of an undefined value")
    func assignUndefinedValue() {
        var graph = Graph(name: "g")
        graph.append(Node(.state("s"), type: f32(3)))
        graph.assigns = [Assign(name: "s", value: 9, location: at(33))]
        expectVerifierError(graph, at: at(33), "assign: value 9 is not defined in the graph")
    }

    @Test("the same state assigned twice")
    func assignTwice() {
        var graph = Graph(name: "g")
        let s = graph.append(Node(.state("s"), type: f32(3)))
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
}
