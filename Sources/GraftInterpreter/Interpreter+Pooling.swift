// Interpreter+Pooling: max_pool2d, avg_pool2d and their gradients, by direct loops over each
// window (PoolingGeometry gives the window arithmetic). Sums accumulate in Float64.

import GraftIR

extension Interpreter {
    /// The windowed ops' entries of the interpreter's table (`evaluations`).
    static let poolingEvaluations: [OpKind: Evaluation] = [
        .maxPool2d: { i, node, x, _ in i.maxPool2d(x[0], try pooling(node, input: x[0].type), node.type) },
        .maxPool2dGrad: { i, node, x, _ in i.maxPool2dGrad(x[0], x[1], try pooling(node, input: x[0].type)) },
        .maxPool2dSelect: { i, node, x, _ in i.maxPool2dSelect(x[0], x[1], try pooling(node, input: x[0].type), node.type) },
        .avgPool2d: { i, node, x, _ in i.avgPool2d(x[0], try pooling(node, input: x[0].type), node.type) },
        .avgPool2dGrad: { i, node, x, _ in i.avgPool2dGrad(x[0], try pooling(node, input: node.type), node.type) },
    ]

    /// The pooling geometry of a pooling node whose input has type `input`.
    static func pooling(_ node: Node, input: TensorType) throws -> PoolingGeometry {
        guard let window = node.op.poolingWindow else { throw mismatch(node) }
        return PoolingGeometry(input: input.shape, window)
    }

    /// The flat index into `x` of the first maximal element of every window, in output order.
    ///
    /// Windows are scanned row-major from their first element inside the input; a later element
    /// replaces the running maximum when it is larger, or NaN while the maximum is not, so the
    /// first maximum (or the first NaN) wins ties, as PyTorch's max pooling does. Padding is
    /// `-inf` and never chosen.
    func poolingArgmax(_ x: Values, _ g: PoolingGeometry) -> [Int] {
        let (planes, height, width) = (x.shape[0] * x.shape[1], g.input[0], g.input[1])
        var argmax: [Int] = []
        argmax.reserveCapacity(planes * g.output[0] * g.output[1])
        for plane in 0..<planes {
            for oh in 0..<g.output[0] {
                let rows = window(g, oh, axis: 0, extent: height)
                for ow in 0..<g.output[1] {
                    let columns = window(g, ow, axis: 1, extent: width)
                    var best = (plane * height + rows.lowerBound) * width + columns.lowerBound
                    var maximum = -Double.infinity
                    for h in rows {
                        for w in columns {
                            let index = (plane * height + h) * width + w
                            let value = x.scalars[index]
                            if (value > maximum || value.isNaN) && !maximum.isNaN { (best, maximum) = (index, value) }
                        }
                    }
                    argmax.append(best)
                }
            }
        }
        return argmax
    }

    /// The input indices along `axis` that output position `position`'s window covers.
    private func window(_ g: PoolingGeometry, _ position: Int, axis: Int, extent: Int) -> Range<Int> {
        let start = g.windowStart(position, axis: axis)
        return Swift.max(start, 0)..<Swift.min(start + g.window.window[axis], extent)
    }

    /// `max_pool2d`: each window's first maximal element.
    func maxPool2d(_ x: Values, _ g: PoolingGeometry, _ type: TensorType) -> Values {
        Values(type, poolingArgmax(x, g).map { x.scalars[$0] })
    }

    /// `max_pool2d_select(x, v)`: `v` at the first maximal element of each window of `x`.
    func maxPool2dSelect(_ x: Values, _ v: Values, _ g: PoolingGeometry, _ type: TensorType) -> Values {
        Values(type, poolingArgmax(x, g).map { v.scalars[$0] })
    }

    /// `max_pool2d_grad(x, dy)`: every window's dy added at its first maximal element of `x`.
    func maxPool2dGrad(_ x: Values, _ dy: Values, _ g: PoolingGeometry) -> Values {
        var dx = [Double](repeating: 0, count: x.type.elementCount)
        for (output, index) in poolingArgmax(x, g).enumerated() { dx[index] += dy.scalars[output] }
        return Values(x.type, dx)
    }

    /// `avg_pool2d`: the sum of each window's input elements over KH·KW (padding counts as zeros).
    func avgPool2d(_ x: Values, _ g: PoolingGeometry, _ type: TensorType) -> Values {
        let (planes, height, width) = (x.shape[0] * x.shape[1], g.input[0], g.input[1])
        var result: [Double] = []
        result.reserveCapacity(type.elementCount)
        for plane in 0..<planes {
            for oh in 0..<g.output[0] {
                for ow in 0..<g.output[1] {
                    var sum = 0.0
                    for h in window(g, oh, axis: 0, extent: height) {
                        for w in window(g, ow, axis: 1, extent: width) { sum += x.scalars[(plane * height + h) * width + w] }
                    }
                    result.append(sum / Double(g.window.size))
                }
            }
        }
        return Values(type, result)
    }

    /// `avg_pool2d_grad(dy)`: each window's dy/(KH·KW) added to every input element it covers.
    func avgPool2dGrad(_ dy: Values, _ g: PoolingGeometry, _ type: TensorType) -> Values {
        let (planes, height, width) = (type.shape[0] * type.shape[1], g.input[0], g.input[1])
        var dx = [Double](repeating: 0, count: type.elementCount)
        var output = 0
        for plane in 0..<planes {
            for oh in 0..<g.output[0] {
                for ow in 0..<g.output[1] {
                    let share = dy.scalars[output] / Double(g.window.size)
                    output += 1
                    for h in window(g, oh, axis: 0, extent: height) {
                        for w in window(g, ow, axis: 1, extent: width) { dx[(plane * height + h) * width + w] += share }
                    }
                }
            }
        }
        return Values(type, dx)
    }
}
