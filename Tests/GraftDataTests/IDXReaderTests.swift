// IDX and Fashion-MNIST readers: exact round trips, and one test per kind of bad file.

import Foundation
import GraftIR
import Testing
import GraftTestSupport
@testable import GraftData

@Suite struct IDXReaderTests {
    let imageBytes = pixelBytes(count: 5, size: 3 * 4)
    let labelBytes: [UInt8] = [3, 0, 9, 1, 1]

    /// Writes the train pair of the 5-image 3×4 test set, gzipped or not.
    func writeSet(_ folder: TemporaryFolder, gzipped: Bool, images: [UInt8]? = nil, labels: [UInt8]? = nil) throws -> (String, String) {
        let i = images ?? idx([5, 3, 4], imageBytes)
        let l = labels ?? idx([5], labelBytes)
        let suffix = gzipped ? ".gz" : ""
        return (try folder.write("train-images-idx3-ubyte" + suffix, gzipped ? gzip(i) : i),
                try folder.write("train-labels-idx1-ubyte" + suffix, gzipped ? gzip(l) : l))
    }

    @Test(arguments: [false, true]) func readsBackExactly(gzipped: Bool) throws {
        let folder = try TemporaryFolder()
        _ = try writeSet(folder, gzipped: gzipped)
        let set = try FashionMNIST.load(directory: folder.path, split: .train)
        #expect(set.count == 5 && set.channels == 1 && set.height == 3 && set.width == 4 && set.classes == 10)
        #expect(set.labels == [3, 0, 9, 1, 1])
        #expect(set.images == imageBytes.map { Float($0) / 255 })
        let sub = set.subset([4, 1])
        #expect(sub.labels == [1, 0])
        #expect(Array(sub.image(0)) == Array(set.image(4)))
    }

    @Test func readsAFileGzippedByTheGzipTool() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else { return }
        let folder = try TemporaryFolder()
        let (images, labels) = try writeSet(folder, gzipped: false)
        for path in [images, labels] {
            let result = try runProgram(URL(fileURLWithPath: "/usr/bin/gzip"), ["-9", path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let set = try FashionMNIST.load(directory: folder.path, split: .train)
        #expect(set.images == imageBytes.map { Float($0) / 255 })
    }

    @Test func missingFilesNameWhatWasLookedFor() throws {
        let folder = try TemporaryFolder()
        expectDiagnostic(["t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte", folder.path, "make deps", "--data"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .test)
        }
    }

    @Test(arguments: [false, true]) func truncatedImagesFile(gzipped: Bool) throws {
        let folder = try TemporaryFolder()
        let full = idx([5, 3, 4], imageBytes)
        let (path, _) = try writeSet(folder, gzipped: gzipped, images: Array(full.dropLast(7)))
        expectDiagnostic([path, "truncated", "5 images of 3×4"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func truncatedGzipStream() throws {
        let folder = try TemporaryFolder()
        let compressed = gzip(idx([5, 3, 4], imageBytes))
        let (path, _) = try writeSet(folder, gzipped: true, images: [])
        try folder.write("train-images-idx3-ubyte.gz", Array(compressed.prefix(compressed.count - 6)))
        expectDiagnostic([path, "truncated"]) { _ = try FashionMNIST.load(directory: folder.path, split: .train) }
    }

    @Test func truncatedHeader() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try writeSet(folder, gzipped: false, images: [0, 0, 8, 3, 0, 0])
        expectDiagnostic([path, "truncated", "header"]) { _ = try FashionMNIST.load(directory: folder.path, split: .train) }
    }

    @Test func badMagic() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try writeSet(folder, gzipped: false, images: idx([5, 3, 4], imageBytes, magic: 0x0000_0D03))
        expectDiagnostic([path, "bad magic", "0x00000d03", "0x00000803"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func wrongDimensionCount() throws {
        let folder = try TemporaryFolder()
        let (_, path) = try writeSet(folder, gzipped: false, labels: idx([5, 1], labelBytes))
        expectDiagnostic([path, "wrong dimension count", "2 dimensions", "expected 1"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func labelAndImageCountsDiffer() throws {
        let folder = try TemporaryFolder()
        let (images, labels) = try writeSet(folder, gzipped: true, labels: idx([4], Array(labelBytes.prefix(4))))
        expectDiagnostic([images, labels, "5 images", "4 labels"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func labelOutOfRange() throws {
        let folder = try TemporaryFolder()
        let (_, path) = try writeSet(folder, gzipped: false, labels: idx([5], [3, 0, 10, 1, 1]))
        expectDiagnostic([path, "label 10", "item 2", "out of range 0..<10"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func corruptGzipChecksum() throws {
        let folder = try TemporaryFolder()
        var compressed = gzip(idx([5, 3, 4], imageBytes))
        compressed[compressed.count - 8] ^= 0xff                      // CRC-32 of the trailer
        let (path, _) = try writeSet(folder, gzipped: true, images: [])
        try folder.write("train-images-idx3-ubyte.gz", compressed)
        expectDiagnostic([path, "corrupt gzip stream", "incorrect data check"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func plainBytesNamedGz() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try writeSet(folder, gzipped: true, images: [])
        try folder.write("train-images-idx3-ubyte.gz", idx([5, 3, 4], imageBytes))
        expectDiagnostic([path, "corrupt gzip stream", "incorrect header check"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func headerClaimsMoreImagesThanTheFileHolds() throws {
        let folder = try TemporaryFolder()
        let (path, _) = try writeSet(folder, gzipped: false, images: idx([1000, 3, 4], imageBytes))
        expectDiagnostic([path, "truncated", "1000 images of 3×4", "12016 bytes", "76 bytes"]) {
            _ = try FashionMNIST.load(directory: folder.path, split: .train)
        }
    }

    @Test func headerClaims2To31ImagesInA100ByteFile() throws {
        let folder = try TemporaryFolder()
        let lie = idx([1 << 31, 28, 28], [UInt8](repeating: 0, count: 100 - 16))
        #expect(lie.count == 100)
        let path = try folder.write("lie-idx3-ubyte", lie)
        let started = Date()
        expectDiagnostic([path, "truncated", "2147483648 images of 28×28", "100 bytes"]) {
            _ = try IDXFile.read(path: path, dimensionCount: 3)
        }
        let gzPath = try folder.write("lie-idx3-ubyte.gz", gzip(lie))
        expectDiagnostic([gzPath, "2147483648 images of 28×28", "(1683627180048 bytes)", "can expand to at most"]) {
            _ = try IDXFile.read(path: gzPath, dimensionCount: 3)
        }
        print("2^31-image headers rejected in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
    }

    @Test func headerSizesThatOverflow() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("overflow-idx3-ubyte", idx([0xffff_ffff, 0xffff_ffff, 0xffff_ffff], []))
        expectDiagnostic([path, "overflow"]) { _ = try IDXFile.read(path: path, dimensionCount: 3) }
    }

    @Test func gzipBombStopsAtTheHeadersSize() throws {
        let folder = try TemporaryFolder()
        // Header says 5 images of 3×4 (60 bytes); the stream inflates to 16 MB of zeros.
        let bomb = gzip(idx([5, 3, 4], [UInt8](repeating: 0, count: 16 << 20)))
        let path = try folder.write("bomb-idx3-ubyte.gz", bomb)
        expectDiagnostic([path, "more data than its header describes"]) { _ = try IDXFile.read(path: path, dimensionCount: 3) }
    }

    @Test func plainFileLongerThanItsHeader() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("long-idx1-ubyte", idx([5], labelBytes + [1, 2, 3]))
        expectDiagnostic([path, "holds 16 bytes", "5 labels (13 bytes)"]) { _ = try IDXFile.read(path: path, dimensionCount: 1) }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory)))
    func realFashionMNISTTestSplit() throws {
        let test = try FashionMNIST.load(split: .test)
        #expect(test.count == 10000 && test.channels == 1 && test.height == 28 && test.width == 28)
        #expect(test.labels.allSatisfy { (0 ..< 10).contains($0) })
        #expect(Set(test.labels).count == 10)
        #expect(test.images.allSatisfy { $0 >= 0 && $0 <= 1 })
        let mean = test.meanPixel
        print("Fashion-MNIST test: \(test.count) images, mean pixel \(mean)")
        #expect(abs(mean - 0.286) < 0.01)
    }
}
