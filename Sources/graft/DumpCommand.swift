// DumpCommand: `graft dump <model|file.gir> --stage S` prints a declared model's IR, or that of
// a forward graph in IR text, at a compilation stage.

import Graft
import ArgumentParser
import Foundation

extension CompilationStage: ExpressibleByArgument {}
extension BackendStage: ExpressibleByArgument {}
extension TargetUpdate: ExpressibleByArgument {}

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print a declared model's IR, or an IR file's, at a compilation stage.",
        discussion: """
            An IR text file is read as a forward graph whose output 0 is the loss (as `--stage traced` \
            prints one) and compiled with --target and --optimizer (the settings of `graft opt`'s \
            passes). To lower a graph that is already a whole step, use `graft opt FILE --stage …`.
            """)

    @Argument(help: "A declared model (see `graft models`), or an IR text file ('-' reads standard input).")
    var model: String

    @Option(name: .long, help: "For an IR file: the optimizer rewrite, one of \(DumpCommand.optimizers.joined(separator: ", ")).")
    var optimizer: String?

    @Option(name: .long, help: "For an IR file: the target network, one of \(TargetUpdate.allCases.map(\.rawValue).joined(separator: ", ")).")
    var target: TargetUpdate?

    /// The optimizer passes `--optimizer` names.
    static let optimizers = ["sgd", "lars", "adamw"]

    /// A catalog model's entry, or nil when `model` names a file.
    var entry: ModelEntry? { ModelCatalog.model(named: model) }

    @Option(name: .long, help: "The stage to print: \(CompilationStage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: CompilationStage = .traced

    @Flag(name: .long, help: "Print the IR after every pass up to the stage, each after a `// ----- IR after <pass> ----- //` header.")
    var afterAll = false

    @Option(name: .long, parsing: .unconditional, help: "Batch size (default: the model's reference batch size; at most \(TrainingOptions.limits.batchSize)).")
    var batchSize: Int?

    @Option(name: .long, parsing: .unconditional, help: "Seed for parameter initialisation.")
    var seed: UInt64?

    @OptionGroup var printing: PrintOptions

    @Flag(name: .long, help: "With --stage fused --format dot: list every op of each kernel as `%name = op : type` (by default the first few ops and a count).")
    var dotDetail = false

    @Option(name: .long, help: "Print one replica's step of data-parallel training over N replicas (a declared model's batch divided by N, cross-replica statistics, gradients averaged).")
    var replicas: Int?

    func validate() throws {
        if entry == nil {
            guard model == "-" || FileManager.default.fileExists(atPath: model) else {
                throw ValidationError("unknown model '\(model)' and no such file; the declared models are: \(ModelCatalog.all.map(\.name).joined(separator: ", ")) (see `graft models`), or give an IR text file")
            }
            if batchSize != nil || seed != nil {
                throw ValidationError("--batch-size and --seed apply to declared models; an IR file's shapes are in its text and its params are drawn when it runs")
            }
            if let optimizer, !DumpCommand.optimizers.contains(optimizer) {
                throw ValidationError("unknown optimizer '\(optimizer)'; give one of \(DumpCommand.optimizers.joined(separator: ", "))")
            }
        } else if optimizer != nil || target != nil {
            throw ValidationError("--optimizer and --target apply to IR files; '\(model)' is a declared model with its own pipeline (see `graft models`)")
        }
        if let batchSize, !(1...TrainingOptions.limits.batchSize).contains(batchSize) {
            throw ValidationError("--batch-size must be between 1 and \(TrainingOptions.limits.batchSize), got \(batchSize)")
        }
        if let replicas {
            guard replicas >= 1, replicas <= 4096 else { throw ValidationError("--replicas must be between 1 and 4096, got \(replicas)") }
            if let entry, (batchSize ?? entry.defaultBatchSize) % replicas != 0 {
                throw ValidationError("--replicas \(replicas) does not divide the batch size \(batchSize ?? entry.defaultBatchSize); give a batch size that is a multiple of it")
            }
        }
        if dotDetail && (stage != .fused || printing.format != .dot) {
            throw ValidationError("--dot-detail applies to the fused DOT picture only; add --stage fused --format dot")
        }
    }

    func run() throws {
        var irText = ""
        do {
            if entry == nil { irText = try readIRText(model) }
            let pipelineStage = afterAll && stage == .traced ? PipelineStage.optimized : stage.passStage
            let (start, pipeline) = try source(irText: irText)
            if afterAll {
                print(PassManager.header(after: entry == nil ? "parse" : "trace"))
                print(printing.render(start), terminator: "")
            }
            var graph = start
            try pipeline.run(&graph, until: pipelineStage) { pass, graph in
                guard afterAll else { return }
                print(PassManager.header(after: pass))
                print(printing.render(graph), terminator: "")
            }
            if let backendStage = stage.backendStage {
                print(try BackendPipeline.text(of: graph, at: backendStage, printLocations: printing.printLoc,
                                               dot: printing.format == .dot, dotDetail: dotDetail), terminator: "")
            } else if !afterAll {
                print(printing.render(graph), terminator: "")
            }
        } catch {
            exitWithDiagnostic(entry == nil ? locate(error, inIRFile: model, text: irText) : error)
        }
    }

    /// The graph to start from (traced or parsed) and the pipeline that compiles it.
    private func source(irText: String) throws -> (Graph, TrainingPipeline) {
        let parallelism: DataParallelism = replicas.map { .crossReplica(replicas: $0) } ?? .none
        if var entry {
            entry.pipeline.dataParallelism = parallelism
            return (try entry.trace((batchSize ?? entry.defaultBatchSize) / (replicas ?? 1), seed ?? 0).graph, entry.pipeline)
        }
        // An IR file's shapes are already one replica's.
        let graph = try Parser.parse(irText, file: model == "-" ? "<stdin>" : model)
        return (graph, TrainingPipeline(target: target ?? .none, optimizer: PassRegistry.all[optimizer ?? "sgd"]!, dataParallelism: parallelism))
    }
}

