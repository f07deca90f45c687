// SafetensorsHeader: a safetensors header read and checked against the data it describes.

import GraftIR

/// The largest header accepted, as in the reference implementation: 100 MB.
let maxHeaderLength: UInt64 = 100_000_000

/// One tensor's entry in the header, checked: its byte range lies inside the data buffer and
/// its length is exactly what the dtype and shape need.
struct TensorEntry {
    var name: String
    var dtype: CheckpointDType
    var shape: [Int]
    var begin: Int
    var end: Int
}

/// A header whose entries have been checked to tile the data buffer exactly.
struct SafetensorsHeader {
    var entries: [TensorEntry]
    var metadata: [String: String]

    /// Parses and checks `bytes`, the header of `file`, whose data buffer is `bufferLength` bytes.
    ///
    /// - Throws: a ``Diagnostic`` for the first problem found; every check is done here, before
    ///   any tensor data is read or allocated.
    init(_ bytes: [UInt8], bufferLength: Int, file: String) throws {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw corruptFile(file, "its header is not valid UTF-8 text")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw corruptFile(file, "its header is not valid JSON: \(error.message) at byte \(error.offset) of the header")
        }
        guard case .object(let members) = json else {
            throw corruptFile(file, "its header is \(json.kind), not a JSON object of tensors")
        }

        var seen = Set<String>()
        var entries: [TensorEntry] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw corruptFile(file, "its header names '\(name)' twice")
            }
            if name == "__metadata__" {
                metadata = try Self.metadata(value, file: file)
            } else {
                entries.append(try Self.entry(name, value, bufferLength: bufferLength, file: file))
            }
        }
        try Self.checkTiling(entries, bufferLength: bufferLength, file: file)
        self.entries = entries
        self.metadata = metadata
    }

    /// The `__metadata__` object: string keys to string values.
    private static func metadata(_ value: JSONValue, file: String) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw corruptFile(file, "its '__metadata__' is \(value.kind), not an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, value) in pairs {
            guard case .string(let string) = value else {
                throw corruptFile(file, "metadata '\(key)' is \(value.kind); safetensors metadata values are strings")
            }
            guard metadata.updateValue(string, forKey: key) == nil else {
                throw corruptFile(file, "its metadata names '\(key)' twice")
            }
        }
        return metadata
    }

    /// One tensor entry: `{"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}`.
    private static func entry(_ name: String, _ value: JSONValue, bufferLength: Int, file: String) throws -> TensorEntry {
        guard case .object(let fields) = value else {
            throw corruptFile(file, "tensor '\(name)' is \(value.kind) in the header, not an object with dtype, shape and data_offsets")
        }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (key, field) in fields {
            switch key {
            case "dtype" where dtypeValue == nil: dtypeValue = field
            case "shape" where shapeValue == nil: shapeValue = field
            case "data_offsets" where offsetsValue == nil: offsetsValue = field
            case "dtype", "shape", "data_offsets":
                throw corruptFile(file, "tensor '\(name)' has '\(key)' twice in the header")
            default:
                throw corruptFile(file, "tensor '\(name)' has an unknown field '\(key)'; an entry has only dtype, shape and data_offsets")
            }
        }

        guard case .string(let dtypeName)? = dtypeValue else {
            throw corruptFile(file, "tensor '\(name)' has \(dtypeValue.map { "a dtype that is \($0.kind)" } ?? "no dtype"); expected a string such as \"F32\"")
        }
        guard let dtype = CheckpointDType(rawValue: dtypeName) else {
            throw Diagnostic("\(file): tensor '\(name)' has dtype '\(dtypeName)', which Graft cannot read",
                             notes: ["readable dtypes: \(CheckpointDType.allCases.map(\.rawValue).joined(separator: ", "))",
                                     "convert the tensor to one of them in the program that wrote the file"])
        }

        guard case .array(let dimensionValues)? = shapeValue else {
            throw corruptFile(file, "tensor '\(name)' has \(shapeValue.map { "a shape that is \($0.kind)" } ?? "no shape"); expected an array of sizes such as [2, 3]")
        }
        var shape: [Int] = []
        for dimensionValue in dimensionValues {
            guard let dimension = dimensionValue.unsignedInteger, dimension <= UInt64(Int.max) else {
                throw corruptFile(file, "tensor '\(name)' has a shape entry that is not an integer from 0 to 2^63-1")
            }
            shape.append(Int(dimension))
        }
        let byteSize = storageSize(of: shape, dtype)

        guard case .array(let offsetValues)? = offsetsValue, offsetValues.count == 2,
              let begin = offsetValues[0].unsignedInteger, let end = offsetValues[1].unsignedInteger else {
            throw corruptFile(file, "tensor '\(name)' has \(offsetsValue == nil ? "no data_offsets" : "malformed data_offsets"); expected [begin, end] as two non-negative integers")
        }
        guard begin <= end else {
            throw corruptFile(file, "tensor '\(name)' has data_offsets [\(begin), \(end)], which end before they begin")
        }
        guard end <= UInt64(bufferLength) else {
            throw corruptFile(file, "tensor '\(name)' has data_offsets [\(begin), \(end)], past the end of the \(bufferLength)-byte data buffer (the file is truncated or its header is wrong)")
        }
        let shapeText = "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ","))]"
        guard let byteSize else {
            throw corruptFile(file, "tensor '\(name)' has shape \(shapeText), whose size overflows 64 bits")
        }
        guard byteSize == end - begin else {
            throw corruptFile(file, "tensor '\(name)' is \(shapeText), which needs \(byteSize) bytes, but its data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, begin: Int(begin), end: Int(end))
    }

    /// Checks that the entries' byte ranges cover the buffer exactly once, without overlaps or gaps.
    private static func checkTiling(_ entries: [TensorEntry], bufferLength: Int, file: String) throws {
        let ordered = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        var previous: TensorEntry?
        for entry in ordered {
            if entry.begin < covered, let previous {
                throw corruptFile(file, "tensors '\(previous.name)' [\(previous.begin), \(previous.end)] and '\(entry.name)' [\(entry.begin), \(entry.end)] overlap in the data buffer")
            }
            if entry.begin > covered {
                throw corruptFile(file, "bytes [\(covered), \(entry.begin)) of the data buffer belong to no tensor")
            }
            covered = entry.end
            if entry.end > entry.begin { previous = entry }
        }
        if covered < bufferLength {
            throw corruptFile(file, "bytes [\(covered), \(bufferLength)) of the data buffer belong to no tensor (extra data after the last tensor)")
        }
    }
}

/// Bytes a tensor of this shape and dtype needs, or nil when that overflows 64 bits.
private func storageSize(of shape: [Int], _ dtype: CheckpointDType) -> UInt64? {
    if shape.contains(0) { return 0 }
    var size = UInt64(dtype.byteSize)
    for dimension in shape {
        let (product, overflow) = size.multipliedReportingOverflow(by: UInt64(dimension))
        if overflow { return nil }
        size = product
    }
    return size
}

/// A diagnostic for a file that is damaged or not a safetensors file.
func corruptFile(_ file: String, _ problem: String) -> Diagnostic {
    Diagnostic("\(file): \(problem)",
               notes: ["the file is damaged or not a safetensors checkpoint; write it again or use an intact copy"])
}
