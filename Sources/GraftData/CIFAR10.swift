// CIFAR10: the binary version of CIFAR-10 (records of 1 label byte + 3072 pixel bytes, CHW).

import GraftIR

/// Loads the binary CIFAR-10 batches (`cifar-10-binary.tar.gz`, unpacked).
public enum CIFAR10 {
    /// Bytes per record: one label, then 32×32 red, green and blue planes.
    public static let recordSize = 1 + 3 * 32 * 32

    /// The ten class names, in label order.
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]

    /// The batch files of a split.
    public static func fileNames(_ split: DatasetSplit) -> [String] {
        split == .train ? (1 ... 5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// Loads one split from `directory` or its `cifar-10-batches-bin` folder: `data_batch_1.bin`
    /// … `data_batch_5.bin` for training, `test_batch.bin` for test.
    ///
    /// - Throws: a `Diagnostic` naming the file and the problem.
    public static func load(directory: String, split: DatasetSplit) throws -> Dataset {
        let paths = try fileNames(split).map {
            try DataFile.find([$0], in: directory, subdirectories: ["cifar-10-batches-bin"], what: "CIFAR-10 \(split) batch \($0)")
        }
        return try load(batchPaths: paths, name: "cifar-10/\(split)")
    }

    /// Loads and concatenates the given batch files.
    public static func load(batchPaths: [String], name: String = "cifar-10") throws -> Dataset {
        var images = [Float]()
        var labels = [Int32]()
        for path in batchPaths {
            let bytes = try DataFile.read(path)
            guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
                throw Diagnostic("\(path): truncated file: \(bytes.count) bytes is not a whole number of \(recordSize)-byte records (1 label + 3×32×32 pixels); re-download it (\(DataFile.remedy))")
            }
            let count = bytes.count / recordSize
            images.reserveCapacity(images.count + count * (recordSize - 1))
            for record in 0 ..< count {
                let start = record * recordSize
                let label = bytes[start]
                guard label < 10 else {
                    throw Diagnostic("\(path): label \(label) of record \(record) is out of range 0..<10; the file is damaged or not a CIFAR-10 binary batch")
                }
                labels.append(Int32(label))
                images.append(contentsOf: bytes[start + 1 ..< start + recordSize].lazy.map { Float($0) / 255 })
            }
        }
        return Dataset(name: name, images: images, labels: labels, channels: 3, height: 32, width: 32, classes: 10)
    }
}
