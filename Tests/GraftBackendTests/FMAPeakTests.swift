// FMAPeak tests: the peak microkernel compiles, runs on one and two threads and gives a
// positive, finite rate (never a speed: tests do not assert on time), and what it computes is
// the recurrence it claims, checked against the same recurrence in Swift.
import GraftBackend
import Testing

@Test(arguments: [1, 2])
func fmaPeakIsPositiveAndFinite(threads: Int) throws {
    let gflops = try FMAPeak.measure(threads: threads, iterations: 1 << 12, repetitions: 2)
    #expect(gflops > 0 && gflops.isFinite, "\(gflops) GFLOP/s")
}

@Test func fmaPeakKernelComputesItsChains() throws {
    let jit = try LLVMJIT()
    try jit.add(module: FMAPeak.irText(), name: "fma_peak")
    typealias Kernel = @convention(c) (Int64, Float, Float, UnsafeMutablePointer<Float>) -> Void
    let kernel = unsafeBitCast(try jit.address(of: "graft_fma_peak"), to: Kernel.self)
    var sums = [Float](repeating: .nan, count: FMAPeak.lanes)
    let (iterations, x, y): (Int, Float, Float) = (3, 0.5, 0.25)
    sums.withUnsafeMutableBufferPointer { kernel(Int64(iterations), x, y, $0.baseAddress!) }
    // Chain k starts at y + k + 1 and takes unroll · iterations steps of acc·x + y.
    var expected: Float = 0
    for chain in 0..<FMAPeak.accumulators {
        var acc = y + Float(chain + 1)
        for _ in 0..<(FMAPeak.unroll * iterations) { acc = (acc * x + y) }
        expected += acc
    }
    for lane in sums.indices { #expect(abs(sums[lane] - expected) <= 1e-5 * abs(expected), "lane \(lane): \(sums[lane]) vs \(expected)") }
}

#if arch(x86_64)
@Test func fmaPeakKernelIsVectorFMAs() throws {
    let assembly = try LLVMJIT().assembly(for: FMAPeak.irText())
    #expect(assembly.contains("vfmadd"), "no FMA instruction in the peak kernel")
}
#endif
