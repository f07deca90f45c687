// Interpreter+Reductions: reduce_sum, reduce_mean and reduce_max, which remove the reduced
// axes from the shape. Sums accumulate in Float64 and round once.

import GraftIR

extension Interpreter {
    /// `reduce_sum`: the Float64 sum over `axes`, rounded once to Float32 (by the driver).
    func reduceSum(_ x: Values, axes: [Int], _ type: TensorType) -> Values {
        let sums = reduce(x, axes: axes, type, initial: 0) { $0 + $1 }
        return Values(type, sums)
    }

    /// `reduce_mean`: the Float64 sum over `axes` divided by the number of elements reduced,
    /// rounded once to Float32 by the driver (NaN when nothing is reduced, as 0/0).
    func reduceMean(_ x: Values, axes: [Int], _ type: TensorType) -> Values {
        let count = Double(axes.map { x.shape[$0] }.reduce(1, *))
        let sums = reduce(x, axes: axes, type, initial: 0) { $0 + $1 }
        return Values(type, sums.map { $0 / count })
    }

    /// `reduce_max`: the largest element over `axes`; `-inf` when nothing is reduced, and NaN
    /// if any reduced element is NaN.
    func reduceMax(_ x: Values, axes: [Int], _ type: TensorType) -> Values {
        let maxima = reduce(x, axes: axes, type, initial: -.infinity) { running, element in
            running.isNaN || element.isNaN ? .nan : Swift.max(running, element)
        }
        return Values(type, maxima)
    }

    /// Folds every element of `x` into the accumulator of its result position (its index with
    /// the reduced axes removed), visiting elements in row-major order.
    private func reduce(_ x: Values, axes: [Int], _ type: TensorType, initial: Double,
                        _ combine: (Double, Double) -> Double) -> [Double] {
        var accumulators = [Double](repeating: initial, count: type.elementCount)
        let resultStrides = type.strides
        var strides = [Int](repeating: 0, count: x.type.rank)
        var resultAxis = 0
        for axis in strides.indices where !axes.contains(axis) {
            strides[axis] = resultStrides[resultAxis]
            resultAxis += 1
        }
        var next = 0
        forEachOffset(shape: x.shape, strides: strides) { offset in
            accumulators[offset] = combine(accumulators[offset], x.scalars[next])
            next += 1
        }
        return accumulators
    }
}
