// OptimizerRewrite: what every optimizer pass shares: taking the gradients autodiff left as
// outputs (each param's declaration names its gradient output), declaring the learning-rate
// input and optimizer state, and writing the updates.

import GraftIR

/// One param's update, built by an optimizer rule.
public struct ParamUpdate {
    public var graph: Graph
    /// The param being updated, its gradient, and the step's learning rate (a scalar input).
    public let param: ValueID
    public let gradient: ValueID
    public let learningRate: ValueID
    public let name: String
    public let role: VariableRole
    public let location: SourceLocation?
    /// State the rule declared, and the values to write into it.
    var stateWrites: [(name: String, value: ValueID)] = []
    /// A buffer name the graph already declared, reported once the rule returns.
    var clash: String?

    /// Declares an optimizer buffer `optimizer.<param>.<suffix>` shaped like the param,
    /// initialised to zeros, and returns it.
    public mutating func buffer(_ suffix: String) -> ValueID {
        let bufferName = "optimizer.\(name).\(suffix)"
        if graph.declaration(named: bufferName) != nil { clash = clash ?? bufferName }
        return graph.declare(.state(bufferName), type: graph[param].type, info: VariableInfo(.zeros, role: .optimizerState), at: location)
    }

    /// Writes `value` into the buffer at the end of the step.
    public mutating func write(_ buffer: ValueID, _ value: ValueID) {
        guard case .state(let bufferName) = graph[buffer].op else { fatalError("write: not a state buffer") }
        stateWrites.append((bufferName, value))
    }

    // Small arithmetic helpers on values of the param's shape or on scalars.
    public mutating func op(_ op: Op, _ operands: ValueID...) -> ValueID { graph.add(op, operands, at: location) }
    public mutating func scalar(_ value: Float) -> ValueID { graph.add(.constant(value), [], type: .scalar(), at: location) }
    /// `scalar · x`, the scalar broadcast to x's shape.
    public mutating func scale(_ x: ValueID, by scalar: ValueID) -> ValueID {
        graph.add(.mul, [x, graph.broadcast(scalar, to: graph[x].type, at: location)], at: location)
    }
    /// The L2 norm of `x` as a scalar.
    public mutating func norm(_ x: ValueID) -> ValueID {
        let squares = graph.add(.mul, [x, x], at: location)
        let sum = graph.add(.reduceSum(axes: Array(0..<graph[x].type.rank)), [squares], at: location)
        return graph.add(.sqrt, [sum], at: location)
    }
}

/// Whether weight decay and trust-ratio adaptation skip a variable of this role: biases and
/// normalisation params are excluded, as in BYOL's LARS (and common AdamW practice).
public func isExcludedFromDecay(_ role: VariableRole) -> Bool {
    role == .bias || role == .normalization
}

extension Graph {
    /// Checks that an optimizer can run: there are gradient outputs, and no param is updated
    /// already.
    func checkOptimizable(_ passName: String) throws {
        if let assign = assigns.first(where: { assign in params.contains { nodes[$0].op == .param(assign.name) } }) {
            throw Diagnostic("\(passName): param @\(assign.name) is already updated (assign @\(assign.name)); an optimizer runs once, after autodiff", at: assign.location)
        }
        guard !gradients.isEmpty else {
            throw Diagnostic("\(passName): the graph has no gradient outputs (no param says `gradient = N`); run autodiff first")
        }
    }

    /// Replaces the gradient outputs `Autodiff` added with updates: for each param, `rule`
    /// returns its new value; it is assigned to the param, and the rule's buffers are
    /// assigned too. Adds the scalar input `%learning_rate`.
    mutating func applyOptimizer(_ passName: String, _ rule: (inout ParamUpdate) -> ValueID) throws {
        try checkOptimizable(passName)
        let gradients = self.gradients
        let learningRate = try addScalarInput("learning_rate", for: passName)
        for (name, output) in gradients {
            let param = declaration(named: name)!
            var update = ParamUpdate(graph: self, param: param, gradient: outputs[output], learningRate: learningRate,
                                     name: name, role: variables[name]!.role, location: self[param].location)
            self = Graph(name: name)   // hand the graph over without a copy
            let newValue = rule(&update)
            self = update.graph
            if let clash = update.clash {
                throw Diagnostic("\(passName): the graph already declares @\(clash), the buffer \(passName) would add for @\(name)", at: update.location)
            }
            assigns.append(Assign(name: name, value: newValue, location: update.location))
            for write in update.stateWrites {
                assigns.append(Assign(name: write.name, value: write.value, location: update.location))
            }
            variables[name]!.gradient = nil
        }
        for output in gradients.map(\.output).sorted(by: >) { outputs.remove(at: output) }
        rebuild(keeping: liveness)
    }
}
