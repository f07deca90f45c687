// Communicator: the group of replicas that `all_reduce` combines values across. A single
// process is a group of one; `LocalGroup` is a group of threads in one process (for tests and
// for checking a data-parallel step against one process without MPI).

import Foundation
import Synchronization
import GraftIR

/// The replicas of a data-parallel run, as the compiled `all_reduce` sees them.
public protocol Communicator: AnyObject, Sendable {
    /// This replica's index in the group, from 0.
    var rank: Int { get }
    /// The number of replicas.
    var size: Int { get }
    /// Replaces `count` floats at `buffer` by their elementwise sum (or mean) over every
    /// replica's buffer; every replica calls it with the same `count` and gets the same result.
    func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction)
    /// Replaces `count` floats at `buffer` on every replica by rank 0's.
    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    /// Starts the all-reduce `allReduce` would do and returns at once; `finish` completes it.
    /// In between the caller may compute but must not touch `buffer`, and every replica
    /// starts its collectives (blocking or not) in the same order. Where the group has no
    /// way to do the work in the background, it is all done in `finish`.
    func startAllReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) -> PendingAllReduce
    /// Completes an all-reduce started by `startAllReduce`.
    func finish(_ pending: PendingAllReduce)
}

/// An all-reduce started by `Communicator.startAllReduce` and not finished yet.
public struct PendingAllReduce: @unchecked Sendable {
    public let buffer: UnsafeMutablePointer<Float>
    public let count: Int
    public let reduction: CollectiveReduction
    /// The group's own handle of the operation in flight (MPI's request), if it started one.
    public var request: UnsafeMutableRawPointer?

    public init(buffer: UnsafeMutablePointer<Float>, count: Int, reduction: CollectiveReduction, request: UnsafeMutableRawPointer? = nil) {
        (self.buffer, self.count, self.reduction, self.request) = (buffer, count, reduction, request)
    }
}

extension Communicator {
    /// Nothing happens in the background: the whole all-reduce is done by `finish`.
    public func startAllReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) -> PendingAllReduce {
        PendingAllReduce(buffer: buffer, count: count, reduction: reduction)
    }

    public func finish(_ pending: PendingAllReduce) {
        allReduce(pending.buffer, count: pending.count, pending.reduction)
    }

    /// A broadcast as an all-reduce: every replica but rank 0 contributes zeros, so the sum
    /// is rank 0's values exactly.
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        if rank != 0 { buffer.update(repeating: 0, count: count) }
        allReduce(buffer, count: count, .sum)
    }

    /// Whether every replica holds the same `fingerprint` (e.g. a hash of its model and
    /// options), as each sees it: all of them learn a mismatch, not only some.
    public func allAgree(on fingerprint: UInt64) -> Bool {
        // The fingerprint as four 16-bit parts, exact in Float, against rank 0's.
        let mine = (0..<4).map { Float((fingerprint >> (16 * UInt64($0))) & 0xFFFF) }
        var rankZero = mine
        rankZero.withUnsafeMutableBufferPointer { broadcast($0.baseAddress!, count: 4) }
        var disagreeing: [Float] = [rankZero == mine ? 0 : 1]
        disagreeing.withUnsafeMutableBufferPointer { allReduce($0.baseAddress!, count: 1, .sum) }
        return disagreeing[0] == 0
    }
}

/// A group of one: `all_reduce` leaves its buffer as it is.
public final class SingleProcess: Communicator {
    public let rank = 0
    public let size = 1
    public init() {}
    public func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) {}
}

/// A group of `size` replicas running on threads of one process, each with its own
/// `communicator(rank:)`. An all-reduce waits until every replica has called it; the last to
/// arrive adds the buffers in rank order in Float64 and rounds once, so the result does not
/// depend on timing. Replicas wait by spinning on an atomic counter (a replica usually has a
/// core of its own, and a step makes a hundred or more small all-reduces, BatchNorm's
/// statistics), and after ~20,000 turns go to sleep until woken, so that a replica waiting
/// for one that lost its core to another process does not hold a core as well.
public final class LocalGroup: @unchecked Sendable {
    public let size: Int
    /// Bumped by the last replica to arrive at each all-reduce, once its result is ready.
    private let generation = Atomic<Int>(0)
    private let arrived = Atomic<Int>(0)
    /// Replicas asleep (or about to be) on `wakeUp`.
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = NSCondition()
    /// Each replica's buffer in the current all-reduce, by rank.
    private let buffers: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// The results of consecutive all-reduces alternate between two areas: a replica can
    /// start the next all-reduce only after every replica has arrived at it, that is after
    /// all of them copied the previous result out, so the one before that is free again.
    /// Only the last replica to arrive writes them (and `sums`), growing them as needed.
    private var results: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
    private var sums: UnsafeMutablePointer<Double>
    private var capacity = 0

    public init(size: Int) {
        precondition(size >= 1, "LocalGroup: a group has at least one replica, not \(size)")
        self.size = size
        buffers = .allocate(capacity: size)
        buffers.initialize(repeating: nil, count: size)
        results = (.allocate(capacity: 1), .allocate(capacity: 1))
        sums = .allocate(capacity: 1)
    }

    deinit {
        buffers.deallocate()
        results.0.deallocate()
        results.1.deallocate()
        sums.deallocate()
    }

    /// The communicator of replica `rank`.
    public func communicator(rank: Int) -> any Communicator {
        precondition((0..<size).contains(rank), "LocalGroup: rank \(rank) is outside 0..<\(size)")
        return Member(group: self, rank: rank)
    }

    fileprivate func allReduce(rank: Int, _ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) {
        let round = generation.load(ordering: .acquiring)
        buffers[rank] = buffer   // published by the release of the increment below
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == size {
            if capacity < count { grow(to: count) }
            let result = round & 1 == 0 ? results.0 : results.1
            sums.update(repeating: 0, count: count)
            for rank in 0..<size {
                let member = buffers[rank]!
                for index in 0..<count { sums[index] += Double(member[index]) }
            }
            let divisor = reduction == .mean ? Double(size) : 1
            for index in 0..<count { result[index] = Float(sums[index] / divisor) }
            arrived.store(0, ordering: .relaxed)
            // Sequentially consistent with the sleepers' count: either a sleeper sees the new
            // generation before it waits, or this sees the sleeper and wakes it.
            generation.store(round + 1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
        } else {
            var spins = 0
            while generation.load(ordering: .acquiring) == round && spins < 20_000 { spins += 1 }
            if generation.load(ordering: .acquiring) == round {
                sleepers.add(1, ordering: .sequentiallyConsistent)
                wakeUp.lock()
                while generation.load(ordering: .sequentiallyConsistent) == round { wakeUp.wait() }
                wakeUp.unlock()
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
            }
        }
        buffer.update(from: round & 1 == 0 ? results.0 : results.1, count: count)
    }

    /// Room for all-reduces of `count` floats (called by the last replica to arrive, while
    /// every other waits; the previous result is already copied out by all).
    private func grow(to count: Int) {
        results.0.deallocate()
        results.1.deallocate()
        sums.deallocate()
        results = (.allocate(capacity: count), .allocate(capacity: count))
        sums = .allocate(capacity: count)
        capacity = count
    }

    private final class Member: Communicator, @unchecked Sendable {
        let group: LocalGroup
        let rank: Int
        var size: Int { group.size }
        init(group: LocalGroup, rank: Int) { (self.group, self.rank) = (group, rank) }
        func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) {
            group.allReduce(rank: rank, buffer, count: count, reduction)
        }
    }
}
