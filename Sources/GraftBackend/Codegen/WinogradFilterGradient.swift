// WinogradFilterGradient: the filter gradient of a 3×3 stride-1 convolution as Winograd
// F(3×3, m×m): each m×m tile e of dy and the (m + 2)×(m + 2) window d of x it was computed
// from give
//
//     dW += Gᵀ [ (A e Aᵀ) ⊙ (Bᵀ d B) ] G
//
// with the same B, G and A (= (Aᵀ)ᵀ) and tile side as the forward pass's F(m×m, 3×3). The
// sum over tiles and images is taken in the transformed domain, so for every `images` images
// the runtime packs and transforms x (the forward pass's loops) and dy, image by image, and
// adds (m + 2)² products M[ξ] [O, C] += E[ξ]ᵀ · U[ξ] (E[ξ] [rows, O], U[ξ] [rows, C]); once
// per call `filter` turns the summed M into the 3×3 gradient, Gᵀ M G: for F(3×3, 4×4) 36
// multiplies per tile of 16 outputs and channel pair instead of 144.

import GraftIR

/// One Winograd filter gradient: sizes, and the loops that compute it.
public struct WinogradFilterGradient: Hashable, Sendable {
    /// The forward pass of the same layer: x's packing and input transform, and the sizes.
    public var image: WinogradConvolution

    static let lanes = WinogradConvolution.lanes

    /// The Winograd form of the filter gradient on geometry `g`, or nil (see `WinogradConvolution.of`).
    public static func of(_ direction: ConvolutionDirection, geometry g: ConvolutionGeometry) -> WinogradFilterGradient? {
        guard direction == .filterGradient, let forward = WinogradConvolution.of(.forward, geometry: g) else { return nil }
        return WinogradFilterGradient(image: forward)
    }

    var channels: Int { image.inputChannels }
    var outputChannels: Int { image.outputChannels }
    /// dy packed channels-last, [tile rows · m, tile columns · m, O], zeros past the image.
    var gradientHeight: Int { image.tileRows * image.tileSide }
    var gradientWidth: Int { image.tileColumns * image.tileSide }

    /// Floats of a worker's scratch: x packed and transformed (U), dy packed and transformed (E).
    public var gradientPackedFloats: Int { gradientHeight * gradientWidth * outputChannels }
    public var gradientTransformedFloats: Int { image.positions * gradientStride }
    /// Floats from one position's E[ξ] to the next (one cache line past the rows: see
    /// `WinogradConvolution.transformedStride`).
    public var gradientStride: Int { image.rows * outputChannels + Self.lanes }
    public var scratchFloats: Int { image.packedFloats + image.transformedFloats + gradientPackedFloats + gradientTransformedFloats }
    /// Floats of one partial sum M[ξ][O][C].
    public var sumFloats: Int { image.positions * outputChannels * channels }

    /// Loop ranges: dy's pack over (row, 16 channels) pairs; the final transform over
    /// (output channel, 16 input channels) pairs.
    public var gradientPackRows: Int { gradientHeight * (outputChannels / Self.lanes) }
    public var filterBlocks: Int { outputChannels * (channels / Self.lanes) }

    /// The product for one position ξ: M[O, C] += Σ_tiles E[tile, O] · U[tile, C].
    public var product: ConvolutionProduct {
        .broadcast(rows: outputChannels, columns: channels, reduction: image.rows, rowStride: 1,
                   reductionStride: outputChannels, accumulates: true)
    }

    var suffix: String { image.suffix }

    /// The five loops: x's pack and input transform (`image`'s, shared with the forward pass),
    /// dy's pack and transform, and the final transform.
    func functions() -> [(name: String, text: String)] {
        [image.packFunction(), image.inputFunction(),
         WinogradConvolution.packFunction("winograd_dypack_" + suffix, channels: outputChannels, height: image.height, width: image.width,
                                          paddedHeight: gradientHeight, paddedWidth: gradientWidth, border: 0),
         transformFunction(), filterFunction()]
    }

    /// args[0] E[ξ][tile][O], args[1] dy packed; [begin, end) over tiles: A e Aᵀ of each m×m
    /// tile, 16 channels at a time.
    func transformFunction() -> (name: String, text: String) {
        let lanes = Self.lanes, blocks = outputChannels / lanes, side = image.tileSide
        let a = image.outputTransform.transposed()
        var lines = [
            "  %ty = udiv i64 %j, \(image.tileColumns)",
            "  %tx = urem i64 %j, \(image.tileColumns)",
            "  %row0 = mul nuw nsw i64 %ty, \(side * gradientWidth)",
            "  %col0 = mul nuw nsw i64 %tx, \(side)",
            "  %pix0 = add nuw nsw i64 %row0, %col0",
            "  %src0 = mul nuw nsw i64 %pix0, \(outputChannels)",
            "  %dst0 = mul nuw nsw i64 %j, \(outputChannels)",
        ]
        let loop = WinogradConvolution.channelBlocks(blocks)
        lines += loop.open + [
            "  %src = add nuw nsw i64 %src0, %koff",
            "  %dst = add nuw nsw i64 %dst0, %koff",
        ]
        let e = WinogradConvolution.loadGrid(rows: side, columns: side, base: "%src", tag: "e", into: &lines) { i, k in
            (i * gradientWidth + k) * outputChannels
        }
        let transformed = WinogradConvolution.sandwich(a, e, a, tag: "t", into: &lines)
        for x in 0..<image.windowSide {
            for y in 0..<image.windowSide {
                let xi = x * image.windowSide + y
                lines.append("  %u\(xi) = add nuw nsw i64 %dst, \(xi * gradientStride)")
                lines += WinogradConvolution.storeVector(transformed[x][y], "%out", "%u\(xi)", tag: "s\(xi)")
            }
        }
        lines += loop.close
        return WinogradConvolution.loop("winograd_dytransform_" + suffix, body: lines)
    }

    /// args[0] dW [O, C, 3, 3], args[1] M[ξ][O][C]; [begin, end) over (output channel, 16
    /// input channels) pairs: Gᵀ M G, scattered to the 16 channels' filters.
    func filterFunction() -> (name: String, text: String) {
        let lanes = Self.lanes, blocks = channels / lanes
        let gt = image.filterTransform.transposed()
        var lines = [
            "  %o = udiv i64 %j, \(blocks)",
            "  %cb = urem i64 %j, \(blocks)",
            "  %orow = mul nuw nsw i64 %o, \(channels)",
            "  %coff = mul nuw nsw i64 %cb, \(lanes)",
            "  %src = add nuw nsw i64 %orow, %coff",
            "  %dst0 = mul nuw nsw i64 %j, \(lanes * 9)",
        ]
        let side = image.windowSide
        let m = WinogradConvolution.loadGrid(rows: side, columns: side, base: "%src", tag: "m", into: &lines) { x, y in
            (x * side + y) * outputChannels * channels
        }
        let w = WinogradConvolution.sandwich(gt, m, gt, tag: "w", into: &lines)
        // dW[o][c][u][v] for the block's 16 channels: (o·C + c)·9 + u·3 + v = j·144 + lane·9 + tap.
        for u in 0..<3 {
            for v in 0..<3 {
                lines += [
                    "  %d\(u)\(v) = add nuw nsw i64 %dst0, \(u * 3 + v)",
                    "  %dp\(u)\(v) = getelementptr float, float* %out, i64 %d\(u)\(v)",
                    "  %dv\(u)\(v) = getelementptr float, float* %dp\(u)\(v), \(WinogradConvolution.strides(9))",
                    "  call void @llvm.masked.scatter.v16f32.v16p0f32(<16 x float> \(w[u][v]), <16 x float*> %dv\(u)\(v), i32 4, \(ConvolutionKernels.maskConstant([Bool](repeating: true, count: lanes))))",
                ]
            }
        }
        return WinogradConvolution.loop("winograd_dw_" + suffix, body: lines)
    }

    /// The intrinsics the loops call, beyond the forward pass's.
    static let declarations = WinogradConvolution.declarations + [
        "declare void @llvm.masked.scatter.v16f32.v16p0f32(<16 x float>, <16 x float*>, i32 immarg, <16 x i1>)",
    ]
}

extension Array where Element == [Double] {
    func transposed() -> [[Double]] {
        (0..<self[0].count).map { column in map { $0[column] } }
    }
}
