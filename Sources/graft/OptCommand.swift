// OptCommand: `graft opt <file.gir>` parses, verifies and prints IR text (like mlir-opt).

import ArgumentParser
import Foundation
import GraftIR

struct OptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "opt", abstract: "Parse and verify an IR text file, then print it.")

    @Argument(help: "The IR text file to read; '-' reads standard input.")
    var file: String

    @OptionGroup var printing: PrintOptions

    func run() throws {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                exitWithDiagnostic(Diagnostic("cannot read '\(file)': no such file or it is not readable"))
            }
            guard let decoded = String(data: data, encoding: .utf8) else {
                exitWithDiagnostic(Diagnostic("'\(file)' is not UTF-8 text; graft opt reads the IR text form"))
            }
            text = decoded
        }
        do {
            let graph = try Parser.parse(text, file: file == "-" ? "<stdin>" : file)
            print(printing.render(graph), terminator: "")
        } catch {
            exitWithDiagnostic(error)
        }
    }
}
