// Interpreter: the reference evaluator of Graft graphs, the oracle every other stage is checked
// against.
//
// This file is the driver: it checks the values bound to inputs, params and state, evaluates
// the nodes in order, and applies the step's assigns. Each op kind's evaluation is in the table
// of Interpreter+Evaluations.swift. Written for obviousness, not speed.

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
/// By default arithmetic is Float32 (every dtype is held as `Float`; `bool` as 0 or 1, `i32` as
/// integral values). Transcendental functions (`exp`, `log`, `tanh`, `rsqrt`) are computed in
/// Float64 and rounded once. Every sum (`reduce_sum`, `reduce_mean`, the inner products of
/// `matmul`, `conv2d` and its gradients) accumulates in Float64 and rounds once at the end.
/// With `precision: .float64` nothing is rounded until the results are returned: the oracle
/// the compiled code's accuracy is measured against.
///
/// ```swift
/// let graph = try Parser.parse(text)
/// let result = try Interpreter().run(graph, inputs: ["x": x], variables: ["w": w])
/// ```
public struct Interpreter: Sendable {
    /// The arithmetic of every op.
    public var precision: Precision

    /// Makes an interpreter; it holds no state between runs.
    public init(precision: Precision = .float32) {
        self.precision = precision
    }

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
        try runReplicas(graph, inputs: [inputs], variables: [variables])[0]
    }

    /// All node values in node order (for tests and debugging).
    ///
    /// - Throws: `Diagnostic` if the graph is malformed, or a value is missing or does not have
    ///   its declared type.
    public func evaluate(_ graph: Graph, inputs: [String: HostTensor], variables: [String: HostTensor]) throws -> [HostTensor] {
        try evaluate(graph, replicas: [Bindings(inputs: inputs, variables: variables)])[0]
    }

    /// Runs `graph` on a simulated group of replicas in one process, as data-parallel
    /// training runs it on several: replica `r` binds `inputs[r]` and `variables[r]`, every
    /// node is evaluated on every replica before the next, and `all_reduce` combines the
    /// replicas' operands. Returns each replica's outputs and variables after the assigns.
    ///
    /// - Throws: `Diagnostic` if the graph is malformed, a value is missing or mistyped, or
    ///   `inputs` and `variables` do not give the same number of replicas (at least one).
    public func runReplicas(_ graph: Graph, inputs: [[String: HostTensor]], variables: [[String: HostTensor]]) throws -> [InterpreterResult] {
        guard !inputs.isEmpty, inputs.count == variables.count else {
            throw Diagnostic("runReplicas: \(inputs.count) replicas' inputs and \(variables.count) replicas' variables were given; give one of each per replica (at least one)")
        }
        let values = try evaluate(graph, replicas: zip(inputs, variables).map { Bindings(inputs: $0, variables: $1) })
        return zip(values, variables).map { values, variables in
            var updated = variables
            for assign in graph.assigns { updated[assign.name] = values[assign.value] }
            return InterpreterResult(outputs: graph.outputs.map { values[$0] }, variables: updated)
        }
    }

    /// Every node's value on every replica, in node order.
    private func evaluate(_ graph: Graph, replicas: [Bindings]) throws -> [[HostTensor]] {
        try Verifier.verify(graph)
        var values = [[Values]](repeating: [], count: replicas.count)
        for replica in values.indices { values[replica].reserveCapacity(graph.nodes.count) }
        for (id, node) in graph.nodes.enumerated() {
            var results: [Values]
            if node.op.kind == .allReduce {
                results = try allReduce(values.map { $0[node.operands[0]] }, node)
            } else {
                guard let evaluation = Interpreter.evaluation(for: node.op.kind) else {
                    throw Diagnostic("the interpreter has no evaluation of '\(node.op.name)'; add one to Interpreter+Evaluations.swift", at: node.location)
                }
                results = try replicas.indices.map { replica in
                    try evaluation(self, node, node.operands.map { values[replica][$0] }, replicas[replica])
                }
            }
            for replica in results.indices {
                if precision == .float32 { results[replica].scalars = results[replica].scalars.map(precision.round) }
                values[replica].append(results[replica])
                assert(values[replica].count == id + 1)
            }
        }
        return values.map { $0.map(\.host) }
    }

    /// Checks a value bound to an input, param or state against its declaration.
    func bound(_ value: HostTensor?, to node: Node, describedAs what: String, passedIn argument: String) throws -> Values {
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
        return Values(value)
    }
}
