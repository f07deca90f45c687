// TypeInference: the type rule of every op, shared by the DSL tracer, the parser and the verifier.

/// Computes an op's result type from its operands' types, or says which rule they break.
public enum TypeInference {
    /// The result type of `op` applied to operands of types `operands`.
    ///
    /// - Parameter declared: the result type written in the IR (or asked for by the DSL). Ops
    ///   whose result is not implied by their operands (leaves, `reshape`, `broadcast`,
    ///   `convert`, the conv2d gradients) require it and check it; for the others it is ignored
    ///   here, and callers compare it with the inferred type.
    public static func resultType(of op: Op, operands: [TensorType], declared: TensorType?) throws -> TensorType {
        if let arity = op.arity, operands.count != arity {
            throw TypeError("\(op.name): expects \(arity) operand\(arity == 1 ? "" : "s"), got \(operands.count)")
        }
        func need() throws -> TensorType {
            guard let declared else { throw TypeError("\(op.name): the result type must be given") }
            return declared
        }
        func pair() -> String { operands.map(\.description).joined(separator: " × ") }

        switch op {
        case .input, .param, .state, .constant:
            let type = try need()
            if case .param = op, type.dtype != .f32 { throw TypeError("param: must be f32, got \(type)") }
            return type
        case .iota(let axis):
            let type = try need()
            guard type.dtype != .bool else { throw TypeError("iota: result must be numeric, got \(type)") }
            guard (0..<type.rank).contains(axis) else {
                throw TypeError("iota: axis \(axis) is out of range for \(type)")
            }
            return type

        case .neg, .abs, .exp, .log, .sqrt, .rsqrt, .tanh, .relu, .stopGradient:
            let x = operands[0]
            if op != .stopGradient, op != .neg, op != .abs, op != .relu, !x.dtype.isFloatingPoint {
                throw TypeError("\(op.name): expects a floating-point operand, got \(x)")
            }
            guard x.dtype != .bool else { throw TypeError("\(op.name): expects a numeric operand, got \(x)") }
            return x
        case .convert:
            let type = try need()
            guard type.shape == operands[0].shape else {
                throw TypeError("convert: changes the element type only, but \(operands[0]) → \(type) changes the shape")
            }
            return type

        case .add, .sub, .mul, .div, .max, .min, .compare:
            let (a, b) = (operands[0], operands[1])
            guard a.shape == b.shape else {
                throw TypeError("\(op.name): operand shapes differ (\(pair())); broadcast one of them explicitly")
            }
            guard a.dtype == b.dtype else { throw TypeError("\(op.name): operand types differ (\(pair()))") }
            if case .compare = op { return a.with(dtype: .bool) }
            guard a.dtype != .bool else { throw TypeError("\(op.name): expects numeric operands, got \(a)") }
            if op == .div, !a.dtype.isFloatingPoint { throw TypeError("div: expects floating-point operands, got \(a)") }
            return a
        case .select:
            let (predicate, a, b) = (operands[0], operands[1], operands[2])
            guard predicate.dtype == .bool else { throw TypeError("select: the predicate must be bool, got \(predicate)") }
            guard predicate.shape == a.shape, a == b else {
                throw TypeError("select: operand types differ (\(pair()))")
            }
            return a

        case .reduceSum(let axes), .reduceMean(let axes), .reduceMax(let axes):
            let x = operands[0]
            try checkAxes(axes, rank: x.rank, op: op.name, kind: "axes")
            guard x.dtype != .bool else { throw TypeError("\(op.name): expects a numeric operand, got \(x)") }
            if case .reduceMean = op, !x.dtype.isFloatingPoint {
                throw TypeError("reduce_mean: expects a floating-point operand, got \(x)")
            }
            let kept = x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }
            return TensorType(x.dtype, kept)

        case .reshape:
            let type = try need()
            guard type.dtype == operands[0].dtype, type.elementCount == operands[0].elementCount else {
                throw TypeError("reshape: cannot reshape \(operands[0]) to \(type): element counts or types differ")
            }
            return type
        case .transpose(let permutation):
            let x = operands[0]
            guard permutation.sorted() == Array(0..<x.rank) else {
                throw TypeError("transpose: permutation \(permutation) is not a permutation of the \(x.rank) axes of \(x)")
            }
            return TensorType(x.dtype, permutation.map { x.shape[$0] })
        case .broadcast:
            let (x, type) = (operands[0], try need())
            guard x.dtype == type.dtype, isBroadcastable(x.shape, to: type.shape) else {
                throw TypeError("broadcast: cannot broadcast \(x) to \(type)")
            }
            return type
        case .slice(let start, let limit):
            let x = operands[0]
            guard start.count == x.rank, limit.count == x.rank else {
                throw TypeError("slice: start and limit need \(x.rank) entries for \(x)")
            }
            for axis in 0..<x.rank where !(0 <= start[axis] && start[axis] <= limit[axis] && limit[axis] <= x.shape[axis]) {
                throw TypeError("slice: range \(start[axis])..<\(limit[axis]) is out of bounds for axis \(axis) of \(x)")
            }
            return TensorType(x.dtype, zip(start, limit).map { $1 - $0 })
        case .concat(let axis):
            guard let first = operands.first else { throw TypeError("concat: expects at least one operand") }
            guard (0..<first.rank).contains(axis) else {
                throw TypeError("concat: axis \(axis) is out of range for \(first)")
            }
            var shape = first.shape
            shape[axis] = 0
            for operand in operands {
                var other = operand.shape
                guard operand.dtype == first.dtype, other.count == shape.count else {
                    throw TypeError("concat: operand types differ (\(pair()))")
                }
                shape[axis] += other[axis]
                other[axis] = shape[axis]
                guard other == shape else {
                    throw TypeError("concat: operand shapes differ outside axis \(axis) (\(pair()))")
                }
            }
            return TensorType(first.dtype, shape)
        case .pad(let low, let high):
            let x = operands[0]
            guard low.count == x.rank, high.count == x.rank, (low + high).allSatisfy({ $0 >= 0 }) else {
                throw TypeError("pad: low and high need \(x.rank) non-negative entries for \(x)")
            }
            return TensorType(x.dtype, x.shape.indices.map { x.shape[$0] + low[$0] + high[$0] })

        case .matmul(let transposeA, let transposeB):
            let (a, b) = (operands[0], operands[1])
            guard a.rank == 2, b.rank == 2 else { throw TypeError("matmul: expects rank-2 operands (\(pair()))") }
            guard a.dtype == .f32, b.dtype == .f32 else { throw TypeError("matmul: expects f32 operands (\(pair()))") }
            let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
            let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            guard k == kb else { throw TypeError("matmul: inner dimensions differ (\(pair()))") }
            return TensorType(.f32, [m, n])
        case .conv2d(let stride, let padding):
            let (x, w) = (operands[0], operands[1])
            try checkConv(op: op.name, stride: stride, padding: padding, x: x, w: w)
            guard x.shape[1] == w.shape[1] else {
                throw TypeError("conv2d: input has \(x.shape[1]) channels but the filter expects \(w.shape[1]) (\(pair()))")
            }
            let (h, wd) = try convOutput(op: op.name, x: x, w: w, stride: stride, padding: padding)
            return TensorType(.f32, [x.shape[0], w.shape[0], h, wd])
        case .conv2dInputGrad(let stride, let padding):
            let (dy, w, x) = (operands[0], operands[1], try need())
            try checkConv(op: op.name, stride: stride, padding: padding, x: x, w: w)
            let (h, wd) = try convOutput(op: op.name, x: x, w: w, stride: stride, padding: padding)
            guard x.shape[1] == w.shape[1], dy.shape == [x.shape[0], w.shape[0], h, wd], dy.dtype == .f32 else {
                throw TypeError("conv2d_input_grad: \(dy) is not the output gradient of conv2d(\(x), \(w))")
            }
            return x
        case .conv2dFilterGrad(let stride, let padding):
            let (x, dy, w) = (operands[0], operands[1], try need())
            try checkConv(op: op.name, stride: stride, padding: padding, x: x, w: w)
            let (h, wd) = try convOutput(op: op.name, x: x, w: w, stride: stride, padding: padding)
            guard x.shape[1] == w.shape[1], dy.shape == [x.shape[0], w.shape[0], h, wd], dy.dtype == .f32 else {
                throw TypeError("conv2d_filter_grad: \(dy) is not the output gradient of conv2d(\(x), \(w))")
            }
            return w
        }
    }

    /// Whether NumPy broadcasting takes `shape` to `target` (right-aligned, 1 or equal).
    public static func isBroadcastable(_ shape: [Int], to target: [Int]) -> Bool {
        guard shape.count <= target.count else { return false }
        let offset = target.count - shape.count
        return shape.indices.allSatisfy { shape[$0] == 1 || shape[$0] == target[$0 + offset] }
    }

    private static func checkAxes(_ axes: [Int], rank: Int, op: String, kind: String) throws {
        guard Set(axes).count == axes.count, axes.allSatisfy({ (0..<rank).contains($0) }) else {
            throw TypeError("\(op): \(kind) \(axes) must be distinct axes in 0..<\(rank)")
        }
    }

    private static func checkConv(op: String, stride: [Int], padding: [Int], x: TensorType, w: TensorType) throws {
        guard stride.count == 2, padding.count == 2, stride.allSatisfy({ $0 > 0 }), padding.allSatisfy({ $0 >= 0 }) else {
            throw TypeError("\(op): stride needs 2 positive entries and padding 2 non-negative entries")
        }
        guard x.rank == 4, w.rank == 4, x.dtype == .f32, w.dtype == .f32 else {
            throw TypeError("\(op): expects an f32 NCHW input and an f32 OIHW filter (\(x) × \(w))")
        }
    }

    private static func convOutput(op: String, x: TensorType, w: TensorType, stride: [Int], padding: [Int]) throws -> (Int, Int) {
        let h = x.shape[2] + 2 * padding[0] - w.shape[2]
        let wd = x.shape[3] + 2 * padding[1] - w.shape[3]
        guard h >= 0, wd >= 0 else {
            throw TypeError("\(op): the \(w.shape[2])×\(w.shape[3]) filter is larger than the padded \(x.shape[2])×\(x.shape[3]) input (\(x) × \(w))")
        }
        return (h / stride[0] + 1, wd / stride[1] + 1)
    }
}
