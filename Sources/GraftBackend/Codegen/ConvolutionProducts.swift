// ConvolutionProducts: the matrix products inside convolution (per image: the forward pass,
// the input gradient and the filter gradient) as generated AVX-512 loops, each specialised to
// one layer's sizes, so every loop bound and every lane mask is a constant.
//
// Convolution's products are small and oddly shaped (16–128 rows, 49–784 columns); OpenBLAS's
// kernel for this machine (Haswell, 256-bit) runs them at ~100–115 GFLOP/s per thread, while
// register tiles of 512-bit accumulators reach ~250 (measured, Docs/Performance.md).

import GraftIR

/// One matrix product a convolution needs per image, with all its sizes.
public enum ConvolutionProduct: Hashable, Sendable {
    /// `C[m, N] = Σᵣ A(m, r) · B[r, N]`, where `A(m, r) = a[m·rowStride + r·reductionStride]`
    /// is read one scalar at a time and broadcast; B and C are row-major with `columns`
    /// columns. The forward pass (`y = W · patches`) and the input gradient
    /// (`dpatches = Wᵀ · dy`, the transpose read through strides). With `accumulates`, C's
    /// values are added to (`C += …`): a Winograd filter gradient's sum over images.
    case broadcast(rows: Int, columns: Int, reduction: Int, rowStride: Int, reductionStride: Int, accumulates: Bool = false)
    /// `C[m, n] += Σₚ A[m, p] · B[n, p]`: products of rows, both operands row-major with
    /// `length` columns. The filter gradient (`dW += dy · patchesᵀ`).
    case rowDot(rows: Int, columns: Int, length: Int)

    /// Rows of the register tile and its width (vectors of 16 for `broadcast`, columns for
    /// `rowDot`): 8 × 3 and 4 × 6, 24 accumulators of the 32 registers either way.
    static let broadcastTile = (rows: 8, vectors: 3)
    static let rowDotTile = (rows: 4, columns: 6)

    /// The product of `kind` (conv2d, conv2d_input_grad or conv2d_filter_grad) with geometry
    /// `g`, or nil where the BLAS is faster: the filter gradient's row products are reduced
    /// across lanes at the end of every image, which does not pay on small outputs (under 128
    /// pixels; measured 69 vs 117 GFLOP/s at 7×7).
    public static func of(_ direction: ConvolutionDirection, geometry g: ConvolutionGeometry) -> ConvolutionProduct? {
        switch direction {
        case .forward:
            return .broadcast(rows: g.outputChannels, columns: g.outputPixels, reduction: g.patchSize,
                              rowStride: g.patchSize, reductionStride: 1)
        case .inputGradient:
            return .broadcast(rows: g.patchSize, columns: g.outputPixels, reduction: g.outputChannels,
                              rowStride: 1, reductionStride: g.patchSize)
        case .filterGradient:
            return g.outputPixels >= 128 ? .rowDot(rows: g.outputChannels, columns: g.patchSize, length: g.outputPixels) : nil
        }
    }

    /// The index range a call covers, `[0, blocks)`: blocks of 48 columns of C (`broadcast`)
    /// or of 6 columns (`rowDot`). Blocks write disjoint parts of C.
    public var blocks: Int {
        switch self {
        case .broadcast(_, let columns, _, _, _, _):
            let width = Self.broadcastTile.vectors * ConvolutionKernels.lanes
            return (columns + width - 1) / width
        case .rowDot(_, let columns, _):
            return (columns + Self.rowDotTile.columns - 1) / Self.rowDotTile.columns
        }
    }

    var name: String {
        switch self {
        case .broadcast(let m, let n, let r, let sm, let sr, let add): "gemm_bcast_m\(m)n\(n)r\(r)s\(sm)x\(sr)\(add ? "_acc" : "")"
        case .rowDot(let m, let n, let p): "gemm_rowdot_m\(m)n\(n)p\(p)"
        }
    }

    /// The intrinsics the products call.
    static let declarations = ConvolutionKernels.declarations + [
        "declare <16 x float> @llvm.fma.v16f32(<16 x float>, <16 x float>, <16 x float>)",
        "declare float @llvm.vector.reduce.fadd.v16f32(float, <16 x float>)",
    ]

    /// `void @<name>(float** args, i64 begin, i64 end)`: args[0] C, args[1] A, args[2] B;
    /// [begin, end) over `blocks`.
    func function() -> (name: String, text: String) {
        let body: [String]
        switch self {
        case .broadcast(let m, let n, let r, let sm, let sr, let add):
            body = Self.broadcastBody(rows: m, columns: n, reduction: r, rowStride: sm, reductionStride: sr, accumulates: add)
        case .rowDot(let m, let n, let p):
            body = Self.rowDotBody(rows: m, columns: n, length: p)
        }
        let text = ConvolutionKernels.loopFunction(name, arguments: ["c", "a", "b"], body: body)
        return (name, text)
    }

    // MARK: broadcast

    /// The body of one block of 48 columns (`%col` its first): full blocks and the last,
    /// partial one are separate sections whose lane masks are constants.
    private static func broadcastBody(rows: Int, columns: Int, reduction: Int, rowStride: Int, reductionStride: Int,
                                      accumulates: Bool) -> [String] {
        let lanes = ConvolutionKernels.lanes, width = broadcastTile.vectors * lanes
        let fullBlocks = columns / width
        var lines = ["  %col = mul nuw nsw i64 %j, \(width)"]
        let full = [[Bool]](repeating: [Bool](repeating: true, count: lanes), count: broadcastTile.vectors)
        let tailColumns = columns - fullBlocks * width
        let tail = stride(from: 0, to: tailColumns, by: lanes).map { start in (0..<lanes).map { start + $0 < tailColumns } }
        if fullBlocks > 0 && !tail.isEmpty {
            lines += ["  %isfull = icmp ult i64 %j, \(fullBlocks)", "  br i1 %isfull, label %F.start, label %T.start"]
        } else {
            lines.append("  br label %\(fullBlocks > 0 ? "F" : "T").start")
        }
        for (section, masks) in [("F", fullBlocks > 0 ? full : []), ("T", tail)] where !masks.isEmpty {
            lines.append("\(section).start:")
            lines += rowTiles(section: section, rows: rows, tileRows: broadcastTile.rows) { prefix, firstRow, tileRows in
                broadcastTile(prefix, firstRow: firstRow, rows: tileRows, masks: masks, columns: columns,
                              reduction: reduction, rowStride: rowStride, reductionStride: reductionStride, accumulates: accumulates)
            }
            lines.append("  br label %latch")
        }
        return lines
    }

    /// One register tile of `rows` rows from `firstRow` (an i64 operand) and `masks.count`
    /// vectors from `%col`: accumulators over the whole reduction (starting from C's values
    /// when `accumulates`), then stored.
    private static func broadcastTile(_ p: String, firstRow: String, rows: Int, masks: [[Bool]], columns: Int,
                                      reduction: Int, rowStride: Int, reductionStride: Int, accumulates: Bool) -> [String] {
        let lanes = ConvolutionKernels.lanes
        let pairs = (0..<rows).flatMap { i in masks.indices.map { (i, $0) } }
        var lines = ["  br label %\(p).pre", "\(p).pre:"]
        var initial: [String: String] = [:]
        for i in 0..<rows {
            lines += [
                "  %\(p).row\(i) = add nuw nsw i64 \(firstRow), \(i)",
                "  %\(p).arow\(i) = mul nuw nsw i64 %\(p).row\(i), \(rowStride)",
                "  %\(p).coff\(i) = mul nuw nsw i64 %\(p).row\(i), \(columns)",
                "  %\(p).coff2\(i) = add nuw nsw i64 %\(p).coff\(i), %col",
                "  %\(p).crow\(i) = getelementptr inbounds float, float* %c, i64 %\(p).coff2\(i)",
            ]
            guard accumulates else { continue }
            for (j, mask) in masks.enumerated() {
                let (loading, value) = ConvolutionKernels.load("%\(p).crow\(i)", offsets: mask.indices.map { mask[$0] ? j * lanes + $0 : nil },
                                                               gate: nil, tag: "\(p).old\(i).\(j)")
                lines += loading
                initial["\(i).\(j)"] = value
            }
        }
        lines += ["  br label %\(p).loop", "\(p).loop:", "  %\(p).r = phi i64 [ 0, %\(p).pre ], [ %\(p).rn, %\(p).loop ]"]
        lines += pairs.map { i, j in
            "  %\(p).acc\(i).\(j) = phi <16 x float> [ \(initial["\(i).\(j)"] ?? "zeroinitializer"), %\(p).pre ], [ %\(p).f\(i).\(j), %\(p).loop ]"
        }
        lines += [
            "  %\(p).boff = mul nuw nsw i64 %\(p).r, \(columns)",
            "  %\(p).boff2 = add nuw nsw i64 %\(p).boff, %col",
            "  %\(p).brow = getelementptr inbounds float, float* %b, i64 %\(p).boff2",
            "  %\(p).ar = mul nuw nsw i64 %\(p).r, \(reductionStride)",
        ]
        var vectors: [String] = []
        for (j, mask) in masks.enumerated() {
            let (loading, value) = ConvolutionKernels.load("%\(p).brow", offsets: mask.indices.map { mask[$0] ? j * lanes + $0 : nil },
                                                           gate: nil, tag: "\(p).b\(j)")
            lines += loading
            vectors.append(value)
        }
        for i in 0..<rows {
            lines += [
                "  %\(p).aoff\(i) = add nuw nsw i64 %\(p).arow\(i), %\(p).ar",
                "  %\(p).ap\(i) = getelementptr inbounds float, float* %a, i64 %\(p).aoff\(i)",
                "  %\(p).as\(i) = load float, float* %\(p).ap\(i), align 4",
                "  %\(p).ai\(i) = insertelement <16 x float> poison, float %\(p).as\(i), i64 0",
                "  %\(p).s\(i) = shufflevector <16 x float> %\(p).ai\(i), <16 x float> poison, <16 x i32> zeroinitializer",
            ]
            for j in masks.indices {
                lines.append("  %\(p).f\(i).\(j) = call <16 x float> @llvm.fma.v16f32(<16 x float> %\(p).s\(i), <16 x float> \(vectors[j]), <16 x float> %\(p).acc\(i).\(j))")
            }
        }
        lines += [
            "  %\(p).rn = add nuw nsw i64 %\(p).r, 1",
            "  %\(p).rdone = icmp eq i64 %\(p).rn, \(reduction)",
            "  br i1 %\(p).rdone, label %\(p).store, label %\(p).loop",
            "\(p).store:",
        ]
        for i in 0..<rows {
            for (j, mask) in masks.enumerated() {
                lines += ConvolutionKernels.store("%\(p).f\(i).\(j)", at: "%\(p).crow\(i)", offset: j * lanes, valid: mask, tag: "\(p).c\(i).\(j)")
            }
        }
        return lines
    }

    // MARK: rowDot

    /// The body of one block of 6 columns of C (`%col` its first); the last block may be
    /// narrower and is its own section.
    private static func rowDotBody(rows: Int, columns: Int, length: Int) -> [String] {
        let width = rowDotTile.columns
        let fullBlocks = columns / width, tailColumns = columns - fullBlocks * width
        var lines = ["  %col = mul nuw nsw i64 %j, \(width)"]
        if fullBlocks > 0 && tailColumns > 0 {
            lines += ["  %isfull = icmp ult i64 %j, \(fullBlocks)", "  br i1 %isfull, label %F.start, label %T.start"]
        } else {
            lines.append("  br label %\(fullBlocks > 0 ? "F" : "T").start")
        }
        for (section, count) in [("F", fullBlocks > 0 ? width : 0), ("T", tailColumns)] where count > 0 {
            lines.append("\(section).start:")
            lines += rowTiles(section: section, rows: rows, tileRows: rowDotTile.rows) { prefix, firstRow, tileRows in
                rowDotTile(prefix, firstRow: firstRow, rows: tileRows, tileColumns: count, columns: columns, length: length)
            }
            lines.append("  br label %latch")
        }
        return lines
    }

    /// One tile of `rows` × `tileColumns` dot products of length `length`, accumulated in
    /// vectors along the rows, reduced across lanes at the end and added to C.
    private static func rowDotTile(_ p: String, firstRow: String, rows: Int, tileColumns: Int, columns: Int, length: Int) -> [String] {
        let lanes = ConvolutionKernels.lanes
        let fullVectors = length / lanes, tail = length - fullVectors * lanes
        let pairs = (0..<rows).flatMap { i in (0..<tileColumns).map { (i, $0) } }
        var lines = ["  br label %\(p).pre", "\(p).pre:"]
        var operands: [(name: String, pointer: String)] = []   // the tile's rows of A, then of B
        /// Points `%<p>.<name>p` at row `index` (an i64 operand) of `matrix`.
        func row(_ name: String, of matrix: String, at index: String) {
            lines += [
                "  %\(p).\(name)off = mul nuw nsw i64 \(index), \(length)",
                "  %\(p).\(name)p = getelementptr inbounds float, float* \(matrix), i64 %\(p).\(name)off",
            ]
            operands.append((name, "%\(p).\(name)p"))
        }
        for i in 0..<rows {
            lines.append("  %\(p).row\(i) = add nuw nsw i64 \(firstRow), \(i)")
            row("a\(i)", of: "%a", at: "%\(p).row\(i)")
        }
        for j in 0..<tileColumns {
            lines.append("  %\(p).col\(j) = add nuw nsw i64 %col, \(j)")
            row("b\(j)", of: "%b", at: "%\(p).col\(j)")
        }
        /// Loads every operand row's vector at `offset` (a constant or `%…`), lanes `mask`, then
        /// the fused multiply-adds; returns the new accumulators.
        func step(_ tag: String, offset: String, mask: [Bool], accumulators: [String]) -> [String] {
            var loaded: [String: String] = [:]
            for (name, pointer) in operands {
                lines.append("  %\(p).\(tag).at\(name) = getelementptr inbounds float, float* \(pointer), i64 \(offset)")
                let (loading, value) = ConvolutionKernels.load("%\(p).\(tag).at\(name)", offsets: mask.indices.map { mask[$0] ? $0 : nil },
                                                               gate: nil, tag: "\(p).\(tag).\(name)")
                lines += loading
                loaded[name] = value
            }
            return pairs.enumerated().map { index, pair in
                let result = "%\(p).\(tag).f\(pair.0).\(pair.1)"
                lines.append("  \(result) = call <16 x float> @llvm.fma.v16f32(<16 x float> \(loaded["a\(pair.0)"]!), <16 x float> \(loaded["b\(pair.1)"]!), <16 x float> \(accumulators[index]))")
                return result
            }
        }
        var accumulators = [String](repeating: "zeroinitializer", count: pairs.count)
        if fullVectors > 0 {
            lines += ["  br label %\(p).loop", "\(p).loop:", "  %\(p).v = phi i64 [ 0, %\(p).pre ], [ %\(p).vn, %\(p).loop ]"]
            let phis = pairs.map { "%\(p).acc\($0.0).\($0.1)" }
            let phiLine = lines.count
            lines += ["  %\(p).off = mul nuw nsw i64 %\(p).v, \(lanes)"]
            let next = step("s", offset: "%\(p).off", mask: [Bool](repeating: true, count: lanes), accumulators: phis)
            lines.insert(contentsOf: pairs.indices.map { "  \(phis[$0]) = phi <16 x float> [ zeroinitializer, %\(p).pre ], [ \(next[$0]), %\(p).loop ]" }, at: phiLine)
            lines += [
                "  %\(p).vn = add nuw nsw i64 %\(p).v, 1",
                "  %\(p).vdone = icmp eq i64 %\(p).vn, \(fullVectors)",
                "  br i1 %\(p).vdone, label %\(p).reduce, label %\(p).loop",
            ]
            accumulators = next
        } else {
            lines += ["  br label %\(p).reduce"]
        }
        lines.append("\(p).reduce:")
        if tail > 0 {
            accumulators = step("t", offset: "\(fullVectors * lanes)", mask: (0..<lanes).map { $0 < tail }, accumulators: accumulators)
        }
        for (index, (i, j)) in pairs.enumerated() {
            let q = "%\(p).c\(i).\(j)"
            lines += [
                "  \(q).sum = call reassoc float @llvm.vector.reduce.fadd.v16f32(float -0.0, <16 x float> \(accumulators[index]))",
                "  \(q).off = mul nuw nsw i64 %\(p).row\(i), \(columns)",
                "  \(q).off2 = add nuw nsw i64 \(q).off, %\(p).col\(j)",
                "  \(q).p = getelementptr inbounds float, float* %c, i64 \(q).off2",
                "  \(q).old = load float, float* \(q).p, align 4",
                "  \(q).new = fadd float \(q).old, \(q).sum",
                "  store float \(q).new, float* \(q).p, align 4",
            ]
        }
        return lines
    }

    // MARK: shared

    /// The tiles down the rows of C inside one section: a loop over the full tiles of
    /// `tileRows` rows, then one tile of the rows left. `tile(prefix, firstRow, rows)` emits
    /// a tile starting in the current block and leaving its last block open.
    private static func rowTiles(section s: String, rows: Int, tileRows: Int, tile: (String, String, Int) -> [String]) -> [String] {
        let fullTiles = rows / tileRows, rest = rows - fullTiles * tileRows
        var lines: [String] = []
        if fullTiles > 0 {
            lines += [
                "  br label %\(s).mpre",
                "\(s).mpre:",
                "  br label %\(s).m",
                "\(s).m:",
                "  %\(s).mt = phi i64 [ 0, %\(s).mpre ], [ %\(s).mtn, %\(s).mnext ]",
                "  %\(s).m0 = mul nuw nsw i64 %\(s).mt, \(tileRows)",
            ]
            lines += tile("\(s).M", "%\(s).m0", tileRows)
            lines += [
                "  br label %\(s).mnext",
                "\(s).mnext:",
                "  %\(s).mtn = add nuw nsw i64 %\(s).mt, 1",
                "  %\(s).mdone = icmp eq i64 %\(s).mtn, \(fullTiles)",
                "  br i1 %\(s).mdone, label %\(s).rest, label %\(s).m",
                "\(s).rest:",
            ]
        }
        if rest > 0 { lines += tile("\(s).R", "\(fullTiles * tileRows)", rest) }
        return lines
    }
}
