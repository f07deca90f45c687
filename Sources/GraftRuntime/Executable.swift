// Executable: a compiled step: fused kernels, a memory plan and the params/state it owns.

import Foundation
import GraftIR
import GraftPasses
import GraftBackend

/// A graph compiled to native code: `run(_:)` evaluates it on inputs, keeps its params and
/// state between runs, and applies the step's assigns to them in place.
///
/// ```swift
/// let step = try Executable(graph)                 // fuse, plan memory, JIT-compile
/// try step.setVariables(initialValues)
/// let loss = try step.run(["view1": v1, "view2": v2, "learning_rate": lr, "tau": tau])[0]
/// ```
public final class Executable: @unchecked Sendable {
    public let graph: Graph
    public let plan: FusionPlan
    public let memory: MemoryPlan
    public let kernels: CompiledKernels
    /// What runs each kernel of the plan, in order.
    let calls: [KernelCall]
    /// Seconds spent fusing, planning and compiling.
    public let compileSeconds: Double
    /// Fill the arena with NaN before each run, so that a value a kernel fails to write shows
    /// up in the results (for tests).
    public var poisonsArena = false
    /// Time each kernel (`kernelSeconds`), for `graft bench --profile`.
    public var profiles = false
    /// Seconds spent in each kernel over the runs made while `profiles` was set.
    public private(set) var kernelSeconds: [Double] = []
    /// The group `all_reduce` combines values across: this process alone by default.
    public var communicator: any Communicator = SingleProcess()

    let workers: WorkerPool
    private let arena: UnsafeMutableRawPointer
    private var storage: [String: UnsafeMutablePointer<Float>] = [:]
    private(set) var pointers: [UnsafeMutablePointer<Float>?]
    private var arguments: [UnsafeMutablePointer<UnsafeMutablePointer<Float>>?]
    let scratch: [UnsafeMutablePointer<Float>]     // per worker: a patch matrix, or a Winograd image's tiles
    let transformedFilter: UnsafeMutablePointer<Float>   // a Winograd convolution's filter, G g Gᵀ
    let partials: [UnsafeMutablePointer<Float>]    // per group of images: a filter gradient (or its Winograd transform)
    private var blasThreads = -1
    /// All-reduces that run in the background (`Communicator.startAllReduce`): those whose
    /// first reader is not the next kernel (a gradient bucket, read by the optimizer while
    /// the backward pass goes on), by kernel index; and which of them to finish before each
    /// kernel (an index past the last kernel: before the outputs are read).
    private let inBackground: Set<Int>
    private let finishBefore: [Int: [Int]]
    private var pending: [Int: PendingAllReduce] = [:]

    /// Compiles `graph` into `cache` (the process's shared one by default), using `threads` workers.
    public init(_ graph: Graph, cache: KernelCache? = nil, threads: Int = 2) throws {
        let start = Date()
        try Verifier.verify(graph)
        if let empty = graph.nodes.first(where: { $0.type.shape.contains(0) }) {
            let what = empty.op.declaredName.map { "'\($0)'" } ?? "a value of \(empty.op.name)"
            throw Diagnostic("@\(graph.name): \(what) is an empty tensor (\(empty.type)); compiled graphs hold no empty tensors (the interpreter does), so give every dimension a size of at least 1",
                             at: empty.location)
        }
        self.graph = graph
        let lowered = try BackendPipeline.lower(graph, cache: cache ?? Executable.sharedCache())
        (plan, memory, kernels, calls) = (lowered.plan, lowered.memory, lowered.kernels, lowered.calls)
        workers = WorkerPool(count: Swift.max(1, threads))
        let variableBytes = MemoryBudget.total(graph.nodes.filter(\.op.isVariable).map { MemoryBudget.bytes(of: $0.type) })
        try MemoryBudget.check(MemoryBudget.total([memory.peakBytes, variableBytes]),
                               for: "@\(graph.name) (a memory plan of \(MemoryBudget.describe(memory.peakBytes)) and \(MemoryBudget.describe(variableBytes)) of params and state)")

        arena = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(memory.peakBytes, MemoryPlan.alignment), alignment: MemoryPlan.alignment)
        pointers = [UnsafeMutablePointer<Float>?](repeating: nil, count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() {
            if node.op.isVariable, let name = node.op.declaredName {
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(node.type.elementCount, 1))
                buffer.initialize(repeating: 0, count: Swift.max(node.type.elementCount, 1))
                storage[name] = buffer
                pointers[id] = buffer
            } else if let offset = memory.offsets[id] {
                pointers[id] = (arena + offset).assumingMemoryBound(to: Float.self)
            }
        }
        arguments = []
        for kernel in plan.kernels {
            let table = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: kernel.outputs.count + kernel.inputs.count)
            for (position, value) in (kernel.outputs + kernel.inputs).enumerated() {
                guard let pointer = pointers[value] else { fatalError("Executable: \(value) has no buffer") }
                table[position] = pointer
            }
            arguments.append(table)
        }
        var patchFloats = 1, filterFloats = 1, transformedFilterFloats = 1
        for case .convolution(let call) in calls {
            if let winograd = call.winograd?.convolution {
                patchFloats = Swift.max(patchFloats, winograd.scratchFloats)
                transformedFilterFloats = Swift.max(transformedFilterFloats, winograd.filterFloats)
            } else if let gradient = call.winogradFilterGradient?.gradient {
                patchFloats = Swift.max(patchFloats, gradient.scratchFloats)
                filterFloats = Swift.max(filterFloats, gradient.sumFloats)
            } else {
                patchFloats = Swift.max(patchFloats, call.geometry.patchSize * call.geometry.outputPixels)
            }
            filterFloats = Swift.max(filterFloats, call.geometry.outputChannels * call.geometry.patchSize)
        }
        finishBefore = Executable.backgroundCollectives(plan, calls)
        inBackground = Set(finishBefore.values.joined())
        scratch = (0..<workers.count).map { _ in .allocate(capacity: patchFloats) }
        partials = (0..<Swift.max(workers.count, Executable.filterGradientGroups)).map { _ in .allocate(capacity: filterFloats) }
        transformedFilter = .allocate(capacity: transformedFilterFloats)
        compileSeconds = Date().timeIntervalSince(start)
    }

    deinit {
        arena.deallocate()
        for buffer in storage.values { buffer.deallocate() }
        for table in arguments { table?.deallocate() }
        for buffer in scratch + partials + [transformedFilter] { buffer.deallocate() }
    }

    /// The all-reduce kernels of `plan` that can run while other kernels do (their first reader
    /// is not the next kernel), listed under the kernel before which each must be finished.
    static func backgroundCollectives(_ plan: FusionPlan, _ calls: [KernelCall]) -> [Int: [Int]] {
        var finishBefore: [Int: [Int]] = [:]
        for (index, call) in calls.enumerated() {
            guard case .allReduce(_, _, _, let result) = call else { continue }
            let reader = plan.kernels.indices.first { $0 > index && plan.kernels[$0].inputs.contains(result) } ?? plan.kernels.count
            if reader > index + 1 { finishBefore[reader, default: []].append(index) }
        }
        return finishBefore
    }

    nonisolated(unsafe) private static var cache: KernelCache?
    private static let cacheLock = NSLock()

    /// One JIT and kernel cache for the process: kernels of every executable live in it.
    public static func sharedCache() throws -> KernelCache {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cache { return cache }
        let created = KernelCache(jit: try LLVMJIT())
        cache = created
        return created
    }

    // MARK: Params and state

    /// Names of the params and state the executable owns.
    public var variableNames: [String] { storage.keys.sorted() }

    /// The current value of a param or state.
    public func variable(_ name: String) -> HostTensor? {
        guard let id = graph.declaration(named: name), let buffer = storage[name] else { return nil }
        let type = graph[id].type
        return HostTensor(type, Array(UnsafeBufferPointer(start: buffer, count: type.elementCount)))
    }

    /// Sets a param or state.
    /// - Throws: a `Diagnostic` if the graph has no such variable or the value's type differs.
    public func setVariable(_ name: String, _ value: HostTensor) throws {
        guard let id = graph.declaration(named: name), let buffer = storage[name] else {
            throw Diagnostic("no param or state named '\(name)' in @\(graph.name)")
        }
        guard graph[id].type == value.type, value.scalars.count == value.type.elementCount else {
            throw Diagnostic("'\(name)' is \(graph[id].type) but the value given is \(value.type)")
        }
        value.scalars.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Sets every param and state in `values` that the graph declares; the rest are ignored.
    public func setVariables(_ values: [String: HostTensor]) throws {
        for (name, value) in values where storage[name] != nil { try setVariable(name, value) }
    }

    /// Every param and state, by name.
    public var variables: [String: HostTensor] {
        Dictionary(uniqueKeysWithValues: variableNames.map { ($0, variable($0)!) })
    }

    // MARK: Running

    /// Runs the graph once on `inputs` (by input name) and returns its outputs; the step's
    /// assigns update the params and state.
    public func run(_ inputs: [String: HostTensor]) throws -> [HostTensor] {
        if poisonsArena {
            let floats = memory.peakBytes / 4
            arena.assumingMemoryBound(to: Float.self).initialize(repeating: .nan, count: floats)
        }
        try checkInputs(inputs)
        for id in graph.inputs {
            guard case .input(let name) = graph[id].op else { continue }
            inputs[name]!.scalars.withUnsafeBufferPointer { pointers[id]!.update(from: $0.baseAddress!, count: $0.count) }
        }
        if profiles {
            if kernelSeconds.count != plan.kernels.count { kernelSeconds = [Double](repeating: 0, count: plan.kernels.count) }
            for index in plan.kernels.indices {
                finishCollectives(before: index)
                let start = DispatchTime.now().uptimeNanoseconds
                execute(index)
                kernelSeconds[index] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
        } else {
            for index in plan.kernels.indices {
                finishCollectives(before: index)
                execute(index)
            }
        }
        finishCollectives(before: plan.kernels.count)
        let outputs = graph.outputs.map { id in
            HostTensor(graph[id].type, Array(UnsafeBufferPointer(start: pointers[id]!, count: graph[id].type.elementCount)))
        }
        applyAssigns()
        return outputs
    }

    /// Checks that `inputs` gives every input of the graph a value of its type.
    /// - Throws: a `Diagnostic` naming the input that is missing or of another type.
    public func checkInputs(_ inputs: [String: HostTensor]) throws {
        for id in graph.inputs {
            guard case .input(let name) = graph[id].op else { continue }
            let type = graph[id].type
            guard let value = inputs[name] else {
                throw Diagnostic("no value was given for input %\(name) of type \(type)")
            }
            guard value.type == type, value.scalars.count == type.elementCount else {
                throw Diagnostic("input %\(name) is \(type) but the value given is \(value.type)")
            }
        }
    }

    /// Finishes the background all-reduces kernel `index` reads (in profiles, their waiting
    /// counts as the all-reduce's time).
    private func finishCollectives(before index: Int) {
        guard let collectives = finishBefore[index] else { return }
        for collective in collectives {
            let start = profiles ? DispatchTime.now().uptimeNanoseconds : 0
            communicator.finish(pending.removeValue(forKey: collective)!)
            if profiles { kernelSeconds[collective] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
    }

    private func applyAssigns() {
        // A value read straight from a variable that is itself assigned must be read first.
        var staged: [(target: UnsafeMutablePointer<Float>, values: [Float])] = []
        for assign in graph.assigns {
            guard let target = storage[assign.name] else { continue }
            let count = graph[assign.value].type.elementCount
            staged.append((target, Array(UnsafeBufferPointer(start: pointers[assign.value]!, count: count))))
        }
        for (target, values) in staged {
            values.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    private func useBLASThreads(_ count: Int) {
        if blasThreads != count {
            BLAS.setThreadCount(count)
            blasThreads = count
        }
    }

    private func execute(_ index: Int) {
        switch calls[index] {
        case .loop(let function, let kernel, let elements, let work):
            guard let table = arguments[kernel] else { return }
            if work < 32_768 || elements < workers.count {
                function(table, 0, Int64(elements))
            } else {
                let shared = SharedPointer(table)
                let pool = workers
                pool.run { worker in
                    let range = pool.share(of: elements, worker: worker)
                    function(shared.pointer, Int64(range.lowerBound), Int64(range.upperBound))
                }
            }
        case .matrixProduct(let g, let a, let b, let c):
            useBLASThreads(workers.count)
            BLAS.sgemm(transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k, alpha: 1,
                       a: pointers[a]!, lda: g.lda, b: pointers[b]!, ldb: g.ldb, beta: 0, c: pointers[c]!, ldc: g.n)
        case .convolution(let call):
            useBLASThreads(1)
            convolve(call)
        case .scatterAdd(let rows, let columns, let count, let indices, let updates, let result):
            Executable.scatterAdd(rows: rows, columns: columns, count: count,
                                  indices: pointers[indices]!, updates: pointers[updates]!, into: pointers[result]!)
        case .allReduce(let reduction, let count, let operand, let result):
            pointers[result]!.update(from: pointers[operand]!, count: count)
            if inBackground.contains(index) {
                pending[index] = communicator.startAllReduce(pointers[result]!, count: count, reduction)
            } else {
                communicator.allReduce(pointers[result]!, count: count, reduction)
            }
        }
    }
}
