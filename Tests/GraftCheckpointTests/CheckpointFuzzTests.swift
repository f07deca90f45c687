// CheckpointFuzzTests: mutated safetensors files (any byte, or the header's JSON with a correct
// length prefix) are read or refused with an error naming the file; never a crash or a hang.

import Foundation
import Testing
import GraftIR
import GraftTestSupport
@testable import GraftCheckpoint

/// Words a header mutation may put in: dtypes, field names, JSON punctuation, duplicates.
private let headerWords = ["\"F64\"", "\"BF16\"", "\"F4\"", "\"U64\"", "\"XYZ\"", "\"shape\"", "\"dtype\"", "\"data_offsets\"",
                           "\"__metadata__\"", "[]", "{}", "null", "true", "[0,0]", "[1,2,3]", "-", "\"", ",", ":"]

@Suite struct CheckpointFuzzTests {
    /// A small valid checkpoint: three dtypes, a scalar, metadata.
    func seedFile() throws -> [UInt8] {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var checkpoint = Checkpoint(metadata: ["format": "graft-training-checkpoint-1", "options": "{\"epochs\":3}"])
        checkpoint.tensors["w"] = CheckpointTensor(HostTensor(shape: [2, 3], [1, 2, 3, 4, 5, 6]))
        checkpoint.tensors["step"] = CheckpointTensor(shape: [1], [UInt64(7)])
        checkpoint.tensors["s"] = CheckpointTensor(shape: [], [Float(0.5)])
        try checkpoint.write(to: directory.file("seed.safetensors"))
        return try fileBytes(directory.file("seed.safetensors"))
    }

    @Test func mutatedFilesAreReadOrRefusedNamingTheFile() throws {
        let campaign = FuzzCampaign("safetensors", defaultCases: 400)
        let seed = try seedFile()
        let headerLength = Int(seed[0]) | Int(seed[1]) << 8
        let header = String(decoding: seed[8..<(8 + headerLength)], as: UTF8.self)
        let buffer = Array(seed[(8 + headerLength)...])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("fuzz.safetensors")
        var outcomes: [String: Int] = [:]
        defer { campaign.report(outcomes) }
        for index in 0..<campaign.cases {
            var random = campaign.random(index)
            var bytes: [UInt8]
            if Bool.random(using: &random) {
                bytes = seed
                for _ in 0..<Int.random(in: 1...4, using: &random) { bytes = Mutate.bytes(bytes, &random) }
            } else {
                // The header's text mutated, with a length prefix that matches it, so the JSON
                // and the entries are what gets checked.
                var text = header.replacingOccurrences(of: ",", with: ",\n")
                for _ in 0..<Int.random(in: 1...3, using: &random) { text = Mutate.text(text, words: headerWords, &random) }
                bytes = safetensorsFile(header: text.replacingOccurrences(of: ",\n", with: ","), buffer: buffer)
            }
            try writeBytes(bytes, to: path)
            do {
                let checkpoint = try Checkpoint.read(from: path)
                outcomes["read", default: 0] += 1
                for name in checkpoint.tensors.keys.sorted() {
                    _ = try? checkpoint.hostTensor(name)
                    _ = try? checkpoint.values(name, as: UInt64.self)
                }
            } catch let error as Diagnostic {
                outcomes["refused", default: 0] += 1
                #expect(error.message.contains(path), "\(campaign.label(index)): \(error)")
            } catch {
                Issue.record("\(campaign.label(index)): \(type(of: error)) instead of a Diagnostic: \(error)")
            }
        }
    }
}
