// Executable+Convolution: conv2d and its two gradients as im2col/col2im loops around a matrix
// product (generated, or sgemm), images handed out to the workers one at a time.

import Synchronization
import GraftIR
import GraftBackend

/// Hands out the indices 0, 1, 2, … to whichever worker asks next.
///
/// The workers' fork-join sometimes starts the second worker late (or runs both shares on one
/// thread), so a fixed half of the images each left one core idle; taking images one at a
/// time keeps both busy for as long as both run.
final class WorkQueue: Sendable {
    private let next = Atomic<Int>(0)

    /// The next index below `limit`, or nil when all are taken.
    func take(below limit: Int) -> Int? {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return index < limit ? index : nil
    }
}

extension Executable {
    /// Calls `kernel` over [0, end) with the buffer table (a, b, c), kept on the stack: this
    /// runs several times per image. Kernels of two buffers read only a and b.
    @Sendable static func call(_ kernel: KernelFunction, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                               _ c: UnsafeMutablePointer<Float>? = nil, end: Int) {
        var table = (a, b, c ?? b)
        withUnsafeMutablePointer(to: &table) {
            $0.withMemoryRebound(to: UnsafeMutablePointer<Float>.self, capacity: 3) { kernel($0, 0, Int64(end)) }
        }
    }

    /// Groups of images the filter gradient sums separately: each group's partial sum is made
    /// in a fixed order and the groups are added in a fixed order, so the result does not
    /// depend on which worker took which group (runs are bit-for-bit reproducible).
    static let filterGradientGroups = 8

    /// Adds `add(images, sum, worker)` for every group of images of the batch into one partial
    /// sum of `count` floats per group (`filterGradientGroups` groups of consecutive images, the
    /// workers taking groups as they come), adds the groups in order into the first and returns
    /// it: zeros for an empty batch.
    func groupedSum(batch: Int, count: Int,
                    _ add: @Sendable (_ images: Range<Int>, _ sum: UnsafeMutablePointer<Float>, _ worker: Int) -> Void) -> UnsafeMutablePointer<Float> {
        let partials = self.partials.map(SharedPointer.init)
        let groups = Swift.min(partials.count, batch)
        let group = WorkerPool(count: groups)
        let queue = WorkQueue()
        workers.run { worker in
            while let index = queue.take(below: groups) {
                let sum = partials[index].pointer
                sum.initialize(repeating: 0, count: count)
                add(group.share(of: batch, worker: index), sum, worker)
            }
        }
        let total = partials[0].pointer
        if groups == 0 { total.initialize(repeating: 0, count: count) }
        for index in 1..<Swift.max(groups, 1) {
            let sum = partials[index].pointer
            for i in 0..<count { total[i] += sum[i] }
        }
        return total
    }

    /// Runs a convolution node: its Winograd form where it has one (Executable+Winograd.swift),
    /// else each worker takes images one by one, gathers an image's patches into its scratch
    /// matrix (im2col) and multiplies them with the generated product or the BLAS.
    func convolve(_ convolution: ConvolutionCall) {
        if let winograd = convolution.winograd { return convolve(convolution, winograd: winograd) }
        if let winograd = convolution.winogradFilterGradient { return filterGradient(convolution, winograd: winograd) }
        let g = convolution.geometry, batch = convolution.batch
        let patch = g.patchSize, pixels = g.outputPixels, outputs = g.outputChannels
        let im2col = convolution.im2col, col2im = convolution.col2im
        let generated = convolution.productFunction
        let blocks = convolution.product?.blocks ?? 0
        let pool = workers
        let scratch = self.scratch.map(SharedPointer.init)
        let result = SharedPointer(pointers[convolution.result]!)
        let first = SharedPointer(pointers[convolution.first]!), second = SharedPointer(pointers[convolution.second]!)
        let queue = WorkQueue()

        /// The patch matrix [C·KH·KW, OH·OW] of `image` (the image itself for 1×1 convolutions).
        @Sendable func patches(_ image: UnsafeMutablePointer<Float>, worker: Int) -> UnsafeMutablePointer<Float> {
            guard let im2col else { return image }
            Executable.call(im2col, scratch[worker].pointer, image, end: g.channels)
            return scratch[worker].pointer
        }

        switch convolution.direction {
        case .forward:
            // y[n] [O, OH·OW] = W [O, C·KH·KW] · patches(x[n])
            pool.run { worker in
                while let n = queue.take(below: batch) {
                    let columns = patches(first.pointer + n * g.imageSize, worker: worker)
                    let output = result.pointer + n * outputs * pixels
                    if let generated {
                        Executable.call(generated, output, second.pointer, columns, end: blocks)
                    } else {
                        BLAS.sgemm(transposeA: false, transposeB: false, m: outputs, n: pixels, k: patch, alpha: 1,
                                   a: second.pointer, lda: patch, b: columns, ldb: pixels, beta: 0, c: output, ldc: pixels)
                    }
                }
            }
        case .inputGradient:
            // dpatches = Wᵀ [C·KH·KW, O] · dy[n] [O, OH·OW]; dx[n] = col2im(dpatches)
            pool.run { worker in
                while let n = queue.take(below: batch) {
                    let target = col2im == nil ? result.pointer + n * g.imageSize : scratch[worker].pointer
                    let gradient = first.pointer + n * outputs * pixels
                    if let generated {
                        Executable.call(generated, target, second.pointer, gradient, end: blocks)
                    } else {
                        BLAS.sgemm(transposeA: true, transposeB: false, m: patch, n: pixels, k: outputs, alpha: 1,
                                   a: second.pointer, lda: patch, b: gradient, ldb: pixels, beta: 0, c: target, ldc: pixels)
                    }
                    if let col2im { Executable.call(col2im, result.pointer + n * g.imageSize, target, end: g.channels * g.height) }
                }
            }
        case .filterGradient:
            // One partial sum per group of images. Generated: dW [O, C·KH·KW] += dy[n] · patches(x[n])ᵀ;
            // BLAS: dWᵀ [C·KH·KW, O] += patches(x[n]) · dy[n]ᵀ (this orientation runs ~15% faster in
            // OpenBLAS than dy[n] · patchesᵀ), and dW = (Σ dWᵀ)ᵀ.
            let filterSize = outputs * patch
            let total = groupedSum(batch: batch, count: filterSize) { images, sum, worker in
                for n in images {
                    let columns = patches(first.pointer + n * g.imageSize, worker: worker)
                    let gradient = second.pointer + n * outputs * pixels
                    if let generated {
                        Executable.call(generated, sum, gradient, columns, end: blocks)
                    } else {
                        BLAS.sgemm(transposeA: false, transposeB: true, m: patch, n: outputs, k: pixels, alpha: 1,
                                   a: columns, lda: pixels, b: gradient, ldb: pixels, beta: 1, c: sum, ldc: outputs)
                    }
                }
            }
            if generated != nil {
                result.pointer.update(from: total, count: filterSize)
            } else {
                for o in 0..<outputs {
                    for k in 0..<patch { result.pointer[o * patch + k] = total[k * outputs + o] }
                }
            }
        }
    }
}
