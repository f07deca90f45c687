// BatchPrefetcher: prepares the next augmented batch on a background thread while the caller
// runs the training step on the current one.

import Dispatch
import GraftIR

/// One training batch: both augmented views and the labels, with its place in training.
public struct AugmentedBatch: Sendable {
    public var epoch: Int
    public var step: Int
    /// Dataset indices of the images, in batch order.
    public var indices: [Int]
    /// View 1 (T), `[B, C, H, W]`.
    public var view1: [Float]
    /// View 2 (T′), `[B, C, H, W]`.
    public var view2: [Float]
    /// Labels of the images (for monitors; BYOL itself does not use them).
    public var labels: [Int32]
    /// Wall-clock seconds the background thread spent preparing this batch (choosing it,
    /// augmenting both views).
    public var preparationSeconds: Double = 0
}

/// Yields `AugmentedBatch`es in training order forever (epoch after epoch), always preparing
/// the next one in the background.
///
/// ```swift
/// let batches = BatchPrefetcher(dataset: train, batchSize: 256, seed: 1)
/// for _ in 0 ..< steps { let batch = batches.next(); try step.run(batch.view1, batch.view2) }
/// ```
public final class BatchPrefetcher: @unchecked Sendable {
    public let dataset: Dataset
    public let augmentation: BYOLAugmentation
    public let batcher: Batcher
    public let seed: UInt64

    private let queue = DispatchQueue(label: "graft.data.prefetch", qos: .userInitiated)
    private let group = DispatchGroup()
    // Touched only by the background job; `group.wait()` orders it before the caller reads.
    private var prepared: AugmentedBatch?
    private var epochBatches: (epoch: Int, batches: [[Int]])?
    // Touched only by the caller.
    private var position: (epoch: Int, step: Int)

    /// Starts preparing the batch at (`startEpoch`, `startStep`) at once.
    public init(dataset: Dataset, augmentation: BYOLAugmentation = BYOLAugmentation(), batchSize: Int, seed: UInt64,
                startEpoch: Int = 0, startStep: Int = 0) {
        self.dataset = dataset
        self.augmentation = augmentation
        self.batcher = Batcher(count: dataset.count, batchSize: batchSize, seed: seed)
        self.seed = seed
        precondition(batcher.stepsPerEpoch > 0, "\(dataset.name) has \(dataset.count) images, fewer than one batch of \(batchSize)")
        position = (startEpoch, startStep)
        schedule()
    }

    /// The prepared batch; the one after it starts preparing before this returns.
    public func next() -> AugmentedBatch {
        group.wait()
        guard let batch = prepared else { fatalError("BatchPrefetcher: no batch was prepared") }
        prepared = nil
        schedule()
        return batch
    }

    private func schedule() {
        let (epoch, step) = position
        position = step + 1 < batcher.stepsPerEpoch ? (epoch, step + 1) : (epoch + 1, 0)
        queue.async(group: group) { self.prepare(epoch: epoch, step: step) }
    }

    private func prepare(epoch: Int, step: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        if epochBatches?.epoch != epoch { epochBatches = (epoch, batcher.batches(epoch: epoch)) }
        let indices = epochBatches!.batches[step]
        let (view1, view2) = augmentation.twoViews(of: dataset, indices: indices, epoch: epoch, seed: seed)
        prepared = AugmentedBatch(epoch: epoch, step: step, indices: indices, view1: view1, view2: view2,
                                  labels: indices.map { dataset.labels[$0] },
                                  preparationSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
