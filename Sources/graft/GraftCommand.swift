// GraftCommand: the `graft` command line's root and its shared error reporting.

import Graft
import ArgumentParser
import Foundation

@main
struct GraftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Graft: a graph compiler for machine learning, with BYOL as its flagship model.",
        subcommands: [ModelsCommand.self, DumpCommand.self, OptCommand.self, BenchCommand.self, TrainCommand.self, EvalCommand.self, ExportCommand.self, PlotCommand.self, ExperimentCommand.self,
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
    let data: Data
    do {
        data = Data(try RegularFile.contents(of: file, what: "the IR file"))
    } catch let error as Diagnostic {
        throw Diagnostic(error.message, notes: ["pass an IR text file (`graft dump MODEL --stage traced > model.gir` writes one)"])
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw Diagnostic("'\(file)' is not UTF-8 text; graft reads the IR text form (Docs/IR.md)")
    }
    return text
}

/// `body`'s result; a `Diagnostic` it throws becomes a `ValidationError` with its text, for
/// checks of files in `validate()` (so they are reported like bad flags, before any work).
func asValidation<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as Diagnostic {
        throw ValidationError(([error.message] + error.notes.map { "note: \($0)" }).joined(separator: "\n"))
    }
}

/// Checks, before any work starts, that `path` can be written as a file: not a directory,
/// in an existing, writable directory.
func validateWritableFile(_ path: String, flag: String) throws {
    guard !path.isEmpty else { throw ValidationError("\(flag) is empty; give a file name") }
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

/// Checks, before any work starts, that `path` is a writable directory or can be created as
/// one: an existing path must be a directory; otherwise its nearest existing ancestor must be a
/// writable directory.
func validateOutputDirectory(_ path: String, flag: String) throws {
    guard !path.isEmpty else { throw ValidationError("\(flag) is empty; give a directory") }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw ValidationError("\(flag) '\(path)' exists and is not a directory; give a directory (it is created if missing)")
        }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw ValidationError("\(flag) '\(path)': the directory is not writable; choose another")
        }
        return
    }
    var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) && ancestor.path != "/" {
        ancestor = ancestor.deletingLastPathComponent()
    }
    guard isDirectory.boolValue else {
        throw ValidationError("\(flag) '\(path)': '\(ancestor.path)' is not a directory, so the directory cannot be created; choose another path")
    }
    guard FileManager.default.isWritableFile(atPath: ancestor.path) else {
        throw ValidationError("\(flag) '\(path)': '\(ancestor.path)' is not writable, so the directory cannot be created; choose another path")
    }
}

/// Refuses an output file that is one of the command's inputs (the same file, by device and
/// inode, or the same path), which writing would replace.
func validateDistinctOutput(_ output: String, flag: String, inputs: [String]) throws {
    var outputStatus = stat()
    let outputExists = stat(output, &outputStatus) == 0
    let outputPath = URL(fileURLWithPath: output).standardizedFileURL.path
    for input in inputs {
        var inputStatus = stat()
        let same = outputExists && stat(input, &inputStatus) == 0
            ? inputStatus.st_dev == outputStatus.st_dev && inputStatus.st_ino == outputStatus.st_ino
            : URL(fileURLWithPath: input).standardizedFileURL.path == outputPath
        if same {
            throw ValidationError("\(flag) '\(output)' is the input '\(input)'; writing it would replace the input, so give another file")
        }
    }
}

/// `error`, located in the IR file it is about: a `Diagnostic` without a location (a pass
/// refusing the graph as a whole, such as an optimizer run before autodiff) gets the line of
/// the file's `graph @name(...)` header, so every error names its file and line.
func locate(_ error: Error, inIRFile file: String, text: String) -> Error {
    guard let diagnostic = error as? Diagnostic, diagnostic.location == nil else { return error }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let header = lines.firstIndex { $0.drop { $0 == " " }.hasPrefix("graph ") } ?? 0
    var located = diagnostic
    located.location = SourceLocation(file: file == "-" ? "<stdin>" : file, line: header + 1)
    return located
}
