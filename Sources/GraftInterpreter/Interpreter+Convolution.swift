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
    func conv2d(_ input: Values, _ filter: Values, _ g: ConvolutionGeometry, batch: Int) -> Values {
        var y = [Double](repeating: 0, count: batch * g.outputChannels * g.outputHeight * g.outputWidth)
        let (xChannelStride, wChannelStride) = (g.height * g.width, g.kernelHeight * g.kernelWidth)
        input.scalars.withUnsafeBufferPointer { x in
            filter.scalars.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { y in
                    var out = 0
                    for n in 0..<batch {
                        for o in 0..<g.outputChannels {
                            for i in 0..<g.outputHeight {
                                for j in 0..<g.outputWidth {
                                    var sum = 0.0
                                    for p in 0..<g.kernelHeight {
                                        let row = i * g.stride[0] - g.padding[0] + p
                                        guard row >= 0, row < g.height else { continue }
                                        for q in 0..<g.kernelWidth {
                                            let column = j * g.stride[1] - g.padding[1] + q
                                            guard column >= 0, column < g.width else { continue }
                                            // Σ over input channels c of x[n, c, row, column] * w[o, c, p, q].
                                            var xIndex = ((n * g.channels) * g.height + row) * g.width + column
                                            var wIndex = ((o * g.channels) * g.kernelHeight + p) * g.kernelWidth + q
                                            for _ in 0..<g.channels {
                                                sum += Double(x[xIndex]) * Double(w[wIndex])
                                                xIndex += xChannelStride
                                                wIndex += wChannelStride
                                            }
                                        }
                                    }
                                    y[out] = sum
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return Values(TensorType(.f32, g.outputShape(batch: batch)), y)
    }

    /// `conv2d_input_grad(dy, w)`: `dx[n, c, r, s] = Σ dy[n, o, i, j] * w[o, c, p, q]` over the
    /// output positions `(i, j)` and filter taps `(p, q)` with which the forward read `x[n, c, r, s]`
    /// (`r = i*sh - ph + p`, `s = j*sw - pw + q`): the transposed convolution. Input positions the
    /// forward never reads get 0.
    func conv2dInputGrad(_ outputGrad: Values, _ filter: Values, _ g: ConvolutionGeometry, batch: Int) -> Values {
        var dx = [Double](repeating: 0, count: batch * g.channels * g.height * g.width)
        let (dyChannelStride, wOutputStride) = (g.outputHeight * g.outputWidth, g.channels * g.kernelHeight * g.kernelWidth)
        outputGrad.scalars.withUnsafeBufferPointer { dy in
            filter.scalars.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dx in
                    var out = 0
                    for n in 0..<batch {
                        for c in 0..<g.channels {
                            for r in 0..<g.height {
                                for s in 0..<g.width {
                                    var sum = 0.0
                                    for p in 0..<g.kernelHeight {
                                        guard let i = g.outputRow(inputRow: r, filterRow: p) else { continue }
                                        for q in 0..<g.kernelWidth {
                                            guard let j = g.outputColumn(inputColumn: s, filterColumn: q) else { continue }
                                            // Σ over output channels o of dy[n, o, i, j] * w[o, c, p, q].
                                            var dyIndex = ((n * g.outputChannels) * g.outputHeight + i) * g.outputWidth + j
                                            var wIndex = ((c * g.kernelHeight) + p) * g.kernelWidth + q
                                            for _ in 0..<g.outputChannels {
                                                sum += Double(dy[dyIndex]) * Double(w[wIndex])
                                                dyIndex += dyChannelStride
                                                wIndex += wOutputStride
                                            }
                                        }
                                    }
                                    dx[out] = sum
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return Values(TensorType(.f32, [batch, g.channels, g.height, g.width]), dx)
    }

    /// `conv2d_filter_grad(x, dy)`: `dw[o, c, p, q] = Σ_{n, i, j} x[n, c, i*sh - ph + p, j*sw - pw + q] * dy[n, o, i, j]`,
    /// reading zero outside the input.
    func conv2dFilterGrad(_ input: Values, _ outputGrad: Values, _ g: ConvolutionGeometry, batch: Int) -> Values {
        var dw = [Double](repeating: 0, count: g.outputChannels * g.channels * g.kernelHeight * g.kernelWidth)
        input.scalars.withUnsafeBufferPointer { x in
            outputGrad.scalars.withUnsafeBufferPointer { dy in
                dw.withUnsafeMutableBufferPointer { dw in
                    var out = 0
                    for o in 0..<g.outputChannels {
                        for c in 0..<g.channels {
                            for p in 0..<g.kernelHeight {
                                for q in 0..<g.kernelWidth {
                                    var sum = 0.0
                                    for n in 0..<batch {
                                        let xPlane = (n * g.channels + c) * g.height * g.width
                                        let dyPlane = (n * g.outputChannels + o) * g.outputHeight * g.outputWidth
                                        for i in 0..<g.outputHeight {
                                            let row = i * g.stride[0] - g.padding[0] + p
                                            guard row >= 0, row < g.height else { continue }
                                            for j in 0..<g.outputWidth {
                                                let column = j * g.stride[1] - g.padding[1] + q
                                                guard column >= 0, column < g.width else { continue }
                                                sum += Double(x[xPlane + row * g.width + column]) * Double(dy[dyPlane + i * g.outputWidth + j])
                                            }
                                        }
                                    }
                                    dw[out] = sum
                                    out += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return Values(TensorType(.f32, [g.outputChannels, g.channels, g.kernelHeight, g.kernelWidth]), dw)
    }
}
