// Augmentation: one of BYOL's random image transformations (T or T′) and how it is applied.

import GraftIR

/// A random transformation of one image: random resized crop, horizontal flip, colour jitter,
/// grayscale, Gaussian blur and solarize, in that order, each with its own probability.
///
/// Operations that need colour (saturation, hue, grayscale) are skipped for 1-channel images.
///
/// ```swift
/// var rng = SplitMix64(seed: 7)
/// let view = Augmentation.byolT.apply(to: pixels, shape: ImageShape(channels: 1, height: 28, width: 28), using: &rng)
/// ```
public struct Augmentation: Hashable, Sendable {
    /// Area fraction of the crop, drawn uniformly.
    public var cropScale: ClosedRange<Double> = 0.08 ... 1
    /// Width/height of the crop, drawn log-uniformly.
    public var cropRatio: ClosedRange<Double> = 3.0 / 4 ... 4.0 / 3
    /// Probability of mirroring left-right.
    public var flipProbability = 0.5
    /// Probability of applying colour jitter.
    public var jitterProbability = 0.8
    /// Brightness: add a value drawn from `U[-brightness, brightness]`.
    public var brightness = 0.4
    /// Contrast: scale around the channel mean by `U[1 - contrast, 1 + contrast]`.
    public var contrast = 0.4
    /// Saturation: scale HSV saturation by `U[1 - saturation, 1 + saturation]` (3 channels).
    public var saturation = 0.2
    /// Hue: rotate by `U[-hue, hue]` turns (3 channels).
    public var hue = 0.1
    /// Probability of converting to grayscale (3 channels).
    public var grayscaleProbability = 0.2
    /// Probability of a Gaussian blur.
    public var blurProbability = 1.0
    /// Standard deviation of the blur, drawn uniformly.
    public var blurSigma: ClosedRange<Double> = 0.1 ... 2.0
    /// Blur taps; nil picks `ImageOps.blurKernelSize` (a tenth of the image, odd, at least 3).
    public var blurKernelSize: Int? = nil
    /// Probability of solarizing.
    public var solarizeProbability = 0.0

    /// Every parameter given explicitly; defaults are BYOL's T.
    public init() {}

    /// BYOL's T (first view): blur always, never solarize.
    public static let byolT = Augmentation()

    /// BYOL's T′ (second view): blur with probability 0.1, solarize with probability 0.2.
    public static let byolTPrime: Augmentation = {
        var t = Augmentation()
        t.blurProbability = 0.1
        t.solarizeProbability = 0.2
        return t
    }()

    /// Nothing but a full-image crop: the output equals the input.
    public static let identity: Augmentation = {
        var t = Augmentation()
        t.cropScale = 1 ... 1
        t.flipProbability = 0
        t.jitterProbability = 0
        t.grayscaleProbability = 0
        t.blurProbability = 0
        t.solarizeProbability = 0
        return t
    }()

    /// Floats of scratch space `apply(_:_:into:scratch:using:)` needs for an image of `shape`.
    public static func scratchSize(_ shape: ImageShape) -> Int { shape.size }

    /// Transforms `source` into `output` (both `shape`), drawing every random choice from `rng`.
    public func apply(_ source: UnsafeBufferPointer<Float>, _ shape: ImageShape, into output: UnsafeMutableBufferPointer<Float>,
                      scratch: UnsafeMutableBufferPointer<Float>, using rng: inout SplitMix64) {
        let box = ImageOps.randomCropBox(height: shape.height, width: shape.width, scale: cropScale, ratio: cropRatio, using: &rng)
        ImageOps.resizedCrop(source, shape, box: box, into: output)
        if happens(flipProbability, &rng) {
            ImageOps.flipHorizontal(output, shape)
        }
        if happens(jitterProbability, &rng) {
            colorJitter(output, shape, using: &rng)
        }
        if shape.channels == 3, happens(grayscaleProbability, &rng) {
            ImageOps.grayscale(output, shape)
        }
        if happens(blurProbability, &rng) {
            let sigma = Float(ImageOps.uniform(blurSigma.lowerBound, blurSigma.upperBound, &rng))
            ImageOps.gaussianBlur(output, shape, sigma: sigma, kernelSize: blurKernelSize ?? ImageOps.blurKernelSize(shape), scratch: scratch)
        }
        if happens(solarizeProbability, &rng) {
            ImageOps.solarize(output)
        }
    }

    /// Transforms one image held in an array.
    public func apply(to image: [Float], shape: ImageShape, using rng: inout SplitMix64) -> [Float] {
        precondition(image.count == shape.size, "image of \(image.count) floats is not \(shape)")
        var output = [Float](repeating: 0, count: shape.size)
        var scratch = [Float](repeating: 0, count: Self.scratchSize(shape))
        image.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out in
                scratch.withUnsafeMutableBufferPointer { apply(source, shape, into: out, scratch: $0, using: &rng) }
            }
        }
        return output
    }

    /// Brightness, contrast and (3 channels) saturation and hue, in a random order, each
    /// clipping to `[0, 1]`.
    private func colorJitter(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape, using rng: inout SplitMix64) {
        var order = shape.channels == 3 ? [0, 1, 2, 3] : [0, 1]
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        for step in order {
            switch step {
            case 0: ImageOps.adjustBrightness(image, delta: Float(ImageOps.uniform(-brightness, brightness, &rng)))
            case 1: ImageOps.adjustContrast(image, shape, factor: Float(ImageOps.uniform(1 - contrast, 1 + contrast, &rng)))
            case 2: ImageOps.adjustSaturation(image, shape, factor: Float(ImageOps.uniform(1 - saturation, 1 + saturation, &rng)))
            default: ImageOps.adjustHue(image, shape, delta: Float(ImageOps.uniform(-hue, hue, &rng)))
            }
        }
    }

    private func happens(_ probability: Double, _ rng: inout SplitMix64) -> Bool {
        probability > 0 && rng.nextUnit() < probability
    }
}
