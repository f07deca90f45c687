// Augmentations: each operation against hand-computed values, determinism of the keyed
// streams, and the statistics of random resized crops.

import Foundation
import GraftIR
import Testing
@testable import GraftData

/// A dataset of `count` random images with values in [0, 1].
func randomDataset(count: Int, channels: Int, height: Int, width: Int, seed: UInt64 = 1) -> Dataset {
    var rng = SplitMix64(seed: seed)
    let pixels = (0 ..< count * channels * height * width).map { _ in Float(rng.nextUnit()) }
    return Dataset(name: "random", images: pixels, labels: (0 ..< count).map { Int32($0 % 10) },
                   channels: channels, height: height, width: width, classes: 10)
}

/// Runs an in-place op on a copy of `image`.
func applied(_ image: [Float], _ op: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
    var copy = image
    copy.withUnsafeMutableBufferPointer { op($0) }
    return copy
}

@Suite struct AugmentationTests {
    @Test func sameKeySameViewsDifferentKeyDifferentViews() {
        let data = randomDataset(count: 8, channels: 3, height: 16, width: 16)
        let augment = BYOLAugmentation()
        let a = augment.twoViews(of: data, indices: [0, 5, 2], epoch: 3, seed: 9)
        let b = augment.twoViews(of: data, indices: [0, 5, 2], epoch: 3, seed: 9)
        #expect(a.view1 == b.view1 && a.view2 == b.view2)
        #expect(a.view1 != a.view2)
        #expect(augment.twoViews(of: data, indices: [0, 5, 2], epoch: 4, seed: 9).view1 != a.view1)
        #expect(augment.twoViews(of: data, indices: [0, 5, 2], epoch: 3, seed: 10).view1 != a.view1)
        let keys = Set([(9, 3, 0, 0), (9, 3, 0, 1), (9, 3, 1, 0), (9, 4, 0, 0), (10, 3, 0, 0)].map {
            BYOLAugmentation.streamKey(seed: UInt64($0.0), epoch: $0.1, index: $0.2, view: $0.3)
        })
        #expect(keys.count == 5)
    }

    @Test func viewsDoNotDependOnBatchOrThreads() {
        let data = randomDataset(count: 8, channels: 1, height: 12, width: 12)
        let size = data.imageSize
        let batch = BYOLAugmentation(threads: 2).twoViews(of: data, indices: [3, 7, 1, 6, 0], epoch: 1, seed: 5)
        let alone = BYOLAugmentation(threads: 1).twoViews(of: data, indices: [7], epoch: 1, seed: 5)
        #expect(Array(batch.view1[size ..< 2 * size]) == alone.view1)
        #expect(Array(batch.view2[size ..< 2 * size]) == alone.view2)
    }

    @Test(arguments: [1, 3]) func shapesAndRange(channels: Int) {
        let data = randomDataset(count: 6, channels: channels, height: 20, width: 14)
        var solarizing = Augmentation.byolTPrime
        solarizing.solarizeProbability = 1
        for augment in [BYOLAugmentation(), BYOLAugmentation(view1: solarizing, view2: .byolT)] {
            let (v1, v2) = augment.twoViews(of: data, indices: [0, 1, 2, 3, 4, 5, 5], epoch: 0, seed: 2)
            #expect(v1.count == 7 * channels * 20 * 14 && v2.count == v1.count)
            #expect((v1 + v2).allSatisfy { $0 >= 0 && $0 <= 1 && $0.isFinite })
        }
    }

    @Test(arguments: [(1, 9, 9), (3, 8, 8)]) func fullImageCropIsTheIdentity(shape: (Int, Int, Int)) {
        let data = randomDataset(count: 3, channels: shape.0, height: shape.1, width: shape.2)
        var fullCrop = Augmentation.identity
        fullCrop.cropRatio = 3.0 / 4 ... 4.0 / 3                           // any ratio but 1 is rejected
        let (v1, v2) = BYOLAugmentation(view1: fullCrop, view2: .identity).twoViews(of: data, indices: [2, 0], epoch: 0, seed: 1)
        #expect(v1 == Array(data.image(2)) + Array(data.image(0)))
        #expect(v2 == v1)
    }

    @Test func fullCropOfANonSquareImageWithItsOwnRatio() {
        var crop = Augmentation.identity
        crop.cropRatio = 10.0 / 6 ... 10.0 / 6
        let data = randomDataset(count: 1, channels: 1, height: 6, width: 10)
        var rng = SplitMix64(seed: 3)
        let shape = ImageShape(channels: 1, height: 6, width: 10)
        #expect(crop.apply(to: Array(data.image(0)), shape: shape, using: &rng) == Array(data.image(0)))
    }

    @Test func bilinearUpsamplingMatchesHandComputedValues() {
        // Top-left 2×2 of a 4×4 image [0 1; 2 3] upsampled to 4×4: sample positions
        // (i + 0.5)/2 − 0.5 clamped = 0, 0.25, 0.75, 1 along each axis.
        let image: [Float] = [0, 1, 9, 9, 2, 3, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]
        var out = [Float](repeating: -1, count: 16)
        image.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer {
                ImageOps.resizedCrop(source, ImageShape(channels: 1, height: 4, width: 4), box: CropBox(top: 0, left: 0, height: 2, width: 2), into: $0)
            }
        }
        let t: [Float] = [0, 0.25, 0.75, 1]
        let expected = t.flatMap { y in t.map { x in 2 * y + x } }
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func flipMirrorsEveryRowExactly() {
        let image: [Float] = (0 ..< 2 * 2 * 3).map { Float($0) / 12 }
        let flipped = applied(image) { ImageOps.flipHorizontal($0, ImageShape(channels: 2, height: 2, width: 3)) }
        #expect(flipped == [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9].map { Float($0) / 12 })
        var flipOnly = Augmentation.identity
        flipOnly.flipProbability = 1
        flipOnly.cropRatio = 1.5 ... 1.5
        var rng = SplitMix64(seed: 1)
        #expect(flipOnly.apply(to: image, shape: ImageShape(channels: 2, height: 2, width: 3), using: &rng) == flipped)
    }

    @Test func solarizeInvertsValuesFromOneHalfUp() {
        let image: [Float] = [0, 0.25, 0.49, 0.5, 0.75, 1]
        #expect(applied(image) { ImageOps.solarize($0) } == [0, 0.25, 0.49, 0.5, 0.25, 0])
    }

    @Test func blurOfAConstantImageIsConstant() {
        let shape = ImageShape(channels: 3, height: 11, width: 7)
        var scratch = [Float](repeating: 0, count: shape.size)
        for sigma: Float in [0.1, 1, 2] {
            let out = applied([Float](repeating: 0.3, count: shape.size)) { image in
                scratch.withUnsafeMutableBufferPointer { ImageOps.gaussianBlur(image, shape, sigma: sigma, kernelSize: 5, scratch: $0) }
            }
            #expect(out.allSatisfy { abs($0 - 0.3) < 1e-6 })
        }
        // An impulse spreads into the normalised separable kernel's outer product.
        let impulse = applied([Float](repeating: 0, count: 49)) { $0[24] = 1 }
        let blurred = applied(impulse) { image in
            scratch.withUnsafeMutableBufferPointer { ImageOps.gaussianBlur(image, ImageShape(channels: 1, height: 7, width: 7), sigma: 1, kernelSize: 3, scratch: $0) }
        }
        let e = Float(exp(-0.5)), centre = 1 / (1 + 2 * e)
        #expect(abs(blurred[24] - centre * centre) < 1e-6)
        #expect(abs(blurred[23] - centre * centre * e) < 1e-6)
        #expect(abs(blurred.reduce(0, +) - 1) < 1e-5)
    }

    @Test func blurKernelIsATenthOfTheImageOddAndAtLeast3() {
        let sizes = [28, 32, 64, 96, 224].map { ImageOps.blurKernelSize(ImageShape(channels: 1, height: $0, width: $0)) }
        #expect(sizes == [3, 3, 7, 11, 23])
    }

    @Test func contrastKeepsEachChannelsMean() {
        let shape = ImageShape(channels: 3, height: 5, width: 5)
        var rng = SplitMix64(seed: 4)
        let image = (0 ..< shape.size).map { _ in Float(0.3 + 0.4 * rng.nextUnit()) }   // no clipping at ×1.4
        for factor: Float in [0.6, 1.4] {
            let out = applied(image) { ImageOps.adjustContrast($0, shape, factor: factor) }
            for c in 0 ..< 3 {
                let range = c * 25 ..< (c + 1) * 25
                let before: Float = image[range].reduce(0, +), after: Float = out[range].reduce(0, +)
                #expect(abs(after - before) < 1e-4)
            }
            let mean0 = image[0 ..< 25].reduce(0, +) / 25
            #expect(abs(out[0] - (mean0 + factor * (image[0] - mean0))) < 1e-6)
        }
    }

    @Test func brightnessIsAdditiveAndClipped() {
        #expect(applied([0, 0.5, 0.9]) { ImageOps.adjustBrightness($0, delta: 0.25) } == [0.25, 0.75, 1])
        #expect(applied([0.1, 0.5]) { ImageOps.adjustBrightness($0, delta: -0.25) } == [0, 0.25])
    }

    @Test func colourOperations() {
        let shape = ImageShape(channels: 3, height: 1, width: 2)
        let image: [Float] = [1, 0.2, 0, 0.4, 0, 0.6]                    // pixels (1, 0, 0) and (0.2, 0.4, 0.6)
        let gray = applied(image) { ImageOps.grayscale($0, shape) }
        #expect(abs(gray[0] - 0.2989) < 1e-6 && gray[0] == gray[2] && gray[2] == gray[4])
        let hued = applied(image) { ImageOps.adjustHue($0, shape, delta: 1.0 / 3) }    // red → green
        #expect(abs(hued[0]) < 1e-6 && abs(hued[2] - 1) < 1e-6 && abs(hued[4]) < 1e-6)
        let desaturated = applied(image) { ImageOps.adjustSaturation($0, shape, factor: 0) }
        #expect(abs(desaturated[1] - 0.6) < 1e-6 && abs(desaturated[3] - 0.6) < 1e-6 && abs(desaturated[5] - 0.6) < 1e-6)
        let same = applied(image) { ImageOps.adjustSaturation($0, shape, factor: 1) }
        #expect(zip(same, image).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func cropAreasAndRatiosStayInRange() {
        var rng = SplitMix64(seed: 11)
        var fractions = [Double](), fallbacks = 0
        for _ in 0 ..< 20000 {
            let box = ImageOps.randomCropBox(height: 224, width: 224, scale: 0.08 ... 1, ratio: 3.0 / 4 ... 4.0 / 3, using: &rng)
            #expect(box.top >= 0 && box.left >= 0 && box.top + box.height <= 224 && box.left + box.width <= 224)
            let fraction = Double(box.height * box.width) / (224 * 224)
            let ratio = Double(box.width) / Double(box.height)
            if fraction == 1 { fallbacks += 1 }
            if !(fraction >= 0.078 && fraction <= 1 && ratio >= 0.74 && ratio <= 1.35) {
                Issue.record("crop \(box) has area fraction \(fraction), ratio \(ratio)")
                break
            }
            fractions.append(fraction)
        }
        let mean = fractions.reduce(0, +) / Double(fractions.count)
        let small = Double(fractions.filter { $0 < 0.3 }.count) / Double(fractions.count)
        print("crop area fraction: mean \(mean), share below 0.3 \(small), full-image crops \(fallbacks)")
        // Oracle: torchvision's get_params re-implemented in Python, 200k draws on 224×224:
        // mean 0.479, share below 0.3 0.279 (boxes too wide or tall to fit are redrawn, so
        // the mean is below U[0.08, 1]'s 0.54).
        #expect(abs(mean - 0.479) < 0.01)
        #expect(abs(small - 0.279) < 0.015)
    }

    @Test func epochOrderIsASeededPermutation() {
        let order = EpochOrder(count: 100, seed: 7)
        #expect(order.indices(epoch: 0).sorted() == Array(0 ..< 100))
        #expect(order.indices(epoch: 0) == EpochOrder(count: 100, seed: 7).indices(epoch: 0))
        #expect(order.indices(epoch: 0) != order.indices(epoch: 1))
        #expect(order.indices(epoch: 0) != EpochOrder(count: 100, seed: 8).indices(epoch: 0))
        let batcher = Batcher(count: 10, batchSize: 4, seed: 7)
        #expect(batcher.stepsPerEpoch == 2 && batcher.batches(epoch: 0).map(\.count) == [4, 4])
        #expect(Batcher(count: 10, batchSize: 4, seed: 7, dropLast: false).batches(epoch: 0).map(\.count) == [4, 4, 2])
    }

    @Test func throughputOnFashionMNIST() throws {
        let data: Dataset
        if FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory) {
            data = try FashionMNIST.load(split: .test).prefix(512)
        } else {
            data = randomDataset(count: 512, channels: 1, height: 28, width: 28)
        }
        let augment = BYOLAugmentation()
        let indices = Array(0 ..< 512)
        _ = augment.twoViews(of: data, indices: indices, epoch: 0, seed: 1)
        let started = Date()
        let rounds = 3
        for epoch in 1 ... rounds { _ = augment.twoViews(of: data, indices: indices, epoch: epoch, seed: 1) }
        let seconds = Date().timeIntervalSince(started)
        print("twoViews throughput: \(Int(Double(512 * rounds) / seconds)) images/s (2 views each, \(data.name), 2 threads)")
    }
}

@Suite struct AugmentationKindTests {
    let shape = ImageShape(channels: 1, height: 12, width: 12)

    @Test func keepingNothingLeavesTheImageAsItIs() {
        let image = randomDataset(count: 1, channels: 1, height: 12, width: 12).images
        for augmentation in [Augmentation.byolT, .byolTPrime] {
            var rng = SplitMix64(seed: 3)
            #expect(augmentation.keeping([]).apply(to: image, shape: shape, using: &rng) == image)
        }
    }

    @Test func keepingOneKindAppliesOnlyIt() {
        let image = randomDataset(count: 1, channels: 1, height: 12, width: 12).images
        var always = Augmentation.byolTPrime
        always.flipProbability = 1
        always.solarizeProbability = 1
        var rng = SplitMix64(seed: 3)
        let flipped = always.keeping([.flip]).apply(to: image, shape: shape, using: &rng)
        #expect(flipped == applied(image) { ImageOps.flipHorizontal($0, shape) })
        let solarized = always.keeping([.solarize]).apply(to: image, shape: shape, using: &rng)
        #expect(solarized == applied(image) { ImageOps.solarize($0) })
        // Keeping every kind changes nothing.
        #expect(always.keeping(AugmentationKind.allCases) == always)
        let cropped = Augmentation.byolT.keeping([.crop])
        #expect(cropped.cropScale == Augmentation.byolT.cropScale && cropped.flipProbability == 0 && cropped.jitterProbability == 0
                && cropped.blurProbability == 0 && cropped.solarizeProbability == 0)
    }

    @Test func listsParseInTheirOwnOrderAndBadOnesAreRefused() throws {
        #expect(try AugmentationKind.parseList("flip, crop") == [.crop, .flip])
        #expect(try AugmentationKind.parseList("all") == AugmentationKind.allCases)
        #expect(try AugmentationKind.parseList("solarize") == [.solarize])
        let cases: [(String, String)] = [
            ("", "--augmentations has an empty name in ''; list some of: crop, flip, color, blur, solarize (or 'all')"),
            ("crop,,flip", "--augmentations has an empty name in 'crop,,flip'; list some of: crop, flip, color, blur, solarize (or 'all')"),
            ("colour", "--augmentations: unknown augmentation 'colour'; the augmentations are: crop, flip, color, blur, solarize (or 'all')"),
            ("crop,flip,crop", "--augmentations names 'crop' twice in 'crop,flip,crop'; name each at most once"),
        ]
        for (list, message) in cases {
            let error = #expect(throws: Diagnostic.self) { try AugmentationKind.parseList(list) }
            #expect(error?.message == message)
        }
    }
}
