// Op: the whole operation set of the Graft IR, and the one definition of each op.
//
// An op is three entries in this file: its case in `Op` (with its attributes as payload), its
// case in `OpKind` (the closed, payload-free set every later stage keys its tables by) and its
// `OpDefinition` in `OpKind.makeDefinition()`: name, group, arity, attributes, type rule and,
// for elementwise ops, its scalar meaning, which the interpreter, constant folding and the
// loop emitter all use. Docs/IR.md ("Adding an op") lists what else an op needs.

/// How `compare` relates its two operands.
public enum Comparison: String, CaseIterable, Hashable, Sendable {
    case eq, ne, lt, le, gt, ge
}

/// How `all_reduce` combines the replicas' values.
public enum CollectiveReduction: String, CaseIterable, Hashable, Sendable {
    /// The elementwise sum over the replicas.
    case sum
    /// The elementwise mean over the replicas (the sum divided by their number).
    case mean
}

/// An operation in a Graft graph.
///
/// Leaves (`input`, `param`, `state`, `constant`, `iota`) have no operands. Elementwise ops
/// take operands of one identical type: broadcasting is explicit (`broadcast`), as in XLA, so
/// every later stage sees equal shapes. Layout ops whose result shape is not implied by their
/// operands (`reshape`, `broadcast`) take it from the result type.
public enum Op: Hashable, Sendable {
    // MARK: Leaves
    /// A value fed to the graph on every run, named in the graph's signature.
    case input(String)
    /// A trainable named weight.
    case param(String)
    /// A named non-trainable value that persists between runs (BN statistics, momentum, targets).
    case state(String)
    /// Every element equal to `value`.
    case constant(Float)
    /// Element index along `axis`.
    case iota(axis: Int)

    // MARK: Elementwise unary
    case neg, abs, exp, log, sqrt, rsqrt, tanh, relu
    /// The logistic function `1 / (1 + e^-x)`.
    case sigmoid
    /// Element type conversion; the target dtype is the result type's.
    case convert
    /// Identity whose value the reverse-mode pass treats as a constant.
    case stopGradient

    // MARK: Elementwise binary
    case add, sub, mul, div
    case max, min
    /// Elementwise comparison producing `bool`.
    case compare(Comparison)

    // MARK: Elementwise ternary
    /// `select(pred, a, b)`: `a` where `pred` is true, else `b`.
    case select

    // MARK: Reductions (reduced axes are removed from the shape)
    case reduceSum(axes: [Int])
    case reduceMean(axes: [Int])
    case reduceMax(axes: [Int])

    // MARK: Layout
    /// Same elements in row-major order, new shape (from the result type).
    case reshape
    /// `result.shape[i] == operand.shape[permutation[i]]`.
    case transpose(permutation: [Int])
    /// NumPy broadcasting to the result type's shape: dimensions align on the right, and
    /// each operand dimension is 1 or equal to the result's.
    case broadcast
    /// Elements `start[i] ..< limit[i]` along each axis.
    case slice(start: [Int], limit: [Int])
    /// Operands joined along `axis`.
    case concat(axis: Int)
    /// Zero padding: `low[i]` elements before and `high[i]` after along each axis.
    case pad(low: [Int], high: [Int])

    // MARK: Indexing and randomness
    /// `gather(table, indices)`: rows of an f32 `[rows, columns]` table picked by i32 indices of
    /// any shape; the result is `f32[indices..., columns]`.
    case gather
    /// `scatter_add(indices, updates)`: the adjoint of `gather`. A zero `[rows, columns]` table
    /// (the result type) to which each row of `updates: f32[indices..., columns]` is added at
    /// its index.
    case scatterAdd
    /// `random_uniform(step) {seed}`: floats in [0, 1) of the result type, a counter-based hash
    /// of `seed`, the scalar `step` and each element's index (`RandomUniform`).
    case randomUniform(seed: Int)

    // MARK: Contraction
    /// Matrix product of two rank-2 operands, each optionally transposed.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// 2-D convolution (cross-correlation), input NCHW, filter OIHW; `stride` and `padding`
    /// are [height, width].
    case conv2d(stride: [Int], padding: [Int])
    /// Gradient of `conv2d` with respect to its input: operands (dy, filter); the input shape
    /// is the result type.
    case conv2dInputGrad(stride: [Int], padding: [Int])
    /// Gradient of `conv2d` with respect to its filter: operands (input, dy); the filter shape
    /// is the result type.
    case conv2dFilterGrad(stride: [Int], padding: [Int])

    // MARK: Windowed (pooling, NCHW f32; `window`, `stride`, `padding` are [height, width])
    /// The largest element of each window; padding reads `-inf`, so it is never the maximum.
    case maxPool2d(window: [Int], stride: [Int], padding: [Int])
    /// Gradient of `max_pool2d`: operands (x, dy), result x's type; each window's dy goes to
    /// the first maximal element of the window (row-major), as PyTorch does.
    case maxPool2dGrad(window: [Int], stride: [Int], padding: [Int])
    /// The adjoint of `max_pool2d_grad` in dy: operands (x, g) of one type, result the pooled
    /// shape; each window takes g at the first maximal element of x in it.
    case maxPool2dSelect(window: [Int], stride: [Int], padding: [Int])
    /// The mean of each window, padding counted as zeros: every window divides by kh·kw
    /// (PyTorch's default `count_include_pad=True`).
    case avgPool2d(window: [Int], stride: [Int], padding: [Int])
    /// Gradient of `avg_pool2d`: operand dy, the input type is the result type; every element
    /// receives dy/(kh·kw) from each window that covers it.
    case avgPool2dGrad(window: [Int], stride: [Int], padding: [Int])

    // MARK: Collectives (data parallelism: every replica runs the same graph on its own data)
    /// Every replica's operand combined elementwise across the group (`reduction`), the same
    /// result on every replica. In a group of one (a single process) it is the identity.
    case allReduce(CollectiveReduction)
}

/// The kind of an op without its attributes: the closed set every stage's table is keyed by.
/// Its raw value is the op's spelling in the IR text form.
public enum OpKind: String, CaseIterable, Hashable, Sendable {
    case input, param, state, constant, iota
    case neg, abs, exp, log, sqrt, rsqrt, tanh, relu, sigmoid, convert
    case stopGradient = "stop_gradient"
    case add, sub, mul, div, max, min, compare, select
    case reduceSum = "reduce_sum", reduceMean = "reduce_mean", reduceMax = "reduce_max"
    case reshape, transpose, broadcast, slice, concat, pad
    case gather, scatterAdd = "scatter_add", randomUniform = "random_uniform"
    case matmul, conv2d
    case conv2dInputGrad = "conv2d_input_grad", conv2dFilterGrad = "conv2d_filter_grad"
    case maxPool2d = "max_pool2d", maxPool2dGrad = "max_pool2d_grad", maxPool2dSelect = "max_pool2d_select"
    case avgPool2d = "avg_pool2d", avgPool2dGrad = "avg_pool2d_grad"
    case allReduce = "all_reduce"
}

extension Op {
    /// The op's kind.
    public var kind: OpKind {
        switch self {
        case .input: .input
        case .param: .param
        case .state: .state
        case .constant: .constant
        case .iota: .iota
        case .neg: .neg
        case .abs: .abs
        case .exp: .exp
        case .log: .log
        case .sqrt: .sqrt
        case .rsqrt: .rsqrt
        case .tanh: .tanh
        case .relu: .relu
        case .sigmoid: .sigmoid
        case .convert: .convert
        case .stopGradient: .stopGradient
        case .add: .add
        case .sub: .sub
        case .mul: .mul
        case .div: .div
        case .max: .max
        case .min: .min
        case .compare: .compare
        case .select: .select
        case .reduceSum: .reduceSum
        case .reduceMean: .reduceMean
        case .reduceMax: .reduceMax
        case .reshape: .reshape
        case .transpose: .transpose
        case .broadcast: .broadcast
        case .slice: .slice
        case .concat: .concat
        case .pad: .pad
        case .gather: .gather
        case .scatterAdd: .scatterAdd
        case .randomUniform: .randomUniform
        case .matmul: .matmul
        case .conv2d: .conv2d
        case .conv2dInputGrad: .conv2dInputGrad
        case .conv2dFilterGrad: .conv2dFilterGrad
        case .maxPool2d: .maxPool2d
        case .maxPool2dGrad: .maxPool2dGrad
        case .maxPool2dSelect: .maxPool2dSelect
        case .avgPool2d: .avgPool2d
        case .avgPool2dGrad: .avgPool2dGrad
        case .allReduce: .allReduce
        }
    }
}

extension OpKind {
    /// The definition of every op of this kind.
    func makeDefinition() -> OpDefinition {
        typealias D = OpDefinition
        switch self {
        // MARK: Leaves
        case .input: return D.declaration(self)
        case .param: return D.declaration(self)
        case .state: return D.declaration(self)
        case .constant:
            return D(self, group: .leaf, arity: .fixed(0), attributes: ["value"],
                     read: { op in [.float(op.constantValue ?? 0)] },
                     build: { .constant(try $0.float("value")) },
                     type: TypeRules.declared,
                     meaning: { op, types in .literal(op.constantValue ?? 0, types.result) })
        case .iota:
            return D(self, group: .leaf, arity: .fixed(0), attributes: ["axis"],
                     read: { op in [.int(op.iotaAxis ?? 0)] },
                     build: { .iota(axis: try $0.int("axis")) },
                     type: TypeRules.iota)

        // MARK: Elementwise unary
        case .neg: return D.elementwise(.neg, type: TypeRules.numericUnary) { .function(.neg, .operand(0)) }
        case .abs: return D.elementwise(.abs, type: TypeRules.numericUnary) { .function(.abs, .operand(0)) }
        case .exp: return D.elementwise(.exp, type: TypeRules.floatUnary) { .function(.exp, .operand(0)) }
        case .log: return D.elementwise(.log, type: TypeRules.floatUnary) { .function(.log, .operand(0)) }
        case .sqrt: return D.elementwise(.sqrt, type: TypeRules.floatUnary) { .function(.sqrt, .operand(0)) }
        case .rsqrt: return D.elementwise(.rsqrt, type: TypeRules.floatUnary) { .function(.rsqrt, .operand(0)) }
        case .tanh: return D.elementwise(.tanh, type: TypeRules.floatUnary) { .function(.tanh, .operand(0)) }
        case .relu:
            // max(x, 0), NaN passing through: 0 where x ≤ 0, else x.
            return D.elementwise(.relu, type: TypeRules.numericUnary) { types in
                .select(.compare(.le, .operand(0), .literal(0, types.operands[0])), then: .literal(0, types.result), otherwise: .operand(0))
            }
        case .sigmoid:
            // 1 / (1 + e^-x): 0 for large negative x (e^-x = inf), 1 for large positive.
            return D.elementwise(.sigmoid, type: TypeRules.floatUnary) { types in
                .arithmetic(.div, .literal(1, types.result),
                            .arithmetic(.add, .literal(1, types.result), .function(.exp, .function(.neg, .operand(0)))))
            }
        case .convert:
            return D.elementwise(.convert, type: TypeRules.convert) { types in .convert(.operand(0), from: types.operands[0], to: types.result) }
        case .stopGradient: return D.elementwise(.stopGradient, type: TypeRules.numericUnary) { .operand(0) }

        // MARK: Elementwise binary and ternary
        case .add: return D.elementwise(.add, type: TypeRules.numericBinary) { .arithmetic(.add, .operand(0), .operand(1)) }
        case .sub: return D.elementwise(.sub, type: TypeRules.numericBinary) { .arithmetic(.sub, .operand(0), .operand(1)) }
        case .mul: return D.elementwise(.mul, type: TypeRules.numericBinary) { .arithmetic(.mul, .operand(0), .operand(1)) }
        case .div: return D.elementwise(.div, type: TypeRules.floatBinary) { .arithmetic(.div, .operand(0), .operand(1)) }
        case .max:
            // The first operand on ties; NaN if either is NaN (as XLA's max).
            return D.elementwise(.max, type: TypeRules.numericBinary) { types in
                .select(.compare(.ge, .operand(0), .operand(1)), then: .operand(0),
                        otherwise: .select(.compare(.lt, .operand(0), .operand(1)), then: .operand(1), otherwise: .literal(.nan, types.result)))
            }
        case .min:
            return D.elementwise(.min, type: TypeRules.numericBinary) { types in
                .select(.compare(.le, .operand(0), .operand(1)), then: .operand(0),
                        otherwise: .select(.compare(.gt, .operand(0), .operand(1)), then: .operand(1), otherwise: .literal(.nan, types.result)))
            }
        case .compare:
            return D(self, group: .elementwise, arity: .fixed(2), attributes: ["direction"],
                     read: { op in [.word(op.comparison?.rawValue ?? "")] },
                     build: { reader in
                         let word = try reader.word("direction")
                         guard let direction = Comparison(rawValue: word) else {
                             let valid = Comparison.allCases.map(\.rawValue).joined(separator: ", ")
                             throw TypeError("compare: unknown direction '\(word)' (expected one of \(valid))")
                         }
                         return .compare(direction)
                     },
                     type: TypeRules.compare,
                     meaning: { op, _ in .compare(op.comparison ?? .eq, .operand(0), .operand(1)) })
        case .select:
            return D.elementwise(.select, type: TypeRules.select) { _ in
                .select(.operand(0), then: .operand(1), otherwise: .operand(2))
            }

        // MARK: Reductions
        case .reduceSum: return D.reduction(self) { .reduceSum(axes: $0) }
        case .reduceMean: return D.reduction(self) { .reduceMean(axes: $0) }
        case .reduceMax: return D.reduction(self) { .reduceMax(axes: $0) }

        // MARK: Layout
        case .reshape: return D.layout(.reshape, type: TypeRules.reshape)
        case .broadcast: return D.layout(.broadcast, type: TypeRules.broadcast)
        case .transpose:
            return D(self, group: .layout, arity: .fixed(1), attributes: ["permutation"],
                     read: { op in [D.ints(op.permutation ?? [])] },
                     build: { .transpose(permutation: try $0.ints("permutation")) },
                     type: TypeRules.transpose)
        case .slice:
            return D(self, group: .layout, arity: .fixed(1), attributes: ["limit", "start"],
                     read: { op in
                         guard case .slice(let start, let limit) = op else { return [] }
                         return [D.ints(limit), D.ints(start)]
                     },
                     build: { .slice(start: try $0.ints("start"), limit: try $0.ints("limit")) },
                     type: TypeRules.slice)
        case .concat:
            return D(self, group: .layout, arity: .atLeast(1), attributes: ["axis"],
                     read: { op in
                         guard case .concat(let axis) = op else { return [] }
                         return [.int(axis)]
                     },
                     build: { .concat(axis: try $0.int("axis")) },
                     type: TypeRules.concat)
        case .pad:
            return D(self, group: .layout, arity: .fixed(1), attributes: ["high", "low"],
                     read: { op in
                         guard case .pad(let low, let high) = op else { return [] }
                         return [D.ints(high), D.ints(low)]
                     },
                     build: { .pad(low: try $0.ints("low"), high: try $0.ints("high")) },
                     type: TypeRules.pad)

        // MARK: Indexing and randomness
        case .gather:
            // Moves table rows; computed inside loop kernels at the index the consumer needs.
            return D(self, group: .layout, arity: .fixed(2), build: { _ in .gather }, type: TypeRules.gather)
        case .scatterAdd:
            // Accumulates rows at data-dependent positions: a call of its own, like a contraction.
            return D(self, group: .contraction, arity: .fixed(2), build: { _ in .scatterAdd }, type: TypeRules.scatterAdd)
        case .randomUniform:
            // Computed from the element's index and a scalar, wherever it is needed, like `iota`.
            return D(self, group: .leaf, arity: .fixed(1), attributes: ["seed"],
                     read: { op in [.int(op.randomSeed ?? 0)] },
                     build: { .randomUniform(seed: try $0.int("seed")) },
                     type: TypeRules.randomUniform)

        // MARK: Contraction
        case .matmul:
            return D(self, group: .contraction, arity: .fixed(2), attributes: ["transpose_a", "transpose_b"],
                     read: { op in
                         guard case .matmul(let transposeA, let transposeB) = op else { return [] }
                         return [.bool(transposeA), .bool(transposeB)]
                     },
                     build: { .matmul(transposeA: try $0.bool("transpose_a"), transposeB: try $0.bool("transpose_b")) },
                     type: TypeRules.matmul,
                     contraction: { op, operands, _ in
                         guard case .matmul(let transposeA, let transposeB) = op else { return nil }
                         return .matrixProduct(MatrixProductGeometry(a: operands[0].shape, b: operands[1].shape,
                                                                     transposeA: transposeA, transposeB: transposeB))
                     })
        case .conv2d:
            return D.convolution(self, .forward) { .conv2d(stride: $0, padding: $1) }
        case .conv2dInputGrad:
            return D.convolution(self, .inputGradient) { .conv2dInputGrad(stride: $0, padding: $1) }
        case .conv2dFilterGrad:
            return D.convolution(self, .filterGradient) { .conv2dFilterGrad(stride: $0, padding: $1) }

        // MARK: Windowed
        case .maxPool2d:
            return D.pooling(self, .pooled) { .maxPool2d(window: $0.window, stride: $0.stride, padding: $0.padding) }
        case .maxPool2dGrad:
            return D.pooling(self, .inputGradient) { .maxPool2dGrad(window: $0.window, stride: $0.stride, padding: $0.padding) }
        case .maxPool2dSelect:
            return D.pooling(self, .pooledPair) { .maxPool2dSelect(window: $0.window, stride: $0.stride, padding: $0.padding) }
        case .avgPool2d:
            return D.pooling(self, .pooled) { .avgPool2d(window: $0.window, stride: $0.stride, padding: $0.padding) }
        case .avgPool2dGrad:
            return D.pooling(self, .spreadGradient) { .avgPool2dGrad(window: $0.window, stride: $0.stride, padding: $0.padding) }

        // MARK: Collectives
        case .allReduce:
            // Exchanges whole buffers with the other replicas: a call of its own, like a contraction.
            return D(self, group: .contraction, arity: .fixed(1), attributes: ["reduction"],
                     read: { op in [.word(op.collectiveReduction?.rawValue ?? "")] },
                     build: { reader in
                         let word = try reader.word("reduction")
                         guard let reduction = CollectiveReduction(rawValue: word) else {
                             let valid = CollectiveReduction.allCases.map(\.rawValue).joined(separator: ", ")
                             throw TypeError("all_reduce: attribute 'reduction' must be one of \(valid), not '\(word)'")
                         }
                         return .allReduce(reduction)
                     },
                     type: TypeRules.floatUnary)
        }
    }
}

// MARK: - Attribute accessors

extension Op {
    /// `constant`'s value.
    var constantValue: Float? { if case .constant(let value) = self { value } else { nil } }
    /// `iota`'s axis.
    public var iotaAxis: Int? { if case .iota(let axis) = self { axis } else { nil } }
    /// `compare`'s direction.
    public var comparison: Comparison? { if case .compare(let direction) = self { direction } else { nil } }
    /// `all_reduce`'s reduction.
    public var collectiveReduction: CollectiveReduction? { if case .allReduce(let reduction) = self { reduction } else { nil } }
    /// `random_uniform`'s seed.
    public var randomSeed: Int? { if case .randomUniform(let seed) = self { seed } else { nil } }
    /// `transpose`'s permutation.
    public var permutation: [Int]? { if case .transpose(let permutation) = self { permutation } else { nil } }

    /// The reduced axes of a reduction.
    public var reducedAxes: [Int]? {
        if case .reduceSum(let axes) = self { return axes }
        if case .reduceMean(let axes) = self { return axes }
        if case .reduceMax(let axes) = self { return axes }
        return nil
    }

    /// The stride and padding of `conv2d` and its gradients.
    public var convolutionWindow: (stride: [Int], padding: [Int])? {
        if case .conv2d(let stride, let padding) = self { return (stride, padding) }
        if case .conv2dInputGrad(let stride, let padding) = self { return (stride, padding) }
        if case .conv2dFilterGrad(let stride, let padding) = self { return (stride, padding) }
        return nil
    }

    /// The window, stride and padding of a pooling op (`max_pool2d`, `avg_pool2d` and their gradients).
    public var poolingWindow: PoolingWindow? {
        let attributes: (window: [Int], stride: [Int], padding: [Int])
        if case .maxPool2d(let window, let stride, let padding) = self { attributes = (window, stride, padding) }
        else if case .maxPool2dGrad(let window, let stride, let padding) = self { attributes = (window, stride, padding) }
        else if case .maxPool2dSelect(let window, let stride, let padding) = self { attributes = (window, stride, padding) }
        else if case .avgPool2d(let window, let stride, let padding) = self { attributes = (window, stride, padding) }
        else if case .avgPool2dGrad(let window, let stride, let padding) = self { attributes = (window, stride, padding) }
        else { return nil }
        return PoolingWindow(window: attributes.window, stride: attributes.stride, padding: attributes.padding)
    }
}
