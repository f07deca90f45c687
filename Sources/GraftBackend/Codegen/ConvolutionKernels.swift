// ConvolutionKernels: the data-movement halves of convolution as generated loops: im2col
// (gather an image's patches into a matrix the BLAS multiplies) and col2im (its adjoint,
// written as a gather so every output element is summed by one thread, without atomics).

import GraftIR

extension ConvolutionGeometry {
    var suffix: String {
        "c\(channels)h\(height)w\(width)k\(kernelHeight)x\(kernelWidth)s\(stride[0])x\(stride[1])p\(padding[0])x\(padding[1])"
    }
}

enum ConvolutionKernels {
    /// Lanes of the vectors the kernels are written in (one AVX-512 register of floats).
    static let lanes = 16

    /// The intrinsics the kernels call; every module that holds one of them declares these.
    static let declarations = [
        "declare <16 x float> @llvm.masked.load.v16f32.p0v16f32(<16 x float>*, i32 immarg, <16 x i1>, <16 x float>)",
        "declare void @llvm.masked.store.v16f32.p0v16f32(<16 x float>, <16 x float>*, i32 immarg, <16 x i1>)",
        "declare <16 x float> @llvm.masked.gather.v16f32.v16p0f32(<16 x float*>, i32 immarg, <16 x i1>, <16 x float>)",
    ]

    /// `void @<name>(float** args, i64 begin, i64 end)`, a loop of `%j` over [begin, end): the
    /// buffers args[0], args[1], … loaded as `%<arguments[i]>`, then `body`, which runs in
    /// block `%block` and ends by branching to `%latch`.
    static func loopFunction(_ name: String, arguments: [String], body: [String]) -> String {
        let loads = arguments.enumerated().flatMap { index, argument in
            index == 0 ? ["  %\(argument) = load float*, float** %args, align 8"] : [
                "  %\(argument)slot = getelementptr inbounds float*, float** %args, i64 \(index)",
                "  %\(argument) = load float*, float** %\(argument)slot, align 8",
            ]
        }
        return (["define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {", "entry:"] + loads + [
            "  %empty = icmp sge i64 %begin, %end",
            "  br i1 %empty, label %exit, label %block",
            "block:",
            "  %j = phi i64 [ %begin, %entry ], [ %j.next, %latch ]",
        ] + body + [
            "latch:",
            "  %j.next = add nuw nsw i64 %j, 1",
            "  %done = icmp eq i64 %j.next, %end",
            "  br i1 %done, label %exit, label %block",
            "exit:",
            "  ret void",
            "}",
        ]).joined(separator: "\n")
    }

    /// `<16 x i1> <…>` of `mask`.
    static func maskConstant(_ mask: [Bool]) -> String {
        "<16 x i1> <" + mask.map { $0 ? "i1 true" : "i1 false" }.joined(separator: ", ") + ">"
    }

    /// `<16 x i64> <…>` of `values`.
    static func indexConstant(_ values: [Int]) -> String {
        "<16 x i64> <" + values.map { "i64 \($0)" }.joined(separator: ", ") + ">"
    }

    /// Stores the vector `value` at `pointer` (a `float*`) + `offset` floats, the lanes of
    /// `valid` only (a plain store when all are).
    static func store(_ value: String, at pointer: String, offset: Int, valid: [Bool], tag: String) -> [String] {
        var lines = [
            "  %sp.\(tag) = getelementptr inbounds float, float* \(pointer), i64 \(offset)",
            "  %sv.\(tag) = bitcast float* %sp.\(tag) to <16 x float>*",
        ]
        if valid.allSatisfy({ $0 }) {
            lines.append("  store <16 x float> \(value), <16 x float>* %sv.\(tag), align 4")
        } else {
            lines.append("  call void @llvm.masked.store.v16f32.p0v16f32(<16 x float> \(value), <16 x float>* %sv.\(tag), i32 4, \(maskConstant(valid)))")
        }
        return lines
    }

    /// Emits a `<16 x float>` whose lane l is `row[offsets[l]]`, or 0 where `offsets[l]` is nil,
    /// reading only the offsets given (so never outside the row). `gate`, a `<16 x i1>` value,
    /// turns all the lanes off at run time. Offsets that rise one by one are one masked load;
    /// offsets within 32 floats (a stride of 2) are one or two masked loads and a shuffle; any
    /// other pattern is a masked gather. Returns the lines and the value.
    static func load(_ row: String, offsets: [Int?], gate: String?, tag: String) -> (lines: [String], value: String) {
        let needed = offsets.compactMap { $0 }
        guard let low = needed.min(), let high = needed.max() else { return ([], "zeroinitializer") }
        var lines: [String] = []
        /// The mask of `lanes`, gated.
        func mask(_ lanes: [Bool], _ name: String) -> String {
            guard let gate else { return maskConstant(lanes) }
            lines.append("  %\(name) = and <16 x i1> \(gate), \(maskConstant(lanes).dropFirst("<16 x i1> ".count))")
            return "<16 x i1> %\(name)"
        }
        /// A masked load of the 16 floats at `row + base`, lanes `lanes` only.
        func vector(at base: Int, lanes: [Bool], _ name: String) -> String {
            lines += [
                "  %p.\(name) = getelementptr float, float* \(row), i64 \(base)",
                "  %q.\(name) = bitcast float* %p.\(name) to <16 x float>*",
            ]
            if gate == nil && lanes.allSatisfy({ $0 }) {
                lines.append("  %\(name) = load <16 x float>, <16 x float>* %q.\(name), align 4")
            } else {
                let m = mask(lanes, "m.\(name)")
                lines.append("  %\(name) = call <16 x float> @llvm.masked.load.v16f32.p0v16f32(<16 x float>* %q.\(name), i32 4, \(m), <16 x float> zeroinitializer)")
            }
            return "%\(name)"
        }
        let first = offsets.firstIndex { $0 != nil }!
        let shift = offsets[first]! - first
        if offsets.indices.allSatisfy({ offsets[$0] == nil || offsets[$0]! - $0 == shift }) {
            let value = vector(at: shift, lanes: offsets.map { $0 != nil }, "v.\(tag)")
            return (lines, value)
        }
        if high - low < 2 * lanes {
            let wanted = Set(needed)
            let count = high - low < lanes ? 1 : 2
            let parts = (0..<count).map { part in
                vector(at: low + part * lanes, lanes: (0..<lanes).map { wanted.contains(low + part * lanes + $0) }, "v\(part).\(tag)")
            }
            // Lanes without an offset take a position that was not loaded (a zero): the second
            // operand's first lane when it is the zero vector, else any position not wanted.
            let zero = count == 1 ? lanes : (0..<2 * lanes).first { !wanted.contains(low + $0) }!
            let indices = offsets.map { $0.map { $0 - low } ?? zero }
            let second = count == 1 ? "zeroinitializer" : parts[1]
            lines.append("  %v.\(tag) = shufflevector <16 x float> \(parts[0]), <16 x float> \(second), <16 x i32> <" + indices.map { "i32 \($0)" }.joined(separator: ", ") + ">")
            return (lines, "%v.\(tag)")
        }
        lines.append("  %p.\(tag) = getelementptr float, float* \(row), \(indexConstant(offsets.map { $0 ?? low }))")
        let m = mask(offsets.map { $0 != nil }, "m.\(tag)")
        lines.append("  %v.\(tag) = call <16 x float> @llvm.masked.gather.v16f32.v16p0f32(<16 x float*> %p.\(tag), i32 4, \(m), <16 x float> zeroinitializer)")
        return (lines, "%v.\(tag)")
    }

    /// `void @im2col_<geometry>(float** args, i64 begin, i64 end)`: args[0] the patch matrix
    /// [C·KH·KW, OH·OW], args[1] one image [C, H, W]; [begin, end) over the image's channels.
    ///
    /// Per channel, every tap (kh, kw) is unrolled, so which output columns `ow` read inside
    /// the image (`0 ≤ ow·s + kw − p < W`) is a constant lane mask per 16-column chunk; a loop
    /// over output rows copies each row in masked vector loads (strided gathers for a column
    /// stride above 1) and stores, or stores zeros for a row above or below the image.
    static func im2col(_ g: ConvolutionGeometry) -> (name: String, text: String) {
        let name = "im2col_" + g.suffix
        let taps = g.kernelHeight * g.kernelWidth
        let (s0, s1) = (g.stride[0], g.stride[1]), (p0, p1) = (g.padding[0], g.padding[1])
        let chunks = (g.outputWidth + lanes - 1) / lanes
        var lines: [String] = []
        for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
                let tap = kh * g.kernelWidth + kw
                let t = "t\(tap)"
                let next = tap + 1 == taps ? "chan.end" : "t\(tap + 1).head"
                lines += [
                    "\(t).head:",
                    "  br label %\(t).oh",
                    "\(t).oh:",
                    "  %oh.\(t) = phi i64 [ 0, %\(t).head ], [ %ohn.\(t), %\(t).latch ]",
                    "  %ohs.\(t) = mul nuw nsw i64 %oh.\(t), \(s0)",
                    "  %ih.\(t) = add i64 %ohs.\(t), \(kh - p0)",
                    "  %in.\(t) = icmp ult i64 %ih.\(t), \(g.height)",
                    "  %ohw.\(t) = mul nuw nsw i64 %oh.\(t), \(g.outputWidth)",
                    "  %doff.\(t) = add nuw nsw i64 %ohw.\(t), \(tap * g.outputPixels)",
                    "  %drow.\(t) = getelementptr inbounds float, float* %dstc, i64 %doff.\(t)",
                    "  br i1 %in.\(t), label %\(t).copy, label %\(t).zero",
                    "\(t).copy:",
                    "  %soff.\(t) = mul nuw nsw i64 %ih.\(t), \(g.width)",
                    "  %srow.\(t) = getelementptr inbounds float, float* %plane, i64 %soff.\(t)",
                ]
                var zeros: [String] = []
                for j in 0..<chunks {
                    let tag = "\(t).\(j)"
                    let columns = (0..<lanes).map { j * lanes + $0 }
                    let stored = columns.map { $0 < g.outputWidth }
                    let inputColumns = columns.map { $0 * s1 + kw - p1 }
                    let valid = zip(stored, inputColumns).map { $0 && $1 >= 0 && $1 < g.width }
                    let (loading, value) = load("%srow.\(t)", offsets: zip(valid, inputColumns).map { $0 ? $1 : nil }, gate: nil, tag: tag)
                    lines += loading
                    lines += store(value, at: "%drow.\(t)", offset: j * lanes, valid: stored, tag: "c\(tag)")
                    zeros += store("zeroinitializer", at: "%drow.\(t)", offset: j * lanes, valid: stored, tag: "z\(tag)")
                }
                lines += ["  br label %\(t).latch", "\(t).zero:"] + zeros + [
                    "  br label %\(t).latch",
                    "\(t).latch:",
                    "  %ohn.\(t) = add nuw nsw i64 %oh.\(t), 1",
                    "  %ohd.\(t) = icmp eq i64 %ohn.\(t), \(g.outputHeight)",
                    "  br i1 %ohd.\(t), label %\(next), label %\(t).oh",
                ]
            }
        }
        let text = """
        define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {
        entry:
          %col = load float*, float** %args, align 8
          %slot = getelementptr inbounds float*, float** %args, i64 1
          %image = load float*, float** %slot, align 8
          %empty = icmp sge i64 %begin, %end
          br i1 %empty, label %exit, label %chan
        chan:
          %c = phi i64 [ %begin, %entry ], [ %c.next, %chan.end ]
          %cplane = mul nuw nsw i64 %c, \(g.height * g.width)
          %plane = getelementptr inbounds float, float* %image, i64 %cplane
          %cdst = mul nuw nsw i64 %c, \(taps * g.outputPixels)
          %dstc = getelementptr inbounds float, float* %col, i64 %cdst
          br label %t0.head
        \(lines.joined(separator: "\n"))
        chan.end:
          %c.next = add nuw nsw i64 %c, 1
          %cdone = icmp eq i64 %c.next, %end
          br i1 %cdone, label %exit, label %chan
        exit:
          ret void
        }
        """
        return (name, text)
    }

    /// `void @col2im_<geometry>(float** args, i64 begin, i64 end)`: args[0] one image's
    /// gradient [C, H, W] (overwritten), args[1] the patch-matrix gradient [C·KH·KW, OH·OW];
    /// [begin, end) over the image's rows (c, ih), each element summing the patches that read
    /// it, so every output is written by one thread, without atomics.
    ///
    /// Per row, kernel row kh reads at most one output row oh (a row-uniform test); along the
    /// row, in 16-column chunks, each tap kw is a masked vector load (a gather for a column
    /// stride above 1) whose lane mask is a constant.
    static func col2im(_ g: ConvolutionGeometry) -> (name: String, text: String) {
        let name = "col2im_" + g.suffix
        let (s0, s1) = (g.stride[0], g.stride[1]), (p0, p1) = (g.padding[0], g.padding[1])
        let chunks = (g.width + lanes - 1) / lanes
        var lines: [String] = []
        for kh in 0..<g.kernelHeight {
            let h = "h\(kh)"
            lines += [
                "  %nh.\(h) = add i64 %ih, \(p0 - kh)",
                "  %inh.\(h) = icmp ult i64 %nh.\(h), \(g.outputHeight * s0)",
            ]
            if s0 == 1 {
                lines += ["  %vh.\(h) = and i1 %inh.\(h), true", "  %oh.\(h) = add i64 %nh.\(h), 0"]
            } else {
                lines += [
                    "  %rh.\(h) = urem i64 %nh.\(h), \(s0)",
                    "  %exh.\(h) = icmp eq i64 %rh.\(h), 0",
                    "  %vh.\(h) = and i1 %inh.\(h), %exh.\(h)",
                    "  %oh.\(h) = udiv i64 %nh.\(h), \(s0)",
                ]
            }
            lines += [
                "  %ohw.\(h) = mul i64 %oh.\(h), \(g.outputWidth)",
                "  %hoff.\(h) = add i64 %cbase, %ohw.\(h)",
                "  %hrow.\(h) = getelementptr float, float* %dcol, i64 %hoff.\(h)",
                "  %vhi.\(h) = insertelement <16 x i1> poison, i1 %vh.\(h), i64 0",
                "  %vhs.\(h) = shufflevector <16 x i1> %vhi.\(h), <16 x i1> poison, <16 x i32> zeroinitializer",
            ]
        }
        for j in 0..<chunks {
            let columns = (0..<lanes).map { j * lanes + $0 }
            let stored = columns.map { $0 < g.width }
            var accumulator = "zeroinitializer"
            for kh in 0..<g.kernelHeight {
                for kw in 0..<g.kernelWidth {
                    let tag = "\(j).\(kh).\(kw)"
                    let numerators = columns.map { $0 + p1 - kw }   // ow·s for the input column
                    let valid = zip(stored, numerators).map { $0 && $1 >= 0 && $1 < g.outputWidth * s1 && $1 % s1 == 0 }
                    guard valid.contains(true) else { continue }
                    let base = (kh * g.kernelWidth + kw) * g.outputPixels
                    let (loading, value) = load("%hrow.h\(kh)", offsets: zip(valid, numerators).map { $0 ? base + $1 / s1 : nil },
                                                gate: "%vhs.h\(kh)", tag: tag)
                    lines += loading
                    lines.append("  %a.\(tag) = fadd <16 x float> \(accumulator), \(value)")
                    accumulator = "%a.\(tag)"
                }
            }
            lines += store(accumulator, at: "%dst", offset: j * lanes, valid: stored, tag: "\(j)")
        }
        let text = """
        define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {
        entry:
          %dx = load float*, float** %args, align 8
          %slot = getelementptr inbounds float*, float** %args, i64 1
          %dcol = load float*, float** %slot, align 8
          %empty = icmp sge i64 %begin, %end
          br i1 %empty, label %exit, label %row
        row:
          %i = phi i64 [ %begin, %entry ], [ %i.next, %row ]
          %ih = urem i64 %i, \(g.height)
          %c = udiv i64 %i, \(g.height)
          %cbase = mul nuw nsw i64 %c, \(g.kernelHeight * g.kernelWidth * g.outputPixels)
          %rowoff = mul nuw nsw i64 %i, \(g.width)
          %dst = getelementptr inbounds float, float* %dx, i64 %rowoff
        \(lines.joined(separator: "\n"))
          %i.next = add nuw nsw i64 %i, 1
          %done = icmp eq i64 %i.next, %end
          br i1 %done, label %exit, label %row
        exit:
          ret void
        }
        """
        return (name, text)
    }
}
