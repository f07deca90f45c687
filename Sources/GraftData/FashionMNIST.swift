// FashionMNIST: Zalando's 28×28 grey clothing images in IDX files (Debian's
// dataset-fashion-mnist), or any MNIST-format pair of files.

import GraftIR

/// Loads Fashion-MNIST (or MNIST: the format and file names are the same).
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package puts the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// The ten class names, in label order.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Loads one split from `directory`, which holds `train-images-idx3-ubyte(.gz)`,
    /// `train-labels-idx1-ubyte(.gz)`, `t10k-images-idx3-ubyte(.gz)` and
    /// `t10k-labels-idx1-ubyte(.gz)`.
    ///
    /// - Returns: a 1×28×28 (or whatever the files say) dataset with 10 classes.
    /// - Throws: a `Diagnostic` naming the file and the problem.
    public static func load(directory: String = defaultDirectory, split: DatasetSplit) throws -> Dataset {
        let prefix = split == .train ? "train" : "t10k"
        let imagesPath = try DataFile.find(["\(prefix)-images-idx3-ubyte.gz", "\(prefix)-images-idx3-ubyte", "\(prefix)-images.idx3-ubyte"],
                                           in: directory, what: "Fashion-MNIST \(split) images")
        let labelsPath = try DataFile.find(["\(prefix)-labels-idx1-ubyte.gz", "\(prefix)-labels-idx1-ubyte", "\(prefix)-labels.idx1-ubyte"],
                                           in: directory, what: "Fashion-MNIST \(split) labels")
        return try load(imagesPath: imagesPath, labelsPath: labelsPath, classes: 10, name: "fashion-mnist/\(split)")
    }

    /// Loads a pair of IDX files: images `[count, rows, columns]` and labels `[count]`.
    public static func load(imagesPath: String, labelsPath: String, classes: Int = 10, name: String? = nil) throws -> Dataset {
        let images = try IDXFile.read(path: imagesPath, dimensionCount: 3)
        let labels = try IDXFile.read(path: labelsPath, dimensionCount: 1)
        let count = images.dimensions[0], height = images.dimensions[1], width = images.dimensions[2]
        guard height > 0, width > 0 else {
            throw Diagnostic("\(imagesPath): images of \(height)×\(width) pixels are empty; the header is corrupt")
        }
        guard count > 0 else {
            throw Diagnostic("\(imagesPath): the file holds no images (its header says 0); a dataset needs at least one; \(DataFile.remedy)")
        }
        guard labels.dimensions[0] == count else {
            throw Diagnostic("\(imagesPath) holds \(count) images but \(labelsPath) holds \(labels.dimensions[0]) labels; the two files must come from the same split")
        }
        if let bad = labels.values.firstIndex(where: { Int($0) >= classes }) {
            throw Diagnostic("\(labelsPath): label \(labels.values[bad]) of item \(bad) is out of range 0..<\(classes); the file is damaged or is not a \(classes)-class label file")
        }
        return Dataset(name: name ?? imagesPath, images: images.values.map { Float($0) / 255 },
                       labels: labels.values.map { Int32($0) },
                       channels: 1, height: height, width: width, classes: classes)
    }
}
