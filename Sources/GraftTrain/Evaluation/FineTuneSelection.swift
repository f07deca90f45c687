// FineTuneSelection: the held-out protocol of semi-supervised fine-tuning. The training set is
// split into held-out images and a labelled subset; every setting of a small grid is
// fine-tuned on the labelled subset, and the one with the best held-out accuracy is chosen.
// The test set is measured for every setting, so the whole table can be printed, but never
// takes part in the choice.

import GraftIR
import GraftData

/// The classifier fine-tuning starts from. Neither suits every encoder (Docs/Results.md): a
/// random head's first, large gradients scramble a pretrained encoder, and a probe of poorly
/// scaled features, such as a random-init encoder's, has huge weights that make fine-tuning
/// fail.
public enum FineTuneHead: String, Sendable, CaseIterable {
    /// Drawn from the classifier's initializer.
    case random
    /// The linear probe of the labelled subset's frozen features (LP-FT).
    case probe
}

/// One setting of fine-tuning: what the held-out protocol chooses among.
public struct FineTuneSetting: Hashable, Sendable {
    /// The base of the cosine learning rate schedule.
    public var learningRate: Double
    /// The classifier at the start.
    public var head: FineTuneHead

    public init(learningRate: Double, head: FineTuneHead) {
        self.learningRate = learningRate
        self.head = head
    }

    /// The learning rates searched by default: a factor of about 3 apart, from a fifth of the
    /// 0.05 used before the held-out protocol to 60 times it. On Fashion-MNIST the held-out
    /// choice is 0.3 for the random-init encoder and 1.0 for BYOL's, each with a rate on both
    /// sides of it (Docs/Results.md); a grid that stopped at 0.3 left BYOL's best outside.
    public static let defaultLearningRates = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]

    /// Every pair of `heads` and `learningRates`, in that order: each head's learning rates
    /// in the order given. Among settings of equal held-out accuracy the first wins.
    public static func grid(learningRates: [Double] = defaultLearningRates, heads: [FineTuneHead] = FineTuneHead.allCases) -> [FineTuneSetting] {
        heads.flatMap { head in learningRates.map { FineTuneSetting(learningRate: $0, head: head) } }
    }
}

/// The training set's images for semi-supervised fine-tuning: a held-out split that chooses
/// the setting, and the labelled subset fine-tuned on. Both are fixed for a seed,
/// class-balanced and disjoint.
public struct FineTuneSplit: Equatable, Sendable {
    /// Indices of the held-out images, ascending.
    public var heldOut: [Int]
    /// Indices of the labelled images, ascending.
    public var labelled: [Int]

    /// The held-out images by default: 5,000 of Fashion-MNIST's 60,000, in proportion for
    /// other sizes (a twelfth, at least one).
    public static func defaultHeldOut(trainingImages: Int) -> Int { Swift.max(1, trainingImages / 12) }

    /// Shuffles each class of `dataset` with `seed`; the first `heldOut / count` of it (at
    /// least one image) is held out, and the next `labelFraction` of the class's whole size (at
    /// least one image) is labelled: 1% of the labels means 600 labelled images of 60,000
    /// whatever is held out. A `labelFraction` of 1 labels every image not held out.
    ///
    /// - Throws: a `Diagnostic` when a class has too few images for both.
    public init(_ dataset: Dataset, labelFraction: Double, heldOut: Int, seed: UInt64 = 2020) throws {
        precondition(labelFraction > 0 && heldOut > 0 && dataset.count > 0, "FineTuneSplit: \(labelFraction) of the labels, \(heldOut) held out, \(dataset.count) images")
        var byClass = [[Int]](repeating: [], count: dataset.classes)
        for index in 0..<dataset.count { byClass[Int(dataset.labels[index])].append(index) }
        let heldOutFraction = Double(heldOut) / Double(dataset.count)
        var generator = SplitMix64(seed: seed)
        var heldOutIndices: [Int] = [], labelledIndices: [Int] = []
        for (label, var members) in byClass.enumerated() where !members.isEmpty {
            members.shuffle(using: &generator)
            let held = Swift.max(1, Int((Double(members.count) * heldOutFraction).rounded()))
            let labelled = labelFraction >= 1 ? members.count - held : Swift.max(1, Int((Double(members.count) * labelFraction).rounded()))
            guard labelled > 0, held + labelled <= members.count else {
                throw Diagnostic("class \(label) of \(dataset.name) has \(members.count) images, too few for \(held) held out and \(Swift.max(labelled, 1)) labelled")
            }
            heldOutIndices += members.prefix(held)
            labelledIndices += members[held..<(held + labelled)]
        }
        self.heldOut = heldOutIndices.sorted()
        self.labelled = labelledIndices.sorted()
    }
}

/// What one setting gave: its accuracy on the held-out images and on the test set.
public struct FineTuneOutcome: Equatable, Sendable {
    /// The accuracies of a run that did not diverge.
    public struct Accuracy: Equatable, Sendable {
        public var heldOut: Double
        public var test: Double

        public init(heldOut: Double, test: Double) {
            self.heldOut = heldOut
            self.test = test
        }
    }

    public var setting: FineTuneSetting
    /// Nil when the loss diverged.
    public var accuracy: Accuracy?

    public init(setting: FineTuneSetting, accuracy: Accuracy?) {
        self.setting = setting
        self.accuracy = accuracy
    }
}

/// Every setting's outcome and the one chosen by held-out accuracy.
public struct FineTuneSelection: Sendable {
    /// In grid order.
    public var candidates: [FineTuneOutcome]
    /// The index in `candidates` of the chosen setting.
    public var chosenIndex: Int
    /// The number of held-out and of labelled images.
    public var heldOutImages: Int, labelledImages: Int

    /// Chooses among `candidates` by held-out accuracy.
    ///
    /// - Throws: a `Diagnostic` when every candidate diverged.
    public init(candidates: [FineTuneOutcome], heldOutImages: Int, labelledImages: Int) throws {
        guard let chosen = FineTuneSelection.choose(candidates) else {
            let rates = candidates.map { "\($0.setting.learningRate)" }
            throw Diagnostic("fine-tuning diverged at every learning rate tried (\(rates.joined(separator: ", "))); try lower ones")
        }
        self.candidates = candidates
        self.chosenIndex = chosen
        self.heldOutImages = heldOutImages
        self.labelledImages = labelledImages
    }

    /// The chosen setting and its accuracies.
    public var chosen: FineTuneOutcome { candidates[chosenIndex] }

    /// The chosen setting's test accuracy: the protocol's result.
    public var testAccuracy: Double {
        guard let accuracy = chosen.accuracy else { fatalError("FineTuneSelection: the chosen candidate diverged") }
        return accuracy.test
    }

    /// A warning when the chosen learning rate is the largest or the smallest of several
    /// tried: the best may lie outside the grid. Nil otherwise.
    public var edgeWarning: String? {
        let rates = Set(candidates.map(\.setting.learningRate))
        guard rates.count > 1, let low = rates.min(), let high = rates.max() else { return nil }
        let rate = chosen.setting.learningRate
        guard rate == low || rate == high else { return nil }
        return "the chosen learning rate, \(rate), is the \(rate == high ? "largest" : "smallest") tried; a \(rate == high ? "larger" : "smaller") one may do better: add it to --finetune-lr"
    }

    /// The index of the candidate with the best held-out accuracy, the first of equals;
    /// candidates that diverged are never chosen, and test accuracy is never read. Nil when
    /// every candidate diverged.
    public static func choose(_ candidates: [FineTuneOutcome]) -> Int? {
        var best: (index: Int, accuracy: Double)?
        for (index, candidate) in candidates.enumerated() {
            guard let accuracy = candidate.accuracy?.heldOut else { continue }
            if best == nil || accuracy > best!.accuracy { best = (index, accuracy) }
        }
        return best?.index
    }
}
