// WinogradKernels: 3×3 stride-1 convolutions (the forward pass and the input gradient) as
// Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, 2016): every m×m block of outputs
// from an (m + 2)×(m + 2) window of the input, with (m + 2)² multiplies per channel pair
// instead of 9m²: F(4×4) 36 for 16 outputs, F(3×3) 25 for 9, F(2×2) 16 for 4. The tile side
// is chosen per image size (`tileSide(height:width:)`).
//
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// For every `images` images (one product's rows) the runtime runs five generated loops and
// (m + 2)² matrix products, all with 16 lanes along the channels:
//   pack    x [C, H, W] → a zero-bordered, channels-last copy [PH, PW, C] (16×16 blocks
//           transposed in registers), one image at a time
//   input   every tile's window → Bᵀ d B, written as U[ξ][row][C] for the positions ξ, each
//           image's tiles after the last's
//   product M[ξ] [rows, O] = U[ξ] [rows, C] · W[ξ] [C, O] (`ConvolutionProduct.broadcast`)
//   output  Aᵀ m A for every tile of an image, into a channels-last result [tile rows·m,
//           tile columns·m, O]
//   unpack  its pixels inside the image, transposed back into y [O, H, W]
// and, once per call, `weights` transforms the filter into W[ξ][C][O] = G g Gᵀ.
//
// The input gradient is the same computation on dy with the filter rotated by 180° and its
// channel roles swapped (`flipsFilter`).

import GraftIR

/// One Winograd F(m×m, 3×3) convolution: sizes, and the loops that compute it.
public struct WinogradConvolution: Hashable, Sendable {
    /// Channels of the image transformed (C for the forward pass, O for the input gradient)
    /// and of the result.
    public var inputChannels: Int, outputChannels: Int
    /// The image's height and width (the result's too: stride 1, padding 1).
    public var height: Int, width: Int
    /// Whether the filter [O, C, 3, 3] is read rotated by 180° with its channels swapped: the
    /// input gradient `dx = conv(dy, rot180(W)ᵀ)`.
    public var flipsFilter: Bool

    /// Outputs per tile side: 2, 3 or 4 (F(m×m, 3×3)), `tileSide(height:width:)`'s.
    public var tileSide: Int { Self.tileSide(height: height, width: width) }

    static let lanes = ConvolutionKernels.lanes
    /// The window a tile reads, and the positions of a transformed window.
    var windowSide: Int { tileSide + 2 }
    public var positions: Int { windowSide * windowSide }

    /// The Winograd form of `direction` on geometry `g`, or nil where it does not apply: a 3×3
    /// filter, stride 1, padding 1, and both channel counts multiples of 16 (lanes along
    /// channels). Its tile side is `tileSide(height:width:)`'s.
    public static func of(_ direction: ConvolutionDirection, geometry g: ConvolutionGeometry) -> WinogradConvolution? {
        guard g.kernelHeight == 3, g.kernelWidth == 3, g.stride == [1, 1], g.padding == [1, 1],
              g.channels % lanes == 0, g.outputChannels % lanes == 0 else { return nil }
        switch direction {
        case .forward:
            return WinogradConvolution(inputChannels: g.channels, outputChannels: g.outputChannels,
                                       height: g.height, width: g.width, flipsFilter: false)
        case .inputGradient:
            return WinogradConvolution(inputChannels: g.outputChannels, outputChannels: g.channels,
                                       height: g.height, width: g.width, flipsFilter: true)
        case .filterGradient:
            return nil
        }
    }

    /// The tile side that needs the fewest multiplies per image, positions · tiles (the
    /// smaller tile, which rounds less, on a tie): F(4×4) on 28×28, 14×14 and 7×7 images
    /// (1,764, 576 and 144 against F(2×2)'s 3,136, 784 and 256), F(3×3) on 5×5 and 6×6 ones,
    /// F(2×2) on 2×2 ones.
    public static func tileSide(height: Int, width: Int) -> Int {
        [2, 3, 4].min { a, b in
            let multiplies = { (m: Int) in (m + 2) * (m + 2) * ((height + m - 1) / m) * ((width + m - 1) / m) }
            return multiplies(a) < multiplies(b) || (multiplies(a) == multiplies(b) && a < b)
        }!
    }

    /// The rows a product takes at most: whole images, as many as fit (`images`). One 7×7
    /// image (4 F(4×4) tiles) alone gave products of 4 rows, which read the whole transformed
    /// filter for 4 rows and summed a filter gradient's 36 [O, C] matrices once per image.
    static let productRows = 32

    public var tileRows: Int { (height + tileSide - 1) / tileSide }
    public var tileColumns: Int { (width + tileSide - 1) / tileSide }
    public var tiles: Int { tileRows * tileColumns }
    /// Images whose tiles one product takes, as many as fit in `productRows` (at least one),
    /// so that the transformed filter, read once per product, serves enough rows on small
    /// images.
    public var images: Int { Swift.max(1, Self.productRows / tiles) }
    /// The rows of a product: the tiles of `images` images, image after image.
    public var rows: Int { images * tiles }
    /// The packed image's rows and columns: every tile's window inside, the border zero.
    public var paddedHeight: Int { tileRows * tileSide + 2 }
    public var paddedWidth: Int { tileColumns * tileSide + 2 }

    /// Floats of a worker's scratch: the packed image, the transformed tiles U, the products M
    /// and the channels-last result.
    public var packedFloats: Int { paddedHeight * paddedWidth * inputChannels }
    public var transformedFloats: Int { positions * transformedStride }
    public var productFloats: Int { positions * productStride }
    /// Floats from one position's U[ξ] (or M[ξ]) to the next: its rows and one cache line
    /// more. At a multiple of 4 KB apart, the 16–36 vectors a tile's transform stores or loads
    /// all fall in one set of the L1 cache (F(4×4) ran its transforms 4× slower on 14×14 and
    /// 7×7 images, where rows · channels · 4 bytes is 8 or 16 KB).
    public var transformedStride: Int { rows * inputChannels + Self.lanes }
    public var productStride: Int { rows * outputChannels + Self.lanes }
    public var resultFloats: Int { tiles * tileSide * tileSide * outputChannels }
    public var scratchFloats: Int { packedFloats + transformedFloats + productFloats + resultFloats }
    /// Floats of the transformed filter W[ξ][C][O].
    public var filterFloats: Int { positions * inputChannels * outputChannels }

    /// Loop ranges of the weights and pack kernels: (input channel, 16 output channels) pairs,
    /// (16 input channels, packed row) pairs. Input and output run over the tiles.
    public var weightBlocks: Int { inputChannels * (outputChannels / Self.lanes) }
    public var packRows: Int { paddedHeight * (inputChannels / Self.lanes) }
    /// The unpack kernel's range: (16 output channels, image row) pairs.
    public var unpackRows: Int { height * (outputChannels / Self.lanes) }

    /// The matrix product for one position ξ: M[tiles, O] = U[tiles, C] · W[C, O].
    public var product: ConvolutionProduct {
        .broadcast(rows: rows, columns: outputChannels, reduction: inputChannels, rowStride: inputChannels, reductionStride: 1)
    }

    var suffix: String { "c\(inputChannels)o\(outputChannels)h\(height)w\(width)\(flipsFilter ? "f" : "")t\(tileSide)i\(images)" }
    /// The suffix of the loops that do not read the filter (all but `weights`): the same for
    /// a forward pass and an input gradient of the same sizes, which then share them.
    var layoutSuffix: String { "c\(inputChannels)o\(outputChannels)h\(height)w\(width)t\(tileSide)i\(images)" }

    // MARK: the transforms

    /// Bᵀ (n×n), G (n×3) and Aᵀ (m×n) of F(m×m, 3×3), n = m + 2, from Cook and Toom's
    /// construction on n − 1 points and ∞. F(2×2): the points 0, ±1, every coefficient 0, ±1
    /// or ±1/2. F(3×3): 0, ±1 and 2. F(4×4): 0, ±1, 2 and −1/2, which round about half as
    /// much as the usual 0, ±1, ±2 (as Barabasz et al., 2020, found). Measured in f32 on
    /// sums over 64 channels of rectified activations, the largest error over the largest
    /// output: F(4×4) 1.0e-6 (1.9e-6 with ±2), F(3×3) 7.6e-7, F(2×2) 3.5e-7.
    static func transforms(tileSide: Int) -> (input: [[Double]], filter: [[Double]], output: [[Double]]) {
        switch tileSide {
        case 2:
            return (input: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
                    filter: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
                    output: [[1, 1, 1, 0], [0, 1, -1, -1]])
        case 3:
            return (input: [[2, -1, -2, 1, 0],
                            [0, -2, -1, 1, 0],
                            [0, 2, -3, 1, 0],
                            [0, -1, 0, 1, 0],
                            [0, 2, -1, -2, 1]],
                    filter: [[0.5, 0, 0],
                             [-0.5, -0.5, -0.5],
                             [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                             [1.0 / 6, 1.0 / 3, 2.0 / 3],
                             [0, 0, 1]],
                    output: [[1, 1, 1, 1, 0],
                             [0, 1, -1, 2, 0],
                             [0, 1, 1, 4, 1]])
        case 4:
            return (input: [[1, 1.5, -2, -1.5, 1, 0],
                            [0, -1, -2.5, -0.5, 1, 0],
                            [0, 1, 0.5, -2.5, 1, 0],
                            [0, -0.5, -1, 0.5, 1, 0],
                            [0, 2, -1, -2, 1, 0],
                            [0, 1, 1.5, -2, -1.5, 1]],
                    filter: [[1, 0, 0],
                             [-1.0 / 3, -1.0 / 3, -1.0 / 3],
                             [1.0 / 3, -1.0 / 3, 1.0 / 3],
                             [1.0 / 15, 2.0 / 15, 4.0 / 15],
                             [-16.0 / 15, 8.0 / 15, -4.0 / 15],
                             [0, 0, 1]],
                    output: [[1, 1, 1, 1, 1, 0],
                             [0, 1, -1, 2, -0.5, 0],
                             [0, 1, 1, 4, 0.25, 0],
                             [0, 1, -1, 8, -0.125, 1]])
        default:
            preconditionFailure("Winograd tiles of side \(tileSide): only 2, 3 and 4 have transforms")
        }
    }
    var inputTransform: [[Double]] { Self.transforms(tileSide: tileSide).input }
    var filterTransform: [[Double]] { Self.transforms(tileSide: tileSide).filter }
    var outputTransform: [[Double]] { Self.transforms(tileSide: tileSide).output }

    /// The intrinsics the kernels call.
    static let declarations = ConvolutionKernels.declarations + [
        "declare <16 x float> @llvm.fma.v16f32(<16 x float>, <16 x float>, <16 x float>)",
    ]

    /// The five loops, each `void @<name>(float** args, i64 begin, i64 end)`.
    func functions() -> [(name: String, text: String)] {
        [weightsFunction(), packFunction(), inputFunction(), outputFunction(), unpackFunction()]
    }

    /// Emits `matrix · values` for a matrix of constants and a column of vectors (`values`,
    /// one per matrix column): each row a sum of ±1 terms and multiplies by constants, zero
    /// terms skipped. Appends the lines to `lines` and returns the rows' values.
    static func combine(_ matrix: [[Double]], _ values: [String], tag: String, into lines: inout [String]) -> [String] {
        matrix.enumerated().map { row, coefficients in
            var sum: String?
            for (column, coefficient) in coefficients.enumerated() where coefficient != 0 {
                let name = "%\(tag).\(row).\(column)"
                let term = values[column]
                switch (sum, coefficient) {
                case (nil, 1): sum = term; continue
                case (nil, -1): lines.append("  \(name) = fneg <16 x float> \(term)")
                case (nil, _): lines.append("  \(name) = fmul <16 x float> \(term), \(splat(coefficient))")
                case (let s?, 1): lines.append("  \(name) = fadd <16 x float> \(s), \(term)")
                case (let s?, -1): lines.append("  \(name) = fsub <16 x float> \(s), \(term)")
                case (let s?, _): lines.append("  \(name) = call <16 x float> @llvm.fma.v16f32(<16 x float> \(term), <16 x float> \(splat(coefficient)), <16 x float> \(s))")
                }
                sum = name
            }
            return sum ?? "zeroinitializer"
        }
    }

    /// `matrix · X · otherᵀ` for a grid `X` of vectors (rows × columns): the rows combined,
    /// then the columns of the result.
    static func sandwich(_ matrix: [[Double]], _ grid: [[String]], _ other: [[Double]], tag: String, into lines: inout [String]) -> [[String]] {
        let columns = grid[0].count
        // T = matrix · X, one column at a time.
        let t = (0..<columns).map { column in combine(matrix, grid.map { $0[column] }, tag: "\(tag).l\(column)", into: &lines) }
        // R = T · otherᵀ, one row of T at a time.
        return (0..<matrix.count).map { row in combine(other, t.map { $0[row] }, tag: "\(tag).r\(row)", into: &lines) }
    }

    static func splat(_ value: Double) -> String {
        let literal = LoopEmitter.literal(Float(value))
        return "<" + [String](repeating: "float \(literal)", count: lanes).joined(separator: ", ") + ">"
    }

    /// `<16 x i64> <0, s, 2s, …>`.
    static func strides(_ step: Int) -> String { ConvolutionKernels.indexConstant((0..<lanes).map { $0 * step }) }

    /// A loop function over [begin, end) with args[0] `output`, args[1] `input`, the loop
    /// variable `%j`.
    static func loop(_ name: String, body: [String]) -> (name: String, text: String) {
        (name, ConvolutionKernels.loopFunction(name, arguments: ["out", "in"], body: body + ["  br label %latch"]))
    }

    /// args[0] W[ξ][C][O], args[1] the filter [O, C, 3, 3] as the op holds it; [begin, end)
    /// over (input channel, block of 16 output channels) pairs.
    func weightsFunction() -> (name: String, text: String) {
        let lanes = Self.lanes, blocks = outputChannels / lanes
        // Filter element (out, in, u, v) of this convolution, in the op's [O, C, 3, 3] filter.
        let (inStride, laneStride) = flipsFilter ? (outputChannels * 9, 9) : (9, inputChannels * 9)
        var lines = [
            "  %i = udiv i64 %j, \(blocks)",
            "  %ob = urem i64 %j, \(blocks)",
            "  %ioff = mul nuw nsw i64 %i, \(inStride)",
            "  %ooff = mul nuw nsw i64 %ob, \(lanes * laneStride)",
            "  %base = add nuw nsw i64 %ioff, %ooff",
        ]
        var g: [[String]] = []
        for u in 0..<3 {
            var row: [String] = []
            for v in 0..<3 {
                let tap = flipsFilter ? (2 - u) * 3 + (2 - v) : u * 3 + v
                lines += [
                    "  %toff\(u)\(v) = add nuw nsw i64 %base, \(tap)",
                    "  %tp\(u)\(v) = getelementptr float, float* %in, i64 %toff\(u)\(v)",
                    "  %gp\(u)\(v) = getelementptr float, float* %tp\(u)\(v), \(Self.strides(laneStride))",
                    "  %g\(u)\(v) = call <16 x float> @llvm.masked.gather.v16f32.v16p0f32(<16 x float*> %gp\(u)\(v), i32 4, \(ConvolutionKernels.maskConstant([Bool](repeating: true, count: lanes))), <16 x float> zeroinitializer)",
                ]
                row.append("%g\(u)\(v)")
            }
            g.append(row)
        }
        let w = Self.sandwich(filterTransform, g, filterTransform, tag: "w", into: &lines)
        // W[ξ][i][ob·16 …]: ξ·C·O + i·O + ob·16.
        lines += [
            "  %irow = mul nuw nsw i64 %i, \(outputChannels)",
            "  %ocol = mul nuw nsw i64 %ob, \(lanes)",
            "  %dst = add nuw nsw i64 %irow, %ocol",
        ]
        for a in 0..<windowSide {
            for b in 0..<windowSide {
                let xi = a * windowSide + b
                lines += [
                    "  %d\(xi) = add nuw nsw i64 %dst, \(xi * inputChannels * outputChannels)",
                    "  %dp\(xi) = getelementptr inbounds float, float* %out, i64 %d\(xi)",
                    "  %dv\(xi) = bitcast float* %dp\(xi) to <16 x float>*",
                    "  store <16 x float> \(w[a][b]), <16 x float>* %dv\(xi), align 4",
                ]
            }
        }
        return Self.loop("winograd_weights_" + suffix, body: lines)
    }

    /// Transposes 16 vectors (rows) of 16 lanes: lane l of result r is lane r of row l. Four
    /// stages, each swapping one bit of the row index with the same bit of the lane index
    /// between pairs of rows (16 two-source shuffles a stage).
    static func transpose(_ rows: [String], tag: String, into lines: inout [String]) -> [String] {
        var rows = rows
        for (stage, bit) in [8, 4, 2, 1].enumerated() {
            var next = rows
            for i in 0..<lanes where i & bit == 0 {
                let (a, b) = (rows[i], rows[i + bit])
                // Lanes of a with the bit clear stay; those with it set come from b's lane l − bit.
                let low = (0..<lanes).map { $0 & bit == 0 ? $0 : lanes + $0 - bit }
                let high = (0..<lanes).map { $0 & bit == 0 ? $0 + bit : lanes + $0 }
                for (target, indices) in [(i, low), (i + bit, high)] {
                    let name = "%\(tag).s\(stage).\(target)"
                    lines.append("  \(name) = shufflevector <16 x float> \(a), <16 x float> \(b), <16 x i32> <"
                                 + indices.map { "i32 \($0)" }.joined(separator: ", ") + ">")
                    next[target] = name
                }
            }
            rows = next
        }
        return rows
    }

    /// Stores a `<16 x float>` at `pointer` + `offset` floats (an i64 operand).
    static func storeVector(_ value: String, _ pointer: String, _ offset: String, tag: String) -> [String] {
        [
            "  %\(tag).p = getelementptr inbounds float, float* \(pointer), i64 \(offset)",
            "  %\(tag).v = bitcast float* %\(tag).p to <16 x float>*",
            "  store <16 x float> \(value), <16 x float>* %\(tag).v, align 4",
        ]
    }

    /// The loop that packs x for the input transform.
    func packFunction() -> (name: String, text: String) {
        Self.packFunction("winograd_pack_" + layoutSuffix, channels: inputChannels, height: height, width: width,
                          paddedHeight: paddedHeight, paddedWidth: paddedWidth, border: 1)
    }

    /// Loads the `rows × columns` grid of vectors at `%in` + `base` + `offset(a, b)` floats
    /// (`base` an i64 operand), named `%<tag><a><b>`.
    static func loadGrid(rows: Int, columns: Int, base: String, tag: String, into lines: inout [String],
                         offset: (Int, Int) -> Int) -> [[String]] {
        (0..<rows).map { a in
            (0..<columns).map { b in
                let name = "\(tag)\(a)\(b)"
                lines += [
                    "  %\(name).o = add nuw nsw i64 \(base), \(offset(a, b))",
                    "  %\(name).p = getelementptr inbounds float, float* %in, i64 %\(name).o",
                    "  %\(name).q = bitcast float* %\(name).p to <16 x float>*",
                    "  %\(name) = load <16 x float>, <16 x float>* %\(name).q, align 4",
                ]
                return "%\(name)"
            }
        }
    }

    /// A loop over `count` blocks of 16 channels inside a loop function's block: the lines that
    /// open it (`%k` the block, `%koff` its first channel) and those that close it.
    static func channelBlocks(_ count: Int) -> (open: [String], close: [String]) {
        (["  br label %channels", "channels:", "  %k = phi i64 [ 0, %block ], [ %k.next, %channels ]",
          "  %koff = mul nuw nsw i64 %k, \(lanes)"],
         ["  %k.next = add nuw nsw i64 %k, 1", "  %k.done = icmp eq i64 %k.next, \(count)",
          "  br i1 %k.done, label %channels.end, label %channels", "channels.end:"])
    }

    /// args[0] the packed image [PH, PW, C], args[1] one image [C, H, W]; [begin, end) over
    /// (block of 16 channels, packed row) pairs, a block's rows in order (16 streams for the
    /// prefetcher rather than 32 or more: byol-s's 28×28 forward layers ran ~4% faster).
    /// Packed pixel (r, q) holds the image's
    /// (r − border, q − border), zeros outside it. A row inside the image is read 16 pixels of
    /// 16 channels at a time (16 row loads) and transposed in registers.
    static func packFunction(_ name: String, channels inputChannels: Int, height: Int, width: Int,
                             paddedHeight: Int, paddedWidth: Int, border: Int) -> (name: String, text: String) {
        let plane = height * width
        var lines = [
            "  %r = urem i64 %j, \(paddedHeight)",
            "  %cb = udiv i64 %j, \(paddedHeight)",
            "  %coff = mul nuw nsw i64 %cb, \(lanes)",
            "  %rowoff = mul nuw nsw i64 %r, \(paddedWidth * inputChannels)",
            "  %dst = add nuw nsw i64 %rowoff, %coff",
            "  %h = sub i64 %r, \(border)",
            "  %inside = icmp ult i64 %h, \(height)",
            "  br i1 %inside, label %copy, label %zero",
            "zero:",
        ]
        for q in 0..<paddedWidth {
            lines.append("  %z\(q).o = add nuw nsw i64 %dst, \(q * inputChannels)")
            lines += storeVector("zeroinitializer", "%out", "%z\(q).o", tag: "z\(q)")
        }
        lines += [
            "  br label %block.end",
            "copy:",
            "  %hw = mul nuw nsw i64 %h, \(width)",
            "  %cplane = mul nuw nsw i64 %cb, \(lanes * plane)",
            "  %src = add nuw nsw i64 %cplane, %hw",
        ]
        for q in Array(0..<border) + Array(width + border..<paddedWidth) {
            lines.append("  %e\(q).o = add nuw nsw i64 %dst, \(q * inputChannels)")
            lines += storeVector("zeroinitializer", "%out", "%e\(q).o", tag: "e\(q)")
        }
        for w0 in stride(from: 0, to: width, by: lanes) {
            let valid = Swift.min(lanes, width - w0)
            var rows: [String] = []
            for c in 0..<lanes {
                let tag = "l\(w0).\(c)"
                lines += [
                    "  %\(tag).o = add nuw nsw i64 %src, \(c * plane + w0)",
                    "  %\(tag).p = getelementptr inbounds float, float* %in, i64 %\(tag).o",
                ]
                let (loading, value) = ConvolutionKernels.load("%\(tag).p", offsets: (0..<lanes).map { $0 < valid ? $0 : nil }, gate: nil, tag: tag)
                lines += loading
                rows.append(value)
            }
            let pixels = transpose(rows, tag: "t\(w0)", into: &lines)
            for l in 0..<valid {
                let tag = "w\(w0 + l)"
                lines.append("  %\(tag).o = add nuw nsw i64 %dst, \((w0 + l + border) * inputChannels)")
                lines += storeVector(pixels[l], "%out", "%\(tag).o", tag: tag)
            }
        }
        lines += ["  br label %block.end", "block.end:"]
        return loop(name, body: lines)
    }

    /// args[0] U[ξ][tile][C], args[1] the packed image; [begin, end) over tiles. A loop over
    /// blocks of 16 channels reads the tile's window and writes Bᵀ d B.
    func inputFunction() -> (name: String, text: String) {
        let lanes = Self.lanes, blocks = inputChannels / lanes
        var lines = [
            "  %ty = udiv i64 %j, \(tileColumns)",
            "  %tx = urem i64 %j, \(tileColumns)",
            "  %row0 = mul nuw nsw i64 %ty, \(tileSide * paddedWidth)",
            "  %col0 = mul nuw nsw i64 %tx, \(tileSide)",
            "  %pix0 = add nuw nsw i64 %row0, %col0",
            "  %src0 = mul nuw nsw i64 %pix0, \(inputChannels)",
            "  %dst0 = mul nuw nsw i64 %j, \(inputChannels)",
        ]
        let loop = Self.channelBlocks(blocks)
        lines += loop.open + [
            "  %src = add nuw nsw i64 %src0, %koff",
            "  %dst = add nuw nsw i64 %dst0, %koff",
        ]
        let d = Self.loadGrid(rows: windowSide, columns: windowSide, base: "%src", tag: "d", into: &lines) { a, b in
            (a * paddedWidth + b) * inputChannels
        }
        let v = Self.sandwich(inputTransform, d, inputTransform, tag: "v", into: &lines)
        for a in 0..<windowSide {
            for b in 0..<windowSide {
                let xi = a * windowSide + b
                lines += [
                    "  %u\(xi) = add nuw nsw i64 %dst, \(xi * transformedStride)",
                    "  %up\(xi) = getelementptr inbounds float, float* %out, i64 %u\(xi)",
                    "  %uv\(xi) = bitcast float* %up\(xi) to <16 x float>*",
                    "  store <16 x float> \(v[a][b]), <16 x float>* %uv\(xi), align 4",
                ]
            }
        }
        lines += loop.close
        return Self.loop("winograd_input_" + layoutSuffix, body: lines)
    }

    /// args[0] the channels-last result [tile rows·2, tile columns·2, O], args[1] M[ξ][tile][O];
    /// [begin, end) over tiles. A loop over blocks of 16 output channels computes Aᵀ m A.
    func outputFunction() -> (name: String, text: String) {
        let lanes = Self.lanes, blocks = outputChannels / lanes, side = tileSide
        let resultWidth = tileColumns * side
        var lines = [
            "  %ty = udiv i64 %j, \(tileColumns)",
            "  %tx = urem i64 %j, \(tileColumns)",
            "  %src0 = mul nuw nsw i64 %j, \(outputChannels)",
            "  %y0 = mul nuw nsw i64 %ty, \(side * resultWidth)",
            "  %x0 = mul nuw nsw i64 %tx, \(side)",
            "  %pix0 = add nuw nsw i64 %y0, %x0",
            "  %dst0 = mul nuw nsw i64 %pix0, \(outputChannels)",
        ]
        let loop = Self.channelBlocks(blocks)
        lines += loop.open + [
            "  %src = add nuw nsw i64 %src0, %koff",
            "  %dst = add nuw nsw i64 %dst0, %koff",
        ]
        let m = Self.loadGrid(rows: windowSide, columns: windowSide, base: "%src", tag: "m", into: &lines) { a, b in
            (a * windowSide + b) * productStride
        }
        let y = Self.sandwich(outputTransform, m, outputTransform, tag: "y", into: &lines)
        for i in 0..<side {
            for k in 0..<side {
                lines.append("  %r\(i)\(k) = add nuw nsw i64 %dst, \((i * resultWidth + k) * outputChannels)")
                lines += Self.storeVector(y[i][k], "%out", "%r\(i)\(k)", tag: "s\(i)\(k)")
            }
        }
        lines += loop.close
        return Self.loop("winograd_output_" + layoutSuffix, body: lines)
    }

    /// args[0] one result image [O, H, W], args[1] the channels-last result; [begin, end) over
    /// (block of 16 output channels, image row) pairs, a block's rows in order as in `pack`:
    /// 16 pixels of 16 channels at a time,
    /// transposed in registers and stored as 16 channel rows (the row's end masked).
    func unpackFunction() -> (name: String, text: String) {
        let lanes = Self.lanes, plane = height * width
        let resultWidth = tileColumns * tileSide
        var lines = [
            "  %h = urem i64 %j, \(height)",
            "  %ob = udiv i64 %j, \(height)",
            "  %coff = mul nuw nsw i64 %ob, \(lanes)",
            "  %rowoff = mul nuw nsw i64 %h, \(resultWidth * outputChannels)",
            "  %src = add nuw nsw i64 %rowoff, %coff",
            "  %cplane = mul nuw nsw i64 %ob, \(lanes * plane)",
            "  %hw = mul nuw nsw i64 %h, \(width)",
            "  %dst = add nuw nsw i64 %cplane, %hw",
        ]
        for w0 in stride(from: 0, to: width, by: lanes) {
            let valid = Swift.min(lanes, width - w0)
            var pixels: [String] = []
            for l in 0..<lanes {
                guard l < valid else { pixels.append("zeroinitializer"); continue }
                let tag = "l\(w0 + l)"
                lines += [
                    "  %\(tag).o = add nuw nsw i64 %src, \((w0 + l) * outputChannels)",
                    "  %\(tag).p = getelementptr inbounds float, float* %in, i64 %\(tag).o",
                    "  %\(tag).q = bitcast float* %\(tag).p to <16 x float>*",
                    "  %\(tag) = load <16 x float>, <16 x float>* %\(tag).q, align 4",
                ]
                pixels.append("%\(tag)")
            }
            let channels = Self.transpose(pixels, tag: "t\(w0)", into: &lines)
            let mask = (0..<lanes).map { $0 < valid }
            for (c, vector) in channels.enumerated() {
                lines.append("  %c\(w0).\(c).o = add nuw nsw i64 %dst, \(c * plane + w0)")
                lines.append("  %c\(w0).\(c).p = getelementptr inbounds float, float* %out, i64 %c\(w0).\(c).o")
                lines += ConvolutionKernels.store(vector, at: "%c\(w0).\(c).p", offset: 0, valid: mask, tag: "c\(w0).\(c)")
            }
        }
        return Self.loop("winograd_unpack_" + layoutSuffix, body: lines)
    }
}
