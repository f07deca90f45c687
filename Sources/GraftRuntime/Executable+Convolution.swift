// Executable+Convolution: conv2d and its two gradients as im2col/col2im loops around sgemm,
// images split across the workers (each calling a single-threaded BLAS).

import GraftIR
import GraftBackend

extension Executable {
    /// Runs a convolution node: images are split across workers; each worker gathers an
    /// image's patches into its scratch matrix (im2col) and multiplies with the BLAS.
    func convolve(_ node: Node, root: ValueID) {
        guard let g = KernelCompiler.geometry(of: node, in: graph) else { return }
        let batch = graph[node.operands[0]].type.shape[0]
        let patch = g.patchSize, pixels = g.outputPixels, outputs = g.outputChannels
        let im2col = kernels.im2col[g], col2im = kernels.col2im[g]
        let pool = workers
        let scratch = self.scratch.map(SharedPointer.init), partials = self.partials.map(SharedPointer.init)
        let result = SharedPointer(pointers[root]!)
        let first = SharedPointer(pointers[node.operands[0]]!), second = SharedPointer(pointers[node.operands[1]]!)

        /// The patch matrix [C·KH·KW, OH·OW] of `image` (the image itself for 1×1 convolutions).
        @Sendable func patches(_ image: UnsafeMutablePointer<Float>, worker: Int) -> UnsafeMutablePointer<Float> {
            guard let im2col else { return image }
            var table: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) = (scratch[worker].pointer, image)
            withUnsafeMutablePointer(to: &table) {
                $0.withMemoryRebound(to: UnsafeMutablePointer<Float>.self, capacity: 2) { im2col($0, 0, Int64(patch)) }
            }
            return scratch[worker].pointer
        }

        switch node.op {
        case .conv2d:
            // y[n] [O, OH·OW] = W [O, C·KH·KW] · patches(x[n])
            pool.run { worker in
                for n in pool.share(of: batch, worker: worker) {
                    let columns = patches(first.pointer + n * g.imageSize, worker: worker)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: outputs, n: pixels, k: patch, alpha: 1,
                               a: second.pointer, lda: patch, b: columns, ldb: pixels, beta: 0,
                               c: result.pointer + n * outputs * pixels, ldc: pixels)
                }
            }
        case .conv2dInputGrad:
            // dpatches = Wᵀ [C·KH·KW, O] · dy[n] [O, OH·OW]; dx[n] = col2im(dpatches)
            pool.run { worker in
                for n in pool.share(of: batch, worker: worker) {
                    let target = col2im == nil ? result.pointer + n * g.imageSize : scratch[worker].pointer
                    BLAS.sgemm(transposeA: true, transposeB: false, m: patch, n: pixels, k: outputs, alpha: 1,
                               a: second.pointer, lda: patch, b: first.pointer + n * outputs * pixels, ldb: pixels, beta: 0,
                               c: target, ldc: pixels)
                    if let col2im {
                        var table: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) = (result.pointer + n * g.imageSize, target)
                        withUnsafeMutablePointer(to: &table) {
                            $0.withMemoryRebound(to: UnsafeMutablePointer<Float>.self, capacity: 2) { col2im($0, 0, Int64(g.channels * g.height)) }
                        }
                    }
                }
            }
        case .conv2dFilterGrad:
            // dW [O, C·KH·KW] = Σₙ dy[n] [O, OH·OW] · patches(x[n])ᵀ, a partial sum per worker.
            let filterSize = outputs * patch
            pool.run { worker in
                partials[worker].pointer.initialize(repeating: 0, count: filterSize)
                for n in pool.share(of: batch, worker: worker) {
                    let columns = patches(first.pointer + n * g.imageSize, worker: worker)
                    BLAS.sgemm(transposeA: false, transposeB: true, m: outputs, n: patch, k: pixels, alpha: 1,
                               a: second.pointer + n * outputs * pixels, lda: pixels, b: columns, ldb: pixels, beta: 1,
                               c: partials[worker].pointer, ldc: patch)
                }
            }
            result.pointer.update(from: partials[0].pointer, count: filterSize)
            for worker in 1..<pool.count {
                for i in 0..<filterSize { result.pointer[i] += partials[worker].pointer[i] }
            }
        default:
            break
        }
    }
}
