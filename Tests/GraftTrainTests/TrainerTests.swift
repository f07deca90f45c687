// How `graft train` sets up its data: batches are prepared in the background only where the
// step leaves cores idle (Batches.prefetches).

import Testing
@testable import GraftTrain

@Suite struct TrainerTests {
    @Test func batchesArePrefetchedOnlyWhereTheStepLeavesCoresIdle() {
        #expect(!Trainer.prefetches(cores: 2, stepThreads: 2, ranks: 1))   // the step fills both cores
        #expect(Trainer.prefetches(cores: 16, stepThreads: 2, ranks: 1))
        #expect(!Trainer.prefetches(cores: 16, stepThreads: 8, ranks: 2))  // mpirun's ranks share out every core
    }
}
