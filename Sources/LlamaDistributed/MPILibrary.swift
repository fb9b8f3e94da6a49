import Foundation

/// OpenMPI's C API, loaded at run time with dlopen/dlsym so the package never links MPI:
/// it builds and runs on machines without MPI, and only a process started by mpirun
/// looks for libmpi.so.40 (or `LLAMA_MPI_LIBRARY`).
///
/// OpenMPI's handles are pointers to global objects — `MPI_COMM_WORLD` is
/// `&ompi_mpi_comm_world`, `MPI_FLOAT` is `&ompi_mpi_float`, `MPI_SUM` is
/// `&ompi_mpi_op_sum` (mpi.h, `OMPI_PREDEFINED_GLOBAL`) — so the address dlsym returns for
/// those symbols *is* the handle. `MPI_IN_PLACE` is `(void *) 1`. MPICH, whose handles
/// are integers, is not supported.
final class MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias Buffer = UnsafeRawPointer?
    typealias MutableBuffer = UnsafeMutableRawPointer?
    typealias Query = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias InitThread = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<Int32>) -> Int32
    typealias Finalize = @convention(c) () -> Int32
    typealias CommQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias Allreduce = @convention(c) (Buffer, MutableBuffer, Int32, Handle, Handle, Handle) -> Int32
    typealias Bcast = @convention(c) (MutableBuffer, Int32, Handle, Int32, Handle) -> Int32
    typealias Barrier = @convention(c) (Handle) -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias Allgatherv = @convention(c) (Buffer, Int32, Handle, MutableBuffer, UnsafePointer<Int32>, UnsafePointer<Int32>, Handle, Handle) -> Int32
    typealias Gatherv = @convention(c) (Buffer, Int32, Handle, MutableBuffer, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Handle, Int32, Handle) -> Int32
    typealias ReduceScatter = @convention(c) (Buffer, MutableBuffer, UnsafePointer<Int32>, Handle, Handle, Handle) -> Int32

    let path: String
    let commWorld: Handle, float: Handle, double: Handle, byte: Handle, int: Handle, sum: Handle, max: Handle
    let initialized: Query
    let finalized: Query
    let initThread: InitThread
    let finalize: Finalize
    let commRank: CommQuery
    let commSize: CommQuery
    let allreduce: Allreduce
    let bcast: Bcast
    let barrier: Barrier
    let abort: Abort
    let allgatherv: Allgatherv
    let gatherv: Gatherv
    let reduceScatter: ReduceScatter

    /// `MPI_IN_PLACE`.
    static let inPlace = UnsafeRawPointer(bitPattern: 1)
    /// `MPI_THREAD_SERIALIZED`: any thread may call MPI, one at a time.
    static let threadSerialized: Int32 = 2

    /// Opens libmpi (RTLD_GLOBAL, which OpenMPI's own plug-ins need to find its symbols)
    /// and resolves every function and handle, or throws naming what is missing.
    init() throws {
        var candidates = ["libmpi.so.40", "libmpi.so", "/usr/lib/x86_64-linux-gnu/libmpi.so.40",
                          "/usr/lib/aarch64-linux-gnu/libmpi.so.40"]
        if let chosen = ProcessInfo.processInfo.environment["LLAMA_MPI_LIBRARY"] { candidates = [chosen] }
        var opened: UnsafeMutableRawPointer?
        var chosenPath = ""
        var reason = ""
        for candidate in candidates {
            if let library = dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) {
                opened = library
                chosenPath = candidate
                break
            }
            reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
        }
        guard let library = opened else { throw DistributedError.libraryNotFound(tried: candidates, reason: reason) }
        path = chosenPath
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(library, name) else { throw DistributedError.missingSymbol(library: chosenPath, symbol: name) }
            return address
        }
        func function<T>(_ name: String, as type: T.Type) throws -> T { unsafeBitCast(try symbol(name), to: type) }
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        byte = try symbol("ompi_mpi_byte")
        int = try symbol("ompi_mpi_int")
        sum = try symbol("ompi_mpi_op_sum")
        max = try symbol("ompi_mpi_op_max")
        initialized = try function("MPI_Initialized", as: Query.self)
        finalized = try function("MPI_Finalized", as: Query.self)
        initThread = try function("MPI_Init_thread", as: InitThread.self)
        finalize = try function("MPI_Finalize", as: Finalize.self)
        commRank = try function("MPI_Comm_rank", as: CommQuery.self)
        commSize = try function("MPI_Comm_size", as: CommQuery.self)
        allreduce = try function("MPI_Allreduce", as: Allreduce.self)
        bcast = try function("MPI_Bcast", as: Bcast.self)
        barrier = try function("MPI_Barrier", as: Barrier.self)
        abort = try function("MPI_Abort", as: Abort.self)
        allgatherv = try function("MPI_Allgatherv", as: Allgatherv.self)
        gatherv = try function("MPI_Gatherv", as: Gatherv.self)
        reduceScatter = try function("MPI_Reduce_scatter", as: ReduceScatter.self)
    }
}
