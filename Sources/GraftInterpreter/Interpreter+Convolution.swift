// Interpreter+Convolution: conv2d (cross-correlation, NCHW input, OIHW filter, symmetric zero
// padding, like PyTorch's F.conv2d) and its exact gradients with respect to input and filter.
//
// Each is written as a gather: one Float64 sum per result element over exactly the products
// that contribute to it, rounded once. Plain nested loops over unsafe buffers keep a debug
// build fast enough to run whole models.

import GraftIR

extension Interpreter {
    /// `conv2d`: `y[n, o, i, j] = Σ_{c, p, q} x[n, c, i*sh - ph + p, j*sw - pw + q] * w[o, c, p, q]`,
    /// reading zero outside the input.
    func conv2d(_ input: HostTensor, _ filter: HostTensor, _ g: ConvGeometry) -> HostTensor {
        var y = [Float](repeating: 0, count: g.n * g.o * g.oh * g.ow)
        let (xChannelStride, wChannelStride) = (g.h * g.w, g.kh * g.kw)
        input.scalars.withUnsafeBufferPointer { x in
            filter.scalars.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { y in
                    var out = 0
                    for n in 0..<g.n {
                        for o in 0..<g.o {
                            for i in 0..<g.oh {
                                for j in 0..<g.ow {
                                    var sum = 0.0
                                    for p in 0..<g.kh {
                                        let row = i * g.strideH - g.padH + p
                                        guard row >= 0, row < g.h else { continue }
                                        for q in 0..<g.kw {
                                            let column = j * g.strideW - g.padW + q
                                            guard column >= 0, column < g.w else { continue }
                                            // Σ over input channels c of x[n, c, row, column] * w[o, c, p, q].
                                            var xIndex = ((n * g.c) * g.h + row) * g.w + column
                                            var wIndex = ((o * g.c) * g.kh + p) * g.kw + q
                                            for _ in 0..<g.c {
                                                sum += Double(x[xIndex]) * Double(w[wIndex])
                                                xIndex += xChannelStride
                                                wIndex += wChannelStride
                                            }
                                        }
                                    }
                                    y[out] = Float(sum)
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return HostTensor(g.outputType, y)
    }

    /// `conv2d_input_grad(dy, w)`: `dx[n, c, r, s] = Σ dy[n, o, i, j] * w[o, c, p, q]` over the
    /// output positions `(i, j)` and filter taps `(p, q)` with which the forward read `x[n, c, r, s]`
    /// (`r = i*sh - ph + p`, `s = j*sw - pw + q`): the transposed convolution. Input positions the
    /// forward never reads get 0.
    func conv2dInputGrad(_ outputGrad: HostTensor, _ filter: HostTensor, _ g: ConvGeometry) -> HostTensor {
        var dx = [Float](repeating: 0, count: g.n * g.c * g.h * g.w)
        let (dyChannelStride, wOutputStride) = (g.oh * g.ow, g.c * g.kh * g.kw)
        outputGrad.scalars.withUnsafeBufferPointer { dy in
            filter.scalars.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dx in
                    var out = 0
                    for n in 0..<g.n {
                        for c in 0..<g.c {
                            for r in 0..<g.h {
                                for s in 0..<g.w {
                                    var sum = 0.0
                                    for p in 0..<g.kh {
                                        guard let i = g.outputRow(inputRow: r, filterRow: p) else { continue }
                                        for q in 0..<g.kw {
                                            guard let j = g.outputColumn(inputColumn: s, filterColumn: q) else { continue }
                                            // Σ over output channels o of dy[n, o, i, j] * w[o, c, p, q].
                                            var dyIndex = ((n * g.o) * g.oh + i) * g.ow + j
                                            var wIndex = ((c * g.kh) + p) * g.kw + q
                                            for _ in 0..<g.o {
                                                sum += Double(dy[dyIndex]) * Double(w[wIndex])
                                                dyIndex += dyChannelStride
                                                wIndex += wOutputStride
                                            }
                                        }
                                    }
                                    dx[out] = Float(sum)
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return HostTensor(TensorType(.f32, [g.n, g.c, g.h, g.w]), dx)
    }

    /// `conv2d_filter_grad(x, dy)`: `dw[o, c, p, q] = Σ_{n, i, j} x[n, c, i*sh - ph + p, j*sw - pw + q] * dy[n, o, i, j]`,
    /// reading zero outside the input.
    func conv2dFilterGrad(_ input: HostTensor, _ outputGrad: HostTensor, _ g: ConvGeometry) -> HostTensor {
        var dw = [Float](repeating: 0, count: g.o * g.c * g.kh * g.kw)
        input.scalars.withUnsafeBufferPointer { x in
            outputGrad.scalars.withUnsafeBufferPointer { dy in
                dw.withUnsafeMutableBufferPointer { dw in
                    var out = 0
                    for o in 0..<g.o {
                        for c in 0..<g.c {
                            for p in 0..<g.kh {
                                for q in 0..<g.kw {
                                    var sum = 0.0
                                    for n in 0..<g.n {
                                        let xPlane = (n * g.c + c) * g.h * g.w
                                        let dyPlane = (n * g.o + o) * g.oh * g.ow
                                        for i in 0..<g.oh {
                                            let row = i * g.strideH - g.padH + p
                                            guard row >= 0, row < g.h else { continue }
                                            for j in 0..<g.ow {
                                                let column = j * g.strideW - g.padW + q
                                                guard column >= 0, column < g.w else { continue }
                                                sum += Double(x[xPlane + row * g.w + column]) * Double(dy[dyPlane + i * g.ow + j])
                                            }
                                        }
                                    }
                                    dw[out] = Float(sum)
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return HostTensor(TensorType(.f32, [g.o, g.c, g.kh, g.kw]), dw)
    }
}
