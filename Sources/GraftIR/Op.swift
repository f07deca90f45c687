// Op: the whole operation set of the Graft IR, one enum grouped by family.
//
// Each case's text name and attributes are defined here; its type rule lives in
// TypeInference.swift, its evaluation in the reference interpreter.

/// How `compare` relates its two operands.
public enum Comparison: String, CaseIterable, Hashable, Sendable {
    case eq, ne, lt, le, gt, ge
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
}

extension Op {
    /// The op's spelling in the IR text form.
    public var name: String {
        switch self {
        case .input: "input"
        case .param: "param"
        case .state: "state"
        case .constant: "constant"
        case .iota: "iota"
        case .neg: "neg"
        case .abs: "abs"
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .rsqrt: "rsqrt"
        case .tanh: "tanh"
        case .relu: "relu"
        case .convert: "convert"
        case .stopGradient: "stop_gradient"
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .max: "max"
        case .min: "min"
        case .compare: "compare"
        case .select: "select"
        case .reduceSum: "reduce_sum"
        case .reduceMean: "reduce_mean"
        case .reduceMax: "reduce_max"
        case .reshape: "reshape"
        case .transpose: "transpose"
        case .broadcast: "broadcast"
        case .slice: "slice"
        case .concat: "concat"
        case .pad: "pad"
        case .matmul: "matmul"
        case .conv2d: "conv2d"
        case .conv2dInputGrad: "conv2d_input_grad"
        case .conv2dFilterGrad: "conv2d_filter_grad"
        }
    }

    /// The op's attributes in the order the text form prints them (sorted by name).
    public var attributes: [(name: String, value: Attribute)] {
        func ints(_ values: [Int]) -> Attribute { .list(values.map(Attribute.int)) }
        switch self {
        case .constant(let value): return [("value", .float(value))]
        case .iota(let axis): return [("axis", .int(axis))]
        case .compare(let direction): return [("direction", .word(direction.rawValue))]
        case .reduceSum(let axes), .reduceMean(let axes), .reduceMax(let axes):
            return [("axes", ints(axes))]
        case .transpose(let permutation): return [("permutation", ints(permutation))]
        case .slice(let start, let limit): return [("limit", ints(limit)), ("start", ints(start))]
        case .concat(let axis): return [("axis", .int(axis))]
        case .pad(let low, let high): return [("high", ints(high)), ("low", ints(low))]
        case .matmul(let transposeA, let transposeB):
            return [("transpose_a", .bool(transposeA)), ("transpose_b", .bool(transposeB))]
        case .conv2d(let stride, let padding), .conv2dInputGrad(let stride, let padding),
            .conv2dFilterGrad(let stride, let padding):
            return [("padding", ints(padding)), ("stride", ints(stride))]
        default: return []
        }
    }

    /// Builds an op from its text name and attributes (the parser's entry point).
    /// Leaves that carry a name (`input`, `param`, `state`) are declarations, not statements,
    /// and are not built here.
    public init(name: String, attributes: [String: Attribute]) throws {
        var reader = AttributeReader(op: name, attributes: attributes)
        switch name {
        case "constant": self = .constant(try reader.float("value"))
        case "iota": self = .iota(axis: try reader.int("axis"))
        case "compare":
            let word = try reader.word("direction")
            guard let direction = Comparison(rawValue: word) else {
                let valid = Comparison.allCases.map(\.rawValue).joined(separator: ", ")
                throw TypeError("compare: unknown direction '\(word)' (expected one of \(valid))")
            }
            self = .compare(direction)
        case "reduce_sum": self = .reduceSum(axes: try reader.ints("axes"))
        case "reduce_mean": self = .reduceMean(axes: try reader.ints("axes"))
        case "reduce_max": self = .reduceMax(axes: try reader.ints("axes"))
        case "transpose": self = .transpose(permutation: try reader.ints("permutation"))
        case "slice": self = .slice(start: try reader.ints("start"), limit: try reader.ints("limit"))
        case "concat": self = .concat(axis: try reader.int("axis"))
        case "pad": self = .pad(low: try reader.ints("low"), high: try reader.ints("high"))
        case "matmul":
            self = .matmul(transposeA: try reader.bool("transpose_a"), transposeB: try reader.bool("transpose_b"))
        case "conv2d":
            self = .conv2d(stride: try reader.ints("stride"), padding: try reader.ints("padding"))
        case "conv2d_input_grad":
            self = .conv2dInputGrad(stride: try reader.ints("stride"), padding: try reader.ints("padding"))
        case "conv2d_filter_grad":
            self = .conv2dFilterGrad(stride: try reader.ints("stride"), padding: try reader.ints("padding"))
        default:
            guard let op = Op.attributeFree[name] else {
                throw TypeError("unknown op '\(name)'")
            }
            self = op
        }
        try reader.finish()
    }

    /// Ops without attributes, by text name.
    static let attributeFree: [String: Op] = {
        let ops: [Op] = [
            .neg, .abs, .exp, .log, .sqrt, .rsqrt, .tanh, .relu, .convert, .stopGradient,
            .add, .sub, .mul, .div, .max, .min, .select, .reshape, .broadcast,
        ]
        return Dictionary(uniqueKeysWithValues: ops.map { ($0.name, $0) })
    }()

    /// Every op name the text form accepts in a statement.
    public static var statementNames: [String] {
        (Array(attributeFree.keys) + [
            "constant", "iota", "compare", "reduce_sum", "reduce_mean", "reduce_max", "transpose",
            "slice", "concat", "pad", "matmul", "conv2d", "conv2d_input_grad", "conv2d_filter_grad",
        ]).sorted()
    }

    /// Number of operands the op takes; `nil` for variadic ops (`concat`, at least one).
    public var arity: Int? {
        switch self {
        case .input, .param, .state, .constant, .iota: 0
        case .neg, .abs, .exp, .log, .sqrt, .rsqrt, .tanh, .relu, .convert, .stopGradient,
            .reduceSum, .reduceMean, .reduceMax, .reshape, .transpose, .broadcast, .slice, .pad:
            1
        case .add, .sub, .mul, .div, .max, .min, .compare, .matmul, .conv2d, .conv2dInputGrad,
            .conv2dFilterGrad:
            2
        case .select: 3
        case .concat: nil
        }
    }

    /// Leaves with no operands.
    public var isLeaf: Bool { arity == 0 }

    /// `input`, `param` and `state`: leaves that carry a name and are declared, not computed.
    public var declaredName: String? {
        switch self {
        case .input(let name), .param(let name), .state(let name): name
        default: nil
        }
    }
}
