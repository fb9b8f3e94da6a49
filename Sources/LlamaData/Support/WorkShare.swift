import Foundation

/// This process's share of a list of independent tasks (input shards, sources) when the same
/// command runs as several workers: a Slurm job array, MPI ranks, or processes started by hand
/// with `--shard-index i --shard-count n`.
///
/// Tasks are dealt round-robin: worker `index` takes the tasks at positions `index`,
/// `index + count`, `index + 2·count`, … of the list in argument order, so every worker gets
/// within one task of the same number and the union over the workers is the whole list.
public struct WorkShare: Sendable, Equatable, CustomStringConvertible {
    /// This worker, `0 ..< count`.
    public let index: Int
    /// Number of workers.
    public let count: Int
    /// Where the share came from (`--shard-index`, `SLURM_ARRAY_TASK_ID`, …), for messages.
    public let origin: String

    /// The whole list: one worker.
    public static let everything = WorkShare(index: 0, count: 1, origin: "single process")

    public init(index: Int, count: Int, origin: String) {
        self.index = index
        self.count = count
        self.origin = origin
    }

    /// The share from explicit options, else from the environment: Slurm job arrays
    /// (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`),
    /// Open MPI (`OMPI_COMM_WORLD_RANK` / `OMPI_COMM_WORLD_SIZE`), MPICH / Intel MPI
    /// (`PMI_RANK` / `PMI_SIZE`), in that order; else everything.
    /// - Throws: `DataError.invalidShare` when only one of the options is given, a variable is
    ///   not a number, or the index is outside `0 ..< count`.
    public static func resolve(index: Int?, count: Int?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkShare {
        if index != nil || count != nil {
            guard let index, let count else {
                throw DataError.invalidShare(reason: "--shard-index and --shard-count go together")
            }
            return try checked(index: index, count: count, origin: "--shard-index \(index) --shard-count \(count)")
        }
        if let id = environment["SLURM_ARRAY_TASK_ID"] {
            guard let task = Int(id), let total = Int(environment["SLURM_ARRAY_TASK_COUNT"] ?? "") else {
                throw DataError.invalidShare(reason: "SLURM_ARRAY_TASK_ID=\(id) needs a numeric SLURM_ARRAY_TASK_COUNT")
            }
            // Arrays may start at any index (--array=1-8): count from the array's minimum.
            let minimum = Int(environment["SLURM_ARRAY_TASK_MIN"] ?? "0") ?? 0
            return try checked(index: task - minimum, count: total, origin: "SLURM_ARRAY_TASK_ID=\(id)")
        }
        for (rankName, sizeName) in [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE")] {
            guard let rankText = environment[rankName] else { continue }
            guard let rank = Int(rankText), let size = Int(environment[sizeName] ?? "") else {
                throw DataError.invalidShare(reason: "\(rankName)=\(rankText) needs a numeric \(sizeName)")
            }
            return try checked(index: rank, count: size, origin: "\(rankName)=\(rankText)")
        }
        return .everything
    }

    private static func checked(index: Int, count: Int, origin: String) throws -> WorkShare {
        guard count >= 1, index >= 0, index < count else {
            throw DataError.invalidShare(reason: "worker \(index) of \(count) (\(origin)) is outside 0..<\(max(count, 1))")
        }
        return WorkShare(index: index, count: count, origin: origin)
    }

    /// Whether the task at `position` of the full list is this worker's.
    public func owns(position: Int) -> Bool { position % count == index }

    /// This worker's tasks, in list order.
    public func select<Task>(_ tasks: [Task]) -> [Task] {
        tasks.enumerated().filter { owns(position: $0.offset) }.map(\.element)
    }

    public var description: String { count == 1 ? "all tasks" : "worker \(index + 1) of \(count) (\(origin))" }
}
