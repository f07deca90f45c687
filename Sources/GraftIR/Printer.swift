// Printer: the IR text form (see Docs/IR.md); `Parser` reads it back to the same graph.

/// Prints a graph in the IR text form.
///
/// Inputs appear in the signature, params and state as declarations with their attributes
/// (`VariableInfo`: initializer, role, target, gradient output), then every computed value
/// as `%N = op(operands) {attributes} : type`, numbered in order, then the assigns and
/// the return. Printing a parsed graph gives the text back unchanged.
public struct Printer {
    /// Append `loc("file":line)` to each statement that has a location.
    public var printLocations: Bool

    public init(printLocations: Bool = false) {
        self.printLocations = printLocations
    }

    /// The names values print as: `%name` for inputs, `@name` for params/state, `%N` otherwise.
    public static func valueNames(_ graph: Graph) -> [String] {
        var counter = 0
        return graph.nodes.map { node in
            if let name = node.op.declaredName { return (node.op.kind == .input ? "%" : "@") + name }
            defer { counter += 1 }
            return "%\(counter)"
        }
    }

    public func print(_ graph: Graph) -> String {
        let names = Printer.valueNames(graph)
        let arguments = graph.inputs.map { "\(names[$0]): \(graph.nodes[$0].type)" }.joined(separator: ", ")
        let results = graph.outputTypes.map(\.description).joined(separator: ", ")
        var lines = ["graph @\(graph.name)(\(arguments)) -> (\(results)) {"]
        for id in graph.params + graph.states {
            let node = graph.nodes[id]
            let attributes = node.op.declaredName.flatMap { graph.variables[$0] }?.attributes ?? []
            lines.append("  \(node.op.name) \(names[id]) : \(node.type)" + Printer.braced(attributes) + suffix(node.location))
        }
        for (id, node) in graph.nodes.enumerated() where node.op.declaredName == nil {
            lines.append("  " + statement(graph, id, names: names))
        }
        for assign in graph.assigns {
            lines.append("  assign @\(assign.name), \(names[assign.value])" + suffix(assign.location))
        }
        if graph.outputs.isEmpty {
            lines.append("  return")
        } else {
            let values = graph.outputs.map { names[$0] }.joined(separator: ", ")
            lines.append("  return \(values) : \(results)")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One computed value as a statement: `%N = op(operands) {attributes} : type`.
    public func statement(_ graph: Graph, _ id: ValueID, names: [String]) -> String {
        let node = graph[id]
        var line = "\(names[id]) = \(node.op.name)(\(node.operands.map { names[$0] }.joined(separator: ", ")))"
        line += Printer.braced(node.op.attributes)
        return line + " : \(node.type)" + suffix(node.location)
    }

    /// ` {name = value, ...}`, or nothing when there are no attributes.
    static func braced(_ attributes: [(name: String, value: Attribute)]) -> String {
        attributes.isEmpty ? "" : " {" + attributes.map { "\($0.name) = \($0.value)" }.joined(separator: ", ") + "}"
    }

    private func suffix(_ location: SourceLocation?) -> String {
        guard printLocations, let location else { return "" }
        let column = location.column.map { ":\($0)" } ?? ""
        return "  loc(\"\(location.file)\":\(location.line)\(column))"
    }
}
