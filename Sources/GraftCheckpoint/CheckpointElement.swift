// CheckpointElement: Swift scalar types whose values a checkpoint tensor can hold or return.

/// A Swift scalar type stored in a safetensors file as one dtype, little-endian.
///
/// `Float` is `F32`, `Double` is `F64`, the fixed-width integers are `I8`…`U64`, `Bool` is
/// `BOOL` (one byte, 0 or 1). Conversion between dtypes is never implicit: reading an `I64`
/// tensor as `Float` is an error.
public protocol CheckpointElement: Sendable {
    /// The bits a value is stored as; written little-endian.
    associatedtype StorageBits: FixedWidthInteger & Sendable
    /// The dtype this Swift type is stored as.
    static var checkpointDType: CheckpointDType { get }
    /// The value's bits, in host byte order.
    var storageBits: StorageBits { get }
    /// The value with these bits (host byte order).
    init(storageBits: StorageBits)
}

extension Float: CheckpointElement {
    public static var checkpointDType: CheckpointDType { .f32 }
    public var storageBits: UInt32 { bitPattern }
    public init(storageBits: UInt32) { self.init(bitPattern: storageBits) }
}

extension Double: CheckpointElement {
    public static var checkpointDType: CheckpointDType { .f64 }
    public var storageBits: UInt64 { bitPattern }
    public init(storageBits: UInt64) { self.init(bitPattern: storageBits) }
}

extension Bool: CheckpointElement {
    public static var checkpointDType: CheckpointDType { .bool }
    public var storageBits: UInt8 { self ? 1 : 0 }
    public init(storageBits: UInt8) { self = storageBits != 0 }
}

/// A fixed-width integer stored as itself.
public protocol CheckpointInteger: CheckpointElement, FixedWidthInteger where StorageBits == Self {}

extension CheckpointInteger {
    public var storageBits: Self { self }
    public init(storageBits: Self) { self = storageBits }
}

extension UInt8: CheckpointInteger { public static var checkpointDType: CheckpointDType { .u8 } }
extension Int8: CheckpointInteger { public static var checkpointDType: CheckpointDType { .i8 } }
extension UInt16: CheckpointInteger { public static var checkpointDType: CheckpointDType { .u16 } }
extension Int16: CheckpointInteger { public static var checkpointDType: CheckpointDType { .i16 } }
extension UInt32: CheckpointInteger { public static var checkpointDType: CheckpointDType { .u32 } }
extension Int32: CheckpointInteger { public static var checkpointDType: CheckpointDType { .i32 } }
extension UInt64: CheckpointInteger { public static var checkpointDType: CheckpointDType { .u64 } }
extension Int64: CheckpointInteger { public static var checkpointDType: CheckpointDType { .i64 } }
