// PoolingLowering: the loop-kernel code of the pooling ops, each value computed at one
// element of its result from its operands at mapped indices (a `Lowering.indexed` entry).
//
// A window is unrolled (KH·KW loads, straight-line code, which LLVM vectorizes along the row
// a kernel walks); a gradient element gathers from the ⌈KH/stride⌉·⌈KW/stride⌉ windows that
// can hold it instead of scattering, so every kernel still writes each element once. Indices
// are signed i64 here: a window's start is negative inside the low padding. The window
// arithmetic mirrors PoolingGeometry (GraftIR), which the interpreter uses.

import GraftIR

enum PoolingLowering {
    typealias Emit = @Sendable (inout LoopEmitter, Node, LoopEmitter.Index) -> String

    /// The windowed ops' entries of the backend's table (`Lowering.table`).
    static let table: [OpKind: Lowering] = [
        .maxPool2d: .indexed(needsDimensions: true, maxPool2d),
        .maxPool2dGrad: .indexed(needsDimensions: true, maxPool2dGrad),
        .maxPool2dSelect: .indexed(needsDimensions: true, maxPool2dSelect),
        .avgPool2d: .indexed(needsDimensions: true, avgPool2d),
        .avgPool2dGrad: .indexed(needsDimensions: true, avgPool2dGrad),
    ]

    /// `max_pool2d`: the running maximum over the window.
    static let maxPool2d: Emit = { e, node, index in
        let (g, n, c, o) = pooled(&e, node, index)
        return firstMaximum(&e, node, g, n, c, o).value
    }

    /// `max_pool2d_select(x, v)`: v at the window's first maximum of x.
    static let maxPool2dSelect: Emit = { e, node, index in
        let (g, n, c, o) = pooled(&e, node, index)
        let position = firstMaximum(&e, node, g, n, c, o).position
        return e.operand(1, of: node, at: .multi([n, c, position[0], position[1]]))
    }

    /// `max_pool2d_grad(x, dy)`: the sum of dy over the windows whose first maximum is this element.
    static let maxPool2dGrad: Emit = { e, node, index in
        let g = PoolingGeometry(input: node.type.shape, node.op.poolingWindow!)
        let d = e.dimensions(index, shape: node.type.shape)
        var sum = "0.0"
        for (window, valid) in windows(&e, g, holding: [d[2], d[3]]) {
            let position = firstMaximum(&e, node, g, d[0], d[1], window).position
            let sameRow = e.assign("icmp eq i64 \(position[0]), \(d[2])")
            let sameColumn = e.assign("icmp eq i64 \(position[1]), \(d[3])")
            let hit = e.assign("and i1 \(valid), \(e.assign("and i1 \(sameRow), \(sameColumn)"))")
            let dy = e.operand(1, of: node, at: .multi([d[0], d[1], window[0], window[1]]))
            sum = e.assign("fadd float \(sum), \(e.assign("select i1 \(hit), float \(dy), float 0.0"))")
        }
        return sum
    }

    /// `avg_pool2d`: the window's sum over KH·KW (padding adds zeros), in double.
    static let avgPool2d: Emit = { e, node, index in
        let (g, n, c, o) = pooled(&e, node, index)
        var sum = "0.0"
        for (row, rowInside) in positions(&e, g, window: o[0], axis: 0) {
            for (column, columnInside) in positions(&e, g, window: o[1], axis: 1) {
                let inside = e.assign("and i1 \(rowInside), \(columnInside)")
                let x = e.operand(0, of: node, at: .multi([n, c, clamp(&e, row, inside), clamp(&e, column, inside)]))
                let wide = e.assign("fpext float \(e.assign("select i1 \(inside), float \(x), float 0.0")) to double")
                sum = e.assign("fadd double \(sum), \(wide)")
            }
        }
        return mean(&e, sum, g)
    }

    /// `avg_pool2d_grad(dy)`: the sum of dy over the windows holding this element, over KH·KW.
    static let avgPool2dGrad: Emit = { e, node, index in
        let g = PoolingGeometry(input: node.type.shape, node.op.poolingWindow!)
        let d = e.dimensions(index, shape: node.type.shape)
        var sum = "0.0"
        for (window, valid) in windows(&e, g, holding: [d[2], d[3]]) {
            let dy = e.operand(0, of: node, at: .multi([d[0], d[1], window[0], window[1]]))
            let wide = e.assign("fpext float \(e.assign("select i1 \(valid), float \(dy), float 0.0")) to double")
            sum = e.assign("fadd double \(sum), \(wide)")
        }
        return mean(&e, sum, g)
    }

    // MARK: Window arithmetic

    /// The geometry of a pooled node (input: operand 0) and its result index as (n, c, [oh, ow]).
    private static func pooled(_ e: inout LoopEmitter, _ node: Node, _ index: LoopEmitter.Index)
        -> (PoolingGeometry, String, String, [String]) {
        let g = PoolingGeometry(input: e.graph[node.operands[0]].type.shape, node.op.poolingWindow!)
        let d = e.dimensions(index, shape: node.type.shape)
        return (g, d[0], d[1], [d[2], d[3]])
    }

    /// The input indices along `axis` of window `window`'s KH (or KW) positions, each with
    /// whether it lies inside the input.
    private static func positions(_ e: inout LoopEmitter, _ g: PoolingGeometry, window: String, axis: Int) -> [(String, String)] {
        let scaled = e.assign("mul nsw i64 \(window), \(g.window.stride[axis])")
        let start = e.assign("sub nsw i64 \(scaled), \(g.window.padding[axis])")
        return (0..<g.window.window[axis]).map { offset in
            let position = offset == 0 ? start : e.assign("add nsw i64 \(start), \(offset)")
            return (position, e.assign("icmp ult i64 \(position), \(g.input[axis])"))   // unsigned: negatives are huge
        }
    }

    /// `index` where `inside`, else 0 (a safe address for a load whose value is discarded).
    private static func clamp(_ e: inout LoopEmitter, _ index: String, _ inside: String) -> String {
        e.assign("select i1 \(inside), i64 \(index), i64 0")
    }

    /// The value and [row, column] of the first maximal element of window `window`, scanning
    /// row-major as the interpreter does: a later element replaces the running maximum when
    /// larger, or NaN while the maximum is not; padding is -inf, never chosen. The position
    /// starts at the window's first element inside the input.
    private static func firstMaximum(_ e: inout LoopEmitter, _ node: Node, _ g: PoolingGeometry,
                                     _ n: String, _ c: String, _ window: [String]) -> (value: String, position: [String]) {
        let rows = positions(&e, g, window: window[0], axis: 0)
        let columns = positions(&e, g, window: window[1], axis: 1)
        var best = "0xFFF0000000000000"   // -inf
        var position = [rows, columns].map { axis in e.assign("select i1 \(e.assign("icmp slt i64 \(axis[0].0), 0")), i64 0, i64 \(axis[0].0)") }
        for (row, rowInside) in rows {
            for (column, columnInside) in columns {
                let inside = e.assign("and i1 \(rowInside), \(columnInside)")
                let x = e.operand(0, of: node, at: .multi([n, c, clamp(&e, row, inside), clamp(&e, column, inside)]))
                let value = e.assign("select i1 \(inside), float \(x), float 0xFFF0000000000000")
                let greater = e.assign("fcmp ugt float \(value), \(best)")          // larger, or NaN
                let take = e.assign("and i1 \(greater), \(e.assign("fcmp ord float \(best), 0.0"))")
                best = e.assign("select i1 \(take), float \(value), float \(best)")
                position = [e.assign("select i1 \(take), i64 \(row), i64 \(position[0])"),
                            e.assign("select i1 \(take), i64 \(column), i64 \(position[1])")]
            }
        }
        return (best, position)
    }

    /// The windows (as [oh, ow], clamped to 0 when not valid) that can hold input element
    /// `element` ([h, w]), each with whether it does: along each axis the ⌈K/stride⌉ outputs
    /// `(index + padding) / stride − t` that are ≥ 0, below the output extent and start within
    /// K of the index.
    private static func windows(_ e: inout LoopEmitter, _ g: PoolingGeometry, holding element: [String]) -> [([String], String)] {
        let candidates = (0..<2).map { axis in
            let (k, s, p) = (g.window.window[axis], g.window.stride[axis], g.window.padding[axis])
            let shifted = e.assign("add nsw i64 \(element[axis]), \(p)")
            let last = e.assign("udiv i64 \(shifted), \(s)")
            return (0..<g.windowsPerIndex(axis: axis)).map { t -> (String, String) in
                let window = t == 0 ? last : e.assign("sub nsw i64 \(last), \(t)")
                let inRange = e.assign("icmp ult i64 \(window), \(g.output[axis])")             // 0 ≤ window < OH
                let offset = e.assign("sub nsw i64 \(shifted), \(e.assign("mul nsw i64 \(window), \(s)"))")
                let covers = e.assign("icmp slt i64 \(offset), \(k)")
                let valid = e.assign("and i1 \(inRange), \(covers)")
                return (e.assign("select i1 \(valid), i64 \(window), i64 0"), valid)
            }
        }
        return candidates[0].flatMap { row in
            candidates[1].map { column in ([row.0, column.0], e.assign("and i1 \(row.1), \(column.1)")) }
        }
    }

    /// A double sum divided by KH·KW, as a float.
    private static func mean(_ e: inout LoopEmitter, _ sum: String, _ g: PoolingGeometry) -> String {
        let quotient = e.assign("fdiv double \(sum), \(LoopEmitter.literal(Double(g.window.size)))")
        return e.assign("fptrunc double \(quotient) to float")
    }
}
