// Executable+Winograd: 3×3 stride-1 convolutions as Winograd F(2×2, 3×3) (forward pass and
// input gradient) and F(3×3, 2×2) (filter gradient): the loops of WinogradKernels and
// WinogradFilterGradient run per image on the workers, which take images one at a time.

import GraftBackend

extension Executable {
    /// A forward pass or input gradient: the filter transformed once, then per image: pack,
    /// input transform, 16 products, output transform, unpack.
    func convolve(_ convolution: ConvolutionCall, winograd: WinogradFunctions) {
        let form = winograd.convolution, batch = convolution.batch
        let positions = WinogradConvolution.positions
        let filter = SharedPointer(transformedFilter)
        let scratch = self.scratch.map(SharedPointer.init)
        let source = SharedPointer(pointers[convolution.first]!), result = SharedPointer(pointers[convolution.result]!)
        let inputImage = form.inputChannels * form.height * form.width
        let outputImage = form.outputChannels * form.height * form.width
        let filterStep = form.inputChannels * form.outputChannels
        let transformedStep = form.tiles * form.inputChannels, productStep = form.tiles * form.outputChannels
        let blocks = form.product.blocks
        let queue = WorkQueue()
        Executable.call(winograd.weights, transformedFilter, pointers[convolution.second]!, end: form.weightBlocks)
        workers.run { worker in
            let packed = scratch[worker].pointer
            let transformed = packed + form.packedFloats
            let products = transformed + form.transformedFloats
            let channelsLast = products + form.productFloats
            while let n = queue.take(below: batch) {
                Executable.call(winograd.pack, packed, source.pointer + n * inputImage, end: form.packRows)
                Executable.call(winograd.input, transformed, packed, end: form.tiles)
                for position in 0..<positions {
                    Executable.call(winograd.product, products + position * productStep, transformed + position * transformedStep,
                                    filter.pointer + position * filterStep, end: blocks)
                }
                Executable.call(winograd.output, channelsLast, products, end: form.tiles)
                Executable.call(winograd.unpack, result.pointer + n * outputImage, channelsLast, end: form.unpackRows)
            }
        }
    }
}

extension Executable {
    /// A 3×3 stride-1 filter gradient as Winograd F(3×3, 2×2): the transformed gradient
    /// summed over the images in groups (`groupedSum`, as the direct filter gradient), then
    /// transformed into dW.
    func filterGradient(_ convolution: ConvolutionCall, winograd: WinogradFilterGradientFunctions) {
        let form = winograd.gradient, image = form.image
        let positions = WinogradConvolution.positions
        let scratch = self.scratch.map(SharedPointer.init)
        let x = SharedPointer(pointers[convolution.first]!), dy = SharedPointer(pointers[convolution.second]!)
        let xImage = image.inputChannels * image.height * image.width
        let dyImage = image.outputChannels * image.height * image.width
        let sumStep = image.outputChannels * image.inputChannels
        let xStep = image.tiles * image.inputChannels, dyStep = image.tiles * image.outputChannels
        let blocks = form.product.blocks
        let total = groupedSum(batch: convolution.batch, count: form.sumFloats) { n, sum, worker in
            let packed = scratch[worker].pointer
            let transformed = packed + image.packedFloats
            let gradientPacked = transformed + image.transformedFloats
            let gradientTransformed = gradientPacked + form.gradientPackedFloats
            Executable.call(winograd.pack, packed, x.pointer + n * xImage, end: image.packRows)
            Executable.call(winograd.input, transformed, packed, end: image.tiles)
            Executable.call(winograd.gradientPack, gradientPacked, dy.pointer + n * dyImage, end: form.gradientPackRows)
            Executable.call(winograd.gradientTransform, gradientTransformed, gradientPacked, end: image.tiles)
            for position in 0..<positions {
                Executable.call(winograd.product, sum + position * sumStep, gradientTransformed + position * dyStep,
                                transformed + position * xStep, end: blocks)
            }
        }
        Executable.call(winograd.filter, pointers[convolution.result]!, total, end: form.filterBlocks)
    }
}
