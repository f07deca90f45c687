// StageTextTests: the IR text of every stage is the whole stage. Parsing the text after any
// pass and running the remaining passes by name, as `graft opt --passes` does, gives exactly
// the in-process pipeline's step: roles, initializers, target pairs and gradient outputs all
// travel in the text.

import Testing
import GraftIR
import GraftPasses
import GraftModels

/// The first line where two texts differ, for a readable failure.
func firstDifference(_ a: String, _ b: String) -> String {
    let (left, right) = (a.split(separator: "\n", omittingEmptySubsequences: false), b.split(separator: "\n", omittingEmptySubsequences: false))
    for (index, (x, y)) in zip(left, right).enumerated() where x != y { return "line \(index + 1):\n  \(x)\n  \(y)" }
    return left.count == right.count ? "none" : "one text has \(left.count) lines, the other \(right.count)"
}

@Suite struct StageTextTests {
    /// The catalog's models, and byol-t as one of 2 replicas (cross-replica statistics and
    /// gradient all-reduces, `graft dump --replicas 2`).
    @Test(arguments: [("byol-t", 1), ("byol-t-no-predictor", 1), ("supervised-t", 1), ("byol-t", 2)])
    func everyStageResumedFromItsTextGivesTheSameStep(_ model: String, replicas: Int) throws {
        var entry = try #require(ModelCatalog.model(named: model))
        if replicas > 1 { entry.pipeline.dataParallelism = .crossReplica(replicas: replicas) }
        var stages = [(pass: "trace", text: Printer().print(try entry.trace(4, 0).graph))]
        let step = try entry.compile(batchSize: 4, stage: .optimized) { pass, graph in
            stages.append((pass, Printer().print(graph)))
        }
        let expected = Printer().print(step)
        let passNames = stages.dropFirst().map(\.pass)
        #expect(passNames == entry.pipeline.passes(until: .optimized).map(\.name))
        let spellings = entry.pipeline.passes(until: .optimized).map(PassRegistry.spelling(of:))
        for (index, stage) in stages.enumerated() {
            let remaining = Array(spellings[index...])
            var resumed = try Parser.parse(stage.text, file: "\(model).after-\(stage.pass).gir")
            try PassManager(try remaining.map(PassRegistry.pass(named:))).run(&resumed)
            let text = Printer().print(resumed)
            #expect(text == expected, "after \(stage.pass), --passes \(remaining.joined(separator: ",")): first difference at \(firstDifference(text, expected))")
        }
        // The step's text alone gives every initial value, bit for bit.
        let parsed = try Parser.parse(expected)
        let (fromText, inProcess) = (parsed.initialValues(seed: 5), step.initialValues(seed: 5))
        #expect(fromText.keys.sorted() == inProcess.keys.sorted())
        for (name, value) in inProcess {
            #expect(fromText[name]?.scalars.map(\.bitPattern) == value.scalars.map(\.bitPattern), "@\(name)")
        }
    }
}
