// LoopEmitter: lowers one fused loop kernel (elementwise or reduction) to LLVM IR text.
//
// The kernel is a function `void @name(float** %args, i64 %begin, i64 %end)`: `args[0]` is the
// buffer it writes (`args[0..<k]` for a reduction kernel with k outputs, `FusedKernel.outputs`),
// then the buffers it reads (in `FusedKernel.inputs` order), and
// [begin, end) the range of output elements to compute, so the runtime can split a kernel
// across threads. Every buffer holds 4-byte floats whatever the dtype (bool as 0/1, i32 as
// integral floats, as in the reference interpreter); in registers a bool is an `i1`.
//
// An elementwise kernel that broadcasts or rearranges walks its range row by row: an outer
// index over the leading dimensions and an inner loop over the trailing ones (at least 32
// elements), so per-channel values (BatchNorm's scale, an rsqrt of a variance) depend only on
// the outer index and LLVM hoists them out of the vectorized inner loop.
//
// Each value of the kernel's body is computed at the index its consumer needs: an
// elementwise op at the same index as its consumer, a broadcast or transpose at a mapped
// index, a reshape at the same linear index. Indices stay linear (one i64) while they can and
// become per-dimension (udiv/urem by constants) only where a layout op needs the dimensions.
// Float additions carry `reassoc nsz` so the vectorizer can turn reductions into SIMD code.

import GraftIR
import GraftPasses

/// Emits the LLVM IR of a loop kernel.
struct LoopEmitter {
    let graph: Graph
    let kernel: FusedKernel

    private var lines: [String] = []
    private var counter = 0
    private var argument: [ValueID: String] = [:]       // materialized input -> pointer SSA name
    private var memo: [String: String] = [:]            // "value@index" -> SSA name
    var declarations: Set<String> = []
    /// Reduction loops that cover several adjacent axes: their per-axis indices and the loop
    /// variable that linearizes back to them.
    private var merged: [(names: [String], extents: [Int], loop: String)] = []
    /// Elements per row when an elementwise kernel walks rows (`%outer`, `%j`), else nil.
    private var rowExtent: Int?

    init(graph: Graph, kernel: FusedKernel) {
        self.graph = graph
        self.kernel = kernel
    }

    /// An index into a tensor of some shape: one linear i64, or one i64 per dimension.
    enum Index {
        case linear(String)
        case multi([String])

        var key: String {
            switch self {
            case .linear(let name): "L" + name
            case .multi(let names): "M" + names.joined(separator: ",")
            }
        }
    }

    private mutating func fresh(_ prefix: String = "v") -> String {
        counter += 1
        return "%\(prefix)\(counter)"
    }

    private mutating func emit(_ line: String) { lines.append("  " + line) }

    mutating func assign(_ rhs: String, _ prefix: String = "v") -> String {
        let name = fresh(prefix)
        emit("\(name) = \(rhs)")
        return name
    }

    /// The kernel's function text.
    mutating func emitFunction(named name: String) -> String {
        lines = []
        var header = ["define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {", "entry:"]
        var outputs = [assign("load float*, float** %args, align 8", "out")]
        for position in kernel.siblings.indices {
            let slot = assign("getelementptr inbounds float*, float** %args, i64 \(position + 1)", "slot")
            outputs.append(assign("load float*, float** \(slot), align 8", "out"))
        }
        let output = outputs[0]
        for (position, input) in kernel.inputs.enumerated() {
            let slot = assign("getelementptr inbounds float*, float** %args, i64 \(position + outputs.count)", "slot")
            argument[input] = assign("load float*, float** \(slot), align 8", "in")
        }
        let rootType = graph[kernel.root].type
        if kernel.kind == .reduction {
            for position in outputs.indices { emit("%acc\(position) = alloca double, align 8") }
        }
        rowExtent = kernel.kind == .elementwise ? LoopEmitter.rowExtent(of: kernel, in: graph) : nil
        let streams = kernel.kind == .reduction && LoopEmitter.streams(kernel, in: graph)
        let pieces = kernel.kind == .elementwise ? LoopEmitter.concatenatedRanges(of: kernel, in: graph) : nil
        if pieces != nil { rowExtent = nil }
        emit("%empty = icmp sge i64 %begin, %end")
        emit("br i1 %empty, label %exit, label %\(pieces != nil ? "piece0" : streams ? "start" : rowExtent == nil ? "loop" : "row")")
        header += lines
        lines = []
        if let pieces { return emitPieces(header: header, output: output, ranges: pieces) }
        if let rowExtent { return emitRows(header: header, output: output, extent: rowExtent) }
        if streams { return emitStreamingReduction(header: header, outputs: outputs) }

        // The output loop: one iteration per output element.
        var body = ["loop:", "  %i = phi i64 [ %begin, %entry ], [ %i.next, %latch ]"]
        switch kernel.kind {
        case .reduction:
            let values = emitReduction(outputIndex: "%i")
            lines.append("latch:")
            for (value, pointer) in zip(values, outputs) { store(value, type: rootType, at: "%i", into: pointer) }
        case .elementwise, .contraction:
            let value = value(of: kernel.root, at: .linear("%i"))
            store(value, type: rootType, at: "%i", into: output)
        }
        body += lines
        body += [
            "  %i.next = add nuw nsw i64 %i, 1",
            "  %done = icmp eq i64 %i.next, %end",
            "  br i1 %done, label %exit, label %loop",
            "exit:",
            "  ret void",
            "}",
        ]
        // An elementwise kernel has no inner blocks: its latch is the loop block itself.
        let text = (header + body).joined(separator: "\n")
        return kernel.kind == .reduction ? text : text.replacingOccurrences(of: "[ %i.next, %latch ]", with: "[ %i.next, %loop ]")
    }

    /// The row length of an elementwise kernel worth walking by rows: one whose body needs
    /// per-dimension indices (a broadcast, transpose, slice, pad, concat or iota), split after
    /// the leading dimensions where the trailing ones hold at least 32 elements (BatchNorm's
    /// H·W of an [N, C, H, W] tensor; a whole row of a matrix).
    static func rowExtent(of kernel: FusedKernel, in graph: Graph) -> Int? {
        let needsDimensions = kernel.body.contains { id in
            if case .indexed(needsDimensions: true, _) = Lowering.lowering(for: graph[id].op.kind) { return true }
            return false
        }
        let shape = graph[kernel.root].type.shape
        guard needsDimensions, shape.count >= 2 else { return nil }
        var extent = 1
        for axis in shape.indices.reversed().dropLast() {
            extent *= shape[axis]
            if extent >= 32 { return extent }
        }
        return nil
    }

    /// The function's output loop as rows of `extent` elements: `%outer` the row, `%j` the
    /// position in it, `%i` the element; [begin, end) may start and end inside rows.
    private mutating func emitRows(header: [String], output: String, extent: Int) -> String {
        let value = value(of: kernel.root, at: .linear("%i"))
        store(value, type: graph[kernel.root].type, at: "%i", into: output)
        let body = [
            "row:",
            "  %i0 = phi i64 [ %begin, %entry ], [ %i.rownext, %rowlatch ]",
            "  %outer = udiv i64 %i0, \(extent)",
            "  %j0 = urem i64 %i0, \(extent)",
            "  %rowbase = sub i64 %i0, %j0",
            "  %left = sub i64 %end, %rowbase",
            "  %rowfits = icmp ult i64 %left, \(extent)",
            "  %jend = select i1 %rowfits, i64 %left, i64 \(extent)",
            "  br label %loop",
            "loop:",
            "  %j = phi i64 [ %j0, %row ], [ %j.next, %loop ]",
            "  %i = add nuw nsw i64 %rowbase, %j",
        ] + lines + [
            "  %j.next = add nuw nsw i64 %j, 1",
            "  %rowdone = icmp eq i64 %j.next, %jend",
            "  br i1 %rowdone, label %rowlatch, label %loop",
            "rowlatch:",
            "  %i.rownext = add nuw nsw i64 %rowbase, %jend",
            "  %done = icmp eq i64 %i.rownext, %end",
            "  br i1 %done, label %exit, label %row",
            "exit:",
            "  ret void",
            "}",
        ]
        return (header + body).joined(separator: "\n")
    }

    /// The output ranges of a kernel whose root is a `concat` that lays its operands one after
    /// another in memory (along the leading axis, or one after leading axes of size 1), as
    /// (start, count) per operand; nil for any other kernel. Such a kernel is written as one
    /// loop per operand, so no element tests which operand it comes from (a gradient bucket
    /// concatenates dozens of tensors).
    static func concatenatedRanges(of kernel: FusedKernel, in graph: Graph) -> [(start: Int, count: Int)]? {
        let root = graph[kernel.root]
        guard case .concat(let axis) = root.op, root.type.shape[..<axis].allSatisfy({ $0 == 1 }) else { return nil }
        var ranges: [(start: Int, count: Int)] = [], start = 0
        for operand in root.operands {
            let count = graph[operand].type.elementCount
            ranges.append((start, count))
            start += count
        }
        return ranges
    }

    /// The output loop as one loop per operand of the root `concat` (`concatenatedRanges`),
    /// each over its part of [begin, end): operand p's element i − start(p) goes to i.
    private mutating func emitPieces(header: [String], output: String, ranges: [(start: Int, count: Int)]) -> String {
        let root = graph[kernel.root]
        var body: [String] = []
        for (position, range) in ranges.enumerated() {
            let (piece, next) = ("piece\(position)", position + 1 == ranges.count ? "exit" : "piece\(position + 1)")
            let end = range.start + range.count
            lines = []
            memo = [:]   // values of the previous piece's loop do not dominate this one
            let local = assign("sub nsw i64 %i\(position), \(range.start)")
            let value = operand(position, of: root, at: .linear(local))
            store(value, type: root.type, at: "%i\(position)", into: output)
            body += [
                "\(piece):",
                "  %lo\(position).above = icmp sgt i64 %begin, \(range.start)",
                "  %lo\(position) = select i1 %lo\(position).above, i64 %begin, i64 \(range.start)",
                "  %hi\(position).below = icmp slt i64 %end, \(end)",
                "  %hi\(position) = select i1 %hi\(position).below, i64 %end, i64 \(end)",
                "  %skip\(position) = icmp sge i64 %lo\(position), %hi\(position)",
                "  br i1 %skip\(position), label %\(next), label %loop\(position)",
                "loop\(position):",
                "  %i\(position) = phi i64 [ %lo\(position), %\(piece) ], [ %i\(position).next, %loop\(position) ]",
            ] + lines + [
                "  %i\(position).next = add nuw nsw i64 %i\(position), 1",
                "  %done\(position) = icmp eq i64 %i\(position).next, %hi\(position)",
                "  br i1 %done\(position), label %\(next), label %loop\(position)",
            ]
        }
        body += ["exit:", "  ret void", "}"]
        return (header + body).joined(separator: "\n")
    }

    private mutating func store(_ value: String, type: TensorType, at index: String, into pointer: String) {
        let stored = type.dtype == .bool ? assign("uitofp i1 \(value) to float") : value
        let address = assign("getelementptr inbounds float, float* \(pointer), i64 \(index)", "p")
        emit("store float \(stored), float* \(address), align 4, \(LoopEmitter.outputAccess)")
    }

    // MARK: Aliasing

    /// A kernel's output never shares memory with its inputs (MemoryPlan: an output's block is
    /// chosen while the inputs are live; params and state have storage of their own and are
    /// assigned after the step), but the pointers come from a table, so LLVM cannot know it:
    /// without this, a store to the output may change any input, per-channel values are
    /// reloaded at every element, and a loop reading many tensors is not vectorized (its
    /// runtime overlap checks exceed LLVM's limit). Each load of an input is in the scope
    /// "inputs" and each store to the output in the scope "output", declared once per module
    /// (`aliasMetadata`), and neither aliases the other.
    static let aliasMetadata = """
        !0 = distinct !{!0, !"graft kernel buffers"}
        !1 = distinct !{!1, !0, !"output"}
        !2 = distinct !{!2, !0, !"inputs"}
        !3 = !{!1}
        !4 = !{!2}
        """
    static let inputAccess = "!alias.scope !4, !noalias !3"
    static let outputAccess = "!alias.scope !3, !noalias !4"

    // MARK: Reductions

    /// Emits nested loops over the reduced axes of the outputs' operands, accumulating into
    /// allocas (promoted to registers by the optimiser); returns each output's result in the
    /// block that follows the loops.
    ///
    /// The accumulator is an f64: each f32 term is widened and added (`reassoc`, so the inner
    /// loop still vectorizes, as `<8 x double>`), the total rounded to f32 once. One f32
    /// accumulator per output lost up to 5e-3 (relative) of byol-t's gradients at batch 128,
    /// where BatchNorm sums 100,352 terms per channel that largely cancel; f32 partial sums
    /// per block of ≤ 1024 terms added into an f64 total were measured and were not enough
    /// on such sums (`GradientAccuracyTests`).
    private mutating func emitReduction(outputIndex: String) -> [String] {
        let root = graph[kernel.root]
        let operandShape = graph[root.operands[0]].type.shape
        guard let axes = root.op.reducedAxes else { fatalError("emitReduction: \(root.op.name) is not a reduction") }
        let keptAxes = operandShape.indices.filter { !axes.contains($0) }
        let keptIndices = delinearize(outputIndex, shape: keptAxes.map { operandShape[$0] })
        // The accumulators live in the entry block's allocas; reset them for this output element.
        let accumulators = kernel.outputs.indices.map { "%acc\($0)" }
        for (output, accumulator) in zip(kernel.outputs, accumulators) {
            emit("store double \(LoopEmitter.reduction(graph[output]).initial), double* \(accumulator), align 8")
        }
        var full = [String](repeating: "0", count: operandShape.count)
        for (position, axis) in keptAxes.enumerated() { full[axis] = keptIndices[position] }

        // One loop per run of adjacent reduced axes (BatchNorm's H and W become one loop of
        // H·W contiguous elements, which vectorizes well).
        emitAccumulation(over: LoopEmitter.runs(axes), full: &full, into: accumulators, enteredFrom: "loop", exit: "reduced")
        lines.append("reduced:")
        let results = zip(kernel.outputs, accumulators).map { output, accumulator in
            finish(graph[output], assign("load double, double* \(accumulator), align 8"))
        }
        emit("br label %latch")
        // Invalidate values computed inside the reduction loops: they do not dominate the latch.
        memo = [:]
        return results
    }

    /// How `node`, a reduction, starts, combines and ends.
    private static func reduction(_ node: Node) -> ReductionLowering {
        guard case .reduction(let reduction) = Lowering.lowering(for: node.op.kind) else {
            fatalError("\(node.op.name) is not a reduction")
        }
        return reduction
    }

    /// The f32 result of reduction `node` from its f64 accumulator `total`: divided by the
    /// count for a mean.
    private mutating func finish(_ node: Node, _ total: String) -> String {
        var result = total
        if LoopEmitter.reduction(node).divides {
            let operandShape = graph[node.operands[0]].type.shape
            let count = Double(Swift.max(node.op.reducedAxes!.map { operandShape[$0] }.reduce(1, *), 1))
            result = assign("fdiv double \(result), \(LoopEmitter.literal(count))")
        }
        return assign("fptrunc double \(result) to float")
    }

    /// The runs of adjacent axes in `axes` (sorted): [0, 2, 3] gives [[0], [2, 3]].
    static func runs(_ axes: [Int]) -> [[Int]] {
        var runs: [[Int]] = []
        for axis in axes {
            if let last = runs.last?.last, last + 1 == axis { runs[runs.count - 1].append(axis) } else { runs.append([axis]) }
        }
        return runs
    }

    /// Emits one loop per run of reduced axes (their indices written into `full`) around the
    /// combination of each output's operand at `full` into its double of `accumulators`;
    /// entered from block `enteredFrom`, leaving to block `exit`.
    private mutating func emitAccumulation(over runs: [[Int]], full: inout [String], into accumulators: [String],
                                           enteredFrom: String, exit: String) {
        let operandShape = graph[graph[kernel.root].operands[0]].type.shape
        var loopNames: [String] = []
        var loopExtents: [Int] = []
        for run in runs {
            let label = "r\(run[0])"
            loopNames.append(label)
            loopExtents.append(run.map { operandShape[$0] }.reduce(1, *))
            emit("br label %\(label).head")
            lines.append("\(label).head:")
            // The phi's back edge comes from this loop's latch, emitted after the inner loops.
            let previous = loopNames.count >= 2 ? "\(loopNames[loopNames.count - 2]).head" : enteredFrom
            emit("%\(label).j = phi i64 [ 0, %\(previous) ], [ %\(label).next, %\(label).latch ]")
            let indices = run.count == 1 ? ["%\(label).j"] : delinearize("%\(label).j", shape: run.map { operandShape[$0] })
            for (axis, index) in zip(run, indices) { full[axis] = index }
            if run.count > 1 { merged.append((names: indices, extents: run.map { operandShape[$0] }, loop: "%\(label).j")) }
        }
        for (output, accumulator) in zip(kernel.outputs, accumulators) {
            let element = assign("fpext float \(value(of: graph[output].operands[0], at: .multi(full))) to double")
            let accumulated = assign("load double, double* \(accumulator), align 8")
            let combined = LoopEmitter.reduction(graph[output]).combine(&self, accumulated, element)
            emit("store double \(combined), double* \(accumulator), align 8")
        }
        // Latches from the innermost loop out; each exits into the enclosing loop's latch.
        if runs.isEmpty { emit("br label %\(exit)") }
        for position in loopNames.indices.reversed() {
            let label = loopNames[position]
            if position == loopNames.count - 1 { emit("br label %\(label).latch") }
            lines.append("\(label).latch:")
            emit("%\(label).next = add nuw nsw i64 %\(label).j, 1")
            emit("%\(label).done = icmp eq i64 %\(label).next, \(loopExtents[position])")
            let next = position == 0 ? exit : "\(loopNames[position - 1]).latch"
            emit("br i1 %\(label).done, label %\(next), label %\(label).head")
        }
    }

    /// Whether a reduction kernel walks its operand in memory order: when the reduced axes
    /// start with the leading one and some axis after that is kept (BatchNorm's statistics
    /// over N, H and W of [N, C, H, W]; a batch reduction of [N, F]), one output element at a
    /// time would read a short run at every step of the leading axis (H·W floats of each
    /// image, or one float of each row), and the hardware prefetcher restarts at each.
    static func streams(_ kernel: FusedKernel, in graph: Graph) -> Bool {
        let root = graph[kernel.root]
        guard let axes = root.op.reducedAxes, axes.first == 0 else { return false }
        let rank = graph[root.operands[0]].type.shape.count
        let leading = runs(axes)[0]
        return leading.count < rank && root.type.elementCount * kernel.outputs.count <= streamingOutputLimit
            && (leading.last! + 1..<rank).contains { !axes.contains($0) }
    }

    /// The most accumulators a streaming reduction keeps (one per output element of each of
    /// its outputs, on the stack of the worker running it, 8 bytes each).
    static let streamingOutputLimit = 4096

    /// A reduction in memory order: one f64 accumulator per output element of [begin, end)
    /// (per output of the kernel, each output's in an alloca of its own), the leading reduced axes
    /// outermost, then the output elements, then the remaining reduced axes (`streams` says
    /// when); each element is combined as `emitReduction` does, in the same order per output
    /// element (the leading axes, then the rest).
    private mutating func emitStreamingReduction(header: [String], outputs: [String]) -> String {
        var e = self
        defer { self = e }
        let root = graph[kernel.root]
        let operandShape = graph[root.operands[0]].type.shape
        guard let axes = root.op.reducedAxes else { fatalError("emitStreamingReduction: \(root.op.name) is not a reduction") }
        let runs = LoopEmitter.runs(axes)
        let leading = runs[0], rest = Array(runs.dropFirst())
        let leadingExtent = leading.map { operandShape[$0] }.reduce(1, *)
        let keptAxes = operandShape.indices.filter { !axes.contains($0) }
        e.lines = [
            "start:",
            "  %count = sub nsw i64 %end, %begin",
        ]
        // One alloca per output: LLVM keeps an accumulator in a register through the inner
        // loop (and vectorizes it) only where it can tell the accumulators apart, which offsets
        // by %count into one alloca do not let it (the inner loop stayed scalar, ~6× slower).
        e.lines += outputs.indices.map { "  %accs\($0) = alloca double, i64 %count, align 8" }
        e.lines += [
            "  br label %zero",
            "zero:",
            "  %z = phi i64 [ 0, %start ], [ %z.next, %zero ]",
        ]
        for (position, output) in kernel.outputs.enumerated() {
            let pointer = e.accumulator(of: position, at: "%z")
            e.emit("store double \(LoopEmitter.reduction(graph[output]).initial), double* \(pointer), align 8")
        }
        e.lines += [
            "  %z.next = add nuw nsw i64 %z, 1",
            "  %z.done = icmp eq i64 %z.next, %count",
            "  br i1 %z.done, label %s.head, label %zero",
            "s.head:",
            "  %s = phi i64 [ 0, %zero ], [ %s.next, %s.latch ]",
            "  br label %loop",
            "loop:",
            "  %i = phi i64 [ %begin, %s.head ], [ %i.next, %latch ]",
        ]
        var full = [String](repeating: "0", count: operandShape.count)
        let leadingIndices = leading.count == 1 ? ["%s"] : e.delinearize("%s", shape: leading.map { operandShape[$0] })
        for (axis, index) in zip(leading, leadingIndices) { full[axis] = index }
        if leading.count > 1 { e.merged.append((names: leadingIndices, extents: leading.map { operandShape[$0] }, loop: "%s")) }
        for (axis, index) in zip(keptAxes, e.delinearize("%i", shape: keptAxes.map { operandShape[$0] })) { full[axis] = index }
        let slot = e.assign("sub nuw nsw i64 %i, %begin")
        let accumulators = outputs.indices.map { e.accumulator(of: $0, at: slot) }
        e.emitAccumulation(over: rest, full: &full, into: accumulators, enteredFrom: "loop", exit: "latch")
        e.lines += [
            "latch:",
            "  %i.next = add nuw nsw i64 %i, 1",
            "  %done = icmp eq i64 %i.next, %end",
            "  br i1 %done, label %s.latch, label %loop",
            "s.latch:",
            "  %s.next = add nuw nsw i64 %s, 1",
            "  %s.done = icmp eq i64 %s.next, \(leadingExtent)",
            "  br i1 %s.done, label %finish, label %s.head",
            "finish:",
            "  %f = phi i64 [ 0, %s.latch ], [ %f.next, %finish ]",
        ]
        e.memo = [:]
        let index = e.assign("add nuw nsw i64 %begin, %f")
        for (position, (output, pointer)) in zip(kernel.outputs, outputs).enumerated() {
            let result = e.finish(graph[output], e.assign("load double, double* \(e.accumulator(of: position, at: "%f")), align 8"))
            e.store(result, type: root.type, at: index, into: pointer)
        }
        e.lines += [
            "  %f.next = add nuw nsw i64 %f, 1",
            "  %f.done = icmp eq i64 %f.next, %count",
            "  br i1 %f.done, label %exit, label %finish",
            "exit:",
            "  ret void",
            "}",
        ]
        return (header + e.lines).joined(separator: "\n")
    }

    /// A streaming reduction's accumulator for output element `index` (counted from %begin)
    /// of the kernel's output `position`.
    private mutating func accumulator(of position: Int, at index: String) -> String {
        assign("getelementptr inbounds double, double* %accs\(position), i64 \(index)", "a")
    }

    // MARK: Values

    /// The SSA name of `value` at `index` (an index into `value`'s own shape).
    private mutating func value(of id: ValueID, at index: Index) -> String {
        let key = "\(id)@\(index.key)"
        if let known = memo[key] { return known }
        let result = compute(id, at: index)
        memo[key] = result
        return result
    }

    private mutating func compute(_ id: ValueID, at index: Index) -> String {
        let node = graph[id]
        if id != kernel.root, let pointer = argument[id] {
            let linearIndex = linear(index, shape: node.type.shape)
            let address = assign("getelementptr inbounds float, float* \(pointer), i64 \(linearIndex)", "p")
            let loaded = assign("load float, float* \(address), align 4, \(LoopEmitter.inputAccess)")
            return node.type.dtype == .bool ? assign("fcmp une float \(loaded), 0.0") : loaded
        }
        switch Lowering.lowering(for: node.op.kind) {
        case .elementwise:
            let operands = node.operands.map { value(of: $0, at: index) }
            let types = ElementTypes(operands: node.operands.map { graph[$0].type.dtype }, result: node.type.dtype)
            return emit(node.op.scalarMeaning(types)!, operands: operands, types: types.operands)
        case .indexed(_, let emitAt):
            return emitAt(&self, node, index)
        case .declaration, .reduction, .contraction, nil:
            fatalError("LoopEmitter: \(node.op.name) is never computed inside a loop kernel; fusion materializes it")
        }
    }

    /// The value of `node`'s operand `position` at `index` (an index into the operand's shape).
    mutating func operand(_ position: Int, of node: Node, at index: Index) -> String {
        value(of: node.operands[position], at: index)
    }

    /// `index` into `shape` as one index per dimension.
    mutating func dimensions(_ index: Index, shape: [Int]) -> [String] { multi(index, shape: shape) }

    /// `index` into `shape` as one linear index.
    mutating func linearIndex(_ index: Index, shape: [Int]) -> String { linear(index, shape: shape) }

    mutating func intrinsic(_ name: String, _ x: String) -> String {
        declarations.insert("declare float @llvm.\(name).f32(float)")
        return assign("call float @llvm.\(name).f32(float \(x))")
    }

    /// `RandomUniform.mix` of an i32: xor-shift, multiply, xor-shift, multiply, xor-shift.
    mutating func mix32(_ x: String) -> String {
        var x = x
        x = assign("xor i32 \(x), \(assign("lshr i32 \(x), 16"))")
        x = assign("mul i32 \(x), \(Int32(bitPattern: 0x7feb_352d))")
        x = assign("xor i32 \(x), \(assign("lshr i32 \(x), 15"))")
        x = assign("mul i32 \(x), \(Int32(bitPattern: 0x846c_a68b))")
        return assign("xor i32 \(x), \(assign("lshr i32 \(x), 16"))")
    }

    // MARK: Index arithmetic

    private mutating func linear(_ index: Index, shape: [Int]) -> String {
        switch index {
        case .linear(let name): return name
        case .multi(let names):
            var result: String?
            var step = 1
            var axis = shape.count - 1
            while axis >= 0 {
                // A run of indices that came from one merged loop contributes that loop's
                // variable times the run's innermost stride.
                if let group = merged.first(where: { group in
                    let count = group.names.count
                    return axis + 1 >= count && Array(names[(axis + 1 - count)...axis]) == group.names
                        && Array(shape[(axis + 1 - count)...axis]) == group.extents
                }) {
                    let term = step == 1 ? group.loop : assign("mul nuw nsw i64 \(group.loop), \(step)")
                    result = result.map { assign("add nuw nsw i64 \($0), \(term)") } ?? term
                    step *= group.extents.reduce(1, *)
                    axis -= group.names.count
                    continue
                }
                defer { step *= shape[axis]; axis -= 1 }
                guard shape[axis] != 1, names[axis] != "0" else { continue }
                let term = step == 1 ? names[axis] : assign("mul nuw nsw i64 \(names[axis]), \(step)")
                result = result.map { assign("add nuw nsw i64 \($0), \(term)") } ?? term
            }
            return result ?? "0"
        }
    }

    private mutating func multi(_ index: Index, shape: [Int]) -> [String] {
        switch index {
        case .multi(let names): return names
        case .linear(let name): return delinearize(name, shape: shape)
        }
    }

    private mutating func delinearize(_ name: String, shape: [Int]) -> [String] {
        // The element index of a kernel walking rows: leading dimensions from the row, trailing
        // ones from the position in it, wherever the shape splits at the row length.
        if name == "%i", let extent = rowExtent,
           let axis = (1..<shape.count).first(where: { shape[$0...].reduce(1, *) == extent }) {
            return delinearize("%outer", shape: Array(shape[..<axis])) + delinearize("%j", shape: Array(shape[axis...]))
        }
        var result = [String](repeating: "0", count: shape.count)
        var step = 1
        for axis in (0..<shape.count).reversed() {
            defer { step *= shape[axis] }
            guard shape[axis] != 1 else { continue }
            let quotient = step == 1 ? name : assign("udiv i64 \(name), \(step)")
            let isOutermostNeeded = shape[..<axis].allSatisfy { $0 == 1 }
            result[axis] = isOutermostNeeded ? quotient : assign("urem i64 \(quotient), \(shape[axis])")
        }
        return result
    }

    /// A float literal LLVM reads back exactly: the double with the same value, in hex.
    static func literal(_ value: Float) -> String { literal(Double(value)) }

    /// A `double` literal (or a float one, for a value a `Float` holds), in hex.
    static func literal(_ value: Double) -> String {
        "0x" + String(value.bitPattern, radix: 16, uppercase: true).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
