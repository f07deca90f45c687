// Tensor: the DSL's handle to a value in the graph being traced.

import GraftIR

/// A symbolic tensor: a value in the graph being traced, with its static type.
///
/// Ops on tensors do not compute anything; they record nodes in the tensor's
/// `GraphBuilder`. Operators broadcast like NumPy: `x + bias` with `x: f32[8,4]` and
/// `bias: f32[4]` records a `broadcast` and an `add`.
public struct Tensor {
    /// The value's id in `builder.graph`; negative once tracing has failed.
    public let id: ValueID
    public let type: TensorType
    /// The builder this tensor belongs to.
    public let builder: GraphBuilder

    init(id: ValueID, type: TensorType, builder: GraphBuilder) {
        self.id = id
        self.type = type
        self.builder = builder
    }

    public var shape: [Int] { type.shape }
    public var dtype: DType { type.dtype }
    public var rank: Int { type.rank }
}
