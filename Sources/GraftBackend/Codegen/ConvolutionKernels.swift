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
    /// [C·KH·KW, OH·OW], args[1] one image [C, H, W]; [begin, end) over the matrix's elements.
    static func im2col(_ g: ConvolutionGeometry) -> (name: String, text: String) {
        let name = "im2col_" + g.suffix
        let text = """
        define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {
        entry:
          %col = load float*, float** %args, align 8
          %slot = getelementptr inbounds float*, float** %args, i64 1
          %image = load float*, float** %slot, align 8
          %empty = icmp sge i64 %begin, %end
          br i1 %empty, label %exit, label %loop
        loop:
          %i = phi i64 [ %begin, %entry ], [ %i.next, %loop ]
          %q = udiv i64 %i, \(g.outputPixels)
          %r = urem i64 %i, \(g.outputPixels)
          %oh = udiv i64 %r, \(g.outputWidth)
          %ow = urem i64 %r, \(g.outputWidth)
          %kw = urem i64 %q, \(g.kernelWidth)
          %t = udiv i64 %q, \(g.kernelWidth)
          %kh = urem i64 %t, \(g.kernelHeight)
          %c = udiv i64 %t, \(g.kernelHeight)
          %ohs = mul nuw nsw i64 %oh, \(g.stride[0])
          %ih0 = add nuw nsw i64 %ohs, %kh
          %ih = sub i64 %ih0, \(g.padding[0])
          %ows = mul nuw nsw i64 %ow, \(g.stride[1])
          %iw0 = add nuw nsw i64 %ows, %kw
          %iw = sub i64 %iw0, \(g.padding[1])
          %inh = icmp ult i64 %ih, \(g.height)
          %inw = icmp ult i64 %iw, \(g.width)
          %in = and i1 %inh, %inw
          %ch = mul nuw nsw i64 %c, \(g.height)
          %row = add i64 %ch, %ih
          %rw = mul i64 %row, \(g.width)
          %at = add i64 %rw, %iw
          %safe = select i1 %in, i64 %at, i64 0
          %src = getelementptr inbounds float, float* %image, i64 %safe
          %x = load float, float* %src, align 4
          %v = select i1 %in, float %x, float 0.0
          %dst = getelementptr inbounds float, float* %col, i64 %i
          store float %v, float* %dst, align 4
          %i.next = add nuw nsw i64 %i, 1
          %done = icmp eq i64 %i.next, %end
          br i1 %done, label %exit, label %loop
        exit:
          ret void
        }
        """
        return (name, text)
    }

    /// `void @col2im_<geometry>(float** args, i64 begin, i64 end)`: args[0] one image's
    /// gradient [C, H, W] (overwritten), args[1] the patch-matrix gradient [C·KH·KW, OH·OW];
    /// [begin, end) over the image's elements, each summing the patches that read it.
    static func col2im(_ g: ConvolutionGeometry) -> (name: String, text: String) {
        let name = "col2im_" + g.suffix
        var body: [String] = []
        var accumulator = "0.0"
        for kh in 0..<g.kernelHeight {
            for kw in 0..<g.kernelWidth {
                let tag = "k\(kh)_\(kw)"
                body += [
                    "  %nh.\(tag) = sub i64 %ihp, \(kh)",
                    "  %nw.\(tag) = sub i64 %iwp, \(kw)",
                    "  %oh.\(tag) = sdiv i64 %nh.\(tag), \(g.stride[0])",
                    "  %ow.\(tag) = sdiv i64 %nw.\(tag), \(g.stride[1])",
                    "  %rh.\(tag) = srem i64 %nh.\(tag), \(g.stride[0])",
                    "  %rw.\(tag) = srem i64 %nw.\(tag), \(g.stride[1])",
                    "  %exh.\(tag) = icmp eq i64 %rh.\(tag), 0",
                    "  %exw.\(tag) = icmp eq i64 %rw.\(tag), 0",
                    "  %okh.\(tag) = icmp ult i64 %nh.\(tag), \(g.outputHeight * g.stride[0])",
                    "  %okw.\(tag) = icmp ult i64 %nw.\(tag), \(g.outputWidth * g.stride[1])",
                    "  %a.\(tag) = and i1 %exh.\(tag), %exw.\(tag)",
                    "  %b.\(tag) = and i1 %okh.\(tag), %okw.\(tag)",
                    "  %ok.\(tag) = and i1 %a.\(tag), %b.\(tag)",
                    "  %pix.\(tag) = mul i64 %oh.\(tag), \(g.outputWidth)",
                    "  %pixel.\(tag) = add i64 %pix.\(tag), %ow.\(tag)",
                    "  %rowbase.\(tag) = add nuw nsw i64 %cbase, \((kh * g.kernelWidth + kw) * g.outputPixels)",
                    "  %at.\(tag) = add i64 %rowbase.\(tag), %pixel.\(tag)",
                    "  %safe.\(tag) = select i1 %ok.\(tag), i64 %at.\(tag), i64 0",
                    "  %src.\(tag) = getelementptr inbounds float, float* %dcol, i64 %safe.\(tag)",
                    "  %x.\(tag) = load float, float* %src.\(tag), align 4",
                    "  %v.\(tag) = select i1 %ok.\(tag), float %x.\(tag), float 0.0",
                    "  %acc.\(tag) = fadd reassoc nsz float \(accumulator), %v.\(tag)",
                ]
                accumulator = "%acc.\(tag)"
            }
        }
        let text = """
        define void @\(name)(float** noalias nocapture readonly %args, i64 %begin, i64 %end) #0 {
        entry:
          %dx = load float*, float** %args, align 8
          %slot = getelementptr inbounds float*, float** %args, i64 1
          %dcol = load float*, float** %slot, align 8
          %empty = icmp sge i64 %begin, %end
          br i1 %empty, label %exit, label %loop
        loop:
          %i = phi i64 [ %begin, %entry ], [ %i.next, %loop ]
          %iw = urem i64 %i, \(g.width)
          %t = udiv i64 %i, \(g.width)
          %ih = urem i64 %t, \(g.height)
          %c = udiv i64 %t, \(g.height)
          %ihp = add nuw nsw i64 %ih, \(g.padding[0])
          %iwp = add nuw nsw i64 %iw, \(g.padding[1])
          %cbase = mul nuw nsw i64 %c, \(g.kernelHeight * g.kernelWidth * g.outputPixels)
        \(body.joined(separator: "\n"))
          %dst = getelementptr inbounds float, float* %dx, i64 %i
          store float \(accumulator), float* %dst, align 4
          %i.next = add nuw nsw i64 %i, 1
          %done = icmp eq i64 %i.next, %end
          br i1 %done, label %exit, label %loop
        exit:
          ret void
        }
        """
        return (name, text)
    }
}
