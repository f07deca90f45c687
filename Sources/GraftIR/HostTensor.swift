// HostTensor: a tensor's concrete values in host memory, row-major.

/// Concrete values of a tensor: its type and its elements in row-major order.
///
/// Every dtype is held as `Float` (i32 values exactly up to 2^24, bool as 0 or 1), which keeps
/// the reference interpreter and parameter initialisation in one obvious representation.
public struct HostTensor: Hashable, Sendable, CustomStringConvertible {
    public var type: TensorType
    public var scalars: [Float]

    public init(_ type: TensorType, _ scalars: [Float]) {
        precondition(scalars.count == type.elementCount,
                     "HostTensor: \(scalars.count) values given for \(type), which holds \(type.elementCount)")
        self.type = type
        self.scalars = scalars
    }

    /// A tensor of the given shape with every element `value`.
    public init(repeating value: Float, _ type: TensorType) {
        self.init(type, [Float](repeating: value, count: type.elementCount))
    }

    /// An f32 tensor of the given shape.
    public init(shape: [Int], _ scalars: [Float]) {
        self.init(TensorType(.f32, shape), scalars)
    }

    /// An f32 scalar.
    public init(scalar: Float) {
        self.init(TensorType(.f32, []), [scalar])
    }

    public var shape: [Int] { type.shape }

    public var description: String { "\(type) \(scalars.prefix(8))\(scalars.count > 8 ? "…" : "")" }
}
