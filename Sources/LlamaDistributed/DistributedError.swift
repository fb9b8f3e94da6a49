/// Errors of the distributed layer; each names the library, symbol or rank involved.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// The process was started by mpirun but no usable libmpi could be loaded.
    case libraryNotFound(tried: [String], reason: String)
    /// libmpi was loaded but lacks a function or handle we need (not OpenMPI's ABI).
    case missingSymbol(library: String, symbol: String)
    /// An MPI call returned an error code.
    case callFailed(function: String, code: Int32, rank: Int)
    /// The ranks disagree where they must agree (parameters drifted apart, sizes differ).
    case ranksDisagree(what: String, detail: String)

    public var description: String {
        switch self {
        case let .libraryNotFound(tried, reason):
            return "launched under mpirun but libmpi could not be loaded (tried \(tried.joined(separator: ", ")): \(reason); "
                + "install OpenMPI (Debian: libopenmpi-dev openmpi-bin) or set LLAMA_MPI_LIBRARY to libmpi.so's path"
        case let .missingSymbol(library, symbol):
            return "\(library): symbol \(symbol) is missing; the toolkit needs OpenMPI's ABI (MPICH is not supported)"
        case let .callFailed(function, code, rank): return "rank \(rank): \(function) failed with MPI error \(code)"
        case let .ranksDisagree(what, detail): return "ranks disagree on \(what): \(detail)"
        }
    }
}
