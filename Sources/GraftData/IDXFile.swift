// IDXFile: the MNIST file format (big-endian header, unsigned bytes), plain or gzip, with the
// header checked against the file's real size before any payload is allocated.

import GraftIR

/// One IDX file of unsigned bytes: magic `0x0000 08 nn` (type 0x08 = unsigned byte, `nn`
/// dimensions), then `nn` big-endian 32-bit sizes, then the values row-major.
///
/// Images use 3 dimensions (magic `0x00000803`: count, rows, columns), labels 1 (`0x00000801`).
public struct IDXFile: Sendable {
    /// The path the file was read from.
    public var path: String
    /// The sizes from the header, outermost first.
    public var dimensions: [Int]
    /// The values, `dimensions.reduce(1, *)` of them.
    public var values: [UInt8]

    /// The byte-type code IDX uses for unsigned bytes.
    static let unsignedByte: UInt8 = 0x08

    /// Reads the IDX file at `path`, gunzipping it if it is gzip, and checks it has
    /// `dimensionCount` dimensions.
    ///
    /// - Throws: a `Diagnostic` naming the file for a bad magic, a wrong dimension count, a
    ///   header that promises more (or fewer) values than the file holds, and gzip errors. The
    ///   header is checked against the file's size before the payload is allocated; for gzip,
    ///   inflation stops one byte past what the header allows.
    public static func read(path: String, dimensionCount: Int) throws -> IDXFile {
        let bytes = try DataFile.read(path)
        if DataFile.isGzip(bytes, path: path) {
            return try readGzip(bytes, path: path, dimensionCount: dimensionCount)
        }
        let header = try parseHeader(Array(bytes.prefix(4)), path: path, dimensionCount: dimensionCount, available: bytes.count) { need in
            Array(bytes.dropFirst(4).prefix(need))
        }
        let expected = header.headerSize + header.payloadSize
        if bytes.count != expected {
            throw sizeMismatch(path: path, header: header, actual: bytes.count, compressed: false)
        }
        return IDXFile(path: path, dimensions: header.dimensions, values: Array(bytes[header.headerSize...]))
    }

    private static func readGzip(_ bytes: [UInt8], path: String, dimensionCount: Int) throws -> IDXFile {
        let stream = try GzipStream(bytes, path: path)
        var prefix = [UInt8]()
        try stream.readExactly(4, into: &prefix, what: "the IDX magic number")
        let header = try parseHeader(prefix, path: path, dimensionCount: dimensionCount, available: nil) { need in
            var dims = [UInt8]()
            try stream.readExactly(need, into: &dims, what: "the IDX header")
            return dims
        }
        let expected = header.headerSize + header.payloadSize
        let bound = bytes.count.multipliedReportingOverflow(by: GzipStream.maximumRatio).partialValue
        if expected > bound {
            throw Diagnostic("\(path): header claims \(header.describe) (\(expected) bytes), but \(bytes.count) bytes of gzip can expand to at most \(bound); the file is truncated or its header is corrupt; re-download it (\(DataFile.remedy))")
        }
        var values = [UInt8]()
        values.reserveCapacity(header.payloadSize)
        let got = try stream.read(header.payloadSize, into: &values)
        if got < header.payloadSize {
            throw sizeMismatch(path: path, header: header, actual: header.headerSize + got, compressed: true)
        }
        try stream.finish(expected: expected)
        return IDXFile(path: path, dimensions: header.dimensions, values: values)
    }

    /// A parsed header: sizes, and byte counts computed with overflow checks.
    struct Header {
        var dimensions: [Int]
        var headerSize: Int
        var payloadSize: Int
        var describe: String {
            dimensions.count == 3
                ? "\(dimensions[0]) images of \(dimensions[1])×\(dimensions[2])"
                : dimensions.count == 1 ? "\(dimensions[0]) labels" : "dimensions \(dimensions.map(String.init).joined(separator: "×"))"
        }
    }

    /// Parses the magic and sizes; `more(n)` supplies the `n` bytes after the magic.
    private static func parseHeader(_ magic: [UInt8], path: String, dimensionCount: Int, available: Int?,
                                    more: (Int) throws -> [UInt8]) throws -> Header {
        let expectedMagic = hex8(0x0800 | dimensionCount)
        guard magic.count == 4 else {
            throw Diagnostic("\(path): truncated file: \(available ?? magic.count) bytes is too short for an IDX header; re-download it (\(DataFile.remedy))")
        }
        let found = magic.map { hex2($0) }.joined()
        guard magic[0] == 0, magic[1] == 0, magic[2] == unsignedByte else {
            throw Diagnostic("\(path): bad magic number 0x\(found) (expected 0x\(expectedMagic) for an IDX file of unsigned bytes with \(dimensionCount) dimensions); is this an MNIST-format file?")
        }
        let count = Int(magic[3])
        guard count == dimensionCount else {
            throw Diagnostic("\(path): wrong dimension count: the header (magic 0x\(found)) says \(count) dimensions, expected \(dimensionCount) (magic 0x\(expectedMagic)); images and labels files may be swapped")
        }
        let raw = try more(4 * count)
        guard raw.count == 4 * count else {
            throw Diagnostic("\(path): truncated file: the IDX header needs \(4 + 4 * count) bytes but the file has \(4 + raw.count); re-download it (\(DataFile.remedy))")
        }
        var dimensions = [Int]()
        var payload = 1
        for d in 0 ..< count {
            let size = raw[4 * d ..< 4 * d + 4].reduce(0) { $0 << 8 | Int($1) }
            dimensions.append(size)
            let (product, overflow) = payload.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw Diagnostic("\(path): header sizes \(dimensions.map(String.init).joined(separator: "×")) overflow; the header is corrupt")
            }
            payload = product
        }
        return Header(dimensions: dimensions, headerSize: 4 + 4 * count, payloadSize: payload)
    }

    private static func sizeMismatch(path: String, header: Header, actual: Int, compressed: Bool) -> Diagnostic {
        let expected = header.headerSize + header.payloadSize
        let size = compressed ? "decompresses to" : "holds"
        if actual < expected {
            return Diagnostic("\(path): truncated file: header claims \(header.describe) (\(expected) bytes) but the file \(size) \(actual) bytes; re-download it (\(DataFile.remedy))")
        }
        return Diagnostic("\(path): the file \(size) \(actual) bytes but its header describes \(header.describe) (\(expected) bytes); it is damaged or not the file the header names")
    }

    private static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    private static func hex8(_ value: Int) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }
}
