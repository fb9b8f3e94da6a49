import Foundation

/// MPI_COMM_WORLD of a process started by `mpirun`: its rank, the number of ranks, and the
/// collectives data-parallel training needs (sum-allreduce of Float buffers in place,
/// broadcast, barrier, all-gather, gather, abort). A thin layer over OpenMPI's C API
/// (`MPILibrary`, loaded at run time).
///
/// Buffers longer than an MPI `int` count are sent in chunks. Every collective must be
/// called by every rank in the same order — the usual MPI contract.
public final class Communicator: @unchecked Sendable {
    /// This process's rank (0 ..< size) and the number of ranks.
    public let rank: Int
    public let size: Int
    /// Whether MPI granted MPI_THREAD_SERIALIZED, so a helper thread may make the calls
    /// (overlapping communication with the backward pass).
    public let allowsHelperThread: Bool
    let mpi: MPILibrary
    private var finalized = false

    /// Elements per MPI call: below Int32.max with room to spare.
    static let chunk = 1 << 28

    /// Variables a launcher sets in every rank: OpenMPI's mpirun sets the first, a PMIx
    /// launcher such as `srun --mpi=pmix` the second.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK"]

    /// Whether this process was started by mpirun (or srun with PMIx); otherwise MPI is never loaded.
    public static var launchedByMPI: Bool {
        launcherVariables.contains { ProcessInfo.processInfo.environment[$0] != nil }
    }

    /// Ranks started on this machine (OMPI_COMM_WORLD_LOCAL_SIZE, or Slurm's tasks per node), 1 outside mpirun.
    public static var localSize: Int {
        let environment = ProcessInfo.processInfo.environment
        return (environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? environment["SLURM_NTASKS_PER_NODE"]).flatMap { Int($0) } ?? 1
    }

    nonisolated(unsafe) private static var shared: Communicator?

    /// The world communicator when launched by mpirun, nil otherwise — a single process
    /// never loads or touches MPI. Initialises MPI on first use (once per process).
    public static func world() throws -> Communicator? {
        guard launchedByMPI else { return nil }
        if let shared { return shared }
        let made = try Communicator(library: MPILibrary())
        shared = made
        return made
    }

    private init(library: MPILibrary) throws {
        mpi = library
        var flag: Int32 = 0
        _ = mpi.initialized(&flag)
        var provided: Int32 = 0
        if flag == 0 {
            let code = mpi.initThread(nil, nil, MPILibrary.threadSerialized, &provided)
            guard code == 0 else { throw DistributedError.callFailed(function: "MPI_Init_thread", code: code, rank: -1) }
        } else {
            provided = 0
        }
        var value: Int32 = 0
        _ = mpi.commRank(mpi.commWorld, &value)
        rank = Int(value)
        _ = mpi.commSize(mpi.commWorld, &value)
        size = Int(value)
        allowsHelperThread = provided >= MPILibrary.threadSerialized
    }

    /// Whether this is rank 0, the one that writes checkpoints, logs and metrics.
    public var isRoot: Bool { rank == 0 }

    private func check(_ code: Int32, _ function: String) throws {
        guard code == 0 else { throw DistributedError.callFailed(function: function, code: code, rank: rank) }
    }

    /// Replaces `buffer[0..<count]` on every rank by the element-wise sum over ranks.
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        var offset = 0
        while offset < count {
            let n = min(Self.chunk, count - offset)
            try check(mpi.allreduce(MPILibrary.inPlace, buffer + offset, Int32(n), mpi.float, mpi.sum, mpi.commWorld), "MPI_Allreduce")
            offset += n
        }
    }

    /// The sum over ranks of `values` (element-wise), in Double.
    public func allreduceSum(_ values: [Double]) throws -> [Double] {
        var result = values
        try result.withUnsafeMutableBytes { bytes in
            try check(mpi.allreduce(MPILibrary.inPlace, bytes.baseAddress, Int32(values.count), mpi.double, mpi.sum, mpi.commWorld),
                      "MPI_Allreduce")
        }
        return result
    }

    /// Copies `bytes` bytes at `buffer` from rank `root` to every other rank.
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int = 0) throws {
        var offset = 0
        while offset < bytes {
            let n = min(Self.chunk, bytes - offset)
            try check(mpi.bcast(buffer + offset, Int32(n), mpi.byte, Int32(root), mpi.commWorld), "MPI_Bcast")
            offset += n
        }
    }

    /// Rank `root`'s `data` on every rank (other ranks' argument is ignored).
    public func broadcast(_ data: Data, root: Int = 0) throws -> Data {
        var length = [UInt64(data.count)]
        try length.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { try broadcast(base, bytes: 8, root: root) }
        }
        var bytes = rank == root ? [UInt8](data) : [UInt8](repeating: 0, count: Int(length[0]))
        try bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { try broadcast(base, bytes: raw.count, root: root) }
        }
        return Data(bytes)
    }

    /// Waits until every rank has called it.
    public func barrier() throws { try check(mpi.barrier(mpi.commWorld), "MPI_Barrier") }

    /// Every rank's `value`, indexed by rank.
    public func allgather(_ value: UInt64) throws -> [UInt64] {
        let counts = [Int32](repeating: 8, count: size), displacements = (0..<size).map { Int32($0 * 8) }
        var result = [UInt64](repeating: 0, count: size)
        var mine = value
        try result.withUnsafeMutableBytes { out in
            try check(mpi.allgatherv(&mine, 8, mpi.byte, out.baseAddress, counts, displacements, mpi.byte, mpi.commWorld),
                      "MPI_Allgatherv")
        }
        return result
    }

    /// In place all-gather of a Float buffer split into one contiguous part per rank:
    /// `ranges[r]` is rank r's part; on return every rank holds every part.
    public func allgather(_ buffer: UnsafeMutablePointer<Float>, ranges: [Range<Int>]) throws {
        precondition(ranges.count == size, "one range per rank")
        guard let largest = ranges.map(\.count).max(), largest < Int(Int32.max) else {
            throw DistributedError.ranksDisagree(what: "all-gather size", detail: "a part exceeds \(Int32.max) elements")
        }
        let counts = ranges.map { Int32($0.count) }
        // Displacements are Int32 too: gather relative to the first part when they would overflow.
        let base = ranges.first?.lowerBound ?? 0
        guard let end = ranges.last?.upperBound, end - base < Int(Int32.max) else {
            throw DistributedError.ranksDisagree(what: "all-gather size", detail: "the buffer exceeds \(Int32.max) elements")
        }
        let displacements = ranges.map { Int32($0.lowerBound - base) }
        try check(mpi.allgatherv(MPILibrary.inPlace, 0, mpi.float, buffer + base, counts, displacements, mpi.float, mpi.commWorld),
                  "MPI_Allgatherv")
    }

    /// Gathers every rank's `part` (`ranges[rank].count` floats) into `destination` on
    /// rank `root`, part r at `ranges[r]` (other ranks pass nil).
    public func gather(part: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>?, ranges: [Range<Int>],
                       root: Int = 0) throws {
        precondition(ranges.count == size, "one range per rank")
        let base = ranges.first?.lowerBound ?? 0
        guard let end = ranges.last?.upperBound, end - base < Int(Int32.max) else {
            throw DistributedError.ranksDisagree(what: "gather size", detail: "the buffer exceeds \(Int32.max) elements")
        }
        let counts = ranges.map { Int32($0.count) }, displacements = ranges.map { Int32($0.lowerBound - base) }
        try check(mpi.gatherv(part, counts[rank], mpi.float, destination.map { $0 + base }, counts, displacements, mpi.float,
                              Int32(root), mpi.commWorld), "MPI_Gatherv")
    }

    /// Prints "rank R of N: message" on standard error and ends the whole job through
    /// MPI_Abort (mpirun then stops every rank).
    public func abort(message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(size): \(message)\n".utf8))
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)
    }

    /// MPI_Finalize; call once every rank is done with MPI (mpirun reports ranks that
    /// exit without it as failures).
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        _ = mpi.finalize()
    }
}
