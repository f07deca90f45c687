// TestSupport: helpers shared by the GraftIR tests (expected-error checks that point at the test line).

import Testing
import GraftIR

/// GraftIR's location type; `SourceLocation` alone is ambiguous next to Testing's.
typealias IRLocation = GraftIR.SourceLocation

/// Joins lines into IR text with a trailing newline, so tests can count lines and columns.
func lines(_ lines: String...) -> String {
    lines.joined(separator: "\n") + "\n"
}

/// Parses `text` as `file.gir`, expecting exactly one located `Diagnostic` at `line:column`
/// whose message contains `phrase`.
func expectParseError(
    _ text: String, line: Int, column: Int, _ phrase: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    do {
        let graph = try Parser.parse(text, file: "file.gir")
        Issue.record("expected an error, but parsed:\n\(Printer().print(graph))", sourceLocation: sourceLocation)
    } catch let diagnostic as Diagnostic {
        let prefix = "file.gir:\(line):\(column): error: "
        #expect(diagnostic.description.hasPrefix(prefix), "wanted \(prefix)…, got \(diagnostic)", sourceLocation: sourceLocation)
        #expect(diagnostic.location == IRLocation(file: "file.gir", line: line, column: column), sourceLocation: sourceLocation)
        #expect(diagnostic.message.contains(phrase), "message '\(diagnostic.message)' lacks '\(phrase)'", sourceLocation: sourceLocation)
        #expect(diagnostic.notes.isEmpty && !diagnostic.description.contains("\n"), "one error line, got \(diagnostic)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a Diagnostic, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

/// Verifies `graph`, expecting a `Diagnostic` at `location` whose message contains `phrase`.
func expectVerifierError(
    _ graph: Graph, at location: IRLocation?, _ phrase: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    do {
        try Verifier.verify(graph)
        Issue.record("expected the verifier to reject the graph", sourceLocation: sourceLocation)
    } catch let diagnostic as Diagnostic {
        #expect(diagnostic.location == location, "\(diagnostic)", sourceLocation: sourceLocation)
        #expect(diagnostic.message.contains(phrase), "message '\(diagnostic.message)' lacks '\(phrase)'", sourceLocation: sourceLocation)
        if let location {
            #expect(diagnostic.description.hasPrefix("\(location): error: "), sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a Diagnostic, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

/// The type inference error message for `op`, or `nil` when the rule accepts the operands.
func typeError(_ op: Op, _ operands: [TensorType], declared: TensorType? = nil) -> String? {
    do {
        _ = try TypeInference.resultType(of: op, operands: operands, declared: declared)
        return nil
    } catch let error as TypeError {
        return error.message
    } catch {
        return "unexpected error \(error)"
    }
}

func f32(_ shape: Int...) -> TensorType { TensorType(.f32, shape) }
func i32(_ shape: Int...) -> TensorType { TensorType(.i32, shape) }
func bool(_ shape: Int...) -> TensorType { TensorType(.bool, shape) }
