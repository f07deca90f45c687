// Tests of the BYOL rewrites on the declared models: target network, stop-gradient, EMA.

import Testing
import GraftDSL
import GraftPasses
import GraftInterpreter
import GraftModels

/// Random inputs for a BYOL graph at `batch`, from a fixed seed.
func views(batch: Int, seed: UInt64, size: Int = 28) -> [String: HostTensor] {
    var generator = SplitMix64(seed: seed)
    let shape = [batch, 1, size, size]
    let count = shape.reduce(1, *)
    return ["view1": HostTensor(shape: shape, (0..<count).map { _ in Float(generator.nextUnit()) }),
            "view2": HostTensor(shape: shape, (0..<count).map { _ in Float(generator.nextUnit()) })]
}

func entry(_ name: String) throws -> ModelEntry { try #require(ModelCatalog.model(named: name)) }

@Suite struct BYOLRewriteTests {
    @Test func targetMirrorsTheOnlineEncoderAndProjectorWithoutPredictor() throws {
        let graph = try entry("byol-t").compile(batchSize: 4, stage: .autodiff)
        let initialValues = graph.initialValues(seed: 0)
        let params = Set(graph.params.compactMap { graph[$0].op.declaredName })
        let targets = graph.states.compactMap { graph[$0].op.declaredName }.filter { $0.hasPrefix("target.") }
        let expected = graph.params.compactMap { graph[$0].op.declaredName }
            .filter { !$0.hasPrefix("online.predictor.") }.map { "target." + $0.dropFirst("online.".count) }
        #expect(Set(expected).isSubset(of: Set(targets)))
        #expect(!targets.contains { $0.hasPrefix("target.predictor") })
        #expect(!params.contains { $0.hasPrefix("target.") })
        // Target BatchNorm keeps its own running statistics, updated in training mode.
        #expect(targets.contains("target.encoder.stem.bn.running_mean"))
        #expect(graph.assigns.contains { $0.name == "target.projector.bn.running_var" })
        #expect(!graph.assigns.contains { $0.name.hasPrefix("target.predictor") })
        // Independently initialised: same scheme, different values.
        let online = try #require(initialValues["online.encoder.stem.conv.weight"])
        let target = try #require(initialValues["target.encoder.stem.conv.weight"])
        #expect(online.type == target.type && online != target)
        #expect(initialValues["target.encoder.stem.bn.running_var"]?.scalars.allSatisfy { $0 == 1 } == true)
    }

    @Test func noGradientPathReachesTheTarget() throws {
        let graph = try entry("byol-t").compile(batchSize: 4, stage: .autodiff)
        // Forward reachability from every target value, with stop_gradient as a barrier: the
        // loss must not be reached, so autodiff can never send a cotangent into the target.
        var reached = [Bool](repeating: false, count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() {
            if node.op.declaredName?.hasPrefix("target.") == true { reached[id] = true; continue }
            if node.op == .stopGradient { continue }
            reached[id] = node.operands.contains { reached[$0] }
        }
        let loss = graph.outputs[0]
        #expect(!reached[loss])
        // ... while the loss does depend on the target, through the two stop-gradients.
        var dependsOnTarget = [Bool](repeating: false, count: graph.nodes.count)
        for (id, node) in graph.nodes.enumerated() {
            dependsOnTarget[id] = node.op.declaredName?.hasPrefix("target.") == true || node.operands.contains { dependsOnTarget[$0] }
        }
        #expect(dependsOnTarget[loss])
        #expect(graph.nodes.filter { $0.op == .stopGradient }.count == 2)
        #expect(!graph.gradients.contains { $0.param.hasPrefix("target.") })
        #expect(graph.outputs.count == 2 + graph.params.count)   // loss, monitor, gradients
    }

    @Test func oneStepMovesEachTargetWeightByTheEMA() throws {
        let graph = try entry("byol-t").compile(batchSize: 4, seed: 1, stage: .optimized)
        let tau: Float = 0.9   // far from 1, so the move is visible
        var inputs = views(batch: 4, seed: 5)
        inputs["learning_rate"] = HostTensor(scalar: 0.05)
        inputs["tau"] = HostTensor(scalar: tau)
        let before = graph.initialValues(seed: 1)
        let after = try Interpreter().run(graph, inputs: inputs, variables: before).variables
        var checked = 0
        for (target, online) in graph.targetPairs where online.hasPrefix("online.") {
            guard let role = graph.variables[online]?.role, role != .statistic else { continue }
            let old = try #require(before[target]).scalars
            let newOnline = try #require(after[online]).scalars
            let newTarget = try #require(after[target]).scalars
            #expect(newOnline != before[online]?.scalars, "\(online) did not move")
            for index in old.indices {
                let expected = tau * old[index] + (1 - tau) * newOnline[index]
                #expect(Swift.abs(newTarget[index] - expected) <= 1e-6 * Swift.max(1, Swift.abs(expected)), "\(target)[\(index)]")
            }
            checked += 1
        }
        #expect(checked == 32)   // 27 encoder + 5 projector weights of byol-t
    }

    @Test func lossOfTheStepIsFiniteAndTheSameAsTheForwardGraphs() throws {
        let entry = try entry("byol-t")
        let inputs = views(batch: 4, seed: 9)
        let forward = try entry.compile(batchSize: 4, seed: 2, stage: .autodiff)
        let step = try entry.compile(batchSize: 4, seed: 2, stage: .optimized)
        var stepInputs = inputs
        stepInputs["learning_rate"] = HostTensor(scalar: 0.1)
        stepInputs["tau"] = HostTensor(scalar: 0.99)
        let interpreter = Interpreter()
        let lossBefore = try interpreter.run(forward, inputs: inputs, variables: forward.initialValues(seed: 2)).outputs[0].scalars[0]
        let lossInStep = try interpreter.run(step, inputs: stepInputs, variables: step.initialValues(seed: 2)).outputs[0].scalars[0]
        #expect(lossBefore.isFinite)
        #expect(Swift.abs(lossBefore - lossInStep) <= 1e-5 * Swift.max(1, Swift.abs(lossBefore)))
    }
}
