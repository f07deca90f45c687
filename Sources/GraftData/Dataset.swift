// Dataset: a labelled image set held in memory as one [N, C, H, W] float buffer.

/// A labelled image set in memory: `images` is row-major `[count, channels, height, width]`
/// with pixel values scaled to `[0, 1]`, `labels[i]` is the class of image `i` in
/// `0..<classes`.
///
/// ```swift
/// let test = try FashionMNIST.load(split: .test)
/// let firstHundred = test.subset(Array(0..<100))
/// ```
public struct Dataset: Sendable {
    /// A short name for messages and logs, e.g. `fashion-mnist/test`.
    public var name: String
    /// Pixels, row-major `[count, channels, height, width]`, each in `[0, 1]`.
    public var images: [Float]
    /// One class index per image, each in `0..<classes`.
    public var labels: [Int32]
    /// Channels per image (1 for Fashion-MNIST, 3 for CIFAR-10).
    public var channels: Int
    /// Rows per image.
    public var height: Int
    /// Columns per image.
    public var width: Int
    /// Number of classes the labels range over.
    public var classes: Int

    /// Wraps buffers that already have the documented layout.
    ///
    /// - Precondition: `images.count == labels.count * channels * height * width`.
    public init(name: String, images: [Float], labels: [Int32], channels: Int, height: Int, width: Int, classes: Int) {
        precondition(channels > 0 && height > 0 && width > 0, "Dataset \(name): empty image shape \(channels)×\(height)×\(width)")
        precondition(images.count == labels.count * channels * height * width,
                     "Dataset \(name): \(images.count) pixels do not make \(labels.count) images of \(channels)×\(height)×\(width)")
        self.name = name
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classes = classes
    }

    /// Number of images.
    public var count: Int { labels.count }

    /// Floats per image: `channels * height * width`.
    public var imageSize: Int { channels * height * width }

    /// The pixels of image `index`, `[channels, height, width]`.
    public func image(_ index: Int) -> ArraySlice<Float> {
        images[index * imageSize ..< (index + 1) * imageSize]
    }

    /// The images at `indices`, in that order (indices may repeat).
    public func subset(_ indices: [Int]) -> Dataset {
        let size = imageSize
        var pixels = [Float]()
        pixels.reserveCapacity(indices.count * size)
        for index in indices {
            precondition(index >= 0 && index < count, "Dataset \(name): index \(index) outside 0..<\(count)")
            pixels.append(contentsOf: images[index * size ..< (index + 1) * size])
        }
        return Dataset(name: name, images: pixels, labels: indices.map { labels[$0] },
                       channels: channels, height: height, width: width, classes: classes)
    }

    /// The first `count` images (all of them when there are fewer).
    public func prefix(_ count: Int) -> Dataset { subset(Array(0 ..< Swift.min(count, self.count))) }

    /// The mean of all pixels.
    public var meanPixel: Double {
        images.isEmpty ? 0 : images.reduce(0.0) { $0 + Double($1) } / Double(images.count)
    }
}

/// Which half of a dataset to load.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train
    case test
}
