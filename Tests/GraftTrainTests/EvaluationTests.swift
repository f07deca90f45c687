// The evaluation protocols' building blocks against hand-checkable cases: the semi-supervised
// split and the held-out choice of a fine-tuning setting, the linear probe's classifier on raw
// features; and the held-out protocol through the `graft` binary.

import Testing
import Foundation
import GraftIR
import GraftData
import GraftModels
import GraftTestSupport
@testable import GraftTrain

@Suite struct EvaluationTests {
    /// 10 classes of 50 images each, labels interleaved.
    let dataset = Dataset(name: "toy", images: [Float](repeating: 0, count: 500), labels: (0..<500).map { Int32($0 % 10) },
                          channels: 1, height: 1, width: 1, classes: 10)

    @Test func fineTuneSplitIsDisjointClassBalancedAndSeeded() throws {
        let split = try FineTuneSplit(dataset, labelFraction: 0.1, heldOut: 100)
        #expect(split.heldOut.count == 100 && split.labelled.count == 50)   // 10% of all 500 labelled, whatever is held out
        #expect(Set(split.heldOut).isDisjoint(with: split.labelled))
        for c in 0..<10 {
            #expect(split.heldOut.filter { dataset.labels[$0] == Int32(c) }.count == 10)
            #expect(split.labelled.filter { dataset.labels[$0] == Int32(c) }.count == 5)
        }
        for indices in [split.heldOut, split.labelled] { #expect(indices == indices.sorted() && Set(indices).count == indices.count) }
        #expect(try FineTuneSplit(dataset, labelFraction: 0.1, heldOut: 100) == split)                     // fixed
        let reseeded = try FineTuneSplit(dataset, labelFraction: 0.1, heldOut: 100, seed: 7)
        #expect(reseeded.heldOut != split.heldOut && reseeded.labelled != split.labelled)                   // seeded
        // The labelled subset does not depend on the held-out size beyond excluding its images.
        #expect(try FineTuneSplit(dataset, labelFraction: 0.1, heldOut: 200).labelled.count == 50)
        // At least one image of every class, however small the fraction; all the rest at 100%.
        let tiny = try FineTuneSplit(dataset, labelFraction: 0.001, heldOut: 1)
        #expect(Set(tiny.labelled.map { dataset.labels[$0] }).count == 10 && Set(tiny.heldOut.map { dataset.labels[$0] }).count == 10)
        let all = try FineTuneSplit(dataset, labelFraction: 1, heldOut: 100)
        #expect(Set(all.labelled + all.heldOut) == Set(0..<500) && all.labelled.count == 400)
        // 45 of each class's 50 held out leaves too few for 5 labelled.
        #expect(throws: Diagnostic.self) { try FineTuneSplit(dataset, labelFraction: 0.1, heldOut: 460) }
        #expect(FineTuneSplit.defaultHeldOut(trainingImages: 60_000) == 5_000 && FineTuneSplit.defaultHeldOut(trainingImages: 5) == 1)
    }

    @Test func gridListsEachHeadsLearningRatesInOrder() {
        let r = FineTuneHead.random, p = FineTuneHead.probe
        #expect(FineTuneSetting.grid(learningRates: [0.3, 0.01]).map { [$0.learningRate: $0.head] }
                == [[0.3: r], [0.01: r], [0.3: p], [0.01: p]])
        #expect(FineTuneSetting.grid(learningRates: [0.1], heads: [p]) == [FineTuneSetting(learningRate: 0.1, head: p)])
    }

    /// Held-out and test accuracies that disagree: the choice follows the held-out ones only.
    @Test func selectionChoosesTheBestHeldOutSettingNotTheBestTestOne() throws {
        func outcome(_ lr: Double, _ accuracy: (heldOut: Double, test: Double)?) -> FineTuneOutcome {
            FineTuneOutcome(setting: FineTuneSetting(learningRate: lr, head: .random), accuracy: accuracy.map { .init(heldOut: $0.heldOut, test: $0.test) })
        }
        let candidates = [outcome(0.01, (0.70, 0.95)), outcome(0.03, (0.80, 0.60)), outcome(0.1, (0.75, 0.90)), outcome(0.3, nil)]
        #expect(FineTuneSelection.choose(candidates) == 1)
        let selection = try FineTuneSelection(candidates: candidates, heldOutImages: 50, labelledImages: 10)
        #expect(selection.chosen.setting.learningRate == 0.03 && selection.testAccuracy == 0.60)
        // Equal held-out accuracies: the first in grid order, whatever the test says.
        #expect(FineTuneSelection.choose([outcome(0.01, (0.8, 0.1)), outcome(0.03, (0.8, 0.9))]) == 0)
        // A diverged setting is never chosen, even first; when all diverge there is no choice.
        #expect(FineTuneSelection.choose([outcome(0.3, nil), outcome(0.01, (0, 0))]) == 1)
        #expect(FineTuneSelection.choose([outcome(0.3, nil)]) == nil)
        #expect(throws: Diagnostic.self) { try FineTuneSelection(candidates: [outcome(0.3, nil)], heldOutImages: 50, labelledImages: 10) }
        // Inside the grid nothing is said; at its edges the best may lie beyond it.
        #expect(selection.edgeWarning == nil)
        let largest = try FineTuneSelection(candidates: [outcome(0.01, (0.5, 0.5)), outcome(0.3, (0.7, 0.7))], heldOutImages: 50, labelledImages: 10)
        #expect(largest.edgeWarning == "the chosen learning rate, 0.3, is the largest tried; a larger one may do better: add it to --finetune-lr")
        let smallest = try FineTuneSelection(candidates: [outcome(0.01, (0.9, 0.5)), outcome(0.3, (0.7, 0.7))], heldOutImages: 50, labelledImages: 10)
        #expect(smallest.edgeWarning?.hasPrefix("the chosen learning rate, 0.01, is the smallest tried") == true)
        #expect(try FineTuneSelection(candidates: [outcome(0.1, (0.5, 0.5))], heldOutImages: 50, labelledImages: 10).edgeWarning == nil)
    }

    /// `graft eval --protocol finetune` on a few hundred images: the table of candidates, the
    /// choice by held-out accuracy, a fixed setting reproducing its row, and bad flags refused.
    @Test func fineTuningThroughTheCLIChoosesOnHeldOutImages() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("graft-finetune-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        try writeSmallDataset(to: data, train: 300, test: 100)
        let base = ["eval", "--baseline", "random-init", "--model", "byol-t", "--protocol", "finetune", "--labels", "10%",
                    "--finetune-epochs", "30", "--data", data.path]   // 30 steps of 30 images: the settings differ

        let grid = try run(try graftBinary(), base + ["--finetune-lr", "0.01,0.3", "--json"])
        #expect(grid.status == 0, "\(grid.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(grid.stdout.utf8)) as? [String: Any], "\(grid.stdout)")
        let selection = try #require(result["finetune_selection"] as? [String: Any])
        let candidates = try #require(selection["candidates"] as? [[String: Any]])
        #expect(candidates.map { "\($0["head"]!) \($0["learning_rate"]!)" } == ["random 0.01", "random 0.3", "probe 0.01", "probe 0.3"])
        #expect(selection["held_out_images"] as? Int == 30 && selection["labelled_images"] as? Int == 30)   // 3 and 3 of each class's 30
        let heldOut = candidates.map { $0["held_out"] as? Double ?? -1 }
        #expect(Set(heldOut).count > 1, "every setting scored the same, so the choice below is not tested: \(candidates)")
        let best = try #require(heldOut.firstIndex(of: heldOut.max()!))
        #expect(selection["learning_rate"] as? Double == candidates[best]["learning_rate"] as? Double)
        #expect(selection["head"] as? String == candidates[best]["head"] as? String)
        #expect(result["finetune_10%"] as? Double == candidates[best]["test"] as? Double)

        // Both fixed: one candidate, on the same split, so the same accuracies as its row.
        let fixed = try run(try graftBinary(), base + ["--finetune-lr", "0.3", "--finetune-head", "random"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let rows = fixed.stdout.split(separator: "\n").filter { $0.hasPrefix("0.") }
        #expect(rows.count == 1 && rows[0].hasSuffix("<- chosen"), "\(fixed.stdout)")
        let percent = { (value: Any?) in String(format: "%.2f%%", (value as? Double ?? -1) * 100) }
        #expect(rows.first?.split(separator: " ").map(String.init) == ["0.3", "random", percent(candidates[1]["held_out"]), percent(candidates[1]["test"]), "<-", "chosen"],
                "\(fixed.stdout)")

        for (flags, named) in [(["--held-out", "0"], "--held-out"), (["--finetune-lr", "0.1,abc"], "--finetune-lr"),
                               (["--finetune-lr", "-0.1"], "--finetune-lr"), (["--held-out", "290"], "--held-out")] {
            let refused = try run(try graftBinary(), base + flags)
            #expect(refused.status != 0 && refused.stderr.contains(named), "\(flags): \(refused.stderr)")
        }
    }

    /// Three classes separated along one feature, on features far from zero and badly scaled:
    /// the classifier `fit` returns applies to the raw features (the standardisation folded
    /// into it), so it must still separate them.
    /// The extractor's copies of the encoder each encode batches of their own; the features are
    /// one copy's, row for row, whatever the number of copies, with ragged last batches (21 images
    /// in batches of 8: two copies take 8 + 8, then 5 + none; three take 8 + 8 + 5).
    @Test func featuresAreTheSameOnAnyNumberOfThreads() throws {
        let count = 21, pixels = 28 * 28
        let images = (0..<(count * pixels)).map { Float(($0 * 7919 + $0 / pixels * 104_729) % 1000) / 1000 }
        let data = Dataset(name: "patterns", images: images, labels: (0..<count).map { Int32($0 % 10) },
                           channels: 1, height: 28, width: 28, classes: 10)
        let one = try FeatureExtractor(encoder: .tiny, batchSize: 8, threads: 1)
        let expected = try one.features(of: data)
        let size = one.featureSize
        #expect(expected.count == count * size)
        let expectedRows: [[Float]] = (0..<count).map { Array(expected[($0 * size)..<(($0 + 1) * size)]) }
        #expect(Set(expectedRows).count == count)   // every image its own
        for threads in [2, 3] {
            let many = try FeatureExtractor(encoder: .tiny, batchSize: 8, threads: threads)
            #expect(many.replicas.executables.count == threads)
            #expect(try many.features(of: data) == expected, "\(threads) threads")
        }
        #expect(try FeatureExtractor(encoder: .tiny, batchSize: 5, threads: 2).features(of: data) == expected)   // nor on the batch size
        // An image's features do not depend on its batch: the images in reverse give the rows in reverse.
        let reversedImages: [Float] = (0..<count).reversed().flatMap { Array(images[($0 * pixels)..<(($0 + 1) * pixels)]) }
        let reversed = Dataset(name: "reversed", images: reversedImages,
                               labels: data.labels.reversed(), channels: 1, height: 28, width: 28, classes: 10)
        let features = try FeatureExtractor(encoder: .tiny, batchSize: 8, threads: 2).features(of: reversed)
        let rows: [[Float]] = (0..<count).map { Array(features[($0 * size)..<(($0 + 1) * size)]) }
        let unreversed: [Float] = rows.reversed().flatMap { $0 }
        #expect(unreversed == expected)
    }

    @Test func linearProbeClassifierAppliesToRawFeatures() throws {
        var features: [Float] = [], labels: [Int32] = []
        for i in 0..<300 {
            let c = i % 3
            let jitter = Float((i * 37) % 11) / 11 - 0.5
            features += [1000 + 0.01 * (Float(c) * 3 + jitter), -50 + 20 * jitter]
            labels.append(Int32(c))
        }
        let probe = LinearProbe(epochs: 40)
        let (weight, bias) = try probe.fit(features, labels, dimension: 2, classes: 3)
        #expect(LinearProbe.accuracy(features, labels, weight, bias, dimension: 2, classes: 3) == 1)
        let (train, test) = try probe.evaluate(train: features, trainLabels: labels, test: features, testLabels: labels, dimension: 2, classes: 3)
        #expect(train == 1 && test == 1)
    }
}
