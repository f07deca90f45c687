// DotPrinter: the graph as Graphviz DOT, for `graft dump --format dot`.

/// Renders a graph as a Graphviz digraph: one box per op, ellipses for inputs, params and
/// state, an edge per operand labelled with its type, and dashed edges for assigns.
///
/// A graph of more than `largeGraph` nodes (a whole training step: thousands of ops whose
/// activations are read again hundreds of ranks later by the backward pass) is laid out with
/// `largeGraphLayout`: straight edges without labels (the types are in the boxes) and the
/// x-coordinate optimisation capped. Graphviz spends nearly all of its time there otherwise,
/// on the ~300,000 virtual nodes of the long edges: byol-t's optimized step took more than
/// 2 minutes to lay out with labelled splines and 54 s with straight edges; capped, 3 s.
public struct DotPrinter {
    /// Graphs with more nodes than this get `largeGraphLayout`.
    public static let largeGraph = 400
    /// Graph attributes that bound the layout time of a large graph.
    public static let largeGraphLayout = "splines=false; nslimit=0.0001; nslimit1=2; mclimit=0.05; remincross=false;"

    public init() {}

    public func print(_ graph: Graph) -> String {
        let names = Printer.valueNames(graph)
        var lines = [
            "digraph \(DotPrinter.quote(graph.name)) {",
            "  rankdir=TB;",
            "  node [fontname=\"Helvetica\", fontsize=10];",
            "  edge [fontname=\"Helvetica\", fontsize=8];",
        ]
        let large = graph.nodes.count > DotPrinter.largeGraph
        if large { lines.append("  graph [\(DotPrinter.largeGraphLayout)];") }
        let fill: [OpKind: String] = [.input: "#d8e8ff", .param: "#ffe8c0", .state: "#e0e0e0"]
        for (id, node) in graph.nodes.enumerated() {
            let label: String
            let style: String
            if let color = fill[node.op.kind] {
                (label, style) = ("\(names[id])\n\(node.type)", "shape=ellipse, style=filled, fillcolor=\"\(color)\"")
            } else {
                let attributes = node.op.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                let detail = attributes.isEmpty ? "" : "\n" + attributes
                (label, style) = ("\(names[id]) = \(node.op.name)\(detail)\n\(node.type)", "shape=box")
            }
            lines.append("  n\(id) [label=\(DotPrinter.quote(label)), \(style)];")
        }
        for (id, node) in graph.nodes.enumerated() {
            for operand in node.operands {
                lines.append(large ? "  n\(operand) -> n\(id);" : "  n\(operand) -> n\(id) [label=\(DotPrinter.quote(graph[operand].type.description))];")
            }
        }
        for (index, output) in graph.outputs.enumerated() {
            lines.append("  out\(index) [label=\(DotPrinter.quote("return #\(index)")), shape=doublecircle];")
            lines.append("  n\(output) -> out\(index);")
        }
        for assign in graph.assigns {
            if let target = graph.declaration(named: assign.name) {
                lines.append("  n\(assign.value) -> n\(target) [style=dashed, color=\"#b04000\", label=\"assign\", constraint=false];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A DOT string literal; "\n" centres a line break, U+0001 ends a left-justified line.
    public static func quote(_ text: String) -> String {
        var escaped = "\""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\u{1}": escaped += "\\l"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }
}
