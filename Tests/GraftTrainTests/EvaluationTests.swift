// The evaluation protocols' building blocks against hand-checkable cases: the semi-supervised
// label subsets and the linear probe's classifier on raw features.

import Testing
import GraftData
@testable import GraftTrain

@Suite struct EvaluationTests {
    /// 10 classes of 50 images each, labels interleaved.
    let dataset = Dataset(name: "toy", images: [Float](repeating: 0, count: 500), labels: (0..<500).map { Int32($0 % 10) },
                          channels: 1, height: 1, width: 1, classes: 10)

    @Test func labelSubsetsAreClassBalancedSeededAndFixed() {
        let tenth = Evaluation.labelSubset(dataset, fraction: 0.1)
        #expect(tenth.count == 50)
        for c in 0..<10 { #expect(tenth.filter { dataset.labels[$0] == Int32(c) }.count == 5) }
        #expect(tenth == Evaluation.labelSubset(dataset, fraction: 0.1))          // fixed
        #expect(tenth != Evaluation.labelSubset(dataset, fraction: 0.1, seed: 7))  // seeded
        #expect(tenth == tenth.sorted() && Set(tenth).count == tenth.count)
        // At least one image of every class, however small the fraction.
        let tiny = Evaluation.labelSubset(dataset, fraction: 0.001)
        #expect(Set(tiny.map { dataset.labels[$0] }).count == 10)
        #expect(Evaluation.labelSubset(dataset, fraction: 1) == Array(0..<500))
    }

    /// Three classes separated along one feature, on features far from zero and badly scaled:
    /// the classifier `fit` returns applies to the raw features (the standardisation folded
    /// into it), so it must still separate them.
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
