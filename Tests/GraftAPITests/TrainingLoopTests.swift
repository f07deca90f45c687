// The generic training loop as a user's package sees it (`import Graft` only): a small
// classifier of the user's own on in-memory images, trained, stopped, resumed exactly, its
// metrics logged and drawn, and data that does not fit the model refused before training.

import Testing
import Foundation
import Graft

/// 64 images of 1×4×4 in two classes: class 1 is brighter in its top half.
private func stripes() -> Dataset {
    var images: [Float] = [], labels: [Int32] = []
    var generator = SplitMix64(seed: 11)
    for index in 0..<64 {
        let label = Int32(index % 2)
        for pixel in 0..<16 {
            let top = pixel < 8
            images.append(Float(generator.nextUnit()) * 0.5 + (top && label == 1 ? 0.5 : 0))
        }
        labels.append(label)
    }
    return Dataset(name: "stripes", images: images, labels: labels, channels: 1, height: 4, width: 4, classes: 2)
}

/// A user's model: flatten, one hidden layer, two logits; outputs the loss and the accuracy.
private func classifier(height: Int = 4) throws -> TracedGraph {
    try trace("stripes_classifier", seed: 5) { g in
        let images = g.input("images", shape: [8, 1, height, 4])
        let labels = g.input("labels", TensorType(.i32, [8]))
        let hidden = relu(Linear(g.scope("fc1"), inputSize: height * 4, outputSize: 16)(Flatten()(images)))
        let logits = Linear(g.scope("fc2"), inputSize: 16, outputSize: 2)(hidden)
        return [crossEntropy(logits: logits, labels: labels)]
    }
}

private func makeStep(_ model: TracedGraph) throws -> TrainingStep {
    try TrainingStep(model, pipeline: TrainingPipeline(target: .none, optimizer: AdamW(weightDecay: 1e-4)),
                     learningRate: LearningRateSchedule(base: 1e-2, warmupSteps: 4, totalSteps: 24))
}

/// A loop writing to `directory` that stays quiet and measures a made-up metric per epoch.
private func makeLoop(_ step: TrainingStep, _ data: Batches, _ directory: String) throws -> TrainingLoop {
    let loop = try TrainingLoop(step: step, data: data, epochs: 3, outputDirectory: directory)
    loop.log = { _ in }
    loop.progress = { _ in }
    loop.epochEnd = { epoch in ["half_epoch": Double(epoch) / 2] }
    return loop
}

@Suite struct TrainingLoopTests {
    @Test func aStoppedRunResumesExactlyAndIsDrawn() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-loop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = try Batches(stripes(), batchSize: 8, content: .labeledImages(), seed: 2)
        #expect(data.stepsPerEpoch == 8)

        // Uninterrupted: 3 epochs of 8 steps; its last line says where the time went.
        let whole = try makeStep(try classifier())
        let wholeLoop = try makeLoop(whole, data, root + "/whole")
        nonisolated(unsafe) var lines: [String] = []
        wholeLoop.log = { lines.append($0) }
        let wholeLoss = try wholeLoop.run()
        #expect(whole.stepsTaken == 24)
        let summary = try #require(lines.last)
        #expect(summary.hasPrefix("time: 24 steps, ") && summary.contains("epoch-end measures") && summary.hasSuffix(" s of steps)"), "\(summary)")

        // Stopped mid-epoch at step 13, then a fresh step restored from the checkpoint.
        let first = try makeStep(try classifier())
        try makeLoop(first, data, root + "/split").run(stopAt: 13)
        #expect(first.stepsTaken == 13)
        let resumed = try makeStep(try classifier())
        let loop = try makeLoop(resumed, data, root + "/split")
        try resumed.restore(from: loop.checkpointPath)
        #expect(resumed.stepsTaken == 13)
        let resumedLoss = try loop.run()

        #expect(resumedLoss == wholeLoss)
        #expect(resumed.variables == whole.variables)
        // The logs agree but for timing.
        func comparable(_ path: String) throws -> [[String: String]] {
            try MetricsLog.read(path).map { record in
                record.filter { !["images_per_second", "step_seconds", "data_wait_fraction", "data_preparation_fraction"].contains($0.key) }
                    .mapValues { "\($0)" }
            }
        }
        let log = try comparable(root + "/whole/metrics.jsonl")
        #expect(try comparable(root + "/split/metrics.jsonl") == log)
        #expect(log.filter { $0["half_epoch"] != nil }.map { $0["half_epoch"]! } == ["0.5", "1", "1.5"])
        #expect(log.filter { $0["loss"] != nil }.count == 3)   // steps 10, 20 and the last

        // It learned (the classes differ by 0.5 in brightness), and drew the loss and the metric.
        #expect(wholeLoss < 0.5, "final loss \(wholeLoss)")
        for name in ["loss.svg", "half_epoch.svg"] {
            let svg = try String(contentsOfFile: root + "/whole/" + name, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("polyline"), "\(name)")
        }
    }

    @Test func dataThatDoesNotFitTheModelIsRefusedBeforeTraining() throws {
        let data = try Batches(stripes(), batchSize: 8, content: .labeledImages(), seed: 2)
        let step = try makeStep(try classifier(height: 5))
        let error = try #require(throws: Diagnostic.self) {
            try TrainingLoop(step: step, data: data, epochs: 1, outputDirectory: "/nonexistent")
        }
        #expect(error.message.contains("images"), "\(error.message)")
        #expect(error.message.contains("f32[8,1,5,4]") && error.message.contains("f32[8,1,4,4]"), "\(error.message)")
        #expect(step.stepsTaken == 0)
    }
}
