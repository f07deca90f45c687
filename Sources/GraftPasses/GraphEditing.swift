// GraphEditing: the small set of graph edits every rewrite is built from.

import GraftIR

extension Graph {
    /// Appends `op` on `operands`, inferring its type (or checking `type` for ops that need
    /// one). A rewrite that builds an ill-typed node is a bug in Graft, so this traps.
    @discardableResult
    public mutating func add(_ op: Op, _ operands: [ValueID], type: TensorType? = nil, at location: SourceLocation? = nil) -> ValueID {
        do {
            let inferred = try TypeInference.resultType(of: op, operands: operands.map { nodes[$0].type }, declared: type)
            return append(Node(op, operands, type: inferred, location: location))
        } catch {
            fatalError("a rewrite built an ill-typed \(op.name) node: \(error)")
        }
    }

    /// A constant of `type` with every element `value`, as a scalar broadcast to the shape.
    public mutating func splat(_ value: Float, _ type: TensorType, at location: SourceLocation? = nil) -> ValueID {
        let scalar = add(.constant(value), [], type: .scalar(type.dtype), at: location)
        return type.rank == 0 ? scalar : add(.broadcast, [scalar], type: type, at: location)
    }

    /// A scalar value broadcast to `type`'s shape (or `value` itself when it already has it).
    public mutating func broadcast(_ value: ValueID, to type: TensorType, at location: SourceLocation? = nil) -> ValueID {
        nodes[value].type == type ? value : add(.broadcast, [value], type: type, at: location)
    }

    /// Declares a param or state described by `info` after the existing declarations and
    /// returns it.
    public mutating func declare(_ op: Op, type: TensorType, info: VariableInfo, at location: SourceLocation? = nil) -> ValueID {
        variables[op.declaredName!] = info
        return append(Node(op, type: type, location: location))
    }

    /// Declares the scalar f32 graph input `%name` that `pass` adds (`%learning_rate`, `%tau`).
    /// - Throws: when the graph already declares that name.
    public mutating func addScalarInput(_ name: String, for pass: String) throws -> ValueID {
        if let existing = declaration(named: name) {
            let what = nodes[existing].op == .input(name) ? "input %\(name)" : "\(nodes[existing].op.name) @\(name)"
            throw Diagnostic("\(pass): the graph already has \(what), which \(pass) would add; has \(pass) run already?", at: nodes[existing].location)
        }
        return append(Node(.input(name), type: .scalar()))
    }

    /// The scalar f32 graph input `%name` that other parts of the step may read too (`%step`,
    /// read by AdamW and by `random_uniform` in Dropout): the existing one, or a new one.
    /// - Throws: when the name is taken by a param, a state, or an input of another type.
    public mutating func sharedScalarInput(_ name: String, for pass: String) throws -> ValueID {
        guard let existing = declaration(named: name) else { return append(Node(.input(name), type: .scalar())) }
        guard nodes[existing].op == .input(name), nodes[existing].type == .scalar() else {
            let what = nodes[existing].op == .input(name) ? "input %\(name) : \(nodes[existing].type)" : "\(nodes[existing].op.name) @\(name)"
            throw Diagnostic("\(pass): the graph already has \(what), but \(pass) reads %\(name) as a scalar f32 input; rename it", at: nodes[existing].location)
        }
        return existing
    }

    /// Rebuilds the graph keeping the nodes for which `keep` is true, in an order where every
    /// node follows its operands (declarations first, then the original order where it
    /// already holds); operands of kept nodes are replaced through `replacement` first.
    ///
    /// Rewrites append new nodes at the end and redirect uses to them; this puts the graph
    /// back in SSA order and drops what is unused.
    public mutating func rebuild(keeping keep: [Bool], replacing replacement: [ValueID: ValueID] = [:]) {
        func resolve(_ value: ValueID) -> ValueID {
            var value = value
            while let next = replacement[value] { value = next }
            return value
        }
        var order: [ValueID] = []
        var state = [UInt8](repeating: 0, count: nodes.count)   // 0 new, 1 visiting, 2 placed
        func place(_ root: ValueID) {
            var stack: [(ValueID, Bool)] = [(root, false)]
            while let (value, expanded) = stack.popLast() {
                if expanded {
                    if state[value] != 2 { state[value] = 2; order.append(value) }
                    continue
                }
                guard state[value] == 0 else { continue }
                state[value] = 1
                stack.append((value, true))
                for operand in nodes[value].operands.reversed() where state[resolve(operand)] == 0 {
                    stack.append((resolve(operand), false))
                }
            }
        }
        for id in nodes.indices where keep[id] && nodes[id].op.declaredName != nil { place(id) }
        for id in nodes.indices where keep[id] { place(id) }
        var newID = [ValueID](repeating: -1, count: nodes.count)
        var rebuilt: [Node] = []
        for id in order {
            var node = nodes[id]
            node.operands = node.operands.map { newID[resolve($0)] }
            newID[id] = rebuilt.count
            rebuilt.append(node)
        }
        nodes = rebuilt
        outputs = outputs.map { newID[resolve($0)] }
        assigns = assigns.map { Assign(name: $0.name, value: newID[resolve($0.value)], location: $0.location) }
    }

    /// Whether each value is needed by an output or an assign. Declarations (inputs, params,
    /// state) always are: they are the graph's interface, used or not.
    public var liveness: [Bool] {
        var live = [Bool](repeating: false, count: nodes.count)
        var work = outputs + assigns.map(\.value)
        for id in nodes.indices where nodes[id].op.declaredName != nil { work.append(id) }
        while let value = work.popLast() {
            guard !live[value] else { continue }
            live[value] = true
            work.append(contentsOf: nodes[value].operands)
        }
        return live
    }
}
