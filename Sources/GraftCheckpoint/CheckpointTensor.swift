// CheckpointTensor: one named tensor of a checkpoint, as its dtype, shape and little-endian bytes.

import GraftIR

/// A tensor as a safetensors file stores it: a dtype, a shape and the elements' little-endian
/// bytes in row-major order.
///
/// Holding bytes rather than typed values lets a checkpoint carry every dtype the format has
/// (`F32` parameters, `U64` RNG state, a PyTorch user's `BF16` weights) without conversion.
/// Typed values go in through ``init(shape:_:)`` or ``init(_:)`` and come out
/// through ``values(as:)`` or ``hostTensor()``.
///
/// ```swift
/// let step = CheckpointTensor(shape: [], [UInt64(1200)])
/// let weights = CheckpointTensor(HostTensor(shape: [2], [0.5, -1]))
/// try weights.values(as: Float.self)  // [0.5, -1]
/// ```
public struct CheckpointTensor: Hashable, Sendable, CustomStringConvertible {
    public let dtype: CheckpointDType
    public let shape: [Int]
    /// The elements, little-endian, row-major; `elementCount * dtype.byteSize` bytes.
    public let bytes: [UInt8]

    /// A tensor from raw little-endian bytes, e.g. a dtype Swift has no type for.
    public init(dtype: CheckpointDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "CheckpointTensor: negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        precondition(bytes.count == count * dtype.byteSize,
                     "CheckpointTensor: \(bytes.count) bytes given for \(dtype.rawValue)\(shape), which needs \(count * dtype.byteSize)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A tensor of the given shape holding `values` in row-major order.
    public init<Element: CheckpointElement>(shape: [Int], _ values: [Element]) {
        precondition(values.count == shape.reduce(1, *),
                     "CheckpointTensor: \(values.count) values given for shape \(shape)")
        self.init(dtype: Element.checkpointDType, shape: shape, bytes: littleEndianBytes(of: values))
    }

    /// A Graft host tensor: `f32` is stored as `F32`, `i32` as `I32`, `bool` as `BOOL`.
    public init(_ host: HostTensor) {
        switch host.type.dtype {
        case .f32: self.init(shape: host.shape, host.scalars)
        case .i32: self.init(shape: host.shape, host.scalars.map { Int32($0) })
        case .bool: self.init(shape: host.shape, host.scalars.map { $0 != 0 })
        }
    }

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The elements as `Element`, whose dtype must be this tensor's.
    ///
    /// - Throws: a ``Diagnostic`` when the dtypes differ; nothing is converted implicitly.
    public func values<Element: CheckpointElement>(as type: Element.Type) throws -> [Element] {
        guard Element.checkpointDType == dtype else {
            throw Diagnostic("a \(dtype.rawValue) tensor cannot be read as \(Element.self), which is \(Element.checkpointDType.rawValue)",
                             notes: ["read it as the Swift type of its dtype, or convert it in the program that wrote it"])
        }
        return elements(of: bytes, count: elementCount)
    }

    /// The tensor as a Graft host tensor: `F32` → `f32`, `I32` → `i32`, `BOOL` → `bool`.
    ///
    /// - Throws: a ``Diagnostic`` for any other dtype (`I64`, `U64`, `BF16`…), which Graft's
    ///   tensors cannot hold; read those with ``values(as:)``.
    public func hostTensor() throws -> HostTensor {
        switch dtype {
        case .f32: return HostTensor(TensorType(.f32, shape), try values(as: Float.self))
        case .i32: return HostTensor(TensorType(.i32, shape), try values(as: Int32.self).map { Float($0) })
        case .bool: return HostTensor(TensorType(.bool, shape), try values(as: Bool.self).map { $0 ? 1 : 0 })
        default:
            throw Diagnostic("a \(dtype.rawValue) tensor has no Graft tensor type (f32, i32 and bool have: F32, I32, BOOL)",
                             notes: ["read it with values(as:) and the Swift type of its dtype"])
        }
    }

    /// `F32[2,3] (24 bytes)`.
    public var description: String {
        "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ","))] (\(bytes.count) bytes)"
    }
}

/// The values' storage bits, little-endian, as bytes.
private func littleEndianBytes<Element: CheckpointElement>(of values: [Element]) -> [UInt8] {
    let size = MemoryLayout<Element.StorageBits>.size
    return [UInt8](unsafeUninitializedCapacity: values.count * size) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        for (index, value) in values.enumerated() {
            raw.storeBytes(of: value.storageBits.littleEndian, toByteOffset: index * size, as: Element.StorageBits.self)
        }
        initialized = values.count * size
    }
}

/// `count` elements decoded from little-endian bytes.
private func elements<Element: CheckpointElement>(of bytes: [UInt8], count: Int) -> [Element] {
    let size = MemoryLayout<Element.StorageBits>.size
    precondition(bytes.count == count * size)
    return bytes.withUnsafeBytes { raw in
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: index * size, as: Element.StorageBits.self)
                (buffer.baseAddress! + index).initialize(to: Element(storageBits: Element.StorageBits(littleEndian: bits)))
            }
            initialized = count
        }
    }
}
