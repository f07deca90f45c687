// EpochOrder and Batcher: a seeded shuffle per epoch, cut into fixed-size batches.

import GraftIR

/// A seeded permutation of `0 ..< count` for each epoch (Fisher–Yates over SplitMix64).
public struct EpochOrder: Hashable, Sendable {
    /// Items to order.
    public var count: Int
    /// The seed every epoch's permutation derives from.
    public var seed: UInt64

    public init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
    }

    /// The order of the items in `epoch`; the same for the same seed and epoch.
    public func indices(epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed, name: "epoch-order/\(epoch)")
        var order = Array(0 ..< count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return order
    }
}

/// Cuts each epoch's order into batches of `batchSize`, dropping the last incomplete batch
/// (BatchNorm statistics of a tiny batch are noise) unless `dropLast` is false.
public struct Batcher: Hashable, Sendable {
    public var order: EpochOrder
    public var batchSize: Int
    public var dropLast: Bool

    public init(count: Int, batchSize: Int, seed: UInt64, dropLast: Bool = true) {
        precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
        order = EpochOrder(count: count, seed: seed)
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    /// Batches in one epoch.
    public var stepsPerEpoch: Int {
        dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
    }

    /// The batches of `epoch`, in order.
    public func batches(epoch: Int) -> [[Int]] {
        let indices = order.indices(epoch: epoch)
        return (0 ..< stepsPerEpoch).map { step in
            Array(indices[step * batchSize ..< Swift.min((step + 1) * batchSize, indices.count)])
        }
    }
}
