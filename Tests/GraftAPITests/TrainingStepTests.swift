// The public training API as a user's package sees it: only `import Graft`, no @testable.
// A small classifier compiled into a TrainingStep: its inputs are checked by name, it agrees
// with the reference interpreter, its checkpoints resume exactly, and its inference graph
// shares its params.

import Testing
import Foundation
import Graft

/// A two-layer classifier on 4 features, 3 classes; outputs the loss and the logits.
func tinyClassifier(batch: Int, training: Bool = true, seed: UInt64 = 3) throws -> TracedGraph {
    try trace("tiny", seed: seed, training: training) { g in
        let x = g.input("x", shape: [batch, 4])
        let fc1 = Linear(g.scope("fc1"), inputSize: 4, outputSize: 8)
        let fc2 = Linear(g.scope("fc2"), inputSize: 8, outputSize: 3)
        let logits = fc2(relu(fc1(x)))
        guard training else { return [logits] }
        let labels = g.input("labels", TensorType(.i32, [batch]))
        return [softmaxCrossEntropy(logits: logits, labels: labels), logits]
    }
}

/// Seeded inputs for `tinyClassifier`: features, and labels that depend on them.
func tinyBatch(_ batch: Int, seed: Int) -> [String: HostTensor] {
    var generator = seed
    let x = (0..<(batch * 4)).map { _ -> Float in
        generator = (generator &* 1_103_515_245 &+ 12_345) & 0x7fff_ffff
        return Float(generator % 2001) / 1000 - 1
    }
    let labels: [Float] = (0..<batch).map { i in
        let row = Array(x[(i * 4)..<(i * 4 + 4)])
        if row[0] + row[1] > 0 { return 2 }
        return row[2] > 0 ? 1 : 0
    }
    return ["x": HostTensor(TensorType(.f32, [batch, 4]), x), "labels": HostTensor(TensorType(.i32, [batch]), labels)]
}

func sgdStep(_ model: TracedGraph) throws -> TrainingStep {
    try TrainingStep(model, pipeline: TrainingPipeline(target: .none, optimizer: SGD(momentum: 0.9)),
                     learningRate: LearningRateSchedule(base: 0.1, warmupSteps: 2, totalSteps: 50))
}

@Suite struct TrainingStepTests {
    @Test func inputsAreCheckedByName() throws {
        let step = try sgdStep(tinyClassifier(batch: 8))
        #expect(step.dataInputs == ["x": TensorType(.f32, [8, 4]), "labels": TensorType(.i32, [8])])
        var inputs = tinyBatch(8, seed: 1)
        inputs["labels"] = nil
        #expect(throws: Diagnostic("no value was given for input %labels of @tiny; its inputs are %labels: i32[8], %x: f32[8,4]")) {
            try step.run(inputs)
        }
        inputs = tinyBatch(8, seed: 1)
        inputs["y"] = HostTensor(scalar: 1)
        #expect(throws: Diagnostic("'y' is not an input of @tiny; its inputs are %labels: i32[8], %x: f32[8,4]")) { try step.run(inputs) }
        inputs["y"] = nil
        inputs["learning_rate"] = HostTensor(scalar: 1)
        #expect(throws: Diagnostic("'learning_rate' is not an input of @tiny (the step fills it from its schedules); its inputs are %labels: i32[8], %x: f32[8,4]")) {
            try step.run(inputs)
        }
        inputs = tinyBatch(8, seed: 1)
        inputs["x"] = HostTensor(TensorType(.f32, [4, 8]), inputs["x"]!.scalars)
        #expect(throws: Diagnostic("input %x of @tiny is f32[8,4] but the value given is f32[4,8]")) { try step.run(inputs) }
        #expect(step.stepsTaken == 0)
    }

    @Test func theLossMustComeFirst() throws {
        let model = try trace("logits-first") { g in
            let x = g.input("x", shape: [2, 4])
            return [Linear(g.scope("fc"), inputSize: 4, outputSize: 3)(x)]
        }
        let error = try #require(throws: Diagnostic.self) { try sgdStep(model) }
        #expect(error.message.hasPrefix("@logits-first's output 0 is f32[2,3], but a training step differentiates output 0"))
    }

    /// Five compiled steps against the reference interpreter running the same optimized graph
    /// with the schedule values the step used: outputs and every variable agree, and the loss
    /// falls.
    @Test func stepsMatchTheInterpreterAndLearn() throws {
        let step = try sgdStep(tinyClassifier(batch: 16))
        var variables = step.variables
        var losses: [Float] = []
        for index in 0..<5 {
            let inputs = tinyBatch(16, seed: 7)
            let schedule = step.scheduleValues
            #expect(schedule["learning_rate"]!.scalars[0] == Float(step.learningRate.value(atStep: index)))
            let compiled = try step.run(inputs)
            let reference = try Interpreter().run(step.graph, inputs: inputs.merging(schedule) { a, _ in a }, variables: variables)
            #expect(compiled.count == 2)
            for (got, want) in zip(compiled, reference.outputs) {
                for (a, b) in zip(got.scalars, want.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
            }
            variables = reference.variables
            for (name, value) in step.variables {
                for (a, b) in zip(value.scalars, variables[name]!.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(name)") }
            }
            losses.append(compiled[0].scalars[0])
        }
        #expect(step.stepsTaken == 5)
        #expect(losses[4] < losses[1], "losses \(losses)")
    }

    @Test func aCheckpointResumesExactly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-step-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/step.safetensors"

        let whole = try sgdStep(tinyClassifier(batch: 8))
        for index in 0..<3 { try whole.run(tinyBatch(8, seed: index)) }
        try whole.save(to: path, metadata: ["note": "mine"])
        let continued = try (3..<6).map { try whole.run(tinyBatch(8, seed: $0))[0].scalars[0] }

        let resumed = try sgdStep(tinyClassifier(batch: 8))
        let checkpoint = try resumed.restore(from: path)
        #expect(checkpoint.metadata["note"] == "mine" && checkpoint.metadata["model"] == "tiny")
        #expect(resumed.stepsTaken == 3)
        let again = try (3..<6).map { try resumed.run(tinyBatch(8, seed: $0))[0].scalars[0] }
        #expect(again == continued)
        #expect(resumed.variables == whole.variables)

        // A checkpoint of another model names what is missing.
        let other = try TrainingStep(try trace("other") { g in
            let x = g.input("x", shape: [2, 4])
            return [Linear(g.scope("head"), inputSize: 4, outputSize: 1)(x).sum()]
        }, pipeline: TrainingPipeline(target: .none, optimizer: SGD()), learningRate: LearningRateSchedule(base: 0.1, warmupSteps: 0, totalSteps: 1))
        let error = try #require(throws: Diagnostic.self) { try other.restore(from: path) }
        #expect(error.message.contains("has no tensor 'head.bias', which @other needs; it was written by a different model (tiny)"))
    }

    @Test func theInferenceGraphSharesTheTrainedParams() throws {
        let step = try sgdStep(tinyClassifier(batch: 8))
        for index in 0..<3 { try step.run(tinyBatch(8, seed: index)) }
        let inference = try tinyClassifier(batch: 5, training: false)
        let executable = try step.inference(inference)
        let x = HostTensor(TensorType(.f32, [5, 4]), Array(tinyBatch(8, seed: 9)["x"]!.scalars.prefix(20)))
        let compiled = try executable.run(["x": x])[0]
        let reference = try Interpreter().run(inference.graph, inputs: ["x": x], variables: step.variables).outputs[0]
        for (a, b) in zip(compiled.scalars, reference.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        // The trained params, not the initial ones.
        #expect(executable.variable("fc1.weight") == step.variables["fc1.weight"])
        #expect(executable.variable("fc1.weight") != inference.initialValues["fc1.weight"])

        let stranger = try trace("stranger", training: false) { g in
            [Linear(g.scope("fc3"), inputSize: 4, outputSize: 2)(g.input("x", shape: [1, 4]))]
        }
        #expect(throws: Diagnostic("the inference graph @stranger declares 'fc3.bias', which the training step @tiny does not have; trace the same layers under the same scopes")) {
            _ = try step.inference(stranger)
        }
    }
}

/// A user's encoder: two convolutions, ReLU, global average pooling.
struct SmallEncoder: Layer {
    let conv1: Conv2D
    let conv2: Conv2D
    init(_ scope: Scope) {
        conv1 = Conv2D(scope("conv1"), inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1)
        conv2 = Conv2D(scope("conv2"), inputChannels: 4, outputChannels: 8, kernelSize: 3, stride: 2, padding: 1)
    }
    func forward(_ x: Tensor) -> Tensor { GlobalAveragePool()(relu(conv2(relu(conv1(x))))) }
}

@Suite struct BYOLOverAnyEncoderTests {
    let byol = BYOLModel(imageShape: [1, 12, 12], hiddenSize: 16, projectionSize: 8) { SmallEncoder($0) }

    @Test func aUserEncoderGetsTheTargetNetworkAndEMA() throws {
        let traced = try byol.trace(batchSize: 4, seed: 2)
        let names = Set(traced.graph.variables.keys)
        #expect(names.contains("online.encoder.conv1.weight") && names.contains("online.projector.fc1.weight"))
        #expect(traced.graph[traced.graph.declaration(named: "online.projector.fc1.weight")!].type == TensorType(.f32, [16, 8]))   // D = 8, read from the encoder

        let schedule = LearningRateSchedule(base: 0.5, warmupSteps: 0, totalSteps: 10)
        #expect(throws: Diagnostic("@byol's step updates a target network by EMA (input %tau); pass tau: TargetDecaySchedule(base: 0.99, totalSteps: …)")) {
            _ = try TrainingStep(traced, pipeline: byol.pipeline(), learningRate: schedule)
        }
        let step = try TrainingStep(traced, pipeline: byol.pipeline(), learningRate: schedule,
                                    tau: TargetDecaySchedule(base: 0.9, totalSteps: 10))
        #expect(Set(step.dataInputs.keys) == ["view1", "view2"])
        let target = "target.encoder.conv1.weight"
        let online = "online.encoder.conv1.weight"
        let before = step.variables
        let views = tinyViews()
        try step.run(views)
        // EMA: target ← τ·target + (1 − τ)·online, with the online weights after the update.
        let after = step.variables
        let tau = Float(0.9)
        for i in 0..<before[target]!.scalars.count {
            let want = tau * before[target]!.scalars[i] + (1 - tau) * after[online]!.scalars[i]
            #expect(abs(after[target]!.scalars[i] - want) <= 1e-6)
        }
        #expect(after[online] != before[online])

        // Its encoder alone, for evaluation, loads the trained values by name.
        let encoder = try step.inference(byol.encoderTrace(batchSize: 4))
        #expect(encoder.graph[encoder.graph.outputs[0]].type == TensorType(.f32, [4, 8]))
    }

    @Test func anEncoderThatDoesNotGiveFeaturesIsNamed() throws {
        let flat = BYOLModel(imageShape: [1, 12, 12]) { scope in Conv2D(scope("conv"), inputChannels: 1, outputChannels: 2, kernelSize: 3) }
        let error = try #require(throws: Diagnostic.self) { try flat.trace(batchSize: 2) }
        #expect(error.message == "BYOL's encoder must map f32[2,1,12,12] images to features [B, D]; it gives f32[2,2,10,10]. End it with a pooling layer or Flatten")
    }

    func tinyViews() -> [String: HostTensor] {
        let type = TensorType(.f32, [4, 1, 12, 12])
        return ["view1": HostTensor(type, (0..<576).map { Float(($0 * 37) % 101) / 101 }),
                "view2": HostTensor(type, (0..<576).map { Float(($0 * 53) % 97) / 97 })]
    }
}

@Suite struct EvaluationAccuracyTests {
    @Test func accuracyCountsTheLargestLogitOfEachRow() {
        let logits: [Float] = [0.1, 0.9, 0.0,   // 1
                               2, 2, 1,         // tie: the first, 0
                               -1, -3, -2]      // 0
        #expect(Evaluation.accuracy(logits: logits, labels: [1, 0, 2], classes: 3) == 2.0 / 3)
        #expect(Evaluation.accuracy(logits: logits, labels: [1, 1, 0], classes: 3) == 2.0 / 3)
    }
}

@Suite struct StageTextOfAStepTests {
    /// Every stage prints; the pass stages parse back to the graphs the step was built from.
    @Test func everyStageOfAStepPrints() throws {
        let step = try sgdStep(tinyClassifier(batch: 4))
        for stage in CompilationStage.allCases {
            let text = try step.ir(at: stage)
            #expect(!text.isEmpty, "\(stage)")
        }
        #expect(try Printer().print(Parser.parse(step.ir(at: .traced))) == Printer().print(step.model.graph))
        #expect(try Printer().print(Parser.parse(step.ir(at: .optimized))) == Printer().print(step.graph))
        #expect(try step.ir(at: .llvm).contains("define "))
    }
}
