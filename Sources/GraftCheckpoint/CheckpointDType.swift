// CheckpointDType: the element types a safetensors file can declare, spelled as in its header.

/// The element type of a tensor in a safetensors file; the raw value is the header's spelling.
///
/// Every fixed-size dtype of the safetensors format is listed, so a file written by PyTorch or
/// JAX with, say, `BF16` weights loads (as raw bytes) instead of being refused. The sub-byte
/// types (`F4`, `F6_*`) are not: a file declaring them is reported as unsupported.
public enum CheckpointDType: String, CaseIterable, Sendable, Hashable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case f8e8m0 = "F8_E8M0"
    case u16 = "U16"
    case i16 = "I16"
    case f16 = "F16"
    case bf16 = "BF16"
    case u32 = "U32"
    case i32 = "I32"
    case f32 = "F32"
    case u64 = "U64"
    case i64 = "I64"
    case f64 = "F64"
    case c64 = "C64"

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: 1
        case .u16, .i16, .f16, .bf16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64, .c64: 8
        }
    }
}
