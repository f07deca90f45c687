// AugmentationKind: the augmentations a run keeps, by name, for the paper's ablation that
// removes them one at a time.

import GraftIR

/// One of BYOL's image transformations, as `graft train --augmentations` names it.
public enum AugmentationKind: String, Sendable, CaseIterable {
    /// The random resized crop (without it: the whole image).
    case crop
    /// The horizontal flip.
    case flip
    /// Colour jitter and (3 channels) grayscale.
    case color
    /// The Gaussian blur.
    case blur
    /// Solarize (the second view only).
    case solarize

    /// The kinds named in `list`, comma-separated, in `allCases` order ("all": every kind).
    /// - Throws: a `Diagnostic` for an empty list, an unknown name or a repeated one.
    public static func parseList(_ list: String) throws -> [AugmentationKind] {
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { !$0.isWhitespace }) }
        let known = allCases.map(\.rawValue).joined(separator: ", ")
        if names == ["all"] { return allCases }
        var kinds = Set<AugmentationKind>()
        for name in names {
            guard let kind = AugmentationKind(rawValue: name) else {
                throw Diagnostic(name.isEmpty ? "--augmentations has an empty name in '\(list)'; list some of: \(known) (or 'all')"
                                              : "--augmentations: unknown augmentation '\(name)'; the augmentations are: \(known) (or 'all')")
            }
            guard kinds.insert(kind).inserted else {
                throw Diagnostic("--augmentations names '\(name)' twice in '\(list)'; name each at most once")
            }
        }
        return allCases.filter(kinds.contains)
    }
}

extension Augmentation {
    /// This transformation with only `kinds` left: every other one's probability set to 0,
    /// and without `crop`, a crop of the whole image (scale 1, ratio 1).
    public func keeping(_ kinds: [AugmentationKind]) -> Augmentation {
        var kept = self
        let kinds = Set(kinds)
        if !kinds.contains(.crop) {
            kept.cropScale = 1...1
            kept.cropRatio = 1...1
        }
        if !kinds.contains(.flip) { kept.flipProbability = 0 }
        if !kinds.contains(.color) {
            kept.jitterProbability = 0
            kept.grayscaleProbability = 0
        }
        if !kinds.contains(.blur) { kept.blurProbability = 0 }
        if !kinds.contains(.solarize) { kept.solarizeProbability = 0 }
        return kept
    }
}
