// Tensor+Ops: the DSL's op functions, one per IR op (plus NumPy-style conveniences).

import GraftIR

// MARK: Elementwise unary

private func unary(_ op: Op, _ x: Tensor, _ file: String, _ line: Int) -> Tensor {
    x.builder.record(op, [x], at: x.builder.location(file: file, line: line))
}

/// Elementwise `max(x, 0)`.
public func relu(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.relu, x, file, line) }
/// Elementwise `e^x`.
public func exp(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.exp, x, file, line) }
/// Elementwise natural logarithm.
public func log(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.log, x, file, line) }
/// Elementwise square root.
public func sqrt(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.sqrt, x, file, line) }
/// Elementwise `1 / sqrt(x)`.
public func rsqrt(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.rsqrt, x, file, line) }
/// Elementwise logistic function `1 / (1 + e^-x)`.
public func sigmoid(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.sigmoid, x, file, line) }
/// Elementwise hyperbolic tangent.
public func tanh(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.tanh, x, file, line) }
/// Elementwise absolute value.
public func abs(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.abs, x, file, line) }
/// The same value, treated as a constant by differentiation.
public func stopGradient(_ x: Tensor, file: String = #filePath, line: Int = #line) -> Tensor { unary(.stopGradient, x, file, line) }

/// Any op of the IR applied to `operands` as they are (no implicit broadcasting), with the
/// result type `type` for ops whose result does not follow from their operands. Every op is
/// reachable this way, including ones without a named function here: `apply(.sigmoid, x)`.
public func apply(_ op: Op, _ operands: Tensor..., type: TensorType? = nil, file: String = #filePath, line: Int = #line) -> Tensor {
    precondition(!operands.isEmpty, "apply(\(op.name)): give at least one operand; leaves are made with constant(_:) and iota(_:)")
    let builder = operands[0].builder
    return builder.record(op, operands, type: type, at: builder.location(file: file, line: line))
}

// MARK: Elementwise binary (NumPy broadcasting)

/// Records a binary elementwise op, broadcasting the operands to a common shape first.
func binary(_ op: Op, _ a: Tensor, _ b: Tensor, at location: SourceLocation?) -> Tensor {
    let builder = a.builder
    guard let shape = TypeInference.broadcastShape(a.shape, b.shape) else {
        builder.fail(Diagnostic("\(op.name): shapes \(a.type) and \(b.type) cannot be broadcast together", at: location))
        return Tensor(id: -1, type: a.type, builder: builder)
    }
    return builder.record(op, [a.broadcast(to: shape, at: location), b.broadcast(to: shape, at: location)], at: location)
}

/// Elementwise maximum, with broadcasting.
public func maximum(_ a: Tensor, _ b: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    binary(.max, a, b, at: a.builder.location(file: file, line: line))
}
/// Elementwise minimum, with broadcasting.
public func minimum(_ a: Tensor, _ b: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    binary(.min, a, b, at: a.builder.location(file: file, line: line))
}
/// Elementwise comparison producing a `bool` tensor, with broadcasting.
public func compare(_ a: Tensor, _ direction: Comparison, _ b: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    binary(.compare(direction), a, b, at: a.builder.location(file: file, line: line))
}
/// `a` where `predicate` is true, else `b` (all three of one shape).
public func select(_ predicate: Tensor, _ a: Tensor, _ b: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    a.builder.record(.select, [predicate, a, b], at: a.builder.location(file: file, line: line))
}

// MARK: Contraction

/// Matrix product of two rank-2 tensors, either optionally transposed.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                   file: String = #filePath, line: Int = #line) -> Tensor {
    a.builder.record(.matmul(transposeA: transposeA, transposeB: transposeB), [a, b],
                     at: a.builder.location(file: file, line: line))
}

/// 2-D convolution of an NCHW input with an OIHW filter.
public func conv2d(_ x: Tensor, _ filter: Tensor, stride: Int = 1, padding: Int = 0,
                   file: String = #filePath, line: Int = #line) -> Tensor {
    x.builder.record(.conv2d(stride: [stride, stride], padding: [padding, padding]), [x, filter],
                     at: x.builder.location(file: file, line: line))
}

// MARK: Pooling

/// 2-D max pooling of an NCHW tensor over square `kernelSize` windows; `stride` defaults to
/// the kernel size. Padding reads −inf (it is never the maximum) and may be at most half the
/// kernel size. The gradient goes to the first maximal element of each window, as in PyTorch.
public func maxPool2d(_ x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                      file: String = #filePath, line: Int = #line) -> Tensor {
    let stride = stride ?? kernelSize
    return x.builder.record(.maxPool2d(window: [kernelSize, kernelSize], stride: [stride, stride], padding: [padding, padding]),
                            [x], at: x.builder.location(file: file, line: line))
}

/// 2-D average pooling of an NCHW tensor over square `kernelSize` windows; `stride` defaults
/// to the kernel size. Padding counts as zeros and every window divides by kernelSize²
/// (PyTorch's default `count_include_pad=True`).
public func avgPool2d(_ x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
                      file: String = #filePath, line: Int = #line) -> Tensor {
    let stride = stride ?? kernelSize
    return x.builder.record(.avgPool2d(window: [kernelSize, kernelSize], stride: [stride, stride], padding: [padding, padding]),
                            [x], at: x.builder.location(file: file, line: line))
}

// MARK: Reductions and layout

extension Tensor {
    private func reduce(_ op: Op, _ axes: [Int], keepDims: Bool, _ location: SourceLocation?) -> Tensor {
        let normalized = axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        let reduced = builder.record(op, [self], at: location)
        guard keepDims else { return reduced }
        let kept = shape.indices.map { normalized.contains($0) ? 1 : shape[$0] }
        return reduced.reshaped(kept, at: location)
    }

    private func reductionOp(_ make: ([Int]) -> Op, _ axes: [Int]?) -> ([Int], Op) {
        let list = (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }.sorted()
        return (list, make(list))
    }

    /// Sum over `axes` (all axes when nil); negative axes count from the end.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false, file: String = #filePath, line: Int = #line) -> Tensor {
        let (list, op) = reductionOp(Op.reduceSum, axes)
        return reduce(op, list, keepDims: keepDims, builder.location(file: file, line: line))
    }

    /// Mean over `axes` (all axes when nil); negative axes count from the end.
    public func mean(axes: [Int]? = nil, keepDims: Bool = false, file: String = #filePath, line: Int = #line) -> Tensor {
        let (list, op) = reductionOp(Op.reduceMean, axes)
        return reduce(op, list, keepDims: keepDims, builder.location(file: file, line: line))
    }

    /// Maximum over `axes` (all axes when nil); negative axes count from the end.
    public func max(axes: [Int]? = nil, keepDims: Bool = false, file: String = #filePath, line: Int = #line) -> Tensor {
        let (list, op) = reductionOp(Op.reduceMax, axes)
        return reduce(op, list, keepDims: keepDims, builder.location(file: file, line: line))
    }

    /// The same elements in a new shape; one dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int], file: String = #filePath, line: Int = #line) -> Tensor {
        reshaped(newShape, at: builder.location(file: file, line: line))
    }

    func reshaped(_ newShape: [Int], at location: SourceLocation?) -> Tensor {
        var target = newShape
        if let hole = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            target[hole] = known == 0 ? 0 : type.elementCount / known
        }
        if target == shape { return self }
        return builder.record(.reshape, [self], type: TensorType(dtype, target), at: location)
    }

    /// Axes permuted: `result.shape[i] == shape[permutation[i]]`.
    public func transposed(_ permutation: [Int], file: String = #filePath, line: Int = #line) -> Tensor {
        builder.record(.transpose(permutation: permutation), [self], at: builder.location(file: file, line: line))
    }

    /// Broadcast to `shape` by NumPy rules.
    public func broadcast(to shape: [Int], file: String = #filePath, line: Int = #line) -> Tensor {
        broadcast(to: shape, at: builder.location(file: file, line: line))
    }

    func broadcast(to target: [Int], at location: SourceLocation?) -> Tensor {
        if target == shape { return self }
        return builder.record(.broadcast, [self], type: TensorType(dtype, target), at: location)
    }

    /// Elements `start[i] ..< limit[i]` along each axis.
    public func sliced(start: [Int], limit: [Int], file: String = #filePath, line: Int = #line) -> Tensor {
        builder.record(.slice(start: start, limit: limit), [self], at: builder.location(file: file, line: line))
    }

    /// Zero padding before (`low`) and after (`high`) each axis.
    public func padded(low: [Int], high: [Int], file: String = #filePath, line: Int = #line) -> Tensor {
        builder.record(.pad(low: low, high: high), [self], at: builder.location(file: file, line: line))
    }

    /// The same values with element type `dtype`.
    public func converted(to dtype: DType, file: String = #filePath, line: Int = #line) -> Tensor {
        if dtype == self.dtype { return self }
        return builder.record(.convert, [self], type: type.with(dtype: dtype), at: builder.location(file: file, line: line))
    }
}

/// Tensors joined along `axis` (the IR op's name; `concatenate(_:axis:)` is the same).
public func concat(_ tensors: [Tensor], axis: Int, file: String = #filePath, line: Int = #line) -> Tensor {
    concatenate(tensors, axis: axis, file: file, line: line)
}

/// Rows of a `[rows, columns]` table picked by i32 `indices` of any shape: `[indices..., columns]`.
public func gather(_ table: Tensor, _ indices: Tensor, file: String = #filePath, line: Int = #line) -> Tensor {
    table.builder.record(.gather, [table, indices], at: table.builder.location(file: file, line: line))
}

extension GraphBuilder {
    /// A tensor of `shape` with every element `value`.
    public func constant(_ value: Float, shape: [Int] = [], dtype: DType = .f32,
                         file: String = #filePath, line: Int = #line) -> Tensor {
        record(.constant(value), [], type: TensorType(dtype, shape), at: location(file: file, line: line))
    }

    /// Element indices along `axis` in a tensor of `shape`.
    public func iota(shape: [Int], axis: Int, dtype: DType = .i32, file: String = #filePath, line: Int = #line) -> Tensor {
        record(.iota(axis: axis), [], type: TensorType(dtype, shape), at: location(file: file, line: line))
    }
}
