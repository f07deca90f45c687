// Executable+Winograd: 3×3 stride-1 convolutions as Winograd F(m×m, 3×3) (forward pass and
// input gradient) and F(3×3, m×m) (filter gradient): the loops of WinogradKernels and
// WinogradFilterGradient run on the workers, which take a form's `images` images at a time
// (one product's rows).

import GraftBackend

extension Executable {
    /// A forward pass or input gradient: the filter transformed once, then per group of
    /// `form.images` images: each image packed and its tiles transformed, one product per
    /// position over the group's tiles, each image's tiles transformed back and unpacked.
    func convolve(_ convolution: ConvolutionCall, winograd: WinogradFunctions) {
        let form = winograd.convolution, batch = convolution.batch
        let filter = SharedPointer(transformedFilter)
        let scratch = self.scratch.map(SharedPointer.init)
        let source = SharedPointer(pointers[convolution.first]!), result = SharedPointer(pointers[convolution.result]!)
        let inputImage = form.inputChannels * form.height * form.width
        let outputImage = form.outputChannels * form.height * form.width
        let filterStep = form.inputChannels * form.outputChannels
        let transformedStep = form.transformedStride, productStep = form.productStride
        let blocks = form.product.blocks
        let groups = (batch + form.images - 1) / form.images
        let queue = WorkQueue()
        Executable.call(winograd.weights, transformedFilter, pointers[convolution.second]!, end: form.weightBlocks)
        workers.run { worker in
            let packed = scratch[worker].pointer
            let transformed = packed + form.packedFloats
            let products = transformed + form.transformedFloats
            let channelsLast = products + form.productFloats
            while let group = queue.take(below: groups) {
                // A last group short of images leaves rows of the products unused: rows are
                // independent, and their results are not unpacked.
                let images = group * form.images..<Swift.min(batch, (group + 1) * form.images)
                for (slot, n) in images.enumerated() {
                    Executable.call(winograd.pack, packed, source.pointer + n * inputImage, end: form.packRows)
                    Executable.call(winograd.input, transformed + slot * form.tiles * form.inputChannels, packed, end: form.tiles)
                }
                for position in 0..<form.positions {
                    Executable.call(winograd.product, products + position * productStep, transformed + position * transformedStep,
                                    filter.pointer + position * filterStep, end: blocks)
                }
                for (slot, n) in images.enumerated() {
                    Executable.call(winograd.output, channelsLast, products + slot * form.tiles * form.outputChannels, end: form.tiles)
                    Executable.call(winograd.unpack, result.pointer + n * outputImage, channelsLast, end: form.unpackRows)
                }
            }
        }
    }
}

extension Executable {
    /// A 3×3 stride-1 filter gradient as Winograd F(3×3, m×m): the transformed gradient
    /// summed over the images in groups (`groupedSum`, as the direct filter gradient), a
    /// product per position for every `image.images` images, then transformed into dW.
    func filterGradient(_ convolution: ConvolutionCall, winograd: WinogradFilterGradientFunctions) {
        let form = winograd.gradient, image = form.image
        let scratch = self.scratch.map(SharedPointer.init)
        let x = SharedPointer(pointers[convolution.first]!), dy = SharedPointer(pointers[convolution.second]!)
        let xImage = image.inputChannels * image.height * image.width
        let dyImage = image.outputChannels * image.height * image.width
        let sumStep = image.outputChannels * image.inputChannels
        let xStep = image.transformedStride, dyStep = form.gradientStride
        let blocks = form.product.blocks
        let total = groupedSum(batch: convolution.batch, count: form.sumFloats) { images, sum, worker in
            let packed = scratch[worker].pointer
            let transformed = packed + image.packedFloats
            let gradientPacked = transformed + image.transformedFloats
            let gradientTransformed = gradientPacked + form.gradientPackedFloats
            for first in stride(from: images.lowerBound, to: images.upperBound, by: image.images) {
                let count = Swift.min(image.images, images.upperBound - first)
                for slot in 0..<count {
                    Executable.call(winograd.pack, packed, x.pointer + (first + slot) * xImage, end: image.packRows)
                    Executable.call(winograd.input, transformed + slot * image.tiles * image.inputChannels, packed, end: image.tiles)
                    Executable.call(winograd.gradientPack, gradientPacked, dy.pointer + (first + slot) * dyImage, end: form.gradientPackRows)
                    Executable.call(winograd.gradientTransform, gradientTransformed + slot * image.tiles * image.outputChannels,
                                    gradientPacked, end: image.tiles)
                }
                // The rows of missing images are summed too: zeros in both operands (a stale
                // value times zero could be NaN).
                let used = count * image.tiles
                if used < image.rows {
                    for position in 0..<image.positions {
                        (transformed + position * xStep + used * image.inputChannels)
                            .initialize(repeating: 0, count: (image.rows - used) * image.inputChannels)
                        (gradientTransformed + position * dyStep + used * image.outputChannels)
                            .initialize(repeating: 0, count: (image.rows - used) * image.outputChannels)
                    }
                }
                for position in 0..<image.positions {
                    Executable.call(winograd.product, sum + position * sumStep, gradientTransformed + position * dyStep,
                                    transformed + position * xStep, end: blocks)
                }
            }
        }
        Executable.call(winograd.filter, pointers[convolution.result]!, total, end: form.filterBlocks)
    }
}
