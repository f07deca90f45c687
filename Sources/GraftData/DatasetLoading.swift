// DatasetLoading: one entry point for every dataset format Graft reads, chosen by the files a
// directory holds.

import Foundation
import GraftIR

extension Dataset {
    /// Loads one split of the dataset in `directory`: CIFAR-10 when it holds the binary batches
    /// (`data_batch_1.bin` …, `test_batch.bin`), otherwise an MNIST-format pair of IDX files
    /// (Fashion-MNIST, MNIST, KMNIST: `train-images-idx3-ubyte(.gz)`, `t10k-…`).
    /// - Throws: a `Diagnostic` naming the directory or file and what is missing or damaged.
    public static func load(directory: String, split: DatasetSplit) throws -> Dataset {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        if names.contains(where: { $0.hasPrefix("data_batch_") || $0 == "test_batch.bin" }) {
            let dataset = try CIFAR10.load(directory: directory, split: split)
            guard dataset.count > 0 else {
                throw Diagnostic("\(directory): the CIFAR-10 \(split) batches hold no images; a dataset needs at least one; \(DataFile.remedy)")
            }
            return dataset
        }
        var dataset = try FashionMNIST.load(directory: directory, split: split)
        let folder = URL(fileURLWithPath: directory).standardized.lastPathComponent
        dataset.name = "\(folder.isEmpty ? "idx" : folder)/\(split)"
        return dataset
    }
}
