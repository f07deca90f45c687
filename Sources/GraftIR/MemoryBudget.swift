// MemoryBudget: the check before any large allocation that a graph's types decide: the bytes,
// counted with overflow checks, must fit this machine's physical memory.

import Foundation

/// Refuses allocations larger than the machine's physical memory with a message giving both
/// sizes, instead of an allocation failure or a machine that swaps to a halt.
public enum MemoryBudget {
    /// The machine's physical memory in bytes.
    public static var physicalBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// Bytes of `count` values of `bytesPerValue` bytes each; `Int.max` when the product overflows.
    public static func bytes(_ count: Int, _ bytesPerValue: Int) -> Int {
        let (product, overflow) = count.multipliedReportingOverflow(by: bytesPerValue)
        return overflow ? .max : product
    }

    /// The sum of `sizes`, `Int.max` when it overflows.
    public static func total(_ sizes: some Sequence<Int>) -> Int {
        sizes.reduce(0) { sum, size in
            let (result, overflow) = sum.addingReportingOverflow(size)
            return overflow ? .max : result
        }
    }

    /// Bytes a value of `type` takes in memory (every element is held as a 4-byte float).
    public static func bytes(of type: TensorType) -> Int {
        guard let count = type.checkedElementCount else { return .max }
        return bytes(count, 4)
    }

    /// Throws unless `bytes` fits the machine's physical memory.
    /// - Parameter what: what needs the memory, for the message ("@g's memory plan").
    public static func check(_ bytes: Int, for what: String) throws {
        let available = physicalBytes
        guard bytes > available else { return }
        throw Diagnostic("\(what): \(describe(bytes)) of memory needed, more than this machine's \(describe(available))",
                         notes: ["make the graph smaller (a smaller batch size or smaller tensors)"])
    }

    /// `1.5 GiB`, `12.0 MiB`, `512 bytes`; `more than 8 EiB` for an overflowed count.
    public static func describe(_ bytes: Int) -> String {
        guard bytes < .max else { return "more than 8 EiB" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = -1
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit < 0 ? "\(bytes) bytes" : "\(String(format: "%.1f", value)) \(units[unit]) (\(bytes) bytes)"
    }
}

extension TensorType {
    /// The number of elements, or nil when the product of the dimensions overflows an `Int`.
    public var checkedElementCount: Int? {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
