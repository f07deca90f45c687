// IRFuzzTests: mutated IR text and random pass lists never crash the parser, the verifier or a
// pass, never reach an internal error, and every parse error is located.

import Testing
import Foundation
import GraftIR
import GraftPasses
import GraftDSL
import GraftTestSupport

/// Small graphs that between them use declarations, assigns, matmul, convolution, BatchNorm-like
/// statistics and BYOL's stop-gradient: the seeds the mutations start from.
private let seeds = [
    """
    graph @two_views(%v1: f32[4,3], %v2: f32[4,3]) -> (f32[]) {
      param @online.w : f32[2,3] {init = normal, role = weight, std = 0.5}
      param @online.b : f32[2] {init = zeros, role = bias}
      state @online.s : f32[2] {init = zeros, role = statistic}
      %0 = matmul(%v1, @online.w) {transpose_a = false, transpose_b = true} : f32[4,2]
      %1 = matmul(%v2, @online.w) {transpose_a = false, transpose_b = true} : f32[4,2]
      %2 = stop_gradient(%1) : f32[4,2]
      %3 = sub(%0, %2) : f32[4,2]
      %4 = reduce_sum(%3) {axes = [0, 1]} : f32[]
      %5 = reduce_sum(@online.b) {axes = [0]} : f32[]
      %6 = add(%4, %5) : f32[]
      %7 = reduce_mean(%1) {axes = [0]} : f32[2]
      assign @online.s, %7
      return %6 : f32[]
    }
    """,
    """
    graph @conv(%x: f32[2,1,6,6], %labels: i32[2]) -> (f32[]) {
      param @w : f32[3,1,3,3] {init = normal, role = weight, std = 0.3}
      %0 = conv2d(%x, @w) {padding = [1, 1], stride = [1, 1]} : f32[2,3,6,6]
      %1 = relu(%0) : f32[2,3,6,6]
      %2 = reduce_mean(%1) {axes = [2, 3]} : f32[2,3]
      %3 = reshape(%2) : f32[6]
      %4 = reduce_sum(%3) {axes = [0]} : f32[]
      return %4 : f32[]
    }
    """,
]

/// BYOL in miniature through the DSL: linear layers and a BatchNorm (params, running
/// statistics and their assigns) under `online`, the second view under stop_gradient.
private func miniatureBYOL() throws -> String {
    let traced = try trace("mini_byol") { g in
        let v1 = g.input("v1", shape: [4, 3]), v2 = g.input("v2", shape: [4, 3])
        let online = g.scope("online")
        let fc = Linear(online("fc"), inputSize: 3, outputSize: 2)
        let bn = BatchNorm(online("bn"), features: 2)
        let predictor = Linear(g.scope("predictor"), inputSize: 2, outputSize: 2)
        let p = predictor(relu(bn(fc(v1))))
        let z = stopGradient(relu(bn(fc(v2))))
        return [((p - z) * (p - z)).mean()]
    }
    return Printer().print(traced.graph)
}

/// Words a mutation may put anywhere: op names, pass-sensitive names, types, attributes.
private let words = ["%tau", "%learning_rate", "%step", "@target.w", "@online.w", "f32[]", "i32[2]", "f32[0]", "bool[3]",
                     "stop_gradient(%1)", "assign", "param", "state", "{init = zeros, role = weight}", "target_of = online.w",
                     "gradient = 1", "axes = [5]", "transpose", "broadcast", "%999", "return", "-", "loc(\"x\":1)"]

@Suite struct IRFuzzTests {
    @Test func theSeedsParseAndVerify() throws {
        for text in seeds + [try miniatureBYOL()] { try Verifier.verify(try Parser.parse(text)) }
    }

    @Test func mutatedIRAndPassListsFailWithLocatedErrors() throws {
        let campaign = FuzzCampaign("ir", defaultCases: 400)
        let passes = PassRegistry.all.keys.sorted()
        let seeds = seeds + [try miniatureBYOL()]
        var outcomes: [String: Int] = [:]
        defer { campaign.report(outcomes) }
        for index in 0..<campaign.cases {
            var random = campaign.random(index)
            var text = seeds.randomElement(using: &random)!
            // A third of the cases run pass lists on intact graphs; the rest mutate the text first.
            for _ in 0..<[0, 1, 1, 2, 3].randomElement(using: &random)! { text = Mutate.text(text, words: words, &random) }
            let list = (0..<Int.random(in: 0...4, using: &random)).map { _ in passes.randomElement(using: &random)! }
            var graph: Graph
            do {
                graph = try Parser.parse(text, file: "fuzz.gir")
            } catch let error as Diagnostic {
                #expect(error.location?.file == "fuzz.gir", "\(campaign.label(index)): unlocated parse error \(error)\n\(text)")
                outcomes["refused by the parser", default: 0] += 1
                if ProcessInfo.processInfo.environment["GRAFT_FUZZ_VERBOSE"] != nil { print(error) }
                continue
            } catch {
                Issue.record("\(campaign.label(index)): the parser threw \(type(of: error)), not a Diagnostic: \(error)\n\(text)")
                continue
            }
            do {
                try Verifier.verify(graph)
                try PassManager(list.map { PassRegistry.all[$0]! }).run(&graph)
                outcomes["accepted", default: 0] += 1
            } catch let error as Diagnostic {
                outcomes["refused by the verifier or a pass", default: 0] += 1
                #expect(!error.description.contains("bug in Graft"), "\(campaign.label(index)): passes \(list) on\n\(text)\n\(error)")
                #expect(error.description.utf8.count < 2_000, "\(campaign.label(index)): a \(error.description.utf8.count)-byte message")
            } catch {
                Issue.record("\(campaign.label(index)): passes \(list) threw \(type(of: error)), not a Diagnostic: \(error)\n\(text)")
            }
        }
    }
}

/// Cases the fuzzer found, kept as regressions.
@Suite struct IRFuzzRegressionTests {
    /// make-target on an online state updated from the target branch without reading itself
    /// assigned an undeclared @target.s ("does not verify ... this is a bug in Graft").
    @Test func makeTargetDeclaresTheTargetCopyOfAStateItUpdates() throws {
        var graph = try Parser.parse(seeds[0], file: "fuzz.gir")
        try PassManager([MakeTarget()]).run(&graph)
        #expect(graph.declaration(named: "target.s") != nil)
        #expect(graph.assigns.contains { $0.name == "target.s" })
        try PassManager(["autodiff", "sgd", "ema"].map { PassRegistry.all[$0]! }).run(&graph)
    }
}

extension IRFuzzRegressionTests {
    /// make-target after autodiff copied the online param's `gradient = N` onto its target
    /// state, which the verifier refuses ("only params have gradients ... a bug in Graft").
    @Test func makeTargetAfterAutodiffGivesTheTargetNoGradient() throws {
        var graph = try Parser.parse(seeds[0], file: "fuzz.gir")
        try PassManager(["autodiff", "make-target"].map { PassRegistry.all[$0]! }).run(&graph)
        #expect(graph.variables["target.w"]?.gradient == nil)
    }
}

