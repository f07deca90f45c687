// Fusion: groups a step's values into kernels: loops of fused elementwise, layout and
// reduction ops, and the matrix products the BLAS computes.
//
// A value is *materialized* (written to a buffer) when something needs it as a whole: it is
// declared (input, param, state), returned or assigned, a reduction or contraction result, an
// operand of a contraction (the BLAS reads contiguous buffers), or an elementwise value read
// by several consumers whose recomputation would cost more than its buffer (see
// `isRecomputable`), or a window op's result (pooling: one loop kernel per op, since
// inlining it would redo a whole window per consumer). Every other value is *inlined*:
// computed inside the loop of the one kernel that reads it, at the index that kernel needs,
// so elementwise chains, broadcasts, reshapes, transposes, slices and pads cost no memory
// traffic (a broadcast or a transpose becomes index arithmetic). A reduction fuses its
// prologue the same way, and reductions that walk the same way share one loop (siblings).
// Layout ops with several consumers stay inlined when their operand is materialized: the
// index arithmetic is cheaper than a copy.

import GraftIR

/// One kernel of a fused step.
public struct FusedKernel: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A loop over the root's elements computing its inlined expression.
        case elementwise
        /// A loop over the root's elements, each reducing over `axes` of the root's operand.
        case reduction
        /// A call of its own: the BLAS (matmul), a convolution built on it, or `scatter_add`
        /// (printed `blas` by `describe`, whatever the call).
        case contraction
    }

    public var kind: Kind
    /// The value the kernel writes (the first, when it writes several).
    public var root: ValueID
    /// Values computed inside the kernel, in SSA order.
    public var body: [ValueID]
    /// Materialized values the kernel reads, in first-use order.
    public var inputs: [ValueID]
    /// Further reductions a reduction kernel computes in the same loop as its root's: over the
    /// same axes of operands of the same shape, each into its own buffer
    /// (`FusionPlan.mergingSiblingReductions`).
    public var siblings: [ValueID] = []

    /// The values the kernel writes: the root, then its siblings.
    public var outputs: [ValueID] { [root] + siblings }
}

/// A step split into kernels, in an order where every kernel follows the kernels it reads.
public struct FusionPlan: Sendable {
    public var graph: Graph
    public var kernels: [FusedKernel]
    /// Values with their own buffer (declarations included).
    public var materialized: [Bool]

    /// Groups `graph`'s values into kernels.
    public init(_ graph: Graph) {
        self.graph = graph
        let users = FusionPlan.users(graph)
        var materialized = [Bool](repeating: false, count: graph.nodes.count)
        for output in graph.outputs { materialized[output] = true }
        for assign in graph.assigns { materialized[assign.value] = true }
        for (id, node) in graph.nodes.enumerated() {
            switch FusionPlan.category(node.op) {
            case .declaration, .reduction, .contraction, .window:
                materialized[id] = true
                if FusionPlan.category(node.op) == .contraction {
                    for operand in node.operands { materialized[operand] = true }
                }
            case .elementwise:
                if users[id].count > 1 && !FusionPlan.isRecomputable(id, in: graph, materialized: materialized) {
                    materialized[id] = true
                }
            case .layout, .leaf:
                break
            }
        }
        // A layout op read by several consumers stays inlined only when it is a view of
        // materialized values or leaves; otherwise its operand's whole expression would be
        // recomputed per consumer.
        // A chain of layout ops over materialized values or leaves is pure index arithmetic.
        var isCheapView = [Bool](repeating: false, count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() where FusionPlan.category(node.op) == .layout {
            let cheap = node.operands.allSatisfy {
                materialized[$0] || FusionPlan.category(graph[$0].op) == .leaf || isCheapView[$0]
                    || (FusionPlan.category(graph[$0].op) == .elementwise && FusionPlan.isRecomputable($0, in: graph, materialized: materialized))
            }
            if cheap { isCheapView[id] = true } else if users[id].count > 1 { materialized[id] = true }
        }
        self.materialized = materialized

        var kernels: [FusedKernel] = []
        for (id, node) in graph.nodes.enumerated() where materialized[id] && node.op.declaredName == nil {
            var body: [ValueID] = []
            var inputs: [ValueID] = []
            var visited = Set<ValueID>()
            func visit(_ value: ValueID, isRoot: Bool) {
                guard visited.insert(value).inserted else { return }
                if !isRoot && materialized[value] {
                    inputs.append(value)
                    return
                }
                for operand in graph[value].operands { visit(operand, isRoot: false) }
                body.append(value)
            }
            visit(id, isRoot: true)
            let kind: FusedKernel.Kind = switch FusionPlan.category(node.op) {
            case .reduction: .reduction
            case .contraction: .contraction
            case .elementwise, .layout, .leaf, .declaration, .window: .elementwise
            }
            kernels.append(FusedKernel(kind: kind, root: id, body: body, inputs: inputs))
        }
        self.kernels = FusionPlan.startingCollectivesEarly(FusionPlan.mergingSiblingReductions(kernels, in: graph), in: graph)
    }

    /// `kernels` with every reduction that can join an earlier one computed in its loop: the
    /// same axes of an operand of the same shape and the same result type (so the same output
    /// elements and the same walk), every value it reads written before the earlier kernel
    /// runs. BatchNorm's backward sums Σ dy, Σ dy·(x − μ) and Σ (x − μ) then read dy and x
    /// once, not four times. Each reduction is computed exactly as it was alone, in the same
    /// order.
    static func mergingSiblingReductions(_ kernels: [FusedKernel], in graph: Graph) -> [FusedKernel] {
        var merged: [FusedKernel] = []
        var writtenBy: [ValueID: Int] = [:]   // value -> position in `merged` of the kernel that writes it
        for kernel in kernels {
            let node = graph[kernel.root]
            if kernel.kind == .reduction,
               let host = merged.indices.last(where: { position in
                   let other = graph[merged[position].root]
                   return merged[position].kind == .reduction && other.op.reducedAxes == node.op.reducedAxes
                       && other.type == node.type && graph[other.operands[0]].type.shape == graph[node.operands[0]].type.shape
               }),
               kernel.inputs.allSatisfy({ (writtenBy[$0] ?? -1) < host }) {
                merged[host].siblings.append(kernel.root)
                merged[host].body = Array(Set(merged[host].body + kernel.body)).sorted()
                merged[host].inputs += kernel.inputs.filter { !merged[host].inputs.contains($0) }
                writtenBy[kernel.root] = host
                continue
            }
            for output in kernel.outputs { writtenBy[output] = merged.count }
            merged.append(kernel)
        }
        return merged
    }

    /// Ops an inlined expression may hold and still be recomputed in every consumer.
    static let recomputationBudget = 8

    /// Whether the elementwise value `id`, read by several consumers, is cheaper recomputed in
    /// each than written once and read back: its inlined expression (through values not
    /// materialized so far; operands precede users, so they are decided) has at most
    /// `recomputationBudget` ops and reads at most one materialized value as large as half of
    /// it. Recomputing then reads one tensor where materializing writes one and reads it back
    /// per consumer: BatchNorm's centred, normalised and affine values are recomputed from the
    /// convolution's output instead of each taking a buffer.
    static func isRecomputable(_ id: ValueID, in graph: Graph, materialized: [Bool]) -> Bool {
        let size = graph[id].type.elementCount
        var ops = 0
        var largeReads = Set<ValueID>()
        var visited = Set<ValueID>()
        func walk(_ value: ValueID) -> Bool {
            guard visited.insert(value).inserted else { return true }
            if materialized[value] {
                if 2 * graph[value].type.elementCount >= size { largeReads.insert(value) }
                return largeReads.count <= 1
            }
            switch category(graph[value].op) {
            case .leaf: return true
            case .elementwise, .layout:
                if category(graph[value].op) == .elementwise { ops += 1 }
                guard ops <= recomputationBudget else { return false }
                return graph[value].operands.allSatisfy(walk)
            case .declaration, .reduction, .contraction, .window:
                return true   // always materialized; not reached
            }
        }
        return walk(id)
    }

    /// The op's group, as its definition gives it.
    static func category(_ op: Op) -> OpGroup { op.group }

    static func users(_ graph: Graph) -> [[ValueID]] {
        var users = [[ValueID]](repeating: [], count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() {
            for operand in Set(node.operands) { users[operand].append(id) }
        }
        return users
    }

    /// The plan as text: each kernel, what it reads and writes, and the ops inside it
    /// (`graft dump --stage fused`).
    public func describe(printLocations: Bool = false) -> String {
        let names = Printer.valueNames(graph)
        let printer = Printer(printLocations: printLocations)
        var lines = ["fusion @\(graph.name): \(kernels.count) kernels (\(kernels.filter { $0.kind == .contraction }.count) BLAS contractions, \(kernels.filter { $0.kind == .reduction }.count) reductions, \(kernels.filter { $0.kind == .elementwise }.count) elementwise loops)"]
        for (index, kernel) in kernels.enumerated() {
            let kind: String
            switch kernel.kind {
            case .elementwise: kind = "loop"
            case .reduction: kind = "reduce"
            case .contraction: kind = "blas"
            }
            let reads = kernel.inputs.map { names[$0] }.joined(separator: ", ")
            lines.append("kernel #\(index) \(kind) -> \(kernel.outputs.map { names[$0] }.joined(separator: ", ")) : \(graph[kernel.root].type)  reads (\(reads))")
            for value in kernel.body {
                lines.append("  " + printer.statement(graph, value, names: names))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
