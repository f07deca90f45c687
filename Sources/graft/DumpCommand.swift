// DumpCommand: `graft dump <model> --stage S` prints a declared model's IR at a stage.

import Graft
import ArgumentParser

extension CompilationStage: ExpressibleByArgument {}
extension BackendStage: ExpressibleByArgument {}

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print a declared model's IR at a compilation stage.")

    @Argument(help: "The model to dump (see `graft models`).")
    var model: String

    @Option(name: .long, help: "The stage to print: \(CompilationStage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: CompilationStage = .traced

    @Flag(name: .long, help: "Print the IR after every pass up to the stage, each after a `// ----- IR after <pass> ----- //` header.")
    var afterAll = false

    @Option(name: .long, help: "Batch size (default: the model's reference batch size).")
    var batchSize: Int?

    @Option(name: .long, help: "Seed for parameter initialisation.")
    var seed: UInt64 = 0

    @OptionGroup var printing: PrintOptions

    @Flag(name: .long, help: "With --stage fused --format dot: list every op of each kernel as `%name = op : type` (by default the first few ops and a count).")
    var dotDetail = false

    func validate() throws {
        guard ModelCatalog.model(named: model) != nil else {
            throw ValidationError("unknown model '\(model)'; the declared models are: \(ModelCatalog.all.map(\.name).joined(separator: ", ")) (see `graft models`)")
        }
        if let batchSize, batchSize < 1 {
            throw ValidationError("--batch-size must be at least 1, got \(batchSize)")
        }
        if dotDetail && (stage != .fused || printing.format != .dot) {
            throw ValidationError("--dot-detail applies to the fused DOT picture only; add --stage fused --format dot")
        }
    }

    func run() throws {
        let entry = ModelCatalog.model(named: model)!
        do {
            let pipelineStage = afterAll && stage == .traced ? PipelineStage.optimized : stage.passStage
            if afterAll {
                let traced = try entry.trace(batchSize ?? entry.defaultBatchSize, seed)
                print(PassManager.header(after: "trace"))
                print(printing.render(traced.graph), terminator: "")
            }
            let graph = try entry.compile(batchSize: batchSize, seed: seed, stage: pipelineStage) { pass, graph in
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
            exitWithDiagnostic(error)
        }
    }
}
