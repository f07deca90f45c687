// The paper's ablations compile to steps that differ from BYOL's exactly where they should.

import Testing
import GraftIR
import GraftPasses
import GraftModels

/// What a compiled step declares, reads and writes.
struct StepSummary {
    var inputs: Set<String>
    var params: Set<String>
    var states: Set<String>
    var assigns: Set<String>

    init(_ graph: Graph) {
        func names(_ ids: [ValueID]) -> Set<String> { Set(ids.compactMap { graph[$0].op.declaredName }) }
        inputs = names(graph.inputs)
        params = names(graph.params)
        states = names(graph.states)
        assigns = Set(graph.assigns.map(\.name))
    }
}

@Suite struct VariantTests {
    func step(_ name: String) throws -> StepSummary {
        StepSummary(try entry(name).compile(batchSize: 2, stage: .optimized))
    }

    @Test func noPredictorDropsExactlyThePredictor() throws {
        let byol = try step("byol-t"), variant = try step("byol-t-no-predictor")
        let predictorParams = byol.params.filter { $0.hasPrefix("online.predictor.") }
        #expect(predictorParams.count == 5)
        #expect(variant.params == byol.params.subtracting(predictorParams))
        #expect(variant.inputs == byol.inputs)
        let predictorState = byol.states.filter { $0.hasPrefix("online.predictor.") || $0.hasPrefix("optimizer.online.predictor.") }
        #expect(variant.states == byol.states.subtracting(predictorState))
        #expect(variant.assigns == byol.assigns.subtracting(predictorParams).subtracting(predictorState))
    }

    @Test func tauZeroHasNoTargetNetworkAndNoEMA() throws {
        let byol = try step("byol-t"), variant = try step("byol-t-tau0")
        #expect(variant.inputs == byol.inputs.subtracting(["tau"]))
        #expect(variant.params == byol.params)
        let target = byol.states.filter { $0.hasPrefix("target.") }
        #expect(!target.isEmpty)
        #expect(variant.states == byol.states.subtracting(target))
        #expect(variant.assigns == byol.assigns.subtracting(target))
    }

    @Test func tauOneKeepsARandomTargetThatOnlyUpdatesItsStatistics() throws {
        let byol = try step("byol-t"), variant = try step("byol-t-tau1")
        #expect(variant.inputs == byol.inputs.subtracting(["tau"]))
        #expect(variant.params == byol.params)
        #expect(variant.states == byol.states)
        let targetWeights = byol.assigns.filter { $0.hasPrefix("target.") && !$0.hasSuffix(".running_mean") && !$0.hasSuffix(".running_var") }
        #expect(targetWeights.count == 32)
        #expect(variant.assigns == byol.assigns.subtracting(targetWeights))
    }
}
