// Verifier: checks a whole graph's invariants; every pass and every test runs it.

/// Checks that a graph is well formed: SSA order, every node's type against its op's rule,
/// unique declarations, and assigns that write declared params/state with matching types.
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
        var assigned: Set<String> = []
        for assign in graph.assigns {
            try verify(assign: assign, in: graph, declared: declared)
            guard assigned.insert(assign.name).inserted else {
                throw Diagnostic("assign: '\(assign.name)' is assigned more than once; a step writes each param or state once", at: assign.location)
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
