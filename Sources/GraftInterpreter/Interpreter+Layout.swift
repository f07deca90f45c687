// Interpreter+Layout: ops that move elements without changing them: transpose, broadcast,
// slice, concat and pad. (`reshape` keeps the row-major elements as they are and lives in the
// driver.)

import GraftIR

extension Interpreter {
    /// `transpose`: `result[i0, i1, ...]` is the operand element whose index along axis
    /// `permutation[k]` is `ik`.
    func transpose(_ x: Values, permutation: [Int], _ type: TensorType) -> Values {
        let operandStrides = x.type.strides
        return gather(x, shape: type.shape, strides: permutation.map { operandStrides[$0] }, type)
    }

    /// `broadcast`: NumPy broadcasting to `type`'s shape; operand dimensions align on the
    /// right, and a dimension of 1 (or a missing leading one) repeats its element.
    func broadcast(_ x: Values, _ type: TensorType) -> Values {
        let leading = type.rank - x.type.rank
        let operandStrides = x.type.strides
        let strides = type.shape.indices.map { axis -> Int in
            let operandAxis = axis - leading
            guard operandAxis >= 0, x.shape[operandAxis] != 1 else { return 0 }
            return operandStrides[operandAxis]
        }
        return gather(x, shape: type.shape, strides: strides, type)
    }

    /// `slice`: the block that starts at `start` with the result's shape.
    func slice(_ x: Values, start: [Int], _ type: TensorType) -> Values {
        let operandStrides = x.type.strides
        let base = zip(start, operandStrides).map { $0 * $1 }.reduce(0, +)
        return gather(x, shape: type.shape, strides: operandStrides, base: base, type)
    }

    /// `concat`: the operands one after another along `axis`.
    func concat(_ operands: [Values], axis: Int, _ type: TensorType) -> Values {
        var scalars = [Double](repeating: 0, count: type.elementCount)
        let resultStrides = type.strides
        var position = 0
        for operand in operands {
            scatter(operand, into: &scalars, strides: resultStrides, base: position * resultStrides[axis])
            position += operand.shape[axis]
        }
        return Values(type, scalars)
    }

    /// `pad`: the operand placed at offset `low` in a tensor of zeros of the result's shape.
    func pad(_ x: Values, low: [Int], _ type: TensorType) -> Values {
        var scalars = [Double](repeating: 0, count: type.elementCount)
        let resultStrides = type.strides
        let base = zip(low, resultStrides).map { $0 * $1 }.reduce(0, +)
        scatter(x, into: &scalars, strides: resultStrides, base: base)
        return Values(type, scalars)
    }

    /// The tensor of `type` whose row-major elements are read from `x` at the offsets that
    /// `strides` and `base` give for each position of `shape`.
    private func gather(_ x: Values, shape: [Int], strides: [Int], base: Int = 0, _ type: TensorType) -> Values {
        var scalars: [Double] = []
        scalars.reserveCapacity(type.elementCount)
        forEachOffset(shape: shape, strides: strides, base: base) { scalars.append(x.scalars[$0]) }
        return Values(type, scalars)
    }

    /// Writes `x`'s elements, in row-major order, into `scalars` at the offsets that `strides`
    /// and `base` give for each position of `x`'s shape.
    private func scatter(_ x: Values, into scalars: inout [Double], strides: [Int], base: Int) {
        var next = 0
        forEachOffset(shape: x.shape, strides: strides, base: base) { offset in
            scalars[offset] = x.scalars[next]
            next += 1
        }
    }
}
