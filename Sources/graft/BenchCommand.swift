// BenchCommand: `graft bench <model>` times the compiled training step against the sgemm ceiling
// and against the machine's fp32 FMA peak.

import Graft
import ArgumentParser
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time a model's compiled training step and compare it with the sgemm ceiling and the FMA peak of this machine.")

    @Argument(help: "The model to benchmark (see `graft models`).")
    var model: String

    @Option(name: .long, parsing: .unconditional, help: "Timed steps after two warm-up steps.")
    var steps: Int = 10

    @Option(name: .long, parsing: .unconditional, help: "Batch size (default: the model's reference batch size; at most \(TrainingOptions.limits.batchSize)).")
    var batchSize: Int?

    @Option(name: .long, parsing: .unconditional, help: "Worker threads (and BLAS threads for the ceiling) (default: 2; under mpirun, the cores divided among the ranks on this machine).")
    var threads: Int?

    @Option(name: .long, parsing: .unconditional, help: "Data-parallel replicas in this process, each on its share of the batch and of the threads, joined by all-reduces (default: one per thread when the batch splits evenly, as graft train runs; 1 under mpirun).")
    var replicas: Int?

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(name: .long, help: "Also time every kernel and print where the step's time goes.")
    var profile = false

    func validate() throws {
        guard ModelCatalog.model(named: model) != nil else {
            throw ValidationError("unknown model '\(model)'; the declared models are: \(ModelCatalog.all.map(\.name).joined(separator: ", "))")
        }
        guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be between 1 and 100000, got \(steps)") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        if let replicas, !(1...256).contains(replicas) { throw ValidationError("--replicas must be between 1 and 256, got \(replicas)") }
        if let batchSize, !(1...TrainingOptions.limits.batchSize).contains(batchSize) {
            throw ValidationError("--batch-size must be between 1 and \(TrainingOptions.limits.batchSize), got \(batchSize)")
        }
    }

    func run() throws {
        var entry = ModelCatalog.model(named: model)!
        do {
            // Under mpirun, each rank times one replica's step of the global batch (cross-replica
            // statistics, gradients all-reduced); rank 0 prints.
            let group = try MPICommunicator.fromEnvironment()
            let ranks = group?.size ?? 1
            let globalBatch = batchSize ?? entry.defaultBatchSize
            try entry.checkSplit(into: ranks)
            if ranks > 1 {
                guard globalBatch % ranks == 0 else {
                    throw Diagnostic("the batch of \(globalBatch) does not split evenly across \(ranks) ranks; give a --batch-size that is a multiple of \(ranks)")
                }
                entry.pipeline.dataParallelism = .crossReplica(replicas: ranks)
            }
            let threads = self.threads ?? (ranks > 1 ? group!.threadsPerRank : 2)
            let replicas = self.replicas ?? (ranks == 1 && entry.splitsAcrossReplicas ? LocalReplicas.perThread(batch: globalBatch, threads: threads) : 1)
            try entry.checkSplit(into: replicas)
            if replicas > 1 {
                guard ranks == 1 else { throw Diagnostic("--replicas splits one process's batch; under mpirun each rank is a replica already, so leave --replicas out") }
                guard globalBatch % replicas == 0 else {
                    throw Diagnostic("the batch of \(globalBatch) does not split evenly across \(replicas) replicas; give a --batch-size that is a multiple of \(replicas)")
                }
                guard threads % replicas == 0 else {
                    throw Diagnostic("\(threads) threads do not split evenly across \(replicas) replicas; give --threads as a multiple of --replicas")
                }
                entry.pipeline.dataParallelism = .crossReplica(replicas: replicas)
            }
            let shards = ranks * replicas
            let compileStart = Date()
            let graph = try entry.compile(batchSize: globalBatch / shards, seed: 0, stage: .optimized)
            let local = try LocalReplicas(graph, replicas: replicas, threadsPerReplica: threads / replicas)
            let executable = local.executables[0]
            if let group { executable.communicator = group }
            let compileSeconds = Date().timeIntervalSince(compileStart)
            for replica in local.executables { try replica.setVariables(graph.initialValues(seed: 0)) }
            let inputs = [[String: HostTensor]](repeating: benchmarkInputs(graph), count: replicas)

            for _ in 0..<2 { _ = try local.run(inputs) }
            var times: [Double] = []
            for _ in 0..<steps {
                let start = Date()
                _ = try local.run(inputs)
                times.append(Date().timeIntervalSince(start))
            }
            times.sort()
            if profile {
                executable.profiles = true
                for _ in 0..<steps { _ = try local.run(inputs) }
                if (group?.rank ?? 0) == 0 { printProfile(executable, steps: steps) }
            }
            guard (group?.rank ?? 0) == 0 else { return }
            let median = times[times.count / 2]
            let batch = graph[graph.inputs[0]].type.shape[0] * shards
            let flops = StepCost.contractionFLOPs(graph) * Double(shards)
            let stepGFLOPS = flops / median / 1e9
            // Under mpirun the yardsticks are the job's: one rank's figure (measured while the
            // others have stopped) times the ranks, the step's rate being the global batch's.
            BLAS.setThreadCount(threads)
            let sgemm = BLAS.measureSGEMM(size: 1024, repetitions: 10) * Double(ranks)
            let peak = try FMAPeak.measure(threads: threads) * Double(ranks)
            let peakSingleThread = threads == 1 && ranks == 1 ? peak : try FMAPeak.measure(threads: 1)
            let figures: [(String, Any)] = [
                ("model", model), ("batch_size", batch), ("ranks", ranks), ("replicas", replicas), ("threads", threads),
                ("step_seconds", median), ("step_seconds_mean", times.reduce(0, +) / Double(steps)),
                ("images_per_second", Double(batch) / median),
                ("step_gflop", flops / 1e9), ("step_gflops", stepGFLOPS), ("sgemm_gflops", sgemm),
                ("ceiling_share", stepGFLOPS / sgemm), ("peak_gflops", peak), ("peak_share", stepGFLOPS / peak),
                ("peak_gflops_1_thread", peakSingleThread), ("compile_seconds", compileSeconds),
                ("peak_bytes", executable.memory.peakBytes), ("blas_core", BLAS.coreName),
                ("kernels", executable.plan.kernels.count), ("distinct_functions", executable.kernels.distinctFunctions),
            ]
            if json {
                let object = Dictionary(uniqueKeysWithValues: figures.map { ($0.0, $0.1) })
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for (key, value) in figures {
                    let text = (value as? Double).map { String(format: $0 < 0.01 ? "%.3g" : "%.3f", $0) } ?? "\(value)"
                    print("\(key.padding(toLength: 20, withPad: " ", startingAt: 0)) \(text)")
                }
            }
        } catch {
            exitWithDiagnostic(error)
        }
    }

    /// Time per kernel kind and the slowest kernels, per step.
    func printProfile(_ executable: Executable, steps: Int) {
        let graph = executable.graph
        var byKind: [String: Double] = [:]
        for (index, kernel) in executable.plan.kernels.enumerated() {
            byKind[graph[kernel.root].op.name + (kernel.kind == .contraction ? "" : " (\(kernel.kind))"), default: 0] += executable.kernelSeconds[index] / Double(steps)
        }
        print("time per step by root op:")
        for (kind, seconds) in byKind.sorted(by: { $0.value > $1.value }).prefix(15) {
            print("  \(String(format: "%8.2f ms", seconds * 1000))  \(kind)")
        }
        // Contractions by what they compute (op, operand and result types): a model repeats
        // its layers, so this says which geometry the time goes to.
        var byShape: [String: (seconds: Double, count: Int)] = [:]
        for (index, kernel) in executable.plan.kernels.enumerated() where kernel.kind == .contraction {
            let node = graph[kernel.root]
            let key = "\(node.op.name) \(node.operands.map { "\(graph[$0].type)" }.joined(separator: ", ")) -> \(node.type)"
            byShape[key, default: (0, 0)].seconds += executable.kernelSeconds[index] / Double(steps)
            byShape[key, default: (0, 0)].count += 1
        }
        print("contractions by geometry (time per step, kernels):")
        for (key, entry) in byShape.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            print("  \(String(format: "%8.2f ms", entry.seconds * 1000))  \(entry.count)×  \(key)")
        }
        print("slowest kernels:")
        let names = Printer.valueNames(graph)
        for index in executable.kernelSeconds.indices.sorted(by: { executable.kernelSeconds[$0] > executable.kernelSeconds[$1] }).prefix(12) {
            let kernel = executable.plan.kernels[index]
            print("  \(String(format: "%8.2f ms", executable.kernelSeconds[index] / Double(steps) * 1000))  #\(index) \(graph[kernel.root].op.name) -> \(names[kernel.root]) : \(graph[kernel.root].type), \(kernel.body.count) ops")
        }
        // Loop kernels read and write memory more than they compute: their bandwidth (bytes of
        // their inputs and output over their time) says how far each is from the machine's.
        print("slowest loop kernels (elementwise and reductions), with the bandwidth they reach:")
        let loops = executable.plan.kernels.indices.filter { executable.plan.kernels[$0].kind != .contraction }
        for index in loops.sorted(by: { executable.kernelSeconds[$0] > executable.kernelSeconds[$1] }).prefix(12) {
            let kernel = executable.plan.kernels[index]
            let seconds = executable.kernelSeconds[index] / Double(steps)
            let bytes = (kernel.inputs + kernel.outputs).map { graph[$0].type.elementCount * 4 }.reduce(0, +)
            print("  \(String(format: "%8.2f ms %6.1f GB/s", seconds * 1000, Double(bytes) / Swift.max(seconds, 1e-12) / 1e9))  #\(index) \(kernel.kind) \(graph[kernel.root].op.name) -> \(kernel.outputs.map { names[$0] }.joined(separator: ", ")) : \(graph[kernel.root].type), reads \(kernel.inputs.count) buffers, \(kernel.body.count) ops")
        }
    }

    /// Views of uniform pixels, BYOL-like learning rate and τ, labels in range.
    func benchmarkInputs(_ graph: Graph) -> [String: HostTensor] {
        var generator = SplitMix64(seed: 1)
        var inputs: [String: HostTensor] = [:]
        for id in graph.inputs {
            guard case .input(let name) = graph[id].op else { continue }
            let type = graph[id].type
            switch name {
            case "learning_rate": inputs[name] = HostTensor(scalar: 0.2)
            case "tau": inputs[name] = HostTensor(scalar: 0.99)
            case "step": inputs[name] = HostTensor(scalar: 1)
            default:
                let classes: Float = 10
                inputs[name] = HostTensor(type, (0..<type.elementCount).map { _ in
                    type.dtype == .i32 ? Float(Int(generator.nextUnit() * Double(classes))) : Float(generator.nextUnit())
                })
            }
        }
        return inputs
    }
}
