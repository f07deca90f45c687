// RoundTripTests: what Checkpoint.write stores, Checkpoint.read gives back bit for bit.

import Foundation
import Testing
import GraftIR
@testable import GraftCheckpoint

/// Float values whose bits a careless writer would change: NaNs with payloads, infinities, -0,
/// subnormals, extremes.
let awkwardFloats: [Float] = [
    .nan, Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFFA0_0001), .infinity, -.infinity, -0.0, 0.0,
    .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, 1.0 / 3.0, -2.5,
]

/// A checkpoint of the kinds of tensors a training run saves.
func trainingCheckpoint() -> Checkpoint {
    Checkpoint(
        tensors: [
            "encoder.conv1.weight": CheckpointTensor(HostTensor(shape: [3, 4], awkwardFloats)),
            "encoder.bn1.running_var": CheckpointTensor(HostTensor(shape: [4], [1, 0.5, 0.25, 2])),
            "loss_scale": CheckpointTensor(HostTensor(scalar: 128)),
            "labels": CheckpointTensor(HostTensor(TensorType(.i32, [5]), [0, -1, 7, 16_777_216, -16_777_216])),
            "mask": CheckpointTensor(HostTensor(TensorType(.bool, [2, 2]), [1, 0, 0, 1])),
            "step": CheckpointTensor(shape: [], [Int64(1_234_567_890_123)]),
            "rng.state": CheckpointTensor(shape: [4], [UInt64.max, 0, 0x0123_4567_89AB_CDEF, 42]),
            "bytes": CheckpointTensor(shape: [3], [UInt8(0), 128, 255]),
            "empty": CheckpointTensor(shape: [0, 3], [Float]()),
            "f64": CheckpointTensor(shape: [2], [Double.pi, -.infinity]),
        ],
        metadata: ["model": "byol-t", "format": "graft-1", "quote\"and\\slash": "tab\tnewline\n✓ \u{01}"])
}

@Suite struct RoundTripTests {
    @Test func everyTensorAndMetadataComesBackExactly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let original = trainingCheckpoint()
        try original.write(to: directory.file("a.safetensors"))
        let loaded = try Checkpoint.read(from: directory.file("a.safetensors"))

        #expect(loaded == original)
        #expect(loaded.metadata == original.metadata)
        let weights = try loaded.values("encoder.conv1.weight", as: Float.self)
        #expect(weights.map(\.bitPattern) == awkwardFloats.map(\.bitPattern))
        #expect(try loaded.hostTensor("encoder.conv1.weight").shape == [3, 4])
        #expect(try loaded.hostTensor("loss_scale") == HostTensor(scalar: 128))
        #expect(try loaded.hostTensor("labels").scalars == [0, -1, 7, 16_777_216, -16_777_216])
        #expect(try loaded.hostTensor("mask") == HostTensor(TensorType(.bool, [2, 2]), [1, 0, 0, 1]))
        #expect(try loaded.values("step", as: Int64.self) == [1_234_567_890_123])
        #expect(loaded.tensors["step"]?.shape == [])
        #expect(try loaded.values("rng.state", as: UInt64.self) == [UInt64.max, 0, 0x0123_4567_89AB_CDEF, 42])
        #expect(try loaded.values("bytes", as: UInt8.self) == [0, 128, 255])
        #expect(try loaded.values("empty", as: Float.self) == [])
        #expect(loaded.tensors["empty"]?.shape == [0, 3])
        #expect(try loaded.values("f64", as: Double.self) == [.pi, -.infinity])
    }

    @Test func emptyMetadataIsLeftOutOfTheHeader() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let original = Checkpoint(tensors: ["x": CheckpointTensor(HostTensor(scalar: -0.0))])
        try original.write(to: directory.file("a.safetensors"))
        let bytes = try fileBytes(directory.file("a.safetensors"))
        #expect(!String(decoding: bytes, as: UTF8.self).contains("__metadata__"))
        let loaded = try Checkpoint.read(from: directory.file("a.safetensors"))
        #expect(loaded == original)
        #expect(loaded.metadata.isEmpty)
        #expect(try loaded.values("x", as: Float.self).map(\.bitPattern) == [Float(-0.0).bitPattern])
    }

    @Test func anEmptyCheckpointRoundTrips() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Checkpoint().write(to: directory.file("a.safetensors"))
        #expect(try fileBytes(directory.file("a.safetensors")) == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        #expect(try Checkpoint.read(from: directory.file("a.safetensors")) == Checkpoint())
    }

    /// The exact bytes, worked out by hand from the format: header keys sorted, metadata first,
    /// the 8-byte tensor placed before the 4-byte one, header padded to a multiple of 8.
    @Test func theFileIsTheDocumentedBytes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let checkpoint = Checkpoint(
            tensors: ["a": CheckpointTensor(shape: [1], [Float(1)]), "b": CheckpointTensor(shape: [], [UInt64(2)])],
            metadata: ["k": "v"])
        try checkpoint.write(to: directory.file("a.safetensors"))
        let header = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"b":{"dtype":"U64","shape":[],"data_offsets":[0,8]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let expected = safetensorsFile(header: padded, buffer: [2, 0, 0, 0, 0, 0, 0, 0] + [0x00, 0x00, 0x80, 0x3F])
        #expect(try fileBytes(directory.file("a.safetensors")) == expected)
    }

    @Test func writingIsDeterministicAndAligned() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try trainingCheckpoint().write(to: directory.file("a.safetensors"))
        try trainingCheckpoint().write(to: directory.file("b.safetensors"))
        let bytes = try fileBytes(directory.file("a.safetensors"))
        #expect(bytes == (try fileBytes(directory.file("b.safetensors"))))

        let headerLength = Int(bytes[0..<8].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        #expect((8 + headerLength) % 8 == 0)
        let header = try SafetensorsHeader(Array(bytes[8..<(8 + headerLength)]), bufferLength: bytes.count - 8 - headerLength, file: "a")
        for entry in header.entries {
            #expect(entry.begin % entry.dtype.byteSize == 0, "\(entry.name) is not aligned to its element size")
        }
        #expect(header.entries.map(\.name) == header.entries.map(\.name).sorted())
    }

    @Test func typedAccessIsChecked() throws {
        let checkpoint = trainingCheckpoint()
        #expect(throws: Diagnostic.self) { try checkpoint.values("step", as: UInt64.self) }
        let wrongType = #expect(throws: Diagnostic.self) { try checkpoint.hostTensor("rng.state") }
        #expect(wrongType?.description.contains("tensor 'rng.state': a U64 tensor has no Graft tensor type") == true)
        do {
            _ = try checkpoint.hostTensor("encoder.conv2.weight")
            Issue.record("a missing tensor was found")
        } catch let diagnostic as Diagnostic {
            #expect(diagnostic.description.contains("no tensor 'encoder.conv2.weight'"))
            #expect(diagnostic.description.contains("encoder.conv1.weight"))
        }
    }

    @Test func aTensorCalledMetadataIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let checkpoint = Checkpoint(tensors: ["__metadata__": CheckpointTensor(HostTensor(scalar: 1))])
        #expect(throws: Diagnostic.self) { try checkpoint.write(to: directory.file("a.safetensors")) }
        #expect(try directory.entries().isEmpty)
    }
}
