// Batches: a dataset cut into a model's inputs, batch by batch, by graph input name: images
// with labels, images alone, or BYOL's two views; seeded, shuffled per epoch, prepared on a
// background thread while the step runs.

import Dispatch
import GraftIR

/// A transformation of one image, drawing its randomness from `rng` (seeded per image, epoch
/// and view by the caller, so results do not depend on batching or threads). `Augmentation`
/// (BYOL's T and T′) is one; write your own for other recipes.
public protocol ImageAugmentation: Sendable {
    /// Writes the transformed `source` (`shape`, CHW) into `output` (same shape). `scratch`
    /// holds `shape.size` floats the transformation may use.
    func apply(_ source: UnsafeBufferPointer<Float>, _ shape: ImageShape, into output: UnsafeMutableBufferPointer<Float>,
               scratch: UnsafeMutableBufferPointer<Float>, using rng: inout SplitMix64)
}

extension Augmentation: ImageAugmentation {}

/// What each batch holds, by graph input name.
public enum BatchContent: Sendable {
    /// The images (`f32[B, C, H, W]`), augmented or not: for models without labels.
    case images(name: String = "images", augmentation: (any ImageAugmentation)? = nil)
    /// The images and their labels (`i32[B]`): for classifiers.
    case labeledImages(images: String = "images", labels: String = "labels", augmentation: (any ImageAugmentation)? = nil)
    /// BYOL's two augmented views of the same images (T and T′).
    case views(String = "view1", String = "view2", BYOLAugmentation = BYOLAugmentation())
}

/// One batch: the model's inputs by name, and its place in training.
public struct Batch: Sendable {
    public var tensors: [String: HostTensor]
    public var epoch: Int
    /// The batch's index within its epoch.
    public var step: Int
    /// Dataset indices of the images, in batch order.
    public var indices: [Int]
    /// Seconds spent preparing the batch (choosing it, augmenting, copying).
    public var preparationSeconds: Double
}

/// A dataset as a model's batches: a fixed number per epoch (the last incomplete batch is
/// dropped: BatchNorm statistics of a tiny batch are noise), each a function of (seed, epoch,
/// step) only, so a resumed run sees exactly the batches an uninterrupted one would.
///
/// ```swift
/// let data = try Batches(train, batchSize: 64, content: .labeledImages(), seed: 1)
/// try data.check(against: step.dataInputs)         // the model takes what the data gives
/// let stream = data.stream(fromStep: 0)
/// let batch = stream.next()                         // batch.tensors["images"], ["labels"]
/// ```
public struct Batches: Sendable {
    public let dataset: Dataset
    public let batchSize: Int
    public let content: BatchContent
    public let seed: UInt64
    /// Whether each epoch visits the images in a new seeded order (else in dataset order).
    public let shuffles: Bool
    /// Threads that augment a batch.
    public var threads = 2
    /// Whether `stream` prepares the next batch on a background queue while the caller runs
    /// the current one (else on the calling thread, with `threads` threads, when asked for).
    /// Off by default: a compiled step that keeps every core busy runs slower beside the
    /// background work than it loses waiting for a batch prepared on idle cores, since a
    /// replica or worker it preempts holds up the others at every all-reduce or fork-join
    /// (byol-t on 2 cores: ~7% of the step against ~1% for the batch, Docs/Performance.md,
    /// row 21). Turn it on when the step leaves cores idle (`graft train` does, when the
    /// machine has more cores than its step's threads).
    public var prefetches = false
    /// This replica's part of each batch in data-parallel training (`shard(_:of:)`): rows
    /// `rank·B/count ..< (rank+1)·B/count` of the global batch of B. `(0, 1)`: all of it.
    public private(set) var shard = (rank: 0, count: 1)

    /// - Throws: a `Diagnostic` if the batch size is not positive or exceeds the dataset.
    public init(_ dataset: Dataset, batchSize: Int, content: BatchContent, seed: UInt64, shuffles: Bool = true) throws {
        guard batchSize > 0 else { throw Diagnostic("the batch size must be at least 1, not \(batchSize)") }
        guard batchSize <= dataset.count else {
            throw Diagnostic("\(dataset.name) has \(dataset.count) images, fewer than one batch of \(batchSize); use a smaller batch size or more images")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.content = content
        self.seed = seed
        self.shuffles = shuffles
    }

    /// Full batches in one epoch.
    public var stepsPerEpoch: Int { dataset.count / batchSize }

    /// The rows of each batch this replica gets: `batchSize / shard.count`.
    public var shardSize: Int { batchSize / shard.count }

    /// The same batches, of which replica `rank` of `count` gets its rows only: the global
    /// batches (order and augmentations) of one process, split along the batch axis.
    /// - Throws: a `Diagnostic` if the batch size does not divide by `count` or `rank` is not
    ///   in `0..<count`.
    public func shard(_ rank: Int, of count: Int) throws -> Batches {
        guard count >= 1, (0..<count).contains(rank) else {
            throw Diagnostic("replica \(rank) of \(count) is not a replica of the group; ranks are 0..<\(count)")
        }
        guard batchSize % count == 0 else {
            throw Diagnostic("the batch size \(batchSize) does not split evenly across \(count) replicas; give a batch size that is a multiple of \(count)")
        }
        var sharded = self
        sharded.shard = (rank, count)
        return sharded
    }

    /// The type of each tensor a batch holds, by name (this replica's rows).
    public var inputTypes: [String: TensorType] {
        let batchSize = shardSize
        let images = TensorType(.f32, [batchSize, dataset.channels, dataset.height, dataset.width])
        switch content {
        case .images(let name, _): return [name: images]
        case .labeledImages(let imagesName, let labelsName, _): return [imagesName: images, labelsName: TensorType(.i32, [batchSize])]
        case .views(let first, let second, _): return [first: images, second: images]
        }
    }

    /// Checks that a model with inputs `inputs` takes exactly what these batches give.
    /// - Throws: a `Diagnostic` naming the input and both types, an input the data does not
    ///   provide, or a tensor the model does not take.
    public func check(against inputs: [String: TensorType]) throws {
        let given = inputTypes
        let imageSize = "\(dataset.channels)×\(dataset.height)×\(dataset.width)"
        for name in inputs.keys.sorted() {
            guard let type = given[name] else {
                throw Diagnostic("the model's input %\(name) (\(inputs[name]!)) is not in the data's batches, which give \(Batches.list(given)); name the model's inputs after the data, or choose another BatchContent")
            }
            guard type == inputs[name]! else {
                throw Diagnostic("the model's input %\(name) is \(inputs[name]!) but the data gives \(type) (\(dataset.name): \(imageSize) images, batch \(shardSize)\(shard.count > 1 ? " per replica" : "")); declare the input with the data's shape, or change the batch size")
            }
        }
        for name in given.keys.sorted() where inputs[name] == nil {
            throw Diagnostic("the data's batches give '\(name)' (\(given[name]!)), which the model does not take; its inputs are \(Batches.list(inputs))")
        }
    }

    private static func list(_ types: [String: TensorType]) -> String {
        types.keys.sorted().map { "%\($0): \(types[$0]!)" }.joined(separator: ", ")
    }

    /// The dataset indices of every batch of `epoch`, in order.
    public func batchIndices(epoch: Int) -> [[Int]] {
        let order = shuffles ? EpochOrder(count: dataset.count, seed: seed).indices(epoch: epoch) : Array(0..<dataset.count)
        return (0..<stepsPerEpoch).map { Array(order[($0 * batchSize)..<(($0 + 1) * batchSize)]) }
    }

    /// Batch `step` of `epoch`, prepared on the calling thread.
    public func batch(epoch: Int, step: Int) -> Batch {
        prepare(epoch: epoch, step: step, indices: batchIndices(epoch: epoch)[step])
    }

    /// The batches from the global step `fromStep` on (step `k` is batch `k % stepsPerEpoch`
    /// of epoch `k / stepsPerEpoch`), each prepared when asked for, or in the background
    /// while the caller uses the one before (`prefetches`).
    public func stream(fromStep: Int = 0) -> BatchStream { BatchStream(self, fromStep: fromStep) }

    func prepare(epoch: Int, step: Int, indices global: [Int]) -> Batch {
        let start = DispatchTime.now().uptimeNanoseconds
        let batchSize = shardSize
        let indices = Array(global[(shard.rank * batchSize)..<((shard.rank + 1) * batchSize)])
        let images = TensorType(.f32, [batchSize, dataset.channels, dataset.height, dataset.width])
        var tensors: [String: HostTensor] = [:]
        switch content {
        case .images(let name, let augmentation):
            tensors[name] = HostTensor(images, augmented(indices, epoch: epoch, augmentation))
        case .labeledImages(let imagesName, let labelsName, let augmentation):
            tensors[imagesName] = HostTensor(images, augmented(indices, epoch: epoch, augmentation))
            tensors[labelsName] = HostTensor(TensorType(.i32, [batchSize]), indices.map { Float(dataset.labels[$0]) })
        case .views(let first, let second, let augmentation):
            let (view1, view2) = augmentation.twoViews(of: dataset, indices: indices, epoch: epoch, seed: seed)
            tensors[first] = HostTensor(images, view1)
            tensors[second] = HostTensor(images, view2)
        }
        return Batch(tensors: tensors, epoch: epoch, step: step, indices: indices,
                     preparationSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// The images at `indices`, each through `augmentation` with the stream of view 0 (the
    /// same stream BYOL's first view uses), or copied as they are.
    private func augmented(_ indices: [Int], epoch: Int, _ augmentation: (any ImageAugmentation)?) -> [Float] {
        let size = dataset.imageSize
        var output = [Float](repeating: 0, count: indices.count * size)
        guard let augmentation else {
            for (slot, index) in indices.enumerated() { output.replaceSubrange((slot * size)..<((slot + 1) * size), with: dataset.image(index)) }
            return output
        }
        let shape = ImageShape(channels: dataset.channels, height: dataset.height, width: dataset.width)
        let workers = Swift.max(1, Swift.min(threads, indices.count))
        let seed = self.seed
        output.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            dataset.images.withUnsafeBufferPointer { images in
                nonisolated(unsafe) let images = images
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: size)
                    defer { scratch.deallocate() }
                    for slot in (indices.count * worker / workers)..<(indices.count * (worker + 1) / workers) {
                        let index = indices[slot]
                        var rng = BYOLAugmentation.generator(seed: seed, epoch: epoch, index: index, view: 0)
                        augmentation.apply(UnsafeBufferPointer(rebasing: images[(index * size)..<((index + 1) * size)]), shape,
                                           into: UnsafeMutableBufferPointer(rebasing: out[(slot * size)..<((slot + 1) * size)]),
                                           scratch: scratch, using: &rng)
                    }
                }
            }
        }
        return output
    }
}

/// Batches in training order, epoch after epoch: each prepared when `next()` asks for it,
/// or, when `Batches.prefetches`, the next one always being prepared on a background queue
/// while the caller uses the current one.
public final class BatchStream: @unchecked Sendable {
    public let batches: Batches
    private let queue = DispatchQueue(label: "graft.data.batches", qos: .userInitiated)
    private let group = DispatchGroup()
    // Touched only by the background job when prefetching (`group.wait()` orders it before
    // the caller reads), else only by the caller.
    private var prepared: Batch?
    private var epochIndices: (epoch: Int, batches: [[Int]])?
    // Touched only by the caller.
    private var position: (epoch: Int, step: Int)

    init(_ batches: Batches, fromStep: Int) {
        self.batches = batches
        position = (fromStep / batches.stepsPerEpoch, fromStep % batches.stepsPerEpoch)
        if batches.prefetches { schedule() }
    }

    /// The next batch; when prefetching, the one after it starts preparing before this returns.
    public func next() -> Batch {
        guard batches.prefetches else {
            let (epoch, step) = advance()
            return prepare(epoch: epoch, step: step)
        }
        group.wait()
        let batch = prepared!
        prepared = nil
        schedule()
        return batch
    }

    private func schedule() {
        let (epoch, step) = advance()
        queue.async(group: group) { self.prepared = self.prepare(epoch: epoch, step: step) }
    }

    /// The position of the next batch to prepare, moving on to the one after it.
    private func advance() -> (epoch: Int, step: Int) {
        let current = position
        position = current.step + 1 < batches.stepsPerEpoch ? (current.epoch, current.step + 1) : (current.epoch + 1, 0)
        return current
    }

    private func prepare(epoch: Int, step: Int) -> Batch {
        if epochIndices?.epoch != epoch { epochIndices = (epoch, batches.batchIndices(epoch: epoch)) }
        return batches.prepare(epoch: epoch, step: step, indices: epochIndices!.batches[step])
    }
}
