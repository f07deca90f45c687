// CIFAR-10 binary batches: round trip over all six files, and bad files.

import Foundation
import GraftIR
import Testing
@testable import GraftData

@Suite struct CIFAR10Tests {
    /// A record: label, then 3072 pixels `(label + 5p + 11·batch) mod 256`.
    func record(label: UInt8, batch: Int) -> [UInt8] {
        [label] + (0 ..< 3072).map { UInt8((Int(label) + 5 * $0 + 11 * batch) % 256) }
    }

    func writeAll(_ folder: TemporaryFolder) throws {
        for batch in 1 ... 5 {
            try folder.write("data_batch_\(batch).bin", record(label: UInt8(batch), batch: batch) + record(label: 9, batch: batch))
        }
        try folder.write("test_batch.bin", record(label: 0, batch: 0))
    }

    @Test func roundTrip() throws {
        let folder = try TemporaryFolder()
        try writeAll(folder)
        let train = try CIFAR10.load(directory: folder.path, split: .train)
        #expect(train.count == 10 && train.channels == 3 && train.height == 32 && train.width == 32)
        #expect(train.labels == [1, 9, 2, 9, 3, 9, 4, 9, 5, 9])
        for (slot, (label, batch)) in [(1, 1), (9, 1), (2, 2), (9, 5)].enumerated() {
            let index = [0, 1, 2, 9][slot]
            let expected = record(label: UInt8(label), batch: batch).dropFirst().map { Float($0) / 255 }
            #expect(Array(train.image(index)) == expected)
        }
        let test = try CIFAR10.load(directory: folder.path, split: .test)
        #expect(test.labels == [0])
        #expect(Array(test.image(0)) == record(label: 0, batch: 0).dropFirst().map { Float($0) / 255 })
    }

    @Test func findsTheBatchesFolder() throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/cifar-10-batches-bin", withIntermediateDirectories: true)
        try folder.write("cifar-10-batches-bin/test_batch.bin", record(label: 4, batch: 0))
        #expect(try CIFAR10.load(directory: folder.path, split: .test).labels == [4])
    }

    @Test func missingBatch() throws {
        let folder = try TemporaryFolder()
        try writeAll(folder)
        try FileManager.default.removeItem(atPath: folder.path + "/data_batch_3.bin")
        expectDiagnostic(["data_batch_3.bin", "make deps", "--data"]) { _ = try CIFAR10.load(directory: folder.path, split: .train) }
    }

    @Test func truncatedBatch() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("test_batch.bin", record(label: 1, batch: 0) + Array(record(label: 2, batch: 0).prefix(100)))
        expectDiagnostic([path, "truncated", "3173 bytes", "3073-byte records"]) { _ = try CIFAR10.load(directory: folder.path, split: .test) }
    }

    @Test func labelOutOfRange() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("test_batch.bin", record(label: 1, batch: 0) + record(label: 12, batch: 0))
        expectDiagnostic([path, "label 12", "record 1", "out of range"]) { _ = try CIFAR10.load(directory: folder.path, split: .test) }
    }
}
