// CorruptionTests: every kind of damaged or malformed file is refused with a Diagnostic that
// names the file and the problem, before anything is allocated on the file's say-so.

import Foundation
import Testing
import GraftIR
import GraftCheckpoint

/// A malformed file built by hand, and a phrase the diagnostic must contain.
struct MalformedFile: CustomTestStringConvertible, Sendable {
    var name: String
    var header: String
    /// Header bytes that are not UTF-8, used instead of `header`.
    var rawHeader: [UInt8]? = nil
    var buffer: [UInt8] = []
    var declaredLength: UInt64? = nil
    var phrase: String
    var testDescription: String { name }
}

private let f32x2 = #""dtype":"F32","shape":[2]"#

let malformedFiles: [MalformedFile] = [
    MalformedFile(name: "header length 2^63", header: "{}", declaredLength: 1 << 63, phrase: "over the 100 MB limit"),
    MalformedFile(name: "header length just over 100 MB", header: "{}", declaredLength: 100_000_001, phrase: "over the 100 MB limit"),
    MalformedFile(name: "header length past the end", header: "{}", declaredLength: 3, phrase: "only 2 bytes follow it"),
    MalformedFile(name: "truncated JSON", header: #"{"a":{"dtype":"F32","#, phrase: "not valid JSON"),
    MalformedFile(name: "trailing garbage", header: "{} x", phrase: "not valid JSON: unexpected text after"),
    MalformedFile(name: "not UTF-8", header: "", rawHeader: Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8), phrase: "not valid UTF-8"),
    MalformedFile(name: "deep nesting", header: String(repeating: "[", count: 100_000), phrase: "nesting deeper"),
    MalformedFile(name: "array header", header: "[1,2]", phrase: "is an array, not a JSON object"),
    MalformedFile(name: "entry not an object", header: #"{"a":3}"#, phrase: "tensor 'a' is a number in the header"),
    MalformedFile(name: "no dtype", header: #"{"a":{"shape":[],"data_offsets":[0,0]}}"#, phrase: "tensor 'a' has no dtype"),
    MalformedFile(name: "dtype not a string", header: #"{"a":{"dtype":4,"shape":[],"data_offsets":[0,0]}}"#, phrase: "dtype that is a number"),
    MalformedFile(name: "unknown dtype", header: #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#, buffer: [0], phrase: "dtype 'Q7'"),
    MalformedFile(name: "sub-byte dtype", header: #"{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}"#, buffer: [0], phrase: "dtype 'F4'"),
    MalformedFile(name: "shape not an array", header: #"{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#, buffer: .init(repeating: 0, count: 8), phrase: "shape that is a number"),
    MalformedFile(name: "negative dimension", header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, buffer: .init(repeating: 0, count: 8), phrase: "shape entry that is not an integer"),
    MalformedFile(name: "fractional dimension", header: #"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, buffer: .init(repeating: 0, count: 8), phrase: "shape entry that is not an integer"),
    MalformedFile(name: "dimension over 2^64", header: #"{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}"#, buffer: .init(repeating: 0, count: 8), phrase: "shape entry that is not an integer"),
    MalformedFile(name: "no data_offsets", header: "{\"a\":{\(f32x2)}}", phrase: "no data_offsets"),
    MalformedFile(name: "three data_offsets", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8,8]}}", buffer: .init(repeating: 0, count: 8), phrase: "malformed data_offsets"),
    MalformedFile(name: "unknown field", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8],\"strides\":[1]}}", buffer: .init(repeating: 0, count: 8), phrase: "unknown field 'strides'"),
    MalformedFile(name: "field twice", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8],\"shape\":[2]}}", buffer: .init(repeating: 0, count: 8), phrase: "'shape' twice"),
    MalformedFile(name: "wrong size", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,4]}}", buffer: .init(repeating: 0, count: 4), phrase: "needs 8 bytes, but its data_offsets [0, 4] hold 4"),
    MalformedFile(name: "offsets past the buffer", header: "{\"a\":{\(f32x2),\"data_offsets\":[8,16]}}", buffer: .init(repeating: 0, count: 8), phrase: "past the end of the 8-byte data buffer"),
    MalformedFile(name: "reversed offsets", header: "{\"a\":{\(f32x2),\"data_offsets\":[8,0]}}", buffer: .init(repeating: 0, count: 8), phrase: "end before they begin"),
    MalformedFile(name: "overlapping tensors", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"b\":{\(f32x2),\"data_offsets\":[4,12]}}", buffer: .init(repeating: 0, count: 12), phrase: "tensors 'a' [0, 8] and 'b' [4, 12] overlap"),
    MalformedFile(name: "same bytes twice", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"b\":{\(f32x2),\"data_offsets\":[0,8]}}", buffer: .init(repeating: 0, count: 8), phrase: "overlap"),
    MalformedFile(name: "gap between tensors", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"b\":{\(f32x2),\"data_offsets\":[12,20]}}", buffer: .init(repeating: 0, count: 20), phrase: "bytes [8, 12) of the data buffer belong to no tensor"),
    MalformedFile(name: "bytes after the last tensor", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8]}}", buffer: .init(repeating: 0, count: 9), phrase: "bytes [8, 9) of the data buffer belong to no tensor"),
    MalformedFile(name: "data but no tensors", header: "{}", buffer: [1, 2, 3], phrase: "bytes [0, 3) of the data buffer belong to no tensor"),
    MalformedFile(name: "duplicate names", header: "{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"a\":{\(f32x2),\"data_offsets\":[8,16]}}", buffer: .init(repeating: 0, count: 16), phrase: "names 'a' twice"),
    MalformedFile(name: "absurd shape", header: #"{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4]}}"#, buffer: [0, 0, 0, 0], phrase: "needs 4398046511104 bytes"),
    MalformedFile(name: "shape overflowing 64 bits", header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, buffer: [0, 0, 0, 0], phrase: "overflows 64 bits"),
    MalformedFile(name: "metadata value not a string", header: #"{"__metadata__":{"epoch":3}}"#, phrase: "metadata 'epoch' is a number"),
    MalformedFile(name: "metadata not an object", header: #"{"__metadata__":"x"}"#, phrase: "'__metadata__' is a string"),
]

@Suite struct CorruptionTests {
    @Test(arguments: malformedFiles)
    func malformedFileIsRefused(_ file: MalformedFile) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("bad.safetensors")
        let header = file.rawHeader ?? Array(file.header.utf8)
        try writeBytes(withUnsafeBytes(of: (file.declaredLength ?? UInt64(header.count)).littleEndian) { Array($0) } + header + file.buffer,
                       to: path)
        expectReadFails(path, mentioning: file.phrase)
    }

    /// A valid file cut short anywhere is refused, whatever part of it the cut falls in.
    @Test func truncatedFilesAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let whole = directory.file("whole.safetensors")
        try trainingCheckpoint().write(to: whole)
        let bytes = try fileBytes(whole)
        let headerEnd = 8 + Int(bytes[0..<8].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let cuts: [(Int, String)] = [
            (0, "shorter than the 8-byte header length"), (7, "shorter than the 8-byte header length"),
            (8, "follow it"), (headerEnd / 2, "follow it"), (headerEnd - 1, "follow it"),
            (headerEnd, "past the end of the 0-byte data buffer"),
            (headerEnd + 5, "past the end of the 5-byte data buffer"), (bytes.count - 1, "past the end of the"),
        ]
        for (length, phrase) in cuts {
            let path = directory.file("cut-\(length).safetensors")
            try writeBytes(Array(bytes[0..<length]), to: path)
            expectReadFails(path, mentioning: phrase)
        }
        #expect(try Checkpoint.read(from: whole) == trainingCheckpoint())
    }

    @Test func aMissingFileIsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        expectReadFails(directory.file("absent.safetensors"), mentioning: "cannot open the checkpoint: No such file")
    }

    @Test func aDirectoryIsNotACheckpoint() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("d.safetensors"), withIntermediateDirectories: false)
        expectReadFails(directory.file("d.safetensors"), mentioning: "not a regular file")
    }

    /// A well-formed header in an unusual but valid layout: zero-size tensors sharing an offset,
    /// whitespace around the JSON, escapes in names.
    @Test func unusualButValidHeadersAreAccepted() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("ok.safetensors")
        let header = #" { "e1" : {"dtype":"F32","shape":[0],"data_offsets":[0,0]}, "e2":{"dtype":"I64","shape":[3,0],"data_offsets":[0,0]},"# +
            #" "\u00e9\n\"" : {"data_offsets":[0,2],"shape":[2],"dtype":"U8"} }   "#
        try writeBytes(safetensorsFile(header: header, buffer: [9, 8]), to: path)
        let checkpoint = try Checkpoint.read(from: path)
        #expect(checkpoint.tensors.keys.sorted() == ["e1", "e2", "é\n\""])
        #expect(try checkpoint.values("é\n\"", as: UInt8.self) == [9, 8])
        #expect(checkpoint.tensors["e2"]?.shape == [3, 0])
    }
}
