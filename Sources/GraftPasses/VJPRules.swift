// VJPRules: the reverse-mode derivative of every op, one rule per op, in one table.

import GraftIR

/// Emits the nodes of one vector–Jacobian product into a graph.
///
/// A rule receives the forward node, its result's cotangent `g`, and which operands need a
/// cotangent; it returns one cotangent per operand (nil where none is needed or defined).
/// Backward nodes take the location of the forward node they differentiate.
public struct VJPContext {
    public var graph: Graph
    /// The forward node being differentiated and its value.
    public let node: Node
    public let value: ValueID
    /// The cotangent of the node's result.
    public let cotangent: ValueID
    /// Which operands need a cotangent.
    public let needs: [Bool]

    mutating func add(_ op: Op, _ operands: [ValueID], type: TensorType? = nil) -> ValueID {
        graph.add(op, operands, type: type, at: node.location)
    }
    mutating func splat(_ value: Float, like other: ValueID) -> ValueID {
        graph.splat(value, graph[other].type, at: node.location)
    }
    func operand(_ index: Int) -> ValueID { node.operands[index] }
    func type(_ value: ValueID) -> TensorType { graph[value].type }
}

/// A VJP rule: the cotangents of an op's operands.
public typealias VJPRule = @Sendable (inout VJPContext) -> [ValueID?]

/// How reverse mode treats an op kind.
public enum Differentiation: Sendable {
    /// The cotangents of the operands, by a rule.
    case rule(VJPRule)
    /// No cotangent passes through: the result is a constant to the gradient (leaves,
    /// `stop_gradient`, comparisons, conversions).
    case stops
}

/// The table of VJP rules, keyed by op kind. Every kind has an entry (`VJPCoverageTests`); a
/// kind without one cannot be differentiated through, and `Autodiff` reports it, located,
/// when a gradient path reaches it.
public enum VJPRules {
    /// The rule of `op`, or nil if it passes no cotangent or has no entry.
    public static func rule(for op: Op) -> VJPRule? {
        if case .rule(let rule) = table[op.kind] { return rule }
        return nil
    }

    /// Whether `kind` passes no cotangent by definition.
    public static func stops(_ kind: OpKind) -> Bool {
        if case .stops = table[kind] { return true }
        return false
    }

    /// The entry of every op kind.
    public static let table: [OpKind: Differentiation] = rules.mapValues(Differentiation.rule).merging(
        [.input, .param, .state, .constant, .iota, .randomUniform, .stopGradient, .compare, .convert].map { ($0, .stops) }) { rule, _ in rule }

    static let rules: [OpKind: VJPRule] = [
        // MARK: Elementwise unary
        .neg: { c in [c.add(.neg, [c.cotangent])] },                                   // d(-x) = -g
        .abs: { c in                                                                   // d|x| = g·sign(x)
            let zero = c.splat(0, like: c.operand(0))
            let nonNegative = c.add(.compare(.ge), [c.operand(0), zero])
            return [c.add(.select, [nonNegative, c.cotangent, c.add(.neg, [c.cotangent])])]
        },
        .exp: { c in [c.add(.mul, [c.cotangent, c.value])] },                          // d eˣ = g·eˣ
        .log: { c in [c.add(.div, [c.cotangent, c.operand(0)])] },                     // d log x = g/x
        .sqrt: { c in                                                                  // d √x = g/(2√x)
            let twice = c.add(.add, [c.value, c.value])
            return [c.add(.div, [c.cotangent, twice])]
        },
        .rsqrt: { c in                                                                 // d x^-½ = -½·g·y/x
            let ratio = c.add(.div, [c.value, c.operand(0)])
            let scaled = c.add(.mul, [ratio, c.splat(-0.5, like: c.value)])
            return [c.add(.mul, [c.cotangent, scaled])]
        },
        .tanh: { c in                                                                  // d tanh x = g·(1 − y²)
            let square = c.add(.mul, [c.value, c.value])
            let slope = c.add(.sub, [c.splat(1, like: c.value), square])
            return [c.add(.mul, [c.cotangent, slope])]
        },
        .sigmoid: { c in                                                               // d σ(x) = g·y·(1 − y)
            let slope = c.add(.mul, [c.value, c.add(.sub, [c.splat(1, like: c.value), c.value])])
            return [c.add(.mul, [c.cotangent, slope])]
        },
        .relu: { c in                                                                  // d relu x = g·[y > 0]
            // y > 0 exactly where x > 0, and y is the tensor the next layer reads anyway: with
            // x read here, a residual sum x that feeds only the ReLU had to be kept for this.
            let zero = c.splat(0, like: c.value)
            let positive = c.add(.compare(.gt), [c.value, zero])
            return [c.add(.select, [positive, c.cotangent, zero])]
        },

        // MARK: Elementwise binary
        .add: { c in [c.cotangent, c.cotangent] },                                     // g, g
        .sub: { c in [c.cotangent, c.needs[1] ? c.add(.neg, [c.cotangent]) : nil] },   // g, −g
        .mul: { c in                                                                   // g·b, g·a
            [c.needs[0] ? c.add(.mul, [c.cotangent, c.operand(1)]) : nil,
             c.needs[1] ? c.add(.mul, [c.cotangent, c.operand(0)]) : nil]
        },
        .div: { c in                                                                   // g/b, −g·y/b
            let ga = c.add(.div, [c.cotangent, c.operand(1)])
            guard c.needs[1] else { return [ga, nil] }
            return [ga, c.add(.neg, [c.add(.mul, [ga, c.value])])]
        },
        .max: { c in minMax(&c, .ge) },                                                // ties go to the first operand
        .min: { c in minMax(&c, .le) },

        // MARK: Elementwise ternary
        .select: { c in                                                                // none, g·[p], g·[¬p]
            let zero = c.splat(0, like: c.cotangent)
            return [nil,
                    c.needs[1] ? c.add(.select, [c.operand(0), c.cotangent, zero]) : nil,
                    c.needs[2] ? c.add(.select, [c.operand(0), zero, c.cotangent]) : nil]
        },

        // MARK: Reductions
        .reduceSum: { c in [broadcastBack(&c, c.cotangent)] },                        // g broadcast back
        .reduceMean: { c in                                                           // g/n broadcast back
            let count = c.type(c.operand(0)).elementCount / Swift.max(c.type(c.value).elementCount, 1)
            let scaled = c.add(.mul, [c.cotangent, c.splat(1 / Float(count), like: c.cotangent)])
            return [broadcastBack(&c, scaled)]
        },
        .reduceMax: { c in                                                            // g where x equals the max
            let spread = broadcastBack(&c, c.cotangent)
            let maximum = broadcastBack(&c, c.value)
            let isMax = c.add(.compare(.eq), [c.operand(0), maximum])
            return [c.add(.select, [isMax, spread, c.splat(0, like: spread)])]
        },

        // MARK: Layout
        .reshape: { c in [c.add(.reshape, [c.cotangent], type: c.type(c.operand(0)))] },
        .transpose: { c in                                                             // inverse permutation
            guard case .transpose(let permutation) = c.node.op else { return [nil] }
            var inverse = permutation
            for (index, axis) in permutation.enumerated() { inverse[axis] = index }
            return [c.add(.transpose(permutation: inverse), [c.cotangent])]
        },
        .broadcast: { c in [unbroadcast(&c, c.cotangent, to: c.type(c.operand(0)))] }, // sum over broadcast axes
        .slice: { c in                                                                 // pad back with zeros
            guard case .slice(let start, let limit) = c.node.op else { return [nil] }
            let shape = c.type(c.operand(0)).shape
            return [c.add(.pad(low: start, high: zip(shape, limit).map { $0 - $1 }), [c.cotangent])]
        },
        .pad: { c in                                                                   // slice the interior
            guard case .pad(let low, _) = c.node.op else { return [nil] }
            let shape = c.type(c.operand(0)).shape
            return [c.add(.slice(start: low, limit: zip(low, shape).map { $0 + $1 }), [c.cotangent])]
        },
        .concat: { c in                                                                // slice each piece
            guard case .concat(let axis) = c.node.op else { return [] }
            var offset = 0
            var result: [ValueID?] = []
            let full = c.type(c.value).shape
            for (index, operand) in c.node.operands.enumerated() {
                let width = c.type(operand).shape[axis]
                defer { offset += width }
                guard c.needs[index] else { result.append(nil); continue }
                var start = [Int](repeating: 0, count: full.count), limit = full
                start[axis] = offset
                limit[axis] = offset + width
                result.append(c.add(.slice(start: start, limit: limit), [c.cotangent]))
            }
            return result
        },

        // MARK: Indexing
        .gather: { c in                                                                // rows of g added back at their indices
            [c.needs[0] ? c.add(.scatterAdd, [c.operand(1), c.cotangent], type: c.type(c.operand(0))) : nil, nil]
        },
        .scatterAdd: { c in [nil, c.needs[1] ? c.add(.gather, [c.cotangent, c.operand(0)]) : nil] },  // g's rows at the indices

        // MARK: Contraction
        .matmul: { c in
            // C = op(A)·op(B): dA and dB are matmuls of g with the other operand, transposed to fit.
            guard case .matmul(let ta, let tb) = c.node.op else { return [nil, nil] }
            let (a, b, g) = (c.operand(0), c.operand(1), c.cotangent)
            var da: ValueID?, db: ValueID?
            if c.needs[0] {
                da = ta ? c.add(.matmul(transposeA: tb, transposeB: true), [b, g])     // Aᵀ: op(B)·gᵀ
                        : c.add(.matmul(transposeA: false, transposeB: !tb), [g, b])   // A: g·op(B)ᵀ
            }
            if c.needs[1] {
                db = tb ? c.add(.matmul(transposeA: true, transposeB: ta), [g, a])     // Bᵀ: gᵀ·op(A)
                        : c.add(.matmul(transposeA: !ta, transposeB: false), [a, g])   // B: op(A)ᵀ·g
            }
            return [da, db]
        },
        .conv2d: { c in                                                                // input and filter gradients
            guard case .conv2d(let stride, let padding) = c.node.op else { return [nil, nil] }
            let (x, w, g) = (c.operand(0), c.operand(1), c.cotangent)
            return [c.needs[0] ? c.add(.conv2dInputGrad(stride: stride, padding: padding), [g, w], type: c.type(x)) : nil,
                    c.needs[1] ? c.add(.conv2dFilterGrad(stride: stride, padding: padding), [x, g], type: c.type(w)) : nil]
        },
        .conv2dInputGrad: { c in                                                     // bilinear in (dy, w)
            guard case .conv2dInputGrad(let stride, let padding) = c.node.op else { return [nil, nil] }
            let (dy, w, g) = (c.operand(0), c.operand(1), c.cotangent)
            return [c.needs[0] ? c.add(.conv2d(stride: stride, padding: padding), [g, w]) : nil,
                    c.needs[1] ? c.add(.conv2dFilterGrad(stride: stride, padding: padding), [g, dy], type: c.type(w)) : nil]
        },
        .conv2dFilterGrad: { c in                                                    // bilinear in (x, dy)
            guard case .conv2dFilterGrad(let stride, let padding) = c.node.op else { return [nil, nil] }
            let (x, dy, g) = (c.operand(0), c.operand(1), c.cotangent)
            return [c.needs[0] ? c.add(.conv2dInputGrad(stride: stride, padding: padding), [dy, g], type: c.type(x)) : nil,
                    c.needs[1] ? c.add(.conv2d(stride: stride, padding: padding), [x, g]) : nil]
        },

        // MARK: Windowed
        .maxPool2d: { c in                                                           // g to each window's first max
            guard let p = c.node.op.poolingWindow else { return [nil] }
            return [c.add(.maxPool2dGrad(window: p.window, stride: p.stride, padding: p.padding), [c.operand(0), c.cotangent])]
        },
        .maxPool2dGrad: { c in                                                       // none for x (piecewise constant); dy: g at each first max
            guard let p = c.node.op.poolingWindow else { return [nil, nil] }
            return [nil, c.needs[1] ? c.add(.maxPool2dSelect(window: p.window, stride: p.stride, padding: p.padding), [c.operand(0), c.cotangent]) : nil]
        },
        .maxPool2dSelect: { c in                                                     // none for x; v: g scattered to each first max
            guard let p = c.node.op.poolingWindow else { return [nil, nil] }
            return [nil, c.needs[1] ? c.add(.maxPool2dGrad(window: p.window, stride: p.stride, padding: p.padding), [c.operand(0), c.cotangent]) : nil]
        },
        .avgPool2d: { c in                                                           // g/(kh·kw) spread over each window
            guard let p = c.node.op.poolingWindow else { return [nil] }
            return [c.add(.avgPool2dGrad(window: p.window, stride: p.stride, padding: p.padding), [c.cotangent], type: c.type(c.operand(0)))]
        },
        .avgPool2dGrad: { c in                                                       // linear: its adjoint is avg_pool2d
            guard let p = c.node.op.poolingWindow else { return [nil] }
            return [c.add(.avgPool2d(window: p.window, stride: p.stride, padding: p.padding), [c.cotangent])]
        },

        // MARK: Collectives
        .allReduce: { c in
            // y = Σ_r x_r (or its mean) on every replica r, and the group's objective is the sum
            // of the replicas' losses, so ∂/∂x_s = Σ_r g_r (or its mean): the adjoint of an
            // all-reduce is the same all-reduce of the cotangents.
            guard let reduction = c.node.op.collectiveReduction else { return [nil] }
            return [c.add(.allReduce(reduction), [c.cotangent])]
        },
    ]

    /// max/min: the cotangent goes to the operand that was chosen (the first one on ties).
    private static func minMax(_ c: inout VJPContext, _ firstWins: Comparison) -> [ValueID?] {
        let takesFirst = c.add(.compare(firstWins), [c.operand(0), c.operand(1)])
        let zero = c.splat(0, like: c.cotangent)
        return [c.needs[0] ? c.add(.select, [takesFirst, c.cotangent, zero]) : nil,
                c.needs[1] ? c.add(.select, [takesFirst, zero, c.cotangent]) : nil]
    }

    /// A reduction's cotangent (or result) reshaped with the reduced axes kept as 1 and
    /// broadcast back to the operand's shape.
    private static func broadcastBack(_ c: inout VJPContext, _ reduced: ValueID) -> ValueID {
        let operandType = c.type(c.operand(0))
        let axes = c.node.op.reducedAxes ?? []
        let kept = operandType.shape.indices.map { axes.contains($0) ? 1 : operandType.shape[$0] }
        let reshaped = c.add(.reshape, [reduced], type: TensorType(operandType.dtype, kept))
        return c.add(.broadcast, [reshaped], type: operandType)
    }

    /// Sums `g` over the axes a broadcast to its shape added or stretched, back to `type`.
    private static func unbroadcast(_ c: inout VJPContext, _ g: ValueID, to type: TensorType) -> ValueID {
        let full = c.type(g).shape
        let offset = full.count - type.rank
        let axes = full.indices.filter { $0 < offset || (type.shape[$0 - offset] == 1 && full[$0] != 1) }
        guard !axes.isEmpty else { return c.add(.reshape, [g], type: type) }
        let summed = c.add(.reduceSum(axes: axes), [g])
        return c.graph[summed].type == type ? summed : c.add(.reshape, [summed], type: type)
    }
}
