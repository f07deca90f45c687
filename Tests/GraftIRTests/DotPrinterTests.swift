// DotPrinterTests: the Graphviz rendering is valid DOT, checked by Graphviz's own `dot`.

import Foundation
import Testing
import GraftTestSupport
import GraftIR

/// The `dot` executable on PATH, or nil.
private func findDot() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/dot"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs `dot -T<format>` on `source`; returns its exit status, stdout and stderr.
private func runDot(_ dot: String, format: String, source: String) throws -> (status: Int32, output: String, error: String) {
    let result = try runProgram(URL(fileURLWithPath: dot), ["-T\(format)"], input: source)
    return (result.status, result.stdout, result.stderr)
}

@Suite("DOT printer")
struct DotPrinterTests {
    @Test("dot renders the graph to SVG")
    func rendersSVG() throws {
        let dot = try #require(findDot(), "Graphviz `dot` is not on PATH; run `make deps` to install Graphviz")
        let source = DotPrinter().print(mlpStep(locations: true))
        let result = try runDot(dot, format: "svg", source: source)
        #expect(result.status == 0, "dot failed: \(result.error)\n\(source)")
        #expect(result.output.contains("<svg"))
        #expect(result.output.contains("fc.weight"))
    }

    /// `dot -Tplain` lists one `node` line per node and one `edge` line per edge: an independent
    /// count of what the DOT text declares.
    @Test("dot sees one node per value and return, one edge per operand, return and assign")
    func nodeAndEdgeCounts() throws {
        let dot = try #require(findDot(), "Graphviz `dot` is not on PATH; run `make deps` to install Graphviz")
        for graph in [mlpStep(locations: false), try Parser.parse(everyOpText)] {
            let result = try runDot(dot, format: "plain", source: DotPrinter().print(graph))
            #expect(result.status == 0, "dot failed: \(result.error)")
            let lines = result.output.split(separator: "\n")
            let nodes = lines.filter { $0.hasPrefix("node ") }.count
            let edges = lines.filter { $0.hasPrefix("edge ") }.count
            let operands = graph.nodes.map(\.operands.count).reduce(0, +)
            #expect(nodes == graph.nodes.count + graph.outputs.count)
            #expect(edges == operands + graph.outputs.count + graph.assigns.count)
        }
    }

    @Test("the DOT text labels ops, types and assigns")
    func dotText() {
        let text = DotPrinter().print(mlpStep(locations: false))
        #expect(text.hasPrefix("digraph \"mlp_step\" {\n"))
        #expect(text.hasSuffix("}\n"))
        #expect(text.contains("n0 [label=\"%x\\nf32[4,3]\", shape=ellipse"))
        #expect(text.contains("n3 [label=\"%0 = matmul\\ntranspose_a=false transpose_b=false\\nf32[4,2]\", shape=box];"))
        #expect(text.contains("n0 -> n3 [label=\"f32[4,3]\"];"))
        #expect(text.contains("n5 -> out0;"))
        #expect(text.contains("n8 -> n2 [style=dashed"))
    }

    @Test("a graph with nothing in it still renders")
    func emptyGraph() throws {
        let dot = try #require(findDot(), "Graphviz `dot` is not on PATH; run `make deps` to install Graphviz")
        let result = try runDot(dot, format: "svg", source: DotPrinter().print(Graph(name: "empty")))
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("<svg"))
    }
}
