// PythonInteropTests: files written by an independent Python writer load in Swift, and files
// Swift writes are read correctly by an independent Python reader (json + struct only).

import Foundation
import Testing
import GraftIR
import GraftCheckpoint

/// Writes a safetensors file the way other tools may: keys unsorted, tensors unaligned, a dtype
/// Graft has no type for (F16), metadata, spaces padding the header.
private let pythonWriter = #"""
import json, struct, sys
tensors = [  # name, dtype, shape, packed little-endian bytes
    ("bytes", "U8", [3], struct.pack("<3B", 1, 2, 255)),
    ("weight", "F32", [2, 3], struct.pack("<6I", 0x7FC00000, 0x7F800000, 0xFF800000, 0x80000000, 0x00000001, 0x7FC01234)),
    ("bias", "F32", [3], struct.pack("<3f", 0.1, -2.5, 1e-3)),
    ("half", "F16", [2], struct.pack("<2e", 1.5, -0.25)),
    ("step", "I64", [], struct.pack("<q", -9000000000)),
    ("rng", "U64", [2], struct.pack("<2Q", 2**64 - 1, 12345678901234567)),
    ("ids", "I32", [2, 2], struct.pack("<4i", -7, 0, 2**24, 3)),
    ("zero", "F32", [0], b""),
]
header, buffer = {"__metadata__": {"format": "pt", "note": "written by python"}}, b""
for name, dtype, shape, data in tensors:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(buffer), len(buffer) + len(data)]}
    buffer += data
text = json.dumps(header).encode()
text += b" " * (-(len(text) + 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + buffer)
"""#

/// Reads the file Swift wrote for `swiftWrittenCheckpoint()` and checks every name, dtype,
/// shape and value against its own copy of the expected values.
private let pythonReader = #"""
import json, struct, sys, math
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
buf = data[8 + n:]
fail = []
if (8 + n) % 8: fail.append("header not padded to 8 bytes")
if header.pop("__metadata__", None) != {"run": "test", "epoch": "3"}: fail.append("metadata")
expected = {
    "w": ("F32", [2, 2], "<4I", [0x3F800000, 0x7FC00000, 0x80000000, 0xFF800000]),
    "b": ("F32", [], "<I", [0x3DCCCCCD]),  # float32(0.1)
    "step": ("I64", [], "<q", [-42]),
    "rng": ("U64", [3], "<3Q", [2**64 - 1, 0, 7]),
    "labels": ("I32", [3], "<3i", [5, -3, 16777216]),
    "u8": ("U8", [2, 1], "<2B", [0, 200]),
    "none": ("F32", [0, 4], "<0f", []),
}
if sorted(header) != sorted(expected): fail.append("names %s" % sorted(header))
spans = []
for name, (dtype, shape, fmt, values) in expected.items():
    entry = header.get(name)
    if entry is None: continue
    if entry["dtype"] != dtype or entry["shape"] != shape: fail.append("%s: %s %s" % (name, entry["dtype"], entry["shape"]))
    begin, end = entry["data_offsets"]
    spans.append((begin, end))
    if end - begin != struct.calcsize(fmt): fail.append("%s: size %d" % (name, end - begin)); continue
    got = list(struct.unpack(fmt, buf[begin:end]))
    if got != values: fail.append("%s: values %s" % (name, got))
covered = 0
for begin, end in sorted(spans):
    if begin != covered: fail.append("gap or overlap at %d" % begin)
    covered = end
if covered != len(buf): fail.append("buffer %d bytes, tensors cover %d" % (len(buf), covered))
print("VERDICT OK" if not fail else "VERDICT FAIL " + "; ".join(fail))
"""#

/// The checkpoint `pythonReader` expects.
private func swiftWrittenCheckpoint() -> Checkpoint {
    Checkpoint(
        tensors: [
            "w": CheckpointTensor(HostTensor(shape: [2, 2], [1, .nan, -0.0, -.infinity])),
            "b": CheckpointTensor(HostTensor(scalar: 0.1)),
            "step": CheckpointTensor(shape: [], [Int64(-42)]),
            "rng": CheckpointTensor(shape: [3], [UInt64.max, 0, 7]),
            "labels": CheckpointTensor(HostTensor(TensorType(.i32, [3]), [5, -3, 16_777_216])),
            "u8": CheckpointTensor(shape: [2, 1], [UInt8(0), 200]),
            "none": CheckpointTensor(shape: [0, 4], [Float]()),
        ],
        metadata: ["run": "test", "epoch": "3"])
}

@Suite(.enabled(if: python3 != nil, "needs python3 on PATH as the independent reader and writer"))
struct PythonInteropTests {
    @Test func swiftReadsAFileWrittenByPython() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("python.safetensors")
        let result = try runPython(pythonWriter, arguments: [path])
        try #require(result.status == 0, "python writer failed: \(result.output)")

        let checkpoint = try Checkpoint.read(from: path)
        #expect(checkpoint.metadata == ["format": "pt", "note": "written by python"])
        #expect(checkpoint.tensors.keys.sorted() == ["bias", "bytes", "half", "ids", "rng", "step", "weight", "zero"])
        #expect(try checkpoint.values("bytes", as: UInt8.self) == [1, 2, 255])
        #expect(checkpoint.tensors["weight"]?.shape == [2, 3])
        #expect(try checkpoint.values("weight", as: Float.self).map(\.bitPattern)
                == [0x7FC0_0000, 0x7F80_0000, 0xFF80_0000, 0x8000_0000, 0x0000_0001, 0x7FC0_1234])
        #expect(try checkpoint.hostTensor("bias") == HostTensor(shape: [3], [0.1, -2.5, 1e-3]))
        #expect(checkpoint.tensors["half"]?.dtype == .f16)
        #expect(checkpoint.tensors["half"]?.bytes == [0x00, 0x3E, 0x00, 0xB4])  // 1.5, -0.25 in binary16
        #expect(try checkpoint.values("step", as: Int64.self) == [-9_000_000_000])
        #expect(checkpoint.tensors["step"]?.shape == [])
        #expect(try checkpoint.values("rng", as: UInt64.self) == [.max, 12_345_678_901_234_567])
        #expect(try checkpoint.hostTensor("ids") == HostTensor(TensorType(.i32, [2, 2]), [-7, 0, 16_777_216, 3]))
        #expect(try checkpoint.values("zero", as: Float.self) == [])
    }

    @Test func pythonReadsAFileWrittenBySwift() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("swift.safetensors")
        try swiftWrittenCheckpoint().write(to: path)
        let result = try runPython(pythonReader, arguments: [path])
        #expect(result.status == 0)
        #expect(result.output.contains("VERDICT OK"), "\(result.output)")
    }

    /// The reader itself can fail: a file that differs from what it expects gets a FAIL verdict.
    @Test func pythonReaderNoticesADifferentFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("swift.safetensors")
        var checkpoint = swiftWrittenCheckpoint()
        checkpoint.tensors["rng"] = CheckpointTensor(shape: [3], [UInt64.max, 1, 7])
        try checkpoint.write(to: path)
        let result = try runPython(pythonReader, arguments: [path])
        #expect(result.output.contains("VERDICT FAIL rng: values"), "\(result.output)")
    }
}
