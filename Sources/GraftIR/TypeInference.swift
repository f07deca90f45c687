// TypeInference: the type rule of every op, shared by the DSL tracer, the parser and the verifier.
//
// Each op's definition (Op.swift) names its rule; the rules of each family are in `TypeRules`.

/// Computes an op's result type from its operands' types, or says which rule they break.
public enum TypeInference {
    /// The result type of `op` applied to operands of types `operands`.
    ///
    /// - Parameter declared: the result type written in the IR (or asked for by the DSL). Ops
    ///   whose result is not implied by their operands (leaves, `reshape`, `broadcast`,
    ///   `convert`, the conv2d gradients) require it and check it; for the others it is ignored
    ///   here, and callers compare it with the inferred type.
    public static func resultType(of op: Op, operands: [TensorType], declared: TensorType?) throws -> TensorType {
        let definition = op.definition
        guard definition.arity.allows(operands.count) else {
            switch definition.arity {
            case .fixed(let arity):
                throw TypeError("\(op.name): expects \(arity) operand\(arity == 1 ? "" : "s"), got \(operands.count)")
            case .atLeast(let minimum):
                throw TypeError("\(op.name): expects at least \(minimum == 1 ? "one operand" : "\(minimum) operands")")
            }
        }
        return try definition.type(op, operands, declared)
    }

    /// The shape NumPy broadcasting gives two shapes (right-aligned; each dimension 1 or
    /// equal), or nil when they are incompatible. The DSL broadcasts binary ops' operands to it.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        let a = [Int](repeating: 1, count: rank - a.count) + a
        let b = [Int](repeating: 1, count: rank - b.count) + b
        var result: [Int] = []
        for (x, y) in zip(a, b) {
            guard x == y || x == 1 || y == 1 else { return nil }
            result.append(x == 1 ? y : x)
        }
        return result
    }

    /// Whether NumPy broadcasting takes `shape` to `target` (right-aligned, 1 or equal).
    public static func isBroadcastable(_ shape: [Int], to target: [Int]) -> Bool {
        guard shape.count <= target.count else { return false }
        let offset = target.count - shape.count
        return shape.indices.allSatisfy { shape[$0] == 1 || shape[$0] == target[$0 + offset] }
    }
}

/// The type rules of each op family; an op's definition names the one it follows.
enum TypeRules {
    static func need(_ op: Op, _ declared: TensorType?) throws -> TensorType {
        guard let declared else { throw TypeError("\(op.name): the result type must be given") }
        return declared
    }

    static func pair(_ operands: [TensorType]) -> String { operands.map(\.description).joined(separator: " × ") }

    // MARK: Leaves

    /// Declarations and `constant`: the type as written (params are f32).
    static func declared(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let type = try need(op, declared)
        if op.kind == .param, type.dtype != .f32 { throw TypeError("param: must be f32, got \(type)") }
        return type
    }

    static func iota(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let type = try need(op, declared)
        guard type.dtype != .bool else { throw TypeError("iota: result must be numeric, got \(type)") }
        let axis = op.iotaAxis ?? -1
        guard (0..<type.rank).contains(axis) else {
            throw TypeError("iota: axis \(axis) is out of range for \(type)")
        }
        return type
    }

    // MARK: Elementwise

    /// A numeric (f32 or i32) operand; the result has its type.
    static func numericUnary(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        guard operands[0].dtype != .bool else { throw TypeError("\(op.name): expects a numeric operand, got \(operands[0])") }
        return operands[0]
    }

    /// A floating-point operand; the result has its type.
    static func floatUnary(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        guard operands[0].dtype.isFloatingPoint else {
            throw TypeError("\(op.name): expects a floating-point operand, got \(operands[0])")
        }
        return operands[0]
    }

    static func convert(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let type = try need(op, declared)
        guard type.shape == operands[0].shape else {
            throw TypeError("convert: changes the element type only, but \(operands[0]) → \(type) changes the shape")
        }
        return type
    }

    /// Operands of one type, without broadcasting.
    static func sameTypes(_ op: Op, _ operands: [TensorType]) throws -> TensorType {
        let (a, b) = (operands[0], operands[1])
        guard a.shape == b.shape else {
            throw TypeError("\(op.name): operand shapes differ (\(pair(operands))); broadcast one of them explicitly")
        }
        guard a.dtype == b.dtype else { throw TypeError("\(op.name): operand types differ (\(pair(operands)))") }
        return a
    }

    /// Two numeric operands of one type; the result has it.
    static func numericBinary(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let a = try sameTypes(op, operands)
        guard a.dtype != .bool else { throw TypeError("\(op.name): expects numeric operands, got \(a)") }
        return a
    }

    /// Two floating-point operands of one type; the result has it.
    static func floatBinary(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let a = try numericBinary(op, operands, declared)
        guard a.dtype.isFloatingPoint else { throw TypeError("\(op.name): expects floating-point operands, got \(a)") }
        return a
    }

    static func compare(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        try sameTypes(op, operands).with(dtype: .bool)
    }

    static func select(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let (predicate, a, b) = (operands[0], operands[1], operands[2])
        guard predicate.dtype == .bool else { throw TypeError("select: the predicate must be bool, got \(predicate)") }
        guard predicate.shape == a.shape, a == b else {
            throw TypeError("select: operand types differ (\(pair(operands)))")
        }
        return a
    }

    // MARK: Reductions

    static func reduction(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let x = operands[0]
        let axes = op.reducedAxes ?? []
        try checkAxes(axes, rank: x.rank, op: op.name)
        guard x.dtype != .bool else { throw TypeError("\(op.name): expects a numeric operand, got \(x)") }
        if op.kind == .reduceMean, !x.dtype.isFloatingPoint {
            throw TypeError("reduce_mean: expects a floating-point operand, got \(x)")
        }
        let kept = x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] }
        return TensorType(x.dtype, kept)
    }

    private static func checkAxes(_ axes: [Int], rank: Int, op: String) throws {
        guard Set(axes).count == axes.count, axes.allSatisfy({ (0..<rank).contains($0) }) else {
            throw TypeError("\(op): axes \(axes) must be distinct axes in 0..<\(rank)")
        }
    }

    // MARK: Layout

    static func reshape(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let type = try need(op, declared)
        guard type.dtype == operands[0].dtype, type.elementCount == operands[0].elementCount else {
            throw TypeError("reshape: cannot reshape \(operands[0]) to \(type): element counts or types differ")
        }
        return type
    }

    static func transpose(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let x = operands[0]
        let permutation = op.permutation ?? []
        guard permutation.sorted() == Array(0..<x.rank) else {
            throw TypeError("transpose: permutation \(permutation) is not a permutation of the \(x.rank) axes of \(x)")
        }
        return TensorType(x.dtype, permutation.map { x.shape[$0] })
    }

    static func broadcast(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let (x, type) = (operands[0], try need(op, declared))
        guard x.dtype == type.dtype, TypeInference.isBroadcastable(x.shape, to: type.shape) else {
            throw TypeError("broadcast: cannot broadcast \(x) to \(type)")
        }
        return type
    }

    static func slice(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        guard case .slice(let start, let limit) = op else { throw TypeError("\(op.name): not a slice") }
        let x = operands[0]
        guard start.count == x.rank, limit.count == x.rank else {
            throw TypeError("slice: start and limit need \(x.rank) entries for \(x)")
        }
        for axis in 0..<x.rank where !(0 <= start[axis] && start[axis] <= limit[axis] && limit[axis] <= x.shape[axis]) {
            throw TypeError("slice: range \(start[axis])..<\(limit[axis]) is out of bounds for axis \(axis) of \(x)")
        }
        return TensorType(x.dtype, zip(start, limit).map { $1 - $0 })
    }

    static func concat(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        guard case .concat(let axis) = op else { throw TypeError("\(op.name): not a concat") }
        let first = operands[0]
        guard (0..<first.rank).contains(axis) else {
            throw TypeError("concat: axis \(axis) is out of range for \(first)")
        }
        var shape = first.shape
        shape[axis] = 0
        for operand in operands {
            var other = operand.shape
            guard operand.dtype == first.dtype, other.count == shape.count else {
                throw TypeError("concat: operand types differ (\(pair(operands)))")
            }
            shape[axis] += other[axis]
            other[axis] = shape[axis]
            guard other == shape else {
                throw TypeError("concat: operand shapes differ outside axis \(axis) (\(pair(operands)))")
            }
        }
        return TensorType(first.dtype, shape)
    }

    static func pad(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        guard case .pad(let low, let high) = op else { throw TypeError("\(op.name): not a pad") }
        let x = operands[0]
        guard low.count == x.rank, high.count == x.rank, (low + high).allSatisfy({ $0 >= 0 }) else {
            throw TypeError("pad: low and high need \(x.rank) non-negative entries for \(x)")
        }
        return TensorType(x.dtype, x.shape.indices.map { x.shape[$0] + low[$0] + high[$0] })
    }

    // MARK: Indexing and randomness

    /// `gather(table f32[rows, columns], indices i32[...]) -> f32[..., columns]`.
    static func gather(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let (table, indices) = (operands[0], operands[1])
        guard table.dtype == .f32, table.rank == 2 else {
            throw TypeError("gather: the table must be an f32 [rows, columns] tensor, got \(table)")
        }
        guard indices.dtype == .i32 else {
            throw TypeError("gather: indices must be i32, got \(indices); convert them with `convert`")
        }
        return TensorType(.f32, indices.shape + [table.shape[1]])
    }

    /// `scatter_add(indices i32[...], updates f32[..., columns]) : f32[rows, columns]` (declared).
    static func scatterAdd(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let (indices, updates, type) = (operands[0], operands[1], try need(op, declared))
        guard indices.dtype == .i32 else {
            throw TypeError("scatter_add: indices must be i32, got \(indices); convert them with `convert`")
        }
        guard type.dtype == .f32, type.rank == 2 else {
            throw TypeError("scatter_add: the result must be an f32 [rows, columns] table, got \(type)")
        }
        let expected = TensorType(.f32, indices.shape + [type.shape[1]])
        guard updates == expected else {
            throw TypeError("scatter_add: updates must be \(expected) (one row of \(type.shape[1]) per index), got \(updates)")
        }
        return type
    }

    /// `random_uniform(step) {seed}`: a scalar step (f32 or i32); the result is the declared f32 type.
    static func randomUniform(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        let type = try need(op, declared)
        guard operands[0].rank == 0, operands[0].dtype != .bool else {
            throw TypeError("random_uniform: the step must be a numeric scalar, got \(operands[0])")
        }
        guard type.dtype == .f32 else { throw TypeError("random_uniform: the result must be f32, got \(type)") }
        return type
    }

    // MARK: Contraction

    static func matmul(_ op: Op, _ operands: [TensorType], _ declared: TensorType?) throws -> TensorType {
        guard case .matmul(let transposeA, let transposeB) = op else { throw TypeError("\(op.name): not a matmul") }
        let (a, b) = (operands[0], operands[1])
        guard a.rank == 2, b.rank == 2 else { throw TypeError("matmul: expects rank-2 operands (\(pair(operands)))") }
        guard a.dtype == .f32, b.dtype == .f32 else { throw TypeError("matmul: expects f32 operands (\(pair(operands)))") }
        guard MatrixProductGeometry.innerDimensionsAgree(a: a.shape, b: b.shape, transposeA: transposeA, transposeB: transposeB) else {
            throw TypeError("matmul: inner dimensions differ (\(pair(operands)))")
        }
        let g = MatrixProductGeometry(a: a.shape, b: b.shape, transposeA: transposeA, transposeB: transposeB)
        return TensorType(.f32, [g.m, g.n])
    }

    /// `conv2d` and its gradients: the result is the output, input or filter of the
    /// convolution the operands describe.
    static func convolution(_ op: Op, _ direction: ConvolutionDirection, _ operands: [TensorType],
                            _ declared: TensorType?) throws -> TensorType {
        let name = op.name
        let (stride, padding) = op.convolutionWindow ?? ([], [])
        guard stride.count == 2, padding.count == 2, stride.allSatisfy({ $0 > 0 }), padding.allSatisfy({ $0 >= 0 }) else {
            throw TypeError("\(name): stride needs 2 positive entries and padding 2 non-negative entries")
        }
        let result = direction == .forward ? TensorType(.f32, []) : try need(op, declared)
        let (x, w) = ConvolutionGeometry.inputAndFilter(direction, operands: operands, result: result)
        guard x.rank == 4, w.rank == 4, x.dtype == .f32, w.dtype == .f32 else {
            throw TypeError("\(name): expects an f32 NCHW input and an f32 OIHW filter (\(x) × \(w))")
        }
        if direction == .forward, x.shape[1] != w.shape[1] {
            throw TypeError("conv2d: input has \(x.shape[1]) channels but the filter expects \(w.shape[1]) (\(pair(operands)))")
        }
        guard x.shape[2] + 2 * padding[0] >= w.shape[2], x.shape[3] + 2 * padding[1] >= w.shape[3] else {
            throw TypeError("\(name): the \(w.shape[2])×\(w.shape[3]) filter is larger than the padded \(x.shape[2])×\(x.shape[3]) input (\(x) × \(w))")
        }
        let output = ConvolutionGeometry(input: x.shape, filter: w.shape, stride: stride, padding: padding).outputShape(batch: x.shape[0])
        switch direction {
        case .forward:
            return TensorType(.f32, output)
        case .inputGradient, .filterGradient:
            let dy = direction == .inputGradient ? operands[0] : operands[1]
            guard x.shape[1] == w.shape[1], dy.shape == output, dy.dtype == .f32 else {
                throw TypeError("\(name): \(dy) is not the output gradient of conv2d(\(x), \(w))")
            }
            return result
        }
    }
}
