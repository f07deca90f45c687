// FusionPlan+Dot: the fused plan as Graphviz DOT, for `graft dump --stage fused --format dot`.
//
// One node per kernel, one edge per buffer a kernel reads. What makes `dot` slow on a step
// graph is its long edges (a param read by the forward and the backward kernels, an
// activation kept for the backward pass: each edge becomes a chain of virtual nodes, one per
// rank it crosses) and the crossing minimisation over them. So a declaration is drawn next to
// each kernel that reads it (one small node per use), kernels are single nodes rather than
// clusters, a buffer read far from where it is written is a reference node beside its reader
// rather than an edge, and the crossing minimisation is capped (`mclimit`, `nslimit`,
// `searchsize`). byol-t's plan as clusters did not render (`trouble in init_rank`); as it is
// now, byol-t and byol-s render in a few seconds.

import GraftIR

extension FusionPlan {
    /// Ops listed in a kernel's label before the rest are counted (`… 12 more`).
    public static let dotOpsShown = 6

    /// How many kernels back an edge may reach; a buffer written further back (an activation
    /// the backward pass reads) is a dashed reference `%N from #K` beside its reader, since
    /// long edges are what `dot` spends its time on (byol-s: 35 s with them, 2 s without).
    public static let dotEdgeReach = 8

    /// The plan as Graphviz DOT: each kernel one box labelled with its number, kind and the
    /// type it writes, then its ops in order (the first `dotOpsShown` and a count of the rest,
    /// or with `detailed` every op as `%name = op : type`); an edge runs from each kernel to
    /// every kernel up to `dotEdgeReach` later that reads its buffer (readers further on get a
    /// dashed reference node naming the buffer and its kernel), and each input, param or state
    /// a kernel reads is an ellipse of its own beside that kernel. Kernels that write an output or an assigned value
    /// have a double border.
    public func dot(detailed: Bool = false) -> String {
        let names = Printer.valueNames(graph)
        var lines = [
            "digraph \(DotPrinter.quote(graph.name + "_fused")) {",
            "  \(FusionPlan.dotLayout)",
            "  node [fontname=\"Helvetica\", fontsize=10, shape=box];",
        ]
        var source: [ValueID: Int] = [:]   // the kernel that writes each materialized value
        let outputs = Set(graph.outputs + graph.assigns.map(\.value))
        var edges: [String] = []
        for (index, kernel) in kernels.enumerated() {
            for output in kernel.outputs { source[output] = index }
            let kind = kernel.kind == .contraction ? "blas" : kernel.kind == .reduction ? "reduce" : "loop"
            var label = ["#\(index) \(kind) -> \(kernel.outputs.map { names[$0] }.joined(separator: ", ")) : \(graph[kernel.root].type)"]
            if detailed {
                label += kernel.body.map { "\(names[$0]) = \(graph[$0].op.name) : \(graph[$0].type)" }
            } else {
                let ops = kernel.body.prefix(FusionPlan.dotOpsShown).map { graph[$0].op.name }
                let rest = kernel.body.count - ops.count
                label.append(ops.joined(separator: ", ") + (rest > 0 ? ", … \(rest) more" : ""))
            }
            let style = kernel.outputs.contains(where: outputs.contains) ? ", peripheries=2" : ""
            // `\l` ends a left-justified line.
            lines.append("  k\(index) [label=\(DotPrinter.quote(label.joined(separator: "\u{1}") + "\u{1}"))\(style)];")
            for input in kernel.inputs {
                if let writer = source[input], index - writer <= FusionPlan.dotEdgeReach {
                    edges.append("  k\(writer) -> k\(index);")
                } else if let writer = source[input] {   // far back: a reference beside this kernel
                    lines.append("  r\(input)_k\(index) [label=\(DotPrinter.quote("\(names[input]) from #\(writer)")), shape=plaintext];")
                    edges.append("  r\(input)_k\(index) -> k\(index) [style=dashed];")
                } else {   // a declaration: its own node beside this kernel
                    lines.append("  n\(input)_k\(index) [label=\(DotPrinter.quote(names[input] + "\n" + graph[input].type.description)), shape=ellipse];")
                    edges.append("  n\(input)_k\(index) -> k\(index);")
                }
            }
        }
        lines += edges
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Graph attributes that bound `dot`'s crossing minimisation and network simplex, so a
    /// step's thousands of long edges lay out in seconds (uncapped: minutes, or never).
    public static let dotLayout = "mclimit=0.1; nslimit=2; nslimit1=2; searchsize=10; remincross=false;"
}
