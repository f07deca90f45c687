// GraphBuilder: the tracing context that records DSL calls into a Graph.

import GraftIR

/// Records every DSL op into a graph as the model's Swift code runs (tracing).
///
/// A builder holds the graph under construction (with the initializer and role of every param
/// and state it declares, in `Graph.variables`), the stack of layer calls (so that ops inside a layer carry the user's call
/// site), and the latest in-step value of each state (so that two BatchNorm calls in one
/// step chain their running-statistics updates and the step writes each state once).
///
/// Shape errors do not stop the Swift code: the first one is kept with its location, later
/// ops record nothing, and `trace(_:seed:training:_:)` throws it at the end.
public final class GraphBuilder {
    /// The graph recorded so far.
    public private(set) var graph: Graph
    /// Whether layers run in training mode (BatchNorm uses batch statistics and updates its
    /// running statistics) or in inference mode (BatchNorm uses its running statistics).
    public let isTraining: Bool
    /// The seed every initializer derives its stream from, together with the value's name.
    public let seed: UInt64

    /// The first error met while tracing.
    public private(set) var firstError: Diagnostic?
    private var layerCalls: [SourceLocation] = []
    private var latestStateValue: [String: ValueID] = [:]
    private var updatedStates: [(name: String, location: SourceLocation?)] = []
    private let paths = SourcePathResolver()
    private var randomStreams = 0

    public init(name: String, seed: UInt64 = 0, training: Bool = true) {
        self.graph = Graph(name: name)
        self.seed = seed
        self.isTraining = training
    }

    // MARK: Locations

    /// The location to record for an op called from `file`:`line`.
    ///
    /// Calls made inside the Graft library itself (a layer's own ops) take the location of
    /// the enclosing layer call, so errors point at the user's model code.
    func location(file: String, line: Int) -> SourceLocation? {
        if paths.isInsideLibrary(file) { return layerCalls.last }
        return SourceLocation(file: paths.displayPath(file), line: line)
    }

    /// The location of an operator (`+`, `*`, ...), which cannot capture its call site.
    var operatorLocation: SourceLocation? { layerCalls.last }

    /// Runs `body` as the call of a layer made at `file`:`line`.
    public func withLayerCall<Result>(file: String, line: Int, _ body: () -> Result) -> Result {
        layerCalls.append(location(file: file, line: line) ?? SourceLocation(file: paths.displayPath(file), line: line))
        defer { layerCalls.removeLast() }
        return body()
    }

    // MARK: Recording

    /// Records `op` applied to `operands`; `declared` is the result type for ops that need one.
    func record(_ op: Op, _ operands: [Tensor], type declared: TensorType? = nil, at location: SourceLocation?) -> Tensor {
        let guess = declared ?? operands.first?.type ?? .scalar()
        guard firstError == nil, operands.allSatisfy({ $0.id >= 0 }) else {
            return Tensor(id: -1, type: guess, builder: self)
        }
        do {
            let type = try TypeInference.resultType(of: op, operands: operands.map(\.type), declared: declared)
            let id = graph.append(Node(op, operands.map(\.id), type: type, location: location))
            return Tensor(id: id, type: type, builder: self)
        } catch let error as TypeError {
            fail(Diagnostic(error.message, at: location))
        } catch {
            fail(Diagnostic("\(op.name): \(error)", at: location))
        }
        return Tensor(id: -1, type: guess, builder: self)
    }

    /// Keeps `diagnostic` if it is the first error of the trace.
    public func fail(_ diagnostic: Diagnostic) {
        if firstError == nil { firstError = diagnostic }
    }

    /// Declares a graph input.
    public func input(_ name: String, _ type: TensorType, file: String = #filePath, line: Int = #line) -> Tensor {
        declare(.input(name), type: type, info: nil, at: location(file: file, line: line))
    }

    /// Declares a graph input of dtype f32.
    public func input(_ name: String, shape: [Int], file: String = #filePath, line: Int = #line) -> Tensor {
        input(name, TensorType(.f32, shape), file: file, line: line)
    }

    /// Declares a param or state described by `info` (its initializer and role).
    func declare(_ op: Op, type: TensorType, info: VariableInfo?, at location: SourceLocation?) -> Tensor {
        let name = op.declaredName!
        if graph.declaration(named: name) != nil {
            fail(Diagnostic("'\(name)' is declared twice; give each layer its own scope name", at: location))
            return Tensor(id: -1, type: type, builder: self)
        }
        let tensor = record(op, [], type: type, at: location)
        if let info, tensor.id >= 0 { graph.variables[name] = info }
        return tensor
    }

    /// The scalar f32 input `%step`, the training step counter (from 1) that random ops and
    /// AdamW read: declared on first use, the same tensor afterwards.
    public func stepInput(file: String = #filePath, line: Int = #line) -> Tensor {
        if let existing = graph.declaration(named: "step") {
            let node = graph[existing]
            guard node.op == .input("step"), node.type == .scalar() else {
                fail(Diagnostic("'step' is declared as \(node.op.name) \(node.type), but random ops read %step as a scalar f32 input; rename it",
                                at: location(file: file, line: line)))
                return Tensor(id: -1, type: .scalar(), builder: self)
            }
            return Tensor(id: existing, type: node.type, builder: self)
        }
        return input("step", .scalar(), file: file, line: line)
    }

    /// A seed for the next random op of the trace: distinct for each call, derived from the
    /// builder's seed and the call's order, so a model traced twice draws the same values.
    public func nextRandomSeed() -> Int {
        randomStreams += 1
        return Int(RandomUniform.mix(UInt32(truncatingIfNeeded: seed) ^ RandomUniform.mix(UInt32(randomStreams))))
    }

    /// A scope for naming params and state under `name` (e.g. `"online"`).
    public func scope(_ name: String) -> Scope { Scope(builder: self, path: name) }

    // MARK: State updates

    /// The latest value of a state in this step: its declaration, or the value last given to
    /// `update(_:to:)`.
    public func latestValue(of state: Tensor) -> Tensor {
        guard state.id >= 0, case .state(let name) = graph[state.id].op, let latest = latestStateValue[name] else {
            return state
        }
        return Tensor(id: latest, type: graph[latest].type, builder: self)
    }

    /// Makes `value` the new value of `state` at the end of the step.
    public func update(_ state: Tensor, to value: Tensor, file: String = #filePath, line: Int = #line) {
        guard state.id >= 0, value.id >= 0 else { return }
        guard case .state(let name) = graph[state.id].op else {
            fail(Diagnostic("update: \(graph[state.id].op.name) is not a state; only state can be updated", at: location(file: file, line: line)))
            return
        }
        guard value.type == state.type else {
            fail(Diagnostic("update: '\(name)' has type \(state.type) but the new value has type \(value.type)", at: location(file: file, line: line)))
            return
        }
        if latestStateValue[name] == nil { updatedStates.append((name, location(file: file, line: line))) }
        latestStateValue[name] = value.id
    }

    /// Sets the graph's outputs, writes the state updates as assigns, and returns the graph.
    func finish(outputs: [Tensor]) throws -> Graph {
        if let firstError { throw firstError }
        graph.outputs = outputs.map(\.id)
        graph.assigns = updatedStates.map { Assign(name: $0.name, value: latestStateValue[$0.name]!, location: $0.location) }
        try Verifier.verify(graph)
        return graph
    }
}

/// A traced model: its graph (whose declarations say how each param and state is
/// initialised) and the seed its initial values are drawn with.
public struct TracedGraph: Sendable {
    public var graph: Graph
    /// The seed the initial values are drawn with.
    public var seed: UInt64

    public init(graph: Graph, seed: UInt64) {
        self.graph = graph
        self.seed = seed
    }

    /// Initial values of every param and state, by name: `graph.initialValues(seed: seed)`.
    public var initialValues: [String: HostTensor] { graph.initialValues(seed: seed) }
}

/// Traces `body` into a graph named `name`: the DSL calls it makes become the graph's nodes
/// and the tensors it returns become the graph's outputs.
///
/// ```swift
/// let traced = try trace("mlp") { g in
///     let x = g.input("x", shape: [8, 4])
///     let layer = Linear(g.scope("fc"), inputSize: 4, outputSize: 2)
///     return [relu(layer(x))]
/// }
/// ```
/// - Throws: the first shape error, located at the model code that caused it.
public func trace(_ name: String, seed: UInt64 = 0, training: Bool = true,
                  _ body: (GraphBuilder) throws -> [Tensor]) throws -> TracedGraph {
    let builder = GraphBuilder(name: name, seed: seed, training: training)
    let outputs = try body(builder)
    let graph = try builder.finish(outputs: outputs)
    return TracedGraph(graph: graph, seed: seed)
}
