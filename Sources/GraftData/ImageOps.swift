// ImageOps: the pixel operations augmentations are made of, on one [C, H, W] image in place.

import Foundation
import GraftIR

/// The shape of one image, `[channels, height, width]`.
public struct ImageShape: Hashable, Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }
    /// Pixels per channel.
    public var plane: Int { height * width }
    /// Floats per image.
    public var size: Int { channels * height * width }
}

/// A rectangle of an image: rows `top ..< top + height`, columns `left ..< left + width`.
public struct CropBox: Hashable, Sendable {
    public var top: Int
    public var left: Int
    public var height: Int
    public var width: Int
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top
        self.left = left
        self.height = height
        self.width = width
    }
}

/// The operations of BYOL's augmentations, each on one image `[C, H, W]` with values in `[0, 1]`.
public enum ImageOps {
    /// torchvision's `RandomResizedCrop.get_params`: up to 10 tries at a box whose area is a
    /// fraction `scale` of the image and whose width/height is log-uniform in `ratio`, then a
    /// centre crop with the ratio clamped into `ratio`.
    public static func randomCropBox(height: Int, width: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                                     using rng: inout SplitMix64) -> CropBox {
        let area = Double(height * width)
        let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
        for _ in 0 ..< 10 {
            let target = area * uniform(scale.lowerBound, scale.upperBound, &rng)
            let aspect = exp(uniform(logRatio.0, logRatio.1, &rng))
            let w = Int((target * aspect).squareRoot().rounded())
            let h = Int((target / aspect).squareRoot().rounded())
            if w > 0, w <= width, h > 0, h <= height {
                let top = Int(rng.next() % UInt64(height - h + 1))
                let left = Int(rng.next() % UInt64(width - w + 1))
                return CropBox(top: top, left: left, height: h, width: w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded())
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded())
        }
        return CropBox(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// Resamples `box` of `source` to the full image size with bilinear interpolation (half-pixel
    /// centres, as `align_corners=False`; samples clamped to the box), writing `output`.
    /// A box the size of the image copies it exactly.
    public static func resizedCrop(_ source: UnsafeBufferPointer<Float>, _ shape: ImageShape, box: CropBox,
                                   into output: UnsafeMutableBufferPointer<Float>) {
        let (rows, rowWeights) = samplePositions(count: shape.height, start: box.top, length: box.height)
        let (cols, colWeights) = samplePositions(count: shape.width, start: box.left, length: box.width)
        for c in 0 ..< shape.channels {
            let plane = c * shape.plane
            for y in 0 ..< shape.height {
                let r0 = plane + rows[y].0 * shape.width, r1 = plane + rows[y].1 * shape.width
                let wy = rowWeights[y]
                let out = plane + y * shape.width
                for x in 0 ..< shape.width {
                    let (c0, c1) = cols[x]
                    let wx = colWeights[x]
                    let top = source[r0 + c0] + wx * (source[r0 + c1] - source[r0 + c0])
                    let bottom = source[r1 + c0] + wx * (source[r1 + c1] - source[r1 + c0])
                    output[out + x] = top + wy * (bottom - top)
                }
            }
        }
    }

    /// For each of `count` output positions, the two source indices and the weight of the second.
    static func samplePositions(count: Int, start: Int, length: Int) -> ([(Int, Int)], [Float]) {
        let step = Double(length) / Double(count)
        var indices = [(Int, Int)](), weights = [Float]()
        indices.reserveCapacity(count)
        weights.reserveCapacity(count)
        for i in 0 ..< count {
            let position = Swift.min(Swift.max((Double(i) + 0.5) * step - 0.5, 0), Double(length - 1))
            let lower = Int(position)
            indices.append((start + lower, start + Swift.min(lower + 1, length - 1)))
            weights.append(Float(position - Double(lower)))
        }
        return (indices, weights)
    }

    /// Mirrors every row.
    public static func flipHorizontal(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape) {
        for row in 0 ..< shape.channels * shape.height {
            var i = row * shape.width, j = i + shape.width - 1
            while i < j {
                image.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
    }

    /// `x + delta`, clipped to `[0, 1]` (BYOL's additive brightness).
    public static func adjustBrightness(_ image: UnsafeMutableBufferPointer<Float>, delta: Float) {
        for i in image.indices { image[i] = clip(image[i] + delta) }
    }

    /// `(x − mean) · factor + mean` per channel, clipped to `[0, 1]` (TensorFlow's
    /// `adjust_contrast`, which BYOL's code uses).
    public static func adjustContrast(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape, factor: Float) {
        for c in 0 ..< shape.channels {
            let range = c * shape.plane ..< (c + 1) * shape.plane
            var sum: Float = 0
            for i in range { sum += image[i] }
            let mean = sum / Float(shape.plane)
            for i in range { image[i] = clip((image[i] - mean) * factor + mean) }
        }
    }

    /// Multiplies HSV saturation by `factor` (clipped to `[0, 1]`); 3-channel images only.
    public static func adjustSaturation(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape, factor: Float) {
        mapHSV(image, shape) { h, s, v in (h, Swift.min(Swift.max(s * factor, 0), 1), v) }
    }

    /// Rotates HSV hue by `delta` turns; 3-channel images only.
    public static func adjustHue(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape, delta: Float) {
        mapHSV(image, shape) { h, s, v in
            var hue = h + delta
            hue -= hue.rounded(.down)
            return (hue, s, v)
        }
    }

    /// Replaces each of the 3 channels by the luma 0.2989 R + 0.587 G + 0.114 B.
    public static func grayscale(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape) {
        precondition(shape.channels == 3, "grayscale needs 3 channels, got \(shape.channels)")
        let n = shape.plane
        for i in 0 ..< n {
            let luma = 0.2989 * image[i] + 0.587 * image[n + i] + 0.114 * image[2 * n + i]
            image[i] = luma
            image[n + i] = luma
            image[2 * n + i] = luma
        }
    }

    /// The blur kernel BYOL uses: about a tenth of the image side, odd, at least 3
    /// (23 for 224 px, 3 for 28 or 32 px).
    public static func blurKernelSize(_ shape: ImageShape) -> Int {
        var size = Int((Double(Swift.max(shape.height, shape.width)) / 10).rounded())
        if size % 2 == 0 { size += 1 }
        return Swift.max(size, 3)
    }

    /// Separable Gaussian blur with `kernelSize` taps of standard deviation `sigma`, borders
    /// reflected (without repeating the edge pixel), `scratch` holding at least one image.
    public static func gaussianBlur(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape, sigma: Float,
                                    kernelSize: Int, scratch: UnsafeMutableBufferPointer<Float>) {
        let radius = kernelSize / 2
        var weights = (-radius ... radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        let (h, w, taps) = (shape.height, shape.width, kernelSize)
        // Source index of each tap of each output position, borders reflected.
        let columnTaps = (0 ..< w).flatMap { x in (0 ..< taps).map { reflect(x + $0 - radius, w) } }
        let rowTaps = (0 ..< h).flatMap { y in (0 ..< taps).map { reflect(y + $0 - radius, h) * w } }
        weights.withUnsafeBufferPointer { weights in
            columnTaps.withUnsafeBufferPointer { columnTaps in
                rowTaps.withUnsafeBufferPointer { rowTaps in
                    for c in 0 ..< shape.channels {
                        let plane = c * shape.plane
                        for y in 0 ..< h {                       // rows: image → scratch
                            let row = plane + y * w
                            for x in 0 ..< w {
                                var sum: Float = 0
                                for k in 0 ..< taps { sum += weights[k] * image[row + columnTaps[x * taps + k]] }
                                scratch[row + x] = sum
                            }
                        }
                        for y in 0 ..< h {                       // columns: scratch → image
                            for x in 0 ..< w {
                                var sum: Float = 0
                                for k in 0 ..< taps { sum += weights[k] * scratch[plane + rowTaps[y * taps + k] + x] }
                                image[plane + y * w + x] = sum
                            }
                        }
                    }
                }
            }
        }
    }

    /// `x ≥ threshold → 1 − x`.
    public static func solarize(_ image: UnsafeMutableBufferPointer<Float>, threshold: Float = 0.5) {
        for i in image.indices where image[i] >= threshold { image[i] = 1 - image[i] }
    }

    // MARK: helpers

    static func clip(_ x: Float) -> Float { Swift.min(Swift.max(x, 0), 1) }

    static func uniform(_ low: Double, _ high: Double, _ rng: inout SplitMix64) -> Double {
        low + (high - low) * rng.nextUnit()
    }

    /// Reflects an out-of-range index back into `0 ..< count` (torchvision's "reflect").
    static func reflect(_ i: Int, _ count: Int) -> Int {
        if count == 1 { return 0 }
        var i = i
        let period = 2 * (count - 1)
        i = ((i % period) + period) % period
        return i < count ? i : period - i
    }

    /// Applies `transform` to every pixel in HSV (hue in turns `[0, 1)`), clipping back to RGB.
    static func mapHSV(_ image: UnsafeMutableBufferPointer<Float>, _ shape: ImageShape,
                       _ transform: (Float, Float, Float) -> (Float, Float, Float)) {
        precondition(shape.channels == 3, "HSV operations need 3 channels, got \(shape.channels)")
        let n = shape.plane
        for i in 0 ..< n {
            let (h, s, v) = rgbToHSV(image[i], image[n + i], image[2 * n + i])
            let (h2, s2, v2) = transform(h, s, v)
            let (r, g, b) = hsvToRGB(h2, s2, v2)
            image[i] = clip(r)
            image[n + i] = clip(g)
            image[2 * n + i] = clip(b)
        }
    }

    static func rgbToHSV(_ r: Float, _ g: Float, _ b: Float) -> (Float, Float, Float) {
        let maximum = Swift.max(r, g, b), minimum = Swift.min(r, g, b)
        let range = maximum - minimum
        let s: Float = maximum > 0 ? range / maximum : 0
        guard range > 0 else { return (0, s, maximum) }
        var h: Float
        if maximum == r {
            h = (g - b) / range
        } else if maximum == g {
            h = 2 + (b - r) / range
        } else {
            h = 4 + (r - g) / range
        }
        h /= 6
        if h < 0 { h += 1 }
        return (h, s, maximum)
    }

    static func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
        let sector = h * 6
        let k = { (n: Float) -> Float in
            let t = (n + sector).truncatingRemainder(dividingBy: 6)
            return v - v * s * Swift.max(0, Swift.min(t, 4 - t, 1))
        }
        return (k(5), k(3), k(1))
    }
}
