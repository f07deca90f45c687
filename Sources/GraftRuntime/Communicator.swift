// Communicator: the group of replicas that `all_reduce` combines values across. A single
// process is a group of one; `LocalGroup` is a group of threads in one process (for tests and
// for checking a data-parallel step against one process without MPI).

import Foundation
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
}

extension Communicator {
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
/// `communicator(rank:)`. An all-reduce waits until every replica has called it, adds the
/// buffers in rank order in Float64 and rounds once, so the result does not depend on timing.
public final class LocalGroup: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var buffers: [UnsafeMutablePointer<Float>?]
    private var arrived = 0, departed = 0, generation = 0
    private var result: [Float] = []

    public init(size: Int) {
        precondition(size >= 1, "LocalGroup: a group has at least one replica, not \(size)")
        self.size = size
        buffers = Array(repeating: nil, count: size)
    }

    /// The communicator of replica `rank`.
    public func communicator(rank: Int) -> any Communicator {
        precondition((0..<size).contains(rank), "LocalGroup: rank \(rank) is outside 0..<\(size)")
        return Member(group: self, rank: rank)
    }

    fileprivate func allReduce(rank: Int, _ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) {
        condition.lock()
        defer { condition.unlock() }
        // Wait until the previous all-reduce has been copied out by every replica.
        while departed != 0 { condition.wait() }
        let round = generation
        buffers[rank] = buffer
        arrived += 1
        if arrived == size {
            var sums = [Double](repeating: 0, count: count)
            for member in buffers {
                for index in 0..<count { sums[index] += Double(member![index]) }
            }
            let divisor = reduction == .mean ? Double(size) : 1
            result = sums.map { Float($0 / divisor) }
            arrived = 0
            departed = size
            generation += 1
            condition.broadcast()
        } else {
            while generation == round { condition.wait() }
        }
        result.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
        buffers[rank] = nil
        departed -= 1
        if departed == 0 { condition.broadcast() }
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
