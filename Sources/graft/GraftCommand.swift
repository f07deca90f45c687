// GraftCommand: the `graft` command line's root and its shared error reporting.

import Graft
import ArgumentParser
import Foundation

@main
struct GraftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Graft: a graph compiler for machine learning, with BYOL as its flagship model.",
        subcommands: [ModelsCommand.self, DumpCommand.self, OptCommand.self, BenchCommand.self, TrainCommand.self, EvalCommand.self, ExportCommand.self, PlotCommand.self,
                      RunCommand.self])
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

/// The IR text in `file` ('-': standard input).
/// - Throws: a `Diagnostic` naming the file if it cannot be read or is not UTF-8 text.
func readIRText(_ file: String) throws -> String {
    if file == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
          let data = FileManager.default.contents(atPath: file) else {
        throw Diagnostic("cannot read '\(file)': no such file, a directory, or not readable; pass an IR text file (`graft dump MODEL --stage traced > model.gir` writes one)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw Diagnostic("'\(file)' is not UTF-8 text; graft reads the IR text form (Docs/IR.md)")
    }
    return text
}

/// Checks, before any work starts, that `path` can be written as a file: not a directory,
/// in an existing, writable directory.
func validateWritableFile(_ path: String, flag: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ValidationError("\(flag) '\(path)' is a directory; give a file name inside it")
    }
    let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
    guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("\(flag) '\(path)': the directory '\(parent)' does not exist; create it first")
    }
    guard FileManager.default.isWritableFile(atPath: parent) else {
        throw ValidationError("\(flag) '\(path)': the directory '\(parent)' is not writable")
    }
}
