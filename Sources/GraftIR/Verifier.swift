// Verifier: checks a whole graph's invariants; every pass and every test runs it.

/// Checks that a graph is well formed: SSA order, every node's type against its op's rule,
/// unique declarations, every param and state described in `variables` (targets naming
/// their online counterpart, gradients naming an output of their param's type), and assigns
/// that write declared params/state with matching types.
public enum Verifier {
    /// Throws the first violation, located at the offending node's source location.
    public static func verify(_ graph: Graph) throws {
        var declared: [String: ValueID] = [:]
        for (id, node) in graph.nodes.enumerated() {
            try verify(node: node, id: id, in: graph)
            if let name = node.op.declaredName {
                if declared[name] != nil {
                    throw Diagnostic("duplicate declaration of '\(name)'", at: node.location)
                }
                declared[name] = id
            }
        }
        for output in graph.outputs where !graph.nodes.indices.contains(output) {
            throw Diagnostic("return: value \(output) is not defined in the graph")
        }
        try verifyVariables(graph, declared: declared)
        var assigned: Set<String> = []
        for assign in graph.assigns {
            try verify(assign: assign, in: graph, declared: declared)
            guard assigned.insert(assign.name).inserted else {
                throw Diagnostic("assign: '\(assign.name)' is assigned more than once; a step writes each param or state once", at: assign.location)
            }
        }
    }

    /// Checks `graph.variables` against the declarations and outputs.
    public static func verifyVariables(_ graph: Graph, declared: [String: ValueID]) throws {
        var gradientOwners: [Int: String] = [:]
        for id in graph.params + graph.states {
            let node = graph.nodes[id]
            guard let name = node.op.declaredName, let info = graph.variables[name] else {
                throw Diagnostic("\(node.op.name) @\(node.op.declaredName ?? "?"): no initializer and role; every param and state declares them", at: node.location)
            }
            if let online = info.targetOf {
                guard case .state = node.op else {
                    throw Diagnostic("param @\(name): target_of is only for state", at: node.location)
                }
                guard let other = declared[online], graph.nodes[other].op != .input(online) else {
                    throw Diagnostic("state @\(name): target_of names @\(online), which is not a declared param or state", at: node.location)
                }
                guard graph.nodes[other].type == node.type, graph.variables[online]?.targetOf == nil else {
                    throw Diagnostic("state @\(name): target_of names @\(online), which is of another type or a target itself", at: node.location)
                }
            }
            if let output = info.gradient {
                guard case .param = node.op else {
                    throw Diagnostic("state @\(name): only params have gradients", at: node.location)
                }
                guard output >= 1, output < graph.outputs.count, graph.nodes[graph.outputs[output]].type == node.type else {
                    throw Diagnostic("param @\(name): gradient = \(output) is not an output (other than the loss) of type \(node.type)", at: node.location)
                }
                if let owner = gradientOwners.updateValue(name, forKey: output) {
                    throw Diagnostic("param @\(name): output \(output) is already the gradient of @\(owner)", at: node.location)
                }
            }
        }
        for name in graph.variables.keys.sorted() {
            guard let id = declared[name], graph.nodes[id].op != .input(name) else {
                throw Diagnostic("variables: '\(name)' is described but not declared as a param or state")
            }
        }
    }

    /// Checks one node against the nodes before it.
    public static func verify(node: Node, id: ValueID, in graph: Graph) throws {
        for operand in node.operands where !(0..<id).contains(operand) {
            throw Diagnostic("\(node.op.name): operand \(operand) is not defined before its use", at: node.location)
        }
        let operandTypes = node.operands.map { graph.nodes[$0].type }
        let inferred: TensorType
        do {
            inferred = try TypeInference.resultType(of: node.op, operands: operandTypes, declared: node.type)
        } catch let error as TypeError {
            throw Diagnostic(error.message, at: node.location)
        }
        guard inferred == node.type else {
            throw Diagnostic("\(node.op.name): result type is \(inferred), but the node says \(node.type)", at: node.location)
        }
    }

    /// Checks that an assign writes a declared param or state with a value of its type.
    public static func verify(assign: Assign, in graph: Graph, declared: [String: ValueID]) throws {
        guard let target = declared[assign.name] else {
            throw Diagnostic("assign: '@\(assign.name)' is not a declared param or state", at: assign.location)
        }
        guard graph.nodes[target].op.isVariable else {
            throw Diagnostic("assign: '\(assign.name)' is a graph input; only params and state can be assigned", at: assign.location)
        }
        guard graph.nodes.indices.contains(assign.value) else {
            throw Diagnostic("assign: value \(assign.value) is not defined in the graph", at: assign.location)
        }
        let (valueType, targetType) = (graph.nodes[assign.value].type, graph.nodes[target].type)
        guard valueType == targetType else {
            throw Diagnostic("assign: '@\(assign.name)' has type \(targetType) but the value has type \(valueType)", at: assign.location)
        }
    }
}
