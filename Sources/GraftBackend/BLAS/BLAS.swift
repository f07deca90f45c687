// BLAS: single-precision matrix multiply from OpenBLAS, loaded at run time.
//
// OpenBLAS picks its kernels when the library loads. Version 0.3.21 (Debian 12) does not
// recognise recent AVX-512 Xeons and falls back to its slowest kernel (Prescott, ~5x
// slower), so Graft sets OPENBLAS_CORETYPE=SkylakeX before loading it, unless the user set
// the variable. Linking OpenBLAS at build time would load it before `main`, too early to set
// anything; so the library is opened with dlopen on first use and called through dlsym.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLLVM

/// Row-major single-precision GEMM and thread control, from OpenBLAS (`libopenblas.so.0`).
///
/// The library is loaded on first use, once, from any thread. If it is missing the process
/// stops with a message saying to install it (`make deps`).
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices (`cblas_sgemm`).
    ///
    /// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`; `op(X)` is `Xᵀ` when the
    /// matching `transpose` flag is set. Leading dimensions count floats between rows as
    /// stored: `lda ≥ k` for plain A, `lda ≥ m` for transposed A (likewise B, and
    /// `ldc ≥ n`).
    ///
    /// - Parameters:
    ///   - transposeA: multiply by Aᵀ (A is stored `k × m`).
    ///   - transposeB: multiply by Bᵀ (B is stored `n × k`).
    ///   - m: rows of C.
    ///   - n: columns of C.
    ///   - k: the inner dimension.
    ///   - alpha: scale of the product.
    ///   - a: A's first element.
    ///   - lda: A's row stride in floats.
    ///   - b: B's first element.
    ///   - ldb: B's row stride in floats.
    ///   - beta: scale of C's previous contents (0 ignores them, NaNs included).
    ///   - c: C's first element.
    ///   - ldc: C's row stride in floats.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension \(m)×\(n)×\(k)")
        precondition(lda >= max(1, transposeA ? m : k), "sgemm: lda \(lda) is shorter than a row of A")
        precondition(ldb >= max(1, transposeB ? k : n), "sgemm: ldb \(ldb) is shorter than a row of B")
        precondition(ldc >= max(1, n), "sgemm: ldc \(ldc) is shorter than a row of C")
        precondition([m, n, k, lda, ldb, ldc].allSatisfy { $0 <= Int(Int32.max) },
                     "sgemm: dimensions beyond Int32 are not supported by this OpenBLAS")
        library.sgemm(
            rowMajor, transposeA ? transposed : notTransposed, transposeB ? transposed : notTransposed,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The name of the kernel family OpenBLAS chose (`openblas_get_corename`), e.g.
    /// `SkylakeX`; `Prescott` means the slow fallback.
    public static var coreName: String {
        library.coreName().map { String(cString: $0) } ?? ""
    }

    /// Sets how many threads OpenBLAS uses (`openblas_set_num_threads`).
    ///
    /// - Parameter n: the thread count, at least 1.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "BLAS.setThreadCount: thread count must be at least 1, got \(n)")
        library.setThreadCount(Int32(clamping: n))
    }

    /// How many threads OpenBLAS uses (`openblas_get_num_threads`).
    public static var threadCount: Int {
        Int(library.threadCount())
    }

    /// Measures `sgemm` on square `size × size` matrices.
    ///
    /// Runs one untimed warm-up, then `repetitions` timed multiplies.
    ///
    /// - Parameters:
    ///   - size: rows = columns = inner dimension.
    ///   - repetitions: timed runs, at least 1.
    /// - Returns: the median rate in GFLOP/s, counting `2 · size³` flops per multiply.
    public static func measureSGEMM(size: Int = 1024, repetitions: Int) -> Double {
        precondition(size >= 1 && repetitions >= 1, "measureSGEMM: size and repetitions must be positive")
        let count = size * size
        let a = (0..<count).map { Float($0 % 17) / 17 - 0.5 }
        let b = (0..<count).map { Float($0 % 13) / 13 - 0.5 }
        var c = [Float](repeating: 0, count: count)
        let clock = ContinuousClock()
        var seconds: [Double] = []
        c.withUnsafeMutableBufferPointer { c in
            let output = c.baseAddress!
            func run() {
                sgemm(transposeA: false, transposeB: false, m: size, n: size, k: size, alpha: 1,
                      a: a, lda: size, b: b, ldb: size, beta: 0, c: output, ldc: size)
            }
            run()
            for _ in 0..<repetitions {
                let elapsed = clock.measure(run)
                seconds.append(Double(elapsed.components.seconds)
                               + Double(elapsed.components.attoseconds) * 1e-18)
            }
        }
        let median = seconds.sorted()[seconds.count / 2]
        return 2 * Double(size) * Double(size) * Double(size) / median / 1e9
    }

    // MARK: - Loading OpenBLAS

    private static let rowMajor: Int32 = 101      // CblasRowMajor
    private static let notTransposed: Int32 = 111 // CblasNoTrans
    private static let transposed: Int32 = 112    // CblasTrans

    /// The loaded library; Swift initialises static properties once, thread-safely.
    private static let library = OpenBLASLibrary.load()
}

/// OpenBLAS's entry points, resolved with dlsym.
private struct OpenBLASLibrary: @unchecked Sendable {
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    let sgemm: SGEMM
    let setThreadCount: @convention(c) (Int32) -> Void
    let threadCount: @convention(c) () -> Int32
    let coreName: @convention(c) () -> UnsafeMutablePointer<CChar>?

    static let fileName = "libopenblas.so.0"

    /// Chooses the core type, opens the library and resolves its symbols; stops the
    /// process with instructions if it cannot.
    static func load() -> OpenBLASLibrary {
        if getenv("OPENBLAS_CORETYPE") == nil && hostSupportsAVX512() {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 0)
        }
        guard let handle = dlopen(fileName, RTLD_NOW | RTLD_GLOBAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            fatalError("""
                Graft could not load OpenBLAS (\(fileName)): \(reason).
                Install it with `make deps` (Debian package libopenblas-dev).
                """)
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T {
            guard let address = dlsym(handle, name) else {
                fatalError("\(fileName) has no symbol \(name); install OpenBLAS with `make deps` (libopenblas-dev)")
            }
            return unsafeBitCast(address, to: type)
        }
        return OpenBLASLibrary(
            sgemm: symbol("cblas_sgemm", as: SGEMM.self),
            setThreadCount: symbol("openblas_set_num_threads", as: (@convention(c) (Int32) -> Void).self),
            threadCount: symbol("openblas_get_num_threads", as: (@convention(c) () -> Int32).self),
            coreName: symbol("openblas_get_corename",
                             as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self))
    }

    /// Whether the CPU and OS support the AVX-512 subsets OpenBLAS's SkylakeX kernels use,
    /// as LLVM's host feature detection reports them.
    static func hostSupportsAVX512() -> Bool {
        let features = takeLLVMString(LLVMGetHostCPUFeatures()).split(separator: ",")
        return ["avx512f", "avx512vl", "avx512bw", "avx512dq"].allSatisfy { features.contains(Substring("+" + $0)) }
    }
}
