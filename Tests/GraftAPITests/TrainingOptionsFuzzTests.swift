// TrainingOptionsFuzzTests: the run's options a checkpoint stores, mutated at random, are
// accepted only inside the rules of the flags (so a resumed run's arithmetic cannot trap), or
// refused with an error naming the file; and the same options always write the same bytes.

import Testing
import Foundation
import Graft
import GraftTestSupport

@Suite struct TrainingOptionsFuzzTests {
    let valid = TrainingOptions(model: "byol-t", dataDirectory: "data", epochs: 3, batchSize: 32, outputDirectory: "runs/t")

    /// A checkpoint's metadata holding `json` as its options.
    func checkpoint(options json: String) -> Checkpoint {
        Checkpoint(metadata: ["format": TrainingStep.checkpointFormat, "options": json])
    }

    @Test func mutatedOptionsAreRefusedOrSafeToTrainWith() throws {
        let campaign = FuzzCampaign("training-options", defaultCases: 400)
        let json = try #require(try TrainingCheckpoint.metadata(valid)["options"])
        var outcomes: [String: Int] = [:]
        defer { campaign.report(outcomes) }
        for index in 0..<campaign.cases {
            var random = campaign.random(index)
            var text = json.replacingOccurrences(of: ",", with: ",\n")
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                text = Mutate.text(text, words: ["null", "\"\"", "true", "[]", "{}", "-1", "1e999"], &random)
            }
            text = text.replacingOccurrences(of: ",\n", with: ",")
            do {
                let options = try TrainingCheckpoint.options(of: checkpoint(options: text), path: "fuzz.safetensors")
                #expect(options.problem == nil, "\(campaign.label(index))")
                outcomes["accepted", default: 0] += 1
                // What Trainer computes from them, at the largest steps per epoch the limits allow.
                let stepsPerEpoch = TrainingOptions.limits.images / options.batchSize
                let totalSteps = options.epochs * stepsPerEpoch
                let schedule = LearningRateSchedule(base: options.learningRate ?? 0.2, warmupSteps: Int(options.warmupEpochs * Double(stepsPerEpoch)),
                                                    totalSteps: totalSteps)
                #expect(schedule.value(atStep: totalSteps - 1).isFinite, "\(campaign.label(index)): \(text)")
            } catch let error as Diagnostic {
                outcomes["refused", default: 0] += 1
                #expect(error.message.contains("fuzz.safetensors"), "\(campaign.label(index)): \(error)")
            }
        }
    }

    @Test func everyRuleOfTheFlagsHoldsForStoredOptions() throws {
        let cases: [(String, Any, String)] = [("batchSize", 0, "--batch-size"), ("minimumCropScale", 2.0, "--min-crop-scale"),
                                              ("warmupEpochs", -1.0, "--warmup-epochs"), ("epochs", Int.max, "--epochs"),
                                              ("tauBase", 1.5, "--tau-base"), ("learningRate", 0.0, "--lr")]
        for (key, value, flag) in cases {
            let json = try #require(try TrainingCheckpoint.metadata(valid)["options"])
            var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            object[key] = value
            let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            #expect {
                try TrainingCheckpoint.options(of: checkpoint(options: text), path: "ck.safetensors")
            } throws: { error in
                "\(error)".contains("'ck.safetensors': the run's options stored in it are invalid: \(flag) must be")
            }
        }
    }

    @Test func theOptionsAreWrittenWithSortedKeys() throws {
        let json = try #require(try TrainingCheckpoint.metadata(valid)["options"])
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys.sorted()
        let positions = keys.map { json.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted(), "\(json)")
    }
}
