// Tests of the declared models: they trace, verify, round-trip, and match the reference configurations.

import Testing
import GraftDSL
import GraftInterpreter
import GraftModels
import GraftPasses

@Suite struct ModelTests {
    @Test(arguments: ModelCatalog.all.map(\.name))
    func everyModelTracesAndRoundTripsThroughText(name: String) throws {
        let entry = try #require(ModelCatalog.model(named: name))
        let graph = try entry.trace(entry.defaultBatchSize, 0).graph
        try Verifier.verify(graph)
        for printer in [Printer(), Printer(printLocations: true)] {
            let text = printer.print(graph)
            let reparsed = try Parser.parse(text, file: "\(name).gir")
            #expect(printer.print(reparsed) == text)
        }
    }

    func onlineParameterCount(_ traced: TracedGraph) -> Int {
        traced.graph.params
            .filter { traced.graph[$0].op.declaredName!.hasPrefix("online.") }
            .map { traced.graph[$0].type.elementCount }
            .reduce(0, +)
    }

    @Test func byolSMatchesTheReferenceConfiguration() throws {
        let traced = try BYOL.trace(.small, batchSize: 256)
        // Encoder: stem 288 + 64; stage 1: 2 × (2·9216 + 128); stage 2: (18432 + 36864 + 256 + 2048 + 128)
        // + (2·36864 + 256); stage 3: (73728 + 147456 + 512 + 8192 + 256) + (2·147456 + 512) = 694,752.
        // Projector and predictor: (128·512 + 512) + 2·512 + 512·128 = 132,608 each.
        #expect(onlineParameterCount(traced) == 959_968)
        let graph = traced.graph
        #expect(graph.inputs.map { graph[$0].type } == [TensorType(.f32, [256, 1, 28, 28]), TensorType(.f32, [256, 1, 28, 28])])
        #expect(graph.outputTypes == [TensorType.scalar(), TensorType.scalar()])   // loss, collapse monitor
        // 15 BatchNorms per encoder (stem 1, stage 1: 4, stages 2 and 3: 5 each) and one per head:
        // 17 in the online network, each writing its two running statistics once per step.
        #expect(graph.assigns.count == 2 * 17)
        // 15 convolutions per encoder pass, one pass per view; the target is made by a rewrite.
        #expect(graph.nodes.filter { if case .conv2d = $0.op { true } else { false } }.count == 2 * 15)
        #expect(!graph.nodes.contains { $0.op.declaredName?.hasPrefix("target.") ?? false })
    }

    @Test func byolTMatchesTheReferenceConfiguration() throws {
        let traced = try BYOL.trace(.tiny, batchSize: 128)
        // Encoder 176 + 4672 + 14528 + 57728 = 77,104; heads (64·256 + 256) + 512 + 256·64 = 33,536 each.
        #expect(onlineParameterCount(traced) == 144_176)
    }

    @Test func theExpandedEncodersAddA1x1ConvolutionBeforeThePool() throws {
        // ResNet-T's 77,104 params + the expansion's 64·256 weights and BN's 2·256 = 94,000;
        // projector (256·512 + 512) + 1024 + 512·128 = 198,144; predictor (128·512 + 512) + 1024
        // + 512·128 = 132,608.
        #expect(onlineParameterCount(try BYOL.trace(.tiny256, batchSize: 8)) == 424_752)
        // 77,104 + 64·512 + 2·512 = 110,896; projector (512·1024 + 1024) + 2048 + 1024·128 =
        // 658,432; predictor (128·1024 + 1024) + 2048 + 1024·128 = 265,216.
        #expect(onlineParameterCount(try BYOL.trace(.tiny512, batchSize: 8)) == 1_034_544)
        for (config, width) in [(BYOLConfig.tiny256, 256), (.tiny512, 512)] {
            #expect(config.encoder.featureSize == width)
            let encoder = try config.model.encoderTrace(batchSize: 4)
            let output = try #require(encoder.graph.outputs.first)
            #expect(encoder.graph[output].type == TensorType(.f32, [4, width]))
            // The expansion's ReLU comes before the pool: every feature is non-negative.
            let (images, _) = randomViews()
            let features = try Interpreter().run(encoder.graph, inputs: ["images": HostTensor(shape: [4, 1, 28, 28], Array(images.scalars.prefix(4 * 784)))],
                                                 variables: encoder.initialValues).outputs[0]
            #expect(features.scalars.allSatisfy { $0 >= 0 } && features.scalars.contains { $0 > 0 })
        }
    }

    /// Two views of 8 random 28×28 images, uniform in [0, 1].
    func randomViews() -> (HostTensor, HostTensor) {
        var generator = SplitMix64(seed: 42)
        let shape = [8, 1, 28, 28]
        func view() -> HostTensor { HostTensor(shape: shape, (0..<shape.reduce(1, *)).map { _ in Float(generator.nextUnit()) }) }
        return (view(), view())
    }

    @Test func byolTLossIsFiniteAndSymmetricInTheViews() throws {
        // The declared graph: the target is the stop-gradient copy of the online network.
        let traced = try BYOL.trace(.tiny, batchSize: 8, seed: 3)
        let (a, b) = randomViews()
        let interpreter = Interpreter()
        let forward = try interpreter.run(traced.graph, inputs: ["view1": a, "view2": b], variables: traced.initialValues)
        let swapped = try interpreter.run(traced.graph, inputs: ["view1": b, "view2": a], variables: traced.initialValues)
        let loss = forward.outputs[0].scalars[0]
        #expect(loss.isFinite)
        // Each direction is 2 − 2·cos ∈ [0, 4]; random networks give a loss well inside (0, 8).
        #expect(loss > 0 && loss < 8)
        #expect(loss == swapped.outputs[0].scalars[0])
        // The running statistics moved from their initial values.
        let before = try #require(traced.initialValues["online.encoder.stem.bn.running_mean"])
        #expect(forward.variables["online.encoder.stem.bn.running_mean"] != before)
    }

    @Test func simclrTSharesByolTsEncoderAndProjectorWithoutPredictorOrTarget() throws {
        let traced = try SimCLR.trace(.tiny, batchSize: 128)
        // Encoder 77,104 + projector 33,536 (byol-t's), no predictor.
        #expect(onlineParameterCount(traced) == 110_640)
        let graph = traced.graph
        #expect(graph.inputs.map { graph[$0].type } == [TensorType(.f32, [128, 1, 28, 28]), TensorType(.f32, [128, 1, 28, 28])])
        #expect(graph.outputTypes == [TensorType.scalar(), TensorType.scalar()])   // loss, collapse monitor
        #expect(!graph.nodes.contains { $0.op.declaredName?.hasPrefix("online.predictor") ?? false })
        #expect(SimCLR.pipeline().target == .none)
        let entry = try #require(ModelCatalog.model(named: "simclr-t"))
        #expect(!entry.splitsAcrossReplicas && entry.isSelfSupervised)
        #expect(throws: Diagnostic.self) { try entry.checkSplit(into: 2) }
        try entry.checkSplit(into: 1)
        try #require(ModelCatalog.model(named: "byol-t")).checkSplit(into: 2)
    }

    @Test func simclrTLossIsFiniteAndSymmetricInTheViews() throws {
        let traced = try SimCLR.trace(.tiny, batchSize: 8, seed: 3)
        let (a, b) = randomViews()
        let interpreter = Interpreter()
        let loss = try interpreter.run(traced.graph, inputs: ["view1": a, "view2": b], variables: traced.initialValues).outputs[0].scalars[0]
        let swapped = try interpreter.run(traced.graph, inputs: ["view1": b, "view2": a], variables: traced.initialValues).outputs[0].scalars[0]
        // Each of the 16 views is classified among 15: a random network's loss is near log 15 ≈ 2.7.
        #expect(loss > 1 && loss < 5, "\(loss)")
        // Swapping the views permutes the rows of the similarity matrix: the same loss up to
        // the order of the mean's sum.
        #expect(Swift.abs(loss - swapped) <= 1e-5 * loss, "\(loss) against \(swapped)")
    }

    @Test func aConfigurationThatDoesNotFitTheDataFailsAtTheModelLine() throws {
        var config = BYOLConfig.tiny
        config.encoder.inputChannels = 3
        let error = try #require(throws: Diagnostic.self) {
            _ = try GraftDSL.trace("rgb-encoder-on-gray-data") { g in
                let images = g.input("images", shape: [4, 1, 28, 28])
                return [ResNet(g.scope("encoder"), config: config.encoder)(images)]
            }
        }
        #expect(error.location?.file == "models/ResNet.swift")
        #expect(error.message == "conv2d: input has 1 channels but the filter expects 3 (f32[4,1,28,28] × f32[16,3,3,3])")
    }
}
