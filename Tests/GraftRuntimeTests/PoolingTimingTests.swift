// PoolingTimingTests: prints how long the compiled pooling kernels take on a byol-s-sized
// activation, forward and backward, beside an elementwise `neg` of the same tensor (the
// memory-bound reference). A measurement, not a check: it asserts nothing about time and runs
// only when GRAFT_POOLING_TIMING is set, on a release build:
//
//     GRAFT_POOLING_TIMING=1 swift test -c release --filter PoolingTimingTests

import Foundation
import Testing
import GraftIR
import GraftRuntime

@Suite(.enabled(if: ProcessInfo.processInfo.environment["GRAFT_POOLING_TIMING"] != nil,
                "a measurement: set GRAFT_POOLING_TIMING=1 (release build)"))
struct PoolingTimingTests {
    /// Input [256, 32, 28, 28] (byol-s's first stage at batch 256) and the pooled shape.
    static let input = [256, 32, 28, 28]
    static let pools: [(label: String, attributes: String, pooled: [Int])] = [
        ("2×2 stride 2", "{padding = [0, 0], stride = [2, 2], window = [2, 2]}", [256, 32, 14, 14]),
        ("3×3 stride 2 padding 1", "{padding = [1, 1], stride = [2, 2], window = [3, 3]}", [256, 32, 14, 14]),
    ]

    @Test(arguments: [1, 2])
    func poolingKernels(threads: Int) throws {
        let x = TensorType(.f32, Self.input)
        for pool in Self.pools {
            let y = TensorType(.f32, pool.pooled)
            let text = """
                graph @pool(%x: \(x), %dy: \(y)) -> (\(x), \(y), \(x), \(y), \(x)) {
                  %0 = neg(%x) : \(x)
                  %1 = max_pool2d(%x) \(pool.attributes) : \(y)
                  %2 = max_pool2d_grad(%x, %dy) \(pool.attributes) : \(x)
                  %3 = avg_pool2d(%x) \(pool.attributes) : \(y)
                  %4 = avg_pool2d_grad(%dy) \(pool.attributes) : \(x)
                  return %0, %1, %2, %3, %4 : \(x), \(y), \(x), \(y), \(x)
                }
                """
            let graph = try Parser.parse(text)
            let executable = try Executable(graph, threads: threads)
            var random = SplitMix64(seed: 3)
            let inputs = ["x": HostTensor(x, (0..<x.elementCount).map { _ in Float(random.nextUnit()) }),
                          "dy": HostTensor(y, (0..<y.elementCount).map { _ in Float(random.nextUnit()) })]
            _ = try executable.run(inputs)
            executable.profiles = true
            let runs = 5
            for _ in 0..<runs { _ = try executable.run(inputs) }
            let (nx, ny) = (Double(x.elementCount), Double(y.elementCount))
            // Bytes each kernel must move at least: its operands read once, its result written once.
            let kernels: [(String, Double)] = [("neg (reference)", nx + nx), ("max_pool2d", nx + ny), ("max_pool2d_grad", nx + ny + nx),
                                               ("avg_pool2d", nx + ny), ("avg_pool2d_grad", ny + nx)]
            #expect(executable.kernelSeconds.count == kernels.count, "one loop kernel per op")
            for ((name, floats), seconds) in zip(kernels, executable.kernelSeconds) {
                let milliseconds = 1000 * seconds / Double(runs)
                let gigabytes = 4 * floats / 1e9
                print(String(format: "pooling timing: %@ %@, %d thread%@: %.2f ms, %.1f GB/s", name, pool.label, threads,
                             threads == 1 ? "" : "s", milliseconds, gigabytes / (milliseconds / 1000)))
            }
        }
    }
}
