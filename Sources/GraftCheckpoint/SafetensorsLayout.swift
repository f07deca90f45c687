// SafetensorsLayout: where each tensor of a checkpoint goes in the file, and the header saying so.

import GraftIR

/// A checkpoint laid out as a safetensors file: the length-prefixed header and the tensors'
/// bytes in file order, ready to be written one chunk after another.
///
/// Tensors are placed by element size, largest first, then by name, so every tensor starts at
/// a multiple of its element size (the header is padded with spaces to a multiple of 8). The
/// header lists `__metadata__` first, then the tensors sorted by name; the same checkpoint
/// always gives the same bytes.
struct SafetensorsLayout {
    /// The file's bytes in order: the 8-byte header length, the header, each tensor's data.
    let chunks: [[UInt8]]

    init(_ checkpoint: Checkpoint, file: String) throws {
        if checkpoint.tensors["__metadata__"] != nil {
            throw Diagnostic("\(file): a tensor is called '__metadata__', which safetensors reserves for the metadata",
                             notes: ["rename the tensor; nothing was written"])
        }
        let placed = checkpoint.tensors.sorted { left, right in
            left.value.dtype.byteSize != right.value.dtype.byteSize
                ? left.value.dtype.byteSize > right.value.dtype.byteSize
                : left.key < right.key
        }
        var offsets: [String: (begin: Int, end: Int)] = [:]
        var position = 0
        for (name, tensor) in placed {
            offsets[name] = (position, position + tensor.bytes.count)
            position += tensor.bytes.count
        }

        var members: [String] = []
        if !checkpoint.metadata.isEmpty {
            let pairs = checkpoint.metadata.sorted { $0.key < $1.key }.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        for (name, tensor) in checkpoint.tensors.sorted(by: { $0.key < $1.key }) {
            let (begin, end) = offsets[name]!
            members.append("\(jsonQuoted(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\","
                + "\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(begin),\(end)]}")
        }
        var header = Array("{\(members.joined(separator: ","))}".utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        let length = UInt64(header.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: length) { Array($0) }
        chunks = [lengthBytes, header] + placed.map(\.value.bytes)
    }
}
