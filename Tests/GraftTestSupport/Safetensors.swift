// Safetensors read byte by byte, independently of Graft's reader, for tests that check the
// files the `graft` binary writes.

import Foundation

/// The F32 tensors of a safetensors file (an 8-byte little-endian header length, the JSON
/// header, then the data), by name; tensors of other dtypes are left out.
public func readF32Safetensors(_ url: URL) throws -> [String: [Float]] {
    try readSafetensors(url, dtype: "F32", width: 4).mapValues { $0.map { Float(bitPattern: UInt32($0)) } }
}

/// The U64 tensors of a safetensors file (a training checkpoint's step counter), by name.
public func readU64Safetensors(_ url: URL) throws -> [String: [UInt64]] {
    try readSafetensors(url, dtype: "U64", width: 8)
}

/// The tensors of one dtype whose elements are `width` bytes, as little-endian bit patterns.
private func readSafetensors(_ url: URL, dtype: String, width: Int) throws -> [String: [UInt64]] {
    let bytes = [UInt8](try Data(contentsOf: url))
    let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    guard let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any] else {
        throw SubprocessError("\(url.path): the safetensors header is not a JSON object")
    }
    var tensors: [String: [UInt64]] = [:]
    for (name, entry) in header where name != "__metadata__" {
        guard let entry = entry as? [String: Any], entry["dtype"] as? String == dtype,
              let offsets = entry["data_offsets"] as? [Int] else { continue }
        let data = bytes[(8 + length + offsets[0])..<(8 + length + offsets[1])]
        tensors[name] = stride(from: data.startIndex, to: data.endIndex, by: width).map { index in
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(data[index + $1]) << (8 * UInt64($1)) }
        }
    }
    return tensors
}
