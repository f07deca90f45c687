// OptCommand: `graft opt <file.gir>` parses, verifies and prints IR text (like mlir-opt).

import Graft
import ArgumentParser
import Foundation

struct OptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt", abstract: "Parse and verify an IR text file, run passes on it, and print it (or lower it to a backend stage).")

    @Argument(help: "The IR text file to read; '-' reads standard input.")
    var file: String

    @Option(name: .long,
            help: "Comma-separated passes to run, in order: \(PassRegistry.spellings.joined(separator: ", ")).")
    var passes: String?

    @Flag(name: .long, help: "Print the IR after every pass.")
    var afterAll = false

    @Option(name: .long, help: "Lower the result further and print that stage instead: \(BackendStage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: BackendStage?

    @OptionGroup var printing: PrintOptions

    func validate() throws {
        for name in passNames { _ = try asValidation { try PassRegistry.pass(named: name) } }
    }

    var passNames: [String] {
        (passes ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        var text = ""
        do {
            text = try readIRText(file)
            var graph = try Parser.parse(text, file: file == "-" ? "<stdin>" : file)
            let manager = PassManager(try passNames.map(PassRegistry.pass(named:))) { pass, graph in
                guard afterAll else { return }
                print(PassManager.header(after: pass))
                print(printing.render(graph), terminator: "")
            }
            try manager.run(&graph)
            if let stage {
                print(try BackendPipeline.text(of: graph, at: stage, printLocations: printing.printLoc,
                                               dot: printing.format == .dot), terminator: "")
            } else if !afterAll || passNames.isEmpty {
                print(printing.render(graph), terminator: "")
            }
        } catch {
            exitWithDiagnostic(locate(error, inIRFile: file, text: text))
        }
    }
}
