// MPICommunicator: the replicas of a job launched by `mpirun`, over Open MPI.
//
// Open MPI (Debian's `libopenmpi-dev openmpi-bin`) is loaded at run time with dlopen, as
// OpenBLAS is: building Graft never needs MPI, and a process not started by `mpirun` never
// touches it. Its handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`) are the addresses of
// global objects in libmpi (`ompi_mpi_comm_world`, …), which is how Open MPI's mpi.h defines
// them, so they are resolved with dlsym too. Every MPI error is fatal to the job (MPI's
// default handler), so a rank that dies ends the others.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GraftIR

/// The group of processes of an `mpirun` job, one replica per rank.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let library: OpenMPILibrary

    /// The job's communicator when this process was started by Open MPI's `mpirun` (it sets
    /// `OMPI_COMM_WORLD_SIZE`), nil otherwise. Initialises MPI once per process.
    /// - Throws: a `Diagnostic` if the process was started by `mpirun` but Open MPI cannot be
    ///   loaded.
    public static func fromEnvironment() throws -> MPICommunicator? {
        guard ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil else { return nil }
        return try shared.get()
    }

    /// The worker threads a rank gets: this machine's cores divided among the ranks Open MPI
    /// started on it (`OMPI_COMM_WORLD_LOCAL_SIZE`), at least 1.
    public var threadsPerRank: Int {
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? size
        return Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / Swift.max(local, 1))
    }

    private static let shared: Result<MPICommunicator, Error> = Result {
        let library = try OpenMPILibrary.load()
        var provided: Int32 = 0
        // MPI_THREAD_SERIALIZED (2): any thread may call, one at a time; Graft calls from the
        // thread that runs the step.
        try library.check(library.initThread(nil, nil, 2, &provided), "MPI_Init_thread")
        var rank: Int32 = 0, size: Int32 = 0
        try library.check(library.commRank(library.world, &rank), "MPI_Comm_rank")
        try library.check(library.commSize(library.world, &size), "MPI_Comm_size")
        atexit { MPICommunicator.finalizeAtExit() }
        return MPICommunicator(library: library, rank: Int(rank), size: Int(size))
    }

    private init(library: OpenMPILibrary, rank: Int, size: Int) {
        self.library = library
        self.rank = rank
        self.size = size
    }

    public func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) {
        precondition(count <= Int(Int32.max), "all_reduce of \(count) floats: MPI counts are 32-bit")
        _ = library.allreduce(library.inPlace, buffer, Int32(count), library.float, library.sum, library.world)
        if reduction == .mean {
            let scale = 1 / Float(size)
            for index in 0..<count { buffer[index] *= scale }
        }
    }

    /// `MPI_Iallreduce` in place: Open MPI moves the data while the step computes, inside the
    /// MPI calls it makes meanwhile (the step's blocking all-reduces) and in `finish`.
    public func startAllReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, _ reduction: CollectiveReduction) -> PendingAllReduce {
        precondition(count <= Int(Int32.max), "all_reduce of \(count) floats: MPI counts are 32-bit")
        var request: UnsafeMutableRawPointer?
        _ = library.iallreduce(library.inPlace, buffer, Int32(count), library.float, library.sum, library.world, &request)
        return PendingAllReduce(buffer: buffer, count: count, reduction: reduction, request: request)
    }

    /// `MPI_Wait` for a started all-reduce, then the mean's scaling.
    public func finish(_ pending: PendingAllReduce) {
        var request = pending.request
        _ = library.wait(&request, nil)   // MPI_STATUS_IGNORE is a null pointer in Open MPI
        if pending.reduction == .mean {
            let scale = 1 / Float(size)
            for index in 0..<pending.count { pending.buffer[index] *= scale }
        }
    }

    /// Replaces `count` floats at `buffer` on every rank by rank 0's (the initial state).
    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count <= Int(Int32.max), "broadcast of \(count) floats: MPI counts are 32-bit")
        _ = library.bcast(buffer, Int32(count), library.float, 0, library.world)
    }

    /// Replaces `count` bytes at `buffer` on every rank by rank 0's.
    public func broadcast(bytes buffer: UnsafeMutableRawPointer, count: Int) {
        precondition(count <= Int(Int32.max), "broadcast of \(count) bytes: MPI counts are 32-bit")
        _ = library.bcast(buffer, Int32(count), library.byte, 0, library.world)
    }

    /// Ends the whole job with `code` and `message` on this rank's standard error.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message)\n".utf8))
        _ = library.abort(library.world, code)
        exit(code)
    }

    private static func finalizeAtExit() {
        if case .success(let communicator) = shared { _ = communicator.library.finalize() }
    }
}

/// Open MPI's entry points and predefined handles, resolved with dlsym.
private struct OpenMPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    let initThread: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let allreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32
    /// `MPI_Iallreduce`; an `MPI_Request` is a pointer in Open MPI.
    let iallreduce: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32
    let wait: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutableRawPointer?) -> Int32
    let bcast: @convention(c) (UnsafeMutableRawPointer, Int32, Handle, Int32, Handle) -> Int32
    let abort: @convention(c) (Handle, Int32) -> Int32
    let finalize: @convention(c) () -> Int32
    let world: Handle, float: Handle, byte: Handle, sum: Handle
    /// `MPI_IN_PLACE`, which Open MPI defines as `(void *) 1`.
    let inPlace = UnsafeRawPointer(bitPattern: 1)

    static let fileName = "libmpi.so.40"

    static func load() throws -> OpenMPILibrary {
        // RTLD_GLOBAL: Open MPI's own plugins, which it dlopens, resolve libmpi's symbols.
        guard let library = dlopen(fileName, RTLD_NOW | RTLD_GLOBAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw Diagnostic("this process was started by mpirun, but Open MPI (\(fileName)) could not be loaded: \(reason); install it with `apt-get install libopenmpi-dev openmpi-bin` (`make deps` does)")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let address = dlsym(library, name) else {
                throw Diagnostic("\(fileName) has no symbol '\(name)'; Graft needs Open MPI 4 (Debian 12's)")
            }
            return unsafeBitCast(address, to: type)
        }
        func handle(_ name: String) throws -> Handle {
            guard let address = dlsym(library, name) else {
                throw Diagnostic("\(fileName) has no symbol '\(name)'; Graft needs Open MPI 4 (Debian 12's)")
            }
            return address
        }
        return OpenMPILibrary(
            initThread: try symbol("MPI_Init_thread", as: (@convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?, Int32, UnsafeMutablePointer<Int32>) -> Int32).self),
            commRank: try symbol("MPI_Comm_rank", as: (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self),
            commSize: try symbol("MPI_Comm_size", as: (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self),
            allreduce: try symbol("MPI_Allreduce", as: (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle) -> Int32).self),
            iallreduce: try symbol("MPI_Iallreduce", as: (@convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer, Int32, Handle, Handle, Handle, UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32).self),
            wait: try symbol("MPI_Wait", as: (@convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutableRawPointer?) -> Int32).self),
            bcast: try symbol("MPI_Bcast", as: (@convention(c) (UnsafeMutableRawPointer, Int32, Handle, Int32, Handle) -> Int32).self),
            abort: try symbol("MPI_Abort", as: (@convention(c) (Handle, Int32) -> Int32).self),
            finalize: try symbol("MPI_Finalize", as: (@convention(c) () -> Int32).self),
            world: try handle("ompi_mpi_comm_world"), float: try handle("ompi_mpi_float"),
            byte: try handle("ompi_mpi_byte"), sum: try handle("ompi_mpi_op_sum"))
    }

    func check(_ status: Int32, _ call: String) throws {
        guard status == 0 else { throw Diagnostic("\(call) failed with MPI error \(status)") }
    }
}
