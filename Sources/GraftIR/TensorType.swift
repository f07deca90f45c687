// TensorType: a dtype plus a static shape, written `f32[256,1,28,28]` in the IR.

/// The static type of a value in a Graft graph: element type and shape.
///
/// Shapes are fully static, as in XLA. A scalar has the empty shape and prints as `f32[]`.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Int]

    public init(_ dtype: DType, _ shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }

    /// A scalar of the given dtype.
    public static func scalar(_ dtype: DType = .f32) -> TensorType { TensorType(dtype, []) }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes needed to store one value of this type.
    public var byteCount: Int { elementCount * dtype.byteSize }

    /// The same shape with another element type.
    public func with(dtype: DType) -> TensorType { TensorType(dtype, shape) }

    /// The text form: `f32[2,3]`.
    public var description: String {
        "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ","))]"
    }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            result[axis] = running
            running *= shape[axis]
        }
        return result
    }
}
