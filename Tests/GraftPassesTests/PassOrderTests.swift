// PassOrderTests: a pass applied to a graph it does not fit (too early, twice, or with a
// name it needs already taken) reports what to do, and does not call it a bug in Graft.

import Testing
import GraftIR
import GraftPasses

/// Two views of one online weight, the second under stop_gradient: BYOL's shape in miniature.
private let twoViews = """
    graph @two_views(%v1: f32[4,3], %v2: f32[4,3]) -> (f32[]) {
      param @online.w : f32[2,3] {init = normal, role = weight, std = 0.5}
      param @online.b : f32[2] {init = zeros, role = bias}
      %0 = matmul(%v1, @online.w) {transpose_a = false, transpose_b = true} : f32[4,2]
      %1 = matmul(%v2, @online.w) {transpose_a = false, transpose_b = true} : f32[4,2]
      %2 = stop_gradient(%1) : f32[4,2]
      %3 = sub(%0, %2) : f32[4,2]
      %4 = reduce_sum(%3) {axes = [0, 1]} : f32[]
      %5 = reduce_sum(@online.b) {axes = [0]} : f32[]
      %6 = add(%4, %5) : f32[]
      return %6 : f32[]
    }
    """

/// Runs `passes` on `text` and returns the error's description, or nil if they succeed.
private func failure(_ text: String, _ passes: [String]) throws -> String? {
    var graph = try Parser.parse(text)
    do {
        try PassManager(passes.map { PassRegistry.all[$0]! }).run(&graph)
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct PassOrderTests {
    @Test func theMiniatureRunsThroughTheWholePipeline() throws {
        #expect(try failure(twoViews, ["make-target", "autodiff", "lars", "ema", "dce"]) == nil)
    }

    @Test(arguments: [
        (["lars"], "lars: the graph has no gradient outputs (no param says `gradient = N`); run autodiff first"),
        (["adamw"], "adamw: the graph has no gradient outputs"),
        (["ema"], "ema: there are no target weights to update (no state says `target_of` a param); run make-target first"),
        (["autodiff", "ema"], "run make-target first"),
        (["autodiff", "autodiff"], "autodiff: the graph already has gradient outputs (output 1 is the gradient of @online.w); autodiff runs once"),
        (["make-target", "make-target"], "make-target: the graph already has a target network (@target.w is the target of @online.w)"),
        (["autodiff", "sgd", "lars"], "lars: param @online.w is already updated (assign @online.w); an optimizer runs once, after autodiff"),
        (["make-target", "autodiff", "lars", "ema", "ema"], "ema: target weight @target.w is already updated (assign @target.w); ema runs once"),
    ] as [([String], String)])
    func passesOutOfOrderSayWhatToDo(passes: [String], message: String) throws {
        let error = try #require(try failure(twoViews, passes), "\(passes) should fail")
        #expect(error.contains(message), "\(error)")
        #expect(!error.contains("bug in Graft"))
    }

    @Test(arguments: [("learning_rate", ["autodiff", "lars"]), ("tau", ["make-target", "autodiff", "lars", "ema"])])
    func anInputAPassWouldAddMustNotExist(input: String, passes: [String]) throws {
        let text = twoViews.replacingOccurrences(of: "%v2: f32[4,3])", with: "%v2: f32[4,3], %\(input): f32[])")
        let error = try #require(try failure(text, passes), "\(passes) should fail")
        #expect(error.contains("\(passes.last!): the graph already has input %\(input), which \(passes.last!) would add"), "\(error)")
    }

    /// `%step` is shared: a model that reads it (Dropout's random_uniform) and AdamW use one input.
    @Test func adamWSharesAScalarStepInput() throws {
        var graph = try Parser.parse(twoViews.replacingOccurrences(of: "%v2: f32[4,3])", with: "%v2: f32[4,3], %step: f32[])"))
        try PassManager([PassRegistry.all["autodiff"]!, PassRegistry.all["adamw"]!]).run(&graph)
        #expect(graph.nodes.filter { $0.op == .input("step") }.count == 1)
    }

    @Test func adamWRefusesAStepOfAnotherType() throws {
        let text = twoViews.replacingOccurrences(of: "%v2: f32[4,3])", with: "%v2: f32[4,3], %step: f32[2])")
        let error = try #require(try failure(text, ["autodiff", "adamw"]))
        #expect(error.contains("adamw: the graph already has input %step : f32[2], but adamw reads %step as a scalar f32 input; rename it"), "\(error)")
    }

    @Test func makeTargetRefusesATakenTargetName() throws {
        let text = twoViews.replacingOccurrences(of: "  param @online.b", with: "  state @target.w : f32[2,3] {init = zeros, role = weight}\n  param @online.b")
        let error = try #require(try failure(text, ["make-target"]))
        #expect(error.contains("make-target: the graph already has state @target.w, where make-target would declare its 'target.*' state"), "\(error)")
    }

    @Test func anOptimizerBufferNameMustBeFree() throws {
        let text = twoViews.replacingOccurrences(of: "  param @online.b", with: "  state @optimizer.online.w.momentum : f32[2,3] {init = zeros, role = statistic}\n  param @online.b")
        let error = try #require(try failure(text, ["autodiff", "lars"]))
        #expect(error.contains("lars: the graph already declares @optimizer.online.w.momentum, the buffer lars would add for @online.w"), "\(error)")
    }
}
