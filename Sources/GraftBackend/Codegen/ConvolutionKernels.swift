// ConvolutionKernels: the data-movement halves of convolution as generated loops: im2col
// (gather an image's patches into a matrix the BLAS multiplies) and col2im (its adjoint,
// written as a gather so every output element is summed by one thread, without atomics).

import GraftIR

/// The geometry of one 2-D convolution, per image.
public struct ConvolutionGeometry: Hashable, Sendable {
    public var channels: Int, height: Int, width: Int
    public var outputChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var stride: [Int], padding: [Int]
    public var outputHeight: Int, outputWidth: Int

    /// Reads the geometry from an input shape `[N, C, H, W]`, a filter shape `[O, C, KH, KW]`
    /// and the op's stride and padding.
    public init(input: [Int], filter: [Int], stride: [Int], padding: [Int]) {
        channels = input[1]; height = input[2]; width = input[3]
        outputChannels = filter[0]; kernelHeight = filter[2]; kernelWidth = filter[3]
        self.stride = stride
        self.padding = padding
        outputHeight = (height + 2 * padding[0] - kernelHeight) / stride[0] + 1
        outputWidth = (width + 2 * padding[1] - kernelWidth) / stride[1] + 1
    }

    /// Rows of the patch matrix: C·KH·KW.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the patch matrix: OH·OW.
    public var outputPixels: Int { outputHeight * outputWidth }
    /// Elements of one input image: C·H·W.
    public var imageSize: Int { channels * height * width }
    /// Whether the patch matrix is the image itself (1×1, stride 1, no padding).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == [1, 1] && padding == [0, 0]
    }

    var suffix: String {
        "c\(channels)h\(height)w\(width)k\(kernelHeight)x\(kernelWidth)s\(stride[0])x\(stride[1])p\(padding[0])x\(padding[1])"
    }
}

enum ConvolutionKernels {
    /// `void @im2col_<geometry>(float** args, i64 begin, i64 end)`: args[0] the patch matrix
    /// [C·KH·KW, OH·OW], args[1] one image [C, H, W]; [begin, end) over the matrix's rows.
    ///
    /// Each row (c, kh, kw) is filled output row by output row: the columns `ow` whose input
    /// column `ow·s + kw − p` lies inside the image form one range [lo, hi) per row, so the
    /// inner loop is a (masked, for stride 1 contiguous) copy that LLVM vectorizes; rows above
    /// or below the image are zeros.
    static func im2col(_ g: ConvolutionGeometry) -> (name: String, text: String) {
        let name = "im2col_" + g.suffix
        let taps = g.kernelHeight * g.kernelWidth
        let (s0, s1) = (g.stride[0], g.stride[1]), (p0, p1) = (g.padding[0], g.padding[1])
        let load = s1 == 1
            ? "  %sp = getelementptr float, float* %src, i64 %ow"
            : "  %ows = mul nuw nsw i64 %ow, \(s1)\n  %sp = getelementptr float, float* %src, i64 %ows"
        let text = """
        define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {
        entry:
          %col = load float*, float** %args, align 8
          %slot = getelementptr inbounds float*, float** %args, i64 1
          %image = load float*, float** %slot, align 8
          %empty = icmp sge i64 %begin, %end
          br i1 %empty, label %exit, label %row.loop
        row.loop:
          %r = phi i64 [ %begin, %entry ], [ %r.next, %row.end ]
          %c = udiv i64 %r, \(taps)
          %t = urem i64 %r, \(taps)
          %kh = udiv i64 %t, \(g.kernelWidth)
          %kw = urem i64 %t, \(g.kernelWidth)
          %d = sub i64 \(p1), %kw
          %dpos = icmp sgt i64 %d, 0
          %dup = add i64 %d, \(s1 - 1)
          %dq = sdiv i64 %dup, \(s1)
          %lo0 = select i1 %dpos, i64 %dq, i64 0
          %lobig = icmp sgt i64 %lo0, \(g.outputWidth)
          %lo = select i1 %lobig, i64 \(g.outputWidth), i64 %lo0
          %e = sub i64 \(g.width + p1), %kw
          %epos = icmp sgt i64 %e, 0
          %eup = add i64 %e, \(s1 - 1)
          %eq = sdiv i64 %eup, \(s1)
          %hi0 = select i1 %epos, i64 %eq, i64 0
          %hibig = icmp sgt i64 %hi0, \(g.outputWidth)
          %hi1 = select i1 %hibig, i64 \(g.outputWidth), i64 %hi0
          %hilow = icmp slt i64 %hi1, %lo
          %hi = select i1 %hilow, i64 %lo, i64 %hi1
          %span = sub i64 %hi, %lo
          %cplane = mul nuw nsw i64 %c, \(g.height * g.width)
          %plane = getelementptr float, float* %image, i64 %cplane
          %shiftw = sub i64 %kw, \(p1)
          %rowoff = mul nuw nsw i64 %r, \(g.outputPixels)
          %dstrow = getelementptr inbounds float, float* %col, i64 %rowoff
          br label %oh.loop
        oh.loop:
          %oh = phi i64 [ 0, %row.loop ], [ %oh.next, %oh.end ]
          %ohs = mul nuw nsw i64 %oh, \(s0)
          %ih0 = add nuw nsw i64 %ohs, %kh
          %ih = sub i64 %ih0, \(p0)
          %inh = icmp ult i64 %ih, \(g.height)
          %spanh = select i1 %inh, i64 %span, i64 0
          %ihw = mul i64 %ih, \(g.width)
          %srcoff = add i64 %ihw, %shiftw
          %src = getelementptr float, float* %plane, i64 %srcoff
          %dstoff = mul nuw nsw i64 %oh, \(g.outputWidth)
          %dst = getelementptr inbounds float, float* %dstrow, i64 %dstoff
          br label %ow.loop
        ow.loop:
          %ow = phi i64 [ 0, %oh.loop ], [ %ow.next, %ow.latch ]
          %rel = sub i64 %ow, %lo
          %in = icmp ult i64 %rel, %spanh
          br i1 %in, label %take, label %ow.latch
        take:
        \(load)
          %x = load float, float* %sp, align 4
          br label %ow.latch
        ow.latch:
          %v = phi float [ %x, %take ], [ 0.0, %ow.loop ]
          %dp = getelementptr inbounds float, float* %dst, i64 %ow
          store float %v, float* %dp, align 4
          %ow.next = add nuw nsw i64 %ow, 1
          %owdone = icmp eq i64 %ow.next, \(g.outputWidth)
          br i1 %owdone, label %oh.end, label %ow.loop
        oh.end:
          %oh.next = add nuw nsw i64 %oh, 1
          %ohdone = icmp eq i64 %oh.next, \(g.outputHeight)
          br i1 %ohdone, label %row.end, label %oh.loop
        row.end:
          %r.next = add nuw nsw i64 %r, 1
          %rdone = icmp eq i64 %r.next, %end
          br i1 %rdone, label %exit, label %row.loop
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
    /// Per row, each kernel row kh contributes from at most one output row oh (a row-uniform
    /// test); along the row, each tap kw is a masked (for stride 1 contiguous) load that LLVM
    /// vectorizes.
    static func col2im(_ g: ConvolutionGeometry) -> (name: String, text: String) {
        let name = "col2im_" + g.suffix
        let (s0, s1) = (g.stride[0], g.stride[1]), (p0, p1) = (g.padding[0], g.padding[1])
        var rowSetup: [String] = [], body: [String] = []
        for kh in 0..<g.kernelHeight {
            let h = "h\(kh)"
            rowSetup.append("  %nh.\(h) = add i64 %ih, \(p0 - kh)")
            rowSetup.append("  %inh.\(h) = icmp ult i64 %nh.\(h), \(g.outputHeight * s0)")
            if s0 == 1 {
                rowSetup.append("  %vh.\(h) = and i1 %inh.\(h), true")
                rowSetup.append("  %oh.\(h) = add i64 %nh.\(h), 0")
            } else {
                rowSetup += [
                    "  %rh.\(h) = urem i64 %nh.\(h), \(s0)",
                    "  %exh.\(h) = icmp eq i64 %rh.\(h), 0",
                    "  %vh.\(h) = and i1 %inh.\(h), %exh.\(h)",
                    "  %oh.\(h) = udiv i64 %nh.\(h), \(s0)",
                ]
            }
            rowSetup += [
                "  %ohw.\(h) = mul i64 %oh.\(h), \(g.outputWidth)",
                "  %hoff.\(h) = add i64 %cbase, %ohw.\(h)",
                "  %hrow.\(h) = getelementptr float, float* %dcol, i64 %hoff.\(h)",
            ]
        }
        for kw in 0..<g.kernelWidth {
            let w = "w\(kw)"
            body.append("  %nw.\(w) = add i64 %iw, \(p1 - kw)")
            body.append("  %inw.\(w) = icmp ult i64 %nw.\(w), \(g.outputWidth * s1)")
            if s1 == 1 {
                body.append("  %vw.\(w) = and i1 %inw.\(w), true")
                body.append("  %ow.\(w) = add i64 %nw.\(w), 0")
            } else {
                body += [
                    "  %rw.\(w) = urem i64 %nw.\(w), \(s1)",
                    "  %exw.\(w) = icmp eq i64 %rw.\(w), 0",
                    "  %vw.\(w) = and i1 %inw.\(w), %exw.\(w)",
                    "  %ow.\(w) = udiv i64 %nw.\(w), \(s1)",
                ]
            }
        }
        var accumulator = "0.0"
        var previous = "col"
        for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
                let tag = "k\(kh)_\(kw)"
                let offset = (kh * g.kernelWidth + kw) * g.outputPixels
                body += [
                    "  %ok.\(tag) = and i1 %vh.h\(kh), %vw.w\(kw)",
                    "  br i1 %ok.\(tag), label %take.\(tag), label %join.\(tag)",
                    "take.\(tag):",
                    "  %at.\(tag) = add i64 %ow.w\(kw), \(offset)",
                    "  %src.\(tag) = getelementptr float, float* %hrow.h\(kh), i64 %at.\(tag)",
                    "  %x.\(tag) = load float, float* %src.\(tag), align 4",
                    "  br label %join.\(tag)",
                    "join.\(tag):",
                    "  %v.\(tag) = phi float [ %x.\(tag), %take.\(tag) ], [ 0.0, %\(previous) ]",
                    "  %acc.\(tag) = fadd float \(accumulator), %v.\(tag)",
                ]
                accumulator = "%acc.\(tag)"
                previous = "join.\(tag)"
            }
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
          %i = phi i64 [ %begin, %entry ], [ %i.next, %row.end ]
          %ih = urem i64 %i, \(g.height)
          %c = udiv i64 %i, \(g.height)
          %cbase = mul nuw nsw i64 %c, \(g.kernelHeight * g.kernelWidth * g.outputPixels)
          %rowoff = mul nuw nsw i64 %i, \(g.width)
          %dst = getelementptr inbounds float, float* %dx, i64 %rowoff
        \(rowSetup.joined(separator: "\n"))
          br label %col
        col:
          %iw = phi i64 [ 0, %row ], [ %iw.next, %\(previous) ]
        \(body.joined(separator: "\n"))
          %dp = getelementptr inbounds float, float* %dst, i64 %iw
          store float \(accumulator), float* %dp, align 4
          %iw.next = add nuw nsw i64 %iw, 1
          %iwdone = icmp eq i64 %iw.next, \(g.width)
          br i1 %iwdone, label %row.end, label %col
        row.end:
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
