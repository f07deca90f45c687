// Batches for any model: what each content holds, determinism and exact resume, every image
// once per epoch, a user's augmentation, and the errors that name what does not fit.

import Foundation
import GraftIR
import Testing
@testable import GraftData

/// Adds `offset` to every pixel: an augmentation of a user's own, with no randomness.
struct Brighten: ImageAugmentation {
    var offset: Float
    func apply(_ source: UnsafeBufferPointer<Float>, _ shape: ImageShape, into output: UnsafeMutableBufferPointer<Float>,
               scratch: UnsafeMutableBufferPointer<Float>, using rng: inout SplitMix64) {
        for i in 0..<shape.size { output[i] = source[i] + offset }
    }
}

@Suite struct BatchesTests {
    let data = randomDataset(count: 10, channels: 1, height: 8, width: 8)

    @Test func labeledImagesAreTheImagesAndTheirLabels() throws {
        let batches = try Batches(data, batchSize: 4, content: .labeledImages(), seed: 3)
        #expect(batches.stepsPerEpoch == 2)
        #expect(batches.inputTypes == ["images": TensorType(.f32, [4, 1, 8, 8]), "labels": TensorType(.i32, [4])])
        let batch = batches.batch(epoch: 1, step: 1)
        #expect(batch.indices == Batcher(count: 10, batchSize: 4, seed: 3).batches(epoch: 1)[1])
        #expect(batch.tensors["labels"]!.scalars == batch.indices.map { Float(data.labels[$0]) })
        #expect(batch.tensors["images"]!.scalars == batch.indices.flatMap { Array(data.image($0)) })
    }

    @Test func everyImageOncePerEpochInANewOrder() throws {
        let batches = try Batches(data, batchSize: 5, content: .images(), seed: 9)
        let epoch0 = batches.batchIndices(epoch: 0).flatMap { $0 }, epoch1 = batches.batchIndices(epoch: 1).flatMap { $0 }
        #expect(epoch0.sorted() == Array(0..<10) && epoch1.sorted() == Array(0..<10))
        #expect(epoch0 != epoch1)
        let ordered = try Batches(data, batchSize: 5, content: .images(), seed: 9, shuffles: false)
        #expect(ordered.batchIndices(epoch: 3) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    }

    /// The stream from step k yields what a stream from 0 yields at step k, across epochs:
    /// a resumed run sees the same batches; prepared in the background or when asked for.
    @Test(arguments: [false, true]) func aStreamFromAnyStepIsTheSameRun(prefetches: Bool) throws {
        var batches = try Batches(data, batchSize: 4, content: .views(), seed: 5)
        batches.prefetches = prefetches
        let whole = batches.stream(fromStep: 0)
        let all = (0..<7).map { _ in whole.next() }
        #expect(all.map(\.epoch) == [0, 0, 1, 1, 2, 2, 3] && all.map(\.step) == [0, 1, 0, 1, 0, 1, 0])
        let resumed = batches.stream(fromStep: 3)
        for k in 3..<7 {
            let batch = resumed.next()
            #expect(batch.indices == all[k].indices && batch.tensors == all[k].tensors)
        }
        var other = batches
        other.prefetches.toggle()
        let otherStream = other.stream(fromStep: 0)
        for k in 0..<7 { #expect(otherStream.next().tensors == all[k].tensors) }
        // BYOL's views are those of BYOLAugmentation, image by image.
        let direct = BYOLAugmentation().twoViews(of: data, indices: all[2].indices, epoch: 1, seed: 5)
        #expect(all[2].tensors["view1"]!.scalars == direct.view1 && all[2].tensors["view2"]!.scalars == direct.view2)
        #expect(try Batches(data, batchSize: 4, content: .views(), seed: 6).batch(epoch: 0, step: 0).tensors != all[0].tensors)
    }

    @Test func aUserAugmentationIsApplied() throws {
        let batches = try Batches(data, batchSize: 2, content: .images(name: "x", augmentation: Brighten(offset: 10)), seed: 1)
        let batch = batches.batch(epoch: 0, step: 0)
        #expect(batch.tensors["x"]!.scalars == batch.indices.flatMap { data.image($0).map { $0 + 10 } })
        // The library's own augmentation through the same protocol: the stream of view 0.
        let augmented = try Batches(data, batchSize: 2, content: .labeledImages(augmentation: Augmentation.byolT), seed: 1).batch(epoch: 0, step: 0)
        #expect(augmented.tensors["images"]!.scalars == BYOLAugmentation().twoViews(of: data, indices: augmented.indices, epoch: 0, seed: 1).view1)
    }

    @Test func whatDoesNotFitIsNamed() throws {
        #expect(throws: Diagnostic("the batch size must be at least 1, not 0")) { try Batches(data, batchSize: 0, content: .images(), seed: 1) }
        #expect(throws: Diagnostic("random has 10 images, fewer than one batch of 11; use a smaller batch size or more images")) {
            try Batches(data, batchSize: 11, content: .images(), seed: 1)
        }
        let batches = try Batches(data, batchSize: 4, content: .labeledImages(), seed: 1)
        #expect(throws: Diagnostic("the model's input %images is f32[4,1,28,28] but the data gives f32[4,1,8,8] (random: 1×8×8 images, batch 4); declare the input with the data's shape, or change the batch size")) {
            try batches.check(against: ["images": TensorType(.f32, [4, 1, 28, 28]), "labels": TensorType(.i32, [4])])
        }
        #expect(throws: Diagnostic("the model's input %view1 (f32[4,1,8,8]) is not in the data's batches, which give %images: f32[4,1,8,8], %labels: i32[4]; name the model's inputs after the data, or choose another BatchContent")) {
            try batches.check(against: ["view1": TensorType(.f32, [4, 1, 8, 8])])
        }
        #expect(throws: Diagnostic("the data's batches give 'labels' (i32[4]), which the model does not take; its inputs are %images: f32[4,1,8,8]")) {
            try batches.check(against: ["images": TensorType(.f32, [4, 1, 8, 8])])
        }
        try batches.check(against: ["images": TensorType(.f32, [4, 1, 8, 8]), "labels": TensorType(.i32, [4])])
    }

    @Test func aDirectoryIsReadByWhatItHolds() throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("t10k-images-idx3-ubyte", idx([2, 2, 3], [0, 255, 0, 255, 0, 255, 1, 2, 3, 4, 5, 6]))
        _ = try folder.write("t10k-labels-idx1-ubyte", idx([2], [7, 1]))
        let set = try Dataset.load(directory: folder.path, split: .test)
        #expect(set.count == 2 && set.height == 2 && set.width == 3 && set.labels == [7, 1])
        #expect(set.name.hasSuffix("/test"))
        let error = try #require(throws: Diagnostic.self) { try Dataset.load(directory: folder.path, split: .train) }
        #expect(error.message.contains("train images not found in \(folder.path)"))
    }
}
