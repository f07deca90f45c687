// MemoryPlan: static offsets for every buffer of a fused step in one arena, reusing memory
// whose value is dead.
//
// Each materialized value lives from the kernel that writes it (graph inputs: from the start)
// to the last kernel that reads it (outputs and assigned values: to the end of the step).
// Kernels are visited in order; before a kernel runs its output gets a block (best fit among
// the free blocks, else the top of the arena grows), and after it runs the blocks of values it
// read for the last time are freed and merged with free neighbours. A kernel's output never
// shares memory with its own inputs. Params and state are not in the arena: they persist
// between steps in their own storage, and assigns write into it after the step.

import GraftIR

/// Where each buffer of a fused step lives in the arena, and the arena's size.
public struct MemoryPlan: Sendable {
    /// Byte offset of each value's buffer in the arena (nil: not in the arena).
    public var offsets: [Int?]
    /// Bytes each arena value needs (4 bytes an element, every dtype, 64-byte aligned).
    public var sizes: [Int]
    /// The arena's size in bytes: the peak of live buffers, with fragmentation.
    public var peakBytes: Int
    /// What the arena would need without reuse (every buffer its own memory).
    public var totalBytes: Int

    public static let alignment = 64

    public init(_ plan: FusionPlan) {
        let graph = plan.graph
        let count = graph.nodes.count
        let sizes = graph.nodes.map { MemoryPlan.align($0.type.elementCount * 4) }
        var offsets = [Int?](repeating: nil, count: count)

        // Live ranges in kernel positions.
        let end = plan.kernels.count
        var lastUse = [Int](repeating: -1, count: count)
        for (position, kernel) in plan.kernels.enumerated() {
            for input in kernel.inputs { lastUse[input] = Swift.max(lastUse[input], position) }
        }
        for output in graph.outputs { lastUse[output] = end }
        for assign in graph.assigns { lastUse[assign.value] = end }

        var free: [(offset: Int, size: Int)] = []
        var top = 0
        func allocate(_ value: ValueID) {
            let size = sizes[value]
            if let best = free.indices.filter({ free[$0].size >= size }).min(by: { free[$0].size < free[$1].size }) {
                let block = free.remove(at: best)
                offsets[value] = block.offset
                if block.size > size { free.append((block.offset + size, block.size - size)) }
            } else {
                // Grow from the top, absorbing a free block that ends there.
                if let last = free.firstIndex(where: { $0.offset + $0.size == top }) {
                    let block = free.remove(at: last)
                    offsets[value] = block.offset
                    top = block.offset + size
                } else {
                    offsets[value] = top
                    top += size
                }
            }
        }
        func release(_ value: ValueID) {
            guard let offset = offsets[value] else { return }
            free.append((offset, sizes[value]))
            free.sort { $0.offset < $1.offset }
            var merged: [(offset: Int, size: Int)] = []
            for block in free {
                if let last = merged.last, last.offset + last.size == block.offset {
                    merged[merged.count - 1].size += block.size
                } else {
                    merged.append(block)
                }
            }
            if let last = merged.last, last.offset + last.size == top {
                top = last.offset
                merged.removeLast()
            }
            free = merged
        }

        var peak = 0
        for id in graph.inputs {
            allocate(id)
            peak = Swift.max(peak, top)
        }
        for (position, kernel) in plan.kernels.enumerated() {
            for output in kernel.outputs { allocate(output) }
            peak = Swift.max(peak, top)
            for input in Set(kernel.inputs) where lastUse[input] == position && offsets[input] != nil {
                if case .input = graph[input].op { continue }   // inputs stay: callers may read them back
                release(input)
            }
            for output in kernel.outputs where lastUse[output] < position || lastUse[output] == -1 { release(output) }
        }
        self.sizes = sizes
        self.offsets = offsets
        peakBytes = peak
        totalBytes = graph.nodes.indices.filter { offsets[$0] != nil }.map { sizes[$0] }.reduce(0, +)
    }

    static func align(_ bytes: Int) -> Int { (bytes + alignment - 1) / alignment * alignment }

    /// The plan as text (`graft dump --stage planned`): each buffer's offset and size, the peak.
    public func describe(_ plan: FusionPlan) -> String {
        let names = Printer.valueNames(plan.graph)
        var lines = ["memory plan @\(plan.graph.name): arena peak \(peakBytes) bytes (\(MemoryPlan.megabytes(peakBytes))), \(MemoryPlan.megabytes(totalBytes)) without reuse"]
        let arenaValues = plan.graph.nodes.indices.filter { offsets[$0] != nil }.sorted { offsets[$0]! < offsets[$1]! || (offsets[$0]! == offsets[$1]! && $0 < $1) }
        for value in arenaValues {
            lines.append("  \(names[value]) : \(plan.graph[value].type)  offset \(offsets[value]!)  size \(sizes[value])")
        }
        let variables = plan.graph.params + plan.graph.states
        let variableBytes = variables.map { plan.graph[$0].type.elementCount * 4 }.reduce(0, +)
        lines.append("params and state: \(variables.count) values, \(variableBytes) bytes (\(MemoryPlan.megabytes(variableBytes))), updated in place by the step's assigns")
        return lines.joined(separator: "\n") + "\n"
    }

    static func megabytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1_048_576
        return value < 10 ? "\(Double(Int(value * 100)) / 100) MiB" : "\(Int(value.rounded())) MiB"
    }
}
