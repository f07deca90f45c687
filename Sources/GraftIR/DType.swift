// DType: the element types a Graft tensor can hold.

/// The element type of a tensor.
///
/// `f32` is the type models compute in; `i32` holds indices and labels; `bool` is what
/// comparisons produce and `select` consumes. The raw value is the spelling in the IR text form.
public enum DType: String, CaseIterable, Sendable, Hashable {
    case f32
    case i32
    case bool

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: 4
        case .bool: 1
        }
    }

    /// Whether arithmetic such as `exp` or `div` is defined on this type.
    public var isFloatingPoint: Bool { self == .f32 }
}
