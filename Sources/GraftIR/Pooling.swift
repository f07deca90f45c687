// Pooling: the window arithmetic of the 2-D pooling ops (max_pool2d, avg_pool2d and their
// gradients), worked out once here for the type rule, the interpreter and the backend.
//
// Shape legend: input [N, C, H, W], window [KH, KW], output [N, C, OH, OW]. Output position
// (oh, ow) covers input rows `oh·stride[0] − padding[0] + (0..<KH)` and columns
// `ow·stride[1] − padding[1] + (0..<KW)`; positions outside the input are padding (−inf for
// max, 0 for average). Padding is at most half the window, as in PyTorch, so every window
// holds at least one input element.

/// The attributes of a pooling op: window, stride and padding, each [height, width].
public struct PoolingWindow: Hashable, Sendable {
    public var window: [Int], stride: [Int], padding: [Int]

    public init(window: [Int], stride: [Int], padding: [Int]) {
        self.window = window
        self.stride = stride
        self.padding = padding
    }

    /// Elements per window, KH·KW: the divisor of every average (padding included).
    public var size: Int { window.reduce(1, *) }
}

/// The geometry of one pooling over an NCHW input, per axis (0: height, 1: width).
public struct PoolingGeometry: Hashable, Sendable {
    public var window: PoolingWindow
    /// The input's [H, W] and the output's [OH, OW].
    public var input: [Int], output: [Int]

    /// The geometry of `window` over an input of shape `[N, C, H, W]` (checked by `check`).
    public init(input shape: [Int], _ window: PoolingWindow) {
        let input = [shape[2], shape[3]]
        self.window = window
        self.input = input
        output = (0..<2).map { (input[$0] + 2 * window.padding[$0] - window.window[$0]) / window.stride[$0] + 1 }
    }

    /// The pooled shape of an input of shape `[N, C, H, W]`: `[N, C, OH, OW]`.
    public func outputShape(batch: Int, channels: Int) -> [Int] { [batch, channels, output[0], output[1]] }

    /// The input index along `axis` where output position `position`'s window starts (negative
    /// inside the low padding).
    public func windowStart(_ position: Int, axis: Int) -> Int {
        position * window.stride[axis] - window.padding[axis]
    }

    /// The most windows along `axis` that hold one input index, ⌈K / stride⌉: a gradient
    /// element gathers from that many candidate windows per axis.
    public func windowsPerIndex(axis: Int) -> Int {
        (window.window[axis] + window.stride[axis] - 1) / window.stride[axis]
    }

    /// Checks `window` on an operand of type `x`, throwing a sentence naming what is wrong.
    public static func check(_ op: String, _ window: PoolingWindow, input x: TensorType) throws {
        let (k, s, p) = (window.window, window.stride, window.padding)
        guard k.count == 2, s.count == 2, p.count == 2 else {
            throw TypeError("\(op): window, stride and padding need 2 entries each ([height, width]), got window \(k), stride \(s), padding \(p)")
        }
        guard k.allSatisfy({ $0 > 0 }) else { throw TypeError("\(op): window \(k) must be positive") }
        guard s.allSatisfy({ $0 > 0 }) else { throw TypeError("\(op): stride \(s) must be positive") }
        guard p.allSatisfy({ $0 >= 0 }), (0..<2).allSatisfy({ 2 * p[$0] <= k[$0] }) else {
            throw TypeError("\(op): padding \(p) must be non-negative and at most half the window \(k)")
        }
        guard x.rank == 4, x.dtype == .f32 else { throw TypeError("\(op): expects an f32 NCHW input, got \(x)") }
        guard (0..<2).allSatisfy({ x.shape[2 + $0] + 2 * p[$0] >= k[$0] }) else {
            throw TypeError("\(op): the \(k[0])×\(k[1]) window is larger than the \(x.shape[2])×\(x.shape[3]) input padded by \(p) (\(x))")
        }
    }
}

/// How a pooling op's operands and result relate to the pooling's input and output.
enum PoolingSignature: Sendable {
    /// (x) → pooled: `max_pool2d`, `avg_pool2d`.
    case pooled
    /// (x, g), g of x's type → pooled: `max_pool2d_select`.
    case pooledPair
    /// (x, dy), dy pooled → x's type: `max_pool2d_grad`.
    case inputGradient
    /// (dy) → the declared input type: `avg_pool2d_grad`.
    case spreadGradient

    var arity: Int {
        switch self {
        case .pooled, .spreadGradient: 1
        case .pooledPair, .inputGradient: 2
        }
    }
}

extension TypeRules {
    /// A pooling op: the result is the pooled shape of its input, or the input from the gradient.
    static func pooling(_ op: Op, _ signature: PoolingSignature, _ operands: [TensorType],
                        _ declared: TensorType?) throws -> TensorType {
        guard let window = op.poolingWindow else { throw TypeError("\(op.name): not a pooling op") }
        let x = signature == .spreadGradient ? try need(op, declared) : operands[0]
        try PoolingGeometry.check(op.name, window, input: x)
        let pooled = TensorType(.f32, PoolingGeometry(input: x.shape, window).outputShape(batch: x.shape[0], channels: x.shape[1]))
        switch signature {
        case .pooled:
            return pooled
        case .pooledPair:
            guard operands[1] == x else { throw TypeError("\(op.name): operand types differ (\(pair(operands)))") }
            return pooled
        case .inputGradient, .spreadGradient:
            let dy = operands[signature == .inputGradient ? 1 : 0]
            guard dy == pooled else {
                throw TypeError("\(op.name): \(dy) is not the output gradient of pooling \(x) (expected \(pooled))")
            }
            return x
        }
    }
}

extension OpDefinition {
    /// A pooling op with attributes `window`, `stride` and `padding`.
    static func pooling(_ kind: OpKind, _ signature: PoolingSignature,
                        _ make: @escaping @Sendable (PoolingWindow) -> Op) -> OpDefinition {
        OpDefinition(kind, group: .window, arity: .fixed(signature.arity), attributes: ["padding", "stride", "window"],
                     read: { op in
                         let window = op.poolingWindow ?? PoolingWindow(window: [], stride: [], padding: [])
                         return [ints(window.padding), ints(window.stride), ints(window.window)]
                     },
                     build: { make(PoolingWindow(window: try $0.ints("window"), stride: try $0.ints("stride"),
                                                 padding: try $0.ints("padding"))) },
                     type: { op, operands, declared in try TypeRules.pooling(op, signature, operands, declared) })
    }
}
