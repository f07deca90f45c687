// Safetensors read byte by byte, independently of Graft's reader, for tests that check the
// files the `graft` binary writes.

import Foundation

/// The F32 tensors of a safetensors file (an 8-byte little-endian header length, the JSON
/// header, then the data), by name; tensors of other dtypes are left out.
public func readF32Safetensors(_ url: URL) throws -> [String: [Float]] {
    let bytes = [UInt8](try Data(contentsOf: url))
    let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    guard let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any] else {
        throw SubprocessError("\(url.path): the safetensors header is not a JSON object")
    }
    var tensors: [String: [Float]] = [:]
    for (name, entry) in header where name != "__metadata__" {
        guard let entry = entry as? [String: Any], entry["dtype"] as? String == "F32",
              let offsets = entry["data_offsets"] as? [Int] else { continue }
        let data = bytes[(8 + length + offsets[0])..<(8 + length + offsets[1])]
        tensors[name] = stride(from: data.startIndex, to: data.endIndex, by: 4).map { index in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[index + $1]) << (8 * UInt32($1)) })
        }
    }
    return tensors
}
