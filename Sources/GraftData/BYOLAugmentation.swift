// BYOLAugmentation: the two views of a batch, each image's randomness keyed by
// (seed, epoch, image index, view) so results do not depend on batching or threads.

import Dispatch
import GraftIR

/// BYOL's pair of augmentations: `view1` (T) and `view2` (T′), applied to a batch in parallel.
///
/// ```swift
/// let augment = BYOLAugmentation()
/// let (v1, v2) = augment.twoViews(of: train, indices: batch, epoch: 3, seed: 42)   // [B, C, H, W] each
/// ```
public struct BYOLAugmentation: Sendable {
    /// The first view's transformation (T).
    public var view1: Augmentation
    /// The second view's transformation (T′).
    public var view2: Augmentation
    /// Threads that share a batch.
    public var threads: Int

    public init(view1: Augmentation = .byolT, view2: Augmentation = .byolTPrime, threads: Int = 2) {
        self.view1 = view1
        self.view2 = view2
        self.threads = threads
    }

    /// The seed of the random stream for one augmented image.
    public static func streamKey(seed: UInt64, epoch: Int, index: Int, view: Int) -> UInt64 {
        var key = finalize(seed ^ 0x4752_4146_5444_4154)          // "GRAFTDAT"
        for part in [UInt64(bitPattern: Int64(epoch)), UInt64(bitPattern: Int64(index)), UInt64(bitPattern: Int64(view))] {
            key = finalize(key ^ finalize(part &+ 0x9e37_79b9_7f4a_7c15))
        }
        return key
    }

    /// The random stream for image `index` of `epoch`, view 0 (T) or 1 (T′).
    public static func generator(seed: UInt64, epoch: Int, index: Int, view: Int) -> SplitMix64 {
        SplitMix64(seed: streamKey(seed: seed, epoch: epoch, index: index, view: view))
    }

    /// Both views of the images at `indices`, each `[indices.count, C, H, W]`.
    public func twoViews(of dataset: Dataset, indices: [Int], epoch: Int, seed: UInt64) -> (view1: [Float], view2: [Float]) {
        let count = indices.count * dataset.imageSize
        var first = [Float](repeating: 0, count: count), second = [Float](repeating: 0, count: count)
        first.withUnsafeMutableBufferPointer { a in
            second.withUnsafeMutableBufferPointer { b in
                twoViews(of: dataset, indices: indices, epoch: epoch, seed: seed, into: a, b)
            }
        }
        return (first, second)
    }

    /// Writes both views of the images at `indices` into caller-owned `[B, C, H, W]` buffers.
    public func twoViews(of dataset: Dataset, indices: [Int], epoch: Int, seed: UInt64,
                         into first: UnsafeMutableBufferPointer<Float>, _ second: UnsafeMutableBufferPointer<Float>) {
        let shape = ImageShape(channels: dataset.channels, height: dataset.height, width: dataset.width)
        let size = shape.size
        precondition(first.count >= indices.count * size && second.count >= indices.count * size,
                     "view buffers hold \(first.count) and \(second.count) floats, need \(indices.count * size)")
        let workers = Swift.max(1, Swift.min(threads, indices.count))
        let (view1, view2) = (self.view1, self.view2)
        nonisolated(unsafe) let outputs = (first, second)
        dataset.images.withUnsafeBufferPointer { images in
            nonisolated(unsafe) let images = images
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: Augmentation.scratchSize(shape))
                defer { scratch.deallocate() }
                let range = indices.count * worker / workers ..< indices.count * (worker + 1) / workers
                for slot in range {
                    let index = indices[slot]
                    precondition(index >= 0 && index < dataset.count, "index \(index) outside \(dataset.name) (0..<\(dataset.count))")
                    let source = UnsafeBufferPointer(rebasing: images[index * size ..< (index + 1) * size])
                    for (view, augmentation) in [view1, view2].enumerated() {
                        var rng = Self.generator(seed: seed, epoch: epoch, index: index, view: view)
                        let target = view == 0 ? outputs.0 : outputs.1
                        let out = UnsafeMutableBufferPointer(rebasing: target[slot * size ..< (slot + 1) * size])
                        augmentation.apply(source, shape, into: out, scratch: scratch, using: &rng)
                    }
                }
            }
        }
    }

    private static func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
