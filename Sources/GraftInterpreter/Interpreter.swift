// Interpreter: the reference evaluator of Graft graphs, the oracle every other stage is checked
// against.
//
// This file is the driver: it checks the values bound to inputs, params and state, evaluates
// the nodes in order, and applies the step's assigns. Each op family's evaluation lives in an
// `Interpreter+Family.swift` file next to this one. Written for obviousness, not speed.

import GraftIR

/// What one step of a graph produced.
public struct InterpreterResult: Sendable {
    /// The graph's returned values, in the order of `Graph.outputs`.
    public var outputs: [HostTensor]
    /// The params and state after the step: the variables given to the step with every assign
    /// applied.
    public var variables: [String: HostTensor]

    /// Makes a result from returned values and updated variables.
    public init(outputs: [HostTensor], variables: [String: HostTensor]) {
        self.outputs = outputs
        self.variables = variables
    }
}

/// Evaluates Graft graphs on the host, one node at a time, to define what each op computes.
///
/// Arithmetic is Float32 (every dtype is held as `Float`; `bool` as 0 or 1, `i32` as integral
/// values). Transcendental functions (`exp`, `log`, `tanh`, `rsqrt`) are computed in Float64
/// and rounded once. Every sum (`reduce_sum`, `reduce_mean`, the inner products of `matmul`,
/// `conv2d` and its gradients) accumulates in Float64 and rounds once at the end.
///
/// ```swift
/// let graph = try Parser.parse(text)
/// let result = try Interpreter().run(graph, inputs: ["x": x], variables: ["w": w])
/// ```
public struct Interpreter: Sendable {
    /// Makes an interpreter; it holds no state between runs.
    public init() {}

    /// Evaluates every node; returns the outputs and the params/state after the step's assigns.
    ///
    /// All assigns read the values computed from the pre-step variables and take effect
    /// together after everything is computed. Variables the graph does not declare are passed
    /// through unchanged.
    ///
    /// - Parameters:
    ///   - graph: the graph to run; it is verified first.
    ///   - inputs: a value for every graph input, by name.
    ///   - variables: a value for every param and state, by name.
    /// - Throws: `Diagnostic` if the graph is malformed, or a value is missing or does not have
    ///   its declared type.
    public func run(_ graph: Graph, inputs: [String: HostTensor], variables: [String: HostTensor]) throws -> InterpreterResult {
        let values = try evaluate(graph, inputs: inputs, variables: variables)
        var updated = variables
        for assign in graph.assigns {
            updated[assign.name] = values[assign.value]
        }
        return InterpreterResult(outputs: graph.outputs.map { values[$0] }, variables: updated)
    }

    /// All node values in node order (for tests and debugging).
    ///
    /// - Throws: `Diagnostic` if the graph is malformed, or a value is missing or does not have
    ///   its declared type.
    public func evaluate(_ graph: Graph, inputs: [String: HostTensor], variables: [String: HostTensor]) throws -> [HostTensor] {
        try Verifier.verify(graph)
        var values: [HostTensor] = []
        values.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            let operands = node.operands.map { values[$0] }
            values.append(try evaluate(node, operands: operands, inputs: inputs, variables: variables))
        }
        return values
    }

    /// The value of one node given its operands' values.
    private func evaluate(_ node: Node, operands: [HostTensor], inputs: [String: HostTensor],
                          variables: [String: HostTensor]) throws -> HostTensor {
        let type = node.type
        switch node.op {
        case .input(let name):
            return try bound(inputs[name], to: node, describedAs: "input '%\(name)'", passedIn: "inputs")
        case .param(let name):
            return try bound(variables[name], to: node, describedAs: "param '@\(name)'", passedIn: "variables")
        case .state(let name):
            return try bound(variables[name], to: node, describedAs: "state '@\(name)'", passedIn: "variables")
        case .constant(let value):
            return constant(value, type)
        case .iota(let axis):
            return iota(axis: axis, type)

        case .neg, .abs, .exp, .log, .sqrt, .rsqrt, .tanh, .relu, .convert, .stopGradient:
            return unary(node.op, operands[0], type)
        case .add, .sub, .mul, .div, .max, .min, .compare:
            return binary(node.op, operands[0], operands[1], type)
        case .select:
            return select(operands[0], operands[1], operands[2])

        case .reduceSum(let axes):
            return reduceSum(operands[0], axes: axes, type)
        case .reduceMean(let axes):
            return reduceMean(operands[0], axes: axes, type)
        case .reduceMax(let axes):
            return reduceMax(operands[0], axes: axes, type)

        case .reshape:
            return HostTensor(type, operands[0].scalars)
        case .transpose(let permutation):
            return transpose(operands[0], permutation: permutation, type)
        case .broadcast:
            return broadcast(operands[0], type)
        case .slice(let start, _):
            return slice(operands[0], start: start, type)
        case .concat(let axis):
            return concat(operands, axis: axis, type)
        case .pad(let low, _):
            return pad(operands[0], low: low, type)

        case .matmul(let transposeA, let transposeB):
            return matmul(operands[0], operands[1], transposeA: transposeA, transposeB: transposeB, type)
        case .conv2d(let stride, let padding):
            return conv2d(operands[0], operands[1], ConvGeometry(input: operands[0].type, filter: operands[1].type,
                                                                 stride: stride, padding: padding))
        case .conv2dInputGrad(let stride, let padding):
            return conv2dInputGrad(operands[0], operands[1], ConvGeometry(input: type, filter: operands[1].type,
                                                                          stride: stride, padding: padding))
        case .conv2dFilterGrad(let stride, let padding):
            return conv2dFilterGrad(operands[0], operands[1], ConvGeometry(input: operands[0].type, filter: type,
                                                                           stride: stride, padding: padding))
        }
    }

    /// Checks a value bound to an input, param or state against its declaration.
    private func bound(_ value: HostTensor?, to node: Node, describedAs what: String, passedIn argument: String) throws -> HostTensor {
        guard let value else {
            throw Diagnostic("no value was given for \(what) of type \(node.type); pass one in `\(argument)`",
                             at: node.location)
        }
        guard value.type == node.type else {
            throw Diagnostic("\(what) is declared as \(node.type), but the value given has type \(value.type); pass a value of the declared type",
                             at: node.location)
        }
        guard value.scalars.count == node.type.elementCount else {
            throw Diagnostic("\(what) has type \(node.type), which holds \(node.type.elementCount) elements, but the value given has \(value.scalars.count); pass one element per position",
                             at: node.location)
        }
        return value
    }
}
