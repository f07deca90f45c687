// IDXFuzzTests: mutated IDX image and label files, plain and gzip, load or are refused with an
// error naming the file; never a crash, a hang or an allocation the file cannot back.

import Foundation
import Testing
import GraftIR
import GraftTestSupport
@testable import GraftData

@Suite struct IDXFuzzTests {
    @Test func mutatedIDXFilesLoadOrFailNamingTheFile() throws {
        let campaign = FuzzCampaign("idx", defaultCases: 300)
        let folder = try TemporaryFolder()
        let images = idx([3, 4, 4], (0..<48).map { UInt8($0 * 5) })
        let labels = idx([3], [0, 1, 2])
        var outcomes: [String: Int] = [:]
        defer { campaign.report(outcomes) }
        for index in 0..<campaign.cases {
            var random = campaign.random(index)
            var mutatedImages = images, mutatedLabels = labels
            // Mostly the header (the first 16 bytes), where the sizes are.
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                if Bool.random(using: &random) {
                    mutatedImages = Mutate.bytes(Array(mutatedImages.prefix(16)), &random) + mutatedImages.dropFirst(16)
                } else {
                    mutatedLabels = Mutate.bytes(mutatedLabels, &random)
                }
            }
            let compressed = Int.random(in: 0..<3, using: &random) == 0
            let imagesPath = try folder.write(compressed ? "images.gz" : "images", compressed ? gzip(mutatedImages) : mutatedImages)
            let labelsPath = try folder.write("labels", mutatedLabels)
            do {
                let dataset = try FashionMNIST.load(imagesPath: imagesPath, labelsPath: labelsPath)
                outcomes["loaded", default: 0] += 1
                #expect(dataset.count > 0 && dataset.images.count == dataset.count * dataset.imageSize, "\(campaign.label(index))")
            } catch let error as Diagnostic {
                outcomes["refused", default: 0] += 1
                #expect(error.message.contains(imagesPath) || error.message.contains(labelsPath), "\(campaign.label(index)): \(error)")
            } catch {
                Issue.record("\(campaign.label(index)): \(type(of: error)) instead of a Diagnostic: \(error)")
            }
        }
    }

    @Test func anIDXFileWithZeroImagesIsRefused() throws {
        let folder = try TemporaryFolder()
        let imagesPath = try folder.write("images", idx([0, 28, 28], []))
        let labelsPath = try folder.write("labels", idx([0], []))
        #expect {
            try FashionMNIST.load(imagesPath: imagesPath, labelsPath: labelsPath)
        } throws: { error in
            "\(error)".contains("\(imagesPath): the file holds no images")
        }
    }
}
