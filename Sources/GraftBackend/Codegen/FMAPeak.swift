// FMAPeak: the machine's fp32 fused-multiply-add peak, measured with a microkernel that Graft's
// own LLVM backend compiles, so `graft bench` can say how far a step is from what the cores
// can do at all (the sgemm ceiling says how far it is from OpenBLAS).
//
// The kernel keeps `accumulators` independent chains of `<16 x float>` FMAs
// (acc ← acc·x + y) in registers, `unroll` FMAs per chain per loop trip, so the FMA units
// never wait for a previous result (Zen 5 and recent Xeons: two 512-bit FMA pipes with a
// latency of 4 cycles need 8 chains in flight; 16 leave margin and fit in 32 zmm registers).
// Each chain starts from a different value, so LLVM cannot merge them; x and y are arguments,
// so nothing folds; the sum of the chains is stored, so nothing is dead. On a CPU without
// AVX-512, LLVM splits the vectors and the figure is that CPU's peak for narrower vectors.
import Dispatch
import Foundation
import GraftIR

/// The fp32 FMA peak of this machine, measured with a JIT-compiled microkernel.
///
/// ```swift
/// let gflops = try FMAPeak.measure(threads: 2)   // e.g. ~400 on 2 vCPUs of a Zen 5 EPYC
/// ```
public enum FMAPeak {
    /// Independent FMA chains in registers.
    public static let accumulators = 16
    /// FMAs per chain in one loop trip.
    public static let unroll = 4
    /// Lanes of one vector FMA (512 bits of fp32).
    public static let lanes = 16

    /// Floating-point operations of one loop trip: every lane of every FMA counts 2.
    public static var flopsPerIteration: Double { Double(accumulators * unroll * lanes * 2) }

    /// Measures the peak on `threads` threads running the kernel at once.
    ///
    /// - Parameters:
    ///   - threads: threads running the kernel together (each on its own chains).
    ///   - iterations: loop trips per thread per run (64 vector FMAs each).
    ///   - repetitions: timed runs after one warm-up run; the fastest counts, since a peak is
    ///     what the cores reach when nothing else gets in the way.
    /// - Returns: GFLOP/s over all threads (2 per lane of each FMA).
    /// - Throws: `Diagnostic` if LLVM cannot compile the kernel.
    public static func measure(threads: Int, iterations: Int = 1 << 20, repetitions: Int = 5) throws -> Double {
        precondition(threads >= 1 && iterations >= 1 && repetitions >= 1, "FMAPeak.measure: threads, iterations and repetitions must be positive")
        let jit = try LLVMJIT()
        try jit.add(module: irText(), name: "fma_peak")
        let kernel = unsafeBitCast(try jit.address(of: "graft_fma_peak"), to: Kernel.self)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads * lanes)
        defer { sums.deallocate() }
        let shared = SumsPointer(sums)
        func run() -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                kernel(Int64(iterations), 0.999_999, 1e-6, shared.pointer + thread * lanes)
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }
        _ = run()
        let fastest = (0..<repetitions).map { _ in run() }.min()!
        return Double(threads) * Double(iterations) * flopsPerIteration / fastest / 1e9
    }

    /// `void graft_fma_peak(i64 iterations, float x, float y, float* sums)`: runs the chains
    /// for `iterations` (≥ 1) loop trips and stores their lane-wise sum to `sums[0..<16]`.
    public static func irText() -> String {
        let vector = "<\(lanes) x float>"
        var ir = """
            declare \(vector) @llvm.fma.v\(lanes)f32(\(vector), \(vector), \(vector))

            define void @graft_fma_peak(i64 %n, float %x, float %y, float* %sums) {
            entry:
              %x.0 = insertelement \(vector) undef, float %x, i32 0
              %xv = shufflevector \(vector) %x.0, \(vector) undef, <\(lanes) x i32> zeroinitializer
              %y.0 = insertelement \(vector) undef, float %y, i32 0
              %yv = shufflevector \(vector) %y.0, \(vector) undef, <\(lanes) x i32> zeroinitializer

            """
        for chain in 0..<accumulators {
            ir += "  %a\(chain).init = fadd \(vector) %yv, <\((0..<lanes).map { _ in "float \(Float(chain + 1))" }.joined(separator: ", "))>\n"
        }
        ir += "  br label %loop\n\nloop:\n  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]\n"
        for chain in 0..<accumulators {
            ir += "  %a\(chain).0 = phi \(vector) [ %a\(chain).init, %entry ], [ %a\(chain).\(unroll), %loop ]\n"
        }
        for step in 1...unroll {
            for chain in 0..<accumulators {
                ir += "  %a\(chain).\(step) = call \(vector) @llvm.fma.v\(lanes)f32(\(vector) %a\(chain).\(step - 1), \(vector) %xv, \(vector) %yv)\n"
            }
        }
        ir += """
              %i.next = add i64 %i, 1
              %done = icmp sge i64 %i.next, %n
              br i1 %done, label %exit, label %loop

            exit:
              %s0 = fadd \(vector) %a0.\(unroll), zeroinitializer

            """
        for chain in 1..<accumulators {
            ir += "  %s\(chain) = fadd \(vector) %s\(chain - 1), %a\(chain).\(unroll)\n"
        }
        ir += """
              %out = bitcast float* %sums to \(vector)*
              store \(vector) %s\(accumulators - 1), \(vector)* %out, align 4
              ret void
            }

            """
        return ir
    }

    private typealias Kernel = @convention(c) (Int64, Float, Float, UnsafeMutablePointer<Float>) -> Void

    /// Each thread writes its own 16 sums.
    private struct SumsPointer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
    }
}
