// GraftCommand: the `graft` command line's root and its shared error reporting.

import Graft
import ArgumentParser
import Foundation

@main
struct GraftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Graft: a graph compiler for machine learning, with BYOL as its flagship model.",
        subcommands: [ModelsCommand.self, DumpCommand.self, OptCommand.self, BenchCommand.self, TrainCommand.self, EvalCommand.self, ExportCommand.self, PlotCommand.self])
}

/// Writes a user-facing error to stderr and exits non-zero, instead of a stack trace.
func exitWithDiagnostic(_ error: Error) -> Never {
    let text = (error as? Diagnostic)?.description ?? "error: \(error)"
    FileHandle.standardError.write(Data((text + "\n").utf8))
    exit(1)
}

/// Output formats of `dump` and `opt`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, dot
}

/// Options that control how a graph is printed.
struct PrintOptions: ParsableArguments {
    @Flag(name: .long, help: "Print each statement's source location as loc(\"file\":line).")
    var printLoc = false

    @Option(name: .long, help: "Output format: text (the IR text form) or dot (Graphviz).")
    var format: OutputFormat = .text

    func render(_ graph: Graph) -> String {
        switch format {
        case .text: Printer(printLocations: printLoc).print(graph)
        case .dot: DotPrinter().print(graph)
        }
    }
}
