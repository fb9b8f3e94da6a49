import Foundation
import LlamaDistributed

/// Process set-up for runs under mpirun.
enum DistributedSetup {
    /// Gives each rank its share of the cores as `LLAMA_THREADS` (unless set): the cores
    /// this process may run on when mpirun bound it to fewer than the machine has, else
    /// the machine's cores divided by the ranks on this machine. Must run before
    /// `Parallel.threadCount` is first read.
    static func divideThreadsAmongRanks() {
        guard Communicator.launchedByMPI, ProcessInfo.processInfo.environment["LLAMA_THREADS"] == nil else { return }
        let allowed = ProcessInfo.processInfo.activeProcessorCount
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let threads = allowed < online ? allowed : online / max(1, Communicator.localSize)
        setenv("LLAMA_THREADS", String(max(1, threads)), 1)
    }
}
