// OptimizerRewrite: what every optimizer pass shares: taking the gradients autodiff left as
// outputs, declaring the learning-rate input and optimizer state, and writing the updates.

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
    var context: PassContext

    /// Declares an optimizer buffer `optimizer.<param>.<suffix>` shaped like the param,
    /// initialised to zeros, and returns it.
    public mutating func buffer(_ suffix: String) -> ValueID {
        let bufferName = "optimizer.\(name).\(suffix)"
        let type = graph[param].type
        context.addVariable(bufferName, type: type, info: VariableInfo(.zeros, role: .optimizerState))
        return graph.declare(.state(bufferName), type: type, at: location)
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
    /// Replaces the gradient outputs `Autodiff` appended with updates: for each param, `rule`
    /// returns its new value; it is assigned to the param, and the rule's buffers are
    /// assigned too. Adds the scalar input `%learning_rate`.
    mutating func applyOptimizer(_ passName: String, _ context: inout PassContext,
                                 _ rule: (inout ParamUpdate) -> ValueID) throws {
        let names = context.gradientNames
        guard !names.isEmpty, outputs.count > names.count else {
            throw Diagnostic("\(passName): expects the gradients from autodiff as the last outputs; run autodiff first")
        }
        let gradients = Array(outputs.suffix(names.count))
        let learningRate = declare(.input("learning_rate"), type: .scalar())
        for (name, gradient) in zip(names, gradients) {
            guard let param = declaration(named: name) else { continue }
            var update = ParamUpdate(graph: self, param: param, gradient: gradient, learningRate: learningRate,
                                     name: name, role: context.variables[name]?.role ?? .weight,
                                     location: self[param].location, context: context)
            self = Graph(name: name)   // hand the graph over without a copy
            let newValue = rule(&update)
            self = update.graph
            context = update.context
            assigns.append(Assign(name: name, value: newValue, location: update.location))
            for write in update.stateWrites {
                assigns.append(Assign(name: write.name, value: write.value, location: update.location))
            }
        }
        outputs.removeLast(names.count)
        context.gradientNames = []
        rebuild(keeping: liveness)
    }
}
